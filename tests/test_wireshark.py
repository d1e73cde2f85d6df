"""Issue 5, item 2: decrypting our own HTTPS exchange with tshark and the client's key log."""

import os
import re

from harness.env import SLOW
from harness.log import summary
from harness.tcp import is_root
from harness.peers import Tshark


def tshark_read(run, tshark, path, *args):
    """tshark -r PATH ARGS...: its standard output (bounded in time)."""
    r = run([tshark, "-r", path] + list(args), name="tshark -r")
    return r.out.decode("utf-8", "replace") if r.rc == 0 else \
        "(tshark -r exit %s: %s)" % (r.rc, r.err[-300:])


def test_wireshark_keylog(t, server, client, run, certs, tmp_path, procs, tshark):
    """Issue 5 item 2: tshark captures one HTTPS exchange (-w FILE); with our --keylog file
    (-o tls.keylog_file:) it decrypts it and shows the request line GET /; without the key
    log the same capture shows no HTTP at all, only TLS records."""
    if not is_root():
        t.skip("tshark needs CAP_NET_RAW to capture on lo: not root")
    pcap = os.path.join(tmp_path, "wireshark.pcapng")
    kl = os.path.join(tmp_path, "wireshark-keys.log")
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        # -w: tshark also writes what it captures to a file (-P: the rows still print, so
        # the probe-port readiness still works)
        ts = Tshark(tshark, procs, port, write=pcap)
        if not ts.wait_ready(10 * SLOW):
            ts.stop()
            t.skip("tshark could not capture on lo: %s" % " ".join(ts.err)[-300:])
        r = client("--cacert", certs.ca, "--keylog", kl, "https://localhost:%d/" % port)
        t.eq("client exit", r.rc, 0)
        segs = [e for e in r.conn() if e.get("event") in ("connect", "closed")]
        t.check("client connected and closed", len(segs) == 2, "connect and closed", summary(r.conn()))
        # wait until tshark printed the exchange up to the FINs, then stop it (SIGINT flushes -w)
        ts._wait(lambda: sum(1 for row in ts.rows() if len(row) == 6 and row[1] & 0x01) >= 2,
                 5 * SLOW)
        rows = ts.stop()
    t.check("tshark saw the exchange (SYN .. FIN)", any(len(x) == 6 and x[1] & 0x02 for x in rows)
            and any(len(x) == 6 and x[1] & 0x01 for x in rows), "SYN and FIN rows", rows[:4])
    t.check("tshark wrote the capture file", os.path.exists(pcap) and os.path.getsize(pcap) > 0,
            pcap, "missing or empty")
    keys = open(kl).read() if os.path.exists(kl) else ""
    t.contains("the key log has the client's traffic secret", keys, "CLIENT_TRAFFIC_SECRET_0")
    filt = "tcp.port == %d" % port
    # with the key log: the request line, in the clear, and the response
    dec = tshark_read(run, tshark, pcap, "-o", "tls.keylog_file:%s" % kl, "-Y", "http && " + filt)
    t.contains("with the key log: tshark shows the request line", dec, "GET / HTTP/1.1")
    t.contains("with the key log: tshark shows the response", dec, "HTTP/1.1 200 OK")
    fields = tshark_read(run, tshark, pcap, "-o", "tls.keylog_file:%s" % kl, "-Y", "http.request && " + filt,
                         "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri",
                         "-e", "http.host")
    t.eq("with the key log: method, URI and Host of the decrypted request",
         fields.strip().split("\t"), ["GET", "/", "localhost:%d" % port])
    # without it: the same capture holds TLS records and no HTTP at all (the lesson)
    enc = tshark_read(run, tshark, pcap, "-Y", "http && " + filt)
    t.eq("without the key log: no HTTP packet in the capture", enc.strip(), "")
    raw = tshark_read(run, tshark, pcap, "-Y", filt, "-T", "fields", "-e", "tls.record.content_type",
                               "-e", "tls.record.opaque_type")
    types = set(v for v in re.split(r"[\s,]+", raw) if v)
    t.check("without the key log: only TLS records, application data (23) among them",
            "23" in types and "22" in types, "22 and 23", sorted(types))
    data = open(pcap, "rb").read() if os.path.exists(pcap) else b""
    t.check("without the key log: the bytes 'GET /' appear nowhere in the capture file",
            b"GET /" not in data and len(data) > 2000, "absent", "present, or a short file")
