"""Real peers: curl and openssl s_client against our server; our client against
openssl s_server and nginx.
"""

import os
import re
import shutil
import socket
import ssl
import tempfile
import time

import pytest

from harness.env import CHILD_ENV, SLOW
from harness.log import E, assert_order, check_close, events, first, summary
from harness.procs import stop_pid
from harness.net import read_raw_response
from harness.peers import start_lighttpd, start_nginx, start_s_server


def test_interop_curl(t, server, run, certs, curl):
    """12a. curl against our server: HTTP and HTTPS with --cacert."""
    with server(selfsigned=None) as srv:
        for what, args, url in (("https", ["--cacert", certs.ca], "https://localhost:%d/" % srv.port("https")),
                                ("http", [], "http://127.0.0.1:%d/" % srv.port("http"))):
            r = run([curl, "-sS", "-o", "-", "-w", "\n%{http_code} %{local_ip} %{local_port}",
                     "--max-time", str(int(10 * SLOW))] + args + [url])
            t.eq("curl %s: exit" % what, r.rc, 0)
            lines = r.text.rstrip("\n").splitlines()
            last = lines[-1].split() if lines else []
            t.eq("curl %s: HTTP status" % what, last[:1], ["200"])
            t.contains("curl %s: body" % what, r.text, "your connection")
            if len(last) == 3:
                s = srv.conn_events("%s:%s" % (last[1], last[2]))
                t.eq("server log of curl's %s connection: response" % what,
                     (first(s, "response") or {}).get("status"), 200)
                if what == "https":
                    hd = first(s, "handshake_done") or {}
                    t.eq("server log of curl's connection: version", hd.get("version"), "TLSv1.3")
                    t.eq("server log of curl's connection: sni", hd.get("sni"), "localhost")


