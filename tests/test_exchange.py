"""One exchange, both logs: plain HTTP, HTTPS with --cacert (the TLS 1.3 handshake),
TLS 1.2, the client's --keylog and -o, IPv6 and a name with several addresses.
"""

import os
import re
import socket
import stat

from harness.log import (assert_order, check_close, check_common_fields, check_tcp_states,
                         check_timestamps, E, events, first, summary)
from harness.net import ipv6_usable


def test_http(t, server, client):
    """1. Plain HTTP: the client's and the server's view of the same connection."""
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        r = client("http://127.0.0.1:%d/" % port)
        t.eq("client exit status", r.rc, 0)
        t.contains("body", r.text, "your connection")
        c = r.conn()
        assert_order(t, "client", c, ["connect", "established", "request", "response", "body",
                                      "fin_sent", "closed"])
        resp = first(c, "response")
        t.eq("client response.status", resp and resp.get("status"), 200)
        t.eq("client response.length == body size", resp and resp.get("length"), len(r.out))
        t.eq("client body.bytes == body size", (first(c, "body") or {}).get("bytes"), len(r.out))
        req = first(c, "request")
        t.eq("client request.method", req and req.get("method"), "GET")
        t.eq("client request.target", req and req.get("target"), "/")
        t.eq("client request.host", req and req.get("host"), "127.0.0.1:%d" % port)
        conn = first(c, "connect") or {}
        t.eq("client connect.remote", conn.get("remote"), "127.0.0.1:%d" % port)
        t.check("client connect.local is 127.0.0.1:PORT",
                re.fullmatch(r"127\.0\.0\.1:\d+", str(conn.get("local"))), "127.0.0.1:N",
                conn.get("local"))
        check_common_fields(t, "client log", r.ev, "client")
        check_tcp_states(t, "client log", r.ev)
        check_timestamps(t, "client log", r.ev)
        check_close(t, "client", c)
        fs = next((i for i, e in enumerate(c) if e.get("event") == "fin_sent"), None)
        after = [e for e in c[fs + 1:] if e.get("event") in ("fin_received", "closed")] if fs is not None else []
        t.check("client fin_received and closed follow fin_sent", len(after) >= 2,
                "fin_received, closed", summary(c))
        for e in after:
            t.ne("client %s after fin_sent: tcp_state" % e["event"], e.get("tcp_state"), "ESTABLISHED")
        t.check("client fin_sent tcp_state is FIN_WAIT1/FIN_WAIT2/CLOSE/CLOSING",
                (first(c, "fin_sent") or {}).get("tcp_state") in
                ("FIN_WAIT1", "FIN_WAIT2", "CLOSE", "CLOSING", "TIME_WAIT"),
                "a state after shutdown(SHUT_WR)", (first(c, "fin_sent") or {}).get("tcp_state"))

        s = srv.conn_events(r.local())
        t.check("server logged the connection from the client's local address", s,
                r.local(), summary(srv.evs))
        assert_order(t, "server", s, ["established", "request", "response", "fin_received",
                                      "fin_sent", "closed"])
        est = first(s, "established") or {}
        t.eq("server established.local == client's remote (4-tuple)", est.get("local"),
             conn.get("remote"))
        sresp = first(s, "response") or {}
        t.eq("server response.status", sresp.get("status"), 200)
        t.eq("server response.length", sresp.get("length"), len(r.out))
        t.eq("server request.target", (first(s, "request") or {}).get("target"), "/")
        fr = first(s, "fin_received") or {}
        t.check("server fin_received: tcp_state CLOSE_WAIT (the client closed first)",
                fr.get("tcp_state") == "CLOSE_WAIT", "CLOSE_WAIT", fr.get("tcp_state"))
        check_common_fields(t, "server log", srv.evs, "server")
        check_tcp_states(t, "server log", srv.evs)
        check_timestamps(t, "server log", srv.evs)
        t.eq("server listens on 127.0.0.1 and ::1 (or 127.0.0.1 only without IPv6)",
             sorted(e.get("addr") for e in events(srv.evs, "listen")),
             sorted(["127.0.0.1:%d" % port] + (["[::1]:%d" % port] if ipv6_usable() else [])))


TLS13_CLIENT = ["connect", "established", "handshake_start",
                E("message", type="ClientHello", dir="out"),
                E("message", type="ServerHello", dir="in"),
                E("message", type="EncryptedExtensions", dir="in"),
                E("message", type="Certificate", dir="in"),
                E("verify", depth=1), E("verify", depth=0),
                E("message", type="CertificateVerify", dir="in"),
                E("message", type="Finished", dir="in"),
                E("message", type="Finished", dir="out"),
                "handshake_done", "request", "response", "body",
                E("close_notify", dir="out"), "fin_sent", "closed"]


