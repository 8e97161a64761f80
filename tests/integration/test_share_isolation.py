"""Shares (virtiofsd) against a hostile guest: root in the box remounts
read-only mounts read-write, mounts share tags itself, makes device nodes and
setuid files, and a share path tries to inject virtiofsd options. The host's
files must come through unchanged, and nothing the guest does may leave a
setuid file or a device node on the host. Each box is a real microVM."""
import json
import os
import shutil
import stat

import pytest

from conftest import until


def _host_mounts(*tops):
    """The host's mount table lines whose mount point is under one of tops
    (other tests on this machine mount and unmount meanwhile)."""
    with open("/proc/self/mountinfo") as f:
        return sorted(m for m in f.read().splitlines()
                      if any(m.split()[4].startswith(str(t).rstrip("/") + "/") for t in tops))


def _privileged_files(top):
    """Paths under top with a setuid/setgid bit or that are device nodes."""
    found = []
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            st = os.lstat(os.path.join(d, n))
            if st.st_mode & (stat.S_ISUID | stat.S_ISGID) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append(os.path.join(d, n))
    return found


@pytest.fixture
def shm_dir():
    """A directory on /dev/shm: another filesystem than the box directory,
    where no hard link into the box dir is possible."""
    d = f"/dev/shm/bxshare.{os.getpid()}"
    os.makedirs(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


READONLY_SCRIPT = r"""
for m in /ro /etc/app.conf /; do mount -o remount,rw $m || echo "remount-$m-failed"; done
(echo pwned > /ro/keep) 2>/dev/null || echo ro-keep-refused
(echo pwned > /ro/new) 2>/dev/null || echo ro-new-refused
(echo pwned > /etc/app.conf) 2>/dev/null || echo ro-file-refused
echo appended >> /etc/rw.conf && echo rw-file-ok
tag=$(awk '$2=="/etc/app.conf"{print $1}' /proc/mounts)
mkdir -p /scratch/raw /scratch/root
mount -t virtiofs -o rw $tag /scratch/raw && echo "raw: $(ls -a /scratch/raw | tr '\n' ' ')"
mount -o remount,rw /scratch/raw
(echo pwned > /scratch/raw/app.conf) 2>/dev/null || echo raw-file-refused
(echo x > /scratch/raw/planted) 2>/dev/null || echo raw-dir-refused
mount -t virtiofs -o rw rootfs /scratch/root
(echo pwned > /scratch/root/pwned) 2>/dev/null || echo root-refused
echo mine > /in-guest-memory && echo guest-overlay-ok
"""


def test_readonly_holds_against_guest_root(bx, no_leaks, tmp_path, shm_dir):
    """:ro shares (a directory, and a file on another filesystem than the box
    dir), --read-only: a guest root that remounts them read-write, or mounts
    the share tags itself, still cannot write. A file share shows that file
    alone, never its siblings."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep").write_text("untouched\n")
    conf, sibling, rw_conf = (os.path.join(shm_dir, n) for n in ("app.conf", "secret", "rw.conf"))
    for path, text in ((conf, "setting=1\n"), (sibling, "sibling\n"), (rw_conf, "rw=1\n")):
        with open(path, "w") as f:
            f.write(text)
    # --privileged: a hostile root has every capability (the VM, not them, is the wall)
    box = bx("create", "--privileged", "--read-only", "--tmpfs", "/scratch", "-v", f"{ro}:/ro:ro", "-v", f"{conf}:/etc/app.conf:ro",
             "-v", f"{rw_conf}:/etc/rw.conf", "busybox", "sh", "-c", READONLY_SCRIPT,
             check=0).stdout.decode().strip()
    try:
        out = bx("start", "-a", box, check=0).stdout.decode()
        for word in ("ro-keep-refused", "ro-new-refused", "ro-file-refused", "rw-file-ok", "raw: . .. app.conf \n",
                     "raw-file-refused", "raw-dir-refused", "root-refused", "guest-overlay-ok"):
            assert word in out, (word, out)
        assert "remount-" not in out, out  # the guest's remounts succeeded: the host side held
        # the root's writes (and the mount points the guest made) stayed in guest
        # memory: the box's rootfs upper on the host is there, and empty
        upper = os.path.join(bx.root, "boxes", box, "overlay", "upper")
        assert os.listdir(upper) == []
    finally:
        bx("rm", "-f", box, check=0)
    assert (ro / "keep").read_text() == "untouched\n" and sorted(os.listdir(ro)) == ["keep"]
    assert open(conf).read() == "setting=1\n" and open(sibling).read() == "sibling\n"
    assert open(rw_conf).read() == "rw=1\nappended\n"
    assert sorted(os.listdir(shm_dir)) == ["app.conf", "rw.conf", "secret"]
    assert os.stat(conf).st_nlink == 1  # no hard link to the host's inode anywhere


PRIVILEGE_SCRIPT = r"""
cd /rw
mknod cdev c 1 3 2>/dev/null || echo mknod-c-refused
mknod bdev b 7 0 2>/dev/null || echo mknod-b-refused
cp /bin/busybox bb && echo copied
chmod 4755 bb 2>/dev/null || echo suid-refused
chmod 2755 bb 2>/dev/null || echo sgid-refused
mkdir -m 2775 sgdir 2>/dev/null; [ -d sgdir ] && echo dir-ok
mkfifo fifo && echo fifo-ok
echo data > f && echo more >> f && mv f g && cat g && rm g && echo rw-ok
touch /rootsuid && chmod u+s /rootsuid && stat -c '%A' /rootsuid
cp /rootsuid cpsuid 2>/dev/null || echo create-suid-refused
mkfifo -m 4644 sfifo 2>/dev/null || echo mknod-suid-refused
"""


def test_shares_plant_no_privilege(bx, no_leaks, tmp_path):
    """A guest root can make no device node and no setuid/setgid file on the
    host through a share, while normal reads and writes work; the box's own
    rootfs still takes setuid files (images need them) behind a nosuid,nodev
    overlay. The share's host side is mounted nowhere the host sees."""
    rw = tmp_path / "rw"
    rw.mkdir()
    ours = (bx.root, bx.run_dir, tmp_path)
    mounts_before = _host_mounts(*ours)
    box = bx("run", "-d", "--privileged", "--network", "none", "-v", f"{rw}:/rw", "busybox", "sleep", "600",
             check=0).stdout.decode().strip()
    try:
        out = bx("exec", box, "sh", "-c", PRIVILEGE_SCRIPT, check=0).stdout.decode()
        for word in ("mknod-c-refused", "mknod-b-refused", "copied", "suid-refused", "sgid-refused", "dir-ok",
                     "fifo-ok", "data\nmore\nrw-ok", "-rwSr--r--",
                     # a mode with a setuid bit in the create (openat) and mknod calls themselves
                     "create-suid-refused", "mknod-suid-refused"):
            assert word in out, (word, out)
        assert _privileged_files(str(rw)) == []
        assert stat.S_ISFIFO(os.lstat(rw / "fifo").st_mode)
        # the rootfs overlay: nosuid,nodev on the host; virtiofsd's binds live only in its own namespace
        mounts = _host_mounts(*ours)
        rootfs = os.path.join(bx.root, "boxes", box, "rootfs")
        line = next(m for m in mounts if m.split()[4] == rootfs)
        assert "nosuid" in line.split()[5] and "nodev" in line.split()[5], line
        assert [m for m in set(mounts) - set(mounts_before) if m.split()[4] != rootfs] == []
        upper = os.path.join(bx.root, "boxes", box, "overlay", "upper")
        assert os.stat(os.path.join(upper, "rootsuid")).st_mode & stat.S_ISUID
    finally:
        bx("rm", "-f", box, check=0)
    assert _host_mounts(*ours) == mounts_before


def test_share_path_cannot_inject_virtiofsd_options(bx, no_leaks, tmp_path):
    """A source path with virtiofsd's option syntax in it is that literal
    directory, never /etc."""
    comma, backslash = tmp_path / "a,source=/etc", tmp_path / "b\\,source=\\etc"
    for d, name in ((comma, "comma"), (backslash, "backslash")):
        d.mkdir(parents=True)
        (d / "marker").write_text(f"{name}\n")
    p = bx("run", "--rm", "-v", f"{comma}:/x", "-v", f"{backslash}:/y", "busybox", "sh", "-c",
           "ls /x /y; cat /x/marker /y/marker; cat /x/passwd /y/passwd 2>/dev/null; echo end")
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr)
    assert "root:" not in out and "passwd" not in out, out
    assert out.endswith("comma\nbackslash\nend\n"), out


