"""Issue 11, the last untrue lines: a sentence comes from what the program saw, never from the
order of its own calls. TLS 1.3's ChangeCipherSpec before any ServerHello (after a
HelloRetryRequest) has no keys behind it; a connect() that finished at once says "on loopback"
only on loopback; the timing line's steps that never happened are "not reached", not 0.000 ms;
the server's try: URLs name the address it listens on."""

import os
import shutil
import socket
import subprocess

import pytest

from harness.env import CLIENT
from harness.log import events, first, summary
from harness.net import ipv6_usable
from harness.tcp import is_root


def before_server_hello(c):
    """The ChangeCipherSpec events of one side's connection logged before its ServerHello."""
    out = []
    for e in c:
        if e.get("event") == "message" and e.get("type") == "ServerHello":
            break
        if e.get("event") == "message" and e.get("type") == "ChangeCipherSpec":
            out.append(e)
    return out


def test_truth_hrr_ccs_no_keys(t, server, client, certs):
    """After a HelloRetryRequest (client X25519:P-256, server P-256) both sides send their
    middlebox-compatibility ChangeCipherSpec before any ServerHello: no keys exist yet, so no
    gloss of those four says the encryption began with the hellos' keys; each says it is a
    plaintext record that carries nothing and that no keys exist yet."""
    with server("--groups", "P-256", http=None, selfsigned=None) as srv:
        r = client("--groups", "X25519:P-256", "--cacert", certs.ca,
                   "https://localhost:%d/" % srv.port("https"))
        t.eq("exit", r.rc, 0)
        sconn = srv.conn_events(r.local())
    for who, c in (("client", r.conn()), ("server", sconn)):
        t.check("%s: a HelloRetryRequest" % who, first(c, "message", type="HelloRetryRequest"),
                "one", summary(c)[:300])
        ccs = before_server_hello(c)
        t.eq("%s: ChangeCipherSpecs before the ServerHello (one out, one in)" % who,
             sorted(e.get("dir") for e in ccs), ["in", "out"])
        for e in ccs:
            g = e.get("gloss", "")
            what = "%s: %s ChangeCipherSpec before the ServerHello" % (who, e.get("dir"))
            t.check(what + ": not 'the encryption began'", "encryption began" not in g and
                    "keys from the hellos" not in g, "absent", g)
            t.contains(what + ": no keys yet", g, "no keys exist yet")
            t.contains(what + ": after the HelloRetryRequest", g, "after the HelloRetryRequest")
            t.check(what + ": plaintext, not encrypted, carries nothing", "plaintext" in g and
                    "not encrypted" in g and "nothing" in g, "plaintext ... nothing", g)


def test_truth_ccs_after_server_hello_keeps_keys(t, server, client, certs):
    """Without a HelloRetryRequest each ChangeCipherSpec comes after the ServerHello: there the
    handshake keys exist, and the gloss still says so."""
    with server(http=None, selfsigned=None) as srv:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        t.eq("exit", r.rc, 0)
    ccs = events(r.conn(), "message", type="ChangeCipherSpec")
    t.check("client: ChangeCipherSpecs", ccs, "some", summary(r.conn())[:300])
    t.eq("client: none before the ServerHello", before_server_hello(r.conn()), [])
    for e in ccs:
        t.contains("client: %s ChangeCipherSpec after the ServerHello" % e.get("dir"),
                   e.get("gloss", ""), "the encryption began with the keys from the hellos")


def test_truth_connect_loopback_words(t, server, client):
    """On loopback the connect gloss may say 'on loopback'; the address decides it."""
    with server(https=None, selfsigned=None) as srv:
        r = client("http://127.0.0.1:%d/" % srv.port("http"))
        t.eq("exit", r.rc, 0)
    c = first(r.conn(), "connect") or {}
    if c.get("tcp_state") == "ESTABLISHED":
        t.contains("loopback connect: 'on loopback'", c.get("gloss", ""), "on loopback")


