#!/usr/bin/env bash
# A local Docker daemon and the test images layerscope's daemon tests use.
#
#   .ci/daemon.sh install      apt-get install docker.io busybox-static skopeo tmux debootstrap
#   .ci/daemon.sh start        start dockerd unless a daemon answers at /var/run/docker.sock
#   .ci/daemon.sh stop         stop the dockerd that `start` started (nothing else)
#   .ci/daemon.sh status       say whether a daemon answers, and whose it is
#   .ci/daemon.sh images       build layerscope-test/base:1, layerscope-test/debian:12 and
#                              layerscope-test/NAME:{legacy,buildkit}
#   .ci/daemon.sh export DIR   write NAME-BUILDER.{docker.tar,oci,oci.tar,oci-zstd,oci-plain,
#                              oci-plain-as-gzip} into DIR
#   .ci/daemon.sh export-vfs DIR  NAME-BUILDER-vfs.docker.tar: the same builds on a
#                              throwaway vfs-driver daemon (per-file whiteouts)
#   .ci/daemon.sh all          install, start, images
#
# Images come from testdata/dockerfiles/NAME/Dockerfile, each built twice:
# with the legacy builder (the docker CLI on PATH, DOCKER_BUILDKIT=0) and
# with BuildKit (Debian's /usr/bin/docker, DOCKER_BUILDKIT=1). Nothing is
# pulled: the base image is imported from a busybox-static rootfs, and the
# Debian image from a debootstrap --variant=minbase rootfs (made once per
# machine from the host's apt mirror, stamped).
# See .ci/NOTES-daemon.md for what the daemon and skopeo produce here.
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SCRIPT")/.." && pwd)"
DOCKERFILES="$ROOT/testdata/dockerfiles"

SOCK=/var/run/docker.sock
export DOCKER_HOST="unix://$SOCK"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

STATE=/run/layerscope-dockerd          # pid, log path, what start created
STAMPS=/var/lib/layerscope-test/stamps # lives as long as /var/lib/docker does
DOCKERD=/usr/sbin/dockerd
BK_DOCKER=/usr/bin/docker              # Debian's 20.10 CLI: BuildKit built in
LEGACY_DOCKER="${LAYERSCOPE_LEGACY_DOCKER:-$(command -v docker || echo /usr/bin/docker)}"
START_TIMEOUT="${LAYERSCOPE_DOCKERD_TIMEOUT:-60}"
STOP_TIMEOUT=60

BASE=layerscope-test/base:1
DEBIAN=layerscope-test/debian:12
NAMES=(waste multistage secret whiteouts gobuild gomulti python
  debslim debuser scratchuser lockfirst contextcopy jdk junk wastefixed
  ownbase onbase envsecret)
BUILDERS=(legacy buildkit)

# dockerd flags. The daemon comes up here with its defaults (overlay2 on
# ext4, cgroupfs v1), but by default it also rewrites the host firewall
# (nft tables ip nat/filter, FORWARD policy drop) and sets ip_forward=1. The
# builds need no network, so keep the host as it is. The docker0 bridge
# stays: BuildKit's RUN fails with "network bridge not found" under
# --bridge=none unless every build passes --network=none.
# LAYERSCOPE_DOCKERD_FLAGS adds flags (e.g. --storage-driver=vfs).
DOCKERD_FLAGS=(
  --host="unix://$SOCK"
  --iptables=false
  --ip6tables=false
  --ip-forward=false
  --ip-masq=false
)

