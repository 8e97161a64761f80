"""boxvm build (issue 15): a Dockerfile's steps as a sequence of commits,
each RUN in its own microVM, COPY/ADD made on the host from the context,
the build cache, Docker's classic-builder output and messages (docker-ref,
Docker 20.10), and a Dockerfile from an untrusted repository kept inside its
context. Every RUN is a boot: the file holds few of them."""
import json
import os
import shutil
import subprocess
import tarfile
import time

import pytest

from apisvc import DOCKER, api  # noqa: F401 (the module's service fixture)
from conftest import HANG_GUARD

DOCKER_REF = os.environ.get("DOCKER_REF", "/work/shared/tools/docker-ref")

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE}
ARG WHO=world
ENV GREETING=hello \\
    PLACE=box
WORKDIR /app
COPY file.txt ./
COPY dir /data/
RUN echo "$GREETING $WHO from $PLACE" > /app/made.txt
SHELL ["/bin/sh", "-ec"]
RUN ["/bin/sh", "-c", "echo exec form > /app/exec.txt"]
ADD archive.tar.gz /opt/
ONBUILD RUN echo built on top
USER nobody
EXPOSE 8080/tcp 53/udp
LABEL org.example.kind=test "with space"="a b"
VOLUME ["/vol"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/made.txt /app/file.txt /data/a /data/sub/b; ls /data"]
"""
STEPS = 20  # instructions above, the ARG before FROM included


def out(p):
    return p.stdout.decode()


def make_context(path):
    os.makedirs(path / "dir" / "sub")
    (path / "Dockerfile").write_text(DOCKERFILE)
    (path / "file.txt").write_text("copied file\n")
    (path / "dir" / "a").write_text("a\n")
    (path / "dir" / "sub" / "b").write_text("b\n")
    (path / "dir" / "secret.key").write_text("never in the image\n")
    (path / ".dockerignore").write_text("# keys stay home\n**/*.key\n")
    with tarfile.open(path / "archive.tar.gz", "w:gz") as t:
        data = b"from a local tar\n"
        info = tarfile.TarInfo("top/in.txt")
        info.size = len(data)
        t.addfile(info, __import__("io").BytesIO(data))
    return path


def inspect(bx, ref):
    return json.loads(out(bx("image", "inspect", ref, check=0)))[0]


def creates_since(bx, since):
    """IDs of boxes created since `since` (events log)."""
    return out(bx("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "event=create",
                  "--format", "{{.ID}}", check=0)).split()


@pytest.fixture(scope="module")
def built(bx, tmp_path_factory):
    """The Dockerfile above built once (the module's tests read it or build
    again on top of its cache)."""
    ctx = make_context(tmp_path_factory.mktemp("ctx") / "c")
    p = bx("build", "-t", "bt:1", "--build-arg", "WHO=tester", str(ctx), check=0)
    yield ctx, out(p)
    bx("rmi", "-f", "bt:1")


def test_output_and_config(bx, built):
    ctx, text = built
    lines = text.splitlines()
    assert lines[0] == "Step 1/%d : ARG BASE=busybox" % STEPS
    assert "Step 2/%d : FROM ${BASE}" % STEPS in lines
    run = lines.index("Step 8/%d : RUN echo \"$GREETING $WHO from $PLACE\" > /app/made.txt" % STEPS)
    assert lines[run + 1].startswith(" ---> Running in ") and len(lines[run + 1]) == len(" ---> Running in ") + 12
    box12 = lines[run + 1][-12:]
    # the stage's VM lives on through SHELL into the exec-form RUN; ADD (a layer made on the host) ends it
    assert lines[run + 2].startswith(" ---> ") and "Removing intermediate container " + box12 in lines[run + 3:]
    assert text.count("Running in " + box12) == 2
    assert lines.index("Removing intermediate container " + box12) > lines.index("Step 11/%d : ADD archive.tar.gz /opt/" % STEPS)
    img = inspect(bx, "bt:1")
    assert lines[-2] == "Successfully built " + img["Id"][7:19]
    assert lines[-1] == "Successfully tagged bt:1"
    c = img["Config"]
    assert c["Env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello",
                        "PLACE=box"]
    assert c["WorkingDir"] == "/app" and c["User"] == "nobody"
    assert c["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert c["Labels"] == {"org.example.kind": "test", "with space": "a b"}
    assert c["Volumes"] == {"/vol": {}} and c["StopSignal"] == "SIGINT"
    assert c["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5000000000, "Retries": 2}
    assert c["Entrypoint"] == ["/bin/sh", "-c"]
    assert c["Shell"] == ["/bin/sh", "-ec"] and c["OnBuild"] == ["RUN echo built on top"]
    assert c["Cmd"] == ["cat /app/made.txt /app/file.txt /data/a /data/sub/b; ls /data"]
    h = out(bx("history", "--no-trunc", "--format", "{{.CreatedBy}}", "bt:1", check=0)).splitlines()
    assert h[0] == '/bin/sh -c #(nop)  CMD ["cat /app/made.txt /app/file.txt /data/a /data/sub/b; ls /data"]'
    assert '|1 WHO=tester /bin/sh -c echo "$GREETING $WHO from $PLACE" > /app/made.txt' in h
    assert "/bin/sh -c #(nop) WORKDIR /app" in h and "/bin/sh -c #(nop)  ENV GREETING=hello PLACE=box" in h
    assert "/bin/sh -c #(nop)  LABEL org.example.kind=test with space=a b" in h
    assert any(x.startswith("/bin/sh -c #(nop) COPY dir:") and x.endswith(" in /data/ ") for x in h)


def test_the_image_runs(bx, built):
    p = bx("run", "--rm", "bt:1", check=0)
    # RUN saw ENV and the --build-arg; COPY of a dir copied its contents; .dockerignore kept the key out
    assert out(p) == "hello tester from box\ncopied file\na\nb\na\nsub\n"
    # the exec-form RUN ran; ADD unpacked the local tar under /opt
    p = bx("run", "--rm", "--entrypoint", "cat", "bt:1", "/app/exec.txt", "/opt/top/in.txt", check=0)
    assert out(p) == "exec form\nfrom a local tar\n"


def test_cached_rebuild_runs_nothing(bx, built):
    ctx, _ = built
    since = str(int(time.time()) - 1)
    p = bx("build", "-t", "bt:1", "--build-arg", "WHO=tester", str(ctx), check=0)
    text = out(p)
    assert text.count(" ---> Using cache") == STEPS - 2  # all but the ARG before FROM and FROM
    assert "Running in" not in text
    assert creates_since(bx, since) == []
    p = bx("build", "-q", "--build-arg", "WHO=tester", str(ctx), check=0)
    assert out(p) == inspect(bx, "bt:1")["Id"] + "\n"
    # another ARG value is another RUN: the cache key holds it (not run here: --no-cache shows the same)


def test_changed_copy_source_reruns_from_there(bx, built, tmp_path):
    ctx, _ = built
    c2 = tmp_path / "c2"
    shutil.copytree(ctx, c2)
    (c2 / "dir" / "a").write_text("changed\n")
    p = bx("build", "-t", "bt:2", "--build-arg", "WHO=tester", str(c2), check=0)
    text = out(p).split("Step 7/")
    assert text[0].count("Using cache") == 4  # ARG WHO, ENV, WORKDIR, COPY file.txt
    assert "Using cache" not in text[1] and "Running in" in text[1]
    assert out(bx("run", "--rm", "--entrypoint", "cat", "bt:2", "/data/a", check=0)) == "changed\n"
    bx("rmi", "bt:2", check=0)


def _layers(bx, ref, tmp_path):
    """The member names of each layer of ref, bottom up (boxvm save's OCI layout)."""
    tar = tmp_path / "img.tar"
    bx("save", "-o", str(tar), ref, check=0)
    with tarfile.open(tar) as t:
        blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1]).read()  # noqa: E731
        man = json.loads(blob(json.loads(t.extractfile("index.json").read())["manifests"][0]["digest"]))
        layers = []
        for lay in man["layers"]:
            with tarfile.open(fileobj=__import__("io").BytesIO(blob(lay["digest"]))) as lt:
                layers.append(sorted(m.name for m in lt.getmembers()))
    os.unlink(tar)
    return layers


