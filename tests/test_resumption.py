"""Many requests and session resumption (issue 5, item 5): -n N, --reconnect N."""

import os

from harness.log import assert_order, E, events, first, hs_msgs, summary


def test_many_requests(t, server, client, certs):
    """-n 3: one connection, one handshake, three request/response pairs, bodies concatenated,
    and a summary; on the server: one connection with three requests."""
    with server(selfsigned=None) as srv:
        for scheme in ("https", "http"):
            url = "%s://localhost:%d/" % (scheme, srv.port(scheme))
            r = client("--cacert", certs.ca, "-n", "3", url)
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
                r2 = client("-n", "2", "--max-filesize", "100", url)
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
    with server("--close-first", "server", https=None, selfsigned=None) as srv:
        r = client("-n", "3", "http://localhost:%d/" % srv.port("http"))
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


def test_resumption(t, server, client, certs):
    """--reconnect 2: the second connection resumes (TLS 1.3 ticket/PSK and TLS 1.2 session
    ticket): resumed: true, no Certificate, on both sides."""
    with server(http=None, selfsigned=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client("--cacert", certs.ca, "--reconnect", "2", url)
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
        r = client("--cacert", certs.ca, "--tls-max", "1.2", "--reconnect", "2", url)
        res = check_resumption(t, "TLS 1.2", r, "TLSv1.2")
        if res:
            names = hs_msgs(res[1])
            t.check("TLS 1.2: abbreviated handshake (no ServerKeyExchange, ClientKeyExchange)",
                    not {"ServerKeyExchange", "ClientKeyExchange", "ServerHelloDone"} & set(names),
                    "absent", names)
            t.eq("TLS 1.2: resumed key exchange (not 'PSK': that names RFC 4279's suites)",
                 (first(res[1], "key_exchange") or {}).get("kx"), "resumed (master secret)")
    # Mutual TLS: resumption must still work (session id context set).
    with server("--client-auth", "require", "--client-ca", certs.ca, http=None,
                selfsigned=None) as srv:
        r = client("--cacert", certs.ca, "--cert", os.path.join(certs.dir, "client.crt"),
                "--key", os.path.join(certs.dir, "client.key"), "--reconnect", "2",
                   "https://localhost:%d/" % srv.port("https"))
        check_resumption(t, "mutual TLS 1.3", r, "TLSv1.3")


def test_reconnect_plain_and_combined(t, server, client, certs):
    """--reconnect 3 over plain HTTP: three connections; -n 2 --reconnect 2: two requests on
    each of two connections, the second resumed."""
    with server(selfsigned=None) as srv:
        r = client("--reconnect", "3", "http://localhost:%d/" % srv.port("http"))
        t.eq("plain: exit status", r.rc, 0)
        t.eq("plain: three connections", len(events(r.ev, "established")), 3)
        t.eq("plain: three requests", len(events(r.ev, "request")), 3)
        rows = [e for e in events(r.ev, "summary") if "connection" in e]
        t.eq("plain: summary rows say no TLS", [e.get("handshake") for e in rows],
             ["none"] * 3)
        r = client("--cacert", certs.ca, "-n", "2", "--reconnect", "2",
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
