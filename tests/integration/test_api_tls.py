"""The Engine API over TCP, only with mutual TLS (`boxvm system service -H
tcp://HOST:PORT --tlsverify --tlscacert --tlscert --tlskey`, Docker's
flags): Debian's docker CLI with its client certificate drives it (a hijacked
attach too), a client without a certificate, or with one another CA signed,
gets a 403, and TCP without TLS is refused at start. Certificates are made
for the test with openssl."""
import http.client
import json
import os
import socket
import ssl
import subprocess

import pytest

from apisvc import DOCKER
from conftest import BOXVM, HANG_GUARD


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=HANG_GUARD)


def _ca(d, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.pem",
             "-days", "2", "-subj", f"/CN={name}", cwd=d)


def _signed(d, ca, name, ext):
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
             "-subj", f"/CN={name}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "ext.cnf", "-extensions", ext, cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    (d / "ext.cnf").write_text("[srv]\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                               "[cli]\nextendedKeyUsage=clientAuth\n")
    _ca(d, "ca")
    _ca(d, "rogue")
    _signed(d, "ca", "server", "srv")
    _signed(d, "ca", "client", "cli")
    _signed(d, "rogue", "intruder", "cli")
    return d


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _get(port, ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert:
        ctx.load_cert_chain(str(cert), str(key))
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=HANG_GUARD)
    c.request("GET", "/v1.41/version")
    r = c.getresponse()
    out = r.status, r.read()
    c.close()
    return out


def test_tcp_only_with_client_certificates(bx, certs):
    d = certs
    port = _free_port()
    # TCP without TLS: refused, nothing listens
    p = subprocess.run([BOXVM, "system", "service", "-H", f"tcp://127.0.0.1:{port}"], env=bx.env,
                       capture_output=True, text=True, timeout=HANG_GUARD)
    assert p.returncode == 1 and "needs --tlsverify with --tlscacert, --tlscert and --tlskey" in p.stderr, p
    svc = subprocess.Popen([BOXVM, "system", "service", "-H", f"tcp://127.0.0.1:{port}", "--tlsverify",
                            "--tlscacert", str(d / "ca.pem"), "--tlscert", str(d / "server.pem"),
                            "--tlskey", str(d / "server-key.pem")], env=bx.env, stderr=subprocess.PIPE, text=True)
    try:
        line = svc.stderr.readline()  # said once it listens: the event to wait for
        assert f"on tcp://127.0.0.1:{port} (TLS, client certificates required)" in line, line
        env = dict(bx.env, DOCKER_CONFIG=str(d))
        docker = [DOCKER, "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(d / "ca.pem"),
                  "--tlscert", str(d / "client.pem"), "--tlskey", str(d / "client-key.pem")]
        r = subprocess.run(docker + ["version", "--format", "{{.Server.APIVersion}}"], env=env, capture_output=True,
                           text=True, timeout=HANG_GUARD)
        assert (r.returncode, r.stdout) == (0, "1.41\n"), r
        # a hijacked attach through TLS: the box's output and exit code
        r = subprocess.run(docker + ["run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo hi; exit 3"],
                           env=env, capture_output=True, text=True, timeout=HANG_GUARD)
        assert (r.returncode, r.stdout) == (3, "hi\n"), r
        # no client certificate, or one another CA signed: 403, Docker's error body
        for cert in (None, "intruder"):
            status, body = _get(port, d / "ca.pem", cert and d / f"{cert}.pem", cert and d / f"{cert}-key.pem")
            assert status == 403 and "client certificate" in json.loads(body)["message"], (cert, status, body)
        assert _get(port, d / "ca.pem", d / "client.pem", d / "client-key.pem")[0] == 200
    finally:
        svc.terminate()
        assert svc.wait(timeout=HANG_GUARD) == 0
    assert bx("ps", "-aq").stdout == b""
    assert not os.path.exists(os.path.join(bx.run_dir, "docker.sock"))
