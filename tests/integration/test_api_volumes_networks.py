"""The Engine API's volumes, networks and events (`boxvm system service`)
driven by Debian's docker CLI 20.10 and raw HTTP: the same volumes and
networks `boxvm volume` and `boxvm network` show, Docker's words and
statuses, and the event stream (one JSON object a line, never holding other
requests up, let go when its client goes)."""
import json
import os
import socket
import time
import urllib.parse

from apisvc import api  # noqa: F401 (the module's service fixture)
from conftest import HANG_GUARD, until


def q(filters):
    return urllib.parse.quote(json.dumps(filters))


def test_volumes(api, bx):
    out = api("volume", "create", "--label", "tier=db", "apiv-a", check=0).stdout
    assert out.strip() == "apiv-a"
    api("volume", "create", "apiv-b", check=0)
    # the store's volumes: boxvm's CLI sees them, labels and all
    assert {"apiv-a", "apiv-b"} <= set(bx("volume", "ls", "-q", check=0).stdout.decode().split())
    assert json.loads(bx("volume", "inspect", "apiv-a", check=0).stdout)[0]["Labels"] == {"tier": "db"}
    r = api("volume", "inspect", "--format", "{{.Driver}} {{.Labels}} {{.Scope}}", "apiv-a", check=0)
    assert r.stdout.strip() == "local map[tier:db] local"
    r = api("volume", "ls", "-q", "--filter", "label=tier=db", check=0)
    assert r.stdout.split() == ["apiv-a"]
    assert api("volume", "ls", "-q", "--filter", "name=apiv-", check=0).stdout.split() == ["apiv-a", "apiv-b"]
    status, _, body = api.raw("GET", "/v1.41/volumes?filters=" + q({"name": ["apiv-b"], "driver": ["local"]}))
    body = json.loads(body)
    assert status == 200 and body["Warnings"] is None
    assert [v["Name"] for v in body["Volumes"]] == ["apiv-b"]
    status, _, body = api.raw("GET", "/v1.41/volumes?filters=" + q({"colour": ["x"]}))
    assert (status, json.loads(body)) == (400, {"message": "Invalid filter 'colour'"})
    # a box that uses one: dangling=false, and it cannot go (409, Docker's words)
    api("create", "--name", "api-vol-user", "-v", "apiv-a:/data", "busybox", "true", check=0)
    r = api("volume", "ls", "-q", "--filter", "dangling=false", "--filter", "name=apiv-", check=0)
    assert r.stdout.split() == ["apiv-a"]
    status, _, body = api.raw("DELETE", "/v1.41/volumes/apiv-a")
    assert status == 409 and json.loads(body)["message"].startswith("remove apiv-a: volume is in use - [")
    r = api("volume", "rm", "apiv-a", check=1)
    assert "volume is in use" in r.stderr
    # what boxvm's local driver has not: refused, never ignored
    r = api("volume", "create", "-o", "type=tmpfs", "apiv-c", check=1)
    assert "DriverOpts are not supported" in r.stderr
    r = api("volume", "create", "-d", "nfs", "apiv-c", check=1)
    assert 'plugin "nfs" not found' in r.stderr
    status, _, body = api.raw("POST", "/v1.41/volumes/create", {"Name": "../x"})
    assert status == 400
    assert "apiv-c" not in bx("volume", "ls", "-q", check=0).stdout.decode().split()
    # no such volume: 404 with Docker's words
    status, _, body = api.raw("GET", "/v1.41/volumes/apiv-nope")
    assert (status, json.loads(body)) == (404, {"message": "get apiv-nope: no such volume"})
    assert api.raw("DELETE", "/v1.41/volumes/apiv-nope?force=1")[0] == 204
    # an unnamed volume: 64 hex digits, as Docker names it
    status, _, body = api.raw("POST", "/v1.41/volumes/create", {})
    anon = json.loads(body)["Name"]
    assert status == 201 and len(anon) == 64
    # prune: every volume no box uses (Docker 20.10), label filters taken
    status, _, body = api.raw("POST", "/v1.41/volumes/prune?filters=" + q({"label": ["tier=db"]}))
    assert (status, json.loads(body)["VolumesDeleted"]) == (200, [])  # apiv-a is in use
    api("rm", "api-vol-user", check=0)
    status, _, body = api.raw("POST", "/v1.41/volumes/prune?filters=" + q({"label!": ["tier"]}))
    assert status == 200 and {"apiv-b", anon} <= set(json.loads(body)["VolumesDeleted"])
    assert "apiv-a" in bx("volume", "ls", "-q", check=0).stdout.decode().split()
    api("volume", "rm", "apiv-a", check=0)
    assert "apiv-" not in bx("volume", "ls", "-q", check=0).stdout.decode()