TLS13_SERVER = ["established", "handshake_start",
                E("message", type="ClientHello", dir="in"),
                E("message", type="ServerHello", dir="out"),
                E("message", type="EncryptedExtensions", dir="out"),
                E("message", type="Certificate", dir="out"),
                E("message", type="CertificateVerify", dir="out"),
                E("message", type="Finished", dir="out"),
                E("message", type="Finished", dir="in"),
                "handshake_done", "request", "response"]


def test_https_cacert(t, server, client, certs):
    """2. HTTPS with --cacert: the full TLS 1.3 handshake on both sides."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client exit status", r.rc, 0)
        t.contains("body", r.text, "your connection")
        t.check("no trust prompt", "Proceed anyway" not in r.err, "no prompt", r.err[-500:])
        c = r.conn()
        assert_order(t, "client", c, TLS13_CLIENT)
        hd = first(c, "handshake_done") or {}
        t.eq("client handshake_done.version", hd.get("version"), "TLSv1.3")
        t.check("client handshake_done.cipher is a TLS_ name", str(hd.get("cipher")).startswith("TLS_"),
                "TLS_...", hd.get("cipher"))
        t.check("client handshake_done.cipher_bits > 0",
                isinstance(hd.get("cipher_bits"), int) and hd["cipher_bits"] > 0, "> 0",
                hd.get("cipher_bits"))
        t.eq("client handshake_done.aead", hd.get("aead"), True)
        t.eq("client handshake_done.resumed", hd.get("resumed"), False)
        t.eq("client handshake_done.sni", hd.get("sni"), "localhost")
        kx = first(c, "key_exchange") or {}
        t.eq("client key_exchange.group", kx.get("group"), "X25519")
        t.eq("client key_exchange.kx", kx.get("kx"), "ECDHE")
        t.check("client key_exchange.key_bits > 0",
                isinstance(kx.get("key_bits"), int) and kx["key_bits"] > 0, "> 0", kx.get("key_bits"))
        for depth in (1, 0):
            v = first(c, "verify", depth=depth) or {}
            t.eq("verify depth %d: ok" % depth, v.get("ok"), True)
            t.eq("verify depth %d: error" % depth, v.get("error"), 0)
            t.check("verify depth %d: not_before/not_after set" % depth,
                    v.get("not_before") and v.get("not_after"), "dates", v)
        v0 = first(c, "verify", depth=0) or {}
        v1 = first(c, "verify", depth=1) or {}
        t.contains("verify depth 0: subject", v0.get("subject"), "localhost")
        t.contains("verify depth 0: issuer", v0.get("issuer"), "demo CA")
        t.contains("verify depth 1: subject", v1.get("subject"), "demo CA")
        h = first(c, "hostname") or {}
        t.eq("hostname.name", h.get("name"), "localhost")
        t.eq("hostname.match", h.get("match"), True)
        td = first(c, "trust_decision") or {}
        t.eq("trust_decision.decision", td.get("decision"), "trusted")
        t.eq("trust_decision.prompted", td.get("prompted"), False)
        t.check("client close_notify out and in",
                events(c, "close_notify", dir="out") and events(c, "close_notify", dir="in"),
                "both", summary(c))
        check_common_fields(t, "client log", r.ev, "client")
        check_tcp_states(t, "client log", r.ev)
        check_timestamps(t, "client log", r.ev)

        s = srv.conn_events(r.local())
        t.check("server logged the connection", s, r.local(), summary(srv.evs))
        assert_order(t, "server", s, TLS13_SERVER)
        # The server answers the client's close_notify at once (close_notify + FIN): the
        # client's FIN may come before or after that answer, as the kernel shows it.
        assert_order(t, "server close", s, [E("close_notify", dir="in"),
                                            E("close_notify", dir="out"), "fin_sent", "closed"])
        assert_order(t, "server close (the client's FIN)", s, [E("close_notify", dir="in"),
                                                               "fin_received", "closed"])
        check_close(t, "client", c)
        check_close(t, "server", s)
        shd = first(s, "handshake_done") or {}
        t.eq("server handshake_done.version", shd.get("version"), "TLSv1.3")
        t.eq("server handshake_done.cipher == client's", shd.get("cipher"), hd.get("cipher"))
        t.eq("server handshake_done.sni", shd.get("sni"), "localhost")
        t.eq("server key_exchange.group", (first(s, "key_exchange") or {}).get("group"), "X25519")
        check_tcp_states(t, "server log", srv.evs)
        check_timestamps(t, "server log", srv.evs)
        # the two logs merge into one timeline: a message is logged out before it is logged in
        for typ, a, b in (("ClientHello", c, s), ("ServerHello", s, c)):
            out_ev = first(a, "message", type=typ, dir="out") or {}
            in_ev = first(b, "message", type=typ, dir="in") or {}
            t.check("ts_us: %s out <= %s in (merged timeline)" % (typ, typ),
                    isinstance(out_ev.get("ts_us"), int) and isinstance(in_ev.get("ts_us"), int)
                    and out_ev["ts_us"] <= in_ev["ts_us"], "out <= in",
                    (out_ev.get("ts_us"), in_ev.get("ts_us")))
            t.eq("%s len equal on both sides" % typ, in_ev.get("len"), out_ev.get("len"))


def test_tls12(t, server, client, certs):
    """3. --tls-max 1.2: TLS 1.2 with an ECDHE ServerKeyExchange."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client exit status", r.rc, 0)
        t.contains("body", r.text, "TLSv1.2")
        c = r.conn()
        t.eq("handshake_done.version", (first(c, "handshake_done") or {}).get("version"), "TLSv1.2")
        assert_order(t, "client TLS 1.2", c, [
            E("message", type="ClientHello", dir="out"), E("message", type="ServerHello", dir="in"),
            E("message", type="Certificate", dir="in"), E("message", type="ServerKeyExchange", dir="in"),
            E("message", type="ServerHelloDone", dir="in"),
            E("message", type="ClientKeyExchange", dir="out"),
            E("message", type="ChangeCipherSpec", dir="out"), E("message", type="Finished", dir="out"),
            E("message", type="ChangeCipherSpec", dir="in"), E("message", type="Finished", dir="in"),
            "handshake_done", "request", "response"])
        s = srv.conn_events(r.local())
        t.eq("server handshake_done.version", (first(s, "handshake_done") or {}).get("version"),
             "TLSv1.2")
        t.check("server sent ServerKeyExchange", events(s, "message", type="ServerKeyExchange",
                                                        dir="out"), "present", summary(s))
        t.eq("key_exchange.kx", (first(c, "key_exchange") or {}).get("kx"), "ECDHE")


