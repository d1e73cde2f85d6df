"""Hardening (issue 6): bad input to the client. Each broken peer gives a curl-like exit
status and, with -q, exactly one clear line on standard error. (test_client.py already covers
refused, unresolvable, empty reply, reset mid-body, --max-time and a full accept queue; this
file adds the rest and the one-line rule.)
"""

import os
import socket
import time

from harness.env import SLOW
from harness.net import one_shot_peer, read_request_head


def peer(behaviour):
    """A one-connection peer (harness.net.one_shot_peer) with a longer timeout."""
    return one_shot_peer(behaviour, timeout=15.0)


def send(response, then=None):
    def beh(c):
        read_request_head(c)
        c.sendall(response)
        if then:
            then(c)
    return beh


def endless(head, block=b"x" * 65536):
    def beh(c):
        read_request_head(c)
        c.sendall(head)
        while True:
            c.sendall(block)
    return beh


def one_line(t, what, r, code):
    t.eq("%s: exit %d" % (what, code), r.rc, code)
    lines = [l for l in r.err.splitlines() if l.strip()]
    t.check("%s: exactly one line on stderr with -q, naming the exit status" % what,
            len(lines) == 1 and lines[0].startswith("client: ") and
            lines[0].endswith("(exit %d)" % code), "client: ... (exit %d)" % code, r.err)
    return lines[0] if lines else ""


