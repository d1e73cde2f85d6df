"""test_cdp.py -- issue 14 item 4: harness/cdp.py, the DevTools-protocol driver of headless
Chromium over --remote-debugging-pipe, proven on its own (the NUL framing; a fake browser on
fds 3 and 4) and against the server: the HTTPS page with the demo CA trusted, a reload on the
same keep-alive connection (or a resumed session), a screenshot, and a certificate error that
comes back as Page.navigate's errorText instead of a hang; and a page that Server-Sent Events
keep changing (a Python server here; /live later)."""

import http.server
import json
import queue
import re
import socket
import tempfile
import threading
import time

import pytest

from harness.cdp import (Browser, CdpError, CdpTimeout, FrameReader, NavigationError,
                         encode_frame, make_nssdb, png_size)
from harness.env import SAN, SLOW, VALGRIND
from harness.log import events, first, summary

BROWSER_ONCE = pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again under "
                                  "SAN=1 or valgrind (a whole browser)")


def test_cdp_frames(t):
    """The pipe's framing without Chromium: one JSON text per NUL, whatever the reads cut."""
    msgs = [{"id": 1, "result": {}}, {"method": "Page.loadEventFired", "params": {"t": 1.5}},
            {"id": 2, "result": {"value": "Ihre Verbindung \u4f60\u7684\u8fde\u63a5 \0 NUL"}}]
    wire = b"".join(encode_frame(m) for m in msgs)
    t.eq("encode_frame: compact JSON and one NUL (a NUL inside a string is escaped)",
         encode_frame(msgs[0]), b'{"id":1,"result":{}}\0')
    t.eq("three frames: three NULs", wire.count(b"\0"), 3)

    def decode(chunks):
        fr = FrameReader()
        out = []
        for c in chunks:
            out += [json.loads(m.decode("utf-8")) for m in fr.feed(c)]
        return out, fr.pending()

    t.eq("all three in one read", decode([wire]), (msgs, 0))
    t.eq("one byte per read (a UTF-8 character cut too)",
         decode([wire[i:i + 1] for i in range(len(wire))]), (msgs, 0))
    for cut in range(1, len(wire)):
        got = decode([wire[:cut], wire[cut:]])
        if got != (msgs, 0):
            t.eq("cut after byte %d" % cut, got, (msgs, 0))
            break
    else:
        t.check("every two-read cut gives the same three messages", True)
    fr = FrameReader()
    t.eq("a frame without its NUL: nothing yet", fr.feed(wire[:10]), [])
    t.eq("... its bytes are pending", fr.pending(), 10)
    t.eq("an empty read changes nothing", fr.feed(b""), [])
    t.eq("the rest and a joined second frame", [json.loads(m) for m in fr.feed(wire[10:])], msgs)
    t.eq("empty frames (two NULs) are empty messages", FrameReader().feed(b"\0\0"), [b"", b""])
    big = FrameReader(limit=100)
    with pytest.raises(CdpError, match="longer than 100 bytes"):
        big.feed(b"x" * 101)
    t.eq("png_size of a 3x2 PNG header", png_size(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" +
                                                  b"\0\0\0\3\0\0\0\2" + b"\0" * 9), (3, 2))
    with pytest.raises(ValueError):
        png_size(b"GIF89a")


FAKE = r'''#!/usr/bin/python3
# a fake Chromium: speaks the NUL-framed protocol on fds 3 (in) and 4 (out)
import json, os, sys, time
def out(msgs, piece=0):
    raw = b"".join(json.dumps(m).encode() + b"\0" for m in msgs)
    step = piece or len(raw)
    for i in range(0, len(raw), step):
        os.write(4, raw[i:i + step])
        time.sleep(0.002 if piece else 0)
buf = b""
while True:
    d = os.read(3, 65536)
    if not d:
        sys.exit(0)
    buf += d
    while b"\0" in buf:
        raw, buf = buf.split(b"\0", 1)
        m = json.loads(raw)
        meth, mid = m["method"], m["id"]
        if meth == "Browser.getVersion":
            fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
            # the reply cut in 7-byte writes, an event joined to it
            out([{"id": mid, "result": {"product": "Fake/1", "fds": fds, "argv": sys.argv[1:]}},
                 {"method": "Fake.event", "params": {"n": 1}}], piece=7)
        elif meth == "Fake.error":
            out([{"id": mid, "error": {"code": -32000, "message": "no such thing"}}])
        elif meth == "Fake.exit":
            sys.exit(3)
        elif meth == "Browser.close":
            sys.exit(0)
        # Fake.hang: no answer
'''


