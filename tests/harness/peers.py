"""harness/peers.py -- other programs as peers and witnesses: tshark capturing on lo, openssl
s_server, headless Chromium. The conftest.py fixtures find them (or skip the test)."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness.net import read_raw_response
from harness.procs import stop_pid


class Tshark:
    """tshark -i lo on the server's port, started before the exchange, stopped by pid.

    tshark prints "Capturing on 'Loopback: lo'" some 10 ms BEFORE its capture really
    starts (packets sent right after it were missed), so readiness is proven instead: the
    filter also takes a probe port of ours, and probe connections are made until tshark
    prints one of them. Probe lines are left out of rows().

    extra_fields: more -e fields after the seven of rows(); write: also write the capture to
    this file (-w, with -P so the rows still print); decode_as: a -d rule, e.g.
    "tcp.port==8443,tls"."""

    def __init__(self, tshark, procs, port, extra_fields=(), write=None, decode_as=None):
        self.port = port
        self.err = []
        self.out = []
        self.cond = threading.Condition()
        self.probe = socket.socket()
        self.probe.bind(("127.0.0.1", 0))
        self.probe.listen(8)
        self.pport = self.probe.getsockname()[1]
        args = [tshark, "-i", "lo", "-f", "tcp port %d or tcp port %d" % (
            port, self.pport), "-l"]
        if decode_as:
            args += ["-d", decode_as]
        if write:
            args += ["-w", write, "-P"]
        args += ["-T", "fields"]
        for f in ("tcp.srcport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len",
                  "tcp.window_size_value", "tcp.dstport") + tuple(extra_fields):
            args += ["-e", f]
        self.p = procs.popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.threads = [threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stdout, self.out), daemon=True)]
        for th in self.threads:
            th.start()

    def _read(self, f, into):
        for raw in iter(f.readline, b""):
            with self.cond:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred() and self.p.poll() is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.05))
            return pred()

    def wait_ready(self, timeout=10.0):
        if not self._wait(lambda: any("Capturing on" in l for l in self.err), timeout):
            return False
        probe_line = "\t%d" % self.pport
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.p.poll() is None:
            try:
                s = socket.create_connection(("127.0.0.1", self.pport), timeout=1)
                a, _ = self.probe.accept()
                s.close()
                a.close()
            except OSError:
                pass
            if self._wait(lambda: any(probe_line in l or l.startswith("%d\t" % self.pport)
                                      for l in self.out), 0.3):
                return True
        return False

    def stop(self, expect_lines=0, timeout=3.0):
        """Wait (bounded) until tshark printed expect_lines of the port, SIGINT it, and
        return its rows (srcport, flags, seq, ack, len, window) of the server's port."""
        self._wait(lambda: len(self.rows()) >= expect_lines, timeout)
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGINT)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGTERM)
                self.p.wait(5)
        for th in self.threads:
            th.join(5)
        self.probe.close()
        return self.rows()

    def rows(self):
        rows = []
        with self.cond:
            lines = list(self.out)
        for line in lines:
            f = line.split("\t")
            try:
                row = (int(f[0]), int(f[1], 16), int(f[2]), int(f[3]), int(f[4]), int(f[5]))
                ports = (int(f[0]), int(f[6]))
            except (ValueError, IndexError):
                rows.append(("unparsed", line))
                continue
            if self.port in ports:
                rows.append(row)
        return rows


