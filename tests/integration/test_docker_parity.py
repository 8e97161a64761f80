"""boxvm answers as Docker 20.10 does: exit codes, listing headers, --format.

Every expected code and string here was taken from the reference Docker
(../shared/tools/docker-ref) running the same command on the same data, not
from boxvm. None of these tests boots a VM: created boxes, images and volumes
are enough.
"""
import re

import pytest


def code(bx, *args):
    return bx(*args).returncode


@pytest.fixture
def created(no_leaks):
    """`docker create --name parity-box -l b=2 -l a=1 busybox echo hi there`, a
    volume it uses, and a second box."""
    bx = no_leaks
    bx("volume", "create", "parity-vol", check=0)
    bx("create", "--name", "parity-box", "-l", "b=2", "-l", "a=1", "-v", "parity-vol:/data", "busybox", "echo", "hi",
       "there", check=0)
    bx("create", "--name", "parity-other", "busybox", check=0)
    yield bx
    bx("rm", "-f", "parity-box", "parity-other", check=0)
    bx("volume", "rm", "parity-vol", check=0)


def test_errors_exit_1_outside_run(created):
    bx = created
    # Docker: every command but run exits 1 on its errors
    for args in (("rm", "nosuch"), ("stop", "nosuch"), ("start", "nosuch"), ("kill", "nosuch"),
                 ("pause", "nosuch"), ("unpause", "nosuch"), ("logs", "nosuch"), ("rename", "nosuch", "x"),
                 ("wait", "nosuch"), ("exec", "nosuch", "ls"), ("port", "nosuch"), ("top", "nosuch"),
                 ("rmi", "nosuch"), ("tag", "nosuch", "x"), ("save", "-o", "/dev/null", "nosuch"),
                 ("image", "inspect", "nosuch"), ("volume", "rm", "nosuch"), ("volume", "inspect", "nosuch"),
                 # a box in the wrong state
                 ("exec", "parity-box", "ls"), ("pause", "parity-box"), ("unpause", "parity-box"),
                 ("kill", "parity-box"), ("top", "parity-box"), ("attach", "parity-box"),
                 # a name clash, a volume in use
                 ("create", "--name", "parity-box", "busybox"), ("rename", "parity-other", "parity-box"),
                 ("volume", "rm", "parity-vol"),
                 # usage: missing arguments (run too), an unknown command or subcommand
                 ("rm",), ("stop",), ("inspect",), ("volume", "rm"), ("rename", "a"), ("run",), ("create",),
                 ("exec",), ("frobnicate",), ("volume", "bogus"), ("image", "bogus"),
                 # a --format that does not parse, in a listing command
                 ("ps", "--format", "{{.ID"), ("images", "--format", "{{.ID")):
        p = bx(*args)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert p.stderr.startswith(b"boxvm: "), (args, p.stderr)
    # Docker: `inspect` of something that is no box nor image prints [] and exits 1
    p = bx("inspect", "nosuch")
    assert (p.returncode, p.stdout) == (1, b"[]\n") and b"nosuch" in p.stderr


def test_flag_errors_exit_125_everywhere(bx):
    for args in (("ps", "--bogus"), ("rm", "--bogus", "x"), ("ps", "-n"), ("run", "--bogus", "busybox"),
                 ("create", "--bogus", "busybox"), ("-x",), ("ps", "-n", "abc"), ("create", "--label", "=x", "busybox"),
                 ("exec", "-e", "=x", "nosuch", "true"), ("stop", "-t", "abc", "nosuch"), ("version", "--bogus")):
        assert code(bx, *args) == 125, args
    # a flag value Docker's client refuses is 125 in `create` too (its daemon's errors exit 1)
    for flags in (("-m", "abc"), ("--cpus", "abc"), ("-p", "abc"), ("--stop-timeout", "abc"),
                  ("--add-host", "bad"), ("--dns", "bad"), ("-e", "=x"), ("--env-file", "/nonexistent"),
                  ("--restart", "always", "--rm")):
        for cmd in ("create", "run"):
            p = bx(cmd, *flags, "busybox", "true")
            assert p.returncode == 125 and p.stderr.count(b"\n") == 1, (cmd, flags, p)
    # Docker: `run -it` without a terminal exits 1, not 125
    p = bx("run", "--rm", "-it", "busybox", "true", input=b"")
    assert p.returncode == 1 and b"not a TTY" in p.stderr, p


