"""The TCP numbers: rel_seq / rel_ack from TCP_INFO, --capture (root) against them and
against tshark, and --capture without CAP_NET_RAW.
"""

import os
import shutil
import subprocess

from harness.env import SLOW
from harness.log import assert_order, E, events, first, summary
from harness.procs import check_sanitizer
from harness.tcp import flag_bits, is_root, rel, seg_fin_after, server_conn
from harness.peers import Tshark


def test_tcp_relative_numbers(t, server, client):
    """T7. rel_seq/rel_ack from TCP_INFO: request bytes + 1 (+1 for an ACKed FIN); the
    server's view is the mirror image; with --capture (root) they equal seq - ISN."""
    cap = ["--capture"] if is_root() else []
    with server(*cap, https=None, selfsigned=None) as srv:
        port = srv.port("http")
        r = client(*cap, "http://127.0.0.1:%d/" % port)
        t.eq("client exit", r.rc, 0)
        c = r.conn()
        s = server_conn(srv, r.local())
        L = (first(c, "request") or {}).get("len")
        t.check("client request.len is the request size", isinstance(L, int) and L > 0, "> 0", L)
        L = L or 0
        missing = [e.get("event") for e in c + s if "tcp_state" in e and
                   not (isinstance(e.get("rel_seq"), int) and isinstance(e.get("rel_ack"), int))]
        t.check("every record with a socket has rel_seq and rel_ack", not missing, "all",
                missing)
        est, sest = first(c, "established") or {}, first(s, "established") or {}
        t.eq("client established: rel_seq, rel_ack (SYN and SYN+ACK count 1)",
             (est.get("rel_seq"), est.get("rel_ack")), (1, 1))
        t.eq("server established: rel_seq (bytes_acked + 1 on the passive side)",
             sest.get("rel_seq"), 1)
        t.eq("client request: rel_seq", (first(c, "request") or {}).get("rel_seq"), 1)
        t.eq("server request: rel_ack == request bytes + 1",
             (first(s, "request") or {}).get("rel_ack"), L + 1)
        fs = first(c, "fin_sent") or {}
        acked = fs.get("tcp_state") not in ("FIN_WAIT1",)
        t.eq("client fin_sent.rel_seq == request bytes + 1%s (tcp_state %s)" % (
            " + 1 (FIN already ACKed)" if acked else "", fs.get("tcp_state")),
            fs.get("rel_seq"), L + 1 + (1 if acked else 0))
        t.eq("server fin_received.rel_ack == request bytes + 2 (the FIN counts 1)",
             (first(s, "fin_received") or {}).get("rel_ack"), L + 2)
        cc, scl = first(c, "closed") or {}, first(s, "closed") or {}
        t.eq("client closed.rel_seq == request bytes + 2", cc.get("rel_seq"), L + 2)
        t.eq("server closed.rel_ack == client closed.rel_seq", scl.get("rel_ack"), cc.get("rel_seq"))
        if scl.get("tcp_state") == "CLOSE":
            t.eq("client closed.rel_ack == server closed.rel_seq (response bytes + 2)",
                 cc.get("rel_ack"), scl.get("rel_seq"))
        body = first(c, "body") or {}
        if scl.get("rel_seq") is not None and body.get("rel_ack") is not None:
            # before the server's FIN, the client has ACKed all response bytes: + 1
            t.eq("client body.rel_ack == response bytes + 1 (server closed.rel_seq - 1)",
                 body.get("rel_ack"), scl.get("rel_seq") - 1)
        if not cap:
            t.skip("--capture needs root: the relative numbers were checked without a capture")
        cs, ss_ = events(c, "segment"), events(s, "segment")
        if not cs or "cannot capture" in r.err:
            t.check("client --capture as root logs segments", False, "segment events",
                    r.err[-500:])
            return
        syn = first(cs, "segment", step="syn") or {}
        sa = first(cs, "segment", step="syn_ack") or {}
        isn_c, isn_s = syn.get("seq"), sa.get("seq")
        if not (isinstance(isn_c, int) and isinstance(isn_s, int)):
            t.check("client capture has SYN and SYN+ACK", False, "both", cs[:3])
            return
        data = [e for e in cs if e.get("dir") == "out" and (e.get("len") or 0) > 0]
        t.eq("client capture: bytes sent == request.len", sum(e["len"] for e in data), L)
        t.eq("client capture: first data seq - ISN == request.rel_seq",
             rel(data[0]["seq"], isn_c) if data else None, (first(c, "request") or {}).get("rel_seq"))
        _, fin_c = seg_fin_after(cs, "out")
        _, fin_s = seg_fin_after(cs, "in")
        if fin_c and fin_s:
            t.eq("client closed.rel_seq == its FIN seq + 1 - ISN", cc.get("rel_seq"),
                 rel(fin_c["seq"] + 1, isn_c))
            t.eq("client closed.rel_ack == server FIN seq + 1 - server ISN", cc.get("rel_ack"),
                 rel(fin_s["seq"] + 1, isn_s))
            t.eq("server fin_received.rel_ack == client FIN seq + 1 - client ISN",
                 (first(s, "fin_received") or {}).get("rel_ack"), rel(fin_c["seq"] + 1, isn_c))
            if scl.get("tcp_state") == "CLOSE":
                t.eq("server closed.rel_seq == its FIN seq + 1 - ISN", scl.get("rel_seq"),
                     rel(fin_s["seq"] + 1, isn_s))
            t.eq("client fin_sent.rel_seq == FIN seq - ISN (+1 once ACKed)", fs.get("rel_seq"),
                 rel(fin_c["seq"] + (1 if acked else 0), isn_c))
        else:
            t.check("client capture has both FINs", False, "FIN out and in", cs)
        sdata = [e for e in ss_ if e.get("dir") == "out" and (e.get("len") or 0) > 0]
        if sdata and body.get("rel_ack") is not None:
            t.eq("client body.rel_ack == server's last data byte + 1 - server ISN",
                 body.get("rel_ack"), rel(sdata[-1]["seq"] + sdata[-1]["len"], isn_s))


