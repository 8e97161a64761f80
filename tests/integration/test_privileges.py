"""A box's privileges and limits are Docker's (issue 16): capability sets and
no_new_privs for main and for every exec, from --cap-add, --cap-drop,
--privileged and --security-opt, and boxvm-runtime's process.capabilities
and noNewPrivileges. Every expected value is what Docker 20.10 (docker-ref,
runc 1.1.5, busybox) prints for the same flags."""
import json

from conftest import until

STATUS = "grep -E '^(Cap|NoNewPrivs)' /proc/self/status"


def status(text):
    return dict(line.split(":\t") for line in text.decode().splitlines())


def docker_caps(prm, bnd=None, nnp=0):
    bnd = prm if bnd is None else bnd
    return {"CapInh": "0000000000000000", "CapPrm": prm, "CapEff": prm, "CapBnd": bnd,
            "CapAmb": "0000000000000000", "NoNewPrivs": str(nnp)}


DEFAULT = "00000000a80425fb"  # Docker's default set
ALL = "000001ffffffffff"      # every capability of this kernel (0..40)


def test_default_set_for_main_and_exec_and_exec_privileged(no_leaks):
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=77:99",
             "--ulimit", "core=-1", "--sysctl", "net.core.somaxconn=1024", "--sysctl", "kernel.shmmax=1000000",
             "busybox", "sh", "-c",
             STATUS + " > /tmp/main; hostname other 2> /tmp/hostname; "
             "sleep 1000", check=0).stdout.decode().strip()
    try:
        until(lambda: bx("exec", ref, "test", "-s", "/tmp/hostname").returncode == 0, "main to try sethostname")
        assert status(bx("exec", ref, "cat", "/tmp/main", check=0).stdout) == docker_caps(DEFAULT)
        # no CAP_SYS_ADMIN: sethostname is refused (busybox's words)
        assert b"Operation not permitted" in bx("exec", ref, "cat", "/tmp/hostname", check=0).stdout
        assert status(bx("exec", ref, "sh", "-c", STATUS, check=0).stdout) == docker_caps(DEFAULT)
        # a non-root user keeps only the bounding set
        assert status(bx("exec", "-u", "1000", ref, "sh", "-c", STATUS, check=0).stdout) == \
            docker_caps("0000000000000000", DEFAULT)
        # docker exec --privileged: every capability for that command alone
        assert status(bx("exec", "--privileged", ref, "sh", "-c", STATUS, check=0).stdout) == docker_caps(ALL)
        # ... but not the box's seccomp filter, made for its own capabilities: Docker's default
        # profile allows sethostname only to a box holding CAP_SYS_ADMIN (docker exec --privileged
        # keeps its container's filter too; test_seccomp.py)
        p = bx("exec", "--privileged", ref, "hostname", "other")
        assert (p.returncode, p.stderr) == (1, b"hostname: sethostname: Operation not permitted\n")
        hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
        assert (hc["CapAdd"], hc["CapDrop"], hc["Privileged"], hc["SecurityOpt"]) == (None, None, False, None)
        # --ulimit (Docker's values for main; its exec has the same but a nofile soft limit raised to the
        # hard one by the Go runtime of runc's exec: boxvm's exec keeps the box's limits as given)
        limits = "ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu; ulimit -c"
        assert bx("exec", ref, "sh", "-c", limits, check=0).stdout.split() == \
            [b"1024", b"2048", b"77", b"99", b"unlimited"]
        # --sysctl (Docker's values), set before main
        assert bx("exec", ref, "cat", "/proc/sys/net/core/somaxconn", "/proc/sys/kernel/shmmax",
                  check=0).stdout.split() == [b"1024", b"1000000"]
        assert hc["Sysctls"] == {"net.core.somaxconn": "1024", "kernel.shmmax": "1000000"}
        assert hc["Ulimits"] == [{"Name": "core", "Hard": -1, "Soft": -1}, {"Name": "nofile", "Hard": 2048, "Soft": 1024},
                                 {"Name": "nproc", "Hard": 99, "Soft": 77}]
    finally:
        bx("rm", "-f", ref)


