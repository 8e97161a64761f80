"""boxvm pull/login/images/run --pull against a real registry (Debian's
docker-registry on 127.0.0.1, images pushed with skopeo; see registry.py).

Store-state tests use a fresh BOXVM_ROOT each so "nothing changed" is exact.
Only two tests boot VMs (a pulled image runs; layer whiteouts)."""
import hashlib
import json
import os
import signal
import stat
import subprocess
import tempfile
import time

import pytest

import ocilayout
from conftest import BOXVM, BUSYBOX_TAR, Boxvm, unmount_under
from registry import (Registry, TokenAuthFront, add_multiarch_index, layout_from_tar, read_blob,
                      tagged_manifest)


def _busybox_base(layout):
    """(blob, diff_id) of the busybox layer, to build images on top of it."""
    man = json.loads(read_blob(layout, tagged_manifest(layout, "latest")["digest"]))
    cfg = json.loads(read_blob(layout, man["config"]["digest"]))
    return read_blob(layout, man["layers"][0]["digest"]), cfg["rootfs"]["diff_ids"][0]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    r = Registry()
    try:
        work = tmp_path_factory.mktemp("layouts")
        bb = layout_from_tar(BUSYBOX_TAR, str(work / "busybox"))
        r.push(bb, "latest", "busybox:latest")
        r.push(bb, "latest", "v2s2/busybox:latest", fmt="v2s2")
        r.multi_digest = add_multiarch_index(bb, "multi", "latest")
        r.push(bb, "multi", "multi:latest", multi_arch=True)
        base = [_busybox_base(bb)]

        # whiteouts: layer 1 makes /data/{keep,gone} and /opq/old; layer 2 deletes
        # /data/gone and makes /opq opaque (adding /opq/new)
        ocilayout.image_tar(str(work / "wh.tar"), base_layers=base, layers=[
            [{"name": "data", "type": "dir"}, {"name": "data/keep", "data": "k"}, {"name": "data/gone", "data": "g"},
             {"name": "opq", "type": "dir"}, {"name": "opq/old", "data": "o"}],
            [{"name": "data/.wh.gone"}, {"name": "opq", "type": "dir"}, {"name": "opq/.wh..wh..opq"},
             {"name": "opq/new", "data": "n"}]])
        r.push(layout_from_tar(str(work / "wh.tar"), str(work / "wh")), "latest", "whiteouts:latest")

        # a layer that tries to climb out of the root, directly and through a symlink
        ocilayout.image_tar(str(work / "evil.tar"), base_layers=base, layers=[
            [{"name": "../../escaped", "data": "x"}, {"name": "link", "type": "symlink", "target": "/tmp"},
             {"name": "link/escaped-through-link", "data": "x"}]])
        r.push(layout_from_tar(str(work / "evil.tar"), str(work / "evil")), "latest", "evil:latest")

        # a few MB of incompressible data, for interrupted and concurrent pulls
        ocilayout.image_tar(str(work / "big.tar"), base_layers=base, layers=[
            [{"name": "big.bin", "data": os.urandom(6 << 20)}]])
        r.push(layout_from_tar(str(work / "big.tar"), str(work / "big")), "latest", "big:latest")

        # tampered: pushed intact, then its own layer is changed in the registry's storage
        ocilayout.image_tar(str(work / "bad.tar"), base_layers=base, layers=[[{"name": "f", "data": "original"}]])
        r.push(layout_from_tar(str(work / "bad.tar"), str(work / "bad")), "latest", "tampered:latest")
        _, man = r.manifest_digest("tampered", "latest")
        r.tampered_layer = man["layers"][-1]["digest"]
        path = r.blob_file(r.tampered_layer)
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(path, "wb").write(bytes(data))
        yield r
    finally:
        r.stop()


