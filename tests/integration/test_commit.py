"""Image authoring from boxes (issue 15): diff, commit, export/import,
history. Expected `diff` lines are Docker's (overlay2 rules: upper dir walk
order, a parent listed before an addition or deletion under it); the
committed image's config follows `docker commit` of the same run
(docker-ref, Docker 20.10). The box's upper dir is guest-written: symlinks
out, fifos, sockets, newline names and very deep trees must be read without
being followed or crashing the host side."""
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from apisvc import api  # noqa: F401 (the module's Engine API service)
from conftest import HANG_GUARD, until

DOCKER_REF = os.environ.get("DOCKER_REF", "/work/shared/tools/docker-ref")

# the same steps docker-ref ran (`docker run --name c busybox sh -c STEPS; docker diff c`)
STEPS = ("touch /new; rm /etc/passwd; mkdir -p /a/b; echo y > /a/b/c; rm -rf /home; "
         "mkfifo /fifo; ln -s /etc/shadow /lnk; echo q >> /etc/group")
# Docker with overlay2 walks the upper dir (sorted, parents first); vfs lists
# the same set in map order. /etc is listed once, before its children.
DIFF = ["A /a", "A /a/b", "A /a/b/c", "C /etc", "C /etc/group", "D /etc/passwd", "A /fifo", "D /home",
        "A /lnk", "A /new"]


def out(p):
    return p.stdout.decode()


@pytest.fixture(scope="module")
def src(bx):
    """A stopped box with known changes (the module's tests only read it)."""
    bx("rm", "-f", "cm-src")
    bx("run", "--name", "cm-src", "-e", "X=1", "-w", "/tmp", "busybox", "sh", "-c", STEPS, check=0)
    yield "cm-src"
    bx("rm", "-f", "cm-src")


def inspect_image(bx, ref):
    return json.loads(out(bx("image", "inspect", ref, check=0)))[0]


