"""Shared set-up for integration tests: the real boxvm binaries from
$BOXVM_BUILD, a private data and runtime directory per test worker, the
prepared guest kernel, and the sample busybox image loaded once.

Nothing is mocked: every test boots real microVMs (TCG here, KVM where usable).
Time limits below are hang guards only; no verdict depends on wall time."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

# A suite started in the background of a non-interactive shell (`cmd &`, nohup)
# inherits SIGINT ignored, and so would every boxvm it runs: the tests that end
# a follow (events, stats) with Ctrl-C then hang. Caught here, it is back to its
# default in every child (a caught signal is reset at exec).
signal.signal(signal.SIGINT, signal.default_int_handler)

BUILD = os.environ.get("BOXVM_BUILD") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
BUILD = os.path.abspath(BUILD)
BOXVM = os.path.join(BUILD, "boxvm")
BUSYBOX_TAR = os.path.join(BUILD, "images", "busybox.tar")
KERNEL_DIR = os.environ.get("BOXVM_KERNEL_DIR", "/var/lib/boxvm/kernel")
# The guest kernel the boxes boot: BOXVM_KERNEL=tailored (`make check KERNEL=tailored`)
# selects boxvm's own, built beforehand by `boxvm kernel build` (the suite never builds it)
KERNEL = os.environ.get("BOXVM_KERNEL") or "cloud"
TAILORED_KERNEL_DIR = os.environ.get("BOXVM_TAILORED_KERNEL_DIR", "/var/lib/boxvm/kernel-tailored")
# also for what tests start with os.environ (tmux servers, API services, podman)
os.environ["BOXVM_KERNEL"] = KERNEL
os.environ["BOXVM_TAILORED_KERNEL_DIR"] = TAILORED_KERNEL_DIR
HANG_GUARD = 300  # seconds; only ever a guard against a wedged test
# BOXVM_TEST_POOL=N: each worker keeps a warm pool of N VMs (boxvm pool set N)
# and N for boxvm-runtime's containers (pool set --runtime N), so every box
# that fits is served by a pool VM instead of a cold boot (`make check` runs
# some modules again this way: issue 17's "a box from the pool behaves
# exactly like a cold one"). The pool's own VMs are not leaks.
TEST_POOL = int(os.environ.get("BOXVM_TEST_POOL") or 0)


def until(pred, what, limit=HANG_GUARD):
    """Poll pred() (a hang guard, not a verdict) until it returns a true value, and return it."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


class Boxvm:
    def __init__(self, root, run, env):
        self.root = root
        self.run_dir = run
        self.env = env

    def __call__(self, *args, input=None, env=None, timeout=HANG_GUARD, check=None):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([BOXVM, *args], input=input, capture_output=True, env=e, timeout=timeout)
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        return p


def _our_processes(marker):
    """PIDs of qemu/virtiofsd/shim/netd/passt processes whose command line names our directories."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd and any(k in cmd for k in ("qemu-system", "virtiofsd", "boxvm-shim", "boxvm-netd", "passt")):
            found.append((int(pid), cmd))
        elif "qemu-system" in cmd or "passt" in cmd:
            held = _holds_file_under(pid, marker)
            if held:  # named with the file it holds, whose path names its box
                found.append((int(pid), f"{cmd} [holds {held}]"))
    return found


def _pool_processes(run):
    """PIDs of the warm pool's unclaimed VMs (their shims, from RUN/pool/*/shim.pid,
    and everything below them): a claimed one's runtime dir is its box's."""
    pool = os.path.join(run, "pool")
    roots = set()
    for vm in os.listdir(pool) if os.path.isdir(pool) else []:
        try:
            with open(os.path.join(pool, vm, "shim.pid")) as f:
                roots.add(int(f.read()))
        except (OSError, ValueError):
            pass
    parent = {}
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    found, grew = set(roots), True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def _holds_file_under(pid, marker):
    """The path of a file under marker that pid holds open, or None. QEMU's
    command line names no path of ours (it is given fds), but it holds its
    box's initrd open for its whole life; passt its box's passt.log (given as
    /proc/self/fd/N: src/shim/aux.c)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if marker in target:
            return target
    return None


