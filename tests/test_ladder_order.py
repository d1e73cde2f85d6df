"""build/ladder in cause-and-effect order (issue 11, "one order of time"), and the times the
programs give what they send.

The ladder merges two logs on the wall clock; the rules of ladder/order.c keep every effect
below its cause: a message below the segment that carried it, read() = 0 below the peer's
shutdown(), no arrow arriving before it left; a moved time stays as logged, marked '*' (an
arrival drawn at its departure '^'), and a note says what moved and by how much. Most tests
feed crafted logs (the defects of the issue, with its numbers) to build/ladder and read all
three renderers; the last ones check the times in the programs' own logs against a capture.
"""

import json
import os
import re
import xml.etree.ElementTree as ET

from harness.env import LADDER
from harness.log import events, first, parse_json_lines
from harness.tcp import is_root, watch_done


T0 = 1_800_000_000_000_000      # crafted logs: µs since the epoch of their time 0
CADDR, SADDR = "127.0.0.1:40000", "127.0.0.1:8443"
X, Y = 1000, 5000               # the crafted ISNs
LAYERS = {"connect": "TCP", "established": "TCP", "fin_sent": "TCP", "fin_received": "TCP",
          "closed": "TCP", "segment": "TCP", "reset": "TCP", "message": "TLS",
          "close_notify": "TLS", "alert": "TLS", "request": "HTTP", "response": "HTTP"}
SVG_NS = "{http://www.w3.org/2000/svg}"
MARKS = "*^"


def rec(side, event, t_us, **fields):
    """One record of a crafted log at time t_us (µs after T0)."""
    d = {"ts_us": T0 + t_us, "side": side, "conn": 1, "layer": LAYERS[event], "event": event}
    d.update(fields)
    return d


def seg(side, t_us, direction, flags, seq, ack, length=0, step=None):
    """A captured segment: logged 5 µs after the capture stamped it at t_us."""
    d = rec(side, "segment", t_us + 5, dir=direction, flags=flags, seq=seq, ack=ack, win=65483,
            len=length, cap_ts_us=T0 + t_us)
    if step:
        d["step"] = step
    return d


def write_logs(tmp_path, client, server):
    """The two crafted logs as files, each in the order of its times (t_ms growing)."""
    paths = []
    for name, recs in (("client", client), ("server", server)):
        path = os.path.join(str(tmp_path), name + ".json")
        with open(path, "w") as f:
            for i, r in enumerate(sorted(recs, key=lambda r: r["ts_us"])):
                r = dict(r, t_ms=i / 1000.0)
                f.write(json.dumps(r) + "\n")
        paths.append(path)
    return paths


def tcp_open(capture):
    """The start of a connection: the client's connect() (timed before the call) and
    established, the server's accept(); with capture the three segments, the SYN+ACK
    stamped 1 µs later by the server's capture than by the client's (the issue's Mermaid
    (0.017 → 0.016))."""
    c = [rec("client", "connect", 0, local=CADDR, remote=SADDR, tcp_state="ESTABLISHED"),
         rec("client", "established", 60, local=CADDR, remote=SADDR, tcp_state="ESTABLISHED")]
    s = [rec("server", "established", 71, local=SADDR, remote=CADDR, tcp_state="ESTABLISHED")]
    if capture:
        c += [seg("client", 2, "out", "SYN", X, 0, step="syn"),
              seg("client", 16, "in", "SYN,ACK", Y, X + 1, step="syn_ack"),
              seg("client", 30, "out", "ACK", X + 1, Y + 1, step="ack_handshake")]
        s += [seg("server", 3, "in", "SYN", X, 0, step="syn"),
              seg("server", 17, "out", "SYN,ACK", Y, X + 1, step="syn_ack"),
              seg("server", 30, "in", "ACK", X + 1, Y + 1, step="ack_handshake")]
    return c, s


def msg(side, t_us, direction, mtype, length):
    return rec(side, "message", t_us, dir=direction, type=mtype, len=length,
               tcp_state="ESTABLISHED")


