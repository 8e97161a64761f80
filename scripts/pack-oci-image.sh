#!/bin/sh
# Packs one layer tar into an OCI image-layout tar, byte-for-byte
# reproducible (gzip -n, sorted members, a fixed mtime): the sample images'
# last step (make-busybox-image.sh, make-debian-image.sh).
# Usage: pack-oci-image.sh LAYER.tar NAME:TAG CREATED_BY OUT.tar
# SOURCE_DATE_EPOCH sets the time; CMD (JSON array) the image's Cmd.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 LAYER.tar NAME:TAG CREATED_BY OUT.tar" >&2; exit 2; }
layer_tar=$1 ref=$2 created_by=$3 out=$4
epoch=${SOURCE_DATE_EPOCH:-1704067200}
cmd=${CMD:-'["sh"]'}
for t in jq sha256sum tar gzip; do
	command -v "$t" >/dev/null 2>&1 || { echo "pack-oci-image: $t not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
umask 022
tarx() { tar --sort=name --format=gnu --numeric-owner --mtime="@$epoch" "$@"; }
blobs=$work/oci/blobs/sha256
mkdir -p "$blobs"
sha() { sha256sum "$1" | cut -d' ' -f1; }
diff_id=$(sha "$layer_tar")
gzip -n -9 <"$layer_tar" >"$work/layer.tar.gz"
layer=$(sha "$work/layer.tar.gz")
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$blobs/$layer"

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
jq -cn --arg created "$created" --arg diff "sha256:$diff_id" --arg by "$created_by" --argjson cmd "$cmd" '{
	architecture: "amd64", os: "linux", created: $created,
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd},
	rootfs: {type: "layers", diff_ids: [$diff]},
	history: [{created: $created, created_by: $by}]
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

tag=${ref##*:}
jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg name "$ref" --arg tag "$tag" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}}]
}' >"$work/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"

mkdir -p "$(dirname "$out")"
tarx --owner=0 --group=0 -C "$work/oci" -cf "$work/image.tar" oci-layout index.json blobs
mv "$work/image.tar" "$out"
