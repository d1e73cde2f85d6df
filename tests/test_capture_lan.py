"""Issue 13 item 6: --capture and --wire capture where the connection is, not only on lo. A
classroom's server is bound to a LAN address and the students' segments cross a LAN interface:
here a veth pair into a network namespace this test makes (a `dummy` interface does not exist
on these kernels, and an extra address on a host interface would still route over lo). Root
only (ip netns, CAP_NET_RAW); every namespace, veth and bridge is named uniquely for this run
and removed at the end, even when a check or the set-up fails."""

from harness.env import CLIENT
from harness.log import events, first, summary
from harness.lan import Lan, gone, lan_ok  # noqa: F401 (lan_ok: a fixture)


def student(t, run, lan, *args, name="client in the namespace"):
    """build/client run in the namespace (JSON log), handed to the story checker."""
    r = run(["ip", "netns", "exec", lan.ns, CLIENT, "--log-format", "json"] + list(args),
            name=name, san=True)
    if hasattr(t, "log_run") and r.ev:
        t.log_run("client", name, r.ev)
    return r


def segs(c, step=None, d=None):
    return [e for e in c if e.get("event") == "segment" and (step is None or
            e.get("step") == step) and (d is None or e.get("dir") == d)]


def check_handshake_and_close(t, who, c, iface, active):
    """The textbook's numbers on one side's segments: SYN seq=x, SYN+ACK seq=y ack=x+1, ACK
    seq=x+1 ack=y+1; both FINs, each ACKed with its seq + 1; every one seen on iface (unless
    None), which the first one names."""
    out_syn, in_syn = ("out", "in") if active else ("in", "out")
    syn, synack = segs(c, "syn", out_syn), segs(c, "syn_ack", in_syn)
    ack = segs(c, "ack_handshake", out_syn)
    t.eq("%s: one SYN, one SYN+ACK, one handshake ACK" % who,
         (len(syn), len(synack), len(ack)), (1, 1, 1))
    if syn and synack and ack:
        x, y = syn[0]["seq"], synack[0]["seq"]
        t.eq("%s: SYN+ACK ack = x+1" % who, synack[0]["ack"], (x + 1) % 2**32)
        t.eq("%s: 3rd handshake seq = x+1, ack = y+1" % who, (ack[0]["seq"], ack[0]["ack"]),
             ((x + 1) % 2**32, (y + 1) % 2**32))
    fins = [e for e in segs(c) if "FIN" in str(e.get("flags")).split(",")]
    t.eq("%s: two FINs, one each way" % who, sorted(e.get("dir") for e in fins), ["in", "out"])
    for f in fins:
        end = (f["seq"] + f["len"] + 1) % 2**32
        acked = [e for e in segs(c) if e.get("dir") != f.get("dir") and e.get("ack") == end]
        t.check("%s: the %s FIN (seq %d) is ACKed with seq+1" % (who, f.get("dir"), f["seq"]),
                acked, "a segment with ack=%d" % end, summary(segs(c))[:600])
    if iface is None:       # a bridge: each direction on its own first interface
        return
    t.eq("%s: every segment captured on %s" % (who, iface),
         sorted(set(e.get("iface") for e in segs(c))), [iface])
    t.contains("%s: the first segment says where it was captured" % who,
               (segs(c) or [{}])[0].get("detail", ""), "(captured on %s)" % iface)
    t.eq("%s: said once" % who, sum("captured on" in e.get("detail", "") for e in segs(c)), 1)


