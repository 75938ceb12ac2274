# ubuntu: a stand-in for the seeds' `ubuntu` image, built from this Debian host: the busybox
# base plus bash and dpkg-query with the host's package database, enough for the seed's Job
# (`dpkg-query -l`).

image_ubuntu() {
  layer_busybox
  layer_new "bash and dpkg-query $(dpkg-query -W -f='${Version}' dpkg) with the package database"
  add_binary /bin/bash
  add_binary /usr/bin/dpkg-query
  add_file /var/lib/dpkg/status /var/lib/dpkg/status
  add_dir 0755 /var/lib/dpkg/info /var/lib/dpkg/updates /etc/dpkg/dpkg.cfg.d
  printf 'amd64\n' | add_text /var/lib/dpkg/arch
  layer_commit
  IMG_CMD=(bash)
  IMG_REFS=(docker.io/library/ubuntu:latest)
}
