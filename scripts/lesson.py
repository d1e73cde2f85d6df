#!/usr/bin/env python3
"""lesson.py -- the words of make lesson and its handout, in English and in Chinese.

scripts/lesson.sh runs the five steps (each a real exchange, both programs logging JSON lines
on one clock) into DIR/stepN/RUN/{client.json,server.json,ladder.svg,ladder.txt,rc}; this
script reads them back:

  lesson.py show --lang en|zh --dir DIR --step N   a step on the terminal: its words, the key
                                                   lines of both logs in time order, the ladder
  lesson.py html --lang en|zh --dir DIR --out FILE the handout: one self-contained HTML page
                                                   (inline SVG ladders, the key lines of both
                                                   logs, escaped, the explanations; no URL)

The lines' words come from the programs (--explain, and --lang zh for the Chinese handout);
the handout's own prose is here, in both languages.
"""
import html
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mergelog  # noqa: E402  (the terminal wrapper make demo uses too)

# The handout's own words. Each step: its title, what it shows, what to look for, and one
# caption per run (a run = one server and one client, one ladder).
WORDS = {
    "title": {"en": "handshake-lab: a lesson in five steps",
              "zh": "handshake-lab：五步课堂"},
    "sub": {"en": "TCP and TLS as they really happen between a server and a client on this "
                  "machine, each step a real exchange logged by both programs.",
            "zh": "本机上服务器与客户端之间真实发生的 TCP 与 TLS 过程：每一步都是一次真实的交互，"
                  "由双方程序各自记录日志。"},
    "clock": {"en": "One clock: both programs counted their times from the lesson's start "
                    "(HSLAB_T0), so the times of both sides below can be read together and "
                    "never go backwards. Time runs down the ladders: the client on the left, "
                    "the server on the right.",
              "zh": "同一个时钟：双方程序都从本课开始的时刻（HSLAB_T0）计时，因此下面两端的时间可以"
                    "放在一起读，而且从不倒退。梯形图中时间自上而下：左边是客户端，右边是服务器。"},
    "capture_yes": {"en": "The segments were captured (--capture, as root): the SYN, ACK and FIN "
                          "arrows carry the real sequence and acknowledgement numbers. A "
                          "segment's time is the capture's stamp (when it crossed loopback), not "
                          "the moment a program read it from the capture (a little later), so it "
                          "comes before what it caused.",
                    "zh": "报文段是抓包得到的（--capture，以 root 运行）：SYN、ACK、FIN 箭头上是真实的"
                          "序号 seq 与确认号 ack。报文段的时间是抓包时间戳（它经过回环接口的时刻），"
                          "而不是程序稍后从抓包中读到它的时刻，所以它排在它引起的事件之前。"},
    "capture_no": {"en": "No capture (it needs root): the segments are not drawn, and seq+N / "
                         "ack+N come from the kernel's TCP_INFO, counted from each side's initial "
                         "sequence number (ISN).",
                   "zh": "没有抓包（需要 root 权限）：报文段没有画出；seq+N / ack+N 来自内核的 "
                         "TCP_INFO，从各自的初始序列号 ISN 起算。"},
    "contents": {"en": "Contents", "zh": "目录"},
    "step": {"en": "Step %d: %s", "zh": "第 %d 步：%s"},
    "look": {"en": "What to look for", "zh": "看点"},
    "keylines": {"en": "Key lines of both logs, in time order",
                 "zh": "双方日志的关键行（按时间排序）"},
    "cols": {"en": ["ms", "side", "event", "detail", "why"],
             "zh": ["毫秒", "哪一端", "事件", "细节", "原因"]},
    "client": {"en": "client", "zh": "客户端"},
    "server": {"en": "server", "zh": "服务器"},
    "noladder": {"en": "(no ladder: the two logs share no connection)",
                 "zh": "（没有梯形图：两份日志没有共同的连接）"},
    "exit": {"en": "client exit status", "zh": "客户端退出码"},
    "compare": {"en": "The handshake messages, side by side (from these runs' client logs)",
                "zh": "握手消息对照（取自这几次运行的客户端日志）"},
    "made": {"en": "Made by make lesson (scripts/lesson.sh) on %s, from real runs of "
                   "build/server and build/client; redo it with: make lesson%s",
             "zh": "由 make lesson（scripts/lesson.sh）于 %s 根据 build/server 与 build/client "
                   "的真实运行生成；重新生成：make lesson%s"},
    "next": {"en": "Next on the terminal", "zh": "终端上的下一步"},
    "wide": {"en": "(the ladder is %d columns wide and the terminal %d: see it in the handout, "
                   "or %s)",
             "zh": "（梯形图宽 %d 列，终端只有 %d 列：请看讲义，或 %s）"},
    "intro": {"en": "The lesson: five steps, each a real exchange between build/server and "
                    "build/client on loopback. Both log every step in JSON lines on one clock; "
                    "build/ladder draws each exchange. At the end: one HTML handout.",
              "zh": "本课共五步，每一步都是 build/server 与 build/client 在本机回环地址上的一次真实交互。"
                    "双方都以 JSON 行记录每一步，用同一个时钟；build/ladder 画出每次交互。最后生成一份 HTML 讲义。"},
}

