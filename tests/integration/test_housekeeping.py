"""Housekeeping as Docker 20.10 does it: `system df` figures that match what
was created and removed, and the prune commands (`container`, `image`,
`volume`, `system prune`) with Docker's rules for what is unused, their
filters, the confirmation prompt and the "Total reclaimed space" report.

Each test has a store of its own (prune removes everything unused, which
would take the session's shared image away from other tests)."""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import ocilayout
from conftest import BOXVM, BUSYBOX_TAR, Boxvm, _our_processes, unmount_under, until
from registry import Registry, layout_from_tar

MiB = 1 << 20


@pytest.fixture
def store(bx):
    """boxvm with a data and runtime directory of its own, busybox loaded."""
    root = tempfile.mkdtemp(prefix="boxvm-hk-root.")
    run = tempfile.mkdtemp(prefix="bxh.", dir="/tmp")
    b = Boxvm(root, run, dict(bx.env, BOXVM_ROOT=root, BOXVM_RUNTIME_DIR=run))
    b("load", "-i", BUSYBOX_TAR, check=0)
    try:
        yield b
    finally:
        ids = b("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            b("rm", "-f", *[i.decode() for i in ids])
        leaked = _our_processes(root) + _our_processes(run)
        for pid, _ in leaked:  # reported below, but never left running
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        mounts = unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)
        assert not leaked, leaked
        assert not ids, f"boxes left: {ids}"
        assert not mounts, f"rootfs mounts left: {mounts}"


def human(n):
    """go-units HumanSize (4 significant digits, base 1000), as Docker prints sizes here."""
    units = ["B", "kB", "MB", "GB", "TB"]
    v, i = float(n), 0
    while v >= 1000 and i < len(units) - 1:
        v, i = v / 1000, i + 1
    return f"{v:.4g}{units[i]}"


def human3(n):
    """The 3-digit variant (`images`, a box's SIZE in `system df -v`)."""
    units = ["B", "kB", "MB", "GB", "TB"]
    v, i = float(n), 0
    while v >= 1000 and i < len(units) - 1:
        v, i = v / 1000, i + 1
    return f"{v:.3g}{units[i]}"


def bytes_of(text):
    """"3.146MB" or "3.146MB (100%)" -> bytes (as far as the 4 digits tell)."""
    m = re.match(r"([0-9.]+)(B|kB|MB|GB)", text)
    return float(m.group(1)) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)]


def df(b):
    out = b("system", "df", "--format", "json", check=0).stdout.decode()
    return {r["Type"]: r for r in map(json.loads, out.splitlines())}


def ids(b):
    return {line.decode() for line in b("ps", "-aq", "--no-trunc", check=0).stdout.split()}


def box_id(b, name):
    return b("inspect", "-f", "{{.Id}}", name, check=0).stdout.decode().strip()


def total(out):
    m = re.search(r"^Total reclaimed space: (\S+)$", out, re.M)
    assert m, out
    return m.group(1)


def section(out, title):
    """The lines of one "Deleted ...:" section (Docker: the title, one line each, a blank line);
    after a prompt the title follows "[y/N] " on its line, as Docker's does."""
    lines = out.split("\n")
    at = [i for i, line in enumerate(lines) if line == title or line.endswith("[y/N] " + title)]
    if not at:
        return []
    rest = lines[at[0] + 1:]
    return rest[:rest.index("")]


def blob_sizes(b):
    d = os.path.join(b.root, "blobs", "sha256")
    return {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)} if os.path.isdir(d) else {}


