#!/usr/bin/env python3
"""bench.py -- make bench: our server against nginx on loopback, driven by wrk in the same run.

Prints ours/nginx ratios for HTTP keep-alive requests/s, new HTTPS connections/s, HTTPS
keep-alive requests/s, the cost of the full event log, and RSS per idle keep-alive connection
(bench/idleconns.c holds N of them open). Not a test: figures, recorded in docs/BENCHMARKS.md.
Loopback only; every process it starts is stopped by its pid; the temp dir is removed.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
SERVER = os.path.join(BUILD, "server")
IDLECONNS = os.path.join(BUILD, "idleconns")
CERTS = os.path.join(ROOT, "certs", "out")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

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
            with open(os.path.join(www, "index.html"), "wb") as f:
                f.write(page)
            # nginx's worker drops root privileges (user nobody): let it read the page
            os.chmod(tmp, 0o755)
            os.chmod(www, 0o755)
            os.chmod(os.path.join(www, "index.html"), 0o644)
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


def fetch(srv, tls):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    url = "%s://127.0.0.1:%d/" % ("https" if tls else "http", srv.https if tls else srv.http)
    with urllib.request.urlopen(url, timeout=10, context=ctx if tls else None) as r:
        return r.read()


def main():
    ap = argparse.ArgumentParser(description="our server against nginx (make bench)")
    ap.add_argument("--duration", type=int, default=3,
                    help="seconds per run; each server runs twice per metric (default 3)")
    ap.add_argument("--conns", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument("--idle", type=int, default=10000,
                    help="idle connections for the memory rows (default 10000)")
    ap.add_argument("--certs", help="certificate dir with server.crt and server.key "
                    "(default certs/out)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny durations and counts: checks that everything runs")
    a = ap.parse_args()
    if a.certs:
        global CERTS
        CERTS = os.path.abspath(a.certs)
    if a.smoke:
        a.duration, a.idle, speed_s = 1, 100, 1
    else:
        speed_s = 2
    for f, what in ((SERVER, "make"), (IDLECONNS, "make bench"), (WRK, "apt-get install wrk"),
                    (NGINX, "apt-get install nginx"),
                    (os.path.join(CERTS, "server.crt"), "certs/make-certs.sh")):
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
    rows = []
    try:
        load0 = open("/proc/loadavg").read().split()[0]
        log("machine: %d cores, load %s" % (os.cpu_count(), load0))
        ktype = cert_key_type()
        log("crypto: openssl speed -seconds %d ecdsap256 ecdhx25519 (cert key: %s)" %
            (speed_s, ktype))
        sign, x25519, limit, limit_resumed = crypto_limit(speed_s)

        ours = Ours(tmp)
        page = fetch(ours, False)
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
                    x = wrk(srv, "%s://127.0.0.1:%d/" % (scheme, port), d, c, close=close)
                got.setdefault(name, []).append(x)
            for name, xs in got.items():
                r[name, key] = sum(x[0] for x in xs) / len(xs)
                cpu[name, key] = sum(x[1] for x in xs) / len(xs)
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
            for cls in (Ours, Nginx):
                srv = cls(tmp) if cls is Ours else cls(tmp, page)
                log("%s: RSS with %d idle %s connections" % (srv.name, a.idle,
                    "HTTPS" if tls else "HTTP"))
                try:
                    mem[srv.name, tls] = idle_rss(srv, tls, a.idle, 60)
                finally:
                    srv.close()

        def row(metric, o, n, goal, unit="", lower_better=False, fmt="%.0f"):
            ratio = o / n if n else float("nan")
            met = "-" if goal is None else (
                "yes" if (ratio <= goal if lower_better else ratio >= goal) else "NO")
            g = "-" if goal is None else ("<= %.2g" % goal if lower_better else ">= %.2g" % goal)
            rows.append((metric, (fmt % o) + unit, (fmt % n) + unit, "%.2f" % ratio, g, met))

        row("HTTP keep-alive req/s (-q)", r["ours", "http"], r["nginx", "http"], 0.9)
        row("new HTTPS conn/s, resumed (wrk)", r["ours", "newtls"], r["nginx", "newtls"], 0.8)
        row("new HTTPS conn/s, full handshake", r["ours", "newfull"], r["nginx", "newfull"], 0.8)
        row("HTTPS keep-alive req/s", r["ours", "https"], r["nginx", "https"], None)
        # the log rows compare ours with ours: full log (column 'ours') against -q (column
        # 'nginx' holds our -q figure), goal: at most 2x slower
        row("full log vs -q: HTTP keep-alive req/s *", r["full", "http"], r["ours", "http"], 0.5)
        row("full log vs -q: new HTTPS conn/s (wrk) *", r["full", "newtls"], r["ours", "newtls"],
            0.5)
        for tls in (False, True):
            o, n = mem["ours", tls], mem["nginx", tls]
            row("RSS per idle %s conn (%d)" % ("HTTPS" if tls else "HTTP", a.idle), o[0], n[0],
                1.0, " KB", lower_better=True, fmt="%.1f")

        print()
        print("crypto limit (one core, the server's side of a TLS 1.3 handshake): full: 1 ECDSA "
              "P-256 sign + 2 X25519 = %.0f/s; resumed (psk_dhe_ke): 2 X25519 = %.0f/s "
              "(sign %.0f/s, X25519 %.0f/s; cert key %s)" % (limit, limit_resumed, sign, x25519,
                                                             ktype))
        print("  full handshakes: ours %.0f%% of it, nginx %.0f%%; resumed (wrk): ours %.0f%%, "
              "nginx %.0f%%" % (100 * r["ours", "newfull"] / limit,
                                100 * r["nginx", "newfull"] / limit,
                                100 * r["ours", "newtls"] / limit_resumed,
                                100 * r["nginx", "newtls"] / limit_resumed))
        print("full log: %d lines, %.1f MB written in the two full-log runs" %
              (loglines, logsize / 1e6))
        print("server CPU per request (us): " + "; ".join(
            "%s %s" % (k, " / ".join("%s %.1f" % (n, cpu[n, k]) for n in ("ours", "nginx", "full")
                                     if (n, k) in cpu))
            for k in ("http", "newtls", "newfull", "https")))
        for tls in (False, True):
            for name in ("ours", "nginx"):
                per, before, after, setup = mem[name, tls]
                print("RSS %-5s %-5s: %7d KB idle -> %7d KB with %d connections (set up in "
                      "%.1f s)%s" % (name, "HTTPS" if tls else "HTTP", before, after, a.idle,
                                     setup, " (nginx: the worker process)" if name == "nginx"
                                     else ""))
        print("nginx preallocates %.2f KB per worker_connections slot (%d slots: %d KB idle, "
              "1024 slots: %d KB); add it to nginx's per-connection figures for its full cost"
              % (prealloc, hi, slot_kb[hi], slot_kb[1024]))
        print("wrk: -t1 -c%d -d%ds, twice per server (A B B A), mean; one server thread (ours) / one worker (nginx); %d cores; "
              "load average (1 min) %s at the start, %s at the end" % (
                  c, d, os.cpu_count(), load0, open("/proc/loadavg").read().split()[0]))
        print("* full-log rows: 'ours' = full text log to a file, 'nginx' column = ours with -q")
        print("(bench took %.0f s)" % (time.monotonic() - t_start))
        print()
        w = [max(len(x[i]) for x in rows + [("metric", "ours", "nginx", "ratio", "goal",
                                              "met?")]) for i in range(6)]
        hdr = ("metric", "ours", "nginx", "ratio", "goal", "met?")
        print("  ".join(h.ljust(w[i]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(hdr)))
        for x in rows:
            print("  ".join(v.ljust(w[i]) if i == 0 else v.rjust(w[i]) for i, v in enumerate(x)))
    finally:
        for p in list(started):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
