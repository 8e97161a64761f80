"""Box lifecycle against real VMs: run -d, ps, logs (-f), stop (STOPSIGNAL,
timeout), kill, wait, restart policies, create/start, rename, rm, inspect,
reconciliation of a dead shim, and what --rm keeps of a failed box.

Time limits are hang guards only; waits poll the real state."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BOXVM, HANG_GUARD, _our_processes, until


def inspect(bx, ref):
    p = bx("inspect", ref, check=0)
    return json.loads(p.stdout)[0]


def logs(bx, ref, *flags):
    return bx("logs", *flags, ref, check=0).stdout.decode()


def test_detached_logs_follow_and_stop_with_trap(no_leaks):
    bx = no_leaks
    out = bx("run", "-d", "--name", "web", "busybox", "sh", "-c",
             'trap "echo got term; exit 7" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done', check=0)
    box_id = out.stdout.decode().strip()
    assert len(box_id) == 64
    ps = bx("ps", "--format", "{{.ID}} {{.Names}} {{.State}}", check=0).stdout.decode()
    assert f"{box_id[:12]} web running" in ps
    until(lambda: "tick 2" in logs(bx, "web"), "detached output in logs")
    stamped = logs(bx, "web", "-t", "--tail", "1").strip()
    assert stamped.endswith(("tick 2", "tick 3", "tick 4", "tick 5")) and "Z tick" in stamped
    stamps = dict(reversed(line.split(" ", 1)) for line in logs(bx, "web", "-t").splitlines())
    window = logs(bx, "web", "--since", stamps["tick 1"], "--until", stamps["tick 2"])
    assert window == "tick 1\ntick 2\n"
    # -f with an --until in the past ends at once although the box runs on
    ended = subprocess.run([BOXVM, "logs", "-f", "--until", stamps["tick 0"], "web"], capture_output=True, env=bx.env,
                           timeout=60)
    assert ended.stdout == b"tick 0\n" and ended.returncode == 0
    p = bx("logs", "--until", "soon", "web")
    assert p.returncode == 1 and b"invalid --until 'soon'" in p.stderr
    p = bx("logs", "--since", "3000000000h", "web")  # would overflow the nanoseconds
    assert p.returncode == 1 and b"invalid --since" in p.stderr
    follow = subprocess.Popen([BOXVM, "logs", "-f", "web"], stdout=subprocess.PIPE, env=bx.env)
    assert bx("stop", "web", check=0).stdout == b"web\n"
    out, _ = follow.communicate(timeout=60)  # -f ends when the box does
    assert b"tick 0" in out and out.endswith(b"got term\n")
    assert bx("wait", "web", check=0).stdout == b"7\n"
    # Docker 20.10's other time forms: local dates, "0" (no end), a non-number --tail (all lines)
    everything = logs(bx, "web")
    assert logs(bx, "web", "--since", "2000-01-01") == everything
    assert logs(bx, "web", "--since", "2000-01-01T00:00:00") == everything
    assert logs(bx, "web", "--until", "0") == everything
    assert logs(bx, "web", "--until", "2000-01-01") == ""
    assert logs(bx, "web", "--tail", "abc") == everything
    st = inspect(bx, box_id[:8])
    assert st["State"]["Status"] == "exited" and st["State"]["ExitCode"] == 7 and not st["State"]["Running"]
    assert st["Name"] == "/web" and st["Id"] == box_id
    # Docker 20.10 records no StopSignal unless one was given (the template shows ""); TERM is used
    assert st["HostConfig"]["RestartPolicy"]["Name"] == "no" and st["Config"]["StopSignal"] == ""
    assert bx("stop", "web", check=0).stdout == b"web\n"  # stopped already: quiet success
    assert "web" not in bx("ps", "-q", check=0).stdout.decode()
    assert box_id[:12] in bx("ps", "-aq", check=0).stdout.decode()
    bx("rm", "web", check=0)
    assert not os.path.exists(os.path.join(bx.root, "names", "web"))


def test_stop_timeout_kills_and_stop_signal(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "stubborn", "busybox", "sh", "-c",
       'trap "" TERM; echo ready; while true; do sleep 1; done', check=0)
    # `wait` (not a foreground sleep) lets the trap run the moment USR1 comes
    bx("run", "-d", "--name", "usr1", "--stop-signal", "USR1", "busybox", "sh", "-c",
       'trap "exit 9" USR1; echo ready; while true; do sleep 1 & wait $!; done', check=0)
    until(lambda: "ready" in logs(bx, "stubborn") and "ready" in logs(bx, "usr1"), "both boxes up")
    # stubborn ignores TERM: killed once its 1 s are up, however slow the
    # machine; usr1 exits on its stop signal, given all the time it needs
    # (a 1 s timeout made the verdict a race with a loaded host)
    bx("stop", "-t", "1", "stubborn", check=0)
    bx("stop", "-t", "120", "usr1", check=0)
    assert bx("wait", "stubborn", "usr1", check=0).stdout == b"137\n9\n"
    bx("rm", "stubborn", "usr1", check=0)


def test_restart_on_failure_exactly_twice(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3", check=0)
    until(lambda: inspect(bx, "flaky")["State"]["Status"] == "exited" and inspect(bx, "flaky"), "the last exit")
    st = inspect(bx, "flaky")
    assert st["RestartCount"] == 2 and st["State"]["ExitCode"] == 3
    assert logs(bx, "flaky").count("run\n") == 3
    bx("rm", "flaky", check=0)


def test_restart_always_survives_crash_but_not_stop(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c",
       "echo up; sleep 2; exit 1", check=0)
    until(lambda: inspect(bx, "phoenix")["RestartCount"] >= 1 and logs(bx, "phoenix").count("up") >= 2,
          "a restart after the crash")
    bx("stop", "phoenix", check=0)
    st = inspect(bx, "phoenix")
    assert st["State"]["Status"] == "exited"
    # the shim, the only thing that could restart it, is gone
    assert not [p for p in _our_processes(bx.root) if "boxvm-shim" in p[1] and st["Id"] in p[1]]
    bx("rm", "phoenix", check=0)


def test_wait_several_boxes(no_leaks):
    bx = no_leaks
    for name, code in (("w0", 0), ("w3", 3), ("w5", 5)):
        bx("run", "-d", "--name", name, "busybox", "sh", "-c", f"exit {code}", check=0)
    assert bx("wait", "w0", "w3", "w5", check=0).stdout == b"0\n3\n5\n"
    bx("rm", "w0", "w3", "w5", check=0)


def test_concurrent_run_d_loses_no_record(no_leaks):
    bx = no_leaks
    procs = [subprocess.Popen([BOXVM, "run", "-d", "-m", "128m", "--cpus", "1", "busybox", "sleep", "600"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bx.env) for _ in range(8)]
    ids = set()
    for p in procs:
        out, err = p.communicate(timeout=HANG_GUARD)
        assert p.returncode == 0, err
        ids.add(out.decode().strip())
    assert len(ids) == 8
    listed = set(bx("ps", "-q", "--no-trunc", check=0).stdout.decode().split())
    assert ids <= listed
    names = bx("ps", "--format", "{{.Names}}", check=0).stdout.decode().split()
    assert len(set(names)) == len(names) >= 8
    bx("rm", "-f", *ids, check=0)


def test_sigkilled_shim_is_reconciled(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "orphan", "busybox", "sleep", "600", check=0)
    st = inspect(bx, "orphan")
    assert st["State"]["Running"] and st["State"]["Pid"] > 0
    os.kill(st["State"]["Pid"], signal.SIGKILL)
    until(lambda: not [p for p in _our_processes(bx.root) if st["Id"] in p[1]], "the VM to die with its shim")
    row = bx("ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}", check=0).stdout.decode()
    assert "orphan exited Exited (137)" in row
    assert not inspect(bx, "orphan")["State"]["Running"]
    bx("rm", "orphan", check=0)


def test_sigkilled_shim_of_a_rm_box_removes_it(no_leaks):
    # Docker removes an auto-remove container whose daemon died when the daemon
    # comes back; here the next command that sees the dead shim removes the box,
    # keeping its log as for any --rm box that failed (the kill is exit 137)
    bx = no_leaks
    box_id = bx("run", "-d", "--rm", "--name", "ephemeral", "busybox", "sh", "-c", "echo last words; sleep 600",
                check=0).stdout.decode().strip()
    until(lambda: "last words" in logs(bx, "ephemeral"), "the box's output in its log")
    pid = inspect(bx, "ephemeral")["State"]["Pid"]
    os.kill(pid, signal.SIGKILL)
    until(lambda: not [p for p in _our_processes(bx.root) if box_id in p[1]], "the VM to die with its shim")
    assert bx("ps", "-aq", "--no-trunc", check=0).stdout.decode().split().count(box_id) == 0
    assert not os.path.exists(os.path.join(bx.root, "boxes", box_id))
    with open("/proc/self/mounts") as f:
        assert box_id not in f.read()
    bx("inspect", "ephemeral", check=1)
    assert bx("logs", "ephemeral", check=0).stdout == b"last words\n"
    # the name is free again
    bx("create", "--name", "ephemeral", "busybox", "true", check=0)
    bx("rm", "ephemeral", check=0)


def test_wait_on_a_created_box_answers_at_once(no_leaks):
    """Docker 20.10: `wait` of a created box prints 0 at once (it is not running); after a
    start it waits for that run and prints its code."""
    bx = no_leaks
    bx("create", "--name", "later", "busybox", "sh", "-c", "exit 3", check=0)
    assert bx("wait", "later", check=0).stdout == b"0\n"
    assert inspect(bx, "later")["State"]["Status"] == "created"
    bx("start", "later", check=0)
    assert bx("wait", "later", check=0).stdout == b"3\n"
    bx("rm", "later", check=0)


def test_create_start_attach_keeps_rootfs(no_leaks):
    bx = no_leaks
    box_id = bx("create", "--name", "twice", "busybox", "sh", "-c",
                "cat /marker 2>/dev/null; echo once >> /marker; exit 4", check=0).stdout.decode().strip()
    assert inspect(bx, "twice")["State"]["Status"] == "created"
    first = bx("start", "-a", "twice", check=4)
    assert first.stdout == b""
    second = bx("start", "-a", box_id[:10], check=4)  # a fresh VM on the same rootfs
    assert second.stdout == b"once\n"
    bx("rm", "twice", check=0)


def test_rm_keeps_a_failed_log_only(no_leaks):
    bx = no_leaks
    failing = bx("run", "-d", "--rm", "--name", "evidence", "busybox", "sh", "-c", "echo clue; exit 4",
                 check=0).stdout.decode().strip()
    fine = bx("run", "-d", "--rm", "--name", "quiet", "busybox", "sh", "-c", "echo fine", check=0).stdout.decode().strip()
    until(lambda: not bx("ps", "-aq", check=0).stdout.strip(), "both --rm boxes to be gone")
    assert bx("logs", "evidence", check=0).stdout == b"clue\n"
    assert bx("logs", failing[:12], check=0).stdout == b"clue\n"
    p = bx("logs", fine, check=1)
    assert b"no such box" in p.stderr


def test_errors_leave_state_unchanged(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "busy", "busybox", "sleep", "600", check=0)
    bx("create", "--name", "idle", "busybox", "true", check=0)
    # Docker's codes: 125 for run's own errors, 1 for every other command's
    for args, msg, code in ((("run", "-d", "--name", "busy", "busybox", "true"), b"already in use", 125),
                            (("logs", "nosuch"), b"no such box: nosuch", 1),
                            (("rm", "busy"), b"rm -f", 1),
                            (("run", "-d", "--restart", "sometimes", "busybox", "true"), b"invalid restart policy", 125),
                            (("kill", "-s", "SIGNOPE", "busy"), b"invalid signal", 1),
                            (("rename", "idle", "busy"), b"already in use", 1)):
        p = bx(*args)
        assert p.returncode == code and msg in p.stderr and p.stderr.count(b"\n") == 1, (args, p.stderr)
    assert len(bx("ps", "-aq", check=0).stdout.split()) == 2
    # Docker: starting a running box is a no-op that succeeds
    assert bx("start", "busy", check=0).stdout == b"busy\n"
    bx("rename", "idle", "calm_box", check=0)
    assert inspect(bx, "calm_box")["Name"] == "/calm_box"
    bx("create", "--name", "idle", "busybox", "true", check=0)  # the old name is free again
    assert bx("ps", "-a", "--filter", "status=created", "--format", "{{.Names}}", check=0).stdout.split() == [
        b"idle", b"calm_box"]
    assert bx("ps", "--filter", "name=bus", "-q", check=0).stdout.strip()
    # name filters are regular expressions, matched with or without the leading "/"
    names = lambda f: bx("ps", "-a", "--filter", f, "--format", "{{.Names}}", check=0).stdout.split()
    assert names("name=^idle$") == [b"idle"] and names("name=^/calm_box$") == [b"calm_box"]
    assert sorted(names("name=^(idle|busy)$")) == [b"busy", b"idle"] and names("name=^dle") == []
    p = bx("ps", "--filter", "name=(")
    assert p.returncode == 1 and b"not a valid regular expression" in p.stderr
    bx("kill", "busy", check=0)
    assert bx("wait", "busy", check=0).stdout == b"137\n"
    bx("rm", "-f", "busy", "idle", "calm_box", check=0)


def test_log_rotation(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
       "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done", check=0)
    assert bx("wait", "chatty", check=0).stdout == b"0\n"
    box_dir = os.path.join(bx.root, "boxes", inspect(bx, "chatty")["Id"])
    files = sorted(f for f in os.listdir(box_dir) if f.startswith("json.log"))
    assert files == ["json.log", "json.log.1"]
    assert all(os.path.getsize(os.path.join(box_dir, f)) <= 2048 for f in files)
    out = logs(bx, "chatty").splitlines()
    assert out[-1] == "line 299" and out == [f"line {i}" for i in range(300 - len(out), 300)]
    bx("rm", "chatty", check=0)


def test_create_start_rm_cycles_leave_nothing(no_leaks, tmp_path):
    bx = no_leaks
    for _ in range(20):
        # a bind mount adds a virtiofsd of its own, with its sandbox child
        box_id = bx("create", "-m", "128m", "-v", f"{tmp_path}:/data", "busybox", "sleep", "600",
                    check=0).stdout.decode().strip()
        bx("start", box_id, check=0)
        bx("rm", "-f", box_id, check=0)
        # rm -f returns once every process of the box is gone, not a moment before
        assert not _our_processes(bx.root) and not _our_processes(bx.run_dir)
    assert not bx("ps", "-aq", check=0).stdout.strip()
    assert not os.listdir(os.path.join(bx.root, "names"))
    with open("/proc/mounts") as f:
        assert bx.root not in f.read()


def _counter(path):
    """The guest's counter (written with an atomic rename, so never torn); 0 before its first write."""
    try:
        with open(path) as f:
            return int(f.read())
    except FileNotFoundError:
        return 0


