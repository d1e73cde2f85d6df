"""harness/tcp.py -- the TCP story as the programs log it: the close watch (state_change events
from sock_diag until CLOSED or watch_end), the active and the passive close, and the numbers.

What the kernel shows on loopback (checked against real logs, a capture and tshark):
- the client that closes first: fin_sent in FIN_WAIT1, the peer's delayed ACK (40-200 ms)
  moves it to FIN_WAIT2 (only seen when the peer holds its FIN, --hold-close), then
  TIME_WAIT with the timewait timer at ~60000 ms; with --linger-watch 0 (not a terminal)
  the watch logs TIME_WAIT once and ends (watch_end, left_ms ~60000);
- the passive side: fin_received in CLOSE_WAIT, then CLOSED (LAST_ACK lasts microseconds);
- relative numbers: rel_seq = bytes sent + 1 (+1 once our FIN is ACKed), rel_ack = bytes
  received + 1 (+1 once the peer's FIN is in), on both sides.
"""

import os
import shutil
import subprocess

from harness.env import SLOW
from harness.log import E, KERNEL_TCP_STATES, assert_order, check_close, events, first, summary

TCP_TIMERS = {"none", "retransmit", "keepalive", "timewait", "probe"}
WATCH_STATES = KERNEL_TCP_STATES | {"CLOSED"}
TCP_FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20,
                 "ECE": 0x40, "CWR": 0x80}


def is_root():
    return os.geteuid() == 0


def watch_done(conn):
    """wait_for predicate: the close watch of this conn has ended (CLOSED or watch_end)."""
    return lambda e: e.get("conn") == conn and (
        e.get("event") == "watch_end" or (e.get("event") == "state_change" and
                                          e.get("to") == "CLOSED"))


def server_conn(srv, local, timeout=5.0):
    """All records of the server's connection from `local`, once its close watch ended."""
    conn = srv.conn_of(local, timeout)
    if conn is None:
        return []
    srv.wait_for(watch_done(conn), timeout)
    with srv.cond:
        return [e for e in srv.evs if e.get("conn") == conn]


