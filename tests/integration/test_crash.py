"""Crash consistency (issue 11, point 2): a boxvm process killed with SIGKILL
at any named step leaves a state the next command reconciles.

BOXVM_TEST_CRASH_AT=<point> makes the CLI or the shim kill itself at that
point (src/common/crashpoint.h); the list of points and what each leaves is in
docs/ARCHITECTURE.md, "Crash consistency", and every one is exercised here
(pull.blob and load.blob in test_pull.py). QEMU, virtiofsd and passt are
killed from outside while a box runs. no_leaks checks, after each test,
that no box dir, runtime dir or process is left."""
import glob
import json
import os
import signal
import subprocess

import pytest

from conftest import BOXVM, HANG_GUARD, _our_processes, until


def crash(bx, point, *args):
    p = bx(*args, env={"BOXVM_TEST_CRASH_AT": point})
    assert p.returncode == -signal.SIGKILL, (point, p)
    return p


def listed(bx):
    """ps -a as {name: status}: the next command after a crash."""
    out = bx("ps", "-a", "--format", "{{.Names}}\t{{.State}}", check=0).stdout.decode()
    return dict(line.split("\t") for line in out.splitlines())


def names_of(bx):
    d = os.path.join(bx.root, "names")
    return {n: os.readlink(os.path.join(d, n)) for n in os.listdir(d)} if os.path.isdir(d) else {}


def box_dirs(bx):
    d = os.path.join(bx.root, "boxes")
    return [n for n in os.listdir(d) if not n.startswith(".")] if os.path.isdir(d) else []


