"""The Engine API's image endpoints beyond list and inspect, driven by
Debian's docker CLI 20.10 and raw HTTP: pull from a local registry (Debian's
docker-registry, images pushed with skopeo; registry.py) with Docker's JSON
progress stream and X-Registry-Auth, tag, rmi (and its 409), image prune,
history, and save/load through the service."""
import base64
import io
import json
import os
import socket
import subprocess
import tarfile
import urllib.parse

import pytest

import ocilayout
from apisvc import DOCKER, UnixHTTP, api  # noqa: F401 (the module's service fixture)
from conftest import BUSYBOX_TAR, HANG_GUARD, until
from registry import Registry, TokenAuthFront, layout_from_tar, read_blob, tagged_manifest


def _busybox_base(layout):
    man = json.loads(read_blob(layout, tagged_manifest(layout, "latest")["digest"]))
    cfg = json.loads(read_blob(layout, man["config"]["digest"]))
    return read_blob(layout, man["layers"][0]["digest"]), cfg["rootfs"]["diff_ids"][0]


def _image(work, name, base, data):
    """An image of its own (busybox plus a layer holding data) as an OCI layout."""
    tar = str(work / f"{name}.tar")
    ocilayout.image_tar(tar, base_layers=[base], layers=[[{"name": f"{name}.bin", "data": data}]])
    return layout_from_tar(tar, str(work / name))


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    r = Registry()
    front = slow = None
    try:
        work = tmp_path_factory.mktemp("apiimg")
        bb = layout_from_tar(BUSYBOX_TAR, str(work / "busybox"))
        base = _busybox_base(bb)
        # images whose top layer the store lacks: a pull downloads it (busybox's layer is there)
        r.images = {}
        for name in ("cli", "raw", "gone", "auth", "login", "used", "dangling"):
            lay = _image(work, name, base, os.urandom(256 << 10))
            r.push(lay, "latest", f"apiimg/{name}:latest")
            man = json.loads(read_blob(lay, tagged_manifest(lay, "latest")["digest"]))
            r.images[name] = man["layers"][-1]["digest"]
        # a few MB streamed slowly, for a client that hangs up mid-pull
        lay = _image(work, "slow", base, os.urandom(4 << 20))
        r.push(lay, "latest", "apiimg/slow:latest")
        front = TokenAuthFront(r)
        r.front = front
        slow = TokenAuthFront(r, auth=False, rate=256 << 10)
        r.slow = slow
        yield r
    finally:
        if front:
            front.stop()
        if slow:
            slow.stop()
        r.stop()


def _post(api, path, headers=None):
    """POST path on the service: (status, body lines as JSON)."""
    c = UnixHTTP(api.sock)
    c.request("POST", path, headers=headers or {})
    resp = c.getresponse()
    body = resp.read()
    c.close()
    return resp.status, [json.loads(line) for line in body.splitlines() if line.strip()]


def test_pull_renders_progress_in_docker_pull(api, bx, reg):
    ref = f"{reg.host}/apiimg/cli"
    r = api("pull", ref, check=0)
    short = reg.images["cli"][7:19]
    lines = r.stdout.splitlines()
    assert lines[0] == "Using default tag: latest"
    assert lines[1] == "latest: Pulling from apiimg/cli"
    assert f"{short}: Pulling fs layer" in lines
    assert f"{short}: Download complete" in lines
    assert f"{short}: Pull complete" in lines
    assert any(line.endswith(": Already exists") for line in lines)  # busybox's layer
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2] == f"Status: Downloaded newer image for {ref}:latest"
    assert lines[-1] == f"{ref}:latest"
    # the store has it, for every front end
    assert f"{ref}:latest" in bx("images", "--format", "{{.Repository}}:{{.Tag}}", check=0).stdout.decode().split()
    r = api("pull", ref, check=0)
    assert f"Status: Image is up to date for {ref}:latest" in r.stdout.splitlines()
    api("rmi", f"{ref}:latest", check=0)


