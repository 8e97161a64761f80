"""Image management and the shared rootfs cache: tag, image inspect, save/load
round trip, rmi (untag vs delete, refused while a box uses the image),
garbage collection, and a box's overlay root over the cache (a second box of
the same image unpacks nothing; the box's changes go to its own upper dir).

Each test gets an empty store of its own with busybox loaded. Only one test
boots a VM; the others use `create`, which prepares the rootfs without booting."""
import ctypes
import gzip
import hashlib
import json
import os
import stat
import struct
import subprocess
import tarfile
import tempfile
import time

import pytest

import ocilayout
from conftest import BOXVM, BUSYBOX_TAR, HANG_GUARD, Boxvm, unmount_under
from registry import layout_from_tar, read_blob, tagged_manifest


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
    p = store("image", "inspect", "busybox", "nope", check=1)
    assert "no such image: nope" in p.stderr.decode() and json.loads(p.stdout)[0]["Id"] == info["Id"]
    assert "digest" in store("tag", "busybox", "bb@sha256:" + "0" * 64, check=1).stderr.decode()
    store("tag", "missing", "x:1", check=1)


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
    # another OCI tool reads the archive: skopeo sees the same config and layers
    seen = json.loads(subprocess.run(["skopeo", "inspect", "--config", f"oci-archive:{out}"],
                                     capture_output=True, check=True, timeout=HANG_GUARD).stdout)
    assert seen["rootfs"]["diff_ids"] == after["RootFS"]["Layers"] and seen["config"]["Cmd"] == ["sh"]
    copied = tmp_path / "copied"
    subprocess.run(["skopeo", "copy", "-q", f"oci-archive:{out}", f"oci:{copied}:v2"], capture_output=True,
                   check=True, timeout=HANG_GUARD)
    assert json.load(open(copied / "index.json"))["manifests"]
    # a failed save leaves no file behind
    bad = str(tmp_path / "bad.tar")
    store("save", "-o", bad, "saved:v2", "nope", check=1)
    assert not [f for f in os.listdir(tmp_path) if f.startswith("bad.tar")]


def docker_archive(path):
    """{member name: bytes} of a save archive, and its manifest.json and index.json."""
    with tarfile.open(path) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    return files, json.loads(files["manifest.json"]), json.loads(files["index.json"])


def unpacked_sha256(blob):
    raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = subprocess.run(["zstd", "-q", "-d", "-c"], input=raw, capture_output=True, check=True).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def check_docker_entry(files, entry, image):
    """A manifest.json entry points at members that exist: the config by its
    digest (the image ID), the layers in the config's diff_ids order."""
    assert entry["Config"] == "blobs/sha256/" + image["Id"][7:]
    assert "sha256:" + hashlib.sha256(files[entry["Config"]]).hexdigest() == image["Id"]
    assert [unpacked_sha256(files[l]) for l in entry["Layers"]] == image["RootFS"]["Layers"]


