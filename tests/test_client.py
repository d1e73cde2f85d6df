"""The client's failures (usage, refused, unresolvable, broken peers) and how it reads
responses: TLS peers that close at once, chunked / close-delimited / empty bodies.
"""

import os
import socket
import ssl
import subprocess
import threading
import time

from harness.env import CHILD_ENV, ROOT, SLOW
from harness.log import assert_order, check_close, E, events, first, summary
from harness.procs import check_sanitizer
from harness.net import (LINGER_RST, one_shot_http, one_shot_peer, read_request_head, TLSPeer,
                         wait_accept_queue)


def test_client_errors(t, client, tmp_path):
    """9a. Client failures: refused, unresolvable, bad URL, bad flag, missing CA file."""
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        hold.bind(("127.0.0.1", 0))     # bound, not listening: connect gets RST
        port = hold.getsockname()[1]
        r = client("http://127.0.0.1:%d/" % port)
        t.eq("refused port: exit", r.rc, 7)
        t.check("refused port: reset event", events(r.ev, "reset"), "reset", summary(r.ev))
        t.icontains("refused port: message", r.err, "refused")
    finally:
        hold.close()
    r = client("http://nosuch.invalid/", timeout=30)
    t.eq("unresolvable name: exit", r.rc, 6)
    t.contains("unresolvable name: message names the host", r.err, "nosuch.invalid")
    for what, args in (("bad URL scheme", ["ftp://localhost/"]), ("empty host", ["http://"]),
                       ("bad flag", ["--no-such-flag", "http://localhost/"]),
                       ("no URL", []), ("bad --tls-max", ["--tls-max", "1.1", "https://localhost/"])):
        r = client(*args, json_log=False)
        t.eq("%s: exit" % what, r.rc, 2)
        lines = [l for l in r.err.splitlines() if l.strip()]
        t.check("%s: a short message (1-2 lines)" % what, 1 <= len(lines) <= 2, "1-2 lines", r.err)
    missing = os.path.join(tmp_path, "no-such-ca.pem")
    r = client("--cacert", missing, "https://localhost:1/")
    t.check("missing --cacert file: non-zero exit", r.rc not in (0, None), "non-zero", r.rc)
    t.contains("missing --cacert file: message names the file", r.err, missing)


def test_client_broken_peers(t, server, client):
    """9b. Client against broken peers: empty reply 52, reset mid-response 56,
    TLS to a plain port 35, --max-time 28."""
    serve, read_head = one_shot_peer, read_request_head

    def empty(c):
        read_head(c)

    def reset(c):
        read_head(c)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        time.sleep(0.1)     # let the client read the head before the RST
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)

    done = threading.Event()

    def silent(c):
        read_head(c)
        done.wait(15 * SLOW)    # until the client has given up

    for what, beh, rc, args in (("empty reply", empty, 52, []), ("reset mid-body", reset, 56, []),
                                ("no answer, --max-time 1", silent, 28, ["--max-time", "1"])):
        ls, th = serve(beh)
        try:
            r = client(*(args + ["http://127.0.0.1:%d/" % ls.getsockname()[1]]))
            t.eq("%s: exit" % what, r.rc, rc)
            if rc == 28:
                t.check("--max-time 1 gives up after about 1 s", r.dur < 5 * SLOW, "< 5 s",
                        "%.1f s" % r.dur)
        finally:
            done.set()
            ls.close()
            th.join(5)
            done.clear()
    with server(https=None, selfsigned=None) as srv:
        r = client("https://127.0.0.1:%d/" % srv.port("http"))
        t.eq("https:// to the plain HTTP port: exit", r.rc, 35)

    # a full accept queue (backlog 0, one connection not accepted): the kernel drops our
    # SYN, the socket stays in SYN_SENT, --connect-timeout gives up with 28
    ls = socket.socket()
    fillers = []
    try:
        ls.bind(("127.0.0.1", 0))
        ls.listen(0)
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(ls.getsockname())
            except BlockingIOError:
                pass
            fillers.append(f)
        # the first filler's handshake finished into the queue (backlog 0 holds one): full
        t.eq("full accept queue: a filler waits in it", wait_accept_queue(ls, 1), 1)
        r = client("--connect-timeout", "1", "--max-time", "5",
                   "http://127.0.0.1:%d/" % ls.getsockname()[1])
        t.eq("full accept queue, --connect-timeout 1: exit", r.rc, 28)
        t.eq("full accept queue: connect.tcp_state", (first(r.ev, "connect") or {}).get("tcp_state"),
             "SYN_SENT")
        t.check("full accept queue: gives up after about 1 s", 0.8 < r.dur < 4 * SLOW,
                "0.8 .. 4 s", "%.2f s" % r.dur)
    finally:
        for f in fillers:
            f.close()
        ls.close()


