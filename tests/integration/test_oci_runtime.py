"""boxvm-runtime (the runc-compatible OCI runtime) driven by real containerd
(ctr) and Podman from Debian, and directly with hand-made bundles.

containerd and Podman are started by these tests with configuration under a
temp dir (see ../shared/TESTBED.md for the set-ups that work on these
machines) and stopped by PID. Every container boots a real microVM."""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, BUSYBOX_TAR, HANG_GUARD, KERNEL_DIR, _our_processes, until

RUNTIME = os.path.join(BUILD, "boxvm-runtime")
IMAGE = "busybox:latest"  # the name `ctr images import` gives the sample image

pytestmark = pytest.mark.skipif(not shutil.which("containerd") or not shutil.which("podman"),
                                reason="containerd/podman not installed (scripts/install-deps.sh)")


def _env(bx, extra=None):
    e = dict(bx.env)
    e.update(extra or {})
    return e


@pytest.fixture(scope="module")
def ctd(bx):
    """A private containerd with the sample image imported; yields a ctr runner."""
    d = tempfile.mkdtemp(prefix="bxctd.", dir="/tmp")
    cfg = os.path.join(d, "config.toml")
    with open(cfg, "w") as f:
        f.write(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                f'[grpc]\n  address = "{d}/c.sock"\n[ttrpc]\n  address = "{d}/t.sock"\n')
    log = open(os.path.join(d, "containerd.log"), "wb")
    proc = subprocess.Popen(["containerd", "--config", cfg], stdout=log, stderr=log, env=_env(bx))
    sock = os.path.join(d, "c.sock")
    t0 = time.time()
    while not os.path.exists(sock) and proc.poll() is None and time.time() - t0 < 60:
        time.sleep(0.05)

    def ctr(*args, check=None, timeout=HANG_GUARD, **kw):
        p = subprocess.run(["ctr", "--address", sock, *args], capture_output=True, timeout=timeout,
                           env=_env(bx), **kw)
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        return p

    ctr.dir = d
    ctr.sock = sock
    ctr("images", "import", "--all-platforms", BUSYBOX_TAR, check=0)
    yield ctr
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()
    shutil.rmtree(d, ignore_errors=True)


# boxvm-runtime's defaults, used when a caller drops BOXVM_* from the environment
DEFAULT_DIRS = ("/run/boxvm", "/run/boxvm-runtime")


def _default_entries():
    return {os.path.join(d, n) for d in DEFAULT_DIRS if os.path.isdir(d) for n in os.listdir(d)}


def _runtime_leftovers(bx, ids=(), defaults_before=None):
    """What a test left behind: the runc-root entries of its containerd
    container ids (that root is shared by every containerd on the machine, so
    only the test's own ids), our private run dir, VM processes, and (given a
    snapshot) new entries in the default dirs."""
    runc_root = "/run/containerd/runc/default"
    ours = [i for i in ids if os.path.exists(os.path.join(runc_root, i))]
    new_defaults = sorted(_default_entries() - defaults_before) if defaults_before is not None else []
    return ours + os.listdir(bx.run_dir) + [p for p, _ in _our_processes(bx.run_dir)] + new_defaults


def test_ctr_run_output_env_cwd_and_exit_codes(ctd, no_leaks):
    # ctr's default spec sets RLIMIT_NOFILE 1024:1024 (the guest's own default hard limit is 4096)
    p = ctd("run", "--rm", "--runc-binary", RUNTIME, "--env", "FOO=bar", "--cwd", "/tmp", IMAGE, "bxrt-run1",
            "sh", "-c", "echo out; echo err >&2; echo FOO=$FOO; pwd; ulimit -Hn; exit 3")
    assert p.returncode == 3, p.stderr
    assert p.stdout.decode().split() == ["out", "FOO=bar", "/tmp", "1024"]
    assert b"err" in p.stderr
    p = ctd("run", "--rm", "--runc-binary", RUNTIME, IMAGE, "bxrt-run2", "sh", "-c", "kill -9 $$")
    assert p.returncode == 137, p.stderr
    assert not _runtime_leftovers(no_leaks, ("bxrt-run1", "bxrt-run2"))


