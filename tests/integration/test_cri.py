"""Kubernetes at the CRI: containerd's own CRI plugin (Debian's containerd
1.6) with a runtime handler "boxvm" whose binary is boxvm-runtime, driven
through the CRI v1 gRPC API exactly as kubelet drives it (cri_client.py; the
pod network is Debian's CNI bridge plugin on a bridge of the test's own).

Every pod sandbox and every container is a real microVM: the sandbox's VM
runs the pause process, each container's VM joins the pod's network
namespace through passt, and the pod's TCP ports and localhost follow the
servers of its containers (src/shim/podnet.c)."""
import json
import os
import shutil
import tempfile
import time
import urllib.request

import pytest

from conftest import BUILD, BUSYBOX_TAR, HANG_GUARD, TEST_POOL, _our_processes, pool_vm_ready, unmount_under, until

RUNTIME = os.path.join(BUILD, "boxvm-runtime")
RUNC_ROOT = "/run/containerd/runc/k8s.io"  # runc.v2's --root for the CRI's namespace

try:
    import grpc
    import websocket
    from cri_client import BUSYBOX, CNI_BIN, CriContainerd, pb
    HAVE_CLIENT = True
except ImportError:
    HAVE_CLIENT = False
    CNI_BIN = "/usr/lib/cni"

pytestmark = pytest.mark.skipif(not HAVE_CLIENT or not shutil.which("containerd") or
                                not os.path.exists(os.path.join(CNI_BIN, "bridge")),
                                reason="containerd, CNI plugins or python3-grpc-tools not installed "
                                       "(scripts/install-deps.sh)")


@pytest.fixture(scope="module")
def cri(bx):
    """The CRI of a private containerd (cri_client.CriContainerd) whose "boxvm" handler runs
    this build's boxvm-runtime with the tests' BOXVM_* directories."""
    d = tempfile.mkdtemp(prefix="bxcri.", dir="/tmp")
    ctd = None
    try:
        # each xdist worker has a containerd (module fixtures are per worker): its own bridge and subnet
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        ctd = CriContainerd(d, RUNTIME, BUSYBOX_TAR, bx.env, guard=HANG_GUARD,
                            net_index=int(worker[2:]) if worker[2:].isdigit() else 0)
        ctd.cri.dir = d
        ctd.cri.subnet = ctd.subnet
        yield ctd.cri
    finally:
        if ctd:
            ctd.stop()
        unmount_under(d)
        shutil.rmtree(d, ignore_errors=True)


def _sandbox_config(cri, name):
    uid = f"{name}-{time.time_ns()}"
    logdir = os.path.join(cri.dir, "pods", uid)
    os.makedirs(logdir)
    return pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="default"),
                               hostname=name, log_directory=logdir, labels={"app": name},
                               linux=pb.LinuxPodSandboxConfig())


def _container(cri, sid, sc, name, cmd, **kw):
    cc = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=BUSYBOX),
                            command=cmd, log_path=f"{name}/0.log", **kw)
    cid = cri.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=sid, config=cc, sandbox_config=sc)).container_id
    cri.StartContainer(pb.StartContainerRequest(container_id=cid))
    return cid


def _vm_processes(bx, ids):
    return [p for p in _our_processes(bx.root) + _our_processes(bx.run_dir) + _our_processes(RUNC_ROOT)
            if any(i in p[1] for i in ids)]