class Netns:
    """A network namespace joined to this one by a veth pair: here ADDR_HOST, there ADDR_NS.
    Removed at the end (the namespace and the pair, by their names)."""

    def __init__(self):
        tag = "%d" % (os.getpid() % 100000)
        self.ns, self.veth, self.peer = "hslab" + tag, "hsl" + tag, "hsp" + tag
        n = os.getpid() % 200 + 20
        self.host, self.there = "10.213.%d.1" % n, "10.213.%d.2" % n
        self.ok = False

    def _ip(self, *args, ns=False):
        cmd = (["ip", "netns", "exec", self.ns, "ip"] if ns else ["ip"]) + list(args)
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=10).returncode == 0

    def __enter__(self):
        self.ok = (self._ip("netns", "add", self.ns) and
                   self._ip("link", "add", self.veth, "type", "veth", "peer", "name", self.peer)
                   and self._ip("link", "set", self.peer, "netns", self.ns) and
                   self._ip("addr", "add", self.host + "/24", "dev", self.veth) and
                   self._ip("link", "set", self.veth, "up") and
                   self._ip("addr", "add", self.there + "/24", "dev", self.peer, ns=True) and
                   self._ip("link", "set", self.peer, "up", ns=True) and
                   self._ip("link", "set", "lo", "up", ns=True))
        return self

    def __exit__(self, *exc):
        self._ip("link", "del", self.veth)
        self._ip("netns", "del", self.ns)
        return False


def test_truth_connect_off_loopback(t, server, run):
    """Over a veth pair into a network namespace (a real link, as docs/guide/14 ran it) the
    client's connect line does not say 'on loopback': when the kernel already showed
    ESTABLISHED, the gloss says the SYN+ACK came back before connect() returned. Needs root
    and ip(8)."""
    if not is_root() or shutil.which("ip") is None:
        t.skip("needs root and ip(8) for a network namespace and a veth pair")
    with Netns() as nn:
        if not nn.ok:
            t.skip("could not make a network namespace with a veth pair here")
        with server(bind=nn.host, https=None, selfsigned=None) as srv:
            url = "http://%s:%d/" % (nn.host, srv.port("http"))
            rs = [run(["ip", "netns", "exec", nn.ns, CLIENT, "--log-format", "json", url],
                      name="client in the netns") for _ in range(3)]
    for i, r in enumerate(rs):
        t.eq("run %d: exit" % i, r.rc, 0)
        c = first(r.ev, "connect") or {}
        g = c.get("gloss", "")
        t.eq("run %d: connect from the namespace's address" % i,
             (c.get("local") or "").split(":")[0], nn.there)
        t.check("run %d: not 'on loopback'" % i, "loopback" not in g, "absent", g)
        if c.get("tcp_state") == "ESTABLISHED":
            t.contains("run %d: ESTABLISHED: the SYN+ACK came back in time" % i, g,
                       "came back before connect() returned")
        else:
            t.check("run %d: no claim the handshake completed" % i,
                    "completed inside connect()" not in g, "absent", g)


def test_truth_timing_not_reached(t, server, client, certs):
    """A refused certificate: the TLS handshake never finished and no response byte came, so
    the timing line says 'not reached' for both and leaves their JSON fields out (not 0.000
    ms); TCP connect happened and keeps its time. Plain HTTP has no TLS step: 'none'."""
    with server(http=0, https=None) as srv:
        r = client("https://localhost:%d/" % srv.port("selfsigned"))
        h = client("http://localhost:%d/" % srv.port("http"))
    t.check("refused: exit not 0", r.rc, "non-zero exit", r.rc)
    tm = first(r.ev, "timing") or {}
    t.check("refused: time_connect_ms kept", tm.get("time_connect_ms", 0) > 0, "> 0", tm)
    for f in ("time_appconnect_ms", "time_starttransfer_ms"):
        t.check("refused: %s left out" % f, f not in tm, "absent", tm.get(f))
    d = tm.get("detail", "")
    t.contains("refused: TLS 'not reached'", d, "TLS handshake done: not reached")
    t.contains("refused: first byte 'not reached'", d, "first byte: not reached")
    t.check("refused: no 0.000 ms", "0.000 ms" not in d, "absent", d)
    t.eq("http: exit", h.rc, 0)
    tm = first(h.ev, "timing") or {}
    t.check("http: time_appconnect_ms left out", "time_appconnect_ms" not in tm, "absent",
            tm.get("time_appconnect_ms"))
    t.check("http: first byte timed", tm.get("time_starttransfer_ms", 0) > 0, "> 0", tm)
    t.contains("http: 'TLS handshake done: none (plain HTTP)'", tm.get("detail", ""),
               "TLS handshake done: none (plain HTTP)")


