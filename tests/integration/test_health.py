"""Health checks (Docker 20.10's HEALTHCHECK): the flags and the image's
Healthcheck, run by the box's shim through the guest's exec service with no
CLI running; State.Health in inspect, ps's STATUS and --filter health=,
health_status events; a check past its timeout is killed in the guest.

Each test boots at most one box at a time (two with -n 2). Verdicts wait for
the event or state they are about; deadlines are only hang guards."""
import json
import os
import re
import select
import signal
import tarfile
import time

import pytest

import ocilayout
from conftest import BUSYBOX_TAR, HANG_GUARD, until
from test_events import Follower, rfc3339

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def run_d(bx, *args):
    p = bx("run", "-d", "--network", "none", *args, check=0)
    box = p.stdout.decode().strip()
    assert len(box) == 64, p
    return box


def inspect(bx, box):
    return json.loads(bx("inspect", box, check=0).stdout)[0]


def health(bx, box):
    return inspect(bx, box)["State"].get("Health")


def wait_action(bx, box, since_ns, action):
    """Wait for the box's event `action` logged since since_ns (a follower: no polling)."""
    f = Follower(bx, "--since", rfc3339(since_ns), "--format", "{{json .}}", "--filter", f"container={box}")
    try:
        end = time.monotonic() + HANG_GUARD
        while True:
            e = json.loads(f.line(limit=max(1, end - time.monotonic())))
            if e["Action"] == action:
                return e
    finally:
        f.stop()


def ps_line(bx, box, *args):
    out = bx("ps", "--no-trunc", *args, check=0).stdout.decode().splitlines()
    return [l for l in out if l.startswith(box)]


def ps_ids(bx, *args):
    return bx("ps", "-q", "--no-trunc", *args, check=0).stdout.decode().split()


def busybox_with(path, name, config):
    """The sample busybox image with more in its config (a HEALTHCHECK)."""
    with tarfile.open(BUSYBOX_TAR) as t:
        def blob(d):
            return t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
        index = json.load(t.extractfile("index.json"))
        man = json.loads(blob(index["manifests"][0]["digest"]))
        cfg = json.loads(blob(man["config"]["digest"]))
        layers = [(blob(l["digest"]), d) for l, d in zip(man["layers"], cfg["rootfs"]["diff_ids"])]
    c = dict(cfg.get("config") or {})
    c.update(config)
    return ocilayout.image_tar(path, [], config=c, name=name, base_layers=layers)


