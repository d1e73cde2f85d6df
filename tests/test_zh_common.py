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


# the segment's step (its JSON step field, which stays English) -> the textbook's name
STEPS = {"syn": ("1st handshake", "第一次握手"), "syn_ack": ("2nd handshake", "第二次握手"),
         "ack_handshake": ("3rd handshake", "第三次握手"), "fin1": ("1st wave", "第一次挥手"),
         "ack_fin1": ("2nd wave", "第二次挥手"), "fin2": ("3rd wave", "第三次挥手"),
         "ack_fin2": ("4th wave", "第四次挥手")}


def test_zh_common_capture_steps(t, server, client, certs, build, run, tmp_path):
    """--capture (root), -d a POST over http: each segment's detail names its step as the
    Chinese textbook does (第一次握手 ... 第四次挥手), in the JSON log and the text log; the
    step field stays English; build/ladder --lang zh draws the Chinese names from it; and
    without --lang zh the detail keeps the English ones."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW)")
    with server("--capture", selfsigned=None, https=None) as srv:
        url = "http://127.0.0.1:%d/" % srv.port("http")
        zh = client("--lang", "zh", "--wire", "-d", "a=b", url)
        srv.wait_for(lambda e: e.get("event") == "closed")
        sv = tmp_path / "server.json"
        sv.write_bytes(b"".join(srv.raw))
        en = client("--wire", "-d", "a=b", url)
        txt = client("--lang", "zh", "--wire", "-d", "a=b", url, json_log=False)
    for name, r in (("zh", zh), ("en", en), ("zh text", txt)):
        t.eq("%s: exit" % name, r.rc, 0)
    seen = set()
    for e in zh.ev:
        if e.get("event") != "segment" or e.get("step") not in STEPS:
            continue
        seen.add(e["step"])
        en_name, zh_name = STEPS[e["step"]]
        t.check("zh: the %s segment says %s" % (e["step"], zh_name), zh_name in e.get("detail", "")
                and en_name not in e["detail"], zh_name, e.get("detail"))
    t.check("zh: the capture shows the handshake and the close", {"syn", "syn_ack",
            "ack_handshake", "fin1"} <= seen, "syn .. fin1", sorted(seen))
    t.check("zh: no English step name in any sentence", not left_english(zh.ev), "none",
            left_english(zh.ev)[:4])
    t.check("zh text: no English step name", not re.search(r"\b(?:1st|2nd|3rd|4th) "
            r"(?:handshake|wave)\b", txt.err), "none", re.findall(r".*(?:1st|2nd|3rd|4th) "
            r"(?:handshake|wave).*", txt.err)[:3])
    t.contains("zh text: 第一次握手", txt.err, "第一次握手")
    twice = [l for l in txt.err.splitlines()
             if any(l.count(zh) > 1 for zh in ("第一次握手", "第二次握手", "第三次握手", "第一次挥手",
                                               "第四次挥手"))]
    t.check("zh text: a segment's step said once (the detail names it: no 【】 tag again)",
            not twice, "none", twice[:3])
    ensegs = {e.get("step"): e.get("detail", "") for e in en.ev if e.get("event") == "segment"}
    t.check("en: the details keep the English step names", all(
        STEPS[k][0] in v for k, v in ensegs.items() if k in STEPS) and "syn" in ensegs,
        "1st handshake ...", ensegs)
    cl = tmp_path / "client.json"
    cl.write_bytes(zh.err_raw)
    lad = run([build.ladder, "--lang", "zh", str(cl), str(sv)], name="ladder --lang zh (capture)")
    t.eq("ladder --lang zh: exit", lad.rc, 0)
    for words in ("第一次握手", "第二次握手", "第三次握手", "第一次挥手"):
        t.contains("ladder --lang zh: %s" % words, lad.text, words)


def test_zh_common_timers(t, server, client, certs):
    """The kernel's timers in the state lines (sock_diag) as a Chinese textbook names them:
    TIME_WAIT 计时器 after the client's close, 重传计时器 ..., not "timewait 计时器"; English
    without --lang zh ("timewait timer fires in")."""
    with server("--hold-close", "150", selfsigned=None, https=None) as srv:
        url = "http://127.0.0.1:%d/" % srv.port("http")
        zh = client("--lang", "zh", "--linger-watch", "1", url)
        en = client("--linger-watch", "1", url)
    for name, r in (("zh", zh), ("en", en)):
        t.eq("%s: exit" % name, r.rc, 0)
    zt = [e.get("detail", "") for e in zh.ev if e.get("event") == "state_change" and
          e.get("timer") not in (None, "none")]
    et = [e.get("detail", "") for e in en.ev if e.get("event") == "state_change" and
          e.get("timer") not in (None, "none")]
    t.check("zh: a state line with a kernel timer", zt, "some", zt)
    t.check("zh: the timer named in Chinese", zt and all("计时器" in d and not re.search(
        r"\b(?:retransmit|keepalive|timewait|probe) 计时器", d) for d in zt), "重传计时器 ...", zt)
    t.check("zh: TIME_WAIT's timer", any("TIME_WAIT 计时器" in d for d in zt), "TIME_WAIT 计时器",
            zt)
    t.check("en: the kernel's timer names", et and any("timewait timer fires in" in d
            for d in et), "timewait timer fires in", et)


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
