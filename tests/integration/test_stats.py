"""boxvm stats against real microVMs: the guest's memory, PIDs and limit,
the host CPU of its QEMU, Docker's output shapes and errors.

Every comparison is a relation between two measurements of the same run
(busy vs idle, after vs before), never an absolute figure; the waits poll
with hang guards only, since TCG boots and a shared host make every number
slow to settle."""
import json
import os
import signal
import subprocess

import pytest

from conftest import BOXVM, _our_processes, until

GUARD = 180
MIB = 1024 * 1024


def size(text):
    """Docker's sizes back to bytes: "12.3MiB", "1.2kB", "0B"."""
    units = {"B": 1, "KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB,
             "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}
    for u in sorted(units, key=len, reverse=True):
        if text.endswith(u):
            return float(text[:-len(u)]) * units[u]
    raise AssertionError(f"not a size: {text!r}")


def stats(bx, *refs, flags=()):
    p = bx("stats", "--no-stream", "--format", "json", *flags, *refs, check=0)
    rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
    for r in rows:
        assert set(r) == {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"}, r
    return rows


def guest_stats(bx, ref):
    """One sample of a running box whose guest answered: not "--" (booting,
    no interval yet) and not Docker's zeros for a box that is not running
    (a running guest always has a memory size), and counting main (the guest
    answers stats a moment before it spawns main, which waits for the host's
    time; every box here runs a main that stays)."""
    def one():
        (r,) = stats(bx, ref)
        return r if r["MemUsage"] not in ("-- / --", "0B / 0B") and r["CPUPerc"] != "--" and \
            int(r["PIDs"]) >= 1 else None
    return until(one, f"stats of {ref} with the guest's numbers")


def remove(bx, ref):
    """rm -f returns once the box's VM processes are gone."""
    bx("rm", "-f", ref, check=0)
    assert not [p for p in _our_processes(bx.root) + _our_processes(bx.run_dir) if ref[:12] in p[1]]


def mem(row):
    used, limit = row["MemUsage"].split(" / ")
    return size(used), size(limit)


def cpu(row):
    assert row["CPUPerc"].endswith("%"), row
    return float(row["CPUPerc"][:-1])


@pytest.fixture
def box(no_leaks):
    bx = no_leaks
    ref = bx("run", "-d", "--rm", "--network", "none", "-m", "256m", "busybox", "sleep", "100000",
             check=0).stdout.decode().strip()
    yield bx, ref
    remove(bx, ref)


def test_memory_limit_and_usage_and_pids(box):
    bx, ref = box
    row = guest_stats(bx, ref)
    used0, limit = mem(row)
    # the guest's MemTotal: its RAM less what the kernel keeps for itself
    assert 0.6 * 256 * MIB < limit <= 256 * MIB, row
    assert 0 < used0 < limit, row
    assert row["Name"] and row["Container"] == ref and ref.startswith(row["ID"]) and len(row["ID"]) == 12
    assert row["BlockIO"] == "0B / 0B", row  # virtiofs and tmpfs only: no block device
    pids0 = int(row["PIDs"])
    assert pids0 >= 1, row  # main's sleep (the agent and kernel threads are not counted)

    # 64 MiB in a tmpfs is memory the guest cannot give back
    bx("exec", ref, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=64", check=0)
    row = until(lambda: (lambda r: r if mem(r)[0] >= used0 + 48 * MIB else None)(guest_stats(bx, ref)),
                "MEM USAGE to grow by the 64 MiB file")
    assert mem(row)[1] == limit
    assert float(row["MemPerc"][:-1]) > 100.0 * (used0 + 48 * MIB) / limit - 0.01, row

    for _ in range(3):
        bx("exec", "-d", ref, "sleep", "100000", check=0)
    until(lambda: int(guest_stats(bx, ref)["PIDs"]) >= pids0 + 3, "PIDS to count the 3 new sleeps")


def test_busy_guest_costs_more_cpu_than_idle(box):
    bx, ref = box
    guest_stats(bx, ref)  # booted
    # idle: the lowest of a few samples (a boot's tail may still be running)
    idle = min(cpu(guest_stats(bx, ref)) for _ in range(3))
    bx("exec", "-d", ref, "sh", "-c", "while :; do :; done", check=0)
    busy = until(lambda: (lambda c: c if c > max(20.0, idle) else None)(cpu(guest_stats(bx, ref))),
                 f"CPU % of a busy loop above 20% and above idle ({idle}%)")
    assert busy > idle


def test_table_all_stopped_and_template(box):
    bx, ref = box
    guest_stats(bx, ref)
    created = bx("create", "--name", "stats-created", "busybox", "true", check=0).stdout.decode().strip()
    try:
        # default listing: running boxes only, Docker's header
        p = bx("stats", "--no-stream", check=0)
        lines = p.stdout.decode().splitlines()
        assert lines[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT", "MEM", "%",
                                    "NET", "I/O", "BLOCK", "I/O", "PIDS"], lines
        assert any(line.startswith(ref[:12]) for line in lines[1:]), lines
        assert not any(line.startswith(created[:12]) for line in lines[1:]), lines
        # -a adds the created box, with Docker's zeros
        rows = {r["ID"]: r for r in stats(bx, flags=("-a",))}
        z = rows[created[:12]]
        assert (z["CPUPerc"], z["MemUsage"], z["MemPerc"], z["NetIO"], z["BlockIO"], z["PIDs"]) == \
            ("0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"), z
        assert ref[:12] in rows
        # a box that is not running, named explicitly: zeros too, not an error
        (z,) = stats(bx, "stats-created")
        assert z["Container"] == "stats-created" and z["PIDs"] == "0"
        p = bx("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.PIDs}}", "stats-created",
               check=0)
        assert p.stdout.decode() == f"{created} stats-created 0\n"
        # Docker's "table" format: titles (CONTAINER for .Container), columns padded as its tabwriter does
        p = bx("stats", "--no-stream", "--format", "table {{.Container}}\t{{.PIDs}}", "stats-created", check=0)
        assert p.stdout.decode() == "CONTAINER       PIDS\nstats-created   0\n"
    finally:
        bx("rm", "-f", created, check=0)


def test_streaming_refreshes_until_interrupted(box):
    bx, ref = box
    guest_stats(bx, ref)
    # not a terminal: frames follow each other, no screen clearing
    p = subprocess.Popen([BOXVM, "stats", "--format", "{{.ID}} {{.PIDs}}", ref], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=bx.env)
    try:
        lines = [p.stdout.readline().decode() for _ in range(3)]
        assert all(line.startswith(ref[:12] + " ") and line.endswith("\n") for line in lines), lines
        assert not any("\033" in line for line in lines), lines
        assert p.poll() is None  # still streaming
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=GUARD)
        p.stdout.close()
        p.stderr.close()


def test_errors(no_leaks):
    bx = no_leaks
    p = bx("stats", "--no-stream", "no-such-box")
    assert p.returncode == 1 and b"no such box: no-such-box" in p.stderr and p.stdout == b"", p
    p = bx("stats", "--no-stream", "--format", "{{.Name", "x")
    assert p.returncode == 1 and p.stderr.startswith(b"boxvm: "), p


def test_cpu_follows_a_restart_by_the_policy(no_leaks):
    """The restart policy boots a new QEMU under the same shim: stats must
    measure the new one (RUN/qemu.pid is rewritten, the old pid is stale) and
    reach the new guest (exec.sock keeps listening across the restart)."""
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "--restart", "on-failure", "busybox", "sh", "-c",
             "test -e /restarted || { touch /restarted; exit 3; }; exec sleep 100000",
             check=0).stdout.decode().strip()
    try:
        def restarted():
            st = json.loads(bx("inspect", ref, check=0).stdout)[0]
            return st["RestartCount"] >= 1 and st["State"]["Running"]
        until(restarted, "the restart by the policy")
        row = guest_stats(bx, ref)  # main running in the new boot
        # a number, not "--": qemu.pid names the live QEMU of the new boot
        cpu(row)
        assert int(row["PIDs"]) >= 1
        run = os.path.join(bx.run_dir, ref[:12])
        pid = int(open(os.path.join(run, "qemu.pid")).read().split()[0])
        assert "qemu" in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        bx("exec", ref, "true", check=0)
    finally:
        remove(bx, ref)
