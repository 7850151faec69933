#!/usr/bin/env bash
# What layerscope's registry, podman and containerd tests need.
#
#   .ci/registry.sh install          apt-get install docker-registry (the
#                                    distribution registry 2.8), podman and
#                                    openssl (the TLS test's certificates);
#                                    the tests start and stop registries and
#                                    `podman system service` of their own
#   .ci/registry.sh measure IMAGE [N]  push IMAGE from the daemon into a
#                                    throwaway registry on 127.0.0.1, then
#                                    time N rounds (default 3) of
#                                    `skopeo copy docker://REF oci:DIR` and
#                                    `layerscope --ci registry://REF`; print
#                                    each and the ratio of the medians. The
#                                    registry is stopped and removed after.
#                                    Each round also times the largest layer
#                                    inflated alone (gzip -dc or zstd -dc of
#                                    skopeo's copy): skopeo never inflates,
#                                    so no reader of the files inside can
#                                    beat that; the ratio to the larger of
#                                    the two is printed too.
#                                    With LAYERSCOPE_COMPARE=BIN, each round
#                                    times BIN (an earlier build) the same
#                                    way too, for a before/after ratio.
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SCRIPT")/.." && pwd)"
PKGS=(docker-registry podman openssl)

log() { printf '[registry.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

cmd_install() {
  local missing=() p
  for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then log "install: ${PKGS[*]} already installed"; return 0; fi
  log "install: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -q >/dev/null
  apt-get -y -q -o Dpkg::Use-Pty=0 install "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null; apt-get -y -q -o Dpkg::Use-Pty=0 install "${missing[@]}" >/dev/null; }
  # On a host with systemd the package starts its own registry on :5000:
  # the tests start their own, so stop the one this install started.
  if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
    log "install: stopping the docker-registry service the package started"
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
  log "install: done"
}

cmd_measure() {
  local img="${1:-}" rounds="${2:-3}"
  [ -n "$img" ] || die "usage: $SCRIPT measure IMAGE [ROUNDS]"
  command -v docker-registry >/dev/null || die "docker-registry missing: run '$SCRIPT install'"
  local tmp port pid
  tmp="$(mktemp -d /tmp/layerscope-measure.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$tmp" "$port" >"$tmp/config.yml"
  docker-registry serve "$tmp/config.yml" >"$tmp/log" 2>&1 &
  pid=$!
  # shellcheck disable=SC2064
  # set -e holds in a trap too: a killed registry's wait status must not
  # stop it before the rm.
  trap "kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf '$tmp'" EXIT
  local i
  for ((i = 0; i < 100; i++)); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local ref="127.0.0.1:$port/measure/image:1"
  skopeo copy -q --dest-tls-verify=false "docker-daemon:$img" "docker://$ref"
  (cd "$ROOT" && go build -o "$tmp/layerscope" .)
  local s l c z big sk=() ls=() cs=() zs=()
  local compare="${LAYERSCOPE_COMPARE:-}"
  for ((i = 0; i < rounds; i++)); do
    rm -rf "$tmp/oci"
    s=$( { /usr/bin/time -f '%e %M' skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$tmp/oci:x" >/dev/null; } 2>&1 | tail -n 1)
    l=$( { /usr/bin/time -f '%e %M' "$tmp/layerscope" --ci --fail-on none "registry://$ref" >/dev/null; } 2>&1 | tail -n 1)
    big="$(ls -S "$tmp/oci/blobs/sha256"/* | head -n 1)"
    case "$(head -c 4 "$big" | od -An -tx1 | tr -d ' ')" in
      1f8b*) z=$( { /usr/bin/time -f '%e' gzip -dc <"$big" >/dev/null; } 2>&1 | tail -n 1) ;;
      28b52ffd) z=$( { /usr/bin/time -f '%e' zstd -qdc <"$big" >/dev/null; } 2>&1 | tail -n 1) ;;
      *) z=0 ;;
    esac
    log "round $((i + 1)): skopeo copy ${s% *} s (${s#* } KB peak), layerscope ${l% *} s (${l#* } KB peak), largest layer inflated alone $z s"
    sk+=("${s% *}"); ls+=("${l% *}"); zs+=("$z")
    if [ -n "$compare" ]; then
      c=$( { /usr/bin/time -f '%e %M' "$compare" --ci --fail-on none "registry://$ref" >/dev/null; } 2>&1 | tail -n 1)
      log "round $((i + 1)): $compare ${c% *} s (${c#* } KB peak)"
      cs+=("${c% *}")
    fi
  done
  python3 - "${sk[*]}" "${ls[*]}" "${zs[*]}" "${cs[*]:-}" <<'EOF'
import statistics, sys
s = statistics.median(map(float, sys.argv[1].split()))
l = statistics.median(map(float, sys.argv[2].split()))
z = statistics.median(map(float, sys.argv[3].split()))
print(f"median: skopeo copy {s:.2f} s, layerscope {l:.2f} s: {l / s:.2f}x")
print(f"median: largest layer inflated alone {z:.2f} s; layerscope is {l / max(s, z):.2f}x of the larger of it and skopeo")
if sys.argv[4].strip():
    c = statistics.median(map(float, sys.argv[4].split()))
    print(f"median: compared build {c:.2f} s: {c / s:.2f}x of skopeo; layerscope takes {l / c:.2f}x of its time")
EOF
}

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$SCRIPT" >&2; exit 2; }

case "${1:-}" in
  install) cmd_install ;;
  measure) shift; cmd_measure "$@" ;;
  *) usage ;;
esac