def _log_lines(path):
    """A CRI log file's lines as (stream, tag, text): kubelet's format, "TIME STREAM TAG TEXT"."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            ts, stream, tag, text = line.rstrip("\n").split(" ", 3)
            assert ts.endswith("Z") and "T" in ts, line
            out.append((stream, tag, text))
    return out


@pytest.mark.parametrize("handler", ["runc", "boxvm"])
def test_pod_lifecycle_as_kubelet_drives_it(cri, bx, handler):
    """The same pod's life with runc's handler (the reference) and boxvm's: the same answers."""
    sc = _sandbox_config(cri, "life")
    sid = cri.RunPodSandbox(pb.RunPodSandboxRequest(config=sc, runtime_handler=handler)).pod_sandbox_id
    ids = [sid]
    try:
        st = cri.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
        assert st.state == pb.SANDBOX_READY and st.runtime_handler == handler
        assert st.network.ip.startswith(cri.subnet + "."), st
        assert st.labels["app"] == "life"
        # under boxvm, its pause process runs in a VM of its own
        assert bool(_vm_processes(bx, [sid])) == (handler == "boxvm")

        cid = _container(cri, sid, sc, "main", ["sh", "-c", "echo hello; echo oops >&2; exec sleep 600"],
                         envs=[pb.KeyValue(key="GREETING", value="hi there")])
        ids.append(cid)
        log = os.path.join(sc.log_directory, "main", "0.log")
        lines = until(lambda: (lambda l: l if len(l) >= 2 else None)(_log_lines(log)), "the container's log")
        assert sorted(lines) == [("stderr", "F", "oops"), ("stdout", "F", "hello")]
        s = cri.ContainerStatus(pb.ContainerStatusRequest(container_id=cid)).status
        assert s.state == pb.CONTAINER_RUNNING and s.started_at > 0 and s.log_path == log, s

        r = cri.ExecSync(pb.ExecSyncRequest(container_id=cid, timeout=HANG_GUARD,
                                            cmd=["sh", "-c", "echo $GREETING; hostname; echo err >&2; exit 3"]))
        assert (r.stdout, r.stderr, r.exit_code) == (b"hi there\nlife\n", b"err\n", 3)
        # a command that is not there: an error of the call (the runtime's exec failed), as with runc
        with pytest.raises(grpc.RpcError) as e:
            cri.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["no-such-command"], timeout=HANG_GUARD))
        assert "no-such-command" in e.value.details() and "not found" in e.value.details(), e.value.details()

        # StopContainer: SIGTERM first (sleep dies of it), within the grace period
        cri.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=30))
        s = cri.ContainerStatus(pb.ContainerStatusRequest(container_id=cid)).status
        assert s.state == pb.CONTAINER_EXITED and s.exit_code == 143 and s.finished_at >= s.started_at, s
        cri.RemoveContainer(pb.RemoveContainerRequest(container_id=cid))
        assert not cri.ListContainers(pb.ListContainersRequest(filter=pb.ContainerFilter(pod_sandbox_id=sid))).containers
        assert not _vm_processes(bx, [cid])

        cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid))
        st = cri.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
        assert st.state == pb.SANDBOX_NOTREADY
        cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid))  # idempotent, as kubelet expects
        cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid))
        assert sid not in [p.id for p in cri.ListPodSandbox(pb.ListPodSandboxRequest()).items]
    finally:
        for p in cri.ListPodSandbox(pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(id=sid))).items:
            cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=p.id))
            cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=p.id))
    assert not _vm_processes(bx, ids)
    assert not [i for i in ids if os.path.exists(os.path.join(RUNC_ROOT, i))]


def _ws(url, protocol="v4.channel.k8s.io"):
    return websocket.create_connection(url.replace("http://", "ws://", 1), subprotocols=[protocol],
                                       timeout=HANG_GUARD)


def _listens(cri, cid, port):
    """The container's guest has a TCP listener on port (its own, or the pod's on its loopback)."""
    r = cri.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["cat", "/proc/net/tcp", "/proc/net/tcp6"],
                                        timeout=HANG_GUARD))
    return r.exit_code == 0 and any(f[1].endswith(f":{port:04X}") and f[3] == "0A"
                                    for f in (l.split() for l in r.stdout.decode().splitlines()) if len(f) > 3)