def test_run_steps_share_one_vm_and_keep_their_own_layers(no_leaks, tmp_path):
    """A stage's RUNs run in one VM (one box made, however many RUNs), and
    each step's layer is exactly what it changed: new and changed files, and
    whiteouts for what it removed of the image's and of earlier steps' files.
    A COPY changes the tree from outside: the next RUN boots another VM.
    What a RUN leaves running is killed when it ends, as Docker's RUN box stops."""
    bx = no_leaks
    (tmp_path / "f.txt").write_text("from the context\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\n"
        "ARG A=from-arg\n"
        "RUN echo one > /one && mkdir -p /d/e && echo x > /d/e/x && echo keep > /keep && date > /ticker && "
        "{ while :; do date > /ticker; sleep 0.1; done & sleep 100000 & }\n"
        "ENV A=from-env\n"
        "RUN echo two > /two && rm /one && rm -rf /d && echo again >> /keep && rm /bin/true\n"
        "WORKDIR /w/sub\n"
        "RUN echo \"$A\" > here && pwd\n"
        "COPY f.txt /f.txt\n"
        "RUN cat /f.txt > /copied\n")
    since = str(int(time.time()) - 1)
    p = bx("build", "-t", "bt:vm", str(tmp_path), check=0)
    text = out(p)
    made = creates_since(bx, since)
    assert len(made) == 2, (made, text)  # three RUNs before the COPY in one VM, one after it
    assert text.count("Running in " + made[0][:12]) == 3 and text.count("Running in " + made[1][:12]) == 1
    assert "/w/sub\n" in text
    lay = _layers(bx, "bt:vm", tmp_path)[1:]  # busybox's below
    # what a step leaves running dies with it (Docker's RUN box stops): the ticker
    # writes into no later layer, and the sleep holding the output open ends
    assert lay[0] == ["d", "d/e", "d/e/x", "etc", "keep", "one", "ticker"]
    assert lay[1] == [".wh.d", ".wh.one", "bin", "bin/.wh.true", "keep", "two"]
    assert lay[2] == ["w", "w/sub", "w/sub/here"]
    assert lay[3] == ["f.txt"]
    assert lay[4] == ["copied", "etc"]
    p = bx("run", "--rm", "bt:vm", "sh", "-c", "cat /keep /w/sub/here /copied; ls /one /d /bin/true 2>&1 | wc -l",
           check=0)
    assert out(p) == "keep\nagain\nfrom-env\nfrom the context\n3\n"
    assert out(bx("ps", "-aq", check=0)) == ""
    bx("rmi", "bt:vm", check=0)


