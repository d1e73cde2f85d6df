#!/usr/bin/python3
"""samelog.py -- the same-log check: does a build log what the reference build logged?

Issue 10 moves code between files and promises no behaviour change: the event log, JSON and
text, stays the same for the same run apart from times and ports. This runs a fixed set of
scenarios (SCENARIOS: HTTP, HTTPS, self-signed refused, --capture, --dissect, keep-alive,
resumption, --explain --lang zh, --wire, RSA key transport, who closes first, --abort, a
parked idle connection, mutual TLS, HelloRetryRequest, HTTP errors) with a build: server and
client on 127.0.0.1, port 0, the ports read from the server's `listen` events, readiness
read from the logs. Each scenario runs once with --log-format json and once with the text
log (--color never). Both sides' logs, the client's exit status and body, and the key log
are normalized (Normalizer: times, durations, ports, absolute seq/ack, random values, key
shares, signatures, session ids, tickets, secrets, fingerprints and dates become
placeholders) and compared, each side and each connection on its own, with a reference:
several runs of the reference build, so that what races between the two programs and the
kernel may differ the ways it did there, and nothing else (see "comparing" below). The
ladder (build/ladder) must draw the same bytes from the same logs.

    scripts/samelog.py --check DIR      compare the build with a recording: a diff for each
                                        unit that differs; exit 1 if any does
    scripts/samelog.py --record DIR [--reference BUILD_DIR | --before REV]
                                        record the reference (default: the build) into DIR
    scripts/samelog.py --before REV     compare the build with REV, built in a temporary
                                        git worktree (the reference recorded on the spot)
    scripts/samelog.py --reference BUILD_DIR   the same with a build directory
    scripts/samelog.py --twice          the build against another recording of itself
                                        (other certificates): shows the check is stable

--build DIR is the build under test (default $BUILD, or build). -k NAME picks scenarios.
Certificates are made fresh (make_certs: RSA-2048, fixed serial numbers, so that every
handshake sends the same bytes). --capture and --wire need root or CAP_NET_RAW: without
it those scenarios are skipped, saying so. Standard library only; Debian's /usr/bin/python3.
"""

import argparse
import difflib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLOW = float(os.environ.get("SAMELOG_SLOW", "1"))    # stretch every deadline