@pytest.mark.parametrize("flags,msg", [
    (["--health-interval", "abc"], 'invalid argument "abc" for "--health-interval" flag: time: invalid duration "abc"'),
    (["--health-timeout", "5"], 'invalid argument "5" for "--health-timeout" flag: time: missing unit in duration "5"'),
    (["--health-start-period", "5x"],
     'invalid argument "5x" for "--health-start-period" flag: time: unknown unit "x" in duration "5x"'),
    (["--health-retries", "x"], 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    (["--health-interval", "-1s"], "--health-interval cannot be negative"),
    (["--health-timeout", "-1s"], "--health-timeout cannot be negative"),
    (["--health-retries", "-1"], "--health-retries cannot be negative"),
    (["--health-start-period", "-1s"], "--health-start-period cannot be negative"),
    (["--health-interval", "100us"], "Interval in Healthcheck cannot be less than 1ms"),
    (["--health-timeout", "100us"], "Timeout in Healthcheck cannot be less than 1ms"),
    (["--health-start-period", "100us"], "StartPeriod in Healthcheck cannot be less than 1ms"),
    (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
    (["--no-healthcheck", "--health-retries", "2"], "--no-healthcheck conflicts with --health-* options"),
])
@pytest.mark.parametrize("cmd", ["run", "create"])
def test_flag_errors(bx, no_leaks, cmd, flags, msg):
    p = bx(cmd, "--rm" if cmd == "run" else "--network=none", *flags, "busybox", "true")
    assert p.returncode == 125, p
    assert msg in p.stderr.decode(), p.stderr
    assert len(p.stderr.decode().strip().splitlines()) == 1, p.stderr


def test_healthy_box_inspect_ps_events_stop_and_start(bx, no_leaks):
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "echo ok", "--health-interval", "1s", "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: healthy")
        info = inspect(bx, box)
        assert info["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "echo ok"], "Interval": 1000000000}
        h = info["State"]["Health"]
        assert h["Status"] == "healthy" and h["FailingStreak"] == 0, h
        assert 1 <= len(h["Log"]) <= 5
        for r in h["Log"]:
            assert r["ExitCode"] == 0 and r["Output"] == "ok\n", r
            assert STAMP.match(r["Start"]) and STAMP.match(r["End"]) and r["Start"] <= r["End"], r
        assert "(healthy)" in ps_line(bx, box)[0]
        assert box in ps_ids(bx, "--filter", "health=healthy")
        for other in ("unhealthy", "starting", "none"):
            assert box not in ps_ids(bx, "--filter", f"health={other}")
        # the event is Docker's, attributes included
        e = wait_action(bx, box, t0, "health_status: healthy")
        assert e["Type"] == "container" and e["Actor"]["Attributes"]["image"] == "busybox", e
        # stopped: Docker keeps the last health, marked unhealthy, the log kept
        bx("stop", "-t", "1", box, check=0)
        h2 = health(bx, box)
        assert h2["Status"] == "unhealthy" and len(h2["Log"]) >= len(h["Log"]) >= 1, h2
        assert box in ps_ids(bx, "-a", "--filter", "health=unhealthy")
        assert box not in ps_ids(bx, "--filter", "health=unhealthy")  # (not running: not listed without -a)
        # started again: "starting" (so a new healthy event comes), the old log kept
        t1 = time.time_ns()
        bx("start", box, check=0)
        assert health(bx, box)["Log"][0]["Start"] <= h2["Log"][-1]["Start"]
        wait_action(bx, box, t1, "health_status: healthy")
    finally:
        bx("rm", "-f", box, check=0)


def test_unhealthy_after_retries_streak_and_log(bx, no_leaks):
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "echo bad; exit 3", "--health-interval", "1s", "--health-retries", "2",
                "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: unhealthy")
        h = health(bx, box)
        assert h["Status"] == "unhealthy" and h["FailingStreak"] >= 2, h
        assert all(r["ExitCode"] == 3 and r["Output"] == "bad\n" for r in h["Log"]), h
        assert "(unhealthy)" in ps_line(bx, box)[0]
        assert box in ps_ids(bx, "--filter", "health=unhealthy")
        # the log keeps the newest 5 while the streak goes on
        h = until(lambda: (lambda x: x if x["FailingStreak"] >= 7 else None)(health(bx, box)), "a streak of 7")
        assert len(h["Log"]) == 5 and h["Status"] == "unhealthy", h
        # no CLI ran the checks: one event, not one per failure
        evs = [json.loads(l) for l in bx("events", "--since", rfc3339(t0), "--until", "0s", "--format", "{{json .}}",
                                        "--filter", f"container={box}", check=0).stdout.decode().splitlines()]
        assert [e["Action"] for e in evs if e["Action"].startswith("health_status")] == ["health_status: unhealthy"]
    finally:
        bx("rm", "-f", box, check=0)


def test_hanging_check_is_killed_at_its_timeout(bx, no_leaks):
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "echo $$ >> /tmp/hc.pids; exec sleep 1000", "--health-interval", "1s",
                "--health-timeout", "1s", "--health-retries", "1", "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: unhealthy")
        h = health(bx, box)
        first = h["Log"][0]
        assert first["ExitCode"] == -1 and first["Output"] == "Health check exceeded timeout (1s)", h
        # the first check's process is gone from the guest (the unhealthy event came after its timeout)
        pid = bx("exec", box, "head", "-n1", "/tmp/hc.pids", check=0).stdout.decode().strip()
        assert pid.isdigit(), pid
        p = bx("exec", box, "sh", "-c", f"kill -0 {pid}")
        assert p.returncode != 0, f"the timed-out check (pid {pid}) still runs"
        ps = bx("exec", box, "ps", "-o", "pid,args", check=0).stdout.decode()
        assert ps.count("sleep 1000") <= 1, ps  # at most the check running now
    finally:
        bx("rm", "-f", box, check=0)


def test_start_period_keeps_it_starting(bx, no_leaks):
    box = run_d(bx, "--health-cmd", "exit 1", "--health-interval", "1s", "--health-start-period", "1h",
                "--health-retries", "1", "busybox", "sleep", "600")
    try:
        h = until(lambda: (lambda x: x if x and len(x["Log"]) >= 2 else None)(health(bx, box)), "two failed checks")
        assert h["Status"] == "starting" and h["FailingStreak"] == 0, h
        assert all(r["ExitCode"] == 1 for r in h["Log"]), h
        assert "(health: starting)" in ps_line(bx, box)[0]
        assert box in ps_ids(bx, "--filter", "health=starting")
    finally:
        bx("rm", "-f", box, check=0)


def test_image_healthcheck_and_no_healthcheck(bx, no_leaks, tmp_path):
    image_hc = {"Test": ["CMD", "/bin/sh", "-c", "echo from-image"], "Interval": 1000000000, "Retries": 1}
    src = busybox_with(str(tmp_path / "hc.tar"), "hcimg:latest", {"Healthcheck": image_hc})
    bx("load", "-i", src, check=0)
    try:
        # a flag over one field of the image's (created only: no health before a start)
        c = bx("create", "--network", "none", "--health-interval", "2s", "hcimg", "sleep", "600", check=0)
        cid = c.stdout.decode().strip()
        info = inspect(bx, cid)
        assert info["Config"]["Healthcheck"] == dict(image_hc, Interval=2000000000)
        assert "Health" not in info["State"]
        bx("rm", cid, check=0)
        # --no-healthcheck: Test NONE (the image's other fields kept, as Docker), no check runs
        c = bx("create", "--network", "none", "--no-healthcheck", "hcimg", "sleep", "600", check=0)
        cid = c.stdout.decode().strip()
        assert inspect(bx, cid)["Config"]["Healthcheck"] == dict(image_hc, Test=["NONE"])
        bx("rm", cid, check=0)
        # the image's check runs
        t0 = time.time_ns()
        box = run_d(bx, "hcimg", "sleep", "600")
        try:
            wait_action(bx, box, t0, "health_status: healthy")
            h = health(bx, box)
            assert h["Log"][-1]["Output"] == "from-image\n", h
        finally:
            bx("rm", "-f", box, check=0)
        # and --no-healthcheck disables it on a running box: no State.Health, health=none
        box = run_d(bx, "--no-healthcheck", "hcimg", "sleep", "600")
        try:
            assert "Health" not in inspect(bx, box)["State"]
            assert box in ps_ids(bx, "--filter", "health=none")
            assert not ps_line(bx, box)[0].rstrip().endswith(")")
        finally:
            bx("rm", "-f", box, check=0)
    finally:
        bx("rmi", "hcimg", check=0)