def test_failing_run_leaves_nothing(no_leaks, tmp_path):
    bx = no_leaks
    (tmp_path / "Dockerfile").write_text("FROM busybox\nENV A=1\nRUN echo to stdout; exit 3\nCMD x\n")
    p = bx("build", "-t", "bt:fail", str(tmp_path))
    assert p.returncode == 3  # the RUN's code, as docker build's
    assert "to stdout" in out(p)
    assert p.stderr.decode().strip().endswith("The command '/bin/sh -c echo to stdout; exit 3' returned a non-zero code: 3")
    assert out(bx("ps", "-aq", check=0)) == ""
    assert bx("image", "inspect", "bt:fail").returncode != 0


def test_bad_instructions_name_their_line(bx, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nENV A=b\n# c\nFOO bar\n")
    p = bx("build", str(tmp_path))
    assert p.returncode == 1 and "dockerfile parse error line 4: unknown instruction: FOO" in p.stderr.decode()
    assert out(p) == ""  # nothing built before the whole file parses
    (tmp_path / "Dockerfile").write_text("ENV A=b\nFROM busybox\n")
    p = bx("build", str(tmp_path))
    assert p.returncode == 1 and "no build stage in current context" in p.stderr.decode()
    p = bx("build", "-f", "-", str(tmp_path), input=b"FROM busybox\nCOPY\n")
    assert p.returncode == 1 and "line 2" in p.stderr.decode()


def test_context_is_a_jail(bx, tmp_path):
    """A hostile Dockerfile cannot COPY what lies outside its context: no
    "..", no symlink followed on the way; a named symlink is copied as one."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "outside").write_text("host secret\n")
    os.symlink("/etc", ctx / "etc-link")
    os.symlink("../outside", ctx / "out-link")
    for bad, why in (("../outside", "Forbidden path outside the build context"),
                     ("etc-link/passwd", "not followed")):
        p = bx("build", "-f", "-", str(ctx), input=f"FROM busybox\nCOPY {bad} /x\n".encode())
        assert p.returncode == 1 and why in p.stderr.decode(), p.stderr
    p = bx("build", "-q", "-t", "bt:link", "-f", "-", str(ctx), input=b"FROM busybox\nCOPY out-link /x/\n")
    assert p.returncode == 0, p.stderr
    # the layer holds the symlink itself (read from the store: no VM needed)
    img = inspect(bx, "bt:link")
    with open(os.path.join(bx.root, "images.json")) as f:
        manifests = set(json.load(f)["images"].values())
    layer = None
    for d in manifests:
        with open(os.path.join(bx.root, "blobs", "sha256", d[7:]), "rb") as f:
            m = json.load(f)
        if m["config"]["digest"] == img["Id"]:
            layer = m["layers"][-1]["digest"]
    with tarfile.open(os.path.join(bx.root, "blobs", "sha256", layer[7:])) as t:
        link = t.getmember("x/out-link")
        assert link.issym() and link.linkname == "../outside" and link.uid == 0
    bx("rmi", "bt:link", check=0)


@pytest.mark.skipif(not os.path.exists(DOCKER_REF), reason="docker-ref (a real Docker) is not on this machine")
def test_saved_build_runs_in_docker(bx, built, tmp_path):
    tar = tmp_path / "img.tar"
    bx("save", "-o", str(tar), "bt:1", check=0)
    subprocess.run([DOCKER_REF, "rmi", "-f", "bt:1"], capture_output=True, timeout=HANG_GUARD)
    p = subprocess.run([DOCKER_REF, "load", "-i", str(tar)], capture_output=True, timeout=HANG_GUARD)
    assert p.returncode == 0 and b"Loaded image: bt:1" in p.stdout, p.stderr
    p = subprocess.run([DOCKER_REF, "run", "--rm", "--network", "none", "bt:1"], capture_output=True,
                       timeout=HANG_GUARD)
    assert p.returncode == 0 and p.stdout == b"hello tester from box\ncopied file\na\nb\na\nsub\n", p.stderr
    subprocess.run([DOCKER_REF, "rmi", "-f", "bt:1"], capture_output=True, timeout=HANG_GUARD)


def test_intermediate_images_are_hidden(bx, built):
    """Each step's image stays (the cache's): `images` hides those a later
    image stands on, as Docker's, and `images -a` lists them; the tagged
    result shows once, under its tag."""
    img = inspect(bx, "bt:1")["Id"][7:19]
    rows = [line.split() for line in out(bx("images", check=0)).splitlines()[1:]]
    assert [r[:3] for r in rows if r[2] == img] == [["bt", "1", img]]
    steps = out(bx("history", "-q", "bt:1", check=0)).split()[1:4]  # CMD's and ENTRYPOINT's parents
    assert all(s not in [r[2] for r in rows] for s in steps)
    every = [line.split()[2] for line in out(bx("images", "-a", check=0)).splitlines()[1:]]
    assert all(s in every for s in steps)


def layer_of(bx, ref):
    """The top layer blob of an image, opened from the store (no VM)."""
    img = inspect(bx, ref)
    with open(os.path.join(bx.root, "images.json")) as f:
        manifests = set(json.load(f)["images"].values())
    for d in manifests:
        with open(os.path.join(bx.root, "blobs", "sha256", d[7:]), "rb") as f:
            m = json.load(f)
        if m["config"]["digest"] == img["Id"]:
            return tarfile.open(os.path.join(bx.root, "blobs", "sha256", m["layers"][-1]["digest"][7:]))
    raise AssertionError("no manifest for " + ref)


def test_add_unpacks_a_local_tar_and_chown_names(bx, tmp_path):
    """ADD of a local tar unpacks it; --chown takes numbers or the stage's
    names (busybox: nobody 65534, nogroup 65534); a user alone gives its
    number as the group, as Docker. Layers read from the store: no VM."""
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "in.txt").write_text("x\n")
    with tarfile.open(ctx / "a.tar.gz", "w:gz") as t:
        t.add(ctx / "src" / "in.txt", arcname="top/in.txt")
    steps = {"ADD a.tar.gz /opt/": ("opt/top/in.txt", 0, 0),
             "COPY --chown=nobody:nogroup src/in.txt /owned": ("owned", 65534, 65534),
             "COPY --chown=7 src/* /multi/": ("multi/in.txt", 7, 7)}
    for step, (member, uid, gid) in steps.items():
        p = bx("build", "-q", "-t", "bt:add", "-f", "-", str(ctx), input=f"FROM busybox\n{step}\n".encode())
        assert p.returncode == 0, (step, p.stderr)
        with layer_of(bx, "bt:add") as t:
            m = t.getmember(member)
            assert m.isfile() and (m.uid, m.gid) == (uid, gid), step
            assert t.extractfile(m).read() == b"x\n"
    p = bx("build", "-f", "-", str(ctx), input=b"FROM busybox\nCOPY --chown=nosuchuser src/in.txt /x\n")
    assert p.returncode == 1 and "nosuchuser" in p.stderr.decode()
    bx("rmi", "bt:add", check=0)


def test_multi_stage_copy_from(bx, tmp_path):
    """COPY --from takes a finished stage (by name or index) or an image;
    FROM may name an earlier stage; the result is the last stage's image."""
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox AS maker\nWORKDIR /w\nRUN echo made-in-a-vm > /w/out\n"
        "FROM scratch\nCOPY --from=maker /w/out /made\nCOPY --from=0 /w /w2/\n"
        "FROM maker\nCOPY --from=1 /made /again\nCOPY --from=busybox /etc/group /group\n")
    p = bx("build", "-t", "bt:ms", str(tmp_path), check=0)
    assert out(p).count("Running in") == 1
    with layer_of(bx, "bt:ms") as t:
        assert t.getnames() == ["group"]
    hist = out(bx("history", "-q", "bt:ms", check=0)).split()
    assert len(hist) >= 4  # the maker stage's steps are under it
    with layer_of(bx, hist[1]) as t:
        assert t.extractfile("again").read() == b"made-in-a-vm\n"
    bx("rmi", "bt:ms", check=0)


