"""Parked idle connections (conn_park): an idle keep-alive connection gives its bufferevent
back and waits in the park (one epoll set for all of them, their timeouts in one list ordered
by deadline under one timer). It must still answer, time out after the whole --idle-timeout,
in order, and log as before; and an idle connection must cost the server little memory.
"""

import select
import socket
import ssl
import time

from harness.env import SAN, SLOW, VALGRIND
from harness.log import assert_order, check_close, first
from harness.net import read_response, Reader, recv_all
from harness.procs import proc_rss_kb


def park_get(s, r):
    """One keep-alive request on s (Reader r): the status."""
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, b = read_response(r)
    return st


def test_park_idle_keepalive(t, server, certs):
    """An idle keep-alive connection, plain and TLS: parked at once after its first answer and
    200 ms after later ones; it answers the next requests, closes after the whole
    --idle-timeout (1 s), and the log shows the requests, the responses and the close."""
    with server("--idle-timeout", "1", selfsigned=None) as srv:
        for scheme in ("http", "https"):
            raw = socket.create_connection(("127.0.0.1", srv.port(scheme)), timeout=5 * SLOW)
            s = raw
            local = "%s:%d" % raw.getsockname()
            if scheme == "https":
                ctx = ssl.create_default_context(cafile=certs.ca)
                s = ctx.wrap_socket(raw, server_hostname="localhost")
            try:
                r = Reader(s)
                got = [park_get(s, r)]
                time.sleep(0.3)             # parked since the first answer
                got.append(park_get(s, r))  # wakes it
                got.append(park_get(s, r))  # at once: not parked in between
                time.sleep(0.5)             # parked 200 ms after the third answer
                got.append(park_get(s, r))
                t.eq("%s: four answers across two parkings" % scheme, got, [200] * 4)
                t0 = time.monotonic()
                rest, closed = recv_all(s)
                idle = time.monotonic() - t0
            finally:
                s.close()
            t.eq("%s: the server closes the idle connection (EOF)" % scheme, (rest, closed),
                 (b"", True))
            # parked 200 ms after the last answer with the 800 ms left: 1 s in all
            t.check("%s: after about 1 s (the whole idle timeout)" % scheme,
                    0.8 < idle < 3 * SLOW, "0.8 .. 3 s", "%.2f s" % idle)
            ev = srv.conn_events(local)
            t.eq("%s: four requests and four responses logged" % scheme,
                 (len([e for e in ev if e.get("event") == "request"]),
                  len([e for e in ev if e.get("event") == "response"])), (4, 4))
            fs = first(ev, "fin_sent") or {}
            t.icontains("%s: fin_sent.reason says idle" % scheme, str(fs.get("reason")), "idle")
            # Over TLS the server's close_notify goes first; our client may close its side as
            # soon as it reads it, so the server's FIN and ours can come in either order.
            assert_order(t, "server", ev, ["request", "response", "request", "response",
                                           "request", "response", "request", "response",
                                           "fin_sent", "closed"])
            assert_order(t, "server: the peer's FIN too", ev, ["response", "fin_received",
                                                               "closed"])
            check_close(t, "server", ev)


def test_park_idle_memory(t, server):
    """500 idle plain keep-alive connections (one request each) cost the server under 1.5 KB
    of RSS each (2.4 KB before parking and the struct conn diet; bench: 0.43 KB at 10,000)."""
    if SAN or VALGRIND:
        t.skip("sanitizers/valgrind: their allocators change RSS")
    n = 500
    with server("--idle-timeout", "60", https=None, selfsigned=None) as srv:
        port = srv.port("http")
        socks = []
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
                park_get(s, Reader(s))          # what the server sets up once
            time.sleep(0.2)
            before = proc_rss_kb(srv.pid)
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)
                socks.append(s)
                t_ok = park_get(s, Reader(s))
                if t_ok != 200:
                    break
            time.sleep(0.3)
            after = proc_rss_kb(srv.pid)
            per = (after - before) / n
            t.check("%d idle connections answered" % n, len(socks) == n and t_ok == 200,
                    "%d" % n, "%d" % len(socks))
            t.check("RSS per idle connection under 1.5 KB", 0 <= per < 1.5, "< 1.5 KB",
                    "%.2f KB (%d -> %d KB)" % (per, before, after))
        finally:
            for s in socks:
                s.close()


def test_park_pool_deadlines(t, server):
    """Three idle keep-alive connections parked 0.5 s apart (--idle-timeout 2): the middle
    one is woken by a second request; each closes about 2 s after its last answer, the
    first and the last in the order they went idle, and each logs its requests and close."""
    idle_s = 2.0
    with server("--idle-timeout", "2", https=None, selfsigned=None) as srv:
        port = srv.port("http")
        socks, locals_, last = [], [], []
        try:
            for i in range(3):
                s = socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)
                socks.append(s)
                locals_.append("%s:%d" % s.getsockname())
                t.eq("conn %d: answered" % i, park_get(s, Reader(s)), 200)
                last.append(time.monotonic())
                time.sleep(0.5)
            # the middle one: out of the park (the middle of the deadline list) and back in
            t.eq("conn 1: answers again after parking", park_get(socks[1], Reader(socks[1])),
                 200)
            last[1] = time.monotonic()
            closed_at = [None] * 3
            for s in socks:
                s.settimeout(5 * SLOW)
            pending = set(range(3))
            end = time.monotonic() + 6 * SLOW
            while pending and time.monotonic() < end:
                r, _, _ = select.select([socks[i] for i in pending], [], [], 0.05)
                for s in r:
                    i = socks.index(s)
                    if s.recv(4096) == b"":
                        closed_at[i] = time.monotonic()
                        pending.discard(i)
        finally:
            for s in socks:
                s.close()
        for i in range(3):
            idle = (closed_at[i] - last[i]) if closed_at[i] is not None else -1
            t.check("conn %d: closed by the server after its whole idle timeout" % i,
                    idle_s - 0.2 < idle < idle_s + 1.0 * SLOW, "%.1f .. %.1f s" %
                    (idle_s - 0.2, idle_s + 1.0 * SLOW), "%.2f s" % idle)
        t.check("conn 0 closed before conn 2 (the order they went idle)",
                None not in (closed_at[0], closed_at[2]) and closed_at[0] < closed_at[2],
                "0 before 2", str(closed_at))
        t.check("conn 1 (woken) closed last", None not in closed_at and
                closed_at[1] > closed_at[2], "1 last", str(closed_at))
        for i in range(3):
            ev = srv.conn_events(locals_[i])
            t.eq("conn %d: requests logged" % i,
                 len([e for e in ev if e.get("event") == "request"]), 2 if i == 1 else 1)
            fs = first(ev, "fin_sent") or {}
            t.icontains("conn %d: fin_sent.reason says idle" % i, str(fs.get("reason")),
                        "idle")
            check_close(t, "server", ev)
