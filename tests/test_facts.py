"""Issue 11, the facts: every sentence chosen from what was observed. The options a SYN really
carried (the server reads the client's SYN with TCP_SAVED_SYN; the client says what its own SYN
offered) and nothing called agreed that is a send size or a default; every version a
ClientHello offers; TLS 1.3's plaintext ChangeCipherSpec; a key share is a public key; a SYN
sent again is a retransmission, its intervals measured; one story for TLS 1.2 resumption;
message names in English beside the Chinese ones; a data segment that ACKs the FIN is the 2nd
wave."""

import re
import socket
import struct
import subprocess
import threading

from harness.env import CLIENT, LADDER, SLOW
from harness.log import E, assert_order, events, first, summary
from harness.peers import Tshark
from harness.tcp import is_root, watch_done

TCP_SAVE_SYN, TCP_SAVED_SYN = 27, 28        # <linux/tcp.h>


def parse_syn(b):
    """The options of a SYN as TCP_SAVED_SYN returns it (IP header, then TCP header), parsed
    here on their own: {mss, wscale, sack_perm, timestamps}."""
    ip = (b[0] & 15) * 4 if b[0] >> 4 == 4 else 40
    doff = (b[ip + 12] >> 4) * 4
    o, i = b[ip + 20:ip + doff], 0
    r = {"mss": -1, "wscale": -1, "sack_perm": False, "timestamps": False}
    while i < len(o) and o[i] != 0:
        if o[i] == 1:
            i += 1
            continue
        kind, n = o[i], o[i + 1]
        if kind == 2:
            r["mss"] = struct.unpack("!H", o[i + 2:i + 4])[0]
        elif kind == 3:
            r["wscale"] = o[i + 2]
        elif kind == 4:
            r["sack_perm"] = True
        elif kind == 8:
            r["timestamps"] = True
        i += n
    return r


def syn_fields(e):
    return {"mss": (e or {}).get("syn_mss"), "wscale": (e or {}).get("syn_wscale"),
            "sack_perm": (e or {}).get("syn_sack_perm"),
            "timestamps": (e or {}).get("syn_timestamps")}


def check_no_false_agreement(t, who, est):
    """The established line never calls a send size or a default guess agreed."""
    text = "%s %s" % ((est or {}).get("detail", ""), (est or {}).get("gloss", ""))
    t.check("%s: no 'SYN and SYN+ACK agreed on these options'" % who,
            "agreed on these options" not in text, "absent", text)
    t.check("%s: no 'MSS a/b' (the send size and the 536 default are no SYN option)" % who,
            not re.search(r"MSS \d+/\d+", text), "absent", text)
    agreed = text.split("agreed:", 1)[1].split(";", 1)[0] if "agreed:" in text else ""
    t.check("%s: the agreed options name no MSS" % who, "MSS" not in agreed, "no MSS", agreed)


def test_facts_syn_server_reads_the_clients_syn(t, server):
    """Server: the client's SYN as the kernel saved it (TCP_SAVED_SYN on a listener with
    TCP_SAVE_SYN, no privileges): a client that sets TCP_MAXSEG 1200 is logged with MSS 1200,
    and every option equals what a listener of our own saved from the same kind of socket."""
    # The same kind of SYN, saved by a listener of ours: the reference.
    ls = socket.socket()
    ls.setsockopt(socket.IPPROTO_TCP, TCP_SAVE_SYN, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1200)
    c.connect(ls.getsockname())
    a, _ = ls.accept()
    ref = parse_syn(a.getsockopt(socket.IPPROTO_TCP, TCP_SAVED_SYN, 512))
    for s in (a, c, ls):
        s.close()
    t.eq("reference: our own listener saw MSS 1200", ref["mss"], 1200)
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        c = socket.socket()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1200)
        c.settimeout(5 * SLOW)
        c.connect(("127.0.0.1", port))
        local = "%s:%d" % c.getsockname()
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while c.recv(65536):
            pass
        c.close()
        conn = srv.conn_events(local)
    est = first(conn, "established")
    t.eq("server: syn_from", (est or {}).get("syn_from"), "saved")
    t.eq("server: the client's SYN options (syn_*) == what our listener saved", syn_fields(est),
         ref)
    t.contains("server: the detail says what the client's SYN carried", (est or {}).get("detail"),
               "the client's SYN: MSS 1200")
    check_no_false_agreement(t, "server", est)


