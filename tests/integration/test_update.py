"""boxvm update (src/box/update.c): a running box's memory through the
virtio balloon (seen in the guest's /proc/meminfo), its CPUs through the
host cgroup of its VM (src/vm/cgroup.h: QEMU, passt and virtiofsd in
/sys/fs/cgroup/{cpu,...}/boxvm/ID on cgroup v1, /sys/fs/cgroup/boxvm/ID on
v2), the restart policy the shim applies when main exits, a stopped box's
records for its next start, Docker's errors (the Engine API's
POST /containers/ID/update: test_api_control.py). Waits are hang guards;
the balloon is waited for in the guest, as the event it is."""
import json
import os

import pytest

from conftest import until

MIB = 1024 * 1024


def cgroup_dirs(ref):
    """The VM's host cgroup directories that exist now (v1: one per controller)."""
    cands = [f"/sys/fs/cgroup/{c}/boxvm/{ref}" for c in ("memory", "cpu", "cpuset")]
    cands.append(f"/sys/fs/cgroup/boxvm/{ref}")
    return [d for d in cands if os.path.isdir(d)]


def read(path):
    with open(path) as f:
        return f.read().strip()


def cpu_max(ref):
    """The VM's CPU quota as cgroup v2's cpu.max writes it ("50000 100000"), from
    either version; None when the host gives boxes no cpu controller."""
    v2 = f"/sys/fs/cgroup/boxvm/{ref}/cpu.max"
    if os.path.exists(v2):
        return read(v2)
    v1 = f"/sys/fs/cgroup/cpu/boxvm/{ref}"
    if os.path.exists(f"{v1}/cpu.cfs_quota_us"):
        q = int(read(f"{v1}/cpu.cfs_quota_us"))
        return f"{'max' if q < 0 else q} {read(f'{v1}/cpu.cfs_period_us')}"
    return None


def cpu_weight(ref):
    for f in (f"/sys/fs/cgroup/boxvm/{ref}/cpu.weight", f"/sys/fs/cgroup/cpu/boxvm/{ref}/cpu.shares"):
        if os.path.exists(f):
            return read(f)
    return None


def cpuset(ref):
    for d in (f"/sys/fs/cgroup/boxvm/{ref}", f"/sys/fs/cgroup/cpuset/boxvm/{ref}"):
        if os.path.exists(f"{d}/cpuset.cpus"):
            return read(f"{d}/cpuset.cpus")
    return None


def memory_ceiling(ref):
    for f in (f"/sys/fs/cgroup/boxvm/{ref}/memory.max", f"/sys/fs/cgroup/memory/boxvm/{ref}/memory.limit_in_bytes"):
        if os.path.exists(f):
            return int(read(f))
    return None


def host_has_cpu_controller(bx):
    """What `info` says: Docker's warning names what boxes go without."""
    r = bx("info", check=0)
    out = r.stdout.decode() + r.stderr.decode()
    missing = "WARNING:" in out and "cpu" in out.split("WARNING:", 1)[1].split("\n")[0]
    return not missing, out


def mem_total_kib(bx, ref):
    out = bx("exec", ref, "cat", "/proc/meminfo", check=0).stdout.decode()
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("MemTotal:")))


def host_config(bx, ref):
    return json.loads(bx("inspect", "-f", "{{json .HostConfig}}", ref, check=0).stdout)