def ss_time_wait(local, remote):
    """The `ss` line of this connection in TIME_WAIT (independent of sock_diag in our
    programs), '' if there is none, None if ss is missing."""
    ss = shutil.which("ss")
    if not ss or not local or not remote:
        return None
    p = subprocess.run([ss, "-Htano", "state", "time-wait"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=10)
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split()
        if len(f) >= 4 and f[2] == local and f[3] == remote:
            return line
    return ""


def check_state_changes(t, what, conn_evs):
    """Every state_change comes from sock_diag, names a kernel state and timer, says how
    often it was sampled, and starts where the previous one ended. Returns them."""
    sc = events(conn_evs, "state_change")
    bad = [e for e in sc if e.get("source") != "sock_diag" or e.get("to") not in WATCH_STATES
           or e.get("timer") not in TCP_TIMERS or not isinstance(e.get("expires_ms"), int)
           or not isinstance(e.get("sample_ms"), int) or e.get("sample_ms") <= 0]
    t.check("%s: state_change records: source sock_diag, kernel state, timer, expires_ms, "
            "sample_ms" % what, not bad, "all well-formed", bad[:2])
    breaks = [(a.get("to"), b.get("from")) for a, b in zip(sc, sc[1:]) if a.get("to") != b.get("from")]
    t.check("%s: each state_change starts where the previous one ended" % what, not breaks,
            "from == previous to", breaks)
    return sc


def sc_str(sc):
    return " ".join("%s->%s(%s,%s)" % (e.get("from"), e.get("to"), e.get("timer"),
                                       e.get("expires_ms")) for e in sc)


def check_active_close(t, who, c, hold_ms=None, linger=0):
    """The side that sent the first FIN: FIN_WAIT1/FIN_WAIT2, then TIME_WAIT for ~60 s."""
    check_close(t, who, c)
    closed = first(c, "closed") or {}
    t.eq("%s: closed.closed_first" % who, closed.get("closed_first"), True)
    t.eq("%s: closed.rst_sent" % who, closed.get("rst_sent"), False)
    assert_order(t, "%s (closed first)" % who, c, ["fin_sent", "fin_received", "closed"])
    sc = check_state_changes(t, who, c)
    tos = [e.get("to") for e in sc]
    t.check("%s: no CLOSE_WAIT/LAST_ACK on the side that closed first" % who,
            not {"CLOSE_WAIT", "LAST_ACK"} & set(tos), "FIN_WAIT*, TIME_WAIT", sc_str(sc))
    tw = [e for e in sc if e.get("to") == "TIME_WAIT"]
    t.eq("%s: one state_change to TIME_WAIT" % who, len(tw), 1)
    tw = tw[0] if tw else {}
    t.eq("%s: TIME_WAIT timer" % who, tw.get("timer"), "timewait")
    exp = tw.get("expires_ms")
    t.check("%s: TIME_WAIT expires in 50..60 s (2MSL: Linux holds TIME_WAIT for 60 s)" % who,
            isinstance(exp, int) and 50000 <= exp <= 60000, "50000..60000", exp)
    we = first(c, "watch_end") or {}
    t.eq("%s: watch_end.state" % who, we.get("state"), "TIME_WAIT")
    left = we.get("left_ms")
    if linger == 0:
        t.icontains("%s: watch_end.why names --linger-watch" % who, we.get("why"), "linger-watch")
        t.check("%s: watch_end.left_ms: the 60 s TIME_WAIT is still running" % who,
                isinstance(left, int) and 50000 <= left <= 60000, "50000..60000", left)
    else:
        t.icontains("%s: watch_end.why: the --linger-watch bound" % who, we.get("why"),
                    "linger-watch")
        t.check("%s: watch_end.left_ms about %d s less than 60 s" % (who, linger),
                isinstance(left, int) and 50000 <= left <= 60000 - linger * 1000 + 500,
                "50000..%d" % (60000 - linger * 1000 + 500), left)
        if tw and we:
            t.check("%s: the watch followed TIME_WAIT about --linger-watch %d s" % (who, linger),
                    linger * 1000 - 50 <= we["t_ms"] - tw["t_ms"] <= linger * 1000 + 1500 * SLOW,
                    "%d ms" % (linger * 1000), we["t_ms"] - tw["t_ms"])
    if we:
        i = c.index(we)
        t.check("%s: nothing is watched after watch_end" % who,
                not events(c[i + 1:], "state_change"), "no state_change", summary(c[i:]))
    fs = first(c, "fin_sent") or {}
    fr = first(c, "fin_received") or {}
    if hold_ms:
        t.check("%s: fin_sent in FIN_WAIT1 or FIN_WAIT2 (the peer holds its FIN)" % who,
                fs.get("tcp_state") in ("FIN_WAIT1", "FIN_WAIT2"), "FIN_WAIT1/FIN_WAIT2",
                fs.get("tcp_state"))
        # FIN_WAIT2 seen while the peer held its FIN: at fin_sent already, or a state_change
        # (from FIN_WAIT1) logged before the peer's FIN
        seq = [fs.get("tcp_state")] + tos
        dedup = [s for i, s in enumerate(seq) if i == 0 or seq[i - 1] != s]
        t.check("%s: kernel states FIN_WAIT1 -> FIN_WAIT2 -> TIME_WAIT" % who,
                dedup[:3] in (["FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"],
                              ["FIN_WAIT2", "TIME_WAIT"]),
                "FIN_WAIT1 FIN_WAIT2 TIME_WAIT", "fin_sent %s; %s" % (fs.get("tcp_state"), sc_str(sc)))
        fw2 = [e for e in sc if e.get("to") == "FIN_WAIT2"]
        if fw2 and fr:
            t.check("%s: FIN_WAIT2 is seen before the peer's FIN arrives" % who,
                    c.index(fw2[0]) < c.index(fr), "state_change FIN_WAIT2 < fin_received",
                    summary(c))
            t.eq("%s: FIN_WAIT1 -> FIN_WAIT2 has no timer (our fd is still open)" % who,
                 fw2[0].get("from"), "FIN_WAIT1")
        if fs and fr:
            t.check("%s: the peer's FIN came >= %d ms after ours (--hold-close)" % (who, hold_ms * 0.9),
                    fr["t_ms"] - fs["t_ms"] >= hold_ms * 0.9, ">= %d" % (hold_ms * 0.9),
                    fr["t_ms"] - fs["t_ms"])
    return sc


def check_passive_close(t, who, c, hold_ms=None):
    """The side that got the first FIN: CLOSE_WAIT, (held), our FIN, CLOSED; no TIME_WAIT."""
    check_close(t, who, c)
    closed = first(c, "closed") or {}
    t.eq("%s: closed.closed_first" % who, closed.get("closed_first"), False)
    t.eq("%s: closed.rst_sent" % who, closed.get("rst_sent"), False)
    fr = first(c, "fin_received") or {}
    t.eq("%s: fin_received.tcp_state (the peer closed first)" % who, fr.get("tcp_state"),
         "CLOSE_WAIT")
    if hold_ms:
        assert_order(t, "%s (passive, holding)" % who, c,
                     ["fin_received", E("hold_close", ms=hold_ms), "fin_sent", "closed"])
        h = first(c, "hold_close") or {}
        t.eq("%s: hold_close.tcp_state" % who, h.get("tcp_state"), "CLOSE_WAIT")
        fs = first(c, "fin_sent") or {}
        if h and fs:
            t.check("%s: our FIN waited --hold-close %d ms" % (who, hold_ms),
                    fs["t_ms"] - h["t_ms"] >= hold_ms * 0.9, ">= %d" % (hold_ms * 0.9),
                    fs["t_ms"] - h["t_ms"])
    else:
        assert_order(t, "%s (passive)" % who, c, ["fin_received", "fin_sent", "closed"])
    sc = check_state_changes(t, who, c)
    tos = [e.get("to") for e in sc]
    t.check("%s: the watch ends with the connection gone (to CLOSED)" % who,
            tos[-1:] == ["CLOSED"], "... -> CLOSED", sc_str(sc))
    t.check("%s: no FIN_WAIT/TIME_WAIT on the passive side" % who,
            not {"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSING"} & set(tos), "none", sc_str(sc))
    t.check("%s: the watch follows CLOSE_WAIT/LAST_ACK/CLOSE" % who,
            all(e.get("from") in ("CLOSE_WAIT", "LAST_ACK", "CLOSE") for e in sc), "those",
            sc_str(sc))
    return sc


def seg_fin_after(segs, fin_dir):
    """(index of the first FIN in direction fin_dir, its record) or (None, None)."""
    for i, e in enumerate(segs):
        if e.get("dir") == fin_dir and "FIN" in str(e.get("flags")).split(","):
            return i, e
    return None, None


def rel(a, b):
    return (a - b) % 2 ** 32


def flag_bits(flags):
    n = 0
    for f in str(flags).split(","):
        n |= TCP_FLAG_BITS.get(f.strip(), 0x100)
    return n