FLIGHT = [("ServerHello", 122), ("ChangeCipherSpec", 1), ("EncryptedExtensions", 6),
          ("Certificate", 539), ("CertificateVerify", 78), ("Finished", 52)]


def handshake_logs(capture):
    """ClientHello and the server's flight, with the issue's times: the server hands
    ServerHello ... Finished to TLS at 0.900-1.150 ms, the segment that carries them leaves
    at 1.181 ms, the client reads them at 1.229-2.140 ms."""
    c, s = tcp_open(capture)
    c.append(msg("client", 300, "out", "ClientHello", 310))
    s.append(msg("server", 450, "in", "ClientHello", 310))
    for i, (name, n) in enumerate(FLIGHT):
        s.append(msg("server", 900 + 50 * i, "out", name, n))
        c.append(msg("client", (1229, 1300, 1400, 1500, 2000, 2140)[i], "in", name, n))
    if capture:
        c.append(seg("client", 380, "out", "PSH,ACK", X + 1, Y + 1, 315))
        s.append(seg("server", 381, "in", "PSH,ACK", X + 1, Y + 1, 315))
        s.append(seg("server", 1181, "out", "PSH,ACK", Y + 1, X + 316, 896))
        c.append(seg("client", 1181, "in", "PSH,ACK", Y + 1, X + 316, 896))
    return c, s


def close_logs():
    """The end of make demo's exchange without a capture (the issue's numbers): the server
    reads the client's FIN (read() = 0) at 2.468 ms, logged before the client's shutdown()
    at 2.621 ms (its time was taken after the call returned)."""
    c, s = tcp_open(False)
    c += [rec("client", "close_notify", 2235, dir="out", tcp_state="ESTABLISHED"),
          rec("client", "fin_sent", 2621, tcp_state="FIN_WAIT1"),
          rec("client", "close_notify", 2650, dir="in", tcp_state="FIN_WAIT2"),
          rec("client", "fin_received", 2660, tcp_state="CLOSE"),
          rec("client", "closed", 2700, reason="response complete", tcp_state="CLOSE")]
    s += [rec("server", "close_notify", 2380, dir="in", tcp_state="CLOSE_WAIT"),
          rec("server", "fin_received", 2468, tcp_state="CLOSE_WAIT"),
          rec("server", "close_notify", 2470, dir="out", tcp_state="CLOSE_WAIT"),
          rec("server", "fin_sent", 2480, tcp_state="CLOSE"),
          rec("server", "closed", 2488, reason="the client closed its side", tcp_state="CLOSE")]
    return c, s


def ladder(run, *args):
    return run([LADDER] + list(args), timeout=30, name="ladder", san=True)


def num(s):
    """A time as drawn, its mark taken off; None if there is none."""
    try:
        return float(s.strip().rstrip(MARKS))
    except ValueError:
        return None


# ---------------------------------------------------------------- reading the three outputs

def text_rows(text):
    """The rows of a text ladder, top to bottom: ("arrow", dir, label, t_client, t_server)
    or ("note", side, label, t): the lanes are at fixed columns (time 9, a mark, state 11)."""
    lane, mid = 9 + 2 + 11 + 1, 52
    rows = []
    for line in text.splitlines():
        if len(line) <= lane + mid + 1 or line[lane] not in "│┃├┣┳┻◆|#*":
            continue
        body = line[lane + 1:lane + 1 + mid]
        right = line[lane + mid + 2:]
        tc, ts = num(line[:10]), num(right[13:])
        label = body.strip(" ─┄-.▶◀<>")
        if body.endswith(("▶", ">")):
            rows.append(("arrow", "→", label, tc, ts))
        elif body.startswith(("◀", "<")):
            rows.append(("arrow", "←", label, tc, ts))
        elif label:
            rows.append(("note", "client" if tc is not None else "server", label,
                         tc if tc is not None else ts))
    return rows


