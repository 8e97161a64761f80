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


def _copy_up_image(bx, tmp_path):
    """busybox plus /app (1000:1000 0750) holding a 0640 file, a directory, an absolute
    symlink and a setuid file, and /evil, a symlink that climbs out of the root."""
    from test_run import _busybox_base_layer
    from ocilayout import image_tar
    tar = image_tar(str(tmp_path / "cu.tar"), [[
        {"name": "app", "type": "dir", "mode": 0o750, "uid": 1000, "gid": 1000},
        {"name": "app/conf", "data": "from the image\n", "mode": 0o640, "uid": 1000, "gid": 1000},
        {"name": "app/sub", "type": "dir", "mode": 0o700, "uid": 1000, "gid": 1000},
        {"name": "app/sub/deep", "data": "deep\n"},
        {"name": "app/link", "type": "symlink", "target": "/etc/passwd"},
        {"name": "app/setuid", "data": "#!/bin/sh\n", "mode": 0o4755},
        {"name": "evil", "type": "symlink", "target": "../../../../../../etc"},
    ]], config={"Cmd": ["sh"]}, name="copyup:latest", base_layers=[_busybox_base_layer(bx)])
    bx("load", "-i", tar, check=0)


def test_new_volume_starts_with_the_images_directory(bx, no_leaks, tmp_path):
    """Docker copies the image's directory into a new (empty) named or anonymous volume mounted
    over it, owners and modes kept; a volume that has content is left as it is."""
    _copy_up_image(bx, tmp_path)
    show = "stat -c '%u:%g %a %n' /app /app/conf /app/sub /app/sub/deep; readlink /app/link; cat /app/conf"
    want = ("1000:1000 750 /app\n1000:1000 640 /app/conf\n1000:1000 700 /app/sub\n0:0 644 /app/sub/deep\n"
            "/etc/passwd\nfrom the image\n")
    try:
        assert bx("run", "--rm", "-v", "cu-named:/app", "copyup", "sh", "-c",
                  show + "; echo changed > /app/conf", check=0).stdout.decode() == want
        # Docker keeps a setuid bit; a volume is a share on the host, which never holds one (docs/docker-parity.md)
        assert bx("run", "--rm", "-v", "cu-named:/app", "copyup", "stat", "-c", "%a", "/app/setuid",
                  check=0).stdout == b"755\n"
        # not empty any more: not copied again
        assert bx("run", "--rm", "-v", "cu-named:/app", "copyup", "cat", "/app/conf", check=0).stdout == b"changed\n"
        # an anonymous volume too
        assert bx("run", "--rm", "-v", "/app", "copyup", "sh", "-c", show, check=0).stdout.decode() == want
        # the mount point resolves inside the image's root: /evil is the image's /etc, not the host's
        assert bx("run", "--rm", "-v", "cu-evil:/evil", "copyup", "sh", "-c", "ls /evil",
                  check=0).stdout.decode().split() == \
            bx("run", "--rm", "copyup", "ls", "/etc", check=0).stdout.decode().split()
        data = bx("volume", "inspect", "-f", "{{.Mountpoint}}", "cu-evil", check=0).stdout.decode().strip()
        assert not os.path.exists(os.path.join(data, "debian_version"))  # the host's /etc has it
        # nothing at the target in the image: the volume starts empty
        assert bx("run", "--rm", "-v", "cu-empty:/nothing/here", "copyup", "ls", "-A", "/nothing/here",
                  check=0).stdout == b""
    finally:
        bx("volume", "rm", "cu-named", "cu-evil", "cu-empty", check=0)
        bx("rmi", "copyup", check=0)


def test_anonymous_volumes_go_with_rm_v_and_a_rm_box(bx, no_leaks):
    """Docker: `run --rm` and `rm -v` remove the box's anonymous volumes, not its named ones;
    a plain `rm` keeps them."""
    vols = lambda: set(bx("volume", "ls", "-q", check=0).stdout.decode().split())
    before = vols()
    try:
        bx("run", "--rm", "-v", "/anon", "-v", "anon-named:/named", "busybox", "true", check=0)
        assert vols() - before == {"anon-named"}
        bx("create", "--name", "anon-box", "-v", "/anon", busybox := "busybox", check=0)
        anon = vols() - before - {"anon-named"}
        assert len(anon) == 1
        bx("rm", "-v", "anon-box", check=0)
        assert vols() - before == {"anon-named"}
        bx("create", "--name", "anon-box", "-v", "/anon", busybox, check=0)
        kept = vols() - before - {"anon-named"}
        bx("rm", "anon-box", check=0)
        assert vols() - before - {"anon-named"} == kept  # Docker's rm without -v keeps it
    finally:
        bx("rm", "-f", "anon-box", check=0)
        for v in vols() - before:
            bx("volume", "rm", v, check=0)


def test_image_volumes_become_anonymous_volumes(bx, no_leaks, tmp_path):
    """Docker: each VOLUME of the image is an anonymous volume (starting with the image's
    content there) unless -v mounts something at that path; `run --rm` removes it."""
    from test_run import _busybox_base_layer
    from ocilayout import image_tar
    tar = image_tar(str(tmp_path / "iv.tar"), [[
        {"name": "data", "type": "dir", "mode": 0o750, "uid": 1000, "gid": 1000},
        {"name": "data/seed", "data": "seeded\n"},
    ]], config={"Cmd": ["sh"], "Volumes": {"/data": {}}}, name="imgvol:latest",
        base_layers=[_busybox_base_layer(bx)])
    bx("load", "-i", tar, check=0)
    vols = lambda: set(bx("volume", "ls", "-q", check=0).stdout.decode().split())
    before = vols()
    try:
        # a virtiofs mount of its own at /data, seeded from the image
        out = bx("run", "--rm", "imgvol", "sh", "-c",
                 "grep ' /data ' /proc/mounts | cut -d' ' -f3; stat -c '%u %a' /data; cat /data/seed",
                 check=0).stdout.decode()
        assert out == "virtiofs\n1000 750\nseeded\n", out
        assert vols() == before  # --rm took its anonymous volume along
        bx("create", "--name", "iv-box", "imgvol", check=0)
        assert bx("inspect", "-f", "{{json .Config.Volumes}}", "iv-box", check=0).stdout == b'{"/data":{}}\n'
        assert len(vols() - before) == 1
        bx("rm", "-v", "iv-box", check=0)
        assert vols() == before
        # -v at the same path replaces it
        bx("run", "--rm", "-v", "iv-named:/data:nocopy", "imgvol", "true", check=0)
        assert vols() - before == {"iv-named"}
        data = bx("volume", "inspect", "-f", "{{.Mountpoint}}", "iv-named", check=0).stdout.decode().strip()
        assert os.listdir(data) == []  # nocopy: Docker copies nothing in
    finally:
        bx("rm", "-f", "iv-box", check=0)
        bx("volume", "rm", "iv-named", check=0)
        bx("rmi", "imgvol", check=0)
