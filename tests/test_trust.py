"""The client's trust decision: self-signed refused (exit 60) or accepted with -k, --cacert,
the host name and IP checks, and the prompt on a terminal.
"""

from harness.log import assert_order, E, events, first, parse_json_lines, summary
from harness.procs import check_sanitizer, pty_session


def test_selfsigned_refused(t, server, client):
    """4. Self-signed port, no -k, stdin not a terminal: refused with exit 60."""
    with server(http=None, https=None) as srv:
        port = srv.port("selfsigned")
        r = client("https://localhost:%d/" % port)
        t.eq("client exit status", r.rc, 60)
        t.eq("no body", r.out, b"")
        c = r.conn()
        v = first(c, "verify", depth=0) or {}
        t.eq("verify depth 0: error", v.get("error"), 18)
        t.eq("verify depth 0: ok", v.get("ok"), False)
        t.check("verify depth 0: error_text", "self" in str(v.get("error_text")).lower(),
                "self-signed ...", v.get("error_text"))
        td = first(c, "trust_decision") or {}
        t.eq("trust_decision.decision", td.get("decision"), "refused")
        t.eq("trust_decision.prompted", td.get("prompted"), False)
        t.eq("trust_decision.error", td.get("error"), 18)
        al = first(c, "alert", dir="out") or {}
        t.eq("client alert out: desc", al.get("desc"), "unknown_ca")
        t.eq("client alert out: level", al.get("level"), "fatal")
        t.check("no handshake_done on the client", not events(c, "handshake_done"), "none", summary(c))
        s = srv.conn_events(r.local())
        t.check("server logged the connection", s, r.local(), summary(srv.evs))
        sal = first(s, "alert", dir="in") or {}
        t.eq("server saw the client's alert (alert dir in): desc", sal.get("desc"), "unknown_ca")
        t.check("no request reached the server", not events(s, "request"), "none", summary(s))

        txt = client("https://localhost:%d/" % port, json_log=False)
        t.eq("text mode: exit status", txt.rc, 60)
        t.icontains("text mode: explains self-signed", txt.err, "self-signed")
        t.contains("text mode: suggests --cacert", txt.err, "--cacert")
        t.contains("text mode: mentions -k", txt.err, "-k")


def test_selfsigned_insecure(t, server, client):
    """5. -k on the self-signed port: exit 0, trust_decision proceed."""
    with server(http=None, https=None) as srv:
        port = srv.port("selfsigned")
        r = client("-k", "https://localhost:%d/" % port)
        t.eq("client exit status", r.rc, 0)
        t.contains("body", r.text, "your connection")
        c = r.conn()
        t.eq("trust_decision.decision", (first(c, "trust_decision") or {}).get("decision"), "proceed")
        t.eq("verify depth 0 still reports error 18", (first(c, "verify", depth=0) or {}).get("error"), 18)
        assert_order(t, "client", c, ["handshake_done", "trust_decision", "request", "response",
                                      E("close_notify", dir="out"), "fin_sent", "closed"])
        s = srv.conn_events(r.local())
        t.eq("server response.status", (first(s, "response") or {}).get("status"), 200)


def test_trust_matrix(t, server, client, certs):
    """6. --cacert: https 0, selfsigned 60; no --cacert: https 60 with error 20 first."""
    with server(http=None) as srv:
        hp, sp = srv.port("https"), srv.port("selfsigned")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % hp)
        t.eq("--cacert, https port: exit", r.rc, 0)
        r = client("--cacert", certs.ca, "https://localhost:%d/" % sp)
        t.eq("--cacert, selfsigned port: exit", r.rc, 60)
        t.eq("--cacert, selfsigned port: error", (first(r.ev, "trust_decision") or {}).get("error"), 18)
        r = client("https://localhost:%d/" % hp)
        t.eq("no --cacert, https port: exit", r.rc, 60)
        errs = [e.get("error") for e in events(r.ev, "verify") if e.get("error")]
        t.eq("no --cacert: first verify error", errs[:1], [20])
        t.eq("no --cacert: trust_decision.error", (first(r.ev, "trust_decision") or {}).get("error"), 20)
        t.icontains("no --cacert: the one-line reason", r.err, "issuer")


