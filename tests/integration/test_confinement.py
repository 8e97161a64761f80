"""QEMU runs with the least privilege that works (docs/security.md,
"Privileges"): a user of its own per box, no capabilities, QEMU's seccomp
sandbox, only the file descriptors it needs, and (with passt and
virtiofsd) a cgroup with a memory ceiling; the guest's console goes
through the shim into a capped file.
Every check reads the live QEMU of a real box (TCG here, KVM where usable);
waits are hang guards."""
import json
import os
import signal
import stat

import pytest

from conftest import HANG_GUARD, until

UID_BASE, UID_COUNT = 2063597568, 65536  # src/vm/uidpool.h
CONSOLE_CAP = 1024 * 1024  # src/common/capfile.h
MIB = 1024 * 1024


def qemu_pid(bx, ref):
    with open(os.path.join(bx.run_dir, ref[:12], "qemu.pid")) as f:
        return int(f.read().split()[0])


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def exited(pid):
    try:
        return status(pid)["State"].startswith("Z")
    except FileNotFoundError:
        return True


def vm_json(bx, ref):
    with open(os.path.join(bx.root, "boxes", ref, "vm.json")) as f:
        return json.load(f)


def memory_cgroup(pid):
    """The directory of the cgroup that holds pid's memory (v1 or v2)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrl, path = line.rstrip("\n").split(":", 2)
            if "memory" in ctrl.split(","):
                return "/sys/fs/cgroup/memory" + path
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return "/sys/fs/cgroup" + line[3:].rstrip("\n")
    raise AssertionError("no memory cgroup")


def memory_limit(cg):
    for name in ("memory.limit_in_bytes", "memory.max"):
        if os.path.exists(os.path.join(cg, name)):
            with open(os.path.join(cg, name)) as f:
                return int(f.read())
    raise AssertionError(f"no memory limit in {cg}")


def test_qemu_runs_as_its_own_user_sandboxed_in_a_capped_cgroup(no_leaks, tmp_path):
    bx = no_leaks
    share = tmp_path / "share"
    share.mkdir()
    ref = bx("run", "-d", "-v", f"{share}:/data", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    other = bx("run", "-d", "--network", "none", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)  # booted
        pid = qemu_pid(bx, ref)
        st = status(pid)
        uids, gids = st["Uid"].split(), st["Gid"].split()
        assert len(set(uids)) == 1 and len(set(gids)) == 1, st
        uid = int(uids[0])
        assert UID_BASE <= uid < UID_BASE + UID_COUNT and int(gids[0]) == uid, st
        vm = vm_json(bx, ref)
        assert st["Groups"].split() == ([] if vm["accel"] == "tcg" else [str(os.stat("/dev/kvm").st_gid)]), st
        assert st["Seccomp"] == "2", st  # QEMU's -sandbox filter
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
        assert st["NoNewPrivs"] == "1", st
        # its own network (empty: passt's socketpair is its NIC) and IPC namespaces
        for ns in ("net", "ipc"):
            assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
        # another box's QEMU is another user: they cannot signal or trace each other
        assert int(status(qemu_pid(bx, other))["Uid"].split()[0]) != uid

        # only what it was handed: no path of the data or runtime dirs but its boot files
        links = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert links[0] == "/dev/null", links
        pipes = {fd for fd, target in links.items() if target.startswith("pipe:")}
        assert pipes == {1, 2} and links[1] == links[2], links  # stderr, drained by the shim into qemu.log
        files = {target for target in links.values()
                 if target.startswith("/") and target != "/dev/null" and not target.startswith("/memfd:")}
        allowed = {os.path.realpath(vm["kernel"]), os.path.join(bx.root, "boxes", ref, "initrd.img")}
        if vm["accel"] == "kvm":
            allowed.add("/dev/kvm")
        allowed.add("/dev/net/tun")  # its spare NICs' taps (made in its own network namespace)
        assert files <= allowed, links
        assert not [t for t in links.values() if t.startswith((bx.run_dir, str(tmp_path)))], links
        kinds = {t.split(":")[0] for t in links.values() if not t.startswith("/")}
        assert kinds <= {"pipe", "socket", "anon_inode"}, links

        # its own memory cgroup: guest RAM plus the fixed overhead (TCG: plus the translation cache)
        cg = memory_cgroup(pid)
        assert cg.rstrip("/").endswith(f"/boxvm/{ref}"), cg
        want = (vm["mem_mb"] + 256 + (128 if vm["accel"] == "tcg" else 0)) * MIB
        assert memory_limit(cg) == want
        # QEMU and its helpers (passt, the virtiofsd of the rootfs and of the
        # share, with their sandbox children); never the shim, which must
        # always be able to act on them
        shim = int(bx("inspect", "-f", "{{.State.Pid}}", ref, check=0).stdout)
        with open(os.path.join(cg, "cgroup.procs")) as f:
            members = [int(p) for p in f.read().split()]
        names = sorted({open(f"/proc/{p}/comm").read().strip() for p in members})
        assert pid in members and shim not in members, (members, shim)
        assert names in (["passt", "qemu-system-x86", "virtiofsd"], ["passt.avx2", "qemu-system-x86", "virtiofsd"]), names

        # the box works as before: a share, the network, exec
        assert bx("exec", ref, "sh", "-c", "echo hi > /data/f && cat /data/f", check=0).stdout == b"hi\n"
        assert b"10.0.2.15" in bx("exec", ref, "ip", "addr", "show", "eth0", check=0).stdout
        assert (share / "f").read_text() == "hi\n"
        assert bx("rm", "-f", ref, check=0).stdout.decode().strip() == ref
        assert not os.path.exists(cg)  # gone with the VM
        assert not os.path.exists(f"/proc/{pid}")
    finally:
        bx("rm", "-f", ref, other)


@pytest.mark.parametrize("rm_at_once", [False, True])
def test_qemu_dies_with_a_killed_shim_and_rm_removes_its_cgroup(no_leaks, rm_at_once):
    """QEMU dies with its killed shim; rm removes the cgroup the shim could not, also when it
    runs at once, while QEMU is still exiting (rm kills and waits out what is left)."""
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)
        pid = qemu_pid(bx, ref)
        cg = memory_cgroup(pid)
        shim = int(bx("inspect", "-f", "{{.State.Pid}}", ref, check=0).stdout)
        assert shim and int(status(pid)["PPid"]) == shim
        os.kill(shim, signal.SIGKILL)
        if not rm_at_once:
            # the parent-death signal is set after the uid change (which clears it)
            until(lambda: exited(pid), "QEMU to die with its shim")
        assert bx("rm", "-f", ref, check=0).stdout.decode().strip() == ref
        assert not os.path.exists(cg)  # the killed shim could not remove it; rm did
        assert exited(pid)
    finally:
        bx("rm", "-f", ref)


def test_a_console_flood_stays_under_the_cap_and_the_box_keeps_working(no_leaks):
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)
        console = os.path.join(bx.root, "boxes", ref, "console.log")
        # guest root writes 4 times the cap to its serial console (the box's
        # /dev is Docker's, without it: root makes the node, as a hostile one would)
        flood = "mknod /tmp/ttyS0 c 4 64 && yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c %d > /tmp/ttyS0; " \
            "echo end-of-flood > /tmp/ttyS0" % (4 * CONSOLE_CAP)
        bx("exec", ref, "sh", "-c", flood, check=0, timeout=HANG_GUARD)

        def flood_written():
            with open(console, "rb") as f:
                return b"end-of-flood" in f.read()
        until(flood_written, "the end of the flood in console.log")
        st = os.stat(console)
        assert st.st_size <= CONSOLE_CAP, st.st_size
        assert stat.S_IMODE(st.st_mode) == 0o600
        with open(console, "rb") as f:
            text = f.read()
        assert text.count(b"0123456789abcdefghijklmnopqrstuvwxyz") > 1000  # the newest part was kept
        assert bx("exec", ref, "echo", "still here", check=0).stdout == b"still here\n"
    finally:
        bx("rm", "-f", ref)
