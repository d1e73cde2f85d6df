"""test_story_checker.py -- the story checker (harness/story.py) on crafted logs: a true story
passes, and each invariant has a log that breaks it (and only it, where one change can).

The crafted run is one HTTPS exchange as today's programs log it (TLS 1.3, the client closes
first): the client's and the server's records with their ts_us, the kernel's states on
tcp_state, the close watch and, for the capture checks, the client's captured segments.
"""

import copy

import pytest

from harness import story

T0 = 1_800_000_000_000_000
C_ADDR, S_ADDR = "127.0.0.1:50000", "127.0.0.1:8443"
HS_S2C = [("ServerHello", 122), ("ChangeCipherSpec", 1), ("EncryptedExtensions", 6),
          ("Certificate", 540), ("CertificateVerify", 78), ("Finished", 52)]


def rec(side, ts, event, st=None, conn=1, **f):
    e = {"t_ms": ts / 1000.0, "ts_us": T0 + ts, "side": side, "conn": conn,
         "layer": "TCP", "event": event}
    if st:
        e["tcp_state"] = st
    e.update(f)
    return e


def phase(side, ts, a, b, st="ESTABLISHED"):
    return rec(side, ts, "phase", st, **{"from": a, "to": b})


def client_log(capture=False, fields=True):
    c = "client"
    L = [phase(c, 90, "NEW", "CONNECTING", None),
         rec(c, 100, "connect", "ESTABLISHED", local=C_ADDR, remote=S_ADDR),
         rec(c, 110, "established", "ESTABLISHED", local=C_ADDR, remote=S_ADDR),
         phase(c, 115, "CONNECTING", "TLS_HANDSHAKE"),
         rec(c, 120, "handshake_start", "ESTABLISHED"),
         rec(c, 130, "message", "ESTABLISHED", dir="out", type="ClientHello", len=310)]
    L += [rec(c, 400 + 10 * i, "message", "ESTABLISHED", dir="in", type=t, len=n)
          for i, (t, n) in enumerate(HS_S2C)]
    L += [rec(c, 460, "message", "ESTABLISHED", dir="out", type="ChangeCipherSpec", len=1),
          rec(c, 470, "message", "ESTABLISHED", dir="out", type="Finished", len=52),
          rec(c, 480, "key_exchange", "ESTABLISHED", kx="ECDHE"),
          rec(c, 490, "handshake_done", "ESTABLISHED", version="TLSv1.3"),
          phase(c, 495, "TLS_HANDSHAKE", "OPEN"),
          rec(c, 500, "request", "ESTABLISHED", method="GET", target="/", req=1),
          rec(c, 800, "message", "ESTABLISHED", dir="in", type="NewSessionTicket", len=233),
          rec(c, 900, "response", "ESTABLISHED", status=200, req=1),
          rec(c, 910, "body", "ESTABLISHED", bytes=839, req=1,
              gloss="the whole response is here; the client now closes first (so the client "
                    "will hold TIME_WAIT)"),
          phase(c, 920, "OPEN", "DRAINING"), phase(c, 925, "DRAINING", "TLS_SHUTDOWN"),
          rec(c, 930, "close_notify", "ESTABLISHED", dir="out"),
          rec(c, 940, "fin_sent", "FIN_WAIT1", reason="response complete", wave=1,
              gloss="1st wave: our FIN (FIN_WAIT1)"),
          phase(c, 945, "TLS_SHUTDOWN", "FIN_SENT", "FIN_WAIT1"),
          rec(c, 1200, "close_notify", "CLOSE", dir="in"),
          rec(c, 1210, "fin_received", "CLOSE", wave=3),
          rec(c, 1220, "closed", "CLOSE", reason="response complete", fin_sent=True,
              fin_received=True, closed_first=True, rst_sent=False,
              gloss="we closed first, so our side now sits in TIME_WAIT for 2MSL"),
          phase(c, 1225, "FIN_SENT", "CLOSED", "CLOSE"),
          rec(c, 2000, "state_change", **{"from": "FIN_WAIT1", "to": "TIME_WAIT",
                                          "timer": "timewait"}),
          rec(c, 2010, "watch_end", state="TIME_WAIT", why="--linger-watch is 0"),
          rec(c, 2020, "timing", conn=0, exit=0)]
    if fields:
        closed = next(e for e in L if e["event"] == "closed")
        closed.update(first_fin="local", time_wait=True)
    if capture:
        S, A = 1000, 5000       # our ISN, the peer's
        segs = [(101, "out", "SYN", S, 0, 0), (102, "in", "SYN,ACK", A, S + 1, 0),
                (103, "out", "ACK", S + 1, A + 1, 0),
                (941, "out", "FIN,ACK", S + 500, A + 3000, 0),
                (1100, "in", "ACK", A + 3000, S + 501, 0),
                (1205, "in", "FIN,PSH,ACK", A + 3000, S + 501, 24),
                (1206, "out", "ACK", S + 501, A + 3025, 0)]
        for ts, d, fl, seq, ack, n in segs:
            L.append(rec(c, ts, "segment", dir=d, flags=fl, seq=seq, ack=ack, len=n,
                         cap_ts_us=T0 + ts))
        L.sort(key=lambda e: e["ts_us"])
    return L


