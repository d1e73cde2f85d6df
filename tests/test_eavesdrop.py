"""Issue 5, item 6: the eavesdropper's view (--wire): what anyone on the path sees of the
payload.
"""

import os
import re
import subprocess

from harness.env import CHILD_ENV, SLOW
from harness.log import events, first, summary
from harness.procs import check_sanitizer
from harness.tcp import is_root, server_conn


WIRE_RECORD = re.compile(r"(\w+)\((\d+)\)(?: \w+)? len=(\d+)")


def data_segments(evs):
    return [e for e in events(evs, "segment") if e.get("len", 0) > 0]


def records_add_up(e):
    """A segment whose records all end inside it: the bytes ending an earlier record plus
    5 + length of each record starting here sum to its length. None when the last record goes
    on in the next segment (nothing to add up)."""
    if e.get("wire_goes_on"):
        return None
    return e.get("wire_cont", 0) + e.get("wire_record_bytes", -1) == e.get("len")


def test_eavesdrop_http_vs_https(t, server, client, certs):
    """--wire: over HTTP the client's request line is in the payload preview of its segment,
    on both sides; over HTTPS no preview holds 'GET', only TLS records (handshake in the clear,
    then application_data) whose headers add up to each segment's length."""
    if not is_root():
        t.skip("--wire captures with libpcap: needs root (CAP_NET_RAW)")
    with server("--wire", selfsigned=None) as srv:
        # HTTP: readable
        r = client("--wire", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("http: client exit", r.rc, 0)
        t.check("http: no 'cannot capture'", "cannot capture" not in r.err, "capture works",
                [l for l in r.err.splitlines() if not l.startswith("{")])
        out = [e for e in data_segments(r.conn()) if e.get("dir") == "out"]
        t.check("http: the client logs its data segment", out, ">= 1 data segment out",
                summary(r.conn()))
        if out:
            t.check("http: the request line is in the preview of the client's segment",
                    out[0].get("wire_preview", "").startswith("GET / HTTP/1.1\\r\\nHost: "),
                    "GET / HTTP/1.1\\r\\nHost: ...", out[0].get("wire_preview"))
            t.eq("http: wire kind plain, readable", (out[0].get("wire"), out[0].get("wire_readable")),
                 ("plain", True))
            t.eq("http: wire_shown = min(64, len)", out[0].get("wire_shown"), min(64, out[0]["len"]))
        inn = [e for e in data_segments(r.conn()) if e.get("dir") == "in"]
        t.check("http: the response's status line is readable too",
                inn and inn[0].get("wire_preview", "").startswith("HTTP/1.1 200 OK\\r\\n"),
                "HTTP/1.1 200 OK", inn[0].get("wire_preview") if inn else summary(r.conn()))
        s = server_conn(srv, r.local())
        sin = [e for e in data_segments(s) if e.get("dir") == "in"]
        t.check("http: the server's capture shows the same request line",
                sin and "GET / HTTP/1.1" in sin[0].get("wire_preview", ""), "GET / HTTP/1.1",
                sin[0].get("wire_preview") if sin else summary(s))

        # HTTPS: only records
        r = client("--wire", "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        t.eq("https: client exit", r.rc, 0)
        s = server_conn(srv, r.local())
        segs = data_segments(r.conn()) + data_segments(s)
        t.check("https: data segments on both sides", len(segs) >= 8, ">= 8", len(segs))
        t.check("https: no preview holds GET", not any("GET" in e.get("wire_preview", "")
                                                        for e in segs), "none",
                [e.get("wire_preview") for e in segs if "GET" in e.get("wire_preview", "")])
        t.check("https: every data segment is TLS, none readable",
                all(e.get("wire") == "tls" and e.get("wire_readable") is False for e in segs),
                "wire=tls", [(e.get("wire"), e.get("wire_readable")) for e in segs])
        cout = [e for e in data_segments(r.conn()) if e.get("dir") == "out"]
        if cout:
            t.eq("https: the client's first segment is the ClientHello, in the clear",
                 WIRE_RECORD.match(cout[0].get("wire_records", "")) and
                 cout[0]["wire_records"].split(" len=")[0], "handshake(22) ClientHello")
        t.check("https: application_data(23) records carry the rest",
                sum("application_data(23)" in e.get("wire_records", "") for e in cout) >= 2,
                ">= 2 client segments", [e.get("wire_records") for e in cout])
        bad = [(e.get("len"), e.get("wire_records")) for e in segs if records_add_up(e) is False]
        t.check("https: the record headers add up to each segment's length (5 + len each)",
                not bad, "all", bad)
        t.check("https (TLS 1.3): no record is readable as a Certificate",
                not any("Certificate" in e.get("wire_records", "") for e in segs), "none",
                [e.get("wire_records") for e in segs if "Certificate" in e.get("wire_records", "")])
        r12 = client("--wire", "--tls-max", "1.2", "--cacert", certs.ca,
                     "https://localhost:%d/" % srv.port("https"))
        t.eq("https TLS 1.2: client exit", r12.rc, 0)
        cin = [e for e in data_segments(r12.conn()) if e.get("dir") == "in"]
        t.check("https TLS 1.2: the certificate crosses in the clear (a readable handshake record)",
                any("handshake(22) Certificate len=" in e.get("wire_records", "") for e in cin),
                "handshake(22) Certificate", [e.get("wire_records") for e in cin[:2]])
        t.check("https TLS 1.2: the request is still not readable",
                not any("GET" in e.get("wire_preview", "") for e in data_segments(r12.conn())),
                "no GET", "GET in a preview")
        req = first(r.conn(), "request")
        t.check("https: the request event (what the program sent) names GET", req and
                req.get("method") == "GET", "GET", req)


def test_eavesdrop_records_across_segments(t, server, client, certs, tmp_path):
    """--wire over a large HTTPS body (?pad=200000) read late: 16 KiB records cross segment
    boundaries;
    the walker stays in step (never tls_lost) and every byte is accounted for: the bytes that
    end a record begun earlier plus whole records add up."""
    if not is_root():
        t.skip("--wire captures with libpcap: needs root (CAP_NET_RAW)")
    with server(http=None, selfsigned=None) as srv:
        out = os.path.join(tmp_path, "wire-pad")
        # --pause-read: the response piles up in the socket buffers while we do not read, so
        # the kernel sends it on in full-sized segments that cut records in two (read at
        # once, each 16 KiB record may leave in a segment of its own: nothing to cross)
        r = client("--wire", "--pause-read", "300", "--cacert", certs.ca, "-o", out,
                   "https://localhost:%d/?pad=200000" % srv.port("https"))
        t.eq("client exit", r.rc, 0)
        # a retransmission (seen under valgrind: a slow receiver) carries bytes counted
        # before: the log marks it and it is left out of the sums
        segs = [e for e in data_segments(r.conn()) if e.get("dir") == "in" and
                not e.get("wire_retransmit")]
        t.check("many data segments in", len(segs) >= 4, ">= 4", len(segs))
        t.check("never lost (no gap in our own capture)", all(e.get("wire") == "tls" for e in segs),
                "tls", sorted(set(e.get("wire") for e in segs)))
        total = sum(e["len"] for e in segs)
        # a record is counted whole (5 + length) in the segment where it starts; the bytes
        # that end it in later segments are counted apart (wire_cont)
        recs = sum(e.get("wire_record_bytes", 0) for e in segs)
        cont = sum(e.get("wire_cont", 0) for e in segs)
        t.eq("whole records (header + length) cover the stream", recs, total)
        t.eq("records listed or counted: wire_record_count >= the names in wire_records",
             [e for e in segs if e.get("wire_record_count", 0) <
              len(WIRE_RECORD.findall(e.get("wire_records", "")))], [])
        bad = [(e.get("len"), e.get("wire_cont"), e.get("wire_record_bytes")) for e in segs
               if records_add_up(e) is False]
        t.check("each segment adds up (cont + records) unless a record goes on", not bad, "all", bad)
        t.check("some records crossed a segment boundary", cont > 0, "> 0", cont)


def test_eavesdrop_text(t, server, client, certs):
    """--wire in the text log: a second line under the segment, the request line escaped
    (no raw CR/LF, no control byte) and labelled readable; for HTTPS 'ciphertext'. Without
    --wire the capture's log is as before (no wire fields)."""
    if not is_root():
        t.skip("--wire captures with libpcap: needs root (CAP_NET_RAW)")
    with server(selfsigned=None) as srv:
        r = client("--wire", "http://127.0.0.1:%d/" % srv.port("http"), json_log=False)
        t.eq("http text: exit", r.rc, 0)
        lines = r.err.splitlines()
        hit = [i for i, l in enumerate(lines) if l.strip().startswith('wire  ') and 'GET / HTTP/1.1' in l]
        t.check("http text: a wire line shows the request line", hit, 'wire  N B  "GET / HTTP/1.1\\r\\n...',
                lines[-30:])
        if hit:
            l = lines[hit[0]]
            t.contains("http text: escaped CR LF", l, 'GET / HTTP/1.1\\r\\nHost: ')
            t.contains("http text: says who can read it", l, "anyone on the path can read this")
            t.check("http text: under a segment line", "PSH,ACK" in lines[hit[0] - 1] or
                    "ACK" in lines[hit[0] - 1], "segment line above", lines[hit[0] - 1])
        t.check("http text: no control bytes but newlines", not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", r.err),
                "none", repr(r.err[:200]))
        r = client("--wire", "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"),
                   json_log=False)
        t.eq("https text: exit", r.rc, 0)
        t.contains("https text: TLS records", r.err, "TLS handshake(22) ClientHello len=")
        t.contains("https text: ciphertext", r.err, "ciphertext: unreadable without the keys")
        t.check("https text: the request line is nowhere on the wire lines",
                not any("GET /" in l for l in r.err.splitlines() if l.strip().startswith("wire")),
                "absent", "present")
        # a resumed TLS 1.3 connection: its encrypted flight has no certificate, and the
        # note must not say there is one
        r = client("--wire", "--reconnect", "2", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"), json_log=False)
        t.eq("--reconnect 2 text: exit", r.rc, 0)
        t.check("--reconnect 2: the second connection was resumed",
                re.search(r"#2 .*handshake_done.*session resumed", r.err) is not None,
                "session resumed", [l for l in r.err.splitlines() if "handshake_done" in l])
        sh2 = [l for l in r.err.splitlines() if l.strip().startswith("wire") and
               "ServerHello len=" in l]
        t.check("--reconnect 2: two ServerHello wire lines; none claims the certificate is in "
                "there, each allows for resumption", len(sh2) == 2 and
                all("the certificate too when there is one" in l and "certificate is in there" not in l
                    for l in sh2), "2 lines with 'the certificate too when there is one'", sh2)
        r = client("--capture", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("--capture alone: exit", r.rc, 0)
        t.check("--capture alone: segments without wire fields",
                events(r.ev, "segment") and not any("wire" in e or "wire_preview" in e
                                                    for e in events(r.ev, "segment")),
                "no wire fields", [e for e in events(r.ev, "segment") if "wire" in e][:1])


def test_eavesdrop_wire_unprivileged(t, server, build, nobody):
    """--wire without CAP_NET_RAW (as nobody): the line names the flags given (--wire, or
    --wire and --capture), not only --capture, and the setcap hint has the program's absolute
    path, so it works from any directory (here: run from the program's own folder)."""
    prefix = nobody.prefix
    d, f = nobody.copy([build.client, build.server])
    probe = subprocess.run(prefix + ["true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if probe.returncode != 0:
        t.skip("setpriv cannot switch to nobody here: %s" % probe.stderr.decode()[-200:])
    with server(https=None, selfsigned=None) as srv:
        url = "http://127.0.0.1:%d/" % srv.port("http")
        for flags, said in ((["--wire"], "going on without --wire\n"),
                            (["--capture", "--wire"], "going on without --wire and --capture\n"),
                            (["--capture"], "going on without --capture\n")):
            p = subprocess.run(prefix + ["./client", "-q"] + flags + [url], cwd=d, env=CHILD_ENV,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=20 * SLOW)
            err = p.stderr.decode(errors="replace")
            what = "client as nobody %s" % " ".join(flags)
            t.eq("%s: exit" % what, p.returncode, 0)
            t.contains("%s: names the flags given" % what, err, said)
            t.contains("%s: setcap hint with the absolute path" % what, err,
                       "setcap cap_net_raw+ep %s'" % f["client"])
    srv = server.process(prefix + [f["server"], "--log-format", "json", "--wire",
                                   "--http-port", "0", "--https-port", "off",
                                   "--selfsigned-port", "off"], "server as nobody")
    try:
        t.check("server as nobody --wire: listens", srv.port("http"), "a port", srv.stderr()[-500:])
    finally:
        t.eq("server as nobody: exit after SIGTERM", srv.stop(), 0)
    err = srv.stderr()      # read whole once the server is gone
    t.check("server as nobody --wire: names --wire",
            any(l.endswith("going on without --wire") for l in err.splitlines()),
            "a line ending 'going on without --wire'", err[-300:])
    t.contains("server as nobody: setcap hint with the absolute path", err,
               "setcap cap_net_raw+ep %s'" % f["server"])
    check_sanitizer(t, "server as nobody", err)
