"""Named networks (boxvm network ...; docs/ARCHITECTURE.md, "Named networks"):
boxes on one network reach each other by IP, name and alias through the
network's DNS, both ways and for a box that joins later; a box on another
network cannot; outbound and -p still work, not on an --internal network;
connect and disconnect of a running box take effect at once (a spare NIC; at
the next start when the box has none left); `network rm`
leaves no namespace, daemon or file; bad input gets Docker's messages.
Nothing is added to the host's own network namespace."""
import json
import os
import re
import socket
import subprocess

import pytest



def host_links():
    """The host namespace's links, but test_cri.py's pod network (its CNI bridge bxcriN and the pods' veths on
    it), which another worker may make or remove meanwhile."""
    lines = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout.splitlines()
    return [ln for ln in lines if not re.match(r"\d+: bxcri", ln) and " master bxcri" not in ln]


def netd_pids(bx):
    """boxvm-netd processes of this test's data directory (the root one per
    network; its DNS responder child runs as nobody)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
            with open(f"/proc/{pid}/status") as f:
                root = any(l.split()[1] == "0" for l in f if l.startswith("Uid:"))
        except (OSError, IndexError):
            continue
        if "boxvm-netd" in cmd and bx.root in cmd and not zombie and root:
            found.append(int(pid))
    return found


def out(p):
    return p.stdout.decode() + p.stderr.decode()


def guest_links(bx, box):
    """The interfaces a box sees (`ip link`): its spare NICs are out of sight until connected."""
    return re.findall(r"^\d+: ([^:@]+)", bx("exec", box, "ip", "link", check=0).stdout.decode(), re.M)


def ip_on(bx, box, net):
    info = json.loads(bx("inspect", box, check=0).stdout)[0]
    return info["NetworkSettings"]["Networks"][net]["IPAddress"]


@pytest.fixture
def clean_networks(bx):
    """Boxes, then networks, go whatever the test did (RUN must end empty for no_leaks)."""
    yield bx
    ids = bx("ps", "-aq", "--no-trunc").stdout.split()
    if ids:
        bx("rm", "-f", *[i.decode() for i in ids])
    bx("network", "prune", "-f")


def test_boxes_on_a_network_resolve_and_reach_each_other(bx, no_leaks, clean_networks, host_server):
    before = host_links()
    net_id = bx("network", "create", "app", check=0).stdout.decode().strip()
    bx("network", "create", "--subnet", "10.77.0.0/24", "other", check=0)
    bx("run", "-d", "--name", "db", "--network", "app", "--network-alias", "database", "busybox", "sleep", "600",
       check=0)
    # a box that joins later, with outbound to the host through its own passt
    bx("run", "-d", "--name", "web", "--network", "app", "--add-host", "hostsvc:host-gateway", "busybox",
       "sleep", "600", check=0)
    db_ip, web_ip = ip_on(bx, "db", "app"), ip_on(bx, "web", "app")
    assert db_ip.startswith("172.18.") and web_ip.startswith("172.18.") and db_ip != web_ip
    # the bridge keeps a MAC of its own (Docker's for the gateway): left to itself it takes its lowest port's
    # and changes when a box joins, and its peers' ARP entries for the DNS responder then point at nothing
    with open(os.path.join(bx.run_dir, f"net-{net_id[:12]}.pid")) as f:
        netd_pid = f.read().split()[0]
    link = subprocess.run(["nsenter", "-t", netd_pid, "-n", "ip", "-o", "link", "show", "br0"], capture_output=True,
                          text=True, timeout=120).stdout
    assert "link/ether 02:42:ac:12:00:01 " in link, link
    # names and aliases, both ways (db was there before web joined)
    p = bx("exec", "web", "nslookup", "database")
    assert p.returncode == 0 and db_ip in out(p), out(p)
    p = bx("exec", "db", "nslookup", "web")
    assert p.returncode == 0 and web_ip in out(p), out(p)
    bx("exec", "web", "ping", "-c1", "-W10", "db", check=0)
    bx("exec", "db", "ping", "-c1", "-W10", "web", check=0)
    # outbound still works on a named network
    p = bx("exec", "web", "wget", "-qO-", f"http://hostsvc:{host_server}/")
    assert p.returncode == 0 and b"hello-outbound" in p.stdout, out(p)
    # inspect: Docker's shapes
    net = json.loads(bx("network", "inspect", "app", check=0).stdout)[0]
    assert net["Id"] == net_id and net["Driver"] == "bridge" and net["Scope"] == "local"
    assert net["IPAM"]["Config"] == [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]
    members = {m["Name"]: m for m in net["Containers"].values()}
    assert members["db"]["IPv4Address"] == db_ip + "/16"
    ns = json.loads(bx("inspect", "db", check=0).stdout)[0]["NetworkSettings"]["Networks"]["app"]
    assert ns["Aliases"][0] == "database" and ns["NetworkID"] == net_id and ns["Gateway"] == "172.18.0.1"
    assert ns["MacAddress"] == members["db"]["MacAddress"]
    # another network: no name, no route to the first network's boxes
    bx("run", "-d", "--name", "iso", "--network", "other", "busybox", "sleep", "600", check=0)
    assert bx("exec", "iso", "nslookup", "db").returncode != 0
    assert bx("exec", "iso", "ping", "-c1", "-W3", db_ip).returncode != 0
    # in use: Docker's refusal
    p = bx("network", "rm", "app")
    assert p.returncode == 1 and "has active endpoints" in out(p)
    # connect of a running box: at once, on a spare NIC (a VM's devices are fixed while it runs)
    p = bx("network", "connect", "--alias", "isolated", "app", "iso", check=0)
    assert "next start" not in out(p), out(p)
    assert bx("network", "connect", "app", "iso").returncode == 1  # already there (Docker's message)
    bx("exec", "iso", "ping", "-c1", "-W10", "db", check=0)
    p = bx("exec", "db", "nslookup", "isolated")
    assert p.returncode == 0 and ip_on(bx, "iso", "app") in out(p), out(p)
    mac = json.loads(bx("inspect", "iso", check=0).stdout)[0]["NetworkSettings"]["Networks"]["app"]["MacAddress"]
    assert mac in bx("exec", "iso", "ip", "link", check=0).stdout.decode()  # Docker's MAC, as after a boot
    # ... and it stays there across a restart (then as a NIC of its own)
    bx("restart", "iso", check=0)
    bx("exec", "iso", "ping", "-c1", "-W10", "db", check=0)
    # disconnect: at once, running or not; the NIC goes down in the guest too
    bx("network", "disconnect", "app", "web", check=0)
    assert bx("exec", "web", "ping", "-c1", "-W3", db_ip).returncode != 0
    assert bx("exec", "db", "nslookup", "web").returncode != 0
    assert web_ip not in bx("exec", "web", "ip", "addr", check=0).stdout.decode()
    p = bx("network", "disconnect", "app", "web")
    assert p.returncode == 1 and "is not connected to network app" in out(p)
    # its NIC is a spare again: web comes back at once
    bx("network", "connect", "app", "web", check=0)
    bx("exec", "web", "ping", "-c1", "-W10", "db", check=0)
    # the host's own namespace never saw a bridge or a tap
    assert host_links() == before
    assert len(netd_pids(bx)) == 2


def test_running_default_box_joins_and_leaves_networks_live(bx, no_leaks, clean_networks, host_server):
    """A box on `default` joins named networks while it runs: each takes one of its spare NICs
    (BX_SPARE_NICS, 2), its resolver becomes the first network's responder; with none left the
    next join waits for its next start. Leaving gives the NIC back and the resolver returns to
    passt's; a network it left can be removed while the box runs on."""
    before = host_links()
    for name in ("n1", "n2", "n3"):
        bx("network", "create", name, check=0)
    bx("run", "-d", "--name", "peer", "--network", "n1", "busybox", "sleep", "600", check=0)
    bx("run", "-d", "--name", "solo", "--add-host", "hostsvc:host-gateway", "busybox", "sleep", "600", check=0)
    assert bx("exec", "solo", "nslookup", "peer").returncode != 0  # no names on default
    assert guest_links(bx, "solo") == ["lo", "eth0"]  # as a container's: its spares are parked
    p = bx("network", "connect", "n1", "solo", check=0)
    assert "next start" not in out(p), out(p)
    assert b"nameserver 172.18.0.1" in bx("exec", "solo", "cat", "/etc/resolv.conf", check=0).stdout
    p = bx("exec", "solo", "ping", "-c1", "-W10", "peer")
    assert p.returncode == 0, out(p)
    p = bx("exec", "peer", "nslookup", "solo")
    assert p.returncode == 0 and ip_on(bx, "solo", "n1") in out(p), out(p)
    # outbound is still passt's
    p = bx("exec", "solo", "wget", "-qO-", f"http://hostsvc:{host_server}/")
    assert p.returncode == 0 and b"hello-outbound" in p.stdout, out(p)
    p = bx("network", "connect", "n2", "solo", check=0)
    assert "next start" not in out(p), out(p)
    assert len(guest_links(bx, "solo")) == 4  # both spares in sight now, as the networks' NICs
    p = bx("network", "connect", "n3", "solo", check=0)  # no spare left
    assert "joins network n3 at its next start" in out(p) and "no spare network interface" in out(p), out(p)
    # leaving: the NIC is down in the guest, the resolver is passt's again once no network is left
    bx("network", "disconnect", "n3", "solo", check=0)
    bx("network", "disconnect", "n2", "solo", check=0)
    bx("network", "disconnect", "n1", "solo", check=0)
    assert b"nameserver 10.0.2.3" in bx("exec", "solo", "cat", "/etc/resolv.conf", check=0).stdout
    assert bx("exec", "solo", "ping", "-c1", "-W3", ip_on(bx, "peer", "n1")).returncode != 0
    assert b"172.18." not in bx("exec", "solo", "ip", "addr", check=0).stdout
    assert guest_links(bx, "solo") == ["lo", "eth0"]  # parked again
    # the networks it left go while it runs on (its taps are parked with its VM, not in them)
    assert bx("network", "rm", "n2", "n3", check=0).returncode == 0
    assert bx("exec", "solo", "true").returncode == 0
    # and both spares are there again
    for name in ("n1", "n2"):
        if name == "n2":
            bx("network", "create", "n2", check=0)
        p = bx("network", "connect", name, "solo", check=0)
        assert "next start" not in out(p), out(p)
    # Docker's DNS answers for running boxes only: peer's name is gone when `stop` returns, back when
    # `start` does (the shim has every network daemon re-read the records before it reports)
    peer_ip = ip_on(bx, "peer", "n1")
    bx("stop", "-t", "1", "peer", check=0)
    assert peer_ip not in out(bx("exec", "solo", "nslookup", "peer"))
    bx("start", "peer", check=0)
    p = bx("exec", "solo", "nslookup", "peer")
    assert peer_ip in out(p), out(p)
    assert host_links() == before


