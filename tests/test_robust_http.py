"""Hardening, second round (issue 12, item 9): HTTP conformance probes. Two Host headers or a
Host that is not host[:port] get 400 (RFC 9112 3.2); Expect: 100-continue is answered (RFC
9110 10.1.1: 100 Continue before a body the server reads, the final status at once for one it
does not); a TLS alert of RFC 8446/5246 that the table lacked (no_renegotiation, 100) is named,
not "unknown_alert". Loopback only, kernel-picked ports, every wait bounded.
"""

import socket

from harness.env import SLOW
from harness.log import events, first
from harness.net import one_shot_peer, read_response, Reader, recv_all, split_response

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _conn(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)


def _recv_some(s, timeout):
    """What the server sends within timeout seconds (b"" if nothing): curl waits 1 s for a
    100 Continue, so 2 s (times SLOW) is more than a client would."""
    s.settimeout(timeout * SLOW)
    try:
        return s.recv(65536)
    except socket.timeout:
        return b""
    finally:
        s.settimeout(5 * SLOW)


def test_host_header_rfc9112(t, server):
    """Two Host headers, or one whose value is not uri-host[:port] (a blank, a '/', an '@',
    non-ASCII), get 400 and a close with the reason logged; valid forms are still served."""
    bad = [
        ("two Host headers", b"Host: a\r\nHost: b\r\n", "several Host headers"),
        ("two equal Host headers", b"Host: a\r\nhost: a\r\n", "several Host headers"),
        ("Host: a b", b"Host: a b\r\n", "not a host"),
        ("Host: a/b", b"Host: a/b\r\n", "not a host"),
        ("Host: user@a", b"Host: user@a\r\n", "not a host"),
        ("Host: a:80x", b"Host: a:80x\r\n", "not a host"),
        ("Host: [::1", b"Host: [::1\r\n", "not a host"),
    ]
    good = [b"localhost", b"127.0.0.1:8080", b"[::1]:8443", b"xn--bcher-kva.example", b""]
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        for what, hdr, reason in bad:
            with _conn(port) as s:
                local = "%s:%d" % s.getsockname()
                s.sendall(b"GET / HTTP/1.1\r\n" + hdr + b"Connection: close\r\n\r\n")
                data, closed = recv_all(s)
            t.eq("%s: status (RFC 9112 3.2: MUST be 400)" % what, split_response(data)[0], 400)
            t.eq("%s: closed" % what, closed, True)
            err = first(srv.conn_events(local), "http_error") or {}
            t.icontains("%s: http_error.reason" % what, str(err.get("reason")), reason)
        # HTTP/1.0 too: "any request message that contains more than one Host"
        with _conn(port) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")
            data, closed = recv_all(s)
        t.eq("HTTP/1.0 with two Host headers: status", split_response(data)[0], 400)
        for host in good:
            with _conn(port) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
                data, closed = recv_all(s)
            t.eq("Host: %s: status" % host.decode(), split_response(data)[0], 200)


def test_expect_100_continue(t, server):
    """Expect: 100-continue: 100 Continue at once before a body the server reads (then the
    final answer after the body), the final status at once for a body it will not read (405,
    413: Connection: close, the body never sent), none to HTTP/1.0 or when the body is
    already there; the interim response is logged."""
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")

        # a GET with a 5-byte body: 100 first, then 200 after the body, on a kept connection
        with _conn(port) as s:
            local = "%s:%d" % s.getsockname()
            s.sendall(b"GET /?text HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            got = _recv_some(s, 2)
            t.eq("GET with Expect: 100 Continue before the body is sent", got, CONTINUE)
            s.sendall(b"hello")
            rd = Reader(s)
            rd.buf = got[len(CONTINUE):] if got.startswith(CONTINUE) else got
            st, h, body = read_response(rd)
            t.eq("GET with Expect: the final status after the body", st, 200)
            t.icontains("GET with Expect: the connection is kept", h.get("connection", ""),
                        "keep-alive")
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            t.eq("GET with Expect: the next request on it", read_response(rd)[0], 200)
        evs = srv.conn_events(local)
        resp = events(evs, "response")
        t.eq("the log: an interim response 100, then the final 200 and the next 200",
             [(e.get("status"), e.get("interim", False)) for e in resp],
             [(100, True), (200, False), (200, False)])

        # a chunked body: 100 too
        with _conn(port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
            got = _recv_some(s, 2)
            t.eq("chunked body with Expect: 100 Continue", got, CONTINUE)
            s.sendall(b"5\r\nhello\r\n0\r\n\r\n")
            data, closed = recv_all(s)
        t.eq("chunked body with Expect: then 200", split_response(got[len(CONTINUE):] + data)[0],
             200)

        # a PUT (not served: 405) whatever the body says, so at once, and the body is never sent
        with _conn(port) as s:
            local = "%s:%d" % s.getsockname()
            s.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            got = _recv_some(s, 2)
            data, closed = recv_all(s)
        st, h, _, _ = split_response(got + data)
        t.eq("PUT with Expect: 405 at once, without waiting for the body", st, 405)
        t.check("PUT with Expect: no 100 Continue", not got.startswith(b"HTTP/1.1 100"),
                "no 100", got[:40])
        t.icontains("PUT with Expect: Connection: close", h.get("connection", ""), "close")
        t.eq("PUT with Expect: closed", closed, True)
        cl = first(srv.conn_events(local), "closed") or {}
        t.icontains("PUT with Expect: closed.reason", str(cl.get("reason")),
                    "Expect: 100-continue")

        # a body over the limit: 413 at once
        with _conn(port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            got = _recv_some(s, 2)
            data, closed = recv_all(s)
        t.eq("50 MB body with Expect: 413 at once", split_response(got + data)[0], 413)

        # HTTP/1.0 knows no 1xx; a body already sent needs no invitation
        for what, req in (
                ("HTTP/1.0 with Expect", b"GET / HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Expect: 100-continue\r\n\r\nhello"),
                ("the body in the same segment", b"GET / HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello")):
            with _conn(port) as s:
                s.sendall(req)
                data, closed = recv_all(s)
            t.check("%s: no 100 Continue, the final 200" % what,
                    data.startswith(b"HTTP/1.1 200 "), "HTTP/1.1 200", data[:40])


def test_alert_names_rfc8446(t, client):
    """A server that answers the ClientHello with alert 100 (no_renegotiation, RFC 5246; in
    RFC 8446 no_renegotiation_RESERVED): the client's log names it, not "unknown_alert"."""
    def beh(c):
        c.recv(65536)                                   # the ClientHello
        c.sendall(bytes.fromhex("15030300020264"))      # alert record: fatal (2), 100
        c.recv(1)

    ls, th = one_shot_peer(beh)
    try:
        r = client("https://127.0.0.1:%d/" % ls.getsockname()[1], "-k")
    finally:
        ls.close()
        th.join(1)
    al = events(r.ev, "alert")
    t.eq("alert 100 received: its name", [(e.get("dir"), e.get("desc")) for e in al],
         [("in", "no_renegotiation")])
    t.check("no 'unknown_alert' anywhere in the log", "unknown_alert" not in r.err,
            "no unknown_alert", [l for l in r.err.splitlines() if "unknown_alert" in l][:2])
