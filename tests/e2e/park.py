# Parked idle connections (conn_park): an idle keep-alive connection gives its bufferevent back
# and waits in the park (one epoll set for all of them). It must still answer, time out after the whole --idle-timeout, and
# log as before; and an idle connection must cost the server little memory.
# exec'd in tests/run.py's namespace.


def park_get(s, r):
    """One keep-alive request on s (Reader r): the status."""
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, b = read_response(r)
    return st


def park_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


@test
def test_park_idle_keepalive(t):
    """An idle keep-alive connection, plain and TLS: parked at once after its first answer and
    200 ms after later ones; it answers the next requests, closes after the whole
    --idle-timeout (1 s), and the log shows the requests, the responses and the close."""
    with start_server(t, "--idle-timeout", "1", selfsigned=None) as srv:
        for scheme in ("http", "https"):
            raw = socket.create_connection(("127.0.0.1", srv.port(scheme)), timeout=5 * SLOW)
            s = raw
            local = "%s:%d" % raw.getsockname()
            if scheme == "https":
                ctx = ssl.create_default_context(cafile=CA)
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


@test
def test_park_idle_memory(t):
    """500 idle plain keep-alive connections (one request each) cost the server under 1.5 KB
    of RSS each (2.4 KB before parking and the struct conn diet; bench: 0.43 KB at 10,000)."""
    if SAN or VALGRIND:
        t.check("skipped under sanitizers/valgrind (their allocators change RSS)", True)
        return
    n = 500
    with start_server(t, "--idle-timeout", "60", https=None, selfsigned=None) as srv:
        port = srv.port("http")
        socks = []
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
                park_get(s, Reader(s))          # what the server sets up once
            time.sleep(0.2)
            before = park_rss_kb(srv.pid)
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW)
                socks.append(s)
                t_ok = park_get(s, Reader(s))
                if t_ok != 200:
                    break
            time.sleep(0.3)
            after = park_rss_kb(srv.pid)
            per = (after - before) / n
            t.check("%d idle connections answered" % n, len(socks) == n and t_ok == 200,
                    "%d" % n, "%d" % len(socks))
            t.check("RSS per idle connection under 1.5 KB", 0 <= per < 1.5, "< 1.5 KB",
                    "%.2f KB (%d -> %d KB)" % (per, before, after))
        finally:
            for s in socks:
                s.close()