def test_ctr_detached_exec_kill_delete(ctd, no_leaks):
    ctd("run", "-d", "--runc-binary", RUNTIME, IMAGE, "bxrt-det", "sh", "-c", "echo up > /tmp/up; sleep 1000", check=0)
    try:
        tasks = ctd("task", "ls", check=0).stdout.decode()
        assert "bxrt-det" in tasks and "RUNNING" in tasks
        # the exec waits in the shim's queue while the guest boots
        p = ctd("task", "exec", "--exec-id", "e1", "bxrt-det", "sh", "-c", "cat /tmp/up 2>/dev/null || echo none; exit 5")
        assert p.returncode == 5, p.stderr
        # ctr's exec process is the container's (with its RLIMIT_NOFILE 1024:1024): applied to exec too
        p = ctd("task", "exec", "--exec-id", "e2", "bxrt-det", "sh", "-c",
                "while [ ! -e /tmp/up ]; do sleep 0.2; done; cat /tmp/up; ulimit -Hn")
        assert p.returncode == 0 and p.stdout == b"up\n1024\n", p
        assert str(ctd("task", "ps", "bxrt-det", check=0).stdout.decode()).count("\n") == 2
        ctd("task", "kill", "bxrt-det", check=0)
        deadline = time.time() + HANG_GUARD  # ctr 1.6 has no `task wait`; a hang guard only
        while b"STOPPED" not in ctd("task", "ls", check=0).stdout and time.time() < deadline:
            time.sleep(0.2)
        assert b"STOPPED" in ctd("task", "ls", check=0).stdout
        ctd("task", "delete", "bxrt-det", check=0)
    finally:
        ctd("task", "delete", "-f", "bxrt-det")
        ctd("container", "delete", "bxrt-det")
    assert not _runtime_leftovers(no_leaks, ("bxrt-det",))


