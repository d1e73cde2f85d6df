"""harness/story.py -- the story checker: is what the logs tell true, and does it hold together?

It reads the JSON logs of one run (the client's and the server's, and the captured `segment`
events when there are) and checks invariants a student must be able to rely on. Each check
compares what a log SAYS (a field, a sentence) with what it OBSERVED (the kernel's states on
`tcp_state` and the sock_diag watch, the capture, the other side's log), never with what the
code "should" have done.

One side (check_side: also for a run against a real peer, where only our log exists):
  phase_chain     each `phase` starts where the last one ended and only moves forward
  phase_order     a connection's events in the order of its phases: nothing before `connect`/
                  `established`, handshake messages after handshake_start and (but for the
                  post-handshake ones) before handshake_done, HTTP after TLS, a response after
                  its request, its body after it; one `closed`
  after_closed    nothing after `closed` but the close watch (state_change, watch_end), the
                  last phase change, captured segments and the run's summary
  tcp_state       the kernel's states never go backwards through the TCP state machine (the
                  fd's TCP_INFO reads, the sock_diag watch, and the one against the other)
  first_fin       who sent the first FIN, as the log claims it (closed.first_fin, the waves,
                  closed_first) agrees with the kernel: CLOSE_WAIT/LAST_ACK seen = the peer's
                  FIN came first; FIN_WAIT1/FIN_WAIT2/TIME_WAIT seen = ours did (or both);
                  CLOSING = both; and with the capture (the first FIN segment; FINs crossing)
  time_wait       closed.time_wait true only if this side's kernel showed TIME_WAIT, false only
                  if it did not
  text_close      sentences ("we closed first", "the server closed its side", "our side now
                  sits in TIME_WAIT", "no TIME_WAIT on this side" ...) agree with the same facts,
                  and nobody says the peer closed before anything showed its FIN
  text_alert      a sentence names an alert only if that alert was logged on the connection;
                  "TLS itself did not fail" / "no TLS alert went out" only if true
  text_format     no sentence shows a printf conversion of ours left unfilled ("%s", "%d",
                  "%zu", "%.*s"): a format string passed as an argument prints as itself
  capture_time    with a capture: our connect/fin_sent/RST are stamped no later than the
                  segment they sent (SYN, FIN, RST), the peer's FIN arrived before fin_received

Both sides (check_pair, connections matched by their addresses):
  pair_messages   the TLS messages, alerts and close_notify one side received are those the
                  other sent, in the same order (a prefix of them if the connection broke)
  pair_http       the requests and responses agree (method, target, status)
  pair_time       nothing is received before it was sent (ts_us, within TOL_US): messages,
                  alerts, close_notify, requests, responses, FINs, RSTs, the accepted connection
  pair_close      first_fin agrees between the sides (local <-> peer, both <-> both,
                  none <-> none); only a simultaneous close leaves TIME_WAIT on both. One
                  exception, a crossing a side could not see: local/local (or local/both)
                  passes only where each side saying local saw neither CLOSING nor
                  FIN_WAIT2, captured no two FINs, and never claims its FIN was the first
                  (could_not_tell)

TOL_US: both programs stamp ts_us with gettimeofday() of this one machine (CLOCK_REALTIME,
truncated to the microsecond), and the capture's cap_ts_us is the kernel's CLOCK_REALTIME stamp
of the packet, also in microseconds: one clock. evrec_set_time() moves a stamp back by a
difference of the monotonic clock (truncated too). 2 us covers the two truncations; nothing
else separates the clocks on one machine. (Two machines would need their clock offset here.)

The first_fin/time_wait fields of `closed` are checked when they are present (issue 11's close
branch writes them); the kernel facts and the sentences are checked always.

A violation is (code, where, message). check_run() checks every log of a test run (the
fixtures collect them) and record() turns violations into the test's checks.
"""

import os
import re
import sys

if __name__ == "__main__":     # run as a script: find the harness package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.log import events, first  # noqa: E402

TOL_US = 2

CODES = ("phase_chain", "phase_order", "after_closed", "tcp_state", "first_fin", "time_wait",
         "text_close", "text_alert", "text_format", "capture_time", "pair_messages", "pair_http",
         "pair_time", "pair_close")

PHASES = ("NEW", "CONNECTING", "TLS_HANDSHAKE", "OPEN", "DRAINING", "TLS_SHUTDOWN", "FIN_SENT",
          "CLOSED")

# What may still be logged about a connection after its `closed`: the close watch (the kernel
# keeps the connection after close(); also its `warning` when a sock_diag lookup fails), the
# phase change to CLOSED that follows `closed`, the captured segments (logged when the program
# next looks), the run's per-connection summary.
AFTER_CLOSED = {"state_change", "watch_end", "phase", "segment", "summary"}

# The TCP state machine (RFC 9293 + Linux): which state can follow which. CLOSE is the fd's
# TCP_INFO name for a finished connection (also one the kernel moved to a TIME_WAIT record:
# TIME_WAIT is invisible to TCP_INFO); CLOSED is the watch's name for one the kernel forgot.
TCP_NEXT = {
    "SYN_SENT": {"SYN_RECV", "ESTABLISHED", "CLOSE", "CLOSED"},
    "SYN_RECV": {"ESTABLISHED", "FIN_WAIT1", "CLOSE", "CLOSED"},
    "ESTABLISHED": {"FIN_WAIT1", "CLOSE_WAIT", "CLOSE", "CLOSED"},
    "FIN_WAIT1": {"FIN_WAIT2", "CLOSING", "TIME_WAIT", "CLOSE", "CLOSED"},
    "FIN_WAIT2": {"TIME_WAIT", "CLOSE", "CLOSED"},
    "CLOSING": {"TIME_WAIT", "CLOSE", "CLOSED"},
    "CLOSE_WAIT": {"LAST_ACK", "CLOSE", "CLOSED"},
    "LAST_ACK": {"CLOSE", "CLOSED"},
    "TIME_WAIT": {"CLOSE", "CLOSED"},
    # the fd's CLOSE can hide a TIME_WAIT the watch sees; the watch's CLOSED (sock_diag finds
    # nothing) is also what an fd still open in CLOSE looks like from outside
    "CLOSE": {"TIME_WAIT", "CLOSED"},
    "CLOSED": {"CLOSE"},
    "LISTEN": set(),
}