def test_cdp_fake_browser(t, tmp_path, procs):
    """The launcher and the waits against a fake browser (a script on fds 3 and 4): the pipe
    ends reach fds 3 and 4 and nothing else leaks; a reply cut in pieces and joined to an event
    is read; an error reply, a command never answered and a browser that exits all raise a
    clear error, each within its timeout."""
    fake = tmp_path / "fake-chromium"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    home = tempfile.mkdtemp(prefix="home-", dir=tmp_path)
    b = Browser(str(fake), home, procs=procs, timeout=5.0 * SLOW)
    with b:
        v = b.call("Browser.getVersion")
        t.eq("the fake answers on fd 4", v.get("product"), "Fake/1")
        fds = v.get("fds", [])
        t.check("the fake has fds 3 and 4 and no other pipe end (fds >= 10 closed)",
                3 in fds and 4 in fds and max(fds) < 10, "0-4 (+ its listing's fd)", fds)
        t.check("--remote-debugging-pipe is passed", "--remote-debugging-pipe" in v.get("argv", []),
                "in argv", v.get("argv"))
        t.check("the event joined to the reply is kept",
                b.wait_event("Fake.event", timeout=2.0).get("params") == {"n": 1})
        with pytest.raises(CdpError, match="no such thing"):
            b.call("Fake.error")
        t0 = time.monotonic()
        with pytest.raises(CdpTimeout, match=r"timed out after 0\.3 s waiting for the reply "
                                             r"to Fake\.hang"):
            b.call("Fake.hang", timeout=0.3)
        t.check("the timeout took about 0.3 s", time.monotonic() - t0 < 2.0)
        with pytest.raises(CdpTimeout, match="waiting for event Never.comes"):
            b.wait_event("Never.comes", timeout=0.2)
        t0 = time.monotonic()
        with pytest.raises(CdpError, match=r"Chromium has gone \(exit 3"):
            b.call("Fake.exit", timeout=5.0)
        t.check("a browser that exits ends the wait at once, not at its timeout",
                time.monotonic() - t0 < 2.0, "< 2 s", time.monotonic() - t0)
        with pytest.raises(CdpError, match="Chromium has gone"):
            b.call("Browser.getVersion", timeout=1.0)
    t.eq("close() after the exit: the exit status", b.close(), 3)


def https_conns(srv, port, after):
    """The server's records since mark `after`, by conn, of the connections on `port`."""
    with srv.cond:
        evs = srv.evs[after:]
    conns = [e.get("conn") for e in evs if e.get("event") == "established" and
             str(e.get("local", "")).endswith(":%d" % port)]
    return {c: [e for e in evs if e.get("conn") == c] for c in conns}