def test_pull_json_stream(api, bx, reg):
    ref = f"{reg.host}/apiimg/raw"
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest")
    assert status == 200
    layer = reg.images["raw"][7:19]
    assert msgs[0] == {"status": "Pulling from apiimg/raw", "id": "latest"}
    mine = [m for m in msgs if m.get("id") == layer]
    statuses = [m["status"] for m in mine]
    assert statuses[0] == "Pulling fs layer"
    assert statuses[-2:] == ["Download complete", "Pull complete"]
    downloads = [m["progressDetail"] for m in mine if m["status"] == "Downloading"]
    assert downloads and downloads[-1]["current"] == downloads[-1]["total"] > 256 << 10
    assert all(0 < d["current"] <= d["total"] for d in downloads)
    digest, _ = reg.manifest_digest("apiimg/raw", "latest")
    assert msgs[-2] == {"status": f"Digest: {digest}"}
    assert msgs[-1] == {"status": f"Status: Downloaded newer image for {ref}:latest"}
    # by digest: the tag parameter carries it, as the docker CLI sends it
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag={digest}")
    assert status == 200
    assert msgs[0] == {"status": "Pulling from apiimg/raw", "id": digest}
    assert msgs[-1] == {"status": f"Status: Image is up to date for {ref}@{digest}"}
    api("rmi", f"{ref}:latest", check=0)
    # errors before the stream: Docker's status and message
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={reg.host}/apiimg/none&tag=latest")
    assert status == 404 and "not found" in msgs[0]["message"]
    status, msgs = _post(api, "/v1.41/images/create?fromImage=Bad%20Name")
    assert status == 400
    status, msgs = _post(api, "/v1.41/images/create")
    assert status == 400 and "fromImage" in msgs[0]["message"]


def test_pull_error_mid_stream(api, bx, reg):
    """A layer the registry lost after the manifest was read: the stream has
    begun, so the failure is Docker's errorDetail line, and nothing is stored."""
    ref = f"{reg.host}/apiimg/gone"
    os.unlink(reg.blob_file(reg.images["gone"]))
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest")
    assert status == 200
    assert msgs[0]["status"] == "Pulling from apiimg/gone"
    assert set(msgs[-1]) == {"errorDetail", "error"}
    assert msgs[-1]["error"] == msgs[-1]["errorDetail"]["message"] and reg.images["gone"] in msgs[-1]["error"]
    r = api("pull", ref, check=1)
    assert "Pulling from apiimg/gone" in r.stdout and reg.images["gone"] in r.stderr
    assert ref not in bx("images", check=0).stdout.decode()
    # no empty download is left staged for a resume that has nothing to resume from
    assert not os.path.exists(os.path.join(bx.root, "blobs", "incoming", reg.images["gone"][7:] + ".partial"))


def test_pull_ends_when_the_client_hangs_up(api, bx, reg):
    """A client gone mid-download cancels the pull: the connection's thread
    and the pull's own end, nothing is recorded, and the next pull works."""
    ref = f"{reg.slow.host}/apiimg/slow"
    tasks = f"/proc/{api.service.pid}/task"
    before = len(os.listdir(tasks))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(HANG_GUARD)
    s.connect(api.sock)
    s.sendall(f"POST /v1.41/images/create?fromImage={ref}&tag=latest HTTP/1.1\r\nHost: x\r\n"
              "Content-Length: 0\r\n\r\n".encode())
    got = b""
    while b'"Downloading"' not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    assert len(os.listdir(tasks)) >= before + 2  # the connection's thread and the pull's
    # the pull blocks no one else
    assert "busybox" in api("images", check=0).stdout
    s.close()
    until(lambda: len(os.listdir(tasks)) <= before, "the service to let the hung-up pull go")
    assert ref not in bx("images", check=0).stdout.decode()
    # what was staged stays for the next pull, which completes
    r = api("pull", f"{reg.host}/apiimg/slow", check=0)
    assert f"Status: Downloaded newer image for {reg.host}/apiimg/slow:latest" in r.stdout
    api("rmi", f"{reg.host}/apiimg/slow:latest", check=0)


