"""Exec over the Engine API (`boxvm system service`): POST
/containers/ID/exec, /exec/ID/start (hijacked, stdin relayed, the 8-byte
frames without a terminal), /exec/ID/resize and GET /exec/ID/json, driven by
Debian's docker CLI 20.10 and by raw HTTP. One running box for the module
(made through the API); terminals through tmux. Time limits are hang guards."""
import hashlib
import json
import os
import socket
import subprocess

import pytest

from apisvc import DOCKER, api  # noqa: F401 (the module's service fixture)
from conftest import HANG_GUARD, until
from test_exec import Tmux, _status, resize_and_see_it


@pytest.fixture(scope="module")
def box(api):
    cid = api("run", "-d", "--name", "apx", "busybox", "sleep", "100000", check=0).stdout.strip()
    yield cid
    api("rm", "-f", "apx", check=0)


@pytest.fixture
def tmux(bx):
    t = Tmux(bx)
    yield t
    t.kill()


def _docker_in_tmux(api, tmux, status_file, args):
    tmux.start(f"env DOCKER_HOST={api.env['DOCKER_HOST']} DOCKER_CONFIG={api.env['DOCKER_CONFIG']} {DOCKER} {args}",
               status_file)


def _terminal_sized_and_resized(tmux):
    """The shell on the terminal has tmux's size, then the new one after a resize."""
    tmux.keys("stty size; echo TERM=$TERM", "Enter")
    tmux.wait_screen("24 80")
    tmux.wait_screen("TERM=xterm")
    resize_and_see_it(tmux)


def _create(api, ref, body):
    status, _, data = api.raw("POST", f"/v1.41/containers/{ref}/exec", body)
    return status, json.loads(data)


def _inspect(api, eid):
    status, _, data = api.raw("GET", f"/v1.41/exec/{eid}/json")
    return status, json.loads(data)


def _hijack(api, eid, body):
    """POST /exec/ID/start on a raw socket: the 101, then the socket itself."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(HANG_GUARD)
    s.connect(api.sock)
    data = json.dumps(body).encode()
    s.sendall(f"POST /v1.41/exec/{eid}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def _frames(data):
    """Docker's multiplexed stream: [(stream, bytes)]."""
    out = []
    while data:
        n = int.from_bytes(data[4:8], "big")
        out.append((data[0], data[8:8 + n]))
        data = data[8 + n:]
    return out


def test_exec_output_and_exit_codes(api, box):
    assert api("exec", "apx", "echo", "hi", check=0).stdout == "hi\n"
    # stdout and stderr apart, the command's own code
    r = api("exec", "apx", "sh", "-c", "echo out; echo err >&2; exit 3", check=3)
    assert (r.stdout, r.stderr) == ("out\n", "err\n")
    # a command that cannot start: Docker's 126, with the reason
    r = api("exec", "apx", "api-no-such-cmd", check=126)
    assert "api-no-such-cmd" in r.stderr
    api("exec", "-w", "/api-no-such-dir", "apx", "true", check=126)
    api("exec", "-u", "api-no-such-user", "apx", "true", check=126)


def test_exec_env_workdir_user(api, box):
    r = api("exec", "-e", "A=b c", "-w", "/tmp", "-u", "nobody", "apx", "sh", "-c", 'echo "$A"; pwd; id -u', check=0)
    assert r.stdout.split("\n")[:3] == ["b c", "/tmp", "65534"]
    # TERM only on a terminal, Docker's xterm unless given
    assert "TERM=" not in api("exec", "apx", "env", check=0).stdout
    r = api("exec", "-t", "apx", "env", check=0)
    assert "TERM=xterm" in r.stdout.split()
    r = api("exec", "-t", "-e", "TERM=vt100", "apx", "env", check=0)
    assert "TERM=vt100" in r.stdout.split() and "TERM=xterm" not in r.stdout