def test_keylog_and_output(t, server, client, certs, tmp_path):
    """Client extras: --keylog (mode 0600, NSS lines), SSLKEYLOGFILE, -o FILE, -I."""
    with server(selfsigned=None) as srv:
        port = srv.port("https")
        kl = os.path.join(tmp_path, "keylog.txt")
        out = os.path.join(tmp_path, "body.html")
        r = client("--cacert", certs.ca, "--keylog", kl, "-o", out, "https://localhost:%d/" % port)
        t.eq("--keylog -o: exit", r.rc, 0)
        t.eq("-o: nothing on stdout", r.out, b"")
        body = open(out, "rb").read() if os.path.exists(out) else b""
        t.contains("-o: body in the file", body.decode("utf-8", "replace"), "your connection")
        t.check("--keylog: file exists", os.path.exists(kl), kl, "missing")
        if os.path.exists(kl):
            t.eq("--keylog: mode", oct(stat.S_IMODE(os.stat(kl).st_mode)), oct(0o600))
            text = open(kl).read()
            for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"):
                t.contains("--keylog: %s line" % label, text, label)
        env_kl = os.path.join(tmp_path, "env-keylog.txt")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port, env={"SSLKEYLOGFILE": env_kl})
        t.eq("SSLKEYLOGFILE: exit", r.rc, 0)
        t.check("SSLKEYLOGFILE: file written", os.path.exists(env_kl) and
                "CLIENT_TRAFFIC_SECRET_0" in open(env_kl).read(), "secrets", "missing")
        r = client("-I", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("-I: exit", r.rc, 0)
        t.eq("-I: request.method", (first(r.ev, "request") or {}).get("method"), "HEAD")
        t.eq("-I: response.status", (first(r.ev, "response") or {}).get("status"), 200)


def test_keylog_refuses_unsafe_files(t, server, client, certs, tmp_path):
    """Issue 12 item 8: --keylog (and SSLKEYLOGFILE) refuses a file that is not a regular file
    of ours that no one else can read or write: a symbolic link, a FIFO, a world-writable or
    group-readable file, another user's file. Nothing is written to it and the client exits 2
    (usage) before it connects; our own 0600 file is appended to as before."""
    with server(selfsigned=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")

        def refused(what, path, why, env=False):
            before = open(path, "rb").read() if os.path.isfile(path) else None
            if env:
                r = client("--cacert", certs.ca, url, env={"SSLKEYLOGFILE": path}, timeout=10)
            else:
                r = client("--cacert", certs.ca, "--keylog", path, url, timeout=10)
            t.eq("%s: exit 2 (refused)" % what, r.rc, 2)
            t.contains("%s: says why" % what, r.err, why)
            t.check("%s: no connection made" % what, not events(r.ev, "connect"), "none",
                    [e.get("event") for e in r.ev])
            if before is not None:
                t.eq("%s: file untouched" % what, open(path, "rb").read(), before)

        target = os.path.join(tmp_path, "target.txt")
        with open(target, "w") as f:
            f.write("mine\n")
        os.chmod(target, 0o600)
        link = os.path.join(tmp_path, "link.txt")
        os.symlink(target, link)
        refused("symlink", link, "symbolic link")
        refused("symlink via SSLKEYLOGFILE", link, "symbolic link", env=True)
        t.eq("symlink: its target untouched", open(target).read(), "mine\n")

        fifo = os.path.join(tmp_path, "fifo")
        os.mkfifo(fifo, 0o600)
        refused("FIFO", fifo, "not a regular file")

        for mode in (0o666, 0o644, 0o640, 0o620, 0o602):
            f = os.path.join(tmp_path, "mode-%o.txt" % mode)
            open(f, "w").close()
            os.chmod(f, mode)
            refused("mode %04o" % mode, f, "lets other users read or write it")

        if os.geteuid() == 0:
            theirs = os.path.join(tmp_path, "theirs.txt")
            open(theirs, "w").close()
            os.chmod(theirs, 0o600)
            os.chown(theirs, 65534, 65534)
            refused("another user's 0600 file", theirs, "belongs to user 65534")

        own = os.path.join(tmp_path, "own.txt")
        with open(own, "w") as f:
            f.write("# earlier\n")
        os.chmod(own, 0o600)
        r = client("--cacert", certs.ca, "--keylog", own, url)
        t.eq("own 0600 file: exit", r.rc, 0)
        text = open(own).read()
        t.check("own 0600 file: appended to", text.startswith("# earlier\n") and
                "CLIENT_TRAFFIC_SECRET_0" in text, "earlier line + secrets", text[:200])


def test_ipv6(t, server, client, certs):
    """8. https://[::1]:PORT/ with --cacert; localhost logs a resolve event."""
    with server(selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("https://localhost: exit", r.rc, 0)
        rs = first(r.ev, "resolve") or {}
        t.eq("resolve.host", rs.get("host"), "localhost")
        t.check("resolve.count >= 1", isinstance(rs.get("count"), int) and rs["count"] >= 1,
                ">= 1", rs.get("count"))
        if not ipv6_usable():
            t.skip("::1 is not usable here (cannot bind a socket to it)")
        srv.wait_for(lambda e: e.get("event") == "listen" and e.get("addr") == "[::1]:%d" % port)
        r = client("--cacert", certs.ca, "https://[::1]:%d/" % port)
        t.eq("https://[::1]: exit", r.rc, 0)
        t.contains("body", r.text, "your connection")
        c = r.conn()
        t.eq("connect.remote", (first(c, "connect") or {}).get("remote"), "[::1]:%d" % port)
        t.eq("hostname.match", (first(c, "hostname") or {}).get("match"), True)
        s = srv.conn_events(r.local())
        t.check("server logged the IPv6 connection", s, r.local(), summary(srv.evs))
        t.eq("server established.local", (first(s, "established") or {}).get("local"),
             "[::1]:%d" % port)
        check_tcp_states(t, "client log", r.ev)
        hp = srv.port("http")
        r = client("http://[::1]:%d/" % hp)
        t.eq("http://[::1]: exit", r.rc, 0)


def test_localhost_fallback(t, server, client, certs):
    """A name with several addresses is tried address by address: the refused one logs
    its RST (reset), the next one works."""
    try:
        infos = socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)
    except OSError as x:
        t.skip("localhost does not resolve: %s" % x)
    addrs = []
    for fam, _, _, _, sa in infos:
        if sa[0] not in addrs:
            addrs.append(sa[0])
    if len(addrs) < 2 or not ipv6_usable():
        t.skip("localhost resolves to %s only (needs both ::1 and 127.0.0.1)" % addrs)
    second = addrs[1]
    with server(http=None, selfsigned=None, bind=second) as srv:
        port = srv.port("https")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("exit", r.rc, 0)
        t.eq("resolve.count", (first(r.ev, "resolve") or {}).get("count"), len(addrs))
        conns = sorted({e.get("conn") for e in events(r.ev, "connect")})
        t.eq("two connection attempts", len(conns), 2)
        t.check("the first attempt (%s) was refused with a reset" % addrs[0],
                conns and events(r.conn(conns[0]), "reset"), "reset", summary(r.ev))
        host = "[%s]" % second if ":" in second else second
        t.eq("the second attempt reached %s" % second,
             (first(r.conn(), "connect") or {}).get("remote"), "%s:%d" % (host, port))