def test_run_exit_code_is_main_s(bx, no_leaks):
    p = bx("run", "--rm", "--network", "none", "--health-cmd", "exit 1", "--health-interval", "1ms",
           "--health-retries", "1", "busybox", "sh", "-c", "exit 5")
    assert p.returncode == 5, p


def test_bad_filter_value(bx):
    p = bx("ps", "--filter", "health=bogus")
    assert p.returncode == 1 and "Unrecognised filter value for health: bogus" in p.stderr.decode(), p


def test_output_is_cut_like_docker_s(bx, no_leaks):
    """A check that floods: 4096 bytes kept and "..." (the guest cannot grow the shim)."""
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "head -c 3000000 /dev/zero | tr '\\0' a", "--health-interval", "1s",
                "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: healthy")
        out = health(bx, box)["Log"][0]["Output"]
        assert out == "a" * 4096 + "...", (len(out), out[-10:])
    finally:
        bx("rm", "-f", box, check=0)


def test_restart_policy_restart_resets_to_starting(bx, no_leaks):
    """The shim's own restart (no CLI) starts the health over, as Docker's start does."""
    # main ends on a signal, not on a file an exec makes: an exec whose command
    # makes main exit can lose its own exit status to the box's end (a known race)
    main = "test -e /again && exec sleep 600; touch /again; trap 'exit 1' USR1; while :; do sleep 0.1; done"
    t0 = time.time_ns()
    box = run_d(bx, "--restart", "on-failure:1", "--health-cmd", "echo ok", "--health-interval", "1s",
                "busybox", "sh", "-c", main)
    try:
        wait_action(bx, box, t0, "health_status: healthy")
        t1 = time.time_ns()
        bx("kill", "-s", "USR1", box, check=0)
        wait_action(bx, box, t1, "start")  # the policy's restart
        # healthy again only after a "starting" in between: a change, so an event
        wait_action(bx, box, t1, "health_status: healthy")
        assert health(bx, box)["Status"] == "healthy"
    finally:
        bx("rm", "-f", box, check=0)


def test_a_killed_shim_leaves_the_box_unhealthy(bx, no_leaks):
    """No shim is left to say the box stopped: readers show Docker's "unhealthy" of a stopped box."""
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: healthy")
        shim = inspect(bx, box)["State"]["Pid"]
        pidfd = os.pidfd_open(shim)
        os.kill(shim, signal.SIGKILL)
        # its exit, not its VM's: a dying shim's and QEMU's command lines are
        # empty long before the shim is gone (the VM's memory takes a while)
        assert select.select([pidfd], [], [], HANG_GUARD)[0], "the shim did not die"
        os.close(pidfd)
        assert health(bx, box)["Status"] == "unhealthy"
        assert box in ps_ids(bx, "-a", "--filter", "health=unhealthy")
        assert box not in ps_ids(bx, "-a", "--filter", "health=healthy")
    finally:
        bx("rm", "-f", box, check=0)


def test_pause_stops_the_checks(bx, no_leaks):
    """Docker's pause: no checks, "unhealthy" with streak and log kept, no event; unpause runs them again."""
    t0 = time.time_ns()
    box = run_d(bx, "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "600")
    try:
        wait_action(bx, box, t0, "health_status: healthy")
        bx("pause", box, check=0)
        h = until(lambda: (lambda x: x if x["Status"] == "unhealthy" else None)(health(bx, box)), "unhealthy when paused")
        assert h["FailingStreak"] == 0 and h["Log"], h
        assert "(Paused)" in ps_line(bx, box)[0]
        t1 = time.time_ns()
        bx("unpause", box, check=0)
        wait_action(bx, box, t1, "health_status: healthy")
        # (while frozen nothing ran: every result is a success, and none started during the pause)
        h = health(bx, box)
        assert all(r["ExitCode"] == 0 for r in h["Log"]), h
        evs = [json.loads(l) for l in bx("events", "--since", rfc3339(t0), "--until", "0s", "--format", "{{json .}}",
                                        "--filter", f"container={box}", check=0).stdout.decode().splitlines()]
        assert [e["Action"] for e in evs if e["Action"].startswith("health_status")] == \
            ["health_status: healthy", "health_status: healthy"]
    finally:
        bx("rm", "-f", box, check=0)
