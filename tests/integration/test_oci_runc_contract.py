"""boxvm-runtime against runc's own contract (issue 18), driven as runc's
callers drive it: a bundle, --root in a temp dir, a console-socket receiver.
Each expected value is what Debian's runc 1.1.5 gives on this machine for the
same case (written next to the assertion)."""
import array
import json
import os
import pwd
import socket
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


def _exec(bx, root, *args):
    return subprocess.run([RUNTIME, "--root", str(root), "exec", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, env=bx.env, timeout=HANG_GUARD)


def test_env_and_exec_as_runc(tmp_path, no_leaks):
    """Environment and exec, each value the one runc 1.1.5 gives for the same bundle."""
    root = tmp_path / "state"
    b, cfg = _bundle(tmp_path, ["sh", "-c", "env > /tmp/main.env; exec sleep 1000"])
    rootfs = b / "rootfs"
    for a in ("env", "id", "true"):
        os.symlink("busybox", rootfs / "bin" / a)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nfoo:x:1000:1000::/home/foo:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nfoo:x:1000:\n")
    cfg["process"]["env"] = ["PATH=/bin", "A=1", "B=x", "A=2", "HOME="]
    (b / "config.json").write_text(json.dumps(cfg))
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"args": ["env"], "env": ["PATH=/bin", "X=1", "X=3"], "cwd": "/",
                                "user": {"uid": 0, "gid": 0}, "terminal": False}))
    assert _create(no_leaks, root, tmp_path, "--bundle", str(b), "e1")[0] == 0
    try:
        assert _rt(no_leaks, root, "start", "e1").returncode == 0
        main_env = rootfs / "tmp" / "main.env"
        until(lambda: main_env.exists() and main_env.read_text().endswith("\n"), "main's env")
        # runc: a name given twice keeps its first place and last value; an empty HOME is filled
        # (sh adds SHLVL and PWD and reorders; the order is checked on exec's below)
        got = set(main_env.read_text().split("\n")) - {"", "SHLVL=1", "PWD=/"}
        assert got == {"PATH=/bin", "A=2", "B=x", "HOME=/root"}
        # runc: exec -p runs exactly that process (no TERM, nothing of main's env)
        p = _exec(no_leaks, root, "-p", str(proc), "e1")
        assert (p.returncode, p.stdout) == (0, b"PATH=/bin\nX=3\nHOME=/root\n"), p.stderr
        # runc: exec CMD takes config.json's process; --env values are appended
        assert _exec(no_leaks, root, "e1", "env").stdout == b"PATH=/bin\nA=2\nB=x\nHOME=/root\n"
        assert _exec(no_leaks, root, "--env", "A=3", "--env", "C=1", "e1", "env").stdout == \
            b"PATH=/bin\nA=3\nB=x\nHOME=/root\nC=1\n"
        # runc: --user UID:GID; HOME from passwd, or / for a uid it lacks; groups are --additional-gids alone
        p = _exec(no_leaks, root, "--user", "1000:1000", "--additional-gids", "10", "--additional-gids", "20",
                  "e1", "id")
        assert p.stdout == b"uid=1000(foo) gid=1000(foo) groups=10,20\n", p
        assert _exec(no_leaks, root, "--user", "1000:1000", "e1", "sh", "-c", "echo $HOME; id").stdout == \
            b"/home/foo\nuid=1000(foo) gid=1000(foo)\n"
        assert _exec(no_leaks, root, "--user", "1234:1000", "e1", "sh", "-c", "echo $HOME; id").stdout == \
            b"/\nuid=1234 gid=1000(foo)\n"
        assert _exec(no_leaks, root, "--cwd", "/tmp", "e1", "sh", "-c", "pwd").stdout == b"/tmp\n"
        assert _exec(no_leaks, root, "--cap", "CAP_SYS_ADMIN", "e1", "true").returncode == 0  # runc: 0
        # runc: 255 for a process that cannot start, the reason on stderr; the process's own code otherwise
        p = _exec(no_leaks, root, "e1", "/nonexistent")
        assert p.returncode == 255 and b'exec: "/nonexistent": stat /nonexistent: no such file or directory' \
            in p.stderr, p
        assert _exec(no_leaks, root, "e1", "sh", "-c", "exit 3").returncode == 3
        # runc: exec -d returns once the process runs, so one that cannot start is the exec's own
        # error (containerd's ExecSync reports it as such): 255 and the reason
        p = _exec(no_leaks, root, "-d", "e1", "/nonexistent")
        assert p.returncode == 255 and b'level=error msg="exec failed: unable to start container process: ' \
            b'exec: \\"/nonexistent\\": stat /nonexistent: no such file or directory"' in p.stderr, p
        assert _exec(no_leaks, root, "-d", "e1", "true").returncode == 0
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "e1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def _console_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(1)
    return s


