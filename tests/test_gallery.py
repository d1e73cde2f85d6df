"""The certificate gallery (issue 4): every scenario's verdict from our client, curl, openssl
and gnutls-cli; name constraints; the trust prompt per scenario; --show-certs; headless Chromium.
"""

import os
import re
import shutil
import tempfile

import pytest

from harness.env import SAN, SLOW, VALGRIND
from harness.log import events, first, summary
from harness.procs import check_sanitizer, pty_session
from harness.peers import chromium_dump, net_errors


def gallery_rows(t, certs):
    """The scenarios of certs.gallery/index.tsv as dicts keyed by its header's columns;
    fails the test if make-certs.sh --gallery did not make it."""
    path = certs.gfile("index.tsv")
    if not os.path.exists(path):
        t.check("certs/make-certs.sh --gallery made %s" % path, False, "index.tsv", "missing")
        t.skip("no certificate gallery")
    cols, rows = None, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                cols = line[1:].split("\t")
            elif line.strip() and cols:
                rows.append(dict(zip(cols, line.split("\t"))))
    need_cols = {"name", "expected", "crl", "curl_exit", "openssl_verdict", "gnutls_verdict"}
    t.check("gallery index.tsv has the columns %s" % ", ".join(sorted(need_cols)),
            cols and need_cols <= set(cols), sorted(need_cols), cols)
    t.check("gallery index.tsv has scenarios", len(rows) >= 10, ">= 10 rows", len(rows))
    return rows


def gallery_ports(t, srv, names):
    """scenario -> port, from the server's `listen` events of kind gallery."""
    ports = {}
    for n in names:
        e = srv.wait_for(lambda e, n=n: e.get("event") == "listen" and e.get("kind") == "gallery"
                         and e.get("scenario") == n)
        t.check("server --gallery listens for scenario %s" % n, e, "a listen event", None)
        if e:
            ports[n] = e.get("port")
    return ports


def start_gallery(server, *extra, **kw):
    """A server with --gallery --gallery-base 0 (every scenario on a kernel-picked port)."""
    kw.setdefault("selfsigned", None)
    return server("--gallery", "--gallery-base", "0", *extra, **kw)


def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", text)


def crl_args(certs, row, flag):
    return [flag, certs.gfile("crl.pem")] if row.get("crl") == "yes" else []


def client_verdict(client, certs, row, port):
    """Our client with --cacert trust.pem [--crlfile crl.pem], stdin not a terminal."""
    return client("--cacert", certs.gfile("trust.pem"), *crl_args(certs, row, "--crlfile"),
                  "https://localhost:%d/" % port, name="client (%s)" % row["name"])


def curl_verdict(run, certs, curl, row, port, extra=()):
    return run([curl, "-s", "-o", "/dev/null", "--max-time", str(int(10 * SLOW)),
                "--cacert", certs.gfile("trust.pem")] + crl_args(certs, row, "--crlfile") + list(extra) +
               ["https://localhost:%d/" % port], name="curl (%s)" % row["name"])


def s_client_verdict(run, certs, openssl, row, port):
    """(verify code or None, exit status, output) of openssl s_client -verify_return_error."""
    crl = ["-CRL", certs.gfile("crl.pem"), "-crl_check"] if row.get("crl") == "yes" else []
    r = run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
             "localhost", "-verify_hostname", "localhost", "-verify_return_error",
             "-CAfile", certs.gfile("trust.pem")] + crl, timeout=10.0,
            name="openssl s_client (%s)" % row["name"])
    out = r.text + r.err
    m = re.search(r"Verify return code: (\d+)", out) or re.search(r"verify error:num=(\d+)", out)
    return (int(m.group(1)) if m else None), r.rc, out


def gnutls_verdict(run, certs, gnutls, row, port, crl=True):
    """('accept' | 'reject', exit status, its '- Status:' line) of gnutls-cli."""
    args = [gnutls, "--x509cafile", certs.gfile("trust.pem")]
    if crl and row.get("crl") == "yes":
        args += ["--x509crlfile", certs.gfile("crl.pem")]
    r = run(["timeout", str(int(10 * SLOW))] + args + ["-p", str(port), "localhost"],
            timeout=15.0, name="gnutls-cli (%s)" % row["name"])
    out = r.text + r.err
    st = re.search(r"- Status: (.*)", out)
    trusted = "The certificate is trusted" in out and "NOT trusted" not in out
    verdict = "accept" if r.rc == 0 and trusted else "reject"
    return verdict, r.rc, (st.group(1).strip() if st else out.strip()[-300:])


