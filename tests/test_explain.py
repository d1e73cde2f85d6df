"""Issue 5, item 4: --explain (a why for each event: at the end of its line when piped, on
lines of its own under it on a terminal) and --lang zh (the Chinese
textbook's step names beside the English ones), tied to real events.
"""

import os
import re
import subprocess

from harness.env import CHILD_ENV, ROOT, SLOW
from harness.log import events, first, parse_json_lines
from harness.tcp import is_root, server_conn


def why_after(lines, pred):
    """The why of the first line for which pred is true ('' if none): piped, the log keeps one
    line per event and the why ends its event's line."""
    for l in lines:
        if pred(l):
            m = re.search(r"  (why|原因)", l)
            return l[m.start():].strip() if m else ""
    return None


def test_explain_flags(t, run, build):
    """--lang: en or zh, anything else a clear usage error (exit 2) on both programs; --help
    lists --explain, --lang and --wire."""
    for prog in (build.client, build.server):
        name = os.path.basename(prog)
        args = [prog, "--lang", "fr"] + (["http://127.0.0.1:1/"] if prog == build.client else [])
        r = run(args, name=name + " --lang fr")
        t.eq("%s --lang fr: exit 2" % name, r.rc, 2)
        t.contains("%s --lang fr: says what is allowed" % name, r.err, "--lang: 'fr' is not en or zh")
        r = run([prog, "--help"], name=name + " --help")
        for flag in ("--explain", "--lang en|zh", "--wire"):
            t.contains("%s --help: %s" % (name, flag), r.text, flag)


