"""Box networking: published TCP/UDP ports, outbound TCP to the host's
loopback, names from --add-host and --hostname, --network none, two boxes on
the same guest port, and the errors that must stop a run before it boots.
No traffic leaves the machine: every server is on 127.0.0.1."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import BOXVM, HANG_GUARD, TEST_POOL

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def udpecho(tmp_path_factory):
    out = tmp_path_factory.mktemp("udpecho") / "udpecho"
    subprocess.run(["musl-gcc", "-static", "-O2", "-o", str(out), os.path.join(HERE, "helpers", "udpecho.c")],
                   check=True)
    return str(out)


def ports_of(bx, name):
    p = bx("port", name, check=0)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\d+/(?:tcp|udp)) -> 127\.0\.0\.1:(\d+)$", p.stdout.decode(), re.M)}


def http_get(port, path="/", deadline=240):
    """Poll until the box's server answers (the guest boots meanwhile); hang guard only."""
    end = time.time() + deadline
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
                data = b""
                while chunk := c.recv(65536):
                    data += chunk
                if data.startswith(b"HTTP/"):
                    return data.split(b"\r\n\r\n", 1)[1]
        except OSError:
            pass
        assert time.time() < end, f"no answer on 127.0.0.1:{port}"
        time.sleep(0.5)


def wait_file(path, deadline=240):
    end = time.time() + deadline
    while not (os.path.exists(path) and os.path.getsize(path) > 0):
        assert time.time() < end, f"{path} never appeared"
        time.sleep(0.3)
    time.sleep(0.2)
    with open(path) as f:
        return f.read()


def test_ports_outbound_names_and_two_boxes(bx, no_leaks, udpecho, host_server, tmp_path):
    """Two boxes publish the same guest port 80 on different host ports; the
    first also publishes UDP, reaches a host server by an --add-host name and
    has its own --hostname in /etc/hosts."""
    out = tmp_path / "out"
    out.mkdir()
    script = ("mkdir -p /www && echo served-by-$(hostname) > /www/index.html && httpd -p 80 -h /www && "
              "cat /etc/hosts > /out/hosts && "
              f"(wget -qO /out/outbound http://hostsvc:{host_server}/ || echo FAILED > /out/outbound) && "
              "exec /bin/udpecho 81")
    try:
        _ports_outbound_names(bx, udpecho, host_server, out, script)
    finally:
        bx("rm", "-f", "web1", "web2")


def _ports_outbound_names(bx, udpecho, host_server, out, script):
    bx("run", "-d", "--name", "web1", "--hostname", "web-one", "-p", "127.0.0.1::80",
       "-p", "127.0.0.1:0:81/udp", "--add-host", "hostsvc:host-gateway",
       "-v", f"{udpecho}:/bin/udpecho:ro", "-v", f"{out}:/out", "busybox", "sh", "-c", script, check=0)
    # -h is Docker's short --hostname for run
    bx("run", "-d", "--name", "web2", "-h", "web-two", "-p", "127.0.0.1::80", "busybox",
       "sh", "-c", "mkdir -p /www && echo served-by-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www",
       check=0)
    p1, p2 = ports_of(bx, "web1"), ports_of(bx, "web2")
    assert set(p1) == {"80/tcp", "81/udp"} and set(p2) == {"80/tcp"}
    assert p1["80/tcp"] != p2["80/tcp"]
    assert bx("port", "web1", "80", check=0).stdout.decode().strip() == f"127.0.0.1:{p1['80/tcp']}"

    assert http_get(p1["80/tcp"], "/index.html") == b"served-by-web-one\n"
    assert http_get(p2["80/tcp"], "/index.html") == b"served-by-web-two\n"

    assert wait_file(str(out / "outbound")) == "hello-outbound\n"
    hosts = wait_file(str(out / "hosts"))
    assert re.search(r"^10\.0\.2\.15\tweb-one$", hosts, re.M), hosts
    assert re.search(r"^10\.0\.2\.2\thostsvc$", hosts, re.M), hosts

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    end = time.time() + 120
    while True:  # the echo server may start a moment after httpd answers
        u.sendto(b"ping-udp", ("127.0.0.1", p1["81/udp"]))
        try:
            assert u.recv(100) == b"ping-udp"
            break
        except socket.timeout:
            assert time.time() < end, "no UDP echo"
    u.close()
    _ports_shown(bx, p1, p2)