def _closure():
    reach = {}
    for s in TCP_NEXT:
        seen, todo = {s}, [s]
        while todo:
            for n in TCP_NEXT.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        reach[s] = seen
    return reach


TCP_REACH = _closure()


def reachable(a, b):
    """b can follow a (or is a) in the TCP state machine; unknown names never fail."""
    if a not in TCP_REACH or b not in TCP_REACH:
        return True
    return b in TCP_REACH[a]


PEER_FIRST_STATES = {"CLOSE_WAIT", "LAST_ACK"}      # only after the peer's FIN, before ours
LOCAL_FIRST_STATES = {"FIN_WAIT1", "FIN_WAIT2"}      # only after our FIN, before the peer's
PEER_FIN_IN_STATES = {"CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT"}  # the peer's FIN is in

# handshake messages that may come after handshake_done
POST_HANDSHAKE = {"NewSessionTicket", "KeyUpdate", "HelloRequest"}

ALERT_NAMES = {"unexpected_message", "bad_record_mac", "record_overflow", "handshake_failure",
               "bad_certificate", "unsupported_certificate", "certificate_revoked",
               "certificate_expired", "certificate_unknown", "illegal_parameter", "unknown_ca",
               "access_denied", "decode_error", "decrypt_error", "protocol_version",
               "insufficient_security", "internal_error", "inappropriate_fallback",
               "user_canceled", "missing_extension", "unsupported_extension",
               "unrecognized_name", "certificate_required", "no_application_protocol",
               "decryption_failed", "no_renegotiation", "bad_certificate_status_response",
               "unknown_psk_identity", "decompression_failure", "no_certificate",
               "export_restriction", "certificate_unobtainable", "bad_certificate_hash_value",
               "unknown_alert"}
# OpenSSL's reason text for a received alert: "tlsv1 alert unknown ca", "sslv3 alert bad
# certificate", "tlsv13 alert certificate required"
OPENSSL_ALERT = re.compile(r"\b(?:sslv3|tlsv1|tlsv13) alert ([a-z ]+?)(?=$|[^a-z ]| \(|  )")
OPENSSL_ALERT_FIX = {"user_cancelled": "user_canceled"}

# the events whose sentences tell the close or a TLS failure (the others echo what a peer sent:
# a request target, a reason phrase, a certificate's names, the bytes on the wire)
CLOSE_TEXT_EVENTS = {"fin_sent", "fin_received", "closed", "reset", "body", "hold_close",
                     "state_change", "watch_end", "close_notify", "tls_error", "error",
                     "warning", "timing"}
TEXT_FIELDS = ("detail", "gloss", "explain", "reason", "why")


class Violation:
    def __init__(self, code, where, msg):
        self.code, self.where, self.msg = code, where, msg

    def __repr__(self):
        return "%s: %s: %s" % (self.code, self.where, self.msg)


def _ev(e):
    """An event in a few words, for messages."""
    s = "%s" % e.get("event")
    for k in ("dir", "type", "desc", "from", "to", "state", "wave", "tcp_state"):
        if k in e:
            s += " %s=%s" % (k, e[k])
    return "%s@%s" % (s, e.get("ts_us"))


def texts(e):
    """The sentences of an event, lowercased, one string."""
    return " | ".join(str(e[f]) for f in TEXT_FIELDS if isinstance(e.get(f), str)).lower()


# ---------------------------------------------------------------- one side

def split_conns(evs):
    """{conn: [records]} of one program's log (conn 0, the program's own events, left out)."""
    out = {}
    for e in evs:
        c = e.get("conn")
        if isinstance(c, int) and c > 0:
            out.setdefault(c, []).append(e)
    return out


def conn_addrs(c):
    """(local, remote) of a connection, from established (or connect)."""
    e = first(c, "established") or first(c, "connect") or {}
    return e.get("local"), e.get("remote")


class Facts:
    """What the kernel and the capture showed about one connection's close."""

    def __init__(self, c):
        self.fd_states = [(i, e["tcp_state"]) for i, e in enumerate(c) if "tcp_state" in e]
        self.watch = [(i, e) for i, e in enumerate(c) if e.get("event") == "state_change"]
        seen = {s for _, s in self.fd_states}
        for _, e in self.watch:
            seen.update({e.get("from"), e.get("to")})
        self.seen = seen
        ends = [e for e in c if e.get("event") == "watch_end"]
        self.time_wait = "TIME_WAIT" in seen or any(e.get("state") == "TIME_WAIT" for e in ends)
        # the watch saw the connection gone without TIME_WAIT: a definite "no" (TIME_WAIT
        # lasts 60 s, no sample misses it)
        self.no_time_wait = not self.time_wait and any(
            e.get("to") == "CLOSED" for _, e in self.watch)
        if "CLOSING" in seen:
            self.first = "both"
        elif seen & PEER_FIRST_STATES and not (seen & LOCAL_FIRST_STATES or self.time_wait):
            self.first = "peer"
        elif (seen & LOCAL_FIRST_STATES or self.time_wait) and not seen & PEER_FIRST_STATES:
            self.first = "local/both"   # FIN_WAIT or TIME_WAIT: ours first, or they crossed
        elif seen & PEER_FIRST_STATES:
            self.first = "contradiction"
        else:
            self.first = None
        self.segs = [e for e in c if e.get("event") == "segment"]
        self.cap_first, self.cap_fins = capture_first_fin(self.segs)

    def why(self):
        return "kernel states seen: %s%s" % (
            sorted(s for s in self.seen if s), "; capture: first FIN %s" % self.cap_first
            if self.cap_first else "")