def test_ctr_run_terminal(ctd, no_leaks):
    """ctr run -t: the pty master goes over --console-socket; the size reaches the guest."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("ctr", ["ctr", "--address", ctd.sock, "run", "--rm", "-t", "--runc-binary", RUNTIME, IMAGE,
                           "bxrt-tty", "sh", "-c", "stty size; tty; exit 0"], _env(no_leaks))
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 91, 0, 0))
    out = b""
    deadline = time.time() + HANG_GUARD
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b"33 91" in out and b"/dev/pts/" in out, out
    assert not _runtime_leftovers(no_leaks, ("bxrt-tty",))


@pytest.fixture(scope="module")
def podman(bx):
    d = tempfile.mkdtemp(prefix="bxpm.", dir="/tmp")
    with open(os.path.join(d, "containers.conf"), "w") as f:
        f.write('[containers]\nnetns = "none"\n'
                'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
    with open(os.path.join(d, "storage.conf"), "w") as f:
        f.write(f'[storage]\ndriver = "vfs"\nrunroot = "{d}/run"\ngraphroot = "{d}/graph"\n')
    env = _env(bx, {"CONTAINERS_CONF": os.path.join(d, "containers.conf"),
                    "CONTAINERS_STORAGE_CONF": os.path.join(d, "storage.conf")})

    # conmon runs the runtime without BOXVM_* (and podman's cleanup process
    # drops --runtime-flag): settings travel in a wrapper script given as the
    # runtime, as docs/oci-runtime.md recommends
    wrapper = os.path.join(d, "boxvm-runtime")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexport BOXVM_ROOT='{bx.root}' BOXVM_RUNTIME_DIR='{bx.run_dir}' "
                f"BOXVM_KERNEL_DIR='{KERNEL_DIR}' BOXVM_KERNEL='{bx.env['BOXVM_KERNEL']}' "
                f"BOXVM_TAILORED_KERNEL_DIR='{bx.env['BOXVM_TAILORED_KERNEL_DIR']}' "
                f"ASAN_OPTIONS='{bx.env['ASAN_OPTIONS']}'\n"
                f"exec '{RUNTIME}' --root '{d}/rt' \"$@\"\n")
    os.chmod(wrapper, 0o755)

    def run(*args, timeout=HANG_GUARD):
        return subprocess.run(["podman", "--tmpdir", os.path.join(d, "tmp"), "--runtime", wrapper, *args],
                              capture_output=True, timeout=timeout, env=env)

    run.dir = d

    p = run("load", "-i", BUSYBOX_TAR)
    assert p.returncode == 0, p.stderr
    yield run
    subprocess.run(["podman", "--tmpdir", os.path.join(d, "tmp"), "system", "reset", "-f"], capture_output=True,
                   env=env, timeout=HANG_GUARD)
    shutil.rmtree(d, ignore_errors=True)


def test_podman_run_env_workdir_user_exit(podman, no_leaks):
    """Also: the nofile limit podman sets (containers.conf default_ulimits, above the
    guest's default hard limit) and --group-add (additionalGids) apply in the guest;
    nothing lands in the default dirs (the wrapper's settings took effect) and
    podman's own cleanup deleted the container record."""
    before = _default_entries()
    p = podman("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", "--group-add", "10", "busybox",
               "sh", "-c", "echo FOO=$FOO; pwd; id -u; id -g; id -G; ulimit -n; ulimit -Hn; exit 4")
    assert p.returncode == 4, p.stderr
    assert p.stdout.decode().split() == ["FOO=bar", "/tmp", "1000", "1000", "1000", "10", "20000", "20000"]
    assert not _runtime_leftovers(no_leaks, defaults_before=before)
    assert not os.listdir(os.path.join(podman.dir, "rt"))


# --- the runtime's own command line, with hand-made bundles ---------------

def _bundle(tmp_path, args, name="bundle", **cfg_updates):
    """A bundle whose rootfs is the host's static busybox (no image needed)."""
    b = tmp_path / name
    bindir = b / "rootfs" / "bin"
    bindir.mkdir(parents=True)
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        (b / "rootfs" / d).mkdir()
    shutil.copy("/bin/busybox", bindir / "busybox")
    for a in ("sh", "mkdir", "httpd", "echo", "sleep", "cat", "wget"):
        os.symlink("busybox", bindir / a)
    subprocess.run(["runc", "spec"], cwd=b, check=True)
    cfg = json.loads((b / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = args
    cfg["root"]["readonly"] = False
    for k, v in cfg_updates.items():
        cfg[k] = v
    (b / "config.json").write_text(json.dumps(cfg))
    return b, cfg


def _rt(bx, root, *args, **kw):
    return subprocess.run([RUNTIME, "--root", str(root), *args], capture_output=True, env=bx.env,
                          timeout=HANG_GUARD, **kw)


def _create(bx, root, tmp_path, *args):
    """create hands its stdio to the container (as runc does): give it files, not our pipes."""
    out = tmp_path / "ctr-out"
    with open(out, "ab") as f:
        p = subprocess.run([RUNTIME, "--root", str(root), "create", *args], stdin=subprocess.DEVNULL, stdout=f,
                           stderr=f, env=bx.env, timeout=HANG_GUARD)
    return p.returncode, out.read_bytes()


@pytest.fixture
def netns():
    """A network namespace with a veth pair inside it (10.77.0.1/24 <-> 10.77.0.2/24)."""
    name = f"bxrt{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        ns = ["ip", "netns", "exec", name]
        subprocess.run(ns + ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"], check=True)
        for c in (["ip", "addr", "add", "10.77.0.1/24", "dev", "v0"], ["ip", "addr", "add", "10.77.0.2/24", "dev", "v1"],
                  ["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "v0", "up"], ["ip", "link", "set", "v1", "up"],
                  ["ip", "route", "add", "default", "via", "10.77.0.2", "dev", "v0"]):
            subprocess.run(ns + c, check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name])


def test_bundle_in_network_namespace_serves(tmp_path, netns, no_leaks):
    # as in a Kubernetes pod: no port is named anywhere, and every TCP port the
    # box serves is reachable at the pod's address (80 and 3000 here: they
    # follow its listeners, src/shim/podnet.c)
    b, cfg = _bundle(tmp_path, ["sh", "-c", "mkdir -p /tmp/w; echo hello-netns > /tmp/w/i; httpd -p 3000 -h /tmp/w; "
                                "exec httpd -f -p 80 -h /tmp/w"])
    for ns in cfg["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = f"/run/netns/{netns}"
    cfg.pop("annotations", None)
    (b / "config.json").write_text(json.dumps(cfg))
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "--pid-file", str(tmp_path / "pid"), "web")
    assert rc == 0, out
    pid = int((tmp_path / "pid").read_text())
    assert json.loads(_rt(no_leaks, root, "state", "web").stdout)["status"] == "created"
    try:
        assert _rt(no_leaks, root, "start", "web").returncode == 0
        assert json.loads(_rt(no_leaks, root, "state", "web").stdout) == {**json.loads(
            _rt(no_leaks, root, "state", "web").stdout), "status": "running", "pid": pid}
        client = ("import urllib.request,sys;"
                  "print(''.join(urllib.request.urlopen(f'http://10.77.0.1:{p}/i',timeout=5).read().decode()"
                  " for p in (80, 3000)),end='')")
        got = None
        deadline = time.time() + HANG_GUARD  # the guest boots meanwhile; only a hang guard
        while time.time() < deadline:
            q = subprocess.run(["ip", "netns", "exec", netns, "python3", "-c", client], capture_output=True)
            if q.returncode == 0:
                got = q.stdout
                break
            time.sleep(0.5)
        assert got == b"hello-netns\nhello-netns\n", q.stderr
        p = _rt(no_leaks, root, "delete", "web")
        assert p.returncode == 1 and b"that is not stopped: running" in p.stderr
        assert _rt(no_leaks, root, "kill", "web", "KILL").returncode == 0
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "web").returncode == 0
    assert not os.path.exists(root / "web") and not os.listdir(no_leaks.run_dir)


def _in_netns(ns, host, port):
    """What a GET of /i at host:port answers from inside network namespace ns (None: refused)."""
    client = ("import urllib.request,sys\ntry:\n"
              f" sys.stdout.write(urllib.request.urlopen('http://{host}:{port}/i',timeout=10).read().decode())\n"
              "except OSError as e:\n sys.stdout.write('refused' if 'refused' in str(e) else repr(e))")
    return subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", client], capture_output=True,
                          timeout=HANG_GUARD).stdout


@pytest.mark.parametrize("runtime", ["runc", "boxvm"])
def test_pod_boxes_share_the_pods_localhost_and_ports(tmp_path, netns, no_leaks, runtime):
    """Two containers in one pod's network namespace, one VM each, as containerd's CRI makes them:
    each reaches the other's server at localhost (IPv4 and IPv6), the one started first as the one
    started second; a server on its guest's loopback only is served on the pod's loopback only, a
    server on every address at the pod's IP too: the same answers as runc's, where the two share
    one kernel."""
    root = tmp_path / "state"
    binary = RUNTIME if runtime == "boxvm" else shutil.which("runc")

    def rt(*args):
        return subprocess.run([binary, "--root", str(root), *args], capture_output=True, env=no_leaks.env,
                              timeout=HANG_GUARD)

    def start(name, script):
        b, cfg = _bundle(tmp_path, ["sh", "-c", script], name=name)
        for ns in cfg["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = f"/run/netns/{netns}"
        cfg.pop("annotations", None)
        (b / "config.json").write_text(json.dumps(cfg))
        with open(tmp_path / f"{name}.out", "wb") as f:  # create hands the container its stdio, as runc does
            p = subprocess.run([binary, "--root", str(root), "create", "--bundle", str(b), name],
                               stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=no_leaks.env, timeout=HANG_GUARD)
        assert p.returncode == 0, (tmp_path / f"{name}.out").read_bytes()
        assert rt("start", name).returncode == 0

    def listens(name, port):
        """name's guest has a TCP listener on port (its own, or the pod's on its loopback)"""
        p = rt("exec", name, "cat", "/proc/net/tcp", "/proc/net/tcp6")
        return p.returncode == 0 and any(f[1].endswith(f":{port:04X}") and f[3] == "0A"
                                         for f in (l.split() for l in p.stdout.decode().splitlines()) if len(f) > 3)

    try:
        start("web", "mkdir -p /tmp/w; echo from-web > /tmp/w/i; exec httpd -f -p 80 -h /tmp/w")
        start("side", "mkdir -p /tmp/w; echo from-side > /tmp/w/i; exec httpd -f -p 127.0.0.1:81 -h /tmp/w")
        # the ports follow the servers (each guest's listeners are read twice a second): wait for
        # each box to see the other's port on its own loopback
        until(lambda: listens("side", 80), "web's port 80 on side's loopback")
        until(lambda: listens("web", 81), "side's port 81 on web's loopback")
        for name, url, want in (("side", "http://127.0.0.1:80/i", b"from-web\n"),
                                ("side", "http://[::1]:80/i", b"from-web\n"),
                                ("web", "http://127.0.0.1:81/i", b"from-side\n"),
                                ("web", "http://127.0.0.1:80/i", b"from-web\n")):  # its own server, directly
            p = rt("exec", name, "wget", "-qO-", url)
            assert (p.returncode, p.stdout) == (0, want), (name, url, p.stderr)
        # from the pod's namespace itself (kubelet's probes, port-forward): 80 at the pod's
        # address and loopback; 81 (side's, loopback-only) at the loopback only
        assert _in_netns(netns, "10.77.0.1", 80) == b"from-web\n"
        assert _in_netns(netns, "127.0.0.1", 80) == b"from-web\n"
        assert _in_netns(netns, "127.0.0.1", 81) == b"from-side\n"
        assert _in_netns(netns, "10.77.0.1", 81) == b"refused"
    finally:
        for name in ("web", "side"):
            rt("delete", "--force", name)
    assert not os.listdir(no_leaks.run_dir)


def _netns_listeners(ns):
    """The TCP ports listened on in network namespace ns."""
    text = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/tcp", "/proc/net/tcp6"], capture_output=True,
                          check=True).stdout.decode()
    return {int(f[1].rsplit(":", 1)[1], 16) for f in (l.split() for l in text.splitlines()) if len(f) > 3 and f[3] == "0A"}


def test_a_pod_box_that_lies_about_its_ports_is_held_to_its_bounds(tmp_path, netns, no_leaks):
    """The test build's agent in boxvm.test_hostile=podnet mode (src/agent/hostile.c) claims the
    most ports allowed twice a second, a moving set, every third one out of order, and opens a
    channel to a port the pod does not serve: the shim holds at most 128 ports of the pod, refuses
    the bad sets and the channel, keeps shim.log bounded, and the box still serves exec."""
    # 64 of the ports the guest claims are the pod's already: those claims fail, and say so
    holder = subprocess.Popen(["ip", "netns", "exec", netns, "python3", "-c",
                               "import socket,time\nss=[]\nfor p in range(30000,30064):\n"
                               " s=socket.socket(); s.bind(('0.0.0.0',p)); s.listen(); ss.append(s)\n"
                               "print('up',flush=True)\ntime.sleep(3600)"], stdout=subprocess.PIPE)
    root = tmp_path / "state"
    try:
        assert holder.stdout.readline() == b"up\n"
        b, cfg = _bundle(tmp_path, ["sleep", "1000"])
        for ns in cfg["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = f"/run/netns/{netns}"
        cfg.pop("annotations", None)
        (b / "config.json").write_text(json.dumps(cfg))
        env = {**no_leaks.env, "BOXVM_KERNEL_APPEND": "boxvm.test_hostile=podnet"}
        with open(tmp_path / "out", "wb") as f:
            assert subprocess.run([RUNTIME, "--root", str(root), "create", "--bundle", str(b), "evil"],
                                  stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=env,
                                  timeout=HANG_GUARD).returncode == 0
        assert _rt(no_leaks, root, "start", "evil").returncode == 0
        box = root / "evil" / "box"
        until(lambda: b"test_hostile=podnet: round 40" in (box / "console.log").read_bytes(), "40 rounds of lies")
        assert b"test_hostile=podnet: the channel to port 1 was refused" in (box / "console.log").read_bytes()
        log = (box / "shim.log").read_bytes()
        assert b"malformed port set" in log and b"is not served in the pod" in log, log[-3000:]
        assert log.count(b"podnet:") <= 33 and log.count(b"malformed port set") == 1, log[-3000:]
        theirs = _netns_listeners(netns) - set(range(30000, 30064))
        assert 0 < len(theirs) <= 128 and theirs <= set(range(30000, 30200)), sorted(theirs)
        p = _rt(no_leaks, root, "exec", "evil", "echo", "still-here")
        assert (p.returncode, p.stdout) == (0, b"still-here\n"), p.stderr
    finally:
        _rt(no_leaks, root, "delete", "--force", "evil")
        holder.kill()
        holder.wait()
    assert not os.listdir(no_leaks.run_dir)


def test_runtime_pause_resume_freezes_the_vm(tmp_path, no_leaks):
    # root.path is served to the guest as it is: the counter shows up in the bundle
    b, _ = _bundle(tmp_path, ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; "
                                          "mv /tmp/c.new /tmp/c; sleep 0.1; done"])
    os.symlink("busybox", b / "rootfs" / "bin" / "mv")
    count = b / "rootfs" / "tmp" / "c"
    value = lambda: int(count.read_text()) if count.exists() else 0
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "pz")
    assert rc == 0, out
    state = lambda: json.loads(_rt(no_leaks, root, "state", "pz").stdout)["status"]
    try:
        p = _rt(no_leaks, root, "pause", "pz")
        assert p.returncode == 1 and b"container not running" in p.stderr  # created: no VM yet
        assert _rt(no_leaks, root, "start", "pz").returncode == 0
        deadline = time.time() + HANG_GUARD  # the guest boots meanwhile; only a hang guard
        while value() < 3 and time.time() < deadline:
            time.sleep(0.3)
        assert value() >= 3
        assert _rt(no_leaks, root, "pause", "pz").returncode == 0
        frozen_at = value()
        assert state() == "paused"
        for cmd, msg in ((["pause", "pz"], b"container already paused"),
                         (["exec", "pz", "true"], b"cannot exec in a paused container"),
                         (["delete", "pz"], b"that is not stopped: paused")):
            p = _rt(no_leaks, root, *cmd)
            assert p.returncode == 1 and msg in p.stderr, (cmd, p.stderr)
        time.sleep(3)  # unpaused, the loop advances ~10 times a second
        assert value() == frozen_at
        assert _rt(no_leaks, root, "resume", "pz").returncode == 0
        assert state() == "running"
        deadline = time.time() + HANG_GUARD
        while value() <= frozen_at and time.time() < deadline:
            time.sleep(0.3)
        assert value() > frozen_at
        p = _rt(no_leaks, root, "resume", "pz")
        assert p.returncode == 1 and b"container not paused" in p.stderr
        # a signal for a paused container: the VM runs again to take it
        assert _rt(no_leaks, root, "pause", "pz").returncode == 0
        assert _rt(no_leaks, root, "kill", "pz", "KILL").returncode == 0
        deadline = time.time() + HANG_GUARD
        while state() != "stopped" and time.time() < deadline:
            time.sleep(0.3)
        assert state() == "stopped"
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "pz").returncode == 0
    assert not os.path.exists(root / "pz") and not os.listdir(no_leaks.run_dir)


def test_runtime_errors_in_runc_style(tmp_path, no_leaks):
    root = tmp_path / "state"
    log = tmp_path / "log.json"
    g = ["--log", str(log), "--log-format", "json"]
    p = _rt(no_leaks, root, *g, "create", "--bundle", str(tmp_path / "missing"), "c1")
    assert p.returncode == 1 and b"invalid bundle" in p.stderr
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and "invalid bundle" in entry["msg"] and entry["time"]
    b, cfg = _bundle(tmp_path, ["true"])
    (b / "config.json").write_text("{not json")
    p = _rt(no_leaks, root, "create", "--bundle", str(b), "c1")
    assert p.returncode == 1 and b"invalid config.json" in p.stderr
    cfg["hooks"] = {"startContainer": [{"path": "/bin/true"}]}
    (b / "config.json").write_text(json.dumps(cfg))
    p = _rt(no_leaks, root, "create", "--bundle", str(b), "c1")
    assert p.returncode == 1 and b"hooks.startContainer is not supported" in p.stderr
    del cfg["hooks"]
    (b / "config.json").write_text(json.dumps(cfg))
    p = _rt(no_leaks, root, "create", "--bundle", str(b), "bad/id")
    assert p.returncode == 1 and b"invalid container ID" in p.stderr
    for cmd in (["state", "nope"], ["start", "nope"], ["kill", "nope"], ["delete", "nope"]):
        p = _rt(no_leaks, root, *cmd)
        assert p.returncode == 1 and b'container \\"nope\\" does not exist' in p.stderr, (cmd, p.stderr)  # logrus quotes msg
    assert _rt(no_leaks, root, "delete", "--force", "nope").returncode == 0
    # a created container: ID in use, bad signal, kill stops it, delete removes it; no VM ever booted
    assert _create(no_leaks, root, tmp_path, "--bundle", str(b), "c1")[0] == 0
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "c1")
    assert rc == 1 and b"container with id exists: c1" in out
    p = _rt(no_leaks, root, "kill", "c1", "NOTASIGNAL")
    assert p.returncode == 1 and b"invalid signal" in p.stderr
    assert _rt(no_leaks, root, "kill", "c1", "TERM").returncode == 0
    assert json.loads(_rt(no_leaks, root, "state", "c1").stdout)["status"] == "stopped"
    p = _rt(no_leaks, root, "start", "c1")
    assert p.returncode == 1 and b"cannot start a container that has stopped" in p.stderr
    assert _rt(no_leaks, root, "delete", "c1").returncode == 0
    assert os.listdir(root) == [] and not os.listdir(no_leaks.run_dir)
    p = _rt(no_leaks, root, "pause", "c1")
    assert p.returncode == 1 and b'container \\"c1\\" does not exist' in p.stderr  # logrus quotes msg
    p = _rt(no_leaks, root, "update", "--memory", "128m", "c1")
    assert p.returncode == 1 and b'container \\"c1\\" does not exist' in p.stderr
    feats = json.loads(_rt(no_leaks, root, "features").stdout)
    assert feats["ociVersionMin"] == "1.0.0"
    assert _rt(no_leaks, root, "--version").stdout.startswith(b"boxvm-runtime version ")


