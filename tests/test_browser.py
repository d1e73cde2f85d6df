"""test_browser.py -- issue 14 item 4: the pages in a real browser. Headless Chromium (the demo
CA trusted, harness/cdp.py over --remote-debugging-pipe) opens the HTTPS page and finds in its
DOM its own offered groups, the group chosen and why, and the ladder; a reload says what the
server's log says of the connection that carried it; /live grows a row for each new client;
/events.json is JSON lines of one connection; scripts/shots.py writes the docs' screenshots.
Each test is checked against the server's JSON log, not only against the page."""

import json
import os
import sys
import tempfile
import zlib

import pytest

from harness.cdp import Browser, make_nssdb, png_size
from harness.env import ROOT, SAN, VALGRIND
from harness.log import events, first, summary

BROWSER_ONCE = pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again under "
                                  "SAN=1 or valgrind (a whole browser)")

# The page's tables as {th: td text} (the first row of each name: "SNI" is in two tables).
ROWS_JS = """(function () {
  var out = {};
  document.querySelectorAll('tr').forEach(function (tr) {
    var th = tr.querySelector('th'), td = tr.querySelector('td');
    if (th && td && !(th.textContent in out)) out[th.textContent] = td.textContent;
  });
  return out;
})()"""


def trusted_home(tmp_path, certutil, certs):
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    make_nssdb(certutil, home, certs.ca)
    return home


def conn_evs(srv, conn):
    with srv.cond:
        return [e for e in srv.evs if e.get("conn") == conn]


def request_after(srv, target, mark, timeout=10.0):
    """The first `request` for target logged from mark on (waits for it)."""
    return srv.wait_for(lambda e: e.get("event") == "request" and e.get("target") == target,
                        timeout=timeout, after=mark)


@BROWSER_ONCE
def test_browser_https_page(t, server, certs, tmp_path, procs, chromium, certutil):
    """Chromium opens https://localhost:PORT/: the page (its DOM) names Chromium's own offered
    groups, X25519MLKEM768 and GREASE among them, says X25519 was chosen and why (no ML-KEM
    here: that share skipped, X25519's used, no extra round trip), and draws the ladder (an
    <svg> in .ladder with ClientHello and ServerHello); the server's log of the connection that
    carried the request agrees: its address, its key exchange group, its ClientHello's shares."""
    home = trusted_home(tmp_path, certutil, certs)
    with server(http=None, https=0, selfsigned=None) as srv:
        port = srv.port("https")
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            mark = srv.mark()
            page.navigate("https://localhost:%d/" % port)
            rows = page.evaluate(ROWS_JS) or {}
            text = page.text()
            ladder = page.evaluate("(function () { var s = document.querySelector('.ladder svg');"
                                   " return s ? s.textContent : null; })()")
        req = request_after(srv, "/", mark)
        t.check("the server logged GET /", req is not None)
        if req is None:
            return
        c = conn_evs(srv, req["conn"])

    groups = rows.get("supported_groups", "")
    for g in ("X25519MLKEM768 (0x11ec)", "X25519 (0x001d)", "GREASE"):
        t.contains("the page's supported_groups (Chromium's own) names %s" % g, groups, g)
    t.check("X25519MLKEM768 is offered first (after GREASE)",
            0 <= groups.find("X25519MLKEM768") < groups.find("X25519 (0x001d)"),
            "X25519MLKEM768 before X25519", groups)
    t.contains("key shares: the hybrid's 1216-byte share", rows.get("key shares", ""),
               "X25519MLKEM768 (0x11ec): 1216-byte public key")
    t.eq("the page: key exchange group", rows.get("key exchange group"), "X25519")
    t.contains("why: the hybrid share skipped (no ML-KEM here)", text,
               "X25519MLKEM768 (0x11ec): post-quantum hybrid; this server's OpenSSL")
    t.contains("... has no ML-KEM", text, "has no ML-KEM: skipped.")
    t.contains("why: X25519's share used, no HelloRetryRequest", text,
               "X25519 (0x001d): the first share for a group this server supports: used, no "
               "extra round trip.")
    t.check("the ladder: an <svg> inside .ladder", ladder is not None, "an svg", ladder)
    for m in ("ClientHello", "ServerHello"):
        t.contains("the ladder's text has %s" % m, ladder or "", m)

    # the log of that very connection
    est = first(c, "established") or {}
    kx = first(c, "key_exchange") or {}
    hd = first(c, "handshake_done") or {}
    hello = first(c, "message", type="ClientHello") or {}
    t.eq("the page's client address = the connection's remote in the log", rows.get("client"),
         est.get("remote"))
    t.eq("the log's key_exchange group = the page's", kx.get("group"),
         rows.get("key exchange group"))
    t.eq("the log: TLS 1.3, not resumed (the page: a full handshake)",
         (hd.get("version"), hd.get("resumed")), ("TLSv1.3", False))
    t.contains("the page says a full handshake", rows.get("session resumed", ""), "no: a full")
    t.contains("the log's ClientHello: shares GREASE, X25519MLKEM768, X25519",
               hello.get("summary", ""), "key share GREASE, X25519MLKEM768, X25519")
    t.eq("no HelloRetryRequest in the log", first(c, "message", type="HelloRetryRequest"), None)
    print("page: %s; groups offered: %s" % (summary(c), groups))


