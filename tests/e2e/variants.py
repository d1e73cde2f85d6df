# TLS variants side by side (issue 5, item 3) and many requests / session resumption (item 5):
# server --rsa-port, client --kx rsa|ecdhe, -n N, --reconnect N, scripts/compare.py.
# Runs in tests/run.py's namespace.


def rsa_server(t, *extra, **kw):
    """A server with only the RSA listener (and whatever else kw turns on)."""
    kw.setdefault("http", None)
    kw.setdefault("https", None)
    kw.setdefault("selfsigned", None)
    return start_server(t, "--rsa-port", "0", *extra, **kw)


def hs_msgs(c, direction=None):
    """The TLS message types of one connection's log, in order, up to handshake_done
    (a TLS 1.3 NewSessionTicket is after the handshake even when read before the client
    logged handshake_done)."""
    tls13 = (first(c, "handshake_done") or {}).get("version") == "TLSv1.3"
    out = []
    for e in c:
        if e.get("event") == "handshake_done":
            break
        if e.get("event") == "message" and (direction is None or e.get("dir") == direction) \
                and not (tls13 and e.get("type") == "NewSessionTicket"):
            out.append(e.get("type"))
    return out


@test
def test_variant_rsa_key_transport(t):
    """--tls-max 1.2 --kx rsa: ServerHelloDone without ServerKeyExchange, a 262-byte
    ClientKeyExchange (RSA-2048), key_exchange says RSA and no forward secrecy; against the
    ECDSA certificate a hint to use --rsa-port."""
    with rsa_server(t, https=0) as srv:
        port = srv.port("rsa")
        t.check("listen event of kind rsa has a port", isinstance(port, int) and port > 0, "port", port)
        r = run_client(t, "--tls-max", "1.2", "--kx", "rsa", "--cacert", CA,
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
        r2 = run_client(t, "--kx", "rsa", "--cacert", CA, "https://localhost:%d/" % srv.port("https"))
        t.eq("--kx rsa against the ECDSA port: exit 35", r2.rc, 35)
        t.contains("--kx rsa against the ECDSA port: the hint names --rsa-port",
                   (first(r2.ev, "error") or {}).get("detail", ""), "needs an RSA certificate")
        s = srv.conn_events(r.local())
        t.eq("server key_exchange.kx", (first(s, "key_exchange") or {}).get("kx"), "RSA")
        t.check("server sent no ServerKeyExchange",
                not events(s, "message", type="ServerKeyExchange"), "absent", summary(s))
        t.eq("server received a 262-byte ClientKeyExchange",
             (first(s, "message", type="ClientKeyExchange", dir="in") or {}).get("len"), 262)


@test
def test_variant_ecdhe_and_tls13(t):
    """--tls-max 1.2 (and --kx ecdhe): a signed ServerKeyExchange; TLS 1.3: EncryptedExtensions,
    the Certificate after the ServerHello (encrypted), no ServerKeyExchange."""
    with rsa_server(t) as srv:
        url = "https://localhost:%d/" % srv.port("rsa")
        for flags in (["--tls-max", "1.2"], ["--tls-max", "1.2", "--kx", "ecdhe"],
                      ["--kx", "ecdhe"]):
            r = run_client(t, "--cacert", CA, *flags, url)
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
        r = run_client(t, "--cacert", CA, url)
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


@test
def test_variant_kx_errors(t):
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
        r = run_client(t, *args, "https://localhost:1/", json_log=False)
        t.eq("%s: exit 2" % " ".join(args), r.rc, 2)
        t.contains("%s: message" % " ".join(args), r.err, want)
        t.eq("%s: one message line plus the --help hint" % " ".join(args),
             len(r.err.strip().splitlines()), 2)
    # the TLS flags with an http:// URL: each a warning that it does nothing, not an error
    with start_server(t, https=None, selfsigned=None) as srv:
        flags = [["--kx", "rsa"], ["--groups", "P-256"], ["--dissect"], ["--tls-max", "1.2"],
                 ["--tls-min", "1.2"]]
        r = run_client(t, *sum(flags, []), "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("TLS flags with http://: exit 0", r.rc, 0)
        warns = [e.get("detail", "") for e in events(r.ev, "warning")]
        r = run_client(t, "--ciphers", "AES128-SHA", "http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("--ciphers with http://: exit 0", r.rc, 0)
        warns += [e.get("detail", "") for e in events(r.ev, "warning")]
        for f in flags + [["--ciphers"]]:
            t.check("%s with http://: a warning" % f[0],
                    any(w.startswith(f[0] + " has no effect on http://") for w in warns),
                    "'%s has no effect on http://'" % f[0], warns)
    r = run_cmd(t, [SERVER, "--rsa-port", "x"])
    t.eq("server --rsa-port x: exit 2", r.rc, 2)
    t.contains("server --rsa-port x: message", r.err, "bad port 'x'")


@test
def test_variant_rsa_port_missing_cert(t):
    """--rsa-port without server-rsa.crt: a clear error naming the file and the fix."""
    d = tempfile.mkdtemp(prefix="hl-norsa-")
    _cleanup.append(d)
    for f in ("ca.crt", "server.crt", "server.key"):
        shutil.copy(os.path.join(CERTS, f), d)
    r = run_cmd(t, [SERVER, "--certs", d, "--http-port", "off", "--https-port", "0",
                    "--selfsigned-port", "off", "--rsa-port", "0"], timeout=10)
    t.eq("server exit status", r.rc, 1)
    t.contains("names the missing file", r.err, "server-rsa.crt")
    t.contains("says how to make it", r.err, "make certs")
    t.contains("names the flag", r.err, "--rsa-port")


@test
def test_variant_curl_rsa(t):
    """curl --tls-max 1.2 --ciphers AES128-GCM-SHA256 against --rsa-port: RSA key transport
    from another client, seen in our server's log."""
    curl = need(t, "curl")
    with rsa_server(t) as srv:
        port = srv.port("rsa")
        r = run_cmd(t, [curl, "-sS", "--cacert", CA, "--tls-max", "1.2", "--ciphers",
                        "AES128-GCM-SHA256", "https://localhost:%d/?text" % port])
        t.eq("curl exit status", r.rc, 0)
        t.contains("curl got the page over TLS 1.2", r.text, "TLSv1.2")
        kx = srv.wait_for(lambda e: e.get("event") == "key_exchange")
        t.eq("server key_exchange.kx for curl", (kx or {}).get("kx"), "RSA")
        hd = srv.wait_for(lambda e: e.get("event") == "handshake_done") or {}
        t.eq("server handshake_done.cipher", hd.get("cipher"), "TLS_RSA_WITH_AES_128_GCM_SHA256")


@test
def test_many_requests(t):
    """-n 3: one connection, one handshake, three request/response pairs, bodies concatenated,
    and a summary; on the server: one connection with three requests."""
    with start_server(t, selfsigned=None) as srv:
        for scheme in ("https", "http"):
            url = "%s://localhost:%d/" % (scheme, srv.port(scheme))
            r = run_client(t, "--cacert", CA, "-n", "3", url)
            t.eq("%s: exit status" % scheme, r.rc, 0)
            est = events(r.ev, "established")
            t.eq("%s: one TCP connection" % scheme, len(est), 1)
            c = r.conn()
            t.eq("%s: handshakes" % scheme, len(events(c, "handshake_done")),
                 1 if scheme == "https" else 0)
            t.eq("%s: ClientHellos" % scheme, len(events(c, "message", type="ClientHello")),
                 1 if scheme == "https" else 0)
            t.eq("%s: request numbers" % scheme, [e.get("req") for e in events(c, "request")],
                 [1, 2, 3])
            t.eq("%s: response numbers" % scheme, [e.get("req") for e in events(c, "response")],
                 [1, 2, 3])
            assert_order(t, "%s: request/response pairs" % scheme, c, [
                E("request", req=1), E("response", req=1), E("body", req=1),
                E("request", req=2), E("response", req=2), E("body", req=2),
                E("request", req=3), E("response", req=3), E("body", req=3),
                "fin_sent", "closed"])
            bodies = [e.get("bytes") for e in events(c, "body")]
            t.eq("%s: body sizes add up to stdout" % scheme, sum(b or 0 for b in bodies), len(r.out))
            t.eq("%s: three pages on stdout" % scheme, r.text.count("</html>"), 3)
            summ = [e for e in events(r.ev, "summary") if "connections" in e]
            t.eq("%s: summary: 1 connection, 3 requests, 3 responses" % scheme,
                 [(e.get("connections"), e.get("requests"), e.get("responses")) for e in summ],
                 [(1, 3, 3)])
            if scheme == "http":
                # the first response over --max-filesize: one request was sent, none came whole
                r2 = run_client(t, "-n", "2", "--max-filesize", "100", url)
                t.eq("-n 2 --max-filesize 100: exit 63", r2.rc, 63)
                summ = [e for e in events(r2.ev, "summary") if "connections" in e]
                t.eq("-n 2 --max-filesize 100: summary counts the request sent, 0 responses whole",
                     [(e.get("requests"), e.get("responses")) for e in summ], [(1, 0)])
                t.contains("-n 2 --max-filesize 100: summary detail",
                           summ[0].get("detail", "") if summ else "",
                           "1 request (0 responses whole)")
            s = srv.conn_events(r.local())
            t.eq("%s: server saw 3 requests on one connection" % scheme,
                 len(events(s, "request")), 3)
        # A server that closes after each response: -n cannot go on.
    with start_server(t, "--close-first", "server", https=None, selfsigned=None) as srv:
        r = run_client(t, "-n", "3", "http://localhost:%d/" % srv.port("http"))
        t.eq("server closes after each response: exit 1", r.rc, 1)
        t.contains("server closes after each response: why",
                   (first(r.ev, "error") or {}).get("detail"), "after request 1 of 3")


def check_resumption(t, what, r, version):
    t.eq("%s: exit status" % what, r.rc, 0)
    est = events(r.ev, "established")
    t.eq("%s: two TCP connections" % what, len(est), 2)
    if len(est) < 2:
        return
    c1, c2 = r.conn(est[0]["conn"]), r.conn(est[1]["conn"])
    d1, d2 = first(c1, "handshake_done") or {}, first(c2, "handshake_done") or {}
    t.eq("%s: connection 1 resumed" % what, d1.get("resumed"), False)
    t.eq("%s: connection 2 resumed" % what, d2.get("resumed"), True)
    t.eq("%s: versions" % what, (d1.get("version"), d2.get("version")), (version, version))
    t.check("%s: connection 1 got a Certificate" % what,
            "Certificate" in hs_msgs(c1, "in"), "Certificate", hs_msgs(c1))
    t.check("%s: connection 2 got no Certificate" % what,
            "Certificate" not in hs_msgs(c2) and not events(c2, "verify"),
            "no Certificate, no verify", hs_msgs(c2))
    ch2 = first(c2, "message", type="ClientHello") or {}
    t.contains("%s: the second ClientHello offers the ticket" % what, ch2.get("summary"),
               "session ticket")
    kx2 = first(c2, "key_exchange") or {}
    t.eq("%s: connection 2 key_exchange.resumed" % what, kx2.get("resumed"), True)
    td = first(c2, "trust_decision") or {}
    t.eq("%s: connection 2 trust carried over" % what, td.get("decision"), "trusted")
    t.eq("%s: a request on each connection" % what,
         (len(events(c1, "response")), len(events(c2, "response"))), (1, 1))
    rows = [e for e in events(r.ev, "summary") if "connection" in e]
    t.eq("%s: per-connection summary lines" % what,
         [(e.get("connection"), e.get("handshake"), e.get("resumed")) for e in rows],
         [(1, "full", False), (2, "resumed", True)])
    t.check("%s: summary lines carry handshake times" % what,
            all(isinstance(e.get("handshake_ms"), (int, float)) and e["handshake_ms"] > 0
                for e in rows), "handshake_ms > 0", rows)
    tot = [e for e in events(r.ev, "summary") if "connections" in e]
    t.eq("%s: total: 2 connections, 1 full, 1 resumed" % what,
         [(e.get("connections"), e.get("full"), e.get("resumed_count")) for e in tot], [(2, 1, 1)])
    return c1, c2


@test
def test_resumption(t):
    """--reconnect 2: the second connection resumes (TLS 1.3 ticket/PSK and TLS 1.2 session
    ticket): resumed: true, no Certificate, on both sides."""
    with start_server(t, http=None, selfsigned=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = run_client(t, "--cacert", CA, "--reconnect", "2", url)
        res = check_resumption(t, "TLS 1.3", r, "TLSv1.3")
        if res:
            sh = first(res[1], "message", type="ServerHello") or {}
            t.contains("TLS 1.3: the second ServerHello accepts the PSK", sh.get("summary"), "PSK")
            t.eq("TLS 1.3: resumed key exchange keeps forward secrecy (psk_dhe_ke)",
                 ((first(res[1], "key_exchange") or {}).get("kx"),
                  (first(res[1], "key_exchange") or {}).get("forward_secrecy")),
                 ("PSK+ECDHE", True))
            assert_order(t, "TLS 1.3: the tickets come after the handshake, after our Finished",
                         res[0], [E("message", type="Finished", dir="out"),
                                  E("message", type="NewSessionTicket", dir="in")])
            t.check("TLS 1.3: no ticket before our Finished",
                    not events(res[0][:res[0].index(first(res[0], "message", type="Finished",
                                                          dir="out") or res[0][-1])],
                               "message", type="NewSessionTicket"), "none", summary(res[0]))
            s2 = srv.conn_events((first(res[1], "established") or {}).get("local"))
            t.eq("TLS 1.3: server says resumed", (first(s2, "handshake_done") or {}).get("resumed"),
                 True)
            t.check("TLS 1.3: server sent no Certificate",
                    not events(s2, "message", type="Certificate"), "absent", summary(s2))
        r = run_client(t, "--cacert", CA, "--tls-max", "1.2", "--reconnect", "2", url)
        res = check_resumption(t, "TLS 1.2", r, "TLSv1.2")
        if res:
            names = hs_msgs(res[1])
            t.check("TLS 1.2: abbreviated handshake (no ServerKeyExchange, ClientKeyExchange)",
                    not {"ServerKeyExchange", "ClientKeyExchange", "ServerHelloDone"} & set(names),
                    "absent", names)
            t.eq("TLS 1.2: resumed key exchange (not 'PSK': that names RFC 4279's suites)",
                 (first(res[1], "key_exchange") or {}).get("kx"), "resumed (master secret)")
    # Mutual TLS: resumption must still work (session id context set).
    with start_server(t, "--client-auth", "require", "--client-ca", CA, http=None,
                      selfsigned=None) as srv:
        r = run_client(t, "--cacert", CA, "--cert", os.path.join(CERTS, "client.crt"),
                       "--key", os.path.join(CERTS, "client.key"), "--reconnect", "2",
                       "https://localhost:%d/" % srv.port("https"))
        check_resumption(t, "mutual TLS 1.3", r, "TLSv1.3")


@test
def test_reconnect_plain_and_combined(t):
    """--reconnect 3 over plain HTTP: three connections; -n 2 --reconnect 2: two requests on
    each of two connections, the second resumed."""
    with start_server(t, selfsigned=None) as srv:
        r = run_client(t, "--reconnect", "3", "http://localhost:%d/" % srv.port("http"))
        t.eq("plain: exit status", r.rc, 0)
        t.eq("plain: three connections", len(events(r.ev, "established")), 3)
        t.eq("plain: three requests", len(events(r.ev, "request")), 3)
        rows = [e for e in events(r.ev, "summary") if "connection" in e]
        t.eq("plain: summary rows say no TLS", [e.get("handshake") for e in rows],
             ["none"] * 3)
        r = run_client(t, "--cacert", CA, "-n", "2", "--reconnect", "2",
                       "https://localhost:%d/" % srv.port("https"))
        t.eq("combined: exit status", r.rc, 0)
        est = events(r.ev, "established")
        t.eq("combined: two connections", len(est), 2)
        t.eq("combined: requests per connection",
             [len(events(r.conn(e["conn"]), "request")) for e in est], [2, 2])
        t.eq("combined: resumed per connection",
             [(first(r.conn(e["conn"]), "handshake_done") or {}).get("resumed") for e in est],
             [False, True])
        t.eq("combined: four pages on stdout", r.text.count("</html>"), 4)


@test
def test_compare_script(t):
    """scripts/compare.py (make compare): three rows from real runs; RSA has no forward
    secrecy and no ServerKeyExchange; TLS 1.3 takes one TLS round trip fewer."""
    d = tempfile.mkdtemp(prefix="hl-compare-")
    _cleanup.append(d)
    r = run_cmd(t, [sys.executable, os.path.join(ROOT, "scripts", "compare.py"), "--build",
                    BUILD_DIR, "--certs", CERTS, "--logs", d], timeout=60, name="compare.py")
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


@test
def test_certs_rsa_added(t):
    """make-certs.sh on a certs dir made before server-rsa.crt existed: it adds the RSA
    certificate (RSA-2048, keyEncipherment, signed by the kept CA) and changes nothing else."""
    d = tempfile.mkdtemp(prefix="hl-certs-rsa-")
    _cleanup.append(d)
    out = os.path.join(d, "out")
    os.mkdir(out)
    for f in ("ca.crt", "ca.key", "server.crt", "server.key", "selfsigned.crt", "selfsigned.key",
              "client.crt", "client.key"):
        shutil.copy(os.path.join(CERTS, f), out)
    before = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out)}
    r = run_cmd(t, [os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
    t.eq("make-certs.sh exit status", r.rc, 0)
    t.contains("says what it makes", r.text, "making server-rsa.key and server-rsa.crt")
    t.check("the other files are untouched",
            all(open(os.path.join(out, f), "rb").read() == b for f, b in before.items()),
            "unchanged", sorted(before))
    crt, key = os.path.join(out, "server-rsa.crt"), os.path.join(out, "server-rsa.key")
    v = run_cmd(t, ["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"), "-purpose",
                    "sslserver", crt])
    t.eq("server-rsa.crt verifies against the kept CA", v.rc, 0)
    x = run_cmd(t, ["openssl", "x509", "-in", crt, "-noout", "-text"])
    t.contains("an RSA-2048 key", x.text, "Public-Key: (2048 bit)")
    t.contains("keyUsage allows key encipherment", x.text, "Digital Signature, Key Encipherment")
    t.contains("SAN as server.crt", x.text, "DNS:localhost, IP Address:127.0.0.1")
    t.eq("server-rsa.key mode", oct(stat.S_IMODE(os.stat(key).st_mode)), oct(0o600))
    again = run_cmd(t, [os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
    t.contains("a second run keeps everything", again.text, "certificates already present")
