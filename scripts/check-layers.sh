#!/bin/sh
# Which folder of src/ may include which: the layers run one way (see
# docs/ARCHITECTURE.md, "Code map"). A quoted include that reaches a folder
# its layer may not use fails the build. The agent (a static guest binary)
# may use proto and lib/err.h only; proto itself only lib/err.h.
set -eu
cd "$(dirname "$0")/.."
allowed() {
	case "$1" in
	proto) echo "proto lib/err.h" ;;
	lib) echo "lib proto" ;;
	client) echo "client lib proto" ;;
	box) echo "box client lib proto" ;;
	cli) echo "cli box client lib proto" ;;
	runtime) echo "runtime client lib proto" ;;
	shim) echo "shim lib proto" ;;
	agent) echo "agent proto lib/err.h" ;;
	*) echo "" ;;
	esac
}
bad=0
for dir in src/*/; do
	layer=$(basename "$dir")
	ok=$(allowed "$layer")
	[ -n "$ok" ] || { echo "check-layers: src/$layer is not a known layer (add it to $0)" >&2; bad=1; continue; }
	# every quoted include that leaves the file's own folder: "../X/..." (agent/pure: "../../X/...")
	grep -rHoE '^#include "(\.\./)+[^"]+"' "$dir" --include='*.c' --include='*.h' | while IFS=: read -r file inc; do
		target=$(printf '%s' "$inc" | sed -E 's/^#include "((\.\.\/)+)//; s/"$//')
		top=${target%%/*}
		pass=0
		for a in $ok; do
			case "$a" in
			*/*) [ "$target" = "$a" ] && pass=1 ;;
			*) [ "$top" = "$a" ] && pass=1 ;;
			esac
		done
		# agent/pure includes ../../agent-relative files of its own layer
		[ "$layer" = agent ] && [ "$top" = agent ] && pass=1
		[ $pass = 1 ] || echo "check-layers: $file includes $target: src/$layer may use only: $ok"
	done
done | { if grep .; then exit 1; fi; }
exit $bad