def test_no_cache_and_label_flags(bx, tmp_path):
    """--no-cache builds every step again; --label is the last stage's last
    LABEL step, as Docker's classic builder adds it. No RUN: no VM."""
    (tmp_path / "Dockerfile").write_text("FROM busybox\nENV A=1\nCMD [\"true\"]\n")
    first = out(bx("build", "--label", "k=v 1", str(tmp_path), check=0))
    assert 'Step 4/4 : LABEL "k"="v 1"' in first
    again = out(bx("build", "--label", "k=v 1", str(tmp_path), check=0))
    assert again.count("Using cache") == 3
    fresh = out(bx("build", "--no-cache", "--label", "k=v 1", str(tmp_path), check=0))
    assert "Using cache" not in fresh
    image = fresh.splitlines()[-1].split()[-1]
    assert inspect(bx, image)["Config"]["Labels"] == {"k": "v 1"}
    assert image != again.splitlines()[-1].split()[-1]


STAGES = "FROM busybox AS first\nENV A=1\nFROM busybox AS Second\nENV B=1\nFROM busybox\nENV C=1\n"


def test_target_stops_at_the_stage(bx, tmp_path):
    """--target builds every stage up to the named one (case-insensitive)
    and none after; "Step i/N" counts what is built; an unknown target is
    Docker's error before anything runs. No RUN: no VM."""
    (tmp_path / "Dockerfile").write_text(STAGES)
    text = out(bx("build", "--target", "second", str(tmp_path), check=0))
    lines = text.splitlines()
    assert lines[0] == "Step 1/4 : FROM busybox AS first" and "Step 4/4 : ENV B=1" in lines
    assert "ENV C=1" not in text
    env = inspect(bx, lines[-1].split()[-1])["Config"]["Env"]
    assert "B=1" in env and "C=1" not in env and "A=1" not in env
    p = bx("build", "--target", "nope", str(tmp_path))
    assert p.returncode == 1 and out(p) == ""
    assert p.stderr.decode().strip() == "boxvm: failed to reach build target nope in Dockerfile"


