"""boxvm run end to end: real microVMs booted from the sample busybox image."""
import hashlib
import os

import pytest

from ocilayout import docker_save_tar, image_tar


def test_echo_hello(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "echo", "hello", check=0)
    assert p.stdout == b"hello\n"
    assert p.stderr == b""


def test_stdout_stderr_separate_and_exit_code(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, b"out\n", b"err\n")


def test_env_workdir_user(no_leaks):
    p = no_leaks("run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "1000", "busybox",
                 "sh", "-c", "echo $A $(pwd) $(id -u)", check=0)
    assert p.stdout == b"1 /tmp 1000\n"


def test_double_dash_before_command(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "--", "echo", "-n", "x", check=0)
    assert p.stdout == b"x"


def test_user_by_name_gets_groups_and_home(no_leaks):
    p = no_leaks("run", "--rm", "-u", "app", "busybox", "sh", "-c", "id -un; id -G; echo $HOME", check=0)
    name, groups, home = p.stdout.decode().split("\n")[:3]
    assert name == "app"
    assert groups.split() == ["1000", "50"]
    assert home == "/home/app"


def test_user_uid_gid_and_missing_workdir_created(no_leaks):
    p = no_leaks("run", "--rm", "-u", "1000:50", "-w", "/does/not/exist", "busybox",
                 "sh", "-c", "echo $(id -u):$(id -g) $(pwd)", check=0)
    assert p.stdout == b"1000:50 /does/not/exist\n"


def test_env_file_and_host_env(no_leaks, tmp_path):
    f = tmp_path / "e.env"
    f.write_text("# comment\nFROMFILE=yes\nA=file\n")
    p = no_leaks("run", "--rm", "--env-file", str(f), "-e", "A=flag", "-e", "HOSTVAR", "busybox",
                 "sh", "-c", "echo $FROMFILE $A $HOSTVAR", env={"HOSTVAR": "fromhost"}, check=0)
    assert p.stdout == b"yes flag fromhost\n"


