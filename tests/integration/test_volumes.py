"""Bind mounts (directories and files, rw and ro), named volumes that outlive
their boxes, tmpfs and a read-only root, all against real VMs."""
import json
import os
import time

import pytest

from conftest import HANG_GUARD


def test_binds_tmpfs_readonly_root(bx, no_leaks, tmp_path):
    """One box: rw bind both ways, ro bind and ro file bind refuse writes with
    EROFS, tmpfs with its size, a read-only root, and a missing host dir created."""
    rw, ro, missing = tmp_path / "rw", tmp_path / "ro", tmp_path / "made" / "by" / "run"
    rw.mkdir()
    ro.mkdir()
    (rw / "from_host").write_text("host-data\n")
    (ro / "keep").write_text("untouched\n")
    conf = tmp_path / "app.conf"
    conf.write_text("setting=1\n")
    script = ("cat /data/from_host && echo box-data > /data/from_box && "
              "cat /etc/app.conf && "
              "(echo x > /ro/keep) 2>&1; (echo x > /etc/app.conf) 2>&1; (touch /rootfile) 2>&1; "
              "echo t > /run/ok && cat /run/ok && df -k /run | tail -1 && "
              "echo m > /made/file && echo done")
    p = bx("run", "--rm", "--read-only", "--tmpfs", "/run:size=8m",
           "-v", f"{rw}:/data", "-v", f"{ro}:/ro:ro", "-v", f"{conf}:/etc/app.conf:ro",
           "-v", f"{missing}:/made", "busybox", "sh", "-c", script, check=0)
    out = p.stdout.decode()
    assert out.startswith("host-data\nsetting=1\n"), out
    assert out.count("Read-only file system") == 3, out
    assert "\nt\n" in out and " 8192 " in out, out
    assert out.endswith("done\n"), out
    assert (rw / "from_box").read_text() == "box-data\n"
    assert (ro / "keep").read_text() == "untouched\n"
    assert conf.read_text() == "setting=1\n"
    assert (missing / "file").read_text() == "m\n"


def test_host_edits_reach_a_running_box(bx, no_leaks, tmp_path):
    """A bind mount shows the host's changes while the box runs (its virtiofsd
    revalidates), unlike the box's own rootfs, which only the guest changes."""
    (tmp_path / "conf").write_text("version-1\n")
    ref = bx("run", "-d", "--network", "none", "-v", f"{tmp_path}:/data", "busybox", "sleep", "600",
             check=0).stdout.decode().strip()
    try:
        assert bx("exec", ref, "cat", "/data/conf", check=0).stdout == b"version-1\n"
        (tmp_path / "conf").write_text("version-2, longer\n")
        (tmp_path / "new").write_text("fresh\n")
        deadline = time.monotonic() + HANG_GUARD  # revalidation takes about a second; a hang guard only
        while bx("exec", ref, "cat", "/data/conf", "/data/new", check=0).stdout != b"version-2, longer\nfresh\n":
            assert time.monotonic() < deadline, "the host's change never reached the box"
            time.sleep(0.5)
        # the rootfs: the guest's own writes, read back at once
        assert bx("exec", ref, "sh", "-c", "echo mine > /etc/own && cat /etc/own", check=0).stdout == b"mine\n"
    finally:
        bx("rm", "-f", ref)


def test_named_volume_outlives_boxes(bx, no_leaks):
    vol = "persist-test"
    bx("run", "--rm", "-v", f"{vol}:/var/lib/x", "busybox", "sh", "-c", "echo kept > /var/lib/x/f", check=0)
    assert vol in bx("volume", "ls", "-q", check=0).stdout.decode().split()
    info = json.loads(bx("volume", "inspect", vol, check=0).stdout)
    assert info[0]["Name"] == vol and info[0]["Mountpoint"].endswith(f"/volumes/{vol}/_data")
    # a second box (created, not started) sees the data and holds the volume
    p = bx("run", "--rm", "-v", f"{vol}:/y", "busybox", "cat", "/y/f", check=0)
    assert p.stdout == b"kept\n"
    box = bx("create", "-v", f"{vol}:/z", "busybox", "true", check=0).stdout.decode().strip()
    try:
        p = bx("volume", "rm", vol)
        assert p.returncode == 1 and "volume is in use" in p.stderr.decode(), p
    finally:
        bx("rm", "-f", box, check=0)
    assert bx("volume", "rm", vol, check=0).stdout.decode().strip() == vol
    p = bx("volume", "rm", vol)
    assert p.returncode == 1 and "no such volume" in p.stderr.decode()


def test_volume_create_and_prune(bx):
    bx("volume", "create", "prune-me", check=0)
    assert "prune-me" in bx("volume", "prune", "-f", check=0).stdout.decode()
    assert "prune-me" not in bx("volume", "ls", "-q", check=0).stdout.decode().split()


@pytest.mark.parametrize("spec,needle", [
    ("rel/path:/x", "invalid characters for a local volume name"),
    ("/tmp:relative", "must be an absolute path"),
    ("/tmp:/x:bogus", "invalid mode"),
])
def test_bad_volume_flags(bx, no_leaks, spec, needle):
    p = bx("run", "--rm", "-v", spec, "busybox", "true")
    assert p.returncode == 125 and needle in p.stderr.decode(), p
