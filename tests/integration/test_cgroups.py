"""The box's cgroup in the guest (issue 16): main and every exec in the
guest's cgroup /box, limited by --pids-limit, --memory, --memory-reservation,
--cpu-shares and --cpuset-cpus, while the agent (PID 1) stays outside in
/agent and keeps serving; the box sees its own cgroup as Docker's
cgroupns=private shows a container on a cgroup v2 host: /proc/self/cgroup
reads "0::/" and /sys/fs/cgroup holds its own files, read-only. HostConfig's
values are what Docker 20.10 (docker-ref) records for the same flags. The
module shares one running box, so no test here uses no_leaks."""
import json
import subprocess

import pytest

from apisvc import api  # noqa: F401 (the module's service fixture)
from conftest import until
from test_events import actions, events, of, uniq

MIB = 1 << 20
FLAGS = ("--network", "none", "--pids-limit", "64", "-m", "96m", "--memory-reservation", "32m",
         "--cpu-shares", "512", "--cpuset-cpus", "1", "--cpus", "2")


@pytest.fixture(scope="module")
def box(bx):
    """One box for the tests that only read it, or whose processes end with them."""
    ref = bx("run", "-d", *FLAGS, "busybox", "tail", "-f", "/dev/null", check=0).stdout.decode().strip()
    yield ref
    bx("rm", "-f", ref)


def read(bx, ref, *files):
    return bx("exec", ref, "cat", *files, check=0).stdout.decode().split()


def test_the_box_sees_its_own_cgroup_read_only(bx, box):
    # Docker on a cgroup v2 host (cgroupns=private): the container's cgroup is the namespace's root
    assert bx("exec", box, "cat", "/proc/self/cgroup", check=0).stdout == b"0::/\n"
    # its own limits, as Docker's runc writes them: cpu.weight is runc's conversion of 512 shares
    assert read(bx, box, "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.low",
                "/sys/fs/cgroup/cpu.weight", "/sys/fs/cgroup/cpuset.cpus") == \
        ["64", str(96 * MIB), str(32 * MIB), "20", "1"]
    # main is there too, and the agent is not: it is outside the box's namespace
    assert bx("exec", box, "sh", "-c", "cat /proc/$(pidof tail)/cgroup; cat /proc/1/cgroup",
              check=0).stdout == b"0::/\n0::/../agent\n"
    p = bx("exec", box, "sh", "-c", "echo max > /sys/fs/cgroup/pids.max")
    assert p.returncode != 0 and b"Read-only file system" in p.stderr, p
    hc = json.loads(bx("inspect", box, check=0).stdout)[0]["HostConfig"]
    assert {k: hc[k] for k in ("PidsLimit", "Memory", "MemoryReservation", "MemorySwap", "CpuShares",
                               "CpusetCpus")} == \
        {"PidsLimit": 64, "Memory": 96 * MIB, "MemoryReservation": 32 * MIB, "MemorySwap": 192 * MIB,
         "CpuShares": 512, "CpusetCpus": "1"}


def test_stats_show_the_enforced_limits(bx, box):
    from test_stats import guest_stats
    row = guest_stats(bx, box)
    assert row["MemUsage"].endswith(" / 96MiB"), row  # memory.max, not the VM's RAM
    assert int(row["PIDs"]) >= 1, row  # pids.current of /box: main


def test_a_fork_bomb_is_stopped_and_the_box_stays_usable(bx, box):
    p = bx("exec", box, "sh", "-c", "i=0; while [ $i -lt 200 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done; "
                                    "echo never")
    assert p.returncode != 0 and b"can't fork" in p.stderr and b"never" not in p.stdout, p
    assert int(read(bx, box, "/sys/fs/cgroup/pids.events")[1]) > 0  # "max N": forks refused by pids.max
    # the agent is outside the limit: an exec still starts in the full box (joining is never refused)
    assert bx("exec", box, "echo", "alive", check=0).stdout == b"alive\n"
    bx("exec", box, "killall", "sleep", check=0)  # main is a tail
    until(lambda: int(read(bx, box, "/sys/fs/cgroup/pids.current")[0]) < 8, "the bomb's sleeps to be gone")
    assert bx("exec", box, "sh", "-c", "sleep 0 & wait; echo forks", check=0).stdout == b"forks\n"