def test_df_counts_boxes_and_volumes_and_prune_gives_it_back(store):
    b = store
    first = df(b)
    size = json.loads(b("images", "--format", "json", check=0).stdout)["VirtualSize"]
    assert first["Images"] == {"Type": "Images", "TotalCount": "1", "Active": "0", "Size": human(size),
                               "Reclaimable": f"{human(size)} (100%)"}
    for kind in ("Containers", "Local Volumes", "Build Cache"):
        assert first[kind] == {"Type": kind, "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}
    table = b("system", "df", check=0).stdout.decode().splitlines()
    assert table[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert table[4].split() == ["Build", "Cache", "0", "0", "0B", "0B"]

    # 3 MiB in the box's own root, 1500 KiB in a volume it keeps using
    b("volume", "create", "data", check=0)
    b("run", "--name", "writer", "-v", "data:/d", "busybox", "sh", "-c",
      "dd if=/dev/zero of=/big bs=1M count=3 && dd if=/dev/zero of=/d/file bs=1k count=1500", check=0)
    b("create", "--name", "idle", "busybox", "true", check=0)
    d = df(b)
    box_bytes = bytes_of(d["Containers"]["Size"])
    assert 3 * MiB - 1000 <= box_bytes <= 3 * MiB + 64 * 1024, d
    assert d["Containers"]["TotalCount"] == "2" and d["Containers"]["Active"] == "0"
    assert d["Containers"]["Reclaimable"] == d["Containers"]["Size"] + " (100%)"
    assert d["Local Volumes"] == {"Type": "Local Volumes", "TotalCount": "1", "Active": "1",
                                  "Size": human(1500 * 1024), "Reclaimable": "0B (0%)"}
    assert d["Images"]["Active"] == "1" and d["Images"]["Reclaimable"] == "0B (0%)"

    verbose = b("system", "df", "-v", check=0).stdout.decode()
    rows = {line.split()[-1]: line.split() for line in verbose.split("Containers space usage:")[1]
            .split("Local Volumes")[0].splitlines() if line.strip() and "CONTAINER ID" not in line}
    assert rows["idle"][0] == box_id(b, "idle")[:12] and "0B" in rows["idle"]
    assert human3(box_bytes) in rows["writer"], rows
    assert re.search(r"^data +1 +1\.536MB$", verbose, re.M), verbose
    assert re.search(r"^busybox +latest +[0-9a-f]{12} .* 2$", verbose, re.M), verbose
    assert verbose.rstrip().endswith("Build cache usage: 0B\n\n"
                                     "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED")

    # the prune gives back exactly what df counted, and df drops by it
    writer, idle = box_id(b, "writer"), box_id(b, "idle")
    out = b("container", "prune", "-f", check=0).stdout.decode()
    assert section(out, "Deleted Containers:") == [idle, writer]  # newest first
    assert total(out) == d["Containers"]["Size"]
    after = df(b)
    assert after["Containers"] == {"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B",
                                   "Reclaimable": "0B"}
    assert after["Local Volumes"]["Active"] == "0"
    assert after["Local Volumes"]["Reclaimable"] == human(1500 * 1024) + " (100%)"
    assert after["Images"]["Active"] == "0"

    out = b("volume", "prune", "-f", check=0).stdout.decode()
    assert out == f"Deleted Volumes:\ndata\n\nTotal reclaimed space: {human(1500 * 1024)}\n"
    assert df(b)["Local Volumes"]["TotalCount"] == "0"
    assert b("volume", "ls", "-q", check=0).stdout == b""


def test_container_prune_keeps_running_and_paused_boxes(store):
    b = store
    b("run", "-d", "--name", "up", "busybox", "sleep", "600", check=0)
    b("run", "--name", "done", "busybox", "true", check=0)
    b("create", "--name", "fresh", "busybox", check=0)
    up, done, fresh = box_id(b, "up"), box_id(b, "done"), box_id(b, "fresh")
    out = b("container", "prune", "-f", check=0).stdout.decode()
    assert set(section(out, "Deleted Containers:")) == {done, fresh}
    assert ids(b) == {up}
    assert df(b)["Containers"]["Active"] == "1"

    b("pause", "up", check=0)
    out = b("container", "prune", "-f", check=0).stdout.decode()
    assert out == "Total reclaimed space: 0B\n"
    assert ids(b) == {up}
    b("unpause", "up", check=0)
    b("rm", "-f", "up", check=0)


def _start_has_it(box_dir, pid):
    """The start holds the box's start lock, or has already moved it on from "created"."""
    try:
        ino = os.stat(os.path.join(box_dir, "start.lock")).st_ino
        with open("/proc/locks") as f:
            if any(line.split()[4] == str(pid) and line.split()[5].endswith(f":{ino}") for line in f
                   if "->" not in line):
                return True
        with open(os.path.join(box_dir, "state.json")) as f:
            return json.load(f)["Status"] != "created"
    except (OSError, ValueError, IndexError, KeyError):
        return False


def test_container_prune_leaves_a_box_another_client_is_starting(store):
    b = store
    racer = b("create", "--name", "racer", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    loser = b("create", "--name", "loser", "busybox", "true", check=0).stdout.decode().strip()
    box_dir = os.path.join(b.root, "boxes", racer)
    starter = subprocess.Popen([BOXVM, "start", "racer"], env=b.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        until(lambda: _start_has_it(box_dir, starter.pid) or starter.poll() is not None, "the start to take the box")
        out = b("container", "prune", "-f", check=0).stdout.decode()
    finally:
        starter.communicate(timeout=300)
    assert starter.returncode == 0, starter.stderr
    assert section(out, "Deleted Containers:") == [loser]
    assert ids(b) == {racer}
    assert b("inspect", "-f", "{{.State.Status}}", "racer", check=0).stdout.decode().strip() == "running"
    b("rm", "-f", "racer", check=0)


def test_container_prune_filters(store):
    b = store
    a = b("create", "--label", "tier=web", "--label", "keep", "busybox", check=0).stdout.decode().strip()
    c = b("create", "--label", "tier=db", "busybox", check=0).stdout.decode().strip()
    n = b("create", "busybox", check=0).stdout.decode().strip()
    # until=1h: only what was created more than an hour ago, so nothing here
    assert b("container", "prune", "-f", "--filter", "until=1h", check=0).stdout == b"Total reclaimed space: 0B\n"
    assert ids(b) == {a, c, n}
    out = b("container", "prune", "-f", "--filter", "label=tier=db", check=0).stdout.decode()
    assert section(out, "Deleted Containers:") == [c]
    # label!=: every box without the label (no labels at all included)
    out = b("container", "prune", "-f", "--filter", "label!=keep", check=0).stdout.decode()
    assert section(out, "Deleted Containers:") == [n]
    # an until= ahead of now lets every box go
    out = b("container", "prune", "-f", "--filter", "until=-1m", "--filter", "label=tier", check=0).stdout.decode()
    assert section(out, "Deleted Containers:") == [a]
    assert ids(b) == set()


def test_prompts_and_a_no(store):
    b = store
    box = b("create", "busybox", check=0).stdout.decode().strip()
    b("volume", "create", "v1", check=0)
    warn = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
    # "n", an empty line, "yes" (only y or Y is yes) and no input at all (stdin not a terminal): nothing goes
    for answer in (b"n\n", b"\n", b"yes\n", b""):
        p = b("container", "prune", input=answer, check=0)
        assert p.stdout.decode() == warn + "Total reclaimed space: 0B\n", answer
    assert ids(b) == {box}
    p = b("volume", "prune", input=b"N\n", check=0)
    assert p.stdout.decode() == ("WARNING! This will remove all local volumes not used by at least one container.\n"
                                 "Are you sure you want to continue? [y/N] Total reclaimed space: 0B\n")
    p = b("image", "prune", "-a", input=b"", check=0)
    assert p.stdout.decode().startswith("WARNING! This will remove all images without at least one container "
                                        "associated to them.\nAre you sure you want to continue? [y/N] ")
    assert b("image", "prune", input=b"", check=0).stdout.decode().startswith(
        "WARNING! This will remove all dangling images.\n")
    p = b("system", "prune", "--volumes", "--filter", "label!=x", input=b"n\n", check=0)
    assert p.stdout.decode() == ("WARNING! This will remove:\n  - all stopped containers\n"
                                 "  - all networks not used by at least one container\n"
                                 "  - all volumes not used by at least one container\n"
                                 "  - all dangling images\n  - all dangling build cache\n\n"
                                 "  Items to be pruned will be filtered with:\n  - label!=x\n\n"
                                 "Are you sure you want to continue? [y/N] ")
    assert ids(b) == {box} and b("volume", "ls", "-q", check=0).stdout == b"v1\n"
    assert len(b("images", "-q", check=0).stdout.split()) == 1
    # "y" (or "Y") goes ahead
    p = b("container", "prune", input=b"y\n", check=0)
    assert section(p.stdout.decode(), "Deleted Containers:") == [box]
    p = b("volume", "prune", input=b"Y\n", check=0)
    assert section(p.stdout.decode(), "Deleted Volumes:") == ["v1"]


def test_bad_filters(store):
    b = store
    for args, code, msg in [
        (["container", "prune", "-f", "--filter", "foo=bar"], 1, "invalid filter 'foo'"),
        (["container", "prune", "-f", "--filter", "dangling=true"], 1, "invalid filter 'dangling'"),
        (["container", "prune", "-f", "--filter", "label"], 125, "bad format of filter (expected name=value)"),
        (["container", "prune", "-f", "--filter", "until=garbage"], 1,
         'failed to parse value as time or duration: "garbage"'),
        (["container", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h"], 1,
         "more than one until filter specified"),
        (["image", "prune", "-f", "--filter", "foo=bar"], 1, "invalid filter 'foo'"),
        (["image", "prune", "-f", "--filter", "dangling=maybe"], 1, "dangling=maybe"),
        (["volume", "prune", "-f", "--filter", "until=1h"], 1, "invalid filter 'until'"),
        (["system", "prune", "-f", "--filter", "foo=bar"], 1, "invalid filter 'foo'"),
        (["system", "prune", "-f", "--volumes", "--filter", "until=1h"], 1,
         'the "until" filter is not supported with "--volumes"'),
        (["container", "prune", "extra"], 1, "accepts no arguments"),
        (["system", "df", "-v", "--format", "{{.Type}}"], 1, "--format is not supported with -v"),
    ]:
        box = b("create", "busybox", check=0).stdout.decode().strip()
        p = b(*args, input=b"y\n", check=code)
        err = p.stderr.decode()
        assert err.startswith("boxvm: ") and msg in err and err.count("\n") == 1, (args, err)
        assert p.stdout == b"", (args, p.stdout)
        assert ids(b) == {box}, args  # nothing was removed
        b("rm", box, check=0)


def _image(work, name, layers, base=(), labels=None, created=None):
    path = str(work / (name.replace(":", "_").replace("/", "_") + ".tar"))
    return ocilayout.image_tar(path, layers, config={"Labels": labels} if labels else None, name=name,
                               base_layers=base, created=created)


@pytest.fixture(scope="module")
def reg():
    r = Registry()
    try:
        yield r
    finally:
        r.stop()


def test_image_prune_dangling_then_all(store, reg, tmp_path):
    b = store
    bb = layout_from_tar(BUSYBOX_TAR, str(tmp_path / "busybox"))
    man = json.loads(open(os.path.join(bb, "index.json")).read())["manifests"][0]
    man = json.loads(open(os.path.join(bb, "blobs", "sha256", man["digest"].split(":")[1])).read())
    layer = man["layers"][0]["digest"].split(":")[1]
    base = [(open(os.path.join(bb, "blobs", "sha256", layer), "rb").read(),
             json.loads(open(os.path.join(bb, "blobs", "sha256", man["config"]["digest"].split(":")[1])).read())
             ["rootfs"]["diff_ids"][0])]
    # two tagged images over busybox's layer (shared), one of them labelled and old
    b("load", "-i", _image(tmp_path, "extra:1", [[{"name": "x", "data": os.urandom(200000)}]], base,
                           created="2024-01-01T00:00:00Z"), check=0)
    b("load", "-i", _image(tmp_path, "labeled:1", [[{"name": "y", "data": os.urandom(300000)}]], base,
                           labels={"keep": "yes"}, created="2020-01-01T00:00:00Z"), check=0)
    # a tag that moves to another image leaves the first one's blobs, named by nothing
    s1 = blob_sizes(b)
    b("load", "-i", _image(tmp_path, "moved:1", [[{"name": "a", "data": os.urandom(250000)}]]), check=0)
    moved_a = set(blob_sizes(b)) - set(s1)
    b("load", "-i", _image(tmp_path, "moved:1", [[{"name": "b", "data": os.urandom(100000)}]],
                           created="2024-01-01T00:00:00Z"), check=0)
    # a dangling image: pulled by digest, so it has no tag
    _image(tmp_path, "dang:1", [[{"name": "d", "data": os.urandom(400000)}]])
    reg.push(layout_from_tar(str(tmp_path / "dang_1.tar"), str(tmp_path / "dang")), "1", "dang:1")
    digest, dman = reg.manifest_digest("dang", "1")
    s3 = blob_sizes(b)
    b("pull", "-q", f"{reg.host}/dang@{digest}", check=0)
    s4 = blob_sizes(b)
    dang = set(s4) - set(s3)
    box = b("create", "busybox", check=0).stdout.decode().strip()

    d = df(b)
    assert d["Images"]["TotalCount"] == "5" and d["Images"]["Active"] == "1"
    verbose = b("system", "df", "-v", check=0).stdout.decode()
    assert re.search(r"^<none> +<none> +[0-9a-f]{12} ", verbose, re.M), verbose
    shared = human(os.path.getsize(os.path.join(b.root, "blobs", "sha256", layer)))
    assert re.search(rf"^labeled +1 .* {re.escape(shared)} +[0-9.]+kB +0$", verbose, re.M), verbose

    # dangling only: the untagged image, and the moved tag's leftovers; tagged ones stay
    out = b("image", "prune", "-f", check=0).stdout.decode()
    assert section(out, "Deleted Images:") == [f"untagged: {reg.host}/dang@{digest}",
                                               f"deleted: {dman['config']['digest']}"]
    gone = set(s4) - set(blob_sizes(b))
    assert gone == dang | (moved_a & set(s4)) and moved_a & set(s4)
    # reclaimed: every blob gone but the removed image's own config and manifest, which df does not count
    listed = {dman["config"]["digest"].split(":")[1], digest.split(":")[1]}
    assert total(out) == human(sum(s4[k] for k in gone - listed))
    after = df(b)
    assert after["Images"]["TotalCount"] == "4"
    assert abs(bytes_of(d["Images"]["Size"]) - bytes_of(after["Images"]["Size"]) - bytes_of(total(out))) <= 3000
    assert {r.decode() for r in b("images", "--format", "{{.Repository}}", check=0).stdout.split()} == \
        {"busybox", "extra", "labeled", "moved"}

    # -a with filters: until= (only the image created in 2020), then label!=
    out = b("image", "prune", "-a", "-f", "--filter", "until=2021-01-01T00:00:00Z", check=0).stdout.decode()
    assert section(out, "Deleted Images:")[0] == "untagged: labeled:1"
    out = b("image", "prune", "-f", "--filter", "dangling=false", "--filter", "label!=keep", check=0).stdout.decode()
    assert sorted(section(out, "Deleted Images:"))[-2:] == ["untagged: extra:1", "untagged: moved:1"]
    # the image a box uses stays, with -a too; once the box is gone, it goes
    assert {r.decode() for r in b("images", "--format", "{{.Repository}}", check=0).stdout.split()} == {"busybox"}
    b("rm", box, check=0)
    out = b("image", "prune", "-a", "-f", check=0).stdout.decode()
    assert section(out, "Deleted Images:")[0] == "untagged: busybox:latest"
    assert b("images", "-q", check=0).stdout == b""
    assert df(b)["Images"] == {"Type": "Images", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}


def test_system_prune_with_and_without_volumes(store):
    b = store
    b("volume", "create", "unused", check=0)
    with open(os.path.join(b.root, "volumes", "unused", "_data", "f"), "wb") as f:
        f.write(b"x" * 4000)
    b("volume", "create", "held", check=0)
    holder = b("create", "-v", "held:/h", "busybox", check=0).stdout.decode().strip()
    out = b("system", "prune", "-f", check=0).stdout.decode()
    assert out == f"Deleted Containers:\n{holder}\n\nTotal reclaimed space: 0B\n"  # busybox is tagged: it stays
    assert sorted(b("volume", "ls", "-q", check=0).stdout.split()) == [b"held", b"unused"]
    assert len(b("images", "-q", check=0).stdout.split()) == 1

    box = b("create", "-v", "held:/h", "busybox", check=0).stdout.decode().strip()
    out = b("system", "prune", "-f", "--volumes", check=0).stdout.decode()
    # the box goes first, so the volume it held is unused by the time volumes are pruned
    assert out == f"Deleted Containers:\n{box}\n\nDeleted Volumes:\nheld\nunused\n\nTotal reclaimed space: 4kB\n"
    assert b("volume", "ls", "-q", check=0).stdout == b""

    size = json.loads(b("images", "--format", "json", check=0).stdout)["VirtualSize"]
    out = b("system", "prune", "-a", "-f", "--volumes", check=0).stdout.decode()
    assert section(out, "Deleted Images:")[0] == "untagged: busybox:latest"
    assert total(out) == human(size)
    assert b("images", "-q", check=0).stdout == b""
