# yauritux/busybox-curl: busybox plus Debian's curl, its shared libraries and the CA bundle.

image_busybox_curl() {
  layer_busybox
  layer_new "curl $(dpkg-query -W -f='${Version}' curl) and ca-certificates"
  add_binary /usr/bin/curl
  add_file /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
  # OpenSSL looks for its configuration under /usr/lib/ssl; Debian links it to /etc/ssl.
  add_file /etc/ssl/openssl.cnf /etc/ssl/openssl.cnf
  add_symlink /etc/ssl/openssl.cnf /usr/lib/ssl/openssl.cnf
  add_symlink /etc/ssl/certs /usr/lib/ssl/certs
  layer_commit
  IMG_CMD=(sh)
  IMG_REFS=(docker.io/yauritux/busybox-curl:latest)
}
