"""boxvm push (and the Engine API's POST /images/NAME/push) against a real
registry: Debian's docker-registry on 127.0.0.1 (registry.py), behind a
counting front where the test must know what was sent, with htpasswd or
token auth, and a hostile fake for answers a real registry would not give.
What was pushed is read back by skopeo and by boxvm's own pull. No VM boots."""
import http.server
import json
import os
import re
import subprocess
import tempfile
import threading

import pytest

from apisvc import api  # noqa: F401 (the module's service fixture)
from conftest import BOXVM, BUSYBOX_TAR, Boxvm, unmount_under
from registry import Registry, TokenAuthFront

DIGEST_LINE = re.compile(r"^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$", re.M)


@pytest.fixture(scope="module")
def reg():
    r = Registry()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def front(reg):
    """An open front of the registry that records every request (the counting proxy)."""
    f = TokenAuthFront(reg, auth=False)
    yield f
    f.stop()


@pytest.fixture
def fresh(bx):
    """boxvm with a store of its own holding the busybox test image."""
    root = tempfile.mkdtemp(prefix="boxvm-push-root.")
    b = Boxvm(root, bx.run_dir, dict(bx.env, BOXVM_ROOT=root))
    b("load", "-i", BUSYBOX_TAR, check=0)
    yield b
    leaked = unmount_under(root)
    subprocess.run(["rm", "-rf", root])
    assert not leaked


def _layers(b, ref):
    return json.loads(b("image", "inspect", ref, check=0).stdout)[0]["RootFS"]["Layers"]


def _push(b, ref, *flags, check=0):
    p = b("push", *flags, ref, check=check)
    return p.stdout.decode(), p.stderr.decode()


def _uploads(front, since):
    """(method, path) of what a push sent beyond checks: upload starts, mounts and PUTs."""
    return [(m, p) for m, p, _, _ in front.requests[since:] if m in ("POST", "PUT", "PATCH")]


