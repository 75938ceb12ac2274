# busybox: Debian's busybox-static with a symlink per applet in /bin, as the official image
# has one link per applet (sh, env, ping, nslookup, wget, nc, ip, sleep, cat, ls, ...).

layer_busybox() {
  layer_new "busybox-static $(dpkg-query -W -f='${Version}' busybox-static) with applet links"
  add_base_fs
  # One `busybox --install` makes every applet link in a single process (a shell loop of
  # `ln` costs a fork per applet, seconds on a loaded machine). The links point at the path
  # the host's busybox runs from, /usr/bin/busybox on a merged-/usr Debian; the binary goes
  # to /bin/busybox as in the official image, with a link from that path when it differs.
  /bin/busybox --install -s "$ROOT/bin"
  local linked
  linked=$(readlink "$ROOT/bin/sh")
  rm -f "$ROOT/bin/busybox"
  add_file /bin/busybox /bin/busybox 0755
  [[ "$linked" == /bin/busybox ]] || add_symlink /bin/busybox "$linked"
  layer_commit
}

image_busybox() {
  layer_busybox
  IMG_CMD=(sh)
  IMG_REFS=(docker.io/library/busybox:latest)
}
