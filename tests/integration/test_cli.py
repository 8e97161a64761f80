"""Commands that need no VM: images, info, version, help."""
import os
import re


def test_version(bx):
    p = bx("version", check=0)
    assert re.match(rb"boxvm version \d+\.\d+\.\d+\n$", p.stdout)
    assert bx("--version", check=0).stdout == p.stdout


def test_help_lists_commands(bx):
    out = bx("--help", check=0).stdout.decode()
    for c in ("run", "load", "images", "info", "kernel", "version"):
        assert re.search(rf"^  {c}\s", out, re.M), c


def test_run_help(bx):
    out = bx("run", "--help", check=0).stdout.decode()
    assert out.startswith("Usage:  boxvm run [OPTIONS] IMAGE [COMMAND] [ARG...]")
    for flag in ("--rm", "--env", "--env-file", "--workdir", "--user", "--entrypoint", "--interactive"):
        assert flag in out


def test_run_h_is_hostname(bx):
    """Docker: for run and create, -h is --hostname (help is --help only);
    other commands keep -h as help. (`run -h NAME` in a box: test_network.py.)"""
    for cmd in ("run", "create"):
        out = bx(cmd, "--help", check=0).stdout.decode()
        assert re.search(r"^  -h, --hostname string", out, re.M), out
        assert re.search(r"^      --help ", out, re.M), out
        p = bx(cmd, "-h")
        assert p.returncode == 125 and b"flag needs an argument: -h" in p.stderr
    for cmd in ("ps", "exec", "inspect"):
        assert bx(cmd, "-h", check=0).stdout.startswith(b"Usage:  boxvm " + cmd.encode())


def test_unknown_command(bx):
    p = bx("frobnicate")
    assert p.returncode == 1 and b"frobnicate" in p.stderr  # Docker: 1 for an unknown command


def test_images_lists_busybox(bx):
    out = bx("images", check=0).stdout.decode().splitlines()
    assert out[0].split()[:4] == ["REPOSITORY", "TAG", "IMAGE", "ID"]
    rows = [l.split() for l in out[1:]]
    assert any(r[0] == "busybox" and r[1] == "latest" and re.fullmatch(r"[0-9a-f]{12}", r[2]) for r in rows), out
    ids = bx("images", "-q", check=0).stdout.decode().split()
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids) and ids


def test_info(bx):
    out = bx("info", check=0).stdout.decode()
    accel = re.search(r"^Accelerator:\s+(\w+)", out, re.M).group(1)
    assert accel in ("kvm", "tcg")
    assert re.search(r"^Accelerator why:\s+\S", out, re.M)
    assert re.search(r"^Kernel:\s+\d+\.\d+", out, re.M)
    assert f"Data dir:        {bx.root}" in out
    assert f"Runtime dir:     {bx.run_dir}" in out


def test_info_accel_override(bx):
    out = bx("info", env={"BOXVM_ACCEL": "tcg"}, check=0).stdout.decode()
    assert re.search(r"^Accelerator:\s+tcg", out, re.M)
    assert "BOXVM_ACCEL" in out
