"""`boxvm events`: every change is logged once by the process that makes it
(the CLI, or a box's shim with no CLI running), in Docker 20.10's shape;
--since/--until, filters and formats as Docker's; follow mode sees new
events as they happen; concurrent writers lose nothing; the log is bounded
and keeps the newest events."""
import datetime
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import BOXVM, BUSYBOX_TAR, HANG_GUARD, KERNEL_DIR, Boxvm

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)")


def uniq(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def rfc3339(ns):
    """unix ns as RFC 3339 with all nine digits (what --since/--until take exactly)"""
    t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


def events(bx, *args):
    """Every logged event so far that passes args' filters, as Docker's JSON."""
    p = bx("events", "--since", "0", "--until", "0s", "--format", "{{json .}}", *args, check=0)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def of(evs, actor):
    return [e for e in evs if e["Actor"]["ID"] == actor]


def actions(evs):
    return [e["Action"] for e in evs]


class Follower:
    """`boxvm events ARGS` running, its lines read as they come (a deadline guards a hang)."""

    def __init__(self, bx, *args):
        self.p = subprocess.Popen([BOXVM, "events", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=bx.env)
        self.buf = b""

    def line(self, limit=HANG_GUARD):
        end = time.monotonic() + limit
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            assert left > 0, "no event line before the hang guard"
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                assert chunk, f"events ended: {self.p.wait()} {self.p.stderr.read()}"
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def stop(self, sig=signal.SIGINT):
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()  # the failure is reported; the follower must not outlive the test
            self.p.wait()
            raise
        err = self.p.stderr.read()
        self.p.stdout.close()
        self.p.stderr.close()
        return rc, err


def wait_event(bx, since_ns, *filters):
    """The first event since since_ns that passes filters, waiting for it."""
    f = Follower(bx, "--since", rfc3339(since_ns), "--format", "{{json .}}", *filters)
    try:
        return json.loads(f.line())
    finally:
        f.stop()


@pytest.fixture
def own_root():
    """A data root of its own (no VM runs in it): events no other test writes."""
    root = tempfile.mkdtemp(prefix="boxvm-events-root.")
    run = tempfile.mkdtemp(prefix="bxe.", dir="/tmp")
    env = dict(os.environ)
    env.update({"BOXVM_ROOT": root, "BOXVM_RUNTIME_DIR": run, "BOXVM_KERNEL_DIR": KERNEL_DIR,
                "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"})
    yield Boxvm(root, run, env)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)


def test_container_lifecycle(bx, no_leaks, tmp_path):
    """create, start, exec (attached, detached, one that cannot start),
    pause, unpause, kill, rename, stop, destroy: each once, in order, with
    Docker's attributes; top and cp log no exec events."""
    name, new = uniq("evc"), uniq("evd")
    box = bx("create", "--name", name, "--label", "team=blue", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    bx("start", name, check=0)
    assert bx("exec", name, "sh", "-c", "exit 5").returncode == 5
    assert bx("exec", name, "nonexistent-cmd").returncode == 126  # as Docker's exec
    t1 = time.time_ns()
    bx("exec", "-d", name, "sh", "-c", "exit 4", check=0)
    detached_die = wait_event(bx, t1, "--filter", f"container={name}", "--filter", "event=exec_die",
                              "--filter", "label=team")
    bx("top", name, check=0)
    bx("cp", f"{name}:/etc/hostname", str(tmp_path / "hostname"), check=0)
    bx("pause", name, check=0)
    bx("unpause", name, check=0)
    bx("kill", "-s", "WINCH", name, check=0)  # ignored by sleep: it keeps running
    bx("rename", name, new, check=0)
    bx("stop", "-t", "30", new, check=0)
    bx("rm", new, check=0)

    evs = of(events(bx), box)
    assert actions(evs) == [
        "create", "start",
        "exec_create: sh -c exit 5", "exec_start: sh -c exit 5", "exec_die",
        "exec_create: nonexistent-cmd ", "exec_start: nonexistent-cmd ",  # Docker: no exec_die for it
        "exec_create: sh -c exit 4", "exec_start: sh -c exit 4", "exec_die",
        "pause", "unpause", "kill", "rename", "kill", "die", "stop", "destroy"], actions(evs)
    for e in evs:
        assert e["Type"] == "container" and e["scope"] == "local" and e["id"] == box and e["from"] == "busybox"
        assert e["status"] == e["Action"] and e["time"] == e["timeNano"] // 10**9
        attrs = e["Actor"]["Attributes"]
        assert attrs["image"] == "busybox" and attrs["team"] == "blue", e
        assert attrs["name"] == (new if evs.index(e) >= actions(evs).index("rename") else name), e
    by = {a: [e for e in evs if e["Action"] == a] for a in set(actions(evs))}
    assert [e["Actor"]["Attributes"]["exitCode"] for e in by["exec_die"]] == ["5", "4"]
    assert by["exec_die"][1] == detached_die  # the shim logged it, not a CLI
    ids = [e["Actor"]["Attributes"]["execID"] for e in evs if e["Action"].startswith("exec_")]
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids) and len(set(ids)) == 3
    assert [e["Actor"]["Attributes"]["signal"] for e in by["kill"]] == ["28", "15"]
    assert by["rename"][0]["Actor"]["Attributes"]["oldName"] == "/" + name
    assert by["die"][0]["Actor"]["Attributes"]["exitCode"] == "143"
    # Docker's key order in --format '{{json .}}'
    assert list(evs[0].keys()) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]