def test_save_writes_docker_manifest_json(store, tmp_path):
    # Docker 20.10 (docker-ref): `docker save busybox` with tags latest and other wrote
    # [{"Config":...,"RepoTags":["busybox:latest","busybox:other"],"Layers":[...]}]: a bare
    # name saves every tag of the repository; by image ID "RepoTags":null; the Hub prefix
    # is dropped ("busybox:latest"); Docker 25 adds the OCI layout, with layers in blobs/
    store("tag", "busybox", "docker.io/library/saved:v2", check=0)
    store("tag", "busybox", "saved:v3", check=0)
    image = inspect(store, "saved:v2")
    out = str(tmp_path / "named.tar")
    store("save", "-o", out, "saved", check=0)
    files, manifest, index = docker_archive(out)
    assert [e["RepoTags"] for e in manifest] == [["saved:v2", "saved:v3"]]
    check_docker_entry(files, manifest[0], image)
    names = [(d["annotations"]["io.containerd.image.name"], d["annotations"]["org.opencontainers.image.ref.name"])
             for d in index["manifests"]]
    assert names == [("docker.io/library/saved:v2", "v2"), ("docker.io/library/saved:v3", "v3")]
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    # a name:tag saves that tag only; a name and the ID of its image make one entry
    one = str(tmp_path / "one.tar")
    store("save", "-o", one, "saved:v3", image["Id"][7:19], check=0)
    assert [e["RepoTags"] for e in docker_archive(one)[1]] == [["saved:v3"]]
    by_id = str(tmp_path / "by-id.tar")
    store("save", "-o", by_id, image["Id"], check=0)
    files, manifest, index = docker_archive(by_id)
    assert [e["RepoTags"] for e in manifest] == [None]
    assert [d.get("annotations") for d in index["manifests"]] == [None]
    check_docker_entry(files, manifest[0], image)
    # a third-party reader of Docker's format: skopeo's docker-archive transport
    seen = json.loads(subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{out}"],
                                     capture_output=True, check=True, timeout=HANG_GUARD).stdout)
    assert seen["rootfs"]["diff_ids"] == image["RootFS"]["Layers"] and seen["config"]["Cmd"] == ["sh"]
    copied = tmp_path / "copied"
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{out}", f"oci:{copied}:v3"], capture_output=True,
                   check=True, timeout=HANG_GUARD)
    # the archive has index.json and manifest.json: load takes the tags from either
    store("rmi", "saved:v2", "saved:v3", "busybox", check=0)
    p = store("load", "-i", out, check=0)
    assert p.stdout == b"Loaded image: saved:v2\nLoaded image: saved:v3\n"
    assert inspect(store, "saved:v3")["Id"] == image["Id"]


def test_save_zstd_layer_gets_a_tar_docker_20_reads(store, tmp_path):
    # Docker 20.10's load decompresses gzip layers but fails on zstd ("ApplyLayer exit
    # status 1 ... archive/tar: invalid tar header"), so manifest.json lists the
    # uncompressed tar (named by its diff_id) while the OCI manifest keeps the zstd blob
    layout = layout_from_tar(BUSYBOX_TAR, str(tmp_path / "bb"))
    man = json.loads(read_blob(layout, tagged_manifest(layout, "latest")["digest"]))
    cfg = json.loads(read_blob(layout, man["config"]["digest"]))
    raw = gzip.decompress(read_blob(layout, man["layers"][0]["digest"]))
    tar = ocilayout.image_tar(str(tmp_path / "z.tar"), [], config={"Cmd": ["sh"]}, name="zsave:latest",
                              base_layers=[(ocilayout.zstd_compress(raw), cfg["rootfs"]["diff_ids"][0])])
    store("load", "-i", tar, check=0)
    out = str(tmp_path / "out.tar")
    store("save", "-o", out, "zsave", check=0)
    files, manifest, index = docker_archive(out)
    image = inspect(store, "zsave")
    check_docker_entry(files, manifest[0], image)
    diff_id = image["RootFS"]["Layers"][0]
    assert manifest[0]["Layers"] == ["blobs/sha256/" + diff_id[7:]]
    assert "sha256:" + hashlib.sha256(files[manifest[0]["Layers"][0]]).hexdigest() == diff_id
    oci = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"][7:]])
    assert [l["mediaType"] for l in oci["layers"]] == ["application/vnd.oci.image.layer.v1.tar+zstd"]
    assert files["blobs/sha256/" + oci["layers"][0]["digest"][7:]][:4] == b"\x28\xb5\x2f\xfd"


def test_save_to_stdout_refuses_a_terminal(store, tmp_path):
    # Docker 20.10: without -o the tar goes to stdout; on a terminal
    # "cowardly refusing to save to a terminal. Use the -o flag or redirect", exit 1
    p = store("save", "busybox", check=0)
    out = tmp_path / "stdout.tar"
    out.write_bytes(p.stdout)
    files, manifest, _ = docker_archive(str(out))
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    check_docker_entry(files, manifest[0], inspect(store, "busybox"))
    master, slave = os.openpty()
    try:
        r = subprocess.run([BOXVM, "save", "busybox"], stdout=slave, stderr=subprocess.PIPE, env=store.env,
                           timeout=HANG_GUARD)
    finally:
        os.close(slave)
        os.close(master)
    assert (r.returncode, r.stderr) == (
        1, b"boxvm: cowardly refusing to save to a terminal. Use the -o flag or redirect\n")
    # Docker 20.10: `docker save nosuch >FILE` exits 1 ("Error response from daemon:
    # No such image: nosuch") having written nothing
    p = store("save", "busybox", "nosuch", check=1)
    assert p.stdout == b"" and p.stderr.startswith(b"boxvm: no such image: nosuch")


