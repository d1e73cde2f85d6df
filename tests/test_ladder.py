"""build/ladder (issue 5): the ladder diagram of one exchange from the two JSON logs, as
text, ASCII, SVG and Mermaid; its errors and its reader of damaged logs; make demo's ladder.
"""

import json
import os
import re
import shutil
import tempfile

import pytest

from harness.env import LADDER, ROOT, SAN, SAN_PATTERNS, VALGRIND
from harness.log import events, first, KERNEL_TCP_STATES, parse_json_lines, summary
from harness.tcp import is_root, watch_done
from harness.peers import run_chromium


LADDER_LANE = 9 + 2 + 11 + 1    # text columns before the client's lane: time, state
LADDER_MID = 52                 # text columns between the two lanes
SVG_NS = "{http://www.w3.org/2000/svg}"
_LOGS = {}                      # capture flag -> (client.json, server.json), one exchange each


def ladder_run(run, *args, stdin=None, name="ladder"):
    return run([LADDER] + list(args), stdin=stdin, timeout=30, name=name, san=True)


@pytest.fixture
def ladder_logs(t, server, client, certs, tmp_path_factory):
    """ladder_logs(capture=False): (client.json, server.json), the JSON logs of one HTTPS
    exchange, written to files as a user would (the client's standard error, the server's
    standard output), with --capture on both sides when asked; made once per session and
    shared by the ladder tests (the checks of making them count in the first test that asks)."""
    def get(capture=False):
        if capture in _LOGS:
            return _LOGS[capture]
        extra = ["--capture"] if capture else []
        what = "HTTPS exchange%s" % (" with --capture" if capture else "")
        with server(*extra, http=None, selfsigned=None) as srv:
            port = srv.port("https")
            r = client(*extra, "--cacert", certs.ca, "https://localhost:%d/" % port)
            t.eq("%s: client exit" % what, r.rc, 0)
            if capture and ("cannot capture" in r.err or "cannot capture" in srv.stderr()):
                t.skip("--capture is not permitted here")
            conn = srv.conn_of(r.local())
            t.check("%s: the server logged the connection" % what, conn is not None, r.local(),
                    summary(srv.evs))
            if conn is not None:
                srv.wait_for(watch_done(conn), 5)
        d = str(tmp_path_factory.mktemp("ladder"))
        cpath, spath = os.path.join(d, "client.json"), os.path.join(d, "server.json")
        with open(cpath, "w") as f:
            f.write(r.err)
        with open(spath, "w") as f:
            f.write("\n".join(srv.lines) + "\n")
        _LOGS[capture] = (cpath, spath)
        return cpath, spath
    return get


def ladder_arrows(text):
    """The arrows of a text ladder, top to bottom: dicts with dir ('→' client to server,
    '←' back), label, the time (ms) and the kernel state at the client's and the server's
    end, and each time's mark ('*' drawn away from its time, '^' an arrival drawn at its
    departure: ladder/order.c). The lanes are at fixed columns; one column per character,
    Unicode or ASCII; a time's mark follows it (on the client's side in the column before
    the state)."""
    out = []
    for line in text.splitlines():
        if len(line) <= LADDER_LANE + LADDER_MID + 1:
            continue
        mid = line[LADDER_LANE + 1:LADDER_LANE + 1 + LADDER_MID]
        if mid.endswith(("▶", ">")):
            d = "→"
        elif mid.startswith(("◀", "<")):
            d = "←"
        else:
            continue
        right = line[LADDER_LANE + LADDER_MID + 2:]

        def num(s):
            try:
                return float(s)
            except ValueError:
                return None
        rtime = right[14:]
        out.append({"dir": d, "label": mid.strip(" ─┄-.▶◀<>"),
                    "t_client": num(line[:9].strip()), "t_server": num(rtime.strip(" *^")),
                    "mark_client": line[9:10].strip(), "mark_server": rtime.strip()[-1:].strip(
                        "0123456789.?"),
                    "state_client": line[11:22].strip(), "state_server": right[1:12].strip(),
                    "line": line})
    return out


def ladder_notes(text):
    """The notes of a text ladder (events of one side), top to bottom: (side, label, line)."""
    out = []
    for line in text.splitlines():
        if len(line) <= LADDER_LANE + LADDER_MID + 1 or not line[LADDER_LANE:LADDER_LANE + 1]:
            continue
        mid = line[LADDER_LANE + 1:LADDER_LANE + 1 + LADDER_MID]
        if mid.endswith(("▶", ">")) or mid.startswith(("◀", "<")) or not mid.strip():
            continue
        out.append(("client" if line[:9].strip() else "server", mid.strip(), line))
    return out


def check_no_early_arrival(t, what, arrows):
    """No arrow arrives before it left: the time at its head >= the time at its tail."""
    bad = [a["line"] for a in arrows if None not in (a["t_client"], a["t_server"]) and
           (a["t_server"] < a["t_client"] if a["dir"] == "→" else a["t_client"] < a["t_server"])]
    t.check("%s: no arrow arrives before it left" % what, not bad, "none", bad[:3])