def test_detached_box_restarts_and_dies_with_no_cli(bx, no_leaks):
    """A detached box whose policy restarts it once: the shim logs each start
    and die by itself, no CLI running."""
    name = uniq("evr")
    t0 = time.time_ns()
    box = bx("run", "-d", "--restart", "on-failure:1", "--name", name, "busybox", "sh", "-c", "exit 3",
             check=0).stdout.decode().strip()
    f = Follower(bx, "--since", rfc3339(t0), "--filter", f"container={box[:12]}", "--filter", "event=die",
                 "--format", "{{.Actor.Attributes.exitCode}}")
    try:
        assert [f.line(), f.line()] == ["3", "3"]
    finally:
        f.stop()
    bx("rm", "-f", name, check=0)
    assert actions(of(events(bx), box)) == ["create", "start", "die", "start", "die", "destroy"]


def test_oom_kill_in_the_guest(bx, no_leaks):
    """The guest kernel's OOM killer kills a process of the box: one "oom" event before "die",
    State.OOMKilled true (Docker's); a box without one says false. The agent reads the kill from
    /dev/kmsg (src/agent/oom.c)."""
    name = uniq("evo")
    p = bx("run", "--name", name, "-m", "96m", "busybox", "sh", "-c", "tail /dev/zero; echo tail=$?")
    assert p.returncode == 0 and b"tail=137" in p.stdout, p
    box = json.loads(bx("inspect", name, check=0).stdout)[0]
    assert box["State"]["OOMKilled"] is True
    assert actions(of(events(bx), box["Id"])) == ["create", "start", "oom", "die"]
    bx("rm", name, check=0)
    bx("run", "--name", name, "-m", "96m", "busybox", "true", check=0)
    assert json.loads(bx("inspect", name, check=0).stdout)[0]["State"]["OOMKilled"] is False
    bx("rm", name, check=0)


def test_volumes_and_an_rm_box(bx, no_leaks):
    """volume create, mount, unmount and destroy with Docker's attributes;
    a --rm box's die and destroy come from its shim."""
    vol = uniq("evv")
    bx("volume", "create", vol, check=0)
    out = bx("run", "--rm", "-v", f"{vol}:/data:ro", "busybox", "true", check=0)
    bx("volume", "rm", vol, check=0)
    evs = events(bx)
    vev = of(evs, vol)
    # Docker logs a create for each use of the name (`volume create`, then -v)
    assert actions(vev) == ["create", "create", "mount", "unmount", "destroy"], actions(vev)
    mount, unmount = vev[2], vev[3]
    box = mount["Actor"]["Attributes"]["container"]
    assert mount["Actor"]["Attributes"] == {"container": box, "destination": "/data", "driver": "local",
                                            "propagation": "", "read/write": "false"}
    assert unmount["Actor"]["Attributes"] == {"container": box, "driver": "local"}
    assert all(e["Type"] == "volume" and "status" not in e and "id" not in e for e in vev)
    assert actions(of(evs, box)) == ["create", "start", "die", "destroy"]
    seq = [e["Action"] if e["Type"] == "container" else "volume " + e["Action"]
           for e in evs if e["Actor"]["ID"] in (box, vol)]
    assert seq.index("volume mount") < seq.index("start") and seq.index("die") < seq.index("volume unmount")
    assert out.returncode == 0