def test_platform_is_the_hosts_or_an_error(bx, tmp_path):
    """--platform and FROM --platform (substituted from an ARG before FROM)
    take linux/amd64; another platform is a one-line error. No VM."""
    df = b"ARG P=linux/amd64\nFROM --platform=$P busybox\n"
    assert bx("build", "-q", "--platform", "linux/amd64", "-f", "-", str(tmp_path), input=df).returncode == 0
    for flags, dockerfile in ((["--platform", "linux/arm64"], b"FROM busybox\n"),
                              ([], b"FROM --platform=linux/arm64 busybox\n")):
        p = bx("build", *flags, "-f", "-", str(tmp_path), input=dockerfile)
        err = p.stderr.decode()
        assert p.returncode == 1 and err.count("\n") == 1, err
        assert 'platform "linux/arm64" is not supported: boxvm builds linux/amd64 images only' in err
    p = bx("build", "-f", "-", str(tmp_path), input=b"FROM --platform=$BUILDPLATFORM busybox\n")
    assert p.returncode == 1 and "the platform is empty" in p.stderr.decode()


def test_onbuild_triggers(bx, tmp_path):
    """ONBUILD records Docker's text, unsubstituted, in the config's OnBuild;
    a FROM of that image runs the triggers (a COPY from the child's own
    context among them) and the child keeps none. No RUN: no VM."""
    parent, child = tmp_path / "parent", tmp_path / "child"
    parent.mkdir()
    child.mkdir()
    (parent / "Dockerfile").write_text("FROM busybox\nonbuild   env  X=1 Y=$X\nONBUILD LABEL l=$X\n"
                                       "ONBUILD COPY f.txt /f\nONBUILD workdir /w\nENV Z=3\n")
    bx("build", "-q", "-t", "bt:onbuild", str(parent), check=0)
    assert inspect(bx, "bt:onbuild")["Config"]["OnBuild"] == ["env  X=1 Y=$X", "LABEL l=$X", "COPY f.txt /f",
                                                              "workdir /w"]
    (child / "f.txt").write_text("from the child's context\n")
    (child / "Dockerfile").write_text("FROM bt:onbuild\nENV W=4\n")
    text = out(bx("build", "-t", "bt:child", str(child), check=0))
    lines = text.splitlines()
    assert lines[:2] == ["Step 1/2 : FROM bt:onbuild", "# Executing 4 build triggers"]
    assert lines[2].startswith(" ---> ") and lines[3] == "Step 2/2 : ENV W=4"  # one ID for all the triggers
    c = inspect(bx, "bt:child")["Config"]
    assert c["OnBuild"] is None and c["Labels"] == {"l": "1"} and c["WorkingDir"] == "/w"
    assert c["Env"][1:] == ["Z=3", "X=1", "Y=", "W=4"]  # Y from X before X was set, as Docker
    with layer_of(bx, "bt:child") as t:
        assert t.extractfile("f").read() == b"from the child's context\n"
    again = out(bx("build", str(child), check=0))
    assert again.count("Using cache") == 5
    for bad, why in (("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
                     ("ONBUILD FROM busybox", "FROM isn't allowed as an ONBUILD trigger"),
                     ("ONBUILD maintainer me", "MAINTAINER isn't allowed as an ONBUILD trigger")):
        p = bx("build", "-f", "-", str(child), input=f"FROM busybox\n{bad}\n".encode())
        assert p.returncode == 1 and f"dockerfile parse error line 2: {why}" in p.stderr.decode()
    bx("rmi", "bt:child", "bt:onbuild", check=0)


def test_hostile_onbuild_triggers(bx, tmp_path):
    """An image's triggers are hostile input (`import -c` writes any text
    there): each is parsed with the Dockerfile's bounds and rules, and a bad
    one fails the build before any trigger runs. No VM."""
    (tmp_path / "f").write_text("x\n")
    with tarfile.open(tmp_path / "root.tar", "w") as t:
        t.add(tmp_path / "f", arcname="f")
    cases = (("FROM busybox", "FROM isn't allowed as an ONBUILD trigger"),
             ("FOO bar", "unknown instruction: FOO"),
             ("ONBUILD RUN x", "Chaining ONBUILD"),
             ("ENV A=1\nMAINTAINER x", "MAINTAINER isn't allowed"))
    for trigger, why in cases:
        bx("import", "-c", "ONBUILD " + trigger, str(tmp_path / "root.tar"), "bt:hostile", check=0)
        p = bx("build", "-f", "-", str(tmp_path), input=b"FROM busybox\nENV B=1\nFROM bt:hostile\n")
        err = p.stderr.decode()
        assert p.returncode == 1 and "Dockerfile line 3: ONBUILD trigger 1 of bt:hostile: " in err and why in err, err
        assert "Step 3/3 : FROM bt:hostile\n# Executing 1 build trigger\n" in out(p)
    many = [a for _ in range(1025) for a in ("-c", "ONBUILD ENV A=1")]
    bx("import", *many, str(tmp_path / "root.tar"), "bt:hostile", check=0)
    p = bx("build", "-f", "-", str(tmp_path), input=b"FROM bt:hostile\n")
    assert p.returncode == 1 and "bt:hostile has 1025 ONBUILD triggers, more than 1024" in p.stderr.decode()
    bx("rmi", "bt:hostile", check=0)


def _tar(path, entries, mode="w"):
    """entries: (name, bytes) files or (name, "->target") symlinks"""
    import io
    with tarfile.open(path, mode) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            if isinstance(data, str):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[2:]
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))


