"""The Engine API's box control (`boxvm system service`): restart, pause and
unpause, rename, update, top, driven by Debian's docker CLI 20.10 and raw HTTP,
checked against boxvm's own view of the same boxes. One running box for the
module (made through the API)."""
import json
from urllib.parse import quote

import pytest

from apisvc import UnixHTTP, api  # noqa: F401 (the module's service fixture)


@pytest.fixture(scope="module")
def box(api):
    cid = api("run", "-d", "--name", "apc", "busybox", "sleep", "100000", check=0).stdout.strip()
    yield cid
    api("rm", "-f", cid, check=0)


def _state(api, ref):
    return api("inspect", "--format", "{{.State.Status}} {{.State.Paused}}", ref, check=0).stdout.split()


def test_pause_unpause(api, bx, box):
    api("pause", "apc", check=0)
    assert _state(api, "apc") == ["paused", "true"]
    assert bx("inspect", "--format", "{{.State.Status}}", "apc", check=0).stdout.decode().strip() == "paused"
    r = api("pause", "apc", check=1)
    assert f"Error response from daemon: Container {box} is already paused" in r.stderr
    # a frozen guest runs no exec: Docker's conflict
    r = api("exec", "apc", "true", check=1)
    assert "is paused" in r.stderr
    api("unpause", "apc", check=0)
    assert _state(api, "apc") == ["running", "false"]
    r = api("unpause", "apc", check=1)
    assert f"Container {box} is not paused" in r.stderr
    api("create", "--name", "apc-created", "busybox", "true", check=0)
    status, _, body = api.raw("POST", "/v1.41/containers/apc-created/pause")
    assert status == 409 and "is not running" in json.loads(body)["message"]
    api("rm", "apc-created", check=0)
    status, _, _ = api.raw("POST", "/v1.41/containers/api-nope/unpause")
    assert status == 404


def test_rename(api, bx, box):
    api("rename", "apc", "apc-renamed", check=0)
    assert api("inspect", "--format", "{{.Name}}", box, check=0).stdout.strip() == "/apc-renamed"
    assert "apc-renamed" in bx("ps", "--format", "{{.Names}}", check=0).stdout.decode().split()
    api("create", "--name", "apc-other", "busybox", "true", check=0)
    status, _, body = api.raw("POST", "/v1.41/containers/apc-renamed/rename?name=apc-other")
    assert status == 409, body
    status, _, _ = api.raw("POST", "/v1.41/containers/apc-renamed/rename?name=apc-renamed")
    assert status == 400
    status, _, _ = api.raw("POST", "/v1.41/containers/apc-renamed/rename?name=bad%20name")
    assert status == 400
    status, _, body = api.raw("POST", "/v1.41/containers/apc-renamed/rename")
    assert status == 400
    api("rm", "apc-other", check=0)
    api("rename", "apc-renamed", "apc", check=0)
    assert api("inspect", "--format", "{{.Name}}", box, check=0).stdout.strip() == "/apc"


def test_top(api, box):
    r = api("top", "apc", check=0)
    assert r.stdout.split("\n")[0].split() == ["PID", "PPID", "USER", "STAT", "COMMAND"]
    assert any(line.split()[-2:] == ["sleep", "100000"] for line in r.stdout.split("\n")[1:] if line)
    status, _, body = api.raw("GET", "/v1.41/containers/apc/top?ps_args=-o%20pid,args")
    assert status == 200
    top = json.loads(body)
    assert top["Titles"] == ["PID", "COMMAND"]
    # the command keeps its spaces: the last title takes the rest of the line
    assert any(p[1] == "sleep 100000" for p in top["Processes"])
    status, _, body = api.raw("GET", "/v1.41/containers/apc/top?ps_args=--no-such-option")
    assert status == 500
    api("create", "--name", "apc-created", "busybox", "true", check=0)
    r = api("top", "apc-created", check=1)
    assert "is not running" in r.stderr
    api("rm", "apc-created", check=0)


def test_restart(api, bx, box):
    before = api("inspect", "--format", "{{.State.StartedAt}}", "apc", check=0).stdout.strip()
    api("restart", "-t", "1", "apc", check=0)
    after = api("inspect", "--format", "{{.State.StartedAt}} {{.State.Status}}", "apc", check=0).stdout.split()
    assert after[1] == "running" and after[0] != before
    # a stopped box: restart starts it
    api("run", "--name", "apc-done", "busybox", "sh", "-c", "exit 2", check=2)
    api("restart", "apc-done", check=0)
    assert api("wait", "apc-done", check=0).stdout.strip() == "2"
    assert bx("inspect", "--format", "{{.State.Status}}", "apc-done", check=0).stdout.strip() == b"exited"
    api("rm", "apc-done", check=0)
    status, _, _ = api.raw("POST", "/v1.41/containers/apc/restart?t=x")
    assert status == 400