def test_gallery_verdicts(t, server, client, run, certs):
    """Issue 4: every gallery scenario on its own port of one server; our client, curl,
    openssl s_client and gnutls-cli each reach the verdict index.tsv expects."""
    rows = gallery_rows(t, certs)
    peers = {b: shutil.which(b) for b in ("curl", "openssl", "gnutls-cli")}
    for b, path in sorted(peers.items()):
        if not path:
            print("  note gallery_verdicts: %s is not installed: its column is skipped" % b)
    seen = []
    with start_gallery(server, http=None, https=None) as srv:
        ports = gallery_ports(t, srv, [r["name"] for r in rows])
        for row in rows:
            name, port = row["name"], ports.get(row["name"])
            if port is None:
                continue
            want = int(row["expected"])
            got = {"name": name}
            r = client_verdict(client, certs, row, port)
            td = first(r.ev, "trust_decision") or {}
            got["client"] = (r.rc, td.get("error"))
            t.eq("%s: our client's exit" % name, r.rc, 0 if want == 0 else 60)
            t.eq("%s: our client's first error (trust_decision.error)" % name, td.get("error"), want)
            t.eq("%s: trust_decision.decision" % name, td.get("decision"),
                 "trusted" if want == 0 else "refused")
            if want:
                errs = [e.get("error") for e in events(r.ev, "verify") if e.get("error")]
                t.eq("%s: the first verify event with an error has %d" % (name, want), errs[:1], [want])
                t.check("%s: a one-line reason and the advice (explanation, advice)" % name,
                        td.get("explanation") and td.get("advice"), "both set",
                        {k: td.get(k) for k in ("explanation", "advice")})
            else:
                t.contains("%s: the page" % name, r.text, "your connection")
            if peers["curl"]:
                c = curl_verdict(run, certs, peers["curl"], row, port)
                got["curl"] = c.rc
                t.eq("%s: curl exit (index.tsv curl_exit)" % name, c.rc, int(row["curl_exit"]))
            if peers["openssl"]:
                code, rc, out = s_client_verdict(run, certs, peers["openssl"], row, port)
                got["openssl"] = code
                t.check("%s: openssl s_client verify code (index.tsv openssl_verdict)" % name,
                        code == int(row["openssl_verdict"]), row["openssl_verdict"],
                        "%s; %s" % (code, out[-600:]))
                t.eq("%s: openssl s_client exit is 0 iff it verified" % name, rc == 0, code == 0)
            if peers["gnutls-cli"]:
                verdict, rc, status = gnutls_verdict(run, certs, peers["gnutls-cli"], row, port)
                got["gnutls"] = verdict
                t.check("%s: gnutls-cli %s (index.tsv gnutls_verdict)" % (name, row["gnutls_verdict"]),
                        verdict == row["gnutls_verdict"], row["gnutls_verdict"],
                        "%s (exit %s): %s" % (verdict, rc, status))
            seen.append(got)
        # revocation is only noticed by a client that is given the CRL
        rev = next((r for r in rows if r.get("crl") == "yes"), None)
        if rev and ports.get(rev["name"]):
            port, norev = ports[rev["name"]], dict(rev, crl="no")
            r = client_verdict(client, certs, norev, port)
            t.eq("%s without --crlfile: our client accepts it (exit)" % rev["name"], r.rc, 0)
            if peers["curl"]:
                t.eq("%s without --crlfile: curl accepts it (exit)" % rev["name"],
                     curl_verdict(run, certs, peers["curl"], norev, port).rc, 0)
            if peers["gnutls-cli"]:
                verdict, rc, status = gnutls_verdict(run, certs, peers["gnutls-cli"], rev, port,
                                                     crl=False)
                t.check("%s without --x509crlfile: gnutls-cli accepts it (so the table's "
                        "--x509crlfile is needed)" % rev["name"], verdict == "accept", "accept",
                        "%s: %s" % (verdict, status))
    for g in seen:      # shown with the output of a failed test, or with pytest -rA
        print("       %-17s client %-9s curl %-4s openssl %-4s gnutls %s" % (
            g["name"], g.get("client"), g.get("curl", "-"), g.get("openssl", "-"),
            g.get("gnutls", "-")))


