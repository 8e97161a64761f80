"""The build cache (issue 15) as Docker 20.10 shows and clears it: `system df`'s
Build Cache row and -v table, `builder prune [-a] [--filter until=]`,
`system prune`, POST /build/prune through the docker CLI, and image prune
keeping a tagged build's steps; and ADD of a URL, fetched by the host with
Docker's rules. No step here RUNs: no VM boots. The module has a store of its
own: the prunes here must not touch the other modules' images and boxes."""
import email.utils
import gzip
import http.server
import io
import json
import os
import shutil
import tarfile
import tempfile
import threading

import pytest

from apisvc import api  # noqa: F401 (the Engine API service on this module's store)
from conftest import BUSYBOX_TAR, KERNEL_DIR, Boxvm
from test_build import layer_of  # the top layer of an image, read from the store

LAST_MODIFIED = 1700000000  # 2023-11-14T22:13:20Z


@pytest.fixture(scope="module")
def bx():
    """A store of the module's own with busybox loaded (overrides conftest's)."""
    root = tempfile.mkdtemp(prefix="boxvm-test-bcache.")
    run = tempfile.mkdtemp(prefix="bxc.", dir="/tmp")
    env = dict(os.environ, BOXVM_ROOT=root, BOXVM_RUNTIME_DIR=run, BOXVM_KERNEL_DIR=KERNEL_DIR,
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
    b = Boxvm(root, run, env)
    b("load", "-i", BUSYBOX_TAR, check=0)
    yield b
    boxes = os.listdir(os.path.join(root, "boxes")) if os.path.isdir(os.path.join(root, "boxes")) else []
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)
    assert not boxes, boxes


def out(p):
    return p.stdout.decode()


def build(bx, ctx, dockerfile, *flags, check=0):
    return bx("build", *flags, "-f", "-", str(ctx), input=dockerfile.encode(), check=check)


def df_cache_row(bx):
    row = [line for line in out(bx("system", "df", check=0)).splitlines() if line.startswith("Build Cache")]
    return row[0].split()[2:]  # TOTAL ACTIVE SIZE RECLAIMABLE...


def df_cache_table(bx):
    text = out(bx("system", "df", "-v", check=0))
    lines = text[text.index("Build cache usage:"):].splitlines()
    assert lines[2].split() == ["CACHE", "ID", "CACHE", "TYPE", "SIZE", "CREATED", "LAST", "USED", "USAGE", "SHARED"]
    return lines[0], [line.split() for line in lines[3:] if line.strip()]


def entries(bx):
    d = os.path.join(bx.root, "buildcache")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def all_images(bx):
    return out(bx("images", "-aq", "--no-trunc", check=0)).split()


DF = "FROM busybox\nENV A=1\nCOPY f /f\n"


@pytest.fixture
def ctx(tmp_path):
    (tmp_path / "f").write_text("one\n")
    return tmp_path


def other(ctx, text):
    """Another context with f holding text (the file's mtime is in a COPY's digest: ctx stays as it was)."""
    d = ctx / ("other-" + text.strip())
    d.mkdir()
    (d / "f").write_text(text)
    return d


