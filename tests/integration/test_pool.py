"""The warm pool (issue 17): VMs booted ahead of time, each claimed by one box
that fits and never used again.

Every test here has a data and runtime directory of its own (a pool in the
worker's shared one would serve other modules' boxes). Nothing is mocked: real
pool VMs boot under TCG, real boxes claim them. Waits are for events (a ready
file, a process gone), bounded by hang guards only."""
import json
import os
import signal
import subprocess
import tempfile
import shutil
import time

import pytest

from conftest import BUSYBOX_TAR, HANG_GUARD, KERNEL_DIR, Boxvm, _our_processes, unmount_under, until
from test_oci_runtime import _in_netns, netns  # noqa: F401 (a fixture)


@pytest.fixture
def pbx():
    root = tempfile.mkdtemp(prefix="boxvm-pool-root.")
    run = tempfile.mkdtemp(prefix="bxp.", dir="/tmp")
    env = dict(os.environ)
    env.update({"BOXVM_ROOT": root, "BOXVM_RUNTIME_DIR": run, "BOXVM_KERNEL_DIR": KERNEL_DIR,
                "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"})
    b = Boxvm(root, run, env)
    b("load", "-i", BUSYBOX_TAR, check=0)
    yield b
    b("pool", "drain", timeout=120)
    ids = b("ps", "-aq", "--no-trunc").stdout.split()
    if ids:
        b("rm", "-f", *[i.decode() for i in ids], timeout=120)
    leaked = _our_processes(root) + _our_processes(run)
    for pid, _ in leaked:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    runs = os.listdir(run)
    unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)
    assert not leaked, f"leaked processes: {leaked}"
    assert not runs, f"leaked runtime directories: {runs}"


def pool_vms(b):
    d = os.path.join(b.root, "pool")
    return sorted(e for e in os.listdir(d) if len(e) == 64) if os.path.isdir(d) else []


def ready_vms(b):
    return [v for v in pool_vms(b) if os.path.exists(os.path.join(b.root, "pool", v, "ready"))]


def wait_ready(b, n=1):
    return until(lambda: len(ready_vms(b)) >= n and ready_vms(b), f"{n} ready pool VM(s)")


def qemu_pid(b, box_id):
    with open(os.path.join(b.run_dir, box_id[:12], "qemu.pid")) as f:
        return int(f.read().split()[0])


def served_by_pool(b, box_id):
    with open(os.path.join(b.root, "boxes", box_id, "shim.log")) as f:
        return "claimed by box " + box_id in f.read()


SCRIPT = 'echo "$FOO"; hostname; id -u; pwd; cat /etc/hosts | grep -c "$(hostname)"; echo err >&2; exit 3'


def test_a_pool_box_behaves_as_a_cold_one(pbx):
    args = ["-e", "FOO=bar baz", "--hostname", "hx", "-w", "/tmp", "-u", "1000", "busybox", "sh", "-c", SCRIPT]
    cold = pbx("run", "--rm", *args)
    assert cold.returncode == 3, cold.stderr
    pbx("pool", "set", "1", check=0)
    (vm,) = wait_ready(pbx)
    warm = pbx("run", "--rm", *args)
    assert warm.returncode == 3, warm.stderr
    assert (warm.stdout, warm.stderr) == (cold.stdout, cold.stderr)
    assert vm not in pool_vms(pbx)  # the box took it
    # a detached one: logs, inspect, exec, stop, as after a cold boot
    wait_ready(pbx)
    box = pbx("run", "-d", "--name", "warm", "busybox", "sh", "-c", "echo hello; cat /proc/cmdline; sleep 1d",
              check=0).stdout.decode().strip()
    assert served_by_pool(pbx, box)
    assert pbx("inspect", "-f", "{{.State.Status}}", box, check=0).stdout == b"running\n"
    assert pbx("exec", box, "cat", "/etc/hostname", check=0).stdout == box[:12].encode() + b"\n"
    logs = until(lambda: (lambda o: o if b"boxvm.pool=1" in o else None)(pbx("logs", box).stdout), "the logs")
    assert logs.startswith(b"hello\n")
    pbx("stop", "-t", "1", box, check=0)
    assert pbx("inspect", "-f", "{{.State.Status}}", box, check=0).stdout == b"exited\n"
    pbx("rm", box, check=0)