def test_image_events(own_root):
    """load, tag, untag, save and delete, with Docker 20.10's names (the
    image ID for untag, delete, load and save)."""
    bx = own_root
    bx("load", "-i", BUSYBOX_TAR, check=0)
    image_id = bx("images", "-q", "--no-trunc", "busybox", check=0).stdout.decode().strip()
    bx("tag", "busybox", "evimg:1", check=0)
    bx("rmi", "evimg:1", check=0)
    bx("save", "-o", os.path.join(bx.root, "b.tar"), "busybox", check=0)
    bx("rmi", "busybox", check=0)
    evs = events(bx)
    assert [(e["Action"], e["Actor"]["ID"], e["Actor"]["Attributes"]["name"]) for e in evs] == [
        ("load", image_id, image_id), ("tag", image_id, "evimg:1"), ("untag", image_id, image_id),
        ("save", image_id, image_id), ("untag", image_id, image_id), ("delete", image_id, image_id)]
    assert all(e["Type"] == "image" and e["id"] == image_id and "from" not in e for e in evs)
    assert actions(events(bx, "--filter", "image=evimg")) == ["tag"]
    assert actions(events(bx, "--filter", "image=evimg:1")) == ["tag"]


def test_network_events(own_root):
    """network create and destroy, with Docker's attributes (name, type) and the
    network's ID as the actor; --filter network= by name."""
    bx = own_root
    name = uniq("evnet")
    bx("network", "create", name, check=0)
    net_id = bx("network", "inspect", "-f", "{{.Id}}", name, check=0).stdout.decode().strip()
    bx("network", "rm", name, check=0)
    evs = events(bx, "--filter", "type=network")
    assert [(e["Action"], e["Actor"]["ID"], e["Actor"]["Attributes"]) for e in evs] == [
        ("create", net_id, {"name": name, "type": "bridge"}), ("destroy", net_id, {"name": name, "type": "bridge"})]
    assert actions(events(bx, "--filter", f"network={name}")) == ["create", "destroy"]


def test_since_until_filters_and_formats(own_root):
    bx = own_root
    names = ["fa1", "fa2", "fb1"]
    for n in names:
        bx("volume", "create", n, check=0)
    bx("volume", "rm", "fa2", check=0)
    evs = events(bx)
    assert [(e["Action"], e["Actor"]["ID"]) for e in evs] == [
        ("create", "fa1"), ("create", "fa2"), ("create", "fb1"), ("destroy", "fa2")]
    t = [e["timeNano"] for e in evs]
    # both ends included, as Docker's daemon compares them
    p = bx("events", "--since", rfc3339(t[1]), "--until", rfc3339(t[2]), "--format", "{{.Actor.ID}}", check=0)
    assert p.stdout.decode().split() == ["fa2", "fb1"]
    p = bx("events", "--until", rfc3339(t[0]), "--format", "{{.Actor.ID}}", check=0)
    assert p.stdout.decode().split() == ["fa1"]
    # filters: one key's values ORed, keys ANDed, names by prefix
    assert actions(events(bx, "--filter", "event=destroy")) == ["destroy"]
    assert len(events(bx, "--filter", "volume=fa")) == 3
    assert len(events(bx, "--filter", "volume=fa", "--filter", "event=create")) == 2
    assert len(events(bx, "--filter", "volume=fa1", "--filter", "volume=fb1")) == 2
    assert events(bx, "--filter", "type=container") == []
    assert len(events(bx, "--filter", "type=container", "--filter", "type=volume")) == 4
    assert events(bx, "--filter", "container=zz") == []
    assert len(events(bx, "--filter", "nonsense=1")) == 4  # Docker 20.10 ignores a key it does not use
    p = bx("events", "--filter", "type", "--until", "0s")
    assert p.returncode == 125 and b"bad format of filter (expected name=value)" in p.stderr
    # formats
    lines = bx("events", "--since", "0", "--until", "0s", check=0).stdout.decode().splitlines()
    when, rest = lines[0].split(" ", 1)
    assert TIME.fullmatch(when) and rest == "volume create fa1 (driver=local)", lines[0]
    assert [json.loads(line) for line in bx("events", "--since", "0", "--until", "0s", "--format", "json",
                                            check=0).stdout.decode().splitlines()] == evs
    p = bx("events", "--since", "0", "--until", "0s", "--format", "{{.Type}}/{{.Status}}/{{.Time}}", check=0)
    assert p.stdout.decode().splitlines()[0] == f"volume//{t[0] // 10**9}"  # Go: a volume event's Status is ""
    p = bx("events", "--until", "0s", "--format", "{{.Type")
    assert p.returncode == 64 and b"Error parsing format" in p.stderr
    p = bx("events", "--since", "5", "--until", "3")
    assert p.returncode == 1 and b"`since` time (5) cannot be after `until` time (3)" in p.stderr
    p = bx("events", "--since", "garbage")
    assert p.returncode == 1 and b"--since" in p.stderr