class SavingListener:
    """A one-connection HTTP peer on 127.0.0.1 with TCP_SAVE_SYN: it keeps the SYN it was sent
    and answers one request with an empty 200, then closes."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.ls = socket.socket(family)
        self.ls.setsockopt(socket.IPPROTO_TCP, TCP_SAVE_SYN, 1)
        self.ls.bind((host, 0))
        self.ls.listen(1)
        self.ls.settimeout(10 * SLOW)
        self.port = self.ls.getsockname()[1]
        self.syn = None
        self.th = threading.Thread(target=self._serve, daemon=True)
        self.th.start()

    def _serve(self):
        try:
            a, _ = self.ls.accept()
        except OSError:
            return
        with a:
            self.syn = a.getsockopt(socket.IPPROTO_TCP, TCP_SAVED_SYN, 512)
            a.settimeout(5 * SLOW)
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = a.recv(65536)
                if not d:
                    break
                buf += d
            a.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self):
        self.th.join(10 * SLOW)
        self.ls.close()


def test_facts_syn_client_says_what_it_offered(t, client):
    """Client: its established line gives its own SYN's options as its kernel's choices
    (syn_from "own"), equal to what the listening side's kernel saved of that very SYN, and
    'agreed' only for what TCP_INFO shows both SYNs had."""
    peer = SavingListener()
    r = client("http://127.0.0.1:%d/" % peer.port)
    peer.close()
    t.eq("client exit", r.rc, 0)
    t.check("the listener saved our client's SYN", peer.syn, "a SYN", peer.syn)
    if not peer.syn:
        return
    est = first(r.conn(), "established")
    t.eq("client: syn_from", (est or {}).get("syn_from"), "own")
    t.eq("client: its own SYN's options == what the peer's kernel saved of it",
         syn_fields(est), parse_syn(peer.syn))
    check_no_false_agreement(t, "client", est)
    t.contains("client: the gloss says whose choices they are", (est or {}).get("gloss"),
               "our SYN's options are our kernel's choices")


def test_facts_syn_options_tshark(t, server, client, procs, tshark):
    """Against tshark's decode of the same SYN: MSS, window scale shift, SACK permitted and
    timestamps as both our programs log them (the server from the saved SYN, the client as
    its own choices)."""
    if not is_root():
        t.skip("tshark needs CAP_NET_RAW to capture on lo: not root")
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        ts = Tshark(tshark, procs, port, extra_fields=(
            "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm",
            "tcp.options.timestamp.tsval"))
        if not ts.wait_ready(10 * SLOW):
            ts.stop()
            t.skip("tshark could not capture on lo: %s" % " ".join(ts.err)[-300:])
        r = client("http://127.0.0.1:%d/" % port)
        conn = srv.conn_events(r.local())
        ts.stop(expect_lines=3)
    cport = int(r.local().rsplit(":", 1)[1])
    syn = [l.split("\t") for l in ts.out if l.startswith("%d\t" % cport)]
    syn = [f for f in syn if len(f) >= 11 and int(f[1], 16) & 0x12 == 0x02]
    t.check("tshark saw our client's SYN", syn, "one SYN row", ts.out[:5])
    if not syn:
        return
    f = syn[0]
    want = {"mss": int(f[7]) if f[7] else -1, "wscale": int(f[8]) if f[8] else -1,
            "sack_perm": f[9] != "", "timestamps": f[10] != ""}
    t.eq("server's syn_* == tshark's decode of the SYN", syn_fields(first(conn, "established")),
         want)
    t.eq("client's syn_* == tshark's decode of its SYN", syn_fields(first(r.conn(), "established")),
         want)


def offered(dissect_value):
    """supported_versions as --dissect gives it ("TLS 1.3, TLS 1.2, TLS 1.1") -> the summary's
    words ("TLS 1.3, 1.2, 1.1"), GREASE left out."""
    vs = [v for v in dissect_value.split(", ") if v != "GREASE"]
    out = [v[4:] if v.startswith("TLS ") and i > 0 and vs[i - 1].startswith("TLS ") else v
           for i, v in enumerate(vs)]
    return ", ".join(out)


def check_hello_versions(t, who, evs):
    hellos = events(evs, "message", type="ClientHello")
    dis = [e for e in evs if e.get("event") == "dissect" and e.get("msg") == "ClientHello" and
           e.get("field") == "supported_versions"]
    t.check("%s: a ClientHello and its supported_versions" % who, hellos and dis, "both",
            summary(evs)[:400])
    for h, d in zip(hellos, dis):
        want = "offers %s;" % offered(d.get("value", ""))
        t.check("%s: the summary names every version supported_versions lists (%s)" % (
            who, d.get("value")), (h.get("summary") or "").startswith(want), want,
            h.get("summary"))


def test_facts_clienthello_versions(t, server, client, certs):
    """A ClientHello's summary says every version its supported_versions lists (OpenSSL 3.0
    lists TLS 1.3, 1.2, 1.1, 1.0 even where 1.1 and 1.0 would be refused): our client's own
    hello, and on the server a Python ssl client's; a hello without supported_versions offers
    "up to" its legacy_version."""
    import ssl
    with server("--dissect", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--dissect", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client exit", r.rc, 0)
        check_hello_versions(t, "our client", r.conn())
        ctx = ssl.create_default_context(cafile=certs.ca)
        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as ss:
                local = "%s:%d" % ss.getsockname()
                ss.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                while ss.recv(65536):
                    pass
        check_hello_versions(t, "server, Python's ClientHello", srv.conn_events(local))
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        h = first(r.conn(), "message", type="ClientHello")
        t.check("TLS 1.2 only (no supported_versions): 'offers up to TLS 1.2'",
                (h or {}).get("summary", "").startswith("offers up to TLS 1.2 (legacy_version"),
                "offers up to TLS 1.2 (legacy_version ...", (h or {}).get("summary"))


def test_facts_tls13_plaintext_ccs(t, server, client, certs):
    """TLS 1.3: the ServerHello's gloss does not say everything after it is encrypted when a
    plaintext ChangeCipherSpec follows; the ChangeCipherSpec's gloss and --explain sentence
    say it is plaintext, not encrypted, and carries nothing (as curl -v shows it: 'TLS change
    cipher, Change cipher spec', a record of its own)."""
    with server("--explain", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--explain", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("exit", r.rc, 0)
        sconn = srv.conn_events(r.local())
    for who, c in (("client", r.conn()), ("server", sconn)):
        sh = first(c, "message", type="ServerHello")
        ccs = [e for e in events(c, "message", type="ChangeCipherSpec")]
        t.eq("%s: TLS 1.3" % who, (first(c, "handshake_done") or {}).get("version"), "TLSv1.3")
        t.check("%s: a ChangeCipherSpec follows the ServerHello" % who, ccs, "one", summary(c))
        for what in ("gloss", "explain"):
            text = (sh or {}).get(what, "")
            t.check("%s: ServerHello %s: not 'everything after this is encrypted'" % (who, what),
                    "everything after this is encrypted" not in text and
                    "all that follows is encrypted" not in text, "a true sentence", text)
            t.contains("%s: ServerHello %s names the plaintext ChangeCipherSpec" % (who, what),
                       text, "ChangeCipherSpec")
        for e in ccs:
            for what in ("gloss", "explain"):
                text = e.get(what, "")
                t.check("%s: ChangeCipherSpec %s: plaintext, not encrypted, carries nothing" % (
                    who, what), "plaintext" in text and "not encrypted" in text and
                    "nothing" in text, "plaintext / not encrypted / nothing", text)


def test_facts_wire_key_share(t, server, client, certs):
    """--wire on the ClientHello: a key share is a public key, readable and not secret (never
    'the keys are not readable'); the ChangeCipherSpec records are called plaintext, never
    ciphertext."""
    if not is_root():
        t.skip("--wire needs CAP_NET_RAW to capture on lo: not root")
    with server(http=None, selfsigned=None) as srv:
        r = client("--wire", "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"),
                   json_log=False)
    t.eq("exit", r.rc, 0)
    lines = [l for l in r.err.splitlines() if "wire " in l and " TLS " in l]
    ch = [l for l in lines if "ClientHello" in l]
    t.check("a --wire line for the ClientHello", ch, "one", lines[:3])
    for l in ch:
        t.check("ClientHello: not 'the keys are not'", "the keys are not" not in l, "absent", l)
        t.contains("ClientHello: the key share is a public key", l, "public key")
        t.contains("ClientHello: readable and not secret", l, "readable and not secret")
    for l in lines:
        if "change_cipher_spec(20)" in l:
            t.check("a segment with a ChangeCipherSpec calls it readable/plaintext",
                    "ChangeCipherSpec" in l.split(" -- ", 1)[-1], "named", l)


def test_facts_syn_retransmission(t, server, client, procs):
    """A SYN the server's full accept queue dropped: the SYNs sent again are labelled as
    retransmissions of the 1st handshake (step syn_resent), each with the wait since the one
    before as the capture measured it, never a pattern; without a capture the client counts
    its SYNs from TCP_INFO, and no sentence claims a growing timeout."""
    with server("--accept-delay", "2000", "--backlog", "0", "--explain", https=None,
                selfsigned=None) as srv:
        port = srv.port("http")
        url = "http://127.0.0.1:%d/" % port
        first_client = procs.popen([CLIENT, url], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        srv.wait_for(lambda e: e.get("event") == "accept_wait", 5)
        extra = ["--capture"] if is_root() else []
        r = client("--explain", *extra, url, timeout=30)
        first_client.wait(30 * SLOW)
    t.eq("exit", r.rc, 0)
    c = r.conn()
    est = first(c, "established")
    t.check("established: syn_sent >= 2 (TCP_INFO's retransmissions + 1)",
            (est or {}).get("syn_sent", 0) >= 2, ">= 2", est)
    t.check("established says how many times our SYN went out",
            re.search(r"our SYN \(sent \d+ times", (est or {}).get("detail", "")), "sent N times",
            (est or {}).get("detail"))
    for e in c:
        for what in ("gloss", "explain", "detail"):
            t.check("%s %s: no 'growing timeout'" % (e.get("event"), what),
                    "growing" not in (e.get(what) or ""), "measured, not assumed", e.get(what))
    if not extra:
        return
    syns = [e for e in events(c, "segment", dir="out") if e.get("flags") == "SYN"]
    t.check("the capture shows our SYN more than once", len(syns) >= 2, ">= 2", syns)
    t.eq("the first SYN: step syn", (syns[0] if syns else {}).get("step"), "syn")
    t.eq("as many SYNs captured as TCP_INFO counted", len(syns), (est or {}).get("syn_sent"))
    for prev, e in zip(syns, syns[1:]):
        t.eq("a SYN sent again: step syn_resent", e.get("step"), "syn_resent")
        t.contains("...labelled a retransmission of the 1st handshake", e.get("detail"),
                   "1st handshake, sent again: a retransmission")
        gap = (e.get("cap_ts_us", 0) - prev.get("cap_ts_us", 0)) / 1000.0
        t.check("...resent_after_ms is the capture's own interval (%.3f ms)" % gap,
                abs((e.get("resent_after_ms") or -1) - gap) < 0.01, gap, e.get("resent_after_ms"))
        t.contains("...the detail states that interval", e.get("detail"),
                   "%.3f s after the one before" % (gap / 1000.0))


def test_facts_tls12_resumption_story(t, server, client, certs):
    """TLS 1.2 resumption, one true story on both sides: the ServerHello echoes the session_id
    (resumes the session), no key exchange follows, no public-key cryptography is used, and
    the keys are derived from the earlier session's master secret, never 'from the key
    exchange'."""
    with server("--explain", http=None, selfsigned=None) as srv:
        r = client("--explain", "--reconnect", "2", "--tls-max", "1.2", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"))
        t.eq("exit", r.rc, 0)
        sconn = srv.conn_events(r.local())
    for who, c in (("client", r.conn()), ("server", sconn)):
        done = first(c, "handshake_done")
        t.eq("%s: connection 2 resumed" % who, (done or {}).get("resumed"), True)
        sh = first(c, "message", type="ServerHello")
        t.contains("%s: the ServerHello resumes the session" % who, (sh or {}).get("summary"),
                   "resumes the session")
        t.check("%s: the ServerHello's why promises no key exchange that never comes" % who,
                "key exchange that follows" not in (sh or {}).get("explain", ""), "no",
                (sh or {}).get("explain"))
        kx = first(c, "key_exchange")
        t.contains("%s: key_exchange: no key exchange" % who, (kx or {}).get("detail"),
                   "no key exchange")
        t.check("%s: key_exchange's why does not say public-key cryptography is used for it" %
                who, "public-key cryptography is used only" not in (kx or {}).get("explain", ""),
                "no", (kx or {}).get("explain"))
        t.check("%s: handshake_done: not 'derived from the key exchange'" % who,
                "derived from the key exchange" not in (done or {}).get("gloss", ""),
                "from the earlier session's master secret", (done or {}).get("gloss"))
        t.contains("%s: handshake_done: the keys come from the earlier session" % who,
                   (done or {}).get("gloss"), "master secret")


def test_facts_zh_message_names(t, server, client, certs):
    """--lang zh: each TLS message keeps its English name with the Chinese beside it
    (ClientHello 客户端问候 ...); CertificateVerify's Chinese name says it proves the private
    key, unlike the certificate check (校验证书链)."""
    with server(http=None, selfsigned=None) as srv:
        r = client("--lang", "zh", "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
    t.eq("exit", r.rc, 0)
    msgs = events(r.conn(), "message")
    t.check("messages logged", msgs, "some", summary(r.conn()))
    for m in msgs:
        t.check("%s: step_zh starts with its English name" % m.get("type"),
                (m.get("step_zh") or "").startswith(m.get("type") + " "),
                m.get("type") + " ...", m.get("step_zh"))
    cv = first(msgs, "message", type="CertificateVerify")
    vz = (first(r.conn(), "verify") or {}).get("step_zh")
    t.check("CertificateVerify: its Chinese name says it proves the private key (私钥)",
            "私钥" in (cv or {}).get("step_zh", ""), "…私钥…", (cv or {}).get("step_zh"))
    t.check("CertificateVerify is not called 证书验证", "证书验证" not in (cv or {}).get("step_zh", ""),
            "absent", (cv or {}).get("step_zh"))
    t.check("the certificate check keeps its own name, unlike CertificateVerify's",
            vz and vz not in (cv or {}).get("step_zh", ""), "different", (vz, (cv or {}).get("step_zh")))


def test_facts_data_segment_is_the_2nd_wave(t, server, client, run, tmp_path):
    """A data segment that is the first to ACK the peer's FIN is the 2nd wave: its step is
    ack_fin1 (len > 0) and the ladder labels it; here the response to a --half-close request
    (request and FIN in one segment), and over TLS the peer's close_notify after our FIN when
    it comes that way."""
    if not is_root():
        t.skip("--capture needs CAP_NET_RAW: not root")
    with server("--capture", https=None, selfsigned=None) as srv:
        r = client("--capture", "--half-close", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("exit", r.rc, 0)
        conn = srv.conn_events(r.local())
        if conn:
            srv.wait_for(watch_done(first(conn, "established")["conn"]), 5)
    segs = events(r.conn(), "segment")
    fin = next((e for e in segs if e.get("dir") == "out" and "FIN" in e.get("flags", "")), None)
    t.check("our FIN was captured", fin, "a FIN", [e.get("detail") for e in segs])
    if fin is None:
        return
    end = (fin["seq"] + fin["len"] + 1) % 2 ** 32
    ack = next((e for e in segs if e.get("dir") == "in" and e.get("ack") == end), None)
    t.check("the peer's first segment to ACK our FIN carries data (the response)",
            ack and ack.get("len", 0) > 0, "len > 0", ack)
    t.eq("...its step is the 2nd wave (ack_fin1)", (ack or {}).get("step"), "ack_fin1")
    t.contains("...and its detail says so", (ack or {}).get("detail"), "2nd wave")
    cpath, spath = str(tmp_path / "client.json"), str(tmp_path / "server.json")
    with open(cpath, "w") as f:
        f.write(r.err)
    with open(spath, "w") as f:
        f.write("\n".join(srv.lines) + "\n")
    lad = run([LADDER, "--ascii", cpath, spath], name="ladder")
    text = lad.out.decode("utf-8", "replace")
    t.check("the ladder labels the data segment the 2nd wave",
            re.search(r"data seq=y\+1 ack=x\+\d+ len=\d+ . 2nd wave", text), "data ... 2nd wave",
            text[-2500:])


def test_facts_round_trips_counted(t, server, client, certs):
    """The round trips handshake_done states are counted from what went by: after a
    HelloRetryRequest ('one extra round trip') a TLS 1.3 handshake took 2, on both sides, also
    when resumed; never '1 round trip' next to an HRR."""
    with server("--groups", "P-256", http=None, selfsigned=None) as srv:
        r = client("--reconnect", "2", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"))
        t.eq("exit", r.rc, 0)
        sides = [("client #%d" % n, r.conn(n)) for n in (1, 2)]
        sides += [("server #%d" % n, srv.conn_events(first(r.conn(n), "established")["local"]))
                  for n in (1, 2) if first(r.conn(n), "established")]
    for who, c in sides:
        t.check("%s: a HelloRetryRequest" % who, first(c, "message", type="HelloRetryRequest"),
                "one", summary(c)[:300])
        gloss = (first(c, "handshake_done") or {}).get("gloss", "")
        t.contains("%s: handshake_done counts 2 round trips" % who, gloss, "2 round trips")
        t.check("%s: not '1 round trip'" % who, "1 round trip" not in gloss, "absent", gloss)