def test_cache_in_df_and_builder_prune(bx, ctx):
    bx("builder", "prune", "-af", check=0)
    build(bx, ctx, DF, "-t", "bc:1")
    # a tagged build's steps are shared with its image: counted, their bytes are the image's
    assert df_cache_row(bx)[:4] == ["2", "0", "0B", "0B"]
    head, rows = df_cache_table(bx)
    assert head == "Build cache usage: 0B"
    assert [(r[1], r[-2], r[-1]) for r in rows] == [("regular", "1", "true")] * 2
    assert "Using cache" in out(build(bx, ctx, DF, "-t", "bc:1"))
    assert sorted(r[-2] for r in df_cache_table(bx)[1]) == ["2", "2"]  # USAGE: the build and the hit
    # an untagged build on changed sources: its COPY step is kept by the cache alone
    loose = out(build(bx, other(ctx, "two\n"), DF, "-q")).strip()
    before = set(entries(bx))
    row = df_cache_row(bx)
    assert row[:2] == ["3", "0"] and row[2] != "0B" and row[3] == row[2] and row[4] == "(100%)"
    _, rows = df_cache_table(bx)
    unshared = [r for r in rows if r[-1] == "false"]
    assert len(unshared) == 1 and unshared[0][2] != "0B"
    # "no" removes nothing and still says the total, as Docker's
    p = bx("builder", "prune", input=b"n\n", check=0)
    assert out(p) == ("WARNING! This will remove all dangling build cache. Are you sure you want to continue? "
                      "[y/N] Total reclaimed space: 0B\n")
    assert set(entries(bx)) == before
    text = out(bx("builder", "prune", "-f", check=0)).splitlines()
    assert text[0] == "Deleted build cache objects:" and text[2] == "" and text[3].startswith("Total reclaimed space: ")
    assert text[3] != "Total reclaimed space: 0B" and text[1].startswith(unshared[0][0])
    assert set(entries(bx)) == before - {text[1]}
    assert loose not in all_images(bx)  # the image only that entry kept went with it
    # the tagged build is whole: every step still hits
    assert out(build(bx, ctx, DF, "-t", "bc:1")).count("Using cache") == 2
    # -a: every entry (the images a tag keeps stay, without a cache to find them)
    p = bx("builder", "prune", "-a", input=b"y\n", check=0)
    assert out(p).startswith("WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] ")
    assert entries(bx) == [] and df_cache_row(bx)[:4] == ["0", "0", "0B", "0B"]
    assert bx("image", "inspect", "bc:1").returncode == 0
    assert "Using cache" not in out(build(bx, ctx, DF, "-t", "bc:1"))
    bx("rmi", "bc:1", check=0)


def test_builder_prune_filters(bx, ctx):
    build(bx, ctx, DF)
    n = len(entries(bx))
    assert n >= 2
    # until= counts from LAST USED: nothing here was used an hour ago
    assert out(bx("builder", "prune", "-af", "--filter", "until=1h", check=0)) == "Total reclaimed space: 0B\n"
    assert len(entries(bx)) == n
    p = bx("builder", "prune", "-f", "--filter", "label=a")
    assert p.returncode != 0 and p.stderr.decode().count("\n") == 1
    assert len(entries(bx)) == n
    bx("builder", "prune", "-af", check=0)
    assert entries(bx) == []


def test_system_prune_clears_the_cache(bx, ctx):
    (ctx / "f").write_text("system\n")
    loose = out(build(bx, ctx, DF, "-q")).strip()
    p = bx("system", "prune", input=b"n\n", check=0)
    assert "  - all dangling images\n  - all dangling build cache\n" in out(p)
    p = bx("system", "prune", "-a", input=b"n\n", check=0)
    assert "  - all images without at least one container associated to them\n  - all build cache\n" in out(p)
    assert loose in all_images(bx)
    text = out(bx("system", "prune", "-f", check=0))
    assert "\nDeleted build cache objects:\n" in text or text.startswith("Deleted build cache objects:\n")
    assert loose not in all_images(bx) and entries(bx) == []


def test_image_prune_keeps_a_tagged_builds_steps(bx, ctx):
    """Docker's dangling images are untagged leaves (and the untagged parents
    only they need): a tagged build's intermediate images, the cache's, stay."""
    build(bx, ctx, DF, "-t", "bc:keep")
    steps = set(all_images(bx))
    loose = out(build(bx, other(ctx, "leaf\n"), DF, "-q")).strip()
    out(bx("image", "prune", "-f", check=0))
    left = set(all_images(bx))
    assert loose not in left and steps <= left
    assert out(build(bx, ctx, DF, "-t", "bc:keep")).count("Using cache") == 2
    bx("rmi", "bc:keep", check=0)
    bx("builder", "prune", "-af", check=0)


def test_build_prune_through_the_engine_api(bx, api, ctx):  # noqa: F811
    (ctx / "f").write_text("api\n")
    build(bx, ctx, DF, "-q")
    keys = set(entries(bx))
    r = api("builder", "prune", "-f", check=0)
    lines = r.stdout.splitlines()
    assert lines[0] == "Deleted build cache objects:" and lines[-1].startswith("Total reclaimed space: ")
    assert set(lines[1:-2]) <= keys and lines[1:-2]
    status, _, body = api.raw("POST", "/v1.41/build/prune?all=1")
    assert status == 200
    doc = json.loads(body)
    assert set(doc) == {"CachesDeleted", "SpaceReclaimed"} and entries(bx) == []
    status, _, body = api.raw("POST", "/v1.41/build/prune")
    assert status == 200 and json.loads(body) == {"CachesDeleted": None, "SpaceReclaimed": 0}
    status, _, _ = api.raw("GET", "/v1.41/build/prune")
    assert status == 405