def die(msg):
    print("samelog: %s" % msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- certificates

def make_certs(out):
    """The demo certificate set (same names, subjects and extensions as certs/make-certs.sh,
    from its ca.cnf, server.cnf and client.cnf), but every key RSA-2048 and every serial
    number fixed: an RSA-2048 certificate and an RSA signature always have the same length,
    where an ECDSA signature is 70-72 bytes at random. So every handshake sends the same
    number of bytes and rel_seq/rel_ack/segment lengths can be compared exactly."""
    os.makedirs(out, exist_ok=True)
    cnf = os.path.join(ROOT, "certs")

    def ossl(*args):
        p = subprocess.run(["openssl"] + list(args), cwd=out, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode != 0:
            die("openssl %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))

    def key(name):
        ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", name + ".key")

    def sign(name, conf, ext, subj, serial):
        ossl("req", "-new", "-config", os.path.join(cnf, conf), "-sha256", "-key",
             name + ".key", "-subj", subj, "-out", name + ".csr")
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-sha256", "-days", "397", "-set_serial", serial, "-extfile",
             os.path.join(cnf, conf), "-extensions", ext, "-out", name + ".crt")
        os.unlink(os.path.join(out, name + ".csr"))

    for n in ("ca", "server", "selfsigned", "server-rsa", "client"):
        key(n)
    ossl("req", "-new", "-x509", "-config", os.path.join(cnf, "ca.cnf"), "-extensions",
         "v3_ca", "-sha256", "-key", "ca.key", "-subj",
         "/O=handshake-lab/CN=handshake-lab demo CA", "-days", "825",
         "-set_serial", "0x48534c4142000001", "-out", "ca.crt")
    sign("server", "server.cnf", "server_ext", "/O=handshake-lab/CN=localhost",
         "0x48534c4142000002")
    ossl("req", "-new", "-x509", "-config", os.path.join(cnf, "server.cnf"), "-extensions",
         "selfsigned_ext", "-sha256", "-key", "selfsigned.key", "-subj",
         "/O=handshake-lab self-signed/CN=localhost", "-days", "397",
         "-set_serial", "0x48534c4142000003", "-out", "selfsigned.crt")
    sign("server-rsa", "server.cnf", "server_rsa_ext", "/O=handshake-lab/CN=localhost",
         "0x48534c4142000004")
    sign("client", "client.cnf", "client_ext", "/O=handshake-lab/CN=handshake-lab student",
         "0x48534c4142000005")
    for f in os.listdir(out):
        if f.endswith(".key"):
            os.chmod(os.path.join(out, f), 0o600)


# ---------------------------------------------------------------- scenarios
#
# A scenario: the server's extra flags, the listeners it opens (port 0 each, the rest off),
# and its steps, in order: a client run (its flags; {http} {https} {selfsigned} {rsa} become
# the listeners' ports) or a step of our own (a Python function, e.g. a keep-alive
# connection that goes idle). root: needs CAP_NET_RAW (--capture, --wire). localhost: uses
# the name localhost, which must resolve to 127.0.0.1 only (else the client would try ::1
# first, and the log would depend on the machine's /etc/hosts, not on the build).

CA = "certs/ca.crt"
# /hello: the same bytes every time ("/" shows the visitor's own connection, its times and
# addresses: it differs from one run to the next)
HTTP = "http://127.0.0.1:{http}/hello"
HTTPS = "https://127.0.0.1:{https}/hello"


class Scenario:
    def __init__(self, name, doc, steps, server=(), listen=("http", "https"), root=False,
                 localhost=False):
        self.name, self.doc, self.steps = name, doc, steps
        self.server, self.listen, self.root, self.localhost = list(server), listen, root, \
            localhost


def client(*args):
    return ("client", list(args))


def idle_keepalive(tls):
    return ("idle", tls)


SCENARIOS = [
    Scenario("http", "plain HTTP: the TCP handshake, GET /hello, the response, the four-way close",
             [client(HTTP)], listen=("http",)),
    Scenario("https", "HTTPS (TLS 1.3) trusting the demo CA by --cacert; TLS 1.2 too; "
             "--keylog", [client("--cacert", CA, "--keylog", "keys.log", HTTPS),
                          client("--cacert", CA, "--tls-max", "1.2", HTTPS)],
             listen=("https",)),
    Scenario("https-localhost", "HTTPS to the name localhost: SNI and a DNS-name check",
             [client("--cacert", CA, "https://localhost:{https}/hello")], listen=("https",),
             localhost=True),
    Scenario("selfsigned-refused", "the self-signed certificate: the client refuses (60), "
             "and goes on with -k", [client("https://127.0.0.1:{selfsigned}/hello"),
                                     client("-k", "https://127.0.0.1:{selfsigned}/hello")],
             listen=("selfsigned",)),
    Scenario("capture", "--capture on both sides: every segment with absolute seq/ack, "
             "HTTP and HTTPS", [client("--capture", HTTP),
                                client("--capture", "--cacert", CA, HTTPS)],
             server=["--capture"], root=True),
    Scenario("dissect", "--dissect on both sides: every field of every handshake message, "
             "TLS 1.3 and TLS 1.2", [client("--dissect", "--cacert", CA, HTTPS),
                                     client("--dissect", "--cacert", CA, "--tls-max", "1.2",
                                            HTTPS)],
             server=["--dissect"], listen=("https",)),
    Scenario("keepalive", "-n 3: three requests over one keep-alive connection, -v (phases)",
             [client("-v", "-n", "3", HTTP), client("-v", "-n", "3", "--cacert", CA, HTTPS)],
             server=["-v"]),
    Scenario("resume", "--reconnect 2: the second connection resumes the TLS session "
             "(TLS 1.3 ticket, TLS 1.2 ticket)",
             [client("--reconnect", "2", "--cacert", CA, HTTPS),
              client("--reconnect", "2", "--cacert", CA, "--tls-max", "1.2", HTTPS)],
             listen=("https",)),
    Scenario("explain-zh", "--explain --lang zh on both sides",
             [client("--explain", "--lang", "zh", HTTP),
              client("--explain", "--lang", "zh", "--cacert", CA, HTTPS)],
             server=["--explain", "--lang", "zh"]),
    Scenario("wire", "--wire on both sides: the eavesdropper's view of HTTP and HTTPS",
             [client("--wire", HTTP), client("--wire", "--cacert", CA, HTTPS)],
             server=["--wire"], root=True),
    Scenario("rsa-kx", "TLS 1.2 with RSA key transport and with ECDHE against --rsa-port",
             [client("--cacert", CA, "--tls-max", "1.2", "--kx", "rsa",
                     "https://127.0.0.1:{rsa}/hello"),
              client("--cacert", CA, "--kx", "ecdhe", "https://127.0.0.1:{rsa}/hello")],
             listen=("rsa",)),
    Scenario("server-closes", "--close-first server on the server, then on the client",
             [client(HTTP), client("--cacert", CA, HTTPS)], server=["--close-first", "server"]),
    Scenario("client-asks-close", "client --close-first server: Connection: close",
             [client("--close-first", "server", HTTP),
              client("--close-first", "server", "--cacert", CA, HTTPS)]),
    Scenario("abort", "--abort: the client ends with RST, then the server does",
             [client("--abort", HTTP), client("--abort", "--cacert", CA, HTTPS)]),
    Scenario("server-abort", "server --abort: the server ends with RST",
             [client(HTTP), client("--cacert", CA, HTTPS)], server=["--abort"]),
    Scenario("idle-park", "--idle-timeout 1: a keep-alive connection is parked after its "
             "answer, woken by the next request, parked again and closed as idle",
             [idle_keepalive(False), idle_keepalive(True)], server=["--idle-timeout", "1"]),
    Scenario("mtls", "--client-auth require: a client with a certificate, one without",
             [client("--cacert", CA, "--cert", "certs/client.crt", "--key", "certs/client.key",
                     HTTPS),
              client("--cacert", CA, HTTPS)],
             server=["--client-auth", "require", "--client-ca", CA], listen=("https",)),
    Scenario("hrr", "server --groups P-256: the client's X25519 key share gets a "
             "HelloRetryRequest", [client("--cacert", CA, HTTPS)],
             server=["--groups", "P-256"], listen=("https",)),
    Scenario("http-semantics", "HEAD, a 404, a 400, ?pad=, --half-close",
             [client("-I", HTTP), client("http://127.0.0.1:{http}/nothing-here"),
              client("http://127.0.0.1:{http}/hello?pad=x"),
              client("http://127.0.0.1:{http}/hello?pad=3000"),
              client("--half-close", HTTP)], listen=("http",)),
]


# ---------------------------------------------------------------- running one scenario

# A text log line: time, side, connection, layer, the rest (also once the time is "<t>").
TEXT_LINE = re.compile(r"^ *\+ *(?:[0-9.]+|<t>) ms  (client|server)(?: #(\d+))? +([A-Z]+) +(.*)$")


def parse_record(line, fmt):
    """What readiness needs from one log line: {conn, event, kind, port, to}, or None."""
    if fmt == "json":
        if not line.startswith("{"):
            return None
        try:
            e = json.loads(line)
        except ValueError:
            return None
        return e if isinstance(e, dict) else None
    m = TEXT_LINE.match(line)
    if not m:
        return None
    rest = m.group(4)
    word = rest.split(" ", 1)[0]
    e = {"conn": int(m.group(2) or 0), "event": word}
    if word == "listen":
        f = rest.split()
        if len(f) >= 3:
            e["kind"] = f[1]
            e["port"] = int(f[2].rsplit(":", 1)[1])
    elif re.match(r"(\S+ -> )?CLOSED\b", rest):     # "X -> CLOSED", or "CLOSED" alone
                                                    # (a watch begun on an fd that read CLOSE)
        e = dict(e, event="state_change", to="CLOSED")
    return e


class Server:
    """build/server, its log (stdout) and stderr read by threads."""

    def __init__(self, cmd, cwd, env, fmt, cpu=None):
        self.fmt = fmt
        self.out, self.err, self.recs = [], [], []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=pin(cpu))
        self.threads = [threading.Thread(target=self._read, args=(self.proc.stdout, True)),
                        threading.Thread(target=self._read, args=(self.proc.stderr, False))]
        for t in self.threads:
            t.daemon = True
            t.start()

    def _read(self, f, is_out):
        for raw in iter(f.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                if is_out:
                    self.out.append(line)
                    r = parse_record(line, self.fmt)
                    if r is not None:
                        self.recs.append(r)
                else:
                    self.err.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, pred, timeout):
        """Wait until pred(records) is true (True) or timeout / the server is gone (False)."""
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while not pred(self.recs):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(t.is_alive() for t in self.threads)):
                    return False
                self.cond.wait(min(left, 0.2))
            return True

    def stop(self):
        """SIGTERM (by pid), wait; SIGKILL after 10 s. The exit status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        for t in self.threads:
            t.join(5)
        return self.proc.returncode


def settled(recs, want):
    """At least `want` connections accepted, each closed and its kernel-state watch over
    (the state the kernel forgot, or watch_end)."""
    conns = {}
    for r in recs:
        c = r.get("conn") or 0
        if c == 0:
            continue
        s = conns.setdefault(c, set())
        ev = r.get("event")
        if ev == "state_change" and r.get("to") == "CLOSED":
            ev = "gone"
        s.add(ev)
    est = [c for c, s in conns.items() if "established" in s]
    return len(est) >= want and all("closed" in conns[c] and ("gone" in conns[c] or
                                                              "watch_end" in conns[c])
                                    for c in est)


def idle_step(port, tls, cafile, timeout):
    """Our own keep-alive client: GET /, read the answer (the server parks the connection at
    once after its first answer), GET / again (wakes it), read the answer, then wait for the
    server to close the idle connection (--idle-timeout), and close after its FIN. What we
    saw, as text."""
    import ssl
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = raw
    if tls:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    got = []
    buf = b""
    try:
        for _ in range(2):
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            while True:
                head, sep, rest = buf.partition(b"\r\n\r\n")
                if sep:
                    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                    n = int(m.group(1)) if m else 0
                    if len(rest) >= n:
                        got.append(head.split(b"\r\n", 1)[0].decode())
                        buf = rest[n:]
                        break
                d = s.recv(65536)
                if not d:
                    raise EOFError("closed before the answer")
                buf += d
        try:
            while s.recv(65536):
                pass
            got.append("EOF")
        except ssl.SSLError as e:
            got.append("EOF (%s)" % e.reason)
        if tls:
            # The server's close_notify ended the TLS stream; its FIN follows. Close only
            # once it is here: closing at once would race our FIN with the server's, and
            # the server's log would tell two stories (as with a real client: either).
            t = socket.socket(fileno=os.dup(s.fileno()))
            t.settimeout(timeout)
            try:
                while t.recv(65536):
                    pass
            finally:
                t.close()
    finally:
        s.close()
    return ", ".join(got)


# How a run is scheduled. The races above go one way more often on one machine, under one
# load, than on another: a reference recorded only one way would not show the other. So
# the runs of a recording (and the attempts of a check) take turns: as they come; both
# programs on one CPU (each runs only when the other waits: reads see whole flights); the
# server and the client each on a CPU of its own (both run at once).
SCHEDULES = ("free", "one-cpu", "two-cpus")


def cpus(schedule):
    """(server's CPU, client's CPU), None: any."""
    try:
        mine = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None, None
    if schedule == "one-cpu":
        return mine[0], mine[0]
    if schedule == "two-cpus" and len(mine) > 1:
        return mine[0], mine[1]
    return None, None


def pin(cpu):
    """A preexec_fn that puts the child on one CPU (None: leaves it be)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Run:
    """One scenario with one build and one log format: the raw logs."""

    def __init__(self, sc, build, certs, fmt, work, schedule="free"):
        self.sc, self.build, self.certs, self.fmt = sc, build, certs, fmt
        self.cpu_server, self.cpu_client = cpus(schedule)
        self.work = work
        self.ports = {}
        self.steps = []          # (description, exit status, log lines, body)
        self.server_out = self.server_err = []
        self.server_rc = None
        self.problems = []       # readiness waits that ran out (they show up in the diff)

    def run(self):
        os.makedirs(self.work, exist_ok=True)
        link = os.path.join(self.work, "certs")
        if not os.path.lexists(link):
            os.symlink(self.certs, link)
        env = dict(os.environ)
        env.pop("SSLKEYLOGFILE", None)
        env["LC_ALL"] = "C.UTF-8"
        logfmt = ["--log-format", self.fmt] + (["--color", "never"] if self.fmt == "text"
                                               else [])
        kinds = ("http", "https", "selfsigned", "rsa")
        cmd = [os.path.join(self.build, "server")] + logfmt + ["--bind", "127.0.0.1",
                                                             "--certs", "certs"]
        for k in kinds:
            cmd += ["--%s-port" % k, "0" if k in self.sc.listen else "off"]
        cmd += self.sc.server
        srv = Server(cmd, self.work, env, self.fmt, self.cpu_server)
        want = 0
        try:
            for k in self.sc.listen:
                ok = srv.wait(lambda recs: any(r.get("event") == "listen" and
                                               r.get("kind") == k for r in recs), 10)
                if not ok:
                    die("%s: the server did not log `listen` for %s: %s" % (
                        self.sc.name, k, "\n".join(srv.out[-5:] + srv.err[-5:])))
                self.ports[k] = [r for r in srv.recs if r.get("event") == "listen" and
                                 r.get("kind") == k][0]["port"]
            for i, (what, arg) in enumerate(self.sc.steps, 1):
                if what == "client":
                    args = [a.format(**self.ports) for a in arg]
                    try:
                        p = subprocess.run([os.path.join(self.build, "client")] + logfmt +
                                           args, cwd=self.work, env=env,
                                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, timeout=30 * SLOW,
                                           preexec_fn=pin(self.cpu_client))
                        status, out, err = "exit %d" % p.returncode, p.stdout, p.stderr
                    except subprocess.TimeoutExpired as x:     # killed by subprocess.run
                        status, out, err = "still running after %.0f s" % (30 * SLOW), \
                            x.stdout or b"", x.stderr or b""
                    log = err.decode("utf-8", "replace").splitlines()
                    want += sum(1 for line in log
                                if (parse_record(line, self.fmt) or {}).get("event") ==
                                "connect")
                    self.steps.append(("client " + " ".join(arg), status, log,
                                       out.decode("utf-8", "replace")))
                else:
                    port = self.ports["https" if arg else "http"]
                    try:
                        saw = idle_step(port, arg, os.path.join(self.certs, "ca.crt"),
                                        10 * SLOW)
                    except (OSError, EOFError) as e:
                        saw = "failed: %s" % e
                    want += 1
                    self.steps.append(("idle keep-alive %s" % ("https" if arg else "http"),
                                       saw, [], ""))
                # Everything the server logs about this step's connections, before the next.
                if not srv.wait(lambda recs: settled(recs, want), 15):
                    self.problems.append("step %d: the server's connections did not all "
                                         "close and end their watch within 15 s" % i)
        finally:
            self.server_rc = srv.stop()
        self.server_out, self.server_err = srv.out, srv.err
        keylog = os.path.join(self.work, "keys.log")
        self.keylog = open(keylog).read().splitlines() if os.path.exists(keylog) else None
        return self


