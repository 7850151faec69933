#!/usr/bin/env bash
# Scaling table for README.md's "Speed and memory": time, CPU time and peak RSS of
# `layerscope --ci` on synthetic `docker save` archives, by entries and by
# layers, each beside `sha256sum` of the same file (run in the same loop:
# absolute times drift on a shared machine, ratios hold).
#
#   bash bench/scale.sh [WORKDIR]     (REPEAT=3 runs each; the median is shown)
#
# Archives are written to WORKDIR (default a temp dir, removed after) by
# bench/gen: about 200 bytes of content per file, 7 layers unless the row
# says otherwise. ROWS may name a subset, e.g. ROWS="100k/7 1M/7".
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
repeat=${REPEAT:-3}
rows=${ROWS:-"100k/7 1M/7 4.5M/7 100k/1 100k/10 100k/100 100k/1000"}
go build -o "$work/layerscope" .
go build -o "$work/gen" ./bench/gen

count() { case $1 in *k) echo $(( ${1%k} * 1000 ));; *.*M) awk -v m="${1%M}" 'BEGIN{printf "%d", m*1000000}';; *M) echo $(( ${1%M} * 1000000 ));; *) echo "$1";; esac; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

printf '| files | layers | archive | layerscope time | its CPU time | peak RSS | sha256sum time | time ratio | peak bytes per file |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for row in $rows; do
	files=$(count "${row%/*}")
	layers=${row#*/}
	tar="$work/f${files}-l${layers}.tar"
	[ -f "$tar" ] || "$work/gen" -files "$files" -mb $(( files / 5000 + 1 )) -layers "$layers" "$tar"
	cat "$tar" >/dev/null # warm the page cache
	ts=() ; cs=() ; ms=() ; hs=()
	for _ in $(seq "$repeat"); do
		rc=0
		/usr/bin/time -o "$work/time" -f "%e %U %S %M" "$work/layerscope" --ci "$tar" >/dev/null 2>"$work/err" || rc=$?
		[ "$rc" -le 1 ] || { cat "$work/err" >&2; exit 1; } # 1: a rule failed, as it may
		read -r e u s m < <(tail -1 "$work/time")
		ts+=("$e"); cs+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"); ms+=("$m")
		/usr/bin/time -o "$work/time" -f "%e" sha256sum "$tar" >/dev/null
		hs+=("$(tail -1 "$work/time")")
	done
	t=$(printf '%s\n' "${ts[@]}" | median)
	c=$(printf '%s\n' "${cs[@]}" | median)
	m=$(printf '%s\n' "${ms[@]}" | median)
	h=$(printf '%s\n' "${hs[@]}" | median)
	size=$(stat -c %s "$tar")
	awk -v f="$files" -v l="$layers" -v s="$size" -v t="$t" -v c="$c" -v m="$m" -v h="$h" '
		function commas(n) { return n < 1000 ? n : commas(int(n / 1000)) sprintf(",%03d", n % 1000) }
		BEGIN { printf "| %s | %d | %.0f MB | %.2f s | %.2f s | %.0f MB | %.2f s | %.2f | %.0f |\n", commas(f), l, s/1e6, t, c, m/1024, h, t/h, m*1024/f }'
	[ -n "${1:-}" ] || rm -f "$tar"
done