def test_client_tls_peer_close(t, client, certs):
    """Client against TLS servers that close at once: the response must survive the
    close_notify that follows it in the same read; a bare FIN after our close_notify."""
    body = b"x" * 3000

    def resp_then_close_notify(c):          # like openssl s_server -www
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                  + body)
        try:
            c.unwrap()
        except (OSError, ssl.SSLError):
            pass

    def close_delimited_then_close_notify(c):
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
        try:
            c.unwrap()
        except (OSError, ssl.SSLError):
            pass

    def bare_fin_after_client_close_notify(c):     # like nginx on a keep-alive close
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        try:
            c.recv(4096)        # the client's close_notify
        except (OSError, ssl.SSLError):
            pass
        c.shutdown(socket.SHUT_WR)      # SSLSocket.shutdown: a FIN, no close_notify
        time.sleep(0.2)

    for what, beh, ver in (
            ("TLS 1.3 response + close_notify at once", resp_then_close_notify, None),
            ("TLS 1.2 response + close_notify at once", resp_then_close_notify, ssl.TLSVersion.TLSv1_2),
            ("TLS 1.3 close-delimited body + close_notify", close_delimited_then_close_notify, None),
            ("TLS 1.3 bare FIN after our close_notify", bare_fin_after_client_close_notify, None)):
        peer = TLSPeer(certs.dir, beh, ver)
        try:
            r = client("--cacert", certs.ca, "https://localhost:%d/" % peer.port)
        finally:
            peer.close()
        t.eq("%s: exit" % what, r.rc, 0)
        t.eq("%s: body bytes" % what, len(r.out), len(body))
        c = r.conn()
        t.eq("%s: response.status" % what, (first(c, "response") or {}).get("status"), 200)
        if beh is bare_fin_after_client_close_notify:
            assert_order(t, what, c, [E("close_notify", dir="out"), "fin_sent"])
            t.check("%s: fin_received logged" % what, events(c, "fin_received"), "the peer's FIN",
                    summary(c))
        check_close(t, what, c)


def test_client_framing(t, client, tmp_path, build):
    """The client reads chunked, close-delimited and empty bodies, like curl."""
    cases = (
        ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
         False, b"hello, world", "chunked"),
        ("close-delimited HTTP/1.0", b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
         True, b"until close", None),
        ("Content-Length: 0", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False, b"", None),
        ("204 No Content", b"HTTP/1.1 204 No Content\r\n\r\n", False, b"", None),
        ("404 is still exit 0 (like curl without -f)",
         b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope", False, b"nope", None),
    )
    for what, resp, close, body, framing in cases:
        ls, th = one_shot_http(resp, close)
        try:
            r = client("--max-time", "10", "http://127.0.0.1:%d/" % ls.getsockname()[1])
        finally:
            ls.close()
            th.join(5)
        t.eq("%s: exit" % what, r.rc, 0)
        t.eq("%s: body" % what, r.out, body)
        t.eq("%s: body.bytes" % what, (first(r.ev, "body") or {}).get("bytes", 0), len(body))
        if framing:
            t.eq("%s: body.framing" % what, (first(r.ev, "body") or {}).get("framing"), framing)
    if os.path.exists("/dev/full"):
        ls, th = one_shot_http(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", False)
        try:
            with open("/dev/full", "wb") as full:
                p = subprocess.run([build.client, "-q", "http://127.0.0.1:%d/" % ls.getsockname()[1]],
                                   cwd=ROOT, env=CHILD_ENV, stdin=subprocess.DEVNULL, stdout=full,
                                   stderr=subprocess.PIPE, timeout=20 * SLOW)
        finally:
            ls.close()
            th.join(5)
        t.eq("body to a full disk (stdout = /dev/full): exit (curl: 23)", p.returncode, 23)
        check_sanitizer(t, "client > /dev/full", p.stderr.decode("utf-8", "replace"))
    r = client("-o", os.path.join(tmp_path, "no-such-dir", "out"), "http://127.0.0.1:1/")
    t.check("-o into a missing directory: exit 23 (before or after connecting) or 7",
            r.rc in (23, 7), "23 (or 7: nothing listens on port 1)", r.rc)