def test_stats(api, box):
    r = api("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "apc", check=0)
    name, used, _, limit, pids = r.stdout.split()
    assert name == "apc" and limit != "0B" and int(pids) >= 1
    status, _, body = api.raw("GET", "/v1.41/containers/apc/stats?stream=false")
    assert status == 200
    s = json.loads(body)
    assert (s["name"], s["id"]) == ("/apc", box)
    assert s["memory_stats"]["limit"] > s["memory_stats"]["usage"] > 0 and s["pids_stats"]["current"] >= 1
    # two samples a second apart: the client's CPU % has its interval
    assert s["cpu_stats"]["system_cpu_usage"] > s["precpu_stats"]["system_cpu_usage"] > 0
    assert s["cpu_stats"]["cpu_usage"]["total_usage"] >= s["precpu_stats"]["cpu_usage"]["total_usage"] > 0
    status, _, body = api.raw("GET", "/v1.41/containers/apc/stats?stream=false&one-shot=true")
    assert status == 200 and json.loads(body)["preread"] == "0001-01-01T00:00:00Z"
    status, _, _ = api.raw("GET", "/v1.41/containers/apc/stats?stream=true&one-shot=true")
    assert status == 400
    status, _, _ = api.raw("GET", "/v1.41/containers/api-nope/stats?stream=false")
    assert status == 404
    # the stream: a frame a second, each with the one before as its precpu
    c = UnixHTTP(api.sock)
    c.request("GET", "/v1.41/containers/apc/stats")
    resp = c.getresponse()
    first, second = json.loads(resp.readline()), json.loads(resp.readline())
    c.close()
    assert second["preread"] == first["read"]
    assert second["precpu_stats"]["system_cpu_usage"] == first["cpu_stats"]["system_cpu_usage"]


def test_container_prune(api, bx, box):
    """docker container prune through the service: created and exited boxes
    the filters pick go (label=, label!=, until=), the others stay; Docker's
    answer, which the CLI prints as its "Deleted Containers:" list."""
    a = api("create", "--label", "tier=web", "busybox", "true", check=0).stdout.strip()
    b = api("create", "--label", "tier=db", "busybox", "true", check=0).stdout.strip()
    r = api("container", "prune", "-f", "--filter", "label=tier=web", check=0)
    assert r.stdout.splitlines()[:2] == ["Deleted Containers:", a], r.stdout
    ids = bx("ps", "-aq", "--no-trunc").stdout.decode().split()
    assert a not in ids and b in ids
    status, _, body = api.raw("POST", "/v1.41/containers/prune?filters=" + quote(json.dumps({"label!": ["tier=db"]})))
    assert (status, json.loads(body)["ContainersDeleted"]) == (200, None)
    status, _, body = api.raw("POST", "/v1.41/containers/prune?filters=" + quote(json.dumps({"until": ["1h"]})))
    assert (status, json.loads(body)["ContainersDeleted"]) == (200, None)  # b is younger than an hour
    status, _, body = api.raw("POST", "/v1.41/containers/prune?filters=" + quote(json.dumps({"bogus": ["1"]})))
    assert status == 400 and json.loads(body)["message"] == "Invalid filter 'bogus'"
    status, _, body = api.raw("POST", "/v1.41/containers/prune")
    assert status == 200 and b in json.loads(body)["ContainersDeleted"]
    assert box in bx("ps", "-q", "--no-trunc").stdout.decode().split()  # a running box stays


def test_update(api, bx):
    """Docker's own client against POST /containers/ID/update (a created box:
    the records; the live paths are the CLI's, through the same function)."""
    MIB = 1024 * 1024
    r = api("create", "--cpuset-cpus", "1023", "busybox", "true")
    assert r.returncode == 1 and "Requested CPUs are not available - requested 1023" in r.stderr, r.stderr
    ref = api("create", "--cpu-shares", "128", "--cpuset-cpus", "0", "busybox", "true", check=0).stdout.strip()
    try:
        hc = json.loads(api("inspect", "-f", "{{json .HostConfig}}", ref, check=0).stdout)
        assert (hc["CpuShares"], hc["CpusetCpus"]) == (128, "0")
        r = api("update", "--memory", "128m", "--cpus", "0.5", "--cpu-shares", "256", "--restart", "unless-stopped",
                ref, check=0)
        assert r.stdout.strip() == ref
        hc = json.loads(api("inspect", "-f", "{{json .HostConfig}}", ref, check=0).stdout)
        assert (hc["Memory"], hc["NanoCpus"], hc["CpuShares"]) == (128 * MIB, 500000000, 256)
        assert hc["RestartPolicy"]["Name"] == "unless-stopped"
        status, _, body = api.raw("POST", f"/v1.41/containers/{ref}/update", {"Memory": 128 * MIB})
        assert status == 200 and json.loads(body) == {"Warnings": []}, (status, body)
        status, _, body = api.raw("POST", f"/v1.41/containers/{ref}/update", {"Memory": 3 * MIB})
        assert status == 400 and b"Minimum memory limit allowed" in body, (status, body)
        status, _, body = api.raw("POST", f"/v1.41/containers/{ref}/update", {"CpusetCpus": "1023"})
        assert status == 400 and b"Requested CPUs are not available" in body, (status, body)
        status, _, _ = api.raw("POST", "/v1.41/containers/nope-nope/update", {"Memory": 128 * MIB})
        assert status == 404
    finally:
        api("rm", "-f", ref, check=0)