def check_fin_read_after_shutdown(t, what, text):
    """The client closes first: the server's read() = 0 is drawn below the client's
    shutdown() (issue 11: make demo drew it above)."""
    notes = ladder_notes(text)
    sh = next((i for i, n in enumerate(notes) if n[0] == "client" and
               n[1].startswith("shutdown(): our FIN goes out")), None)
    rd = next((i for i, n in enumerate(notes) if n[0] == "server" and
               n[1].startswith("read() = 0: the peer's FIN is in")), None)
    t.check("%s: the server's read() = 0 below the client's shutdown()" % what,
            None not in (sh, rd) and rd > sh, "shutdown() above read() = 0",
            [n[2] for n in notes])


def ladder_order(t, what, arrows, want):
    """want: (dir, label prefix) pairs that must appear in this order (others may be between)."""
    i = 0
    got = ["%s %s" % (a["dir"], a["label"]) for a in arrows]
    for n, (d, prefix) in enumerate(want):
        j = next((k for k in range(i, len(arrows)) if arrows[k]["dir"] == d and
                  arrows[k]["label"].startswith(prefix)), None)
        if j is None:
            return t.check("%s: arrows in order" % what, False,
                           " .. ".join("%s %s" % w for w in want),
                           "%s %s missing after arrow %d; arrows: %s" % (d, prefix, i, got))
        i = j + 1
    return t.check("%s: arrows in order (%s ... %s)" % (what, "%s %s" % want[0],
                                                         "%s %s" % want[-1]), True)


LADDER_TLS13 = [("→", "ClientHello"), ("←", "ServerHello"), ("←", "EncryptedExtensions"),
                ("←", "Certificate "), ("←", "CertificateVerify"), ("←", "Finished"),
                ("→", "Finished"), ("→", "GET /"), ("←", "200 OK"), ("→", "close_notify"),
                ("←", "close_notify")]


SEGMENT_WORDS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "data", "RST")


def chromium_png(t, procs, svg, what, timeout=60.0):
    """Headless Chromium's screenshot of an SVG file (1200x1600, HOME in a scratch folder),
    bounded by timeout. Returns the PNG's bytes, or None. Chromium runs once per CI run: not
    again under SAN=1 or valgrind (the SVG comes from the ladder, which does not change)."""
    if SAN or VALGRIND:
        return None
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.access(
        "/usr/bin/chromium", os.X_OK) else None)
    if chromium is None:
        print("  note %s: chromium is not installed: the SVG is not rendered" % what, flush=True)
        return None
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=os.path.dirname(svg))
    png = svg[:-4] + ".png"
    _, err, done = run_chromium(t, procs, chromium, home,
                                ["--screenshot=" + png, "--window-size=1200,1600",
                                 "file://" + svg], what, timeout)
    if not done:
        return None
    data = open(png, "rb").read() if os.path.exists(png) else b""
    t.check("%s: headless Chromium wrote a PNG" % what, data.startswith(b"\x89PNG\r\n\x1a\n"),
            "a PNG file", "%d bytes; stderr: %s" % (len(data), err[-500:]))
    if len(data) >= 24:
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        t.eq("%s: PNG size is the window's" % what, (w, h), (1200, 1600))
    # a blank 1200x1600 page compresses to a few KB; the diagram's text and lines do not
    t.check("%s: the PNG is not blank (> 30 KB)" % what, len(data) > 30000, "> 30000 bytes",
            len(data))
    return data