STEPS = [
    {
        "title": {"en": "The three-way handshake, with real seq/ack",
                  "zh": "三次握手：真实的序号 seq 与确认号 ack"},
        "text": {"en": "connect() makes the client's kernel send SYN with a random initial "
                       "sequence number x (第一次握手). The server's kernel answers SYN+ACK with its "
                       "own ISN y and ack=x+1: a SYN counts as one byte (第二次握手). The client "
                       "ACKs y+1 (第三次握手). The kernels do all of it: accept() only picks up a "
                       "finished connection from the accept queue.",
                 "zh": "connect() 让客户端内核发出 SYN，携带随机的初始序列号 x（第一次握手）。"
                       "服务器内核回复 SYN+ACK：自己的初始序列号 y，确认号 ack=x+1，因为 SYN 占一个序号"
                       "（第二次握手）。客户端回复 ACK，确认号 y+1（第三次握手）。这一切都由内核完成："
                       "accept() 只是从全连接队列中取走一个已经建立好的连接。"},
        "look": {"en": ["SYN seq=x, SYN+ACK seq=y ack=x+1, ACK seq=x+1 ack=y+1 (with the real x "
                        "and y when captured)",
                        "connect() returns already ESTABLISHED on loopback: the handshake "
                        "happened inside the call",
                        "the server's accept() comes after the third segment"],
                 "zh": ["SYN seq=x，SYN+ACK seq=y ack=x+1，ACK seq=x+1 ack=y+1（抓包时可见真实的 x 和 y）",
                        "在回环地址上 connect() 返回时已经是 ESTABLISHED：握手在这次调用之内就完成了",
                        "服务器的 accept() 出现在第三个报文段之后"]},
        "runs": [("handshake", {"en": "HTTP: the handshake, one request, the close",
                                "zh": "HTTP：握手、一个请求、关闭"})],
        "events": "handshake",
    },
    {
        "title": {"en": "The four-way close: FIN_WAIT2, CLOSE_WAIT and TIME_WAIT",
                  "zh": "四次挥手：FIN_WAIT2、CLOSE_WAIT 与 TIME_WAIT"},
        "text": {"en": "The client closes first: its FIN (第一次挥手) takes it to FIN_WAIT1, the "
                       "server's ACK (第二次挥手) to FIN_WAIT2. The server's read() returns 0: it "
                       "is in CLOSE_WAIT and, told to (--hold-close), holds its own FIN for a "
                       "while, so both half-closed states last long enough to see. Then its FIN "
                       "(第三次挥手) and the client's last ACK (第四次挥手): the client, whose FIN "
                       "went first, stays in TIME_WAIT for 2MSL (60 s on Linux).",
                 "zh": "客户端先关闭：它的 FIN（第一次挥手）使它进入 FIN_WAIT1，服务器的 ACK（第二次挥手）"
                       "使它进入 FIN_WAIT2。服务器的 read() 返回 0，进入 CLOSE_WAIT，并按要求"
                       "（--hold-close）暂缓发出自己的 FIN，让这两个半关闭状态停留得足够久，便于观察。"
                       "随后服务器发出 FIN（第三次挥手），客户端回复最后的 ACK（第四次挥手）："
                       "先发 FIN 的客户端进入 TIME_WAIT，等待 2MSL（Linux 上为 60 秒）。"},
        "look": {"en": ["the client's FIN_WAIT1 -> FIN_WAIT2 while the server sits in CLOSE_WAIT",
                        "the gap between the second and the third wave: --hold-close",
                        "TIME_WAIT on the side that closed first, with its 60 s timer"],
                 "zh": ["服务器停在 CLOSE_WAIT 时，客户端从 FIN_WAIT1 进入 FIN_WAIT2",
                        "第二次挥手与第三次挥手之间的间隔：--hold-close",
                        "先关闭的一端进入 TIME_WAIT，计时 60 秒"]},
        "runs": [("close", {"en": "HTTP with the server holding its FIN (--hold-close)",
                            "zh": "HTTP，服务器暂缓发出 FIN（--hold-close）"})],
        "events": "close",
    },
    {
        "title": {"en": "HTTPS with TLS 1.3", "zh": "HTTPS：TLS 1.3"},
        "text": {"en": "Over the open TCP connection the client sends ClientHello with a key "
                       "share; the server answers ServerHello with its own: from then on both "
                       "derive the same keys (ECDHE), and the rest of the server's flight is "
                       "encrypted: EncryptedExtensions, Certificate, CertificateVerify (the "
                       "server proves it holds the certificate's private key), Finished. One "
                       "round trip, then the request travels in encrypted records.",
                 "zh": "在已建立的 TCP 连接上，客户端发送 ClientHello 客户端问候，附带密钥共享；服务器回复 "
                       "ServerHello 服务器问候和自己的密钥共享：此后双方算出相同的会话密钥（ECDHE 密钥交换），"
                       "服务器后续的消息都已加密：EncryptedExtensions、Certificate 服务器证书、"
                       "CertificateVerify（服务器证明自己持有证书的私钥）、Finished。一个往返之后，"
                       "请求就在加密的记录中传输。"},
        "look": {"en": ["ClientHello / ServerHello: one round trip",
                        "the certificate checked at depth 1 (the CA) and depth 0 (the server)",
                        "key_exchange: ECDHE, not the textbook's RSA; close_notify before FIN"],
                 "zh": ["ClientHello / ServerHello：一个往返",
                        "证书链校验：深度 1（CA 证书颁发机构）与深度 0（服务器证书）",
                        "密钥交换是 ECDHE，不是教科书上的 RSA；FIN 之前先有 close_notify 关闭通知"]},
        "runs": [("tls13", {"en": "HTTPS, TLS 1.3, the demo CA trusted (--cacert)",
                            "zh": "HTTPS，TLS 1.3，信任演示用 CA（--cacert）"})],
        "events": "tls",
    },
    {
        "title": {"en": "The textbook's model: TLS 1.2 with RSA key transport, beside ECDHE "
                        "and TLS 1.3",
                  "zh": "教科书的模型：TLS 1.2 RSA 密钥传输，对照 ECDHE 与 TLS 1.3"},
        "text": {"en": "In the textbook the client makes a pre-master secret, encrypts it with "
                       "the server's RSA public key and sends it in ClientKeyExchange: only the "
                       "holder of the private key can read it. That is TLS 1.2 with RSA key "
                       "transport: no ServerKeyExchange, and no forward secrecy (whoever gets "
                       "the private key later can decrypt a recording). ECDHE adds a signed "
                       "ServerKeyExchange with a fresh key; TLS 1.3 keeps only (EC)DHE, and "
                       "needs one round trip instead of two.",
                 "zh": "教科书中，客户端生成预主密钥，用服务器的 RSA 公钥加密，放在 ClientKeyExchange 中发出："
                       "只有持有私钥的一方才能解开。这就是 TLS 1.2 的 RSA 密钥传输：没有 ServerKeyExchange，"
                       "也没有前向保密（日后拿到私钥的人可以解密录下的流量）。ECDHE 多了一条带签名的 "
                       "ServerKeyExchange，每次使用新的临时密钥；TLS 1.3 只保留 (EC)DHE，握手只需一个往返，"
                       "而不是两个。"},
        "look": {"en": ["RSA: ServerHello, Certificate, ServerHelloDone, then a ClientKeyExchange "
                        "of about 262 bytes (the encrypted pre-master secret)",
                        "ECDHE: a ServerKeyExchange between Certificate and ServerHelloDone",
                        "TLS 1.3 (step 3): no ServerHelloDone, no ClientKeyExchange"],
                 "zh": ["RSA：ServerHello、Certificate、ServerHelloDone，然后是约 262 字节的 "
                        "ClientKeyExchange（加密后的预主密钥）",
                        "ECDHE：在 Certificate 与 ServerHelloDone 之间多了 ServerKeyExchange",
                        "TLS 1.3（第 3 步）：没有 ServerHelloDone，也没有 ClientKeyExchange"]},
        "runs": [("rsa", {"en": "TLS 1.2, RSA key transport (--kx rsa)",
                          "zh": "TLS 1.2，RSA 密钥传输（--kx rsa）"}),
                 ("ecdhe", {"en": "TLS 1.2, ECDHE (--kx ecdhe)",
                            "zh": "TLS 1.2，ECDHE（--kx ecdhe）"})],
        "events": "tls",
        "compare": [("rsa", "TLS 1.2 RSA"), ("ecdhe", "TLS 1.2 ECDHE"), ("3/tls13", "TLS 1.3")],
    },
    {
        "title": {"en": "Trust: CA-signed against self-signed",
                  "zh": "信任：CA 签发的证书与自签名证书"},
        "text": {"en": "The CA-signed certificate chains to a CA the client trusts (--cacert): "
                       "each link checks out, no warning. The self-signed one vouches for "
                       "itself: OpenSSL reports error 18, the client sends the alert "
                       "unknown_ca and, not on a terminal, refuses as curl does (exit 60). "
                       "Anyone can make such a certificate, an attacker in the middle too.",
                 "zh": "CA 签发的证书能沿证书链追溯到客户端信任的证书颁发机构（--cacert）：每一环都校验通过，"
                       "没有警告。自签名证书只为自己担保：OpenSSL 报错误 18，客户端发出 unknown_ca 警报，"
                       "不在终端上时像 curl 一样拒绝（退出码 60）。任何人都能生成这样的证书，"
                       "中间人攻击者也可以。"},
        "look": {"en": ["CA-signed: verify depth=1 and depth=0 ok, the host name matches",
                        "self-signed: error 18 at depth 0, alert unknown_ca, exit status 60",
                        "the server sees the client's alert: the handshake fails on both sides"],
                 "zh": ["CA 签发：深度 1 与深度 0 校验通过，主机名匹配",
                        "自签名：深度 0 报错误 18，发出 unknown_ca 警报，退出码 60",
                        "服务器收到客户端的警报：握手在两端都失败"]},
        "runs": [("ca", {"en": "CA-signed (the demo CA trusted)",
                         "zh": "CA 签发（信任演示用 CA）"}),
                 ("selfsigned", {"en": "self-signed: refused",
                                 "zh": "自签名：被拒绝"})],
        "events": "trust",
    },
]

