"""DATA is private to its owner: made by boxvm from nothing, it is 0700, and
what it holds about boxes (logs, state, credentials, initramfs, caches' own
bookkeeping) has no group or other bits. Content the guest sees with its own
modes (the rootfs cache, a box's overlay and mount point, volumes) and the
content-addressed blobs are not box data and keep their modes."""
import os
import shutil
import stat
import tempfile

import pytest

from conftest import BUSYBOX_TAR, Boxvm, _our_processes, unmount_under

# written by the shim (src/shim), whose modes are changed there: see the report of issue 10
# The initrd is the one file a box's QEMU opens itself (through /proc/self/fd):
# readable by that QEMU's own group (src/vm/uidpool.h), inside the 0700 box dir.
QEMU_GID_BASE, QEMU_GID_COUNT = 2063597568, 65536


def _private_boxvm(boxvm_env, data):
    """boxvm with DATA at data (not made yet) and a runtime dir of its own, as a fixture's body:
    yields it, then removes its boxes and asserts that none of its processes was left."""
    run = tempfile.mkdtemp(prefix="bxm.", dir="/tmp")
    bx = Boxvm(data, run, dict(boxvm_env.env, BOXVM_ROOT=data, BOXVM_RUNTIME_DIR=run))
    yield bx
    ids = bx("ps", "-aq", "--no-trunc").stdout.split()
    if ids:
        bx("rm", "-f", *[i.decode() for i in ids])
    leaked = _our_processes(data) + _our_processes(run)
    for pid, _ in leaked:
        os.kill(pid, 9)
    unmount_under(data)
    shutil.rmtree(run, ignore_errors=True)
    assert not leaked, leaked


@pytest.fixture
def fresh_data(boxvm_env, tmp_path):
    """boxvm with a DATA directory that does not exist yet (boxvm makes it)."""
    yield from _private_boxvm(boxvm_env, str(tmp_path / "data"))


def _guest_visible(rel):
    parts = rel.split(os.sep)
    return (parts[0] == "rootfs-cache" and len(parts) > 1 and not parts[1].endswith(".lock")) or \
        (parts[0] == "boxes" and len(parts) > 2 and parts[2] in ("overlay", "rootfs") and len(parts) > 3) or \
        (parts[0] == "boxes" and len(parts) == 3 and parts[2] == "rootfs") or \
        (parts[0] == "blobs" and len(parts) > 2 and parts[1] == "sha256") or \
        (parts[0] == "volumes" and len(parts) > 2)


def test_data_and_box_files_are_private(fresh_data):
    bx = fresh_data
    bx("load", "-q", "-i", BUSYBOX_TAR, check=0)
    # first-time set-up happens during run (initramfs, caches, box dir): all under a fresh DATA
    ref = bx("run", "-d", "--name", "private", "busybox", "sh", "-c", "echo hello; sleep 600",
             check=0).stdout.decode().strip()
    assert bx("exec", ref, "true").returncode == 0
    bx("logs", ref, check=0)
    assert stat.S_IMODE(os.stat(bx.root).st_mode) == 0o700
    wide = []
    for d, dirs, files in os.walk(bx.root):
        for name in dirs + files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, bx.root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode) or _guest_visible(rel):
                continue
            if name == "initrd.img" and stat.S_IMODE(st.st_mode) == 0o640 and \
                    QEMU_GID_BASE <= st.st_gid < QEMU_GID_BASE + QEMU_GID_COUNT:
                continue
            if st.st_mode & 0o077:
                wide.append(f"{oct(stat.S_IMODE(st.st_mode))} {rel}")
    assert not wide, wide
    assert any(os.path.basename(d) == "initramfs" for d, _, _ in os.walk(bx.root))
    assert bx("rm", "-f", ref).returncode == 0


@pytest.fixture
def data_below_a_shut_dir(boxvm_env, tmp_path):
    """DATA below a directory of mode 0600 (containerd's /run/containerd is so, and boxvm-runtime's
    boxes live below it): root reaches it with CAP_DAC_OVERRIDE alone."""
    shut = tmp_path / "shut"
    shut.mkdir()
    boxes = _private_boxvm(boxvm_env, str(shut / "data"))
    bx = next(boxes)
    bx("load", "-q", "-i", BUSYBOX_TAR, check=0)
    os.chmod(shut, 0o600)
    yield bx
    os.chmod(shut, 0o700)
    yield from boxes


def test_helpers_that_drop_capabilities_still_log_below_a_shut_dir(data_below_a_shut_dir):
    """passt keeps no CAP_DAC_OVERRIDE when it opens its log: it gets the shim's open file instead."""
    bx = data_below_a_shut_dir
    p = bx("run", "--rm", "busybox", "sh", "-c", "ip -4 addr show eth0 | grep -q 10.0.2.15 && echo up")
    assert (p.returncode, p.stdout) == (0, b"up\n"), p.stderr