def test_load_of_empty_or_non_archive_input(store, tmp_path):
    # Docker 20.10 exits 1 for each (its words: "open .../repositories: no such file or
    # directory" for empty input, "Error processing tar file(exit status 1): unexpected
    # EOF" for `echo hello`, "open FILE: no such file or directory" for a missing -i)
    for args, stdin, words in ((("load",), b"", b"boxvm: stdin is empty"),
                               (("load", "-i", "/dev/null"), None, b"boxvm: /dev/null is empty"),
                               (("load",), b"hello\n", b"boxvm: stdin is not a tar archive"),
                               (("load", "-i", str(tmp_path / "missing.tar")), None, b"boxvm: cannot open "),
                               (("load", "extra"), None, b"boxvm: \"load\" accepts no arguments")):
        p = store(*args, input=stdin, check=1)
        assert p.stderr.startswith(words) and p.stderr.count(b"\n") == 1 and p.stdout == b"", (args, p.stderr)
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as t:
        t.add(BUSYBOX_TAR, arcname="notes.bin")
    p = store("load", input=plain.read_bytes(), check=1)
    assert p.stderr == b"boxvm: stdin is not an image archive: no index.json or manifest.json\n"
    # the spooled stdin is not left behind
    assert not [f for f in os.listdir(store.root) if f.startswith("load-stdin")]


def test_save_load_answers_as_docker(store, tmp_path):
    # Docker 20.10: `load -q` still prints "Loaded image: NAME" (-q hides only progress)
    out = str(tmp_path / "bb.tar")
    store("save", "-o", out, "busybox", check=0)
    assert store("load", "-q", "-i", out, check=0).stdout == b"Loaded image: busybox:latest\n"
    # a missing image: exit 1 and no file (Docker: "Error response from daemon: No such
    # image: nosuch" / "reference does not exist" for NAME:TAG, no file left)
    for ref in ("nosuch", "nosuch:v1"):
        p = store("save", "-o", str(tmp_path / "missing.tar"), ref, check=1)
        assert p.stderr.startswith(b"boxvm: no such image: " + ref.encode())
    assert not [f for f in os.listdir(tmp_path) if f.startswith("missing.tar")]
    # usage: Docker's "\"docker save\" requires at least 1 argument.", exit 1
    assert store("save", check=1).stderr.startswith(b"boxvm: \"save\" requires at least 1 argument")
    # an image saved by ID: Docker loads it untagged ("Loaded image ID: sha256:...");
    # boxvm keeps images by name, so it refuses, saying why
    by_id = str(tmp_path / "by-id.tar")
    store("save", "-o", by_id, inspect(store, "busybox")["Id"], check=0)
    p = store("load", "-i", by_id, check=1)
    assert b"saved by image ID" in p.stderr and p.stderr.count(b"\n") == 1


def test_rmi_untag_vs_delete_and_gc(store):
    image_id = inspect(store, "busybox")["Id"]
    store("tag", "busybox", "other:1", check=0)
    p = store("rmi", image_id[7:19], check=1)  # an ID with two names needs -f
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
    store("rmi", "busybox", check=1)


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

    p = store("rmi", "busybox", check=1)
    err = p.stderr.decode()
    assert "must force" in err and (a[:12] in err or b[:12] in err), err
    store("rm", a, check=0)
    assert not mounted(os.path.join(store.root, "boxes", a, "rootfs"))
    # forced: the image goes, the cache entry stays while box b uses it
    store("rmi", "-f", "busybox", check=0)
    assert blobs(store) == [] and cache_entries(store) == [entry]
    store("rm", b, check=0)
    store("image", "prune", "-f", check=0)
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


IN_CREATE, IN_MOVED_TO = 0x100, 0x80


