"""The server's HTTP/1.1 (status codes, keep-alive, limits, pipelining), its idle timeout,
SIGTERM, and its start-up errors.
"""

import os
import shutil
import signal
import socket
import time

from harness.env import SLOW
from harness.log import assert_order, check_close, events, first, summary
from harness.net import http_exchange, read_response, Reader, recv_all, rst_close, split_response


def test_http_semantics(t, server, client):
    """10. The server's HTTP/1.1: 404, 405, HEAD, Connection: close, keep-alive, 400, 431, ?text."""
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        data, closed = http_exchange(port, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("GET /nope: status", st, 404)
        t.eq("GET /nope: Content-Length matches", int(h.get("content-length", -1)), len(body))

        data, closed = http_exchange(port, b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                           b"Connection: close\r\n\r\nhi")
        st, h, body, _ = split_response(data)
        t.eq("PUT /: status", st, 405)
        t.check("PUT /: Allow header lists GET", "GET" in h.get("allow", ""), "GET, HEAD, POST",
                h.get("allow"))

        data, closed = http_exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, h, body, sep = split_response(data)
        t.eq("HEAD /: status", st, 200)
        t.check("HEAD /: Content-Length > 0", int(h.get("content-length", "0")) > 0, "> 0",
                h.get("content-length"))
        t.eq("HEAD /: no body", body, b"")
        t.eq("HEAD / with Connection: close: server closed", closed, True)

        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("GET / Connection: close: status", st, 200)
        t.eq("GET / Connection: close: server closed after the response", closed, True)
        t.eq("GET / Connection: close: whole body", len(body), int(h.get("content-length", -1)))
        t.contains("GET /: text/html", h.get("content-type", ""), "text/html")

        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            st1, h1, b1 = read_response(s)
            local = "%s:%d" % s.getsockname()
            s.sendall(b"GET /?text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            st2, h2, b2 = read_response(s)
            rest, closed = recv_all(s)
        t.eq("keep-alive: first response", st1, 200)
        t.icontains("keep-alive: first response says keep-alive", h1.get("connection", ""), "keep-alive")
        t.eq("keep-alive: second response on the same connection", st2, 200)
        t.contains("?text: text/plain", h2.get("content-type", ""), "text/plain")
        t.check("?text: no HTML", b"<html" not in b2 and len(b2) > 0, "plain text", b2[:200])
        t.eq("keep-alive: closed after the Connection: close request", (rest, closed), (b"", True))
        s_evs = srv.conn_events(local)
        t.eq("server log: two requests on one connection", len(events(s_evs, "request")), 2)
        t.eq("server log: targets", [e.get("target") for e in events(s_evs, "request")],
             ["/", "/?text"])

        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n"
                                     b"Connection: close\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.contains("Accept: text/plain: text/plain", h.get("content-type", ""), "text/plain")

        data, closed = http_exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                           b"Transfer-Encoding: chunked\r\n\r\nabc")
        st, h, body, _ = split_response(data)
        t.eq("Content-Length + Transfer-Encoding: status", st, 400)
        t.eq("Content-Length + Transfer-Encoding: server closes", closed, True)

        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 +
                                     b"\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("9000-byte header: status", st, 431)
        t.eq("9000-byte header: server closes", closed, True)

        data, closed = http_exchange(port, b"GARBAGE\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("garbage request line: status", st, 400)

        data, closed = http_exchange(port, b"GET / HTTP/1.0\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("HTTP/1.0 without Host: status", st, 200)
        t.eq("HTTP/1.0: server closes after the response", closed, True)

        # three pipelined requests in one segment: three responses, in order
        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /?text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            rd = Reader(s)
            got = [read_response(rd)[0] for _ in range(3)]
            rest, closed = recv_all(s)
            rest = rd.buf + rest
        t.eq("pipelined: statuses in order", got, [200, 404, 200])
        t.eq("pipelined: closed after the third", (rest, closed), (b"", True))

        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        t.eq("HTTP/1.1 request without Host: status (RFC 9112 3.2: MUST be 400)",
             split_response(data)[0], 400)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(120))
        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        t.eq("120 header lines: status", split_response(data)[0], 431)
        some = b"".join(b"X-H%d: v\r\n" % i for i in range(50))
        data, closed = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + some +
                                     b"Connection: close\r\n\r\n")
        t.eq("50 header lines: status", split_response(data)[0], 200)
        data, closed = http_exchange(port, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        t.eq("HTTP/2.0 request line: status", split_response(data)[0], 505)

        # a client that resets with unread requests and responses must not hurt the server
        s = socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
        local = "%s:%d" % s.getsockname()
        rst_close(s)
        rs = srv.wait_for(lambda e: e.get("event") in ("reset", "closed") and
                          e.get("conn") == srv.conn_of(local))
        t.check("server logs the RST of a client that aborted", rs and rs.get("event") == "reset",
                "reset", summary(srv.conn_events(local)))

        # the server survives all of the above and still answers
        r = client("http://127.0.0.1:%d/" % port)
        t.eq("client still served afterwards: exit", r.rc, 0)


def test_idle_timeout(t, server):
    """Keep-alive idle timeout: --idle-timeout 1 closes an idle connection after ~1 s."""
    with server("--idle-timeout", "1", https=None, selfsigned=None) as srv:
        port = srv.port("http")
        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            st, h, b = read_response(s)
            t.eq("response", st, 200)
            t0 = time.monotonic()
            rest, closed = recv_all(s)
            idle = time.monotonic() - t0
            local = "%s:%d" % s.getsockname()
        t.eq("the server closes the idle connection (EOF)", (rest, closed), (b"", True))
        t.check("after about 1 s", 0.7 < idle < 3 * SLOW, "0.7 .. 3 s", "%.2f s" % idle)
        ev = srv.conn_events(local)
        fs = first(ev, "fin_sent") or {}
        t.icontains("server fin_sent.reason says idle", str(fs.get("reason")), "idle")
        assert_order(t, "server", ev, ["request", "response", "fin_sent", "fin_received", "closed"])
        check_close(t, "server", ev)

        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")     # an unfinished head
            t0 = time.monotonic()
            rest, closed = recv_all(s)
        t.check("an unfinished request head is closed after about 1 s", closed and
                time.monotonic() - t0 < 3 * SLOW, "EOF within 3 s",
                "%r after %.2f s" % (rest[:100], time.monotonic() - t0))

    with server("--idle-timeout", "1", http=None, selfsigned=None,
                name="server (https, idle 1 s)") as srv:
        with socket.create_connection(("127.0.0.1", srv.port("https")), timeout=6 * SLOW) as s:
            t0 = time.monotonic()
            rest, closed = recv_all(s)      # we never send a ClientHello
            waited = time.monotonic() - t0
        t.check("a TLS connection that never sends ClientHello is closed too (--idle-timeout 1)",
                closed, "EOF within 6 s", "still open after %.1f s" % waited)


def test_sigterm(t, server):
    """11. SIGTERM: idle -> exit 0 with `stop`; right after the first `listen` event
    (a script may stop the server as soon as it is announced); with an open keep-alive
    connection too."""
    # The window between the first `listen` line and the signal handlers is short: try
    # several times (each ~10 ms) so a server that dies of SIGTERM there is caught.
    results = []
    for _ in range(10):
        ctx = server(ready=False, expect_rc=None, name="server (stopped at once)")
        srv = ctx.__enter__()
        try:
            srv.wait_for(lambda e: e.get("event") == "listen")
            rc = srv.stop(signal.SIGTERM, timeout=5)
            results.append((rc, bool(events(srv.evs, "stop"))))
        finally:
            ctx.__exit__(None, None, None)
    bad = [r for r in results if r != (0, True)]
    t.check("SIGTERM right after the first listen event: exit 0 and `stop`, 10 times out of 10",
            not bad, "(0, True) each time", "(exit, stop logged): %s" % results)

    ctx = server(expect_rc=None)
    srv = ctx.__enter__()
    try:
        t0 = time.monotonic()
        rc = srv.stop(signal.SIGTERM, timeout=5)
        t.eq("idle server: exit status after SIGTERM", rc, 0)
        t.check("idle server stops within 5 s", time.monotonic() - t0 < 5 * SLOW, "< 5 s",
                "%.1f s" % (time.monotonic() - t0))
        t.check("idle server logs `stop`", events(srv.evs, "stop"), "stop event", summary(srv.evs))
    finally:
        ctx.__exit__(None, None, None)

    ctx = server(https=None, selfsigned=None, expect_rc=None)
    srv = ctx.__enter__()
    try:
        port = srv.port("http")
        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            st, h, b = read_response(s)
            t.eq("keep-alive response before SIGTERM", st, 200)
            t0 = time.monotonic()
            os.kill(srv.pid, signal.SIGTERM)
            rest, closed = recv_all(s)      # the server closes our idle connection ...
            t.eq("SIGTERM closes the open keep-alive connection (EOF)", (rest, closed), (b"", True))
        rc = srv.stop(None, timeout=5)      # ... and exits once we close ours
        t.eq("server with an open connection: exit status after SIGTERM", rc, 0)
        t.check("it stops within 5 s", time.monotonic() - t0 < 5 * SLOW, "< 5 s",
                "%.1f s" % (time.monotonic() - t0))
        t.check("logs `stop`", events(srv.evs, "stop"), "stop event", summary(srv.evs))
    finally:
        ctx.__exit__(None, None, None)


def test_server_errors(t, server, run, certs, build):
    """9c. Server start-up failures: one clear line and the right exit status."""
    def run_server(*args):
        return run([build.server] + list(args), timeout=10, name="server", san=True)

    r = run_server("--certs", "/nonexistent")
    t.eq("--certs /nonexistent: exit", r.rc, 1)
    lines = [l for l in r.err.splitlines() if l.strip()]
    t.eq("--certs /nonexistent: one line on stderr", len(lines), 1)
    t.contains("--certs /nonexistent: names the file", r.err, "/nonexistent/")
    t.contains("--certs /nonexistent: says make certs", r.err, "make certs")
    r = run_server("--no-such-flag")
    t.eq("bad flag: exit", r.rc, 2)
    t.contains("bad flag: names it", r.err, "--no-such-flag")
    r = run_server("--http-port", "99999")
    t.eq("bad port: exit", r.rc, 2)
    r = run_server("--http-port", "0", "--https-port", "off", "--selfsigned-port", "off",
                   "--log-format", "xml")
    t.eq("bad --log-format: exit", r.rc, 2)

    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        r = run_server("--http-port", str(port), "--https-port", "off", "--selfsigned-port", "off",
                       "--log-format", "json")
        t.eq("port in use: exit", r.rc, 1)
        t.contains("port in use: says in use", r.err, "in use")
        t.contains("port in use: names the port", r.err, str(port))

    r = run_server("--http-port", "off", "--selfsigned-port", "off", "--https-port", "0",
                   "--cert", os.path.join(certs.dir, "server.crt"),
                   "--key", os.path.join(certs.dir, "selfsigned.key"))
    t.eq("key does not match cert: exit", r.rc, 1)
    t.icontains("key does not match cert: message", r.err, "does not match")
    t.contains("key does not match cert: names the key", r.err, "selfsigned.key")

    r = run_server("--http-port", "off", "--selfsigned-port", "off", "--https-port", "0",
                   "--cert", os.path.join(certs.dir, "server.crt"), "--key", "/nonexistent/k.key")
    t.eq("missing key: exit", r.rc, 1)
    t.contains("missing key: names the file", r.err, "/nonexistent/k.key")


def test_server_unreadable_key(t, run, certs, build, public_tmp):
    """9d. An unreadable key (mode 000) as an unprivileged user: exit 1 naming the file."""
    d = public_tmp      # not in tmp_path: nobody cannot enter that
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    shutil.copy(os.path.join(certs.dir, "server.crt"), crt)
    shutil.copy(os.path.join(certs.dir, "server.key"), key)
    os.chmod(crt, 0o644)
    os.chmod(key, 0)
    cmd = [build.server, "--http-port", "off", "--selfsigned-port", "off", "--https-port", "0",
           "--cert", crt, "--key", key]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            t.skip("running as root and setpriv is missing: root can read a mode-000 file")
        probe = run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "cat", key])
        if probe.rc == 0 or "Permission denied" not in probe.err:
            t.skip("running as root and setpriv cannot drop to nobody here (%s)" % probe.err.strip())
        probe = run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "test", "-x", build.server])
        if probe.rc != 0:
            t.skip("running as root and user nobody cannot execute %s (a parent directory "
                   "is not searchable)" % build.server)
        cmd = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    r = run(cmd, timeout=10, name="server", san=True)
    t.eq("unreadable key: exit", r.rc, 1)
    t.contains("unreadable key: names the file", r.err, key)
    t.icontains("unreadable key: says why", r.err, "permission denied")
    t.eq("unreadable key: one line", len([l for l in r.err.splitlines() if l.strip()]), 1)