def test_explain_text_zh(t, server, client, certs, build):
    """--explain --lang zh without a capture: the TLS steps by their Chinese names, a why line
    under each event, and the TCP steps attached to the kernel's events, said to be seen from
    the kernel's states; valid UTF-8; nothing of it without the flags."""
    with server(http=None, selfsigned=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client("--explain", "--lang", "zh", "--cacert", certs.ca, url, json_log=False)
        t.eq("exit", r.rc, 0)
        raw = r.err
        lines = raw.splitlines()
        ev = [l for l in lines if re.match(r"\s+[+-]\d+\.\d{3} ms  client", l)]
        whys = [l for l in ev if re.search(r"  (why|原因)", l)]
        t.check("a why for most events", len(whys) >= len(ev) - 4, ">= %d" % (len(ev) - 4),
                len(whys))
        t.check("piped: one line per event, the why at the end of its event's line",
                not [l for l in lines if l.strip().startswith(("why", "原因"))],
                "no why line of its own", [l for l in lines if l.strip().startswith(("why", "原因"))][:2])
        ch = [l for l in lines if "> ClientHello" in l]
        t.check("ClientHello: its name with 客户端问候 beside it", ch and "【ClientHello 客户端问候】" in ch[0],
                "【ClientHello 客户端问候】", ch)
        t.contains("ClientHello: why",
                   why_after(lines, lambda l: "> ClientHello" in l) or "",
                   "原因（ClientHello 客户端问候）：客户端提出版本、密码套件和一个密钥份额（TLS 1.3）")
        t.contains("CertificateVerify: the server proves it holds the private key",
                   why_after(lines, lambda l: "< CertificateVerify" in l) or "",
                   "发送方证明自己持有私钥")
        t.check("Certificate: Certificate 服务器证书",
                any("< Certificate " in l and "【Certificate 服务器证书】" in l for l in lines),
                "【Certificate 服务器证书】", [l for l in lines if "< Certificate" in l])
        t.check("handshake_done: 对称加密", any("handshake_done" in l and "【对称加密】" in l for l in lines),
                "【对称加密】", [l for l in lines if "handshake_done" in l])
        con = [l for l in lines if " connect " in l]
        t.check("connect: 第一次握手, from the kernel's states",
                con and "【第一次握手，由内核状态得知】" in con[0], "tag", con)
        t.check("established: 第二次和第三次握手",
                any(" established " in l and "【第二次和第三次握手，由内核状态得知】" in l
                    for l in lines), "tag", [l for l in lines if " established " in l])
        t.check("fin_sent (the client closes first): 第一次挥手",
                any(" fin_sent " in l and "【第一次挥手，由内核状态得知】" in l
                    for l in lines), "tag", [l for l in lines if "fin_sent" in l])
        # the textbook's 3rd wave only where this side saw ours arrive first (FIN_WAIT2 or the
        # capture); where the gloss says it cannot tell, the tag says "3rd wave, or a crossing"
        fr = [l for l in lines if " fin_received " in l]
        t.check("fin_received: 第三次和第四次挥手, or (where this side cannot tell) the crossing tag",
                len(fr) == 1 and (("【第三次和第四次挥手" in fr[0] and "无法分辨" not in fr[0]) or
                                  ("【对方的FIN，在我方FIN之后（第三次挥手，或两个FIN交错）" in fr[0] and
                                   "无法分辨" in fr[0])), "tag agreeing with the gloss", fr)
        t.check("no segment lines are invented without --capture",
                not any(re.search(r"TCP  [<>] (SYN|ACK|FIN)", l) for l in lines), "none",
                [l for l in lines if re.search(r"TCP  [<>] ", l)])
        t.check("plain when piped: no escape sequences", "\033[" not in raw, "none", repr(raw[:120]))
        # the server's side, the passive closer: its FIN is the 3rd wave
    with server("--explain", "--lang", "zh", http=None, selfsigned=None) as srv:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        s = server_conn(srv, r.local())
        fs = first(s, "fin_sent") or {}
        # The server answers the client's close_notify at once (close_notify + FIN): which FIN
        # is first is the kernel's to say, and the step follows it.
        ff = (first(s, "closed") or {}).get("first_fin")
        t.eq("server (JSON): fin_sent wave field agrees with closed.first_fin (%s)" % ff,
             fs.get("wave"), 3 if ff == "peer" else 1)
        t.eq("server (JSON): its FIN's step follows its wave (%s)" % fs.get("wave"),
             fs.get("step_zh"), "第三次挥手" if fs.get("wave") == 3 else "第一次挥手")
        est = first(s, "established")
        t.eq("server (JSON): established = 三次握手完成", (est or {}).get("step_zh"), "三次握手完成")
        m = first(s, "message", type="ServerHello", dir="out")
        t.eq("server (JSON): ServerHello explain_step", (m or {}).get("explain_step"), "server hello")
        t.check("server (JSON): an explain sentence on the ServerHello",
                len((m or {}).get("explain", "")) > 20, "a sentence", m)
    # JSON from the client: UTF-8 as it is, not escaped
    with server(http=None, selfsigned=None) as srv:
        p = subprocess.run([build.client, "--log-format", "json", "--lang", "zh", "--cacert", certs.ca,
                            "https://localhost:%d/" % srv.port("https")], cwd=ROOT, env=CHILD_ENV,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=20 * SLOW)
        t.eq("json --lang zh: exit", p.returncode, 0)
        t.check("json: the UTF-8 bytes of 第一次握手 are in the log, not \\u escapes",
                "第一次握手".encode() in p.stderr and b"\\u7b2c" not in p.stderr, "raw UTF-8",
                p.stderr[:200])
        evs = parse_json_lines(p.stderr.decode("utf-8"))
        t.check("json --lang zh alone: step_zh, no explain", first(evs, "connect").get("step_zh") ==
                "第一次握手" and not any("explain" in e for e in evs), "step_zh only",
                first(evs, "connect"))
        # no flags: the log as before
        r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        t.check("no flags: no explain or step_zh fields",
                not any("explain" in e or "step_zh" in e for e in r.ev), "none",
                [e for e in r.ev if "explain" in e][:1])
        r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"), json_log=False)
        t.check("no flags: no why lines, no 【】", "why" not in r.err and "【" not in r.err, "none",
                r.err[:300])


def test_explain_capture_zh(t, server, client):
    """--lang zh with --capture: the handshake and the waves are named on the real segments
    (SYN 第一次握手 ... last ACK 第四次挥手), and the kernel's state events no longer carry them."""
    if not is_root():
        t.skip("--capture needs root (CAP_NET_RAW)")
    with server(https=None, selfsigned=None) as srv:
        r = client("--capture", "--explain", "--lang", "zh",
                   "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("exit", r.rc, 0)
        segs = events(r.conn(), "segment")
        want = {"syn": "第一次握手", "syn_ack": "第二次握手", "ack_handshake": "第三次握手",
                "fin1": "第一次挥手", "ack_fin2": "第四次挥手"}
        for step, zh in sorted(want.items()):
            e = first(segs, "segment", step=step)
            t.eq("segment %s: step_zh" % step, (e or {}).get("step_zh"), zh)
        mid = [e.get("step_zh") for e in segs if e.get("step") in ("ack_fin1", "fin2", "fin2_ack")]
        t.check("the peer's ACK and FIN: 第二次挥手 + 第三次挥手, or both in one segment",
                mid in (["第二次挥手", "第三次挥手"], ["第二次和第三次挥手"]), "2nd/3rd wave", mid)
        for ev in ("connect", "established", "fin_sent", "fin_received"):
            e = first(r.conn(), ev)
            t.check("%s: no step_zh (the segments carry the steps)" % ev,
                    e is not None and "step_zh" not in e and e.get("explain"), "explain only", e)
        data = [e for e in segs if e.get("step") == "data"]
        t.check("data segments: an explanation, no step name",
                data and all(e.get("explain") and "step_zh" not in e for e in data), "explain", data[:1])


def test_explain_colour(t, server, client):
    """On a terminal (--color always, as script(1) would give): the Chinese tag in bold yellow
    and the why line in its own colour, each reset before the newline."""
    with server(selfsigned=None, https=None) as srv:
        r = client("--explain", "--lang", "zh", "--color", "always",
                   "http://127.0.0.1:%d/" % srv.port("http"), json_log=False)
        t.eq("exit", r.rc, 0)
        t.contains("the tag in bold yellow", r.err, "\033[1;33m【第一次握手，由内核状态得知】\033[0m")
        t.check("why lines coloured and reset", re.search(r"\033\[3;36m原因（.*\033\[0m\n", r.err),
                "coloured why", repr(r.err[:400]))
        t.check("every line ends reset (no colour bleeds into the next)",
                all(not l or l.endswith("\033[0m") or "\033[" not in l.rsplit("\033[0m", 1)[-1]
                    for l in r.err.splitlines()), "reset", "a line leaves a colour on")


def test_explain_tls_versions(t, server, client, certs):
    """--explain keys the hello and ticket sentences on the version: TLS 1.3 (key share, keys
    from the ServerHello on), TLS 1.2 ECDHE and RSA key transport (no key share, keys later,
    the RFC 5077 ticket); and the peer's FIN is never said to be ACKed already."""
    with server("--rsa-port", "0", "--explain", http=None, selfsigned=None) as srv:
        def why(r, typ, dir="in"):
            return (first(r.ev, "message", type=typ, dir=dir) or {}).get("explain", "")
        for label, args, port in (("TLS 1.3", [], "https"),
                                  ("TLS 1.2 ECDHE", ["--tls-max", "1.2"], "https"),
                                  ("TLS 1.2 RSA", ["--tls-max", "1.2", "--kx", "rsa"], "rsa")):
            r = client("--explain", "--cacert", certs.ca, *args,
                       "https://localhost:%d/" % srv.port(port))
            t.eq("%s: exit" % label, r.rc, 0)
            ch, sh, nst = why(r, "ClientHello", "out"), why(r, "ServerHello"), \
                why(r, "NewSessionTicket")
            if label == "TLS 1.3":
                t.contains("%s: ClientHello offers a key share" % label, ch, "key share")
                t.contains("%s: ServerHello: keys from here" % label, sh, "handshake keys")
                t.contains("%s: NewSessionTicket after the handshake" % label, nst,
                           "after the handshake")
            else:
                t.contains("%s: ClientHello: no key share yet" % label, ch, "no key share yet")
                t.check("%s: ServerHello: no keys yet, no key share" % label,
                        "no keys yet" in sh and "key share" not in sh, "no keys yet", sh)
                t.contains("%s: NewSessionTicket: RFC 5077, in the handshake" % label, nst,
                           "RFC 5077")
            sm = first(r.ev, "message", type="ServerHello") or {}
            t.eq("%s: ServerHello version field" % label, sm.get("version"),
                 "TLSv1.3" if label == "TLS 1.3" else "TLSv1.2")
            s = server_conn(srv, r.local())
            fr = first(s, "fin_received") or {}
            # The server answers the client's close_notify at once (close_notify + FIN), so
            # either FIN can be first: the step follows the wave the kernel showed.
            if fr.get("wave") == 1:
                t.check("%s: server fin_received (the client's FIN first): its ACK follows, "
                        "not 'already ACKed'" % label,
                        fr.get("explain_step") == "1st wave (its ACK follows)" and
                        "already" not in fr.get("explain", ""), "1st wave (its ACK follows)", fr)
            else:
                # the 3rd wave where the server saw the client's ACK of its FIN first
                # (after_ours_known); else it cannot tell it from a crossing, and says so
                want = "3rd and 4th wave" if fr.get("after_ours_known") else \
                    "the peer's FIN, after ours left (3rd wave, or a crossing)"
                t.check("%s: server fin_received (our FIN first): %s" % (label, want),
                        fr.get("wave") == 3 and fr.get("explain_step") == want, want, fr)
