"""The close story where the peer's FIN (or RST) races our own calls (issue 11, second round):
Python peers time their FIN, alert or RST on purpose, and whatever the order the kernel made,
the story our programs tell must be the one it shows (the story checker runs over every run).
"""

import socket
import ssl

from harness.env import SLOW
from harness.log import first, summary
from harness.net import bio_handshake, one_shot_peer
from harness.tcp import server_conn


def tls_server_fin_on_alert(certfile, keyfile):
    """A TLS server (memory BIO) that answers the client's alert with its FIN at once, as our
    server does after a refused handshake, then reads until the client's FIN."""
    def behaviour(c):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        o = ctx.wrap_bio(inc, out, server_side=True)
        try:
            bio_handshake(o, inc, out, c)
        except ssl.SSLError:
            pass                # the client's alert: our FIN goes now
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass
    return behaviour


def test_close_refusal_peer_fin_at_once(t, client, certs):
    """Our client refuses a self-signed certificate (alert, then close()) and the peer sends
    its FIN as soon as it reads the alert. The client logged `closed` ('close() sends our FIN
    now, the first') before libevent closed the fd, at exit: the peer's FIN was in by then,
    and the close watch showed CLOSE_WAIT after `closed`. close() is ours now, done when
    logged, and what it did is read just after it."""
    for i in range(6):
        w = "run %d" % (i + 1)
        ls, th = one_shot_peer(tls_server_fin_on_alert(certs.path("selfsigned.crt"),
                                                       certs.path("selfsigned.key")))
        with ls:
            r = client("--cacert", certs.ca, "https://localhost:%d/" % ls.getsockname()[1])
        th.join(10 * SLOW)
        t.eq("%s: client exit (the certificate refused)" % w, r.rc, 60)
        c = r.conn()
        cl = first(c, "closed") or {}
        t.check("%s: closed.first_fin is local, peer or both" % w,
                cl.get("first_fin") in ("local", "peer", "both"), "local/peer/both", cl)
        after = [e for e in c[c.index(cl) + 1:] if e.get("event") == "state_change"] if cl else []
        t.check("%s: nothing after `closed` shows the fd still open (ESTABLISHED, CLOSE_WAIT)"
                % w, not [e for e in after if e.get("to") in ("ESTABLISHED", "CLOSE_WAIT")],
                "no such state", summary(after))
        we = first(c, "watch_end") or {}
        t.check("%s: the watch does not end in CLOSE_WAIT or ESTABLISHED" % w,
                we.get("state") not in ("ESTABLISHED", "CLOSE_WAIT"), "a state after close()", we)
        if cl.get("first_fin") == "peer":
            t.check("%s: the peer's FIN first: fin_received before closed" % w,
                    first(c, "fin_received") and c.index(first(c, "fin_received")) < c.index(cl),
                    "fin_received < closed", summary(c))


def tls_client_finished_then_rst(port, ca):
    """A TLS 1.3 client that sends its Finished, its close_notify and its FIN in one segment and
    closes without reading: the server's NewSessionTicket then meets a closed socket, whose
    kernel answers with RST. The server reads Finished with the FIN already in (CLOSE_WAIT),
    then the RST comes. Returns the client's local address."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="localhost")
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
    local = "127.0.0.1:%d" % s.getsockname()[1]
    bio_handshake(o, inc, out, s)
    try:
        o.unwrap()
    except ssl.SSLError:
        pass
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(out.read())
    s.shutdown(socket.SHUT_WR)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    s.close()
    return local


def test_close_fin_then_rst(t, server, certs):
    """The client's FIN comes with its Finished and close_notify, its RST right after (the
    answer of its closed socket to our NewSessionTicket). The server's events showed
    CLOSE_WAIT (the FIN in), then CLOSE: it said `closed.fin_received=false, first_fin=none`,
    as if no FIN had come. The FIN was in first: fin_received (wave 1) before the reset,
    closed.fin_received=true, first_fin=peer."""
    with server(https=0, http=None, selfsigned=None) as srv:
        for i in range(4):
            w = "run %d" % (i + 1)
            local = tls_client_finished_then_rst(srv.port("https"), certs.ca)
            s = server_conn(srv, local)
            cl = first(s, "closed") or {}
            shown = [e.get("event") for e in s if e.get("tcp_state") in ("CLOSE_WAIT", "LAST_ACK")
                     and s.index(e) < (s.index(cl) if cl else len(s))]
            if not shown:
                continue        # the RST came before any event showed the FIN: none is true
            t.eq("%s: closed.fin_received (CLOSE_WAIT was seen on %s)" % (w, shown[0]),
                 cl.get("fin_received"), True)
            t.eq("%s: closed.first_fin" % w, cl.get("first_fin"), "peer")
            fr, rs = first(s, "fin_received"), first(s, "reset", dir="in")
            t.check("%s: fin_received (wave 1) before the reset" % w,
                    fr and fr.get("wave") == 1 and (rs is None or s.index(fr) < s.index(rs)),
                    "fin_received wave=1 < reset", summary(s))