def _ports_shown(bx, p1, p2):
    """ps PORTS, ps --format {{.Ports}} and inspect show the stored mapping in Docker's text/shapes."""
    web1_ports = f"127.0.0.1:{p1['80/tcp']}->80/tcp, 127.0.0.1:{p1['81/udp']}->81/udp"
    rows = bx("ps", "--format", "{{.Names}}|{{.Ports}}", check=0).stdout.decode().splitlines()
    assert f"web1|{web1_ports}" in rows and f"web2|127.0.0.1:{p2['80/tcp']}->80/tcp" in rows, rows
    table = bx("ps", check=0).stdout.decode().splitlines()
    assert table[0].split()[-2:] == ["PORTS", "NAMES"], table
    assert any(web1_ports in l and l.endswith(" web1") for l in table), table
    ns = json.loads(bx("inspect", "-f", "{{json .NetworkSettings.Ports}}", "web1", check=0).stdout)
    assert ns == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(p1["80/tcp"])}],
                  "81/udp": [{"HostIp": "127.0.0.1", "HostPort": str(p1["81/udp"])}]}, ns
    full = json.loads(bx("inspect", "web2", check=0).stdout)[0]
    assert full["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(p2["80/tcp"])}]}
    assert full["NetworkSettings"]["Ports"] == full["HostConfig"]["PortBindings"]
    assert full["Config"]["Hostname"] == "web-two"


def _two_free_ports():
    """Two adjacent host ports free on 127.0.0.1 (checked, then released for the box)."""
    for _ in range(50):
        a = socket.socket()
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            pass
        finally:
            a.close()
            b.close()
    raise AssertionError("no two adjacent free ports")


def test_published_port_range(bx, no_leaks):
    """-p HOST-END:PORT-END publishes one mapping per port, paired in order,
    each reachable from the host and shown one by one as Docker does."""
    first = _two_free_ports()
    script = ("mkdir -p /a /b && echo port-80 > /a/index.html && echo port-81 > /b/index.html && "
              "httpd -p 80 -h /a && exec httpd -f -p 81 -h /b")
    try:
        bx("run", "-d", "--name", "ranged", "-p", f"127.0.0.1:{first}-{first + 1}:80-81", "busybox",
           "sh", "-c", script, check=0)
        assert ports_of(bx, "ranged") == {"80/tcp": first, "81/tcp": first + 1}
        assert http_get(first, "/index.html") == b"port-80\n"
        assert http_get(first + 1, "/index.html") == b"port-81\n"
        rows = bx("ps", "--format", "{{.Names}}|{{.Ports}}", check=0).stdout.decode().splitlines()
        assert f"ranged|127.0.0.1:{first}->80/tcp, 127.0.0.1:{first + 1}->81/tcp" in rows, rows
        ns = json.loads(bx("inspect", "-f", "{{json .NetworkSettings.Ports}}", "ranged", check=0).stdout)
        assert ns == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(first)}],
                      "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(first + 1)}]}, ns
    finally:
        bx("rm", "-f", "ranged")


def test_dns_search_and_options_survive_restart(bx, no_leaks):
    """--dns, --dns-search and --dns-option land in the box's /etc/resolv.conf,
    and a later `start` (a fresh VM) writes the same file again."""
    want = "nameserver 192.0.2.53\nsearch a.example b.example\noptions ndots:3 edns0\n"
    try:
        bx("create", "--name", "resolv", "--dns", "192.0.2.53", "--dns-search", "a.example",
           "--dns-search", "b.example", "--dns-option", "ndots:3", "--dns-option", "edns0",
           "busybox", "cat", "/etc/resolv.conf", check=0)
        assert bx("start", "-a", "resolv", check=0).stdout.decode() == want
        assert bx("start", "-a", "resolv", check=0).stdout.decode() == want
    finally:
        bx("rm", "-f", "resolv")


DNS_ADDR = "127.0.0.153"  # a loopback address of its own: no clash with a local resolver on 127.0.0.1:53