@pytest.fixture
def fresh(bx):
    """boxvm with an empty store of its own (the runtime dir and kernel are shared)."""
    root = tempfile.mkdtemp(prefix="boxvm-pull-root.")
    env = dict(bx.env, BOXVM_ROOT=root)
    yield Boxvm(root, bx.run_dir, env)
    leaked = unmount_under(root)
    subprocess.run(["rm", "-rf", root])
    assert not leaked, f"leaked rootfs mounts: {leaked}"


def store_state(b):
    """Everything a pull may change: blobs in the store and the image index."""
    blobs_dir = os.path.join(b.root, "blobs", "sha256")
    blobs = sorted(os.listdir(blobs_dir)) if os.path.isdir(blobs_dir) else []
    idx = os.path.join(b.root, "images.json")
    return blobs, open(idx).read() if os.path.exists(idx) else None


def images_json(b):
    p = b("images", "--format", "json", check=0)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def test_pull_by_tag_and_by_digest(fresh, reg):
    p = fresh("pull", f"{reg.host}/busybox:latest", check=0)
    out = p.stdout.decode()
    assert "latest: Pulling from busybox" in out and "Pull complete" in out
    digest, _ = reg.manifest_digest("busybox", "latest")
    assert f"Digest: {digest}" in out
    assert out.strip().endswith(f"{reg.host}/busybox:latest")
    # every stored blob is exactly its digest
    for name in os.listdir(os.path.join(fresh.root, "blobs", "sha256")):
        with open(os.path.join(fresh.root, "blobs", "sha256", name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name

    again = fresh("pull", f"{reg.host}/busybox", check=0).stdout.decode()
    assert "Using default tag: latest" in again and "Already exists" in again and "Image is up to date" in again

    by_digest = fresh("pull", f"{reg.host}/busybox@{digest}", check=0).stdout.decode()
    assert by_digest.strip().endswith(f"{reg.host}/busybox@{digest}")
    rows = images_json(fresh)
    assert [(r["Repository"], r["Tag"], r["Digest"]) for r in rows] == [(f"{reg.host}/busybox", "latest", digest)]
    assert fresh("images", "-q", check=0).stdout.decode().split() == [rows[0]["ID"]]
    assert digest in fresh("images", "--digests", check=0).stdout.decode()


def test_pull_v2s2_and_oci_give_the_same_image(fresh, reg):
    fresh("pull", f"{reg.host}/busybox", check=0)
    fresh("pull", f"{reg.host}/v2s2/busybox", check=0)
    _, man = reg.manifest_digest("v2s2/busybox", "latest")
    assert man["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    ids = {r["Repository"]: r["ID"] for r in images_json(fresh)}
    assert ids[f"{reg.host}/busybox"] == ids[f"{reg.host}/v2s2/busybox"]  # same config blob


def test_index_platform_selection(fresh, reg):
    out = fresh("pull", f"{reg.host}/multi", check=0).stdout.decode()
    assert f"Digest: {reg.multi_digest}" in out
    amd64 = images_json(fresh)[0]["ID"]
    fresh("pull", "--platform", "linux/arm64", f"{reg.host}/multi:latest", check=0)
    arm64 = images_json(fresh)[0]["ID"]
    assert arm64 != amd64  # the tag moved to the arm64 manifest

    before = store_state(fresh)
    p = fresh("pull", "--platform", "linux/s390x", f"{reg.host}/multi", check=1)
    err = p.stderr.decode()
    assert "no matching manifest for linux/s390x" in err and "linux/amd64" in err and "linux/arm64" in err
    assert store_state(fresh) == before
    fresh("pull", "--platform", "linux//", f"{reg.host}/multi", check=1)


def test_missing_image_and_bad_reference(fresh, reg):
    p = fresh("pull", f"{reg.host}/nope:1", check=1)
    assert "manifest for" in p.stderr.decode() and "not found" in p.stderr.decode()
    p = fresh("pull", f"{reg.host}/Busybox", check=1)
    assert "must be lowercase" in p.stderr.decode()
    assert store_state(fresh) == ([], None)


def test_tampered_blob_is_rejected_and_nothing_is_stored(fresh, reg):
    before = store_state(fresh)
    p = fresh("pull", f"{reg.host}/tampered", check=1)
    err = p.stderr.decode()
    assert reg.tampered_layer in err and "failed verification" in err, err
    assert store_state(fresh) == before
    incoming = os.path.join(fresh.root, "blobs", "incoming")
    assert not [f for f in os.listdir(incoming) if reg.tampered_layer[7:] in f]


def test_token_auth_and_login(fresh, reg):
    front = TokenAuthFront(reg)
    try:
        p = fresh("pull", f"{front.host}/busybox", check=1)
        assert "unauthorized" in p.stderr.decode() and "boxvm login" in p.stderr.decode()
        assert store_state(fresh) == ([], None)

        p = fresh("login", "-u", "alice", "--password-stdin", front.host, input=b"wrong\n", check=1)
        assert "wrong" not in (p.stdout + p.stderr).decode()
        assert not os.path.exists(os.path.join(fresh.root, "auth.json"))

        p = fresh("login", "-u", "alice", "--password-stdin", front.host, input=b"s3cret-pw\n", check=0)
        assert "Login Succeeded" in p.stdout.decode() and "s3cret-pw" not in (p.stdout + p.stderr).decode()
        auth = os.path.join(fresh.root, "auth.json")
        assert stat.S_IMODE(os.stat(auth).st_mode) == 0o600

        p = fresh("pull", f"{front.host}/busybox", check=0)
        assert "s3cret-pw" not in (p.stdout + p.stderr).decode()
        assert any(a.startswith("Bearer ") for _, path, a, _ in front.requests if "/manifests/" in path)
        # blobs went through a redirect to the backend (the front never streamed them)
        assert any("/blobs/" in path for _, path, _, _ in front.requests)

        assert "Removing login credentials" in fresh("logout", front.host, check=0).stdout.decode()
        assert "Not logged in" in fresh("logout", front.host, check=0).stdout.decode()
        fresh("pull", f"{front.host}/busybox", check=1)
    finally:
        front.stop()


def pull_resumes(fresh, slow, incoming):
    """The next pull asks for the rest of the staged blob (an HTTP Range from
    past its start), completes, and leaves nothing in incoming."""
    slow.requests.clear()
    fresh("pull", f"{slow.host}/big", check=0)
    assert any(rng.startswith("bytes=") and not rng.startswith("bytes=0-")
               for _, path, _, rng in slow.requests if "/blobs/" in path), slow.requests
    assert [r["Repository"] for r in images_json(fresh)] == [f"{slow.host}/big"]
    assert not [f for f in os.listdir(incoming) if f.endswith(".partial")]


def test_pull_killed_midway_then_retried(fresh, reg):
    slow = TokenAuthFront(reg, auth=False, rate=1 << 20)  # the 6 MB layer takes ~6 s
    try:
        before = store_state(fresh)
        proc = subprocess.Popen([BOXVM, "pull", f"{slow.host}/big"], env=fresh.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        incoming = os.path.join(fresh.root, "blobs", "incoming")
        deadline = time.monotonic() + 120  # hang guard
        while True:
            parts = [f for f in os.listdir(incoming)] if os.path.isdir(incoming) else []
            parts = [f for f in parts if f.endswith(".partial")]
            if parts and os.path.getsize(os.path.join(incoming, parts[0])) > (1 << 20):
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the pull ended before it could be killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert store_state(fresh) == before  # nothing half-written entered the store

        pull_resumes(fresh, slow, incoming)
    finally:
        slow.stop()


def test_pull_crashed_midway_then_retried(fresh, reg):
    """BOXVM_TEST_CRASH_AT=pull.blob: the pull dies (SIGKILL) right after part
    of a blob is staged; nothing enters the store, and the next pull resumes
    that blob (a Range request) and completes."""
    slow = TokenAuthFront(reg, auth=False)
    try:
        before = store_state(fresh)
        p = fresh("pull", f"{slow.host}/big", env={"BOXVM_TEST_CRASH_AT": "pull.blob"})
        assert p.returncode == -signal.SIGKILL, p
        assert store_state(fresh) == before
        incoming = os.path.join(fresh.root, "blobs", "incoming")
        assert [f for f in os.listdir(incoming) if f.endswith(".partial")]
        pull_resumes(fresh, slow, incoming)
    finally:
        slow.stop()


def test_load_crashed_midway(fresh):
    """BOXVM_TEST_CRASH_AT=load.blob: the load dies with a blob half-copied
    to a temp file; nothing enters the store, the next command removes the
    temp (and a stdin spool), and the load then works."""
    before = store_state(fresh)
    p = fresh("load", "-i", BUSYBOX_TAR, env={"BOXVM_TEST_CRASH_AT": "load.blob"})
    assert p.returncode == -signal.SIGKILL, p
    with open(BUSYBOX_TAR, "rb") as f:
        p = fresh("load", input=f.read(), env={"BOXVM_TEST_CRASH_AT": "load.blob"})
    assert p.returncode == -signal.SIGKILL, p
    assert store_state(fresh) == before
    tmp = os.path.join(fresh.root, "blobs", "tmp")
    assert os.listdir(tmp) and [f for f in os.listdir(fresh.root) if f.startswith("load-stdin.")]
    fresh("ps", "-a", check=0)
    assert os.listdir(tmp) == [] and not [f for f in os.listdir(fresh.root) if f.startswith("load-stdin.")]
    fresh("load", "-i", BUSYBOX_TAR, check=0)
    assert [r["Repository"] for r in images_json(fresh)] == ["busybox"]


def test_two_concurrent_pulls(fresh, reg):
    procs = [subprocess.Popen([BOXVM, "pull", f"{reg.host}/big"], env=fresh.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    for name in os.listdir(os.path.join(fresh.root, "blobs", "sha256")):
        with open(os.path.join(fresh.root, "blobs", "sha256", name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name
    assert [r["Repository"] for r in images_json(fresh)] == [f"{reg.host}/big"]


def test_run_pull_never_and_bad_policy(fresh, reg):
    p = fresh("run", "--rm", "--pull", "never", f"{reg.host}/busybox", "true", check=125)
    assert "no such image" in p.stderr.decode() and "--pull=never" in p.stderr.decode()
    fresh("run", "--rm", "--pull", "sometimes", f"{reg.host}/busybox", "true", check=125)
    assert store_state(fresh) == ([], None)


def test_malicious_layer_is_refused(fresh, reg):
    fresh("pull", f"{reg.host}/evil", check=0)
    p = fresh("run", "--rm", f"{reg.host}/evil", "true", check=125)
    assert "escape" in p.stderr.decode() or "outside" in p.stderr.decode() or "refus" in p.stderr.decode(), p.stderr
    assert not os.path.exists("/tmp/escaped-through-link")
    assert not os.path.exists(os.path.join(os.path.dirname(fresh.root), "escaped"))
    assert not os.listdir(os.path.join(fresh.root, "boxes")) if os.path.isdir(os.path.join(fresh.root, "boxes")) else True


def test_run_pulls_a_missing_image(no_leaks, reg):
    p = no_leaks("run", "--rm", "--network", "none", f"{reg.host}/busybox", "echo", "hi from a pulled image", check=0)
    assert p.stdout.decode() == "hi from a pulled image\n"
    assert f"Unable to find image '{reg.host}/busybox' locally" in p.stderr.decode()


def test_layer_whiteouts_in_the_box(no_leaks, reg):
    p = no_leaks("run", "--rm", "--network", "none", f"{reg.host}/whiteouts", "sh", "-c", "ls /data; echo --; ls /opq", check=0)
    assert p.stdout.decode().split() == ["keep", "--", "new"]