def unmount_under(root):
    """Unmount (lazily) every mount below root, e.g. the overlay rootfs of a box a
    failed test left behind, so removing the tree cannot descend into it.
    Returns the mount points found (a test may assert there were none)."""
    found = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mnt = line.split()[1].encode().decode("unicode_escape")
            if mnt.startswith(root.rstrip("/") + "/"):
                found.append(mnt)
    for mnt in sorted(found, reverse=True):
        subprocess.run(["umount", "-l", mnt], capture_output=True)
    return found


@pytest.fixture(scope="session")
def boxvm_env():
    root = tempfile.mkdtemp(prefix="boxvm-test-root.")
    run = tempfile.mkdtemp(prefix="bxr.", dir="/tmp")  # short: socket paths are limited to 108 bytes
    env = dict(os.environ)
    if KERNEL == "tailored" and not any(os.path.isfile(os.path.join(TAILORED_KERNEL_DIR, v, ".complete"))
                                        for v in (os.listdir(TAILORED_KERNEL_DIR)
                                                  if os.path.isdir(TAILORED_KERNEL_DIR) else [])):
        pytest.exit(f"KERNEL=tailored but no tailored kernel in {TAILORED_KERNEL_DIR}: run 'boxvm kernel build'", 2)
    env.update({"BOXVM_ROOT": root, "BOXVM_RUNTIME_DIR": run, "BOXVM_KERNEL_DIR": KERNEL_DIR,
                "BOXVM_KERNEL": KERNEL, "BOXVM_TAILORED_KERNEL_DIR": TAILORED_KERNEL_DIR,
                "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"})
    yield Boxvm(root, run, env)
    if TEST_POOL:
        subprocess.run([BOXVM, "pool", "drain", "-q"], env=env, capture_output=True, timeout=HANG_GUARD)
    leaked = _our_processes(root) + _our_processes(run)
    for pid, _ in leaked:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    boxes = os.listdir(os.path.join(root, "boxes")) if os.path.isdir(os.path.join(root, "boxes")) else []
    runs = os.listdir(run)
    unmount_under(root)  # the overlay rootfs of a leaked box (asserted below via `boxes`)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)
    assert not leaked, f"leaked processes: {leaked}"
    assert not boxes, f"leaked box directories: {boxes}"
    assert not runs, f"leaked runtime directories: {runs}"


@pytest.fixture(scope="session")
def bx(boxvm_env):
    """boxvm with the sample busybox image loaded."""
    boxvm_env("load", "-i", BUSYBOX_TAR, check=0)
    if TEST_POOL:
        boxvm_env("pool", "set", str(TEST_POOL), check=0)
        boxvm_env("pool", "set", "--runtime", str(TEST_POOL), check=0)
        pool = os.path.join(boxvm_env.root, "pool")
        until(lambda: any(os.path.exists(os.path.join(pool, v, "ready")) for v in os.listdir(pool)), "a pool VM")
        # the pool really serves this worker's boxes (their kernel command line says so)
        out = boxvm_env("run", "--rm", "busybox", "cat", "/proc/cmdline", check=0).stdout
        assert b"boxvm.pool=1" in out, out
    return boxvm_env


def pool_vm_ready(b, runtime=False):
    """Wait for a ready VM of the worker's warm pool (BOXVM_TEST_POOL), of the
    --runtime profile or the other: the box started next is then served by
    it, not by a cold boot."""
    pool = os.path.join(b.root, "pool")

    def ready():
        for v in os.listdir(pool):
            try:
                with open(os.path.join(pool, v, "vm.json")) as f:
                    if json.load(f).get("rootfs_host_edits", False) == runtime and \
                            os.path.exists(os.path.join(pool, v, "ready")):
                        return v
            except (OSError, ValueError):
                pass  # one being made or claimed meanwhile
        return None
    return until(ready, "a ready pool VM")