def test_gallery_name_constraints(t, server, client, run, certs):
    """Issue 4: the example.com leaf signed by the name-constrained demo CA is rejected
    by our client (47), curl (60) and openssl (47) alike, although it also names localhost."""
    rows = {r["name"]: r for r in gallery_rows(t, certs)}
    row = rows.get("name-constraints")
    if not t.check("the gallery has a name-constraints scenario", row, "a row", sorted(rows)):
        return
    leaf = certs.gfile("name-constraints.crt")
    openssl = shutil.which("openssl")
    if openssl:
        txt = run([openssl, "x509", "-in", leaf, "-noout", "-ext", "subjectAltName"]).text
        t.contains("the leaf names example.com", txt, "example.com")
        t.contains("the leaf names localhost too", txt, "localhost")
        ca = run([openssl, "x509", "-in", certs.ca, "-noout", "-ext", "nameConstraints"]).text
        t.contains("the demo CA has name constraints permitting localhost", ca, "DNS:localhost")
    with start_gallery(server, http=None, https=None) as srv:
        port = gallery_ports(t, srv, ["name-constraints"]).get("name-constraints")
        if port is None:
            return
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("our client (--cacert ca.crt): exit", r.rc, 60)
        td = first(r.ev, "trust_decision") or {}
        t.eq("our client: trust_decision.error", td.get("error"), 47)
        t.icontains("our client: the explanation names the name constraints", td.get("explanation"),
                    "name constraints")
        t.icontains("our client: the advice says the CA may only vouch for localhost",
                    td.get("advice"), "only vouch for localhost")
        t.check("our client: no request was sent", not events(r.ev, "request"), "none", summary(r.ev))
        if shutil.which("curl"):
            c = run(["curl", "-sS", "-o", "/dev/null", "--max-time", str(int(10 * SLOW)),
                     "--cacert", certs.ca, "https://localhost:%d/" % port])
            t.eq("curl --cacert ca.crt: exit", c.rc, 60)
            t.icontains("curl: the reason", c.err, "permitted subtree violation")
        else:
            print("  note gallery_name_constraints: curl is not installed: skipped")
        if openssl:
            code, rc, out = s_client_verdict(run, certs, openssl, dict(row, crl="no"), port)
            t.eq("openssl s_client -verify_return_error: verify code", code, 47)
            t.ne("openssl s_client: exit", rc, 0)
            v = run([openssl, "verify", "-CAfile", certs.ca, leaf])
            t.contains("openssl verify (offline) -CAfile ca.crt: error 47", v.text + v.err, "error 47")
        else:
            print("  note gallery_name_constraints: openssl is not installed: skipped")


def prompt_client(procs, build, certs, port, answer, *extra):
    """Our client on a terminal with the text log (what a person sees), --cacert trust.pem."""
    return pty_session(procs, [build.client, "--log-format", "text", "--color", "never",
                               "--linger-watch", "0", "--cacert", certs.gfile("trust.pem")] +
                       list(extra) + ["https://localhost:%d/" % port], answer)


PROMPT_CASES = (("self-signed", "self-signed", ("--cacert", "-k")),
                ("untrusted-root", "root certificate", ("--cacert", "-k")),
                ("expired", "expired", ("date and time", "renew")),
                ("wrong-host", "name", ("name you typed",)))