def test_a_memory_hog_is_oom_killed_and_exec_keeps_working(bx, box):
    p = bx("exec", box, "tail", "/dev/zero")
    assert p.returncode == 137, p
    counts = read(bx, box, "/sys/fs/cgroup/memory.events")
    assert int(dict(zip(counts[::2], counts[1::2]))["oom_kill"]) > 0, counts
    assert bx("exec", box, "echo", "alive", check=0).stdout == b"alive\n"
    until(lambda: "oom" in actions(of(events(bx), box)), "the oom event")


def test_main_oom_killed_under_memory_exits_137(bx):
    """A box without --pids-limit has none (pids.max "max"); main killed by its
    memory limit: exit 137, OOMKilled, an oom event before die."""
    name = uniq("cgo")
    p = bx("run", "--name", name, "--network", "none", "-m", "64m", "busybox", "sh", "-c",
                 "cat /proc/self/cgroup /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max; exec tail /dev/zero")
    assert p.returncode == 137, p
    assert p.stdout.split() == [b"0::/", b"max", str(64 * MIB).encode()], p
    info = json.loads(bx("inspect", name, check=0).stdout)[0]
    assert info["State"]["OOMKilled"] is True and info["State"]["ExitCode"] == 137
    assert info["HostConfig"]["PidsLimit"] is None and info["HostConfig"]["MemorySwap"] == 128 * MIB
    assert actions(of(events(bx), info["Id"])) == ["create", "start", "oom", "die"]
    bx("rm", name, check=0)


def test_bad_limits_are_dockers_errors(bx):
    before = bx("ps", "-aq").stdout
    for flags, says in [
        (("--pids-limit", "x"), 'invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": '
                                "invalid syntax"),
        (("-m", "2m"), "Minimum memory limit allowed is 6MB"),
        (("--memory-swap", "64m"), "You should always set the Memory limit when using Memoryswap limit"),
        (("-m", "64m", "--memory-swap", "128m"), "no swap"),
        (("-m", "32m", "--memory-reservation", "64m"), "Minimum memory limit can not be less than memory "
                                                       "reservation limit"),
        (("--cpus", "2", "--cpuset-cpus", "2"), "Requested CPUs are not available - requested 2, available: 0-1"),
        (("--cpuset-cpus", "x"), "Invalid value x for cpuset cpus: invalid format: x"),
    ]:
        p = bx("create", *flags, "busybox", "true")
        assert p.returncode == 125, (flags, p)
        lines = p.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (flags, lines)
    assert bx("ps", "-aq").stdout == before  # nothing made


def test_engine_api_maps_the_limits(api, bx):
    r = api("create", "--pids-limit", "10", "-m", "64m", "--memory-swap", "-1", "--cpu-shares", "512",
            "--cpuset-cpus", "0", "--memory-reservation", "16m", "busybox", "true", check=0)
    ref = r.stdout.strip()
    hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
    assert {k: hc[k] for k in ("PidsLimit", "Memory", "MemoryReservation", "MemorySwap", "CpuShares",
                               "CpusetCpus")} == \
        {"PidsLimit": 10, "Memory": 64 * MIB, "MemoryReservation": 16 * MIB, "MemorySwap": -1, "CpuShares": 512,
         "CpusetCpus": "0"}
    api("rm", ref, check=0)
    r = api("create", "-m", "64m", "--memory-swap", "96m", "busybox", "true", check=1)
    assert "no swap" in r.stderr


def test_runtime_applies_linux_resources(tmp_path, bx):
    """boxvm-runtime: config.json's linux.resources as runc applies them on a cgroup v2 host."""
    from test_oci_runtime import _bundle, _rt
    b, cfg = _bundle(tmp_path, ["cat", "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/memory.max",
                                "/sys/fs/cgroup/memory.low", "/sys/fs/cgroup/cpu.weight",
                                "/sys/fs/cgroup/cpuset.cpus", "/proc/self/cgroup"])
    cfg["linux"]["resources"] = {"pids": {"limit": 64}, "memory": {"limit": 64 * MIB, "reservation": 16 * MIB,
                                                                   "swap": 128 * MIB},
                                 "cpu": {"shares": 512, "cpus": "0"}}
    (b / "config.json").write_text(json.dumps(cfg))
    p = _rt(bx, tmp_path / "state", "run", "--bundle", str(b), "c1", stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [b"64", str(64 * MIB).encode(), str(16 * MIB).encode(), b"20", b"0", b"0::/"]