def svg_texts(t, what, svg_bytes):
    """Parses the SVG (well-formed XML, or a failed check); returns [(text, x, y, size, anchor)]."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(svg_bytes)
    except ET.ParseError as x:
        t.check("%s: well-formed XML" % what, False, "parses", "%s; %s" % (x, svg_bytes[:300]))
        return None, []
    t.check("%s: well-formed XML" % what, True)
    t.eq("%s: root element" % what, root.tag, SVG_NS + "svg")
    texts = []
    for el in root.iter(SVG_NS + "text"):
        try:
            texts.append(("".join(el.itertext()), float(el.get("x")), float(el.get("y")),
                          float(el.get("font-size")), el.get("text-anchor", "start")))
        except (TypeError, ValueError):
            t.check("%s: text element with x, y, font-size" % what, False, "numbers", el.attrib)
    return root, texts


def check_svg_layout(t, what, root, texts):
    """Readable and tidy: font sizes >= 13 px, every text inside the picture, no two text
    boxes overlapping (monospace width 0.61 em; the estimate errs on the large side)."""
    W, H = float(root.get("width", 0)), float(root.get("height", 0))
    t.check("%s: width and height set" % what, W >= 800 and H > 300, ">= 800 x > 300", (W, H))
    small = [x for x in texts if x[3] < 13]
    t.check("%s: font sizes >= 13 px" % what, not small, ">= 13", small[:3])
    boxes = []
    for s, x, y, size, anchor in texts:
        w = len(s) * size * 0.61
        x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        boxes.append((x0, x0 + w, y - 0.8 * size, y + 0.22 * size, s))
    outside = [b[4] for b in boxes if b[0] < -1 or b[1] > W + 1 or b[2] < -1 or b[3] > H + 1]
    t.check("%s: every text inside the picture" % what, not outside, "inside", outside[:3])
    over = []
    for i in range(len(boxes)):
        a = boxes[i]
        for b in boxes[i + 1:]:
            if b[2] > a[3] + 30:
                continue
            if min(a[1], b[1]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[2], b[2]) > 1:
                over.append((a[4], b[4]))
    t.check("%s: no two labels overlap" % what, not over, "no overlap", over[:5])


def count_arrows_in_logs(cpath, spath):
    """How many arrows the logs allow: each message, alert, close_notify and segment sent
    (dir out) by either side, each request and each response; the receiver's record of
    one that was sent is the same arrow."""
    n = 0
    for path, side in ((cpath, "client"), (spath, "server")):
        for e in parse_json_lines(open(path).read()):
            if e.get("side") != side or not e.get("conn"):
                continue
            if e.get("event") in ("message", "alert", "close_notify", "segment") and \
                    e.get("dir") == "out":
                n += 1
            elif (e.get("event"), side) in (("request", "client"), ("response", "server")):
                n += 1
    return n


def test_ladder_text(t, run, ladder_logs):
    """Issue 5: build/ladder CLIENT_LOG SERVER_LOG draws the HTTPS exchange: the TLS 1.3
    messages, GET and 200 and both close_notify in order and direction, the time and the
    kernel state at both ends, no TCP arrow without a capture (a note says so, connect(),
    accept() and the FINs are events on each side); ASCII, swapped arguments, stdin."""
    cpath, spath = ladder_logs()
    r = ladder_run(run, cpath, spath)
    t.eq("exit", r.rc, 0)
    t.eq("nothing on stderr", r.err, "")
    arrows = ladder_arrows(r.text)
    ladder_order(t, "text", arrows, LADDER_TLS13)
    t.eq("one arrow per message sent (messages, close_notify, request, response)",
         len(arrows), count_arrows_in_logs(cpath, spath))
    t.check("no TCP segment arrow without --capture",
            not [a for a in arrows if a["label"].split(" ")[0] in SEGMENT_WORDS], "none",
            [a["label"] for a in arrows])
    t.contains("the note that segments were not captured", r.text,
               "TCP segments were not captured")
    for words in ("connect()", "connect() completed", "accept(): handshake done",
                  "shutdown(): our FIN goes out", "read() = 0: the peer's FIN is in", "close()"):
        t.contains("the event %r is drawn" % words, r.text, words)
    t.contains("header: TLS version and cipher", r.text, "TLSv1.3  TLS_")
    t.check("the spans of connect() and the close are drawn (┳ ... ┻)",
            r.text.count("┳") >= 2 and r.text.count("┻") >= 2, ">= 2 each",
            (r.text.count("┳"), r.text.count("┻")))
    bad = [a["line"] for a in arrows if a["t_client"] is None or a["t_server"] is None or
           a["state_client"] not in KERNEL_TCP_STATES or a["state_server"] not in KERNEL_TCP_STATES]
    t.check("each arrow has the time and the kernel state at both ends", not bad,
            "times and states", bad[:3])
    # times are ms since the first event on one wall clock: the gap between two arrows
    # equals the ts_us gap in the logs
    c = parse_json_lines(open(cpath).read())
    s = parse_json_lines(open(spath).read())
    ch = first(c, "message", type="ClientHello", dir="out") or {}
    sh = first(s, "message", type="ServerHello", dir="out") or {}
    a_ch = next((a for a in arrows if a["label"].startswith("ClientHello")), {})
    a_sh = next((a for a in arrows if a["label"].startswith("ServerHello")), {})
    if ch and sh and a_ch.get("t_client") is not None and a_sh.get("t_server") is not None:
        t.check("ServerHello's server time - ClientHello's client time == ts_us difference",
                abs((a_sh["t_server"] - a_ch["t_client"]) - (sh["ts_us"] - ch["ts_us"]) / 1000)
                < 0.0015, (sh["ts_us"] - ch["ts_us"]) / 1000, a_sh["t_server"] - a_ch["t_client"])
    check_no_early_arrival(t, "text", arrows)
    check_fin_read_after_shutdown(t, "text", r.text)
    t.check("time goes down: the senders' times never decrease",
            all((a["t_client"] if a["dir"] == "→" else a["t_server"]) >=
                (b["t_client"] if b["dir"] == "→" else b["t_server"])
                for b, a in zip(arrows, arrows[1:])
                if None not in (a["t_client"], a["t_server"], b["t_client"], b["t_server"])),
            "non-decreasing", [(a["label"], a["t_client"], a["t_server"]) for a in arrows])

    ra = ladder_run(run, "--ascii", cpath, spath)
    t.eq("--ascii: exit", ra.rc, 0)
    t.check("--ascii: only ASCII bytes", all(b < 0x80 for b in ra.out), "ASCII",
            [l for l in ra.text.splitlines() if any(ord(ch) > 127 for ch in l)][:3])
    t.eq("--ascii: the same arrows", [(a["dir"], a["label"]) for a in ladder_arrows(ra.text)],
         [(a["dir"], a["label"]) for a in arrows])
    rs = ladder_run(run, spath, cpath)
    t.eq("the logs in the other order: the same diagram", rs.text, r.text)
    ri = ladder_run(run, cpath, "-", stdin=open(spath, "rb").read())
    t.eq("the server's log on standard input ('-'): the same diagram", ri.text, r.text)


def test_ladder_capture(t, run, procs, ladder_logs):
    """Issue 5: with --capture on both sides (root) the TCP segments are arrows too, from
    the real segment events: SYN seq=x, SYN+ACK seq=y ack=x+1, ACK, the data, FIN, the last
    ACK, each with the capture times of both sides; no 'not captured' note."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW): not root")
    cpath, spath = ladder_logs(capture=True)
    r = ladder_run(run, cpath, spath)
    t.eq("exit", r.rc, 0)
    arrows = ladder_arrows(r.text)
    t.eq("the first three arrows: the three-way handshake",
         [(a["dir"], a["label"]) for a in arrows[:3]],
         [("→", "SYN seq=x · 1st handshake"), ("←", "SYN+ACK seq=y ack=x+1 · 2nd handshake"),
          ("→", "ACK seq=x+1 ack=y+1 · 3rd handshake")])
    c = parse_json_lines(open(cpath).read())
    s = parse_json_lines(open(spath).read())
    # issue 11: each message below the segment that carried it (its close_notify and the
    # client's FIN: in the order the server read them, which varies). Who sent the first FIN
    # varies too (the server answers the client's close_notify at once with its own and a FIN,
    # which can leave before the client's FIN): the client's `closed` says which, and the
    # arrows must agree with it.
    first = [e.get("first_fin") for e in events(c, "closed")]
    if first == ["peer"]:
        close = [("←", "FIN seq=y+"), ("→", "FIN"), ("←", "ACK")]
    elif first == ["both"]:     # the FINs crossed: each side's FIN is drawn, in either order
        close = []
        t.check("a FIN arrow each way", any(a["dir"] == "→" and "FIN" in a["label"] for a in arrows)
                and any(a["dir"] == "←" and "FIN" in a["label"] for a in arrows), "both",
                [a["label"] for a in arrows[-6:]])
    else:
        close = [("→", "FIN seq=x+"), ("←", "FIN"), ("→", "ACK")]
    t.check("the client's closed event says who sent the first FIN", first in (["local"], ["peer"], ["both"]),
            "local, peer or both", first)
    ladder_order(t, "capture", arrows, [("→", "SYN "), ("←", "SYN+ACK"), ("→", "ACK seq=x+1"),
                                        ("→", "data seq=x+1"), ("→", "ClientHello"),
                                        ("←", "data seq=y+1"), ("←", "ServerHello"),
                                        ("→", "data seq=x+"), ("→", "GET /"), ("←", "200 OK")]
                 + close)
    t.check("the close: 1st wave from the client, the server's FIN (3rd, or 2nd+3rd), "
            "the 4th wave", "1st wave" in r.text and ("3rd wave" in r.text) and
            "4th wave" in r.text, "1st/3rd/4th wave", [a["label"] for a in arrows[-6:]])
    check_carriers_above(t, arrows, c, s)
    check_no_early_arrival(t, "capture text", arrows)
    rm = ladder_run(run, "--mermaid", cpath, spath)
    early = [l for l in rm.text.splitlines() if "->>" in l and
             (lambda m: m and float(m.group(2)) < float(m.group(1)))(
                 re.search(r"\((\d+\.\d+)[*^]?(?: \S+)? → (\d+\.\d+)[*^]?(?: \S+)?\)$", l))]
    t.check("capture mermaid: no arrow arrives before it left", not early, "none", early[:3])
    segs = [a for a in arrows if a["label"].split(" ")[0] in SEGMENT_WORDS]
    t.eq("one arrow per captured segment", len(segs), len(events(c, "segment")))
    t.eq("the server captured as many", len(events(s, "segment")), len(events(c, "segment")))
    t.check("each segment arrow has both sides' capture times", all(
        a["t_client"] is not None and a["t_server"] is not None for a in segs), "both",
        [a["line"] for a in segs if a["t_client"] is None or a["t_server"] is None][:3])
    t.eq("one arrow per message and segment sent", len(arrows), count_arrows_in_logs(cpath, spath))
    t.check("no 'not captured' note", "not captured" not in r.text, "no note", r.text[:600])
    t.check("the segments are drawn dotted (┄), the messages solid (─)",
            all("┄" in a["line"] for a in segs) and
            all("┄" not in a["line"] for a in arrows if a not in segs), "┄ / ─",
            [a["line"] for a in arrows[:4]])
    res = ladder_run(run, "--svg", cpath, spath)
    t.eq("--svg: exit", res.rc, 0)
    root, texts = svg_texts(t, "capture SVG", res.out)
    if root is not None:
        check_svg_layout(t, "capture SVG", root, texts)
        labels = [x[0] for x in texts]
        t.check("capture SVG: the handshake's segments are labelled",
                any(l.startswith("SYN seq=x") for l in labels) and
                any(l.startswith("SYN+ACK seq=y ack=x+1") for l in labels), "SYN, SYN+ACK",
                labels[:20])
        svg = os.path.join(os.path.dirname(cpath), "ladder-capture.svg")
        with open(svg, "wb") as f:
            f.write(res.out)
        chromium_png(t, procs, svg, "capture SVG")