def test_interop_s_client(t, server, run, certs, openssl):
    """12b. openssl s_client against our server."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                 "localhost", "-CAfile", certs.ca, "-verify_return_error", "-ign_eof"],
                stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        t.eq("s_client: exit", r.rc, 0)
        t.contains("s_client: Verify return code: 0", r.text, "Verify return code: 0")
        t.contains("s_client: 200 OK", r.text, "200 OK")
        t.contains("s_client: TLSv1.3", r.text, "TLSv1.3")


def test_interop_s_server(t, client, certs, procs, openssl):
    """12c. Our client against openssl s_server -www (TLS 1.3 and 1.2)."""
    p, port = start_s_server(procs, openssl, certs.dir)
    try:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs s_server: exit", r.rc, 0)
        t.contains("client vs s_server: body", r.text, "Ciphers")
        t.eq("handshake_done.version", (first(r.ev, "handshake_done") or {}).get("version"), "TLSv1.3")
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs s_server TLS 1.2: exit", r.rc, 0)
        t.eq("TLS 1.2 handshake_done.version", (first(r.ev, "handshake_done") or {}).get("version"),
             "TLSv1.2")
    finally:
        stop_pid(p)
    p, port = start_s_server(procs, openssl, certs.dir,
                             "-cert", os.path.join(certs.dir, "selfsigned.crt"),
                             "-key", os.path.join(certs.dir, "selfsigned.key"))
    try:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs self-signed s_server: exit", r.rc, 60)
    finally:
        stop_pid(p)


def test_interop_nginx(t, client, certs, tmp_path, procs, nginx):
    """12d. Our client against nginx on a port-0 socket it inherits (NGINX="fd;")."""
    d = tempfile.mkdtemp(prefix="nginx-", dir=tmp_path)
    p, port = start_nginx(procs, nginx, certs.dir, d)
    try:
        log = open(os.path.join(d, "error.log")).read()
        t.contains("nginx took the inherited socket", log, "using inherited sockets")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs nginx: exit", r.rc, 0)
        t.contains("client vs nginx: body", r.text, "hello from nginx")
        t.eq("client vs nginx: version", (first(r.ev, "handshake_done") or {}).get("version"), "TLSv1.3")
        # nginx answers our close_notify with a bare FIN (no close_notify of its own)
        t.check("client vs nginx: close_notify out", events(r.ev, "close_notify", dir="out"),
                "present", summary(r.ev))
        # the order of the two FINs varies from run to run: look at several closes
        logs = [r.conn()] + [client("--cacert", certs.ca, "https://localhost:%d/" % port).conn()
                             for _ in range(4)]
        missing = [summary(c) for c in logs if not events(c, "fin_received")]
        t.check("client vs nginx: fin_received logged in each of %d closes" % len(logs),
                not missing, "the peer's FIN every time",
                "missing in %d: %s" % (len(missing), missing[:1]))
        check_close(t, "client vs nginx", logs[0])
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs nginx TLS 1.2: exit", r.rc, 0)
        t.eq("client vs nginx TLS 1.2: version", (first(r.ev, "handshake_done") or {}).get("version"),
             "TLSv1.2")
        t.check("client vs nginx TLS 1.2: ServerKeyExchange",
                events(r.ev, "message", type="ServerKeyExchange", dir="in"), "present", summary(r.ev))
    finally:
        rc = stop_pid(p, 10)
    t.check("nginx stopped by pid", rc is not None, "exited", rc)


# ---------------------------------------------------------------- the close with real peers

def first_fin_agrees(t, what, c):
    """closed.first_fin (read from the kernel) agrees with the order of our two FIN events."""
    names = [e.get("event") for e in c]
    cl = first(c, "closed") or {}
    ff = cl.get("first_fin")
    t.check("%s: closed.first_fin is local, peer, both or none" % what,
            ff in ("local", "peer", "both", "none"), "one of them", ff)
    if "fin_sent" in names and "fin_received" in names:
        ours = names.index("fin_sent") < names.index("fin_received")
        t.check("%s: closed.first_fin agrees with the FIN events (%s first)" % (
            what, "fin_sent" if ours else "fin_received"),
            ff in (("local", "both") if ours else ("peer",)), "local/both" if ours else "peer", ff)
    said = [e for e in c if "closed its side" in "%s %s" % (e.get("detail"), e.get("reason"))]
    t.check("%s: no reason says 'closed its side' (close_notify and FIN are named)" % what,
            not said, "none", [e.get("detail") for e in said])


def test_interop_s_server_close_notify(t, client, certs, procs, openssl):
    """Issue 11: against openssl s_server -www (it sends close_notify and keeps its FIN until
    we close) the client said 'the server closed its side ... we closed first' while only
    close_notify had come, waited 200 ms for a FIN, and stamped the body at that FIN."""
    p, port = start_s_server(procs, openssl, certs.dir)
    try:
        for i in range(3):
            w = "client vs s_server -www, run %d" % (i + 1)
            r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
            c = r.conn()
            t.eq("%s: exit" % w, r.rc, 0)
            cn = first(c, "close_notify", dir="in") or {}
            body, closed = first(c, "body") or {}, first(c, "closed") or {}
            t.check("%s: close_notify received" % w, cn, "close_notify in", summary(c))
            if cn and body and closed:
                t.check("%s: the body is stamped at the close_notify that ended it" % w,
                        body["t_ms"] - cn["t_ms"] < 20 * SLOW, "< %d ms" % (20 * SLOW),
                        round(body["t_ms"] - cn["t_ms"], 3))
                t.check("%s: closed soon after the close_notify (no 200 ms wait for a FIN)" % w,
                        closed["t_ms"] - cn["t_ms"] < 100 * SLOW, "< %d ms" % (100 * SLOW),
                        round(closed["t_ms"] - cn["t_ms"], 3))
            t.icontains("%s: fin_sent.reason names the close_notify" % w,
                        (first(c, "fin_sent") or {}).get("reason"), "close_notify")
            t.icontains("%s: the body's gloss names the close_notify" % w, body.get("gloss"),
                        "close_notify")
            first_fin_agrees(t, w, c)
            check_close(t, w, c)
    finally:
        stop_pid(p)


def check_answered_at_once(t, w, s):
    """Our server's log: the peer's close_notify answered with close_notify and FIN at once."""
    cin, cout = first(s, "close_notify", dir="in") or {}, first(s, "close_notify", dir="out") or {}
    fs = first(s, "fin_sent") or {}
    assert_order(t, "%s: server" % w, s, [E("close_notify", dir="in"),
                                          E("close_notify", dir="out"), "fin_sent", "closed"])
    if cin and fs:
        t.check("%s: the server's FIN follows the client's close_notify at once" % w,
                fs["t_ms"] - cin["t_ms"] < 50 * SLOW, "< %d ms" % (50 * SLOW),
                round(fs["t_ms"] - cin["t_ms"], 3))
    t.icontains("%s: fin_sent.reason names the client's close_notify" % w, fs.get("reason"),
                "close_notify")
    first_fin_agrees(t, "%s: server" % w, s)


def test_interop_python_unwrap(t, server, certs):
    """Issue 11: Python's SSLSocket.unwrap() (close_notify, then wait for the server's) took
    200.5 ms against our server (lighttpd: 0.1 ms): the server held its answer for a FIN."""
    with server(http=None, selfsigned=None) as srv:
        ctx = ssl.create_default_context(cafile=certs.ca)
        for i in range(3):
            w = "python unwrap, run %d" % (i + 1)
            raw = socket.create_connection(("127.0.0.1", srv.port("https")), timeout=10 * SLOW)
            local = "127.0.0.1:%d" % raw.getsockname()[1]
            c = ctx.wrap_socket(raw, server_hostname="localhost")
            c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            t.contains("%s: response" % w, b"\r\n\r\n".join(read_raw_response(c)), b"200")
            t0 = time.monotonic()
            plain = c.unwrap()
            took = time.monotonic() - t0
            plain.close()
            t.check("%s: unwrap() returns at once" % w, took < 0.1 * SLOW,
                    "< %d ms" % (100 * SLOW), "%.1f ms" % (took * 1000))
            check_answered_at_once(t, w, srv.conn_events(local))


def test_interop_gnutls_cli_close(t, server, certs, run, gnutls_cli):
    """Issue 11: gnutls-cli sends close_notify at the end of its input and waits for the
    server's: our server held it for 200 ms (nginx answers at once)."""
    with server(http=None, selfsigned=None) as srv:
        mark = srv.mark()
        r = run([gnutls_cli, "--x509cafile=%s" % certs.ca, "-p", str(srv.port("https")),
                 "localhost"], stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        t.eq("gnutls-cli exit", r.rc, 0)
        e = srv.wait_for(lambda e: e.get("event") == "closed", 10, after=mark)
        s = [x for x in srv.evs if e and x.get("conn") == e.get("conn")]
        check_answered_at_once(t, "gnutls-cli", s)


def test_interop_lighttpd_close_first_server(t, client, certs, tmp_path, procs):
    """Issue 11: --close-first server against lighttpd (close_notify, then its FIN only after
    ours): the client waited 200 ms for the FIN (205 ms in all against curl's 3.7 ms)."""
    lighttpd = shutil.which("lighttpd") or ("/usr/sbin/lighttpd" if os.path.exists(
        "/usr/sbin/lighttpd") else None)
    if not lighttpd or not os.path.exists("/usr/lib/lighttpd/mod_openssl.so"):
        pytest.skip("lighttpd and lighttpd-mod-openssl are not installed")
    d = tempfile.mkdtemp(prefix="lighttpd-", dir=tmp_path)
    os.chmod(d, 0o755)
    p, port = start_lighttpd(procs, lighttpd, certs.dir, d)
    try:
        for i in range(3):
            w = "client --close-first server vs lighttpd, run %d" % (i + 1)
            r = client("--close-first", "server", "--cacert", certs.ca,
                       "https://localhost:%d/index.html" % port)
            c = r.conn()
            t.eq("%s: exit" % w, r.rc, 0)
            t.contains("%s: body" % w, r.text, "hello from lighttpd")
            cn, closed = first(c, "close_notify", dir="in") or {}, first(c, "closed") or {}
            t.check("%s: close_notify received" % w, cn, "close_notify in", summary(c))
            if cn and closed:
                t.check("%s: closed soon after the close_notify (no 200 ms wait for a FIN)" % w,
                        closed["t_ms"] - cn["t_ms"] < 100 * SLOW, "< %d ms" % (100 * SLOW),
                        round(closed["t_ms"] - cn["t_ms"], 3))
            first_fin_agrees(t, w, c)
            check_close(t, w, c)
    finally:
        stop_pid(p)
