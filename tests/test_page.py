"""Issue 14 item 1: GET / shows this very connection, built from the server's own events for it
(its record): the SYN's options, the ClientHello as this client sent it and what the server
chose and why, the certificate, what an eavesdropper saw, the request's number on its
connection; /?text the same in plain text; everything from the network escaped; with -q the page
says that nothing is kept."""

import os
import re
import socket
import tempfile
import time

import pytest

from harness.env import SAN, SLOW, VALGRIND
from harness.log import events
from harness.net import http_exchange, split_response
from harness.peers import chromium_dump, net_errors
from harness.procs import listen_ports


def curl_page(t, run, curl, certs, url, *extra):
    r = run([curl, "-sS", "--cacert", certs.ca] + list(extra) + [url])
    t.eq("curl %s: exit" % url, r.rc, 0)
    return r.out.decode("utf-8", "replace")


def est_of(srv, local):
    """The server's established event of the connection from `local` (host:port)."""
    return srv.wait_for(lambda e: e.get("event") == "established" and e.get("remote") == local)


def test_page_http_text(t, server, run, curl, certs):
    """Plain HTTP: the SYN's options as the server's log has them, where they come from, and
    what an eavesdropper read: the request's head byte for byte."""
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        data, _ = http_exchange(port, b"GET /?text HTTP/1.1\r\nHost: localhost\r\n"
                                b"X-Lab: one two\r\nConnection: close\r\n\r\n")
        status, hdrs, body, _ = split_response(data)
        page = body.decode("utf-8", "replace")
        t.eq("?text: 200", status, 200)
        t.contains("?text: text/plain", hdrs.get("content-type", ""), "text/plain")
        t.check("?text: no HTML", "<html" not in page and "<td>" not in page, "plain", page[:300])
        # the log is read by a thread of the harness: wait for the line, do not race it
        est = srv.wait_for(lambda e: e.get("event") == "established") or {}
        t.check("the log has the client's SYN options", est.get("syn_from") == "saved",
                "syn_from saved", est)
        t.contains("the page: the SYN's MSS, as logged", page,
                   "your SYN's MSS         %s bytes" % est.get("syn_mss"))
        t.contains("the page: the SYN's window scale", page,
                   "your SYN's window scale %s" % est.get("syn_wscale"))
        t.contains("the page: SACK", page, "your SYN's SACK        permitted")
        t.contains("the page: where they come from", page, "TCP_SAVED_SYN")
        t.contains("the page: the 4-tuple", page, "%s (you) -> %s (this server)" % (
            est.get("remote"), est.get("local")))
        t.contains("the page: the RTT", page, "round-trip time        %.3f ms" % est.get("rtt_ms", -1))
        t.contains("the page: the eavesdropper read the request as it came", page,
                   "GET /?text HTTP/1.1\\r\\n\n    Host: localhost\\r\\n\n    X-Lab: one two\\r\\n")
        t.contains("the page: request 1", page, "request 1 on this connection")
        t.check("the page: no TLS section over plain HTTP", "ClientHello" not in page,
                "no ClientHello", page[:200])
        # the HTML form: the same facts, in a page
        html = curl_page(t, run, curl, certs, "http://127.0.0.1:%d/" % port)
        t.contains("HTML: the title", html, "<title>handshake-lab: your connection</title>")
        t.contains("HTML: the request in a <pre>", html, '<pre class="wire">GET / HTTP/1.1\\r\\n')
        t.contains("HTML: the ladder or an honest line", html, "ladder not available"
                   if "<svg" not in html else "<svg")


