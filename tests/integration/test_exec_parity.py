"""exec start failures and signals answer as Docker 20.10 does.

Every expected code and message here was taken from the reference Docker
(../shared/tools/docker-ref, runc 1.1.5) running the same command on busybox,
not from boxvm. Docker writes an exec start failure as one line on stdout,
`OCI runtime exec failed: exec failed: unable to start container process:
<runc's words>: unknown`; boxvm writes runc's words on stderr, after its
`boxvm: ` (docs/docker-parity.md). Time limits are hang guards only."""
import signal
import subprocess

import pytest

from conftest import BOXVM, HANG_GUARD, until


def runc_words(docker_line):
    """The part of Docker's line that says what was wrong (runc's words)."""
    line = docker_line.removeprefix(b"OCI runtime exec failed: exec failed: ")
    return line.removeprefix(b"unable to start container process: ").removesuffix(b": unknown")


@pytest.fixture(scope="module")
def box(bx):
    bx("run", "-d", "--network", "none", "--name", "exec-parity", "busybox", "sleep", "100000", check=0)
    yield bx
    bx("rm", "-f", "exec-parity")


# (docker exec's flags and command, its exit code, its line: stdout, ending in \r\n)
DOCKER_EXEC_FAILURES = [
    ([], ["nosuchcmd"], 126,
     b'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": '
     b'executable file not found in $PATH: unknown'),
    ([], ["/etc/passwd"], 126,
     b'OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": '
     b'permission denied: unknown'),
    ([], ["/etc"], 126,
     b'OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc": '
     b'permission denied: unknown'),
    ([], ["/nonexist/x"], 126,
     b'OCI runtime exec failed: exec failed: unable to start container process: exec: "/nonexist/x": '
     b'stat /nonexist/x: no such file or directory: unknown'),
    (["-u", "nosuch"], ["true"], 126, b"unable to find user nosuch: no matching entries in passwd file"),
    (["-u", "root:nogroupx"], ["true"], 126, b"unable to find group nogroupx: no matching entries in group file"),
    (["-w", "/nodir"], ["pwd"], 126,
     b'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nodir") '
     b'set in config.json failed: no such file or directory: unknown'),
    (["-w", "rel"], ["pwd"], 126, b"OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown"),
]


@pytest.mark.parametrize("flags,cmd,code,docker_line", DOCKER_EXEC_FAILURES,
                         ids=["not-found", "not-executable", "directory", "missing-path", "unknown-user",
                              "unknown-group", "missing-workdir", "relative-workdir"])
def test_exec_start_failure(box, flags, cmd, code, docker_line):
    bx = box
    p = bx("exec", *flags, "exec-parity", *cmd)
    assert p.returncode == code, p
    words = runc_words(docker_line)
    assert p.stderr == b"boxvm: " + words + b"\n", p
    assert p.stdout == b"", p


def test_exec_does_not_create_the_workdir(box):
    bx = box
    assert bx("exec", "-w", "/nodir", "exec-parity", "pwd").returncode == 126
    # Docker: `docker exec x ls -d /nodir` then says "No such file or directory" (1)
    p = bx("exec", "exec-parity", "ls", "-d", "/nodir")
    assert (p.returncode, p.stdout) == (1, b""), p
    # an existing directory still works, as does -u by uid alone (uid=1234 gid=0(root) in Docker)
    p = bx("exec", "-w", "/tmp", "-u", "1234", "exec-parity", "sh", "-c", "pwd; id")
    assert (p.returncode, p.stdout) == (0, b"/tmp\nuid=1234 gid=0(root) groups=0(root)\n"), p


def test_exec_start_failure_on_a_terminal_and_detached(box):
    bx = box
    # Docker: `exec -t` gives 126 and the same line; `exec -d` exits 1 with
    # "Error response from daemon: OCI runtime exec failed: ... executable file not found in $PATH: unknown"
    words = b'exec: "nosuchcmd": executable file not found in $PATH'
    p = bx("exec", "-t", "exec-parity", "nosuchcmd")
    assert p.returncode == 126 and words in p.stdout + p.stderr, p
    p = bx("exec", "-d", "exec-parity", "nosuchcmd")
    assert p.returncode == 1 and words in p.stderr, p
    p = bx("exec", "-d", "-w", "/nodir", "exec-parity", "pwd")
    assert p.returncode == 1 and b'chdir to cwd ("/nodir") set in config.json failed' in p.stderr, p
    # a command's own 127 is its own (Docker: `exec x sh -c 'exit 127'` is 127)
    assert bx("exec", "exec-parity", "sh", "-c", "exit 127").returncode == 127


# main: a shell that traps the signals and never exits on them, with a child
# shell (same process group) that records any TERM or HUP it gets and exits.
# The child's WINCH trap writes /tmp/alive: asked after a signal to main, it
# answers once the child has run any trap pending before it (ash runs pending
# traps in signal-number order: TERM 15 and HUP 1 before WINCH 28), or never
# if a TERM/HUP trap made it exit.
SIGNAL_SCRIPT = r"""
sh -c 'for s in TERM HUP; do trap "echo child got $s; echo > /tmp/child-$s; exit 3" $s; done
       trap "echo >> /tmp/alive" WINCH
       echo $$ > /tmp/childpid
       while :; do sleep 1; done' &
for s in TERM HUP; do trap "echo parent got $s; echo >> /tmp/parent-$s" $s; done
echo ready
while :; do wait; sleep 1; done
"""