def _flags(s):
    return str(s.get("flags", "")).split(",")


def capture_first_fin(segs):
    """(who sent the first FIN per the capture: local/peer/both/None, the FIN segments)."""
    fins = [s for s in segs if "FIN" in _flags(s)]
    if not fins:
        return None, fins
    a = fins[0]
    other = next((s for s in fins if s.get("dir") != a.get("dir")), None)
    who = "local" if a.get("dir") == "out" else "peer"
    if other is not None and isinstance(other.get("ack"), int) and isinstance(a.get("seq"), int):
        a_end = (a["seq"] + a.get("len", 0) + 1) % 2 ** 32
        # the second FIN does not acknowledge the first: it left before the first arrived
        if "ACK" not in _flags(other) or 0 < (a_end - other["ack"]) % 2 ** 32 < 2 ** 31:
            who = "both"
    return who, fins


def _claims_first(e, side):
    """The first-FIN claims of one event: a list of (claim, code, why); claim is local, peer
    or both, code first_fin for a field, text_close for a sentence."""
    out = []
    ev = e.get("event")
    peer = "server" if side == "client" else "client"
    # wave=1 with simultaneous=true is a crossing (docs/events.md: "1 ... (or crossed ours:
    # simultaneous)"), not the peer's FIN first
    if ev in ("fin_sent", "fin_received") and e.get("simultaneous") is True:
        out.append(("both", "first_fin", "%s.simultaneous=true" % ev))
    elif ev == "fin_sent" and e.get("wave") in (1, 3):
        out.append(("local" if e["wave"] == 1 else "peer", "first_fin",
                    "fin_sent.wave=%d" % e["wave"]))
    elif ev == "fin_received" and e.get("wave") in (1, 3):
        out.append(("peer" if e["wave"] == 1 else "local", "first_fin",
                    "fin_received.wave=%d" % e["wave"]))
    if ev == "closed":
        ff = e.get("first_fin")
        if ff in ("local", "peer", "both"):
            out.append((ff, "first_fin", "closed.first_fin=%s" % ff))
        if e.get("fin_sent") and e.get("closed_first") is True:
            out.append(("local", "first_fin", "closed.closed_first=true"))
        elif e.get("fin_sent") and e.get("fin_received") and e.get("closed_first") is False:
            out.append(("peer", "first_fin", "closed.closed_first=false"))
    if ev not in CLOSE_TEXT_EVENTS or ev in ("state_change", "watch_end"):
        return out
    tx = texts(e)
    for pat, claim in ((r"\bwe closed first\b", "local"), (r"\bwe close first\b", "local"),
                       (r"\bwe sent the first fin\b", "local"),
                       (r"\bour fin (?:went out|left|came|goes|went) first\b", "local"),
                       (r"\bour fin (?:was|is) (?:the )?first\b", "local"),
                       (r"\bsends our fin now, the first\b", "local"),
                       (r"\bthe peer's fin came after ours\b", "local"),
                       (r"\bthe %s (?:now )?closes first\b" % side, "local"),
                       (r"\bthe %s closed first\b" % side, "local"),
                       (r"\bthe (?:peer|%s) closed first\b" % peer, "peer"),
                       (r"\bthe (?:peer|%s)'s fin (?:came|arrived|was) (?:the )?first\b" % peer,
                        "peer"),
                       (r"\bthe (?:peer|%s) sent the first fin\b" % peer, "peer"),
                       (r"\bthe (?:peer|%s) closed its side\b" % peer, "peer"),
                       (r"\bthe peer holds time_wait\b", "peer"),
                       (r"\bwe are in close_wait\b", "peer"),
                       (r"\bsimultaneous close\b", "both"),
                       (r"\bthe (?:two fins|peer's fin) crossed\b", "both")):
        m = re.search(pat, tx)
        if m:
            out.append((claim, "text_close", "%s says %r" % (ev, m.group(0))))
    return out


def _claims_time_wait(e, side):
    """(True/False, why) when a sentence of this event says whether THIS side holds
    TIME_WAIT, else None."""
    if e.get("event") not in CLOSE_TEXT_EVENTS or e.get("event") in ("state_change",
                                                                     "watch_end"):
        return None
    tx = texts(e)
    for pat in (r"\bour side (?:now )?(?:sits|is|stays|will sit|will stay) in time_wait\b",
                r"\bwe (?:now )?(?:hold|keep|sit in|are in|stay in|will hold) time_wait\b",
                r"\bthe %s (?:now )?(?:will hold|holds|keeps) time_wait\b" % side,
                r"\bthis side (?:now )?(?:holds|keeps|is in|sits in) time_wait\b",
                r"\bboth sides go to time_wait\b"):
        m = re.search(pat, tx)
        if m:
            return True, m.group(0)
    for pat in (r"\bno time_wait on this side\b", r"\bour side is closed; the peer holds "
                r"time_wait\b", r"\bthe peer holds time_wait\b", r"\bno time_wait\b"):
        m = re.search(pat, tx)
        if m:
            return False, m.group(0)
    return None


