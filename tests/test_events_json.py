"""Issue 14 item 1: /events.json gives the visitor this very connection's events as the server
logged them (JSON lines: the records' facts, without the gloss and explain text), kept from the
accept on, so the handshake that was over before the request is there. Our client and curl
fetch it; the story checker accepts what they get."""

import json
import shutil

import pytest

from harness import story
from harness.log import events


def lines(t, what, body):
    recs = []
    for raw in body.splitlines():
        try:
            recs.append(json.loads(raw))
        except ValueError as x:
            t.check("%s: every line is JSON" % what, False, "JSON", "%s: %r" % (x, raw[:200]))
    return recs


def check_own(t, what, recs, srv, local, tls):
    """recs are one connection's events, the one whose client end is `local`, up to its request."""
    conns = {r.get("conn") for r in recs}
    t.eq("%s: the events of one connection" % what, len(conns), 1)
    names = [r.get("event") for r in recs]
    t.eq("%s: the first is its established event" % what, names[:1], ["established"])
    t.eq("%s: established names the client's own address" % what,
         recs[0].get("remote") if recs else None, local)
    t.eq("%s: the last is the request that asked for it" % what,
         [(r.get("event"), r.get("target")) for r in recs[-1:]], [("request", "/events.json")])
    t.check("%s: no gloss or explain text (facts only)" % what,
            not any("gloss" in r or "explain" in r for r in recs), "none", recs[:1])
    t.check("%s: server side only" % what, all(r.get("side") == "server" for r in recs),
            "server", {r.get("side") for r in recs})
    if tls:
        hello = [r for r in recs if r.get("event") == "message" and r.get("type") == "ClientHello"]
        t.eq("%s: the ClientHello it received" % what, len(hello), 1)
        t.eq("%s: handshake_done" % what, len(events(recs, "handshake_done")), 1)
    else:
        t.eq("%s: no TLS message over plain HTTP" % what, events(recs, "message"), [])
    # the same records as the server's log (minus its teaching text)
    conn = recs[0].get("conn") if recs else None
    logged = [e for e in srv.evs if e.get("conn") == conn and e.get("event") != "phase"]
    strip = lambda e: {k: v for k, v in e.items() if k not in ("gloss", "explain", "explain_step",
                                                                 "step_zh")}
    t.eq("%s: each record is the log's own, in order" % what,
         [strip(e) for e in logged[:len(recs)]], recs)
    v = story.check_side(recs, "server", what)
    t.eq("%s: the story checker accepts it" % what, v, [])


def test_events_json_our_client(t, server, client, certs):
    with server() as srv:
        for tls in (False, True):
            kind = "https" if tls else "http"
            what = "client, " + kind
            url = "%s://localhost:%d/events.json" % (kind, srv.port(kind))
            r = client("--cacert", certs.ca, url)
            t.eq("%s: exit" % what, r.rc, 0)
            srv.wait_count("closed", 1 + tls)
            check_own(t, what, lines(t, what, r.text), srv, r.local(), tls)


def test_events_json_curl(t, server, run, certs):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("no curl")
    with server() as srv:
        url = "https://localhost:%d/events.json" % srv.port("https")
        r = run([curl, "-sS", "-D", "/dev/stderr", "--cacert", certs.ca, url])
        t.eq("curl: exit", r.rc, 0)
        t.contains("curl: its type (text: a browser shows it)", r.err,
                   "Content-Type: text/plain; charset=utf-8")
        srv.wait_count("closed", 1)
        recs = lines(t, "curl", r.out if isinstance(r.out, str) else r.out.decode())
        est = recs[0] if recs else {}
        check_own(t, "curl", recs, srv, est.get("remote"), True)



def test_record_is_packed(t, server, client, certs):
    """The record holds the events packed (server/record_pack.c), not as the JSON it gives:
    the page says how many bytes, well under half of /events.json's length for the same
    events (HTTPS: a whole handshake)."""
    import re
    with server() as srv:
        url = "https://localhost:%d/" % srv.port("https")
        page = client("--cacert", certs.ca, url + "?text", "-H", "Connection: keep-alive")
        t.eq("page: exit", page.rc, 0)
        m = re.search(r"(\d+) kept; the server holds them packed in (\d+) bytes", page.text)
        t.check("the page says how many events and bytes the record holds", m is not None,
                "N kept; ... packed in M bytes", page.text[:800])
        r = client("--cacert", certs.ca, url + "events.json")
        if m:
            n_ev, packed = int(m.group(1)), int(m.group(2))
            per_event = len(r.text) / max(1, len(r.text.splitlines()))
            t.check("packed: under half the JSON's size for as many events", packed <
                    0.5 * per_event * n_ev, "< %.0f" % (0.5 * per_event * n_ev), packed)


def test_record_full(t, server):
    """A long keep-alive connection fills its record (16 KB packed): later events are counted,
    not kept; /events.json says how many in X-Events-Not-Kept, its lines stop where the record
    did, and every line is still whole JSON."""
    import re
    import socket
    from harness.env import SLOW
    with server(https=None, selfsigned=None) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port("http")), timeout=10 * SLOW)
        n = 300
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * n +
                  b"GET /events.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        last = data.rsplit(b"HTTP/1.1 200 OK\r\n", 1)[-1]
        head, _, body = last.partition(b"\r\n\r\n")
        m = re.search(rb"X-Events-Not-Kept: (\d+)", head)
        t.check("X-Events-Not-Kept: some events were not kept", m is not None and
                int(m.group(1)) > 0, "> 0", head.decode(errors="replace"))
        recs = lines(t, "a full record", body.decode())
        t.check("the record holds fewer events than the connection had (2 per request)",
                0 < len(recs) < 2 * n, "< %d" % (2 * n), len(recs))
        t.eq("it starts with established", [r.get("event") for r in recs[:1]], ["established"])
        t.check("no request for /events.json in it (it came after the record was full)",
                not any(r.get("target") == "/events.json" for r in recs), "none", recs[-1:])
