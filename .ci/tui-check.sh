#!/usr/bin/env bash
# Checks the explorer as a person would: the real binary on a real image in
# tmux, keys sent, the screen read back with capture-pane.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${1:-layerscope-test/waste:buildkit}"
work=$(mktemp -d)
bin="$work/layerscope"
go build -o "$bin" .
sock="layerscope-ci-$$"
cleanup() { tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# CI sets CI=true, which turns --ci on: --ci=false asks for the explorer.
tmux -L "$sock" new-session -d -x 120 -y 40 "$bin --ci=false $IMAGE; echo EXIT=\$? > $work/exit; sleep 30"

screen() { tmux -L "$sock" capture-pane -p; }
wait_for() { # TEXT: wait up to 20 s for it on screen
  for _ in $(seq 100); do
    if screen | grep -qF -- "$1"; then return 0; fi
    sleep 0.2
  done
  echo "tui-check: never saw '$1' on the screen:" >&2
  screen >&2
  exit 1
}
keys() { tmux -L "$sock" send-keys "$@"; sleep 0.3; }

wait_for "Layers"
wait_for "Files after layer"
keys g j            # the first layer after the base: where /data/big.bin was written
wait_for "Files after layer 1"
wait_for "big.bin"
keys v              # only that layer's changes
wait_for "Changes in layer 1"
keys j j            # the rm layer shows the removal
wait_for "Changes in layer 3"
wait_for "-   1.0 MB"     # big.bin, marked removed
keys f              # the findings view
wait_for "4 findings: errors first"
wait_for "removed by layer 3"
keys Escape
sleep 0.3
keys '?'
wait_for "layerscope keys"
keys q
for _ in $(seq 50); do [ -s "$work/exit" ] && break; sleep 0.2; done
if [ "$(cat "$work/exit" 2>/dev/null)" != "EXIT=0" ]; then
  echo "tui-check: layerscope did not quit with 0: $(cat "$work/exit" 2>/dev/null)" >&2
  exit 1
fi
echo "tui-check: ok ($IMAGE)"