def test_robust_client_bad_peers(t, client):
    """Hardening: a client against garbage, a cut response, a huge head, an endless body (with
    --max-filesize and the 100 MiB default), silent peers, a refused port, an unknown name."""
    cases = (
        ("garbage instead of a status line", send(b"\x00\x13garbage\r\n\r\n"), [], 8,
         "malformed status line"),
        ("not HTTP at all", send(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"), [], 8, "status line"),
        ("a 200 kB header", send(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"),
         [], 8, "too large"),
        ("a body cut short (Content-Length 1000, 3 bytes, FIN)",
         send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"), [], 18,
         "997 bytes remaining"),
        ("a chunked body without its last chunk",
         send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), [], 18,
         "outstanding read data"),
        ("a head cut short", send(b"HTTP/1.1 200 OK\r\nContent-Le"), [], 56,
         "before the response was complete"),
        ("an endless body, --max-filesize 100000", endless(b"HTTP/1.0 200 OK\r\n\r\n"),
         ["--max-filesize", "100000"], 63, "larger than 100000 bytes"),
        ("an endless chunked body, --max-filesize 100000",
         endless(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                 b"10000\r\n" + b"x" * 0x10000 + b"\r\n"),
         ["--max-filesize", "100000"], 63, "larger than 100000 bytes"),
        ("Content-Length 200 MB (over the default 100 MiB)",
         send(b"HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n"), [], 63,
         "announces 200000000 bytes"),
        ("an endless close-delimited body (the default 100 MiB cap)",
         endless(b"HTTP/1.0 200 OK\r\n\r\n"), [], 63, "larger than 104857600 bytes"),
        ("a server that never answers, --max-time 1", lambda c: (read_request_head(c), c.recv(1)), [
         "--max-time", "1"], 28, "--max-time"),
    )
    for what, beh, args, code, words in cases:
        ls, th = peer(beh)
        try:
            t0 = time.monotonic()
            r = client("-q", "-o", os.devnull, *(args + ["http://127.0.0.1:%d/" %
                                                        ls.getsockname()[1]]),
                       json_log=False, timeout=60)
            took = time.monotonic() - t0
        finally:
            ls.close()
            th.join(0.1)
        line = one_line(t, what, r, code)
        t.contains("%s: the line says why" % what, line, words)
        if code == 63 and "Content-Length" not in what:
            t.check("%s: stops early, not after the whole stream" % what, took < 30 * SLOW,
                    "< %d s" % (30 * SLOW), "%.1f s" % took)

    # a TLS server that accepts and never answers the ClientHello: --connect-timeout covers
    # the handshake (curl too), 28
    ls, th = peer(lambda c: c.recv(65536) and c.recv(1))
    try:
        r = client("-q", "--connect-timeout", "1", "https://127.0.0.1:%d/" %
                   ls.getsockname()[1], json_log=False)
    finally:
        ls.close()
        th.join(0.1)
    line = one_line(t, "TLS peer silent after the ClientHello, --connect-timeout 1", r, 28)
    t.check("TLS peer silent: gives up after about 1 s", r.dur < 5 * SLOW, "< 5 s",
            "%.1f s" % r.dur)

    # garbage instead of a ServerHello: a TLS failure, 35
    ls, th = peer(lambda c: (c.recv(65536), c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")))
    try:
        r = client("-q", "https://127.0.0.1:%d/" % ls.getsockname()[1], json_log=False)
    finally:
        ls.close()
        th.join(0.1)
    one_line(t, "plain HTTP answer to our ClientHello", r, 35)

    # refused, unresolvable: the one-line rule (the exit codes are test_client_errors')
    hold = socket.socket()
    try:
        hold.bind(("127.0.0.1", 0))
        r = client("-q", "http://127.0.0.1:%d/" % hold.getsockname()[1], json_log=False)
    finally:
        hold.close()
    t.icontains("refused port: the line says refused", one_line(t, "refused port", r, 7),
                "refused")
    r = client("-q", "http://nosuch.invalid/", json_log=False, timeout=30)
    t.contains("unresolvable name: the line names it", one_line(t, "unresolvable name", r, 6),
               "nosuch.invalid")

    # --max-filesize: a body exactly at the limit passes; bad values are usage errors
    ls, th = peer(send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                       lambda c: c.recv(1)))
    try:
        r = client("-q", "--max-filesize", "5", "http://127.0.0.1:%d/" %
                   ls.getsockname()[1], json_log=False)
    finally:
        ls.close()
        th.join(0.1)
    t.eq("a body of exactly --max-filesize bytes: exit 0", (r.rc, r.out), (0, b"hello"))
    for bad in ("-1", "ten", "5k", ""):
        r = client("--max-filesize", bad, "http://127.0.0.1:1/", json_log=False)
        t.eq("--max-filesize %r: usage error" % bad, r.rc, 2)


def test_robust_client_endless_1xx(t, client):
    """Issue 12 item 4: a server that sends interim (1xx) responses without end. Before, the
    client read and logged them forever (~30 MB/s of log, --max-filesize does not count heads);
    now it stops with curl's exit 56: at the 101st interim response, or when all the heads of
    one response pass curl's 300 KB ("too large response headers"). The rest is not read."""
    url = "http://127.0.0.1:%d/"
    big_hint = (b"HTTP/1.1 103 Early Hints\r\nLink: </" + b"s" * 7000 +
                b".css>; rel=preload\r\n\r\n")
    cases = (
        ("endless 100 Continue", endless(b"", b"HTTP/1.1 100 Continue\r\n\r\n"),
         "too many interim responses: 101 1xx heads"),
        ("endless 7 KB 103 Early Hints", endless(b"", big_hint),
         "too large response headers"),
    )
    for what, beh, words in cases:
        # --max-time bounds the run of a client that does not stop by itself (exit 28)
        ls, th = peer(beh)
        try:
            r = client("-q", "--max-time", "5", "-o", os.devnull,
                       url % ls.getsockname()[1], json_log=False, timeout=60)
        finally:
            ls.close()
            th.join(0.1)
        line = one_line(t, what, r, 56)
        t.contains("%s: the line says why" % what, line, words)
        t.check("%s: stops at once, not at --max-time" % what, r.dur < 3 * SLOW,
                "< %d s" % (3 * SLOW), "%.1f s" % r.dur)

        # the log stays short: at most 101 response events, a few hundred KB at most
        ls, th = peer(beh)
        try:
            r = client("--max-time", "2", "-o", os.devnull, url % ls.getsockname()[1],
                       timeout=60)
        finally:
            ls.close()
            th.join(0.1)
        resp = [e for e in r.ev if e.get("event") == "response"]
        t.check("%s: at most 101 response events in the log" % what, len(resp) <= 101,
                "<= 101", len(resp))
        t.check("%s: the connection is reset, the rest not read" % what,
                any(e.get("event") == "closed" and "not reading the rest" in
                    str(e.get("reason", "")) + str(e.get("detail", "")) for e in r.ev),
                "closed: ... not reading the rest", [e for e in r.ev
                                                    if e.get("event") == "closed"])

    # the bound is "more than 100": 100 interim responses, then the final one, pass
    ls, th = peer(send(b"HTTP/1.1 100 Continue\r\n\r\n" * 100 +
                       b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
    try:
        r = client("-q", url % ls.getsockname()[1], json_log=False, timeout=30)
    finally:
        ls.close()
        th.join(0.1)
    t.eq("100 x 100 Continue, then 200: exit 0 and the body", (r.rc, r.out), (0, b"hello"))