def _peer_fin_seen_by(c, i, facts):
    """Had anything shown the peer's FIN by record i (inclusive)?"""
    for j in range(i + 1):
        e = c[j]
        if e.get("event") == "fin_received" or e.get("tcp_state") in PEER_FIN_IN_STATES:
            return True
        if e.get("event") == "state_change" and e.get("to") in PEER_FIN_IN_STATES:
            return True
    ts = c[i].get("ts_us")
    return any(s.get("dir") == "in" and isinstance(s.get("cap_ts_us"), int) and
               isinstance(ts, int) and s["cap_ts_us"] <= ts + TOL_US for s in facts.cap_fins)


def _idx(c, name, **kw):
    """Indexes of the records of this event (and these field values) in c."""
    return [i for i, e in enumerate(c) if e.get("event") == name and
            all(e.get(k) == x for k, x in kw.items())]


def _phases(c, side, facts, bad):
    """phase_chain: each phase change starts where the last one ended, and goes forward."""
    cur = "NEW"
    for e in events(c, "phase"):
        f, to = e.get("from"), e.get("to")
        if f != cur:
            bad("phase_chain", "phase %s -> %s, but the phase was %s" % (f, to, cur))
        if f in PHASES and to in PHASES and PHASES.index(to) <= PHASES.index(f):
            bad("phase_chain", "phase goes back: %s -> %s" % (f, to))
        cur = to


def _order(c, side, facts, bad):
    """phase_order and after_closed."""
    closed = _idx(c, "closed")
    if len(closed) > 1:
        bad("phase_order", "%d `closed` events" % len(closed))
    start = (_idx(c, "connect") or _idx(c, "established") or [None])[0]
    if start is not None:
        early = [_ev(e) for e in c[:start] if e.get("event") not in
                 ("phase", "segment", "state_change", "resolve", "accept_wait")]
        if early:
            bad("phase_order", "before %s: %s" % (c[start].get("event"), early))
    hs_start, hs_done, msgs = _idx(c, "handshake_start"), _idx(c, "handshake_done"), \
        _idx(c, "message")
    if msgs and hs_start and msgs[0] < hs_start[0]:
        bad("phase_order", "a TLS message before handshake_start: %s" % _ev(c[msgs[0]]))
    if hs_done:
        late = [_ev(c[i]) for i in msgs if i > hs_done[0] and
                c[i].get("type") not in POST_HANDSHAKE]
        if late:
            bad("phase_order", "handshake messages after handshake_done: %s" % late)
        for name in ("request", "response", "body"):
            early = [i for i in _idx(c, name) if i < hs_done[0]]
            if early:
                bad("phase_order", "%s before handshake_done" % _ev(c[early[0]]))
    elif hs_start and not any(e.get("event") == "warning" and "plain HTTP" in
                              str(e.get("reason", "")) for e in c):
        # (plain HTTP on the HTTPS port is answered in plain HTTP: the warning says so)
        for name in ("request", "response", "body"):
            if _idx(c, name):
                bad("phase_order", "%s on a TLS connection whose handshake never finished"
                    % _ev(c[_idx(c, name)[0]]))
    reqs, resps = _idx(c, "request"), _idx(c, "response")
    if side == "client":
        for n, i in enumerate(resps):
            r = c[i].get("req")
            rq = [j for j in reqs if c[j].get("req") == r] if r is not None else reqs[n:n + 1]
            if not rq or rq[0] > i:
                bad("phase_order", "%s before (or without) its request" % _ev(c[i]))
        for i in _idx(c, "body"):
            r = c[i].get("req")
            rs = [j for j in resps if c[j].get("req") == r] if r is not None else resps
            if not rs or rs[0] > i:
                bad("phase_order", "%s before (or without) its response" % _ev(c[i]))
    else:
        # each response answers a request, or a bad one the server could not parse as a
        # request (http_error, then the error response)
        pending = 0
        for e in c:
            if e.get("event") == "request":
                pending += 1
            elif e.get("event") == "http_error":
                pending = max(pending, 1)
            elif e.get("event") == "response":
                if pending == 0:
                    bad("phase_order", "%s answers no request (no request or http_error "
                        "before it)" % _ev(e))
                # an interim 100 Continue (Expect: 100-continue) leaves the request open
                if not e.get("interim"):
                    pending = max(pending - 1, 0)
    if closed:
        after = [_ev(e) for e in c[closed[0] + 1:] if (
            e.get("event") not in AFTER_CLOSED or
            (e.get("event") == "phase" and e.get("to") != "CLOSED")) and not (
            e.get("event") == "warning" and "sock_diag" in str(e.get("detail")))]
        if after:
            bad("after_closed", "after `closed`: %s" % after[:5])


def _states(c, side, facts, bad):
    """tcp_state: the fd's reads, the watch, and the one against the other, never back."""
    fd = facts.fd_states
    for (i, a), (j, b) in zip(fd, fd[1:]):
        if not reachable(a, b) or (a == "CLOSE" and b != "CLOSE"):
            bad("tcp_state", "the fd's state goes back: %s (%s) then %s (%s)" % (
                a, _ev(c[i]), b, _ev(c[j])))
    for (i, a), (j, b) in zip(facts.watch, facts.watch[1:]):
        if not reachable(a.get("to"), b.get("to")):
            bad("tcp_state", "the watch goes back: %s then %s" % (_ev(a), _ev(b)))
    for i, w in facts.watch:
        before = [s for j, s in fd if j < i]
        if before and not reachable(before[-1], w.get("to")):
            bad("tcp_state", "the watch sees %s after the fd showed %s" % (
                w.get("to"), before[-1]))
    for j, s in fd:
        before = [w.get("to") for i, w in facts.watch if i < j]
        if before and not reachable(before[-1], s) and not (before[-1] == "TIME_WAIT" and
                                                             s == "CLOSE"):
            bad("tcp_state", "the fd shows %s (%s) after the watch saw %s" % (
                s, _ev(c[j]), before[-1]))
    if facts.first == "contradiction":
        bad("tcp_state", "both sides' FIN first: %s" % facts.why())


