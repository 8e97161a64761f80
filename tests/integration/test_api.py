"""The Docker Engine API (`boxvm system service`) driven by the real docker
CLI (Debian's docker.io 20.10, client only: no dockerd is ever started) over
DOCKER_HOST=unix://RUN/docker.sock, against the same store the boxvm CLI
uses. The service is started once for the module and stopped at its end
(its socket removed: the session's check of the runtime dir sees it)."""
import json
import os
import subprocess


from apisvc import DOCKER, api  # noqa: F401 (the module's service fixture)
from conftest import BOXVM, HANG_GUARD, until


def test_version_info_and_ping(api):
    r = api("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}", check=0)
    assert r.stdout.split() == ["1.41", "1.41"]
    r = api("info", "--format", "{{.OSType}} {{.LoggingDriver}}", check=0)
    assert r.stdout.split() == ["linux", "json-file"]
    status, headers, body = api.raw("HEAD", "/_ping")
    assert status == 200 and dict(headers)["Api-Version"] == "1.41"
    status, _, body = api.raw("GET", "/v1.41/_ping")
    assert (status, body) == (200, b"OK")
    # a client newer than the service: Docker's 400 and words
    status, _, body = api.raw("GET", "/v1.99/version")
    assert status == 400
    assert json.loads(body)["message"] == "client version 1.99 is too new. Maximum supported API version is 1.41"


def test_images_list_and_inspect(api, bx):
    r = api("images", "--format", "{{.Repository}}:{{.Tag}}", check=0)
    assert "busybox:latest" in r.stdout.split()
    status, _, body = api.raw("GET", "/v1.41/images/busybox/json")
    assert status == 200
    assert json.loads(body) == json.loads(bx("image", "inspect", "busybox", check=0).stdout)[0]
    r = api("image", "inspect", "--format", "{{.Os}}", "busybox", check=0)
    assert r.stdout.strip() == "linux"
    r = api("image", "inspect", "api-no-such-image", check=1)
    assert "No such image: api-no-such-image" in r.stderr


def test_run_detached_wait_logs_inspect_rm(api, bx):
    cid = api("run", "-d", "--name", "api-a", "-l", "k=v", "busybox", "sh", "-c",
              "echo out; echo err >&2; exit 3", check=0).stdout.strip()
    assert len(cid) == 64
    # the same box in boxvm's own CLI
    assert "api-a" in bx("ps", "-a", "--format", "{{.Names}}", check=0).stdout.decode().split()
    assert api("wait", "api-a", check=0).stdout.strip() == "3"
    # stdout and stderr apart: the multiplexed stream's frames
    r = api("logs", "api-a", check=0)
    assert (r.stdout, r.stderr) == ("out\n", "err\n")
    r = api("logs", "--tail", "1", "-t", "api-a", check=0)
    assert r.stdout == "" and r.stderr.endswith(" err\n")
    r = api("ps", "-a", "--filter", "label=k=v", "--format", "{{.Names}} {{.Status}} {{.Label \"k\"}}", check=0)
    assert r.stdout.startswith("api-a Exited (3) ") and r.stdout.strip().endswith(" v")
    assert api("ps", "--format", "{{.Names}}", check=0).stdout.split().count("api-a") == 0  # not running
    # inspect: the JSON `boxvm inspect` prints
    status, _, body = api.raw("GET", "/v1.41/containers/api-a/json")
    assert status == 200
    assert json.loads(body) == json.loads(bx("inspect", "api-a", check=0).stdout)[0]
    r = api("inspect", "--format", "{{.Name}} {{.State.ExitCode}} {{.Config.Labels.k}}", "api-a", check=0)
    assert r.stdout.split() == ["/api-a", "3", "v"]
    api("rm", "api-a", check=0)
    assert "api-a" not in bx("ps", "-a", "--format", "{{.Names}}", check=0).stdout.decode().split()


def test_box_of_the_cli_follow_and_stop(api, bx):
    """A box made by `boxvm run` is driven through the API; a follow and a
    wait don't hold up other requests; a client gone mid-stream is let go."""
    bx("run", "-d", "--name", "api-b", "busybox", "sh", "-c", "echo first; exec sleep 600", check=0)
    assert api("ps", "--format", "{{.Names}} {{.State}}", check=0).stdout.split() == ["api-b", "running"]
    follow = subprocess.Popen([DOCKER, "logs", "-f", "api-b"], env=api.env, stdout=subprocess.PIPE, text=True)
    assert follow.stdout.readline() == "first\n"
    # a follow is open: other requests are served meanwhile
    assert api("inspect", "--format", "{{.State.Running}}", "api-b", check=0).stdout.strip() == "true"
    tasks = f"/proc/{api.service.pid}/task"
    # a client that hangs up mid-stream: its connection's thread ends (one thread per connection)
    gone = subprocess.Popen([DOCKER, "logs", "-f", "api-b"], env=api.env, stdout=subprocess.PIPE, text=True)
    assert gone.stdout.readline() == "first\n"
    with_gone = len(os.listdir(tasks))
    gone.kill()
    gone.wait()
    until(lambda: len(os.listdir(tasks)) < with_gone, "the service to let the hung-up client's stream go")
    waiter = subprocess.Popen([DOCKER, "wait", "api-b"], env=api.env, stdout=subprocess.PIPE, text=True)
    api("stop", "-t", "1", "api-b", check=0)
    assert waiter.wait(timeout=HANG_GUARD) == 0 and waiter.stdout.read().strip() == "143"  # SIGTERM
    assert follow.wait(timeout=HANG_GUARD) == 0 and follow.stdout.read() == ""  # the follow ends with the box
    assert bx("inspect", "--format", "{{.State.Status}}", "api-b", check=0).stdout.decode().strip() == "exited"
    # stopped already: Docker's 304, which the CLI takes as done
    api("stop", "api-b", check=0)
    r = api("kill", "api-b", check=1)
    assert "Error response from daemon: Container api-b is not running" in r.stderr
    api("rm", "api-b", check=0)