def test_runtime_update_of_a_created_container(tmp_path, no_leaks):
    """runc's update (flags and -r resources.json) onto the box function `boxvm update` uses:
    the VM's memory (the limit + 128m: box/resources.h) and CPU quota for its boot (the live paths:
    test_update.py). No VM boots."""
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["true"])
    assert _create(no_leaks, root, tmp_path, "--bundle", str(b), "c1")[0] == 0
    try:
        vm_json = root / "c1" / "box" / "vm.json"
        p = _rt(no_leaks, root, "update", "--memory", "128m", "--cpu-quota", "50000", "--cpu-period", "100000", "c1")
        assert p.returncode == 0, p.stderr
        vm = json.loads(vm_json.read_text())
        assert (vm["mem_mb"], vm["nano_cpus"]) == (128 + 128, 500000000)
        res = tmp_path / "resources.json"
        res.write_text(json.dumps({"memory": {"limit": 96 * 1024 * 1024}, "cpu": {"shares": 512, "quota": 150000,
                                                                                   "period": 100000}}))
        assert _rt(no_leaks, root, "update", "-r", str(res), "c1").returncode == 0
        vm = json.loads(vm_json.read_text())
        assert (vm["mem_mb"], vm["nano_cpus"], vm["cpu_shares"]) == (96 + 128, 1500000000, 512)
        p = _rt(no_leaks, root, "update", "--memory", "3m", "c1")
        assert p.returncode == 1 and b"Minimum memory limit allowed is 6MB" in p.stderr
    finally:
        _rt(no_leaks, root, "delete", "--force", "c1")