def check_lanes_in_order(t, what, text):
    """Each lane of a text ladder reads in time order, but for the times marked '*' or '^'
    (those order.c drew away from their place, and said so)."""
    lane, mid = 9 + 2 + 11 + 1, 52
    seen = {"client": [], "server": []}
    for line in text.splitlines():
        if len(line) <= lane + mid + 1 or line[lane] not in "│┃├┣┳┻◆|#*":
            continue
        for side, field in (("client", line[:10]), ("server", line[lane + mid + 2 + 13:])):
            v = num(field)
            if v is not None and not field.strip().endswith(tuple(MARKS)):
                seen[side].append(v)
    for side, ts in seen.items():
        back = [(a, b) for a, b in zip(ts, ts[1:]) if b < a]
        t.check("%s: the %s's lane reads in time order (unmarked times)" % (what, side),
                not back, "non-decreasing", back)


def mermaid_rows(text):
    """("arrow", dir, label, t_from, t_to) and ("note", side, label, t) of --mermaid."""
    rows = []
    arrow = re.compile(r"^    (Client|Server)->>(?:Client|Server): (.*) \((\S+)(?: \S+)? → "
                       r"(\S+)(?: \S+)?\)$")
    note = re.compile(r"^    Note (left of Client|right of Server): (\S+) (?:[A-Z_0-9]+ )?(.*)$")
    for line in text.splitlines():
        m = arrow.match(line)
        if m:
            rows.append(("arrow", "→" if m.group(1) == "Client" else "←", m.group(2),
                         num(m.group(3)), num(m.group(4))))
            continue
        m = note.match(line)
        if m:
            rows.append(("note", "client" if "Client" in m.group(1) else "server",
                         m.group(3), num(m.group(2))))
    return rows


def svg_rows(data):
    """("arrow", dir, label, t_from, t_to) and ("note", side, label, t) of --svg, top to
    bottom: each row is a <g> with a <title>; an arrow has a <line>, its times are the bold
    tspans beside the lanes (x < 600: the client's)."""
    rows = []
    for g in ET.fromstring(data).iter(SVG_NS + "g"):
        title = g.find(SVG_NS + "title")
        label = title.text.split(" — ")[0] if title is not None and title.text else ""
        times = {}
        for te in g.iter(SVG_NS + "text"):
            bold = [ts for ts in te.iter(SVG_NS + "tspan") if ts.get("font-weight") == "bold"]
            if bold:
                times["client" if float(te.get("x")) < 600 else "server"] = num(
                    "".join(bold[0].itertext()))
        line = g.find(SVG_NS + "line")
        if line is not None:
            d = "→" if float(line.get("x1")) < float(line.get("x2")) else "←"
            tf, tt = (times.get("client"), times.get("server")) if d == "→" else \
                (times.get("server"), times.get("client"))
            rows.append(("arrow", d, label, tf, tt))
        else:
            side = "client" if "client" in times else "server"
            rows.append(("note", side, label, times.get(side)))
    return rows


def all_rows(t, run, cpath, spath):
    """The rows of the text, Mermaid and SVG renderers of the two logs, by name."""
    out = {}
    r = ladder(run, cpath, spath)
    t.eq("text: exit", r.rc, 0)
    out["text"] = (text_rows(r.text), r.text)
    r = ladder(run, "--mermaid", cpath, spath)
    t.eq("mermaid: exit", r.rc, 0)
    out["mermaid"] = (mermaid_rows(r.text), r.text)
    r = ladder(run, "--svg", cpath, spath)
    t.eq("svg: exit", r.rc, 0)
    try:
        out["svg"] = (svg_rows(r.out), r.text)
    except ET.ParseError as x:
        t.check("svg: well-formed", False, "XML", str(x))
        out["svg"] = ([], r.text)
    return out


def text_dir(row):
    """An arrow's departure and arrival time, whatever the renderer."""
    return row[3], row[4]


def check_no_early_arrival(t, what, rows, renderer):
    """No arrow arrives before it left: text rows carry (t_client, t_server), the others
    (t_from, t_to)."""
    bad = []
    for r in rows:
        if r[0] != "arrow" or None in (r[3], r[4]):
            continue
        dep, arr = (r[3], r[4]) if renderer != "text" or r[1] == "→" else (r[4], r[3])
        if arr < dep:
            bad.append("%s %s (%.3f → %.3f)" % (r[1], r[2], dep, arr))
    t.check("%s, %s: no arrow arrives before it left" % (what, renderer), not bad, "none", bad)