def test_exec_stdin_piped(api, box):
    payload = os.urandom(300 * 1024).hex().encode()  # 600 KiB: many reads and frames
    r = subprocess.run([DOCKER, "exec", "-i", "apx", "sha256sum"], env=api.env, input=payload, capture_output=True,
                       timeout=HANG_GUARD)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest()
    r = subprocess.run([DOCKER, "exec", "-i", "apx", "cat"], env=api.env, input=b"hello\nworld\n",
                       capture_output=True, timeout=HANG_GUARD)
    assert (r.returncode, r.stdout) == (0, b"hello\nworld\n")
    # without -i the command's stdin is empty, whatever the client has
    r = subprocess.run([DOCKER, "exec", "apx", "cat"], env=api.env, input=b"not for it\n", capture_output=True,
                       timeout=HANG_GUARD)
    assert (r.returncode, r.stdout) == (0, b"")


def test_exec_it_terminal_and_resize(api, box, tmux, tmp_path):
    st = str(tmp_path / "status")
    _docker_in_tmux(api, tmux, st, "exec -it apx sh")
    _terminal_sized_and_resized(tmux)
    tmux.keys("exit 3", "Enter")
    assert _status(st) == 3


def test_exec_raw_api(api, box):
    status, c = _create(api, "apx", {"Cmd": ["sh", "-c", "echo out; echo err >&2; exit 5"], "AttachStdout": True,
                                     "AttachStderr": True, "User": "nobody"})
    assert status == 201
    eid = c["Id"]
    status, x = _inspect(api, eid)
    assert status == 200
    assert (x["ID"], x["Running"], x["ExitCode"], x["ContainerID"], x["OpenStdin"], x["OpenStdout"]) == \
        (eid, False, None, box, False, True)
    assert x["ProcessConfig"] == {"tty": False, "entrypoint": "sh", "arguments": ["-c", "echo out; echo err >&2; exit 5"],
                                  "privileged": False, "user": "nobody"}
    s = _hijack(api, eid, {"Detach": False, "Tty": False})
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert sorted(_frames(data)) == [(1, b"out\n"), (2, b"err\n")]
    # the end is known by the time the stream closes (the docker CLI asks at once)
    status, x = _inspect(api, eid)
    assert (x["Running"], x["ExitCode"]) == (False, 5) and x["Pid"] > 0
    status, _, body = api.raw("POST", f"/v1.41/exec/{eid}/start", {"Detach": True})
    assert status == 409 and "has already run" in json.loads(body)["message"]
    status, _, _ = api.raw("POST", f"/v1.41/exec/{eid}/resize?h=10&w=20")
    assert status == 409
    # Detach: 200 at once, the end recorded when it comes
    status, c = _create(api, "apx", {"Cmd": ["sh", "-c", "exit 7"]})
    status, _, body = api.raw("POST", f"/v1.41/exec/{c['Id']}/start", {"Detach": True})
    assert (status, body) == (200, b"")
    until(lambda: _inspect(api, c["Id"])[1]["ExitCode"] == 7, "the detached exec's end")


def test_exec_errors_are_dockers(api, box):
    status, _, body = api.raw("GET", "/v1.41/exec/api-no-such-exec/json")
    assert (status, json.loads(body)["message"]) == (404, "No such exec instance: api-no-such-exec")
    status, _, _ = api.raw("POST", "/v1.41/exec/api-no-such-exec/start", {})
    assert status == 404
    assert _create(api, "apx", {"Cmd": []}) == (400, {"message": "No exec command specified"})
    # docker exec --privileged: every capability for that command (Docker's CapEff on this kernel)
    r = api("exec", "--privileged", "apx", "grep", "CapEff", "/proc/self/status", check=0)
    assert r.stdout.split() == ["CapEff:", "000001ffffffffff"]
    r = api("exec", "apx", "grep", "CapEff", "/proc/self/status", check=0)
    assert r.stdout.split() == ["CapEff:", "00000000a80425fb"]
    status, body = _create(api, "apx", {"Cmd": ["true"], "DetachKeys": "ctrl-"})
    assert status == 400 and "Invalid detach keys" in body["message"]
    assert _create(api, "api-nope", {"Cmd": ["true"]}) == (404, {"message": "No such container: api-nope"})
    status, _, _ = api.raw("POST", "/v1.41/exec/x/resize?h=a&w=1")
    assert status == 400
    # a start or an attach that is no hijacked connection: refused, and the exec may still start
    status, c = _create(api, "apx", {"Cmd": ["true"], "AttachStdout": True})
    status, _, body = api.raw("POST", f"/v1.41/exec/{c['Id']}/start", {})
    assert status == 400 and "hijacked" in json.loads(body)["message"]
    assert _inspect(api, c["Id"])[1]["Running"] is False
    status, _, _ = api.raw("POST", f"/v1.41/exec/{c['Id']}/start", {"Detach": True})
    assert status == 200
    status, _, _ = api.raw("POST", "/v1.41/containers/apx/attach?stream=1&stdout=1")
    assert status == 400
    r = api("exec", "api-nope", "true", check=1)
    assert r.stderr.strip() == "Error: No such container: api-nope"  # (the CLI inspects the box first)
    api("create", "--name", "apx-stopped", "busybox", "true", check=0)
    r = api("exec", "apx-stopped", "true", check=1)
    assert "is not running" in r.stderr
    api("rm", "apx-stopped", check=0)


