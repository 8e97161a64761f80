"""A long-lived box does not leak: one box serves 200 execs (plain, with
stdin, and some whose client is SIGKILLed mid-stream) and 20 attach/detach
cycles while its log rotates (1 KiB files), and its shim's resident memory
and open file descriptors are flat between a warm-up point and the end.
BOXVM_LONGLIVED_ROUNDS=100 (bench/longlived) makes it 1,000 execs and 100
cycles. Time limits are hang guards only."""
import os
import subprocess
import time

from conftest import BOXVM, HANG_GUARD, until

RSS_SLACK_KIB = 2048  # allocator noise; a per-session leak of even 1 KiB over 180 sessions exceeds it
ROUNDS_WARM, ROUNDS = 2, int(os.environ.get("BOXVM_LONGLIVED_ROUNDS", "20"))
ASAN_FLAT = (":quarantine_size_mb=0:thread_local_quarantine_size_kb=0:malloc_context_size=0"
             ":allocator_release_to_os_interval_ms=0")  # each round: 10 execs and one attach/detach cycle


def shim_usage(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def settle(pid, fds, guard=30):
    """The shim's usage once its open fds are down to fds (the sessions of
    killed clients close a moment after them), or after the guard: a leak."""
    end = time.monotonic() + guard
    while time.monotonic() < end and shim_usage(pid)[1] > fds:
        time.sleep(0.2)
    return shim_usage(pid)


def read_until(stream, marker):
    """Read stream until marker appears (the hang guard is the test's timeout)."""
    got = b""
    while marker not in got:
        chunk = os.read(stream.fileno(), 4096)
        assert chunk, f"stream ended before {marker!r}: {got[-200:]!r}"
        got += chunk
    return got


def one_round(bx, ref, r):
    """10 execs (6 plain, 2 with stdin, 2 whose client is killed) and one attach/detach."""
    for i in range(6):
        p = bx("exec", ref, "echo", f"plain{r}.{i}", check=0)
        assert p.stdout == f"plain{r}.{i}\n".encode(), p
    for i in range(2):
        data = os.urandom(3000).hex().encode()
        p = bx("exec", "-i", ref, "sh", "-c", "cat; echo end", input=data, check=0)
        assert p.stdout == data + b"end\n", p.stdout[-100:]
    for i in range(2):
        # the client dies mid-stream: the shim must drop the session and all it held
        c = subprocess.Popen([BOXVM, "exec", ref, "sh", "-c", "echo started; while :; do echo x; sleep 0.05; done"],
                             stdout=subprocess.PIPE, env=bx.env)
        read_until(c.stdout, b"started\n")
        c.kill()
        c.wait(timeout=HANG_GUARD)
        c.stdout.close()
    # attach to main's output, see it flow, then detach by ending the client
    a = subprocess.Popen([BOXVM, "attach", "--no-stdin", ref], stdout=subprocess.PIPE, env=bx.env)
    read_until(a.stdout, b"tick")
    a.kill()  # not a signal it could forward: main keeps running
    a.wait(timeout=HANG_GUARD)
    a.stdout.close()


def test_shim_rss_and_fds_stay_flat(no_leaks):
    bx = no_leaks
    # the test build's shim runs under ASan, whose quarantine (freed memory held
    # back) and allocation stack traces grow RSS by themselves: off, so RSS is
    # the shim's own (measured flat then, as in a plain build)
    env = {"ASAN_OPTIONS": bx.env.get("ASAN_OPTIONS", "") + ASAN_FLAT}
    ref = bx("run", "-d", "--network", "none", "-m", "128m", "--cpus", "1",
             "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
             "echo up; while :; do echo tick; sleep 0.2; done", env=env, check=0).stdout.decode().strip()
    try:
        until(lambda: b"up" in bx("logs", ref, check=0).stdout, "the box to run")
        pid = int(bx("inspect", "-f", "{{.State.Pid}}", ref, check=0).stdout)
        idle_fds = shim_usage(pid)[1]
        for r in range(ROUNDS_WARM):
            one_round(bx, ref, r)
        # a killed client's session ends a moment after the client: let the fds settle
        warm_rss, warm_fds = settle(pid, idle_fds)
        for r in range(ROUNDS_WARM, ROUNDS):
            one_round(bx, ref, r)
        end_rss, end_fds = settle(pid, warm_fds)
        assert end_fds <= warm_fds, (warm_fds, end_fds)
        assert end_rss <= warm_rss + RSS_SLACK_KIB, (warm_rss, end_rss)
        print(f"shim after warm-up: {warm_rss} KiB, {warm_fds} fds; after {ROUNDS} rounds: {end_rss} KiB, {end_fds} fds")
    finally:
        bx("rm", "-f", ref, check=0)
