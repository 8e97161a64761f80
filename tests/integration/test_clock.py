"""The box's wall clock follows the host's, as a container's does (it shares
the host's clock): the microVM has no RTC the guest reads and would start at
1970-01-01; the shim sends the host's time (BX_M_TIME) before main is spawned
and again after every unpause (the VM's clock stands still while frozen).

Each check brackets the guest's `date +%s` between two host readings taken
before and after the command: the guest read its clock somewhere in that
window, so it must lie in it, with 1 s of slack for whole seconds."""
import time

SLACK_S = 1
# A frozen VM's clock does not move, so after any pause longer than the slack
# a guest without the resync is behind by the whole pause. 5 s proves that as
# well as the 30 s while keeping `make check` short.
PAUSE_S = 5


def guest_time(bx, *args):
    """(host before, guest's date +%s, host after) for `boxvm ARGS date +%s`."""
    before = time.time()
    out = bx(*args, "date", "+%s", check=0).stdout
    after = time.time()
    return before, int(out.strip()), after


def assert_in_step(before, guest, after, what):
    assert int(before) - SLACK_S <= guest <= int(after) + SLACK_S, (
        f"{what}: guest clock {guest}, host between {before:.1f} and {after:.1f} "
        f"(off by {guest - before:+.0f} s)")


def test_main_starts_on_the_hosts_clock(no_leaks):
    """main itself must never see 1970: its first reading is the host's time."""
    before, guest, after = guest_time(no_leaks, "run", "--rm", "--network", "none", "busybox")
    assert_in_step(before, guest, after, "main at start")


def test_clock_in_step_after_pause(no_leaks):
    bx = no_leaks
    bx("run", "-d", "--name", "clk", "--network", "none", "busybox", "sleep", "1000", check=0)
    assert_in_step(*guest_time(bx, "exec", "clk"), "exec after start")
    assert bx("pause", "clk", check=0).stdout == b"clk\n"
    time.sleep(PAUSE_S)  # the point of the test: time passes while the VM is frozen
    assert bx("unpause", "clk", check=0).stdout == b"clk\n"
    assert_in_step(*guest_time(bx, "exec", "clk"), f"exec after a {PAUSE_S} s pause")
    bx("rm", "-f", "clk", check=0)