@BROWSER_ONCE
def test_cdp_page_reload_screenshot(t, server, certs, tmp_path, procs, chromium, certutil):
    """Chromium (demo CA trusted) opens the HTTPS page; its text names the TLS version; a
    reload comes on the same keep-alive connection (the server logs one `established` and two
    `GET /` on it; Chromium's Network events say connectionReused) or, if Chromium opened a
    new connection, that connection's handshake was resumed; a screenshot is a PNG of the
    viewport asked for."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    make_nssdb(certutil, home, certs.ca)
    with server(http=None, https=0, selfsigned=None) as srv:
        port = srv.port("https")
        url = "https://localhost:%d/" % port
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            page.enable("Network")
            mark = srv.mark()
            page.navigate(url)
            text = page.text()
            t.contains("the page shows 'Your connection'", text, "Your connection")
            t.contains("the page shows the TLS version", text, "TLSv1.3")
            t.eq("location.href", page.url(), url)
            srv.wait_for(lambda e: e.get("event") == "response", after=mark)

            reload_mark = srv.mark()
            page.reload()
            gets = lambda: [e for c in https_conns(srv, port, mark).values()
                            for e in events(c, "request", target="/")]
            srv.wait_for(lambda e: len(gets()) >= 2, after=mark)
            resp = [m["params"]["response"] for m in page.events("Network.responseReceived")
                    if m["params"]["response"]["url"] == url]

            png = page.screenshot(800, 600, path=str(tmp_path / "page.png"))
            t.eq("screenshot: PNG of 800 x 600", png_size(png), (800, 600))
            page.navigate("about:blank")
            blank = page.screenshot(800, 600)
            t.check("screenshot: the page draws more than a blank page does",
                    len(png) > len(blank) + 1000, "> %d bytes" % (len(blank) + 1000), len(png))

        conns = https_conns(srv, port, mark)
        gs = gets()
        t.eq("two GET / (load and reload)", len(gs), 2)
        if len(gs) != 2:
            return
        c1, c2 = gs[0].get("conn"), gs[1].get("conn")
        with srv.cond:
            opened_before = {e.get("conn") for e in srv.evs[:reload_mark]
                             if e.get("event") == "handshake_done"}
        reused = [(r.get("connectionReused"), r.get("connectionId")) for r in resp]
        if c2 in opened_before:
            # Chromium 156 opens two connections for the first load (both full handshakes, one
            # stays idle) and reloads on either of them: on the first load's, or on the spare
            how = "same connection" if c1 == c2 else "the spare connection opened with the first"
            c = conns[c2]
            t.eq("reload on an open connection: one `established` for it",
                 len(events(c, "established")), 1)
            t.eq("reload on an open connection: one TLS handshake on it",
                 len(events(c, "handshake_done")), 1)
            t.check("Chromium's view: the load on a new connection, the reload on a reused one",
                    len(reused) == 2 and reused[0][0] is False and reused[1][0] is True and
                    (reused[0][1] == reused[1][1]) == (c1 == c2),
                    "[(False, id1), (True, id1 if same conn)]", reused)
        else:
            how = "a new connection"
            hd = first(conns[c2], "handshake_done") or {}
            t.eq("reload on a new connection: its handshake was resumed", hd.get("resumed"), True)
        print("reload: on %s (conn %s, then %s); Chromium: %s; connections: %s" % (
            how, c1, c2, reused, {c: summary(evs) for c, evs in conns.items()}))


@BROWSER_ONCE
def test_cdp_cert_error(t, server, tmp_path, procs, chromium):
    """The self-signed port: Page.navigate answers errorText net::ERR_CERT_AUTHORITY_INVALID
    (a NavigationError at once, not a wait for a load that never comes); the server saw
    Chromium's alert and no request."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    with server(http=None, https=None, selfsigned=0) as srv:
        port = srv.port("selfsigned")
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            mark = srv.mark()
            t0 = time.monotonic()
            with pytest.raises(NavigationError) as x:
                page.navigate("https://localhost:%d/" % port)
            took = time.monotonic() - t0
            t.eq("Chromium's error", x.value.error_text, "net::ERR_CERT_AUTHORITY_INVALID")
            t.check("the error comes at once (< 5 s)", took < 5.0, "< 5 s", took)
            t.eq("the page is Chromium's error page", page.url(), "chrome-error://chromewebdata/")
        srv.wait_for(lambda e: e.get("event") == "closed", after=mark)
        cs = list(https_conns(srv, port, mark).values())
        t.check("the server saw Chromium's alert and no request",
                cs and any(events(c, "alert", dir="in") for c in cs) and
                not any(events(c, "request") for c in cs),
                "alert in, no request", [summary(c) for c in cs])