def test_networks(api, bx):
    nid = api("network", "create", "--label", "k=v", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.9",
              "apinet-a", check=0).stdout.strip()
    assert len(nid) == 64
    assert "apinet-a" in bx("network", "ls", check=0).stdout.decode()
    r = api("network", "inspect", "--format", "{{.Id}} {{.Driver}} {{(index .IPAM.Config 0).Gateway}} {{.Labels}}",
            "apinet-a", check=0)
    assert r.stdout.split() == [nid, "bridge", "10.77.0.9", "map[k:v]"]
    # a name taken: 409 with Docker's words
    r = api("network", "create", "apinet-a", check=1)
    assert "network with name apinet-a already exists" in r.stderr
    status, _, _ = api.raw("POST", "/v1.41/networks/create", {"Name": "apinet-a", "CheckDuplicate": True})
    assert status == 409
    # what boxvm has not: refused
    status, _, body = api.raw("POST", "/v1.41/networks/create", {"Name": "apinet-b", "EnableIPv6": True})
    assert status == 400 and "EnableIPv6" in json.loads(body)["message"]
    r = api("network", "create", "-d", "overlay", "apinet-b", check=1)
    assert 'plugin "overlay" not found' in r.stderr
    # the predefined ones are shown as Docker's, and stay
    r = api("network", "ls", "--format", "{{.Name}} {{.Driver}}", check=0)
    assert {"bridge bridge", "none null", "apinet-a bridge"} <= set(r.stdout.strip().split("\n"))
    r = api("network", "ls", "-q", "--no-trunc", "--filter", "type=custom", "--filter", "label=k=v", check=0)
    assert r.stdout.split() == [nid]
    r = api("network", "ls", "-q", "--filter", "type=builtin", check=0)
    assert len(r.stdout.split()) == 2
    r = api("network", "rm", "bridge", check=1)
    assert "bridge is a pre-defined network and cannot be removed" in r.stderr
    status, _, body = api.raw("GET", "/v1.41/networks/apinet-nope")
    assert (status, json.loads(body)) == (404, {"message": "network apinet-nope not found"})
    # create's NetworkingConfig and connect's EndpointConfig: aliases and addresses
    api("create", "--name", "api-net-1", "--network", "apinet-a", "--network-alias", "db", "--ip", "10.77.0.5",
        "busybox", "true", check=0)
    api("create", "--name", "api-net-2", "busybox", "true", check=0)
    api("network", "connect", "--alias", "cache", "--ip", "10.77.0.6", "apinet-a", "api-net-2", check=0)
    members = json.loads(bx("network", "inspect", "apinet-a", check=0).stdout)[0]["Containers"]
    addrs = {m["Name"]: m["IPv4Address"] for m in members.values()}
    assert addrs == {"api-net-1": "10.77.0.5/24", "api-net-2": "10.77.0.6/24"}
    r = api("inspect", "--format", "{{json .NetworkSettings.Networks}}", "api-net-2", check=0)
    assert "cache" in json.loads(r.stdout)["apinet-a"]["Aliases"]
    r = api("inspect", "--format", "{{json .NetworkSettings.Networks}}", "api-net-1", check=0)
    assert "db" in json.loads(r.stdout)["apinet-a"]["Aliases"]  # create's NetworkingConfig
    r = api("network", "connect", "apinet-a", "api-net-2", check=1)
    assert "already exists in network" in r.stderr
    r = api("network", "connect", "apinet-a", "api-net-nope", check=1)
    assert "No such container: api-net-nope" in r.stderr
    # in use: it stays (Docker's 403 and words)
    status, _, body = api.raw("DELETE", "/v1.41/networks/apinet-a")
    assert status == 403 and "has active endpoints" in json.loads(body)["message"]
    status, _, body = api.raw("POST", "/v1.41/networks/prune")
    assert (status, json.loads(body)) == (200, {"NetworksDeleted": []})
    api("network", "disconnect", "apinet-a", "api-net-2", check=0)
    api("rm", "api-net-1", check=0)
    assert json.loads(bx("network", "inspect", "apinet-a", check=0).stdout)[0]["Containers"] == {}
    status, _, body = api.raw("POST", "/v1.41/networks/prune?filters=" + q({"label": ["k=other"]}))
    assert (status, json.loads(body)) == (200, {"NetworksDeleted": []})
    # until: made within the last hour, so not before an hour ago; a duration, unix seconds or a bad value
    status, _, body = api.raw("POST", "/v1.41/networks/prune?filters=" + q({"until": ["1h"]}))
    assert (status, json.loads(body)) == (200, {"NetworksDeleted": []})
    status, _, body = api.raw("POST", "/v1.41/networks/prune?filters=" + q({"until": ["soon"]}))
    assert status == 400 and "failed to parse value as time or duration" in json.loads(body)["message"], body
    status, _, body = api.raw("POST", "/v1.41/networks/prune?filters=" + q({"label": ["k=v"],
                                                                         "until": ["%d" % (time.time() + 60)]}))
    assert (status, json.loads(body)) == (200, {"NetworksDeleted": ["apinet-a"]})
    assert "apinet-a" not in bx("network", "ls", check=0).stdout.decode()
    api("rm", "api-net-2", check=0)