def check_carriers_above(t, arrows, c, s):
    """Issue 11: each message is drawn below the segment that carried it: the first data
    segment its sender's capture saw leave after the sender logged it (the time of what we
    send is taken before the system call that sends it)."""
    syn = first(c, "segment", step="syn") or {}
    synack = first(s, "segment", step="syn_ack") or {}
    bad, n = [], 0
    for side, evs, d, isn, letter in (("client", c, "→", syn.get("seq"), "x"),
                                      ("server", s, "←", synack.get("seq"), "y")):
        if isn is None:
            continue
        data = [e for e in evs if e.get("event") == "segment" and e.get("dir") == "out" and
                e.get("len", 0) > 0]
        seen = {}
        for e in evs:
            ev = e.get("event")
            if ev in ("message", "close_notify", "alert") and e.get("dir") == "out":
                key = e.get("type") or ev
            elif (ev, side) == ("request", "client"):
                key = "%s %s" % (e.get("method"), e.get("target"))
            elif (ev, side) == ("response", "server"):
                key = str(e.get("status"))
            else:
                continue
            k = seen.get(key, 0)
            seen[key] = k + 1
            seg = next((g for g in data if g["cap_ts_us"] >= e["ts_us"]), None)
            if seg is None:
                continue
            # a data segment, or a FIN that carries data (our close_notify rides on our FIN)
            label = "seq=%s+%d " % (letter, (seg["seq"] - isn) & 0xffffffff)
            mi = [i for i, a in enumerate(arrows) if a["dir"] == d and
                  (a["label"] == key or a["label"].startswith(key + " "))]
            si = next((i for i, a in enumerate(arrows) if a["dir"] == d and
                       a["label"].split(" ")[0] in SEGMENT_WORDS and
                       (" " + label) in (a["label"] + " ")), None)
            n += 1
            if k >= len(mi) or si is None or mi[k] < si:
                bad.append("%s %s (#%d) vs %s: %s" % (d, key, k + 1, label,
                                                      "missing" if k >= len(mi) or si is None
                                                      else "drawn above it"))
    t.check("capture: each message below the segment that carried it (%d)" % n, n and not bad,
            "all below", bad[:5])