def test_page_https_curl(t, server, run, curl, certs):
    """curl --curves X25519:P-256 over HTTPS: the page names what curl's ClientHello offered
    (its groups, its one key share, its suites), the chosen group and why, the certificate, the
    demo CA's name constraints and the TLS record headers the path saw."""
    with server(http=None, selfsigned=None) as srv:
        url = "https://localhost:%d/?text" % srv.port("https")
        page = curl_page(t, run, curl, certs, url, "--curves", "X25519:P-256")
        t.contains("supported_groups as sent", page,
                   "supported_groups       X25519 (0x001d), P-256 (0x0017)\n")
        t.contains("one key share, X25519", page,
                   "key shares             X25519 (0x001d): 32-byte public key\n")
        t.contains("the suites offered, by name", page, "TLS_AES_256_GCM_SHA384 (0x1302)")
        t.contains("the chosen group", page, "Key exchange group: X25519.")
        t.contains("why", page, "X25519 (0x001d): the first share for a group this server "
                   "supports: used, no extra round trip.")
        hd = srv.wait_for(lambda e: e.get("event") == "handshake_done") or {}
        t.contains("the cipher, as logged, and why", page, "Cipher suite: %s, number" %
                   hd.get("cipher"))
        t.contains("ALPN: why http/1.1", page, "this server speaks HTTP/1.1 only, so it takes "
                   "http/1.1")
        t.contains("the SNI", page, "SNI                    localhost\n")
        t.contains("the certificate's subject", page, "subject                CN=localhost,"
                   "O=handshake-lab")
        t.contains("its names", page, "DNS:localhost")
        t.contains("the demo CA's name constraints", page, "its name constraints   Permitted: "
                   "DNS:localhost")
        t.check("the record headers: the ClientHello's record, in from the client",
                re.search(r"\n +1 +[0-9.]+  client -> server handshake +\(22\) 0x0301  "
                          r"length \d+\n", page), "row 1", page[-1500:])
        t.check("the record headers: this request's application data",
                re.search(r"client -> server application_data +\(23\) 0x0303", page),
                "an application_data row", page[-1500:])
        t.contains("the full decode (dissect)", page, "      share: X25519 (0x001d), "
                   "32-byte public key")
        t.check("no request 2 on a new connection", "request 1 on this connection" in page,
                "request 1", page[:600])


def test_page_hrr(t, server, run, openssl, certs):
    """server --groups P-256 and a client whose only key share is X25519: the page shows the
    HelloRetryRequest and says why (X25519 not among the server's groups)."""
    with server("--groups", "P-256", http=None, selfsigned=None) as srv:
        port = srv.port("https")
        req = b"GET /?text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        r = run([openssl, "s_client", "-quiet", "-connect", "127.0.0.1:%d" % port,
                 "-servername", "localhost", "-groups", "X25519:P-256", "-CAfile", certs.ca],
                stdin=req)
        page = r.out.decode("utf-8", "replace")
        srv.wait_for(lambda e: e.get("type") == "HelloRetryRequest")   # the log's reader thread
        t.eq("the server logged a HelloRetryRequest",
             [e.get("group") for e in events(srv.evs, "message", type="HelloRetryRequest")],
             ["P-256"])
        t.contains("the key share offered", page, "key shares             X25519 (0x001d)")
        t.contains("the server's groups", page, "this server's groups, its --groups: P-256")
        t.contains("X25519 skipped, and why", page, "X25519 (0x001d): not among this server's "
                   "groups: skipped.")
        t.contains("the HelloRetryRequest, and why", page, "None of your key shares fit, so "
                   "the server answered with a HelloRetryRequest asking for P-256")
        t.contains("the group used", page, "key exchange group     P-256\n")
        t.contains("one more round trip on the TLS line", page, "; one more round trip: a "
                   "HelloRetryRequest")
        hs_times_agree(t, page)
        clear, enc = clear_and_encrypted(t, page)
        t.check("in clear: the HelloRetryRequest, both ClientHellos and the ServerHello",
                "HelloRetryRequest" in clear and clear.count("ClientHello") == 2 and
                "ServerHello" in clear, "all four", clear)
        t.check("in clear: no Certificate (TLS 1.3 encrypts it; the certificate section says "
                "so too)", "Certificate" not in clear and "encrypted: TLS 1.3 hides it" in page,
                "encrypted", clear)
        t.contains("encrypted: the server's flight after the ServerHello", enc, "from the server: "
                   "EncryptedExtensions, Certificate, CertificateVerify, Finished")
        t.contains("the change_cipher_spec rows explained", page, "the change_cipher_spec (20) "
                   "records of one byte carry nothing")
        t.check("the groups: named, for a ClientHello that offered them",
                "its SNI 'localhost' and the groups you offered" in page, "named", page[-2500:])
        t.check("no 'same browser' to openssl s_client", "same browser" not in page, "absent",
                page[:0])
        t.contains("resumption: from the tickets this server sent", page, "a new connection "
                   "from your client may resume with one")
        t.contains("its 32-byte session ID: not called 'no session' without a caveat", page,
                   "your session ID is either the dummy a TLS 1.3 client sends or a TLS 1.2 "
                   "session (the ClientHello does not say which)")


