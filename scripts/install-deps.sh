#!/bin/sh
# Installs the Debian packages boxvm builds, runs and tests with. Idempotent and
# quiet when everything is present.
set -eu
PKGS="build-essential pkg-config musl-tools libarchive-dev zlib1g-dev libjansson-dev libcurl4-openssl-dev libcmocka-dev libseccomp-dev libmicrohttpd-dev libgnutls28-dev openssl
qemu-system-x86 qemu-system-common busybox-static kmod cpio python3 python3-pytest python3-pytest-xdist ca-certificates apt-utils jq libssl-dev
docker-registry skopeo passt zstd
containerd runc podman conmon iproute2 tmux
containernetworking-plugins python3-grpcio python3-grpc-tools python3-protobuf python3-websocket
clang libclang-rt-14-dev
docker.io python3-docker docker-compose mmdebstrap"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "boxvm: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "boxvm: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