def test_tcp_capture_vs_tshark(t, server, client, procs, tshark):
    """T8. --capture as root on both sides: the textbook steps with absolute numbers (ack =
    seq + 1 for SYN and FIN), the same segments on both sides, and the same as tshark."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW): not root")
    with server("--capture", https=None, selfsigned=None) as srv:
        port = srv.port("http")
        ts = Tshark(tshark, procs, port)
        if not ts.wait_ready(10 * SLOW):
            ts.stop()
            t.skip("tshark could not capture on lo: %s" % " ".join(ts.err)[-300:])
        r = client("--capture", "http://127.0.0.1:%d/" % port)
        t.eq("client exit", r.rc, 0)
        t.check("client --capture as root: no 'cannot capture'", "cannot capture" not in r.err,
                "no message", [l for l in r.err.splitlines() if not l.startswith("{")])
        t.check("server --capture as root: no 'cannot capture'",
                "cannot capture" not in srv.stderr(), "no message", srv.stderr()[-500:])
        c = r.conn()
        s = server_conn(srv, r.local())
        cs, ss_ = events(c, "segment"), events(s, "segment")
        rows = ts.stop(expect_lines=len(cs))
        cport = int(str(r.local()).rsplit(":", 1)[1]) if r.local() else None
        t.check("client logs segment events", len(cs) >= 7, ">= 7 (handshake, data, close)",
                len(cs))
        fields = ("dir", "flags", "seq", "ack", "win", "len", "step", "cap_ts_us")
        bad = [e for e in cs + ss_ if any(f not in e for f in fields)]
        t.check("segment records have %s" % ", ".join(fields), not bad, "all", bad[:2])
        segs = ["%s %s seq=%s ack=%s len=%s %s" % tuple(e.get(k) for k in (
            "dir", "flags", "seq", "ack", "len", "step")) for e in cs]
        if len(cs) < 3:
            return
        syn, sa, ack = cs[0], cs[1], cs[2]
        t.eq("1st segment: client SYN out", (syn.get("dir"), syn.get("flags"), syn.get("step")),
             ("out", "SYN", "syn"))
        t.eq("2nd segment: SYN,ACK in", (sa.get("dir"), sa.get("flags"), sa.get("step")),
             ("in", "SYN,ACK", "syn_ack"))
        t.eq("SYN+ACK ack == x + 1 (x = the client's ISN)", sa.get("ack"), (syn["seq"] + 1) % 2 ** 32)
        t.eq("3rd segment: ACK out", (ack.get("dir"), ack.get("flags"), ack.get("step")),
             ("out", "ACK", "ack_handshake"))
        t.eq("ACK: seq == x + 1, ack == y + 1", (ack.get("seq"), ack.get("ack")),
             ((syn["seq"] + 1) % 2 ** 32, (sa["seq"] + 1) % 2 ** 32))
        assert_order(t, "client segments", cs, [E("segment", step="syn"), E("segment", step="syn_ack"),
                                                E("segment", step="ack_handshake"),
                                                E("segment", step="data"), E("segment", step="fin1")])
        t.check("client segment steps are textbook labels",
                all(e.get("step") in ("syn", "syn_ack", "ack_handshake", "data", "ack", "fin1",
                                      "ack_fin1", "fin2", "fin2_ack", "ack_fin2", "rst") for e in cs),
                "known steps", segs)
        i1, fin1 = seg_fin_after(cs, "out")
        i2, fin2 = seg_fin_after(cs, "in")
        if fin1 and fin2:
            t.eq("client FIN: step fin1", fin1.get("step"), "fin1")
            a1 = next((e for e in cs[i1 + 1:] if e.get("dir") == "in"), {})
            t.eq("the peer's first segment after our FIN acks it: ack == u + 1", a1.get("ack"),
                 (fin1["seq"] + 1) % 2 ** 32)
            t.check("...labelled ack_fin1 or fin2_ack (3-segment close)",
                    a1.get("step") in ("ack_fin1", "fin2_ack"), "ack_fin1/fin2_ack", a1.get("step"))
            t.check("server FIN: step fin2 or fin2_ack", fin2.get("step") in ("fin2", "fin2_ack"),
                    "fin2/fin2_ack", fin2.get("step"))
            a2 = next((e for e in cs[i2 + 1:] if e.get("dir") == "out"), {})
            t.eq("our last ACK: step ack_fin2", a2.get("step"), "ack_fin2")
            t.eq("our last ACK: ack == w + 1", a2.get("ack"), (fin2["seq"] + 1) % 2 ** 32)
        else:
            t.check("client capture has both FINs", False, "FIN out and FIN in", segs)

        def key(e, flip):
            d = e.get("dir")
            if flip:
                d = {"in": "out", "out": "in"}.get(d)
            return (d, e.get("flags"), e.get("seq"), e.get("ack"), e.get("win"), e.get("len"),
                    e.get("step"))
        t.eq("server logs the same segments (dir mirrored, same absolute numbers and steps)",
             [key(e, True) for e in ss_], [key(e, False) for e in cs])
        far = [(a.get("step"), a.get("cap_ts_us"), b.get("cap_ts_us")) for a, b in zip(cs, ss_)
               if not isinstance(a.get("cap_ts_us"), int) or not isinstance(b.get("cap_ts_us"), int)
               or abs(a["cap_ts_us"] - b["cap_ts_us"]) > 1000]
        t.check("both captures time the same segments within 1 ms", not far, "within 1 ms", far)
        mine = [(cport if e.get("dir") == "out" else port, flag_bits(e.get("flags")), e.get("seq"),
                 e.get("ack"), e.get("len"), e.get("win")) for e in cs]
        t.eq("tshark saw the same segments: srcport, flags, seq_raw, ack_raw, len, window",
             rows, mine)


def test_tcp_capture_unprivileged(t, server, client, run, certs, build, nobody):
    """T9. --capture without CAP_NET_RAW (as nobody, from a copy of the programs): one clear
    line with 'setcap cap_net_raw+ep', no segment events, and the exchange still works."""
    prefix = nobody.prefix
    d, f = nobody.copy([build.client, build.server])
    nobody_certs = os.path.join(d, "certs")
    os.mkdir(nobody_certs)
    os.chmod(nobody_certs, 0o755)
    for n in ("ca.crt", "server.crt", "server.key"):
        shutil.copy(os.path.join(certs.dir, n), os.path.join(nobody_certs, n))
        os.chmod(os.path.join(nobody_certs, n), 0o644)
    probe = subprocess.run(prefix + ["true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if probe.returncode != 0:
        t.skip("setpriv cannot switch to nobody here: %s" % probe.stderr.decode()[-200:])
    # the client as nobody against a server run as root
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        r = run(prefix + [f["client"], "--log-format", "json", "--capture",
                          "http://127.0.0.1:%d/" % port], name="client as nobody", san=True)
        t.eq("client as nobody --capture: exit", r.rc, 0)
        t.contains("client as nobody: body", r.text, "your connection")
        plain = [l for l in r.err.splitlines() if not l.startswith("{")]
        msg = [l for l in plain if "cannot capture" in l]
        t.eq("client as nobody: exactly one 'cannot capture' line on stderr", len(msg), 1)
        t.contains("client as nobody: the line says how to fix it", " ".join(msg),
                   "setcap cap_net_raw+ep")
        t.check("client as nobody: no segment events", not events(r.ev, "segment"), "none",
                len(events(r.ev, "segment")))
        t.check("client as nobody: the rest of the log is there (established, response, closed)",
                all(first(r.conn(), e) for e in ("established", "response", "closed")),
                "present", summary(r.conn()))
    # the server as nobody, the client as root
    srv = server.process(prefix + [f["server"], "--log-format", "json", "--capture",
                                   "--http-port", "0", "--https-port", "0",
                                   "--selfsigned-port", "off", "--certs", nobody_certs],
                         "server as nobody")
    try:
        port = srv.port("https")
        t.check("server as nobody --capture: listens", port, "a port", srv.stderr()[-500:])
        if port:
            r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
            t.eq("client against the server as nobody: exit", r.rc, 0)
            s = server_conn(srv, r.local())
            t.check("server as nobody: logs the exchange", first(s, "response"), "response",
                    summary(s))
            t.check("server as nobody: no segment events", not events(srv.evs, "segment"), "none",
                    len(events(srv.evs, "segment")))
    finally:
        rc = srv.stop()
    t.eq("server as nobody: exit after SIGTERM", rc, 0)
    err = srv.stderr()
    msg = [l for l in err.splitlines() if "cannot capture" in l]
    t.eq("server as nobody: exactly one 'cannot capture' line on stderr", len(msg), 1)
    t.contains("server as nobody: the line says how to fix it", " ".join(msg),
               "setcap cap_net_raw+ep")
    check_sanitizer(t, "server as nobody", err)


def test_tcp_close_times_before_their_segments(t, server, client):
    """Issue 11: the time of fin_sent is taken before shutdown(), that of closed and of an
    outgoing reset before close(): the segment they cause is never captured before them.
    (Before: fin_sent was stamped after shutdown() returned, after its FIN was on the wire.)"""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW): not root")
    with server("--capture", https=None, selfsigned=None) as srv:
        url = "http://127.0.0.1:%d/" % srv.port("http")
        for w, args in (("client closes first", []), ("server closes first",
                                                     ["--close-first", "server"]),
                        ("client --abort", ["--abort"])):
            r = client("--capture", *args, url)
            t.eq("%s: client exit" % w, r.rc, 0)
            for side, c in (("client", r.conn()), ("server", server_conn(srv, r.local()))):
                segs = events(c, "segment", dir="out")
                for ev, flag in (("fin_sent", "FIN"), ("reset", "RST")):
                    e = first(c, ev, dir="out") if ev == "reset" else first(c, ev)
                    if not e:
                        continue
                    seg = [g for g in segs if flag in str(g.get("flags")).split(",")]
                    t.check("%s: %s: the %s segment is captured" % (w, side, flag), seg,
                            "a segment with %s out" % flag, summary(c))
                    if seg:
                        t.check("%s: %s: %s is stamped before its %s segment left" % (
                            w, side, ev, flag), e["ts_us"] <= seg[0]["cap_ts_us"],
                            "ts_us <= %d" % seg[0]["cap_ts_us"], e["ts_us"])