def _take_master(listener):
    """runc's console-socket protocol: one message carrying the pty master (SCM_RIGHTS)."""
    c, _ = listener.accept()
    with c:
        _, anc, _, _ = c.recvmsg(1024, socket.CMSG_LEN(4))
    fds = array.array("i")
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:4])
    return fds[0]


def _read_to_eio(fd):
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every slave is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    return out


def test_terminal_through_console_socket_as_runc(tmp_path, no_leaks):
    """process.terminal with --console-socket: what the caller reads from the master is
    what runc 1.1.5 gives for the same bundle, byte for byte: the guest pty's own
    ONLCR once (no CRLF added on the way), consoleSize applied, the pty owned by
    the process's uid (group tty, from devpts)."""
    root = tmp_path / "state"
    b, cfg = _bundle(tmp_path, ["sh", "-c", "echo a; echo b; stty size; ls -l $(tty) | cut -c1-40"])
    rootfs = b / "rootfs"
    for a in ("stty", "ls", "tty", "cut"):
        os.symlink("busybox", rootfs / "bin" / a)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nfoo:x:1000:1000::/home/foo:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nfoo:x:1000:\n")
    cfg["process"].update(terminal=True, user={"uid": 1000, "gid": 1000}, consoleSize={"height": 33, "width": 91})
    (b / "config.json").write_text(json.dumps(cfg))
    sock = tmp_path / "console.sock"
    listener = _console_socket(sock)
    try:
        rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "--console-socket", str(sock), "t1")
        assert rc == 0, out
        master = _take_master(listener)
    finally:
        listener.close()
    try:
        assert _rt(no_leaks, root, "start", "t1").returncode == 0
        until(lambda: _state(no_leaks, root, "t1")["status"] == "stopped", "the container to end")
        # runc 1.1.5, same bundle (gid 5 is devpts's tty group, unnamed in this /etc/group)
        assert _read_to_eio(master) == b"a\r\nb\r\n33 91\r\ncrw--w----    1 foo      5         136, \r\n"
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "t1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def test_spec_writes_runcs_default_config(tmp_path, no_leaks):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for d, cmd in ((ours, [RUNTIME]), (theirs, ["runc"])):
        d.mkdir()
        for args in ((), ("--rootless",)):
            sub = d / ("rootless" if args else "default")
            sub.mkdir()
            p = subprocess.run([*cmd, "spec", "--bundle", str(sub), *args], capture_output=True, env=no_leaks.env,
                               timeout=HANG_GUARD)
            assert p.returncode == 0, p.stderr
    # runc 1.1.5: the default config.json byte for byte; --rootless the same document
    assert (ours / "default" / "config.json").read_bytes() == (theirs / "default" / "config.json").read_bytes()
    assert json.loads((ours / "rootless" / "config.json").read_text()) == \
        json.loads((theirs / "rootless" / "config.json").read_text())
    cfg = json.loads((ours / "default" / "config.json").read_text())
    assert cfg["process"]["args"] == ["sh"] and cfg["root"] == {"path": "rootfs", "readonly": True}
    # runc: exit 1, "File config.json exists. Remove it first"
    p = subprocess.run([RUNTIME, "spec", "-b", str(ours / "default")], capture_output=True, env=no_leaks.env)
    assert p.returncode == 1 and b"File config.json exists. Remove it first" in p.stderr