def _tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def box_diagnostics(root):
    """What the boxes under root say about themselves: for each box its exit
    code and shim.log tail, then the newest kept console logs of failed boots."""
    out = []
    boxes_dir = os.path.join(root, "boxes")
    for box in sorted(os.listdir(boxes_dir)) if os.path.isdir(boxes_dir) else []:
        d = os.path.join(boxes_dir, box)
        out.append(f"--- box {box[:12]}: exit_code {_tail(os.path.join(d, 'exit_code')).strip() or '-'}\n"
                   f"{_tail(os.path.join(d, 'shim.log'))}")
    diag = os.path.join(root, "diagnostics")
    kept = sorted(os.listdir(diag), key=lambda f: os.path.getmtime(os.path.join(diag, f)))[-3:] \
        if os.path.isdir(diag) else []
    for f in kept:
        out.append(f"--- kept console log {f}:\n{_tail(os.path.join(diag, f), 45)}")
    return "\n".join(out)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the boxes' own account of what happened
    (shim logs, console logs of failed boots): the data dir is gone after the run."""
    outcome = yield
    rep = outcome.get_result()
    env = getattr(item, "funcargs", {}).get("bx") or getattr(item, "funcargs", {}).get("no_leaks")
    if rep.failed and isinstance(env, Boxvm):
        text = box_diagnostics(env.root)
        if text:
            rep.sections.append(("boxvm diagnostics", text))


def _clean_up_boxes(bx):
    """Remove every box and process a failed test left, so that one failure
    does not fail every later test of this worker (they share the data dir)."""
    ids = bx("ps", "-aq", "--no-trunc", timeout=60).stdout.split()
    if ids:
        bx("rm", "-f", *[i.decode() for i in ids], timeout=120)
    found = _our_processes(bx.root) + _our_processes(bx.run_dir)
    pool = _pool_processes(bx.run_dir)  # after: a VM the pool booted meanwhile is the pool's
    for pid, _ in found:
        try:
            if pid not in pool:
                os.kill(pid, 9)
        except OSError:
            pass
    boxes_dir = os.path.join(bx.root, "boxes")
    for box in os.listdir(boxes_dir) if os.path.isdir(boxes_dir) else []:
        unmount_under(os.path.join(boxes_dir, box))
        shutil.rmtree(os.path.join(boxes_dir, box), ignore_errors=True)
    for d in os.listdir(bx.run_dir):
        if d != "pool":
            shutil.rmtree(os.path.join(bx.run_dir, d), ignore_errors=True)


def _host_cgroups(box_id):
    """The host cgroup directories of a box's VM that exist (src/vm/cgroup.h: v1, v2)."""
    dirs = [f"/sys/fs/cgroup/{c}/boxvm/{box_id}" for c in ("memory", "cpu", "cpuset")]
    dirs.append(f"/sys/fs/cgroup/boxvm/{box_id}")
    return [d for d in dirs if os.path.isdir(d)]


@pytest.fixture
def no_leaks(bx):
    """Assert that a test left no box directory, runtime directory, VM process or
    host cgroup (of the boxes its create events name: other tests' run alongside)."""
    since = str(int(time.time()) - 1)
    yield bx
    boxes_dir = os.path.join(bx.root, "boxes")
    boxes = os.listdir(boxes_dir) if os.path.isdir(boxes_dir) else []
    runs = [d for d in os.listdir(bx.run_dir) if d != "pool"]
    found = set(_our_processes(bx.root) + _our_processes(bx.run_dir))
    # the pool's after ours: a VM the pool booted meanwhile (its refill after this test's claim) is then known
    # as the pool's, where the other order saw its helpers as leaked
    pool = _pool_processes(bx.run_dir)
    procs = sorted(p for p in found if p[0] not in pool)
    made = bx("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "event=create",
              "--format", "{{.ID}}", timeout=60).stdout.decode().split()
    cgroups = [d for i in made if i not in boxes for d in _host_cgroups(i)]
    if boxes or runs or procs or cgroups:
        report = box_diagnostics(bx.root)
        _clean_up_boxes(bx)
        raise AssertionError(f"leaked boxes {boxes}, runtime dirs {runs}, processes {procs}, cgroups {cgroups}\n{report}")


@pytest.fixture(scope="module")
def host_server():
    """An HTTP server on the host's loopback that a box reaches via host-gateway
    (test_network.py, test_networks.py): its port."""
    import http.server
    import threading

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello-outbound\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