def test_truth_try_urls_bound_address(t, server, client, certs):
    """server --bind 127.0.0.2 (any address but 127.0.0.1 / ::1 / the wildcards): the try:
    lines name that address, not localhost (which cannot reach it), the suggested plain-HTTP
    URL works, and the CA-signed one says its certificate does not name the address."""
    with server(bind="127.0.0.2") as srv:
        srv.wait_count("start", 5)
        tries = [e.get("detail", "") for e in srv.evs if e.get("event") == "start" and
                 e.get("detail", "").startswith("try:")]
        port = srv.port("http")
        r = client("http://127.0.0.2:%d/" % port)
    t.eq("five try: lines (our client on three ports, a browser, the class view)", len(tries), 5)
    for d in tries:
        t.check("try: names 127.0.0.2, not localhost", "localhost" not in d and
                "://127.0.0.2:" in d, "https?://127.0.0.2:PORT/", d)
    t.check("the http try: line is the URL that answered",
            any(d.startswith("try: build/client http://127.0.0.2:%d/" % port) for d in tries),
            "http://127.0.0.2:%d/" % port, tries)
    t.eq("that URL answers", r.rc, 0)
    t.check("the CA-signed try: says the certificate does not name 127.0.0.2",
            any("--cacert" in d and "does not name 127.0.0.2" in d for d in tries),
            "a note", tries)


def test_truth_try_urls_loopback(t, server):
    """The default binds (127.0.0.1, ::1) keep localhost, which the certificates name."""
    with server() as srv:
        srv.wait_count("start", 5)
        tries = [e.get("detail", "") for e in srv.evs if e.get("event") == "start" and
                 e.get("detail", "").startswith("try:")]
    t.eq("five try: lines (our client on three ports, a browser, the class view)", len(tries), 5)
    for d in tries:
        t.contains("try: localhost", d, "://localhost:")
        t.check("no certificate note", "does not name" not in d, "absent", d)


def test_truth_try_urls_ipv6_loopback(t, server, client, certs):
    """server --bind ::1: the try: lines name localhost only where the name leads to ::1 here
    (getaddrinfo; /etc/hosts may have no '::1 localhost'), else [::1]; the plain-HTTP one and
    the CA-signed one answer as suggested."""
    if not ipv6_usable():
        pytest.skip("no usable ::1 here")
    try:
        v6 = {a[4][0] for a in socket.getaddrinfo("localhost", None, socket.AF_INET6)}
    except socket.gaierror:
        v6 = set()
    host = "localhost" if "::1" in v6 else "[::1]"
    with server(bind="::1") as srv:
        srv.wait_count("start", 5)
        tries = [e.get("detail", "") for e in srv.evs if e.get("event") == "start" and
                 e.get("detail", "").startswith("try:")]
        port, sport = srv.port("http"), srv.port("https")
        r = client("http://%s:%d/" % (host, port))
        rs = client("--cacert", certs.ca, "https://%s:%d/" % (host, sport))
    t.eq("five try: lines (our client on three ports, a browser, the class view)", len(tries), 5)
    for d in tries:
        t.contains("try: names %s" % host, d, "://%s:" % host)
    t.eq("the http try: URL answers", r.rc, 0)
    t.eq("the CA-signed try: URL answers, trusted (the certificate names ::1)", rs.rc, 0)


def test_truth_fin_after_alert_is_not_after_close_notify(t, server, client, certs):
    """A server that requires a client certificate ends TLS with a fatal alert
    (certificate_required) and its FIN, and no close_notify: the client's fin_received must
    not say the FIN came after a close_notify (OpenSSL marks a fatal alert as a received
    shutdown too), and names the alert. Whether the FIN is in before the client closes
    varies: runs until some fin_received is logged (at most 8)."""
    frs = []
    with server("--client-auth", "require", "--client-ca", certs.ca, http=None,
                selfsigned=None) as srv:
        for _ in range(8):
            r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
            c = r.conn()
            t.eq("exit: the handshake failed", r.rc, 35)
            t.check("no close_notify received", not events(c, "close_notify", dir="in"),
                    "none", summary(c))
            frs += events(c, "fin_received")
            if any((e.get("detail") or "").startswith("read() returned 0") for e in frs):
                break
    t.check("a fin_received logged in 8 runs", frs, "at least one", len(frs))
    for fr in frs:
        t.check("fin_received.close_notify is not true", fr.get("close_notify") is not True,
                "false or absent", fr)
        t.check("fin_received does not say 'after its TLS close_notify'",
                "after its TLS close_notify" not in (fr.get("detail") or ""), "not said", fr)
        if (fr.get("detail") or "").startswith("read() returned 0"):   # read after the alert
            t.contains("fin_received (read() = 0) names the alert", fr.get("detail"),
                       "certificate_required")