def test_signals_reach_main_only(bx):
    """Docker (the same script): after `docker kill -s TERM`, /tmp/parent-TERM
    exists and /tmp/child-TERM does not; `docker stop -t 2` then ends it with
    137 (main ignores TERM; its children are killed with it)."""
    run = subprocess.Popen([BOXVM, "run", "--network", "none", "--name", "sigs", "-w", "/made/by/run",
                            "busybox", "sh", "-c", SIGNAL_SCRIPT],
                           env=bx.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def ex(*cmd):
            return bx("exec", "sigs", *cmd)

        until(lambda: ex("test", "-s", "/tmp/childpid").returncode == 0, "the child shell up")
        # run -w creates a missing working directory (Docker's `run -w /newdir pwd` prints /newdir)
        assert ex("pwd").stdout == b"/made/by/run\n"

        def child_survived(sig, alive_lines):
            ex("sh", "-c", "kill -WINCH $(cat /tmp/childpid)")
            until(lambda: ex("sh", "-c", f"test $(cat /tmp/alive 2>/dev/null | wc -l) -ge {alive_lines}"
                                         f" -o -e /tmp/child-{sig}").returncode == 0,
                  f"the child answered after {sig}")
            return ex("test", "-e", f"/tmp/child-{sig}").returncode != 0

        # kill -s TERM: main's trap runs, the child in its group sees nothing
        assert bx("kill", "-s", "TERM", "sigs").stdout == b"sigs\n"
        until(lambda: ex("test", "-e", "/tmp/parent-TERM").returncode == 0, "main got TERM")
        assert child_survived("TERM", 1), "kill -s TERM reached main's child"

        # a signal to the attached `run` client is forwarded to main alone
        run.send_signal(signal.SIGHUP)
        until(lambda: ex("test", "-e", "/tmp/parent-HUP").returncode == 0, "main got the forwarded HUP")
        assert child_survived("HUP", 2), "run's forwarded HUP reached main's child"

        # stop: TERM to main (ignored by it, not seen by the child), then the kill
        p = bx("stop", "-t", "3", "sigs")
        assert (p.returncode, p.stdout) == (0, b"sigs\n"), p
        out, err = run.communicate(timeout=HANG_GUARD)
        assert run.returncode == 137, (out, err)
        assert out.count(b"parent got TERM") == 2 and b"parent got HUP" in out, out
        assert b"child got" not in out, out
    finally:
        if run.poll() is None:
            bx("rm", "-f", "sigs")
            run.wait(timeout=HANG_GUARD)
    bx("rm", "sigs", check=0)


# Docker 20.10 (docker-ref, busybox): `ls -la /dev` names and modes, and its mounts
DOCKER_DEV = {
    "fd": "lrwxrwxrwx -> /proc/self/fd", "full": "crw-rw-rw- 1,7", "mqueue": "drwxrwxrwt", "null": "crw-rw-rw- 1,3",
    "ptmx": "lrwxrwxrwx -> pts/ptmx", "pts": "drwxr-xr-x", "random": "crw-rw-rw- 1,8", "shm": "drwxrwxrwt",
    "stderr": "lrwxrwxrwx -> /proc/self/fd/2", "stdin": "lrwxrwxrwx -> /proc/self/fd/0",
    "stdout": "lrwxrwxrwx -> /proc/self/fd/1", "tty": "crw-rw-rw- 5,0", "urandom": "crw-rw-rw- 1,9",
    "zero": "crw-rw-rw- 1,5",
}


def test_dev_and_sys_are_dockers(box):
    """A box's /dev is Docker's: a tmpfs with the standard nodes and links,
    devpts, shm and mqueue (not the VM's devtmpfs with its consoles, /dev/mem
    and the agent's port); /sys is read-only with cgroups under /sys/fs/cgroup."""
    script = ("for f in /dev/*; do n=${f#/dev/}; if [ -L $f ]; then echo \"$n $(stat -c %A $f) -> $(readlink $f)\";"
              " elif [ -c $f ]; then echo \"$n $(stat -c '%A %t,%T' $f)\"; else echo \"$n $(stat -c %A $f)\"; fi; done")
    out = box("exec", "exec-parity", "sh", "-c", script, check=0).stdout.decode()
    got = dict(line.split(" ", 1) for line in out.splitlines())
    # stat prints major,minor in hex: all of Docker's are single digits
    assert got == DOCKER_DEV, got
    mounts = {l.split()[1]: l.split() for l in
              box("exec", "exec-parity", "cat", "/proc/mounts", check=0).stdout.decode().splitlines()}
    assert mounts["/dev"][2] == "tmpfs" and "nosuid" in mounts["/dev"][3].split(",")
    assert mounts["/dev/mqueue"][2] == "mqueue"
    assert mounts["/sys"][2] == "sysfs" and "ro" in mounts["/sys"][3].split(",")
    assert mounts["/sys/fs/cgroup"][2] in ("cgroup2", "cgroup") and "ro" in mounts["/sys/fs/cgroup"][3].split(",")
    p = box("exec", "exec-parity", "touch", "/sys/x")
    assert p.returncode == 1 and b"Read-only file system" in p.stderr


def test_guest_keeps_time_in_nanoseconds(box):
    """The guest's clocksource is the TSC (TCG: `tsc=reliable`, microvm has no
    HPET or PM timer to check it against) or kvm-clock, not jiffies: with
    jiffies CLOCK_MONOTONIC moved in 4 ms steps, timers were that coarse, and
    glibc's DNS query IDs (made from the clock) came out equal for a lookup's
    A and AAAA queries, so busybox's nslookup matched the wrong answer."""
    src = box("exec", "exec-parity", "cat", "/sys/devices/system/clocksource/clocksource0/current_clocksource",
              check=0).stdout.decode().strip()
    assert src in ("tsc", "kvm-clock"), src