def test_pull_with_x_registry_auth(api, bx, reg):
    ref = f"{reg.front.host}/apiimg/auth"
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest")
    assert status == 404 and msgs[0]["message"].startswith("unauthorized")

    def auth(user, pw):
        doc = json.dumps({"username": user, "password": pw, "serveraddress": reg.front.host}).encode()
        return {"X-Registry-Auth": base64.urlsafe_b64encode(doc).decode()}

    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest", auth("alice", "wrong"))
    assert status == 404 and "unauthorized" in msgs[0]["message"] and "wrong" not in msgs[0]["message"]
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest", auth("alice", "s3cret-pw"))
    assert status == 200, msgs
    assert msgs[-1] == {"status": f"Status: Downloaded newer image for {ref}:latest"}
    # the credentials were this pull's: nothing stored for the next one
    assert not os.path.exists(os.path.join(bx.root, "auth.json"))
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest", {"X-Registry-Auth": "%%%"})
    assert status == 400 and "X-Registry-Auth" in msgs[0]["message"]
    status, msgs = _post(api, f"/v1.41/images/create?fromImage={ref}&tag=latest", {"X-Registry-Auth": "A" * 20000})
    assert status == 400
    api("rmi", f"{ref}:latest", check=0)


def test_docker_login_then_pull(api, bx, reg):
    """docker login asks the service (POST /auth) to check the credentials,
    keeps them itself, and sends them with each pull (X-Registry-Auth)."""
    host, ref = reg.front.host, f"{reg.front.host}/apiimg/login"

    def login(pw):
        return subprocess.run([DOCKER, "login", "-u", "alice", "--password-stdin", host], env=api.env,
                              input=pw, capture_output=True, text=True, timeout=HANG_GUARD)

    try:
        r = login("wrong")
        assert r.returncode == 1 and "Error response from daemon" in r.stderr and "unauthorized" in r.stderr
        r = login("s3cret-pw")
        assert r.returncode == 0 and "Login Succeeded" in r.stdout, r
        r = api("pull", ref, check=0)
        assert f"Status: Downloaded newer image for {ref}:latest" in r.stdout
        assert not os.path.exists(os.path.join(bx.root, "auth.json"))  # boxvm stored nothing
        status, _, body = api.raw("POST", "/v1.41/auth", {"username": "", "password": "x"})
        assert status == 400
    finally:
        # the fixture removes its (then empty) docker config directory
        conf = os.path.join(api.env["DOCKER_CONFIG"], "config.json")
        if os.path.exists(conf):
            os.unlink(conf)
    api("rmi", f"{ref}:latest", check=0)


def test_tag_rmi_and_its_conflict(api, bx, reg):
    api("tag", "busybox", "apiimg-tagged:v1", check=0)
    names = bx("images", "--format", "{{.Repository}}:{{.Tag}}", check=0).stdout.decode().split()
    assert "apiimg-tagged:v1" in names
    r = api("rmi", "apiimg-tagged:v1", check=0)
    assert r.stdout.strip() == "Untagged: apiimg-tagged:v1"
    r = api("tag", "apiimg-nope", "x", check=1)
    assert "No such image: apiimg-nope:latest" in r.stderr
    status, _, body = api.raw("POST", "/v1.41/images/busybox/tag?repo=Upper&tag=x")
    assert status == 400
    r = api("rmi", "apiimg-nope", check=1)
    assert "No such image: apiimg-nope" in r.stderr
    # an image a box uses: Docker's 409 and words
    ref = f"{reg.host}/apiimg/used:latest"
    api("pull", ref, check=0)
    api("create", "--name", "apiimg-user", ref, "true", check=0)
    status, _, body = api.raw("DELETE", f"/v1.41/images/{ref}")
    assert status == 409
    assert json.loads(body)["message"].startswith(f'conflict: unable to remove repository reference "{ref}" '
                                                  f'(must force) - container ')
    api("rm", "apiimg-user", check=0)
    status, _, body = api.raw("DELETE", f"/v1.41/images/{ref}")
    assert status == 200
    answer = json.loads(body)
    assert {"Untagged": ref} in answer and list(answer[-1]) == ["Deleted"]