def start_s_server(procs, openssl, certs_dir, *extra):
    """openssl s_server -www on 127.0.0.1, port 0: (process, the port from its ACCEPT line)."""
    p = procs.popen([openssl, "s_server", "-accept", "127.0.0.1:0", "-www",
                     "-cert", os.path.join(certs_dir, "server.crt"),
                     "-key", os.path.join(certs_dir, "server.key")] + list(extra),
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    port = [None]
    seen = []

    def read():
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            seen.append(line)
            m = re.match(r"ACCEPT\s+\S*:(\d+)", line)
            if m and port[0] is None:
                port[0] = int(m.group(1))
    th = threading.Thread(target=read, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while port[0] is None and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
    if port[0] is None:
        stop_pid(p)
        raise AssertionError("openssl s_server printed no ACCEPT line: %s" % "".join(seen))
    return p, port[0]


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync"]


def run_chromium(t, procs, chromium, home, args, what, timeout):
    """Headless chromium with CHROMIUM_FLAGS + args, HOME=home and a fresh --user-data-dir,
    bounded by timeout (then its process group is killed and a failed check says so).
    Returns (stdout, stderr) as text, and whether it finished in time."""
    ud = tempfile.mkdtemp(prefix="ud-", dir=home)
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    env["HOME"] = home
    p = subprocess.Popen([chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + ud] + args,
                         cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    procs.add(p)
    done = True
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)    # the group of the chromium we started
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        done = False
        t.check("%s: chromium finishes within %.0f s" % (what, timeout), False, "exit",
                "killed; stderr: %s" % err.decode("utf-8", "replace")[-500:])
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), done


def chromium_dump(t, procs, chromium, home, url, what, timeout=30.0):
    """chromium --dump-dom URL (see run_chromium). Returns (dom, stderr)."""
    out, err, _ = run_chromium(t, procs, chromium, home, ["--dump-dom", url], what, timeout)
    return out, err


def net_errors(err):
    return sorted(set(re.findall(r"net::(ERR_[A-Z_]+)", err)))



# ---------------------------------------------------------------- servers as peers of our client
# Each listens on 127.0.0.1 on a port the kernel picked (or in a network namespace of its
# own), is started as a process of the test (procs) and stopped by pid.

def _wait_file(path, text, p, timeout=10.0):
    deadline = time.monotonic() + timeout
    got = ""
    while time.monotonic() < deadline and p.poll() is None:
        got = open(path, errors="replace").read() if os.path.exists(path) else ""
        if text in got:
            return got
        time.sleep(0.05)
    raise AssertionError("%s did not say %r: %s" % (path, text, got[-2000:]))


def _listener():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    return ls


LIGHTTPD_CONF = """
server.document-root = "{d}/www"
server.errorlog = "{d}/error.log"
server.port = {port}
server.bind = "127.0.0.1"
server.systemd-socket-activation = "enable"
index-file.names = ("index.html")
server.modules += ("mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "{certs}/server.crt"
ssl.privkey = "{certs}/server.key"
"""


def start_lighttpd(procs, lighttpd, certs_dir, d):
    """lighttpd (Debian's, with mod_openssl) serving HTTPS on a listening socket we made
    (port 0) and hand over by systemd socket activation (LISTEN_FDS, fd 3). (process, port)."""
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("hello from lighttpd\n")
    ls = _listener()
    port, fd = ls.getsockname()[1], ls.fileno()
    conf = os.path.join(d, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write(LIGHTTPD_CONF.format(d=d, port=port, certs=certs_dir))
    # the socket goes to fd 3 (dup2 in the child, before the exec); LISTEN_PID must be
    # lighttpd's own pid: the shell's, kept by exec
    p = procs.popen(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -D -f "$1"', lighttpd,
                     conf], pass_fds=[fd, 3], preexec_fn=lambda: os.dup2(fd, 3),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT)
    ls.close()
    _wait_file(os.path.join(d, "error.log"), "server started", p)
    return p, port


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {certs}/server.crt;
        ssl_certificate_key {certs}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{ default_type text/plain; return 200 "hello from nginx\\n"; }}
    }}
}}
"""


NGINX_PLAIN = """
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 16; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "hello from nginx\\n"; }}
    }}
}}
"""


def start_nginx(procs, nginx, certs_dir, d, conf=NGINX_CONF):
    """nginx (master + 1 worker: master_process off crashes nginx 1.22 on inherited sockets)
    on a port-0 socket it inherits (NGINX="fd;"); conf: NGINX_CONF (HTTPS) or NGINX_PLAIN.
    (process, port)."""
    os.chmod(d, 0o755)   # nginx's workers run as nobody when we are root
    ls = _listener()
    port, fd = ls.getsockname()[1], ls.fileno()
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf.format(d=d, port=port, certs=certs_dir))
    errlog = os.path.join(d, "error.log")
    env = dict(os.environ, NGINX="%d;" % fd)
    env.pop("SSLKEYLOGFILE", None)
    p = procs.popen([nginx, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", errlog],
                    env=env, pass_fds=[fd], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    ls.close()
    _wait_file(errlog, "start worker process", p)
    return p, port


def start_gnutls_serv(procs, gnutls_serv, certs_dir, port=4433):
    """gnutls-serv --http in a network namespace of its own (it binds every address and has
    no option to bind one; in a namespace of its own nothing else can reach it, and any port is
    free). Needs root. Returns (process, port, prefix): prefix runs a command in that
    namespace (nsenter)."""
    p = procs.popen(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                     gnutls_serv, "--http", "-p", str(port),
                     "--x509certfile=" + os.path.join(certs_dir, "server.crt"),
                     "--x509keyfile=" + os.path.join(certs_dir, "server.key")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    ready = threading.Event()

    def read():
        for raw in iter(p.stdout.readline, b""):
            seen.append(raw.decode("utf-8", "replace"))
            if "listening on IPv4" in seen[-1]:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(10):
        stop_pid(p)
        raise AssertionError("gnutls-serv did not listen: %s" % "".join(seen))
    return p, port, ["nsenter", "--net=/proc/%d/ns/net" % p.pid]


class PythonHTTPS:
    """Python's ssl module as a server (http.server over an SSLContext, HTTP/1.0: it answers
    and closes with close(), no close_notify), on 127.0.0.1 port 0, in a thread of the test.
    with PythonHTTPS(certs_dir) as port: ..."""

    def __init__(self, certs_dir):
        import http.server
        import ssl

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"hello from python ssl\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs_dir, "server.crt"),
                            os.path.join(certs_dir, "server.key"))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.th = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                   daemon=True)

    def __enter__(self):
        self.th.start()
        return self.port

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.th.join(5)
        return False


def python_https_get(port, cafile, unwrap=True, host="localhost", timeout=10.0):
    """Python's ssl module as a client: GET / over TLS, read the response (Content-Length),
    then unwrap() (close_notify, and wait for the server's) unless unwrap=False, and close.
    Returns (status line, seconds the unwrap took or None)."""
    import ssl
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname=host)
    s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
    head, _ = read_raw_response(s)
    took = None
    if unwrap:
        t0 = time.monotonic()
        raw = s.unwrap()
        took = time.monotonic() - t0
        raw.close()
    else:
        s.close()
    return head.split(b"\r\n")[0].decode("latin-1"), took