def test_trust_prompt_gallery(t, server, certs, procs, build):
    """Issue 4: the trust prompt on a terminal for gallery scenarios (text log): the
    framed warning names the problem in plain words, the OpenSSL code, the chain and
    the advice; it comes after the refused connection is closed (the server got our
    alert); n -> 60, y -> a new connection that accepts exactly that certificate, even
    when the error is not the leaf's own (untrusted-root), and the page."""
    rows = {r["name"]: r for r in gallery_rows(t, certs)}
    with start_gallery(server, http=None, https=None) as srv:
        ports = gallery_ports(t, srv, [c[0] for c in PROMPT_CASES if c[0] in rows])
        for name, words, advice in PROMPT_CASES:
            if name not in ports:
                continue
            code = int(rows[name]["expected"])
            with open(certs.gfile(rows[name].get("cert_chain_file") or name + ".chain.pem")) as f:
                depths = len(pem_blocks(f.read()))
            for answer, rc_want, decision in ((b"n\n", 60, "you answered no"),
                                              (b"y\n", 0, "you answered yes")):
                what = "%s, answer %r" % (name, answer)
                rc, out, term, prompted = prompt_client(procs, build, certs, ports[name], answer)
                check_sanitizer(t, "client (%s)" % what, term)
                t.check("%s: the prompt appears" % what, prompted, "Proceed anyway? [y/N]", term[-800:])
                t.eq("%s: exit" % what, rc, rc_want)
                box = term[term.find("Certificate warning"):term.find("Proceed anyway")]
                t.check("%s: a framed warning before the question" % what,
                        "Certificate warning" in term and box.count("\n|") >= 5,
                        "+-- Certificate warning --- and | lines", term[-1500:])
                t.icontains("%s: the warning names the problem (%s)" % (what, words), box, words)
                t.contains("%s: the warning shows the OpenSSL code" % what, box, "OpenSSL error %d" % code)
                for d in range(depths):
                    t.contains("%s: the chain: depth %d line" % (what, d), box, "depth %d:" % d)
                t.contains("%s: the advice" % what, box, "What you can do:")
                for a in advice:
                    t.icontains("%s: the advice says %r" % (what, a), box, a)
                after = term[term.find("Proceed anyway"):]
                t.check("%s: trust_decision after the answer: %s" % (what, decision),
                        re.search(r"trust_decision\s+" + decision, after), decision, after[:400])
                before = term[:term.find("Proceed anyway")]
                t.check("%s: the refused connection is closed before the question" % what,
                        re.search(r"client #\d+\s+TCP\s+closed\s", before), "a closed line",
                        before[-600:])
                locals_ = re.findall(r"\bconnect\s+(\S+) -> ", term)
                t.eq("%s: connections" % what, len(locals_), 2 if rc_want == 0 else 1)
                s = srv.conn_events(locals_[0]) if locals_ else []
                t.check("%s: the server logged the refused connection" % what, s, "its events",
                        locals_[:1])
                t.check("%s: refused in the handshake: the server got our alert" % what,
                        events(s, "alert", dir="in"), "alert in", summary(s))
                t.check("%s: no request on the refused connection" % what,
                        s and not events(s, "request"), "a connection without request", summary(s))
                if rc_want == 0:
                    t.contains("%s: the page is fetched" % what, out.decode("utf-8", "replace"),
                               "your connection")
                    s2 = srv.conn_events(locals_[-1]) if len(locals_) > 1 else []
                    t.eq("%s: the server answered the new connection" % what,
                         (first(s2, "response") or {}).get("status"), 200)
                else:
                    t.eq("%s: no body" % what, out, b"")


