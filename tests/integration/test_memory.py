"""Guest memory goes back to the host: the microVM has a virtio balloon with
free page reporting, so memory a box used once and freed stops being resident
in its QEMU process. Relations between two readings of the same box only;
waits are hang guards."""
import os
import time

from conftest import HANG_GUARD


def qemu_rss_mib(bx, ref):
    with open(os.path.join(bx.run_dir, ref[:12], "qemu.pid")) as f:
        pid = f.read().split()[0]
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def test_freed_guest_memory_returns_to_the_host(bx, no_leaks):
    ref = bx("run", "-d", "-m", "512m", "--tmpfs", "/big:size=300m", "--network", "none", "busybox", "sleep", "600",
             check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)  # booted
        # 256 MiB on a tmpfs: the guest really holds it, so the host does too
        bx("exec", ref, "dd", "if=/dev/zero", "of=/big/file", "bs=1M", "count=256", check=0)
        peak = qemu_rss_mib(bx, ref)
        bx("exec", ref, "rm", "/big/file", check=0)
        deadline = time.monotonic() + HANG_GUARD  # the guest reports free pages every few seconds
        while (now := qemu_rss_mib(bx, ref)) > peak - 192:
            assert time.monotonic() < deadline, f"QEMU still holds {now} MiB (peak {peak} MiB)"
            time.sleep(1)
    finally:
        bx("rm", "-f", ref)