def test_ip_and_mismatch(t, server, client, certs):
    """7. https://127.0.0.1 matches the IP SAN; 127.0.0.2 does not (error 64)."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = client("--cacert", certs.ca, "https://127.0.0.1:%d/" % port)
        t.eq("https://127.0.0.1: exit", r.rc, 0)
        h = first(r.ev, "hostname") or {}
        t.eq("hostname.name", h.get("name"), "127.0.0.1")
        t.eq("hostname.match", h.get("match"), True)
        t.eq("handshake_done.sni (none for an IP)", (first(r.ev, "handshake_done") or {}).get("sni"), "")
    with server(http=None, selfsigned=None, bind="127.0.0.2", name="server@127.0.0.2") as srv:
        port = srv.port("https")
        t.eq("listen addr", (first(srv.evs, "listen") or {}).get("addr"), "127.0.0.2:%d" % port)
        r = client("--cacert", certs.ca, "https://127.0.0.2:%d/" % port)
        t.eq("https://127.0.0.2: exit", r.rc, 60)
        td = first(r.ev, "trust_decision") or {}
        t.eq("trust_decision.error", td.get("error"), 64)
        t.eq("trust_decision.decision", td.get("decision"), "refused")
        v = first(r.ev, "verify", depth=0) or {}
        t.eq("verify depth 0: error", v.get("error"), 64)
        h = first(r.ev, "hostname") or {}
        t.eq("hostname.name", h.get("name"), "127.0.0.2")
        t.eq("hostname.match", h.get("match"), False)
        t.eq("hostname.checked (the IP check ran and failed)", h.get("checked"), True)
        r = client("-k", "--cacert", certs.ca, "https://127.0.0.2:%d/" % port)
        t.eq("https://127.0.0.2 with -k: exit", r.rc, 0)


def test_trust_prompt(t, server, build, procs):
    """On a terminal the client asks 'Proceed anyway? [y/N]': y proceeds, n / Enter /
    Ctrl-D refuse (60) and close cleanly, with no request sent."""
    with server(http=None, https=None) as srv:
        port = srv.port("selfsigned")
        for answer, rc_want, decision in ((b"y\n", 0, "proceed"), (b"n\n", 60, "refused"),
                                          (b"\n", 60, "refused"), (b"\x04", 60, "refused")):
            what = "answer %r" % answer
            rc, out, term, prompted = pty_session(
                procs, [build.client, "--log-format", "json", "https://localhost:%d/" % port],
                answer)
            check_sanitizer(t, "client (%s)" % what, term)
            t.check("%s: the prompt appears on the terminal" % what, prompted, "Proceed anyway? [y/N]",
                    term[-800:])
            t.eq("%s: exit" % what, rc, rc_want)
            # parse each record from its "{": see the next check
            evs = parse_json_lines("\n".join(l[l.find("{"):] for l in term.splitlines() if "{" in l))
            glued = [l for l in term.splitlines() if "Proceed anyway" in l and "{" in l]
            t.check("%s: the next record starts on a new line after the prompt" % what, not glued,
                    "a newline after the answer", glued[:1])
            td = first(evs, "trust_decision") or {}
            t.eq("%s: trust_decision.decision" % what, td.get("decision"), decision)
            t.eq("%s: trust_decision.prompted" % what, td.get("prompted"), True)
            t.check("%s: the warning explains self-signed" % what, "self-signed" in term.lower(),
                    "self-signed", term[-800:])
            local = (first(evs, "established") or {}).get("local")
            s = srv.conn_events(local)
            if rc_want == 0:
                t.contains("%s: body" % what, out.decode("utf-8", "replace"), "your connection")
                t.eq("%s: server answered" % what, (first(s, "response") or {}).get("status"), 200)
            else:
                t.eq("%s: no body" % what, out, b"")
                t.check("%s: no request reached the server" % what, s and not events(s, "request"),
                        "a connection without request", summary(s))
                t.check("%s: the refusal closes with close_notify (server: close_notify in)" % what,
                        events(s, "close_notify", dir="in"), "close_notify in", summary(s))