def test_show_certs(t, server, client, certs):
    """Issue 4: --show-certs prints the presented chain (subjects, names, PEM) on stderr,
    also for a chain that is refused."""
    rows = {r["name"]: r for r in gallery_rows(t, certs)}
    with start_gallery(server, http=None, https=None) as srv:
        ports = gallery_ports(t, srv, [n for n in ("good-chain", "self-signed") if n in rows])
        if "good-chain" in ports:
            r = client("--show-certs", "--cacert", certs.gfile("trust.pem"),
                       "https://localhost:%d/" % ports["good-chain"], json_log=False)
            t.eq("good-chain: exit", r.rc, 0)
            t.contains("good-chain: the page on stdout", r.text, "your connection")
            t.check("good-chain: stdout has no certificate", "BEGIN CERTIFICATE" not in r.text,
                    "the body only", r.text[:300])
            blocks = pem_blocks(r.err)
            t.eq("good-chain: 2 BEGIN CERTIFICATE blocks", len(blocks), 2)
            t.contains("good-chain: a header with the count", r.err, "2 certificate(s)")
            subj = re.findall(r"^\[(\d)\] subject:\s*(.*)$", r.err, re.M)
            t.eq("good-chain: subject lines [0] and [1]", [s[0] for s in subj], ["0", "1"])
            if len(subj) == 2:
                t.contains("good-chain: [0] is the leaf", subj[0][1], "OU=good-chain")
                t.contains("good-chain: [1] is the intermediate", subj[1][1], "intermediate CA")
            t.check("good-chain: issuer, validity and sha256 lines",
                    all(re.search(r"^\s+%s:" % k, r.err, re.M) for k in ("issuer", "valid", "sha256")),
                    "issuer:, valid:, sha256:", r.err[-1500:])
            with open(certs.gfile("good-chain.chain.pem")) as f:
                sent = pem_blocks(f.read())
            norm = lambda bs: [re.sub(r"\s+", "", b) for b in bs]
            t.check("good-chain: the PEM blocks are the chain the server sends",
                    norm(blocks) == norm(sent), "good-chain.chain.pem", blocks)
            names = re.search(r"^\s+names:\s*(.*)$", r.err, re.M)
            names = names.group(1) if names else ""
            t.contains("good-chain: names: the DNS name", names, "DNS:localhost")
            t.contains("good-chain: names: the IPv4 address", names, "IP:127.0.0.1")
            t.check("good-chain: names: the IPv6 address is shown, not a placeholder",
                    re.search(r"IP:(::1|0:0:0:0:0:0:0:1)\b", names), "IP:::1", names)
        if "self-signed" in ports:
            r = client("--show-certs", "https://localhost:%d/" % ports["self-signed"],
                       json_log=False)
            t.eq("self-signed (refused): exit", r.rc, 60)
            t.eq("self-signed: its 1 certificate is shown anyway", len(pem_blocks(r.err)), 1)
            t.contains("self-signed: subject", r.err, "OU=self-signed")


def browser_conns(srv, port):
    """The server's records, by conn, of the connections accepted on `port`."""
    with srv.cond:
        evs = list(srv.evs)
    conns = {e.get("conn") for e in evs if e.get("event") == "established" and
             str(e.get("local", "")).endswith(":%d" % port)}
    return [[e for e in evs if e.get("conn") == c] for c in sorted(conns)]


@pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again under SAN=1 or "
                    "valgrind (a whole browser)")
def test_browser_chromium(t, server, client, run, certs, tmp_path, procs, chromium, certutil):
    """Issue 4: a real browser. Headless Chromium (trust from $HOME/.pki/nssdb) refuses
    the CA-signed and self-signed ports without the demo CA (empty DOM,
    net::ERR_CERT_AUTHORITY_INVALID), loads the page with it, and still refuses no-san."""
    rows = {r["name"]: r for r in gallery_rows(t, certs)}
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=tmp_path)
    with start_gallery(server, http=None, https=None) as srv:
        ports = gallery_ports(t, srv, [n for n in ("ca-signed", "self-signed", "no-san") if n in rows])
        if len(ports) < 3:
            return
        url = lambda n: "https://localhost:%d/" % ports[n]
        for name in ("ca-signed", "self-signed"):
            what = "%s, demo CA not trusted" % name
            dom, err = chromium_dump(t, procs, chromium, home, url(name), what)
            t.eq("%s: --dump-dom is empty" % what, dom.strip(), "")
            t.eq("%s: Chromium's error" % what, net_errors(err), ["ERR_CERT_AUTHORITY_INVALID"])
            t.contains("%s: 'Page load failed' on stderr" % what, err, "Page load failed")
            cs = browser_conns(srv, ports[name])
            t.check("%s: the server saw Chromium's alert and no request" % what,
                    cs and any(events(c, "alert", dir="in") for c in cs) and
                    not any(events(c, "request") for c in cs),
                    "alert in, no request", [summary(c) for c in cs])

        nss = os.path.join(home, ".pki", "nssdb")
        os.makedirs(nss)
        env = {"HOME": home}
        mk = run([certutil, "-d", "sql:" + nss, "-N", "--empty-password"], env=env)
        add = run([certutil, "-d", "sql:" + nss, "-A", "-t", "C,,", "-n", "handshake-lab",
                   "-i", certs.ca], env=env)
        t.eq("certutil -N (new NSS database): exit", mk.rc, 0)
        t.eq("certutil -A (demo CA as a trusted CA): exit", add.rc, 0)

        what = "ca-signed, demo CA trusted"
        dom, err = chromium_dump(t, procs, chromium, home, url("ca-signed"), what)
        t.contains("%s: the page shows 'Your connection'" % what, dom, "Your connection")
        t.contains("%s: the page shows the TLS version" % what, dom, "TLSv1.3")
        t.contains("%s: the page shows the SNI" % what, dom, "localhost")
        t.eq("%s: no net:: error" % what, net_errors(err), [])
        cs = browser_conns(srv, ports["ca-signed"])
        resp = [first(c, "response") for c in cs if first(c, "response")]
        t.check("%s: the server answered Chromium's request with 200" % what,
                any(x.get("status") == 200 for x in resp), "response 200", [summary(c) for c in cs])
        hd = [first(c, "handshake_done") for c in cs if first(c, "handshake_done")]
        t.check("%s: the server's handshake_done says TLSv1.3" % what,
                hd and all(x.get("version") == "TLSv1.3" for x in hd), "TLSv1.3", hd[:1])

        what = "no-san, demo CA trusted"
        dom, err = chromium_dump(t, procs, chromium, home, url("no-san"), what)
        t.eq("%s: --dump-dom is empty" % what, dom.strip(), "")
        t.eq("%s: Chromium's error" % what, net_errors(err), ["ERR_CERT_COMMON_NAME_INVALID"])
        r = client("--cacert", certs.ca, url("no-san"))
        t.eq("%s: our client accepts it (CN fallback): exit" % what, r.rc, 0)

        what = "self-signed, demo CA trusted"
        dom, err = chromium_dump(t, procs, chromium, home, url("self-signed"), what)
        t.eq("%s: still refused" % what, net_errors(err), ["ERR_CERT_AUTHORITY_INVALID"])