def test_image_default_env_path_and_hostname(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", 'echo "$PATH"; hostname; echo $HOSTNAME', check=0)
    path, host, henv = p.stdout.decode().split("\n")[:3]
    assert path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert len(host) == 12 and host == henv


def test_large_output_intact(no_leaks):
    size = 10 * 1024 * 1024
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", f"yes 0123456789abcdef | head -c {size}", check=0)
    expect = (b"0123456789abcdef\n" * (size // 17 + 1))[:size]
    assert len(p.stdout) == size
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(expect).hexdigest()


def test_exit_by_signal(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", "kill -9 $$")
    assert p.returncode == 137


def test_orphans_do_not_hold_exit(no_leaks):
    # the orphan would keep running for 1000 s: the box must report 5 as soon as
    # the main process exits (the hang guard turns a wait into a failure)
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", "sleep 1000 & sleep 0.1 & exit 5", timeout=120)
    assert p.returncode == 5


def test_fast_exit_does_not_wait_for_readiness(no_leaks):
    # a readiness budget of 1000 s would trip the hang guard if `true` waited on it
    p = no_leaks("run", "--rm", "busybox", "true", env={"BOXVM_BOOT_TIMEOUT": "1000"}, timeout=120)
    assert p.returncode == 0
    assert p.stderr == b""


def test_late_exec_service_boots_without_warning(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "echo", "late", env={"BOXVM_TEST_ACCEPT_DELAY_MS": "5000"})
    assert (p.returncode, p.stdout, p.stderr) == (0, b"late\n", b"")


def test_stdin_forwarded_with_i(no_leaks):
    p = no_leaks("run", "--rm", "-i", "busybox", "sh", "-c", "wc -c; echo done", input=b"x" * 100000, check=0)
    assert p.stdout.split() == [b"100000", b"done"]


def test_stdin_is_devnull_without_i(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "sh", "-c", "wc -c", input=b"ignored", check=0)
    assert p.stdout.strip() == b"0"


def test_command_not_found_127(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "nosuchcommand")
    assert p.returncode == 127
    assert b"nosuchcommand" in p.stderr and b"not found" in p.stderr


def test_command_not_executable_126(no_leaks):
    p = no_leaks("run", "--rm", "busybox", "/etc/passwd")
    assert p.returncode == 126
    assert b"permission denied" in p.stderr


def test_unknown_user(no_leaks):
    p = no_leaks("run", "--rm", "-u", "nosuchuser", "busybox", "true")
    assert p.returncode != 0
    assert b"nosuchuser" in p.stderr


def test_image_entrypoint_and_cmd(no_leaks, tmp_path, bx):
    # an image whose config has Entrypoint + Cmd + WorkingDir + User, layered on busybox
    busybox_layer = _busybox_base_layer(bx)
    tar = image_tar(str(tmp_path / "ep.tar"), [[{"name": "srv", "type": "dir"}]],
                    config={"Entrypoint": ["echo", "ep"], "Cmd": ["default"], "WorkingDir": "/srv",
                            "User": "1000", "Env": ["PATH=/bin", "K=img"]},
                    name="eptest:v1", base_layers=[busybox_layer])
    bx("load", "-i", tar, check=0)
    assert bx("run", "--rm", "eptest:v1").stdout == b"ep default\n"
    assert bx("run", "--rm", "eptest:v1", "given").stdout == b"ep given\n"
    p = bx("run", "--rm", "--entrypoint", "sh", "eptest:v1", "-c", "echo $K $(pwd) $(id -u)", check=0)
    assert p.stdout == b"img /srv 1000\n"


def _busybox_base_layer(bx):
    """The busybox image's layer blob, to stack test layers on."""
    import json
    import tarfile
    from conftest import BUSYBOX_TAR
    with tarfile.open(BUSYBOX_TAR) as t:
        idx = json.load(t.extractfile("index.json"))
        man = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
        cfg = json.load(t.extractfile("blobs/sha256/" + man["config"]["digest"].split(":")[1]))
        blob = t.extractfile("blobs/sha256/" + man["layers"][0]["digest"].split(":")[1]).read()
    return blob, cfg["rootfs"]["diff_ids"][0]


def test_whiteouts_applied(no_leaks, tmp_path, bx):
    base = _busybox_base_layer(bx)
    tar = image_tar(str(tmp_path / "wh.tar"), [
        [{"name": "data", "type": "dir"}, {"name": "data/a", "data": "a"}, {"name": "data/b", "data": "b"},
         {"name": "opq", "type": "dir"}, {"name": "opq/old", "data": "old"}],
        [{"name": "data/.wh.a", "data": ""}, {"name": "opq", "type": "dir"},
         {"name": "opq/.wh..wh..opq", "data": ""}, {"name": "opq/new", "data": "new"}],
    ], config={"Cmd": ["sh"]}, name="whiteout:latest", base_layers=[base])
    bx("load", "-i", tar, check=0)
    p = bx("run", "--rm", "whiteout", "sh", "-c", "ls /data; echo --; ls /opq", check=0)
    assert p.stdout == b"b\n--\nnew\n"


@pytest.mark.parametrize("entries", [
    [{"name": "../escape", "data": "x"}],
    [{"name": "link", "type": "symlink", "target": "/"}, {"name": "link/tmp/escape-via-link", "data": "x"}],
], ids=["dotdot", "symlink"])
def test_escaping_layer_refused(no_leaks, tmp_path, bx, entries):
    base = _busybox_base_layer(bx)
    tar = image_tar(str(tmp_path / "evil.tar"), [entries], config={"Cmd": ["true"]},
                    name="evil:latest", base_layers=[base])
    bx("load", "-i", tar, check=0)
    p = bx("run", "--rm", "evil")
    assert p.returncode == 125
    assert b"escape" in p.stderr or b"outside" in p.stderr, p.stderr
    assert len(p.stderr.strip().split(b"\n")) == 1
    assert not os.path.exists("/tmp/escape-via-link")
    assert not os.path.exists(os.path.join(bx.root, "boxes", "..", "escape"))


def test_docker_save_tar_loads_and_runs(no_leaks, tmp_path, bx):
    tar = docker_save_tar(str(tmp_path / "saved.tar"), [_busybox_base_layer(bx)],
                          config={"Cmd": ["echo", "from docker save"]}, repotag="dsave:v2")
    p = bx("load", "-i", tar, check=0)
    assert p.stdout == b"Loaded image: dsave:v2\n"
    assert bx("run", "--rm", "dsave:v2", check=0).stdout == b"from docker save\n"


def test_main_gets_dockers_environment(bx, no_leaks):
    """`docker run --rm -e A=1 -e B=2 -e A=3 -e PATH=... --hostname hh -t busybox env`: PATH,
    HOSTNAME, TERM, then the user's variables (a repeated one once, with its last value), HOME."""
    p = bx("run", "--rm", "-e", "A=1", "-e", "B=2", "-e", "A=3", "-e", "PATH=/x:/bin:/usr/bin", "-t", "--hostname",
           "hh", "busybox", "env", check=0)
    assert p.stdout.decode().replace("\r\n", "\n") == \
        "PATH=/x:/bin:/usr/bin\nHOSTNAME=hh\nTERM=xterm\nA=3\nB=2\nHOME=/root\n"