# ---------------------------------------------------------------- normalizing

ADDR_PORT = re.compile(r"(127\.0\.0\.1|\[::1\]|localhost):(\d{1,5})\b")
JSON_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)":("(?:[^"\\]|\\.)*"|[^,}]*)')

# JSON fields that are measured, not chosen: times, durations, kernel timers.
TIMES = {"t_ms", "ts_us", "cap_ts_us", "rtt_ms", "handshake_ms", "duration_ms", "watched_ms",
         "expires_ms", "left_ms", "connect_ms", "requests_ms", "total_ms", "full_ms_avg",
         "resumed_ms_avg", "time_connect_ms", "time_appconnect_ms", "time_starttransfer_ms",
         "time_total_ms", "samples"}
# Dissected fields whose value is random per handshake (a number, not hex).
RANDOM_NUMBERS = {"ticket_age_add", "obfuscated_ticket_age"}
HEX = re.compile(r"[0-9a-fA-F]")


def shape(m):
    """A random byte string keeps its shape (length, grouping), not its digits."""
    return HEX.sub("x", m.group(0))


# Free text (detail, gloss, the text log, a body): (pattern, replacement), in this order.
TEXT_RULES = [
    (re.compile(r"\b\d+\.\d{3} ms\b"), "<ms> ms"),                 # a measured time
    (re.compile(r"\bfires in \d+ ms\b"), "fires in <ms> ms"),       # a kernel timer
    (re.compile(r"\bkeeps it \d+\.\d s more\b"), "keeps it <s> s more"),
    (re.compile(r"\(([a-z])=\d+\)"), r"(\1=<isn>)"),                # --capture: absolute seq
    (re.compile(r"\b((?:%s) +)\d+" % "|".join(RANDOM_NUMBERS)), r"\1<n>"),
    # --dissect, keys, random values: runs of 16 hex digits, grouped by spaces
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16}(?: [0-9a-f]{1,16})*(?![0-9A-Za-z])"), shape),
    # certificate fingerprints (AA:BB:...), dates
    (re.compile(r"\b[0-9A-F]{2}(?::[0-9A-F]{2}){15,}\b"), shape),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b"), "<date>"),
    (re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                r"Sep|Oct|Nov|Dec) \d{4}(?: [0-9:]{1,8}(?: GMT)?| \d{0,2})?"), "<http-date>"),
    (re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9]\d \d\d:\d\d:\d\d "
                r"\d{4}(?: GMT)?"), "<date>"),
]


