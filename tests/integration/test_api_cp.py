"""docker cp through the Engine API (GET/HEAD/PUT /containers/ID/archive):
files and directories both ways with a running box, out of one that is not
running, a missing path, and HEAD's X-Docker-Container-Path-Stat. One
running box for the module."""
import base64
import json
import os

import pytest

from apisvc import api  # noqa: F401 (the module's service fixture)


@pytest.fixture(scope="module")
def box(api):
    api("run", "-d", "--name", "apicp", "busybox", "sleep", "600", check=0)
    yield "apicp"
    api("rm", "-f", "apicp", check=0)


def _sh(bx, script):
    return bx("exec", "apicp", "sh", "-c", script, check=0).stdout.decode()


def test_cp_out_of_the_box(api, bx, box, tmp_path):
    _sh(bx, "mkdir -p /d/sub && printf hi > /d/f && printf x > /d/sub/g")
    api("cp", "apicp:/d/f", str(tmp_path / "f-copy"), check=0)
    assert (tmp_path / "f-copy").read_text() == "hi"
    api("cp", "apicp:/d", str(tmp_path), check=0)
    assert (tmp_path / "d" / "f").read_text() == "hi" and (tmp_path / "d" / "sub" / "g").read_text() == "x"
    r = api("cp", "apicp:/missing", str(tmp_path), check=1)
    assert "No such container:path: apicp:/missing" in r.stderr
    status, _, body = api.raw("GET", "/v1.41/containers/apicp/archive?path=/missing")
    assert status == 404 and json.loads(body)["message"] == "Could not find the file /missing in container apicp"
    # a path that is not UTF-8: still Docker's JSON, the bytes escaped
    status, _, body = api.raw("GET", "/v1.41/containers/apicp/archive?path=/%ff")
    assert status == 404 and json.loads(body)["message"] == "Could not find the file /\\xff in container apicp"
    status, _, body = api.raw("GET", "/v1.41/containers/apicp-nope/archive?path=/d")
    assert status == 404 and json.loads(body)["message"] == "No such container: apicp-nope"


def test_cp_into_the_box(api, bx, box, tmp_path):
    (tmp_path / "up.txt").write_text("up")
    (tmp_path / "tree" / "in").mkdir(parents=True)
    (tmp_path / "tree" / "in" / "z").write_text("z")
    _sh(bx, "mkdir -p /into")
    api("cp", str(tmp_path / "up.txt"), "apicp:/into/", check=0)
    api("cp", str(tmp_path / "up.txt"), "apicp:/into/renamed", check=0)
    api("cp", str(tmp_path / "tree"), "apicp:/newtree", check=0)
    assert _sh(bx, "cat /into/up.txt /into/renamed /newtree/in/z") == "upupz"
    # the CLI asks HEAD of the destination's parent, and says so itself on its 404
    r = api("cp", str(tmp_path / "up.txt"), "apicp:/no/such/dir/", check=1)
    assert r.stderr == "no such directory\n"
    # PUT onto a file: Docker's 400
    status, _, body = api.raw("PUT", "/v1.41/containers/apicp/archive?path=/into/renamed")
    assert status == 400 and json.loads(body)["message"] == "extraction point is not a directory"


def test_head_stat_header(api, bx, box):
    _sh(bx, "mkdir -p /s && printf 12345 > /s/five && ln -sf /s/five /s/link")

    def stat(path):
        status, headers, body = api.raw("HEAD", f"/v1.41/containers/apicp/archive?path={path}")
        assert status == 200 and body == b""
        return json.loads(base64.b64decode(dict(headers)["X-Docker-Container-Path-Stat"]))

    st = stat("/s/five")
    assert (st["name"], st["size"], st["mode"], st["linkTarget"]) == ("five", 5, 0o644, "")
    assert st["mtime"].endswith("Z")
    st = stat("/s")
    assert st["name"] == "s" and st["mode"] == (1 << 31) | 0o755
    st = stat("/s/link")
    assert st["mode"] & (1 << 27) and st["linkTarget"] == "/s/five"
    status, _, _ = api.raw("HEAD", "/v1.41/containers/apicp/archive?path=/s/none")
    assert status == 404
    status, _, _ = api.raw("HEAD", "/v1.41/containers/apicp/archive")
    assert status == 400


def test_cp_with_a_box_that_is_not_running(api, bx, tmp_path):
    """Read and written on the host in the box's root (its start held off
    meanwhile); what went in is there when it runs."""
    api("create", "--name", "apicp-cold", "busybox", "cat", "/up.txt", "/tree/in/z", "/etc/renamed", check=0)
    try:
        api("cp", "apicp-cold:/etc/passwd", str(tmp_path / "passwd"), check=0)
        assert (tmp_path / "passwd").read_text().startswith("root:")
        api("cp", "apicp-cold:/bin", str(tmp_path), check=0)
        assert os.readlink(tmp_path / "bin" / "sh") == "/bin/busybox"
        status, headers, _ = api.raw("HEAD", "/v1.41/containers/apicp-cold/archive?path=/bin/sh")
        st = json.loads(base64.b64decode(dict(headers)["X-Docker-Container-Path-Stat"]))
        assert status == 200 and st["linkTarget"] == "/bin/busybox" and st["mode"] & (1 << 27)
        r = api("cp", "apicp-cold:/missing", str(tmp_path), check=1)
        assert "No such container:path: apicp-cold:/missing" in r.stderr
        (tmp_path / "up.txt").write_text("up")
        (tmp_path / "tree" / "in").mkdir(parents=True)
        (tmp_path / "tree" / "in" / "z").write_text("z")
        api("cp", str(tmp_path / "up.txt"), "apicp-cold:/", check=0)
        api("cp", str(tmp_path / "tree"), "apicp-cold:/tree", check=0)
        api("cp", str(tmp_path / "up.txt"), "apicp-cold:/etc/renamed", check=0)
        r = api("cp", str(tmp_path / "up.txt"), "apicp-cold:/nodir/x", check=1)
        assert "No such container:path: apicp-cold:/nodir" in r.stderr
        status, _, body = api.raw("PUT", "/v1.41/containers/apicp-cold/archive?path=/etc/passwd")
        assert status == 400 and json.loads(body)["message"] == "extraction point is not a directory"
        r = api("start", "-a", "apicp-cold", check=0)
        assert r.stdout == "upzup"
    finally:
        api("rm", "-f", "apicp-cold", check=0)