def test_internal_network_has_no_way_out(bx, no_leaks, clean_networks, host_server):
    bx("network", "create", "--internal", "--label", "tier=back", "priv", check=0)
    p = bx("run", "--rm", "--network", "priv", "-p", "8080:80", "busybox", "true")
    assert p.returncode == 125 and "internal" in out(p)
    p = bx("run", "--rm", "--network", "priv", "busybox", "sh", "-c",
           f"wget -T 5 -qO- http://10.0.2.2:{host_server}/ || echo NO-WAY-OUT; ip route")
    assert p.returncode == 0, out(p)
    assert b"NO-WAY-OUT" in p.stdout and b"default" not in p.stdout, out(p)
    net = json.loads(bx("network", "inspect", "priv", check=0).stdout)[0]
    assert net["Internal"] is True and net["Labels"] == {"tier": "back"}


def test_network_rm_leaves_nothing(bx, no_leaks, clean_networks):
    bx("network", "create", "gone", check=0)
    bx("run", "--rm", "--network", "gone", "busybox", "true", check=0)
    assert len(netd_pids(bx)) == 1  # the network's daemon outlives its boxes
    assert bx("network", "rm", "gone", check=0).stdout == b"gone\n"
    assert not netd_pids(bx)  # rm returns once the daemon has exited (bx_netd_stop waits on its pidfd)
    assert not os.listdir(bx.run_dir)
    assert not [f for f in os.listdir(os.path.join(bx.root, "networks")) if not f.startswith(".")]
    assert bx("network", "ls", "-q", check=0).stdout == b""


