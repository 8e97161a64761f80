"""KSM (kernel samepage merging) for the boxes: the shim opens every VM
process's memory to KSM (PR_SET_MEMORY_MERGE), and `boxvm system ksm`
turns the host's KSM on, off, or shows it. These tests never change the
host's KSM setting: on/off are tested against a directory of KSM files
(BOXVM_KSM_DIR), status against the host's own, read only; bench/density
measures what merging saves."""
import os

import pytest

HOST_KSM = "/sys/kernel/mm/ksm"


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    return out


def test_vm_processes_are_open_to_ksm(bx, no_leaks):
    if not os.path.exists("/proc/self/ksm_stat"):
        pytest.skip("the kernel has no /proc/PID/ksm_stat (KSM, Linux 6.1+)")
    with open("/proc/self/ksm_stat") as f:
        if "ksm_merge_any" not in f.read():
            pytest.skip("the kernel does not show ksm_merge_any (Linux 6.7+)")
    ref = bx("run", "-d", "busybox", "sleep", "600", check=0).stdout.decode().strip()
    try:
        bx("exec", ref, "true", check=0)  # booted
        with open(os.path.join(bx.run_dir, ref[:12], "shim.pid")) as f:
            shim = int(f.read().split()[0])
        seen = {}
        for pid in children(shim):
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/ksm_stat") as f:
                seen[name] = "ksm_merge_any: yes" in f.read()
        for want in ("qemu", "passt", "virtiofsd"):
            hits = [v for k, v in seen.items() if want in k]
            assert hits and all(hits), (want, seen)
        with open(f"/proc/{shim}/ksm_stat") as f:
            assert "ksm_merge_any: yes" not in f.read()  # the shim itself is not
    finally:
        bx("rm", "-f", ref)


def fake_ksm(tmp_path, run="0", shared="0", sharing="0"):
    d = tmp_path / "ksm"
    d.mkdir()
    for name, v in (("run", run), ("pages_shared", shared), ("pages_sharing", sharing), ("full_scans", "3"),
                    ("ksm_zero_pages", "0")):
        (d / name).write_text(v + "\n")
    return d


def test_system_ksm_on_off_writes_run(bx, tmp_path):
    d = fake_ksm(tmp_path, sharing="2560")
    env = {"BOXVM_KSM_DIR": str(d)}
    out = bx("system", "ksm", "on", env=env, check=0).stdout.decode()
    assert (d / "run").read_text().strip() == "1"
    assert "KSM: on" in out
    page = os.sysconf("SC_PAGESIZE")
    assert f"saving {2560 * page / 1048576:.1f} MiB" in out
    out = bx("system", "ksm", "off", env=env, check=0).stdout.decode()
    assert (d / "run").read_text().strip() == "0"
    assert "KSM: off" in out


def test_system_ksm_errors(bx, tmp_path):
    p = bx("system", "ksm", "sideways", env={"BOXVM_KSM_DIR": str(fake_ksm(tmp_path))}, check=1)
    assert b"expected on, off or status" in p.stderr
    p = bx("system", "ksm", "on", env={"BOXVM_KSM_DIR": str(tmp_path / "none")}, check=1)
    assert b"no KSM" in p.stderr
    bx("system", "ksm", "on", "off", check=1)  # one operand at most


def test_system_ksm_status_reads_the_host(bx):
    if not os.path.exists(f"{HOST_KSM}/run"):
        pytest.skip("the host kernel has no KSM")
    with open(f"{HOST_KSM}/run") as f:
        run = f.read().strip()
    out = bx("system", "ksm", check=0).stdout.decode()
    assert out.startswith("KSM: on" if run == "1" else "KSM: off"), out
