"""Interop and conformance (issue 11, item 6): ALPN, HTTP/1.2, close-delimited bodies, one
TLS 1.3 ticket per connection, the --kx rsa refusal in words, and -n against a server that
closes without Connection: close. Real peers where there is one (curl, openssl s_client and
s_server, gnutls-serv, h2o, lighttpd, nginx); their configurations go into the test's own
temporary folder, every one on loopback with a kernel-picked port.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from harness.env import CHILD_ENV, CLIENT, SLOW
from harness.log import events, first, summary
from harness.net import TLSPeer, http_exchange, read_request_head, split_response
from harness.peers import NGINX_PLAIN, start_nginx
from harness.procs import stop_pid


# ---------------------------------------------------------------- peers on free ports

def _which(binary):
    path = shutil.which(binary)
    if not path:
        pytest.skip("%s is not installed" % binary)
    return path


def _free_port():
    """A port the kernel picks for a bind to 0, released again (for a peer that needs a
    number in its configuration); the caller retries if somebody takes it meanwhile."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _listen_inodes(port):
    """Socket inodes listening on 127.0.0.1:port (or any address), from /proc/net/tcp."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[3] == "0A" and int(p[1].split(":")[1], 16) == port:
                inodes.add(p[9])
    return inodes


def _pids_of(pid):
    """pid and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _owns_listener(pid, port):
    """The process pid (or one of its children) holds the socket listening on port: the
    port is really the peer's, not somebody else's who took it after we released it."""
    inodes = _listen_inodes(port)
    if not inodes:
        return False
    for p in _pids_of(pid):
        try:
            for fd in os.listdir("/proc/%d/fd" % p):
                link = os.readlink("/proc/%d/fd/%s" % (p, fd))
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
        except OSError:
            continue
    return False