class Normalizer:
    """Turns the raw logs of one Run into what must not change between builds."""

    def __init__(self, run):
        self.run = run
        self.ports = {str(p): "<%s>" % k for k, p in run.ports.items()}
        n = 0
        lines = [l for s in run.steps for l in s[2]] + run.server_out + \
            [s[3] for s in run.steps]
        for line in lines:
            for m in ADDR_PORT.finditer(line):
                if m.group(2) not in self.ports:
                    n += 1
                    self.ports[m.group(2)] = "<p%d>" % n
        self.isn = {}           # (conn, "out"|"in") -> the SYN's sequence number

    def port(self, m):
        return "%s:%s" % (m.group(1), self.ports.get(m.group(2), "<port?>"))

    def text(self, s):
        """Rules for free text: a detail, a gloss, a text log line, a body."""
        s = ADDR_PORT.sub(self.port, s)
        for pat, rep in TEXT_RULES:
            s = pat.sub(rep, s)
        return s

    def relative(self, rec, key):
        """--capture's absolute seq/ack as the SYN's ISN + N (x: ours, y: the peer's)."""
        d = rec.get("dir")
        conn = rec.get("conn")
        v = int(rec.get(key))
        if key == "ack" and v == 0:
            return "0"
        mine = (d == "out") == (key == "seq")
        isn = self.isn.get((conn, "out" if mine else "in"))
        if isn is None:
            return "<abs>"
        return "<%s+%d>" % ("x" if mine else "y", (v - isn) % (1 << 32))

    def json_line(self, line):
        if not line.startswith("{"):
            return self.text(line)
        pairs = [(m.group(1), m.group(2)) for m in JSON_PAIR.finditer(line)]
        rec = {}
        for k, v in pairs:
            try:
                rec[k] = json.loads(v)
            except ValueError:
                rec[k] = v
        if rec.get("event") == "segment" and "SYN" in str(rec.get("flags", "")).split(","):
            self.isn[(rec.get("conn"), rec.get("dir"))] = int(rec.get("seq", 0))
        out = []
        for k, v in pairs:
            if k in TIMES:
                v = "<t>"
            elif k == "port" and v in self.ports:
                v = self.ports[v]
            elif rec.get("event") == "segment" and k in ("seq", "ack"):
                v = self.relative(rec, k)
            elif rec.get("field") in RANDOM_NUMBERS and k in ("value", "code", "detail"):
                v = re.sub(r"\d+", "<n>", v)
            elif k == "hex":
                v = HEX.sub("x", v)
            elif k == "wire_preview" and rec.get("wire") == "tls":
                v = '"<ciphertext>"'
            elif v.startswith('"'):
                v = self.text(v)        # as printed: escapes stay as they are
            out.append('"%s":%s' % (k, v))
        return "{" + ",".join(out) + "}"

    def text_line(self, line):
        line = re.sub(r"^ *\+ *[0-9.]+ ms", "+<t> ms", line)
        return self.text(line)


def conn_of(line, fmt, last):
    """The connection id a log line is about (0: the program as a whole); a text line with
    no prefix (--explain's why, --dissect's fields, --wire's bytes) belongs to the line
    above it."""
    if fmt == "json":
        m = re.search(r'"conn":(\d+)', line)
        return int(m.group(1)) if m else last
    m = TEXT_LINE.match(line)
    return int(m.group(2) or 0) if m else last


def split_conns(lines, fmt, norm):
    """[(conn, [normalized lines])] in the order each connection first appears."""
    out, last = {}, 0
    for l in lines:
        last = conn_of(l, fmt, last)
        out.setdefault(last, []).append(norm(l))
    return sorted(out.items())


def units(run):
    """{unit: [lines]} for one Run. A unit is what is compared as a whole: one side's log of
    one connection (a connection's events do not race with another's in our sequential
    scenarios, but the two programs' logs do race with each other, so each side is compared
    on its own), or of the program as a whole (conn0: listen, start, stop, the exit status).
    From the JSON run also the bodies and the key log's labels."""
    nz = Normalizer(run)
    fmt = run.fmt
    line = nz.json_line if fmt == "json" else nz.text_line
    out = {}
    for c, ls in split_conns(run.server_out, fmt, line):
        out["%s/server/conn%d" % (fmt, c)] = ls
    srv = out.setdefault("%s/server/conn0" % fmt, [])
    srv += ["# stderr: " + nz.text(l) for l in run.server_err]
    srv.append("# exit %s" % run.server_rc)
    for i, (what, status, log, body) in enumerate(run.steps, 1):
        head = "## step %d: %s -> %s" % (i, what, status)
        conns = split_conns(log, fmt, line)
        if not conns or conns[0][0] != 0:
            conns.insert(0, (0, []))
        for c, ls in conns:
            out["%s/client/step%d/conn%d" % (fmt, i, c)] = ([head] if c == 0 else []) + ls
        if fmt == "json":
            out["json/client/step%d/body" % i] = [nz.text(l) for l in body.splitlines()]
    if fmt == "json" and run.keylog is not None:
        out["json/keylog"] = [re.sub(r" [0-9a-f]{64,}", shape, l) for l in run.keylog]
    if run.problems:
        out["%s/problems" % fmt] = list(run.problems)
    return out


# ---------------------------------------------------------------- comparing
#
# Two runs of the same build do not log the same: the two programs and the kernel race.
# - A snapshot of the kernel's view at an event (tcp_state, rel_seq, rel_ack; the text log's
#   [STATE seq+N ack+N]) says whether the peer's ACK, data or FIN had arrived yet, and the
#   words that explain the state (gloss, --explain, the 【step】 of --lang zh) follow it.
# - The close watch samples the kernel's states (state_change) and may or may not catch a
#   FIN_WAIT1 that lasts microseconds; when it ends (watch_end) races with the program.
# - --capture's segments arrive on their own descriptor, between the program's events; a
#   delayed ACK rides on a FIN or goes alone.
# - A TLS 1.3 NewSessionTicket is read before or after the response; close_notify comes with
#   the FIN or before it.
# So the reference is several runs (a recording), and a unit of the build under test (one
# side's log of one connection, see units()) passes when every event is one the reference
# printed:
#   (a) its line without the snapshot and the words about it is one the reference printed in
#       this unit; its snapshot shows a state and counters this connection showed somewhere
#       in the reference, and the counters never go down; the words about the snapshot are
#       what the reference printed for this event in this state (in this unit, or in any);
#       a close-watch sample is one the reference printed (in any unit, for this side);
#   (b) every event (with the lines under it in the text log) appears as often as in the
#       reference (within the range over its runs; state_change samples are not counted);
#   (c) two events that came in the same order in every reference run come in that order
#       (the program's own events among themselves, segments among themselves).
# A race the reference runs never showed can still make a unit fail: a failing scenario is
# run again (--retries), and a unit passes if any attempt passes. A changed word, field,
# value or format is a line the reference never printed; a lost or added event a count; a
# moved event an order.

SNAP_KEYS = ("tcp_state", "rel_seq", "rel_ack")
STATE_WORDS = ("gloss", "explain", "explain_step", "step_zh")      # about the snapshot
COARSE_KEYS = ("dir", "type", "msg", "field", "kind", "method", "status")
TCP_STATES = {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
              "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "CLOSED", "connect()",
              "?"}