def test_update_a_running_box_then_its_restart_boots_with_it(no_leaks):
    bx = no_leaks
    has_cpu, info = host_has_cpu_controller(bx)
    # main waits for /go, then fails: the restart policy given by update restarts it
    ref = bx("run", "-d", "-m", "256m", "--cpus", "1.5", "busybox", "sh", "-c",
             "while [ ! -e /go ]; do sleep 0.2; done; rm /go; exit 3", check=0).stdout.decode().strip()
    try:
        before = mem_total_kib(bx, ref)
        # the VM's helpers and QEMU have a cgroup of their own while the box runs
        assert cgroup_dirs(ref), "no host cgroup for a running box"
        if has_cpu:
            assert cpu_max(ref) == "150000 100000"
        else:
            assert "WARNING:" in info and "cpu" in info, info

        r = bx("update", "--memory", "160m", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", ref, check=0)
        assert r.stdout.decode() == ref + "\n"
        # the balloon takes 96 MiB from the guest as its driver inflates it
        until(lambda: mem_total_kib(bx, ref) <= before - 90 * 1024, "the guest's MemTotal to drop by the balloon")
        hc = host_config(bx, ref)
        assert (hc["Memory"], hc["NanoCpus"], hc["CpuShares"], hc["CpusetCpus"]) == (160 * MIB, 500000000, 512, "0")
        # the box's own limit in the guest follows at once (BX_M_LIMIT), and its share of its VM's CPUs
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/memory.max", check=0).stdout.strip() == b"%d" % (160 * MIB)
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/cpu.weight", check=0).stdout.strip() == b"20"
        if has_cpu:
            assert cpu_max(ref) == "50000 100000"
            assert cpuset(ref) in (None, "0")
        # stats shows the limit in force: the ballooned guest's memory
        row = bx("stats", "--no-stream", "--format", "{{.MemUsage}}", ref, check=0).stdout.decode()
        limit = row.split("/")[1].strip()
        assert limit.endswith("MiB") and float(limit[:-3]) <= 160, row

        # values update refuses, in Docker's words (exit 1), changing nothing
        for args, words in ((["--memory", "512m"], "above 256MiB (its VM booted with 384MiB)"),
                            (["--memory", "3m"], "Minimum memory limit allowed is 6MB"),
                            (["--cpus", "999"], "Range of CPUs is from 0.01 to"),
                            (["--cpuset-cpus", "1023"], "Requested CPUs are not available - requested 1023, available:"),
                            (["--cpuset-cpus", "x"], "Invalid value x for cpuset cpus: invalid format: x"),
                            (["--memory-reservation", "200m"], "Minimum memory limit can not be less than memory reservation"),
                            (["--restart", "bogus"], "invalid restart policy 'bogus'"),
                            ([], "you must provide one or more flags")):
            r = bx("update", *args, ref)
            assert r.returncode == 1 and words in r.stderr.decode(), (args, r.returncode, r.stderr)
        assert bx("update", "--cpus", "abc", ref).returncode == 125  # Docker's client rejects it
        assert host_config(bx, ref)["Memory"] == 160 * MIB

        # a restart policy given now applies when main exits
        bx("update", "--restart", "on-failure:1", ref, check=0)
        assert host_config(bx, ref)["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 1}
        bx("exec", ref, "touch", "/go", check=0)
        until(lambda: bx("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", ref, check=0).stdout.split()
              == [b"1", b"running"], "the box restarted by the updated policy")
        # the new boot has the updated memory (the limit, in a VM 128m larger) and quota
        assert mem_total_kib(bx, ref) < (160 + 128) * 1024
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/memory.max", check=0).stdout.strip() == b"%d" % (160 * MIB)
        if has_cpu:
            assert cpu_max(ref) == "50000 100000"
        assert memory_ceiling(ref) in (None, (288 + 256 + 128) * MIB, (288 + 256) * MIB)
    finally:
        bx("rm", "-f", ref, check=0)
    assert cgroup_dirs(ref) == [], "the host cgroup outlived its box"


def test_update_a_stopped_box_applies_at_its_next_start(no_leaks):
    bx = no_leaks
    has_cpu, _ = host_has_cpu_controller(bx)
    # run/create's own flags for the host cgroup: checked against the host as Docker's
    r = bx("create", "--cpuset-cpus", "1023", "busybox", "true")
    assert r.returncode == 125 and b"Requested CPUs are not available - requested 1023" in r.stderr, r.stderr
    ref = bx("create", "-m", "256m", "--cpu-shares", "512", "--cpuset-cpus", "0", "busybox", "sleep", "600",
             check=0).stdout.decode().strip()
    try:
        assert cgroup_dirs(ref) == []  # none until it runs
        hc = host_config(bx, ref)
        assert (hc["CpuShares"], hc["CpusetCpus"]) == (512, "0")
        # a stopped box may also grow: it boots with the new size
        bx("update", "--memory", "300m", "--cpus", "0.5", "--pids-limit", "100", "--restart", "always", ref, check=0)
        hc = host_config(bx, ref)
        assert (hc["Memory"], hc["NanoCpus"], hc["PidsLimit"]) == (300 * MIB, 500000000, 100)
        assert hc["RestartPolicy"]["Name"] == "always"
        bx("start", ref, check=0)
        assert 300 * 1024 < mem_total_kib(bx, ref) < (300 + 128) * 1024  # the VM around the new limit
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/memory.max", check=0).stdout.strip() == b"%d" % (300 * MIB)
        if has_cpu:
            assert cpu_max(ref) == "50000 100000"
            assert cpu_weight(ref) in ("512", "20")  # v1 cpu.shares; v2 cpu.weight by runc's conversion
        assert cpuset(ref) in (None, "0")
        bx("stop", "-t", "1", ref, check=0)
        assert cgroup_dirs(ref) == [], "the host cgroup outlived the VM"
    finally:
        bx("rm", "-f", ref, check=0)


def test_update_pids_limit_of_a_running_box(no_leaks):
    """The pids limit lives in the guest's cgroup of the box's processes
    (/box, which the box sees as its /sys/fs/cgroup): set live through the
    agent (BX_M_LIMIT)."""
    bx = no_leaks
    ref = bx("run", "-d", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        r = bx("update", "--pids-limit", "50", ref)
        assert r.returncode == 0, r.stderr
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/pids.max", check=0).stdout.decode().strip() == "50"
        assert host_config(bx, ref)["PidsLimit"] == 50
        bx("update", "--pids-limit", "-1", ref, check=0)
        assert bx("exec", ref, "cat", "/sys/fs/cgroup/pids.max", check=0).stdout.decode().strip() == "max"
    finally:
        bx("rm", "-f", ref, check=0)