def test_gallery_links_follow_host(t, server, certs):
    """Issue 12 item 10: on a LAN the page's gallery links name the host the visitor asked for
    (the Host header, if it is a valid host[:port]), else the address the connection reached
    (here --bind 127.0.0.2), never a localhost the visitor cannot reach."""
    from harness.net import http_exchange, split_response
    rows = gallery_rows(t, certs)
    with start_gallery(server, bind="127.0.0.2", https=None) as srv:
        port = srv.port("http")
        first_row = rows[0]["name"]
        gport = gallery_ports(t, srv, [first_row]).get(first_row)
        if port is None or gport is None:
            return

        def page(host_line, target="/?text", version="1.1"):
            req = "GET %s HTTP/%s\r\n%sConnection: close\r\n\r\n" % (target, version, host_line)
            data, _ = http_exchange(port, req.encode(), host="127.0.0.2")
            status, _, body, _ = split_response(data)
            return status, body.decode("utf-8", "replace")

        for host, want in (("teacher.lan:%d" % port, "teacher.lan"),
                           ("Teacher.LAN", "Teacher.LAN"),
                           ("192.168.1.10:%d" % port, "192.168.1.10"),
                           ("[fd00::10]:%d" % port, "[fd00::10]")):
            status, body = page("Host: %s\r\n" % host)
            t.eq("Host: %s: status" % host, status, 200)
            t.contains("Host: %s: the text page links %s to %s" % (host, first_row, want), body,
                       "https://%s:%d/" % (want, gport))
        status, body = page("Host: teacher.lan:%d\r\n" % port, target="/")
        t.contains("Host: teacher.lan: the HTML page links to it", body,
                   'href="https://teacher.lan:%d/"' % gport)
        status, body = page("", version="1.0")
        t.contains("HTTP/1.0 without Host: the links name the bound address", body,
                   "https://127.0.0.2:%d/" % gport)
        # Not a host: the page names the bound address (or the server refuses the request).
        for bad in ('x"><script>alert(1)</script>', "user@teacher.lan", "teacher.lan/x",
                    "teacher.lan:80:80", "[not-v6]:80", ".lan", "a" * 200):
            status, body = page("Host: %s\r\n" % bad)
            if status == 200:
                t.contains("Host: %.30s: the links name the bound address" % bad, body,
                           "https://127.0.0.2:%d/" % gport)
                t.check("Host: %.30s: not in any link" % bad, "https://" + bad not in body,
                        "absent", body[-300:])
            else:
                t.eq("Host: %.30s: refused with 400" % bad, status, 400)