def test_run_keeps_125_for_its_own_errors(no_leaks):
    assert code(no_leaks, "run", "--rm", "--pull", "never", "nosuchimage:1", "true") == 125
    # create is not run: Docker's `create` of a missing image exits 1
    assert code(no_leaks, "create", "--pull", "never", "nosuchimage:1", "true") == 1


def test_help_without_subcommand_exits_0(bx):
    for args in ((), ("volume",), ("image",)):
        assert code(bx, *args) == 0, args


def test_inspect_template_parse_error_exits_64(created):
    bx = created
    for args in (("inspect", "-f", "{{.ID", "parity-box"), ("image", "inspect", "-f", "{{.X", "busybox"),
                 ("volume", "inspect", "-f", "{{.ID", "parity-vol")):
        p = bx(*args)
        assert p.returncode == 64 and p.stdout == b"", (args, p)


def test_rm_f_of_a_missing_box_reports_and_succeeds(created):
    bx = created
    # Docker: "Error: No such container: nosuch" on stderr, exit 0; the others are removed
    p = bx("rm", "-f", "nosuch", "parity-other", "nosuch2")
    assert p.returncode == 0, p
    assert p.stdout == b"parity-other\n"
    assert p.stderr == b"boxvm: no such box: nosuch\nboxvm: no such box: nosuch2\n"


def test_rmi_f_of_a_missing_image_reports_and_succeeds(bx):
    # Docker: "Error: No such image: nosuch" on stderr, exit 0 (without -f: 1)
    p = bx("rmi", "-f", "nosuch")
    assert p.returncode == 0 and p.stdout == b"" and p.stderr.startswith(b"boxvm: no such image: nosuch"), p
    assert code(bx, "rmi", "nosuch") == 1


def test_listing_headers(created):
    bx = created
    out = bx("ps", "-a", "--filter", "name=^parity-", check=0).stdout.decode().splitlines()
    # Docker's header and columns: each as wide as its widest cell + 3, at least 10
    header = out[0]
    assert re.fullmatch(r"CONTAINER ID   IMAGE     COMMAND +CREATED +STATUS    PORTS     NAMES", header), header
    assert len(out) == 3
    for row in out[1:]:
        for col in ("IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"):
            at = header.index(col)
            assert row[at - 1] == " " and row[at] != " ", (col, header, row)
    assert out[1].split()[-1] == "parity-other" and '"echo hi there"' in out[2]
    empty = bx("ps", "--filter", "name=^nothing-matches$", check=0).stdout
    assert empty == b"CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    assert bx("volume", "ls", check=0).stdout.decode().splitlines()[0] == "DRIVER    VOLUME NAME"
    # no box is running: `docker stats --no-stream` prints its header alone
    assert bx("stats", "--no-stream", check=0).stdout == (
        b"CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n")
    lines = bx("images", "busybox:latest", check=0).stdout.decode().splitlines()
    assert lines[0] == "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE", lines
    assert re.fullmatch(r"busybox      latest    [0-9a-f]{12}   \S.*\S   \S+", lines[1]), lines


def test_table_formats(created):
    bx = created
    # Docker's "table TEMPLATE": the fields' column titles as header ({{.Label "k"}}: "k"), tabwriter columns
    p = bx("ps", "-a", "--filter", "name=^parity-box$", "--format", 'table {{.Names}}\t{{.Label "a"}}\t{{.State}}',
           check=0)
    assert p.stdout == b"NAMES        a         STATE\nparity-box   1         created\n"
    assert bx("images", "--format", "table {{.Repository}}\t{{.Tag}}", "busybox:latest", check=0).stdout == (
        b"REPOSITORY   TAG\nbusybox      latest\n")
    # "table" alone is the default table
    # (CREATED moves on between the two calls, and column widths with it)
    def steady(out):
        out = re.sub(rb"(Less than a second|About a minute|About an hour|\d+ \w+) ago", b"T ago", out)
        return re.sub(rb" {2,}", b"  ", out)
    plain = bx("ps", "-a", "--filter", "name=^parity-", check=0).stdout
    table = bx("ps", "-a", "--filter", "name=^parity-", "--format", "table", check=0).stdout
    assert steady(table) == steady(plain)