@BROWSER_ONCE
def test_cdp_page_tools(t, tmp_path, procs, chromium):
    """The waits in a real page that changes itself (as /live will): wait_text sees text a
    script adds later; one that never comes raises CdpTimeout naming what was awaited, after
    its timeout; console messages are collected; a script that throws is a CdpError; a full-
    page screenshot is as tall as the page; a server that accepts and never answers makes
    navigate raise CdpTimeout, not hang."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    html = ("<p id=p>waiting</p><script>console.log('hello', 42);"
            "setTimeout(function () { document.getElementById('p').textContent = "
            "'row 1 arrived'; }, 300);</script>")
    with Browser(chromium, home, procs=procs, timeout=10.0) as b:
        page = b.new_page()
        page.navigate("data:text/html," + html)
        t.contains("wait_text: the text the script added", page.wait_text("row 1", 5.0),
                   "row 1 arrived")
        t.check("console.log collected", ("log", "hello 42") in page.console(),
                "('log', 'hello 42')", page.console())
        t0 = time.monotonic()
        with pytest.raises(CdpTimeout, match="waiting for the page's text to contain 'row 2'"):
            page.wait_text("row 2", 0.5)
        took = time.monotonic() - t0
        t.check("wait_text gave up after its 0.5 s", 0.5 <= took < 2.0, "0.5 .. 2 s", took)
        with pytest.raises(CdpError, match="threw"):
            page.evaluate("no_such_function()")
        t.eq("evaluate returns values", page.evaluate("[1, 'a', {b: null}]"), [1, "a", {"b": None}])

        page.navigate("data:text/html,<body style='margin:0'><div style='height:2000px'>tall"
                      "</div></body>")
        t.eq("full-page screenshot: the viewport's width, the page's height",
             png_size(page.screenshot(400, 300, full_page=True)), (400, 2000))
        t.eq("viewport screenshot", png_size(page.screenshot(400, 300)), (400, 300))

        with socket.socket() as silent:       # accepts (the kernel does) and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            url = "https://127.0.0.1:%d/" % silent.getsockname()[1]
            t0 = time.monotonic()
            with pytest.raises(CdpTimeout, match=r"waiting for the reply to Page\.navigate\(%s\)"
                               % re.escape(url)):
                page.navigate(url, timeout=1.0)
            took = time.monotonic() - t0
            t.check("navigate to a silent server gave up after its 1 s", 1.0 <= took < 3.0,
                    "1 .. 3 s", took)
        page.navigate("about:blank")
        t.eq("the page still obeys after the timeout", page.url(), "about:blank")


class SseHandler(http.server.BaseHTTPRequestHandler):
    """/: a page that appends each Server-Sent Event to its text; /ev: the stream, one event
    per item put on the server's queue (None ends it)."""

    def do_GET(self):
        if self.path == "/ev":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.flush()
            while True:
                item = self.server.feed.get(timeout=10)
                if item is None:
                    return
                self.wfile.write(b"data: " + item.encode() + b"\n\n")
                self.wfile.flush()
        body = (b"<p id=rows>rows:</p><script>new EventSource('/ev').onmessage = function (e) "
                b"{ document.getElementById('rows').textContent += ' ' + e.data; };</script>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@BROWSER_ONCE
def test_cdp_sse_page(t, tmp_path, procs, chromium):
    """A page kept up to date by Server-Sent Events (as /live will be; here a Python server):
    the load event fires although the stream stays open, each event shows in the text
    (wait_text) and as Network.eventSourceMessageReceived."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SseHandler)
    httpd.feed = queue.Queue()
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    try:
        with Browser(chromium, home, procs=procs, timeout=10.0) as b:
            page = b.new_page()
            page.enable("Network")
            page.navigate("http://127.0.0.1:%d/" % httpd.server_address[1])
            t.eq("loaded, with the stream open", page.text(), "rows:")
            page.wait_event("Network.responseReceived",
                            lambda p: p["response"]["url"].endswith("/ev"))
            for n in (1, 2):
                httpd.feed.put("row %d" % n)
                t.contains("event %d shows in the text" % n, page.wait_text("row %d" % n, 5.0),
                           "row %d" % n)
            got = [m["params"]["data"] for m in page.events("Network.eventSourceMessageReceived")]
            t.eq("Network.eventSourceMessageReceived", got, ["row 1", "row 2"])
    finally:
        httpd.feed.put(None)
        httpd.shutdown()
        httpd.server_close()
        th.join(5)