def test_context_from_stdin(bx, tmp_path):
    """`build -` takes a tar (compressed or not) as the context, -f naming a
    file inside it, .dockerignore honoured; a plain Dockerfile alone; a
    hostile tar unpacks nothing outside and names no host file as its
    Dockerfile; the private directory under DATA/buildtmp goes on every path
    (and one left by a killed build goes with the next). No VM."""
    ctx = [("Dockerfile", b"FROM busybox\nCOPY . /c/\n"), ("sub/Df", b"FROM busybox\nCOPY a /b\n"),
           ("a", b"from the tar\n"), ("k.key", b"secret\n"), (".dockerignore", b"*.key\n")]
    tmp = os.path.join(bx.root, "buildtmp")
    dead = subprocess.Popen(["true"])
    dead.wait()
    os.makedirs(os.path.join(tmp, f"stdin-{dead.pid}-killed", "ctx"))
    for mode, name in (("w", "c.tar"), ("w:gz", "c.tgz"), ("w:bz2", "c.tbz"), ("w:xz", "c.txz")):
        _tar(tmp_path / name, ctx, mode)
        p = bx("build", "-q", "-t", "bt:stdin", "-", input=(tmp_path / name).read_bytes(), check=0)
        with layer_of(bx, "bt:stdin") as t:
            assert sorted(t.getnames()) == ["c", "c/.dockerignore", "c/Dockerfile", "c/a", "c/sub", "c/sub/Df"]
        assert [n for n in os.listdir(tmp) if n.startswith("stdin-")] == []
    bx("build", "-q", "-t", "bt:stdin", "-f", "sub/Df", "-", input=(tmp_path / "c.tgz").read_bytes(), check=0)
    with layer_of(bx, "bt:stdin") as t:
        assert t.extractfile("b").read() == b"from the tar\n"
    p = bx("build", "-f", "nope", "-", input=(tmp_path / "c.tgz").read_bytes())
    assert p.returncode == 1 and p.stderr.decode() == "boxvm: Cannot locate specified Dockerfile: nope\n"
    p = bx("build", "-f", "-", "-", input=b"FROM busybox\n")
    assert p.returncode == 1 and "can't use stdin for both build context and dockerfile" in p.stderr.decode()
    # stdin is the Dockerfile itself: its context holds nothing else
    p = bx("build", "-q", "-t", "bt:stdin", "-", input=b"FROM busybox\nCOPY Dockerfile /df\nENV S=1\n", check=0)
    with layer_of(bx, "bt:stdin") as t:
        assert t.getnames() == ["df"]
    p = bx("build", "-", input=b"FROM busybox\nCOPY a /a\n")
    assert p.returncode == 1 and "file not found in build context" in p.stderr.decode()
    unsafe, no_df = "is unsafe", "Cannot locate specified Dockerfile: Dockerfile"
    hostile = {"dotdot": ([("Dockerfile", b"FROM busybox\n"), ("../escape", b"x")], unsafe),
               "through-link": ([("d", "->" + str(tmp_path)), ("d/evil", b"x")], unsafe),
               "df-link": ([("Dockerfile", "->/etc/passwd")], no_df),
               "df-up": ([("Dockerfile", "->../../../../../../../../etc/passwd")], no_df)}
    for name, (entries, why) in hostile.items():
        _tar(tmp_path / name, entries)
        p = bx("build", "-", input=(tmp_path / name).read_bytes())
        err = p.stderr.decode()
        assert p.returncode == 1 and why in err and "root:" not in err, (name, err)
    assert not (tmp_path / "evil").exists() and not os.path.exists(os.path.join(bx.root, "buildtmp", "escape"))
    assert [n for n in os.listdir(tmp) if n.startswith("stdin-")] == []
    bx("rmi", "bt:stdin", check=0)


