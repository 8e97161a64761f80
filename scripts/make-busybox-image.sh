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

blobs=$work/oci/blobs/sha256
mkdir -p "$blobs"
sha() { sha256sum "$1" | cut -d' ' -f1; }
diff_id=$(sha "$work/layer.tar")
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha "$work/layer.tar.gz")
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$blobs/$layer"

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
jq -cn --arg created "$created" --arg diff "sha256:$diff_id" '{
	architecture: "amd64", os: "linux", created: $created,
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
	rootfs: {type: "layers", diff_ids: [$diff]},
	history: [{created: $created, created_by: "scripts/make-busybox-image.sh"}]
}' | tr -d '\n' >"$work/config.json"
config=$(sha "$work/config.json")
config_size=$(stat -c %s "$work/config.json")
mv "$work/config.json" "$blobs/$config"

jq -cn --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]
}' | tr -d '\n' >"$work/manifest.json"
manifest=$(sha "$work/manifest.json")
manifest_size=$(stat -c %s "$work/manifest.json")
mv "$work/manifest.json" "$blobs/$manifest"

jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": "busybox:latest", "org.opencontainers.image.ref.name": "latest"}}]
}' >"$work/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"

mkdir -p "$(dirname "$out")"
tarx --owner=0 --group=0 -C "$work/oci" -cf "$work/image.tar" oci-layout index.json blobs
mv "$work/image.tar" "$out"
