# Helpers shared by the image recipes: sourced by images/build, never run on its own.
#
# A recipe builds an image as a stack of layers. Each layer is a staging directory ($ROOT)
# filled from files of the host's installed Debian packages, then packed into a reproducible
# tar (sorted names, fixed mtimes, root-owned) and gzipped without a timestamp, so the same
# inputs give the same digests and images that share a base share its layer.

set -euo pipefail
umask 022

# Every image gets the same PATH as the official images.
readonly kImagePath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

IMG_WORK=""       # scratch directory of this build
IMG_BLOBS=""      # $IMG_WORK/oci/blobs/sha256
ROOT=""           # staging directory of the layer being built
IMG_LAYERS=()     # "digest size diffID" of each committed layer, bottom first
IMG_HISTORY=()    # one line per layer, for the config's history
IMG_ENV=("PATH=$kImagePath")
IMG_ENTRYPOINT=()
IMG_CMD=()
IMG_WORKDIR="/"
IMG_USER=""
IMG_EXPOSED=()
IMG_STOPSIGNAL=""
IMG_REFS=()       # full references the archive names, e.g. docker.io/library/nginx:latest

die() { echo "images/build: $*" >&2; exit 1; }

img_init() {
  IMG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/nk-image.XXXXXX")
  IMG_BLOBS=$IMG_WORK/oci/blobs/sha256
  mkdir -p "$IMG_BLOBS"
  trap 'rm -rf "$IMG_WORK"' EXIT
}