def test_runtime_kill_of_created_container_is_stopped_when_kill_returns(tmp_path, no_leaks):
    """`kill` of a container that never started answers only once `state` says "stopped".
    The monitor used to answer first and exit after, so a `state` right after `kill` could
    still say "created" (seen once in CI, in test_runtime_errors_in_runc_style, on a busy
    machine: the window is the monitor's own exit, too narrow to hit on demand). Now the
    monitor records ROOT/ID/stopped before it answers. No VM boots; rounds widen the window."""
    root = tmp_path / "state"
    b, _ = _bundle(tmp_path, ["true"])
    for i in range(20):
        assert _create(no_leaks, root, tmp_path, "--bundle", str(b), "c1")[0] == 0
        assert _rt(no_leaks, root, "kill", "c1", "KILL").returncode == 0
        state = json.loads(_rt(no_leaks, root, "state", "c1").stdout)
        assert (i, state["status"], state["pid"]) == (i, "stopped", 0)
        assert _rt(no_leaks, root, "delete", "c1").returncode == 0
    assert os.listdir(root) == [] and not os.listdir(no_leaks.run_dir)


def test_runtime_boxes_get_every_vm_setting_run_does(tmp_path, no_leaks):
    """boxvm-runtime builds its VM with the same code as `boxvm run` (bx_box_build_vm): the
    guest kernel command line of both carries BOXVM_KERNEL_APPEND (it used to be dropped by
    the runtime), and BOXVM_DEBUG=0 means off for both."""
    bx = no_leaks
    env = dict(bx.env, BOXVM_KERNEL_APPEND="boxvm.test_append=yes", BOXVM_DEBUG="0")
    ran = bx("run", "--rm", "busybox", "cat", "/proc/cmdline", env=env, check=0).stdout
    assert b"boxvm.test_append=yes" in ran and b"boxvm.debug" not in ran, ran
    b, _ = _bundle(tmp_path, ["cat", "/proc/cmdline"])
    root = tmp_path / "state"
    out = tmp_path / "ctr-out"
    with open(out, "wb") as f:
        p = subprocess.run([RUNTIME, "--root", str(root), "create", "--bundle", str(b), "ka"], stdin=subprocess.DEVNULL,
                           stdout=f, stderr=f, env=env, timeout=HANG_GUARD)
    assert p.returncode == 0, out.read_bytes()
    try:
        assert _rt(bx, root, "start", "ka").returncode == 0
        until(lambda: json.loads(_rt(bx, root, "state", "ka").stdout)["status"] == "stopped", "the container to stop")
        assert b"boxvm.test_append=yes" in out.read_bytes() and b"boxvm.debug" not in out.read_bytes(), out.read_bytes()
    finally:
        assert _rt(bx, root, "delete", "--force", "ka").returncode == 0