def test_a_pool_vm_serves_one_box_ever(pbx):
    pbx("pool", "set", "1", check=0)
    wait_ready(pbx)
    a = pbx("run", "-d", "busybox", "sleep", "1d", check=0).stdout.decode().strip()
    qa = qemu_pid(pbx, a)
    wait_ready(pbx)  # refilled by a fresh VM meanwhile
    b = pbx("run", "-d", "busybox", "sleep", "1d", check=0).stdout.decode().strip()
    qb = qemu_pid(pbx, b)
    assert served_by_pool(pbx, a) and served_by_pool(pbx, b)
    assert qa != qb
    pbx("stop", "-t", "0", a, check=0)
    assert not os.path.exists(f"/proc/{qa}")  # its VM ended with it
    # started again: another VM (the pool's next one), never the old one
    wait_ready(pbx)
    pbx("start", a, check=0)
    assert served_by_pool(pbx, a)
    assert qemu_pid(pbx, a) not in (qa, qb)
    assert pbx("exec", a, "true").returncode == 0
    pbx("rm", "-f", a, b, check=0)


def test_boxes_that_do_not_fit_boot_cold_and_leave_the_pool_alone(pbx):
    pbx("pool", "set", "1", check=0)
    (vm,) = wait_ready(pbx)
    for extra in (["--network", "none"], ["-m", "300m"], ["-v", "/tmp:/a", "-v", "/tmp:/b", "-v", "/tmp:/c"]):
        out = pbx("run", "--rm", *extra, "busybox", "cat", "/proc/cmdline", check=0).stdout
        assert b"boxvm.pool=1" not in out, extra
    assert ready_vms(pbx) == [vm]


def test_volumes_and_bind_mounts_through_the_pool(pbx, tmp_path):
    (tmp_path / "f").write_text("from-host\n")
    pbx("pool", "set", "1", check=0)
    wait_ready(pbx)
    p = pbx("run", "--rm", "-v", f"{tmp_path}:/h:ro", "-v", "vol1:/data", "busybox", "sh", "-c",
            "cat /h/f; grep -o boxvm.pool=1 /proc/cmdline; echo kept > /data/k; touch /h/new", check=1)
    assert p.stdout == b"from-host\nboxvm.pool=1\n"
    assert b"Read-only file system" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["f"]
    # the volume's data, read back by a cold box (no pool VM fits --network none)
    assert pbx("run", "--rm", "--network", "none", "-v", "vol1:/data", "busybox", "cat", "/data/k",
               check=0).stdout == b"kept\n"


def test_file_bind_mounts_through_the_pool(pbx, tmp_path):
    """A bind mount of a file is staged in the pool VM's spare share at the claim as a cold boot's
    virtiofsd stages it: the file alone, read-only with :ro, written through without; the same
    answers as a cold box (--network none fits no pool VM)."""
    conf, out = tmp_path / "app.conf", tmp_path / "out.txt"
    conf.write_text("setting=1\n")
    script = ("cat /etc/app.conf; ls /etc/app.conf; echo $(cat /out.txt) written >> /out.txt; "
              "grep -c boxvm.pool=1 /proc/cmdline; echo x > /etc/app.conf")
    runs = {}
    for how, extra in (("cold", ["--network", "none"]), ("warm", [])):
        out.write_text(how + "\n")
        if how == "warm":
            pbx("pool", "set", "1", check=0)
            wait_ready(pbx)
        p = pbx("run", "--rm", *extra, "-v", f"{conf}:/etc/app.conf:ro", "-v", f"{out}:/out.txt", "busybox",
                "sh", "-c", script, check=1)
        assert b"Read-only file system" in p.stderr, p.stderr
        runs[how] = (p.stdout, out.read_text())
    assert runs["cold"] == (b"setting=1\n/etc/app.conf\n0\n", "cold\ncold written\n")
    assert runs["warm"] == (b"setting=1\n/etc/app.conf\n1\n", "warm\nwarm written\n")
    assert conf.read_text() == "setting=1\n"


def test_published_ports_work_through_the_pool(pbx):
    import socket
    import urllib.request
    pbx("pool", "set", "1", check=0)
    wait_ready(pbx)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = pbx("run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
              "echo hello-pool > /tmp/i.html; exec httpd -f -p 80 -h /tmp", check=0).stdout.decode().strip()
    assert served_by_pool(pbx, box)

    def fetch():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/i.html", timeout=5).read()
        except OSError:
            return None
    assert until(fetch, "the published port") == b"hello-pool\n"
    assert pbx("port", box, check=0).stdout == f"80/tcp -> 127.0.0.1:{port}\n".encode()
    pbx("rm", "-f", box, check=0)