def start_on_free_port(procs, what, argv_for, tries=5, cwd=None):
    """Start a peer that needs its port in its arguments or configuration: argv_for(port)
    for a port the kernel picked; wait until the peer holds the listener; on a conflict (it
    exited, or the port is not its own) try another port. Returns (process, port)."""
    last = ""
    for _ in range(tries):
        port = _free_port()
        p = procs.popen(argv_for(port), cwd=cwd, env=CHILD_ENV, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10 * SLOW
        while time.monotonic() < deadline and p.poll() is None:
            if _owns_listener(p.pid, port):
                return p, port
            time.sleep(0.05)
        if p.poll() is None:
            stop_pid(p)
        last = p.stdout.read().decode("utf-8", "replace")[-1000:] if p.stdout else ""
    raise AssertionError("%s did not start on a free port in %d tries: %s" % (what, tries, last))


def start_s_server_www(procs, openssl, cert, key, *extra, root=None):
    """openssl s_server -WWW (files from root, HTTP/1.0, the body ends at the close) on
    127.0.0.1 port 0: (process, port from its ACCEPT line)."""
    p = procs.popen([openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", cert,
                     "-key", key] + list(extra), cwd=root, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    port = [None]

    def read():
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            if line.startswith("ACCEPT") and port[0] is None:
                port[0] = int(line.strip().rsplit(":", 1)[1])
    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 10 * SLOW
    while port[0] is None and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    if port[0] is None:
        stop_pid(p)
        raise AssertionError("openssl s_server printed no ACCEPT line")
    return p, port[0]


H2O_CONF = """listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {d}/server.crt
    key-file: {d}/server.key
    ocsp-update-interval: 0
hosts:
  "localhost:{port}":
    paths:
      /:
        file.dir: {d}/www
error-log: {d}/error.log
"""

LIGHTTPD_CONF = """server.document-root = "{d}/www"
server.port = {port}
server.bind = "127.0.0.1"
server.errorlog = "{d}/error.log"
server.modules += ("mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "{d}/server.crt"
ssl.privkey = "{d}/server.key"
"""


def peer_dir(public_tmp, certs, name):
    """A folder for a peer's configuration, with its own copy of the certificate and a
    document root holding index.html, under public_tmp: readable by the user a peer
    started as root becomes (h2o: nobody)."""
    d = os.path.join(public_tmp, name)
    os.makedirs(os.path.join(d, "www"))
    for f in ("server.crt", "server.key"):
        shutil.copy(os.path.join(certs.dir, f), d)
        os.chmod(os.path.join(d, f), 0o644)
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("hello from %s\n" % name)
    for p in (d, os.path.join(d, "www")):
        os.chmod(p, 0o755)
    return d


def start_h2o(procs, public_tmp, certs):
    h2o = _which("h2o")
    d = peer_dir(public_tmp, certs, "h2o")

    def argv(port):
        conf = os.path.join(d, "h2o-%d.conf" % port)
        with open(conf, "w") as f:
            f.write(H2O_CONF.format(d=d, port=port))
        return [h2o, "-c", conf]
    return start_on_free_port(procs, "h2o", argv, cwd=d)


def start_lighttpd(procs, public_tmp, certs):
    lighttpd = _which("lighttpd")
    d = peer_dir(public_tmp, certs, "lighttpd")

    def argv(port):
        conf = os.path.join(d, "lighttpd-%d.conf" % port)
        with open(conf, "w") as f:
            f.write(LIGHTTPD_CONF.format(d=d, port=port))
        return [lighttpd, "-D", "-f", conf]
    return start_on_free_port(procs, "lighttpd", argv, cwd=d)


# gnutls-serv has no option to listen on loopback only (it takes 0.0.0.0 and ::): it runs
# in a network namespace of its own whose only interface is lo, with the client beside it.
NETNS_DRIVER = r'''
import os, socket, subprocess, sys, time
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
serv = subprocess.Popen([a.replace("@PORT@", str(port)) for a in sys.argv[2].split("\x1f")],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.05)
rc = subprocess.run([a.replace("@PORT@", str(port)) for a in sys.argv[1].split("\x1f")]).returncode
serv.terminate()
serv.wait(5)
sys.exit(rc)
'''


def run_beside_gnutls_serv(t, run, tmp_path, client_argv, serv_argv):
    """Run client_argv (with @PORT@) in a private network namespace beside serv_argv."""
    unshare = _which("unshare")
    _which("ip")
    if os.geteuid() != 0:
        pytest.skip("gnutls-serv listens on every address: it runs in a network namespace "
                    "of its own, which needs root")
    drv = str(tmp_path / "netns_driver.py")
    with open(drv, "w") as f:
        f.write(NETNS_DRIVER)
    return run([unshare, "--net", "--", sys.executable, drv, "\x1f".join(client_argv),
                "\x1f".join(serv_argv)], timeout=30)


def summary_total(r):
    return first([e for e in events(r.ev, "summary") if "connections" in e]) or {}


def summary_rows(r):
    return [e for e in events(r.ev, "summary") if "connection" in e]


# ---------------------------------------------------------------- ALPN

def test_alpn_http11(t, server, run, certs, curl, openssl):
    """ALPN: a client offering h2,http/1.1 (curl, s_client) gets http/1.1 (before: no
    ALPN at all); one offering only h2 gets none (no HTTP/2 here); the server logs what
    was offered and what it chose."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = run([curl, "-sv", "-o", "/dev/null", "--max-time", str(int(10 * SLOW)),
                 "--cacert", certs.ca, "https://localhost:%d/" % port])
        t.eq("curl: exit", r.rc, 0)
        t.contains("curl offers h2,http/1.1", r.err, "ALPN: offers h2,http/1.1")
        t.contains("curl: the server accepted http/1.1", r.err, "ALPN: server accepted http/1.1")
        a = srv.wait_for(lambda e: e.get("event") == "alpn") or {}
        t.eq("server alpn.offered", a.get("offered"), "h2,http/1.1")
        t.eq("server alpn.chosen", a.get("chosen"), "http/1.1")
        t.contains("server alpn: detail names both", a.get("detail"),
                   "offers h2,http/1.1; we choose http/1.1")
        hd = srv.wait_for(lambda e: e.get("event") == "handshake_done" and
                          e.get("conn") == a.get("conn")) or {}
        t.eq("server handshake_done.alpn", hd.get("alpn"), "http/1.1")
        for what, extra, alpn, want in (
                ("TLS 1.3", [], "h2,http/1.1", "ALPN protocol: http/1.1"),
                ("TLS 1.2", ["-tls1_2"], "h2,http/1.1", "ALPN protocol: http/1.1"),
                ("TLS 1.3 h2 only", [], "h2", "No ALPN negotiated")):
            mark = srv.mark()
            r = run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                     "localhost", "-CAfile", certs.ca, "-ign_eof", "-alpn", alpn] + extra,
                    stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            t.contains("s_client %s -alpn %s: %s" % (what, alpn, want), r.text, want)
            t.contains("s_client %s -alpn %s: the page came" % (what, alpn), r.text, "200 OK")
            a = srv.wait_for(lambda e: e.get("event") == "alpn", after=mark) or {}
            t.eq("s_client %s: alpn (offered, chosen)" % what,
                 (a.get("offered"), a.get("chosen")),
                 (alpn, "http/1.1" if "http/1.1" in alpn else ""))
            if what == "TLS 1.2":
                t.contains("TLS 1.2: the choice goes back in the ServerHello", a.get("gloss"),
                           "ServerHello")
        # a client without ALPN (ours) gets no alpn event and no protocol
        mark = srv.mark()
        run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", certs.ca, "-ign_eof"],
            stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        hd = srv.wait_for(lambda e: e.get("event") == "handshake_done", after=mark) or {}
        t.eq("no ALPN offered: handshake_done.alpn", hd.get("alpn"), "")
        t.check("no ALPN offered: no alpn event",
                srv.wait_for(lambda e: e.get("event") == "alpn", after=mark, timeout=0.2)
                is None, "none", "an alpn event")


# ---------------------------------------------------------------- HTTP/1.2

def test_http_minor_version(t, server, tmp_path, procs, certs):
    """GET / HTTP/1.2 is read and answered as HTTP/1.1 (RFC 9110 6.2, RFC 9112 2.6; before:
    505); another major version (2.0, 3.1, 0.9) still gets 505; nginx answers the same."""
    with server(https=None, selfsigned=None) as srv:
        port = srv.port("http")
        for v in ("1.2", "1.9"):
            mark = srv.mark()
            data, closed = http_exchange(port, b"GET / HTTP/%s\r\nHost: x\r\n"
                                         b"Connection: close\r\n\r\n" % v.encode())
            t.eq("HTTP/%s: status" % v, split_response(data)[0], 200)
            t.check("HTTP/%s: answered as HTTP/1.1" % v, data.startswith(b"HTTP/1.1 200 "),
                    "HTTP/1.1 200", data[:20])
            rq = srv.wait_for(lambda e: e.get("event") == "request", after=mark) or {}
            t.eq("HTTP/%s: request.version as sent" % v, rq.get("version"), "HTTP/%s" % v)
            t.eq("HTTP/%s: request.read_as" % v, rq.get("read_as"), "HTTP/1.1")
        # HTTP/1.2 keeps HTTP/1.1's rules: keep-alive by default, Host required
        data, closed = http_exchange(port, b"GET / HTTP/1.2\r\n\r\n")
        t.eq("HTTP/1.2 without Host: 400 as for 1.1", split_response(data)[0], 400)
        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOW) as s:
            s.sendall(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n")
            head = read_request_head(s)
            t.check("HTTP/1.2: the connection stays open (keep-alive)",
                    b"Connection: close" not in head, "no Connection: close", head[:200])
        mark = srv.mark()
        for v in (b"2.0", b"3.1", b"0.9"):
            data, closed = http_exchange(port, b"GET / HTTP/%s\r\nHost: x\r\n\r\n" % v)
            t.eq("HTTP/%s: 505" % v.decode(), split_response(data)[0], 505)
        deadline = time.monotonic() + 5 * SLOW     # the log is read by a thread
        while len(events(srv.evs[mark:], "http_error")) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        t.eq("three 505s logged", [e.get("status") for e in
                                   events(srv.evs[mark:], "http_error")], [505, 505, 505])
    nginx = shutil.which("nginx")
    if nginx:
        # the reference: nginx answers HTTP/1.2 as HTTP/1.1 and HTTP/2.0 (over HTTP/1) 505
        d = str(tmp_path / "nginx")
        os.makedirs(d)
        os.chmod(str(tmp_path), 0o755)
        os.chmod(d, 0o755)
        p, nport = start_nginx(procs, nginx, None, d, NGINX_PLAIN)
        try:
            data = b""
            deadline = time.monotonic() + 10 * SLOW
            while time.monotonic() < deadline and not data.startswith(b"HTTP/"):
                try:
                    data, _ = http_exchange(nport, b"GET / HTTP/1.2\r\nHost: x\r\n"
                                            b"Connection: close\r\n\r\n")
                except OSError:
                    time.sleep(0.05)
            t.check("nginx answers HTTP/1.2 with HTTP/1.1 200", data.startswith(b"HTTP/1.1 200"),
                    "HTTP/1.1 200", data[:30])
        finally:
            stop_pid(p, 10)


# ---------------------------------------------------------------- close-delimited bodies

def check_close_delimited(t, what, r, n):
    t.eq("%s: exit" % what, r.rc, 0)
    rows = summary_rows(r)
    t.eq("%s: responses whole per connection" % what, [e.get("responses") for e in rows],
         [1] * n)
    tot = summary_total(r)
    t.eq("%s: summary requests, responses" % what, (tot.get("requests"), tot.get("responses")),
         (n, n))
    t.check("%s: no '0 responses whole'" % what, "responses whole" not in
            (tot.get("detail") or ""), "absent", tot.get("detail"))
    t.eq("%s: body framing" % what, [e.get("framing") for e in events(r.ev, "body")],
         ["closed by the server"] * n)


def test_close_delimited_bodies_count(t, client, run, certs, procs, openssl, tmp_path):
    """--reconnect: a body ended by the server's close (HTTP/1.0 without a length), with
    close_notify over TLS, is a whole response (before: '0 responses whole'): openssl
    s_server -WWW, gnutls-serv --http. Without close_notify it is not counted whole, and a
    warning says why."""
    root = str(tmp_path / "www")
    os.makedirs(root)
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello from s_server -WWW\n")
    p, port = start_s_server_www(procs, openssl, os.path.join(certs.dir, "server.crt"),
                                 os.path.join(certs.dir, "server.key"), "-WWW", root=root)
    try:
        r = client("--cacert", certs.ca, "--reconnect", "2",
                   "https://localhost:%d/hello.txt" % port)
        check_close_delimited(t, "s_server -WWW", r, 2)
        t.eq("s_server -WWW: both bodies on stdout", r.text.count("hello from s_server"), 2)
        t.check("s_server -WWW: close_notify came on each connection",
                len(events(r.ev, "close_notify", dir="in")) == 2, "2", summary(r.ev))
    finally:
        stop_pid(p)
    # a TLS server that ends the body with a bare FIN (no close_notify)
    def no_notify(c):
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ncut here?\n")
        raw = socket.socket(fileno=os.dup(c.fileno()))
        raw.shutdown(socket.SHUT_WR)        # FIN, without SSL_shutdown: no close_notify
        raw.close()
    peer = TLSPeer(certs.dir, no_notify)
    try:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % peer.port)
    finally:
        peer.close()
    t.check("bare FIN: no close_notify in", not events(r.ev, "close_notify", dir="in"),
            "none", summary(r.ev))
    w = [e for e in events(r.ev, "warning") if "close_notify" in (e.get("detail") or "")]
    t.check("bare FIN: a warning says the body may be cut short", w, "a warning",
            summary(r.ev))
    gserv = shutil.which("gnutls-serv")
    if gserv is None:
        return
    if os.geteuid() != 0:
        return      # gnutls-serv listens on every address: only in a namespace of its own
    r = run_beside_gnutls_serv(
        t, run, tmp_path,
        [CLIENT, "--log-format", "json", "--cacert", certs.ca, "--reconnect", "2",
         "https://localhost:@PORT@/"],
        [gserv, "--http", "-p", "@PORT@",
         "--x509certfile=%s" % os.path.join(certs.dir, "server.crt"),
         "--x509keyfile=%s" % os.path.join(certs.dir, "server.key")])
    check_close_delimited(t, "gnutls-serv --http", r, 2)


# ---------------------------------------------------------------- one ticket, one use

def check_tickets(t, what, r, n):
    """--reconnect n against a server that sends two tickets on a full handshake and none
    on a resumed one (h2o, lighttpd): full, resumed, resumed, full, resumed ..."""
    t.eq("%s: exit" % what, r.rc, 0)
    rows = summary_rows(r)
    want = ["full", "resumed", "resumed", "full", "resumed", "resumed"][:n]
    t.eq("%s: handshakes per connection (each ticket used once)" % what,
         [e.get("handshake") for e in rows], want)
    res = events(r.ev, "resume")
    t.eq("%s: a resume event on each connection after the first" % what, len(res), n - 1)
    t.eq("%s: resume.offered" % what, [e.get("offered") for e in res],
         [k == "resumed" for k in want[1:]])
    offered = [e.get("ticket") for e in res if e.get("offered")]
    t.eq("%s: no ticket offered twice" % what, len(offered), len(set(offered)))
    t.eq("%s: the two tickets of connection 1 went to connections 2 and 3" % what,
         [(e.get("ticket"), e.get("from_conn")) for e in res[:2]],
         [(2, rows[0].get("conn") if rows else 1), (1, rows[0].get("conn") if rows else 1)])
    if len(res) >= 3:
        t.contains("%s: connection 4 says why it makes a full handshake" % what,
                   res[2].get("detail"), "no unused ticket left")
        t.contains("%s: ... naming where the tickets came from" % what, res[2].get("detail"),
                   "(#%d: 2, #%d: 0, #%d: 0)" % tuple(e.get("conn") for e in rows[:3]))
        t.eq("%s: resume.received before connection 4" % what, res[2].get("received"), 2)
        t.check("%s: connection 4's ClientHello offers no ticket" % what,
                "session ticket" not in ((first(r.conn(rows[3].get("conn")), "message",
                                                type="ClientHello") or {}).get("summary") or ""),
                "no ticket", "a ticket")
    # the ClientHellos that carried a ticket (the dissection is the observed fact)
    for e in res:
        ch = first(r.conn(e.get("conn")), "message", type="ClientHello") or {}
        t.eq("%s: #%s ClientHello offers a ticket iff resume says so" % (what, e.get("conn")),
             "session ticket" in (ch.get("summary") or ""), e.get("offered"))


def check_reuse(t, what, r, n):
    """--reuse-ticket: the ticket of connection 2 goes out again on every later one."""
    t.eq("%s --reuse-ticket: exit" % what, r.rc, 0)
    res = events(r.ev, "resume")
    t.eq("%s --reuse-ticket: the same ticket each time" % what,
         [e.get("ticket") for e in res], [2] * (n - 1))
    t.eq("%s --reuse-ticket: again" % what, [e.get("again") for e in res],
         [False] + [True] * (n - 2))
    t.contains("%s --reuse-ticket: the log names the linkable reuse" % what,
               (res[1].get("detail") if len(res) > 1 else ""), "AGAIN (--reuse-ticket)")
    t.contains("%s --reuse-ticket: and why it matters" % what,
               (res[1].get("gloss") if len(res) > 1 else ""), "link the connections")


@pytest.mark.parametrize("peer", ["h2o", "lighttpd"])
def test_tickets_each_used_once(t, client, certs, procs, public_tmp, peer):
    """--reconnect 4 against h2o and lighttpd (two tickets on a full handshake, none on a
    resumed one): every ticket kept and offered once (RFC 8446 C.4), so full, resumed,
    resumed, full (before: full, resumed, full, resumed, the second ticket dropped); the
    reconnect with none left says why; --reuse-ticket offers one again on purpose."""
    p, port = (start_h2o if peer == "h2o" else start_lighttpd)(procs, public_tmp, certs)
    url = "https://localhost:%d/index.html" % port
    try:
        r = client("--cacert", certs.ca, "--reconnect", "5", url)
        check_tickets(t, peer, r, 5)
        t.eq("%s: the page on stdout five times" % peer, r.text.count("hello from %s" % peer), 5)
        r = client("--cacert", certs.ca, "--reconnect", "4", "--reuse-ticket", url)
        check_reuse(t, peer, r, 4)
        t.eq("%s --reuse-ticket: every reconnect resumed" % peer,
             [e.get("handshake") for e in summary_rows(r)], ["full"] + ["resumed"] * 3)
    finally:
        stop_pid(p, 10)


def test_tickets_ours_and_tls12(t, server, client, certs):
    """Our server sends a new ticket on each resumed handshake too: every reconnect resumes
    with the newest unused one. TLS 1.2 resumes the same session again and again (its ticket
    or session ID), as before; --reuse-ticket against our server resumes with one ticket."""
    with server(http=None, selfsigned=None) as srv:
        url = "https://localhost:%d/" % srv.port("https")
        r = client("--cacert", certs.ca, "--reconnect", "4", url)
        t.eq("TLS 1.3: exit", r.rc, 0)
        t.eq("TLS 1.3: handshakes", [e.get("handshake") for e in summary_rows(r)],
             ["full", "resumed", "resumed", "resumed"])
        res = events(r.ev, "resume")
        t.eq("TLS 1.3: each connection offers the newest ticket, once",
             [(e.get("offered"), e.get("again"), e.get("version")) for e in res],
             [(True, False, "TLSv1.3")] * 3)
        t.check("TLS 1.3: no ticket offered twice",
                len({e.get("ticket") for e in res}) == 3, "3 tickets", res)
        r = client("--cacert", certs.ca, "--reconnect", "3", "--reuse-ticket", url)
        check_reuse(t, "ours", r, 3)
        t.eq("ours --reuse-ticket: resumed each time (OpenSSL's server takes a ticket again)",
             [e.get("handshake") for e in summary_rows(r)], ["full", "resumed", "resumed"])
        r = client("--cacert", certs.ca, "--tls-max", "1.2", "--reconnect", "3", url)
        t.eq("TLS 1.2: exit", r.rc, 0)
        t.eq("TLS 1.2: handshakes", [e.get("handshake") for e in summary_rows(r)],
             ["full", "resumed", "resumed"])
        res = events(r.ev, "resume")
        t.eq("TLS 1.2: the same session offered again",
             [(e.get("version"), e.get("again")) for e in res],
             [("TLSv1.2", False), ("TLSv1.2", True)])
        t.contains("TLS 1.2: the log says TLS 1.2 resumes again and again",
                   (res[0].get("gloss") if res else ""), "again and again")


# ---------------------------------------------------------------- --kx rsa refused

def test_kx_rsa_refused_says_what_is_known(t, client, certs, procs, openssl):
    """--kx rsa against a server with an RSA certificate that refuses RSA key transport
    (openssl s_server, ECDHE suites only): the error says the server refused RSA key
    transport (handshake_failure) and names the possible reasons; it does not blame an
    ECDSA certificate (before: 'ours is an ECDSA one')."""
    p, port = start_s_server_www(procs, openssl, os.path.join(certs.dir, "server-rsa.crt"),
                                 os.path.join(certs.dir, "server-rsa.key"), "-www",
                                 "-cipher", "ECDHE+AESGCM")
    try:
        r = client("--cacert", certs.ca, "--kx", "rsa", "https://localhost:%d/" % port)
        ok = client("--cacert", certs.ca, "--kx", "ecdhe", "https://localhost:%d/" % port)
    finally:
        stop_pid(p)
    t.eq("--kx rsa: exit 35", r.rc, 35)
    err = (first(r.ev, "error") or {}).get("detail") or ""
    t.check("--kx rsa: no ECDSA blamed", "ECDSA" not in err, "no 'ECDSA'", err)
    t.contains("--kx rsa: the refusal", err, "the server refused RSA key transport")
    t.contains("--kx rsa: the alert", err, "handshake_failure (40)")
    for reason in ("no RSA certificate", "TLS_RSA_* suites off", "none of these suites"):
        t.contains("--kx rsa: a possible reason: %s" % reason, err, reason)
    t.eq("the same server with --kx ecdhe: exit 0 (its certificate is RSA)", ok.rc, 0)
    t.eq("--kx ecdhe: key exchange", (first(ok.ev, "key_exchange") or {}).get("kx"), "ECDHE")


# ---------------------------------------------------------------- -n and a silent close

class ClosingServer:
    """A server (plain or TLS, Python's ssl) that answers each request with HTTP/1.1 200 and
    a Content-Length, no Connection: close, and then closes the connection: how a server's
    keep-alive limit or idle timeout looks from the client. close_after: requests answered
    per connection before the close."""

    def __init__(self, certs_dir=None, close_after=1):
        self.ctx = None
        if certs_dir:
            import ssl
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(os.path.join(certs_dir, "server.crt"),
                                     os.path.join(certs_dir, "server.key"))
        self.close_after = close_after
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.ls.settimeout(0.2)
        self.port = self.ls.getsockname()[1]
        self.conns = 0
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _serve(self, raw):
        try:
            raw.settimeout(10 * SLOW)
            c = self.ctx.wrap_socket(raw, server_side=True) if self.ctx else raw
            buf = b""
            for _ in range(self.close_after):
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        return
                    buf += d
                buf = buf[buf.index(b"\r\n\r\n") + 4:]
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: 6\r\n\r\nhello\n")
            if self.ctx:
                try:
                    c.unwrap()          # close_notify, then the FIN
                except (OSError, ValueError):
                    pass
            raw.shutdown(socket.SHUT_WR)
            time.sleep(0.05)
        except OSError:
            pass
        finally:
            raw.close()

    def _run(self):
        while not self.stop:
            try:
                raw, _ = self.ls.accept()
            except OSError:
                continue
            self.conns += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def close(self):
        self.stop = True
        self.th.join(5)
        self.ls.close()


def test_n_reconnects_after_silent_close(t, client, certs):
    """-n 3 against a server that closes after each response without Connection: close
    (plain and TLS): the client says the connection died and sends the request again on a
    fresh connection, as curl does; the summary counts 3 connections (before: exit 56)."""
    for what, scheme, cdir in (("plain", "http", None), ("TLS", "https", certs.dir)):
        srv = ClosingServer(cdir)
        try:
            r = client("--cacert", certs.ca, "-n", "3", "%s://localhost:%d/" % (scheme, srv.port))
        finally:
            srv.close()
        t.eq("%s: exit 0" % what, r.rc, 0)
        t.eq("%s: three pages on stdout" % what, r.text.count("hello"), 3)
        w = [e for e in events(r.ev, "warning") if "connection died" in (e.get("detail") or "")]
        t.eq("%s: 'connection died' twice, for requests 2 and 3" % what,
             [e.get("req") for e in w], [2, 3])
        t.contains("%s: ... retrying on a fresh connection" % what,
                   (w[0].get("detail") if w else ""), "retrying it on a fresh connection")
        t.eq("%s: three connections" % what, len(events(r.ev, "established")), 3)
        tot = summary_total(r)
        t.eq("%s: summary connections, requests, responses, retried" % what,
             (tot.get("connections"), tot.get("requests"), tot.get("responses"),
              tot.get("retried")), (3, 5, 3, 2))
        t.check("%s: no 'responses whole' in the summary" % what,
                "responses whole" not in (tot.get("detail") or ""), "absent", tot.get("detail"))
        t.contains("%s: summary says why" % what, tot.get("detail"), "2 sent again on a fresh")
        reqs = [(e.get("conn"), e.get("req")) for e in events(r.ev, "request")]
        est = [e.get("conn") for e in events(r.ev, "established")]
        if len(est) == 3:
            t.eq("%s: requests per connection" % what, reqs,
                 [(est[0], 1), (est[0], 2), (est[1], 2), (est[1], 3), (est[2], 3)])
        t.eq("%s: summary rows: retried" % what,
             [e.get("retried", False) for e in summary_rows(r)], [False, True, True])
        if scheme == "https":
            t.eq("TLS: the fresh connections resume",
                 [e.get("handshake") for e in summary_rows(r)], ["full", "resumed", "resumed"])
    # a fresh connection that dies before its first answer is not retried: empty reply
    srv = ClosingServer(None, close_after=0)
    try:
        r = client("-n", "2", "http://localhost:%d/" % srv.port)
    finally:
        srv.close()
    t.eq("a server that answers nothing: exit 52, no retry", r.rc, 52)
    t.check("... no 'connection died'", not [e for e in events(r.ev, "warning") if
                                             "connection died" in (e.get("detail") or "")],
            "none", summary(r.ev))
