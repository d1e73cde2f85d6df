"""The client's trust decision: self-signed refused (exit 60) or accepted with -k, --cacert,
the host name and IP checks, and the prompt on a terminal.
"""

import contextlib
import time

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


def term_events(term):
    """The JSON records a client wrote to a terminal (each parsed from its "{")."""
    return parse_json_lines("\n".join(l[l.find("{"):] for l in term.splitlines() if "{" in l))


def conn_ids(evs):
    """The client's connection ids, in the order their `connect` was logged."""
    return [e.get("conn") for e in events(evs, "connect")]


def test_trust_prompt(t, server, build, procs):
    """On a terminal the client refuses the certificate inside the handshake (the server
    logs our alert), closes, then warns and asks 'Proceed anyway? [y/N]' with nothing
    open: y makes a new connection that gets the page; n / Enter / Ctrl-D refuse (60)."""
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
            evs = term_events(term)
            glued = [l for l in term.splitlines() if "Proceed anyway" in l and "{" in l]
            t.check("%s: the next record starts on a new line after the prompt" % what, not glued,
                    "a newline after the answer", glued[:1])
            ids = conn_ids(evs)
            c1 = [e for e in evs if e.get("conn") == (ids[0] if ids else None)]
            # the first connection: refused inside the handshake, closed before the question
            t.check("%s: no handshake_done on the first connection" % what,
                    not events(c1, "handshake_done"), "none", summary(c1))
            al = first(c1, "alert", dir="out") or {}
            t.eq("%s: our alert in the handshake" % what, al.get("desc"), "unknown_ca")
            before = term[:term.find("Proceed anyway")]
            t.check("%s: the first connection is closed before the question" % what,
                    ids and first(term_events(before), "closed", conn=ids[0]),
                    "closed before the prompt", before[-600:])
            q = first(evs, "trust_question") or {}
            t.eq("%s: trust_question on the refused connection" % what, q.get("conn"),
                 ids[0] if ids else None)
            t.check("%s: trust_question before the prompt" % what,
                    first(term_events(before), "trust_question"), "trust_question", before[-600:])
            td = first(evs, "trust_decision") or {}
            t.eq("%s: trust_decision.decision" % what, td.get("decision"), decision)
            t.eq("%s: trust_decision.prompted" % what, td.get("prompted"), True)
            t.eq("%s: trust_decision.conn (the refused one)" % what, td.get("conn"),
                 ids[0] if ids else None)
            t.eq("%s: trust_decision.sha256 = trust_question.sha256" % what, td.get("sha256"),
                 q.get("sha256"))
            t.check("%s: the warning explains self-signed" % what, "self-signed" in term.lower(),
                    "self-signed", term[-800:])
            s1 = srv.conn_events((first(c1, "established") or {}).get("local"))
            t.check("%s: the server got our alert on the first connection" % what,
                    events(s1, "alert", dir="in", desc="unknown_ca"), "alert in: unknown_ca",
                    summary(s1))
            t.check("%s: no request on the first connection" % what, s1 and not events(s1, "request"),
                    "a connection without request", summary(s1))
            if rc_want == 0:
                t.eq("%s: two connections" % what, len(ids), 2)
                rt = first(evs, "trust_retry") or {}
                t.eq("%s: trust_retry.refused_conn" % what, rt.get("refused_conn"), ids[0] if ids else None)
                t.eq("%s: trust_retry.sha256" % what, rt.get("sha256"), q.get("sha256"))
                c2 = [e for e in evs if len(ids) > 1 and e.get("conn") == ids[1]]
                assert_order(t, "client (second connection)", evs, [
                    E("trust_decision", conn=ids[0] if ids else None), "trust_retry",
                    E("connect", conn=ids[1] if len(ids) > 1 else None)])
                td2 = first(c2, "trust_decision") or {}
                t.eq("%s: second connection: decision" % what, td2.get("decision"), "proceed")
                t.eq("%s: second connection: pin_match" % what, td2.get("pin_match"), True)
                t.eq("%s: second connection: pin_sha256" % what, td2.get("pin_sha256"), q.get("sha256"))
                t.eq("%s: second connection: its leaf is the pinned one" % what,
                     (first(c2, "verify", depth=0) or {}).get("sha256"), q.get("sha256"))
                t.contains("%s: body" % what, out.decode("utf-8", "replace"), "your connection")
                s2 = srv.conn_events((first(c2, "established") or {}).get("local"))
                t.eq("%s: server answered the second connection" % what,
                     (first(s2, "response") or {}).get("status"), 200)
            else:
                t.eq("%s: one connection" % what, len(ids), 1)
                t.eq("%s: no body" % what, out, b"")
                t.check("%s: no trust_retry" % what, not events(evs, "trust_retry"), "none",
                        summary(evs))