def test_drain_leaves_nothing_behind(pbx):
    pbx("pool", "set", "2", check=0)
    wait_ready(pbx, 2)
    assert b"Warm pool:       2 of 2 ready (512 MiB, 2 vCPUs, network default)" in pbx("info", check=0).stdout
    assert b"2 VMs stopped" in pbx("pool", "drain", check=0).stdout
    assert b"Warm pool:       none" in pbx("info", check=0).stdout
    assert pool_vms(pbx) == []
    assert not _our_processes(pbx.root) and not _our_processes(pbx.run_dir)
    assert os.listdir(pbx.run_dir) == []
    # the pool is off: nothing boots again, and a box boots cold
    assert b"boxvm.pool=1" not in pbx("run", "--rm", "busybox", "cat", "/proc/cmdline", check=0).stdout
    assert pool_vms(pbx) == []


def test_a_pool_vm_that_died_is_replaced(pbx):
    pbx("pool", "set", "1", check=0)
    (vm,) = wait_ready(pbx)
    with open(os.path.join(pbx.root, "pool", vm, "ready")) as f:
        shim = int(f.read())
    qemu = [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_qemu_of(int(p), shim)]
    assert len(qemu) == 1
    os.kill(qemu[0], signal.SIGKILL)
    (new,) = until(lambda: [v for v in ready_vms(pbx) if v != vm], "a replacement pool VM")
    assert vm not in pool_vms(pbx)
    box = pbx("run", "-d", "busybox", "sleep", "1d", check=0).stdout.decode().strip()
    assert served_by_pool(pbx, box)
    pbx("rm", "-f", box, check=0)


def test_a_won_vm_whose_claimer_died_is_stopped_and_replaced(pbx):
    """A start killed right after it won a pool VM, before it handed the VM its box: that VM
    would wait for ever. `pool fill` (every claim runs one) stops it and boots another."""
    pbx("pool", "set", "1", check=0)
    (vm,) = wait_ready(pbx)
    p = pbx("run", "-d", "busybox", "sleep", "1d", env={"BOXVM_TEST_CRASH_AT": "pool.claimed"})
    assert p.returncode == -signal.SIGKILL, p
    assert pool_vms(pbx) == [vm] and not ready_vms(pbx)  # won, never claimed
    assert b"1 VM won by a start that died before using it" in pbx("pool", "ls", check=0).stdout
    pbx("pool", "fill", check=0)
    assert vm not in pool_vms(pbx)
    (new,) = wait_ready(pbx)
    box = pbx("run", "-d", "busybox", "sleep", "1d", check=0).stdout.decode().strip()
    assert served_by_pool(pbx, box)
    pbx("rm", "-f", box, check=0)


def _is_qemu_of(pid, parent):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/comm") as f:
            return int(fields[1]) == parent and f.read().startswith("qemu")
    except OSError:
        return False


def test_pool_commands_say_what_is_wrong(pbx):
    for args, msg in ((["pool", "set", "65"], b"invalid pool size"), (["pool", "set", "x"], b"invalid pool size"),
                      (["pool", "set", "--network", "host", "1"], b"invalid --network"),
                      (["pool", "frobnicate"], b"unknown pool command")):
        p = pbx(*args)
        assert p.returncode == 1 and msg in p.stderr, (args, p.stderr)
        assert p.stderr.count(b"\n") == 1
    ls = pbx("pool", "ls", check=0).stdout
    assert ls.startswith(b"MEMORY") and ls.count(b"\n") == 1  # no profile yet


# --- boxvm-runtime's containers -------------------------------------------