def server_log(fields=True):
    s = "server"
    L = [rec(s, 200, "established", "ESTABLISHED", local=S_ADDR, remote=C_ADDR),
         phase(s, 205, "NEW", "TLS_HANDSHAKE"),
         rec(s, 210, "handshake_start", "ESTABLISHED"),
         rec(s, 300, "message", "ESTABLISHED", dir="in", type="ClientHello", len=310)]
    L += [rec(s, 320 + 10 * i, "message", "ESTABLISHED", dir="out", type=t, len=n)
          for i, (t, n) in enumerate(HS_S2C)]
    L += [rec(s, 600, "message", "ESTABLISHED", dir="in", type="ChangeCipherSpec", len=1),
          rec(s, 610, "message", "ESTABLISHED", dir="in", type="Finished", len=52),
          rec(s, 620, "message", "ESTABLISHED", dir="out", type="NewSessionTicket", len=233),
          rec(s, 630, "key_exchange", "ESTABLISHED", kx="ECDHE"),
          rec(s, 640, "handshake_done", "ESTABLISHED", version="TLSv1.3"),
          phase(s, 645, "TLS_HANDSHAKE", "OPEN"),
          rec(s, 650, "request", "ESTABLISHED", method="GET", target="/"),
          rec(s, 700, "response", "ESTABLISHED", status=200),
          rec(s, 1000, "close_notify", "CLOSE_WAIT", dir="in"),
          rec(s, 1010, "fin_received", "CLOSE_WAIT", wave=1,
              gloss="1st wave: the peer sent FIN; we are in CLOSE_WAIT until we close"),
          phase(s, 1020, "OPEN", "DRAINING", "CLOSE_WAIT"),
          phase(s, 1025, "DRAINING", "TLS_SHUTDOWN", "CLOSE_WAIT"),
          rec(s, 1100, "close_notify", "CLOSE_WAIT", dir="out"),
          rec(s, 1110, "fin_sent", "LAST_ACK", reason="the client closed its side", wave=3),
          phase(s, 1115, "TLS_SHUTDOWN", "FIN_SENT", "LAST_ACK"),
          rec(s, 1120, "closed", "CLOSE", reason="the client closed its side", fin_sent=True,
              fin_received=True, closed_first=False, rst_sent=False,
              gloss="the peer closed first: after its ACK of our FIN (4th wave) our side is "
                    "CLOSED; the peer holds TIME_WAIT"),
          phase(s, 1125, "FIN_SENT", "CLOSED", "CLOSE"),
          rec(s, 1500, "state_change", **{"from": "LAST_ACK", "to": "CLOSED", "timer": "none",
                                          "gloss": "CLOSED, no TIME_WAIT on this side"})]
    if fields:
        closed = next(e for e in L if e["event"] == "closed")
        closed.update(first_fin="peer", time_wait=False)
    return L


def run(c, s):
    return story.check_run([("client", c)] if c is not None else [],
                           [("server", s)] if s is not None else [])


def codes(v):
    return sorted({x.code for x in v})


def find(L, event, **kw):
    return next(e for e in L if e["event"] == event and
                all(e.get(k) == x for k, x in kw.items()))


# ---------------------------------------------------------------- the true story passes

@pytest.mark.parametrize("fields", [True, False], ids=["with-first_fin", "today's-fields"])
def test_true_story_passes(fields):
    assert run(client_log(capture=True, fields=fields), server_log(fields)) == []
    assert run(client_log(fields=fields), None) == []       # one side alone (a real peer)
    assert run(None, server_log(fields)) == []


