#!/usr/bin/env bash
# layerscope's own image (the Dockerfile at the root), built with both
# builders and checked by layerscope itself: zero findings, no waste.
#
#   .ci/selfimage.sh     build layerscope-ci/go:VERSION (once per machine and
#                        Go version, stamped), then layerscope-ci/self:{legacy,buildkit},
#                        then run layerscope --ci on each
#
# Nothing can be pulled, so the builder's base (GO_IMAGE) is a local Go
# image: this machine's Go toolchain and CA certificates on the busybox base
# that .ci/daemon.sh imports. Builds run with --network=none: the context is
# the tracked files plus vendor/ (go mod vendor, from the module cache).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export DOCKER_HOST="unix:///var/run/docker.sock"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
BK_DOCKER=/usr/bin/docker
LEGACY_DOCKER="${LAYERSCOPE_LEGACY_DOCKER:-$(command -v docker || echo /usr/bin/docker)}"
STAMPS=/var/lib/layerscope-test/stamps
BASE=layerscope-test/base:1
GOROOT_DIR="$(go env GOROOT)"
GOVERSION="$(go env GOVERSION)"
GOBASE="layerscope-ci/go:${GOVERSION#go}"
CA=/etc/ssl/certs/ca-certificates.crt

log() { printf '[selfimage.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
image_id() { "$BK_DOCKER" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

[ -f "$CA" ] || die "$CA missing (apt-get install ca-certificates)"
[ -n "$(image_id "$BASE")" ] || die "$BASE missing: run .ci/daemon.sh images"

# The Go base: stamped by the toolchain, the certificates, the base image
# and this recipe, as .ci/daemon.sh stamps its images.
gobase_recipe() { declare -f build_gobase; }
build_gobase() {
  local tmp="$1"
  mkdir -p "$tmp/go"
  tar -C "$GOROOT_DIR" --exclude=./test --exclude=./doc --exclude=./api -cf - . | tar -C "$tmp/go" -xf -
  cp "$CA" "$tmp/ca-certificates.crt"
  cat >"$tmp/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY go /usr/local/go
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/go/bin:/bin GOTOOLCHAIN=local GOCACHE=/tmp/go-cache GOPATH=/tmp/go GOFLAGS=-buildvcs=false
DOCKERFILE
  DOCKER_BUILDKIT=1 "$BK_DOCKER" build -q --network=none -t "$GOBASE" "$tmp" >/dev/null
}
hash="$( { echo "$GOVERSION"; cat "$GOROOT_DIR/VERSION" 2>/dev/null; sha256sum "$CA"; image_id "$BASE"; gobase_recipe; } | sha256sum | cut -d' ' -f1)"
stamp="$STAMPS/selfimage-gobase"
if [ -f "$stamp" ] && [ -n "$(image_id "$GOBASE")" ] && [ "$(cat "$stamp")" = "$hash $(image_id "$GOBASE")" ]; then
  log "$GOBASE up to date"
else
  tmp="$(mktemp -d /tmp/layerscope-gobase.XXXXXX)"
  t0=$SECONDS
  build_gobase "$tmp"
  rm -rf "$tmp"
  mkdir -p "$STAMPS"
  echo "$hash $(image_id "$GOBASE")" >"$stamp"
  log "built $GOBASE in $((SECONDS - t0)) s"
fi

# The build context: what git tracks (as a clone would have it), and vendor/.
ctx="$(mktemp -d /tmp/layerscope-selfctx.XXXXXX)"
bin="$(mktemp -d /tmp/layerscope-selfbin.XXXXXX)"
trap 'rm -rf "$ctx" "$bin"' EXIT
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$ctx"/ 2>/dev/null || true)
(cd "$ctx" && go mod vendor)
(cd "$ROOT" && go build -o "$bin/layerscope" .)

status=0
for builder in legacy buildkit; do
  img="layerscope-ci/self:$builder"
  t0=$SECONDS
  case "$builder" in
    legacy) DOCKER_BUILDKIT=0 "$LEGACY_DOCKER" build -q --network=none --force-rm --build-arg GO_IMAGE="$GOBASE" -t "$img" "$ctx" >/dev/null ;;
    buildkit) DOCKER_BUILDKIT=1 "$BK_DOCKER" build -q --network=none --build-arg GO_IMAGE="$GOBASE" -t "$img" "$ctx" >/dev/null ;;
  esac
  log "built $img in $((SECONDS - t0)) s"
  # Zero findings of any severity, and no wasted byte: the project follows
  # its own advice. --dockerfile checks that the image matches its Dockerfile.
  if ! (cd "$ROOT" && "$bin/layerscope" --ci --fail-on error,warning,info --max-waste 0 --strict-waste --dockerfile Dockerfile "$img"); then
    log "FAIL: $img does not pass layerscope --ci with zero findings and no waste"
    status=1
  fi
done
# The image runs as the README shows: the daemon's socket mounted, the
# socket's group added (the image's user is not root).
if ! "$BK_DOCKER" run --rm --network=none --group-add "$(stat -c %g /var/run/docker.sock)" \
  -v /var/run/docker.sock:/var/run/docker.sock layerscope-ci/self:buildkit --ci layerscope-ci/self:legacy >/dev/null; then
  log "FAIL: docker run layerscope-ci/self:buildkit --ci layerscope-ci/self:legacy"
  status=1
fi
exit "$status"