def load_and_reload(srv, chromium, home, procs, port, between=None):
    """Chromium loads https://localhost:PORT/, then (after between(), if given) reloads it.
    The load is over when its favicon has been asked for (else it may race the reload).
    Returns (the favicon request, the mark before the reload, the reload's GET / request,
    the reloaded page's summary rows)."""
    with Browser(chromium, home, procs=procs, timeout=10.0) as b:
        page = b.new_page()
        page.navigate("https://localhost:%d/" % port)
        favicon = request_after(srv, "/favicon.ico", 0)
        if between is not None:
            between()
        mark = srv.mark()
        page.reload()
        req = request_after(srv, "/", mark)
        return favicon, mark, req, page.evaluate(ROWS_JS) or {}


def classify_reload(srv, mark, conn):
    """What the log says of the connection that carried the reload's GET / (request number,
    spare, resumed) and the sentence the page must then have in its 'this request' row."""
    with srv.cond:
        evs = [e for e in srv.evs if e.get("conn") == conn]
        late = [e for e in srv.evs[mark:] if e.get("conn") == conn]
    reqs = events(evs, "request")
    n = next((i + 1 for i, e in enumerate(reqs) if e.get("target") == "/" and
              any(x is e for x in late)), None)
    hd = first(evs, "handshake_done") or {}
    est = first(evs, "established") or {}
    if n is not None and n > 1:
        return ("keep-alive", n, "request %d on this connection: it came on the same "
                "connection as the previous one (HTTP keep-alive)" % n)
    if hd.get("resumed"):
        return ("resumed", n, None)
    t0 = hd.get("t_ms", est.get("t_ms", 0))
    if reqs and reqs[0].get("t_ms", 0) - t0 >= 100.0:
        return ("spare", n, "request 1 on this connection, which sat open and unused")
    return ("new", n, None)


@BROWSER_ONCE
def test_browser_reload(t, server, certs, tmp_path, procs, chromium, certutil):
    """Page.reload: the new page says which connection carried it, and says what the server's
    log says of that connection (found by the reload's GET / in the log): request N on a kept-
    alive connection (N counts /favicon.ico too), request 1 on Chromium's spare connection that
    sat open and unused, or a resumed session. A page that contradicts the log fails."""
    home = trusted_home(tmp_path, certutil, certs)
    with server(http=None, https=0, selfsigned=None) as srv:
        port = srv.port("https")
        favicon, mark, req, rows = load_and_reload(srv, chromium, home, procs, port)
        t.check("Chromium asked for /favicon.ico", favicon)
        t.check("the server logged the reload's GET /", req is not None)
        if req is None:
            return
        case, n, sentence = classify_reload(srv, mark, req["conn"])
        c = conn_evs(srv, req["conn"])

    this = rows.get("this request", "")
    resumed = rows.get("session resumed", "")
    t.eq("the page's client = the address of the connection that carried the reload",
         rows.get("client"), (first(c, "established") or {}).get("remote"))
    t.check("the log shows one of: keep-alive, spare, resumed",
            case in ("keep-alive", "spare", "resumed"), "keep-alive|spare|resumed", case)
    if sentence:
        t.contains("the page says what the log says (%s)" % case, this, sentence)
    if case == "resumed":
        t.contains("the page: session resumed: yes", resumed, "yes: an abbreviated handshake")
    else:
        t.contains("the page: not resumed, as the log says", resumed, "no: a full handshake")
    if case != "keep-alive":
        t.check("the page claims no keep-alive reuse the log does not show",
                "on the same connection as the previous one" not in this, "no such claim", this)
    if case != "spare":
        t.check("the page claims no spare connection the log does not show",
                "sat open and unused" not in this, "no such claim", this)
    print("reload: Chromium used %s (conn %s, request %s): the page says %r; %s" % (
        case, req["conn"], n, this, summary(c)))