def _first_fin(c, side, facts, bad):
    """first_fin (and text_close for the sentences): every claim of who sent the first FIN
    against the kernel and the capture; closed's FIN fields against the kernel."""
    two = len({s.get("dir") for s in facts.cap_fins}) == 2
    for i, e in enumerate(c):
        for claim, code, why in _claims_first(e, side):
            # "local" in a field or a wave also holds in a simultaneous close (our FIN did
            # leave before the peer's arrived); first_fin=local and "we closed first" do not
            exact = code == "text_close" or why.startswith("closed.first_fin")
            k, cap = facts.first, facts.cap_first
            if k == "peer" and claim in ("local", "both"):
                bad(code, "%s, but the peer's FIN came first: %s" % (why, facts.why()))
            elif k in ("local/both", "both") and claim == "peer":
                bad(code, "%s, but our FIN left before the peer's arrived: %s" % (
                    why, facts.why()))
            elif k == "both" and claim == "local" and exact:
                bad(code, "%s, but the kernel showed CLOSING (a simultaneous close)" % why)
            if cap and ((claim == "peer" and cap in ("local", "both")) or
                        (claim == "local" and cap == "peer") or
                        (claim == "both" and two and cap != "both") or
                        (claim == "local" and cap == "both" and exact)):
                bad(code, "%s, but the capture's first FIN: %s" % (why, cap))
            if claim == "peer" and not _peer_fin_seen_by(c, i, facts):
                bad(code, "%s before anything showed the peer's FIN (fin_received, "
                    "CLOSE_WAIT, the capture)" % why)
    cl = first(c, "closed")
    if not cl:
        return
    ff = cl.get("first_fin")
    if ff not in (None, "local", "peer", "both", "none"):
        bad("first_fin", "closed.first_fin=%r is not local/peer/both/none" % ff)
    if ff == "none" and (_idx(c, "fin_sent") or _idx(c, "fin_received") or facts.cap_fins or
                         facts.seen & (PEER_FIRST_STATES | LOCAL_FIRST_STATES |
                                       {"CLOSING", "TIME_WAIT"})):
        bad("first_fin", "closed.first_fin=none, but a FIN went: %s; %s" % (
            [e.get("event") for e in c if e.get("event") in ("fin_sent", "fin_received")],
            facts.why()))
    # fin_received / fin_sent against what the kernel showed up to `closed`
    upto = c[:c.index(cl) + 1]
    shown = {e.get("tcp_state") for e in upto} | {
        e.get("to") for e in upto if e.get("event") == "state_change"}
    cap_in = [s for s in facts.cap_fins if s.get("dir") == "in" and
              isinstance(s.get("cap_ts_us"), int) and s["cap_ts_us"] + TOL_US < cl["ts_us"]]
    if cl.get("fin_received") is False and (shown & PEER_FIN_IN_STATES or cap_in):
        bad("first_fin", "closed.fin_received=false, but the peer's FIN was in before "
            "`closed`: %s" % (sorted(shown & PEER_FIN_IN_STATES) or "the capture"))
    ours = shown & (LOCAL_FIRST_STATES | {"CLOSING", "LAST_ACK"})
    if cl.get("fin_sent") is False and ours:
        bad("first_fin", "closed.fin_sent=false, but the kernel showed our FIN out before "
            "`closed`: %s" % sorted(ours))


def _time_wait(c, side, facts, bad):
    """time_wait (the field) and text_close (the sentences) against the watch."""
    tw = (first(c, "closed") or {}).get("time_wait")
    if tw is True and not facts.time_wait:
        bad("time_wait", "closed.time_wait=true, but this side's kernel never showed TIME_WAIT "
            "(%s)" % facts.why())
    if tw is False and facts.time_wait:
        bad("time_wait", "closed.time_wait=false, but the watch saw TIME_WAIT")
    if tw is not None and not isinstance(tw, bool):
        bad("time_wait", "closed.time_wait=%r is not a boolean" % tw)
    for e in c:
        said = _claims_time_wait(e, side)
        if said is None:
            continue
        if said[0] and not facts.time_wait:
            bad("text_close", "%s says %r, but this side's kernel never showed TIME_WAIT (%s)" %
                (e.get("event"), said[1], facts.why()))
        if not said[0] and facts.time_wait:
            bad("text_close", "%s says %r, but the watch saw TIME_WAIT on this side" % (
                e.get("event"), said[1]))


THIRD_WAVE_STEPS = ("3rd and 4th wave", "第三次和第四次挥手")


def _wave_words(c, side, facts, bad):
    """text_close: a FIN received after ours is the textbook's 3rd wave only where this side
    saw it come after ours arrived (after_ours_known); no step or gloss may name it so where
    the same line says this side cannot tell; "read() returning 0" only where read() did."""
    for e in c:
        if e.get("event") != "fin_received":
            continue
        step = " ".join(str(e.get(k) or "") for k in ("explain_step", "step_zh"))
        third = any(w in step for w in THIRD_WAVE_STEPS)
        if third and (e.get("after_ours_known") is False or "cannot tell" in texts(e)):
            bad("text_close", "fin_received is named %r, but this side could not tell a 3rd "
                "wave from a crossing (after_ours_known=%r)" % (step.strip(),
                                                                 e.get("after_ours_known")))
        if e.get("unread") and "read() returning 0" in str(e.get("explain") or ""):
            bad("text_close", "fin_received (the FIN seen behind unread bytes) explains "
                "'read() returning 0', which had not happened")