def test_capture_lan_http(t, lan_ok, server, run):
    """The teacher's server bound to the LAN address with --capture --wire, a student's
    client in the namespace: the server's log shows that connection's SYN, SYN+ACK, ACK and
    both FINs with their seq/ack, seen on the veth; --wire shows the request in clear text.
    The client in the namespace, with --capture too, captured the same SYN (same x) on its
    own end of the pair. A loopback connection (to a server on 127.0.0.1) is still captured,
    and says nothing of an interface. (Before: the capture listened on lo only, and a LAN
    connection had no segment at all.)"""
    with Lan() as lan:
        if not lan.ok:
            t.skip("could not make a network namespace with a veth pair here: %s" % lan.why)
        with server("--capture", "--wire", bind=lan.host, https=None,
                    selfsigned=None) as srv:
            url = "http://%s:%d/" % (lan.host, srv.port("http"))
            r = student(t, run, lan, "--capture", url)
            t.eq("client in the namespace: exit", r.rc, 0)
            t.contains("client in the namespace: the page", r.text, "your connection")
            s = srv.conn_events(r.local())
            err = srv.stderr()
        # One server per address: with port 0 a server gives all its addresses the port the
        # first one got, which another program may hold on loopback.
        with server("--capture", bind="127.0.0.1", https=None, selfsigned=None) as srv:
            lo = run([CLIENT, "--log-format", "json", "http://127.0.0.1:%d/" % srv.port("http")],
                     name="client on loopback")
            t.eq("client on loopback: exit", lo.rc, 0)
            slo = srv.conn_events(lo.local())
        t.check("server: no 'cannot capture'", "cannot capture" not in err, "none", err[-300:])
        t.check("client: no 'cannot capture'", "cannot capture" not in r.err, "none",
                r.err[-300:])
        t.eq("client: from the namespace's address", (r.local() or "").rsplit(":", 1)[0],
             lan.there)
        check_handshake_and_close(t, "server", s, lan.veth, active=False)
        check_handshake_and_close(t, "client", r.conn(), lan.peer, active=True)
        csyn, ssyn = segs(r.conn(), "syn"), segs(s, "syn")
        if csyn and ssyn:
            t.eq("the same SYN on both ends of the pair (x)", ssyn[0]["seq"], csyn[0]["seq"])
        # --wire: the eavesdropper on the LAN reads the request
        req = [e for e in segs(s, d="in") if e.get("len", 0) > 0]
        t.check("server --wire: the request's segment", req, "one", summary(segs(s))[:600])
        if req:
            t.eq("server --wire: readable", (req[0].get("wire"), req[0].get("wire_readable")),
                 ("plain", True))
            t.check("server --wire: the request line in clear",
                    req[0].get("wire_preview", "").startswith("GET / HTTP/1.1"),
                    "GET / HTTP/1.1...", req[0].get("wire_preview"))
            t.contains("server --wire: the Host the student asked for",
                       req[0].get("wire_preview", ""), lan.host)
        # loopback, through the same capture
        t.check("loopback: segments captured", segs(slo, "syn"), "a SYN", summary(slo)[:300])
        t.eq("loopback: no interface named (iface is for the others)",
             sorted(set(str(e.get("iface")) for e in segs(slo))), ["None"])
        t.check("loopback: no interface named in the text",
                not any("captured on" in e.get("detail", "") for e in segs(slo)), "none",
                [e.get("detail") for e in segs(slo)][:3])
    t.eq("namespace and veth removed", gone(lan), [])


def test_capture_lan_https_wire(t, lan_ok, server, run):
    """The same LAN over HTTPS (-k: the demo certificate does not name the address): --wire
    on the server shows the ClientHello readable and the request only as TLS records around
    ciphertext, never its text."""
    with Lan() as lan:
        if not lan.ok:
            t.skip("could not make a network namespace with a veth pair here: %s" % lan.why)
        with server("--wire", bind=lan.host, http=None, selfsigned=None) as srv:
            url = "https://%s:%d/" % (lan.host, srv.port("https"))
            r = student(t, run, lan, "-k", url)
            t.eq("client in the namespace -k: exit", r.rc, 0)
            s = srv.conn_events(r.local())
        data = [e for e in segs(s, d="in") if e.get("len", 0) > 0]
        t.check("server --wire: segments with data from the student", data, "some",
                summary(s)[:400])
        t.check("server --wire: the ClientHello in the clear",
                any("ClientHello" in str(e.get("wire_records")) for e in data), "ClientHello",
                [e.get("wire_records") for e in data])
        t.check("server --wire: nothing from the student readable but the hello",
                all(e.get("wire") == "tls" for e in data), "all tls",
                [e.get("wire") for e in data])
        t.check("server --wire: the request never in clear",
                not any("GET /" in str(e.get("wire_preview")) for e in data), "absent",
                [e.get("wire_preview") for e in data])
        t.check("server --wire: the request as application_data",
                any("application_data" in str(e.get("wire_records")) for e in data),
                "application_data(23)", [e.get("wire_records") for e in data])
        t.eq("server: captured on the veth", sorted(set(e.get("iface") for e in segs(s))),
             [lan.veth])
    t.eq("namespace and veth removed", gone(lan), [])