def test_bad_network_input(bx, no_leaks, clean_networks):
    cases = [
        (("network", "create", "--subnet", "foo", "n1"), 1, "Invalid subnet foo : invalid CIDR address: foo"),
        (("network", "create", "--subnet", "10.1.0.0/33", "n1"), 1, "invalid CIDR address: 10.1.0.0/33"),
        (("network", "create", "--gateway", "10.2.0.1", "n1"), 1,
         "every ip-range or gateway must have a corresponding subnet"),
        (("network", "create", "--subnet", "10.1.0.0/16", "--gateway", "10.2.0.1", "n1"), 1,
         "no matching subnet for gateway 10.2.0.1"),
        (("network", "rm", "nosuch"), 1, "No such network: nosuch"),
        (("network", "inspect", "nosuch"), 1, "No such network: nosuch"),
        (("network", "connect", "nosuch", "nobox"), 1, "No such container: nobox"),
        (("run", "--rm", "--network", "nosuch", "busybox", "true"), 125, "network nosuch not found"),
        (("run", "--rm", "--network", "container:x", "busybox", "true"), 125, "cannot share"),
        (("run", "--rm", "--network-alias", "a", "busybox", "true"), 125,
         "network-scoped alias is supported only for containers in user defined networks"),
        (("network", "create", "default"), 1, "predefined default network"),
    ]
    for args, code, msg in cases:
        p = bx(*args)
        assert p.returncode == code and msg in out(p), (args, out(p))
    bx("network", "create", "--subnet", "10.5.0.0/16", "a1", check=0)
    p = bx("network", "create", "--subnet", "10.5.3.0/24", "a2")
    assert p.returncode == 1 and "Pool overlaps with other one on this address space" in out(p)
    p = bx("network", "create", "a1")
    assert p.returncode == 1 and "network with name a1 already exists" in out(p)
    assert bx("network", "prune", "-f", check=0).stdout == b"Deleted Networks:\na1\n\n"