def test_pairing_by_address():
    """Connections are matched by their addresses, not by their numbers."""
    c, s = client_log(), server_log()
    for e in s:
        e["conn"] = 7
    pairs = list(story.pair_conns([("c", c)], [("s", s)]))
    assert [(a, b) for a, _, b, _ in pairs] == [("c #1", "s #7")]
    for e in s:
        if e["event"] == "established":
            e["remote"] = "127.0.0.1:50001"
    assert list(story.pair_conns([("c", c)], [("s", s)])) == []


# ---------------------------------------------------------------- each invariant broken

def mutate(fn, c=None, s=None):
    c = copy.deepcopy(c if c is not None else client_log(capture=True))
    s = copy.deepcopy(s if s is not None else server_log())
    fn(c, s)
    return run(c, s)


def test_phase_chain():
    def skip(c, s):      # a phase event that does not start where the last one ended
        find(c, "phase", to="OPEN")["from"] = "NEW"
    assert codes(mutate(skip)) == ["phase_chain"]

    def back(c, s):
        c.insert(c.index(find(c, "request")), phase("client", 499, "OPEN", "TLS_HANDSHAKE"))
    assert "phase_chain" in codes(mutate(back))


def test_phase_order():
    def early_msg(c, s):     # a TLS message before handshake_start
        hs = find(s, "handshake_start")
        s.remove(hs)
        s.insert(s.index(find(s, "message", type="ServerHello")) + 1, hs)
    assert codes(mutate(early_msg)) == ["phase_order"]

    def req_before_hs(c, s):
        r = find(c, "request")
        c.remove(r)
        c.insert(c.index(find(c, "handshake_start")) + 1, r)
    assert "phase_order" in codes(mutate(req_before_hs))

    def body_first(c, s):
        b = find(c, "body")
        c.remove(b)
        c.insert(c.index(find(c, "response")), b)
    assert codes(mutate(body_first)) == ["phase_order"]

    def two_closed(c, s):
        s.append(dict(find(s, "closed")))
    assert "phase_order" in codes(mutate(two_closed))

    def resp_first(c, s):
        r = find(s, "response")
        s.remove(r)
        s.insert(s.index(find(s, "request")), r)
    assert codes(mutate(resp_first)) == ["phase_order"]

    def hs_msg_late(c, s):
        m = find(c, "message", type="CertificateVerify")
        c.remove(m)
        c.insert(c.index(find(c, "handshake_done")) + 1, m)
    assert "phase_order" in codes(mutate(hs_msg_late))

    # issue 12: an interim 100 Continue (Expect: 100-continue) leaves its request open for
    # the final response; two final responses to one request still break the order (the
    # server's log alone: our client does not send Expect)
    for interim, want in ((True, []), (False, ["phase_order"])):
        s = copy.deepcopy(server_log())
        r = find(s, "response")
        e = dict(r, status=100, length=0)
        if interim:
            e["interim"] = True
        s.insert(s.index(r), e)
        assert codes(run(None, s)) == want


def test_after_closed():
    def late(c, s):          # the peer's close_notify logged after `closed`
        cn = find(c, "close_notify", dir="in")
        c.remove(cn)
        c.insert(c.index(find(c, "closed")) + 1, cn)
    assert "after_closed" in codes(mutate(late))
    # the close watch, the last phase change, segments and the summary may follow
    c = client_log(capture=True)
    c.append(rec("client", 3000, "summary", connection=1))
    assert run(c, server_log()) == []


def test_tcp_state_backwards():
    def fd_back(c, s):       # FIN_WAIT1 after CLOSE on the fd
        find(c, "fin_received")["tcp_state"] = "FIN_WAIT1"
        find(c, "close_notify", dir="in")["tcp_state"] = "CLOSE"
    assert "tcp_state" in codes(mutate(fd_back))

    def watch_back(c, s):    # the watch sees FIN_WAIT2 after TIME_WAIT
        c.append(rec("client", 2005, "state_change", **{"from": "TIME_WAIT", "to": "FIN_WAIT2",
                                                        "timer": "none"}))
    assert "tcp_state" in codes(mutate(watch_back))

    def both(c, s):          # CLOSE_WAIT and FIN_WAIT1 on one socket: impossible
        find(s, "close_notify", dir="out")["tcp_state"] = "FIN_WAIT1"
    assert "tcp_state" in codes(mutate(both))