def index_of(rows, kind, pred):
    return next((i for i, r in enumerate(rows) if r[0] == kind and pred(r)), None)


# ---------------------------------------------------------------- crafted logs

def test_ladder_fin_read_below_shutdown(t, run, tmp_path):
    """Issue 11: make demo's ladder (no capture) drew the server's 'read() = 0: the peer's
    FIN is in' (2.468 ms) above the client's 'shutdown(): our FIN goes out' (2.621 ms, timed
    when the call had returned). A received FIN is drawn below the shutdown() that sent it,
    in text, Mermaid and SVG: here the call goes up (the server's shutdown() and close()
    follow its read() = 0, and stay below it), its time as logged, 2.621, marked '*', and a
    note says it moved by 0.153 ms."""
    cpath, spath = write_logs(tmp_path, *close_logs())
    for name, (rows, raw) in all_rows(t, run, cpath, spath).items():
        sh = index_of(rows, "note", lambda r: r[1] == "client" and
                      r[2].startswith("shutdown(): our FIN goes out"))
        rd = index_of(rows, "note", lambda r: r[1] == "server" and
                      r[2].startswith("read() = 0: the peer's FIN is in"))
        t.check("%s: both notes drawn" % name, None not in (sh, rd), "two notes", rows)
        if None not in (sh, rd):
            t.check("%s: the server's read() = 0 below the client's shutdown()" % name,
                    rd > sh, "shutdown() first", [r[:4] for r in rows[min(sh, rd):]])
            t.check("%s: read() = 0 keeps its logged time 2.468" % name,
                    rows[rd][3] is not None and abs(rows[rd][3] - 2.468) < 0.0005, 2.468,
                    rows[rd][3])
        server = [r[2] for r in rows if r[0] == "note" and r[1] == "server"]
        t.check("%s: the server's own rows keep their order" % name,
                [x.split(":")[0] for x in server][-3:] == ["read() = 0", "shutdown()", "close()"],
                "read() = 0, shutdown(), close()", server)
        check_no_early_arrival(t, "FIN race", rows, name)
        if name != "svg":
            t.check("%s: the note says what moved and by how much" % name,
                    re.search(r"1 call drawn above what it caused \(shutdown\(\): our FIN goes "
                              r"out above read\(\) = 0.*0\.153 ms", raw), "note, 0.153 ms",
                    raw[:800])
    r = ladder(run, cpath, spath)
    t.check("text: the moved time is marked 2.621*", re.search(r"^\s+2\.621\* ", r.text, re.M),
            "2.621*", r.text)
    check_lanes_in_order(t, "FIN race", r.text)
    # the server read the client's close_notify at 2.380 with the FIN already in (CLOSE_WAIT):
    # that arrow goes below the shutdown() that sent the FIN, not above it
    rows = text_rows(r.text)
    sh = index_of(rows, "note", lambda r: r[1] == "client" and r[2].startswith("shutdown()"))
    cn = index_of(rows, "arrow", lambda r: r[1] == "→" and r[2] == "close_notify")
    t.check("the close_notify read in CLOSE_WAIT is drawn below the shutdown()",
            None not in (sh, cn) and cn > sh, "shutdown() first", rows)
    t.contains("and the note says so", r.text, "1 message drawn below the FIN that reached its "
               "receiver first (close_notify below shutdown(): our FIN goes out)")


