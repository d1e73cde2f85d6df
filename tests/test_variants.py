"""TLS variants side by side (issue 5, item 3): server --rsa-port, client --kx rsa|ecdhe,
their errors, and scripts/compare.py.
"""

import os
import re
import shutil
import sys

from harness.env import ROOT
from harness.log import assert_order, E, events, first, hs_msgs, parse_json_lines, summary


def rsa_server(server, *extra, **kw):
    """A server with only the RSA listener (and whatever else kw turns on)."""
    kw.setdefault("http", None)
    kw.setdefault("https", None)
    kw.setdefault("selfsigned", None)
    return server("--rsa-port", "0", *extra, **kw)


def test_variant_rsa_key_transport(t, server, client, certs):
    """--tls-max 1.2 --kx rsa: ServerHelloDone without ServerKeyExchange, a 262-byte
    ClientKeyExchange (RSA-2048), key_exchange says RSA and no forward secrecy; against the
    ECDSA certificate a hint to use --rsa-port."""
    with rsa_server(server, https=0) as srv:
        port = srv.port("rsa")
        t.check("listen event of kind rsa has a port", isinstance(port, int) and port > 0, "port", port)
        r = client("--tls-max", "1.2", "--kx", "rsa", "--cacert", certs.ca,
                   "https://localhost:%d/" % port)
        t.eq("client exit status", r.rc, 0)
        c = r.conn()
        names = hs_msgs(c)
        t.check("no ServerKeyExchange", "ServerKeyExchange" not in names, "absent", names)
        assert_order(t, "RSA key transport", c, [
            E("message", type="ClientHello", dir="out"), E("message", type="ServerHello", dir="in"),
            E("message", type="Certificate", dir="in"), E("message", type="ServerHelloDone", dir="in"),
            E("message", type="ClientKeyExchange", dir="out"),
            E("message", type="Finished", dir="out"), E("message", type="Finished", dir="in"),
            "key_exchange", "handshake_done", "request", "response"])
        cke = first(c, "message", type="ClientKeyExchange") or {}
        t.eq("ClientKeyExchange is 262 bytes (4-byte header, 2-byte length, 256-byte RSA block)",
             cke.get("len"), 262)
        t.icontains("ClientKeyExchange gloss: the textbook step", cke.get("gloss"), "RSA public key")
        shd = first(c, "message", type="ServerHelloDone") or {}
        t.icontains("ServerHelloDone gloss explains the missing ServerKeyExchange",
                    shd.get("gloss"), "no ServerKeyExchange")
        kx = first(c, "key_exchange") or {}
        t.eq("key_exchange.kx", kx.get("kx"), "RSA")
        t.eq("key_exchange.forward_secrecy", kx.get("forward_secrecy"), False)
        t.eq("key_exchange.key_bits", kx.get("key_bits"), 2048)
        t.icontains("key_exchange gloss says why it is gone", kx.get("gloss"), "no forward secrecy")
        hd = first(c, "handshake_done") or {}
        t.eq("handshake_done.version", hd.get("version"), "TLSv1.2")
        t.check("cipher is a TLS_RSA_WITH_ suite", str(hd.get("cipher")).startswith("TLS_RSA_WITH_"),
               "TLS_RSA_WITH_*", hd.get("cipher"))
        w = first(r.ev, "warning") or {}
        t.icontains("the client says --kx rsa means TLS 1.2 only", w.get("detail"), "TLS 1.2 at most")
        # --kx rsa (implying --tls-max 1.2) against the ECDSA certificate: refused, with a hint
        r2 = client("--kx", "rsa", "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        t.eq("--kx rsa against the ECDSA port: exit 35", r2.rc, 35)
        t.contains("--kx rsa against the ECDSA port: the hint names --rsa-port",
                   (first(r2.ev, "error") or {}).get("detail", ""), "--rsa-port")
        s = srv.conn_events(r.local())
        t.eq("server key_exchange.kx", (first(s, "key_exchange") or {}).get("kx"), "RSA")
        t.check("server sent no ServerKeyExchange",
                not events(s, "message", type="ServerKeyExchange"), "absent", summary(s))
        t.eq("server received a 262-byte ClientKeyExchange",
             (first(s, "message", type="ClientKeyExchange", dir="in") or {}).get("len"), 262)


def test_variant_ecdhe_and_tls13(t, server, client, certs):
    """--tls-max 1.2 (and --kx ecdhe): a signed ServerKeyExchange; TLS 1.3: EncryptedExtensions,
    the Certificate after the ServerHello (encrypted), no ServerKeyExchange."""
    with rsa_server(server) as srv:
        url = "https://localhost:%d/" % srv.port("rsa")
        for flags in (["--tls-max", "1.2"], ["--tls-max", "1.2", "--kx", "ecdhe"],
                      ["--kx", "ecdhe"]):
            r = client("--cacert", certs.ca, *flags, url)
            what = " ".join(flags)
            t.eq("%s: exit status" % what, r.rc, 0)
            c = r.conn()
            assert_order(t, what, c, [
                E("message", type="ServerHello", dir="in"), E("message", type="Certificate", dir="in"),
                E("message", type="ServerKeyExchange", dir="in"),
                E("message", type="ServerHelloDone", dir="in"),
                E("message", type="ClientKeyExchange", dir="out"), "handshake_done"])
            kx = first(c, "key_exchange") or {}
            t.eq("%s: key_exchange.kx" % what, kx.get("kx"), "ECDHE")
            t.eq("%s: forward secrecy" % what, kx.get("forward_secrecy"), True)
            t.check("%s: an ECDHE_RSA suite (the RSA key only signs)" % what,
                   "ECDHE_RSA" in str((first(c, "handshake_done") or {}).get("cipher")),
                   "TLS_ECDHE_RSA_*", (first(c, "handshake_done") or {}).get("cipher"))
            t.check("%s: ClientKeyExchange is a small public key, not an RSA block" % what,
                   (first(c, "message", type="ClientKeyExchange") or {}).get("len", 999) < 100,
                   "< 100 bytes", first(c, "message", type="ClientKeyExchange"))
        r = client("--cacert", certs.ca, url)
        t.eq("TLS 1.3: exit status", r.rc, 0)
        c = r.conn()
        names = hs_msgs(c)
        assert_order(t, "TLS 1.3", c, [
            E("message", type="ClientHello", dir="out"), E("message", type="ServerHello", dir="in"),
            E("message", type="EncryptedExtensions", dir="in"),
            E("message", type="Certificate", dir="in"), E("message", type="CertificateVerify", dir="in"),
            E("message", type="Finished", dir="in"), E("message", type="Finished", dir="out"),
            "handshake_done"])
        t.check("TLS 1.3: no ServerKeyExchange, ServerHelloDone or ClientKeyExchange",
                not {"ServerKeyExchange", "ServerHelloDone", "ClientKeyExchange"} & set(names),
                "absent", names)
        t.icontains("TLS 1.3: the ServerHello says everything after it is encrypted",
                    (first(c, "message", type="ServerHello") or {}).get("gloss"), "encrypted")
        t.eq("TLS 1.3: version", (first(c, "handshake_done") or {}).get("version"), "TLSv1.3")


def test_variant_kx_errors(t, server, client, run, build):
    """Bad values and combinations: exit 2 with one clear line each."""
    for args, want in ((["-n", "0"], "-n: '0'"), (["-n", "abc"], "-n: 'abc'"),
                       (["-n", "1001"], "-n: '1001'"),
                       (["--reconnect", "-1"], "--reconnect: '-1'"),
                       (["--reconnect", "0"], "--reconnect: '0'"),
                       (["--kx", "foo"], "--kx: 'foo' is not rsa or ecdhe"),
                       (["--kx", "rsa", "--tls-max", "1.3"],
                        "--kx rsa and --tls-max 1.3 do not go together: TLS 1.3 has no RSA key transport"),
                       (["--kx", "rsa", "--tls-min", "1.3"],
                        "--kx rsa and --tls-min 1.3 do not go together: TLS 1.3 has no RSA key transport"),
                       (["--kx", "ecdhe", "--tls-min", "1.3"], "--kx ecdhe and --tls-min 1.3 do not go together"),
                       (["--kx", "ecdhe", "--tls-max", "1.3"], "--kx ecdhe and --tls-max 1.3 do not go together"),
                       (["--kx", "rsa", "--ciphers", "AES128-SHA"], "do not go together"),
                       (["-n", "2", "--close-first", "server"], "-n needs a keep-alive"),
                       (["-n", "2", "--half-close"], "do not go together")):
        r = client(*args, "https://localhost:1/", json_log=False)
        t.eq("%s: exit 2" % " ".join(args), r.rc, 2)
        t.contains("%s: message" % " ".join(args), r.err, want)
        t.eq("%s: one message line plus the --help hint" % " ".join(args),
             len(r.err.strip().splitlines()), 2)
    # the TLS flags with an http:// URL: each a warning that it does nothing, not an error
    with server(https=None, selfsigned=None) as srv:
        flags = [["--kx", "rsa"], ["--groups", "P-256"], ["--dissect"], ["--tls-max", "1.2"],
                 ["--tls-min", "1.2"]]
        r = client(*sum(flags, []), "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("TLS flags with http://: exit 0", r.rc, 0)
        warns = [e.get("detail", "") for e in events(r.ev, "warning")]
        r = client("--ciphers", "AES128-SHA", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("--ciphers with http://: exit 0", r.rc, 0)
        warns += [e.get("detail", "") for e in events(r.ev, "warning")]
        for f in flags + [["--ciphers"]]:
            t.check("%s with http://: a warning" % f[0],
                    any(w.startswith(f[0] + " has no effect on http://") for w in warns),
                    "'%s has no effect on http://'" % f[0], warns)
    r = run([build.server, "--rsa-port", "x"])
    t.eq("server --rsa-port x: exit 2", r.rc, 2)
    t.contains("server --rsa-port x: message", r.err, "bad port 'x'")


def test_variant_rsa_port_missing_cert(t, run, certs, build, tmp_path):
    """--rsa-port without server-rsa.crt: a clear error naming the file and the fix."""
    d = str(tmp_path)
    for f in ("ca.crt", "server.crt", "server.key"):
        shutil.copy(os.path.join(certs.dir, f), d)
    r = run([build.server, "--certs", d, "--http-port", "off", "--https-port", "0",
             "--selfsigned-port", "off", "--rsa-port", "0"], timeout=10)
    t.eq("server exit status", r.rc, 1)
    t.contains("names the missing file", r.err, "server-rsa.crt")
    t.contains("says how to make it", r.err, "make certs")
    t.contains("names the flag", r.err, "--rsa-port")


def test_variant_curl_rsa(t, server, run, certs, curl):
    """curl --tls-max 1.2 --ciphers AES128-GCM-SHA256 against --rsa-port: RSA key transport
    from another client, seen in our server's log."""
    with rsa_server(server) as srv:
        port = srv.port("rsa")
        r = run([curl, "-sS", "--cacert", certs.ca, "--tls-max", "1.2", "--ciphers",
                 "AES128-GCM-SHA256", "https://localhost:%d/?text" % port])
        t.eq("curl exit status", r.rc, 0)
        t.contains("curl got the page over TLS 1.2", r.text, "TLSv1.2")
        kx = srv.wait_for(lambda e: e.get("event") == "key_exchange")
        t.eq("server key_exchange.kx for curl", (kx or {}).get("kx"), "RSA")
        hd = srv.wait_for(lambda e: e.get("event") == "handshake_done") or {}
        t.eq("server handshake_done.cipher", hd.get("cipher"), "TLS_RSA_WITH_AES_128_GCM_SHA256")


def test_compare_script(t, run, certs, build, tmp_path):
    """scripts/compare.py (make compare): three rows from real runs; RSA has no forward
    secrecy and no ServerKeyExchange; TLS 1.3 takes one TLS round trip fewer."""
    d = str(tmp_path)
    r = run([sys.executable, os.path.join(ROOT, "scripts", "compare.py"), "--build",
             build.dir, "--certs", certs.dir, "--logs", d], timeout=60, name="compare.py")
    t.eq("compare.py exit status", r.rc, 0)
    lines = r.text.splitlines()
    rows = {}
    for l in lines:
        for name in ("TLS 1.2 RSA key transport", "TLS 1.2 ECDHE", "TLS 1.3"):
            if l.startswith(name + "  "):
                rows[name] = re.split(r"\s{2,}", l.strip())[1:]
    t.eq("three rows", sorted(rows), ["TLS 1.2 ECDHE", "TLS 1.2 RSA key transport", "TLS 1.3"])
    if len(rows) != 3:
        return
    rsa, ecdhe, t13 = rows["TLS 1.2 RSA key transport"], rows["TLS 1.2 ECDHE"], rows["TLS 1.3"]
    # columns: msgs RTTs bytes time kx... fwd cert
    t.eq("RSA row: forward secrecy no", rsa[-2], "no")
    t.eq("ECDHE row: forward secrecy yes", ecdhe[-2], "yes")
    t.eq("TLS 1.3 row: forward secrecy yes", t13[-2], "yes")
    t.eq("RSA row: key exchange", rsa[4], "RSA (2048-bit key)")
    t.eq("certificate in clear for TLS 1.2", (rsa[-1], ecdhe[-1]), ("in clear", "in clear"))
    t.eq("round trips: 2, 2, 1 (+1 TCP)", (rsa[1], ecdhe[1], t13[1]), ("2+1", "2+1", "1+1"))
    t.eq("TLS 1.3 row: certificate encrypted", t13[-1], "encrypted")
    t.eq("ECDHE has one message more than RSA (ServerKeyExchange)", int(ecdhe[0]), int(rsa[0]) + 1)
    # The figures come from the logs: recompute two from the saved RSA log.
    logs = sorted(os.listdir(d))
    t.eq("three logs saved", len(logs), 3)
    rsalog = [f for f in logs if "rsa" in f]
    if rsalog:
        evs = parse_json_lines(open(os.path.join(d, rsalog[0])).read())
        hd = first(evs, "handshake_done") or {}
        t.eq("RSA row time is the log's handshake_ms", rsa[3], "%.3f" % hd.get("handshake_ms", -1))
        t.check("RSA log has no ServerKeyExchange, has ClientKeyExchange",
                not events(evs, "message", type="ServerKeyExchange") and
                (first(evs, "message", type="ClientKeyExchange") or {}).get("len") == 262,
                "CKE 262, no SKE", summary(evs))
    t.contains("flights listed", r.text, "C <- S ServerHello, Certificate, ServerHelloDone")
