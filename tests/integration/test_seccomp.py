"""Seccomp in the box (issue 16): Docker's default profile for main and every
exec, `--security-opt seccomp=unconfined` and `--privileged` without one, a
profile file in Docker's format. The filter is compiled on the host and
installed by the agent. Expected values are what Docker 20.10 (docker-ref,
runc 1.1.5, busybox) prints: `Seccomp: 2` / `Seccomp_filters: 1` with the
default profile, `Seccomp: 0` unconfined (and, by Docker's rule, privileged:
its WithSeccomp returns before any profile); a denied syscall fails with
EPERM; a profile denying mkdir gives busybox's "mkdir: can't create directory
'/x': Operation not permitted"; SecurityOpt keeps the profile as compacted JSON."""
import json
import os
import subprocess

import pytest

from apisvc import api  # noqa: F401 (the module's service fixture)

from conftest import until

HERE = os.path.dirname(os.path.abspath(__file__))
SECCOMP = "grep -E '^(Seccomp|NoNewPrivs)' /proc/self/status"


def status(text):
    return dict(line.split(":\t") for line in text.decode().splitlines())


def confined(nnp=0, on=True):
    return {"NoNewPrivs": str(nnp), "Seccomp": "2" if on else "0", "Seccomp_filters": "1" if on else "0"}


@pytest.fixture(scope="module")
def keyctl(tmp_path_factory):
    out = tmp_path_factory.mktemp("keyctl") / "keyctl"
    subprocess.run(["musl-gcc", "-static", "-O2", "-o", str(out), os.path.join(HERE, "helpers", "keyctl.c")],
                   check=True)
    return str(out)


def test_default_profile_for_main_and_every_exec(no_leaks, keyctl):
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "-v", f"{keyctl}:/bin/keyctl:ro", "busybox", "sh", "-c",
             SECCOMP + " > /tmp/main; keyctl > /tmp/keyctl; sleep 1000", check=0).stdout.decode().strip()
    try:
        until(lambda: bx("exec", ref, "test", "-s", "/tmp/keyctl").returncode == 0, "main to try keyctl")
        assert status(bx("exec", ref, "cat", "/tmp/main", check=0).stdout) == confined()
        # keyctl is not in the profile's allow list: EPERM, for main and exec alike
        assert bx("exec", ref, "cat", "/tmp/keyctl", check=0).stdout == b"keyctl: Operation not permitted\n"
        p = bx("exec", ref, "keyctl")
        assert (p.returncode, p.stdout) == (1, b"keyctl: Operation not permitted\n")
        assert status(bx("exec", ref, "sh", "-c", SECCOMP, check=0).stdout) == confined()
        # a non-root user, and docker exec --privileged: the box's filter still holds
        assert status(bx("exec", "-u", "1000", ref, "sh", "-c", SECCOMP, check=0).stdout) == confined()
        assert status(bx("exec", "--privileged", ref, "sh", "-c", SECCOMP, check=0).stdout) == confined()
        assert bx("exec", "--privileged", ref, "keyctl").returncode == 1
        # the profile allows what its capabilities allow: CAP_CHOWN still works under it
        assert bx("exec", ref, "sh", "-c", "touch /tmp/f && chown 12:34 /tmp/f && stat -c %u:%g /tmp/f",
                  check=0).stdout == b"12:34\n"
        hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
        assert hc["SecurityOpt"] is None
    finally:
        bx("rm", "-f", ref)


def test_unconfined_and_privileged_have_no_filter(no_leaks, keyctl):
    bx = no_leaks
    p = bx("run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined", "-v",
           f"{keyctl}:/bin/keyctl:ro", "busybox", "sh", "-c", SECCOMP + "; keyctl", check=0)
    lines = p.stdout.splitlines()
    assert status(b"\n".join(lines[:3])) == confined(on=False)
    assert lines[3] != b"keyctl: Operation not permitted"
    p = bx("run", "--rm", "--network", "none", "--privileged", "busybox", "sh", "-c", SECCOMP, check=0)
    assert status(p.stdout) == confined(on=False)


def test_profile_file_no_new_privileges_and_a_user(no_leaks, tmp_path):
    bx = no_leaks
    prof = tmp_path / "deny-mkdir.json"
    prof.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n'
                    '    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}\n  ]\n}\n')
    # no_new_privs on: the agent loads the filter last, after the change of user
    ref = bx("create", "--network", "none", "--security-opt", f"seccomp={prof}", "--security-opt",
             "no-new-privileges", "-u", "1000", "-w", "/tmp", "busybox", "sh", "-c",
             SECCOMP + "; mkdir /tmp/x; echo rc=$?", check=0).stdout.decode().strip()
    try:
        hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
        assert hc["SecurityOpt"] == [
            'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],'
            '"action":"SCMP_ACT_ERRNO"}]}', "no-new-privileges"]
        p = bx("start", "-a", ref, check=0)
        lines = p.stdout.splitlines()
        assert status(b"\n".join(lines[:3])) == confined(nnp=1)
        assert lines[3:] == [b"rc=1"]
        assert p.stderr.endswith(b"mkdir: can't create directory '/tmp/x': Operation not permitted\n")
    finally:
        bx("rm", "-f", ref)