def test_pod_network_exec_streaming_and_port_forward(cri, bx):
    """One pod, two containers: a server reached at the pod's IP from the host and from the other
    container, the two reaching each other over localhost, kubelet's streaming exec (WebSocket,
    channel.k8s.io v4) and port-forward."""
    sc = _sandbox_config(cri, "net")
    if TEST_POOL:
        pool_vm_ready(bx, runtime=True)
    sid = cri.RunPodSandbox(pb.RunPodSandboxRequest(config=sc, runtime_handler="boxvm")).pod_sandbox_id
    ids = [sid]
    try:
        if TEST_POOL:  # `make check`'s pool pass: the sandbox's VM is the pool's (its bind mounts, the pod's network)
            with open(os.path.join(RUNC_ROOT, sid, "box", "shim.log")) as f:
                assert "claimed by box" in f.read()
        ip = cri.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status.network.ip
        web = _container(cri, sid, sc, "web", ["sh", "-c", "mkdir /www; echo served-by-web > /www/index.html; "
                                                            "echo ready; exec httpd -f -p 8080 -h /www"])
        ids.append(web)
        until(lambda: _log_lines(os.path.join(sc.log_directory, "web", "0.log")), "the web container's start")

        def fetch():
            try:
                return urllib.request.urlopen(f"http://{ip}:8080/", timeout=10).read()
            except OSError:
                return None  # the server is still starting
        assert until(fetch, "the pod's server from the host") == b"served-by-web\n"

        # a sidecar serving on its loopback only, started second
        side = _container(cri, sid, sc, "side", ["sh", "-c", "mkdir /www; echo served-by-side > /www/index.html; "
                                                              "exec httpd -f -p 127.0.0.1:9090 -h /www"])
        ids.append(side)
        r = cri.ExecSync(pb.ExecSyncRequest(container_id=side, cmd=["wget", "-qO-", f"http://{ip}:8080/"],
                                            timeout=HANG_GUARD))
        assert (r.exit_code, r.stdout) == (0, b"served-by-web\n"), r
        # the pod's localhost: each container reaches the other's server there, as under runc
        # (the ports follow the servers, read twice a second: wait until each box has the other's)
        until(lambda: _listens(cri, side, 8080), "web's port on side's loopback")
        until(lambda: _listens(cri, web, 9090), "side's port on web's loopback")
        for cid, port, want in ((side, 8080, b"served-by-web\n"), (web, 9090, b"served-by-side\n")):
            r = cri.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["wget", "-qO-", f"http://localhost:{port}/"],
                                                timeout=HANG_GUARD))
            assert (r.exit_code, r.stdout) == (0, want), r
        # a server on the loopback only is not at the pod's address
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://{ip}:9090/", timeout=10)
        # the gateway address is the pod namespace's loopback too (passt's mapping)
        r = cri.ExecSync(pb.ExecSyncRequest(container_id=side, cmd=["wget", "-qO-", "http://10.0.2.2:8080/"],
                                            timeout=HANG_GUARD))
        assert (r.exit_code, r.stdout) == (0, b"served-by-web\n"), r

        # Exec: the URL of containerd's streaming server, spoken to as kubectl does (WebSocket)
        url = cri.Exec(pb.ExecRequest(container_id=side, cmd=["sh", "-c", "read x; echo got $x; echo e >&2; exit 7"],
                                      stdin=True, stdout=True, stderr=True)).url
        ws = _ws(url)
        ws.send_binary(b"\x00hello\n")
        got = {1: b"", 2: b"", 3: b""}
        while True:
            try:
                m = ws.recv()
            except websocket.WebSocketConnectionClosedException:
                break
            if isinstance(m, str):
                m = m.encode()
            if not m:
                break
            got[m[0]] = got.get(m[0], b"") + m[1:]
        ws.close()
        assert got[1] == b"got hello\n" and got[2] == b"e\n", got
        status = json.loads(got[3])
        assert status["status"] == "Failure" and status["details"]["causes"][0]["message"] == "7", status

        # port-forward: the pod's port 8080, one HTTP request over channel 0 (errors on channel 1)
        url = cri.PortForward(pb.PortForwardRequest(pod_sandbox_id=sid, port=[8080])).url
        ws = _ws(url + "?port=8080")
        ws.send_binary(b"\x00GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            try:
                m = ws.recv()
            except websocket.WebSocketConnectionClosedException:
                break
            if not m:
                break
            if m[0] == 0:
                data += m[1:]
            if b"served-by-web" in data[2:]:  # the first two bytes of a channel: its port
                break
        ws.close()
        assert data[:2] == (8080).to_bytes(2, "little") and b"served-by-web" in data, data
    finally:
        cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid))
        cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid))
    # RemovePodSandbox removed its containers too: none of the three VMs is left
    assert not _vm_processes(bx, ids)


@pytest.mark.parametrize("handler", ["runc", "boxvm"])
def test_attach_resource_update_and_log_reopen(cri, bx, handler):
    """kubectl attach (WebSocket) to a container's stdin and output, UpdateContainerResources
    reaching the container's memory limit, and kubelet's log rotation (rename, then
    ReopenContainerLog): the same with runc's handler and boxvm's."""
    sc = _sandbox_config(cri, "att")
    sid = cri.RunPodSandbox(pb.RunPodSandboxRequest(config=sc, runtime_handler=handler)).pod_sandbox_id
    try:
        limit = 300 << 20
        cid = _container(cri, sid, sc, "echo", ["sh", "-c", "while read l; do echo got $l; done"], stdin=True,
                         linux=pb.LinuxContainerConfig(resources=pb.LinuxContainerResources(memory_limit_in_bytes=limit)))
        ws = _ws(cri.Attach(pb.AttachRequest(container_id=cid, stdin=True, stdout=True, stderr=True)).url)
        got = b""
        ws.send_binary(b"\x00one\n")
        while b"got one\n" not in got:
            m = ws.recv()
            got += m[1:] if m and m[0] == 1 else b""
        log = os.path.join(sc.log_directory, "echo", "0.log")
        assert until(lambda: _log_lines(log), "the first line in the log") == [("stdout", "F", "got one")]

        read_limit = ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
                                  "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"]
        r = cri.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=read_limit, timeout=HANG_GUARD))
        assert int(r.stdout) == limit, r
        cri.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
            container_id=cid, linux=pb.LinuxContainerResources(memory_limit_in_bytes=200 << 20)))
        r = cri.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=read_limit, timeout=HANG_GUARD))
        assert int(r.stdout) == 200 << 20, r

        os.rename(log, log + ".1")  # what kubelet's rotation does, then it asks for a new file
        cri.ReopenContainerLog(pb.ReopenContainerLogRequest(container_id=cid))
        ws.send_binary(b"\x00two\n")
        assert until(lambda: _log_lines(log), "a line in the reopened log") == [("stdout", "F", "got two")]
        assert _log_lines(log + ".1") == [("stdout", "F", "got one")]
        ws.close()
    finally:
        cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid))
        cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid))
    assert not _vm_processes(bx, [sid])
