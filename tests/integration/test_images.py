"""Image management and the shared rootfs cache: tag, image inspect, save/load
round trip, rmi (untag vs delete, refused while a box uses the image),
garbage collection, and a box's overlay root over the cache (a second box of
the same image unpacks nothing; the box's changes go to its own upper dir).

Each test gets an empty store of its own with busybox loaded. Only one test
boots a VM; the others use `create`, which prepares the rootfs without booting."""
import json
import os
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import BUSYBOX_TAR, Boxvm, unmount_under


@pytest.fixture
def store(bx):
    root = tempfile.mkdtemp(prefix="boxvm-img-root.")
    b = Boxvm(root, bx.run_dir, dict(bx.env, BOXVM_ROOT=root))
    b("load", "-i", BUSYBOX_TAR, check=0)
    yield b
    boxes = os.path.join(root, "boxes")
    left = os.listdir(boxes) if os.path.isdir(boxes) else []
    for box in left:
        b("rm", "-f", box)
    leaked = unmount_under(root)
    subprocess.run(["rm", "-rf", root])
    assert not left, f"leaked boxes: {left}"
    assert not leaked, f"leaked rootfs mounts: {leaked}"


def cache_entries(b):
    d = os.path.join(b.root, "rootfs-cache")
    return sorted(e for e in os.listdir(d) if not e.endswith(".lock")) if os.path.isdir(d) else []


def blobs(b):
    d = os.path.join(b.root, "blobs", "sha256")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def inspect(b, ref):
    return json.loads(b("image", "inspect", ref, check=0).stdout)[0]


def mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def test_tag_and_inspect(store):
    store("tag", "busybox", "example.com/team/bb:v1", check=0)
    info = inspect(store, "example.com/team/bb:v1")
    assert info["Id"].startswith("sha256:") and info["Id"] == inspect(store, "busybox")["Id"]
    assert info["RepoTags"] == ["busybox:latest", "example.com/team/bb:v1"]
    assert info["Os"] == "linux" and info["Architecture"] == "amd64" and info["Size"] > 0
    assert info["Config"]["Cmd"] == ["sh"] and info["Created"]
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    p = store("image", "inspect", "busybox", "nope", check=125)
    assert "no such image: nope" in p.stderr.decode() and json.loads(p.stdout)[0]["Id"] == info["Id"]
    assert "digest" in store("tag", "busybox", "bb@sha256:" + "0" * 64, check=125).stderr.decode()
    store("tag", "missing", "x:1", check=125)


def test_save_load_round_trip(store, tmp_path):
    store("tag", "busybox", "saved:v2", check=0)
    out = str(tmp_path / "out.tar")
    store("save", "-o", out, "saved:v2", check=0)
    before = inspect(store, "saved:v2")
    store("rmi", "saved:v2", "busybox", check=0)
    assert blobs(store) == [] and store("images", "-q", check=0).stdout.strip() == b""
    p = store("load", "-i", out, check=0)
    assert "Loaded image: saved:v2" in p.stdout.decode()
    after = inspect(store, "saved:v2")
    assert (after["Id"], after["RootFS"], after["Config"]) == (before["Id"], before["RootFS"], before["Config"])
    # a failed save leaves no file behind
    bad = str(tmp_path / "bad.tar")
    store("save", "-o", bad, "saved:v2", "nope", check=125)
    assert not [f for f in os.listdir(tmp_path) if f.startswith("bad.tar")]


def test_rmi_untag_vs_delete_and_gc(store):
    image_id = inspect(store, "busybox")["Id"]
    store("tag", "busybox", "other:1", check=0)
    p = store("rmi", image_id[7:19], check=125)  # an ID with two names needs -f
    assert "referenced in multiple repositories" in p.stderr.decode()
    assert store("rmi", "other:1", check=0).stdout.decode() == "Untagged: other:1\n"
    assert len(blobs(store)) == 3
    # interrupted-download leftovers: old ones go, a recent one (maybe a running pull) stays
    inc = os.path.join(store.root, "blobs", "incoming")
    os.makedirs(inc, exist_ok=True)
    old, new = os.path.join(inc, "a" * 64 + ".partial"), os.path.join(inc, "b" * 64 + ".partial")
    for f in (old, new):
        open(f, "w").write("x")
    os.utime(old, (time.time() - 7200,) * 2)
    out = store("rmi", "busybox", check=0).stdout.decode()
    assert out == f"Untagged: busybox:latest\nDeleted: {image_id}\n"
    assert blobs(store) == [] and not os.path.exists(old) and os.path.exists(new)
    store("rmi", "busybox", check=125)


def test_second_box_reuses_the_cache_and_rmi_refuses_in_use(store):
    a = store("create", "busybox", "true", check=0).stdout.decode().strip()
    [entry] = cache_entries(store)
    st = os.stat(os.path.join(store.root, "rootfs-cache", entry))
    b = store("create", "busybox", "true", check=0).stdout.decode().strip()
    # no unpacking for the second box: the same entry, untouched, and no new one
    assert cache_entries(store) == [entry]
    st2 = os.stat(os.path.join(store.root, "rootfs-cache", entry))
    assert (st2.st_ino, st2.st_mtime_ns, st2.st_ctime_ns) == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    for box in (a, b):
        rootfs = os.path.join(store.root, "boxes", box, "rootfs")
        assert mounted(rootfs) and os.path.exists(os.path.join(rootfs, "bin", "busybox"))
        info = json.load(open(os.path.join(store.root, "boxes", box, "rootfs.json")))
        assert info["mode"] == "overlay" and info["chain"] == "sha256:" + entry

    p = store("rmi", "busybox", check=125)
    err = p.stderr.decode()
    assert "must force" in err and (a[:12] in err or b[:12] in err), err
    store("rm", a, check=0)
    assert not mounted(os.path.join(store.root, "boxes", a, "rootfs"))
    # forced: the image goes, the cache entry stays while box b uses it
    store("rmi", "-f", "busybox", check=0)
    assert blobs(store) == [] and cache_entries(store) == [entry]
    store("rm", b, check=0)
    store("image", "prune", check=0)
    assert cache_entries(store) == []


def test_box_root_is_an_overlay_served_by_virtiofsd(store):
    name = "ovl-" + os.path.basename(store.root)[-8:]
    p = store("run", "--name", name, "busybox", "sh", "-c",
              "rm /bin/true && echo data > /etc/newfile && ls /bin/true; cat /etc/newfile; "
              "stat -c '%a %u %g' /bin/busybox /etc; touch /bin/busybox && echo touched", check=None)
    out = p.stdout.decode()
    assert "No such file" in p.stderr.decode() + out and "data" in out and "touched" in out, (out, p.stderr)
    [entry] = cache_entries(store)
    cache = os.path.join(store.root, "rootfs-cache", entry)
    assert os.path.exists(os.path.join(cache, "bin", "true"))  # the shared tree is never written
    assert "755 0 0" in out
    box = json.loads(store("inspect", name, check=0).stdout)[0]["Id"]
    upper = os.path.join(store.root, "boxes", box, "overlay", "upper")
    wh = os.lstat(os.path.join(upper, "bin", "true"))
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0  # an overlayfs whiteout
    assert open(os.path.join(upper, "etc", "newfile")).read() == "data\n"
    store("rm", name, check=0)
    assert not os.path.exists(os.path.join(store.root, "boxes", box))
