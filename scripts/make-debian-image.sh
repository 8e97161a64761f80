#!/bin/sh
# Builds a real distribution image for the tests busybox alone would pass:
# Debian bookworm minbase made by mmdebstrap from Debian's archive (12-22 s
# on an idle machine, 40 MB gzipped), packed as an OCI image-layout tar
# named debian:bookworm. Usage: make-debian-image.sh OUT.tar
# MIRROR overrides the archive (default http://deb.debian.org/debian); the
# image's apt sources name the same one.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT.tar" >&2; exit 2; }
out=$1
mirror=${MIRROR:-http://deb.debian.org/debian}
command -v mmdebstrap >/dev/null 2>&1 || { echo "make-debian-image: mmdebstrap not found (run scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
if ! mmdebstrap --quiet --variant=minbase --format=tar bookworm "$work/rootfs.tar" "deb $mirror bookworm main" \
	>"$work/log" 2>&1; then
	echo "make-debian-image: mmdebstrap failed (is $mirror reachable?):" >&2
	tail -5 "$work/log" >&2
	exit 1
fi
CMD='["bash"]' "$(dirname "$0")/pack-oci-image.sh" "$work/rootfs.tar" debian:bookworm \
	"mmdebstrap --variant=minbase bookworm" "$out"
