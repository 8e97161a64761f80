#!/bin/sh
# Builds the sample image (busybox from Debian's busybox-static) as an OCI
# image-layout tar, byte-for-byte reproducible: sorted tar members, numeric
# owners, a fixed mtime, `gzip -n`. Usage: make-busybox-image.sh OUT.tar
# Quiet on success. BUSYBOX=/path overrides the binary; SOURCE_DATE_EPOCH the time.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT.tar" >&2; exit 2; }
out=$1
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-1704067200}
for t in jq sha256sum tar gzip; do
	command -v "$t" >/dev/null 2>&1 || { echo "make-busybox-image: $t not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$busybox" ] || { echo "make-busybox-image: $busybox not found (install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
umask 022
root=$work/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/root" \
	"$root/home/app" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/var"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -s /bin/busybox "$root/$applet"
done
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
staff:x:50:app
app:x:1000:
nogroup:x:65534:
G
echo localhost >"$root/etc/hostname"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/hostname"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"

# Everything root-owned, then /home/app appended as 1000:1000 (tar has no
# per-file owner option and the build must not need root).
tarx() { tar --sort=name --format=gnu --numeric-owner --mtime="@$epoch" "$@"; }
tarx --owner=0 --group=0 --exclude=./home/app -C "$root" -cf "$work/layer.tar" .
tarx --owner=1000 --group=1000 --no-recursion -C "$root" -rf "$work/layer.tar" ./home/app
SOURCE_DATE_EPOCH=$epoch "$(dirname "$0")/pack-oci-image.sh" "$work/layer.tar" busybox:latest \
	scripts/make-busybox-image.sh "$out"