def test_run_creates_starts_waits_and_deletes(tmp_path, no_leaks):
    """runc's run: the process's exit code, its output on run's stdio, the
    container deleted after (kept with --keep); -d returns once it runs, with
    --pid-file written."""
    root = tmp_path / "state"
    b, cfg = _bundle(tmp_path, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    out = tmp_path / "out"
    with open(out, "wb") as f:
        p = subprocess.run([RUNTIME, "--root", str(root), "run", "--bundle", str(b), "r1"], stdin=subprocess.DEVNULL,
                           stdout=f, stderr=f, env=no_leaks.env, timeout=HANG_GUARD)
    assert p.returncode == 3, out.read_bytes()  # runc: 3
    assert sorted(out.read_bytes().split()) == [b"err", b"out"]
    assert _rt(no_leaks, root, "list", "-q").stdout == b""  # runc: deleted
    cfg["process"]["args"] = ["sleep", "1000"]
    (b / "config.json").write_text(json.dumps(cfg))
    pid_file = tmp_path / "pid"
    with open(out, "wb") as f:
        p = subprocess.run([RUNTIME, "--root", str(root), "run", "-d", "--pid-file", str(pid_file), "--bundle", str(b),
                            "r2"], stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=no_leaks.env, timeout=HANG_GUARD)
    try:
        assert p.returncode == 0, out.read_bytes()
        st = _state(no_leaks, root, "r2")
        assert st["status"] == "running" and st["pid"] == int(pid_file.read_text())
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "r2").returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def test_no_descriptor_of_the_caller_leaks_into_the_monitor(tmp_path, no_leaks):
    """runc's fd-leak check: the caller holds several files open (inheritable)
    across create; the container's pid (our monitor, which later starts the
    shim) holds none of them (runc's init: none either)."""
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["true"])
    leaks = [open(tmp_path / f"leak-{i}", "w") for i in range(4)]
    try:
        fds = [f.fileno() for f in leaks]
        for fd in fds:
            os.set_inheritable(fd, True)
        out = tmp_path / "ctr-out"
        with open(out, "wb") as f:
            p = subprocess.run([RUNTIME, "--root", str(root), "create", "--bundle", str(b), "--pid-file",
                                str(tmp_path / "pid"), "l1"], stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                               env=no_leaks.env, timeout=HANG_GUARD, pass_fds=fds)
        assert p.returncode == 0, out.read_bytes()
    finally:
        for f in leaks:
            f.close()
    try:
        pid = int((tmp_path / "pid").read_text())
        held = [os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")]
        assert not [h for h in held if "leak-" in h], held
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "l1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def test_global_flags_as_runc(tmp_path, no_leaks):
    root = tmp_path / "state"
    log = tmp_path / "sub-log.json"
    # runc: --log is created at start even when no line comes; --systemd-cgroup accepted
    p = _rt(no_leaks, root, "--debug", "--log", str(log), "--log-format", "json", "--systemd-cgroup", "list")
    assert p.returncode == 0 and log.exists()
    # runc --version: "runc version V", "commit: C", "spec: S" (then go/libseccomp lines)
    lines = _rt(no_leaks, root, "--version").stdout.decode().splitlines()
    assert [l.split(" ")[0] for l in lines[:3]] == ["boxvm-runtime", "commit:", "spec:"]
    assert lines[0].startswith("boxvm-runtime version ") and lines[2] == "spec: 1.0.2"


def test_messages_in_runcs_form(tmp_path, no_leaks):
    """runc 1.1.5 (logrus): without --log an error is one text line on stderr,
    time="2026-11-30T17:24:38Z" level=error msg="container does not exist";
    with --log FILE that line goes to the file and stderr has the bare message;
    --debug adds level=debug lines where the errors go."""
    import re
    root = tmp_path / "state"
    p = _rt(no_leaks, root, "state", "nope")
    assert p.returncode == 1
    assert re.fullmatch(rb'time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=error '
                        rb'msg="container \\"nope\\" does not exist"\n', p.stderr), p.stderr
    log = tmp_path / "log.txt"
    p = _rt(no_leaks, root, "--log", str(log), "state", "nope")
    assert p.returncode == 1 and p.stderr == b'container "nope" does not exist\n'
    assert re.fullmatch(r'time="[^"]+" level=error msg="container \\"nope\\" does not exist"\n', log.read_text())
    b, cfg = _bundle(tmp_path, ["true"], hooks={"poststop": [{"path": "/bin/true"}]})
    log.unlink()
    rc, _ = _create(no_leaks, root, tmp_path, "--bundle", str(b), "d1")
    assert rc == 0
    p = _rt(no_leaks, root, "--debug", "--log", str(log), "delete", "d1")
    assert p.returncode == 0 and p.stderr == b""
    assert 'level=debug msg="running poststop hook #0: /bin/true"' in log.read_text()
    p = _rt(no_leaks, root, "--debug", "state", "d1")
    assert b"level=error" in p.stderr


HOOK = """#!/bin/sh
# $1: the hook's kind; $2: "fail" to fail as runc's callers see it
printf '%s %s HOOKENV=%s\\n' "$1" "$(cat)" "$HOOKENV" >> "$(dirname "$0")/hooks.log"
[ "$2" = fail ] && { echo "out of $1"; echo "hook $1 says no" >&2; exit 3; }
[ "$2" = hang ] && exec sleep 1000
exit 0
"""


def _hooks(tmp_path, **how):
    """config.json hooks running tmp_path/hook.sh for every kind runc runs on the host."""
    script = tmp_path / "hook.sh"
    script.write_text(HOOK)
    script.chmod(0o755)
    hooks = {}
    for kind in ("prestart", "createRuntime", "createContainer", "poststart", "poststop"):
        h = {"path": str(script), "args": ["hook.sh", kind, how.get(kind, "ok")], "env": ["HOOKENV=" + kind]}
        if how.get(kind) == "hang":
            h["timeout"] = 1
        hooks[kind] = [h]
    return hooks


def _hook_log(tmp_path):
    """[(kind, state, HOOKENV)] in the order the hooks ran."""
    log = tmp_path / "hooks.log"
    out = []
    for line in log.read_text().splitlines() if log.exists() else []:
        kind, rest = line.split(" ", 1)
        state, env = rest.rsplit(" HOOKENV=", 1)
        out.append((kind, json.loads(state), env))
    return out


def test_hooks_run_on_the_host_as_runc_runs_them(tmp_path, no_leaks):
    """OCI hooks run on the host (as Kata's do: the VM is the container's
    namespace), each with the runtime-spec state on stdin and only its own env.
    runc 1.1.5, same hooks: prestart, createRuntime and createContainer during
    create with status "creating" and the container's pid; poststop at delete
    with status "stopped" and no pid. (runc 1.1.5 runs poststart at create
    too, a bug runc 1.2 fixed: it and the spec run it after start, "running".)"""
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["sleep", "1000"], hooks=_hooks(tmp_path))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "--pid-file", str(tmp_path / "pid"), "h1")
    assert rc == 0, out
    pid = int((tmp_path / "pid").read_text())
    try:
        ran = _hook_log(tmp_path)
        assert [k for k, _, _ in ran] == ["prestart", "createRuntime", "createContainer"]
        for kind, state, env in ran:
            assert state == {"ociVersion": "1.0.2", "id": "h1", "status": "creating", "pid": pid, "bundle": str(b)}
            assert env == kind  # the hook's env alone
        p = _rt(no_leaks, root, "start", "h1")
        assert p.returncode == 0, p.stderr
        kind, state, _ = _hook_log(tmp_path)[-1]
        assert (kind, state["status"], state["pid"]) == ("poststart", "running", pid)
        assert _state(no_leaks, root, "h1")["status"] == "running"
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "h1").returncode == 0
    kind, state, _ = _hook_log(tmp_path)[-1]
    assert (kind, state) == ("poststop", {"ociVersion": "1.0.2", "id": "h1", "status": "stopped", "bundle": str(b)})
    assert len(_hook_log(tmp_path)) == 5


