#!/usr/bin/env python3
"""bench.py -- make bench: our server against nginx on loopback, driven by wrk in the same run,
and our client against curl on the same servers.

Prints ours/nginx ratios for HTTP keep-alive requests/s, new HTTPS connections/s, HTTPS
keep-alive requests/s, the cost of the full event log, RSS per idle keep-alive connection
(bench/idleconns.c holds N of them open) and the close_notify round trip (a Python ssl client
sends close_notify: how long until the server's FIN); then ours/curl ratios of the client's
total time against openssl s_server -www/-WWW, lighttpd and nginx (10 MB over HTTP and HTTPS).
Not a test: figures, recorded in docs/BENCHMARKS.md. Loopback only; every process it starts is
stopped by its pid; the temp dir is removed.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
SERVER = os.path.join(BUILD, "server")
CLIENT = os.path.join(BUILD, "client")
IDLECONNS = os.path.join(BUILD, "idleconns")
CERTS = os.path.join(ROOT, "certs", "out")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CURL = shutil.which("curl") or "/usr/bin/curl"
# The throughput rows fetch this fixed page (the same bytes from every server), so they stay
# comparable however much "/" shows; the page row fetches "/" itself.
LIGHT = "/hello"
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
BIG = 10 * 1000 * 1000      # bytes of the big file the client rows fetch (--smoke: 1 MB)
# The clients' environment: without the variables that name a CA bundle to load whole at start
# (SSL_CERT_FILE makes OpenSSL parse every CA of it in every run, 20-25 ms here; a default
# Debian system sets none of them). Both clients get --cacert certs/out/ca.crt.
CLIENT_ENV = {k: v for k, v in os.environ.items()
              if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")}

started = []            # every process we started: stopped by pid at the end, whatever happens


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    """A port the kernel says is free now (nginx cannot listen on port 0 and report it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    started.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    """Stop one process we started, by its pid; SIGKILL if it does not go within 10 s."""
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            pass
    if p in started:
        started.remove(p)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # the command may hold spaces and parentheses: the ppid follows the last ')'
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return out


class Ours:
    name = "ours"

    def __init__(self, tmp, quiet=True, logname=None):
        self.tmp, self.quiet = tmp, quiet
        self.logpath = os.path.join(tmp, logname or "ours-quiet.log")
        for attempt in range(5):
            if self._start(attempt):
                return
        raise SystemExit("bench: our server did not start; see %s" % self.logpath)

    def _start(self, attempt):
        argv = [SERVER, "--bind", "127.0.0.1", "--selfsigned-port", "off", "--certs", CERTS,
                "--idle-timeout", "300", "--color", "never"]
        if self.quiet:
            # -q prints no listen event: ports picked here (a race with other programs,
            # hence the retries), the readiness checked by connecting.
            self.http, self.https = free_port(), free_port()
            argv += ["-q", "--http-port", str(self.http), "--https-port", str(self.https)]
        else:
            argv += ["--http-port", "0", "--https-port", "0"]
        self.out = open(self.logpath, "w")
        self.p = start(argv, stdout=self.out, stderr=subprocess.STDOUT, cwd=ROOT)
        if not self.quiet:
            # the full log names the kernel-picked ports in its listen events
            end = time.monotonic() + 10
            ports = {}
            while time.monotonic() < end and len(ports) < 2 and self.p.poll() is None:
                with open(self.logpath) as f:
                    for m in re.finditer(r"listen\s+(https?)\s+127\.0\.0\.1:(\d+)", f.read()):
                        ports[m.group(1)] = int(m.group(2))
                time.sleep(0.02)
            if len(ports) < 2:
                stop(self.p)
                return False
            self.http, self.https = ports["http"], ports["https"]
        if wait_port(self.http, self.p) and wait_port(self.https, self.p):
            return True
        stop(self.p)
        self.out.close()
        return False

    def pid_for_rss(self):
        return self.p.pid

    def close(self):
        stop(self.p)
        self.out.close()


class Nginx:
    name = "nginx"

    def __init__(self, tmp, page, slots=None):
        self.tmp, self.slots = tmp, slots
        www = os.path.join(tmp, "www")
        if not os.path.isdir(www):
            os.makedirs(www)
            for n in ("index.html", LIGHT[1:]):
                with open(os.path.join(www, n), "wb") as f:
                    f.write(page)
                # nginx's worker drops root privileges (user nobody): let it read the page
                os.chmod(os.path.join(www, n), 0o644)
            os.chmod(tmp, 0o755)
            os.chmod(www, 0o755)
        for attempt in range(5):
            if self._start():
                return
        raise SystemExit("bench: nginx did not start; see %s/error.log" % tmp)

    def _start(self):
        self.http, self.https = free_port(), free_port()
        t = self.tmp
        conf = os.path.join(t, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""# written by bench/bench.py
worker_processes 1;
daemon off;
master_process on;
pid %(t)s/nginx.pid;
error_log %(t)s/error.log warn;
worker_rlimit_nofile %(nofile)d;
events { worker_connections %(nofile)d; }
http {
    access_log off;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    default_type text/html;
    keepalive_timeout 300s;
    # nginx closes a keep-alive connection after 1000 requests by default; ours never does
    keepalive_requests 100000000;
    # nginx 1.22 leaves TLS 1.3 out by default; ours offers it
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate %(certs)s/server.crt;
    ssl_certificate_key %(certs)s/server.key;
    server {
        listen 127.0.0.1:%(http)d;
        listen 127.0.0.1:%(https)d ssl;
        root %(t)s/www;
    }
}
""" % {"t": t, "certs": CERTS, "http": self.http, "https": self.https,
                "nofile": self.slots or fd_hard_limit()})
        self.p = start([NGINX, "-p", t, "-e", os.path.join(t, "error.log"), "-c", conf],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait_port(self.http, self.p) and wait_port(self.https, self.p):
            return True
        stop(self.p)
        return False

    def pid_for_rss(self):
        # the worker serves every connection; the master's RSS does not change with them
        kids = children(self.p.pid)
        if len(kids) != 1:
            raise SystemExit("bench: expected one nginx worker, found %r" % kids)
        return kids[0]

    def close(self):
        stop(self.p)        # fast shutdown: the master stops its worker


class Lighttpd:
    """lighttpd (Debian's, with mod_openssl) serving tmp/www over HTTP and HTTPS."""
    name = "lighttpd"

    def __init__(self, tmp):
        self.tmp = tmp
        for attempt in range(5):
            if self._start():
                return
        raise SystemExit("bench: lighttpd did not start; see %s/lighttpd-error.log" % tmp)

    def _start(self):
        self.http, self.https = free_port(), free_port()
        conf = os.path.join(self.tmp, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write("""# written by bench/bench.py
server.document-root = "%(t)s/www"
server.bind = "127.0.0.1"
server.port = %(http)d
server.errorlog = "%(t)s/lighttpd-error.log"
server.modules += ("mod_openssl")
$SERVER["socket"] == "127.0.0.1:%(https)d" {
    ssl.engine = "enable"
    ssl.pemfile = "%(certs)s/server.crt"
    ssl.privkey = "%(certs)s/server.key"
}
""" % {"t": self.tmp, "certs": CERTS, "http": self.http, "https": self.https})
        self.p = start([LIGHTTPD, "-D", "-f", conf], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if wait_port(self.http, self.p) and wait_port(self.https, self.p):
            return True
        stop(self.p)
        return False

    def close(self):
        stop(self.p)


class SServer:
    """openssl s_server -www (its status page) or -WWW (files from tmp/www), TLS only; it
    reports the port the kernel picked on its ACCEPT line."""

    def __init__(self, tmp, mode):
        self.name = "s_server " + mode
        out = os.path.join(tmp, "s_server.out")
        self.out = open(out, "w")
        self.p = start([OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert",
                        os.path.join(CERTS, "server.crt"), "-key",
                        os.path.join(CERTS, "server.key"), mode], cwd=os.path.join(tmp, "www"),
                       stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        self.https = None
        while time.monotonic() < end and self.https is None and self.p.poll() is None:
            with open(out) as f:
                m = re.search(r"ACCEPT 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.https = int(m.group(1))
            else:
                time.sleep(0.02)
        if self.https is None or not wait_port(self.https, self.p):
            self.close()
            raise SystemExit("bench: openssl s_server %s did not start" % mode)

    def close(self):
        stop(self.p)
        self.out.close()


def wall_ms(argv, stderr=subprocess.DEVNULL, timeout=60):
    """One run of a client: wall time from fork to exit, in ms (both clients pay their own
    start-up: loading libraries, the TLS context), and its exit status."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=stderr, env=CLIENT_ENV, timeout=timeout)
    return (time.perf_counter() - t0) * 1e3, p.returncode


def client_vs_curl(url, runs, tmp, size=None, full_log=False):
    """Our client's total time against curl's on one URL: runs of each, alternating (ours,
    curl, curl, ours, ...), medians in ms. First one untimed run each that writes the body to a
    file: exit 0 and the body's size checked (size None: only not empty)."""
    ca = os.path.join(CERTS, "ca.crt")
    ours = [CLIENT, "--cacert", ca, "--color", "never"] + ([] if full_log else ["-q"])
    curl = [CURL, "-s", "--cacert", ca]
    body = os.path.join(tmp, "client-body.out")   # (tmp/body is nginx's temp dir)
    for name, argv in (("ours", ours), ("curl", curl)):
        with open(os.path.join(tmp, "client.err"), "w+") as err:
            _, rc = wall_ms(argv + ["-o", body, url], stderr=err)
            err.seek(0)
            why = err.read()[-2000:]
        got = os.path.getsize(body) if os.path.exists(body) else -1
        if rc != 0 or got <= 0 or (size is not None and got != size):
            raise SystemExit("bench: %s on %s: exit %s, %d bytes (expected %s): %s" % (
                name, url, rc, got, size or "some", why))
        os.unlink(body)
    t = {"ours": [], "curl": []}
    for i in range(runs):
        for name in (("ours", "curl") if i % 2 == 0 else ("curl", "ours")):
            argv = (ours if name == "ours" else curl) + ["-o", "/dev/null", url]
            # the full log (text) goes to a file, as a student would keep it
            with open(os.path.join(tmp, "client.log"), "w") as log_f:
                ms, rc = wall_ms(argv, stderr=log_f if full_log and name == "ours" else
                                 subprocess.DEVNULL)
            if rc != 0:
                raise SystemExit("bench: %s on %s: exit %d" % (name, url, rc))
            t[name].append(ms)
    return statistics.median(t["ours"]), statistics.median(t["curl"])


def close_notify_rtt(port, runs):
    """A Python ssl client (TLS 1.3, the demo CA) fetches / with keep-alive, reads the whole
    response, then sends close_notify (SSLSocket.unwrap(), which waits for the server's
    close_notify) and reads the socket until the server's FIN. Returns the median ms from
    sending close_notify to the FIN, and what the server sent back."""
    ctx = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.crt"))
    times, back = [], []
    for _ in range(runs):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise SystemExit("bench: close_notify round trip: no response on port %d" % port)
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if m is None:
            raise SystemExit("bench: close_notify round trip: no Content-Length on port %d" % port)
        while len(body) < int(m.group(1)):
            d = s.recv(65536)
            if not d:
                break
            body += d
        t0 = time.perf_counter()
        try:
            r = s.unwrap()          # close_notify out; returns once the server's came in
            back.append("close_notify + FIN")
        except (ssl.SSLError, OSError):
            # a bare FIN, no close_notify (nginx: OpenSSL says unexpected EOF)
            r = socket.socket(fileno=s.detach())
            back.append("FIN only")
        while r.recv(65536):
            pass                    # b"": the FIN
        times.append((time.perf_counter() - t0) * 1e3)
        r.close()
    return statistics.median(times), max(set(back), key=back.count)


def fd_hard_limit():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def raise_fd_limit():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_s(pid):
    """CPU seconds (user + system) a process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(srv, url, secs, conns, close=False):
    """One wrk run (one thread: the other core is the server's). Returns requests/s and the
    server's CPU time per request in microseconds (less sensitive to other load)."""
    argv = [WRK, "-t1", "-c%d" % conns, "-d%ds" % secs, "--timeout", "5s"]
    if close:
        argv += ["-H", "Connection: close"]
    pid = srv.pid_for_rss()
    cpu0 = cpu_s(pid)
    p = start(argv + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=secs + 30)
    finally:
        stop(p)
    cpu = cpu_s(pid) - cpu0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if p.returncode != 0 or m is None or n is None:
        raise SystemExit("bench: wrk failed:\n" + out)
    errs = re.search(r"Socket errors:.*|Non-2xx or 3xx responses:.*", out)
    if errs:
        log("  wrk %s: %s" % (url, errs.group(0).strip()))
    return float(m.group(1)), 1e6 * cpu / max(int(n.group(1)), 1)


def churn(srv, secs, conns):
    """New connections/s with a full TLS handshake each (wrk resumes TLS sessions: after its
    first handshake per connection slot every later one is a resumption). Returns
    connections/s and the server's CPU time per connection in microseconds."""
    pid = srv.pid_for_rss()
    cpu0 = cpu_s(pid)
    p = start([IDLECONNS, "-s", "-r", str(secs), "-c", str(conns), "127.0.0.1", str(srv.https)],
              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=secs + 30)
    finally:
        stop(p)
    cpu = cpu_s(pid) - cpu0
    m = re.search(r"churn (\d+) ([\d.]+) ([\d.]+)", out)
    if p.returncode != 0 or m is None:
        raise SystemExit("bench: idleconns -r failed against %s:\n%s" % (srv.name, out))
    return float(m.group(3)), 1e6 * cpu / max(int(m.group(1)), 1)


def crypto_limit(secs):
    """Handshakes/s one core could do if the server did nothing but its TLS 1.3 crypto:
    one ECDSA P-256 signature (CertificateVerify) + one X25519 key generation + one X25519
    derivation. openssl speed times only the derivation; a key generation costs the same
    (one scalar multiplication)."""
    out = subprocess.run(["openssl", "speed", "-seconds", str(secs), "ecdsap256", "ecdhx25519"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         timeout=secs * 4 + 30).stdout
    sign = re.search(r"ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    x = re.search(r"ecdh \(X25519\)\s+[\d.]+s\s+([\d.]+)", out)
    if sign is None or x is None:
        raise SystemExit("bench: cannot read openssl speed's output:\n" + out)
    s, d = float(sign.group(1)), float(x.group(1))
    # a resumed TLS 1.3 handshake (psk_dhe_ke) skips the signature, not the key exchange
    return s, d, 1.0 / (1.0 / s + 2.0 / d), d / 2.0


def cert_key_type():
    out = subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, "server.crt"),
                          "-noout", "-text"], stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"Public Key Algorithm: (\S+)", out)
    return m.group(1) if m else "?"


def idle_rss(srv, tls, n, hold):
    """KB of RSS per idle keep-alive connection: n of them, one request each."""
    pid = srv.pid_for_rss()
    # one request first, so what every server sets up once is not counted per connection
    fetch(srv, tls)
    time.sleep(0.3)
    before = rss_kb(pid)
    argv = [IDLECONNS, "-n", str(n), "-d", "90", "-H", str(hold)]
    if tls:
        argv.append("-s")
    p = start(argv + ["127.0.0.1", str(srv.https if tls else srv.http)],
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("ready"):
            raise SystemExit("bench: idleconns failed against %s (%s)" % (srv.name, line))
        setup_s = float(line.split()[2])
        time.sleep(0.5)
        after = rss_kb(pid)
        p.stdin.write("done\n")
        p.stdin.flush()
        alive = p.stdout.readline().split()
        p.wait(timeout=30)
    finally:
        stop(p)
    if len(alive) != 2 or int(alive[1]) != n:
        log("  %s: only %s of %d connections were still open at the end" %
            (srv.name, alive[1] if len(alive) == 2 else "?", n))
    return (after - before) / n, before, after, setup_s


def fetch(srv, tls, path="/"):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", srv.https if tls else srv.http,
                                   path)
    with urllib.request.urlopen(url, timeout=10, context=ctx if tls else None) as r:
        return r.read()


def server_part(a, tmp, page, rows, notes):
    """The server rows: ours against nginx under wrk and idleconns, then memory."""
    speed_s = 1 if a.smoke else 2
    ktype = cert_key_type()
    log("crypto: openssl speed -seconds %d ecdsap256 ecdhx25519 (cert key: %s)" %
        (speed_s, ktype))
    sign, x25519, limit, limit_resumed = crypto_limit(speed_s)

    ours = Ours(tmp)
    ngx = Nginx(tmp, page)
    full = Ours(tmp, quiet=False, logname="ours-full.log")
    d, c = a.duration, a.conns
    r, cpu = {}, {}
    # one metric at a time, the servers back to back: a burst of other load on the
    # machine then hits both sides of a ratio alike
    for key, scheme, close, what in (("http", "http", False, "HTTP keep-alive"),
                                     ("newtls", "https", True, "new HTTPS connections"),
                                     ("newfull", "https", True, "new HTTPS connections, "
                                      "full handshakes (idleconns -r)"),
                                     ("https", "https", False, "HTTPS keep-alive")):
        servers = (ours, ngx, full) if key in ("http", "newtls") else (ours, ngx)
        log("%s: %s and back (%d s each)" % (what, ", ".join(
            "ours, full log" if x is full else x.name for x in servers), d))
        # A B C C B A: load from other programs that drifts during the runs weighs on
        # every server alike; each figure is the mean of its two runs
        got = {}
        for srv in servers + (() if a.smoke else tuple(reversed(servers))):
            port = srv.http if scheme == "http" else srv.https
            name = "full" if srv is full else srv.name
            if key == "newfull":
                x = churn(srv, d, c)
            else:
                x = wrk(srv, "%s://127.0.0.1:%d%s" % (scheme, port, LIGHT), d, c, close=close)
            got.setdefault(name, []).append(x)
        for name, xs in got.items():
            r[name, key] = sum(x[0] for x in xs) / len(xs)
            cpu[name, key] = sum(x[1] for x in xs) / len(xs)
    # The full page ("/", with its ladder and the ClientHello decoded, from the connection's
    # record: the full log) against nginx serving a copy of the same bytes as a file.
    full_page = fetch(full, True, "/")
    with open(os.path.join(tmp, "www", "page.html"), "wb") as f:
        f.write(full_page)
    os.chmod(os.path.join(tmp, "www", "page.html"), 0o644)
    log("the full page (%d bytes): ours (full log), nginx (a copy as a file) and back (%d s "
        "each)" % (len(full_page), d))
    got = {}
    for srv, path in ((full, "/"), (ngx, "/page.html")) + (() if a.smoke else
                                                          ((ngx, "/page.html"), (full, "/"))):
        got.setdefault("full" if srv is full else srv.name, []).append(wrk(srv, "https://127.0.0.1:%d%s" % (srv.https, path),
                                                d, c))
    for name, xs in got.items():
        r[name + "-page", "https"] = sum(x[0] for x in xs) / len(xs)
    for srv in (ours, ngx, full):
        srv.close()
    loglines = sum(1 for _ in open(full.logpath, "rb"))
    logsize = os.path.getsize(full.logpath)
    os.unlink(full.logpath)

    # nginx allocates and initialises every worker_connections slot at start: that part
    # of a connection's cost is in its idle RSS, not in the per-connection difference
    slot_kb = {}
    for slots in (1024, fd_hard_limit()):
        srv = Nginx(tmp, page, slots=slots)
        try:
            fetch(srv, False)
            time.sleep(0.2)
            slot_kb[slots] = rss_kb(srv.pid_for_rss())
        finally:
            srv.close()
    hi = fd_hard_limit()
    prealloc = (slot_kb[hi] - slot_kb[1024]) / (hi - 1024) if hi > 1024 else 0.0

    mem = {}
    for tls in (False, True):
        for cls in (Ours, Nginx, "full"):
            srv = Ours(tmp, quiet=False, logname="ours-idle.log") if cls == "full" else \
                cls(tmp) if cls is Ours else cls(tmp, page)
            name = "full" if cls == "full" else srv.name
            if cls == "full" and not tls:
                srv.close()     # the record is about TLS: the HTTPS row only
                continue
            log("%s: RSS with %d idle %s connections" % ("ours, full log" if name == "full" else
                srv.name, a.idle, "HTTPS" if tls else "HTTP"))
            try:
                mem[name, tls] = idle_rss(srv, tls, a.idle, 60)
            finally:
                srv.close()
            if cls == "full":
                os.unlink(srv.logpath)

    row(rows, "HTTP keep-alive req/s (-q)", r["ours", "http"], r["nginx", "http"], 0.9)
    row(rows, "new HTTPS conn/s, resumed (wrk)", r["ours", "newtls"], r["nginx", "newtls"],
        0.8)
    row(rows, "new HTTPS conn/s, full handshake", r["ours", "newfull"], r["nginx", "newfull"],
        0.8)
    row(rows, "HTTPS keep-alive req/s", r["ours", "https"], r["nginx", "https"], None)
    # the log rows compare ours with ours: full log (column 'ours') against -q (column
    # 'nginx' holds our -q figure), goal: at most 2x slower
    row(rows, "full log vs -q: HTTP keep-alive req/s *", r["full", "http"], r["ours", "http"],
        0.5)
    row(rows, "full log vs -q: new HTTPS conn/s (wrk) *", r["full", "newtls"],
        r["ours", "newtls"], 0.5)
    for tls in (False, True):
        o, n = mem["ours", tls], mem["nginx", tls]
        row(rows, "RSS per idle %s conn (%d)" % ("HTTPS" if tls else "HTTP", a.idle), o[0],
            n[0], 1.0, " KB", lower_better=True, fmt="%.1f")
    # with the log on, each connection also keeps its record (its events for the page): what
    # that costs, against nginx's figure; no goal of its own (the -q rows hold the goal)
    row(rows, "RSS per idle HTTPS conn (%d), full log" % a.idle, mem["full", True][0],
        mem["nginx", True][0], None, " KB", lower_better=True, fmt="%.1f")
    row(rows, "the full page, HTTPS keep-alive req/s", r["full-page", "https"],
        r["nginx-page", "https"], None)
    notes.append("the page rows: '/' with its ladder, from each connection's record (our full "
                 "log) against nginx serving a copy of the same %d bytes as a file; the "
                 "throughput rows fetch %s (%d bytes) from every server" % (len(full_page),
                                                                           LIGHT, len(page)))
    notes.append("the record per idle HTTPS connection: %.1f KB more RSS with the full log than "
                 "with -q (its events' facts, at most %d KB, and the ClientHello)" %
                 (mem["full", True][0] - mem["ours", True][0], 16))

    notes.append("crypto limit (one core, the server's side of a TLS 1.3 handshake): full: 1 "
                 "ECDSA P-256 sign + 2 X25519 = %.0f/s; resumed (psk_dhe_ke): 2 X25519 = %.0f/s "
                 "(sign %.0f/s, X25519 %.0f/s; cert key %s)" % (limit, limit_resumed, sign,
                                                                x25519, ktype))
    notes.append("  full handshakes: ours %.0f%% of it, nginx %.0f%%; resumed (wrk): ours "
                 "%.0f%%, nginx %.0f%%" % (100 * r["ours", "newfull"] / limit,
                                           100 * r["nginx", "newfull"] / limit,
                                           100 * r["ours", "newtls"] / limit_resumed,
                                           100 * r["nginx", "newtls"] / limit_resumed))
    notes.append("full log: %d lines, %.1f MB written in the two full-log runs" %
                 (loglines, logsize / 1e6))
    notes.append("server CPU per request (us): " + "; ".join(
        "%s %s" % (k, " / ".join("%s %.1f" % (n, cpu[n, k]) for n in ("ours", "nginx", "full")
                                 if (n, k) in cpu))
        for k in ("http", "newtls", "newfull", "https")))
    for tls in (False, True):
        for name in ("ours", "nginx"):
            per, before, after, setup = mem[name, tls]
            notes.append("RSS %-5s %-5s: %7d KB idle -> %7d KB with %d connections (set up in "
                         "%.1f s)%s" % (name, "HTTPS" if tls else "HTTP", before, after, a.idle,
                                        setup, " (nginx: the worker process)"
                                        if name == "nginx" else ""))
    notes.append("nginx preallocates %.2f KB per worker_connections slot (%d slots: %d KB idle, "
                 "1024 slots: %d KB); add it to nginx's per-connection figures for its full "
                 "cost" % (prealloc, hi, slot_kb[hi], slot_kb[1024]))
    notes.append("wrk: -t1 -c%d -d%ds, twice per server (A B B A), mean; one server thread "
                 "(ours) / one worker (nginx)" % (c, d))
    notes.append("* full-log rows: 'ours' = full text log to a file, 'nginx' column = ours "
                 "with -q")


def close_part(a, tmp, page, rows, notes):
    """The close rows: the close_notify round trip of our server (-q and with the full log)
    against nginx's; lighttpd's in the notes."""
    runs = a.runs
    servers = [("ours", Ours(tmp)), ("full", Ours(tmp, quiet=False, logname="ours-close.log")),
               ("nginx", Nginx(tmp, page)), ("lighttpd", Lighttpd(tmp))]
    log("close_notify round trip: %s, %d runs each" % (", ".join(n for n, _ in servers), runs))
    got = {}
    try:
        for name, srv in servers:
            got[name] = close_notify_rtt(srv.https, runs)
    finally:
        for _, srv in servers:
            srv.close()
    # a ratio of two figures of a few tens of microseconds says little: the goal is absolute
    for name, what in (("ours", "-q"), ("full", "full log")):
        row(rows, "close_notify -> FIN, ms (ours %s)" % what, got[name][0], got["nginx"][0],
            None, fmt="%.2f", goal_abs=1.0)
    notes.append("close_notify round trip (Python ssl, TLS 1.3: GET /, the whole response, "
                 "close_notify out, until the server's FIN), median of %d: %s" % (runs, "; ".join(
                     "%s %.2f ms (%s)" % ("ours with the full log" if n == "full" else n,
                                          got[n][0], got[n][1]) for n, _ in servers)))


def client_part(a, tmp, page, rows, notes):
    """The client rows: our client's total time against curl's on the same servers."""
    runs, size = a.runs, a.big
    mb = "%g MB" % (size / 1e6)
    servers = [         # (server, [(metric, scheme, path, size, our full log, strace counts)])
        (lambda: SServer(tmp, "-www"), [("s_server -www: its status page (HTTPS)", "https",
                                         "/", None, False, False)]),
        (lambda: SServer(tmp, "-WWW"), [("s_server -WWW: %s (HTTPS)" % mb, "https", "/big",
                                         size, False, False)]),
        (lambda: Lighttpd(tmp), [("lighttpd: %s (%s)" % (mb, x.upper()), x, "/big", size,
                                  False, False) for x in ("http", "https")]),
        (lambda: Nginx(tmp, page), [("nginx: %s (%s)" % (mb, x.upper()), x, "/big", size,
                                     False, not a.smoke) for x in ("http", "https")] +
         [("nginx: %s (HTTPS), our full log" % mb, "https", "/big", size, True, False)])]
    log("client against curl: %d runs each on %s" % (runs, ", ".join(
        c[0] for _, cases in servers for c in cases)))
    for make, cases in servers:
        srv = make()
        try:
            for metric, scheme, path, want, full_log, count in cases:
                url = "%s://127.0.0.1:%d%s" % (scheme, srv.http if scheme == "http" else
                                               srv.https, path)
                o, c = client_vs_curl(url, runs, tmp, size=want, full_log=full_log)
                row(rows, metric, o, c, 1.2, " ms", lower_better=True, fmt="%.1f")
                counts = syscall_counts(url, tmp) if count else ""
                if counts:
                    notes.append("strace -f -c, %s: %s" % (metric, counts))
        finally:
            srv.close()
    notes.append("client: wall time from start to exit, median of %d runs each, ours and curl "
                 "alternating; ours -q, curl -s, both --cacert certs/out/ca.crt -o /dev/null, "
                 "without SSL_CERT_FILE/SSL_CERT_DIR/CURL_CA_BUNDLE in the environment; "
                 "'full log': ours without -q, its text log to a file" % runs)


def syscall_counts(url, tmp):
    """System calls of one fetch by each client (strace -f -c): the reads, the loop's turns
    (epoll_wait, poll) and the total. "" without a working strace."""
    exe = shutil.which("strace")
    if exe is None:
        return ""
    ca = os.path.join(CERTS, "ca.crt")
    out = []
    for name, argv in (("ours", [CLIENT, "-q", "--cacert", ca]), ("curl", [CURL, "-s",
                                                                          "--cacert", ca])):
        f = os.path.join(tmp, "strace.txt")
        p = subprocess.run([exe, "-f", "-c", "-o", f] + argv + ["-o", "/dev/null", url],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CLIENT_ENV,
                           timeout=60)
        if p.returncode != 0 or not os.path.exists(f):
            return ""
        calls = {}
        with open(f) as fh:
            for line in fh:
                x = line.split()
                if len(x) >= 5 and x[0][0].isdigit() and x[3].isdigit():
                    calls[x[-1]] = int(x[3])
                elif len(x) >= 4 and x[-1] == "total":
                    calls["total"] = int(x[2])
        reads = sum(calls.get(k, 0) for k in ("read", "readv", "recvfrom", "recvmsg"))
        turns = sum(calls.get(k, 0) for k in ("epoll_wait", "poll", "ppoll"))
        out.append("%s %d reads (read/readv/recvfrom), %d epoll_wait/poll, %d "
                   "timerfd_settime, %d write, %d system calls in all" % (
                       name, reads, turns, calls.get("timerfd_settime", 0),
                       calls.get("write", 0), calls.get("total", 0)))
    return "; ".join(out)


def row(rows, metric, o, n, goal, unit="", lower_better=False, fmt="%.0f", goal_abs=None):
    """One table row: ours, the other, ours/other, the goal (a ratio, or goal_abs: at most
    that much of the unit) and whether it is met."""
    ratio = o / n if n else float("nan")
    if goal_abs is not None:
        g, met = "<= %g%s" % (goal_abs, unit or " ms"), "yes" if o <= goal_abs else "NO"
    elif goal is None:
        g, met = "-", "-"
    else:
        g = "<= %.2g" % goal if lower_better else ">= %.2g" % goal
        met = "yes" if (ratio <= goal if lower_better else ratio >= goal) else "NO"
    rows.append((metric, (fmt % o) + unit, (fmt % n) + unit, "%.2f" % ratio, g, met))


def table(rows, other):
    hdr = ("metric", "ours", other, "ratio", "goal", "met?")
    w = [max(len(x[i]) for x in rows + [hdr]) for i in range(6)]
    print("  ".join(h.ljust(w[i]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(hdr)))
    for x in rows:
        print("  ".join(v.ljust(w[i]) if i == 0 else v.rjust(w[i]) for i, v in enumerate(x)))


def make_www(tmp, page, size):
    """tmp/www: index.html and hello (the bytes of our LIGHT page) and big (size random bytes),
    readable by nginx's worker (user nobody)."""
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    for n in ("index.html", LIGHT[1:]):
        with open(os.path.join(www, n), "wb") as f:
            f.write(page)
    with open(os.path.join(www, "big"), "wb") as f:
        f.write(os.urandom(size))
    os.chmod(tmp, 0o755)
    os.chmod(www, 0o755)
    for n in ("index.html", LIGHT[1:], "big"):
        os.chmod(os.path.join(www, n), 0o644)


PARTS = ("server", "close", "client")


def main():
    ap = argparse.ArgumentParser(description="our server against nginx, our client against "
                                 "curl (make bench)")
    ap.add_argument("--duration", type=int, default=3,
                    help="seconds per run; each server runs twice per metric (default 3)")
    ap.add_argument("--conns", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument("--idle", type=int, default=10000,
                    help="idle connections for the memory rows (default 10000)")
    ap.add_argument("--runs", type=int, default=9,
                    help="runs per program for the close and client rows; medians (default 9)")
    ap.add_argument("--only", action="append", choices=PARTS,
                    help="only these rows: server (wrk, memory), close (close_notify round "
                    "trip), client (ours against curl); may be repeated (default: all)")
    ap.add_argument("--certs", help="certificate dir with server.crt and server.key "
                    "(default certs/out)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny durations and counts: checks that everything runs")
    a = ap.parse_args()
    if a.certs:
        global CERTS
        CERTS = os.path.abspath(a.certs)
    parts = a.only or PARTS
    a.big = BIG
    if a.smoke:
        a.duration, a.idle, a.runs, a.big = 1, 100, 3, BIG // 10
    need = [(SERVER, "make"), (NGINX, "apt-get install nginx"),
            (os.path.join(CERTS, "server.crt"), "certs/make-certs.sh")]
    if "server" in parts:
        need += [(IDLECONNS, "make bench"), (WRK, "apt-get install wrk")]
    if "close" in parts or "client" in parts:
        need += [(LIGHTTPD, "apt-get install lighttpd lighttpd-mod-openssl")]
    if "client" in parts:
        need += [(CLIENT, "make"), (CURL, "apt-get install curl"),
                 (OPENSSL, "apt-get install openssl")]
    for f, what in need:
        if not os.path.exists(f):
            raise SystemExit("bench: %s is missing (%s)" % (f, what))
    hard = raise_fd_limit()
    # each idle connection costs the driver one fd and the server one fd
    if a.idle + 64 > hard:
        log("bench: the fd hard limit is %d: using %d idle connections instead of %d" %
            (hard, hard - 64, a.idle))
        a.idle = hard - 64

    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="hl-bench-")
    rows, crows, notes = [], [], []
    try:
        load0 = open("/proc/loadavg").read().split()[0]
        log("machine: %d cores, load %s" % (os.cpu_count(), load0))
        ours = Ours(tmp)
        page = fetch(ours, False, LIGHT)
        ours.close()
        make_www(tmp, page, a.big)
        if "server" in parts:
            server_part(a, tmp, page, rows, notes)
        if "close" in parts:
            close_part(a, tmp, page, rows, notes)
        if "client" in parts:
            client_part(a, tmp, page, crows, notes)
        print()
        for n in notes:
            print(n)
        print("%d cores; load average (1 min) %s at the start, %s at the end; bench took %.0f s"
              % (os.cpu_count(), load0, open("/proc/loadavg").read().split()[0],
                 time.monotonic() - t_start))
        if rows:
            print()
            table(rows, "nginx")
        if crows:
            print()
            table(crows, "curl")
    finally:
        for p in list(started):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