def test_ladder_message_below_its_segment(t, run, tmp_path):
    """Issue 11: with --capture, ServerHello ... Finished (read by the client at 1.229-2.140
    ms) were drawn above the segment that carried them (1.181 ms). Each message is drawn
    below the segment that carried it in all three renderers, its sender's time as logged
    (marked '*'), and the note says by how much it was handed over before the segment left."""
    cpath, spath = write_logs(tmp_path, *handshake_logs(True))
    for name, (rows, raw) in all_rows(t, run, cpath, spath).items():
        carrier = index_of(rows, "arrow", lambda r: r[1] == "←" and r[2].startswith("data ")
                           and "len=896" in r[2])
        ch_seg = index_of(rows, "arrow", lambda r: r[1] == "→" and "len=315" in r[2])
        ch = index_of(rows, "arrow", lambda r: r[1] == "→" and r[2].startswith("ClientHello"))
        t.check("%s: ClientHello below its segment" % name, None not in (ch, ch_seg) and
                ch > ch_seg, "segment first", [r[:3] for r in rows])
        for mtype, _ in FLIGHT:
            m = index_of(rows, "arrow", lambda r: r[1] == "←" and r[2].startswith(mtype + " "))
            t.check("%s: %s below the segment that carried it" % (name, mtype),
                    None not in (m, carrier) and m > carrier, "segment first",
                    [r[:3] for r in rows])
        sh = index_of(rows, "arrow", lambda r: r[2].startswith("ServerHello"))
        if sh is not None:
            dep = rows[sh][4] if name == "text" else rows[sh][3]
            t.check("%s: ServerHello keeps its sender's time 0.900" % name,
                    dep is not None and abs(dep - 0.900) < 0.0005, 0.900, rows[sh])
        check_no_early_arrival(t, "handshake", rows, name)
        if name != "svg":
            t.check("%s: the note names the move and its size" % name,
                    re.search(r"7 messages drawn below the segment that carried them.*up to "
                              r"0\.281 ms before that segment left", raw), "7 messages, 0.281",
                    raw[:900])
    check_lanes_in_order(t, "handshake", ladder(run, cpath, spath).text)
    # without a capture there is no segment to follow: the messages stay at their senders'
    # times and nothing is marked
    cpath, spath = write_logs(tmp_path, *handshake_logs(False))
    r = ladder(run, cpath, spath)
    t.check("no capture: no mark, no note of a move", "*" not in r.text.split("legend")[0] and
            "drawn below" not in r.text, "none", r.text)


def test_ladder_no_arrow_arrives_before_it_left(t, run, tmp_path):
    """Issue 11: Mermaid showed 'SYN+ACK … (0.017 → 0.016)': the client's capture stamped
    the frame 1 µs before the server's. The arrival is drawn at its departure (0.017^) in
    every renderer, and the note says the receiver's stamp was 0.001 ms earlier."""
    cpath, spath = write_logs(tmp_path, *handshake_logs(True))
    out = all_rows(t, run, cpath, spath)
    for name, (rows, raw) in out.items():
        check_no_early_arrival(t, "crafted capture", rows, name)
        sa = index_of(rows, "arrow", lambda r: r[2].startswith("SYN+ACK"))
        t.check("%s: SYN+ACK drawn" % name, sa is not None, "SYN+ACK", rows)
    mer = out["mermaid"][1]
    t.contains("mermaid: SYN+ACK arrives when it left, marked", mer,
               "SYN+ACK seq=y ack=x+1 · 2nd handshake (0.017 → 0.017^)")
    t.check("mermaid: the note says why and by how much",
            re.search(r"\^ 1 segment drawn arriving when it left: the receiver's capture "
                      r"stamped it up to 0\.001 ms earlier", mer), "note", mer[:800])


def test_ladder_connect_above_its_syn(t, run, tmp_path):
    """Issue 11: connect() is timed before the call (the SYN leaves inside it): with a
    capture the ladder draws 'connect(): the kernel sends SYN' above the SYN, not 'connect()
    returned'; a log of an older client, whose connect() was timed after the call, gets the
    same picture, its time marked and a note saying it was logged 0.060 ms after its SYN."""
    cpath, spath = write_logs(tmp_path, *handshake_logs(True))
    r = ladder(run, cpath, spath)
    rows = text_rows(r.text)
    con = index_of(rows, "note", lambda r: r[1] == "client" and r[2].startswith("connect()"))
    syn = index_of(rows, "arrow", lambda r: r[2].startswith("SYN seq=x"))
    t.check("connect() drawn above the SYN", None not in (con, syn) and con < syn,
            "connect() first", rows[:5])
    t.eq("its label", rows[con][2] if con is not None else None,
         "connect(): the kernel sends SYN")
    c, s = handshake_logs(True)
    c[0] = dict(c[0], ts_us=T0 + 62)     # an older client: timed after connect() returned
    cpath, spath = write_logs(tmp_path, c, s)
    r = ladder(run, cpath, spath)
    rows = text_rows(r.text)
    con = index_of(rows, "note", lambda r: r[1] == "client" and r[2].startswith("connect()"))
    syn = index_of(rows, "arrow", lambda r: r[2].startswith("SYN seq=x"))
    t.check("old log: connect() still above its SYN", None not in (con, syn) and con < syn,
            "connect() first", rows[:5])
    # the SYN (stamped at 2 µs) is the first event now: connect() at 62 µs shows as 0.060
    t.check("old log: its time as logged, marked", re.search(r"^\s+0\.060\* ", r.text, re.M),
            "0.060*", r.text[:1500])
    t.check("old log: the note", re.search(r"1 call drawn above what it caused \(connect\(\): "
                                           r"the kernel sends SYN above SYN seq=x.*0\.060 ms after "
                                           r"it,", r.text), "note", r.text[:900])