def test_cap_flags_privileged_and_no_new_privileges(no_leaks):
    bx = no_leaks
    p = bx("run", "--rm", "--network", "none", "--cap-drop", "all", "--cap-add", "net_admin", "--security-opt",
           "no-new-privileges", "busybox", "sh", "-c", STATUS, check=0)
    assert status(p.stdout) == docker_caps("0000000000001000", nnp=1)
    ref = bx("create", "--network", "none", "--privileged", "--cap-add", "sys_time", "--cap-drop", "MKNOD",
             "busybox", "sh", "-c", STATUS + "; hostname other && echo renamed", check=0).stdout.decode().strip()
    try:
        hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
        # as given, as Docker records them
        assert (hc["CapAdd"], hc["CapDrop"], hc["Privileged"]) == (["sys_time"], ["MKNOD"], True)
        out = bx("start", "-a", ref, check=0).stdout
        assert status(b"\n".join(out.splitlines()[:-1])) == docker_caps(ALL)
        assert out.splitlines()[-1] == b"renamed"
    finally:
        bx("rm", "-f", ref)


def test_bad_privilege_flags_are_dockers_errors(no_leaks):
    bx = no_leaks
    p = bx("run", "--rm", "--cap-add", "FOO", "busybox", "true")
    assert p.returncode == 125 and b'invalid CapAdd: unknown capability: "CAP_FOO"' in p.stderr, p
    p = bx("run", "--rm", "--cap-drop", "cap_nope", "busybox", "true")
    assert p.returncode == 125 and b'invalid CapDrop: unknown capability: "CAP_NOPE"' in p.stderr, p
    p = bx("create", "--security-opt", "bogus", "busybox", "true")
    assert p.returncode == 125 and b'Invalid --security-opt: "bogus"' in p.stderr, p
    # Docker's words for --ulimit
    p = bx("run", "--rm", "--ulimit", "foo=1", "busybox", "true")
    assert p.returncode == 125 and b'invalid argument "foo=1" for "--ulimit" flag: invalid ulimit type: foo' in p.stderr
    p = bx("run", "--rm", "--sysctl", "vm.swappiness=1", "busybox", "true")
    assert p.returncode == 125 and (b'invalid argument "vm.swappiness=1" for "--sysctl" flag: sysctl '
                                    b"'vm.swappiness=1' is not whitelisted") in p.stderr, p
    # a namespaced key the kernel lacks: runc's words, Docker's 127
    p = bx("run", "--rm", "--network", "none", "--sysctl", "net.nope.x=1", "busybox", "true")
    assert p.returncode == 127 and b"open /proc/sys/net/nope/x: No such file or directory" in p.stderr, p
    p = bx("run", "--rm", "--ulimit", "nofile=3:2", "busybox", "true")
    assert p.returncode == 125 and (b"ulimit soft limit must be less than or equal to hard limit: 3 > 2"
                                    in p.stderr), p
    assert bx("ps", "-aq").stdout == b""