def test_failing_hooks_as_runc(tmp_path, no_leaks):
    """runc 1.1.5: a failing prestart fails create (exit 1) with
    'error running hook #0: error running hook: exit status 3, stdout: ...,
    stderr: ...', the container is gone and its poststop hooks ran; a hook past
    its timeout is killed ('hook ran past specified timeout of 1.0s'); a
    failing poststart fails start and ends the container; a failing poststop
    is reported but the delete succeeds."""
    root = tmp_path / "state"
    b, cfg = _bundle(tmp_path, ["sleep", "1000"], hooks=_hooks(tmp_path, prestart="fail"))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "h2")
    assert rc == 1
    assert (b"error running hook #0: error running hook: exit status 3, stdout: out of prestart, "
            b"stderr: hook prestart says no") in out
    assert [k for k, _, _ in _hook_log(tmp_path)] == ["prestart", "poststop"]
    p = _rt(no_leaks, root, "state", "h2")
    assert p.returncode == 1 and b'container \\"h2\\" does not exist' in p.stderr  # logrus quotes msg

    (tmp_path / "hooks.log").unlink()
    cfg["hooks"] = _hooks(tmp_path, createRuntime="hang")
    (b / "config.json").write_text(json.dumps(cfg))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "h2")
    assert rc == 1 and b"error running hook #0: hook ran past specified timeout of 1.0s" in out
    assert [k for k, _, _ in _hook_log(tmp_path)] == ["prestart", "createRuntime", "poststop"]

    (tmp_path / "hooks.log").unlink()
    cfg["hooks"] = _hooks(tmp_path, poststart="fail", poststop="fail")
    cfg["hooks"]["prestart"].insert(0, {"path": str(tmp_path / "missing-hook")})
    (b / "config.json").write_text(json.dumps(cfg))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "h2")
    assert rc == 1 and b"error running hook #0: fork/exec " + str(tmp_path / "missing-hook").encode() in out

    del cfg["hooks"]["prestart"][0]
    (b / "config.json").write_text(json.dumps(cfg))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "h2")
    assert rc == 0, out
    try:
        p = _rt(no_leaks, root, "start", "h2")
        assert p.returncode == 1 and b"stderr: hook poststart says no" in p.stderr
        assert _state(no_leaks, root, "h2")["status"] == "stopped"
    finally:
        p = _rt(no_leaks, root, "delete", "--force", "h2")
    assert p.returncode == 0 and b"stderr: hook poststop says no" in p.stderr
    assert not (root / "h2").exists()