def test_requested_addresses_and_prune_filters(bx, no_leaks, clean_networks):
    """--ip on run/create and network connect (Docker's checks and messages, inspect's IPAMConfig);
    network prune's prompt and filters; system prune removes unused networks. No VM boots."""
    p = bx("run", "--rm", "--ip", "1.2.3.4", "busybox", "true")
    assert p.returncode == 125 and "user specified IP address is supported on user defined networks only" in out(p)
    bx("network", "create", "--subnet", "10.6.0.0/24", "ipn", check=0)
    bx("network", "create", "auto", check=0)
    bx("create", "--name", "ipbox", "--network", "ipn", "--ip", "10.6.0.50", "busybox", "true", check=0)
    members = json.loads(bx("network", "inspect", "ipn", check=0).stdout)[0]["Containers"]
    assert [m["IPv4Address"] for m in members.values()] == ["10.6.0.50/24"]
    ns = json.loads(bx("inspect", "ipbox", check=0).stdout)[0]["NetworkSettings"]["Networks"]["ipn"]
    assert ns["IPAMConfig"] == {"IPv4Address": "10.6.0.50"}
    cases = [
        ("10.6.0.50", "Address already in use"),
        ("10.6.0.1", "Address already in use"),  # the gateway
        ("10.6.1.5", "Invalid address 10.6.1.5: It does not belong to any of this network's subnets"),
        ("10.6.0.255", "It does not belong to any of this network's subnets"),
        ("bogus", "invalid IPv4 address: bogus"),
    ]
    for ip, msg in cases:
        p = bx("create", "--network", "ipn", "--ip", ip, "busybox", "true")
        assert p.returncode == 1 and msg in out(p), (ip, out(p))  # create: the daemon's errors exit 1
    p = bx("network", "connect", "--ip", "172.18.0.77", "auto", "ipbox")
    assert p.returncode == 1 and ("user specified IP address is supported only when connecting to networks with "
                                  "user configured subnets") in out(p), out(p)
    bx("network", "disconnect", "ipn", "ipbox", check=0)
    bx("network", "connect", "--ip", "10.6.0.9", "ipn", "ipbox", check=0)
    assert ip_on(bx, "ipbox", "ipn") == "" and "10.6.0.9/24" in bx("network", "inspect", "ipn", check=0).stdout.decode()
    bx("rm", "ipbox", check=0)
    # prune: Docker's prompt (no: nothing goes), filters
    bx("network", "create", "--label", "tier=back", "lab1", check=0)
    p = bx("network", "prune", input=b"n\n")
    assert p.returncode == 0 and b"WARNING! This will remove all custom networks not used by at least one container." \
        in p.stdout, out(p)
    assert bx("network", "prune", "-f", "--filter", "label=tier=back", check=0).stdout == b"Deleted Networks:\nlab1\n\n"
    assert bx("network", "prune", "-f", "--filter", "until=1h", check=0).stdout == b""  # all made just now
    p = bx("network", "prune", "-f", "--filter", "bogus=1")
    assert p.returncode == 1 and "invalid filter 'bogus'" in out(p), out(p)
    p = bx("system", "prune", "-f", check=0)
    assert b"Deleted Networks:\nauto\nipn\n\n" in p.stdout, out(p)
    assert json.loads(bx("network", "ls", "--format", "{{json .}}", check=0).stdout or b"null") is None