TLS_EVENTS = {"message", "key_exchange", "handshake_done", "verify", "hostname",
              "trust_decision", "alert", "close_notify"}
TRUST_EVENTS = {"verify", "hostname", "trust_decision", "alert", "tls_error", "error",
                "handshake_done"}
CLOSE_EVENTS = {"fin_sent", "fin_received", "hold_close", "state_change", "closed"}


def read_log(path):
    recs = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("{"):
                    try:
                        recs.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return recs


def key(kind, recs):
    """The records of one log that tell the step's story."""
    out = []
    if kind == "handshake":
        n = 0
        for r in recs:
            ev = r.get("event")
            if ev == "segment" and n < 3 and ("SYN" in r.get("flags", "") or n == 2):
                out.append(r)
                n += 1
            elif ev in ("connect", "established"):
                out.append(r)
    elif kind == "close":
        fin = False
        for r in recs:
            ev = r.get("event")
            if ev == "segment":
                fin = fin or "FIN" in r.get("flags", "")
                if fin:
                    out.append(r)
            elif ev in CLOSE_EVENTS:
                out.append(r)
    elif kind == "tls":
        out = [r for r in recs if r.get("event") in TLS_EVENTS]
    elif kind == "trust":
        out = [r for r in recs if r.get("event") in TRUST_EVENTS]
    return out


