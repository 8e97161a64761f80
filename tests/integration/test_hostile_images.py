"""Hostile archives, images and guests against the host: `cp` out of a box
whose tar was replaced by root in the guest, crafted image archives (sparse
bombs, missing sizes, huge configs, overlay xattrs). Each must end in a
one-line error (or a dropped attribute) with nothing unsafe on the host and
nothing left behind. Time limits are hang guards only."""
import hashlib
import http.server
import io
import json
import os
import resource
import stat
import subprocess
import tarfile
import threading

import pytest

import ocilayout
from conftest import BOXVM, BUSYBOX_TAR


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


# ---- crafted image archives and registries ----


def _d(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _leftovers(root):
    """What a failed load/pull/run may have left in DATA: temps, staged blobs, box dirs, half-built caches."""
    found = []
    for sub in ("blobs/tmp", "blobs/incoming", "boxes"):
        d = os.path.join(root, sub)
        found += [f"{sub}/{n}" for n in os.listdir(d)] if os.path.isdir(d) else []
    cache = os.path.join(root, "rootfs-cache")
    found += [f"rootfs-cache/{n}" for n in os.listdir(cache) if n.startswith(".tmp")] if os.path.isdir(cache) else []
    return found


@pytest.fixture
def new_leftovers(bx):
    """What this test adds to DATA's temps and staging places. The worker's store is
    shared: an earlier module's failed pull leaves its verified blobs staged on purpose,
    for the next pull to resume from, so only this test's additions count."""
    before = set(_leftovers(bx.root))
    return lambda: sorted(set(_leftovers(bx.root)) - before)


def _one_line_error(p, code, needle):
    err = p.stderr.decode()
    assert p.returncode == code, (p.returncode, err)
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_load_sparse_bomb_writes_nothing(no_leaks, new_leftovers, tmp_path):
    """A small archive with a 1 GiB sparse member nothing references loads under
    a 64 MiB file-size limit: the member is never copied."""
    bx = no_leaks
    layout = tmp_path / "layout"
    layout.mkdir()
    ocilayout.image_tar(str(tmp_path / "plain.tar"), [[{"name": "hello", "data": "hi"}]], name="sparse-bomb:1")
    subprocess.run(["tar", "-xf", str(tmp_path / "plain.tar"), "-C", str(layout)], check=True)
    with open(layout / "hole", "wb") as f:
        f.truncate(1 << 30)
        f.seek((1 << 30) - 1)
        f.write(b"x")
    img = tmp_path / "bomb.tar"
    subprocess.run(["tar", "--sparse", "-cf", str(img), "-C", str(layout), "."], check=True)
    assert os.path.getsize(img) < 1 << 20

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    p = subprocess.run([BOXVM, "load", "-i", str(img)], env=bx.env, capture_output=True, timeout=300,
                       preexec_fn=limit)
    assert p.returncode == 0, p.stderr
    assert b"sparse-bomb:1" in p.stdout
    assert new_leftovers() == []
    bx("rmi", "sparse-bomb:1", check=0)


def _oci_tar(path, manifest, config, blobs, name="crafted:1", index_size=True):
    """An OCI layout tar around a hand-written manifest (dict) and config (bytes)."""
    man = json.dumps(manifest).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _d(man),
            "annotations": {"io.containerd.image.name": name}}
    if index_size:
        desc["size"] = len(man)
    index = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
    members = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": index,
               f"blobs/sha256/{_d(man)[7:]}": man, f"blobs/sha256/{_d(config)[7:]}": config}
    for b in blobs:
        members[f"blobs/sha256/{_d(b)[7:]}"] = b
    with tarfile.open(path, "w") as t:
        for n, data in members.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


def _crafted(layer_size=True, config_size=None):
    layer, diff = ocilayout.layer_tar([{"name": "f", "data": "x"}])
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    ld = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _d(layer)}
    if layer_size:
        ld["size"] = len(layer)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _d(config),
                           "size": config_size if config_size is not None else len(config)},
                "layers": [ld]}
    return manifest, config, layer