@BROWSER_ONCE
def test_browser_reload_resumed(t, server, certs, tmp_path, procs, chromium, certutil):
    """With --idle-timeout 1 the server closes Chromium's idle connections after the first
    load; the reload then needs a new connection, and Chromium resumes its TLS session with the
    ticket it was given: the log's handshake_done says resumed, and so does the page."""
    home = trusted_home(tmp_path, certutil, certs)
    with server("--idle-timeout", "1", http=None, https=0, selfsigned=None) as srv:
        port = srv.port("https")
        opened = []

        def all_closed():       # every connection of the first load closed (idle 1 s)
            with srv.cond:
                opened.extend(e["conn"] for e in events(srv.evs, "established"))
            for c in opened:
                srv.wait_for(lambda e, c=c: e.get("event") == "closed" and e.get("conn") == c,
                             timeout=5.0)

        _, mark, req, rows = load_and_reload(srv, chromium, home, procs, port, all_closed)
        t.check("the server logged the reload's GET /", req is not None)
        if req is None:
            return
        case, n, _ = classify_reload(srv, mark, req["conn"])
        c = conn_evs(srv, req["conn"])
    t.check("the reload came on a new connection", req["conn"] not in opened, "new",
            (req["conn"], opened))
    t.eq("the log: that connection's handshake was resumed", case, "resumed")
    t.contains("the page: session resumed: yes", rows.get("session resumed", ""),
               "yes: an abbreviated handshake")
    t.contains("the page: request 1 on this connection", rows.get("this request", ""),
               "request 1 on this connection")
    print("reload after the idle close: %s (conn %s): %r; %s" % (
        case, req["conn"], rows.get("session resumed"), summary(c)))


def local_of_curl(out):
    """curl -w '%{local_ip} %{local_port}' -> 'ip:port' as the server logs remotes."""
    ip, port = out.split()[-2:]
    return ("[%s]:%s" if ":" in ip else "%s:%s") % (ip, port)


