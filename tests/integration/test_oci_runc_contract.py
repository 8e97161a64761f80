"""boxvm-runtime against runc's own contract (issue 18), driven as runc's
callers drive it: a bundle, --root in a temp dir, a console-socket receiver.
Each expected value is what Debian's runc 1.1.5 gives on this machine for the
same case (written next to the assertion)."""
import json
import os
import pwd
import subprocess

from conftest import HANG_GUARD, until
from test_oci_runtime import RUNTIME, _bundle, _create, _rt


def _state(bx, root, cid):
    return json.loads(_rt(bx, root, "state", cid).stdout)


def _runc_table(rows):
    """runc's list table: Go's tabwriter(minwidth 12, padding 3); the last column unpadded."""
    widths = [max(12, max(len(r[k]) for r in rows) + 3) for k in range(5)]
    return "".join("".join(r[k].ljust(widths[k]) for k in range(5)) + r[5] + "\n" for r in rows)


def test_list_sorted_with_runc_columns_and_json(tmp_path, no_leaks):
    root = tmp_path / "state"
    # runc, nothing created yet: the header alone; json: null
    p = _rt(no_leaks, root, "list")
    assert p.returncode == 0 and p.stdout == b"ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"
    assert _rt(no_leaks, root, "list", "--format", "json").stdout == b"null\n"
    b, _ = _bundle(tmp_path, ["true"])
    for cid in ("zeta", "alpha"):  # no VM boots: both stay created
        assert _create(no_leaks, root, tmp_path, "--bundle", str(b), cid)[0] == 0
    try:
        st = {c: _state(no_leaks, root, c) for c in ("alpha", "zeta")}
        owner = pwd.getpwuid(os.stat(root / "alpha").st_uid).pw_name
        rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]] + [
            [c, str(st[c]["pid"]), "created", str(b), st[c]["created"], owner] for c in ("alpha", "zeta")]
        # runc: sorted by ID, whatever the creation order
        assert _rt(no_leaks, root, "list").stdout.decode() == _runc_table(rows)
        assert _rt(no_leaks, root, "list", "-q").stdout == b"alpha\nzeta\n"
        # runc: compact JSON, one object per container, "owner" filled (state's is ""),
        # annotations only when the bundle has some
        got = json.loads(_rt(no_leaks, root, "list", "--format", "json").stdout)
        assert [list(o) for o in got] == [["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                                           "owner"]] * 2
        assert [(o["id"], o["pid"], o["status"], o["owner"]) for o in got] == [
            ("alpha", st["alpha"]["pid"], "created", owner), ("zeta", st["zeta"]["pid"], "created", owner)]
        assert b'"id":"alpha"' in _rt(no_leaks, root, "list", "-f", "json").stdout
        p = _rt(no_leaks, root, "list", "--format", "yaml")
        assert p.returncode == 1 and b"invalid format option" in p.stderr  # runc's message
        # runc: kill 0 of a created container succeeds, and leaves it created
        assert _rt(no_leaks, root, "kill", "alpha", "0").returncode == 0
        assert _state(no_leaks, root, "alpha")["status"] == "created"
    finally:
        for cid in ("alpha", "zeta"):
            assert _rt(no_leaks, root, "delete", "--force", cid).returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def test_start_returns_once_the_process_runs_and_states_are_runcs(tmp_path, no_leaks):
    """runc's start returns once the container's process exists, so a signal
    sent right after it reaches that process. BOXVM_TEST_HOLD_MAIN (the shim's
    test knob) lets the guest boot but holds main until a file exists: start
    must still be waiting then (it used to return as the shim was forked).
    States as runc reports them: created -> running (the moment start returns)
    -> stopped; kill 0: 0 while created or running, 1 "container not running"
    once stopped."""
    root = tmp_path / "state"
    hold = tmp_path / "go"
    b, _ = _bundle(tmp_path, ["sleep", "1000"])
    env = dict(no_leaks.env, BOXVM_TEST_HOLD_MAIN=str(hold))
    out = tmp_path / "ctr-out"
    with open(out, "wb") as f:
        p = subprocess.run([RUNTIME, "--root", str(root), "create", "--bundle", str(b), "s1"],
                           stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=env, timeout=HANG_GUARD)
    assert p.returncode == 0, out.read_bytes()
    start = None
    try:
        assert _state(no_leaks, root, "s1")["status"] == "created"
        assert _rt(no_leaks, root, "kill", "s1", "0").returncode == 0
        start = subprocess.Popen([RUNTIME, "--root", str(root), "start", "s1"], env=no_leaks.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shim_log = root / "s1" / "box" / "shim.log"
        until(lambda: shim_log.exists() and b"ready after" in shim_log.read_bytes(), "the guest to boot")
        assert start.poll() is None  # booted, main held: start still waits
        hold.touch()
        _, err = start.communicate(timeout=HANG_GUARD)
        assert start.returncode == 0, err
        st = _state(no_leaks, root, "s1")
        assert st["status"] == "running" and st["pid"] > 0
        assert _rt(no_leaks, root, "kill", "s1", "0").returncode == 0
        assert _rt(no_leaks, root, "kill", "s1", "TERM").returncode == 0
        until(lambda: _state(no_leaks, root, "s1")["status"] == "stopped", "the TERM to end the container")
        assert _state(no_leaks, root, "s1")["pid"] == 0
        p = _rt(no_leaks, root, "kill", "s1", "0")
        assert p.returncode == 1 and b"container not running" in p.stderr
    finally:
        if start and start.poll() is None:
            start.kill()
            start.wait()
        assert _rt(no_leaks, root, "delete", "--force", "s1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)