def test_pull_flag_and_missing_base(bx):
    """--pull fetches a newer base from its registry even when one is here;
    without it the local one is used; a missing base is pulled (Docker's
    classic builder does both). A real registry, no VM."""
    from registry import Registry
    reg = Registry()
    try:
        ref = f"{reg.host}/bt/base:1"
        newer = out(bx("build", "-q", "-t", ref, "-", input=b"FROM busybox\nLABEL v=2\n", check=0)).strip()
        bx("push", ref, check=0)
        bx("tag", "busybox", ref, check=0)  # here: the older one under that name
        busybox = inspect(bx, "busybox")["Id"]
        df = f"FROM {ref}\n".encode()
        local = out(bx("build", "-", input=df, check=0))
        assert "Pulling" not in local and local.splitlines()[-1] == "Successfully built " + busybox[7:19]
        pulled = out(bx("build", "--pull", "-", input=df, check=0))
        assert "Pulling from bt/base" in pulled and pulled.splitlines()[-1] == "Successfully built " + newer[7:19]
        assert inspect(bx, ref)["Id"] == newer
        bx("rmi", ref, check=0)
        missing = out(bx("build", "-q", "-", input=df, check=0))
        assert missing.strip() == newer
        p = bx("build", "--pull", "-", input=f"FROM {reg.host}/bt/none:1\n".encode())
        assert p.returncode == 1 and "not found" in p.stderr.decode()
        bx("rmi", ref, check=0)
    finally:
        reg.stop()