def test_images_q_filters_by_reference(bx):
    image_id = bx("image", "inspect", "-f", "{{.Id}}", "busybox", check=0).stdout.decode().strip()
    assert bx("images", "-q", "busybox", check=0).stdout.decode() == image_id[7:19] + "\n"
    assert bx("images", "-q", "busybox:latest", check=0).stdout.decode() == image_id[7:19] + "\n"
    for ref in ("nosuch", "busybox:nosuch", "busy"):
        p = bx("images", "-q", ref)
        assert (p.returncode, p.stdout) == (0, b""), ref  # Docker: nothing, exit 0
    # Docker: one ID a row, so an image with a second tag is listed twice
    bx("tag", "busybox", "parity-tag:1", check=0)
    try:
        assert bx("images", "-q", check=0).stdout.decode().split().count(image_id[7:19]) == 2
    finally:
        bx("rmi", "parity-tag:1", check=0)


def test_templates_print_go_values(created):
    bx = created
    f = lambda *args: bx(*args, check=0).stdout.decode()
    # `docker inspect -f` on the same box
    for fmt, docker_says in (("{{.Config.Cmd}}", "[echo hi there]"),
                             ("{{.Config.Labels}}", "map[a:1 b:2]"),
                             ("{{json .Config.Labels}}", '{"a":"1","b":"2"}'),
                             ("{{.Config.Entrypoint}}", "[]"),
                             ("{{json .Config.Entrypoint}}", "null"),
                             ("{{json .Config.Cmd}}", '["echo","hi","there"]'),
                             ("{{.Config.User}}", ""),
                             ("{{.Config.Volumes}}", "map[]"),
                             ("{{.State.Pid}} {{.State.Running}} {{.State.Status}}", "0 false created"),
                             ("{{.Config.Labels.a}} {{.Config.Labels.zz}}", "1 <no value>"),
                             ('{{index .Config.Labels "b"}}', "2"),
                             ("{{.Name}}", "/parity-box")):
        assert f("inspect", "-f", fmt, "parity-box") == docker_says + "\n", fmt
    assert f("inspect", "-f", "{{.Config.Labels}}", "parity-other") == "map[]\n"
    # `docker ps --format` with the {{.Label "k"}} method
    row = f("ps", "-a", "--filter", "name=^parity-box$", "--format", '{{.Label "a"}}|{{.Labels}}|{{.Names}}|{{.Label "zz"}}')
    assert row == "1|a=1,b=2|parity-box|\n"
    # `docker image inspect -f`, `docker inspect` of an image, `docker images --format`, `docker volume inspect -f`
    assert f("image", "inspect", "-f", "{{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.Labels}} {{.Os}}",
             "busybox") == "[sh] [] map[] linux\n"
    assert f("inspect", "-f", "{{.Config.Cmd}}", "busybox") == "[sh]\n"
    assert f("images", "--format", "{{.Repository}}:{{.Tag}}", "busybox:latest") == "busybox:latest\n"
    assert f("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}} {{.Options}} {{.Scope}}",
             "parity-vol") == "parity-vol local map[] map[] local\n"


