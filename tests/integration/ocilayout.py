"""Builds small OCI image-layout tars for tests (reproducibly, in Python).

Used for images whose shape matters to a test (malicious layers, whiteouts,
configs with Entrypoint/User...). The sample busybox image itself comes from
scripts/make-busybox-image.sh."""
import gzip
import hashlib
import io
import json
import subprocess
import tarfile


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def zstd_compress(data):
    """zstd-compress with the zstd tool (Python 3.11 has no zstd module)."""
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def layer_media_type(blob):
    """The OCI layer media type of a blob, from its magic bytes."""
    if blob[:2] == b"\x1f\x8b":
        return "application/vnd.oci.image.layer.v1.tar+gzip"
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return "application/vnd.oci.image.layer.v1.tar+zstd"
    return "application/vnd.oci.image.layer.v1.tar"


def layer_tar(entries, compress=True):
    """entries: list of dicts {name, type: file|dir|symlink|hardlink, data, target, mode, uid, gid}.
    compress: True or "gzip", "zstd", or False (a plain tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mtime = 0
            ti.uid = e.get("uid", 0)
            ti.gid = e.get("gid", 0)
            kind = e.get("type", "file")
            data = None
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = e.get("mode", 0o755)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e["target"]
                ti.mode = 0o777
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e["target"]
            else:
                data = e.get("data", b"")
                if isinstance(data, str):
                    data = data.encode()
                ti.size = len(data)
                ti.mode = e.get("mode", 0o644)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    diff = raw.getvalue()
    if compress == "zstd":
        blob = zstd_compress(diff)
    else:
        blob = gzip.compress(diff, mtime=0) if compress else diff
    return blob, _digest(diff)


def image_tar(path, layers, config=None, name="test:latest", base_layers=(), compress=True, created=None):
    """Write an OCI layout tar at path. layers: list of entry lists (applied in order)
    after base_layers (list of (blob, diff_id) already built); compress as in layer_tar.
    Each layer's media type follows its blob (gzip, zstd or a plain tar). created: the
    config's RFC 3339 creation time (none by default)."""
    blobs = {}
    manifest_layers = []
    diff_ids = []
    for blob, diff_id in list(base_layers) + [layer_tar(l, compress) for l in layers]:
        d = _digest(blob)
        blobs[d] = blob
        manifest_layers.append({"mediaType": layer_media_type(blob), "digest": d, "size": len(blob)})
        diff_ids.append(diff_id)
    cfg = {"architecture": "amd64", "os": "linux", "config": config or {},
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if created:
        cfg["created"] = created
    cfg_blob = json.dumps(cfg, sort_keys=True).encode()
    cfg_d = _digest(cfg_blob)
    blobs[cfg_d] = cfg_blob
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": cfg_d, "size": len(cfg_blob)},
                "layers": manifest_layers}
    man_blob = json.dumps(manifest, sort_keys=True).encode()
    man_d = _digest(man_blob)
    blobs[man_d] = man_blob
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_d, "size": len(man_blob),
        "annotations": {"io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]}
    with tarfile.open(path, "w") as t:
        def add(n, data):
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
        for d, b in blobs.items():
            add("blobs/sha256/" + d.split(":")[1], b)
    return path


def docker_save_tar(path, layer_blobs, config=None, repotag="saved:latest"):
    """Write a `docker save`-style tar: manifest.json, <config>.json, <n>/layer.tar
    (uncompressed, as Docker writes them). layer_blobs: list of (blob, diff_id)."""
    layer_files = []
    diff_ids = []
    files = {}
    for i, (blob, diff_id) in enumerate(layer_blobs):
        raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        name = f"{i:064x}/layer.tar"
        files[name] = raw
        layer_files.append(name)
        diff_ids.append(diff_id)
    cfg = {"architecture": "amd64", "os": "linux", "config": config or {},
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg_blob = json.dumps(cfg, sort_keys=True).encode()
    cfg_name = hashlib.sha256(cfg_blob).hexdigest() + ".json"
    files[cfg_name] = cfg_blob
    files["manifest.json"] = json.dumps([{"Config": cfg_name, "RepoTags": [repotag],
                                          "Layers": layer_files}]).encode()
    with tarfile.open(path, "w") as t:
        for n, data in files.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return path