def test_errors_are_dockers(api, bx):
    r = api("stop", "api-nope", check=1)
    assert r.stderr.strip() == "Error response from daemon: No such container: api-nope"
    r = api("inspect", "api-nope", check=1)
    assert "No such object: api-nope" in r.stderr
    status, _, body = api.raw("POST", "/v1.41/containers/api-nope/start")
    assert (status, json.loads(body)) == (404, {"message": "No such container: api-nope"})
    before = bx("ps", "-aq", check=0).stdout
    # a name in use: 409
    api("create", "--name", "api-c", "busybox", "true", check=0)
    r = api("create", "--name", "api-c", "busybox", "true", check=1)
    assert "Error response from daemon:" in r.stderr and "already in use" in r.stderr
    status, _, body = api.raw("POST", "/v1.41/containers/create?name=api-c", {"Image": "busybox"})
    assert status == 409
    # what boxvm cannot do is refused, never ignored: 400 naming the field
    r = api("create", "--device", "/dev/null", "busybox", "true", check=1)
    assert "HostConfig.Devices is not supported by boxvm" in r.stderr
    r = api("create", "--blkio-weight", "100", "busybox", "true", check=1)
    assert "HostConfig.BlkioWeight is not supported by boxvm" in r.stderr
    status, _, body = api.raw("POST", "/v1.41/containers/create", {"Image": "busybox", "Cmd": "true"})
    assert (status, json.loads(body)) == (400, {"message": "Config.Cmd must be an array of strings"})
    status, _, body = api.raw("POST", "/v1.41/containers/create", {"Image": "busybox", "HostConfig": {"Memory": 1}})
    assert status == 400
    status, _, _ = api.raw("GET", "/v1.41/containers/json?filters=%7B%22volume%22%3A%5B%22x%22%5D%7D")
    assert status == 400
    status, _, _ = api.raw("GET", "/v1.41/nothing/here")
    assert status == 404
    api("rm", "api-c", check=0)
    # nothing was left by the refused creates
    assert bx("ps", "-aq", check=0).stdout == before


def test_run_in_the_foreground(api, bx):
    """docker run without -d: attach (hijacked, the output framed per
    stream) before the start, the exit code from wait, --rm's removal."""
    before = bx("ps", "-aq", check=0).stdout
    r = api("run", "--rm", "busybox", "sh", "-c", "echo hi; echo oops >&2; exit 4", check=4)
    assert (r.stdout, r.stderr) == ("hi\n", "oops\n")
    assert bx("ps", "-aq", check=0).stdout == before  # --rm: gone
    r = api("run", "--name", "api-fg", "busybox", "echo", "kept", check=0)
    assert r.stdout == "kept\n"
    assert api("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "api-fg", check=0).stdout.split() == \
        ["exited", "0"]
    api("rm", "api-fg", check=0)
    assert bx("ps", "-aq", check=0).stdout == before


def test_privilege_fields_through_the_api(api, bx):
    """HostConfig.CapAdd/CapDrop/SecurityOpt from the docker CLI: the sets
    Docker 20.10 gives for the same flags (test_privileges.py), recorded as given."""
    r = api("run", "--name", "api-caps", "--network", "none", "--cap-drop", "all", "--cap-add", "net_admin",
            "--security-opt", "no-new-privileges", "busybox", "grep", "-E", "^(CapEff|CapBnd|NoNewPrivs)",
            "/proc/self/status", check=0)
    assert r.stdout.split() == ["CapEff:", "0000000000001000", "CapBnd:", "0000000000001000", "NoNewPrivs:", "1"]
    hc = json.loads(bx("inspect", "api-caps", check=0).stdout)[0]["HostConfig"]
    assert (hc["CapAdd"], hc["CapDrop"], hc["SecurityOpt"]) == (["net_admin"], ["all"], ["no-new-privileges"])
    r = api("run", "--rm", "--cap-add", "FOO", "busybox")
    assert r.returncode == 125 and 'invalid CapAdd: unknown capability: "CAP_FOO"' in r.stderr, r
    api("rm", "api-caps", check=0)


def test_wait_removed_reports_the_code_of_a_box_gone_between_two_looks(api, bx):
    """docker run --rm reads the exit code from wait?condition=removed. A box
    that exits and is removed while the waiter is not looking (here: the
    service stopped meanwhile) is gone when it looks again: the code comes
    from the die the shim logged before removing it (it used to answer
    StatusCode -1, "removed before its exit code could be read")."""
    import signal
    import socket as socketmod
    ref = bx("run", "-d", "--rm", "--network", "none", "busybox", "sh", "-c",
             "mkfifo /f; read x < /f; exit 4", check=0).stdout.decode().strip()
    s = socketmod.socket(socketmod.AF_UNIX, socketmod.SOCK_STREAM)
    s.settimeout(HANG_GUARD)
    s.connect(api.sock)
    s.sendall(f"POST /v1.41/containers/{ref}/wait?condition=removed HTTP/1.1\r\nHost: x\r\n"
              "Content-Length: 0\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:  # the headers: the waiter is waiting
        got += s.recv(4096)
    api.service.send_signal(signal.SIGSTOP)
    try:
        bx("exec", ref, "sh", "-c", "echo > /f", check=0)
        until(lambda: ref not in bx("ps", "-aq", "--no-trunc").stdout.decode(), "the --rm box to be removed")
    finally:
        api.service.send_signal(signal.SIGCONT)
    while b"StatusCode" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.close()
    assert b'{"StatusCode":4,"Error":null}' in got, got