def test_pause_freezes_the_vm_until_unpause(no_leaks, tmp_path):
    bx = no_leaks
    count = str(tmp_path / "c")
    box_id = bx("run", "-d", "--name", "frozen", "-v", f"{tmp_path}:/h", "busybox", "sh", "-c",
                'trap "exit 7" TERM; i=0; while true; do i=$((i+1)); echo $i > /h/c.new; mv /h/c.new /h/c; '
                'sleep 0.1; done', check=0).stdout.decode().strip()
    until(lambda: _counter(count) >= 3, "the counter running")
    assert bx("pause", "frozen", check=0).stdout == b"frozen\n"
    frozen_at = _counter(count)
    st = inspect(bx, "frozen")["State"]
    assert (st["Status"], st["Paused"], st["Running"]) == ("paused", True, True)
    row = bx("ps", "--format", "{{.Names}}|{{.State}}|{{.Status}}", check=0).stdout.decode().strip()
    assert row.startswith("frozen|paused|Up ") and row.endswith(" (Paused)"), row
    assert bx("ps", "-q", "--filter", "status=paused", check=0).stdout.decode().split() == [box_id[:12]]
    assert bx("ps", "-q", "--filter", "status=running", check=0).stdout.strip() == b""
    for args, msg in ((("exec", "frozen", "true"), b"box frozen is paused, unpause it before exec"),
                      (("pause", "frozen"), b"box frozen is already paused"),
                      (("start", "frozen"), b"box frozen is paused; unpause it instead")):
        p = bx(*args)
        assert p.returncode == 1 and msg in p.stderr and p.stderr.count(b"\n") == 1, (args, p.stderr)
    # unpaused, the loop would advance ~10 times a second (it did above): it must not
    time.sleep(3)
    assert _counter(count) == frozen_at
    assert bx("unpause", "frozen", check=0).stdout == b"frozen\n"
    st = inspect(bx, "frozen")["State"]
    assert (st["Status"], st["Paused"], st["Running"]) == ("running", False, True)
    until(lambda: _counter(count) > frozen_at, "the counter going on after unpause")
    assert bx("exec", "frozen", "cat", "/h/c", check=0).stdout.strip().isdigit()
    p = bx("unpause", "frozen")
    assert p.returncode == 1 and p.stderr == b"boxvm: box frozen is not paused\n"
    # stop of a paused box: the VM is unpaused, then the stop signal reaches main (the trap's 7, not a kill's 137)
    bx("pause", "frozen", check=0)
    assert bx("stop", "frozen", check=0).stdout == b"frozen\n"
    assert bx("wait", "frozen", check=0).stdout == b"7\n"
    assert inspect(bx, "frozen")["State"]["Status"] == "exited"
    bx("create", "--name", "idle", "busybox", "true", check=0)
    for args, msg in ((("pause", "idle"), b"box idle is not running"), (("unpause", "idle"), b"box idle is not paused"),
                      (("pause", "frozen"), b"box frozen is not running"), (("pause", "nosuch"), b"no such box: nosuch")):
        p = bx(*args)
        assert p.returncode == 1 and msg in p.stderr and p.stderr.count(b"\n") == 1, (args, p.stderr)
    bx("rm", "frozen", "idle", check=0)