log() { printf '[daemon.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

answers() { timeout 10 "$BK_DOCKER" info >/dev/null 2>&1; }

need_daemon() {
  command -v "$BK_DOCKER" >/dev/null || [ -x "$BK_DOCKER" ] || die "$BK_DOCKER missing: run '$SCRIPT install'"
  answers || die "no Docker daemon answers at $SOCK: run '$SCRIPT start'"
}

# --- install ---------------------------------------------------------------

PKGS=(docker.io busybox-static skopeo tmux debootstrap)

missing_pkgs() {
  local p
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || echo "$p"
  done
}

cmd_install() {
  local missing
  missing="$(missing_pkgs)"
  if [ -z "$missing" ]; then
    log "install: ${PKGS[*]} already installed"
    return 0
  fi
  log "install: installing $(echo "$missing" | tr '\n' ' ')"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  local p need_update=
  for p in $missing; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' || need_update=1
  done
  [ -z "$need_update" ] || apt-get update -q >/dev/null
  local out
  out="$(mktemp /tmp/layerscope-apt.XXXXXX.log)"
  # shellcheck disable=SC2086
  if ! "${apt[@]}" install $missing >"$out" 2>&1; then
    # Stale package lists (404s): refresh once and retry.
    log "install: apt-get install failed; apt-get update and retry"
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    "${apt[@]}" install $missing >"$out" 2>&1 || { tail -n 30 "$out" >&2; die "apt-get install failed (log: $out)"; }
  fi
  rm -f "$out"
  missing="$(missing_pkgs)"
  [ -z "$missing" ] || die "still missing after install: $missing"
  log "install: done"
}

# --- start / stop ----------------------------------------------------------

# The pid of the dockerd that start recorded, if it is still that dockerd.
our_pid() {
  local pid
  [ -f "$STATE/pid" ] || return 1
  pid="$(cat "$STATE/pid")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$DOCKERD")" ] || return 1
  echo "$pid"
}

# The default bridge network needs the interface docker0; without it
# `docker run` and builds without --network=none fail.
check_bridge() {
  if command -v ip >/dev/null && ! ip link show docker0 >/dev/null 2>&1 \
    && "$BK_DOCKER" network inspect bridge >/dev/null 2>&1; then
    log "warning: interface docker0 is missing (deleted while the daemon ran?): 'docker run' and builds without --network=none fail; '$SCRIPT stop; $SCRIPT start' recreates it"
  fi
}

cmd_start() {
  [ -x "$DOCKERD" ] || die "$DOCKERD missing: run '$SCRIPT install'"
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock -w 120 9 || die "another start/stop holds $STATE/lock"
  if answers; then
    if pid="$(our_pid)"; then log "start: dockerd (pid $pid, ours) already answers at $SOCK"
    else log "start: a Docker daemon already answers at $SOCK (not started by this script; left alone)"; fi
    check_bridge
    return 0
  fi
  if pid="$(our_pid)"; then
    log "start: our dockerd (pid $pid) runs but does not answer; waiting for it"
  else
    # dockerd itself replaces a stale socket and a stale /var/run/docker.pid,
    # and refuses to start while the dockerd named in that pid file lives.
    local logf
    logf="$(mktemp /tmp/layerscope-dockerd.XXXXXX.log)"
    echo "$logf" >"$STATE/log"
    if ip link show docker0 >/dev/null 2>&1; then rm -f "$STATE/created-docker0"; else touch "$STATE/created-docker0"; fi
    # shellcheck disable=SC2206
    local extra=(${LAYERSCOPE_DOCKERD_FLAGS:-})
    log "start: $DOCKERD ${DOCKERD_FLAGS[*]} ${extra[*]} (log: $logf)"
    setsid "$DOCKERD" "${DOCKERD_FLAGS[@]}" "${extra[@]}" </dev/null >"$logf" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$STATE/pid"
  fi
  local i
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if answers; then
      log "start: dockerd (pid $pid) answers after ~$((i / 2)) s: $("$BK_DOCKER" info --format '{{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null)"
      check_bridge
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "start: dockerd exited; its log ($(cat "$STATE/log")) ends:"
      tail -n 40 "$(cat "$STATE/log")" >&2 || true
      rm -f "$STATE/pid"
      die "dockerd did not start"
    fi
    sleep 0.5
  done
  log "start: dockerd (pid $pid) did not answer within ${START_TIMEOUT}s; its log ($(cat "$STATE/log")) ends:"
  tail -n 40 "$(cat "$STATE/log")" >&2 || true
  die "dockerd did not answer (still running as pid $pid; '$SCRIPT stop' stops it)"
}

