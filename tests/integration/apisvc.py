"""The Engine API service (`boxvm system service`) for the API tests: one
service a module, started on the test store and driven by the real clients
(Debian's docker CLI 20.10, client only: no dockerd is ever started, and
raw HTTP over its Unix socket). Stopped at the module's end with its socket
removed (the session's check of the runtime dir sees it)."""
import http.client
import json
import os
import socket
import subprocess
import tempfile

import pytest

from conftest import BOXVM, HANG_GUARD

DOCKER = "/usr/bin/docker"  # Debian's docker.io: API 1.41, as the service


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=HANG_GUARD)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(HANG_GUARD)
        self.sock.connect(self.path)


@pytest.fixture(scope="module")
def api(bx):
    sock = os.path.join(bx.run_dir, "docker.sock")
    p = subprocess.Popen([BOXVM, "system", "service"], env=bx.env, stderr=subprocess.PIPE, text=True)
    # the service says so once its socket listens: the event to wait for
    line = p.stderr.readline()
    assert "serving the Docker Engine API" in line, line
    assert oct(os.stat(sock).st_mode & 0o777) == "0o660"
    conf = tempfile.mkdtemp(prefix="docker-config.")
    env = dict(bx.env, DOCKER_HOST="unix://" + sock, DOCKER_CONFIG=conf)

    def docker(*args, check=None, timeout=HANG_GUARD):
        r = subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check is not None:
            assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
        return r

    def raw(method, path, body=None):
        c = UnixHTTP(sock)
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    docker.raw = raw
    docker.env = env
    docker.service = p
    docker.sock = sock
    yield docker
    ids = bx("ps", "-aq", "--no-trunc").stdout.split()
    if ids:
        bx("rm", "-f", *[i.decode() for i in ids])
    p.terminate()
    assert p.wait(timeout=HANG_GUARD) == 0
    assert not os.path.exists(sock), "the service left its socket"
    os.rmdir(conf)