def test_ladder_svg(t, run, procs, ladder_logs):
    """Issue 5: --svg is a self-contained SVG: well-formed XML (xml.etree, and xmllint when
    installed), the arrows' labels in order, readable font sizes, no overlapping labels,
    and headless Chromium renders it to a non-empty PNG."""
    cpath, spath = ladder_logs()
    r = ladder_run(run, "--svg", cpath, spath)
    t.eq("exit", r.rc, 0)
    t.check("starts with the XML declaration", r.out.startswith(b"<?xml version=\"1.0\""),
            "<?xml", r.out[:60])
    svg = os.path.join(os.path.dirname(cpath), "ladder.svg")
    with open(svg, "wb") as f:
        f.write(r.out)
    root, texts = svg_texts(t, "SVG", r.out)
    if root is None:
        return
    t.check("self-contained: no external reference (href, url(), @import)",
            not re.search(rb"href|url\(|@import", r.out), "none",
            re.findall(rb".{20}(?:href|url\(|@import).{20}", r.out)[:3])
    labels = [x[0] for x in texts]
    want = ["ClientHello", "ServerHello", "EncryptedExtensions", "Certificate ",
            "CertificateVerify", "Finished", "Finished", "GET /", "200 OK", "close_notify",
            "close_notify"]
    i, missing = 0, None
    for w in want:
        j = next((k for k in range(i, len(labels)) if labels[k].startswith(w)), None)
        if j is None:
            missing = w
            break
        i = j + 1
    t.check("the arrows' labels in order", missing is None, " < ".join(want),
            "%s missing; texts: %s" % (missing, labels))
    t.check("lanes named Client and Server", "Client" in labels and "Server" in labels,
            "Client, Server", labels[:10])
    t.check("an arrowhead per arrow (polygon)", len(list(root.iter(SVG_NS + "polygon"))) >=
            count_arrows_in_logs(cpath, spath), ">= %d" % count_arrows_in_logs(cpath, spath),
            len(list(root.iter(SVG_NS + "polygon"))))
    t.check("the note that segments were not captured",
            any("not captured" in l for l in labels), "note", labels[:8])
    check_svg_layout(t, "SVG", root, texts)
    xmllint = shutil.which("xmllint")
    if xmllint:
        x = run([xmllint, "--noout", svg])
        t.eq("xmllint --noout: exit", x.rc, 0)
        t.eq("xmllint --noout: no complaint", x.err, "")
    else:
        print("  note ladder_svg: xmllint is not installed: only xml.etree checked", flush=True)
    chromium_png(t, procs, svg, "SVG")


MERMAID_LINE = re.compile(
    r"^    (?:participant (?:Client|Server)"
    r"|(?P<a>Client|Server)->>(?P<b>Client|Server): (?P<text>\S.*)"
    r"|Note (?:left of Client|right of Server|over Client,Server): \S.*"
    r"|(?P<act>activate|deactivate) (?P<who>Client|Server))$")