TEXT_SNAP = re.compile(r"  \[([A-Z_0-9]+)(?: seq\+(\d+) ack\+(\d+))?\]")
TEXT_STEP = re.compile(r"  【[^】]*】")
TEXT_GLOSS = re.compile(r"  -- .*$")
SEGMENT_LABEL = re.compile(r"^[<>] [A-Z]+(?:,[A-Z]+)*$")
SEG_OFFSET = re.compile(r"\b([xy])\+(\d+)")
STATE_NAME = re.compile(r"\b(?:%s)\b" % "|".join(s for s in TCP_STATES if s.isalpha() or "_" in s))
TEXT_LEFT = re.compile(r"; the kernel keeps it <s> s more")


class Block:
    """One event: its record line and, in the text log, the lines printed under it.
    coarse: which event (layer, name, direction, message); klass: main, segment or watch;
    rest: its lines without the snapshot and the words about it; snap: (state, seq, ack);
    words: [(what, text)] about the snapshot."""

    def __init__(self, line, side, coarse, klass, rest, snap=None, words=()):
        self.lines, self.side, self.coarse, self.klass = [line], side, coarse, klass
        self.rest, self.snap, self.words = [rest], snap, list(words)

    def fine(self):
        return " || ".join(self.rest)


def json_block(line):
    pairs = [(m.group(1), m.group(2)) for m in JSON_PAIR.finditer(line)]
    d = dict(pairs)
    ev = d.get("event", "").strip('"')
    side = d.get("side", "").strip('"')
    coarse = " ".join([d.get("layer", "").strip('"'), ev] +
                      ["%s=%s" % (k, d[k].strip('"')) for k in COARSE_KEYS if k in d])
    if ev in ("state_change", "watch_end"):
        # the close watch's sample: which state it caught is the kernel's timing; what
        # follows from the state (the time TIME_WAIT has left, the gloss) is its words
        rest = ",".join('"%s":%s' % (k, "<words>" if k in STATE_WORDS else
                                     STATE_NAME.sub("<STATE>", TEXT_LEFT.sub("", v)))
                        for k, v in pairs if k != "conn")
        words = [(k, v) for k, v in pairs if k in STATE_WORDS]
        words += [("left", x) for x in TEXT_LEFT.findall(d.get("detail", ""))]
        return Block(line, side, coarse, "watch", rest, None, words)
    if ev == "segment":
        # which segments carry which ACK depends on delayed ACKs: the offsets are checked
        # like a snapshot's, the rest (flags, length, what it carries) as a line
        offs = re.findall(r"[xy]\+(\d+)", d.get("seq", "") + d.get("ack", ""))
        rest = ",".join('"%s":%s' % (k, "<n>" if k == "win" else SEG_OFFSET.sub(r"\1+N", v))
                        for k, v in pairs)
        return Block(line, side, "%s %s" % (coarse, d.get("dir")), "segment " + d.get("dir", ""),
                     rest, ("",) + tuple((offs + [None, None])[:2]))
    # the snapshot and the words about it are checked on their own (check_unit); the line
    # keeps where they were
    rest = ",".join('"%s":%s' % (k, "<snap>" if k in SNAP_KEYS else "<words>"
                                 if k in STATE_WORDS else v) for k, v in pairs)
    snap = None
    if "tcp_state" in d:
        snap = (d["tcp_state"].strip('"'), d.get("rel_seq"), d.get("rel_ack"))
    words = [(k, v) for k, v in pairs if k in STATE_WORDS]
    return Block(line, side, coarse, "main", rest, snap, words)


def masked(line):
    """A text log line with its snapshot and the words about it as placeholders."""
    line = TEXT_SNAP.sub(lambda m: "  [<snap>%s]" % (" seq+<n> ack+<n>" if m.group(2) else ""),
                         line)
    line = TEXT_LEFT.sub("; the kernel keeps it <words>", line)
    return TEXT_GLOSS.sub("  -- <words>", TEXT_STEP.sub("  【<words>】", line))


def text_block(line, m):
    side = m.group(1)
    w = m.group(4).split()
    label = w[:2] if w and w[0] in ("<", ">") else w[:1]
    coarse = " ".join([m.group(3)] + label)
    if w and (w[0] in TCP_STATES or w[0] == "watch_end"):
        # the close watch's sample: which state it caught is the kernel's timing; what
        # follows from the state (the time TIME_WAIT has left, the gloss) is its words
        words = [("gloss", x) for x in TEXT_GLOSS.findall(line)]
        words += [("step_zh", x) for x in TEXT_STEP.findall(line)]
        words += [("left", x) for x in TEXT_LEFT.findall(line)]
        rest = STATE_NAME.sub("<STATE>", re.sub(r" #\d+ ", "    ", masked(line), 1))
        return Block(line, side, "TCP watch_end" if w[0] == "watch_end" else "TCP state",
                     "watch", rest, None, words)
    if m.group(3) == "TCP" and SEGMENT_LABEL.match(" ".join(label)):
        offs = [o for _, o in SEG_OFFSET.findall(line)]
        return Block(line, side, coarse, "segment " + label[0], SEG_OFFSET.sub(r"\1+N", line),
                     ("",) + tuple((offs + [None, None])[:2]))
    klass = "main"
    snap = None
    sm = TEXT_SNAP.search(line)
    if sm:
        snap = sm.groups()
    words = []
    gm = TEXT_GLOSS.search(line)
    if gm:
        words.append(("gloss", gm.group(0)))
    words += [("step_zh", x) for x in TEXT_STEP.findall(line)]
    return Block(line, side, coarse, klass, masked(line), snap, words)


def blocks(lines, kind):
    """The events of a unit. kind: json, text, or plain (every line an event)."""
    out = []
    for line in lines:
        if kind == "json" and line.startswith("{"):
            out.append(json_block(line))
            continue
        m = TEXT_LINE.match(line) if kind == "text" else None
        if m:
            out.append(text_block(line, m))
        elif kind == "text" and out and line.startswith(" "):
            b = out[-1]             # a line under the event: --explain, --dissect, --wire
            b.lines.append(line)
            if re.match(r"\s+why\b", line):
                b.words.append(("why", line))
                b.rest.append(re.sub(r"^(\s+why\b).*", r"\1 <words>", line))
            else:
                b.rest.append(line)
        else:
            out.append(Block(line, "", line, "main", line))
    return out


def unit_kind(name):
    return name.split("/", 1)[0] if name.startswith(("json/", "text/")) else "plain"


class Pools:
    """What the reference printed, for (a): per unit, per scenario, and across all."""

    def __init__(self):
        self.unit = {}          # (scenario, unit) -> {"rest": set, "state": set, "words": set}
        self.scenario = {}      # scenario -> {"state": set, "offset": the largest}: both sides
        self.words = set()      # (side, coarse, what, text) in any unit
        self.watch = set()      # (side, close-watch line without the connection) in any unit

    def get(self, scenario, name):
        return (self.unit.get((scenario, name)) or {"rest": set(), "state": set(),
                                                    "words": set()},
                self.scenario.get(scenario) or {"state": set(), "offset": 0})

    def add(self, scenario, name, refs):
        kind = unit_kind(name)
        p = self.unit.setdefault((scenario, name), {"rest": set(), "state": set(),
                                                    "words": set()})
        q = self.scenario.setdefault(scenario, {"state": set(), "offset": 0})
        for r in refs:
            for b in blocks(r, kind):
                p["rest"].update(b.rest)
                if b.klass == "watch":
                    self.watch.add((b.side, b.rest[0]))
                if b.snap:
                    if b.snap[0]:
                        p["state"].add(b.snap[0])
                        q["state"].add(b.snap[0])
                    # how far the streams went: one side's seq is the other's ack
                    q["offset"] = max([q["offset"]] + [int(v) for v in b.snap[1:]
                                                       if v and v.isdigit()])
                for what, text in b.words:
                    p["words"].add((b.coarse, what, text))
                    self.words.add((b.side, b.coarse, what, text))