def label(r):
    """The event as the text log names it: > ClientHello, < SYN,ACK, FIN_WAIT1 -> FIN_WAIT2."""
    ev = r.get("event", "?")
    arrow = {"out": "> ", "in": "< "}.get(r.get("dir"), "")
    if ev == "message" and "type" in r:
        return arrow + r["type"]
    if ev == "segment" and "flags" in r:
        return arrow + r["flags"]
    if ev == "alert":
        return arrow + "alert"
    if ev == "state_change" and "from" in r:	# a timer seen in the same state: its name alone
        return r["from"] if r["from"] == r.get("to") else "%s -> %s" % (r["from"], r.get("to", "?"))
    if ev == "verify" and "depth" in r:
        return "verify depth=%s" % r["depth"]
    return ev


def detail(r):
    """The detail, and the kernel's state with the relative seq/ack (TCP_INFO) as the text log
    shows them: [ESTABLISHED seq+1 ack+1]."""
    d = r.get("detail", "")
    if r.get("tcp_state"):
        rel = (" seq+%s ack+%s" % (r["rel_seq"], r["rel_ack"])
               if "rel_seq" in r and "rel_ack" in r else "")
        d += "  [%s%s]" % (r["tcp_state"], rel)
    return d


def why(r, lang):
    text = r.get("explain") or r.get("gloss") or ""
    if lang == "zh" and r.get("step_zh"):
        return "%s：%s" % (r["step_zh"], text) if text else r["step_zh"]
    return text