# ---- ADD URL ----

class Served:
    """What the test's HTTP server answers (changed by the tests)."""
    files = {}
    requests = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        Served.requests.append(self.path)
        if self.path == "/big":  # says more than boxvm takes, sends little
            self.send_response(200)
            self.send_header("Content-Length", str(2 << 30))
            self.end_headers()
            self.wfile.write(b"x" * 1024)
            return
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = Served.files.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404, "File not found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", email.utils.formatdate(LAST_MODIFIED, usegmt=True))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def web():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


def targz(name, data):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def test_add_url_is_fetched_with_dockers_rules(bx, web, tmp_path):
    Served.files = {"/dir/file.txt": b"remote file\n", "/a.tar.gz": targz("in.txt", b"x\n")}
    Served.requests = []
    steps = {f"ADD --chown=7:8 {web}/dir/file.txt /x/": ("x/file.txt", 7, 8, b"remote file\n"),
             f"ADD {web}/dir/file.txt?v=1 /named": ("named", 0, 0, b"remote file\n"),
             f"ADD {web}/a.tar.gz /t/": ("t/a.tar.gz", 0, 0, Served.files["/a.tar.gz"])}  # never unpacked
    for step, (member, uid, gid, data) in steps.items():
        build(bx, tmp_path, f"FROM busybox\n{step}\n", "-q", "-t", "bu:1")
        with layer_of(bx, "bu:1") as t:
            m = t.getmember(member)
            assert m.isfile() and m.mode == 0o600 and (m.uid, m.gid) == (uid, gid), step
            assert m.mtime == LAST_MODIFIED and t.extractfile(m).read() == data, step
    assert "/dir/file.txt?v=1" in Served.requests
    # the content is in the step's cache key: the same file hits, a changed one runs the step again
    df = f"FROM busybox\nADD {web}/dir/file.txt /x/\n"
    build(bx, tmp_path, df, "-t", "bu:1")
    assert "Using cache" in out(build(bx, tmp_path, df, "-t", "bu:1"))
    Served.files["/dir/file.txt"] = b"changed\n"
    assert "Using cache" not in out(build(bx, tmp_path, df, "-t", "bu:1"))
    with layer_of(bx, "bu:1") as t:
        assert t.extractfile("x/file.txt").read() == b"changed\n"
    bx("rmi", "bu:1", check=0)


def test_add_url_failures_leave_nothing(bx, web, tmp_path):
    Served.files = {"/dir/file.txt": b"remote file\n"}
    images = set(all_images(bx))
    cases = {f"ADD {web}/nope.txt /x/": f"ADD failed: failed to GET {web}/nope.txt with status 404 File not found",
             f"COPY {web}/dir/file.txt /x/": "COPY failed: source can't be a URL for COPY",
             f"ADD {web}/ /x/": f"ADD failed: cannot determine filename for source {web}/",
             f"ADD {web}/big /x/": f"ADD failed: failed to GET {web}/big: the file is larger than",
             f"ADD {web}/loop /x/": f"ADD failed: failed to GET {web}/loop: stopped after 10 redirects"}
    for step, why in cases.items():
        p = build(bx, tmp_path, f"FROM busybox\n{step}\n", check=1)
        err = p.stderr.decode()
        assert err.count("\n") == 1 and why in err and err.startswith("boxvm: Dockerfile line 2: "), (step, err)
    # no staging tree, no image, no box
    assert os.listdir(os.path.join(bx.root, "buildtmp")) == []
    assert set(all_images(bx)) == images
    assert out(bx("ps", "-aq", check=0)) == ""


def test_a_fresh_store(bx, ctx, tmp_path):
    """The cache's lock lives in DATA: a store that has nothing yet builds and prunes."""
    for i, args in enumerate((("builder", "prune", "-f"), ("build", "-q", str(ctx)))):
        env = {"BOXVM_ROOT": str(tmp_path / ("fresh%d" % i))}
        if args[0] == "build":
            (ctx / "Dockerfile").write_text("FROM scratch\nCOPY f /f\n")
        p = bx(*args, env=env, check=0)
        assert out(p).startswith("Total reclaimed space: 0B" if args[0] == "builder" else "sha256:")
