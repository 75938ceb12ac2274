# nginx: Debian's nginx on the busybox base (so `kubectl exec` has a shell, wget and nc),
# laid out like the official image: /etc/nginx/nginx.conf including conf.d/*.conf, a
# default server on port 80 serving /usr/share/nginx/html, logs forwarded to the
# container's stdout and stderr, `daemon off;` on the command line.

kNginxFiles=$(dirname "${BASH_SOURCE[0]}")/../files/nginx

layer_nginx() {
  layer_new "nginx $(dpkg-query -W -f='${Version}' nginx) from Debian"
  add_binary /usr/sbin/nginx
  add_path /etc/nginx/mime.types /etc/nginx/fastcgi_params /etc/nginx/scgi_params \
    /etc/nginx/uwsgi_params /etc/nginx/koi-utf /etc/nginx/koi-win /etc/nginx/win-utf
  add_file "$kNginxFiles/nginx.conf" /etc/nginx/nginx.conf
  add_file "$kNginxFiles/default.conf" /etc/nginx/conf.d/default.conf
  add_file /usr/share/nginx/html/index.html /usr/share/nginx/html/index.html
  add_file "$kNginxFiles/50x.html" /usr/share/nginx/html/50x.html
  # The official image runs its workers as nginx (uid/gid 101).
  add_passwd_group nginx:101:101
  # Debian's build keeps its temporary paths under /var/lib/nginx and its pid in /run.
  add_dir 0755 /var/lib/nginx /var/log/nginx /var/cache/nginx /var/lock /run
  # As the seed's Dockerfile does: forward request and error logs to the log collector.
  add_symlink /dev/stdout /var/log/nginx/access.log
  add_symlink /dev/stderr /var/log/nginx/error.log
  layer_commit
}

nginx_config() {
  IMG_CMD=(nginx -g "daemon off;")
  IMG_EXPOSED=(80/tcp)
  IMG_STOPSIGNAL=SIGQUIT
}

image_nginx() {
  layer_busybox
  layer_nginx
  nginx_config
  # The seeds' older tags are local tags of the same image.
  IMG_REFS=(docker.io/library/nginx:latest docker.io/library/nginx:1.7.9 docker.io/library/nginx:1.8)
}
