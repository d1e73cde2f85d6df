"""--dissect (every field of every handshake message) and --groups (HelloRetryRequest on
demand), issue 5 items 7 and 8.
"""

import re

from harness.env import SLOW
from harness.log import assert_order, E, events, first
from harness.tcp import is_root, server_conn
from harness.peers import Tshark


HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


def dissected(evs, msg, direction, field=None, nth=0):
    """The dissect records of the nth message `msg` sent (out) or received (in), in order."""
    groups, cur = [], None
    for e in evs:
        if e.get("event") == "message":
            cur = None
            if e.get("type") == msg and e.get("dir") == direction:
                cur = []
                groups.append(cur)
        elif e.get("event") == "dissect" and cur is not None:
            cur.append(e)
    if nth >= len(groups):
        return []
    return [e for e in groups[nth] if field is None or e.get("field") == field]


def dvalue(evs, msg, direction, field, nth=0):
    got = dissected(evs, msg, direction, field, nth)
    return got[0].get("value") if got else None


class TlsTshark(Tshark):
    """The Tshark helper (same probe-port readiness, same rows()), also decoding the TLS
    handshake on the server's port: handshake types and the key_share fields."""

    def __init__(self, tshark, procs, port):
        super().__init__(tshark, procs, port, decode_as="tcp.port==%d,tls" % port,
                         extra_fields=("tls.handshake.type",
                                       "tls.handshake.extensions_key_share_group",
                                       "tls.handshake.extensions_key_share_key_exchange"))

    def client_hellos(self):
        """(groups, key hex) of each ClientHello sent to the server's port, in order."""
        found = []
        with self.cond:
            lines = list(self.out)
        for line in lines:
            f = line.split("\t")
            if len(f) < 10 or f[6] != str(self.port) or "1" not in f[7].split(","):
                continue
            keys = [k.replace(":", "").lower() for k in f[9].split(",") if k]
            found.append((f[8].split(","), keys))
        return found

    def wait_client_hello(self, timeout=5.0):
        return self._wait(lambda: bool(self.client_hellos()), timeout)