def _capture_time(c, side, facts, bad):
    """capture_time: a send is stamped before the segment it caused left, a FIN received
    after it arrived."""
    segs = facts.segs
    if not segs:
        return

    def seg(direction, flag):
        return next((s for s in segs if s.get("dir") == direction and flag in _flags(s)
                     and (flag != "SYN" or "ACK" not in _flags(s))
                     and isinstance(s.get("cap_ts_us"), int)), None)
    for name, direction, flag, sent in (("connect", "out", "SYN", True),
                                        ("fin_sent", "out", "FIN", True),
                                        ("fin_received", "in", "FIN", False)):
        e, s = first(c, name), seg(direction, flag)
        if e is None or s is None or not isinstance(e.get("ts_us"), int):
            continue
        if sent and e["ts_us"] > s["cap_ts_us"] + TOL_US:
            bad("capture_time", "%s is stamped %d us after its %s segment left (%d)" % (
                name, e["ts_us"] - s["cap_ts_us"], flag, s["cap_ts_us"]))
        if not sent and e["ts_us"] + TOL_US < s["cap_ts_us"]:
            bad("capture_time", "%s is stamped %d us before the %s segment arrived" % (
                name, s["cap_ts_us"] - e["ts_us"], flag))
    rst = [e for e in c if e.get("event") == "reset" and e.get("dir") == "out"]
    s = seg("out", "RST")
    if rst and s and rst[0]["ts_us"] > s["cap_ts_us"] + TOL_US:
        bad("capture_time", "reset out is stamped %d us after its RST left" % (
            rst[0]["ts_us"] - s["cap_ts_us"]))


def check_conn(c, side, where):
    """The one-side invariants of one connection's records (in log order): a list of
    Violations."""
    v = []

    def bad(code, msg):
        v.append(Violation(code, where, msg))

    facts = Facts(c)
    for part in (_phases, _order, _states, _first_fin, _time_wait, _wave_words,
                 _capture_time):
        part(c, side, facts, bad)
    return v + check_alert_text(c, where)


def check_alert_text(c, where):
    """A sentence names an alert only if that alert was logged; denials only if true."""
    v = []
    alerts = [e for e in c if e.get("event") == "alert"]
    descs = {(e.get("dir"), e.get("desc")) for e in alerts}
    failed = [e for e in c if e.get("event") == "tls_error"]
    for e in c:
        if e.get("event") not in CLOSE_TEXT_EVENTS:
            continue
        tx = texts(e)
        tx_nocn = tx.replace("close_notify alert", "close_notify")
        for m in OPENSSL_ALERT.finditer(tx_nocn):
            name = m.group(1).strip().replace(" ", "_")
            name = OPENSSL_ALERT_FIX.get(name, name)
            if ("in", name) not in descs and not (name not in ALERT_NAMES and
                                                   any(d == "in" for d, _ in descs)):
                v.append(Violation("text_alert", where, "%s names %r (a received alert), but "
                                   "no alert %s came on this connection (alerts: %s)" % (
                                       e.get("event"), m.group(0), name, sorted(descs))))
        for name in ALERT_NAMES:
            if re.search(r"\b%s\b" % name, tx_nocn) and not any(d == name for _, d in descs):
                v.append(Violation("text_alert", where, "%s names alert %s, but none was "
                                   "logged on this connection (alerts: %s)" % (
                                       e.get("event"), name, sorted(descs))))
        m = re.search(r"\b(?:our|the|after the|an?) alert\b", tx_nocn)
        if m and not alerts and not OPENSSL_ALERT.search(tx_nocn) and \
                not re.search(r"\bno (?:tls )?alert\b", tx_nocn):
            v.append(Violation("text_alert", where, "%s speaks of %r, but no alert was logged "
                               "on this connection" % (e.get("event"), m.group(0))))
        if re.search(r"\bour alert\b", tx_nocn) and alerts and \
                not any(d == "out" for d, _ in descs):
            v.append(Violation("text_alert", where, "%s speaks of 'our alert', but we sent "
                               "none (alerts: %s)" % (e.get("event"), sorted(descs))))
        m = re.search(r"\bno (?:tls )?alert (?:went out|was sent|sent)\b", tx_nocn)
        if m and any(d == "out" for d, _ in descs):
            v.append(Violation("text_alert", where, "%s says %r, but alert %s went out" % (
                e.get("event"), m.group(0), [n for d, n in descs if d == "out"])))
        m = re.search(r"\btls (?:itself )?did not fail\b", tx_nocn)
        if m and (alerts or failed):
            v.append(Violation("text_alert", where, "%s says %r, but TLS failed on this "
                               "connection: %s" % (e.get("event"), m.group(0), [
                                   _ev(x) + " " + str(x.get("reason", "")) for x in
                                   (alerts + failed)[:3]])))
    return v


# A conversion of ours left in a sentence (not a URL's %XX escape: no hex digit follows).
FORMAT_LEFT = re.compile(r"%(?:\.\*)?(?:zu|lld|ld|s|d|u)(?![0-9A-Fa-f])")


def check_format_text(evs, name):
    """No sentence of any event (and no label) holds an unfilled printf conversion."""
    v = []
    for e in evs:
        for f in TEXT_FIELDS + ("label",):
            m = FORMAT_LEFT.search(e[f]) if isinstance(e.get(f), str) else None
            if m:
                v.append(Violation("text_format", "%s (%s)" % (name, _ev(e)),
                                   "%s holds %r unfilled: %r" % (f, m.group(0), e[f][:160])))
    return v


