"""A data directory that fills up, or cannot be written at all (issue 11,
point 5). DATA is a small tmpfs of the test's own: while it is full, a
create, a load and an image's first unpack fail with one clear error and
leave nothing half-made; a running box's log loses output but never holds
half an entry; once space is freed everything works again, the log
included. A read-only data directory gives one clear error."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

import ocilayout
from conftest import BUSYBOX_TAR, Boxvm, _our_processes, unmount_under, until


def one_error(p, *words, code=1):
    """One "boxvm: " line naming words, and Docker's exit code (create: 1)."""
    err = p.stderr.decode()
    assert p.returncode == code and err.startswith("boxvm: ") and err.count("\n") == 1, p
    for w in words:
        assert w in err, (w, err)
    return err


def fill(path):
    """Write zeros until the filesystem is full."""
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M"], capture_output=True)


def log_entries(path):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", "the log ends inside an entry"
    return [json.loads(line) for line in lines[:-1]]


@pytest.fixture
def small_data(bx, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "tmpfs", str(data)], check=True)
    run = tempfile.mkdtemp(prefix="bxf.", dir="/tmp")
    b = Boxvm(str(data), run, dict(bx.env, BOXVM_ROOT=str(data), BOXVM_RUNTIME_DIR=run))
    try:
        yield b
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(data)], capture_output=True)
        if os.path.exists(data / "filler"):
            os.unlink(data / "filler")
        ids = b("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            b("rm", "-f", *[i.decode() for i in ids])
        leaked = _our_processes(str(data)) + _our_processes(run)
        for pid, _ in leaked:  # reported below, but never left running
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        unmount_under(str(data))
        subprocess.run(["umount", "-l", str(data)], capture_output=True)
        shutil.rmtree(run, ignore_errors=True)
        assert not leaked, leaked


def test_full_data_dir(small_data, tmp_path):
    b = small_data
    data = b.root
    b("load", "-i", BUSYBOX_TAR, check=0)
    # an image whose first unpack needs room (4 MiB of data), loaded while there is some
    fat = tmp_path / "fat.tar"
    ocilayout.image_tar(str(fat), [[{"name": "big", "data": os.urandom(4 << 20)}]], name="fat:latest",
                        config={"Cmd": ["true"]})
    b("load", "-i", str(fat), check=0)
    other = tmp_path / "other.tar"
    ocilayout.image_tar(str(other), [[{"name": "x", "data": os.urandom(1 << 20)}]], name="other:latest")
    script = "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.05; done"
    b("run", "-d", "--name", "talker", "busybox", "sh", "-c", script, check=0)
    until(lambda: b"line-5" in b("logs", "talker").stdout, "the box's first lines in its log")
    ident = b("inspect", "-f", "{{.Id}}", "talker", check=0).stdout.decode().strip()
    box_dir = os.path.join(data, "boxes", ident)

    filler = os.path.join(data, "filler")
    fill(filler)
    boxes_before = sorted(os.listdir(os.path.join(data, "boxes")))
    images_before = b("images", "-q", check=0).stdout
    # a new box, a load, a first unpack: one clear error each, nothing half-made
    one_error(b("create", "--name", "nospace", "busybox", "true"), "No space left on device")
    one_error(b("create", "--name", "nospace", "fat"), "No space left on device")
    p = b("load", "-i", str(other))
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1 and b"No space left on device" in p.stderr, p
    assert sorted(os.listdir(os.path.join(data, "boxes"))) == boxes_before
    assert b("images", "-q", check=0).stdout == images_before
    assert [n for n in b("ps", "-a", "--format", "{{.Names}}", check=0).stdout.split()] == [b"talker"]
    # the running box's log: output is lost while the disk is full, never half an entry
    shim_log = os.path.join(box_dir, "shim.log")
    until(lambda: b"not logged until there is room again" in open(shim_log, "rb").read(), "the log to hit the full disk")
    log = os.path.join(box_dir, "json.log")
    last = log_entries(log)[-1]["log"]

    os.unlink(filler)
    until(lambda: b"logging resumed" in open(shim_log, "rb").read(), "the log to resume")
    until(lambda: log_entries(log)[-1]["log"] != last, "new lines in the log")
    assert all(e["log"].startswith("line-") for e in log_entries(log))
    b("create", "--name", "nospace", "fat", check=0)
    b("load", "-i", str(other), check=0)
    b("rm", "-f", "talker", "nospace", check=0)


def test_read_only_data_dir(small_data):
    b = small_data
    b("load", "-i", BUSYBOX_TAR, check=0)
    b("create", "--name", "before", "busybox", "true", check=0)
    subprocess.run(["mount", "-o", "remount,ro", b.root], check=True)
    one_error(b("create", "--name", "ro", "busybox", "true"), "cannot be written", "Read-only file system")
    p = b("ps", "-a", "--format", "{{.Names}}")
    assert p.returncode == 0 and p.stdout.split() == [b"before"], p  # reading still works
    p = b("rm", "before")
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1 and b"cannot be written" in p.stderr, p
    subprocess.run(["mount", "-o", "remount,rw", b.root], check=True)
    b("rm", "before", check=0)
