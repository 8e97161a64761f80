"""A small CRI v1 client, as kubelet drives a runtime: the messages of
cri/cri.proto compiled at import (Debian's python3-grpc-tools) into a temp
dir, and a thin wrapper over the gRPC stubs. crictl is not packaged in
Debian; this plays its part for the tests and bench/oci-runtime."""
import importlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import grpc
from grpc_tools import protoc

_HERE = os.path.dirname(os.path.abspath(__file__))


def _compile():
    with tempfile.TemporaryDirectory(prefix="bxcri-pb.") as out:
        rc = protoc.main(["protoc", "-I" + os.path.join(_HERE, "cri"), "--python_out=" + out,
                          "--grpc_python_out=" + out, os.path.join(_HERE, "cri", "cri.proto")])
        if rc != 0:
            raise RuntimeError("protoc could not compile cri/cri.proto")
        sys.path.insert(0, out)
        try:
            return importlib.import_module("cri_pb2"), importlib.import_module("cri_pb2_grpc")
        finally:
            sys.path.remove(out)


pb, _stubs = _compile()


class Cri:
    """RuntimeService and ImageService over a containerd's unix socket."""

    def __init__(self, sock, timeout=600):
        self.channel = grpc.insecure_channel("unix://" + sock)
        self.rt = _stubs.RuntimeServiceStub(self.channel)
        self.img = _stubs.ImageServiceStub(self.channel)
        self.timeout = timeout

    def close(self):
        self.channel.close()

    def __getattr__(self, name):
        """cri.RunPodSandbox(req) and the like: the RPC of either service, with the timeout."""
        for stub in (self.rt, self.img):
            if hasattr(stub, name):
                rpc = getattr(stub, name)
                return lambda req, **kw: rpc(req, timeout=kw.pop("timeout", self.timeout), **kw)
        raise AttributeError(name)


# The pod network of the CRI containerd below: Debian's CNI bridge plugin on a
# bridge of its own, bxcriN with pods in 10.89.N.0/24 (N: net_index, one per
# containerd running at once), removed again by stop().
CNI_BIN = "/usr/lib/cni"
PAUSE = "boxvm.test/pause:1"
BUSYBOX = "docker.io/library/busybox:latest"


def pause_image(path, busybox_tar):
    """A pause image: busybox's layers, sleeping for ever (the real one, registry.k8s.io/pause,
    is not on these machines; what a sandbox runs does not matter to the runtime)."""
    import ocilayout  # (beside this file)
    with tarfile.open(busybox_tar) as t:
        def blob(d):
            return t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
        man = json.loads(blob(json.load(t.extractfile("index.json"))["manifests"][0]["digest"]))
        cfg = json.loads(blob(man["config"]["digest"]))
        base = [(blob(l["digest"]), d) for l, d in zip(man["layers"], cfg["rootfs"]["diff_ids"])]
    ocilayout.image_tar(path, [], config={"Entrypoint": ["/bin/sleep", "2147483647"]}, name=PAUSE,
                        base_layers=base)


class CriContainerd:
    """A private containerd (Debian's 1.6) with its CRI plugin on, in directory d: handlers
    "runc" (the default) and "boxvm" (runtime: boxvm-runtime's path), the CNI bridge, and
    the pause and busybox images imported. .cri is the client; stop() undoes it all."""

    def __init__(self, d, runtime, busybox_tar, env, guard=600, net_index=0):
        self.dir = d
        self.bridge = f"bxcri{net_index}"
        self.subnet = f"10.89.{net_index}"  # .0/24
        os.makedirs(os.path.join(d, "cni"), exist_ok=True)
        with open(os.path.join(d, "cni", "10-bxcri.conflist"), "w") as f:
            json.dump({"cniVersion": "0.4.0", "name": self.bridge, "plugins": [
                {"type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False,
                 "ipam": {"type": "host-local", "dataDir": os.path.join(d, "ipam"),
                          "ranges": [[{"subnet": self.subnet + ".0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
                {"type": "loopback"}]}, f)
        c = 'plugins."io.containerd.grpc.v1.cri"'
        with open(os.path.join(d, "config.toml"), "w") as f:
            # restrict_oom_score_adj: a sandbox's -998 needs CAP_SYS_RESOURCE, which root lacks here
            f.write(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                    f'[grpc]\n  address = "{d}/c.sock"\n[ttrpc]\n  address = "{d}/t.sock"\n'
                    f'[{c}]\n  sandbox_image = "{PAUSE}"\n  restrict_oom_score_adj = true\n'
                    f'  stream_server_address = "127.0.0.1"\n  stream_server_port = "0"\n'
                    f'[{c}.cni]\n  bin_dir = "{CNI_BIN}"\n  conf_dir = "{d}/cni"\n'
                    f'[{c}.containerd]\n  default_runtime_name = "runc"\n'
                    f'[{c}.containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n'
                    f'[{c}.containerd.runtimes.boxvm]\n  runtime_type = "io.containerd.runc.v2"\n'
                    f'[{c}.containerd.runtimes.boxvm.options]\n  BinaryName = "{runtime}"\n')
        self.env = env
        self.guard = guard
        self.log = open(os.path.join(d, "containerd.log"), "wb")
        self.proc = subprocess.Popen(["containerd", "--config", os.path.join(d, "config.toml")],
                                     stdout=self.log, stderr=self.log, env=env)
        self.sock = os.path.join(d, "c.sock")
        self.cri = None
        end = time.monotonic() + guard  # a hang guard: containerd makes its socket as it starts
        while not os.path.exists(self.sock) and self.proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        if self.proc.poll() is not None or not os.path.exists(self.sock):
            self.stop()
            raise RuntimeError("containerd did not start: " + open(os.path.join(d, "containerd.log")).read()[-2000:])
        pause_image(os.path.join(d, "pause.tar"), busybox_tar)
        self.ctr("images", "import", "--all-platforms", os.path.join(d, "pause.tar"))
        self.ctr("images", "import", "--all-platforms", busybox_tar)
        self.ctr("images", "tag", "busybox:latest", BUSYBOX)  # the name kubelet asks for
        self.cri = Cri(self.sock, timeout=guard)

    def ctr(self, *args):
        p = subprocess.run(["ctr", "--address", self.sock, "-n", "k8s.io", *args], capture_output=True,
                           timeout=self.guard, env=self.env)
        if p.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)}: {p.stderr.decode()[-1000:]}")
        return p

    def stop(self):
        if self.cri:
            for p in self.cri.ListPodSandbox(pb.ListPodSandboxRequest()).items:
                self.cri.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=p.id))
                self.cri.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=p.id))
            self.cri.close()
            self.cri = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.close()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