def test_kill_and_rm_f_of_paused_boxes(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "pk", "busybox", "sleep", "600", check=0)
    bx("run", "-d", "--name", "pr", "busybox", "sleep", "600", check=0)
    # right after run -d the guests may still be booting: each is paused once it is up
    assert bx("pause", "pk", "pr", check=0).stdout == b"pk\npr\n"
    assert [inspect(bx, b)["State"]["Status"] for b in ("pk", "pr")] == ["paused", "paused"]
    assert bx("kill", "-s", "TERM", "pk", check=0).stdout == b"pk\n"
    assert bx("wait", "pk", check=0).stdout == b"143\n"  # delivered to main: the VM ran again
    assert bx("rm", "-f", "pr", check=0).stdout == b"pr\n"
    bx("rm", "pk", check=0)


def test_a_pause_the_shim_cannot_carry_out_fails_at_once(no_leaks):
    """QEMU's monitor gone: pause reports the shim's reason instead of waiting
    out its guard (boot timeout + 60 s, longer than this call's hang guard)."""
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)  # booted: the pause is tried at once
        os.unlink(os.path.join(bx.run_dir, ref[:12], "qmp.sock"))
        p = bx("pause", ref, timeout=120)
        assert p.returncode == 1 and b"cannot pause box" in p.stderr and p.stderr.count(b"\n") == 1, p.stderr
        assert inspect(bx, ref)["State"]["Status"] == "running"
        assert bx("exec", ref, "true").returncode == 0  # still running, not frozen
    finally:
        bx("rm", "-f", ref)