def test_inspect_records_the_config_as_docker(no_leaks):
    """What `docker create` records in Config for the same flags (Docker 20.10's answers)."""
    bx = no_leaks
    f = lambda box, fmt: bx("inspect", "-f", fmt, box, check=0).stdout.decode().strip()
    path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    bx("create", "--name", "cfg-ep", "-e", "FOO=1", "--stop-signal", "usr1", "--entrypoint", "echo", "busybox", "hi",
       "there", check=0)
    bx("create", "--name", "cfg-user", "-t", "--stop-signal", "9", "-u", "1000", "busybox", check=0)
    bx("create", "--name", "cfg-env", "-e", "NOPE_UNSET_HERE", "-e", "E=", "busybox", check=0)
    bx("create", "--name", "cfg-noep", "--entrypoint", "echo", "busybox", check=0)
    try:
        fmt = "{{json .Config.Env}} {{json .Config.User}} {{json .Config.StopSignal}} {{json .Config.Entrypoint}} " \
              "{{json .Config.Cmd}} {{.Path}} {{json .Args}}"
        assert f("cfg-ep", fmt) == f'["FOO=1","{path}"] "" "usr1" ["echo"] ["hi","there"] echo ["hi","there"]'
        assert f("cfg-user", fmt) == f'["{path}"] "1000" "9" null ["sh"] sh []'
        assert f("cfg-env", fmt) == f'["NOPE_UNSET_HERE","E=","{path}"] "" "" null ["sh"] sh []'
        assert f("cfg-noep", "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Path}} {{json .Args}}") == \
            '["echo"] null echo []'
        # the stop signal in effect is the recorded one: usr1 is SIGUSR1 (10)
        assert f("cfg-ep", "{{.Config.StopSignal}}") == "usr1"
    finally:
        bx("rm", "-f", "cfg-ep", "cfg-user", "cfg-env", "cfg-noep", check=0)


def test_inspect_mounts_as_docker(no_leaks, tmp_path):
    """`docker create -v DIR:/h:ro -v vol:/data -v /anon --tmpfs /t busybox`: Mounts holds the bind and
    both volumes with Docker's fields (tmpfs mounts are in HostConfig.Tmpfs only), HostConfig.Binds the
    -v flags with a source, Config.Volumes the anonymous volume's target."""
    bx = no_leaks
    bx("create", "--name", "mnt-box", "-v", f"{tmp_path}:/h:ro", "-v", "mnt-vol:/data", "-v", "/anon",
       "--tmpfs", "/t", "busybox", check=0)
    bx("create", "--name", "mnt-none", "busybox", check=0)
    try:
        import json
        mounts = json.loads(bx("inspect", "-f", "{{json .Mounts}}", "mnt-box", check=0).stdout)
        by_dest = {m["Destination"]: m for m in mounts}
        assert sorted(by_dest) == ["/anon", "/data", "/h"]
        assert by_dest["/h"] == {"Type": "bind", "Source": str(tmp_path), "Destination": "/h", "Mode": "ro",
                                 "RW": False, "Propagation": "rprivate"}
        vol = by_dest["/data"]
        assert (vol["Type"], vol["Name"], vol["Driver"], vol["Mode"], vol["RW"], vol["Propagation"]) == \
            ("volume", "mnt-vol", "local", "z", True, "")
        assert vol["Source"] == bx("volume", "inspect", "-f", "{{.Mountpoint}}", "mnt-vol", check=0).stdout.decode().strip()
        anon = by_dest["/anon"]
        assert (anon["Type"], anon["Driver"], anon["Mode"], anon["RW"]) == ("volume", "local", "", True)
        assert re.fullmatch("[0-9a-f]{64}", anon["Name"])
        f = lambda box, fmt: bx("inspect", "-f", fmt, box, check=0).stdout.decode().strip()
        binds = json.loads(f("mnt-box", "{{json .HostConfig.Binds}}"))
        assert sorted(binds) == sorted([f"{tmp_path}:/h:ro", "mnt-vol:/data"])
        assert f("mnt-box", "{{json .Config.Volumes}} {{json .HostConfig.Tmpfs}}") == '{"/anon":{}} {"/t":""}'
        assert f("mnt-none", "{{json .Mounts}} {{json .HostConfig.Binds}} {{json .Config.Volumes}} "
                             "{{json .HostConfig.Tmpfs}}") == "[] null null null"
    finally:
        bx("rm", "-f", "-v", "mnt-box", "mnt-none", check=0)
        bx("volume", "rm", "mnt-vol", check=0)