def hs_times_agree(t, page):
    """The TCP section's 'TLS handshake' row: its two numbers are the events list's times of
    handshake_done and of handshake_done less handshake_start (not handshake_ms, which counts
    from the accept)."""
    m = re.search(r"TLS handshake +done ([\d.]+) ms after the accept; ([\d.]+) ms after its "
                  r"start \(handshake_start, at ([\d.]+) ms", page)
    st = re.search(r"\n +([\d.]+)  TLS  handshake_start ", page)
    hd = re.search(r"\n +([\d.]+)  TLS  handshake_done ", page)
    t.check("the TLS handshake row, with its start", m and st and hd, "row and both events",
            page[:3000])
    if m and st and hd:
        t.eq("'done X ms after the accept' = the events list's handshake_done", m.group(1),
             hd.group(1))
        t.eq("'at Z ms' = the events list's handshake_start", m.group(3), st.group(1))
        t.eq("'Y ms after its start' = handshake_done - handshake_start, as listed",
             m.group(2), "%.3f" % (float(hd.group(1)) - float(st.group(1))))


def clear_and_encrypted(t, page):
    """The eavesdropper section's lists: the handshake messages that crossed in clear, and
    those encrypted."""
    m = re.search(r"these crossed the path in clear: (.*?); encrypted \([^)]*\): (.*?)\. ",
                  page)
    t.check("the eavesdropper section lists what went in clear and what encrypted",
            m is not None, "both lists", page[-3000:])
    return (m.group(1), m.group(2)) if m else ("", "")


def test_page_tls12_rsa(t, server, run, curl, certs):
    """TLS 1.2 with RSA key transport (curl --tls-max 1.2, one RSA suite, the RSA port): no
    key share and no supported_groups offered, and the page says so without asking for one;
    the eavesdropper section names what went in clear from the record's events (Certificate,
    ServerHelloDone, ClientKeyExchange: no ServerKeyExchange), not only the hellos; the
    handshake's times agree with the events list."""
    with server("--rsa-port", "0", http=None, https=None, selfsigned=None) as srv:
        url = "https://localhost:%d/?text" % srv.port("rsa")
        page = curl_page(t, run, curl, certs, url, "--tls-max", "1.2", "--ciphers",
                         "AES128-GCM-SHA256")
        t.contains("TLS 1.2 negotiated", page, "HTTP/1.1 over TLSv1.2")
        t.contains("no key shares: said plainly, from the offered versions", page,
                   "key shares             none offered: you did not offer TLS 1.3, and TLS "
                   "1.2 and older have no key shares\n")
        t.check("no 'the server must ask for one' (TLS 1.2 asks for nothing)",
                "must ask" not in page, "absent", page[:0])
        t.contains("the why: TLS 1.2, RSA key transport", page, "RSA key transport, no group")
        hs_times_agree(t, page)
        clear, enc = clear_and_encrypted(t, page)
        t.eq("in clear, from the events: the whole TLS 1.2 handshake up to each side's "
             "ChangeCipherSpec", clear, "from you: ClientHello; from the server: ServerHello, "
             "Certificate, ServerHelloDone; from you: ClientKeyExchange, ChangeCipherSpec; from "
             "the server: ChangeCipherSpec")
        t.eq("encrypted: the Finished messages", enc, "from you: Finished; from the server: "
             "Finished")
        hs = [e.get("type") for e in events(srv.evs, "message")]
        t.check("the log: no ServerKeyExchange (RSA key transport), as the page says",
                "ServerKeyExchange" not in hs and "ServerKeyExchange" not in page, "absent", hs)
        t.check("no 'except the hellos' (false before TLS 1.3)", "except the hellos" not in page,
                "absent", page[-2500:])
        t.check("no 'the groups you offered' when none were", "groups you offered" not in page,
                "absent", page[-2500:])
        t.contains("the certificate section agrees: in clear", page, "in clear: before TLS 1.3 "
                   "the path sees it")
        t.contains("encrypted records keep their type before 1.3", page, "Before TLS 1.3 an "
                   "encrypted record keeps its real type")
        t.check("no 'same browser' to curl", "same browser" not in page, "absent", page[:0])
        t.contains("no ticket sent: said, no promise of resumption", page, "Resumed: no; you "
                   "offered no session to resume: a full handshake. The server sent no session "
                   "ticket on this connection.")
        t.check("the records kept: all of them, said so",
                re.search(r"\n(\d+) records so far, all kept \(the server keeps the first 24 "
                          r"and the last 8\)", page), "all kept", page[-400:])