def test_ladder_mermaid(t, run, ladder_logs):
    """Issue 5: --mermaid is a sequenceDiagram: participants Client and Server, every
    other line a message 'A->>B: text', a note or an (de)activation, the text escaped for
    Mermaid (no bare ';' or '#'), the same arrows in the same order as the text output."""
    cpath, spath = ladder_logs()
    r = ladder_run(run, "--mermaid", cpath, spath)
    t.eq("exit", r.rc, 0)
    lines = r.text.rstrip("\n").split("\n")
    t.eq("first line", lines[0] if lines else None, "sequenceDiagram")
    t.eq("participants", lines[1:3], ["    participant Client", "    participant Server"])
    bad, msgs, active = [], [], {"Client": 0, "Server": 0}
    unbalanced = []
    for l in lines[1:]:
        m = MERMAID_LINE.match(l)
        if not m:
            bad.append(l)
            continue
        if m.group("a"):
            if m.group("a") == m.group("b"):
                bad.append(l)
            msgs.append(("→" if m.group("a") == "Client" else "←", m.group("text")))
        if m.group("act"):
            active[m.group("who")] += 1 if m.group("act") == "activate" else -1
            if active[m.group("who")] not in (0, 1):
                unbalanced.append(l)
        text = l.split(": ", 1)[1] if ": " in l else ""
        if re.search(r"[;#]", re.sub(r"#\d+;", "", text)):
            bad.append(l)
    t.check("every line follows the grammar", not bad, "A->>B: text / Note ... / activate",
            bad[:5])
    t.check("activate/deactivate balanced", not unbalanced and not any(active.values()),
            "balanced", (unbalanced, active))
    arrows = ladder_arrows(ladder_run(run, cpath, spath).text)
    t.eq("the same arrows as the text output, in order",
         [(d, txt.rsplit(" (", 1)[0]) for d, txt in msgs],
         [(a["dir"], a["label"]) for a in arrows])
    t.check("each message names the time and state at both ends",
            all(re.search(r"\(\d+\.\d{3}[*^]? [A-Z_0-9]+ → \d+\.\d{3}[*^]? [A-Z_0-9]+\)$",
                          txt) for _, txt in msgs), "(t STATE → t STATE)", msgs[:3])
    early = [txt for _, txt in msgs if (lambda m: m and float(m.group(2)) < float(m.group(1)))(
        re.search(r"\((\d+\.\d+)[*^]? \S+ → (\d+\.\d+)[*^]? \S+\)$", txt))]
    t.check("no arrow arrives before it left", not early, "none", early[:3])


def test_ladder_demo(t, run, certs, build):
    """Issue 5: make demo (scripts/demo.sh) ends with the ladder of one more HTTPS exchange,
    logged in JSON on both sides."""
    r = run([os.path.join(ROOT, "scripts", "demo.sh")], timeout=60, name="demo.sh",
         env={"BUILD": build.dir, "CERTS": certs.dir}, san=True)
    t.eq("demo.sh: exit", r.rc, 0)
    t.contains("demo.sh: the ladder step", r.text, "5. The HTTPS exchange as a ladder diagram")
    part = r.text.split("5. The HTTPS exchange as a ladder diagram", 1)[-1]
    ladder_order(t, "demo.sh", ladder_arrows(part), LADDER_TLS13)
    # issue 11: the ladder drew the server's read() = 0 above the client's shutdown()
    check_fin_read_after_shutdown(t, "demo.sh", part)
    check_no_early_arrival(t, "demo.sh", ladder_arrows(part))
    t.check("demo.sh: no ladder error", "ladder:" not in r.err, "nothing", r.err[-500:])


def ladder_mutate(text, rnd):
    """A damaged copy of a log: bytes flipped, cut, lines doubled or swapped."""
    b = bytearray(text)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.randint(0, 5)
        if not b:
            break
        i = rnd.randrange(len(b))
        if op == 0:
            b[i] = rnd.randrange(256)
        elif op == 1:
            del b[i:i + rnd.randint(1, 200)]
        elif op == 2:
            b[i:i] = bytes(rnd.choice(b'{}[]":,\\0123456789-+.eE \n\x00\xff\xc3')
                           for _ in range(rnd.randint(1, 20)))
        elif op == 3:
            j = rnd.randrange(len(b))
            b[i:i] = b[j:j + rnd.randint(1, 400)]
        elif op == 4:
            b = b[:i]
        else:
            b[i:i] = b'{"side":"client","conn":1,"event":"message","ts_us":%d,"dir":"out",' \
                     b'"type":"X"}\n' % rnd.randrange(-5, 2 ** 63)
    return bytes(b)


