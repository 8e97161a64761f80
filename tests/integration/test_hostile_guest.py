"""A hostile guest against the host: the test build's agent misbehaves on
purpose when the kernel command line asks it to (boxvm.test_hostile=MODE,
src/agent/hostile.c), and the host must hold: bounded memory in the shim,
no terminal control sequences from the guest on the user's terminal or in
shim.log, a clear end, nothing left behind. Time limits are hang guards."""
import glob
import os
import subprocess
import time

from conftest import BOXVM, HANG_GUARD, until

RSS_BOUND_KIB = 64 * 1024  # the shim may grow this much above its reading at start, no more


def hostile(mode):
    return {"BOXVM_KERNEL_APPEND": f"boxvm.test_hostile={mode}"}


def rss_kib(pid):
    """The process's resident set, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def shim_pid(bx, ref):
    with open(os.path.join(bx.run_dir, ref[:12], "shim.pid")) as f:
        return int(f.read().split()[0])


def shim_log(bx, ref):
    (box_dir,) = glob.glob(os.path.join(bx.root, "boxes", ref[:12] + "*"))
    with open(os.path.join(box_dir, "shim.log"), "rb") as f:
        return f.read()


def test_flood_of_refused_opens_keeps_the_shim_bounded(no_leaks):
    """The guest writes OPEN+CLOSE pairs for a port the host does not serve,
    straight to its control port, and never reads it: every OPEN makes the
    shim queue an OPEN_ERR. Unbounded, that queue grew ~146 MiB per 256 MiB
    sent; now the shim stops reading a guest that does not read (the agent
    then gives up and powers off, and the box ends with a clear error)."""
    bx = no_leaks
    # the agent floods before main exists: `run -d`, which returns once main
    # runs, waits through the whole flood and ends with the box's error
    waiter = subprocess.Popen([BOXVM, "run", "-d", "--name", "flood", "--network", "none", "busybox", "sleep", "600"],
                              env=dict(bx.env, **hostile("flood")), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def shim_up():
            p = bx("inspect", "-f", "{{.Id}} {{.State.Status}}", "flood")
            return p.stdout.split()[0].decode() if p.returncode == 0 and b"created" in p.stdout else None
        ref = until(shim_up, "the box to boot")
        pid = until(lambda: os.path.exists(os.path.join(bx.run_dir, ref[:12], "shim.pid")) and shim_pid(bx, ref),
                    "the shim's pid file")
        start = peak = rss_kib(pid)
        assert start, "the shim is gone before the flood"
        deadline = time.monotonic() + HANG_GUARD
        try:
            # the event: the box ends (the flooding agent powers the VM off);
            # meanwhile the shim's memory is sampled
            while waiter.poll() is None and time.monotonic() < deadline:
                rss = rss_kib(pid)
                if rss is not None:
                    peak = max(peak, rss)
                assert peak - start < RSS_BOUND_KIB, \
                    f"the shim grew from {start} KiB to {peak} KiB under the flood"
                time.sleep(0.05)
        finally:
            if waiter.poll() is None:
                waiter.kill()
            out, err = waiter.communicate()
        print(f"shim RSS: {start} KiB at start, {peak} KiB at most under the flood")
        # the VM ended before its command: an error, not a hang
        assert waiter.returncode == 125 and b"the VM exited before its command finished" in err, (out, err)
        assert bx("inspect", "-f", "{{.State.ExitCode}}", ref, check=0).stdout.strip() == b"125"
        log = shim_log(bx, ref)
        assert b"the guest does not read the control port" in log, log[-3000:]
        assert b"the VM exited before its command finished" in log, log[-3000:]
        # the box keeps its usual life: it can be inspected and removed
        # main was never reported started: a failed start, which leaves the box "created" with
        # the reason in State.Error, as Docker leaves a container whose start failed
        st = bx("inspect", "-f", "{{.State.Status}}|{{.State.Error}}", ref, check=0).stdout.decode().strip()
        assert st.startswith("created|") and "the VM exited before its command finished" in st, st
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
        bx("rm", "-f", "flood", check=0)


def test_control_characters_in_guest_errors_are_escaped(no_leaks):
    """ERROR texts from the agent carry terminal escape sequences (retitle the
    window, clear the screen, CR/BS/DEL, an 8-bit CSI): the CLI's stderr and
    shim.log show them escaped, never raw."""
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "busybox", "sleep", "600", env=hostile("error_ctrl"),
             check=0).stdout.decode().strip()
    try:
        # every exec is refused with the hostile ERROR (and no EXIT)
        for args in (["exec", ref, "true"], ["exec", "-d", ref, "true"]):
            p = bx(*args)
            assert p.returncode == 1, p  # exec's own error: 1, as docker exec
            assert b"hostile" in p.stderr and b"pwned" in p.stderr, p.stderr
            for raw in (b"\x1b", b"\x07", b"\r", b"\b", b"\x7f", b"\xc2\x9b"):
                assert raw not in p.stderr, (raw, p.stderr)
            assert b"\\x1b]0;pwned\\x07" in p.stderr, p.stderr
        # main's 64 ERRORs reach shim.log once the shim takes main's messages;
        # only the first 16 are kept (a guest must not fill the disk)
        def capped_log():
            log = shim_log(bx, ref)
            return log if b"further guest errors are not logged" in log else None
        log = until(capped_log, "the shim to stop logging main's ERRORs")
        assert b"guest: hostile \\x1b]0;pwned\\x07\\x1b[2J" in log, log[-3000:]
        assert log.count(b"guest: hostile") == 16, log[-3000:]
        for raw in (b"\x1b", b"\x07", b"\r", b"\b", b"\x7f", b"\xc2\x9b"):
            assert raw not in log, (raw, log[-3000:])
    finally:
        bx("rm", "-f", ref, check=0)


def test_guest_that_never_starts_main_does_not_hang_run(no_leaks):
    """The agent answers heartbeats but never starts main (no STARTED, no
    EXIT): `run -d`, which returns once main runs, ends with the boot
    backstop's error instead of waiting forever."""
    bx = no_leaks
    env = dict(hostile("mute_main"), BOXVM_BOOT_TIMEOUT="30")
    p = bx("run", "-d", "--name", "mute", "--network", "none", "busybox", "true", env=env)
    try:
        assert p.returncode == 125, p
        # the backstop counts from the shim's start: a boot slower than 30 s ends the same way, told so
        assert b"was not started within 30 s" in p.stderr or b"no sign of life" in p.stderr, p
        assert bx("inspect", "-f", "{{.State.ExitCode}}", "mute", check=0).stdout.strip() == b"125"
    finally:
        bx("rm", "-f", "mute", check=0)