def test_load_crafted_archives_fail_cleanly(bx, new_leftovers, tmp_path):
    cases = {
        "nosize": (dict(zip(("manifest", "config", "layer"), _crafted(layer_size=False))), {}, "has no size"),
        "noindexsize": (dict(zip(("manifest", "config", "layer"), _crafted())), {"index_size": False},
                        "without a size"),
        "hugeconfig": (dict(zip(("manifest", "config", "layer"), _crafted(config_size=9 << 20))), {},
                       "more than the 8388608 accepted"),
    }
    for name, (parts, kw, needle) in cases.items():
        path = tmp_path / f"{name}.tar"
        _oci_tar(str(path), parts["manifest"], parts["config"], [parts["layer"]], name=f"{name}:1", **kw)
        p = bx("load", "-i", str(path))
        _one_line_error(p, 1, needle)  # docker load: 1
        assert bx("image", "inspect", f"{name}:1").returncode != 0
        assert new_leftovers() == []


class _StaticRegistry:
    """A registry that serves exactly the documents it is given (plain HTTP on
    127.0.0.1): what a hostile registry can send, which docker-registry would
    refuse to store. Records the paths asked for."""

    def __init__(self, docs):
        self.docs, self.asked = docs, []
        reg = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                reg.asked.append(self.path)
                ct, body = reg.docs.get(self.path, ("application/json", None)) if self.path != "/v2/" else \
                    ("application/json", b"{}")
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", ct)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.host = f"127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_pull_from_a_hostile_registry(bx, new_leftovers, tmp_path):
    docs = {}
    for repo, (manifest, config, layer) in {"nosize": _crafted(layer_size=False),
                                            "hugeconfig": _crafted(config_size=9 << 20)}.items():
        man = json.dumps(manifest).encode()
        docs[f"/v2/{repo}/manifests/latest"] = ("application/vnd.oci.image.manifest.v1+json", man)
        docs[f"/v2/{repo}/blobs/{_d(config)}"] = ("application/octet-stream", config)
        docs[f"/v2/{repo}/blobs/{_d(layer)}"] = ("application/octet-stream", layer)
    # an index whose entry has no size
    man = json.dumps(_crafted()[0]).encode()
    docs["/v2/noidxsize/manifests/latest"] = ("application/vnd.oci.image.index.v1+json", json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _d(man),
                        "platform": {"os": "linux", "architecture": "amd64"}}]}).encode())
    docs[f"/v2/noidxsize/manifests/{_d(man)}"] = ("application/vnd.oci.image.manifest.v1+json", man)
    # an index entry whose manifest the registry swaps for another of the same size
    base = _crafted()[0]
    signed, swapped = (json.dumps(dict(base, annotations={"v": v})).encode() for v in ("a", "b"))
    docs["/v2/swapped/manifests/latest"] = ("application/vnd.oci.image.index.v1+json", json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _d(signed),
                        "size": len(signed), "platform": {"os": "linux", "architecture": "amd64"}}]}).encode())
    docs[f"/v2/swapped/manifests/{_d(signed)}"] = ("application/vnd.oci.image.manifest.v1+json", swapped)
    # a manifest of more than 4 MiB
    docs["/v2/hugemanifest/manifests/latest"] = ("application/vnd.oci.image.manifest.v1+json",
                                                 b'{"pad":"' + b"x" * (5 << 20) + b'"}')
    reg = _StaticRegistry(docs)
    try:
        for repo, needle in (("nosize", "has no size"), ("hugeconfig", "more than the 8388608 accepted"),
                             ("noidxsize", "has no size"), ("swapped", "failed verification"),
                             ("hugemanifest", "too large")):
            reg.asked.clear()
            p = bx("pull", f"{reg.host}/{repo}")
            _one_line_error(p, 1, needle)  # docker pull: 1
            assert not [a for a in reg.asked if "/blobs/" in a], reg.asked  # refused before any download
            assert new_leftovers() == []
            assert bx("image", "inspect", f"{reg.host}/{repo}").returncode != 0
    finally:
        reg.stop()