def test_runtime_applies_process_capabilities_as_runc(tmp_path, no_leaks):
    """runc 1.1.5 with `runc spec`'s config (capabilities AUDIT_WRITE, KILL,
    NET_BIND_SERVICE in bounding/effective/permitted/ambient, none
    inheritable; noNewPrivileges true): root gets those three, a non-root
    user only the bounding set, and no_new_privs is set."""
    import subprocess
    from test_oci_runtime import RUNTIME, _bundle, _rt
    b, cfg = _bundle(tmp_path, ["sh", "-c", STATUS + "; cat /proc/sys/net/core/somaxconn >&2"])
    (b / "rootfs" / "bin" / "grep").symlink_to("busybox")
    cfg["linux"]["sysctl"] = {"net.core.somaxconn": "1234"}  # runc sets it before the process
    (b / "config.json").write_text(json.dumps(cfg))
    root = tmp_path / "state"
    p = _rt(no_leaks, root, "run", "--bundle", str(b), "c1", stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert status(p.stdout) == docker_caps("0000000020000420", nnp=1)
    assert p.stderr.split()[-1] == b"1234", p.stderr
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    (b / "config.json").write_text(json.dumps(cfg))
    p = _rt(no_leaks, root, "run", "--bundle", str(b), "c2", stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert status(p.stdout) == docker_caps("0000000000000000", "0000000020000420", nnp=1)


# Docker 20.10 (docker-ref) with --group-add 777 --group-add daemon: `id` in main and in exec
GROUPS_ID = b"uid=0(root) gid=0(root) groups=0(root),1(daemon),777\n"
# (the guest's 6.1 kernel adds tmpfs's ",inode64", which docker-ref's newer one leaves out: dropped)
MASKS = ("mount | grep -E ' /proc/(sys|bus|fs|irq|acpi|keys|sysrq-trigger|timer_list|scsi) |/sys/firmware' | "
         "sed 's/,inode64//'")
SHM = "grep shm /proc/mounts | sed 's/,inode64//'"


def test_group_add_oom_score_adj_shm_size_and_masked_paths(no_leaks):
    bx = no_leaks
    ref = bx("run", "-d", "--network", "none", "--oom-score-adj", "123", "--shm-size", "32m", "--group-add", "777",
             "--group-add", "daemon", "--sysctl", "net.core.somaxconn=1024", "busybox", "sh", "-c",
             "id > /tmp/id; cat /proc/self/oom_score_adj > /tmp/oom; sleep 1000", check=0).stdout.decode().strip()
    try:
        until(lambda: bx("exec", ref, "test", "-s", "/tmp/oom").returncode == 0, "main to start")
        assert bx("exec", ref, "cat", "/tmp/id", "/tmp/oom", check=0).stdout == GROUPS_ID + b"123\n"
        # an exec has the box's groups and oom score, as Docker's
        assert bx("exec", ref, "id", check=0).stdout == GROUPS_ID
        assert bx("exec", ref, "cat", "/proc/self/oom_score_adj", check=0).stdout == b"123\n"
        assert bx("exec", ref, "sh", "-c", SHM, check=0).stdout == \
            b"shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=32768k 0 0\n"
        # Docker's masked and read-only paths (docker-ref's mount lines for the ones its kernel has)
        mounts = set(bx("exec", ref, "sh", "-c", MASKS, check=0).stdout.decode().splitlines())
        assert {"proc on /proc/bus type proc (ro,nosuid,nodev,noexec,relatime)",
                "proc on /proc/fs type proc (ro,nosuid,nodev,noexec,relatime)",
                "proc on /proc/irq type proc (ro,nosuid,nodev,noexec,relatime)",
                "proc on /proc/sys type proc (ro,nosuid,nodev,noexec,relatime)",
                "tmpfs on /proc/keys type tmpfs (rw,nosuid,size=65536k,mode=755)",
                "tmpfs on /proc/timer_list type tmpfs (rw,nosuid,size=65536k,mode=755)",
                "tmpfs on /sys/firmware type tmpfs (ro,relatime)"} <= mounts, mounts
        assert bx("exec", ref, "sh", "-c", "wc -c < /proc/kcore; ls -A /sys/firmware | wc -l",
                  check=0).stdout.split() == [b"0", b"0"]
        # the sysctl was written before /proc/sys went read-only; now nothing writes there
        assert bx("exec", ref, "cat", "/proc/sys/net/core/somaxconn", check=0).stdout == b"1024\n"
        p = bx("exec", ref, "sh", "-c", "echo 7 > /proc/sys/net/core/somaxconn")
        assert p.returncode != 0 and b"Read-only file system" in p.stderr
        hc = json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]
        assert (hc["GroupAdd"], hc["OomScoreAdj"], hc["ShmSize"]) == (["777", "daemon"], 123, 33554432)
        assert hc["MaskedPaths"] == ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                     "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                     "/sys/firmware"]
        assert hc["ReadonlyPaths"] == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    finally:
        bx("rm", "-f", ref)


def test_privileged_and_systempaths_unconfined_keep_proc_whole(no_leaks):
    bx = no_leaks
    for flags in (["--privileged"], ["--security-opt", "systempaths=unconfined"]):
        p = bx("run", "--rm", "--network", "none", *flags, "busybox", "sh", "-c",
               MASKS + "; " + SHM, check=0)
        assert p.stdout == b"shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0\n", flags
    # Docker's words for a group the box's /etc/group lacks, and for a score out of range
    p = bx("run", "--rm", "--network", "none", "--group-add", "nosuchgroup", "busybox", "true")
    assert p.returncode == 125 and b"Unable to find group nosuchgroup: no matching entries in group file." in p.stderr
    p = bx("run", "--rm", "--oom-score-adj", "1001", "busybox", "true")
    assert p.returncode == 125 and b"Invalid value 1001, range for oom score adj is [-1000, 1000]." in p.stderr
    # --init is recorded as Docker records it (the agent is every box's init: README)
    for flags, want in ((["--init"], True), (["--init=false"], False), ([], None)):
        ref = bx("create", *flags, "busybox", "true", check=0).stdout.decode().strip()
        try:
            assert json.loads(bx("inspect", ref, check=0).stdout)[0]["HostConfig"]["Init"] == want, flags
        finally:
            bx("rm", "-f", ref)