def test_trust_prompt_slow_answer(t, server, build, procs):
    """A student who reads the warning long past the server's handshake timeout
    (--header-timeout 1 here, 20 s by default) still gets the page: nothing was open
    while the question waited, and the timing line says how long it waited."""
    with server("--header-timeout", "1", http=None, https=None) as srv:
        port = srv.port("selfsigned")
        rc, out, term, prompted = pty_session(
            procs, [build.client, "--log-format", "json", "https://localhost:%d/" % port],
            b"y\n", on_prompt=lambda: time.sleep(2.5))
        check_sanitizer(t, "client", term)
        t.check("the prompt appears", prompted, "Proceed anyway? [y/N]", term[-800:])
        t.eq("exit (a yes 2.5 s after a 1 s server timeout)", rc, 0)
        t.contains("the page", out.decode("utf-8", "replace"), "your connection")
        evs = term_events(term)
        t.check("no empty reply, no reset", not events(evs, "reset") and "exit 52" not in term,
                "neither", term[-600:])
        ids = conn_ids(evs)
        t.eq("two connections: the refused one and the new one", len(ids), 2)
        tm = first(evs, "timing") or {}
        t.check("timing.question_ms: the wait for the answer (>= 2500 ms)",
                (tm.get("question_ms") or 0) >= 2500, ">= 2500", tm.get("question_ms"))
        timeouts = [e for e in srv.evs if "header-timeout" in str(e.get("detail", "")) + str(
            e.get("reason", ""))]
        t.check("the server timed nothing out", not timeouts, "no --header-timeout event",
                summary(timeouts))


def test_trust_pin_refuses_another_certificate(t, server, build, procs):
    """A yes accepts exactly the certificate shown (its SHA-256), for this run only: if
    the server's certificate changes between the two connections (here a second server
    takes the port while the question waits), the new connection refuses it, says so,
    and does not ask again (exit 60)."""
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(server(http=None, https=None, name="server A"))
        port = a.port("selfsigned")
        swapped = {}

        def swap():
            a.stop()
            swapped["b"] = stack.enter_context(server(http=None, selfsigned=None, https=port,
                                                      name="server B"))

        rc, out, term, prompted = pty_session(
            procs, [build.client, "--log-format", "json", "https://localhost:%d/" % port],
            b"y\n", on_prompt=swap)
        check_sanitizer(t, "client", term)
        t.check("the prompt appears", prompted, "Proceed anyway? [y/N]", term[-800:])
        t.eq("exit: another certificate is not trusted", rc, 60)
        t.eq("no body", out, b"")
        t.eq("the question is asked once", term.count("Proceed anyway"), 1)
        evs = term_events(term)
        ids = conn_ids(evs)
        t.eq("two connections", len(ids), 2)
        q = first(evs, "trust_question") or {}
        c2 = [e for e in evs if len(ids) > 1 and e.get("conn") == ids[1]]
        v2 = first(c2, "verify", depth=0) or {}
        t.check("the second server's certificate differs",
                v2.get("sha256") and v2.get("sha256") != q.get("sha256"), "another sha256",
                (q.get("sha256"), v2.get("sha256")))
        td2 = first(c2, "trust_decision") or {}
        t.eq("second connection: refused", td2.get("decision"), "refused")
        t.eq("second connection: not prompted", td2.get("prompted"), False)
        t.eq("second connection: pin_match", td2.get("pin_match"), False)
        t.eq("second connection: pin_sha256 is the accepted one", td2.get("pin_sha256"),
             q.get("sha256"))
        t.eq("second connection: its own sha256", td2.get("sha256"), v2.get("sha256"))
        t.check("second connection: refused in the handshake (our alert)",
                events(c2, "alert", dir="out"), "alert out", summary(c2))
        err = first(evs, "error") or {}
        t.contains("the error says it is not the accepted certificate", err.get("detail", ""),
                   "not the one you accepted")
        b = swapped.get("b")
        s = b.conn_events((first(c2, "established") or {}).get("local")) if b else []
        t.check("server B got our alert, no request", s and events(s, "alert", dir="in") and
                not events(s, "request"), "alert in, no request", summary(s))