def test_mounts_as_runc(tmp_path, no_leaks):
    """Mounts as runc 1.1.5 makes them for the same bundle (measured here):
    a relative bind source lies in the bundle; a tmpfs gets only the flags it
    names ("ro" honoured) and, without mode=, the mode of the directory it
    covers (1777 on a 1777 /tmp, 755 on a 755 one); /dev is a tmpfs with the
    standard nodes, /dev/mqueue is there, /sys/fs/cgroup is read-only; and a
    rootfs whose /proc is a symlink is refused at create with runc's words."""
    script = ("stat -c '%a %n' /tmp /ro /dev /dev/mqueue; grep -E ' /(tmp|ro|sys/fs/cgroup) ' /proc/mounts;"
              " touch /ro/x 2>/dev/null || echo ro-refused; cat /data/f; ls /dev | tr '\\n' ' '")
    mounts = [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
              {"destination": "/ro", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]},
              {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind"]}]
    b, cfg = _bundle(tmp_path, ["sh", "-c", script])
    cfg["mounts"] += mounts
    (b / "config.json").write_text(json.dumps(cfg))
    os.chmod(b / "rootfs" / "tmp", 0o1777)
    (b / "rootfs" / "ro").mkdir(mode=0o755)
    (b / "data").mkdir()
    (b / "data" / "f").write_text("from the bundle\n")
    root = tmp_path / "state"
    p = _rt(no_leaks, root, "run", "--bundle", str(b), "m1", stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert lines[:4] == ["1777 /tmp", "755 /ro", "755 /dev", "1777 /dev/mqueue"], lines
    opts = {l.split()[1]: l.split()[3].split(",") for l in lines if l.startswith(("tmpfs ", "cgroup"))}
    assert "nosuid" in opts["/tmp"] and not {"nodev", "noexec", "ro"} & set(opts["/tmp"]), opts
    assert "ro" in opts["/ro"] and not {"nosuid", "nodev", "noexec"} & set(opts["/ro"]), opts
    assert "ro" in opts["/sys/fs/cgroup"], opts
    assert lines[-3:-1] == ["ro-refused", "from the bundle"], lines
    assert lines[-1].split() == ["fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
                                 "stdout", "tty", "urandom", "zero"]
    # runc: error mounting "proc" to rootfs at "/proc": filesystem "proc" must be mounted on ordinary directory
    (b / "rootfs" / "proc").rmdir()
    (b / "rootfs" / "proc").symlink_to("/tmp")
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "m2")
    assert rc == 1
    assert b'filesystem \\"proc\\" must be mounted on ordinary directory' in out, out
    assert not (root / "m2").exists()


def test_exec_tty_without_a_console_socket_as_runc(tmp_path, no_leaks):
    """runc 1.1.5's exec -t without --console-socket: the caller's own
    terminal carries the session (its size is the process's); with no terminal
    at all, exit 255 and 'exec failed: open /dev/tty: no such device or
    address'; detached, 'cannot allocate tty if runc will detach without
    setting console socket'."""
    import fcntl
    import pty
    import struct
    import termios
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["sleep", "1000"])
    for a in ("stty", "tty"):
        os.symlink("busybox", b / "rootfs" / "bin" / a)
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "x1")
    assert rc == 0, out
    try:
        assert _rt(no_leaks, root, "start", "x1").returncode == 0
        pid, master = pty.fork()
        if pid == 0:  # the caller, on a terminal of 27 rows and 83 columns
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 27, 83, 0, 0))
            os.execve(RUNTIME, [RUNTIME, "--root", str(root), "exec", "-t", "x1", "sh", "-c",
                                "stty size; tty; echo done"], no_leaks.env)
        got = _read_to_eio(master)
        _, st = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(st) == 0, got
        assert got.replace(b"\r", b"").split(b"\n")[:3] == [b"27 83", b"/dev/pts/0", b"done"], got
        # no terminal: stdin a pipe and no controlling terminal (a new session)
        p = subprocess.run([RUNTIME, "--root", str(root), "exec", "-t", "x1", "true"], stdin=subprocess.DEVNULL,
                           capture_output=True, env=no_leaks.env, timeout=HANG_GUARD, start_new_session=True)
        assert p.returncode == 255 and b"exec failed: open /dev/tty: no such device or address" in p.stderr, p
        p = _exec(no_leaks, root, "-t", "-d", "x1", "true")
        assert p.returncode == 255 and b"exec failed: cannot allocate tty if" in p.stderr, p
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "x1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)