def check_side(evs, side=None, name=None):
    """Every one-side invariant over one program's log: a list of Violations."""
    side = side or next((e.get("side") for e in evs if e.get("side")), "?")
    name = name or side
    v = check_format_text(evs, name)
    conns = split_conns(evs)
    for n, c in sorted(conns.items()):
        v += check_conn(c, side, "%s #%d" % (name, n))
    # the program's own events (conn 0): e.g. the client's `error` naming an alert
    alerts = {(e.get("dir"), e.get("desc")) for e in evs if e.get("event") == "alert"}
    for e in evs:
        if e.get("conn") != 0 or e.get("event") not in ("error", "warning"):
            continue
        tx = texts(e)
        for nm in ALERT_NAMES:
            if re.search(r"\b%s\b" % nm, tx) and not any(d == nm for _, d in alerts):
                v.append(Violation("text_alert", "%s (%s)" % (name, e.get("event")),
                                   "names alert %s, but no connection logged it" % nm))
    return v


# ---------------------------------------------------------------- both sides

def _sent_recv(c, kind):
    """The records of one connection that send / receive `kind`: message, alert,
    close_notify (by dir)."""
    return ([e for e in c if e.get("event") == kind and e.get("dir") == "out"],
            [e for e in c if e.get("event") == kind and e.get("dir") == "in"])


def _key(e):
    return (e.get("type") or e.get("desc") or "", e.get("len"))


def _broken(c):
    return any(e.get("event") in ("alert", "tls_error", "reset") for e in c) or \
        not first(c, "closed")


def check_pair(cc, sc, where):
    """The invariants between the client's and the server's records of one connection."""
    v = []

    def bad(code, msg):
        v.append(Violation(code, where, msg))

    def later(code, what, send, recv):
        if isinstance(send.get("ts_us"), int) and isinstance(recv.get("ts_us"), int) and \
                recv["ts_us"] + TOL_US < send["ts_us"]:
            bad(code, "%s received %d us before it was sent (sent %s, received %s)" % (
                what, send["ts_us"] - recv["ts_us"], _ev(send), _ev(recv)))

    for kind in ("message", "alert", "close_notify"):
        for a, b, ab in ((cc, sc, "client -> server"), (sc, cc, "server -> client")):
            sent, _ = _sent_recv(a, kind)
            _, got = _sent_recv(b, kind)
            ks, kg = [_key(e) for e in sent], [_key(e) for e in got]
            if kg != ks[:len(kg)]:
                bad("pair_messages", "%s %s: sent %s, received %s" % (ab, kind, ks, kg))
            elif len(kg) < len(ks) and kind != "close_notify" and not (_broken(a) or _broken(b)):
                bad("pair_messages", "%s %s: %s sent but never received, on a connection that "
                    "ended cleanly" % (ab, kind, ks[len(kg):]))
            for s, r in zip(sent, got):
                if _key(s) == _key(r):
                    later("pair_time", "%s %s %s" % (ab, kind, _key(s)[0]), s, r)

    # HTTP
    creq, sreq = events(cc, "request"), events(sc, "request")
    for n, (a, b) in enumerate(zip(creq, sreq)):
        if (a.get("method"), a.get("target")) != (b.get("method"), b.get("target")):
            bad("pair_http", "request %d: the client sent %s %s, the server got %s %s" % (
                n + 1, a.get("method"), a.get("target"), b.get("method"), b.get("target")))
        later("pair_time", "request %d" % (n + 1), a, b)
    sresp = events(sc, "response")
    cresp = events(cc, "response")
    for n, (a, b) in enumerate(zip(sresp, cresp)):
        if a.get("status") != b.get("status"):
            bad("pair_http", "response %d: the server sent %s, the client got %s" % (
                n + 1, a.get("status"), b.get("status")))
        later("pair_time", "response %d" % (n + 1), a, b)
    if len(cresp) > len(sresp):
        bad("pair_http", "the client got %d responses, the server sent %d" % (
            len(cresp), len(sresp)))

    # the connection, the FINs and RSTs
    conn, est = first(cc, "connect"), first(sc, "established")
    if conn and est:
        later("pair_time", "the connection (SYN)", conn, est)
    for a, b, ab in ((cc, sc, "client -> server"), (sc, cc, "server -> client")):
        fr = first(b, "fin_received")
        if fr:
            fs = first(a, "fin_sent")
            ca = first(a, "closed") or {}
            if fs is None and ca and not ca.get("rst_sent"):
                fs = ca     # close() without shutdown() sends the FIN
            if fs is not None:
                later("pair_time", "%s FIN" % ab, fs, fr)
        ri = [e for e in b if e.get("event") == "reset" and e.get("dir") == "in"]
        ro = [e for e in a if e.get("event") == "reset" and e.get("dir") == "out"]
        if ri and ro:
            later("pair_time", "%s RST" % ab, ro[0], ri[0])

    # first_fin between the sides
    fc = (first(cc, "closed") or {}).get("first_fin")
    fsv = (first(sc, "closed") or {}).get("first_fin")
    mirror = {"local": "peer", "peer": "local", "both": "both", "none": "none"}
    unseen = unseen_crossing(cc, fc, "client", sc, fsv, "server")
    if fc in mirror and fsv in mirror and mirror[fc] != fsv and not unseen:
        bad("pair_close", "first_fin: the client says %s, the server %s" % (fc, fsv))
    twc = (first(cc, "closed") or {}).get("time_wait")
    tws = (first(sc, "closed") or {}).get("time_wait")
    if twc is True and tws is True and not (fc == fsv == "both" or unseen):
        bad("pair_close", "both sides claim TIME_WAIT, but first_fin is %s/%s (only a "
            "simultaneous close leaves TIME_WAIT on both)" % (fc, fsv))
    kc, ks = Facts(cc).first, Facts(sc).first
    if kc == "peer" and ks == "peer":
        bad("pair_close", "each side's kernel shows the other's FIN first (CLOSE_WAIT on both)")
    return v


