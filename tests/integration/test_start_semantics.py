"""`run -d`, `start` and `restart` return once main runs in the guest, and a
box is Running only from then (issue 11, point 1).

BOXVM_TEST_HOLD_MAIN (a shim test knob) lets the guest boot but holds main's
start until a file exists, so "booted, main not yet running" is a state the
test holds open for as long as it likes: no timing decides a verdict. Waits
poll events (a shim.log line, the record), with hang guards only."""
import glob
import json
import os
import subprocess

from conftest import BOXVM, HANG_GUARD, until


def box_dir(bx, name):
    ident = bx("inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
    (d,) = glob.glob(os.path.join(bx.root, "boxes", ident)) if ident else ()  # ValueError: not there (yet)
    return d


def shim_log(bx, name):
    with open(os.path.join(box_dir(bx, name), "shim.log"), "rb") as f:
        return f.read()


def state(bx, name):
    out = bx("inspect", "-f", "{{json .State}}", name, check=0).stdout
    return json.loads(out)


def start_held(bx, hold, *args):
    """`run -d` with main held: returns the running CLI once the guest has
    booted (the shim's 'ready' line: the heartbeat answered)."""
    env = dict(bx.env, BOXVM_TEST_HOLD_MAIN=str(hold))
    p = subprocess.Popen([BOXVM, "run", "-d", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    name = args[args.index("--name") + 1]

    def booted():
        try:
            return b"ready after" in shim_log(bx, name)
        except (ValueError, OSError):
            return False  # not registered yet
    until(booted, f"box {name} to boot")
    return p


def test_run_d_returns_once_main_runs(no_leaks, tmp_path):
    bx = no_leaks
    hold = tmp_path / "go"
    p = start_held(bx, hold, "--name", "held", "busybox", "sh", "-c", "echo up; exec sleep 1000")
    try:
        # booted, main not started: run -d is still waiting, the box is not Running
        assert p.poll() is None
        st = state(bx, "held")
        assert (st["Status"], st["Running"], st["Pid"]) == ("created", False, 0), st
        assert "held\tCreated" in bx("ps", "--format", "{{.Names}}\t{{.Status}}", check=0).stdout.decode()
        e = bx("exec", "held", "true")
        assert e.returncode != 0 and b"not running" in e.stderr, e
        hold.touch()
        out, err = p.communicate(timeout=HANG_GUARD)
        assert p.returncode == 0, err
        ident = out.decode().strip()
        assert len(ident) == 64, out
        # the moment run -d returned, main runs: no polling
        st = state(bx, "held")
        assert (st["Status"], st["Running"]) == ("running", True), st
        assert st["Pid"] > 0 and st["StartedAt"] > "2000", st
        assert bx("exec", "held", "true").returncode == 0
        until(lambda: b"up" in bx("logs", "held").stdout, "main's output in the log")
    finally:
        p.kill() if p.poll() is None else None
        p.wait()
        bx("rm", "-f", "held", check=0)


def test_stop_while_booting_reaches_main_once_it_exists(no_leaks, tmp_path):
    """A stop that lands while the guest boots: the signal waits for main and
    reaches it the moment it runs (sleep dies of TERM: 143); run -d itself
    succeeds, main having started."""
    bx = no_leaks
    hold = tmp_path / "go"
    p = start_held(bx, hold, "--name", "early", "busybox", "sleep", "1000")
    try:
        stop = subprocess.Popen([BOXVM, "stop", "-t", "600", "early"], env=bx.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        def stop_marked():
            with open(os.path.join(box_dir(bx, "early"), "state.json")) as f:
                return json.load(f).get("ManuallyStopped")
        until(stop_marked, "the stop to be under way")  # it signals the shim right after
        assert stop.poll() is None and p.poll() is None
        hold.touch()
        out, err = stop.communicate(timeout=HANG_GUARD)
        assert stop.returncode == 0 and out.strip() == b"early", (out, err)
        out, err = p.communicate(timeout=HANG_GUARD)
        assert p.returncode == 0, err
        st = state(bx, "early")
        assert (st["Status"], st["ExitCode"]) == ("exited", 143), st
    finally:
        p.kill() if p.poll() is None else None
        p.wait()
        bx("rm", "-f", "early", check=0)


def test_kill_while_booting_fails_the_start(no_leaks, tmp_path):
    """rm -f of a box that has not started main: run -d fails with boxvm's
    own error (125), and nothing of the box is left."""
    bx = no_leaks
    hold = tmp_path / "go"
    p = start_held(bx, hold, "--name", "doomed", "busybox", "sleep", "1000")
    try:
        bx("rm", "-f", "doomed", check=0)
        out, err = p.communicate(timeout=HANG_GUARD)
        assert p.returncode == 125, (out, err)
        assert b"stopped before its command started" in err, err
        assert err.count(b"\n") == 1, err
    finally:
        p.kill() if p.poll() is None else None
        p.wait()
        bx("rm", "-f", "doomed", check=0)


def test_command_that_cannot_start_fails_run_d_and_start(no_leaks):
    """As Docker 20.10: the ID is printed, the error told, the exit code is 127,
    and the box stays (with --rm it goes) "created", with ExitCode 127, the
    error in State.Error and no start or finish time; `start` tells the same
    (exit 1) and leaves it so."""
    bx = no_leaks
    p = bx("run", "-d", "--name", "nosuch", "busybox", "/no/such/cmd")
    try:
        assert p.returncode == 127, p
        assert len(p.stdout.decode().strip()) == 64, p
        assert p.stderr.decode().startswith("boxvm: ") and "/no/such/cmd" in p.stderr.decode(), p
        assert p.stderr.count(b"\n") == 1, p
        st = state(bx, "nosuch")
        never = "0001-01-01T00:00:00Z"
        assert (st["Status"], st["Running"], st["ExitCode"], st["StartedAt"], st["FinishedAt"]) == \
            ("created", False, 127, never, never), st
        assert "/no/such/cmd" in st["Error"] and "\n" not in st["Error"], st
        assert bx("ps", "-a", "--filter", "name=^nosuch$", "--format", "{{.Status}}|{{.State}}",
                  check=0).stdout == b"Created|created\n"
        s = bx("start", "nosuch")
        assert s.returncode == 1 and b"/no/such/cmd" in s.stderr, s
        st = state(bx, "nosuch")
        assert (st["Status"], st["ExitCode"]) == ("created", 127) and "/no/such/cmd" in st["Error"], st
        # a failed start is not an exit: no restart by the policy
        p = bx("run", "-d", "--name", "nosuch2", "--restart", "always", "busybox", "/no/such/cmd")
        assert p.returncode == 127, p
        st = state(bx, "nosuch2")
        assert (st["Status"], st["Restarting"], st["ExitCode"]) == ("created", False, 127), st
        p = bx("run", "-d", "--rm", "--name", "nosuch3", "busybox", "/no/such/cmd")
        assert p.returncode == 127, p
        assert bx("inspect", "nosuch3").returncode == 1
    finally:
        bx("rm", "-f", "nosuch", "nosuch2", "nosuch3", check=0)