def test_ladder_errors(t, server, client, run, certs, ladder_logs):
    """Issue 5: build/ladder's errors and its reader: usage (exit 2), -h, a missing file,
    logs of two different runs ('share no connection'), a file without JSON, two client
    logs; malformed, nested, oversized, NUL and non-UTF-8 lines skipped with a count; hostile
    strings escaped in every output; damaged copies of real logs never crash it."""
    r = ladder_run(run)
    t.eq("no arguments: exit 2", r.rc, 2)
    t.contains("no arguments: usage", r.err, "usage: ladder")
    r = ladder_run(run, "--bogus", "a", "b")
    t.eq("unknown flag: exit 2", r.rc, 2)
    t.contains("unknown flag: named", r.err, "unknown option '--bogus'")
    t.contains("unknown flag: usage", r.err, "usage: ladder")
    r = ladder_run(run, "--svg", "--mermaid", "a", "b")
    t.eq("two formats: exit 2", r.rc, 2)
    r = ladder_run(run, "a", "b", "c")
    t.eq("three logs: exit 2", r.rc, 2)
    r = ladder_run(run, "-h")
    t.eq("-h: exit 0", r.rc, 0)
    t.contains("-h: usage on stdout", r.text, "usage: ladder [--svg | --mermaid | --ascii] "
               "CLIENT_LOG SERVER_LOG")

    cpath, spath = ladder_logs()
    d = os.path.dirname(cpath)
    missing = os.path.join(d, "no-such.json")
    r = ladder_run(run, cpath, missing)
    t.eq("missing file: exit 1", r.rc, 1)
    t.contains("missing file: named with the reason", r.err,
               "cannot open %s: No such file or directory" % missing)
    r = ladder_run(run, d, spath)
    t.eq("a directory: exit 1", r.rc, 1)
    t.contains("a directory: cannot read", r.err, "cannot read")

    # a client log of another run: its connection is not in this server's log
    with server(http=None, selfsigned=None, name="other server") as srv:
        other = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
    opath = os.path.join(d, "other-client.json")
    with open(opath, "w") as f:
        f.write(other.err)
    r = ladder_run(run, opath, spath)
    t.eq("logs of two runs: exit 1", r.rc, 1)
    t.contains("logs of two runs: the message", r.err,
               "the two logs share no connection: were they from the same run?")
    t.contains("logs of two runs: the client's 4-tuple named", r.err, str(other.local()))

    text = os.path.join(d, "text.log")
    with open(text, "w") as f:
        f.write("    +0.145 ms  client     TCP  resolve          localhost -> 127.0.0.1:8080\n")
    r = ladder_run(run, text, spath)
    t.eq("a text log: exit 1", r.rc, 1)
    t.contains("a text log: says it has no events", r.err, "has no event records")
    r = ladder_run(run, cpath, cpath)
    t.eq("two client logs: exit 1", r.rc, 1)
    t.contains("two client logs: says so", r.err, "neither log is the server's")

    # the real logs with hostile lines between theirs: the same diagram, a count on stderr
    good = ladder_run(run, cpath, spath)
    hostile = [b'{"side":"client","conn":1,"event":"message","ts_us":1,"dir":"out","type":"Evil"',
               b'{"side":"client","conn":1,"event":"message","nested":{"a":1},"ts_us":1}',
               b'{"side":"client","conn":1,"event":"message","list":[1,2],"ts_us":1}',
               b'{"side":"client","conn":1,"event":"message","ts_us":1}} ',
               b'{"a":"\\x41"}', b'{"a":"\\ud800"x}', b'{"a":01}', b'{"a":1.}', b'{"a":-}',
               b'{"a":1e999}', b'{"a":"tab\there"}', b'{"a":tru}', b'{,}', b'{"a" 1}',
               b'{"a":"' + b"x" * 70000 + b'"}', b'{"a":"nul\x00byte"}',
               b'{' * 5000, b'{"a":' + b"9" * 100 + b'}']
    for path, name in ((cpath, "client"), (spath, "server")):
        lines = open(path, "rb").read().split(b"\n")
        mixed = []
        for i, l in enumerate(lines):
            mixed.append(l)
            mixed.append(hostile[i % len(hostile)])
        with open(os.path.join(d, "hostile-%s.json" % name), "wb") as f:
            f.write(b"\n".join(mixed) + b"\xff\xfe not json\n")
    hc, hs = os.path.join(d, "hostile-client.json"), os.path.join(d, "hostile-server.json")
    r = ladder_run(run, hc, hs)
    t.eq("hostile lines: exit 0", r.rc, 0)
    t.eq("hostile lines: the same diagram", r.text, good.text)
    t.contains("hostile lines: counted on stderr", r.err, "malformed JSON line(s) skipped")
    t.contains("hostile lines: the long and the NUL lines too", r.err,
               "longer than 65535 bytes or with NUL bytes skipped")

    # hostile strings in real fields: escaped for XML and Mermaid, controls masked
    def poison(path, out):
        evs = []
        for l in open(path).read().splitlines():
            if l.startswith("{"):
                e = json.loads(l)
                if e.get("event") == "request":
                    e["target"] = "/<a href='x'>&amp;\"\u0001\u202e;#x\udcff\U0001F600"
                if e.get("event") == "message" and e.get("type") == "Certificate":
                    e["type"] = "Certi]]>ficate<!--"
                l = json.dumps(e, ensure_ascii=False)
            evs.append(l)
        with open(out, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write("\n".join(evs) + "\n")
    pc, ps = os.path.join(d, "poison-client.json"), os.path.join(d, "poison-server.json")
    poison(cpath, pc)
    poison(spath, ps)
    r = ladder_run(run, pc, ps)
    t.eq("hostile strings: text exit", r.rc, 0)
    t.check("hostile strings: control and bidi characters masked, a bad surrogate too",
            "\u0001" not in r.text and "\u202e" not in r.text, "masked", r.text[:200])
    t.contains("hostile strings: the request drawn", r.text, "GET /<a href='x'>&amp;\"??;#x???😀")
    r = ladder_run(run, "--svg", pc, ps)
    t.eq("hostile strings: --svg exit", r.rc, 0)
    root, texts = svg_texts(t, "hostile strings SVG", r.out)
    t.check("hostile strings: the SVG shows the target as text",
            any(x[0].startswith("GET /<a href='x'>&amp;\"??;#x?") for x in texts),
            "GET /<a href=...", [x[0] for x in texts if x[0].startswith("GET")])
    r = ladder_run(run, "--mermaid", pc, ps)
    get = [l for l in r.text.splitlines() if "->>Server: GET" in l]
    t.check("hostile strings: Mermaid gets entity codes for ; # < >",
            get and "#60;a href='x'#62;&amp#59;\"??#59;#35;x???" in get[0] and
            not re.search(r"[;#]", re.sub(r"#\d+;", "", get[0].split(": ", 1)[1])),
            "#60; #62; #59; #35;", get)

    # damaged copies of the real logs: any exit 0 or 1, never a crash or a sanitizer report
    import random
    rnd = random.Random(5)
    craw, sraw = open(cpath, "rb").read(), open(spath, "rb").read()
    crashes = []
    for i in range(60):
        a, b = os.path.join(d, "m-client.json"), os.path.join(d, "m-server.json")
        with open(a, "wb") as f:
            f.write(ladder_mutate(craw, rnd))
        with open(b, "wb") as f:
            f.write(ladder_mutate(sraw, rnd))
        fmt = ("--ascii", "--svg", "--mermaid", "--text")[i % 4]
        r = run([LADDER, fmt, a, b], timeout=30, name="ladder (damaged logs)")
        if r.rc not in (0, 1) or any(p in r.err for p in SAN_PATTERNS):
            crashes.append((i, fmt, r.rc, r.err[-300:]))
            shutil.copy(a, os.path.join(d, "crash-%d-client.json" % i))
            shutil.copy(b, os.path.join(d, "crash-%d-server.json" % i))
    t.check("60 damaged copies of the logs: exit 0 or 1, no crash", not crashes, "no crash",
            crashes[:3])


UNSEEN = "? no time at that end"


def test_ladder_unread_in_send_order(t, run, server, client, certs, tmp_path):
    """A self-signed certificate refused, both sides capturing: the client gives up at the
    certificate and never reads the server's CertificateVerify and Finished (client time '?').
    Those are drawn in the order the server sent them, below the ServerHello, Certificate ...
    sent before them (they used to be drawn above the ServerHello, just below the segment
    that carried them); the legend of the text, SVG and Mermaid forms says what '?' means."""
    if not is_root():
        return t.skip("needs root: --capture on both sides (the messages are placed under "
                      "their captured segments)")
    with server("--capture", http=None) as srv:
        r = client("--capture", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("selfsigned"))
        t.eq("self-signed refused: client exit 60", r.rc, 60)
        if "cannot capture" in r.err or "cannot capture" in srv.stderr():
            return t.skip("--capture is not permitted here")
        conn = srv.conn_of(r.local())
        if conn is not None:
            srv.wait_for(watch_done(conn), 5)
    cpath, spath = str(tmp_path / "client.json"), str(tmp_path / "server.json")
    with open(cpath, "w") as f:
        f.write(r.err)
    with open(spath, "w") as f:
        f.write("\n".join(srv.lines) + "\n")
    lr = ladder_run(run, cpath, spath, name="ladder self-signed refused")
    t.eq("ladder: exit", lr.rc, 0)
    arrows = ladder_arrows(lr.text)
    sent = [a for a in arrows if a["dir"] == "←" and "─" in a["line"]]	# the server's messages
    unread = [a["label"] for a in sent if a["t_client"] is None]
    t.check("the client never read some of the server's messages ('?' at its end)",
            any("CertificateVerify" in u for u in unread), "CertificateVerify ... ?", unread)
    times = [a["t_server"] for a in sent]
    t.check("the server's messages drawn in the order it sent them (its times, top to bottom)",
            None not in times and times == sorted(times), "non-decreasing",
            [(a["label"], a["t_server"], a["t_client"]) for a in sent])
    names = [a["label"].split()[0] for a in sent]
    t.check("CertificateVerify and Finished below ServerHello and Certificate",
            all(n in names for n in ("ServerHello", "Certificate", "CertificateVerify",
                                     "Finished")) and
            names.index("ServerHello") < names.index("Certificate") <
            names.index("CertificateVerify") < names.index("Finished"), "in that order", names)
    t.contains("text legend: what '?' means", lr.text, UNSEEN)
    svg = ladder_run(run, "--svg", cpath, spath, name="ladder --svg self-signed refused")
    t.contains("SVG legend: what '?' means", svg.text, UNSEEN)
    mm = ladder_run(run, "--mermaid", cpath, spath, name="ladder --mermaid self-signed refused")
    t.contains("Mermaid: what '?' means", mm.text, UNSEEN)