def could_not_tell(c, side):
    """Could this side NOT tell its FIN going first from a crossing? Our FIN left before the
    peer's arrived (FIN_WAIT1 after our shutdown()/close()), and nothing showed which: not
    CLOSING (the crossing; microseconds long on loopback), not FIN_WAIT2 (our FIN ACKed before
    the peer's came: in a crossing the peer's FIN, sent before ours reached it, arrives before
    its ACK of ours), no capture of both FINs (the second ACKs the first, or not); and none of
    its sentences claims more ("our FIN was the first", "we closed first" ...)."""
    f = Facts(c)
    if f.seen & {"CLOSING", "FIN_WAIT2"} or len({s.get("dir") for s in f.cap_fins}) == 2:
        return False
    return not any(code == "text_close" and claim == "local"
                   for e in c for claim, code, _ in _claims_first(e, side))


def unseen_crossing(cc, fc, cside, sc, fsv, sside):
    """first_fin local on both sides (each FIN left before the other's arrived: a
    simultaneous close in TCP terms), or local against both (one side saw the CLOSING), is
    a crossing the `local` side(s) could not see: true only if every side that says local
    could not tell (could_not_tell)."""
    if fc not in ("local", "both") or fsv not in ("local", "both") or fc == fsv == "both":
        return False
    return all(could_not_tell(c, side) for c, ff, side in ((cc, fc, cside), (sc, fsv, sside))
               if ff == "local")


def pair_conns(clients, servers):
    """Match client connections to server connections by their addresses (and time: a
    local port may be used again). clients, servers: lists of (name, evs). Yields
    (client name, client conn records, server name, server conn records)."""
    srv = []
    for sname, evs in servers:
        for n, c in split_conns(evs).items():
            local, remote = conn_addrs(c)
            est = first(c, "established") or {}
            if local and remote:
                srv.append(((remote, local), est.get("ts_us") or 0, sname, n, c))
    used = set()
    for cname, evs in clients:
        for n, c in sorted(split_conns(evs).items()):
            local, remote = conn_addrs(c)
            if not local or not remote:
                continue
            t0 = (first(c, "connect") or first(c, "established") or {}).get("ts_us") or 0
            cand = [s for s in srv if s[0] == (local, remote) and id(s[4]) not in used]
            if not cand:
                continue
            best = min(cand, key=lambda s: abs(s[1] - t0))
            used.add(id(best[4]))
            yield ("%s #%d" % (cname, n), c, "%s #%d" % (best[2], best[3]), best[4])


def check_run(clients, servers):
    """Every invariant over the logs of one test run: clients and servers are lists of
    (name, records). Returns the Violations."""
    v = []
    for name, evs in clients:
        v += check_side(evs, "client", name)
    for name, evs in servers:
        v += check_side(evs, "server", name)
    for cn, cc, sn, sc in pair_conns(clients, servers):
        v += check_pair(cc, sc, "%s <-> %s" % (cn, sn))
    return v


def record(t, what, violations, codes=CODES):
    """One check per invariant family in the test's `t` (so a test lists each broken
    invariant with every place it broke)."""
    by = {}
    for x in violations:
        by.setdefault(x.code, []).append(x)
    for code in codes:
        got = by.get(code, [])
        t.check("story (%s): %s" % (what, code), not got, "no violation",
                "\n       ".join("%s: %s" % (x.where, x.msg) for x in got[:12]) +
                ("\n       ... %d more" % (len(got) - 12) if len(got) > 12 else ""))
    return not violations


def check_test(t, logs, what="every run of this test"):
    """The story of every run a test made (t.logs: what the fixtures collected), as checks
    in t. A server still running is read as far as it has logged."""
    clients, servers, seen = [], [], {}
    for side, name, src in logs:
        if hasattr(src, "evs"):
            with src.cond:
                evs = list(src.evs)
        else:
            evs = list(src)
        if not evs:
            continue
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else "%s (run %d)" % (name, seen[name])
        (clients if side == "client" else servers).append((label, evs))
    if not clients and not servers:
        return True
    v = check_run(clients, servers)
    if v and os.environ.get("STORY_DUMP"):
        dump(os.environ["STORY_DUMP"], t.name, clients, servers, v)
    return record(t, what, v)


def check_now(t, what):
    """The story of the runs so far, checked now under the name `what` (a test that checks
    several peers one after the other); the fixture's check at the end then skips them."""
    ok = check_test(t, t.logs, what)
    del t.logs[:]
    return ok


def dump(d, test, clients, servers, v):
    """STORY_DUMP=DIR: the logs of a run that broke the story, one JSON-lines file per
    program (DIR/TEST.NAME.json), and the violations (DIR/TEST.story.txt), to read again with
    `python3 tests/harness/story.py --client ... --server ...`."""
    import json
    os.makedirs(d, exist_ok=True)
    for name, evs in clients + servers:
        fn = re.sub(r"[^A-Za-z0-9_.@-]+", "_", "%s.%s.json" % (test, name))
        with open(os.path.join(d, fn), "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
    with open(os.path.join(d, "%s.story.txt" % re.sub(r"[^A-Za-z0-9_.-]+", "_", test)),
              "w") as f:
        f.write("\n".join(map(repr, v)) + "\n")


def main(argv):
    """python3 tests/harness/story.py [--client FILE]... [--server FILE]...: check the JSON
    logs of one run, print every violation; exit 1 if there is one."""
    import argparse
    from harness.log import parse_json_lines
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--client", action="append", default=[], help="a client's JSON log")
    ap.add_argument("--server", action="append", default=[], help="a server's JSON log")
    a = ap.parse_args(argv)

    def load(files):
        out = []
        for f in files:
            with open(f, encoding="utf-8", errors="replace") as fh:
                out.append((f, parse_json_lines(fh.read())))
        return out
    v = check_run(load(a.client), load(a.server))
    for x in v:
        print(x)
    return 1 if v else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