# ---------------------------------------------------------------- the programs' own times

def captured_run(t, server, client, certs):
    """One HTTPS exchange with --capture on both sides; (client records, server records of
    the same connection), or None when capturing is not permitted."""
    with server("--capture", http=None, selfsigned=None) as srv:
        r = client("--capture", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"))
        t.eq("client exit", r.rc, 0)
        if "cannot capture" in r.err or "cannot capture" in srv.stderr():
            t.skip("--capture is not permitted here")
        conn = srv.conn_of(r.local())
        if conn is not None:
            srv.wait_for(watch_done(conn), 5)
        c = r.conn()
        s = [e for e in srv.evs if e.get("conn") == conn]
    return c, s


def test_sends_timed_before_their_segments(t, server, client, certs):
    """Issue 11: the time of what we send is taken before the system call that sends it.
    With --capture on both sides, each side's own capture stamps the segments: the client's
    connect() is timed no later than its SYN; each side's first TLS message no later than
    its first data segment; each side's close_notify no later than the segment that carried
    it (the last data segment before its FIN: OpenSSL calls the message callback only after
    the record went to the socket, so the server's was logged after it left); the server's
    response no later than the segment that carried it."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW): not root")
    c, s = captured_run(t, server, client, certs)
    for side, evs in (("client", c), ("server", s)):
        out = [e for e in events(evs, "segment", dir="out")]
        data = [e for e in out if e.get("len", 0) > 0]
        fin = next((e for e in out if "FIN" in e.get("flags", "")), None)
        t.check("%s: segments captured" % side, data and fin, "data and a FIN", len(out))
        if not data or fin is None:
            continue
        if side == "client":
            con, syn = first(evs, "connect"), first(evs, "segment", dir="out", flags="SYN")
            t.check("client: connect() timed no later than its SYN", con and syn and
                    con["ts_us"] <= syn["cap_ts_us"], "connect <= SYN",
                    (con or {}).get("ts_us", 0) - (syn or {}).get("cap_ts_us", 0))
        m1 = first(evs, "message", dir="out")
        t.check("%s: first message (%s) timed no later than the first data segment" % (
            side, (m1 or {}).get("type")), m1 and m1["ts_us"] <= data[0]["cap_ts_us"],
            "<= 0 µs", (m1 or {}).get("ts_us", 0) - data[0]["cap_ts_us"])
        before_fin = [e for e in data if e["cap_ts_us"] <= fin["cap_ts_us"]]
        cn = first(evs, "close_notify", dir="out")
        t.check("%s: close_notify timed no later than the segment that carried it" % side,
                cn and before_fin and cn["ts_us"] <= before_fin[-1]["cap_ts_us"], "<= 0 µs",
                (cn or {}).get("ts_us", 0) - (before_fin[-1]["cap_ts_us"] if before_fin else 0))
        if side == "server":
            resp = first(evs, "response")
            after = [e for e in data if resp and e["cap_ts_us"] >= resp["ts_us"]]
            t.check("server: the response timed before a data segment that can carry it "
                    "(not the close_notify's)", resp and len(after) >= 2, ">= 2 after it",
                    len(after))