def test_first_fin_against_the_kernel():
    def server_claims_local(c, s):       # issue 11: CLOSE_WAIT seen, "we closed first"
        find(s, "closed").update(first_fin="local")
    v = mutate(server_claims_local)
    assert "first_fin" in codes(v) and "pair_close" in codes(v)

    def client_claims_peer(c, s):        # FIN_WAIT1 seen, first_fin=peer
        find(c, "closed").update(first_fin="peer", time_wait=False)
    assert "first_fin" in codes(mutate(client_claims_peer))

    def waves(c, s):     # issue 11: the server's wave numbers from the order of its calls
        find(s, "fin_received")["wave"] = 3
        find(s, "fin_sent")["wave"] = 1
        find(s, "closed")["closed_first"] = True
    v = mutate(waves)
    assert codes(v) == ["first_fin"] and len(v) == 3

    def closing(c, s):   # the kernel showed CLOSING: a simultaneous close, not "local"
        c.insert(c.index(find(c, "close_notify", dir="in")),
                 rec("client", 1150, "state_change", **{"from": "FIN_WAIT1", "to": "CLOSING",
                                                        "timer": "retransmit"}))
        for e in c:
            if e["event"] == "state_change" and e["to"] == "TIME_WAIT":
                e["from"] = "CLOSING"
    assert "first_fin" in codes(mutate(closing, c=client_log()))

    def none(c, s):
        find(c, "closed").update(first_fin="none")
    assert "first_fin" in codes(mutate(none))


def test_first_fin_against_the_capture():
    def peer_fin_first(c, s):    # the capture shows the peer's FIN before ours
        for e in c:
            if e["event"] == "segment" and e["flags"] == "FIN,PSH,ACK":
                e["cap_ts_us"] -= 400
        c.sort(key=lambda e: e.get("cap_ts_us", e["ts_us"]))
    assert "first_fin" in codes(mutate(peer_fin_first))

    def crossing(c, s):          # the peer's FIN does not ACK ours: they crossed
        seg = find(c, "segment", flags="FIN,PSH,ACK")
        seg["ack"] -= 1
    # first_fin=local is wrong now, and so is the sentence "we closed first"
    assert codes(mutate(crossing)) == ["first_fin", "text_close"]


def test_time_wait():
    def no_tw(c, s):         # claimed, but the watch never saw TIME_WAIT
        for e in [e for e in c if e["event"] in ("state_change", "watch_end")]:
            c.remove(e)
    v = mutate(no_tw, c=client_log())
    assert "time_wait" in codes(v)

    def server_tw(c, s):
        find(s, "closed")["time_wait"] = True
    v = mutate(server_tw)
    assert "time_wait" in codes(v) and "pair_close" in codes(v)

    def denied(c, s):
        find(c, "closed")["time_wait"] = False
    assert codes(mutate(denied)) == ["time_wait"]


def test_text_close():
    def closed_its_side(c, s):   # issue 11: "the server closed its side" with only our FIN out
        find(c, "fin_sent")["reason"] = "the server closed its side"
    v = mutate(closed_its_side)
    # against the kernel, the capture, and said before anything showed the peer's FIN
    assert codes(v) == ["text_close"] and len(v) == 3

    def we_first(c, s):          # issue 11: the server says it closed first from CLOSE_WAIT
        find(s, "closed")["gloss"] = "we closed first, so our side now sits in TIME_WAIT"
    v = mutate(we_first)
    assert codes(v) == ["text_close"] and len(v) == 2   # "closed first", "sits in TIME_WAIT"

    def no_tw(c, s):
        find(c, "closed")["gloss"] = "no TIME_WAIT on this side"
    assert codes(mutate(no_tw)) == ["text_close"]

    def close_branch_words(c, s):    # the same lie in the words of the close branch
        find(s, "closed")["gloss"] = ("our FIN was the first, so this side holds TIME_WAIT "
                                      "for 2MSL (60 s on Linux; sock_diag shows it)")
    v = mutate(close_branch_words)
    assert codes(v) == ["text_close"] and len(v) == 2

    def true_words(c, s):            # and its true sentences pass
        find(c, "closed")["gloss"] = ("our FIN was the first, so this side holds TIME_WAIT "
                                      "for 2MSL (60 s on Linux; sock_diag shows it)")
        find(c, "fin_received")["gloss"] = ("3rd wave: the peer's FIN came after ours; our "
                                            "kernel ACKed it at once (4th wave)")
        find(s, "closed")["gloss"] = ("the peer's FIN was the first: after its ACK of ours "
                                      "(4th wave) this side is CLOSED; no TIME_WAIT here, the "
                                      "peer holds it")
        find(s, "fin_received")["gloss"] = ("1st wave: the peer sent the first FIN; our "
                                            "kernel ACKs it")
    assert mutate(true_words) == []

    def simultaneous(c, s):
        find(c, "closed")["gloss"] = "a simultaneous close: both FINs crossed"
    assert codes(mutate(simultaneous)) == ["text_close"]