def counts(bs, attr):
    c = {}
    for b in bs:
        if b.klass == "watch" and (attr == "fine" or not b.coarse.endswith("watch_end")):
            continue            # samples: as many as the kernel's timing gave
        if b.klass.startswith("segment") and attr == "fine":
            continue            # which ACK rides alone: delayed ACKs
        k = b.coarse if attr == "coarse" else b.fine()
        c[k] = c.get(k, 0) + 1
    return c


def occurrences(bs, klass):
    seen, out = {}, []
    for b in bs:
        if b.klass != klass:
            continue
        seen[b.coarse] = seen.get(b.coarse, 0) + 1
        out.append("%s #%d" % (b.coarse, seen[b.coarse]))
    return out


def check_unit(scenario, name, refs, got, pools):
    """Why `got` (the lines of one unit) is not what the reference runs `refs` printed:
    a list of reasons, empty if it is."""
    kind = unit_kind(name)
    p, q = pools.get(scenario, name)
    why = []
    gbs = blocks(got, kind)
    last = {}
    for b in gbs:
        if b.klass == "watch":
            if b.rest[0] not in p["rest"] and (b.side, b.rest[0]) not in pools.watch:
                why.append("a close-watch line no reference run printed: %s" % b.lines[0])
        else:
            for r in b.rest:
                if r not in p["rest"]:
                    why.append("a line no reference run printed: %s" % r)
        if b.snap:
            st = b.snap[0]
            if st and st not in p["state"] and st not in q["state"]:
                why.append("state %s at %s: never seen in this scenario's reference" % (
                    st, b.coarse))
            for what, v in (("seq", b.snap[1]), ("ack", b.snap[2])):
                if v is None or not v.isdigit():
                    continue
                if int(v) > q["offset"]:
                    why.append("%s %s at %s: beyond where the reference streams ended (%d)"
                               % (what, v, b.coarse, q["offset"]))
                if b.klass.startswith("segment"):
                    continue    # two directions, and a retransmission may go back
                if last.get(what) is not None and int(v) < last[what]:
                    why.append("%s went down to %s at %s" % (what, v, b.coarse))
                last[what] = int(v)
        for what, text in b.words:
            if (b.coarse, what, text) not in p["words"] and \
                    (b.side, b.coarse, what, text) not in pools.words:
                why.append("words for %s that no reference run printed: %s" % (
                    b.coarse, text.strip()))
    rbs = [blocks(r, kind) for r in refs]
    for attr in ("coarse", "fine"):
        rc = [counts(bs, attr) for bs in rbs]
        g = counts(gbs, attr)
        for i in sorted(set(g) | set(k for c in rc for k in c)):
            lo, hi = min(c.get(i, 0) for c in rc), max(c.get(i, 0) for c in rc)
            if not lo <= g.get(i, 0) <= hi:
                why.append("%s %s: %d time(s), in the reference %s" % (
                    "event" if attr == "coarse" else "event with these lines", i,
                    g.get(i, 0), lo if lo == hi else "%d to %d" % (lo, hi)))
    for klass in ("main", "segment >", "segment <", "segment out", "segment in"):
        rocc = [occurrences(bs, klass) for bs in rbs]
        gocc = occurrences(gbs, klass)
        common = set(gocc).intersection(*[set(r) for r in rocc])
        pos = [{o: i for i, o in enumerate(r)} for r in rocc]
        gpos = {o: i for i, o in enumerate(gocc)}
        seq = sorted(common, key=lambda o: gpos[o])
        for i, a in enumerate(seq):
            for b in seq[i + 1:]:
                if all(q[b] < q[a] for q in pos):
                    why.append("order: %s came before %s (after it in every reference run)"
                               % (a, b))
    return why


def closest(refs, got):
    """The reference run most like `got` (to show a diff against)."""
    best, score = refs[0], -1.0
    for r in refs:
        s = difflib.SequenceMatcher(None, r, got, autojunk=False).ratio()
        if s > score:
            best, score = r, s
    return best


# ---------------------------------------------------------------- modes

def can_capture():
    """True if we may open a raw socket (root or CAP_NET_RAW): what --capture needs."""
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except (PermissionError, OSError, AttributeError):
        return False
    s.close()
    return True


def localhost_is_v4():
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)}
    except OSError:
        return False
    return addrs == {"127.0.0.1"}


def file_caps(build):
    """True if both programs carry file capabilities (setcap cap_net_raw+ep)."""
    try:
        return all(os.getxattr(os.path.join(build, p), "security.capability")
                   for p in ("server", "client"))
    except (OSError, AttributeError):
        return False


def skip_reason(sc, builds=()):
    if sc.root and not can_capture() and not all(file_caps(b) for b in builds if b):
        return "--capture and --wire need CAP_NET_RAW (root has it; or setcap " \
               "cap_net_raw+ep on both programs of both builds)"
    if sc.localhost and not localhost_is_v4():
        return "the name localhost does not resolve to 127.0.0.1 alone here"
    return None


def say(msg):
    print("samelog: %s" % msg, file=sys.stderr, flush=True)


def run_scenario(sc, build, certs, tmp, fmts=("json", "text"), keep=None, schedule="free",
                 raw=None):
    """{unit: [lines]} of one run of a scenario with one build. raw (a dict): gets the JSON
    run's own logs, {"server": lines, "steps": [lines of each step]}."""
    out = {}
    for fmt in fmts:
        work = tempfile.mkdtemp(prefix="%s-%s-" % (sc.name, fmt), dir=tmp)
        run = Run(sc, build, certs, fmt, work, schedule).run()
        out.update(units(run))
        if raw is not None and fmt == "json":
            raw["server"] = run.server_out
            raw["steps"] = [st[2] for st in run.steps]
        if keep:
            d = os.path.join(keep, sc.name)
            os.makedirs(d, exist_ok=True)
            n = len([f for f in os.listdir(d) if f.startswith("server.%s." % fmt)])
            with open(os.path.join(d, "server.%s.%d" % (fmt, n)), "w") as f:
                f.write("\n".join(run.server_out + ["# stderr:"] + run.server_err) + "\n")
            with open(os.path.join(d, "client.%s.%d" % (fmt, n)), "w") as f:
                for what, status, log, body in run.steps:
                    f.write("## %s -> %s\n" % (what, status))
                    f.write("\n".join(log) + "\n")
        shutil.rmtree(work, ignore_errors=True)
    return out


