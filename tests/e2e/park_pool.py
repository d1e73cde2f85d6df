# The park (common/conn.c): parked connections wait in one epoll set, their timeouts in one
# list ordered by deadline under one timer. Several parked at different times must each time
# out after its own whole --idle-timeout, in order; one woken from the middle of the list must
# answer and leave the others' deadlines alone.
# exec'd in tests/run.py's namespace.


@test
def test_park_pool_deadlines(t):
    """Three idle keep-alive connections parked 0.5 s apart (--idle-timeout 2): the middle
    one is woken by a second request; each closes about 2 s after its last answer, the
    first and the last in the order they went idle, and each logs its requests and close."""
    idle_s = 2.0
    with start_server(t, "--idle-timeout", "2", https=None, selfsigned=None) as srv:
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