def test_runtime_events_tell_an_oom_kill(tmp_path, no_leaks):
    """runc's `events ID` streams stats and, as soon as the container's memory limit
    kills a process, {"type":"oom","id":ID}; it ends when the container stops."""
    b, cfg = _bundle(tmp_path, ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exec tail /dev/zero"])
    os.symlink("busybox", b / "rootfs" / "bin" / "tail")
    cfg["linux"].setdefault("resources", {})["memory"] = {"limit": 64 * 1024 * 1024}
    (b / "config.json").write_text(json.dumps(cfg))
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "oo")
    assert rc == 0, out
    try:
        assert _rt(no_leaks, root, "start", "oo").returncode == 0
        ev = subprocess.Popen([RUNTIME, "--root", str(root), "events", "--interval", "1s", "oo"],
                              stdout=subprocess.PIPE, env=no_leaks.env)
        try:
            first = json.loads(ev.stdout.readline())  # the watch is on once the first stats line is out
            assert first["type"] == "stats" and first["id"] == "oo"
            (b / "rootfs" / "tmp" / "go").write_text("")
            lines = [json.loads(line) for line in ev.stdout]  # to the container's end
            assert ev.wait(timeout=HANG_GUARD) == 0
        finally:
            ev.kill()
            ev.wait()
        assert {"type": "oom", "id": "oo"} in lines, lines
        assert json.loads(_rt(no_leaks, root, "state", "oo").stdout)["status"] == "stopped"
    finally:
        _rt(no_leaks, root, "delete", "--force", "oo")