def _join(cfg, netns):
    for ns in cfg["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = f"/run/netns/{netns}"
    cfg.pop("annotations", None)


def test_runtime_containers_through_the_pool(pbx, tmp_path, netns):
    """boxvm-runtime's `start` claims a pool VM made for bundles (`pool set --runtime`): the same
    answers as a cold boot (env, hostname, user, cwd, a file and a directory bind mount, exit
    code); in a pod's network namespace the box's server is served there (the claimed shim joins
    the namespace of the monitor that claimed it), and pause, resume and kill reach the shim,
    which is not the monitor's child."""
    from test_oci_runtime import RUNTIME, _bundle
    conf, data = tmp_path / "app.conf", tmp_path / "data"
    conf.write_text("setting=1\n")
    data.mkdir()
    data.chmod(0o777)  # written by uid 1000
    (data / "d").write_text("in-dir\n")
    script = ('echo "$FOO"; hostname; id -u; pwd; cat /etc/app.conf /data/d; echo w > /data/new; '
              "grep -c boxvm.pool=1 /proc/cmdline; exit 3")
    b, cfg = _bundle(tmp_path, ["sh", "-c", script], hostname="hx")
    cfg["process"]["env"].append("FOO=bar baz")
    cfg["process"]["cwd"] = "/tmp"
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    cfg["mounts"] += [{"destination": "/etc/app.conf", "type": "bind", "source": str(conf), "options": ["rbind", "ro"]},
                      {"destination": "/data", "type": "bind", "source": str(data), "options": ["rbind", "rw"]}]
    _join(cfg, netns)  # a new namespace would be one without a network: the pool VM has one
    (b / "config.json").write_text(json.dumps(cfg))
    state = tmp_path / "state"

    def rt(*args):
        return subprocess.run([RUNTIME, "--root", str(state), *args], capture_output=True, env=pbx.env,
                              stdin=subprocess.DEVNULL, timeout=HANG_GUARD)

    runs = {}
    for how in ("cold", "warm"):
        if how == "warm":
            pbx("pool", "set", "--runtime", "1", check=0)
            wait_ready(pbx)
            assert b"runtime  6" in pbx("pool", "ls", check=0).stdout
        with open(tmp_path / f"{how}.out", "wb") as f:  # run hands the container its stdio, as runc does
            p = subprocess.run([RUNTIME, "--root", str(state), "run", "--bundle", str(b), how], stdin=subprocess.DEVNULL,
                               stdout=f, stderr=f, env=pbx.env, timeout=HANG_GUARD)
        runs[how] = (p.returncode, (tmp_path / f"{how}.out").read_bytes())
        assert not os.path.exists(state / how)  # run deletes it, as runc's does
        assert (data / "new").read_text() == "w\n"
        (data / "new").unlink()
    assert runs["cold"] == (3, b"bar baz\nhx\n1000\n/tmp\nsetting=1\nin-dir\n0\n")
    assert runs["warm"] == (3, b"bar baz\nhx\n1000\n/tmp\nsetting=1\nin-dir\n1\n")

    # a pod's box, detached: its server at the pod's address, pause and resume, kill
    (vm,) = wait_ready(pbx)  # refilled by the claimed VM's shim meanwhile: in the pool's namespace, not the pod's
    with open(os.path.join(pbx.root, "pool", vm, "ready")) as f:
        assert os.readlink(f"/proc/{int(f.read())}/ns/net") == os.readlink("/proc/self/ns/net")
    b, cfg = _bundle(tmp_path, ["sh", "-c", "mkdir -p /tmp/w; echo hello-pod > /tmp/w/i; exec httpd -f -p 80 -h /tmp/w"],
                     name="web")
    _join(cfg, netns)
    (b / "config.json").write_text(json.dumps(cfg))
    with open(tmp_path / "web.out", "wb") as f:
        p = subprocess.run([RUNTIME, "--root", str(state), "create", "--bundle", str(b), "web"],
                           stdin=subprocess.DEVNULL, stdout=f, stderr=f, env=pbx.env, timeout=HANG_GUARD)
    assert p.returncode == 0, (tmp_path / "web.out").read_bytes()
    try:
        assert rt("start", "web").returncode == 0
        with open(state / "web" / "box" / "shim.log") as f:
            assert "claimed by box" in f.read()
        assert until(lambda: (lambda o: o if o != b"refused" else None)(_in_netns(netns, "10.77.0.1", 80)),
                     "the pod's port 80") == b"hello-pod\n"
        assert rt("pause", "web").returncode == 0
        assert json.loads(rt("state", "web").stdout)["status"] == "paused"
        assert rt("resume", "web").returncode == 0
        assert _in_netns(netns, "127.0.0.1", 80) == b"hello-pod\n"
        assert rt("kill", "web", "KILL").returncode == 0
        until(lambda: json.loads(rt("state", "web").stdout)["status"] == "stopped", "web stopped")
    finally:
        assert rt("delete", "--force", "web").returncode == 0
    assert not os.path.exists(state / "web")