def _skopeo(*args):
    p = subprocess.run(["skopeo", *args], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return p.stdout.decode()


def test_push_then_pull_back_by_skopeo_and_boxvm(fresh, front, reg, tmp_path):
    ref = f"{front.host}/x/busybox:1"
    fresh("tag", "busybox", ref, check=0)
    since = len(front.requests)
    out, _ = _push(fresh, ref)
    layers = _layers(fresh, ref)
    lines = out.splitlines()
    assert lines[0] == f"The push refers to repository [{front.host}/x/busybox]"
    for diff_id in layers:  # shown by diff ID, as Docker shows a push
        assert f"{diff_id[7:19]}: Preparing" in lines and f"{diff_id[7:19]}: Pushed" in lines
    assert "\r" not in out and "Pushing" not in out  # not a terminal: no live progress
    tag, digest, size = DIGEST_LINE.search(out).groups()
    assert tag == "1"
    # the manifest went up byte for byte: the store's manifest digest, and the registry's
    stored = json.loads(fresh("image", "inspect", ref, check=0).stdout)[0]
    assert f"{front.host}/x/busybox@{digest}" in stored["RepoDigests"]
    assert reg.manifest_digest("x/busybox", "1")[0] == digest
    assert int(size) == os.path.getsize(os.path.join(fresh.root, "blobs", "sha256", digest[7:]))
    # every layer and the config were uploaded: one POST and one PUT each, then the manifest
    sent = _uploads(front, since)
    assert [m for m, _ in sent] == ["POST", "PUT"] * (len(layers) + 1) + ["PUT"]
    assert sent[-1][1] == "/v2/x/busybox/manifests/1"

    # skopeo reads it as pushed
    info = json.loads(_skopeo("inspect", "--tls-verify=false", f"docker://{reg.host}/x/busybox:1"))
    assert info["Digest"] == digest and len(info["Layers"]) == len(layers)
    _skopeo("copy", "-q", "--src-tls-verify=false", f"docker://{reg.host}/x/busybox:1", f"oci:{tmp_path}/oci:1")
    with open(tmp_path / "oci" / "index.json") as f:
        assert json.load(f)["manifests"][0]["digest"] == digest

    # and so does boxvm, once the local tag is gone
    fresh("rmi", ref, check=0)
    pulled = fresh("pull", ref, check=0).stdout.decode()
    assert f"Digest: {digest}" in pulled
    assert _layers(fresh, ref) == layers


def test_terminal_shows_live_progress(fresh, front):
    import pty
    ref = f"{front.host}/tty/busybox:1"
    fresh("tag", "busybox", ref, check=0)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(BOXVM, [BOXVM, "push", ref], fresh.env)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    text = out.decode().replace("\r\n", "\n")
    hexid = _layers(fresh, ref)[0][7:19]
    # the layer's live line (a bar), rewritten in place, then its fate
    assert re.search(hexid + r": Pushing  \[=*>? *\] +\S+/\S+", text), text
    assert f"\r\x1b[K{hexid}: Pushed\n" in text
    assert DIGEST_LINE.search(text)


def test_second_push_sends_no_blob(fresh, front):
    ref = f"{front.host}/again/busybox:1"
    fresh("tag", "busybox", ref, check=0)
    first, _ = _push(fresh, ref)
    since = len(front.requests)
    out, _ = _push(fresh, ref)
    for diff_id in _layers(fresh, ref):
        assert f"{diff_id[7:19]}: Layer already exists" in out
    assert "Pushed" not in out
    assert DIGEST_LINE.search(out).groups() == DIGEST_LINE.search(first).groups()
    # HEADs only, then the manifest
    assert _uploads(front, since) == [("PUT", "/v2/again/busybox/manifests/1")]
    assert {m for m, _, _, _ in front.requests[since:]} == {"HEAD", "PUT"}


def test_push_to_another_repository_mounts_the_blobs(fresh, front, reg):
    fresh("tag", "busybox", f"{front.host}/src/busybox:1", check=0)
    _push(fresh, f"{front.host}/src/busybox:1")
    ref = f"{front.host}/dst/busybox:1"
    fresh("tag", "busybox", ref, check=0)
    since = len(front.requests)
    out, _ = _push(fresh, ref)
    layers = _layers(fresh, ref)
    for diff_id in layers:
        assert f"{diff_id[7:19]}: Mounted from src/busybox" in out
    sent = _uploads(front, since)
    # layers and config mounted (POST ?mount=&from=, answered 201): no blob PUT at all
    assert [m for m, _ in sent] == ["POST"] * (len(layers) + 1) + ["PUT"]
    assert all("mount=sha256%3A" in p or "mount=sha256:" in p for _, p in sent[:-1])
    assert all("from=src/busybox" in p or "from=src%2Fbusybox" in p for _, p in sent[:-1])
    assert reg.manifest_digest("dst/busybox", "1")[0] == DIGEST_LINE.search(out).group(2)


def test_all_tags_and_quiet(fresh, front, reg):
    for t in ("1", "2"):
        fresh("tag", "busybox", f"{front.host}/all/busybox:{t}", check=0)
    out, _ = _push(fresh, f"{front.host}/all/busybox", "--all-tags")
    assert [m.group(1) for m in DIGEST_LINE.finditer(out)] == ["1", "2"]
    assert "Using default tag" not in out
    for t in ("1", "2"):
        reg.manifest_digest("all/busybox", t)  # raises unless there
    _, err = _push(fresh, f"{front.host}/all/busybox:1", "-a", check=1)
    assert "tag can't be used with --all-tags/-a" in err
    q, _ = _push(fresh, f"{front.host}/all/busybox:2", "-q")
    assert q == f"{front.host}/all/busybox:2\n"


def test_push_of_what_is_not_there(fresh, front):
    since = len(front.requests)
    _, err = _push(fresh, f"{front.host}/nope:1", check=1)
    assert f"An image does not exist locally with the tag: {front.host}/nope" in err
    fresh("tag", "busybox", f"{front.host}/some/busybox:1", check=0)
    out, err = _push(fresh, f"{front.host}/some/busybox", check=1)
    assert "Using default tag: latest" in out
    assert f"tag does not exist: {front.host}/some/busybox:latest" in err
    _, err = _push(fresh, f"{front.host}/none/busybox", "-a", check=1)
    assert f"An image does not exist locally with the tag: {front.host}/none/busybox" in err
    assert front.requests[since:] == []  # nothing reached the registry


def test_push_with_htpasswd_needs_login(fresh):
    r = Registry(htpasswd=("alice", "pw-alice"))
    try:
        ref = f"{r.host}/auth/busybox:1"
        fresh("tag", "busybox", ref, check=0)
        _, err = _push(fresh, ref, check=1)
        assert "no basic auth credentials" in err and f"boxvm login {r.host}" in err
        assert not os.path.isdir(os.path.join(r.dir, "data", "docker", "registry", "v2", "repositories", "auth"))
        fresh("login", "-u", "alice", "--password-stdin", r.host, input=b"pw-alice\n", check=0)
        out, _ = _push(fresh, ref)
        digest = DIGEST_LINE.search(out).group(2)
        info = json.loads(_skopeo("inspect", "--tls-verify=false", "--creds", "alice:pw-alice", f"docker://{ref}"))
        assert info["Digest"] == digest
    finally:
        r.stop()


def test_push_with_token_auth_asks_for_push_scope(fresh, reg):
    f = TokenAuthFront(reg, user="bob", password="pw-bob")
    try:
        ref = f"{f.host}/tok/busybox:1"
        fresh("tag", "busybox", ref, check=0)
        _, err = _push(fresh, ref, check=1)
        assert err.startswith("boxvm: unauthorized: authentication required") and f"boxvm login {f.host}" in err
        fresh("login", "-u", "bob", "--password-stdin", f.host, input=b"pw-bob\n", check=0)
        f.token_queries.clear()
        out, _ = _push(fresh, ref)
        assert reg.manifest_digest("tok/busybox", "1")[0] == DIGEST_LINE.search(out).group(2)
        assert any("scope=repository%3Atok%2Fbusybox%3Apull%2Cpush" in q for q in f.token_queries), f.token_queries
    finally:
        f.stop()


class HostileRegistry:
    """A registry that wants Basic credentials, has no blob, and answers an
    upload's start as told (status, headers, body); `seen` records every
    request (method, path, Authorization)."""

    def __init__(self, answer):
        self.seen = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code, headers=(), body=b""):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _any(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                me.seen.append((self.command, self.path, auth))
                if not auth.startswith("Basic "):
                    return self._send(401, [("WWW-Authenticate", 'Basic realm="hostile"')])
                if self.command == "POST" and "/blobs/uploads/" in self.path:
                    return self._send(*answer(me))
                if self.command == "GET" and self.path == "/v2/":
                    return self._send(200, [("Content-Type", "application/json")], b"{}")
                self._send(404)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _hostile_push(fresh, answer):
    h = HostileRegistry(answer)
    try:
        fresh("login", "-u", "eve", "--password-stdin", h.host, input=b"pw-eve\n", check=0)
        ref = f"{h.host}/h/busybox:1"
        fresh("tag", "busybox", ref, check=0)
        p = fresh("push", ref, check=1)
        err = p.stderr.decode()
        assert err.count("\n") == 1, err  # one clean line
        return h, err
    finally:
        h.stop()


def test_hostile_registry_answers_are_refused(fresh):
    elsewhere = HostileRegistry(lambda h: (500,))
    try:
        # an upload sent to another host (or port) would take the credentials with it
        h, err = _hostile_push(fresh, lambda h: (202, [("Location", f"http://{elsewhere.host}/upload")]))
        assert "leads away" in err and elsewhere.seen == []
        assert not any(m == "PUT" for m, _, _ in h.seen)
        _, err = _hostile_push(fresh, lambda h: (202, [("Location", "https://evil.example/v2/h/busybox/blobs/uploads/x")]))
        assert "leads away" in err
        _, err = _hostile_push(fresh, lambda h: (202, [("Location", "/v2/x" + "a" * 5000)]))
        assert "Location" in err and "too long" in err
        # endless headers, a huge body
        _, err = _hostile_push(fresh, lambda h: (202, [(f"X-Pad-{i}", "p" * 1000) for i in range(80)]))
        assert "response headers" in err
        _, err = _hostile_push(fresh, lambda h: (202, [("Location", "/v2/h/busybox/blobs/uploads/u")], b"x" * (1 << 20)))
        assert "body of over 4096 bytes" in err
        # a refusal in the registry's own words
        _, err = _hostile_push(fresh, lambda h: (403, [("Content-Type", "application/json")],
                                                 b'{"errors":[{"code":"DENIED","message":"no"}]}'))
        assert "denied: requested access to the resource is denied" in err
    finally:
        elsewhere.stop()


def test_api_push_through_docker_py(api, bx, front, reg):
    import docker
    client = docker.APIClient(base_url="unix://" + api.sock, version="1.41")
    repo = f"{front.host}/api/busybox"
    bx("tag", "busybox", f"{repo}:1", check=0)
    bx("tag", "busybox", f"{repo}:2", check=0)
    try:
        lines = list(client.push(repo, tag="1", stream=True, decode=True))
        assert lines[0] == {"status": f"The push refers to repository [{repo}]"}
        assert {"Preparing", "Pushed"} <= {l.get("status") for l in lines}
        aux = [l["aux"] for l in lines if "aux" in l]
        digest = reg.manifest_digest("api/busybox", "1")[0]
        assert aux[0]["Tag"] == "1" and aux[0]["Digest"] == digest
        assert f"1: digest: {digest} size: {aux[0]['Size']}" in [l.get("status") for l in lines]
        # no tag: every local tag of the repository, already there
        lines = list(client.push(repo, stream=True, decode=True))
        assert [a["aux"]["Tag"] for a in lines if "aux" in a] == ["1", "2"]
        assert "Layer already exists" in {l.get("status") for l in lines}
        # a missing image ends the stream with Docker's error line
        lines = list(client.push(f"{front.host}/api/nope", tag="1", stream=True, decode=True))
        assert lines[-1]["error"] == f"An image does not exist locally with the tag: {front.host}/api/nope"
        # the docker CLI renders the same stream
        r = api("push", f"{repo}:1", check=0)
        assert "Layer already exists" in r.stdout and f"1: digest: {digest}" in r.stdout
    finally:
        bx("rmi", f"{repo}:1", f"{repo}:2", f"{repo}@{reg.manifest_digest('api/busybox', '1')[0]}", check=0)