def test_overlay_metadata_from_an_image_never_lands(no_leaks, tmp_path):
    """trusted.overlay.* xattrs and a 0:0 character device (overlayfs's own
    whiteout) in a layer: the xattrs are dropped, the device is applied as the
    OCI whiteout it would act as, and the shared cache holds neither."""
    bx = no_leaks
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("d")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        d.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y",
                         "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                         "SCHILY.xattr.user.kept": "k"}
        t.addfile(d)
        wh = tarfile.TarInfo("etc/motd-gone")
        wh.type, wh.devmajor, wh.devminor = tarfile.CHRTYPE, 0, 0
        t.addfile(wh)
        f = tarfile.TarInfo("d/new")
        f.size = 1
        t.addfile(f, io.BytesIO(b"n"))
    top = raw.getvalue()
    img = tmp_path / "ovl.tar"
    bb = _busybox_layers()
    lower, lower_diff = ocilayout.layer_tar([{"name": "etc/motd-gone", "data": "lower"}, {"name": "d", "type": "dir"},
                                             {"name": "d/old", "data": "o"}])
    ocilayout.image_tar(str(img), [], name="overlay-meta:1",
                        base_layers=bb + [(lower, lower_diff), (top, _d(top))])
    bx("load", "-i", str(img), check=0)
    p = bx("run", "--rm", "--network", "none", "overlay-meta:1", "sh", "-c",
           "ls /d; test -e /etc/motd-gone && echo motd-present; echo done", check=0)
    assert p.stdout.decode().split() == ["new", "old", "done"], p.stdout
    caches = [os.path.join(bx.root, "rootfs-cache", n) for n in os.listdir(os.path.join(bx.root, "rootfs-cache"))
              if not n.endswith(".lock") and not n.startswith(".")]
    found = False
    for c in caches:
        d = os.path.join(c, "d")
        if not os.path.isdir(d):
            continue
        found = True
        assert not [a for a in os.listxattr(d) if a.startswith("trusted.")], os.listxattr(d)
        assert not os.path.lexists(os.path.join(c, "etc", "motd-gone"))
        for root, dirs, files in os.walk(c):
            for n in files:
                st = os.lstat(os.path.join(root, n))
                assert not (stat.S_ISCHR(st.st_mode) and st.st_rdev == 0), os.path.join(root, n)
    assert found
    bx("rmi", "overlay-meta:1", check=0)


def _busybox_layers():
    """[(blob, diff_id)] of the sample busybox image (a docker-save or OCI tar)."""
    with tarfile.open(BUSYBOX_TAR) as t:
        names = t.getnames()
        if "index.json" in names:
            index = json.load(t.extractfile("index.json"))
            man = json.load(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
            cfg = json.load(t.extractfile("blobs/sha256/" + man["config"]["digest"][7:]))
            return [(t.extractfile("blobs/sha256/" + l["digest"][7:]).read(), cfg["rootfs"]["diff_ids"][i])
                    for i, l in enumerate(man["layers"])]
        man = json.load(t.extractfile("manifest.json"))[0]
        cfg = json.load(t.extractfile(man["Config"]))
        return [(t.extractfile(l).read(), cfg["rootfs"]["diff_ids"][i]) for i, l in enumerate(man["Layers"])]


def test_layer_over_the_ceiling_fails_run_cleanly(no_leaks, new_leftovers, tmp_path):
    bx = no_leaks
    img = tmp_path / "big.tar"
    ocilayout.image_tar(str(img), [[{"name": "big", "data": b"\0" * (256 << 10)}]], name="ceiling:1",
                        base_layers=_busybox_layers())
    bx("load", "-i", str(img), check=0)
    p = bx("run", "--rm", "--network", "none", "ceiling:1", "true", env={"BOXVM_MAX_LAYER_SIZE": "128k"})
    _one_line_error(p, 125, "BOXVM_MAX_LAYER_SIZE")
    assert new_leftovers() == []
    assert bx("run", "--rm", "--network", "none", "ceiling:1", "true").returncode == 0
    bx("rmi", "ceiling:1", check=0)