def test_profile_errors(bx, tmp_path):
    """Refused before any VM is made: Docker's client words for a file it
    cannot read or parse, runc's for a profile it cannot load (125)."""
    p = bx("run", "--rm", "--security-opt", "seccomp=/nonexistent.json", "busybox", "true")
    assert p.returncode == 125
    assert b"opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory" \
        in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"defaultAction": ')
    p = bx("run", "--rm", "--security-opt", f"seccomp={bad}", "busybox", "true")
    assert p.returncode == 125 and b"compacting json for seccomp profile" in p.stderr
    bad.write_text('{"defaultAction": "SCMP_ACT_BOGUS"}')
    p = bx("run", "--rm", "--security-opt", f"seccomp={bad}", "busybox", "true")
    assert p.returncode == 125 and b"string SCMP_ACT_BOGUS is not a valid action for seccomp" in p.stderr
    assert bx("ps", "-aq").stdout == b""


DENY_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}


def test_runtime_linux_seccomp_for_the_process_and_its_execs(tmp_path, no_leaks):
    """boxvm-runtime honours linux.seccomp (runc: the process and every exec
    of the container get it): mkdir fails with the profile's errno (EACCES);
    and linux.maskedPaths, linux.readonlyPaths (`runc spec`'s lists) and
    process.oomScoreAdj, as runc makes them."""
    from test_oci_runtime import _bundle, _create, _rt
    b, cfg = _bundle(tmp_path, ["sh", "-c", SECCOMP + " > /tmp/main; mkdir /tmp/x 2> /tmp/mkdir; "
                                            "cat /proc/self/oom_score_adj > /tmp/oom; wc -c < /proc/kcore > /tmp/kcore; "
                                            "mount | grep ' /proc/sys ' > /tmp/sys; echo done > /tmp/ready; sleep 1000"])
    assert "/proc/kcore" in cfg["linux"]["maskedPaths"] and "/proc/sys" in cfg["linux"]["readonlyPaths"]
    cfg["process"]["oomScoreAdj"] = 55
    for a in ("grep", "mkdir", "mount", "wc"):
        if not (b / "rootfs" / "bin" / a).exists():
            (b / "rootfs" / "bin" / a).symlink_to("busybox")
    cfg["linux"]["seccomp"] = DENY_MKDIR
    cfg["process"]["noNewPrivileges"] = False
    (b / "config.json").write_text(json.dumps(cfg))
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "sc1")
    assert rc == 0, out
    try:
        assert _rt(no_leaks, root, "start", "sc1").returncode == 0
        tmp = b / "rootfs" / "tmp"
        until(lambda: (tmp / "ready").exists(), "the process to run")
        assert status((tmp / "main").read_bytes()) == confined()
        assert (tmp / "mkdir").read_bytes() == b"mkdir: can't create directory '/tmp/x': Permission denied\n"
        assert (tmp / "oom").read_bytes() == b"55\n" and (tmp / "kcore").read_bytes() == b"0\n"
        assert (tmp / "sys").read_bytes() == b"proc on /proc/sys type proc (ro,nosuid,nodev,noexec,relatime)\n"
        p = _rt(no_leaks, root, "exec", "sc1", "sh", "-c", SECCOMP + "; mkdir /tmp/y; echo rc=$?")
        lines = p.stdout.splitlines()
        assert status(b"\n".join(lines[:3])) == confined()
        assert lines[3:] == [b"rc=1"]
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "sc1").returncode == 0
    # a profile runc cannot load: refused at create
    cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_BOGUS"}
    (b / "config.json").write_text(json.dumps(cfg))
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "sc2")
    assert rc != 0 and b"linux.seccomp: seccomp profile: defaultAction: string SCMP_ACT_BOGUS is not a valid " \
                       b"action for seccomp" in out, out


def test_docker_cli_through_the_engine_api(api, tmp_path):
    """The docker CLI's own body for these flags (it reads the profile file and
    sends its JSON; systempaths=unconfined becomes empty MaskedPaths and
    ReadonlyPaths): the same box as boxvm run's."""
    prof = tmp_path / "deny-mkdir.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    r = api("run", "--rm", "--network", "none", "--security-opt", f"seccomp={prof}", "--security-opt",
            "systempaths=unconfined", "--group-add", "777", "--oom-score-adj", "7", "--shm-size", "32m", "busybox",
            "sh", "-c", SECCOMP + "; id; cat /proc/self/oom_score_adj; grep -c ' /proc/sys ' /proc/mounts; "
            "grep shm /proc/mounts | sed 's/,inode64//'; mkdir /tmp/x", check=1)
    lines = r.stdout.splitlines()
    assert status("\n".join(lines[:3]).encode()) == confined()
    assert lines[3:] == ["uid=0(root) gid=0(root) groups=0(root),777", "7", "0",
                         "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=32768k 0 0"]
    assert "mkdir: can't create directory '/tmp/x': Operation not permitted" in r.stderr


def test_info_lists_the_seccomp_default(api):
    status_code, _, body = api.raw("GET", "/info")
    assert status_code == 200
    assert "name=seccomp,profile=default" in json.loads(body)["SecurityOptions"]