def record(sc, build, certs, tmp, runs, keep=None, raw=None):
    """The reference of a scenario: {unit: [lines of run 1, lines of run 2, ...]}; raw gets
    the first run's JSON logs."""
    ref = {}
    for i in range(runs):
        got = run_scenario(sc, build, certs, tmp, keep=keep,
                           schedule=SCHEDULES[i % len(SCHEDULES)], raw=raw if i == 0 else None)
        for u in set(ref) | set(got):
            ref.setdefault(u, [[] for _ in range(i)]).append(got.get(u, []))
    return ref


def check(sc, ref, pools, build, certs, tmp, retries, keep=None):
    """Run a scenario with the build under test until every unit passes against the
    reference (at most 1 + retries times). [(unit, reasons, lines)] of the units that never
    passed, from their first attempt."""
    failing = None
    for attempt in range(1 + retries):
        fmts = ("json", "text") if failing is None else \
            tuple(sorted({u.split("/", 1)[0] for u in failing} & {"json", "text"}))
        got = run_scenario(sc, build, certs, tmp, fmts=fmts or ("json", "text"), keep=keep,
                           schedule=SCHEDULES[attempt % len(SCHEDULES)])
        names = set(ref) | set(got) if failing is None else set(failing)
        now = {}
        for u in sorted(names):
            if unit_kind(u) in ("json", "text") and not u.startswith(fmts) and attempt:
                now[u] = failing[u]
                continue
            why = check_unit(sc.name, u, ref.get(u, [[]]), got.get(u, []), pools)
            if why:
                now[u] = failing[u] if failing and u in failing else (why, got.get(u, []))
        failing = now
        if not failing:
            return []
        if attempt < retries:
            say("%s: %d unit(s) differ, running it again (%s)" % (
                sc.name, len(failing), ", ".join(sorted(failing))))
    return [(u, why, lines) for u, (why, lines) in sorted(failing.items())]


def report(sc, u, why, lines, ref, la):
    """A unified diff against the closest reference run, and the reasons."""
    refs = ref.get(u, [[]])
    base = closest(refs, lines)
    out = ["=== %s: %s differs from %s\n" % (sc.name, u, la)]
    out += ["  - %s\n" % w for w in why[:20]]
    if len(why) > 20:
        out.append("  - ... %d more\n" % (len(why) - 20))
    out += difflib.unified_diff([l + "\n" for l in base], [l + "\n" for l in lines],
                                "%s/%s (%s, the closest of %d runs)" % (sc.name, u, la,
                                                                      len(refs)),
                                "%s/%s (this build)" % (sc.name, u), n=3)
    return "".join(out)


# ---------------------------------------------------------------- the recorded reference
#
# DIR/SCENARIO.json: {"scenario", "doc", "runs", "units": {UNIT: {"lines": [the distinct
# lines, in order of first appearance], "runs": ["0-12 14 13 15-40", ...]}}}: each run as
# indices into lines, ranges compressed. Written one line per string, so a re-recording
# reads as a diff.

def compress(idx):
    out, i = [], 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and idx[j + 1] == idx[j] + 1:
            j += 1
        out.append("%d" % idx[i] if i == j else "%d-%d" % (idx[i], idx[j]))
        i = j + 1
    return " ".join(out)


def expand(s):
    out = []
    for part in s.split():
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def save(path, sc, ref, runs):
    with open(path, "w") as f:
        f.write('{"scenario": %s,\n "doc": %s,\n "runs": %d,\n "units": {' % (
            json.dumps(sc.name), json.dumps(sc.doc, ensure_ascii=False), runs))
        for n, u in enumerate(sorted(ref)):
            table, index = [], {}
            for r in ref[u]:
                for l in r:
                    if l not in index:
                        index[l] = len(table)
                        table.append(l)
            f.write('%s\n  %s: {"lines": [' % ("," if n else "", json.dumps(u)))
            f.write(",".join("\n   " + json.dumps(l, ensure_ascii=False) for l in table))
            f.write('],\n   "runs": [%s]}' % ", ".join(
                json.dumps(compress([index[l] for l in r])) for r in ref[u]))
        f.write("}}\n")


def load(path):
    with open(path) as f:
        d = json.load(f)
    return {u: [[v["lines"][i] for i in expand(r)] for r in v["runs"]]
            for u, v in d["units"].items()}


# ---------------------------------------------------------------- the ladder
#
# build/ladder draws a diagram from the two JSON logs: a pure function of its input. So its
# check needs no normalizing: the same logs in, the same bytes out. The recording keeps the
# raw JSON logs of a few runs (LADDER/CASE.client.json, CASE.server.json) and what the
# reference ladder drew from them (CASE.MODE.out).

LADDER = [  # case, scenario, client step
    ("capture-https", "capture", 2),
    ("resume", "resume", 1),
    ("selfsigned-refused", "selfsigned-refused", 1),
    ("server-closes", "server-closes", 2),
]
LADDER_MODES = [("text", []), ("ascii", ["--ascii"]), ("svg", ["--svg"]),
                ("mermaid", ["--mermaid"])]


def draw(ladder, client_log, server_log, flags):
    p = subprocess.run([ladder] + flags + [client_log, server_log], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.stdout.decode("utf-8", "replace") + (
        "# stderr:\n" + p.stderr.decode("utf-8", "replace") if p.stderr else "") + \
        "# exit %d\n" % p.returncode


def ladder_inputs(raws, d):
    """Write the ladder's inputs from the raw JSON logs of the first reference runs."""
    os.makedirs(d, exist_ok=True)
    out = []
    for case, scenario, step in LADDER:
        raw = raws.get(scenario)
        if not raw or len(raw.get("steps", [])) < step:
            continue
        with open(os.path.join(d, case + ".client.json"), "w") as f:
            f.write("\n".join(raw["steps"][step - 1]) + "\n")
        with open(os.path.join(d, case + ".server.json"), "w") as f:
            f.write("\n".join(raw["server"]) + "\n")
        out.append(case)
    return out


def ladder_draw_all(ladder, d, cases):
    """{(case, mode): what the ladder drew}."""
    return {(c, m): draw(ladder, os.path.join(d, c + ".client.json"),
                         os.path.join(d, c + ".server.json"), flags)
            for c in cases for m, flags in LADDER_MODES}


def ladder_diffs(ref, got, la):
    out = []
    for (c, m) in sorted(ref):
        a, b = ref[(c, m)], got.get((c, m), "")
        if a != b:
            out.append("=== ladder %s --%s differs from %s\n" % (c, m, la) + "".join(
                difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                     "ladder/%s.%s (%s)" % (c, m, la),
                                     "ladder/%s.%s (this build)" % (c, m))))
    return out


# ---------------------------------------------------------------- main

def selected(ks):
    """-k NAME: the scenario called NAME, else every scenario whose name contains it."""
    scs = []
    for s in SCENARIOS:
        for k in ks or [""]:
            exact = any(x.name == k for x in SCENARIOS)
            if (s.name == k if exact else k in s.name) and s not in scs:
                scs.append(s)
    if not scs:
        die("no scenario matches %s" % " ".join(ks))
    return scs