def test_page_keepalive(t, server, run, curl, certs):
    """Two requests on one connection: the second page says it is request 2 on the same
    connection, and how long after the previous answer (a raw socket over HTTP; curl with two
    URLs over HTTPS). The socket waits 300 ms before its first request, as a browser's spare
    connection does: the first page says the connection sat open and unused that long."""
    with server(selfsigned=None) as srv:
        req = b"GET /?text HTTP/1.1\r\nHost: localhost\r\n\r\n"
        pages = []
        with socket.create_connection(("127.0.0.1", srv.port("http")), timeout=5 * SLOW) as s:
            buf = b""
            local = "127.0.0.1:%d" % s.getsockname()[1]
            srv.wait_for(lambda e: e.get("event") == "established" and e.get("remote") == local)
            time.sleep(0.3)     # the subject of the test: a connection opened ahead of need
            for _ in range(2):
                s.sendall(req)
                while True:
                    head, sep, rest = buf.partition(b"\r\n\r\n")
                    m = re.search(rb"content-length: *(\d+)", head, re.I)
                    if sep and m and len(rest) >= int(m.group(1)):
                        n = int(m.group(1))
                        pages.append(rest[:n].decode("utf-8", "replace"))
                        buf = rest[n:]
                        break
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
        t.eq("two pages on one socket", len(pages), 2)
        if len(pages) == 2:
            t.contains("the first: request 1", pages[0], "request 1 on this connection")
            m = re.search(r"sat open and unused for ([\d.]+) ms after its accept", pages[0])
            t.check("the first: it sat open and unused >= 300 ms (a spare connection)",
                    m is not None and float(m.group(1)) >= 300, ">= 300 ms", pages[0][:600])
            t.check("the second: how long after the previous answer",
                    re.search(r"keep-alive\), [\d.]+ ms after the server wrote its previous answer",
                              pages[1])
                    is not None, "N ms after the previous answer", pages[1][:600])
            t.contains("the second: request 2 on the same connection", pages[1],
                       "request 2 on this connection: it came on the same connection")
            t.contains("the second shows the first response in its events", pages[1],
                       "HTTP > 200 ")
        url = "https://localhost:%d/?text" % srv.port("https")
        both = curl_page(t, run, curl, certs, url, url)
        t.contains("curl, two URLs: the second page is request 2", both,
                   "request 2 on this connection")
        srv.wait_count("handshake_done", 1)
        t.eq("curl, two URLs: one TLS handshake", len(events(srv.evs, "handshake_done")), 1)


