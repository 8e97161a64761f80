#!/bin/sh
# boxvm-build-kernel KERNEL_DIR CONFIG_FRAGMENT: build boxvm's tailored guest
# kernel from Debian's linux-source package: `make tinyconfig`, the fragment
# merged on top, `make olddefconfig`, then bzImage. Everything is built in (no
# modules). The result goes into KERNEL_DIR/<release>/ in the layout `kernel
# prepare` uses (boot/vmlinuz-<release>, boot/config-<release>, .complete).
#
# The build runs at nice 19 with BOXVM_KERNEL_JOBS jobs (default 2; about 11
# minutes on 2 cores) in BOXVM_KERNEL_BUILD_DIR (default KERNEL_DIR/.build),
# kept so a rebuild is incremental; a built kernel whose fragment and source
# are unchanged is reused at once. The packages the build needs are installed
# when running as root, else named. Progress goes to a terminal; nothing else
# is printed (errors always, with the build log's tail).
set -eu
dir=${1:?usage: boxvm-build-kernel KERNEL_DIR CONFIG_FRAGMENT}
frag=${2:?usage: boxvm-build-kernel KERNEL_DIR CONFIG_FRAGMENT}
jobs=${BOXVM_KERNEL_JOBS:-2}
build=${BOXVM_KERNEL_BUILD_DIR:-$dir/.build}
tty=false
[ -t 2 ] && tty=true
say() { if $tty; then echo "boxvm: $*" >&2; fi; }
fail() { echo "boxvm: kernel build: $*" >&2; exit 1; }
[ -r "$frag" ] || fail "no config fragment $frag"

# --- the packages: the source and what building it takes ---
need="linux-source bc bison flex libelf-dev libssl-dev xz-utils lz4 make gcc"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || fail "missing packages:$missing (run as root, or: sudo apt-get install$missing)"
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null 2>&1 || true
		apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
			fail "apt-get install$missing failed"
	}
fi
# linux-source depends on linux-source-X.Y, which ships /usr/src/linux-source-X.Y.tar.xz
srcpkg=$(dpkg-query -W -f='${Depends}' linux-source | grep -o 'linux-source-[0-9][0-9.]*' | head -n 1)
tarball=/usr/src/$srcpkg.tar.xz
[ -n "$srcpkg" ] && [ -f "$tarball" ] || fail "linux-source installed but no /usr/src/linux-source-*.tar.xz"
srcver=$(dpkg-query -W -f='${Version}' "$srcpkg")

# --- reuse: same source version and fragment as the kernel already built ---
stamp="source $srcpkg $srcver fragment $(sha256sum <"$frag" | cut -d' ' -f1)"
for old in "$dir"/*/.complete; do
	[ -f "$old" ] && [ "$(cat "$old")" = "$stamp" ] && exit 0
done

# --- the source tree, unpacked once per source version ---
mkdir -p "$dir" "$build"
src=$build/$srcpkg-$srcver
if [ ! -f "$src/.unpacked" ]; then
	say "unpacking $srcpkg $srcver"
	rm -rf "$src" "$build/out"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1 || fail "cannot unpack $tarball"
	touch "$src/.unpacked"
fi
out=$build/out
mkdir -p "$out"
log=$build/build.log
: >"$log"
mk() { nice -n 19 make -C "$src" O="$out" "$@"; }

# --- the config: tinyconfig + the fragment, checked after olddefconfig ---
say "configuring (tinyconfig + $(basename "$frag"))"
{
	mk tinyconfig &&
		(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m .config "$frag") &&
		mk olddefconfig
} >>"$log" 2>&1 || { tail -n 20 "$log" >&2; fail "configuring failed (log: $log)"; }
# every option the fragment sets must have survived (a missing dependency
# silently drops it), and every one it unsets must be off
bad=""
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || bad="$bad ${line%%=*}" ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" "$out/.config"; then bad="$bad $opt"; fi
		;;
	esac
done <"$frag"
[ -z "$bad" ] || fail "the config fragment does not hold after olddefconfig:$bad (a dependency missing?)"

# --- the build ---
say "building $srcpkg $srcver with $jobs jobs at nice 19 (about 11 minutes on 2 cores)"
if $tty; then
	mk -j"$jobs" bzImage 2>&1 | tee -a "$log" | grep --line-buffered -E '^  (CC|LD|AR)  ' |
		while IFS= read -r l; do printf '\r\033[Kboxvm: %s' "$(echo "$l" | cut -c1-70)" >&2; done
	printf '\r\033[K' >&2
	grep -q "Kernel: arch/x86/boot/bzImage is ready" "$log" || { tail -n 20 "$log" >&2; fail "make failed (log: $log)"; }
else
	mk -j"$jobs" bzImage >>"$log" 2>&1 || { tail -n 20 "$log" >&2; fail "make failed (log: $log)"; }
fi
rel=$(mk -s --no-print-directory kernelrelease 2>/dev/null) || fail "cannot read the kernel release"
[ -n "$rel" ] || fail "empty kernel release"

# --- install, as `kernel prepare` lays a kernel out ---
tmp=$(mktemp -d "$dir/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/boot"
cp "$out/arch/x86/boot/bzImage" "$tmp/boot/vmlinuz-$rel"
cp "$out/.config" "$tmp/boot/config-$rel"
echo "$stamp" >"$tmp/.complete"
rm -rf "${dir:?}/$rel"
mv "$tmp" "$dir/$rel"
trap - EXIT
say "kernel $rel ready in $dir/$rel (select it with: boxvm --kernel tailored)"