def test_runtime_exec_into_a_created_container(tmp_path, no_leaks):
    """runc can exec into a created container: boxvm boots the VM then, main held.
    The exec runs while state still says "created" and main has not run (its
    marker file is absent); start then runs main, once; a second created
    container execed into and killed before start leaves nothing."""
    b, _ = _bundle(tmp_path, ["sh", "-c", "echo MAIN-WAS-HERE >> /tmp/marker; sleep 100000"])
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "ex")
    assert rc == 0, out
    ran = b / "rootfs" / "tmp" / "marker"
    state = lambda i: json.loads(_rt(no_leaks, root, "state", i).stdout)["status"]  # noqa: E731
    try:
        p = _rt(no_leaks, root, "exec", "ex", "sh", "-c", "echo from-exec; cat /tmp/marker 2>&1 || true")
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(b"from-exec\n") and b"MAIN-WAS-HERE" not in p.stdout, p.stdout
        assert state("ex") == "created" and not ran.exists()
        assert _rt(no_leaks, root, "start", "ex").returncode == 0
        assert state("ex") == "running"
        deadline = time.time() + HANG_GUARD  # main runs now: its marker comes (a hang guard only)
        while not ran.exists() and time.time() < deadline:
            time.sleep(0.2)
        p = _rt(no_leaks, root, "exec", "ex", "cat", "/tmp/marker")
        assert p.returncode == 0 and p.stdout == b"MAIN-WAS-HERE\n", (p.stdout, p.stderr)
        assert _rt(no_leaks, root, "kill", "ex", "KILL").returncode == 0
        deadline = time.time() + HANG_GUARD
        while state("ex") != "stopped" and time.time() < deadline:
            time.sleep(0.3)
        assert state("ex") == "stopped"
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "ex").returncode == 0
    # booted for an exec, then killed before start: the VM goes with it
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "ex2")
    assert rc == 0, out
    try:
        assert _rt(no_leaks, root, "exec", "ex2", "sh", "-c", "exit 0").returncode == 0
        assert _rt(no_leaks, root, "kill", "ex2", "KILL").returncode == 0
        assert state("ex2") == "stopped"
    finally:
        assert _rt(no_leaks, root, "delete", "ex2").returncode == 0
    assert not os.listdir(root) and not os.listdir(no_leaks.run_dir)