def _shim_alive(pid):
    """Is pid a live (not zombie) process? A shim that has exited is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _shims_of_removed_boxes(bx):
    """Shims of this data dir whose box directory no longer exists."""
    left = []
    for pid, cmd in _our_processes(bx.root):
        if "boxvm-shim" in cmd and "vm.json" in cmd:
            vmjson = cmd.split()[-1]
            if not os.path.exists(os.path.dirname(vmjson)) and _shim_alive(pid):
                left.append((pid, cmd))
    return left


def test_commands_return_once_the_shim_has_exited(no_leaks):
    """stop, rm -f and run --rm return only when every host process of the box
    is gone. The shim lingers a while after cleaning up (a test knob), which
    these commands used to return before (the record already said exited)."""
    bx = no_leaks
    linger = {"BOXVM_TEST_SHIM_EXIT_DELAY_MS": "1500"}
    for how in (("stop", "-t", "1"), ("rm", "-f")):
        ref = bx("run", "-d", "busybox", "sleep", "600", env=linger, check=0).stdout.decode().strip()
        pid = until(lambda: inspect(bx, ref)["State"]["Pid"], "the box's shim pid")
        bx(*how, ref, check=0)
        assert not _shim_alive(pid), f"{how[0]} returned while the shim (pid {pid}) was still running"
        if how[0] == "stop":
            bx("rm", ref, check=0)
    bx("run", "--rm", "busybox", "true", env=linger, check=0)
    assert not _shims_of_removed_boxes(bx), "run --rm returned while its shim was still running"
