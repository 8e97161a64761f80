"""After a host reboot: every boxvm process is gone, the boxes' rootfs
overlays are unmounted and the runtime dir is empty. The next command shows
every box that was running as exited (137); `boxvm system boot` (what an init
system runs at boot: contrib/boxvm-boot.service) starts the boxes whose
restart policy brings them back, as Docker's daemon does when it starts; a
plain `start` works again.

The reboot is simulated for real: SIGKILL of every process of this data dir
(shims, QEMU, virtiofsd, passt), a lazy unmount of the box mounts, the
runtime dir emptied. Time limits are hang guards only; waits poll the state."""
import os
import re
import shutil
import signal

from conftest import _our_processes, unmount_under, until


def logs(bx, ref):
    return bx("logs", ref, check=0).stdout.decode()


def states(bx):
    """{name: 'State Status'} of every box, as `ps -a` shows it."""
    out = bx("ps", "-a", "--format", "{{.Names}}|{{.State}}|{{.Status}}", check=0).stdout.decode()
    rows = [line.split("|") for line in out.splitlines()]
    return {name: (state, status) for name, state, status in rows}


def simulate_reboot(bx):
    """What a host reboot does to boxvm: every process killed at once (no
    clean-up of any kind), every mount gone, /run empty."""
    killed = []

    def all_dead():
        # SIGKILLed processes vanish once reaped by their parents; a shim may
        # have started a helper meanwhile: kill whatever is still there
        procs = _our_processes(bx.root) + _our_processes(bx.run_dir)
        for pid, cmd in procs:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(cmd)
            except ProcessLookupError:
                pass
        return not procs
    until(all_dead, "every process of the data dir to die")
    unmount_under(os.path.join(bx.root, "boxes"))
    for d in os.listdir(bx.run_dir):
        shutil.rmtree(os.path.join(bx.run_dir, d))
    return killed


def test_reboot_reconciles_and_system_boot_brings_back_the_policy_boxes(no_leaks, tmp_path):
    bx = no_leaks
    share = tmp_path / "share"  # on a tmpfs, say: the reboot loses it
    share.mkdir()
    small = ("-m", "128m", "--cpus", "1")
    up = ("busybox", "sh", "-c", "echo up; exec sleep 600")
    boxes = {
        "plain": ("run", "-d", *small, "--name", "plain", *up),
        "always": ("run", "-d", *small, "--restart", "always", "--name", "always", *up),
        "unless": ("run", "-d", *small, "--network", "none", "--restart", "unless-stopped", "--name", "unless", *up),
        "onfail": ("run", "-d", *small, "--network", "none", "--restart", "on-failure", "--name", "onfail", *up),
        "stopped": ("run", "-d", *small, "--network", "none", "--restart", "unless-stopped", "--name", "stopped", *up),
        "reboot-rm": ("run", "-d", *small, "--network", "none", "--rm", "--name", "reboot-rm", *up),
        "broken": ("run", "-d", *small, "--network", "none", "--restart", "always", "-v", f"{share}:/data",
                   "--name", "broken", *up),
    }
    for args in boxes.values():
        bx(*args, check=0)
    # never started: a restart policy does not make a created box run
    bx("create", "--restart", "always", "--name", "created", "busybox", "true", check=0)
    for name in boxes:
        until(lambda: "up" in logs(bx, name), f"box {name} to run")
    bx("stop", "-t", "30", "stopped", check=0)  # a user stop: unless-stopped stands down
    rm_box_id = bx("inspect", "-f", "{{.Id}}", "reboot-rm", check=0).stdout.decode().strip()

    killed = simulate_reboot(bx)
    assert any("boxvm-shim" in c for c in killed) and any("qemu-system" in c for c in killed)
    assert any("virtiofsd" in c for c in killed) and any("passt" in c for c in killed)
    shutil.rmtree(share)

    # the first command after the reboot already shows the truth
    seen = states(bx)
    for name in ("plain", "always", "unless", "onfail", "broken"):
        assert seen[name][0] == "exited" and seen[name][1].startswith("Exited (137)"), (name, seen)
    assert seen["stopped"][1].startswith("Exited (143)"), seen  # its own exit, untouched
    assert seen["created"][0] == "created", seen
    # a --rm box of a dead shim is removed, keeping its log as any failed --rm box
    assert "reboot-rm" not in seen
    assert not os.path.exists(os.path.join(bx.root, "boxes", rm_box_id))
    assert logs(bx, "reboot-rm") == "up\n"  # (kept in DATA/kept-logs: a name no other test uses)

    # boot: always and unless-stopped come back; a box that cannot start says
    # why and fails the command, without keeping the others down
    p = bx("system", "boot")
    assert p.returncode == 1, p
    assert p.stdout.decode().split() == ["always", "unless"], p
    assert p.stderr.decode().count("boxvm: ") == 1 and "cannot start box broken" in p.stderr.decode(), p
    assert not re.search(r"(: [^:\n]+)\1$", p.stderr.decode().strip()), p  # its cause told once, not twice
    seen = states(bx)
    assert seen["always"][0] == "running" and seen["unless"][0] == "running", seen
    for name in ("plain", "onfail", "stopped", "broken"):
        assert seen[name][0] == "exited", (name, seen)
    assert seen["created"][0] == "created", seen
    for name in ("always", "unless"):
        until(lambda: logs(bx, name) == "up\nup\n", f"box {name} to run again")

    # idempotent: the running boxes are left alone, the broken one fails again
    p = bx("system", "boot")
    assert p.returncode == 1 and p.stdout == b"" and b"cannot start box broken" in p.stderr, p
    share.mkdir()  # its share is back: the next boot brings it back too
    p = bx("system", "boot")
    assert p.returncode == 0 and p.stdout == b"broken\n" and p.stderr == b"", p
    assert bx("system", "boot", check=0).stdout == b""

    # a plain start works after the reboot too
    assert bx("start", "plain", check=0).stdout == b"plain\n"
    for name in ("plain", "broken"):
        until(lambda: logs(bx, name) == "up\nup\n", f"box {name} to run again")
    seen = states(bx)
    assert sorted(n for n in seen if seen[n][0] == "running") == ["always", "broken", "plain", "unless"], seen
    bx("rm", "-f", *seen, check=0)


def test_system_boot_usage(bx):
    assert bx("system", check=0).stdout.startswith(b"Usage:  boxvm system COMMAND")
    p = bx("system", "reboot")
    assert p.returncode == 1 and b"unknown system command 'reboot'" in p.stderr, p
    p = bx("system", "boot", "extra")
    assert p.returncode == 1 and b"accepts no arguments" in p.stderr, p  # Docker's words
    # nothing to bring back: nothing printed, success
    p = bx("system", "boot")
    assert p.returncode == 0 and p.stdout == b"", p