def test_image_prune(api, bx, reg):
    # an image known only by its digest is dangling (no tag)
    digest, _ = reg.manifest_digest("apiimg/dangling", "latest")
    ref = f"{reg.host}/apiimg/dangling@{digest}"
    api("pull", ref, check=0)
    status, _, body = api.raw("POST", "/v1.41/images/prune?filters=" + '{"bogus":["x"]}')
    assert status == 400 and json.loads(body)["message"] == "Invalid filter 'bogus'"
    r = api("image", "prune", "-f", check=0)
    assert f"untagged: {ref}" in r.stdout.splitlines()
    assert any(line.startswith("deleted: sha256:") for line in r.stdout.splitlines())
    assert "Total reclaimed space: " in r.stdout and "Total reclaimed space: 0B" not in r.stdout
    assert ref not in bx("images", "--digests", check=0).stdout.decode()
    # every image (dangling=false), but filtered: nothing made before 2000, nothing with that label
    for f in ('{"dangling":["false"],"until":["2000-01-01T00:00:00Z"]}', '{"dangling":["false"],"until":["946684800"]}',
              '{"dangling":["false"],"label":["apiimg-no-such=1"]}'):
        status, _, body = api.raw("POST", "/v1.41/images/prune?filters=" + urllib.parse.quote(f))
        assert status == 200 and json.loads(body) == {"ImagesDeleted": None, "SpaceReclaimed": 0}, f
    status, _, body = api.raw("POST", "/v1.41/images/prune?filters=" + urllib.parse.quote('{"until":["soon"]}'))
    assert status == 400
    # busybox is tagged: not dangling, kept
    status, _, body = api.raw("POST", "/v1.41/images/prune")
    assert status == 200 and json.loads(body) == {"ImagesDeleted": None, "SpaceReclaimed": 0}
    assert "busybox" in bx("images", check=0).stdout.decode()


def test_history(api, bx):
    status, _, body = api.raw("GET", "/v1.41/images/busybox/history")
    assert status == 200
    h = json.loads(body)
    img = json.loads(bx("image", "inspect", "busybox", check=0).stdout)[0]
    assert h[0]["Id"] == img["Id"] and "busybox:latest" in h[0]["Tags"]
    assert h[0]["CreatedBy"] == "scripts/make-busybox-image.sh"
    r = api("history", "--format", "{{.CreatedBy}}", "busybox", check=0)
    assert r.stdout.strip() == "scripts/make-busybox-image.sh"
    status, _, body = api.raw("GET", "/v1.41/images/apiimg-nope/history")
    assert status == 404


def test_save_load_round_trip(api, bx, tmp_path):
    api("tag", "busybox", "apiimg-rt:v1", check=0)
    out = str(tmp_path / "saved.tar")
    api("save", "-o", out, "apiimg-rt:v1", check=0)
    api("rmi", "apiimg-rt:v1", check=0)
    # docker save | docker load, both through the service
    save = subprocess.Popen([DOCKER, "save", "busybox"], env=api.env, stdout=subprocess.PIPE)
    load = subprocess.run([DOCKER, "load"], env=api.env, stdin=save.stdout, capture_output=True, text=True,
                          timeout=HANG_GUARD)
    save.stdout.close()
    assert save.wait(timeout=HANG_GUARD) == 0
    assert load.returncode == 0 and load.stdout.strip() == "Loaded image: busybox:latest", load
    r = api("load", "-i", out, check=0)
    assert r.stdout.strip() == "Loaded image: apiimg-rt:v1"
    r = api("run", "--rm", "apiimg-rt:v1", "echo", "loaded-runs", check=0)
    assert r.stdout == "loaded-runs\n"
    # raw: the archive streams with Docker's content type; a missing image is a 404 before any byte
    status, headers, body = api.raw("GET", "/v1.41/images/get?names=apiimg-rt:v1&names=busybox")
    assert status == 200 and dict(headers)["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(body)) as t:
        saved = json.load(t.extractfile("manifest.json"))
    assert sorted(tag for m in saved for tag in m["RepoTags"]) == ["apiimg-rt:v1", "busybox:latest"]
    status, _, body = api.raw("GET", "/v1.41/images/apiimg-nope/get")
    assert status == 404 and json.loads(body)["message"] == "No such image: apiimg-nope"
    bad = subprocess.run([DOCKER, "load"], env=api.env, input=b"not a tar at all" * 100, capture_output=True,
                         timeout=HANG_GUARD)
    assert bad.returncode == 1 and b"Error response from daemon" in bad.stderr
    api("rmi", "apiimg-rt:v1", check=0)
    assert not [f for f in os.listdir(bx.root) if f.startswith("load-stdin.")]