def test_docker_build_through_the_engine_api(api, bx, tmp_path):
    """Debian's docker CLI (its classic builder, DOCKER_BUILDKIT=0) builds
    through `boxvm system service`: the context goes up as a tar, the steps
    and the RUN's output come back as Docker's stream (bytes that are not
    UTF-8 made U+FFFD), -q prints the ID from the aux line, a failing RUN
    makes the CLI exit with its code, and nothing is left in DATA/buildtmp."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "in.txt").write_text("sent as a tar\n")
    (ctx / "Dockerfile.api").write_text(
        "FROM busybox\nCOPY in.txt /in.txt\nRUN printf 'caf\\303\\251 \\377 done\\n'; cat /in.txt; "
        "grep apihost /etc/hosts; cat /sys/fs/cgroup/memory.max; ls /sys/class/net\nCMD [\"cat\", \"/in.txt\"]\n")
    env = dict(api.env, DOCKER_BUILDKIT="0")
    p = subprocess.run([DOCKER, "build", "-f", str(ctx / "Dockerfile.api"), "-t", "bt:api", "--network", "none",
                        "--add-host", "apihost:10.9.8.7", "-m", "96m", str(ctx)], env=env,
                       capture_output=True, timeout=HANG_GUARD)
    text = p.stdout.decode()
    assert p.returncode == 0, (text, p.stderr)
    assert "Step 3/4 : RUN" in text and "caf\u00e9 \ufffd done\nsent as a tar\n" in text
    # networkmode, extrahosts, memory: the RUN's box has no NIC, the host line and the limit
    assert "10.9.8.7\tapihost\n%d\nlo\n" % (96 << 20) in text, text
    assert text.splitlines()[-1] == "Successfully tagged bt:api"
    assert out(bx("run", "--rm", "bt:api", check=0)) == "sent as a tar\n"
    p = subprocess.run([DOCKER, "build", "-q", "-f", str(ctx / "Dockerfile.api"), str(ctx)], env=env, capture_output=True,
                       timeout=HANG_GUARD)
    assert p.stdout.decode().strip() == inspect(bx, "bt:api")["Id"]  # every step from the cache
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo failing; exit 3\n")
    p = subprocess.run([DOCKER, "build", str(ctx)], env=env, capture_output=True, timeout=HANG_GUARD)
    assert p.returncode == 3 and "failing" in p.stdout.decode()
    assert "The command '/bin/sh -c echo failing; exit 3' returned a non-zero code: 3" in p.stderr.decode()
    # two builds side by side in the one service: each its own context, files and RUN box
    procs = []
    for n in ("one", "two"):
        c = tmp_path / n
        c.mkdir()
        for i in range(20):
            (c / f"f{i}").write_text(f"{n} {i}\n")
        (c / "Dockerfile").write_text(f"FROM busybox\nCOPY . /ctx/\nRUN cat /ctx/f* > /all && echo {n} > /who\n")
        procs.append(subprocess.Popen([DOCKER, "build", "-q", "-t", f"bt:{n}", str(c)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for n, pr in zip(("one", "two"), procs):
        o, e = pr.communicate(timeout=HANG_GUARD)
        assert pr.returncode == 0, e
        got = out(bx("run", "--rm", f"bt:{n}", "sh", "-c", "cat /who; wc -l < /all; sort -u /all | cut -d' ' -f1 | uniq",
                     check=0))
        assert got == f"{n}\n20\n{n}\n", got
        bx("rmi", f"bt:{n}", check=0)
    assert out(bx("ps", "-aq", check=0)) == ""
    tmp = os.path.join(bx.root, "buildtmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []
    bx("rmi", "bt:api", check=0)


def test_run_box_flags_and_iidfile(bx, tmp_path):
    """--network none, --add-host and -m reach the RUN's box (no NIC, the
    host line, memory.max); --iidfile gets the image's ID (none after a
    failure); a bad size is the flag's error before anything runs."""
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN grep myhost /etc/hosts; ls /sys/class/net; "
                                         "cat /sys/fs/cgroup/memory.max\n")
    iid = tmp_path / "iid"
    p = bx("build", "--no-cache", "--network", "none", "--add-host", "myhost:10.1.2.3", "-m", "100m",
           "--iidfile", str(iid), str(tmp_path), check=0)
    assert "10.1.2.3\tmyhost\nlo\n104857600\n" in out(p), out(p)
    short = out(p).splitlines()[-1].split()[-1]  # "Successfully built ID"
    assert len(iid.read_text()) == 71 and iid.read_text().startswith("sha256:" + short)
    bx("rmi", iid.read_text(), check=0)
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN exit 2\n")
    p = bx("build", "--iidfile", str(iid), str(tmp_path))
    assert p.returncode == 2 and not iid.exists()
    p = bx("build", "-m", "lots", str(tmp_path))
    assert p.returncode == 1 and "invalid --memory 'lots'" in p.stderr.decode() and out(p) == "", p.stderr


def test_step_lines_show_the_instruction_as_written(bx, tmp_path):
    """Docker prints each instruction as the Dockerfile writes it (keyword case
    kept, continued lines joined); no VM."""
    (tmp_path / "Dockerfile").write_text("from busybox\nEnv A=1 \\\n   B=2\n")
    lines = out(bx("build", str(tmp_path), check=0)).splitlines()
    assert lines[0] == "Step 1/2 : from busybox" and lines[2] == "Step 2/2 : Env A=1    B=2", lines