def test_flags_may_follow_operands(created, tmp_path):
    """Docker 20.10 takes flags after the box or image names (not after run's IMAGE or exec's
    BOX, where the command's own arguments begin): `inspect B -f T` prints /B (rc 0),
    `rm nosuch -f` exits 0, `images busybox -q` prints the ID, `save busybox -o F` writes F."""
    bx = created
    assert bx("inspect", "parity-box", "-f", "{{.Name}}", check=0).stdout == b"/parity-box\n"
    p = bx("rm", "nosuch", "-f")
    assert p.returncode == 0 and b"nosuch" in p.stderr, p
    image_id = bx("image", "inspect", "-f", "{{.Id}}", "busybox", check=0).stdout.decode().strip()
    assert bx("images", "busybox", "-q", check=0).stdout.decode() == image_id[7:19] + "\n"
    bx("save", "busybox", "-o", str(tmp_path / "b.tar"), check=0)
    assert (tmp_path / "b.tar").stat().st_size > 0
    assert bx("logs", "parity-other", "--tail", "1", check=0).stdout == b""
    # Docker: a --format wins over -q
    assert bx("ps", "-a", "--filter", "name=^parity-box$", "--format", "{{.Names}}", "-q", check=0).stdout == \
        b"parity-box\n"
    # after run's IMAGE, flags are the command's: `create busybox ls -la` records Cmd [ls -la]
    bx("create", "--name", "parity-cmdflags", "busybox", "ls", "-la", check=0)
    try:
        assert bx("inspect", "-f", "{{json .Config.Cmd}}", "parity-cmdflags", check=0).stdout == b'["ls","-la"]\n'
    finally:
        bx("rm", "parity-cmdflags", check=0)


def test_cp_refuses_what_it_cannot_do_right(no_leaks, tmp_path):
    """Docker: cp into a --read-only box exits 1 ("container rootfs is marked read-only").
    A box that is not running keeps its mounts' contents elsewhere on the host: boxvm says
    where instead of writing beside the empty mount point (exit 1). Created boxes only."""
    bx = no_leaks
    f = tmp_path / "f.txt"
    f.write_text("x")
    bx("create", "--name", "cp-ro", "--read-only", "-v", "cp-ro-vol:/data", "--tmpfs", "/t", "busybox", check=0)
    try:
        for dst, words in (("/tmp/", b"read-only"), ("/data/", b"cp-ro-vol/_data"), ("/t/x", b"tmpfs")):
            p = bx("cp", str(f), "cp-ro:" + dst)
            assert p.returncode == 1 and words in p.stderr and p.stderr.count(b"\n") == 1, (dst, p)
        bx("cp", "cp-ro:/etc/hostname", str(tmp_path / "out"), check=0)  # reading its root is fine
        # ports: Docker shows none for a box that is not running
        assert bx("port", "cp-ro", check=0).stdout == b""
    finally:
        bx("rm", "-v", "cp-ro", check=0)
        bx("volume", "rm", "cp-ro-vol", check=0)


def test_inspect_host_config_of_network_flags(no_leaks):
    """`docker create --dns 1.1.1.1 --add-host a:1.2.3.4 --read-only busybox` records these in
    HostConfig; without them Docker has [] for the DNS lists and null for ExtraHosts."""
    bx = no_leaks
    bx("create", "--name", "hc-set", "--dns", "1.1.1.1", "--add-host", "a:1.2.3.4", "--read-only", "busybox", check=0)
    bx("create", "--name", "hc-none", "busybox", check=0)
    try:
        fmt = "{{json .HostConfig.NetworkMode}} {{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} " \
              "{{json .HostConfig.DnsOptions}} {{json .HostConfig.ExtraHosts}} {{json .HostConfig.ReadonlyRootfs}}"
        f = lambda box: bx("inspect", "-f", fmt, box, check=0).stdout.decode().strip()
        assert f("hc-set") == '"default" ["1.1.1.1"] [] [] ["a:1.2.3.4"] true'
        assert f("hc-none") == '"default" [] [] [] null false'
        # --log-opt as given ({} when none), as Docker records them
        assert bx("inspect", "-f", "{{json .HostConfig.LogConfig.Config}}", "hc-none", check=0).stdout == b"{}\n"
        bx("create", "--name", "hc-log", "--log-opt", "max-size=1m", "busybox", check=0)
        assert bx("inspect", "-f", "{{json .HostConfig.LogConfig.Config}}", "hc-log", check=0).stdout == \
            b'{"max-size":"1m"}\n'
    finally:
        bx("rm", "hc-set", "hc-none", "hc-log", check=0)