def test_events_stats_as_runc(tmp_path, no_leaks):
    """runc 1.1.5's events: --stats prints one {"type":"stats","id":ID,"data":{...}} line
    (cpu.usage.total, memory.usage, pids.current, network_interfaces: here the guest's
    numbers); without it a line every --interval until the container stops; a container
    that is not running: 'container with id ID is not running', exit 1."""
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["sleep", "1000"])
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "e1")
    assert rc == 0, out
    try:
        p = _rt(no_leaks, root, "events", "--stats", "e1")
        assert p.returncode == 1 and b"container with id e1 is not running" in p.stderr, p
        assert _rt(no_leaks, root, "start", "e1").returncode == 0
        p = _rt(no_leaks, root, "events", "--stats", "e1")
        assert p.returncode == 0, p.stderr
        ev = json.loads(p.stdout)
        assert (ev["type"], ev["id"]) == ("stats", "e1")
        d = ev["data"]
        assert d["cpu"]["usage"]["total"] > 0 and d["pids"]["current"] >= 1
        assert 0 < d["memory"]["usage"]["usage"] < d["memory"]["usage"]["limit"]
        assert d["network_interfaces"][0]["name"] == "eth0"
        follow = subprocess.Popen([RUNTIME, "--root", str(root), "events", "--interval", "100ms", "e1"],
                                  stdout=subprocess.PIPE, env=no_leaks.env)
        lines = [follow.stdout.readline() for _ in range(2)]
        assert all(json.loads(l)["type"] == "stats" for l in lines), lines
        assert _rt(no_leaks, root, "kill", "e1", "KILL").returncode == 0
        follow.stdout.read()  # ends once the container has stopped
        assert follow.wait(timeout=HANG_GUARD) == 0
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "e1").returncode == 0
    assert not os.listdir(no_leaks.run_dir)