def test_text_alert():
    def did_not_fail(c, s):      # issue 11: after tls_error "tlsv1 alert unknown ca"
        s.insert(3, rec("server", 215, "alert", "ESTABLISHED", dir="in", desc="unknown_ca"))
        s.insert(4, rec("server", 216, "tls_error", "ESTABLISHED", reason="tlsv1 alert unknown ca"))
        find(s, "fin_sent")["gloss"] = "no TLS alert went out (TLS itself did not fail)"
    assert codes(story.check_side(mutate_side(did_not_fail), "server")) == ["text_alert"]

    def unlogged(c, s):          # OpenSSL's words name an alert no event logged
        s.insert(3, rec("server", 216, "tls_error", "ESTABLISHED",
                        reason="sslv3 alert bad certificate"))
    assert codes(story.check_side(mutate_side(unlogged), "server")) == ["text_alert"]

    def our_alert(c, s):
        find(s, "closed")["reason"] = "our alert could not be sent within 1 s"
    assert codes(story.check_side(mutate_side(our_alert), "server")) == ["text_alert"]

    c = client_log()
    c.append(rec("client", 3000, "error", conn=0,
                 detail="the server ended the TLS session with alert unknown_ca (48)"))
    assert codes(story.check_side(c, "client")) == ["text_alert"]


def test_text_format():
    def left(c, s):              # a Chinese sentence passed as an argument to "%s%s"
        find(s, "fin_sent")["gloss"] = "我们告诉对方出了什么问题，并结束会话%s：证书不受信任"
    assert codes(story.check_side(mutate_side(left), "server")) == ["text_format"]

    def escaped(c, s):           # a URL's %XX escape is not a conversion
        find(s, "fin_sent")["detail"] = "GET /a%20b%2d%5Fc  100% done"
    assert codes(story.check_side(mutate_side(escaped), "server")) == []


def mutate_side(fn):
    s = server_log()
    fn(None, s)
    return s


def test_capture_time():
    def late_fin(c, s):          # today's fin_sent: stamped after shutdown() returned
        find(c, "fin_sent")["ts_us"] += 30
    assert codes(mutate(late_fin)) == ["capture_time"]

    def late_connect(c, s):
        find(c, "connect")["ts_us"] += 5
    assert codes(mutate(late_connect)) == ["capture_time"]


def test_pair_messages():
    def lost(c, s):              # the server logs a message the client never sent
        c.remove(find(c, "message", type="ChangeCipherSpec", dir="out"))
    assert codes(mutate(lost)) == ["pair_messages"]

    def order(c, s):
        a = find(c, "message", type="Certificate")
        b = find(c, "message", type="CertificateVerify")
        i, j = c.index(a), c.index(b)
        c[i], c[j] = b, a
        a["ts_us"], b["ts_us"] = b["ts_us"], a["ts_us"]
    assert "pair_messages" in codes(mutate(order))

    def unreceived(c, s):        # a clean connection: every message sent is received
        c.remove(find(c, "message", type="NewSessionTicket"))
    assert codes(mutate(unreceived)) == ["pair_messages"]

    def length(c, s):
        find(s, "message", type="ClientHello")["len"] = 300
    assert codes(mutate(length)) == ["pair_messages"]


def test_pair_http():
    def target(c, s):
        find(s, "request")["target"] = "/x"
    assert codes(mutate(target)) == ["pair_http"]

    def status(c, s):
        find(c, "response")["status"] = 404
    assert codes(mutate(status)) == ["pair_http"]