# Runs inside the network's namespace (nsenter): asks the responder one query
# at a time from the gateway's own address (in the subnet, a querier it does
# not know: an internal network answers SERVFAIL at once), each with its own
# ID, until stdin closes; prints how many got no answer within 3 s.
DNS_PROBE = r"""
import select, socket, struct, sys
gw = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((gw, 0))
s.settimeout(3)
print("ready", flush=True)
sent = lost = 0
while not select.select([sys.stdin], [], [], 0)[0]:
    qid = sent & 0xFFFF
    s.sendto(struct.pack(">HHHHHH", qid, 0x100, 1, 0, 0, 0) + b"\x04peer\x00\x00\x01\x00\x01", (gw, 53))
    sent += 1
    try:
        while struct.unpack(">H", s.recv(512)[:2])[0] != qid:
            pass
    except socket.timeout:
        lost += 1
print(sent, lost, flush=True)
"""


def test_dns_answers_every_query_while_its_table_changes(bx, no_leaks, clean_networks):
    """Each change of a network's records gives its DNS responder a new table. A query the
    responder has read when that happens is still answered (the responder used to be killed
    with it in hand: a lost query that, with A and AAAA sharing one ID, left a lookup without
    an address)."""
    net_id = bx("network", "create", "--internal", "quiet", check=0).stdout.decode().strip()
    gw = json.loads(bx("network", "inspect", "quiet", check=0).stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    bx("run", "-d", "--name", "member", "--network", "quiet", "busybox", "sleep", "600", check=0)  # starts netd
    (pid,) = netd_pids(bx)
    probe = subprocess.Popen(["nsenter", "-t", str(pid), "-n", "python3", "-c", DNS_PROBE, gw],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert probe.stdout.readline().strip() == "ready"
        ctl = os.path.join(bx.run_dir, f"net-{net_id[:12]}.sock")
        for _ in range(400):  # what every command that changes a record does (bx_netd_sync)
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(ctl)
                c.sendall(b"reload\n")
                assert c.recv(16) == b"ok\n"
        probe.stdin.close()
        sent, lost = map(int, probe.stdout.readline().split())
    finally:
        probe.kill()
        probe.wait()
    assert sent > 400 and lost == 0, (sent, lost)