cmd_stop() {
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock -w 120 9 || die "another start/stop holds $STATE/lock"
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$STATE/pid"
    if answers; then log "stop: the daemon at $SOCK was not started by this script; left alone"
    else log "stop: no dockerd of ours runs"; fi
    return 0
  fi
  log "stop: stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local i
  for ((i = 0; i < STOP_TIMEOUT * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "stop: dockerd (pid $pid) still runs after ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$STATE/pid"
  # dockerd leaves its bridge behind; remove it if start created it.
  if [ -f "$STATE/created-docker0" ]; then
    ip link delete docker0 2>/dev/null || true
    rm -f "$STATE/created-docker0"
  fi
  log "stop: stopped after ~$((i / 2)) s"
}

cmd_status() {
  local pid
  if answers; then
    if pid="$(our_pid)"; then echo "running: dockerd pid $pid, started by $SCRIPT, log $(cat "$STATE/log" 2>/dev/null)"
    else echo "running: a daemon answers at $SOCK (not started by $SCRIPT)"; fi
    check_bridge
  else
    echo "not running: no daemon answers at $SOCK"
    return 1
  fi
}

# --- images ----------------------------------------------------------------

image_id() { "$BK_DOCKER" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# stamp NAME: the inputs' hash and the image ID built from them.
stamp_ok() { # key hash image
  local f="$STAMPS/$1" id
  [ -f "$f" ] || return 1
  id="$(image_id "$3")"
  [ -n "$id" ] && [ "$(cat "$f")" = "$2 $id" ]
}
stamp_write() { mkdir -p "$STAMPS"; echo "$2 $(image_id "$3")" >"$STAMPS/$1"; }

# The applets the base image links to /bin/busybox.
APPLETS=(sh ash ls rm rmdir chmod chown chgrp cp mv mkdir cat echo printf ln touch
  head tail yes dd true false id whoami sed grep find env sleep test stat wc
  tar sort tr cut du readlink basename dirname date pwd uname which xargs
  gzip gunzip md5sum sha256sum truncate tee seq od diff cmp vi)

# What the images are built by (the code, not the rest of this script):
# part of every stamp, so changing a build step rebuilds.
recipe() { declare -f build_base build_one build_args; echo "${APPLETS[*]}"; }

build_base() {
  local hash
  hash="$( { sha256sum /bin/busybox | cut -d' ' -f1; recipe; } | sha256sum | cut -d' ' -f1)"
  if stamp_ok base "$hash" "$BASE"; then log "images: $BASE up to date"; return 0; fi
  [ -x /bin/busybox ] || die "/bin/busybox missing: run '$SCRIPT install'"
  local tmp a
  tmp="$(mktemp -d /tmp/layerscope-base.XXXXXX)"
  local r="$tmp/rootfs"
  mkdir -p "$r/bin" "$r/etc" "$r/root" "$r/tmp" "$r/home/app" "$r/dev" "$r/proc" "$r/sys"
  cp /bin/busybox "$r/bin/busybox"
  for a in "${APPLETS[@]}"; do ln -s busybox "$r/bin/$a"; done
  ln -s bin "$r/sbin"
  mkdir -p "$r/usr"; ln -s ../bin "$r/usr/bin"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\n' >"$r/etc/group"
  printf 'layerscope-test base image: busybox-static rootfs, no package manager\n' >"$r/etc/motd"
  chmod 0755 "$r" "$r/bin" "$r/etc" "$r/home" "$r/usr" "$r/dev" "$r/proc" "$r/sys"
  chmod 0700 "$r/root"; chmod 1777 "$r/tmp"; chmod 0755 "$r/bin/busybox"
  chmod 0644 "$r/etc/passwd" "$r/etc/group" "$r/etc/motd"
  chown -R 0:0 "$r"; chown 1000:1000 "$r/home/app"
  tar --sort=name --mtime='2024-01-01 00:00:00Z' --numeric-owner --format=gnu \
    -C "$r" -cf "$tmp/rootfs.tar" .
  "$BK_DOCKER" import \
    --change 'CMD ["/bin/sh"]' \
    --message 'layerscope-test base: busybox-static rootfs' \
    "$tmp/rootfs.tar" "$BASE" >/dev/null
  rm -rf "$tmp"
  stamp_write base "$hash" "$BASE"
  log "images: imported $BASE ($(image_id "$BASE"))"
}

# The host's Debian mirror and suite: debootstrap uses what apt uses.
debian_mirror() {
  local m
  m="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)"
  [ -n "$m" ] || m="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n 1)"
  echo "${m:-http://deb.debian.org/debian}"
}
debian_suite() { (. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}"); }

# The packages the test images install, served from a flat file: repository
# inside the image (builds run with --network=none).
DEBIAN_LOCAL_PKGS=(ca-certificates openssl libssl3)

# build_debian: a real Debian minbase rootfs from debootstrap, slimmed the
# way the official debian:*-slim images are (no docs, no apt caches, apt
# told not to keep its binary caches), with a local apt repository
# holding DEBIAN_LOCAL_PKGS, imported as $DEBIAN. Runs once per machine.
build_debian() {
  local suite mirror hash
  suite="$(debian_suite)"
  mirror="$(debian_mirror)"
  hash="$( { declare -f build_debian; echo "$suite $mirror ${DEBIAN_LOCAL_PKGS[*]}"; } | sha256sum | cut -d' ' -f1)"
  if stamp_ok debian "$hash" "$DEBIAN"; then log "images: $DEBIAN up to date"; return 0; fi
  command -v debootstrap >/dev/null || die "debootstrap missing: run '$SCRIPT install'"
  local tmp t0=$SECONDS
  tmp="$(mktemp -d /tmp/layerscope-debian.XXXXXX)"
  local r="$tmp/rootfs" repo=var/lib/layerscope-apt
  log "images: debootstrap --variant=minbase $suite from $mirror (once per machine)"
  debootstrap --variant=minbase "$suite" "$r" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -n 20 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log: $tmp/debootstrap.log)"; }
  mkdir -p "$r/$repo"
  (cd "$r/$repo" && apt-get download -q "${DEBIAN_LOCAL_PKGS[@]}" >/dev/null 2>&1) \
    || die "apt-get download ${DEBIAN_LOCAL_PKGS[*]} failed"
  local deb
  for deb in "$r/$repo"/*.deb; do
    dpkg-deb -f "$deb"
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$(basename "$deb")" "$(stat -c %s "$deb")" "$(sha256sum "$deb" | cut -d' ' -f1)"
  done >"$r/$repo/Packages"
  rm -f "$r/etc/apt/sources.list" "$r"/etc/apt/sources.list.d/*
  echo "deb [trusted=yes] file:/$repo ./" >"$r/etc/apt/sources.list.d/layerscope-local.list"
  # As the official images (debuerreotype) do.
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nAPT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
    >"$r/etc/apt/apt.conf.d/docker-clean"
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n' \
    >"$r/etc/dpkg/dpkg.cfg.d/docker-slim"
  find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
    "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* "$r"/var/log/*.log "$r"/var/log/apt/*
  tar --numeric-owner --format=gnu -C "$r" -cf "$tmp/rootfs.tar" .
  "$BK_DOCKER" import --change 'CMD ["bash"]' \
    --message "layerscope-test debian: debootstrap --variant=minbase $suite" \
    "$tmp/rootfs.tar" "$DEBIAN" >/dev/null
  rm -rf "$tmp"
  stamp_write debian "$hash" "$DEBIAN"
  log "images: imported $DEBIAN ($(image_id "$DEBIAN")) in $((SECONDS - t0)) s"
}

build_args() { # NAME
  case "$1" in
    secret) echo "--build-arg NPM_TOKEN=fake-token-123" ;;
  esac
}

build_one() { # NAME BUILDER
  local name="$1" builder="$2" ctx="$DOCKERFILES/$1" img="layerscope-test/$1:$2" hash
  [ -f "$ctx/Dockerfile" ] || die "$ctx/Dockerfile missing"
  local args
  # shellcheck disable=SC2207
  args=($(build_args "$name"))
  hash="$( {
    (cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    find "$ctx" -type f -perm -u+x -printf '%P x\n' | LC_ALL=C sort
    recipe
    image_id "$BASE"
    # Every other layerscope-test image the Dockerfile builds FROM.
    local from
    for from in $(awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }' "$ctx/Dockerfile" | grep '^layerscope-test/' | grep -vx "$BASE" | sort -u); do
      image_id "$from"
    done
    echo "$builder ${args[*]}"
  } | sha256sum | cut -d' ' -f1)"
  if stamp_ok "$name-$builder" "$hash" "$img"; then log "images: $img up to date"; return 0; fi
  local out t0
  out="$(mktemp /tmp/layerscope-build.XXXXXX.log)"
  t0=$SECONDS
  local common=(build --network=none --force-rm -t "$img" "${args[@]}" "$ctx")
  local ok=1
  case "$builder" in
    legacy) DOCKER_BUILDKIT=0 "$LEGACY_DOCKER" "${common[@]}" >"$out" 2>&1 || ok= ;;
    buildkit) DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain "$BK_DOCKER" "${common[@]}" >"$out" 2>&1 || ok= ;;
    *) die "unknown builder $builder" ;;
  esac
  if [ -z "$ok" ]; then
    tail -n 40 "$out" >&2
    die "building $img failed (log: $out)"
  fi
  rm -f "$out"
  stamp_write "$name-$builder" "$hash" "$img"
  log "images: built $img in $((SECONDS - t0)) s"
}

cmd_images() {
  need_daemon
  [ -x "$LEGACY_DOCKER" ] || die "no docker CLI for the legacy builder ($LEGACY_DOCKER)"
  build_base
  build_debian
  local n b
  for n in "${NAMES[@]}"; do
    for b in "${BUILDERS[@]}"; do build_one "$n" "$b"; done
  done
}

# --- export ----------------------------------------------------------------

# Forms written for each image, as NAME-BUILDER.FORM:
#   docker.tar          docker save (20.10: legacy layout, manifest.json)
#   oci                 OCI layout, skopeo's default: layers gzip, tar+gzip
#   oci.tar             the same as an oci-archive
#   oci-zstd            OCI layout, layers zstd, tar+zstd
#   oci-plain           OCI layout, layers uncompressed, media type ...tar
#   oci-plain-as-gzip   skopeo's raw --dest-oci-accept-uncompressed-layers
#                       output: uncompressed layers that the manifest calls
#                       tar+gzip (a known containers/image bug, kept as a
#                       fixture for readers that must sniff the bytes)
# In each OCI layout/archive the image's ref name (index.json's
# org.opencontainers.image.ref.name) is BUILDER.
FORMS=(docker.tar oci oci.tar oci-zstd oci-plain oci-plain-as-gzip)

is_gzip() { [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = "1f8b" ]; }

# relabel_plain SRC DST: copy the OCI layout SRC (one manifest, uncompressed
# layers labelled tar+gzip) to DST with the layers labelled ...tar, a new
# manifest blob and index.json pointing at it.
relabel_plain() {
  local src="$1" dst="$2" old oldsize new newsize m
  cp -a "$src" "$dst"
  old="$(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$dst/index.json" | head -n 1 | cut -d: -f3 | tr -d '"')"
  if [ -z "$old" ] || [ ! -f "$dst/blobs/sha256/$old" ]; then die "relabel: no manifest in $dst/index.json"; fi
  for m in $(grep -o '"digest":"sha256:[0-9a-f]\{64\}"' "$dst/blobs/sha256/$old" | cut -d: -f3 | tr -d '"'); do
    ! is_gzip "$dst/blobs/sha256/$m" || die "relabel: blob $m in $src is gzip"
  done
  oldsize="$(stat -c %s "$dst/blobs/sha256/$old")"
  sed 's#"application/vnd.oci.image.layer.v1.tar+gzip"#"application/vnd.oci.image.layer.v1.tar"#g' \
    "$dst/blobs/sha256/$old" >"$dst/manifest.tmp"
  new="$(sha256sum "$dst/manifest.tmp" | cut -d' ' -f1)"
  newsize="$(stat -c %s "$dst/manifest.tmp")"
  mv "$dst/manifest.tmp" "$dst/blobs/sha256/$new"
  [ "$new" = "$old" ] || rm -f "$dst/blobs/sha256/$old"
  sed -i "s#\"digest\":\"sha256:$old\",\"size\":$oldsize#\"digest\":\"sha256:$new\",\"size\":$newsize#" "$dst/index.json"
  grep -q "sha256:$new" "$dst/index.json" || die "relabel: index.json of $dst not rewritten"
}

export_one() { # IMG DIR/NAME-BUILDER TAG
  local img="$1" base="$2" tag="$3" f src="docker-daemon:docker.io/$1"
  for f in "${FORMS[@]}"; do rm -rf "${base:?}.$f"; done
  "$BK_DOCKER" save -o "$base.docker.tar" "$img"
  skopeo copy -q "$src" "oci:$base.oci:$tag"
  skopeo copy -q "$src" "oci-archive:$base.oci.tar:$tag"
  skopeo copy -q --dest-compress-format zstd "$src" "oci:$base.oci-zstd:$tag"
  skopeo copy -q --dest-oci-accept-uncompressed-layers "$src" "oci:$base.oci-plain-as-gzip:$tag"
  relabel_plain "$base.oci-plain-as-gzip" "$base.oci-plain"
}

cmd_export() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $SCRIPT export DIR"
  need_daemon
  command -v skopeo >/dev/null || die "skopeo missing: run '$SCRIPT install'"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local n b img t0=$SECONDS
  for n in "${NAMES[@]}"; do
    for b in "${BUILDERS[@]}"; do
      img="layerscope-test/$n:$b"
      [ -n "$(image_id "$img")" ] || die "$img missing: run '$SCRIPT images'"
      export_one "$img" "$dir/$n-$b" "$b"
    done
  done
  log "export: wrote ${#NAMES[@]} images x ${#BUILDERS[@]} builders x ${#FORMS[@]} forms into $dir in $((SECONDS - t0)) s"
}

# export-vfs DIR: the same images built on a daemon with the vfs storage
# driver, whose layer diffs are computed by walking both trees ("naive
# diff"): a removed-and-recreated directory becomes one .wh.NAME per old
# entry, never .wh..wh..opq. Runs a throwaway dockerd on its own socket,
# data root and exec root (no bridge), writes NAME-BUILDER-vfs.docker.tar
# for every image, and stops it again. The main daemon must answer (the
# base image is copied from it). It runs in a network namespace of its own.
VFS_ROOT=/var/lib/layerscope-test/vfs
VFS_SOCK=/run/layerscope-dockerd/vfs.sock

cmd_export_vfs() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $SCRIPT export-vfs DIR"
  need_daemon
  mkdir -p "$dir" "$VFS_ROOT" "$STATE"
  dir="$(cd "$dir" && pwd)"
  local logf pid t0=$SECONDS
  logf="$(mktemp /tmp/layerscope-dockerd-vfs.XXXXXX.log)"
  [ ! -S "$VFS_SOCK" ] || rm -f "$VFS_SOCK"
  # Its own network namespace: with --bridge=none dockerd deletes the
  # interface docker0, which in the host namespace is the main daemon's.
  unshare --net setsid "$DOCKERD" --storage-driver=vfs --data-root="$VFS_ROOT/data" --exec-root="$VFS_ROOT/exec" \
    --pidfile="$VFS_ROOT/dockerd.pid" --host="unix://$VFS_SOCK" --bridge=none \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    </dev/null >"$logf" 2>&1 9>&- &
  pid=$!
  # shellcheck disable=SC2064
  trap "kill -TERM $pid 2>/dev/null || true; while kill -0 $pid 2>/dev/null; do sleep 0.5; done" EXIT
  local i vdocker=("$BK_DOCKER" -H "unix://$VFS_SOCK")
  for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    "${vdocker[@]}" info >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$logf" >&2; die "vfs dockerd exited (log: $logf)"; }
    sleep 0.5
  done
  "${vdocker[@]}" info >/dev/null 2>&1 || { tail -n 40 "$logf" >&2; die "vfs dockerd did not answer (log: $logf)"; }
  "$BK_DOCKER" save "$BASE" | "${vdocker[@]}" load -q >/dev/null
  local n b img args out ok
  for n in "${NAMES[@]}"; do
    # shellcheck disable=SC2207
    args=($(build_args "$n"))
    for b in "${BUILDERS[@]}"; do
      img="layerscope-test/$n:$b"
      out="$(mktemp /tmp/layerscope-build.XXXXXX.log)"
      ok=1
      case "$b" in
        legacy) DOCKER_BUILDKIT=0 "$LEGACY_DOCKER" -H "unix://$VFS_SOCK" build --network=none --force-rm -t "$img" "${args[@]}" "$DOCKERFILES/$n" >"$out" 2>&1 || ok= ;;
        buildkit) DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain "${vdocker[@]}" build --network=none --force-rm -t "$img" "${args[@]}" "$DOCKERFILES/$n" >"$out" 2>&1 || ok= ;;
      esac
      [ -n "$ok" ] || { tail -n 40 "$out" >&2; die "vfs: building $img failed (log: $out)"; }
      rm -f "$out"
      rm -f "$dir/$n-$b-vfs.docker.tar"
      "${vdocker[@]}" save -o "$dir/$n-$b-vfs.docker.tar" "$img"
    done
  done
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
  trap - EXIT
  rm -f "$logf"
  log "export-vfs: wrote ${#NAMES[@]} images x ${#BUILDERS[@]} builders (vfs daemon) into $dir in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$SCRIPT" >&2; exit 2; }

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  images) cmd_images ;;
  export) shift; cmd_export "$@" ;;
  export-vfs) shift; cmd_export_vfs "$@" ;;
  all) cmd_install; cmd_start; cmd_images ;;
  *) usage ;;
esac