class DirEvents:
    """inotify on one directory (ctypes: the stdlib has no binding): which names
    were created or renamed into it, in order."""

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        assert self.libc.inotify_add_watch(self.fd, path.encode(), IN_CREATE | IN_MOVED_TO) >= 0

    def read(self):
        events = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            off = 0
            while off < len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + length].rstrip(b"\0").decode()
                events.append(("moved" if mask & IN_MOVED_TO else "created", name))
                off += 16 + length

    def close(self):
        os.close(self.fd)


def test_concurrent_first_creates_build_the_cache_once(store):
    cache_dir = os.path.join(store.root, "rootfs-cache")
    os.makedirs(cache_dir, exist_ok=True)
    watch = DirEvents(cache_dir)
    procs = [subprocess.Popen([BOXVM, "create", "busybox", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=store.env) for _ in range(2)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=HANG_GUARD)
        assert p.returncode == 0, err
        ids.append(out.decode().strip())
    events = watch.read()
    watch.close()
    [entry] = cache_entries(store)
    # one build: one temp tree made and one entry renamed into place, nothing left over
    assert [e for e in events if e[1].startswith(".tmp-")] == [("created", ".tmp-" + entry)], events
    assert [e for e in events if e[0] == "moved"] == [("moved", entry)], events
    assert not [n for n in os.listdir(cache_dir) if n.startswith(".tmp-")]
    for box in ids:
        rootfs = os.path.join(store.root, "boxes", box, "rootfs")
        assert mounted(rootfs) and os.path.exists(os.path.join(rootfs, "bin", "busybox"))
        assert json.load(open(os.path.join(store.root, "boxes", box, "rootfs.json")))["chain"] == "sha256:" + entry
    store("rm", *ids, check=0)


def test_no_overlay_fallback_runs_and_is_removed(store):
    box = store("create", "busybox", "sh", "-c", "echo copy > /marker; cat /marker; ls /bin/busybox",
                env={"BOXVM_NO_OVERLAY": "1"}, check=0).stdout.decode().strip()
    box_dir = os.path.join(store.root, "boxes", box)
    rootfs = os.path.join(box_dir, "rootfs")
    assert json.load(open(os.path.join(box_dir, "rootfs.json")))["mode"] == "copy"
    assert not mounted(rootfs) and os.path.exists(os.path.join(rootfs, "bin", "busybox"))
    assert not os.path.exists(os.path.join(box_dir, "overlay"))
    # the box boots from its private copy, and writes land in it (not in the shared cache)
    assert store("start", "-a", box, check=0).stdout == b"copy\n/bin/busybox\n"
    assert open(os.path.join(rootfs, "marker")).read() == "copy\n"
    [entry] = cache_entries(store)
    assert not os.path.exists(os.path.join(store.root, "rootfs-cache", entry, "marker"))
    store("rm", box, check=0)
    assert not os.path.exists(box_dir)


def test_zstd_layers_load_and_run(store, tmp_path):
    layout = layout_from_tar(BUSYBOX_TAR, str(tmp_path / "bb"))
    man = json.loads(read_blob(layout, tagged_manifest(layout, "latest")["digest"]))
    cfg = json.loads(read_blob(layout, man["config"]["digest"]))
    base = read_blob(layout, man["layers"][0]["digest"])
    raw = gzip.decompress(base) if base[:2] == b"\x1f\x8b" else base
    zbase = (ocilayout.zstd_compress(raw), cfg["rootfs"]["diff_ids"][0])
    tar = ocilayout.image_tar(str(tmp_path / "z.tar"), [[{"name": "etc/zstd-note", "data": "from a zstd layer\n"}]],
                              config={"Cmd": ["cat", "/etc/zstd-note"]}, name="zbox:latest", base_layers=[zbase],
                              compress="zstd")
    with tarfile.open(tar) as t:
        index = json.load(t.extractfile("index.json"))
        zman = json.load(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
    assert {l["mediaType"] for l in zman["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    store("load", "-i", tar, check=0)
    layers = inspect(store, "zbox")["RootFS"]["Layers"]
    assert len(layers) == 2 and layers[0] == cfg["rootfs"]["diff_ids"][0]
    assert store("run", "--rm", "zbox", check=0).stdout == b"from a zstd layer\n"
