"""The Engine API (`boxvm system service`) driven by the Python SDK and by
docker-compose, as users drive Docker: Debian's python3-docker 5.0.3 and
docker-compose 1.29.2 (which speaks to the API through docker-py) against
the same store the boxvm CLI uses. The compose project: two services of the
busybox test image, `web` (busybox httpd publishing a port, its files on a
named volume) and `client` (depends_on web, which it reaches over the
project's network by its service name); brought up, exercised, torn down
with nothing left."""
import os
import socket
import subprocess
import tempfile
import urllib.request

import docker
import pytest

from apisvc import api  # noqa: F401 (the module's service fixture)
from conftest import HANG_GUARD, until

COMPOSE = "/usr/bin/docker-compose"


def test_docker_py(api, bx):
    c = docker.DockerClient(base_url="unix://" + api.sock, timeout=HANG_GUARD)
    try:
        # run in the foreground: its output, and the box removed
        assert c.containers.run("busybox", "echo hi", remove=True) == b"hi\n"
        with pytest.raises(docker.errors.ContainerError) as e:
            c.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True)
        assert e.value.exit_status == 3
        # detached: follow its logs, stop it, remove it
        ct = c.containers.run("busybox", ["sh", "-c", "echo started; exec sleep 600"], detach=True, name="api-py")
        assert next(ct.logs(stream=True, follow=True)) == b"started\n"
        assert "api-py" in bx("ps", "--format", "{{.Names}}", check=0).stdout.decode().split()
        ct.stop(timeout=1)
        ct.reload()
        assert (ct.status, ct.attrs["State"]["ExitCode"]) == ("exited", 143)
        assert ct.logs() == b"started\n"
        ct.remove()
        with pytest.raises(docker.errors.NotFound):
            c.containers.get("api-py")
        assert ["busybox:latest"] in [i.tags for i in c.images.list()]
        v = c.volumes.create("api-py-vol", labels={"by": "docker-py"})
        assert (v.name, v.attrs["Labels"]) == ("api-py-vol", {"by": "docker-py"})
        assert "api-py-vol" in bx("volume", "ls", "-q", check=0).stdout.decode().split()
        assert [x.name for x in c.volumes.list(filters={"label": "by=docker-py"})] == ["api-py-vol"]
        v.remove()
        assert "api-py-vol" not in bx("volume", "ls", "-q", check=0).stdout.decode().split()
        # no box was left behind by the SDK's runs
        assert c.containers.list(all=True, filters={"name": "api-py"}) == []
    finally:
        c.close()


PROJECT = """\
version: "3.7"
services:
  web:
    image: busybox
    command: sh -c "echo hello-from-web > /srv/index.html && exec httpd -f -p 8080 -h /srv"
    ports:
      - "{port}:8080"
    volumes:
      - site:/srv
  client:
    image: busybox
    # web's server may not listen yet when client starts (depends_on orders the starts only)
    command: sh -c "until wget -q -O /tmp/got http://web:8080/index.html; do sleep 0.2; done; cat /tmp/got; exec sleep 600"
    depends_on:
      - web
volumes:
  site:
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_compose_project(api, bx):
    proj = tempfile.mkdtemp(prefix="apicompose.")
    port = free_port()
    with open(os.path.join(proj, "docker-compose.yml"), "w") as f:
        f.write(PROJECT.format(port=port))
    env = dict(api.env, COMPOSE_HTTP_TIMEOUT=str(HANG_GUARD))

    def compose(*args, check=0):
        r = subprocess.run([COMPOSE, "-p", "apicomp", *args], cwd=proj, env=env, capture_output=True, text=True,
                           timeout=HANG_GUARD)
        assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
        return r

    try:
        r = compose("up", "-d")
        assert 'Creating network "apicomp_default"' in r.stderr and 'Creating volume "apicomp_site"' in r.stderr
        # boxvm's own CLI sees the project's boxes, network and volume
        names = bx("ps", "--format", "{{.Names}}", check=0).stdout.decode().split()
        assert {"apicomp_web_1", "apicomp_client_1"} <= set(names)
        assert "apicomp_default" in bx("network", "ls", check=0).stdout.decode()
        assert "apicomp_site" in bx("volume", "ls", "-q", check=0).stdout.decode().split()
        # ps: compose's label filters on /containers/json
        rows = compose("ps").stdout.strip().split("\n")[2:]
        assert sorted((row.split()[0], " Up " in row) for row in rows) == [("apicomp_client_1", True),
                                                                         ("apicomp_web_1", True)]
        assert f"0.0.0.0:{port}->8080/tcp" in compose("ps", "web").stdout
        # client reached web over the project's network by its service name
        until(lambda: "hello-from-web" in compose("logs", "client").stdout, "client to get web's page")
        # and the published port answers on the host
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=HANG_GUARD) as resp:
            assert resp.read() == b"hello-from-web\n"
        # compose exec (the exec endpoints): the named volume's file, and web by name from client
        assert compose("exec", "-T", "web", "cat", "/srv/index.html").stdout == "hello-from-web\n"
        r = compose("exec", "-T", "client", "sh", "-c", "wget -q -O - http://web:8080/index.html; exit 3", check=3)
        assert r.stdout == "hello-from-web\n"
        r = compose("down", "-v")
        assert "Removing network apicomp_default" in r.stderr and "Removing volume apicomp_site" in r.stderr
    finally:
        leftover = bx("ps", "-a", "--format", "{{.Names}}", check=0).stdout.decode().split()
        left = [n for n in leftover if n.startswith("apicomp_")]
        if left:
            bx("rm", "-f", *left)
        os.unlink(os.path.join(proj, "docker-compose.yml"))
        os.rmdir(proj)
    # nothing left: no box, network or volume of the project
    assert not left
    assert "apicomp" not in bx("network", "ls", check=0).stdout.decode()
    assert "apicomp" not in bx("volume", "ls", "-q", check=0).stdout.decode()
