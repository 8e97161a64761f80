#!/bin/sh
# boxvm-prepare-kernel KERNEL_DIR: fetch Debian's cloud kernel package by name
# (never installed into the host's /boot), unpack it into KERNEL_DIR/<version>,
# and run depmod -b so the guest's module dependencies can be resolved.
# The version follows Debian's updates: it is resolved from the dependency of
# the linux-image-cloud-amd64 metapackage. Idempotent: an unpacked version is
# reused. Prints progress on a terminal, nothing otherwise (errors always).
set -eu
dir=${1:?usage: boxvm-prepare-kernel KERNEL_DIR}
say() { [ -t 2 ] && echo "boxvm: $*" >&2 || true; }
fail() { echo "boxvm: kernel prepare: $*" >&2; exit 1; }

resolve() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
pkg=$(resolve)
if [ -z "$pkg" ]; then
	say "updating the package index"
	apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed (is Debian's archive reachable?)"
	pkg=$(resolve)
fi
[ -n "$pkg" ] || fail "cannot resolve linux-image-cloud-amd64 to a kernel package"
ver=${pkg#linux-image-}
if [ -f "$dir/$ver/.complete" ]; then
	exit 0
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.prepare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "downloading $pkg"
(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) ||
	fail "apt-get download $pkg failed"
say "unpacking $pkg"
mkdir "$tmp/tree"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/tree" || fail "dpkg-deb could not unpack $pkg"
[ -f "$tmp/tree/boot/vmlinuz-$ver" ] || fail "$pkg has no boot/vmlinuz-$ver"
depmod -b "$tmp/tree" "$ver" || fail "depmod failed for $ver"
# keep only what a guest needs: the kernel, its config, the modules
rm -rf "$tmp/tree/usr" "$tmp/tree/boot/System.map-$ver"
touch "$tmp/tree/.complete"
rm -rf "${dir:?}/$ver"
mv "$tmp/tree" "$dir/$ver"
say "kernel $ver ready in $dir/$ver"