def test_page_escapes(t, server, run, openssl, certs):
    """A hostile SNI (markup and control bytes), request target and header: escaped in the
    HTML page and, in the text form, no control byte gets through."""
    with server(selfsigned=None) as srv:
        data, _ = http_exchange(srv.port("http"), b"GET /?x=<script>alert(1)</script> HTTP/1.1"
                                b"\r\nHost: localhost\r\nUser-Agent: <img src=x onerror=y>\x9b"
                                b"\xc2\x9b\r\nConnection: close\r\n\r\n")
        status, _, body, _ = split_response(data)
        t.eq("hostile target: 200", status, 200)
        t.check("HTML: no <script> or <img from the request", b"<script" not in body and
                b"<img" not in body, "escaped", body[:200])
        t.contains("HTML: the target, escaped", body.decode("utf-8", "replace"),
                   "GET /?x=&lt;script&gt;alert(1)&lt;/script&gt; HTTP/1.1\\r\\n")
        t.contains("HTML: a stray byte and a C1 control as \\xNN", body.decode("utf-8", "replace"),
                   "&gt;\\x9b\\xc2\\x9b\\r\\n")
        sni = "<script>x\x01\x1b[31m"
        for target, what in (("/", "HTML"), ("/?text", "text")):
            req = ("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" %
                   target).encode()
            r = run([openssl, "s_client", "-quiet", "-connect", "127.0.0.1:%d" %
                     srv.port("https"), "-servername", sni, "-CAfile", certs.ca], stdin=req)
            t.check("%s: a page came" % what, b"your connection" in r.out, "page", r.out[:300])
            t.check("%s: no control byte from the SNI" % what, b"\x01" not in r.out and
                    b"\x1b" not in r.out, "none", r.out[:300])
            if what == "HTML":
                t.check("HTML: no <script from the SNI", b"<script" not in r.out, "escaped",
                        r.out[:300])
                t.contains("HTML: the SNI escaped", r.out.decode("utf-8", "replace"),
                           "&lt;script&gt;x\\x01\\x1b[31m")
            else:
                t.contains("text: the SNI with \\xNN", r.out.decode("utf-8", "replace"),
                           "SNI                    <script>x\\x01\\x1b[31m")
        # a right-to-left override (U+202E) in the SNI: the log writes it \u202e, the page shows
        # it so, never obeyed (it would reorder what the page says)
        req = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        r = run([openssl, "s_client", "-quiet", "-connect", "127.0.0.1:%d" % srv.port("https"),
                 "-servername", "abc\u202etxt.exe", "-CAfile", certs.ca], stdin=req)
        page = r.out.decode("utf-8", "replace")
        t.check("HTML: no raw U+202E from the SNI", "\u202e" not in page, "none", page[:300])
        t.contains("HTML: the SNI's U+202E shown as \\u202e", page, "abc\\u202etxt.exe")


@pytest.mark.story_off("-q: the server logs nothing")
def test_page_quiet(t, server):
    """-q: no event log, so no record: the page says so and shows what the connection still
    knows (the table of before)."""
    with server("-q", https=None, selfsigned=None, ready=False) as srv:
        ports = listen_ports(srv.pid)
        t.eq("-q: one listening port", len(ports), 1)
        if not ports:
            return
        data, _ = http_exchange(ports[0], b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                                b"Connection: close\r\n\r\n")
        status, _, body, _ = split_response(data)
        page = body.decode("utf-8", "replace")
        t.eq("-q: 200", status, 200)
        t.contains("-q: says no record is kept", page, "without its event log (-q)")
        t.contains("-q: the old table", page, "<tr><th>key exchange group</th><td>none</td>")
        t.check("-q: no ClientHello or eavesdropper section", "eavesdropper" not in page,
                "none", page[:300])


@pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again under SAN=1 or "
                    "valgrind (a whole browser)")