@BROWSER_ONCE
def test_browser_live(t, server, client, run, certs, tmp_path, procs, chromium, curl):
    """/live in Chromium (http://127.0.0.1, loopback: allowed): our client and curl, over HTTP
    and HTTPS, connect; each of their connections (conn ids from the server's log) gets its
    <tr data-conn=N> in #rows with its address, without a reload; /live's own viewer connection
    (the one that asked for /live/events) gets no row; a click on a row loads /live/conn/N in
    #detail, with the ladder's svg."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    with server(http=0, https=0, selfsigned=None) as srv:
        hp, sp = srv.port("http"), srv.port("https")
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            m0 = srv.mark()
            page.navigate("http://127.0.0.1:%d/live" % hp)
            stream = request_after(srv, "/live/events", m0)
            t.check("the page opened its stream (/live/events)", stream is not None)
            viewer = stream.get("conn") if stream else None
            page.wait_js("document.getElementById('status').textContent.indexOf('live') >= 0",
                         what="#status to say live")

            mark = srv.mark()
            remotes = []
            r = client("http://127.0.0.1:%d/" % hp)
            remotes.append(("client http", r.local()))
            r = client("--cacert", certs.ca, "https://127.0.0.1:%d/" % sp)
            remotes.append(("client https", r.local()))
            for what, url, extra in (("curl http", "http://127.0.0.1:%d/" % hp, []),
                                     ("curl https", "https://127.0.0.1:%d/" % sp,
                                      ["--cacert", certs.ca])):
                p = run([curl, "-sS", "-o", "/dev/null", "-w", "%{local_ip} %{local_port}"] +
                        extra + [url])
                remotes.append((what, local_of_curl(p.text) if p.rc == 0 else None))
            want = {}
            for what, remote in remotes:
                conn = srv.conn_of(remote, after=mark) if remote else None
                t.check("%s: the server logged its connection (%s)" % (what, remote),
                        conn is not None)
                if conn is not None:
                    want[str(conn)] = (what, remote)
            got = page.wait_js(
                "(function (want) { var out = {}; for (var id in want) {"
                " var tr = document.querySelector('#rows tr[data-conn=\"' + id + '\"]');"
                " if (!tr) return null;"
                " out[id] = tr.querySelector('.c-addr').textContent; } return out; })(%s)"
                % json.dumps({k: v[1] for k, v in want.items()}), timeout=10.0,
                what="a row in #rows for each of conns %s" % sorted(want))
            for conn, (what, remote) in sorted(want.items()):
                t.eq("%s: row data-conn=%s has its address" % (what, conn), got.get(conn),
                     remote)
            t.eq("the viewer's own connection (conn %s) has no row" % viewer,
                 page.evaluate("!!document.querySelector('#rows tr[data-conn=\"%s\"]')" % viewer),
                 False)

            pick = next((k for k, v in want.items() if v[0] == "client https"), None)
            if pick is not None:
                page.evaluate("document.querySelector('#rows tr[data-conn=\"%s\"]').click()"
                              % pick)
                det = page.wait_js(
                    "(function () { var f = document.getElementById('detail');"
                    " var d = f.contentDocument; if (!d || !d.querySelector('svg')) return null;"
                    " var s = d.querySelector('svg');"
                    " return [d.location.pathname, s.textContent,"
                    " s.getBoundingClientRect().width, d.documentElement.clientWidth]; })()",
                    what="#detail to show /live/conn/%s with its svg" % pick)
                t.eq("#detail loaded /live/conn/N of the row clicked", det[0],
                     "/live/conn/%s" % pick)
                t.contains("... its ladder has the ClientHello", det[1], "ClientHello")
                t.check("... the ladder fits the frame's width (scaled down, not cut)",
                        0 < det[2] <= det[3], "<= %s px" % det[3], det[2])
            rows_now = page.evaluate("Array.prototype.map.call(document.querySelectorAll("
                                     "'#rows tr[data-conn]'), function (tr) {"
                                     " return tr.dataset.conn; })")
        print("/live rows: %s (viewer conn %s; wanted %s)" % (rows_now, viewer, want))


@BROWSER_ONCE
def test_browser_events_json(t, server, certs, tmp_path, procs, chromium, certutil):
    """Chromium navigates to https://localhost:PORT/events.json: the body is JSON lines, every
    line an event of one connection: the one that carried that request in the server's log,
    from its established to its request for /events.json."""
    home = trusted_home(tmp_path, certutil, certs)
    with server(http=None, https=0, selfsigned=None) as srv:
        port = srv.port("https")
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            mark = srv.mark()
            page.navigate("https://localhost:%d/events.json" % port)
            body = page.evaluate("document.body ? document.body.innerText : ''") or ""
            ctype = page.evaluate("document.contentType")
        req = request_after(srv, "/events.json", mark)
    lines = [ln for ln in body.split("\n") if ln.strip()]
    evs, bad = [], []
    for ln in lines:
        try:
            evs.append(json.loads(ln))
        except ValueError:
            bad.append(ln[:100])
    t.eq("every line parses as JSON", bad, [])
    t.check("some events", len(evs) >= 5, ">= 5", len(evs))
    t.eq("one connection's events, the one of the request in the log",
         sorted({e.get("conn") for e in evs}), [req.get("conn") if req else None])
    names = [e.get("event") for e in evs]
    t.eq("it starts with established", names[:1], ["established"])
    t.check("it has the ClientHello and the request for /events.json",
            any(e.get("event") == "message" and e.get("type") == "ClientHello" for e in evs) and
            any(e.get("event") == "request" and e.get("target") == "/events.json" for e in evs),
            "ClientHello, request", names)
    print("/events.json in Chromium: %s, %d lines" % (ctype, len(evs)))


# ---------------------------------------------------------------- screenshots

def png_pixels(data):
    """The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (as Chromium writes them): a list
    of rows of bytes (filters undone); ValueError for any other kind."""
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    w, h = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    depth, ctype, interlace = ihdr[8], ihdr[9], ihdr[12]
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG kind %d/%d/%d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return rows, bpp


def png_stats(data, step=4):
    """(distinct colours, share of pixels that are not white), sampling every step-th pixel
    of every step-th row."""
    rows, bpp = png_pixels(data)
    colours, ink, n = set(), 0, 0
    for line in rows[::step]:
        for x in range(0, len(line), bpp * step):
            px = line[x:x + 3]
            colours.add(px)
            n += 1
            ink += px != b"\xff\xff\xff"
    return len(colours), ink / max(n, 1)


@BROWSER_ONCE
def test_browser_shots(t, certs, tmp_path, run, chromium, certutil, curl):
    """scripts/shots.py OUTDIR (--certs: the session's certificates): it writes
    page-https.png, page-hello.png and live.png, each 1200 px wide, as tall as asked, and
    drawn (many colours, not mostly white)."""
    out = tmp_path / "shots"
    p = run([sys.executable, os.path.join(ROOT, "scripts", "shots.py"), "--certs", certs.dir,
             str(out)], timeout=90.0)
    t.eq("shots.py exit", p.rc, 0)
    print(p.text[-1500:])
    for name, hmin, hmax in (("page-https.png", 800, 2400), ("page-hello.png", 800, 2400),
                             ("live.png", 800, 2400)):
        path = out / name
        t.check("%s written" % name, path.exists())
        if not path.exists():
            continue
        data = path.read_bytes()
        w, h = png_size(data)
        t.eq("%s: 1200 px wide" % name, w, 1200)
        t.check("%s: height %d .. %d" % (name, hmin, hmax), hmin <= h <= hmax,
                "%d .. %d" % (hmin, hmax), h)
        colours, ink = png_stats(data)
        t.check("%s: drawn (> 40 colours)" % name, colours > 40, "> 40", colours)
        t.check("%s: not mostly blank (> 4%% of pixels not white)" % name, ink > 0.04, "> 0.04",
                round(ink, 3))