def mounts_under(root):
    with open("/proc/self/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(root + "/")]


@pytest.mark.parametrize("point", ["create.reserved", "create.built"])
def test_create_killed_before_its_record(no_leaks, point):
    """The box dir (and at create.built its mounted rootfs) and the name exist,
    no record: the next listing removes them, the name is free again."""
    bx = no_leaks
    crash(bx, point, "create", "--name", "half", "busybox", "true")
    assert box_dirs(bx) and "half" in names_of(bx)  # the crash did leave them
    assert "half" not in listed(bx)
    assert box_dirs(bx) == [] and names_of(bx) == {}
    assert mounts_under(os.path.join(bx.root, "boxes")) == []
    bx("create", "--name", "half", "busybox", "true", check=0)
    bx("rm", "half", check=0)


def test_run_killed_after_its_record(no_leaks):
    """Killed between the record and the shim: a created box, which starts."""
    bx = no_leaks
    crash(bx, "create.registered", "run", "-d", "--name", "made", "busybox", "sleep", "1000")
    assert listed(bx) == {"made": "created"}
    bx("start", "made", check=0)
    assert listed(bx) == {"made": "running"}
    bx("rm", "-f", "made", check=0)


def test_start_killed_after_reset(no_leaks):
    bx = no_leaks
    bx("create", "--name", "st", "busybox", "sleep", "1000", check=0)
    crash(bx, "start.reset", "start", "st")
    assert listed(bx) == {"st": "created"}
    bx("start", "st", check=0)
    assert listed(bx) == {"st": "running"}
    bx("rm", "-f", "st", check=0)


def test_stop_killed_before_its_signal(no_leaks):
    """The box runs on (its record marked stopped by the user); the next
    stop stops it."""
    bx = no_leaks
    bx("run", "-d", "--name", "sp", "busybox", "sleep", "1000", check=0)
    crash(bx, "stop.marked", "stop", "sp")
    assert listed(bx) == {"sp": "running"}
    bx("stop", "-t", "1", "sp", check=0)
    assert listed(bx) == {"sp": "exited"}
    bx("rm", "sp", check=0)


@pytest.mark.parametrize("point", ["rm.marked", "rm.name_released"])
def test_rm_killed_half_way(no_leaks, point):
    """The record says "removing": the next listing finishes the removal."""
    bx = no_leaks
    bx("create", "--name", "gone", "busybox", "true", check=0)
    crash(bx, point, "rm", "gone")
    assert box_dirs(bx)  # half done
    assert listed(bx) == {}
    assert box_dirs(bx) == [] and names_of(bx) == {}
    bx("create", "--name", "gone", "busybox", "true", check=0)
    bx("rm", "gone", check=0)


@pytest.mark.parametrize("point,name", [("rename.reserved", "old"), ("rename.recorded", "new")])
def test_rename_killed_half_way(no_leaks, point, name):
    """Both names point at the box for a moment: the next listing keeps the
    one its record has and frees the other."""
    bx = no_leaks
    bx("create", "--name", "old", "busybox", "true", check=0)
    ident = bx("inspect", "-f", "{{.Id}}", "old", check=0).stdout.decode().strip()
    crash(bx, point, "rename", "old", "new")
    assert set(names_of(bx)) == {"old", "new"}
    assert listed(bx) == {name: "created"}
    assert names_of(bx) == {name: ident}
    other = "new" if name == "old" else "old"
    bx("create", "--name", other, "busybox", "true", check=0)
    bx("rm", name, other, check=0)


def test_volume_rm_killed_half_way(no_leaks):
    """The volume is gone whole from the moment rm starts deleting it; the
    next listing deletes what is left."""
    bx = no_leaks
    bx("volume", "create", "vc", check=0)
    data = bx("volume", "inspect", "-f", "{{.Mountpoint}}", "vc", check=0).stdout.decode().strip()
    with open(os.path.join(data, "f"), "w") as f:
        f.write("x")
    crash(bx, "volume_rm.moved", "volume", "rm", "vc")
    assert "vc" not in bx("volume", "ls", "-q", check=0).stdout.decode().split()
    vols = os.path.join(bx.root, "volumes")
    assert [n for n in os.listdir(vols) if n.startswith(".trash-")]
    listed(bx)
    assert not [n for n in os.listdir(vols) if n.startswith(".trash-")]
    bx("volume", "create", "vc", check=0)
    assert not os.listdir(os.path.join(vols, "vc", "_data"))
    bx("volume", "rm", "vc", check=0)


@pytest.mark.parametrize("point", ["shim.booting", "shim.running"])
def test_shim_killed_while_the_box_runs(no_leaks, point):
    """Its QEMU, virtiofsd and passt die with it (parent-death signal); the
    box shows as exited (137) and a --rm box is gone."""
    bx = no_leaks
    p = bx("run", "-d", "--name", "sk", "busybox", "sleep", "1000", env={"BOXVM_TEST_CRASH_AT": point})
    assert p.returncode == 125 and b"exited without starting" in p.stderr, p
    until(lambda: not _our_processes(bx.run_dir) and not _our_processes(bx.root), "the box's processes to die")
    assert listed(bx) == {"sk": "exited"}
    assert bx("inspect", "-f", "{{.State.ExitCode}}", "sk", check=0).stdout.strip() == b"137"
    bx("start", "sk", check=0)  # nothing of the dead shim is in the way
    bx("rm", "-f", "sk", check=0)
    p = bx("run", "-d", "--rm", "--name", "skr", "busybox", "sleep", "1000", env={"BOXVM_TEST_CRASH_AT": point})
    assert p.returncode == 125, p
    until(lambda: not _our_processes(bx.run_dir) and not _our_processes(bx.root), "the box's processes to die")
    assert listed(bx) == {}
    assert box_dirs(bx) == [] and names_of(bx) == {}


def test_shim_killed_as_the_box_ends(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "se", "busybox", "true", check=0, env={"BOXVM_TEST_CRASH_AT": "shim.ending"})
    until(lambda: not _our_processes(bx.run_dir) and not _our_processes(bx.root), "the shim to die")
    assert listed(bx) == {"se": "exited"}
    bx("rm", "se", check=0)


def test_shim_killed_while_removing_an_rm_box(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--rm", "--name", "sr", "busybox", "true", check=0, env={"BOXVM_TEST_CRASH_AT": "shim.removing"})
    until(lambda: not _our_processes(bx.run_dir) and not _our_processes(bx.root), "the shim to die")
    assert listed(bx) == {}
    assert box_dirs(bx) == [] and names_of(bx) == {}


def _pid_of(bx, ident, what):
    for pid, cmd in _our_processes(bx.root) + _our_processes(bx.run_dir):
        if what in cmd and ident[:12] in cmd:
            return pid
    if what == "qemu-system":  # its command line names no path of ours: find it by its initrd
        for pid, cmd in _our_processes(bx.root):
            if what in cmd:
                return pid
    return None


@pytest.mark.parametrize("what", ["qemu-system", "virtiofsd", "passt"])
def test_helper_killed_while_the_box_runs(no_leaks, tmp_path, what):
    """A box's helper dies: the box ends, every other process of it goes,
    and what main wrote and fsynced to a volume before is intact."""
    bx = no_leaks
    vol = tmp_path / "vol"
    vol.mkdir()
    script = "head -c 1048576 /dev/urandom > /v/data && sync /v/data && md5sum /v/data && sleep 1000"
    bx("run", "-d", "--name", "hk", "-v", f"{vol}:/v", "busybox", "sh", "-c", script, check=0)
    ident = bx("inspect", "-f", "{{.Id}}", "hk", check=0).stdout.decode().strip()
    line = until(lambda: bx("logs", "hk").stdout.strip(), "main to write and sync its data")
    pid = _pid_of(bx, ident, what)
    assert pid, (what, _our_processes(bx.root) + _our_processes(bx.run_dir))
    os.kill(pid, signal.SIGKILL)
    until(lambda: listed(bx).get("hk") == "exited", f"the box to end after {what} died")
    until(lambda: not _our_processes(bx.run_dir) and not _our_processes(bx.root), "the box's processes to die")
    import hashlib
    assert hashlib.md5((vol / "data").read_bytes()).hexdigest() == line.split()[0].decode()
    bx("rm", "hk", check=0)