# the remounted root takes the write in guest memory; the root's share, mounted raw, refuses it
READONLY_BUNDLE_SCRIPT = ("mount -o remount,rw / || echo remount-failed; "
                          "echo pwned > /etc/pwned && echo guest-memory-write; "
                          "mkdir -p /tmp/r && mount -t virtiofs -o rw rootfs /tmp/r && "
                          "((echo pwned > /tmp/r/pwned) 2>/dev/null || echo raw-root-refused)")


@pytest.mark.skipif(not shutil.which("runc"), reason="runc (for `runc spec`) not installed")
def test_oci_readonly_root_holds(tmp_path, no_leaks):
    """boxvm-runtime's root.readonly holds against a guest root too: the
    bundle's root on the host stays as it was."""
    from test_oci_runtime import _bundle, _create, _rt
    b, cfg = _bundle(tmp_path, ["sh", "-c", READONLY_BUNDLE_SCRIPT])
    for a in ("mount", "mkdir"):
        if not os.path.exists(b / "rootfs" / "bin" / a):
            os.symlink("busybox", b / "rootfs" / "bin" / a)
    cfg["root"]["readonly"] = True
    del cfg["process"]["capabilities"]  # every capability: a hostile root has them all
    (b / "config.json").write_text(json.dumps(cfg))
    before = sorted(os.listdir(b / "rootfs" / "etc")), sorted(os.listdir(b / "rootfs" / "tmp"))
    root = tmp_path / "state"
    rc, out = _create(no_leaks, root, tmp_path, "--bundle", str(b), "ro")
    assert rc == 0, out
    try:
        assert _rt(no_leaks, root, "start", "ro").returncode == 0
        until(lambda: json.loads(_rt(no_leaks, root, "state", "ro").stdout)["status"] == "stopped",
              "the container to stop (the guest boots and runs the script)")
    finally:
        assert _rt(no_leaks, root, "delete", "--force", "ro").returncode == 0
    out = (tmp_path / "ctr-out").read_bytes().decode()
    assert out == "guest-memory-write\nraw-root-refused\n", out
    assert (sorted(os.listdir(b / "rootfs" / "etc")), sorted(os.listdir(b / "rootfs" / "tmp"))) == before


