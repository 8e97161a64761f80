"""boxvm exec / exec -it / run -it / attach / cp / top against real microVMs.

Most tests share one detached box whose main process forks and abandons a
child continuously, so every exec also checks that exit codes stay the
child's own while the agent reaps orphans. Interactive sessions are driven
through tmux. Time limits are hang guards only."""
import hashlib
import os
import random
import select
import shutil
import signal
import subprocess

import pytest

from conftest import BOXVM, until

ORPHAN_LOOP = "while :; do (sleep 0.05 &); sleep 0.1; done"
GUARD = 120


def _stop(bx, ref):
    """Stop a box through its shim (SIGTERM: the shim's contract) and wait until it is gone."""
    run = os.path.join(bx.run_dir, ref[:12])
    try:
        pid = int(open(os.path.join(run, "shim.pid")).read())
        pidfd = os.pidfd_open(pid)
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    # the box is gone once its shim has exited (it removes the runtime dir
    # before its last steps, so that alone is not the end)
    try:
        ready, _, _ = select.select([pidfd], [], [], GUARD)
        assert ready, f"the shim (pid {pid}) did not exit within {GUARD} s of SIGTERM"
    finally:
        os.close(pidfd)


@pytest.fixture(scope="module")
def box(bx):
    p = bx("run", "-d", "--rm", "--network", "none", "busybox", "sh", "-c", ORPHAN_LOOP, check=0)
    ref = p.stdout.decode().strip()
    assert len(ref) == 64, p
    yield bx, ref
    _stop(bx, ref)


@pytest.mark.parametrize("flags,cmd,code", [
    ([], ["true"], 0),
    ([], ["false"], 1),
    ([], ["sh", "-c", "exit 7"], 7),
    ([], ["no-such-command"], 126),  # Docker: every exec that cannot start is 126
    ([], ["/etc/passwd"], 126),
    (["--timeout", "1"], ["sleep", "100"], 137),
])
def test_exit_codes(box, flags, cmd, code):
    bx, ref = box
    p = bx("exec", *flags, ref, *cmd)
    assert p.returncode == code, p
    if code in (126, 127):
        assert cmd[0].encode() in p.stderr


def test_stdout_stderr_separate(box):
    bx, ref = box
    p = bx("exec", ref, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, b"out\n", b"err\n")


def test_env_workdir_user_and_box_env(box):
    bx, ref = box
    p = bx("exec", "-e", "A=1", "-w", "/tmp", "-u", "1000", ref, "sh", "-c",
           'echo $A $(pwd) $(id -u) $PATH', check=0)
    assert p.stdout == b"1 /tmp 1000 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"