def test_pair_time():
    def fin_early(c, s):     # issue 11: the server's read() = 0 before the client's shutdown()
        find(s, "fin_received")["ts_us"] = find(c, "fin_sent")["ts_us"] - 153
    assert codes(mutate(fin_early)) == ["pair_time"]

    def msg_early(c, s):
        find(c, "message", type="ServerHello")["ts_us"] = T0 + 310
    assert codes(mutate(msg_early)) == ["pair_time"]

    def within_tolerance(c, s):      # the same microsecond on both sides (or 2 us apart)
        find(s, "fin_received")["ts_us"] = find(c, "fin_sent")["ts_us"] - story.TOL_US
    assert mutate(within_tolerance) == []


def test_pair_close():
    def both_local(c, s):    # the fields alone disagree (the kernel facts left out)
        for e in [e for e in s if e.get("tcp_state") in ("CLOSE_WAIT", "LAST_ACK")]:
            e["tcp_state"] = "ESTABLISHED"
        for e in [e for e in s if e["event"] == "state_change"]:
            s.remove(e)
        find(s, "fin_received")["wave"] = 3
        find(s, "fin_sent")["wave"] = 1
        find(s, "closed").update(first_fin="local", closed_first=True, gloss="")
        find(s, "fin_received")["gloss"] = ""
    assert "pair_close" in codes(mutate(both_local))


def test_closed_fin_fields():
    """closed.fin_received / fin_sent against the kernel's states before `closed` (the close
    branch once said fin_received=false, first_fin=none after CLOSE_WAIT and a RST)."""
    def unread_fin(c, s):
        find(s, "closed").update(fin_received=False)
    assert codes(mutate(unread_fin)) == ["first_fin"]

    def no_fin_sent(c, s):
        find(c, "closed").update(fin_sent=False)
    assert codes(mutate(no_fin_sent)) == ["first_fin"]


# ---------------------------------------------------------------- a crossing nobody saw

HEDGED_FR = ("the peer's FIN arrived after ours had left; our kernel ACKed it at once; this side "
             "now holds TIME_WAIT (sock_diag shows it; the fd reads CLOSE). Whether the peer "
             "sent it after ours reached it (the 3rd wave) or before (the two FINs under way "
             "at once), this side cannot tell: it saw neither ours ACKed first (FIN_WAIT2) nor "
             "CLOSING")
HEDGED_CLOSED = ("our FIN left before the peer's arrived, so this side holds TIME_WAIT for 2MSL "
                 "(60 s on Linux; sock_diag shows it, the fd itself reads CLOSE)")


def crossing(capture=False):
    """Both FINs left before the other arrived (each side read ESTABLISHED just before its
    shutdown() and FIN_WAIT1 just after): a simultaneous close in TCP terms, whose CLOSING
    (microseconds on loopback) neither side sampled. Both say local, in hedged words."""
    c = client_log(capture=capture)
    find(c, "body")["gloss"] = "the whole response is here; the client now closes"
    find(c, "fin_received")["gloss"] = HEDGED_FR
    find(c, "closed")["gloss"] = HEDGED_CLOSED
    s = server_log()
    s = s[:s.index(find(s, "close_notify", dir="in"))]
    reason = "the client sent close_notify (its TCP FIN not yet in)"
    S = "server"
    s += [rec(S, 931, "close_notify", "ESTABLISHED", dir="in"),
          phase(S, 932, "OPEN", "DRAINING"), phase(S, 933, "DRAINING", "TLS_SHUTDOWN"),
          rec(S, 934, "close_notify", "ESTABLISHED", dir="out"),
          rec(S, 941, "fin_sent", "FIN_WAIT1", reason=reason, wave=1,
              gloss="1st wave: our FIN is out, before the peer's arrived (FIN_WAIT1)"),
          phase(S, 942, "TLS_SHUTDOWN", "FIN_SENT", "FIN_WAIT1"),
          rec(S, 950, "fin_received", "CLOSE", wave=3, gloss=HEDGED_FR),
          rec(S, 960, "closed", "CLOSE", reason=reason, fin_sent=True, fin_received=True,
              closed_first=True, rst_sent=False, first_fin="local", time_wait=True,
              gloss=HEDGED_CLOSED),
          phase(S, 965, "FIN_SENT", "CLOSED", "CLOSE"),
          rec(S, 1500, "state_change", **{"from": "FIN_WAIT1", "to": "TIME_WAIT",
                                          "timer": "timewait"}),
          rec(S, 1510, "watch_end", state="TIME_WAIT", why="--linger-watch is 0")]
    return c, s