# The record's time on the one clock, in ms: a captured segment at its capture stamp (cap_ts_us),
# not at the moment the program logged it (each side's capture reads the frame a little later,
# and a receiver's line could come out before the sender's). Shared with make demo's merge.
when = mergelog.when


def merged(step, lang, d):
    """Key lines of every run of a step, both sides, sorted on the one clock. When both sides
    captured, a segment is shown once, from its sender's side (as the ladder draws it)."""
    s = STEPS[step - 1]
    rows = []
    for ri, (run, _) in enumerate(s["runs"]):
        logs = [read_log(os.path.join(d, "step%d" % step, run, side + ".json"))
                for side in ("client", "server")]
        both = all(any(r.get("event") == "segment" for r in log) for log in logs)
        for si, log in enumerate(logs):
            for n, r in enumerate(key(s["events"], log)):
                if both and r.get("event") == "segment" and r.get("dir") == "in":
                    continue
                rows.append((when(r), ri, si, n, run, r))
    rows.sort(key=lambda x: (x[1], x[0], x[2], x[3]))
    return rows


def side_name(r, lang):
    name = WORDS[r.get("side", "client")][lang] if r.get("side") in ("client", "server") else "?"
    return "%s #%s" % (name, r["conn"]) if r.get("conn") else name


def meta(d):
    m = {}
    try:
        with open(os.path.join(d, "meta")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                m[k] = v
    except OSError:
        pass
    return m


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---- the terminal ----

def show(step, lang, d):
    width = mergelog.term_width() if sys.stdout.isatty() else 0
    out = []

    def para(text, prefix=""):
        line = prefix + text
        out.extend(mergelog.wrap(line, width, True) if width else [line])

    if step == 0:
        para(WORDS["title"][lang])
        para(WORDS["intro"][lang])
        cap = "capture_yes" if meta(d).get("capture") == "--capture" else "capture_no"
        para(WORDS[cap][lang])
        print("\n".join(out))
        return 0
    s = STEPS[step - 1]
    out.append("")
    para("== %s ==" % (WORDS["step"][lang] % (step, s["title"][lang])))
    para(s["text"][lang])
    para(WORDS["look"][lang] + ("：" if lang == "zh" else ":"))
    for item in s["look"][lang]:
        para("  - " + item)
    last = None
    for t, ri, _, _, run, r in merged(step, lang, d):
        if ri != last:
            out.append("")
            para("-- %s --" % dict(s["runs"])[run][lang])
            last = ri
        side = side_name(r, lang)
        side += " " * max(0, 10 - sum(mergelog.cwidth(c) for c in side))	# by columns
        line = "%10s ms  %s %-22s %s" % ("+%.3f" % t, side, label(r), detail(r))
        w = why(r, lang)
        if w:
            line += "  -- " + w
        # continuation lines under the event on a wide terminal, under the side on a narrow one
        out.extend(mergelog.wrap(line, width, indent=48 if width >= 120 else 15)
                   if width else [line])
    for run, cap in s["runs"]:
        base = os.path.join(d, "step%d" % step, run)
        txt = read(os.path.join(base, "ladder.txt"))
        out.append("")
        para("-- %s: ladder --" % cap[lang])
        wide = max([sum(mergelog.cwidth(c) for c in l) for l in txt.splitlines()] or [0])
        if not txt:
            para(WORDS["noladder"][lang])
        elif width and wide > width:
            para(WORDS["wide"][lang] % (wide, width, "less -S " + os.path.join(base, "ladder.txt")))
        else:
            out.extend(txt.rstrip("\n").splitlines())
        rc = read(os.path.join(base, "rc")).strip()
        if rc and rc != "0":
            para("%s: %s" % (WORDS["exit"][lang], rc))
    print("\n".join(out))
    return 0


# ---- the handout ----

CSS = """
body { font-family: "DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei",
       Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #111; line-height: 1.45; }
h1 { font-size: 1.9em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #2563eb; padding-bottom: .2em; margin-top: 2.2em; }
h3 { font-size: 1.05em; color: #374151; }
.note { background: #f3f4f6; border-left: 4px solid #2563eb; padding: .6em 1em; }
figure { margin: 1em 0; border: 1px solid #d1d5db; padding: .5em; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #374151; font-size: .95em; margin-top: .3em; }
table { border-collapse: collapse; width: 100%; font-size: .82em; margin: .6em 0 1.2em; }
th, td { border: 1px solid #d1d5db; padding: .25em .45em; vertical-align: top; text-align: left; }
th { background: #f3f4f6; }
td.t, td.side, td.ev { white-space: nowrap; font-family: "DejaVu Sans Mono", monospace; }
tr.client td.side { color: #1d4ed8; }
tr.server td.side { color: #b45309; }
td.detail { font-family: "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.nw { white-space: nowrap; }
.rc { color: #b91c1c; }
table.compare td { width: 33%; }
table.compare ol { margin: 0; padding-left: 1.6em; }
footer { margin-top: 3em; color: #6b7280; font-size: .85em; }
@media print { h2 { page-break-before: always; } figure svg { max-height: 24cm; } }
"""


def esc(s):
    return html.escape(str(s), quote=True)


def esc_log(s):
    """A log's text, escaped; a flag (--hold-close) or a state (FIN_WAIT2) is never broken at
    its hyphens or underscores."""
    return re.sub(r"(--?[A-Za-z][\w-]*|\b[A-Z]+_[A-Z0-9_]+\b)", r'<span class="nw">\1</span>',
                  esc(s))


def inline_svg(text):
    """The ladder's SVG, inlined: no XML declaration, no namespace URL (HTML knows svg)."""
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return text.strip()


def messages(path):
    """The client's view of the handshake, message by message: > ClientHello (310 B) ..."""
    out = []
    for r in read_log(path):
        if r.get("event") == "message":
            out.append("%s%s (%s B)" % ({"out": "→ ", "in": "← "}.get(r.get("dir"), ""),
                                       r.get("type", "?"), r.get("len", "?")))
        elif r.get("event") == "handshake_done":
            break
    return out


def handout(lang, d, path):
    m = meta(d)
    cap = "capture_yes" if m.get("capture") == "--capture" else "capture_no"
    p = ['<!DOCTYPE html>', '<html lang="%s">' % ("zh-CN" if lang == "zh" else "en"),
         '<head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         '<title>%s</title>' % esc(WORDS["title"][lang]),
         '<style>%s</style></head><body>' % CSS,
         '<h1>%s</h1>' % esc(WORDS["title"][lang]),
         '<p>%s</p>' % esc(WORDS["sub"][lang]),
         '<p class="note">%s %s</p>' % (esc(WORDS["clock"][lang]), esc(WORDS[cap][lang])),
         '<h3>%s</h3><ol>' % esc(WORDS["contents"][lang])]
    for i, s in enumerate(STEPS, 1):
        p.append('<li><a href="#step%d">%s</a></li>' % (i, esc(s["title"][lang])))
    p.append('</ol>')
    cols = WORDS["cols"][lang]
    for i, s in enumerate(STEPS, 1):
        p.append('<section class="step" id="step%d">' % i)
        p.append('<h2>%s</h2>' % esc(WORDS["step"][lang] % (i, s["title"][lang])))
        p.append('<p>%s</p>' % esc(s["text"][lang]))
        p.append('<h3>%s</h3><ul>' % esc(WORDS["look"][lang]))
        p.extend('<li>%s</li>' % esc(x) for x in s["look"][lang])
        p.append('</ul>')
        rows = merged(i, lang, d)
        for ri, (run, capt) in enumerate(s["runs"]):
            base = os.path.join(d, "step%d" % i, run)
            svg = read(os.path.join(base, "ladder.svg"))
            rc = read(os.path.join(base, "rc")).strip()
            p.append('<figure class="ladder">')
            p.append(inline_svg(svg) if "<svg" in svg else '<p>%s</p>' % esc(WORDS["noladder"][lang]))
            extra = (' <span class="rc">(%s %s)</span>' % (esc(WORDS["exit"][lang]), esc(rc))
                     if rc and rc != "0" else "")
            p.append('<figcaption>%s%s</figcaption></figure>' % (esc(capt[lang]), extra))
            p.append('<h3>%s%s%s</h3>' % (esc(WORDS["keylines"][lang]),
                                          "：" if lang == "zh" else ": ", esc(capt[lang])))
            p.append('<table class="lines"><tr>%s</tr>' % "".join("<th>%s</th>" % esc(c) for c in cols))
            for t, r_i, _, _, _, r in rows:
                if r_i != ri:
                    continue
                side = r.get("side", "")
                p.append('<tr class="%s"><td class="t">+%.3f</td><td class="side">%s</td>'
                         '<td class="ev">%s</td><td class="detail">%s</td><td>%s</td></tr>'
                         % (esc(side), t, esc(side_name(r, lang)), esc(label(r)),
                            esc_log(detail(r)), esc_log(why(r, lang))))
            p.append('</table>')
        if s.get("compare"):
            # one column per variant, its messages in order, as the client saw them
            p.append('<h3>%s</h3><table class="compare"><tr>' % esc(WORDS["compare"][lang]))
            p.extend('<th>%s</th>' % esc(name) for _, name in s["compare"])
            p.append('</tr><tr>')
            for run, _ in s["compare"]:
                step, _, name = run.rpartition("/")
                src = os.path.join(d, "step%s" % (step or i), name, "client.json")
                p.append('<td class="detail"><ol>%s</ol></td>'
                         % "".join("<li>%s</li>" % esc(x) for x in messages(src)))
            p.append('</tr></table>')
        p.append('</section>')
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    p.append('<footer>%s</footer>' % esc(WORDS["made"][lang] % (when, " LESSON_LANG=zh" if lang == "zh" else "")))
    p.append('</body></html>')
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(p) + "\n")
    os.replace(tmp, path)
    return 0


def main(argv):
    if not argv or argv[0] not in ("show", "html"):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    opts = {"--lang": "en", "--dir": None, "--step": None, "--out": None}
    while args:
        a = args.pop(0)
        if a not in opts or not args:
            print("lesson.py: unknown or incomplete argument '%s'" % a, file=sys.stderr)
            return 2
        opts[a] = args.pop(0)
    lang, d = opts["--lang"], opts["--dir"]
    if lang not in ("en", "zh") or d is None:
        print("lesson.py: --lang en|zh and --dir DIR are needed", file=sys.stderr)
        return 2
    if cmd == "show":
        try:
            step = int(opts["--step"])
        except (TypeError, ValueError):
            step = -1
        if not 0 <= step <= len(STEPS):
            print("lesson.py: --step 0-%d" % len(STEPS), file=sys.stderr)
            return 2
        return show(step, lang, d)
    if opts["--out"] is None:
        print("lesson.py: html needs --out FILE", file=sys.stderr)
        return 2
    return handout(lang, d, opts["--out"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