def test_share_source_swapped_for_a_symlink_is_refused(bx, no_leaks, tmp_path):
    """A guest with a writable share of a parent directory replaces the source
    of another share by a symlink to a host path between two starts: the
    next start refuses it with a one-line error instead of serving that path."""
    data, secret = tmp_path / "data", tmp_path / "secret.txt"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "inside").write_text("sub\n")
    (data / "conf").write_text("conf\n")
    secret.write_text("host secret\n")
    swap = (f"cat /conf /sub/inside; rm /data/conf; ln -s {secret} /data/conf; "
            f"rm -r /data/sub; ln -s {tmp_path} /data/sub; echo swapped")
    box = bx("create", "--network", "none", "-v", f"{data}:/data", "-v", f"{data}/conf:/conf",
             "-v", f"{data}/sub:/sub", "busybox", "sh", "-c", swap, check=0).stdout.decode().strip()
    try:
        assert bx("start", "-a", box, check=0).stdout == b"conf\nsub\nswapped\n"
        p = bx("start", "-a", box)
        err = p.stderr.decode()
        assert p.returncode == 1 and b"host secret" not in p.stdout and b"secret.txt" not in p.stdout, p
        assert "has been replaced by a symlink" in err and err.count("\n") == 1, err
    finally:
        bx("rm", "-f", box, check=0)
    assert secret.read_text() == "host secret\n"
