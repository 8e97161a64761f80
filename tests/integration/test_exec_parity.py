"""exec start failures answer as Docker 20.10 does.

Every expected code and message here was taken from the reference Docker
(../shared/tools/docker-ref, runc 1.1.5) running the same command on busybox,
not from boxvm. Docker writes an exec start failure as one line on stdout,
`OCI runtime exec failed: exec failed: unable to start container process:
<runc's words>: unknown`; boxvm writes runc's words on stderr, after its
`boxvm: ` (docs/docker-parity.md). Time limits are hang guards only."""
import time

import pytest

from conftest import HANG_GUARD



def until(pred, what):
    deadline = time.time() + HANG_GUARD
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"hang guard: {what}")


def runc_words(docker_line):
    """The part of Docker's line that says what was wrong (runc's words)."""
    line = docker_line.removeprefix(b"OCI runtime exec failed: exec failed: ")
    return line.removeprefix(b"unable to start container process: ").removesuffix(b": unknown")


@pytest.fixture(scope="module")
def box(bx):
    p = bx("run", "-d", "--network", "none", "--name", "exec-parity", "busybox", "sleep", "100000", check=0)
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
