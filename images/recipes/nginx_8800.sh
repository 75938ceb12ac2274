# msfuko/nginx_8800: the nginx image with the seed's server block on port 8800 in place of
# the default one (COPY nginx.conf /etc/nginx/conf.d/default.conf; EXPOSE 8800).

kNginx8800Conf=$(dirname "${BASH_SOURCE[0]}")/../../examples/seeds/nginx-8800.conf

image_nginx_8800() {
  layer_busybox
  layer_nginx
  layer_new "COPY nginx.conf /etc/nginx/conf.d/default.conf"
  add_file "$kNginx8800Conf" /etc/nginx/conf.d/default.conf
  layer_commit
  nginx_config
  IMG_EXPOSED=(8800/tcp)
  IMG_REFS=(docker.io/msfuko/nginx_8800:latest)
}