def test_exec_dropped_with_its_box_and_hangup(api, bx, box):
    """An exec whose client hangs up ends (its process with it); an exec
    instance goes when its box does."""
    status, c = _create(api, "apx", {"Cmd": ["sh", "-c", "echo up; exec sleep 4242"], "AttachStdout": True,
                                     "AttachStdin": True})
    s = _hijack(api, c["Id"], {})
    assert _frames(s.recv(100)) == [(1, b"up\n")]
    assert _inspect(api, c["Id"])[1]["Running"] is True
    s.close()
    until(lambda: _inspect(api, c["Id"])[1]["Running"] is False, "the exec of a gone client to end")
    until(lambda: b"sleep 4242" not in bx("exec", "apx", "ps", "-o", "args", check=0).stdout,
          "the process of a gone client to end")
    api("run", "-d", "--name", "apx-2", "busybox", "sleep", "1000", check=0)
    status, c = _create(api, "apx-2", {"Cmd": ["true"]})
    assert _inspect(api, c["Id"])[0] == 200
    api("rm", "-f", "apx-2", check=0)
    assert _inspect(api, c["Id"])[0] == 404


# ---- attach: stdin, terminals, resize ----

def test_run_i_stdin_piped(api):
    r = subprocess.run([DOCKER, "run", "-i", "--rm", "busybox", "cat"], env=api.env, input=b"hi\n",
                       capture_output=True, timeout=HANG_GUARD)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hi\n", b"")
    payload = os.urandom(200 * 1024).hex().encode()
    r = subprocess.run([DOCKER, "run", "-i", "--rm", "busybox", "sh", "-c", "sha256sum; echo done >&2; exit 6"],
                       env=api.env, input=payload, capture_output=True, timeout=HANG_GUARD)
    assert r.returncode == 6, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest() and r.stderr == b"done\n"


def test_run_it_terminal_and_resize(api, tmux, tmp_path):
    st = str(tmp_path / "status")
    _docker_in_tmux(api, tmux, st, "run -it --rm busybox sh")
    _terminal_sized_and_resized(tmux)
    tmux.keys("exit 5", "Enter")
    assert _status(st) == 5


def test_attach_to_a_running_box(api, tmux, tmp_path):
    api("run", "-dit", "--name", "apx-at", "busybox", "sh", check=0)
    st = str(tmp_path / "status")
    _docker_in_tmux(api, tmux, st, "attach apx-at")
    tmux.keys("echo hi$((40+2))", "Enter")
    tmux.wait_screen("hi42")
    tmux.keys("exit 4", "Enter")
    assert _status(st) == 4
    assert api("inspect", "--format", "{{.State.ExitCode}}", "apx-at", check=0).stdout.strip() == "4"
    api("rm", "apx-at", check=0)


def test_resize_errors(api, box):
    status, _, body = api.raw("POST", "/v1.41/containers/api-nope/resize?h=10&w=10")
    assert (status, json.loads(body)["message"]) == (404, "No such container: api-nope")
    status, _, _ = api.raw("POST", "/v1.41/containers/apx/resize?h=x&w=10")
    assert status == 400
    status, _, _ = api.raw("POST", "/v1.41/containers/apx/resize?h=10&w=10")
    assert status == 200  # a box with no terminal: nothing to do, as Docker's