def test_follow_sees_new_events_and_ends_quietly(own_root):
    bx = own_root
    bx("volume", "create", "before", check=0)
    t0 = time.time_ns()
    f = Follower(bx, "--since", rfc3339(t0), "--format", "{{.Action}} {{.Actor.ID}}")
    bx("volume", "create", "during1", check=0)
    assert f.line() == "create during1"
    bx("volume", "rm", "during1", check=0)
    assert f.line() == "destroy during1"
    rc, err = f.stop(signal.SIGINT)  # Ctrl-C: it ends, saying nothing
    assert err == b"", err
    # a reader that goes away (`| head -1`): the next event ends it (SIGPIPE), quietly
    f = Follower(bx, "--since", "0")
    assert f.line().split()[2:4] == ["create", "before"]
    f.p.stdout.close()
    bx("volume", "create", "after-reader", check=0)
    assert f.p.wait(timeout=HANG_GUARD) == -signal.SIGPIPE
    assert f.p.stderr.read() == b""
    f.p.stderr.close()
    # --until ahead: it follows, then ends by itself at that time
    until = rfc3339(time.time_ns() + 3 * 10**9)
    f = Follower(bx, "--since", rfc3339(t0), "--until", until, "--format", "{{.Actor.ID}}")
    assert f.line() == "during1"
    assert f.p.wait(timeout=HANG_GUARD) == 0
    f.stop()


def test_concurrent_writers_lose_nothing(own_root):
    bx = own_root
    n = 12
    procs = [subprocess.Popen([BOXVM, "volume", "create", f"par{i}"], env=bx.env, stdout=subprocess.DEVNULL)
             for i in range(n)]
    assert [p.wait(timeout=HANG_GUARD) for p in procs] == [0] * n
    with open(os.path.join(bx.root, "events.log")) as f:
        recs = [json.loads(line) for line in f]  # every line whole
    assert sorted(r["Actor"]["ID"] for r in recs) == sorted(f"par{i}" for i in range(n))
    assert [r["seq"] for r in recs] == list(range(1, n + 1))


def test_rotation_keeps_the_newest(own_root):
    bx = own_root
    env = {"BOXVM_EVENTS_MAX_BYTES": "4096"}
    for i in range(60):
        bx("volume", "create", f"rot{i:02d}", env=env, check=0)
    log = os.path.join(bx.root, "events.log")
    assert os.path.getsize(log) <= 4096
    evs = events(bx)
    kept = [int(e["Actor"]["ID"][3:]) for e in evs]
    assert 10 < len(kept) < 60 and kept == list(range(60 - len(kept), 60))
    with open(log) as f:
        seqs = [json.loads(line)["seq"] for line in f]
    assert seqs == list(range(61 - len(seqs), 61))