def test_capture_lan_bridge_once(t, lan_ok, server, run):
    """A LAN interface inside a bridge (the address on the bridge, the veth its port): the
    "any" capture sees every segment twice, on the port and on the bridge. Each is logged
    once: no SYN 'sent again', no segment twice, each direction on one interface. (Without
    the check of the interface, every segment came twice and the second SYN read as a
    retransmission.)"""
    with Lan(bridge=True) as lan:
        if not lan.ok:
            t.skip("could not make a bridge with a veth port here: %s" % lan.why)
        with server("--capture", bind=lan.host, https=None, selfsigned=None) as srv:
            url = "http://%s:%d/" % (lan.host, srv.port("http"))
            r = student(t, run, lan, url)
            t.eq("client in the namespace: exit", r.rc, 0)
            s = srv.conn_events(r.local())
        sg = segs(s)
        t.check("server: segments captured", sg, "some", summary(s)[:300])
        t.check("server: no retransmission claimed",
                not any(str(e.get("step")).endswith("_resent") for e in sg), "none",
                [e.get("step") for e in sg])
        keys = [(e.get("dir"), e.get("flags"), e.get("seq"), e.get("ack"), e.get("len"))
                for e in sg]
        t.eq("server: no segment logged twice", len(keys), len(set(keys)))
        check_handshake_and_close(t, "server", s, None, active=False)
        for d in ("in", "out"):
            names = set(e.get("iface") for e in segs(s, d=d))
            t.check("server: %s segments on one interface" % d, len(names) == 1 and
                    names <= {lan.veth, lan.br}, "%s or %s" % (lan.veth, lan.br), names)
    t.eq("namespace, veth and bridge removed", gone(lan), [])


def test_capture_lan_ipv6(t, lan_ok, server, run):
    """The same over IPv6 (a ULA address on each end of the pair): the cooked header's
    protocol says IPv6, and the segments are the connection's, seen on the veth."""
    with Lan() as lan:
        if not lan.ok:
            t.skip("could not make a network namespace with a veth pair here: %s" % lan.why)
        with server("--capture", bind=lan.host6, https=None, selfsigned=None) as srv:
            url = "http://[%s]:%d/" % (lan.host6, srv.port("http"))
            r = student(t, run, lan, url)
            t.eq("client in the namespace: exit", r.rc, 0)
            s = srv.conn_events(r.local())
        t.eq("client: from the namespace's IPv6 address",
             (r.local() or "").rsplit(":", 1)[0].strip("[]"), lan.there6)
        check_handshake_and_close(t, "server", s, lan.veth, active=False)
    t.eq("namespace and veth removed", gone(lan), [])


# A class connecting at once: N sockets connect together, then each sends one request and
# reads its answer to the end. Prints how many got 200.
BURST = r"""
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    socks.append(s)
req = ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode()
ok = 0
for s in socks:
    s.setblocking(True)
    s.settimeout(10)
    data = b""
    try:
        s.sendall(req)
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    ok += data.startswith(b"HTTP/1.1 200")
    s.close()
print(ok)
"""


def test_capture_lan_class_at_once(t, lan_ok, server, run):
    """100 students' connections arrive together: while they wait in the accept queue their
    handshake segments are held until accept() names them, and every one is logged, SYN,
    SYN+ACK and ACK. (Before: 64 segments were held, and a burst of 100 connections kept
    the SYN of about 20.)"""
    n = 100
    with Lan() as lan:
        if not lan.ok:
            t.skip("could not make a network namespace with a veth pair here: %s" % lan.why)
        with server("--capture", bind=lan.host, https=None, selfsigned=None) as srv:
            r = run(["ip", "netns", "exec", lan.ns, "/usr/bin/python3", "-c", BURST, lan.host,
                     str(srv.port("http")), str(n)], name="a class at once", timeout=30)
            t.eq("every student got the page", r.text.strip(), str(n))
            t.eq("the server closed all of them", srv.wait_count("closed", n, timeout=10), n)
            evs = list(srv.evs)
    est = {e.get("conn") for e in events(evs, "established")}
    t.eq("connections", len(est), n)
    for step in ("syn", "syn_ack", "ack_handshake"):
        have = {e.get("conn") for e in events(evs, "segment", step=step)}
        t.eq("connections with their %s logged" % step, len(est & have), n)
    t.eq("namespace and veth removed", gone(lan), [])
