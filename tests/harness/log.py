"""harness/log.py -- reading the programs' JSON event log and the checks every log must pass.

A record is a dict (one JSON line). E("message", type="ClientHello", dir="out") is a pattern:
events() and first() filter by one, assert_order() checks that patterns match in order.
"""

import json
import time

KERNEL_TCP_STATES = {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                     "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}
COMMON_FIELDS = ("t_ms", "ts_us", "side", "conn", "layer", "event")


def parse_json_lines(text):
    """JSON records of a log; lines that are not JSON objects are skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict):
            out.append(d)
    return out


def E(event, **fields):
    """A pattern for events()/assert_order(): event name plus required field values."""
    d = {"event": event}
    d.update(fields)
    return d


def matches(ev, pat):
    if isinstance(pat, str):
        pat = {"event": pat}
    return all(ev.get(k) == v for k, v in pat.items())


def events(evs, event=None, **fields):
    """The records of evs with this event name (None = any) and these field values."""
    pat = dict(fields)
    if event is not None:
        pat["event"] = event
    return [e for e in evs if matches(e, pat)]


def first(evs, event=None, **fields):
    found = events(evs, event, **fields)
    return found[0] if found else None


def _pat_str(pat):
    if isinstance(pat, str):
        return pat
    rest = ",".join("%s=%s" % (k, v) for k, v in pat.items() if k != "event")
    return "%s(%s)" % (pat.get("event"), rest) if rest else str(pat.get("event"))


def _ev_str(e):
    s = str(e.get("event"))
    if e.get("event") in ("message", "close_notify", "alert"):
        s += "(%s%s)" % (e.get("dir"), "," + str(e.get("type") or e.get("desc") or "")
                         if e.get("type") or e.get("desc") else "")
    elif e.get("event") == "verify":
        s += "(depth=%s)" % e.get("depth")
    return s


def summary(evs):
    return " ".join(_ev_str(e) for e in evs if e.get("event") != "phase")


def assert_order(t, what, evs, pats):
    """Each pattern must match an event after the one matched by the previous pattern."""
    i = 0
    for n, pat in enumerate(pats):
        j = next((k for k in range(i, len(evs)) if matches(evs[k], pat)), None)
        if j is None:
            before = any(matches(e, pat) for e in evs[:i])
            why = "appears only before %s" % _pat_str(pats[n - 1]) if before else "missing"
            return t.check("%s: order" % what, False,
                           " < ".join(_pat_str(p) for p in pats),
                           "%s %s; log: %s" % (_pat_str(pat), why, summary(evs)))
        i = j + 1
    return t.check("%s: order %s" % (what, " < ".join(_pat_str(p) for p in pats[:3]) + " ..."),
                   True)


def check_common_fields(t, what, evs, side):
    bad = [e for e in evs if any(f not in e for f in COMMON_FIELDS)]
    t.check("%s: every record has %s" % (what, ", ".join(COMMON_FIELDS)), not bad,
            "all fields", bad[:2])
    wrong = [e for e in evs if e.get("side") != side]
    t.check("%s: side is %r" % (what, side), not wrong, side, wrong[:2])


def check_tcp_states(t, what, evs):
    bad = [(e.get("event"), e.get("tcp_state")) for e in evs
           if "tcp_state" in e and e["tcp_state"] not in KERNEL_TCP_STATES]
    t.check("%s: tcp_state values are kernel state names" % what, not bad,
            sorted(KERNEL_TCP_STATES), bad)
    for e in events(evs, "listen"):
        t.eq("%s: listen %s has tcp_state" % (what, e.get("addr")), e.get("tcp_state"), "LISTEN")
    for e in events(evs, "established"):
        t.eq("%s: established has tcp_state" % what, e.get("tcp_state"), "ESTABLISHED")


def check_timestamps(t, what, evs):
    ts = [e.get("ts_us") for e in evs]
    t.check("%s: ts_us is an integer in every record" % what,
            all(isinstance(x, int) for x in ts), "int", [x for x in ts if not isinstance(x, int)][:3])
    ts = [x for x in ts if isinstance(x, int)]
    if ts:
        t.check("%s: ts_us is wall-clock microseconds (within 10 min of now)" % what,
                abs(ts[0] / 1e6 - time.time()) < 600, "about %d" % int(time.time() * 1e6), ts[0])
        back = [(a, b) for a, b in zip(ts, ts[1:]) if b < a - 1000]
        t.check("%s: ts_us never goes back more than 1 ms" % what, not back, "monotonic", back[:3])
    tm = [e.get("t_ms") for e in evs if isinstance(e.get("t_ms"), (int, float))]
    back = [(a, b) for a, b in zip(tm, tm[1:]) if b < a]
    t.check("%s: t_ms is monotonic" % what, not back and len(tm) == len(evs), "monotonic", back[:3])


def check_close(t, what, conn_evs):
    """The close as logged must agree with itself (2 checks, trivially true when the
    log has no close): closed_first matches the order of fin_sent and fin_received,
    and a socket that went from FIN_WAIT* to CLOSE got the peer's FIN, so fin_received
    must be logged."""
    names = [e.get("event") for e in conn_evs]
    closed = first(conn_evs, "closed") or {}
    fs = names.index("fin_sent") if "fin_sent" in names else None
    fr = names.index("fin_received") if "fin_received" in names else None
    if closed and fs is not None and fr is not None:
        t.eq("%s: closed.closed_first agrees with the FIN order (%s first)" % (
            what, "fin_sent" if fs < fr else "fin_received"), closed.get("closed_first"), fs < fr)
    else:
        t.check("%s: closed.closed_first (not applicable)" % what, True)
    if closed and fs is not None and closed.get("tcp_state") == "CLOSE" and \
            conn_evs[fs].get("tcp_state") in ("FIN_WAIT1", "FIN_WAIT2"):
        t.check("%s: the peer's FIN is logged (fin_received) before closed, since the socket "
                "went from %s to CLOSE" % (what, conn_evs[fs].get("tcp_state")),
                fr is not None and closed.get("fin_received") is True,
                "fin_received event and closed.fin_received true",
                "%s; closed: %s" % (summary(conn_evs), {k: closed.get(k) for k in (
                    "tcp_state", "fin_received", "closed_first", "gloss")}))
    else:
        t.check("%s: fin_received after FIN_WAIT -> CLOSE (not applicable)" % what, True)


def hs_msgs(c, direction=None):
    """The TLS message types of one connection's log, in order, up to handshake_done
    (a TLS 1.3 NewSessionTicket is after the handshake even when read before the client
    logged handshake_done)."""
    tls13 = (first(c, "handshake_done") or {}).get("version") == "TLSv1.3"
    out = []
    for e in c:
        if e.get("event") == "handshake_done":
            break
        if e.get("event") == "message" and (direction is None or e.get("dir") == direction) \
                and not (tls13 and e.get("type") == "NewSessionTicket"):
            out.append(e.get("type"))
    return out