def test_page_chromium(t, server, run, certs, tmp_path, procs, chromium, certutil):
    """Headless Chromium with the demo CA trusted: the page names Chromium's own GREASE and
    X25519MLKEM768 key share, and says X25519 was chosen and why."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    nss = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nss)
    env = {"HOME": home}
    t.eq("certutil -N: exit", run([certutil, "-d", "sql:" + nss, "-N", "--empty-password"],
                                  env=env).rc, 0)
    t.eq("certutil -A (the demo CA): exit", run([certutil, "-d", "sql:" + nss, "-A", "-t", "C,,",
                                                 "-n", "handshake-lab", "-i", certs.ca],
                                                env=env).rc, 0)
    with server(http=None, selfsigned=None) as srv:
        what = "chromium"
        dom, err = chromium_dump(t, procs, chromium, home, "https://localhost:%d/" %
                                 srv.port("https"), what)
        t.eq("%s: no net:: error" % what, net_errors(err), [])
        t.contains("%s: the page" % what, dom, "Your connection")
        t.check("%s: GREASE among its groups, named" % what,
                re.search(r"supported_groups</th><td>GREASE \(0x([0-9a-f])a\1a\), "
                          r"X25519MLKEM768 \(0x11ec\)", dom), "GREASE, X25519MLKEM768", dom[:0])
        t.contains("%s: the post-quantum share, and why it was skipped" % what, dom,
                   "X25519MLKEM768 (0x11ec): post-quantum hybrid; this server's OpenSSL")
        t.contains("%s: ... has no ML-KEM" % what, dom, "has no ML-KEM: skipped.")
        t.contains("%s: X25519 chosen, and why" % what, dom, "X25519 (0x001d): the first share "
                   "for a group this server supports: used, no extra round trip.")
        t.contains("%s: GREASE explained" % what, dom, "GREASE (RFC 8701)")
        t.contains("%s: the ladder, drawn inline" % what, dom, '<div class="ladder"><svg')
        srv.wait_for(lambda e: e.get("type") == "ClientHello")
        hello = [e for e in srv.evs if e.get("event") == "message" and
                 e.get("type") == "ClientHello"]
        t.check("%s: a ClientHello of over 1.5 KB (the hybrid share)" % what,
                hello and hello[0].get("len", 0) > 1500, "> 1500 B", hello[:1])


def test_page_no_ca_file(t, server, run, curl, certs, tmp_path):
    """The certificates' folder without ca.crt: the page still shows the certificate and says
    the CA's name constraints are not known, and why."""
    import shutil
    d = tmp_path / "certs-no-ca"
    d.mkdir()
    for f in ("server.crt", "server.key"):
        shutil.copy(os.path.join(certs.dir, f), str(d / f))
    with server(http=None, selfsigned=None, certs=str(d)) as srv:
        page = curl_page(t, run, curl, certs, "https://localhost:%d/?text" % srv.port("https"))
        t.contains("the certificate", page, "subject                CN=localhost")
        t.contains("the CA file is missing: said so", page, "its name constraints   not known: "
                   "%s/ca.crt could not be read" % d)


def test_page_resumed(t, server, run, openssl, certs, tmp_path):
    """A TLS 1.3 resumption (openssl s_client -sess_out, then -sess_in): the summary says an
    earlier session was resumed without claiming how (TLS 1.2 resumes by session ID too), the
    why names the pre_shared_key, and nothing says a certificate crossed."""
    sess = str(tmp_path / "sess.pem")
    req = b"GET /?text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        base = [openssl, "s_client", "-quiet", "-connect", "127.0.0.1:%d" % port,
                "-servername", "localhost", "-CAfile", certs.ca]
        run(base + ["-sess_out", sess], stdin=req)
        page = run(base + ["-sess_in", sess], stdin=req).out.decode("utf-8", "replace")
        srv.wait_count("handshake_done", 2)
        t.eq("the log: the second handshake resumed",
             [e.get("resumed") for e in events(srv.evs, "handshake_done")], [False, True])
        t.contains("the summary: resumed, no claim of a ticket", page, "session resumed        "
                   "yes: an abbreviated handshake that resumed an earlier session (no "
                   "certificate sent)")
        t.contains("the why: the ticket offered", page, "Resumed: yes. You offered a session "
                   "ticket (pre_shared_key) and the server accepted it")
        clear, enc = clear_and_encrypted(t, page)
        t.check("no Certificate in either list (none was sent)", "Certificate" not in clear and
                "Certificate" not in enc, "none", (clear, enc))
        hs_times_agree(t, page)
