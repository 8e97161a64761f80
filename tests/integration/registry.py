"""A real registry for pull tests: Debian's docker-registry (distribution 2.8)
on 127.0.0.1 with its storage in a temp dir, images pushed with skopeo from
OCI layouts built here, and a tiny token-auth front (a reverse proxy that
answers the Bearer challenge and serves tokens) for the auth tests.

Everything is started and stopped by the tests; processes are ended by PID."""
import base64
import hashlib
import http.client
import http.server
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """docker-registry serving from its own temp dir; stop() kills it by PID."""

    def __init__(self, htpasswd=None):
        """htpasswd=(user, password): the registry wants Basic credentials (its htpasswd auth)."""
        self.dir = tempfile.mkdtemp(prefix="boxvm-registry.")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        cfg = os.path.join(self.dir, "config.yml")
        auth = ""
        if htpasswd:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import crypt  # bcrypt through libxcrypt, the hash docker-registry's htpasswd reads
                hashed = crypt.crypt(htpasswd[1], crypt.mksalt(crypt.METHOD_BLOWFISH))
            with open(os.path.join(self.dir, "htpasswd"), "w") as f:
                f.write(f"{htpasswd[0]}:{hashed}\n")
            auth = f"auth: {{htpasswd: {{realm: boxvm-test, path: {self.dir}/htpasswd}}}}\n"
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog: {level: error}\n"
                    f"storage: {{filesystem: {{rootdirectory: {self.dir}/data}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: {self.host}, secret: boxvm-test}}\n" + auth)
        self.log = open(os.path.join(self.dir, "registry.log"), "wb")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30  # hang guard
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (401: it wants credentials)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("docker-registry did not start: " + open(self.log.name).read()[-2000:])
                time.sleep(0.05)

    def push(self, layout_dir, tag, name, fmt=None, multi_arch=False, dest_host=None):
        """skopeo copy oci:LAYOUT:TAG docker://HOST/NAME (NAME includes the tag)."""
        cmd = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
        if fmt:
            cmd += ["--format", fmt]
        if multi_arch:
            cmd += ["--multi-arch", "all"]
        cmd += [f"oci:{layout_dir}:{tag}", f"docker://{dest_host or self.host}/{name}"]
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr.decode()[-2000:]

    def manifest_digest(self, name, ref):
        req = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{ref}", headers={
            "Accept": ", ".join([OCI_MANIFEST, OCI_INDEX,
                                 "application/vnd.docker.distribution.manifest.v2+json",
                                 "application/vnd.docker.distribution.manifest.list.v2+json"])})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.headers["Docker-Content-Digest"], json.loads(r.read())

    def blob_file(self, digest):
        hexd = digest.split(":")[1]
        return os.path.join(self.dir, "data", "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TokenAuthFront:
    """Reverse proxy in front of a Registry that requires a Bearer token, as
    Docker Hub does: 401 + WWW-Authenticate: Bearer realm=.../token; the token
    endpoint wants Basic credentials (user/password) and returns an opaque
    token. Blob GETs are answered with a 307 redirect to the backend, so
    clients must follow redirects (without leaking the token there).
    Pushes (POST/PUT/PATCH/DELETE) are proxied with the front's Host, so the
    registry's upload Locations name the front; `requests` counts them too
    (auth=False makes it a counting proxy), `token_queries` holds each
    token request's query."""

    def __init__(self, backend, user="alice", password="s3cret-pw", auth=True, rate=None):
        """auth=False: an open front; rate: bytes/s at which blobs are streamed
        through (instead of redirected), to interrupt a pull mid-way."""
        self.backend = backend
        self.auth, self.rate = auth, rate
        self.user, self.password = user, password
        self.tokens = set()
        self.requests = []  # (method, path, Authorization, Range) seen
        self.token_queries = []
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _stream_slowly(self):
                c = http.client.HTTPConnection(front.backend.host, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() == "range"}
                c.request("GET", self.path, headers=hdrs)
                r = c.getresponse()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() in ("content-length", "content-range", "content-type", "docker-content-digest"):
                        self.send_header(k, v)
                self.end_headers()
                chunk = max(1, front.rate // 20)
                try:
                    while True:
                        b = r.read(chunk)
                        if not b:
                            break
                        self.wfile.write(b)
                        time.sleep(0.05)
                except OSError:
                    pass  # the client went away (the test killed it)
                c.close()

            def do_HEAD(self):
                self.do_GET()

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD

            def _proxy_write(self):
                c = http.client.HTTPConnection(front.backend.host, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-range")}
                hdrs["Host"] = front.host  # the registry names the front in its Locations
                c.request(self.command, self.path, body=self.body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                c.close()
                keep = [(k, v) for k, v in r.getheaders()
                        if k.lower() in ("content-type", "docker-content-digest", "location", "range",
                                         "docker-upload-uuid", "docker-distribution-api-version")]
                self._send(r.status, data, keep)

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                # a write's body is read first, whatever the answer: the connection stays usable
                self.body = b"" if self.command in ("GET", "HEAD") else \
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                front.requests.append((self.command, self.path, auth, self.headers.get("Range", "")))
                if self.path.startswith("/token"):
                    front.token_queries.append(urllib.parse.urlsplit(self.path).query)
                    expect = "Basic " + base64.b64encode(f"{front.user}:{front.password}".encode()).decode()
                    if auth != expect:
                        return self._send(401, b'{"details":"bad credentials"}', [("Content-Type", "application/json")])
                    tok = secrets.token_hex(16)
                    front.tokens.add(tok)
                    return self._send(200, json.dumps({"token": tok}).encode(), [("Content-Type", "application/json")])
                if front.auth and not (auth.startswith("Bearer ") and auth[7:] in front.tokens):
                    scope = ""
                    parts = self.path.split("/")
                    if len(parts) > 4 and parts[1] == "v2":
                        repo = "/".join(parts[2:-2])
                        action = "pull" if self.command in ("GET", "HEAD") else "pull,push"
                        scope = f',scope="repository:{repo}:{action}"'
                    chal = f'Bearer realm="http://127.0.0.1:{front.port}/token",service="boxvm-test"{scope}'
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                    return self._send(401, body, [("WWW-Authenticate", chal), ("Content-Type", "application/json")])
                if self.command not in ("GET", "HEAD"):
                    return self._proxy_write()
                if "/blobs/" in self.path and front.rate:
                    return self._stream_slowly()
                if "/blobs/" in self.path:
                    return self._send(307, b"", [("Location", f"http://{front.backend.host}{self.path}")])
                c = http.client.HTTPConnection(front.backend.host, timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")}
                c.request(self.command, self.path, headers=hdrs)
                r = c.getresponse()
                body = r.read()
                c.close()
                keep = [(k, v) for k, v in r.getheaders()
                        if k.lower() in ("content-type", "docker-content-digest", "docker-distribution-api-version")]
                self._send(r.status, body, keep)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def layout_from_tar(tar_path, dest):
    """Unpack an OCI layout tar (ocilayout.image_tar, make-busybox-image.sh) into a directory for skopeo."""
    with tarfile.open(tar_path) as t:
        t.extractall(dest)
    return dest


def add_blob(layout, data):
    d = _digest(data)
    p = os.path.join(layout, "blobs", "sha256", d.split(":")[1])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return d


def read_blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":")[1]), "rb") as f:
        return f.read()


def set_tag(layout, tag, digest, media_type, size):
    """Point TAG in the layout's index.json at a descriptor (replacing any other entry for it)."""
    p = os.path.join(layout, "index.json")
    with open(p) as f:
        idx = json.load(f)
    ms = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    ms.append({"mediaType": media_type, "digest": digest, "size": size,
               "annotations": {"org.opencontainers.image.ref.name": tag}})
    idx["manifests"] = ms
    with open(p, "w") as f:
        json.dump(idx, f)


def tagged_manifest(layout, tag=None):
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if tag is None or m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise KeyError(tag)


def add_multiarch_index(layout, tag, amd64_tag, arches=("arm64",)):
    """An image index under TAG: the amd64 image tagged amd64_tag, plus a copy
    for each other architecture (same layers, config saying that arch)."""
    base = tagged_manifest(layout, amd64_tag)
    man = json.loads(read_blob(layout, base["digest"]))
    entries = [{"mediaType": OCI_MANIFEST, "digest": base["digest"], "size": base["size"],
                "platform": {"architecture": "amd64", "os": "linux"}}]
    for arch in arches:
        cfg = json.loads(read_blob(layout, man["config"]["digest"]))
        cfg["architecture"] = arch
        cb = json.dumps(cfg, sort_keys=True).encode()
        m2 = dict(man, config=dict(man["config"], digest=add_blob(layout, cb), size=len(cb)))
        mb = json.dumps(m2, sort_keys=True).encode()
        plat = {"architecture": arch, "os": "linux"}
        if arch == "arm64":
            plat["variant"] = "v8"
        entries.insert(0, {"mediaType": OCI_MANIFEST, "digest": add_blob(layout, mb), "size": len(mb), "platform": plat})
    ib = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, sort_keys=True).encode()
    set_tag(layout, tag, add_blob(layout, ib), OCI_INDEX, len(ib))
    return _digest(ib)