def test_100mib_stdout_intact(box):
    bx, ref = box
    size = 100 * 1024 * 1024
    p = bx("exec", ref, "sh", "-c", f"yes 0123456789abcdef | head -c {size}", check=0)
    expect = (b"0123456789abcdef\n" * (size // 17 + 1))[:size]
    assert len(p.stdout) == size
    assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(expect).digest()


def test_50mib_stdin_roundtrip(box):
    bx, ref = box
    data = random.randbytes(50 * 1024 * 1024)
    p = bx("exec", "-i", ref, "sha256sum", input=data, check=0)
    assert p.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_20_concurrent_execs_and_no_zombies(box):
    bx, ref = box
    procs = [subprocess.Popen([BOXVM, "exec", ref, "sh", "-c", f"echo {i}; exit {i}"], env=bx.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(20)]
    for i, pr in enumerate(procs):
        out, err = pr.communicate(timeout=GUARD)
        assert (pr.returncode, out) == (i, f"{i}\n".encode()), err
    # main keeps abandoning children; none of them (nor the execs') may stay a zombie
    samples = []
    for _ in range(3):
        p = bx("exec", ref, "sh", "-c", "grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l", check=0)
        samples.append(int(p.stdout))
    assert min(samples) == 0 and max(samples) <= 1, samples


def test_killed_client_leaves_no_guest_process(box):
    bx, ref = box
    pr = subprocess.Popen([BOXVM, "exec", ref, "sleep", "777"], env=bx.env)

    def running():
        return b"sleep 777" in bx("exec", ref, "ps", "-o", "args", check=0).stdout
    until(running, "sleep 777 never started")
    pr.kill()
    pr.wait()
    until(lambda: not running(), "sleep 777 survived its killed client")



def test_execs_outlive_the_main_they_end(bx):
    """An exec whose command makes main exit, and one killed as the box ends: each client still gets its output
    and its command's exit status, though neither read a byte until main had exited. Before: main's EXIT went
    first, the agent powered off on its acknowledgement, and the shim dropped what a client had not read yet,
    so both got "the connection to the box ended before the command exited"."""
    name = "outlive-" + os.urandom(4).hex()
    main = subprocess.Popen([BOXVM, "run", "--rm", "--name", name, "--network", "none", "busybox", "sh", "-c",
                             "mkfifo /f && echo ready && cat /f && echo main-done"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bx.env)
    try:
        assert main.stdout.readline() == b"ready\n"
        # never done by itself (more than every buffer on the way holds): killed with main, its EXIT can only
        # go out once its client reads, after main's
        killed = subprocess.Popen([BOXVM, "exec", name, "head", "-c", "50000000", "/dev/zero"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bx.env)
        first = killed.stdout.read(1)  # it runs: its session is open before main is made to end
        # done before main: all its output waits on the host side, unread, while the VM powers off
        ender = subprocess.Popen([BOXVM, "exec", name, "sh", "-c", "head -c 400000 /dev/zero; exec 3>/f; exit 5"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bx.env)
        assert main.stdout.readline() == b"main-done\n"
        # the killed one first: its end lets the VM go while the other's output still waits on the host
        out, err = killed.communicate(timeout=GUARD)
        out = first + out
        assert killed.returncode == 137 and 1 < len(out) < 50000000 and out.count(0) == len(out), (err, len(out))
        out, err = ender.communicate(timeout=GUARD)
        assert (ender.returncode, len(out), out.count(0)) == (5, 400000, 400000), err
        assert main.wait(timeout=GUARD) == 0
    finally:
        if main.poll() is None:
            main.kill()
        bx("rm", "-f", name, check=None)

def test_exec_detached_runs_on_after_return(box):
    bx, ref = box
    # the detached command blocks on a fifo: exec -d must return while it runs,
    # and it must survive the client leaving (a normal exec's would be killed)
    p = bx("exec", "-d", ref, "sh", "-c", "mkfifo /tmp/dfifo && cat /tmp/dfifo > /tmp/dout", check=0)
    assert p.stdout == b"" and p.stderr == b""
    out = bx("exec", ref, "sh", "-c", "until [ -p /tmp/dfifo ]; do sleep 0.1; done; echo via-fifo > /tmp/dfifo; "
             "until [ -s /tmp/dout ]; do sleep 0.1; done; cat /tmp/dout", timeout=GUARD, check=0).stdout
    assert out == b"via-fifo\n"
    # a refused start is reported like a plain exec's, exit 1 as Docker's `exec -d`
    p = bx("exec", "-d", ref, "no-such-command", check=1)
    assert b"no-such-command" in p.stderr and p.stderr.count(b"\n") == 1


def test_exec_env_file(box, tmp_path):
    bx, ref = box
    f = tmp_path / "env.list"
    f.write_text("# comment\nFROM_FILE=file value\nBOTH=from-file\n\nCOPIED\n")
    out = bx("exec", "-e", "BOTH=from-flag", "--env-file", str(f), ref, "sh", "-c",
             'echo "$FROM_FILE|$BOTH|$COPIED"', env={"COPIED": "from-caller"}, check=0).stdout
    assert out == b"file value|from-flag|from-caller\n"  # -e wins over the file, wherever it stands
    p = bx("exec", "--env-file", str(tmp_path / "missing"), ref, "true", check=1)  # Docker: 1
    assert b"missing" in p.stderr


def test_top(box):
    bx, ref = box
    p = bx("top", ref, check=0)
    assert b"PID" in p.stdout and b"/init" in p.stdout


def test_cp_both_ways_binary(box, tmp_path):
    bx, ref = box
    src = tmp_path / "blob.bin"
    data = random.randbytes(3 * 1024 * 1024 + 17)
    src.write_bytes(data)
    bx("cp", str(src), f"{ref}:/tmp/copied.bin", check=0)
    p = bx("exec", ref, "sha256sum", "/tmp/copied.bin", check=0)
    assert p.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    back = tmp_path / "back.bin"
    bx("cp", f"{ref}:/tmp/copied.bin", str(back), check=0)
    assert back.read_bytes() == data
    # a directory into an existing directory, and out again
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_bytes(b"x")
    bx("cp", str(d), f"{ref}:/tmp", check=0)
    assert bx("exec", ref, "cat", "/tmp/tree/sub/f", check=0).stdout == b"x"
    out = tmp_path / "out"
    out.mkdir()
    bx("cp", f"{ref}:/tmp/tree", str(out), check=0)
    assert (out / "tree" / "sub" / "f").read_bytes() == b"x"
    assert not [n for n in os.listdir(out) if n.startswith(".boxvm-cp")]
    p = bx("cp", f"{ref}:/no/such", str(out / "x"))
    assert p.returncode != 0 and b"no such file" in p.stderr
    # the guest sent nothing: cp's error is the copy's failure, not an "unreadable archive"
    assert b"copying /no/such out of box" in p.stderr.splitlines()[-1], p.stderr


def _owned_tree(tmp_path):
    """src/ (0755) holding f (1000:1001 0750) and sub/ (1000:1001 0700)."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "f").write_text("hi\n")
    os.chmod(src / "f", 0o750)
    os.chmod(src / "sub", 0o700)
    os.chown(src / "f", 1000, 1001)
    os.chown(src / "sub", 1000, 1001)
    return src


def test_cp_forms_and_owners_as_docker(box, tmp_path):
    """Docker 20.10's answers for the same copies: into a box owners and modes are kept (with or
    without -a); out of it files are the caller's, modes kept; SRC/. copies a directory's contents,
    into a new DEST or merged into an existing one."""
    bx, ref = box
    src = _owned_tree(tmp_path)
    bx("cp", str(src), f"{ref}:/tmp/", check=0)
    bx("cp", "-a", str(src), f"{ref}:/tmp/srca", check=0)
    bx("cp", str(src) + "/.", f"{ref}:/tmp/contents", check=0)
    show = "stat -c '%u:%g %a %n' /tmp/src /tmp/src/f /tmp/src/sub /tmp/srca/f /tmp/contents/f /tmp/contents/sub"
    assert bx("exec", ref, "sh", "-c", show, check=0).stdout.decode() == (
        "0:0 755 /tmp/src\n1000:1001 750 /tmp/src/f\n1000:1001 700 /tmp/src/sub\n1000:1001 750 /tmp/srca/f\n"
        "1000:1001 750 /tmp/contents/f\n1000:1001 700 /tmp/contents/sub\n")
    back = tmp_path / "back"
    bx("cp", f"{ref}:/tmp/srca", str(back), check=0)
    assert (os.stat(back / "f").st_uid, oct(os.stat(back / "f").st_mode & 0o7777)) == (os.getuid(), "0o750")
    # the contents form: a new directory, then merged into an existing one
    bx("cp", f"{ref}:/tmp/srca/.", str(tmp_path / "new"), check=0)
    assert sorted(os.listdir(tmp_path / "new")) == ["f", "sub"]
    exist = tmp_path / "exist"
    (exist / "sub").mkdir(parents=True)
    (exist / "sub" / "mine").write_text("kept")
    bx("cp", f"{ref}:/tmp/srca/.", str(exist), check=0)
    assert sorted(os.listdir(exist)) == ["f", "sub"] and sorted(os.listdir(exist / "sub")) == ["mine"]
    # a directory's contents onto a file: an error (Docker: exit 1)
    p = bx("cp", f"{ref}:/tmp/srca/.", str(exist / "f"))
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1, p


def test_cp_of_a_box_that_is_not_running(bx, tmp_path):
    """Docker copies to and from a stopped container; boxvm does it on the host, and a symlink
    in the box resolves inside the box's root, never on the host. (Not no_leaks: this
    module's shared box runs meanwhile; the session's teardown checks for leaks.)"""
    src = _owned_tree(tmp_path)
    (tmp_path / "to-etc").symlink_to("/etc")                 # absolute
    (tmp_path / "up-etc").symlink_to("../../../../../../etc")  # climbing
    bx("create", "--name", "cp-cold", "busybox", "sh", "-c", "cat /tmp/src/f /etc/planted", check=0)
    try:
        bx("cp", str(src), "cp-cold:/tmp/", check=0)
        bx("cp", str(tmp_path / "to-etc"), "cp-cold:/tmp/evil", check=0)
        bx("cp", str(tmp_path / "up-etc"), "cp-cold:/tmp/evil2", check=0)
        # written through the box's links: into the box's /etc, not the host's
        planted = tmp_path / "planted"
        planted.write_text("in the box\n")
        bx("cp", str(planted), "cp-cold:/tmp/evil/", check=0)
        assert not os.path.exists("/etc/planted")
        # read through them: the box's /etc/passwd (busybox's), not the host's
        bx("cp", "cp-cold:/tmp/evil2/passwd", str(tmp_path / "passwd"), check=0)
        assert (tmp_path / "passwd").read_bytes() != open("/etc/passwd", "rb").read()
        assert b"root:" in (tmp_path / "passwd").read_bytes()
        bx("cp", "cp-cold:/tmp/src", str(tmp_path / "out"), check=0)
        assert (tmp_path / "out" / "f").read_text() == "hi\n"
        assert oct(os.stat(tmp_path / "out" / "sub").st_mode & 0o777) == "0o700"
        tar = bx("cp", "cp-cold:/tmp/src/f", "-", check=0).stdout
        import io
        import tarfile
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            assert t.getnames() == ["f"] and t.extractfile("f").read() == b"hi\n"
        p = bx("cp", "cp-cold:/no/such", str(tmp_path / "x"))
        assert p.returncode == 1 and b"no such file or directory in the box" in p.stderr, p
        # what was copied in is there when it runs
        assert bx("start", "-a", "cp-cold", check=0).stdout == b"hi\nin the box\n"
        assert bx("exec", "cp-cold", "true").returncode == 1  # it ended: not running
        assert not [n for n in os.listdir(tmp_path) if n.startswith(".boxvm-cp")]
    finally:
        bx("rm", "-f", "cp-cold", check=0)


def test_exec_starts_without_the_whole_cli(box):
    """`boxvm` is a small front (src/cli/front.c): exec runs in it without
    loading the libraries of the rest of the CLI, whose dynamic linking was
    ~5.5 ms of every exec's start; every other command is boxvm-cli, exec'd in
    the same process (same pid, argv, exit code)."""
    libs = subprocess.run(["ldd", BOXVM], capture_output=True, check=True).stdout.decode()
    for heavy in ("libcurl", "libgnutls", "libarchive", "libmicrohttpd", "libseccomp", "libcrypto"):
        assert heavy not in libs, libs
    full = subprocess.run(["ldd", os.path.join(os.path.dirname(BOXVM), "boxvm-cli")], capture_output=True,
                          check=True).stdout.decode()
    assert "libcurl" in full and "libarchive" in full, full
    bx, ref = box
    assert bx("exec", ref, "echo", "hi").stdout == b"hi\n"
    assert ref in bx("ps", "-q", "--no-trunc", check=0).stdout.decode()
    p = bx("nosuchcommand")
    assert p.returncode == 1 and b"'nosuchcommand' is not a boxvm command" in p.stderr, p


def test_user_lookup_sees_every_passwd_and_group_change(bx):
    """PID 1 keeps the box's /etc/passwd and /etc/group between spawns while
    stat says they are unchanged (src/agent/userdb.c); whatever the box
    changes is what the next exec resolves its user with: an in-place
    rewrite of the same size (same inode), new files, a new group."""
    ref = bx("run", "-d", "--rm", "--network", "none", "busybox", "sleep", "100000", check=0).stdout.decode().strip()
    try:
        def sh(cmd, *flags):
            return bx("exec", *flags, ref, "sh", "-c", cmd, check=0).stdout

        assert sh("echo $HOME") == b"/root\n"
        assert sh("echo $HOME") == b"/root\n"  # read once more: kept from here on
        before = sh("stat -c '%i %s' /etc/passwd")
        sh("sed 's|:/root:|:/rooX:|' /etc/passwd > /tmp/p && dd if=/tmp/p of=/etc/passwd conv=notrunc 2>/dev/null")
        assert sh("stat -c '%i %s' /etc/passwd") == before  # rewritten in place: same inode, same size
        assert sh("echo $HOME") == b"/rooX\n"
        # appended (same inode, grown), then a new file put in place (a new inode)
        sh("echo crew:x:4242: >> /etc/group && echo extra:x:4244:bob >> /etc/group && "
           "echo bob:x:4243:4242::/home/bob:/bin/sh >> /etc/passwd")
        assert sh("id; echo $HOME", "-u", "bob") == \
            b"uid=4243(bob) gid=4242(crew) groups=4242(crew),4244(extra)\n/home/bob\n"
        sh("sed /^extra:/d /etc/group > /tmp/g && mv /tmp/g /etc/group")
        assert sh("id -G", "-u", "bob") == b"4242\n"
    finally:
        _stop(bx, ref)


def test_errors(box):
    bx, ref = box
    p = bx("exec", "no-such-box", "true")
    assert p.returncode == 1 and b"no such box" in p.stderr  # Docker: exec's own errors exit 1
    p = bx("exec", "-it", ref, "sh", input=b"")
    assert p.returncode == 1 and b"not a TTY" in p.stderr


# ---- interactive sessions through tmux ----

class Tmux:
    """One tmux server per session (-L): test workers share no server, so one
    worker killing its last session never races another worker's new-session
    against a server that is shutting down ("server exited unexpectedly").
    Each start() gets a fresh server name for the same reason: kill-server
    returns before the old server has gone, so reusing its socket races."""

    def __init__(self, bx):
        self.bx, self.name = bx, None

    def _new_name(self):
        self.kill()
        self.name = f"bxt{os.getpid()}x{random.randrange(1 << 30)}"

    def cmd(self, *args, **kw):
        return subprocess.run(["tmux", "-L", self.name, *args], **kw)

    def start(self, cmd, status_file):
        env = " ".join(f"{k}={self.bx.env[k]}" for k in ("BOXVM_ROOT", "BOXVM_RUNTIME_DIR", "BOXVM_KERNEL_DIR",
                                                           "BOXVM_KERNEL", "BOXVM_TAILORED_KERNEL_DIR",
                                                           "ASAN_OPTIONS"))
        shell = f"env {env} {cmd}; echo $? > {status_file}; sleep 600"
        self._new_name()
        self.cmd("new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", shell, check=True)

    def keys(self, *keys):
        self.cmd("send-keys", "-t", self.name, *keys, check=True)

    def screen(self):
        return self.cmd("capture-pane", "-p", "-t", self.name, capture_output=True, text=True).stdout

    def wait_screen(self, text):
        until(lambda: text in self.screen(), f"{text!r} on screen; screen was:\n{self.screen()}")

    def kill(self):
        if self.name:
            self.cmd("kill-server", capture_output=True)


@pytest.fixture
def tmux(bx, request):
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed (scripts/install-deps.sh installs it)")
    t = Tmux(bx)
    yield t
    t.kill()


def resize_and_see_it(tmux):
    """Resize tmux's window from 24x80 to 30x100; the shell in the box sees the new size.
    The size travels apart from the keystrokes (a docker CLI sends it as its own HTTP
    request), so the shell is asked first to wait for the change, then to print it."""
    tmux.keys('while [ "$(stty size)" = "24 80" ]; do sleep 0.1; done; clear; stty size', "Enter")
    tmux.cmd("resize-window", "-t", tmux.name, "-x", "100", "-y", "30", check=True)
    tmux.wait_screen("30 100")


def _status(path):
    until(lambda: os.path.exists(path) and open(path).read().strip(), "the session's exit status")
    return int(open(path).read())


def test_exec_it_terminal(box, tmux, tmp_path):
    bx, ref = box
    st = str(tmp_path / "status")
    tmux.start(f"{BOXVM} exec -it {ref} sh", st)
    tmux.keys("stty size; echo TERM=$TERM", "Enter")
    tmux.wait_screen("24 80")
    tmux.wait_screen("TERM=xterm")
    resize_and_see_it(tmux)
    tmux.keys("sleep 100", "Enter")
    until(lambda: b"sleep 100" in bx("exec", ref, "ps", "-o", "args", check=0).stdout, "sleep started")
    tmux.keys("C-c")
    # the shell's status for a command interrupted by SIGINT
    tmux.keys("echo after=$?", "Enter")
    tmux.wait_screen("after=130")
    tmux.keys("exit 3", "Enter")
    assert _status(st) == 3


@pytest.mark.parametrize("trial", range(3))
def test_run_it_right_after_boot(bx, tmux, tmp_path, trial):
    st = str(tmp_path / "status")
    tmux.start(f"{BOXVM} run -it --rm --network none busybox sh", st)
    # typed at once, while the VM is still booting: nothing may be lost
    tmux.keys("echo ready$((40+2))", "Enter")
    tmux.wait_screen("ready42")
    tmux.keys("exit 5", "Enter")
    assert _status(st) == 5


def test_attach_detach(bx, tmux, tmp_path):
    p = bx("run", "-d", "-it", "--rm", "--network", "none", "busybox", "sh", check=0)
    ref = p.stdout.decode().strip()
    try:
        st = str(tmp_path / "status")
        tmux.start(f"{BOXVM} attach {ref}", st)
        tmux.keys("echo hi$((2+3))", "Enter")
        tmux.wait_screen("hi5")
        tmux.keys("C-p", "C-q")
        assert _status(st) == 0
        # detached, not stopped: the shell still runs
        assert bx("exec", ref, "true").returncode == 0
        st2 = str(tmp_path / "status2")
        tmux.start(f"{BOXVM} attach {ref}", st2)
        tmux.keys("exit 4", "Enter")
        assert _status(st2) == 4
    finally:
        _stop(bx, ref)