def _dns_responder(sock, answer_ip, queries):
    """Answer every A query with answer_ip (and other types with no records)."""
    while True:
        try:
            q, peer = sock.recvfrom(512)
        except OSError:
            return
        end = 12
        while q[end]:
            end += q[end] + 1
        qname = q[12:end]
        qtype = struct.unpack("!H", q[end + 1:end + 3])[0]
        queries.append((qname, qtype))
        answers = b""
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(answer_ip)
        head = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180, 1, 1 if answers else 0, 0, 0)
        sock.sendto(head + q[12:end + 5] + answers, peer)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root: a private /etc/resolv.conf (mount namespace) and port 53")
# a pool VM's passt starts in the pool's mount namespace, not in this test's
# private one: the resolv.conf it reads is the host's (the same for any real user)
@pytest.mark.skipif(TEST_POOL, reason="its private /etc/resolv.conf does not reach a pool VM's passt")
def test_dns_through_passt_forwarder(bx, no_leaks, tmp_path):
    """The box's resolver (10.0.2.3, the default /etc/resolv.conf) is passt's
    --dns-forward address: passt relays the query to the first nameserver of
    the HOST's /etc/resolv.conf. The test gives boxvm (hence the shim and
    passt) a private /etc/resolv.conf naming a responder on host loopback, so
    no query leaves the machine."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((DNS_ADDR, 53))
    queries = []
    threading.Thread(target=_dns_responder, args=(sock, "10.1.2.3", queries), daemon=True).start()
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {DNS_ADDR}\n")
    try:
        # busybox's nslookup has its own resolver (a static glibc getaddrinfo cannot load NSS's DNS module)
        p = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                            str(resolv), BOXVM, "run", "--rm", "busybox", "sh", "-c",
                            "cat /etc/resolv.conf; nslookup -type=a svc.boxvm-test"],
                           capture_output=True, env=bx.env, timeout=HANG_GUARD)
    finally:
        sock.close()
    out = p.stdout.decode()
    assert p.returncode == 0, (out, p.stderr.decode())
    assert "nameserver 10.0.2.3" in out
    assert re.search(r"^Address:\s+10\.1\.2\.3$", out, re.M), out
    assert (b"\x03svc\x0aboxvm-test", 1) in queries, queries


def test_network_none_has_only_loopback(bx, no_leaks):
    p = bx("run", "--rm", "--network", "none", "busybox", "sh", "-c",
           "ls /sys/class/net; cat /etc/hosts; ip -o -4 addr show lo", check=0)
    out = p.stdout.decode()
    assert out.split("\n")[0] == "lo"
    assert "127.0.0.1/8" in out
    assert "10.0.2.15" not in out


@pytest.mark.parametrize("args,needle", [
    (["-p", "abc"], "invalid container port"),
    (["-p", "70000:80"], "invalid host port"),
    (["-p", "80/sctp"], "protocol must be tcp or udp"),
    (["--network", "mynet"], "network mynet not found"),
    (["--network", "none", "-p", "80"], "conflicting options"),
    (["--add-host", "nocolon"], "invalid --add-host"),
    (["--dns", "x.y"], "invalid --dns"),
    (["-p", "8000-8002:80-81"], "Invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
    (["-p", "82-80"], "invalid container port range '82-80'"),
    (["-p", "65535-65536:80-81"], "invalid host port"),
    (["--dns-search", "bad domain"], "invalid --dns-search 'bad domain'"),
    (["--dns-search", ""], "invalid --dns-search"),
    (["--dns-option", "ndots:1 edns0"], "invalid --dns-option"),
])
def test_bad_network_flags(bx, no_leaks, args, needle):
    p = bx("run", "--rm", *args, "busybox", "true")
    assert p.returncode == 125, p
    assert needle in p.stderr.decode(), p.stderr


def test_port_in_use_fails_before_boot(bx, no_leaks):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = bx("run", "--rm", "-p", f"127.0.0.1:{port}:80", "busybox", "true")
        assert p.returncode == 125
        err = p.stderr.decode()
        assert f"127.0.0.1:{port}/tcp failed: port is already allocated" in err, err
    finally:
        s.close()
