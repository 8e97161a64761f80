#!/bin/sh
# Which folder of src/ may include which: the layers run one way (see
# docs/ARCHITECTURE.md, "Code map"). A quoted include that reaches a folder
# its layer may not use fails the build. Each include is resolved against the
# including file's folder, so src/image/registry/ is part of the image layer.
# The agent (a static guest binary) and proto may use common/err.h,
# common/bytes.h and common/readtext.h only (the agent common/netlink.h
# too): they are all of common the agent links.
set -eu
cd "$(dirname "$0")/.."
rules='
common: common
proto: proto common/err.h common/bytes.h common/readtext.h
image: image proto common
vm: vm image proto common
store: store vm image proto common
client: client store vm image proto common
box: box client store vm image proto common
api: api box client store vm image proto common
cli: cli api box client store vm image proto common
runtime: runtime box client store vm image proto common
shim: shim store vm image proto common
netd: netd store vm image proto common
agent: agent proto common/err.h common/bytes.h common/netlink.h common/readtext.h
'
for dir in src/*/; do
	layer=$(basename "$dir")
	printf '%s' "$rules" | grep -q "^$layer:" ||
		{ echo "check-layers: src/$layer is not a known layer (add it to $0)" >&2; exit 1; }
done
# every quoted include as FILE:#include "PATH"; awk resolves PATH against
# FILE's folder and checks the folder it lands in against the rules
grep -rHoE '^#include "[^"]+"' src --include='*.c' --include='*.h' | awk -v rules="$rules" '
BEGIN {
	n = split(rules, lines, "\n")
	for (i = 1; i <= n; i++) {
		if (lines[i] == "") continue
		split(lines[i], kv, ": ")
		allow[kv[1]] = kv[2]
	}
	bad = 0
}
{
	colon = index($0, ":")
	file = substr($0, 1, colon - 1)
	inc = substr($0, colon + 1)
	sub(/^#include "/, "", inc); sub(/"$/, "", inc)
	# the folder of file, then each segment of inc
	np = split(file, parts, "/"); depth = 0
	for (i = 2; i < np; i++) path[++depth] = parts[i]      # drop "src" and the file name
	ns = split(inc, segs, "/")
	for (i = 1; i <= ns; i++) {
		if (segs[i] == "..") depth--
		else if (segs[i] != ".") path[++depth] = segs[i]
	}
	target = ""
	for (i = 1; i <= depth; i++) target = target (i > 1 ? "/" : "") path[i]
	layer = parts[2]; top = path[1]
	if (depth < 1) { ok = 0 } else if (top == layer) { ok = 1 } else {
		ok = 0; na = split(allow[layer], a, " ")
		for (i = 1; i <= na; i++)
			if (a[i] == top || a[i] == target) ok = 1
	}
	if (!ok) {
		printf "check-layers: %s includes src/%s: src/%s may use only: %s\n", file, target, layer, allow[layer]
		bad = 1
	}
}
END { exit bad }'