# Starts a new layer; later add_* calls fill it until layer_commit.
layer_new() {
  ROOT=$IMG_WORK/layer.$((${#IMG_LAYERS[@]}))
  mkdir -p "$ROOT"
  IMG_HISTORY+=("$1")
}

# Copies a host path (file, symlink or directory tree) to the same path in the layer,
# creating parent directories. Symlinks are kept as symlinks.
add_path() {
  local src
  for src in "$@"; do
    [[ -e "$src" || -L "$src" ]] || die "add_path: $src does not exist on this host (is its package installed? see scripts/setup)"
    mkdir -p "$ROOT$(dirname "$src")"
    cp -a --no-preserve=ownership "$src" "$ROOT$(dirname "$src")/"
  done
}

# Copies a file's content (following symlinks) to DEST in the layer with MODE.
add_file() {
  local src=$1 dest=$2 mode=${3:-0644}
  [[ -e "$src" ]] || die "add_file: $src does not exist"
  mkdir -p "$ROOT$(dirname "$dest")"
  cp -L "$src" "$ROOT$dest"
  chmod "$mode" "$ROOT$dest"
}

# Writes stdin to DEST in the layer.
add_text() {
  local dest=$1 mode=${2:-0644}
  mkdir -p "$ROOT$(dirname "$dest")"
  cat >"$ROOT$dest"
  chmod "$mode" "$ROOT$dest"
}

add_dir() {
  local mode=$1; shift
  local d
  for d in "$@"; do
    mkdir -p "$ROOT$d"
    chmod "$mode" "$ROOT$d"
  done
}

add_symlink() {
  local target=$1 link=$2
  mkdir -p "$ROOT$(dirname "$link")"
  ln -sfn "$target" "$ROOT$link"
}

# Copies an ELF binary and every shared library ldd reports for it, each library at the
# path ldd names (the real file, not the symlink chain), plus the dynamic loader. The
# loader searches /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu by default on
# Debian, so no ld.so.cache is needed.
add_binary() {
  local bin=$1 dest=${2:-$1}
  [[ -x "$bin" ]] || die "add_binary: $bin is not an executable on this host"
  add_file "$bin" "$dest" 0755
  local lib
  while read -r lib; do
    [[ -n "$lib" ]] || continue
    # Keep the host's mode: the kernel refuses a dynamic loader without its execute bit.
    [[ -e "$ROOT$lib" ]] || add_file "$lib" "$lib" "$(stat -L -c %a "$lib")"
  done < <(ldd "$bin" 2>/dev/null | awk '
      $2 == "=>" && $3 ~ /^\// { print $3; next }
      $1 ~ /^\// { print $1 }')
}

# Packs $ROOT into a layer blob: diffID = sha256 of the tar, digest = sha256 of the gzip.
layer_commit() {
  local tarfile=$IMG_WORK/layer.tar entries
  mapfile -t entries < <(cd "$ROOT" && ls -A | LC_ALL=C sort)
  ((${#entries[@]} > 0)) || die "layer_commit: empty layer"
  (cd "$ROOT" && tar --create --file "$tarfile" --format=gnu --sort=name --mtime=@0 \
      --owner=0 --group=0 --numeric-owner -- "${entries[@]}")
  local diffid size digest
  diffid=sha256:$(sha256sum "$tarfile" | cut -d' ' -f1)
  gzip -n -6 -c "$tarfile" >"$IMG_WORK/layer.tar.gz"
  digest=$(sha256sum "$IMG_WORK/layer.tar.gz" | cut -d' ' -f1)
  size=$(stat -c %s "$IMG_WORK/layer.tar.gz")
  mv "$IMG_WORK/layer.tar.gz" "$IMG_BLOBS/$digest"
  rm -f "$tarfile"
  IMG_LAYERS+=("sha256:$digest $size $diffid")
  ROOT=""
}

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

json_array() {
  local out="" v
  for v in "$@"; do out+="${out:+,}$(json_str "$v")"; done
  printf '[%s]' "$out"
}

# Stores a blob from a file and prints "sha256:<hex> <size>".
blob_put() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$IMG_BLOBS/$hex"
  echo "sha256:$hex $size"
}

# Writes the OCI image layout archive: config, manifest, index.json with one entry per
# reference (all pointing at the same manifest), oci-layout.
image_write() {
  local out=$1
  ((${#IMG_REFS[@]} > 0)) || die "image_write: the recipe named no reference"
  local diffids="" layers="" history="" l digest size diffid i
  for i in "${!IMG_LAYERS[@]}"; do
    read -r digest size diffid <<<"${IMG_LAYERS[$i]}"
    diffids+="${diffids:+,}\"$diffid\""
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}"
    history+="${history:+,}{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":$(json_str "${IMG_HISTORY[$i]}")}"
  done
  local config="\"Env\":$(json_array "${IMG_ENV[@]}")"
  ((${#IMG_ENTRYPOINT[@]} == 0)) || config+=",\"Entrypoint\":$(json_array "${IMG_ENTRYPOINT[@]}")"
  ((${#IMG_CMD[@]} == 0)) || config+=",\"Cmd\":$(json_array "${IMG_CMD[@]}")"
  config+=",\"WorkingDir\":$(json_str "$IMG_WORKDIR")"
  [[ -z "$IMG_USER" ]] || config+=",\"User\":$(json_str "$IMG_USER")"
  if ((${#IMG_EXPOSED[@]} > 0)); then
    local ports=""
    for l in "${IMG_EXPOSED[@]}"; do ports+="${ports:+,}$(json_str "$l"):{}"; done
    config+=",\"ExposedPorts\":{$ports}"
  fi
  [[ -z "$IMG_STOPSIGNAL" ]] || config+=",\"StopSignal\":$(json_str "$IMG_STOPSIGNAL")"

  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{%s},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$config" "$diffids" "$history" >"$IMG_WORK/config.json"
  local cfg cfgsize
  read -r cfg cfgsize < <(blob_put "$IMG_WORK/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
    "$cfg" "$cfgsize" "$layers" >"$IMG_WORK/manifest.json"
  local man mansize
  read -r man mansize < <(blob_put "$IMG_WORK/manifest.json")

  local manifests="" ref
  for ref in "${IMG_REFS[@]}"; do
    manifests+="${manifests:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$man\",\"size\":$mansize,\"annotations\":{\"io.containerd.image.name\":$(json_str "$ref"),\"org.opencontainers.image.ref.name\":$(json_str "$ref")}}"
  done
  printf '{"schemaVersion":2,"manifests":[%s]}' "$manifests" >"$IMG_WORK/oci/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$IMG_WORK/oci/oci-layout"

  mkdir -p "$(dirname "$out")"
  (cd "$IMG_WORK/oci" && tar --create --file "$out.tmp" --format=gnu --sort=name --mtime=@0 \
      --owner=0 --group=0 --numeric-owner -- oci-layout index.json blobs)
  mv "$out.tmp" "$out"
}

# The base filesystem every image starts from: the directories a container runtime expects,
# root's account, name resolution through /etc/hosts and DNS.
add_base_fs() {
  add_dir 0755 /bin /dev /etc /home /lib /proc /root /run /sbin /sys /usr/bin /usr/sbin /usr/local/bin /var /var/log
  add_dir 0700 /root
  add_dir 1777 /tmp /var/tmp
  add_passwd_group
  add_text /etc/nsswitch.conf <<'NSS'
passwd: files
group: files
hosts: files dns
NSS
}

# /etc/passwd and /etc/group: the accounts of the official busybox image plus any given
# as "name:uid:gid" (each also gets a group of its own).
add_passwd_group() {
  local passwd="root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false"
  local group="root:x:0:
daemon:x:1:
nogroup:x:65534:"
  local spec name uid gid
  for spec in "$@"; do
    IFS=: read -r name uid gid <<<"$spec"
    passwd+=$'\n'"$name:x:$uid:$gid:$name user:/nonexistent:/bin/false"
    group+=$'\n'"$name:x:$gid:"
  done
  printf '%s\n' "$passwd" | add_text /etc/passwd
  printf '%s\n' "$group" | add_text /etc/group
}