def build_rev(rev, wt):
    """Build REV in a temporary git worktree wt; its build directory."""
    p = subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", wt, rev],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        die("git worktree add %s: %s" % (rev, p.stdout.decode(errors="replace")))
    say("building %s in %s" % (rev, wt))
    p = subprocess.run(["make", "-C", wt, "-j2", "BUILD=build", "all"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        die("make in the worktree of %s failed:\n%s" % (
            rev, p.stdout.decode(errors="replace")[-3000:]))
    return os.path.join(wt, "build")


def binaries(build, what):
    build = os.path.abspath(build if os.path.isabs(build) else os.path.join(ROOT, build))
    for prog in ("server", "client"):
        if not os.access(os.path.join(build, prog), os.X_OK):
            die("%s: %s/%s is missing: build it first (make)" % (what, build, prog))
    return build


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--record", metavar="DIR", help="record the reference's logs into DIR "
                      "(the reference: --before REV, --reference DIR, or else --build)")
    mode.add_argument("--check", metavar="DIR", help="compare the build with DIR")
    mode.add_argument("--twice", action="store_true", help="compare the build with another "
                      "recording of itself, with other certificates: is the check stable?")
    mode.add_argument("--list", action="store_true", help="list the scenarios")
    mode.add_argument("--make-certs", metavar="DIR", help="only make the certificates")
    ref = ap.add_mutually_exclusive_group()
    ref.add_argument("--before", metavar="REV", help="the reference: REV, built in a "
                     "temporary git worktree (alone: compare the build with it)")
    ref.add_argument("--reference", metavar="BUILD_DIR", help="the reference: another "
                     "build directory (alone: compare the build with it)")
    ap.add_argument("--build", default=os.environ.get("BUILD") or "build",
                    help="the build under test (default $BUILD, or build)")
    ap.add_argument("--certs", help="certificates to use (default: made fresh)")
    ap.add_argument("--runs", type=int, help="reference runs per scenario (default 12 for "
                    "--record, 6 otherwise)")
    ap.add_argument("--retries", type=int, default=3, help="run a scenario again while a "
                    "unit differs, at most this often (default 3)")
    ap.add_argument("-k", action="append", default=[], metavar="NAME",
                    help="only the scenario NAME, or those whose name contains NAME "
                    "(repeatable)")
    ap.add_argument("--keep", metavar="DIR", help="keep the raw logs of every run in DIR")
    a = ap.parse_args()
    if not (a.record or a.check or a.twice or a.list or a.make_certs or a.before or
            a.reference):
        ap.error("say what to do: --record, --check, --before, --reference, --twice or --list")
    if (a.check or a.twice) and (a.before or a.reference):
        ap.error("--before and --reference are a reference of their own: not with --check "
                 "or --twice")
    if a.make_certs:
        make_certs(os.path.abspath(a.make_certs))
        return 0
    scs = selected(a.k)
    if a.list:
        for s in scs:
            print("%-20s %s%s" % (s.name, s.doc, "  [needs CAP_NET_RAW]" if s.root else ""))
        return 0
    # the build under test (with --record and --before/--reference: none)
    build = None if a.record and (a.before or a.reference) else \
        binaries(a.build, "the build under test")
    runs = a.runs or (12 if a.record else 6)
    tmp = tempfile.mkdtemp(prefix="samelog-")
    worktree = os.path.join(tmp, "before") if a.before else None
    try:
        certs = os.path.abspath(a.certs) if a.certs else os.path.join(tmp, "certs")
        if not a.certs:
            make_certs(certs)
        certs_check = certs
        if a.twice and not a.certs:     # what depends on the certificates must go too
            certs_check = os.path.join(tmp, "certs2")
            make_certs(certs_check)
        keep = lambda what: a.keep and os.path.join(a.keep, what)
        # the reference: another build (--before, --reference, --twice), or a recording
        other, la = None, None
        if a.before:
            other, la = build_rev(a.before, worktree), a.before
        elif a.reference:
            other, la = binaries(a.reference, "--reference"), a.reference
        elif a.twice:
            other, la = build, "another recording of this build"
        elif a.record:
            other = build
        else:
            la = a.check
        todo = []
        for sc in scs:
            why = skip_reason(sc, [build, other])
            if why:
                say("skip %s: %s" % (sc.name, why))
            else:
                todo.append(sc)
        refs, raws = {}, {}
        for sc in todo:
            if other:
                t0 = time.monotonic()
                raws[sc.name] = {}
                refs[sc.name] = record(sc, other, certs, tmp, runs, keep("reference"),
                                       raws[sc.name])
                say("reference %s: %d runs, %d units (%.0f s)" % (
                    sc.name, runs, len(refs[sc.name]), time.monotonic() - t0))
                if a.record:
                    os.makedirs(a.record, exist_ok=True)
                    save(os.path.join(a.record, sc.name + ".json"), sc, refs[sc.name], runs)
            else:
                path = os.path.join(a.check, sc.name + ".json")
                if not os.path.exists(path):
                    die("%s: no recording (make one with --record %s)" % (path, a.check))
                refs[sc.name] = load(path)
        lad_ref = os.path.join(other, "ladder") if other else None
        if a.record:
            d = os.path.join(a.record, "ladder")
            cases = ladder_inputs(raws, d)
            if os.access(lad_ref, os.X_OK):
                for (c, m), out in ladder_draw_all(lad_ref, d, cases).items():
                    with open(os.path.join(d, "%s.%s.out" % (c, m)), "w") as f:
                        f.write(out)
            say("recorded %d scenario(s) and %d ladder case(s) into %s" % (
                len(todo), len(cases), a.record))
            return 0
        # (a) looks words up in every scenario's reference: with --check also in the
        # scenarios -k left out
        if not other:
            for f in sorted(os.listdir(a.check)):
                if f.endswith(".json") and f[:-5] not in refs:
                    refs[f[:-5]] = load(os.path.join(a.check, f))
        pools = Pools()
        for name, ref in refs.items():
            for u, r in ref.items():
                pools.add(name, u, r)
        failed = []
        for sc in todo:
            t0 = time.monotonic()
            bad = check(sc, refs[sc.name], pools, build, certs_check, tmp, a.retries,
                        keep("check"))
            for u, why, lines in bad:
                failed.append(report(sc, u, why, lines, refs[sc.name], la))
            say("%s %s (%.0f s)" % ("FAIL" if bad else "same", sc.name, time.monotonic() - t0))
        # the ladder: the same logs in, the same bytes out
        lad = os.path.join(build, "ladder")
        nlad = 0
        if not os.access(lad, os.X_OK):
            say("skip the ladder: %s is missing" % lad)
        elif other:
            if os.access(lad_ref, os.X_OK):
                d = os.path.join(tmp, "ladder")
                cases = ladder_inputs(raws, d)
                want = ladder_draw_all(lad_ref, d, cases)
                failed += ladder_diffs(want, ladder_draw_all(lad, d, cases), la)
                nlad = len(cases)
        else:
            d = os.path.join(a.check, "ladder")
            names = {sc.name for sc in todo}
            cases = [c for c, s, _ in LADDER if s in names and
                     os.path.exists(os.path.join(d, c + ".client.json"))]
            want = {}
            for c in cases:
                for m, _ in LADDER_MODES:
                    with open(os.path.join(d, "%s.%s.out" % (c, m))) as f:
                        want[(c, m)] = f.read()
            failed += ladder_diffs(want, ladder_draw_all(lad, d, cases), la)
            nlad = len(cases)
        for f in failed:
            sys.stdout.write(f)
        say("%d scenario(s) and %d ladder case(s) checked against %s, %d skipped; "
            "%d difference(s)" % (len(todo), nlad, la, len(scs) - len(todo), len(failed)))
        return 1 if failed else 0
    finally:
        if worktree and os.path.isdir(worktree):
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", worktree],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
