"""Mutual TLS (issue 4): --client-auth require / optional, with and without --cert."""

import os
import re
import shutil
import subprocess

from harness.env import SLOW
from harness.log import assert_order, E, events, first, summary
from harness.tcp import is_root, server_conn


def cert_cn(path):
    p = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(r"CN=([^,\n]+)", p.stdout.decode("utf-8", "replace"))
    return m.group(1) if m else None


MTLS_SERVER = [E("message", type="CertificateRequest", dir="out"),
               E("message", type="Certificate", dir="out"),
               E("message", type="Finished", dir="out"),
               E("message", type="Certificate", dir="in"),
               E("verify", depth=0),
               E("message", type="CertificateVerify", dir="in"),
               E("message", type="Finished", dir="in"),
               "handshake_done", "request", "response"]


MTLS_CLIENT = [E("message", type="CertificateRequest", dir="in"),
               E("message", type="Certificate", dir="in"),
               E("message", type="Finished", dir="in"),
               E("message", type="Certificate", dir="out"),
               E("message", type="CertificateVerify", dir="out"),
               E("message", type="Finished", dir="out"),
               "handshake_done", "request", "response"]


def test_mtls(t, server, client, run, certs):
    """Issue 4: mutual TLS. --client-auth require: accepted with client.crt, refused
    without (client 35 naming certificate_required; server alert out 116 + tls_error);
    optional: accepted without; curl for contrast."""
    crt, key = os.path.join(certs.dir, "client.crt"), os.path.join(certs.dir, "client.key")
    if not t.check("make-certs.sh made client.crt and client.key", os.path.exists(crt) and
                   os.path.exists(key), "both", certs.dir):
        return
    cn = cert_cn(crt) or "handshake-lab student"
    curl = shutil.which("curl")
    with server("--client-auth", "require", "--client-ca", certs.ca, http=None,
                selfsigned=None, name="server (require)") as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client("--cacert", certs.ca, "--cert", crt, "--key", key, url)
        t.eq("require, with --cert: exit", r.rc, 0)
        t.contains("require, with --cert: the page", r.text, "your connection")
        c = r.conn()
        assert_order(t, "require, with --cert: client", c, MTLS_CLIENT)
        s = srv.conn_events(r.local())
        assert_order(t, "require, with --cert: server", s, MTLS_SERVER)
        cin = first(s, "message", type="Certificate", dir="in") or {}
        sv = [e for e in s if e.get("event") == "verify"]
        t.check("server: the verify events come after the client's Certificate (they are about "
                "the client's chain)", sv and all(s.index(e) > s.index(cin) for e in sv if cin),
                "after Certificate in", summary(s))
        v0 = first(s, "verify", depth=0) or {}
        t.contains("server verify depth 0: subject is the client's (CN=%s)" % cn, v0.get("subject"),
                   "CN=" + cn)
        t.contains("server verify depth 0: issued by the demo CA", v0.get("issuer"), "demo CA")
        t.eq("server verify depth 0: ok", v0.get("ok"), True)
        t.eq("server response.status", (first(s, "response") or {}).get("status"), 200)

        r = client("--cacert", certs.ca, url)
        t.eq("require, no --cert: exit 35", r.rc, 35)
        t.eq("require, no --cert: no body", r.out, b"")
        c = r.conn()
        t.check("require, no --cert: client got the CertificateRequest",
                events(c, "message", type="CertificateRequest", dir="in"), "present", summary(c))
        t.check("require, no --cert: client sent no CertificateVerify",
                not events(c, "message", type="CertificateVerify", dir="out"), "none", summary(c))
        al = first(c, "alert", dir="in") or {}
        t.eq("require, no --cert: client alert in: desc", al.get("desc"), "certificate_required")
        t.eq("require, no --cert: client alert in: code", al.get("code"), 116)
        err = first(r.ev, "error") or {}
        t.contains("require, no --cert: the client's error names certificate_required",
                   err.get("detail"), "certificate_required")
        t.contains("require, no --cert: the client's error says what to do", err.get("detail"),
                   "--cert")
        s = srv.conn_events(r.local())
        assert_order(t, "require, no --cert: server", s, [
            E("message", type="CertificateRequest", dir="out"), E("message", type="Certificate", dir="in"),
            E("alert", dir="out", desc="certificate_required"), "tls_error", "closed"])
        sal = first(s, "alert", dir="out") or {}
        t.eq("require, no --cert: server alert out: code", sal.get("code"), 116)
        t.eq("require, no --cert: server alert out: level", sal.get("level"), "fatal")
        t.check("require, no --cert: no request reached the server", s and not events(s, "request"),
                "none", summary(s))
        t.check("require, no --cert: the server verified no client chain",
                not events(s, "verify"), "no verify events", summary(s))
        txt = client("--cacert", certs.ca, url, json_log=False)
        t.eq("require, no --cert, text log: exit", txt.rc, 35)
        t.contains("require, no --cert, text log: names certificate_required", txt.err,
                   "certificate_required")

        if curl:
            base = [curl, "-sS", "-o", "-", "--max-time", str(int(10 * SLOW)), "--cacert", certs.ca]
            cr = run(base + ["--cert", crt, "--key", key, url])
            t.eq("curl with --cert/--key: exit", cr.rc, 0)
            t.contains("curl with --cert/--key: the page", cr.text, "your connection")
            # TLS 1.3: curl's handshake is done before the refusal comes; it sees the alert on its
            # first read (56, like against openssl s_server -Verify 1), unless a reset came first
            runs = [run(base + [url]) for _ in range(3)]
            t.check("curl without a client certificate: exit 56 naming the alert, each time (the "
                    "alert on its first read, as against openssl s_server -Verify 1)",
                    all(x.rc == 56 and "certificate required" in x.err for x in runs),
                    "56: ... tlsv13 alert certificate required (3 times)",
                    "; ".join("%s: %s" % (x.rc, x.err.strip()) for x in runs))
        else:
            print("  note mtls: curl is not installed: its contrast is skipped")

    with server("--client-auth", "optional", "--client-ca", certs.ca, http=None,
                selfsigned=None, name="server (optional)") as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client("--cacert", certs.ca, url)
        t.eq("optional, no --cert: exit", r.rc, 0)
        t.contains("optional, no --cert: the page", r.text, "your connection")
        s = srv.conn_events(r.local())
        assert_order(t, "optional, no --cert: server", s, [
            E("message", type="CertificateRequest", dir="out"),
            E("message", type="Certificate", dir="in"), "handshake_done", "request", "response"])
        t.check("optional, no --cert: no client chain to verify, no CertificateVerify in",
                not events(s, "verify") and not events(s, "message", type="CertificateVerify", dir="in"),
                "none", summary(s))
        r = client("--cacert", certs.ca, "--cert", crt, "--key", key, url)
        t.eq("optional, with --cert: exit", r.rc, 0)
        s = srv.conn_events(r.local())
        t.contains("optional, with --cert: server verify depth 0 subject",
                   (first(s, "verify", depth=0) or {}).get("subject"), "CN=" + cn)

    if not is_root():
        print("  note mtls: not root: the server --capture check of the refusal is skipped")
        return
    # the refusal as the server's own capture shows it: the close after the alert must be a
    # FIN (as openssl s_server does), and closed.rst_sent must tell the truth
    with server("--capture", "--client-auth", "require", "--client-ca", certs.ca, http=None,
                selfsigned=None, name="server (require, --capture)") as srv:
        url = "https://127.0.0.1:%d/" % srv.port("https")
        r = client("--cacert", certs.ca, url)
        t.eq("--capture, no --cert: exit", r.rc, 35)
        s = server_conn(srv, r.local())
        segs = events(s, "segment")
        if not segs:
            print("  note mtls: the server captured nothing: %s" % srv.stderr()[-300:])
            return
        rst = [e for e in segs if e.get("dir") == "out" and "RST" in str(e.get("flags"))]
        fin = [e for e in segs if e.get("dir") == "out" and "FIN" in str(e.get("flags"))]
        closed = first(s, "closed") or {}
        t.check("the refused connection ends with the server's FIN, not a RST (the client's "
                "Finished and request were left unread)", fin and not rst, "FIN out, no RST out",
                "segments out: %s; closed: %s" % (
                    [e.get("flags") for e in segs if e.get("dir") == "out"],
                    {k: closed.get(k) for k in ("fin_sent", "rst_sent", "detail")}))
        t.eq("server closed.rst_sent agrees with the captured segments", closed.get("rst_sent"),
             bool(rst))