def open_events(api, query=""):
    """GET /events on a socket of its own; returns the socket and a reader of its lines."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(HANG_GUARD)
    s.connect(api.sock)
    s.sendall(f"GET /v1.41/events{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    f = s.makefile("rb")
    status = f.readline()
    while f.readline() not in (b"\r\n", b""):
        pass

    def lines():
        # chunked: a size line, then the chunk (the service writes whole lines)
        buf = b""
        try:
            while True:
                size = int(f.readline().strip() or b"0", 16)
                if size == 0:
                    return
                buf += f.read(size)
                f.readline()
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    yield json.loads(line)
        finally:
            f.close()  # (the socket's file descriptor stays open while its file does)
    return s, status, lines()


def test_events(api, bx):
    tasks = f"/proc/{api.service.pid}/task"
    s, status, events = open_events(api, "?filters=" + q({"type": ["volume"], "volume": ["apiev-a"]}))
    assert b" 200 " in status
    # the stream is open: other requests are served meanwhile
    api("volume", "create", "apiev-b", check=0)  # filtered out
    api("volume", "create", "apiev-a", check=0)
    ev = next(events)
    assert (ev["Type"], ev["Action"], ev["Actor"]["ID"], ev["scope"]) == ("volume", "create", "apiev-a", "local")
    assert ev["Actor"]["Attributes"] == {"driver": "local"}
    assert isinstance(ev["time"], int) and ev["timeNano"] // 10**9 == ev["time"]
    bx("volume", "rm", "apiev-a", check=0)  # boxvm's CLI writes the same log
    ev = next(events)
    assert (ev["Action"], ev["Actor"]["ID"]) == ("destroy", "apiev-a")
    # the client goes: its stream's thread ends
    with_stream = len(os.listdir(tasks))
    events.close()
    s.close()
    until(lambda: len(os.listdir(tasks)) < with_stream, "the service to let the hung-up events stream go")
    # container events in Docker's form, the label filter on the box's labels
    s, _, events = open_events(api, "?filters=" + q({"label": ["who=ev"], "event": ["create", "destroy"]}))
    api("create", "--name", "api-ev-box", "-l", "who=ev", "busybox", "true", check=0)
    api("rm", "api-ev-box", check=0)
    got = [next(events), next(events)]
    events.close()
    s.close()
    assert [(e["Type"], e["Action"]) for e in got] == [("container", "create"), ("container", "destroy")]
    assert got[0]["status"] == "create" and got[0]["from"] == "busybox" and got[0]["id"] == got[0]["Actor"]["ID"]
    assert got[0]["Actor"]["Attributes"]["name"] == "api-ev-box" and got[0]["Actor"]["Attributes"]["who"] == "ev"
    # since/until in the past: what the log has between them (both included), then the end
    t0, t1 = got[0]["timeNano"], got[1]["timeNano"]
    status, _, body = api.raw("GET", "/v1.41/events?since=%d.%09d&until=%d.%09d&filters=%s" % (
        t0 // 10**9, t0 % 10**9, t1 // 10**9, t1 % 10**9, q({"container": ["api-ev-box"]})))
    assert status == 200
    assert [json.loads(line)["timeNano"] for line in body.decode().splitlines()] == [t0, t1]
    status, _, body = api.raw("GET", "/v1.41/events?since=20&until=10")
    assert status == 400 and "cannot be after" in json.loads(body)["message"]
    status, _, body = api.raw("GET", "/v1.41/events?filters=" + q({"colour": ["red"]}))
    assert (status, json.loads(body)) == (400, {"message": "Invalid filter 'colour'"})
    bx("volume", "rm", "apiev-b", check=0)
