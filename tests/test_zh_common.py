"""Issue 13, item 4 (common/): with --lang zh every sentence common/ writes -- the TCP steps,
the close and its watch, the TLS messages, alerts, key exchange, certificate checks, the
segments and --wire's notes -- and every --explain sentence (explain.c) is Chinese, over many
scenarios, in the JSON log's detail, gloss and explain; without --lang zh they stay English.

The rule for "a sentence left in English" is harness.zh's, shared with tests/test_zh.py (which
holds the events whose sentences client/ and server/ write: PROGRAM_EVENTS below is its list).
"""

import errno
import os
import re

from harness.tcp import is_root
from harness.zh import english_runs

PROGRAM_EVENTS = {"resolve", "request", "response", "body", "timing", "summary",
                  "trust_decision", "trust_question", "trust_retry", "hostname", "listen",
                  "start", "stop", "pause_read", "http_error", "resume", "error",
                  "warning"}
# Set aside: the C library's error texts (strerror, as the system says them), and the close
# reasons the programs hand to common/'s close (conn_close(c, reason): their words, translated
# by the zhapps row in server/ and client/).
ASIDE = sorted({os.strerror(e) for e in errno.errorcode}, key=len, reverse=True) + [
    "the client sent its FIN (we held ours: --hold-close)"]
HAN = re.compile(r"[\u4e00-\u9fff]")
ZH = ("--lang", "zh", "--explain")


def left_english(evs):
    """[(event, field, text, runs)]: common/'s detail and gloss, and every explain, still
    holding an English sentence."""
    out = []
    for e in evs:
        fields = ("explain",) if e.get("event") in PROGRAM_EVENTS else ("detail", "gloss",
                                                                        "explain")
        for k in fields:
            v = e.get(k)
            if not isinstance(v, str):
                continue
            for a in ASIDE:
                v = v.replace(a, " ")
            if english_runs(v):
                out.append((e.get("event"), k, v, english_runs(v)))
    return out


def check_zh(t, name, evs):
    bad = left_english(evs)
    t.check("%s: no English sentence left in common/'s text or the explanations" % name,
            not bad, "none", bad[:6])
    ex = [e for e in evs if e.get("explain")]
    t.check("%s: the explanations are there, and in Chinese" % name,
            ex and all(HAN.search(e["explain"]) for e in ex), "Chinese",
            [e["explain"] for e in ex if not HAN.search(e["explain"])][:3])
    return len(evs)