def test_dissect_tls13_vs_tshark(t, server, client, certs, procs, tshark):
    """--dissect on a TLS 1.3 exchange, both sides: the client's offered groups and every
    suite, the server's chosen suite; the key_share bytes printed equal tshark's decode of
    the same ClientHello (tls.handshake.extensions_key_share_key_exchange)."""
    if not is_root():
        t.skip("tshark on lo needs root (CAP_NET_RAW): not root")
    with server("--dissect", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        ts = TlsTshark(tshark, procs, port)
        if not ts.wait_ready(10 * SLOW):
            ts.stop()
            t.skip("tshark could not capture on lo: %s" % " ".join(ts.err)[-300:])
        r = client("--dissect", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client exit", r.rc, 0)
        s = server_conn(srv, r.local())
        ts.wait_client_hello(5 * SLOW)
        ts.stop()
        hellos = ts.client_hellos()
        c = r.conn()
        groups = dvalue(c, "ClientHello", "out", "supported_groups")
        t.check("client dissect names the offered groups", groups is not None and
                groups.startswith("X25519, P-256"), "X25519, P-256, ...", groups)
        t.eq("the server's dissect of the received ClientHello names the same groups",
             dvalue(s, "ClientHello", "in", "supported_groups"), groups)
        suites = [e.get("value") for e in dissected(c, "ClientHello", "out", "cipher_suite")]
        t.check("every offered cipher suite is named, TLS 1.3 ones first",
                len(suites) > 10 and suites[0].startswith("TLS_AES_256_GCM_SHA384") and
                not any(v.startswith("?") for v in suites), ">10 named suites", suites[:5])
        n = dvalue(c, "ClientHello", "out", "cipher_suites")
        t.eq("cipher_suites count agrees with the suites listed", n, "%d suites" % len(suites))
        done = first(c, "handshake_done") or {}
        chosen = dvalue(s, "ServerHello", "out", "cipher_suite")
        t.check("server dissect names the chosen suite, the one the handshake ended with",
                chosen is not None and chosen.startswith(str(done.get("cipher")) + " (0x"),
                "%s (0x....)" % done.get("cipher"), chosen)
        t.eq("client dissect of the ServerHello: the same suite", dvalue(
            c, "ServerHello", "in", "cipher_suite"), chosen)
        t.eq("ServerHello supported_versions: TLS 1.3",
             dvalue(c, "ServerHello", "in", "supported_versions"), "TLS 1.3 (0x0304)")
        for ext in ("server_name", "signature_algorithms", "supported_versions",
                    "psk_key_exchange_modes", "key_share"):
            t.check("ClientHello extension %s dissected" % ext,
                    dvalue(c, "ClientHello", "out", ext) is not None, "present",
                    [e.get("field") for e in dissected(c, "ClientHello", "out")])
        t.eq("server_name value", dvalue(c, "ClientHello", "out", "server_name"), "localhost")
        shares = dissected(c, "ClientHello", "out", "share")
        ours = [e.get("hex") for e in shares]
        t.check("the key share: X25519, 32 bytes, full hex in JSON",
                len(shares) == 1 and shares[0].get("code") == 29 and shares[0].get("len") == 32
                and len(ours[0] or "") == 64, "one X25519 share, 64 hex digits", shares)
        t.check("tshark decoded the ClientHello's key share", bool(hellos) and bool(hellos[0][1]),
                "a ClientHello with a key share", ts.out[-10:])
        if hellos:
            t.eq("key_share bytes equal tshark's tls.handshake.extensions_key_share_key_exchange",
                 ours, hellos[0][1])
            t.eq("tshark's key share group is 29 (X25519)", hellos[0][0], ["29"])
        t.eq("the server dissected the same key share bytes",
             [e.get("hex") for e in dissected(s, "ClientHello", "in", "share")], ours)
        sh_key = dissected(c, "ServerHello", "in", "key_share")
        t.eq("ServerHello key_share as sent (server) == as received (client)",
             [e.get("hex") for e in sh_key],
             [e.get("hex") for e in dissected(s, "ServerHello", "out", "key_share")])
        cert = dvalue(c, "Certificate", "in", "certificate")
        t.check("Certificate entry: subject and size", cert is not None and
                cert.startswith("CN=localhost") and " bytes" in cert, "CN=localhost ... bytes", cert)
        t.check("no dissect error on either side",
                not events(c, "dissect", field="error") and not events(s, "dissect", field="error"),
                "none", events(c, "dissect", field="error") + events(s, "dissect", field="error"))
        t.check("dissect records carry dir, msg, depth, field, value",
                all(all(k in e for k in ("dir", "msg", "depth", "field", "value"))
                    for e in events(c, "dissect") + events(s, "dissect")), "all", None)


def test_dissect_tls12_server_key_exchange(t, server, client, certs):
    """TLS 1.2 --dissect: the ServerKeyExchange's curve, public key and signature algorithm,
    the same bytes on both sides; the Certificate in its TLS 1.2 format."""
    with server("--dissect", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--dissect", "--tls-max", "1.2", "--cacert", certs.ca,
                   "https://localhost:%d/" % port)
        t.eq("client exit", r.rc, 0)
        c = r.conn()
        s = server_conn(srv, r.local())
        t.eq("ServerKeyExchange curve", dvalue(c, "ServerKeyExchange", "in", "named_curve"),
             "X25519 (0x001d)")
        alg = dvalue(c, "ServerKeyExchange", "in", "signature_algorithm")
        t.check("ServerKeyExchange signature algorithm named", alg is not None and
                re.match(r"(ecdsa|rsa|ed)[a-z0-9_]+ \(0x[0-9a-f]{4}\)$", alg) is not None,
                "ecdsa_secp256r1_sha256 (0x0403) or similar", alg)
        pk = dissected(c, "ServerKeyExchange", "in", "public_key")
        t.check("ServerKeyExchange public key: 32 bytes of X25519", len(pk) == 1 and
                pk[0].get("len") == 32 and len(pk[0].get("hex", "")) == 64, "32 bytes", pk)
        t.eq("the server sent the public key the client read",
             [e.get("hex") for e in dissected(s, "ServerKeyExchange", "out", "public_key")],
             [e.get("hex") for e in pk])
        cke = dissected(c, "ClientKeyExchange", "out", "public_key")
        t.check("ClientKeyExchange: the client's ephemeral public key", len(cke) == 1 and
                cke[0].get("len") == 32, "32 bytes", cke)
        lst = dvalue(c, "Certificate", "in", "certificate_list")
        t.check("Certificate read in the TLS 1.2 format", lst is not None and
                "TLS 1.2 format" in lst, "... (TLS 1.2 format)", lst)
        t.check("Certificate entry subject", str(dvalue(c, "Certificate", "in", "certificate"))
                .startswith("CN=localhost"), "CN=localhost...",
                dvalue(c, "Certificate", "in", "certificate"))
        t.eq("ServerHello (TLS 1.2) chosen suite is an ECDHE one",
             str(dvalue(c, "ServerHello", "in", "cipher_suite")).startswith("TLS_ECDHE_"), True)
        t.check("no dissect error", not events(c, "dissect", field="error"), "none",
                events(c, "dissect", field="error"))


def test_dissect_text_log(t, server, client, certs):
    """The text log: dissect lines sit indented under their message, piped one line per field
    (wrapped only on a terminal), long hex is cut in text (full in JSON); without --dissect
    nothing changes."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        url = "https://localhost:%d/" % port
        r = client("--dissect", "--color", "never", "--cacert", certs.ca, url, json_log=False)
        t.eq("client exit (text)", r.rc, 0)
        lines = r.err.splitlines()
        i = next((k for k, l in enumerate(lines) if "> ClientHello" in l), None)
        t.check("text log has the ClientHello", i is not None, "> ClientHello", lines[:8])
        if i is None:
            return
        under = lines[i + 1:i + 6]
        t.check("the lines right under it are its fields, indented, without a time",
                all(l.startswith(" " * 14) for l in under) and "client #1" in under[0] and
                "legacy_version" in under[0] and "random" in under[1], "indented fields", under)
        t.check("every cipher suite on its own line",
                sum(1 for l in lines if re.search(r"\s{3}cipher_suite\s+TLS_", l)) > 10, "> 10",
                None)
        # piped: one line per field, whole, for grep (on a terminal they wrap: test_fit.py)
        cont = [l for l in lines if l.startswith(" " * 30)]
        t.check("piped: each field on one line (no continuation lines)", not cont, "none", cont[:3])
        t.check("piped: a long list stays whole on its line",
                any("signature_algorithms" in l and "rsa_pkcs1_sha512" in l for l in lines),
                "signature_algorithms ... rsa_pkcs1_sha512", None)
        t.check("a long signature is cut in text", any("bytes in all)" in l for l in lines),
                "... (N bytes in all)", [l for l in lines if "signature " in l][:3])
        j = client("--dissect", "--cacert", certs.ca, url)
        sig = dissected(j.conn(), "CertificateVerify", "in", "signature")
        t.check("...and full in JSON", len(sig) == 1 and sig[0].get("len", 0) > 64 and
                len(sig[0].get("hex", "")) == 2 * sig[0]["len"], "2 * len hex digits", sig)
        plain = client("--cacert", certs.ca, url)
        t.eq("without --dissect: no dissect records", events(plain.ev, "dissect"), [])


def test_groups_hello_retry_request(t, server, client, run, certs, build):
    """--groups: client X25519:P-256 against server P-256 gives a HelloRetryRequest (recognised
    by its fixed random), a second ClientHello with a P-256 share, and a working handshake;
    no common group fails with a clear message on both sides; a bad list exits 2."""
    with server("--groups", "P-256", "--dissect", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        url = "https://localhost:%d/" % port
        r = client("--groups", "X25519:P-256", "--dissect", "--cacert", certs.ca, url)
        t.eq("client exit", r.rc, 0)
        c = r.conn()
        s = server_conn(srv, r.local())
        assert_order(t, "client: HRR, then a second ClientHello", c, [
            E("message", dir="out", type="ClientHello"),
            E("message", dir="in", type="HelloRetryRequest"),
            E("message", dir="out", type="ClientHello"),
            E("message", dir="in", type="ServerHello"),
            E("handshake_done")])
        assert_order(t, "server: HRR sent", s, [
            E("message", dir="in", type="ClientHello"),
            E("message", dir="out", type="HelloRetryRequest"),
            E("message", dir="in", type="ClientHello"),
            E("message", dir="out", type="ServerHello")])
        hrr = first(c, "message", type="HelloRetryRequest") or {}
        t.eq("HRR event names the group", hrr.get("group"), "P-256")
        t.contains("HRR gloss", hrr.get("gloss"), "HelloRetryRequest: the server asks for "
                   "another key share (group P-256) \u2014 one extra round trip")
        t.eq("HRR summary", hrr.get("summary"), "asks for a key share for P-256")
        rnd = dissected(c, "HelloRetryRequest", "in", "random")
        t.check("HRR recognised by its fixed random", len(rnd) == 1 and rnd[0].get("hex") ==
                HRR_RANDOM and rnd[0].get("value", "").startswith("HelloRetryRequest"),
                HRR_RANDOM, rnd)
        hellos = events(c, "message", dir="out", type="ClientHello")
        t.eq("first ClientHello: key share X25519 only", [h.get("summary", "").split("; ")[2]
                                                         for h in hellos], ["key share X25519",
                                                                            "key share P-256"])
        second = dissected(c, "ClientHello", "out", "share", nth=1)
        t.check("second ClientHello: a 65-byte P-256 share", len(second) == 1 and
                second[0].get("code") == 23 and second[0].get("len") == 65, "P-256, 65 bytes",
                second)
        kx = first(c, "key_exchange") or {}
        t.eq("the handshake ends on P-256", kx.get("group"), "P-256")

        bad = client("--groups", "X25519", "--cacert", certs.ca, url)
        t.eq("no common group: exit 35", bad.rc, 35)
        err = first(bad.ev, "error") or {}
        t.contains("no common group: the client says why", err.get("detail"),
                   "accepts none of the key exchange groups we offered (--groups X25519)")
        srv.wait_for(lambda e: e.get("event") == "tls_error" and
                     e.get("reason") == "no suitable key share", 5)
        se = [e for e in srv.evs if e.get("event") == "tls_error" and
              e.get("reason") == "no suitable key share"]
        t.check("no common group: the server says why", se and "no key exchange group in "
                "common" in se[-1].get("gloss", ""), "tls_error with a gloss", se)

    for prog, args in (("client", [build.client, "--groups", "X25519:FOO", "https://localhost:1/"]),
                       ("client", [build.client, "--groups", "", "https://localhost:1/"]),
                       ("server", [build.server, "--groups", "P-257", "--http-port", "0"])):
        r = run(args, timeout=10)
        t.eq("%s --groups %r: exit 2 (usage)" % (prog, args[2]), r.rc, 2)
        t.contains("%s --groups %r: says what is wrong" % (prog, args[2]), r.err,
                   "is not a list of key exchange groups")