def layer_members(bx, image):
    """The members of the image's top layer blob, read from the store."""
    img = inspect_image(bx, image)
    manifest = None
    with open(os.path.join(bx.root, "images.json")) as f:
        names = json.load(f)["images"]
    for digest in set(names.values()):
        with open(os.path.join(bx.root, "blobs", "sha256", digest[7:]), "rb") as f:
            m = json.load(f)
        if m["config"]["digest"] == img["Id"]:
            manifest = m
    assert manifest, "the committed image's manifest is not in the index"
    top = manifest["layers"][-1]
    assert top["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    with open(os.path.join(bx.root, "blobs", "sha256", top["digest"][7:]), "rb") as f:
        raw = gzip.decompress(f.read())
    with open(os.path.join(bx.root, "blobs", "sha256", img["Id"][7:]), "rb") as f:
        cfg = json.load(f)
    import hashlib
    assert cfg["rootfs"]["diff_ids"][-1] == "sha256:" + hashlib.sha256(raw).hexdigest()
    return {m.name: m for m in tarfile.open(fileobj=io.BytesIO(raw)).getmembers()}


def test_diff_lists_added_changed_and_deleted_paths_as_docker(bx, src):
    p = bx("diff", src, check=0)
    assert out(p).splitlines() == DIFF


def test_diff_of_an_unchanged_box_is_empty_and_unknown_box_fails(bx, src):
    # the agent's /etc/hosts, hostname and resolv.conf are Docker's bind mounts: never changes
    bx("rm", "-f", "cm-quiet")
    bx("run", "--name", "cm-quiet", "busybox", "true", check=0)
    assert out(bx("diff", "cm-quiet", check=0)) == ""
    bx("rm", "-f", "cm-quiet", check=0)
    p = bx("diff", "cm-nope")
    assert p.returncode == 1 and b"no such box" in p.stderr


def test_commit_then_run_the_committed_image(bx, src):
    p = bx("commit", "-m", "my message", "-a", "me <me@x>", "-c", 'CMD ["cat", "/a/b/c"]', "-c", "ENV Y=2",
           "-c", "EXPOSE 80 53/udp", "-c", 'LABEL a=b "c d"="e f"', "-c", "WORKDIR sub", "-c", "VOLUME /v1",
           "-c", "USER nobody", src, "cm-img:1", check=0)
    image_id = out(p).strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    img = inspect_image(bx, "cm-img:1")
    assert img["Id"] == image_id
    assert img["Comment"] == "my message" and img["Author"] == "me <me@x>"
    c = img["Config"]
    # docker-ref: the box's Env, then the -c change; the box's -w, -c WORKDIR relative to it
    assert c["Env"] == ["X=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Y=2"]
    assert c["Cmd"] == ["cat", "/a/b/c"]
    assert c["Entrypoint"] is None
    assert c["WorkingDir"] == "/tmp/sub"
    assert c["User"] == "nobody"
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert c["Labels"] == {"a": "b", "c d": "e f"}
    assert c["Volumes"] == {"/v1": {}}
    # the layer: the deletions are OCI whiteouts, the agent's /etc files are not in it
    members = layer_members(bx, "cm-img:1")
    assert "etc/.wh.passwd" in members and ".wh.home" in members
    assert members["a/b/c"].isfile() and members["fifo"].isfifo()
    assert members["lnk"].issym() and members["lnk"].linkname == "/etc/shadow"
    assert "etc/hosts" not in members and "etc/hostname" not in members and "etc/resolv.conf" not in members
    run = bx("run", "--rm", "-u", "0", "cm-img:1", check=0)
    assert out(run) == "y\n"
    run = bx("run", "--rm", "-u", "0", "cm-img:1", "sh", "-c",
             'echo $X $Y; pwd; ls /etc/passwd /home 2>&1; cat /etc/group | tail -1', check=0)
    lines = out(run).splitlines()
    assert lines[0] == "1 2" and lines[1] == "/tmp/sub"
    assert "No such file or directory" in lines[2] and "No such file or directory" in lines[3]
    assert lines[4] == "q"


def test_history_of_a_committed_image(bx, src):
    bx("commit", "-m", "hist", src, "cm-hist", check=0)
    p = bx("history", "cm-hist", check=0)
    lines = out(p).splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    busybox = inspect_image(bx, "busybox")["Id"][7:19]
    own = inspect_image(bx, "cm-hist")["Id"][7:19]
    assert lines[1].startswith(own + "   ") and lines[1].endswith("hist")
    # created_by is the box's command, cut at 45 characters with an ellipsis
    full = "sh -c " + STEPS
    assert (full[:44] + "…") in lines[1]
    assert lines[2].startswith(busybox + "   ")  # the parent, known here
    assert len(lines) == 3
    assert out(bx("history", "-q", "cm-hist", check=0)).split() == [own, busybox]
    nt = out(bx("history", "--no-trunc", "cm-hist", check=0))
    assert full in nt and inspect_image(bx, "cm-hist")["Id"] in nt
    rows = [json.loads(line) for line in out(bx("history", "--format", "json", "cm-hist", check=0)).splitlines()]
    assert rows[0]["Comment"] == "hist" and rows[0]["ID"] == own and rows[0]["CreatedBy"] == full[:44] + "…"
    raw = out(bx("history", "--human=false", "--format", "{{.CreatedAt}}|{{.Size}}", "cm-hist", check=0))
    assert raw.splitlines()[0].endswith("Z|" + raw.splitlines()[0].split("|")[1]) and raw.splitlines()[0].split("|")[1].isdigit()


def test_commit_change_errors_are_docker_s_and_leave_nothing(bx, src):
    before = out(bx("images", "-q", check=0))
    for change, msg in (("STOPSIGNAL 9", b"stopsignal is not a valid change command"),
                        ("FOO bar", b"foo is not a valid change command"),
                        ("EXPOSE 99999", b"EXPOSE: invalid port")):
        p = bx("commit", "-c", change, src, "cm-bad")
        assert p.returncode == 1 and msg in p.stderr and p.stderr.count(b"\n") == 1, p.stderr
    assert out(bx("images", "-q", check=0)) == before
    tmp = os.path.join(bx.root, "blobs", "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


def test_export_import_round_trip(bx, src, tmp_path):
    tar = tmp_path / "fs.tar"
    bx("export", "-o", str(tar), src, check=0)
    with tarfile.open(tar) as t:
        names = {m.name: m for m in t.getmembers()}
    assert names["new"].isfile() and names["a/b/c"].isfile() and "bin/busybox" in names
    assert "etc/passwd" not in names and "home" not in names and not any(".wh." in n for n in names)
    # stdout, and Docker's refusal of a terminal
    p = bx("export", src, check=0)
    assert p.stdout == tar.read_bytes()
    script = subprocess.run(["script", "-qec", f"{os.environ.get('BOXVM_BUILD', '')}/boxvm export {src}", "/dev/null"],
                            capture_output=True, env=bx.env, timeout=HANG_GUARD)
    assert b"cowardly refusing to save to a terminal. Use the -o flag or redirect" in script.stdout
    iid = out(bx("import", "-m", "imp", "-c", 'CMD ["cat", "/a/b/c"]', str(tar), "cm-imp:1", check=0)).strip()
    assert iid.startswith("sha256:")
    img = inspect_image(bx, "cm-imp:1")
    assert img["Config"]["Cmd"] == ["cat", "/a/b/c"] and len(img["RootFS"]["Layers"]) == 1
    assert out(bx("run", "--rm", "cm-imp:1", check=0)) == "y\n"
    # from stdin: Docker's comment for it
    bx("import", "-", "cm-imp:2", input=tar.read_bytes(), check=0)
    assert "Imported from -" in out(bx("history", "cm-imp:2", check=0))
    p = bx("import", "http://example.invalid/x.tar")
    assert p.returncode == 1 and b"URL is not supported" in p.stderr
    p = bx("import", str(tmp_path / "missing.tar"))
    assert p.returncode == 1 and b"cannot open" in p.stderr


def test_commit_of_a_running_box_pauses_it_and_it_keeps_running(bx, tmp_path):
    bx("rm", "-f", "cm-live")
    bx("run", "-d", "--name", "cm-live", "busybox", "sh", "-c",
       "echo up > /live; while true; do date > /tick; sleep 0.2; done", check=0)
    until(lambda: "A /live" in out(bx("diff", "cm-live")), "the box's first write")
    since = out(bx("events", "--since", "0", "--until", "0s", "--format", "{{.Time}}", check=0)).split()
    start = since[-1] if since else "0"
    iid = out(bx("commit", "cm-live", "cm-live-img", check=0)).strip()
    ev = out(bx("events", "--since", start, "--until", "0s", "--filter", "container=cm-live",
                "--format", "{{.Action}}", check=0)).split()
    assert ev[-3:] == ["pause", "unpause", "commit"], ev
    st = json.loads(out(bx("inspect", "cm-live", check=0)))[0]["State"]
    assert st["Status"] == "running" and not st["Paused"]
    # -p=false: no pause
    bx("commit", "--pause=false", "cm-live", "cm-live-img2", check=0)
    ev = out(bx("events", "--since", start, "--until", "0s", "--filter", "container=cm-live",
                "--format", "{{.Action}}", check=0)).split()
    assert ev[-4:] == ["pause", "unpause", "commit", "commit"], ev
    # export reads a running box's merged root on the host (not paused: Docker's export does not pause)
    with tarfile.open(fileobj=io.BytesIO(bx("export", "cm-live", check=0).stdout)) as t:
        assert "live" in t.getnames() and "bin/busybox" in t.getnames()
    bx("rm", "-f", "cm-live", check=0)
    assert out(bx("run", "--rm", "cm-live-img", "cat", "/live", check=0)) == "up\n"
    assert iid == inspect_image(bx, "cm-live-img")["Id"]


def test_hostile_upper_dir_is_read_without_following_anything(bx, tmp_path):
    """Symlinks out of the root (to the host's view of / and to a path that
    exists only on the host), a fifo, a socket and a name with a newline:
    a layer of symlink and fifo entries, the socket skipped, nothing read
    through a link."""
    marker = tmp_path / "host-secret"
    marker.write_text("HOST SECRET\n")
    bx("rm", "-f", "cm-hostile")
    bx("run", "--privileged", "--name", "cm-hostile", "busybox", "sh", "-c",
       f"ln -s / /rootlink; ln -s {marker} /secret; ln -s ../../../../../../{marker} /etc/rel; "
       "mkfifo /fifo2; nc -lU /sock & sleep 0.5; kill $!; "
       "mkdir -p '/new\nline'; echo n > '/new\nline/f'", check=0)
    p = bx("diff", "cm-hostile", check=0)
    assert "A /new\nline" in out(p) and "A /rootlink" in out(p)
    bx("commit", "cm-hostile", "cm-hostile-img", check=0)
    members = layer_members(bx, "cm-hostile-img")
    assert members["rootlink"].issym() and members["rootlink"].linkname == "/"
    assert members["secret"].issym() and members["secret"].linkname == str(marker)
    assert members["etc/rel"].issym()
    assert members["fifo2"].isfifo() and "sock" not in members
    assert members["new\nline/f"].isfile()
    assert not any(m.isfile() and m.size == len("HOST SECRET\n") for n, m in members.items() if "secret" in n)
    exp = bx("export", "cm-hostile", check=0).stdout
    with tarfile.open(fileobj=io.BytesIO(exp)) as t:
        assert t.getmember("secret").issym() and t.getmember("rootlink").issym()
    bx("rm", "-f", "cm-hostile", check=0)


def test_too_deep_or_whiteout_named_trees_are_refused_clearly(bx):
    bx("rm", "-f", "cm-deep")
    bx("run", "--name", "cm-deep", "busybox", "sh", "-c",
       "i=0; while [ $i -lt 300 ]; do mkdir d; cd d; i=$((i+1)); done", check=0)
    try:
        for args in (("diff", "cm-deep"), ("commit", "cm-deep", "cm-deep-img")):
            p = bx(*args)
            assert p.returncode == 1 and b"too deep" in p.stderr and p.stderr.count(b"\n") == 1, p.stderr
    finally:
        bx("rm", "-f", "cm-deep", check=0)
    bx("rm", "-f", "cm-wh")
    bx("run", "--name", "cm-wh", "busybox", "touch", "/.wh.sneaky", check=0)
    try:
        p = bx("commit", "cm-wh", "cm-wh-img")
        assert p.returncode == 1 and b'".wh."' in p.stderr and p.stderr.count(b"\n") == 1, p.stderr
        # Docker's diff reads such a name as a deletion
        assert out(bx("diff", "cm-wh", check=0)).splitlines() == ["D /sneaky"]
    finally:
        bx("rm", "-f", "cm-wh", check=0)
    assert bx("image", "inspect", "cm-wh-img").returncode == 1


def test_untagged_commit_lists_as_none_and_rmi_deletes_it(bx, src):
    iid = out(bx("commit", src, check=0)).strip()
    rows = [line.split() for line in out(bx("images", check=0)).splitlines()]
    assert ["<none>", "<none>", iid[7:19]] in [r[:3] for r in rows]
    img = inspect_image(bx, iid)
    assert img["RepoTags"] == [] and img["RepoDigests"] == []
    assert img["Parent"] == inspect_image(bx, "busybox")["Id"]
    assert out(bx("rmi", iid, check=0)) == f"Deleted: {iid}\n"
    assert iid[7:19] not in out(bx("images", "-q", check=0))
    # a tag committed again moves; the image it left stays, untagged (Docker's dangling image)
    first = out(bx("commit", src, "cm-twice", check=0)).strip()
    second = out(bx("commit", src, "cm-twice", check=0)).strip()
    assert first != second and inspect_image(bx, "cm-twice")["Id"] == second
    rows = [line.split()[:3] for line in out(bx("images", check=0)).splitlines()]
    assert ["<none>", "<none>", first[7:19]] in rows and ["cm-twice", "latest", second[7:19]] in rows
    # (the worker's store is shared: prune may delete other modules' dangling images too)
    pruned = out(bx("image", "prune", "-f", check=0)).splitlines()
    assert pruned[0] == "Deleted Images:" and f"deleted: {first}" in pruned


def test_a_box_without_overlay_is_compared_with_its_image(bx, tmp_path):
    """BOXVM_NO_OVERLAY=1: the box's root is a private copy; diff and commit
    compare it with the image's tree and give what an upper dir would."""
    bx("rm", "-f", "cm-noovl")
    bx("run", "--name", "cm-noovl", "busybox", "sh", "-c", "touch /x; rm /etc/passwd; echo q >> /etc/group",
       env={"BOXVM_NO_OVERLAY": "1"}, check=0)
    try:
        assert out(bx("diff", "cm-noovl", check=0)).splitlines() == ["C /etc", "C /etc/group", "D /etc/passwd", "A /x"]
        bx("commit", "cm-noovl", "cm-noovl-img", check=0)
        members = layer_members(bx, "cm-noovl-img")
        assert set(members) == {"etc", "etc/group", "etc/.wh.passwd", "x"}, sorted(members)
        bx("export", "-o", str(tmp_path / "n.tar"), "cm-noovl", check=0)
        with tarfile.open(tmp_path / "n.tar") as t:
            assert "x" in t.getnames() and "bin/busybox" in t.getnames()
    finally:
        bx("rm", "-f", "cm-noovl", check=0)


@pytest.mark.skipif(not os.path.exists(DOCKER_REF), reason="docker-ref (a real Docker) is not on this machine")
def test_saved_commit_loads_and_runs_in_docker(bx, src, tmp_path):
    bx("commit", "-c", 'CMD ["cat", "/a/b/c"]', src, "cm-docker:1", check=0)
    tar = tmp_path / "img.tar"
    bx("save", "-o", str(tar), "cm-docker:1", check=0)
    subprocess.run([DOCKER_REF, "rmi", "-f", "cm-docker:1"], capture_output=True, timeout=HANG_GUARD)
    p = subprocess.run([DOCKER_REF, "load", "-i", str(tar)], capture_output=True, timeout=HANG_GUARD)
    assert p.returncode == 0 and b"Loaded image: cm-docker:1" in p.stdout, p.stderr
    p = subprocess.run([DOCKER_REF, "run", "--rm", "--network", "none", "cm-docker:1"], capture_output=True,
                       timeout=HANG_GUARD)
    assert p.returncode == 0 and p.stdout == b"y\n", p.stderr
    p = subprocess.run([DOCKER_REF, "run", "--rm", "--network", "none", "cm-docker:1", "ls", "/etc/passwd"],
                       capture_output=True, timeout=HANG_GUARD)
    assert p.returncode != 0 and b"No such file" in p.stderr
    subprocess.run([DOCKER_REF, "rmi", "-f", "cm-docker:1"], capture_output=True, timeout=HANG_GUARD)


def test_engine_api_diff_commit_export_through_the_docker_client(api, bx, src, tmp_path):
    """docker diff / commit / export against `boxvm system service`: the same
    store calls as the CLI (GET /containers/ID/changes, POST /commit, GET
    /containers/ID/export)."""
    assert api("diff", src, check=0).stdout.splitlines() == DIFF
    status, _, body = api.raw("GET", f"/v1.41/containers/{src}/changes")
    assert status == 200 and json.loads(body)[:2] == [{"Path": "/a", "Kind": 1}, {"Path": "/a/b", "Kind": 1}]
    assert {"Path": "/etc/passwd", "Kind": 2} in json.loads(body) and {"Path": "/etc", "Kind": 0} in json.loads(body)
    # a box never started has no changes: Docker's null
    bx("create", "--name", "cm-fresh", "busybox", check=0)
    status, _, body = api.raw("GET", "/v1.41/containers/cm-fresh/changes")
    assert (status, body) == (200, b"null\n")
    bx("rm", "cm-fresh", check=0)
    status, _, body = api.raw("GET", "/v1.41/containers/cm-nope/changes")
    assert status == 404 and b"No such container: cm-nope" in body
    iid = api("commit", "-m", "via api", "-c", "ENV Z=3", "-c", 'CMD ["cat", "/new"]', src, "cm-api:1",
              check=0).stdout.strip()
    img = inspect_image(bx, "cm-api:1")
    assert iid == img["Id"] and img["Comment"] == "via api"
    assert img["Config"]["Env"][-1] == "Z=3" and img["Config"]["Cmd"] == ["cat", "/new"]
    p = api("commit", "-c", "STOPSIGNAL 9", src)
    assert p.returncode == 1 and "stopsignal is not a valid change command" in p.stderr
    p = api("commit", "cm-nope")
    assert p.returncode == 1 and "No such container: cm-nope" in p.stderr
    api("export", "-o", str(tmp_path / "e.tar"), src, check=0)
    with tarfile.open(tmp_path / "e.tar") as t:
        names = t.getnames()
    assert "new" in names and "a/b/c" in names and "etc/passwd" not in names
    # docker import: the body spooled, the same store function as `boxvm import`
    iid = api("import", "-m", "api import", "-c", 'CMD ["cat", "/a/b/c"]', str(tmp_path / "e.tar"), "cm-apiimp:1",
              check=0).stdout.strip()
    img = inspect_image(bx, "cm-apiimp:1")
    assert iid == img["Id"] and img["Config"]["Cmd"] == ["cat", "/a/b/c"] and len(img["RootFS"]["Layers"]) == 1
    assert "api import" in out(bx("history", "cm-apiimp:1", check=0))
    p = api("import", "http://example.invalid/x.tar")
    assert p.returncode == 1 and "URL is not supported" in p.stderr