def test_zh_common_scenarios(t, server, client, certs):
    """http (the server closes first), https TLS 1.3 and TLS 1.2 RSA with --dissect, TLS 1.2
    ECDHE with -n 2, mutual TLS, a HelloRetryRequest and a resumption, no group in common, a
    refused
    self-signed certificate, an abortive close (RST), a held FIN (CLOSE_WAIT / FIN_WAIT2):
    both sides' logs, every event common/ writes, Chinese all the way."""
    seen = set()
    with server(*ZH, "--close-first", "server", "--rsa-port", "0") as srv:
        runs = [
            ("http, server closes first", ["http://127.0.0.1:%d/" % srv.port("http")]),
            ("https TLS 1.3 --dissect", ["--dissect", "--cacert", certs.ca,
                                         "https://localhost:%d/" % srv.port("https")]),
            ("TLS 1.2 RSA --dissect", ["--dissect", "--cacert", certs.ca, "--tls-max", "1.2",
                                       "--kx", "rsa",
                             "https://localhost:%d/" % srv.port("rsa")]),
            ("self-signed refused", ["https://localhost:%d/" % srv.port("selfsigned")]),
        ]
        for name, args in runs:
            r = client(*ZH, "-o", "/dev/null", *args)
            t.check("%s: ran" % name, r.rc in (0, 60), "0 or 60", r.rc)
            check_zh(t, "client, " + name, r.ev)
            seen |= {e.get("event") for e in r.ev}
    check_zh(t, "server (close-first server)", srv.evs)
    seen |= {e.get("event") for e in srv.evs}
    with server(*ZH, "--rsa-port", "0", selfsigned=None, http=None) as srv:
        r = client(*ZH, "-o", "/dev/null", "--cacert", certs.ca, "--tls-max", "1.2", "-n", "2",
                   "https://localhost:%d/" % srv.port("rsa"))
        t.eq("TLS 1.2 ECDHE -n 2: exit", r.rc, 0)
        check_zh(t, "client, TLS 1.2 ECDHE -n 2", r.ev)
        seen |= {e.get("event") for e in r.ev}
    check_zh(t, "server, TLS 1.2 -n 2", srv.evs)
    with server(*ZH, "--abort", selfsigned=None, https=None) as srv:
        r = client(*ZH, "http://127.0.0.1:%d/" % srv.port("http"))
        check_zh(t, "client, the server aborts (RST)", r.ev)
        seen |= {e.get("event") for e in r.ev}
    check_zh(t, "server --abort", srv.evs)
    with server(*ZH, "--hold-close", "150", "--linger-watch", "1", selfsigned=None) as srv:
        r = client(*ZH, "--linger-watch", "1", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"))
        check_zh(t, "client, the server holds its FIN", r.ev)
        seen |= {e.get("event") for e in r.ev}
        srv.wait_for(lambda e: e.get("event") == "closed")
    check_zh(t, "server --hold-close", srv.evs)
    seen |= {e.get("event") for e in srv.evs}
    with server(*ZH, "--client-auth", "optional", "--client-ca", certs.ca, "--groups",
                "P-256:X25519", selfsigned=None, http=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        for name, args, rc in (
                ("mutual TLS", ["--cert", certs.path("client.crt"), "--key",
                                certs.path("client.key")], 0),
                ("HelloRetryRequest, then resumed", ["--groups", "X25519:P-256", "--reconnect",
                                                     "2"], 0),
                ("no group in common (TLS error)", ["--groups", "ffdhe2048"], None)):
            r = client(*ZH, "-o", "/dev/null", "--cacert", certs.ca, *args, url)
            if rc is not None:
                t.eq("%s: exit" % name, r.rc, rc)
            check_zh(t, "client, " + name, r.ev)
            seen |= {e.get("event") for e in r.ev}
    check_zh(t, "server --client-auth --groups", srv.evs)
    seen |= {e.get("event") for e in srv.evs}
    # the scenarios reach the events common/ writes (so the check above is not vacuous)
    want = {"connect", "established", "handshake_start", "message", "key_exchange",
            "handshake_done", "verify", "alert", "close_notify", "fin_sent", "fin_received",
            "closed", "state_change", "watch_end", "reset", "hold_close", "dissect",
            "tls_error"}
    t.check("the scenarios cover common/'s events", want <= seen, sorted(want),
            sorted(want - seen))


def test_zh_common_capture(t, server, client, certs):
    """--capture --wire (root): the segments' steps and the eavesdropper's notes in Chinese."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW)")
    with server(selfsigned=None) as srv:
        for url in ("http://127.0.0.1:%d/" % srv.port("http"),
                    "https://localhost:%d/" % srv.port("https")):
            r = client(*ZH, "--capture", "--wire", "--cacert", certs.ca, url)
            t.eq("%s: exit" % url, r.rc, 0)
            check_zh(t, "client --capture --wire " + url, r.ev)
            segs = [e for e in r.ev if e.get("event") == "segment"]
            t.check("%s: segments captured" % url, len(segs) >= 7, ">= 7", len(segs))


def test_zh_common_text_and_english(t, server, client, certs):
    """The text log: the why line and the kernel's tags all Chinese (原因（第一次握手，由内核
    状态得知）：...), not "seen from the kernel's states"; and without --lang zh the same
    sentences stay English (TR picks by --lang, nothing else)."""
    with server(selfsigned=None, http=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client(*ZH, "--cacert", certs.ca, url, json_log=False)
        t.eq("zh text: exit", r.rc, 0)
        t.contains("zh text: the kernel's tag in Chinese", r.err, "【第一次握手，由内核状态得知】")
        t.contains("zh text: the why line in Chinese", r.err,
                   "原因（第一次握手，由内核状态得知）：connect() 让我方内核发出 SYN")
        t.check("zh text: no English tag or why label", "seen from the kernel" not in r.err and
                not re.search(r"^\s+why[ :(]", r.err, re.M), "none", r.err[:300])
        # the gloss, or (piped, one line per event) the why at the end of the line, which
        # says the same: then the gloss is left out, a sentence is printed once
        cv = [l for l in r.err.splitlines() if "< CertificateVerify" in l]
        t.check("zh text: CertificateVerify says the server holds the private key",
                cv and "证明自己持有" in cv[0] and "私钥" in cv[0], "证明自己持有 ... 私钥", cv)
        r = client("--explain", "--cacert", certs.ca, url)
        t.eq("en: exit", r.rc, 0)
        han = [(e.get("event"), e.get(k)) for e in r.ev for k in ("detail", "gloss", "explain")
               if isinstance(e.get(k), str) and HAN.search(e[k])]
        t.check("en: no Chinese in any sentence", not han, "none", han[:3])
        conn = [e for e in r.ev if e.get("event") == "connect"]
        t.check("en: the explanation in English", conn and conn[0].get("explain", "").startswith(
            "connect() makes our kernel send SYN"), "English", conn[:1])


def test_zh_common_http_errors(t, server):
    """The HTTP/1.1 parser's verdict (common/http1.c) follows --lang: a request with two Host
    headers gets 400 with the reason in Chinese, in the log and on the error page."""
    import socket
    for lang, want in (("zh", "有多个 Host 首部"), ("en", "several Host headers")):
        with server("--lang", lang, https=None, selfsigned=None) as srv:
            with socket.create_connection(("127.0.0.1", srv.port("http")), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
                page = b""
                while b"\r\n\r\n" not in page or not page.rstrip().endswith(want.encode()):
                    b = s.recv(4096)
                    if not b:
                        break
                    page += b
            e = srv.wait_for(lambda e: e.get("event") == "http_error")
            t.eq("--lang %s: the parser's reason" % lang, (e or {}).get("reason"), want)
            t.contains("--lang %s: the error page says it" % lang, page.decode("utf-8", "replace"),
                       "400 Bad Request: " + want)
