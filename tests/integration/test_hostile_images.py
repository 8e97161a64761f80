"""Hostile archives, images and guests against the host: `cp` out of a box
whose tar was replaced by root in the guest, crafted image archives (sparse
bombs, missing sizes, huge configs, overlay xattrs). Each must end in a
one-line error (or a dropped attribute) with nothing unsafe on the host and
nothing left behind. Time limits are hang guards only."""
import io
import os
import stat
import tarfile

import pytest


def _tar(entries):
    """A tar from (name, kind, extra) tuples, made as a hostile guest would."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, extra in entries:
            ti = tarfile.TarInfo(name)
            ti.uid = ti.gid = 0
            data = None
            if kind == "file":
                data = extra.get("data", b"x")
                ti.size = len(data)
                ti.mode = extra.get("mode", 0o644)
            elif kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, extra.get("mode", 0o755)
            elif kind == "chr":
                ti.type, ti.mode, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 0o666, 1, 3
            elif kind == "fifo":
                ti.type, ti.mode = tarfile.FIFOTYPE, 0o666
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, extra["target"]
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, extra["target"]
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


@pytest.fixture
def lying_tar_box(no_leaks, tmp_path):
    """A box whose root (see _plant) controls the tar stream `boxvm cp BOX:SRC DEST` unpacks."""
    bx = no_leaks
    p = bx("run", "-d", "--rm", "--network", "none", "busybox", "sleep", "3600", check=0)
    ref = p.stdout.decode().strip()
    yield bx, ref
    bx("rm", "-f", ref, check=0)


def _plant(bx, ref, tmp_path, tars):
    """Copy the crafted tars into the box (with its real tar), then put a `sh`
    first in PATH that ignores the script it is given and prints /t/NAME.tar,
    NAME being the path cp asked for (busybox's sh runs its own tar applet
    whatever /bin/tar is, so the shell is what the guest's root replaces)."""
    bx("exec", ref, "mkdir", "-p", "/t", "/usr/local/bin", check=0)
    for name, data in tars.items():
        f = tmp_path / f"{name}.tar"
        f.write_bytes(data)
        bx("exec", ref, "mkdir", f"/{name}", check=0)
        bx("cp", str(f), f"{ref}:/t/{name}.tar", check=0)
    fake = tmp_path / "sh"
    fake.write_text('#!/bin/busybox sh\n# argv: -c SCRIPT sh DIR NAME\nexec /bin/busybox cat "/t/$5.tar"\n')
    bx("cp", str(fake), f"{ref}:/usr/local/bin/sh", check=0)
    bx("exec", ref, "/bin/busybox", "chmod", "755", "/usr/local/bin/sh", check=0)


def _walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def test_cp_out_of_a_hostile_box(lying_tar_box, tmp_path):
    bx, ref = lying_tar_box
    outside = tmp_path / "outside"
    outside.mkdir()
    passwd_links = os.stat("/etc/passwd").st_nlink
    tars = {
        # dangerous bits on otherwise plain content: dropped or skipped, the rest copied
        "bits": _tar([("bits", "dir", {"mode": 0o2755}),
                      ("bits/suid", "file", {"data": b"#!/bin/sh\nid\n", "mode": 0o4755}),
                      ("bits/null", "chr", {}), ("bits/fifo", "fifo", {}),
                      ("bits/plain", "file", {"data": b"plain"})]),
        # ways out of DEST: each refuses the whole copy
        "dotdot": _tar([("dotdot", "dir", {}), ("../escape", "file", {})]),
        "abs": _tar([("abs", "dir", {}), (str(outside / "abs-evil"), "file", {})]),
        "via_symlink": _tar([("via_symlink", "dir", {}), ("via_symlink/etc", "symlink", {"target": str(outside)}),
                             ("via_symlink/etc/evil", "file", {})]),
        "hardlink": _tar([("hardlink", "dir", {}), ("hardlink/pw", "hardlink", {"target": "/etc/passwd"})]),
    }
    _plant(bx, ref, tmp_path, tars)

    dest = tmp_path / "dest"
    dest.mkdir()
    p = bx("cp", f"{ref}:/bits", str(dest))
    assert p.returncode == 0, p.stderr
    got = _walk(dest)
    assert sorted(got) == ["bits", "bits/plain", "bits/suid"], got
    for name, st in got.items():
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID), (name, oct(st.st_mode))
        assert st.st_uid == os.geteuid()
    assert (dest / "bits" / "plain").read_bytes() == b"plain"
    warnings = p.stderr.decode().splitlines()
    assert any("skipping character device 'bits/null'" in w for w in warnings), warnings
    assert any("skipping FIFO 'bits/fifo'" in w for w in warnings), warnings

    for name in ("dotdot", "abs", "via_symlink", "hardlink"):
        d = tmp_path / f"dest-{name}"
        d.mkdir()
        p = bx("cp", f"{ref}:/{name}", str(d))
        assert p.returncode != 0, (name, p.stderr)
        lines = p.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and "unsafe" in lines[0], (name, lines)
        assert os.listdir(d) == [], (name, os.listdir(d))  # nothing half-copied, no temp dir left
    assert os.listdir(outside) == []
    assert not (tmp_path / "escape").exists()
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["outside", "dest"] + [f"dest-{n}" for n in ("dotdot", "abs", "via_symlink", "hardlink")] +
        [f"{n}.tar" for n in tars] + ["sh"])
    assert os.stat("/etc/passwd").st_nlink == passwd_links