def test_pair_close_unseen_crossing():
    """local/local (and TIME_WAIT on both) passes only as a crossing neither side could see:
    no CLOSING, no FIN_WAIT2, no capture of both FINs on a side that says local, and no
    sentence there claiming its FIN was the first."""
    c, s = crossing()
    assert run(c, s) == []

    def fw2(c, s):           # the client saw its FIN ACKed first: not a crossing
        i = c.index(find(c, "close_notify", dir="in"))
        c.insert(i, rec("client", 1100, "state_change", **{"from": "FIN_WAIT1",
                                                            "to": "FIN_WAIT2", "timer": "none"}))
        find(c, "state_change", to="TIME_WAIT")["from"] = "FIN_WAIT2"
    v = mutate(fw2, *crossing())
    assert codes(v) == ["pair_close"] and len(v) == 2     # first_fin, TIME_WAIT on both

    def claims_first(c, s):  # words claiming more than the side saw
        find(s, "closed")["gloss"] = HEDGED_CLOSED.replace("left before the peer's arrived",
                                                           "was the first")
    assert codes(mutate(claims_first, *crossing())) == ["pair_close"]

    def server_fin_first(c, s):   # the client's words: the server's FIN came after ours
        find(c, "fin_received")["gloss"] = "3rd wave: the peer's FIN came after ours"
    assert codes(mutate(server_fin_first, *crossing())) == ["pair_close"]

    # the client's capture shows the server's FIN ACKing ours: the client knew, so the
    # server's local is wrong
    assert codes(run(*crossing(capture=True))) == ["pair_close"]


def closing_server(c, s):
    """The server sampled CLOSING before the client's FIN was read: it says both."""
    i = s.index(find(s, "fin_received"))
    s.insert(i, rec("server", 945, "state_change", **{"from": "FIN_WAIT1", "to": "CLOSING",
                                                     "timer": "retransmit"}))
    find(s, "state_change", to="TIME_WAIT")["from"] = "CLOSING"
    find(s, "fin_received").update(wave=1, simultaneous=True,
                                   gloss="the peer's FIN crossed ours (the kernel showed "
                                         "CLOSING): a simultaneous close")
    find(s, "closed").update(first_fin="both", gloss="a simultaneous close: the two FINs "
                             "crossed (the kernel showed CLOSING); this side holds TIME_WAIT")


def test_pair_close_crossing_seen_on_one_side():
    """Local against both: the same crossing, seen by one side only; it passes only while the
    side that says local could not tell."""
    assert mutate(closing_server, *crossing()) == []

    def and_fw2(c, s):
        closing_server(c, s)
        i = c.index(find(c, "close_notify", dir="in"))
        c.insert(i, rec("client", 1100, "state_change", **{"from": "FIN_WAIT1",
                                                            "to": "FIN_WAIT2", "timer": "none"}))
        find(c, "state_change", to="TIME_WAIT")["from"] = "FIN_WAIT2"
    assert "pair_close" in codes(mutate(and_fw2, *crossing()))


def test_simultaneous_wave():
    """fin_received wave=1 with simultaneous=true is a crossing (docs/events.md), not the
    peer's FIN first: no violation where the kernel showed CLOSING; without `simultaneous`
    the same wave=1 claims the peer's FIN first."""
    c, s = crossing()
    closing_server(c, s)
    assert run(None, s) == []

    def no_flag(c, s):
        del find(s, "fin_received")["simultaneous"]
    c, s = crossing()
    closing_server(c, s)
    no_flag(c, s)
    assert codes(run(None, s)) == ["first_fin"]


def test_wave_words():
    """A 3rd-wave step name where this side could not tell it from a crossing, and a
    'read() returning 0' on a FIN seen behind unread bytes, are contradictions."""
    def third(c, s):
        fr = find(c, "fin_received")
        fr.update(after_ours_known=False, explain_step="3rd and 4th wave",
                  step_zh="第三次和第四次挥手")
    assert codes(mutate(third)) == ["text_close"]

    def crossing(c, s):     # the same FIN, named as what this side can know: no violation
        find(c, "fin_received").update(
            after_ours_known=False,
            explain_step="the peer's FIN, after ours left (3rd wave, or a crossing)")
    assert codes(mutate(crossing)) == []

    def unread(c, s):
        find(c, "fin_received").update(
            unread=True, explain="read() returning 0 is how a program learns of the peer's FIN")
    assert codes(mutate(unread)) == ["text_close"]
