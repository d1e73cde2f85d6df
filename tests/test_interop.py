"""Real peers: curl and openssl s_client against our server; our client against
openssl s_server and nginx.
"""

import os
import socket
import subprocess
import tempfile
import time

from harness.env import CHILD_ENV, SLOW
from harness.log import check_close, events, first, summary
from harness.procs import stop_pid
from harness.peers import start_s_server


def test_interop_curl(t, server, run, certs, curl):
    """12a. curl against our server: HTTP and HTTPS with --cacert."""
    with server(selfsigned=None) as srv:
        for what, args, url in (("https", ["--cacert", certs.ca], "https://localhost:%d/" % srv.port("https")),
                                ("http", [], "http://127.0.0.1:%d/" % srv.port("http"))):
            r = run([curl, "-sS", "-o", "-", "-w", "\n%{http_code} %{local_ip} %{local_port}",
                     "--max-time", str(int(10 * SLOW))] + args + [url])
            t.eq("curl %s: exit" % what, r.rc, 0)
            lines = r.text.rstrip("\n").splitlines()
            last = lines[-1].split() if lines else []
            t.eq("curl %s: HTTP status" % what, last[:1], ["200"])
            t.contains("curl %s: body" % what, r.text, "your connection")
            if len(last) == 3:
                s = srv.conn_events("%s:%s" % (last[1], last[2]))
                t.eq("server log of curl's %s connection: response" % what,
                     (first(s, "response") or {}).get("status"), 200)
                if what == "https":
                    hd = first(s, "handshake_done") or {}
                    t.eq("server log of curl's connection: version", hd.get("version"), "TLSv1.3")
                    t.eq("server log of curl's connection: sni", hd.get("sni"), "localhost")


def test_interop_s_client(t, server, run, certs, openssl):
    """12b. openssl s_client against our server."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        r = run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                 "localhost", "-CAfile", certs.ca, "-verify_return_error", "-ign_eof"],
                stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        t.eq("s_client: exit", r.rc, 0)
        t.contains("s_client: Verify return code: 0", r.text, "Verify return code: 0")
        t.contains("s_client: 200 OK", r.text, "200 OK")
        t.contains("s_client: TLSv1.3", r.text, "TLSv1.3")


def test_interop_s_server(t, client, certs, procs, openssl):
    """12c. Our client against openssl s_server -www (TLS 1.3 and 1.2)."""
    p, port = start_s_server(procs, openssl, certs.dir)
    try:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs s_server: exit", r.rc, 0)
        t.contains("client vs s_server: body", r.text, "Ciphers")
        t.eq("handshake_done.version", (first(r.ev, "handshake_done") or {}).get("version"), "TLSv1.3")
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs s_server TLS 1.2: exit", r.rc, 0)
        t.eq("TLS 1.2 handshake_done.version", (first(r.ev, "handshake_done") or {}).get("version"),
             "TLSv1.2")
    finally:
        stop_pid(p)
    p, port = start_s_server(procs, openssl, certs.dir,
                             "-cert", os.path.join(certs.dir, "selfsigned.crt"),
                             "-key", os.path.join(certs.dir, "selfsigned.key"))
    try:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs self-signed s_server: exit", r.rc, 60)
    finally:
        stop_pid(p)


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


def test_interop_nginx(t, client, certs, tmp_path, procs, nginx):
    """12d. Our client against nginx on a port-0 socket it inherits (NGINX="fd;")."""
    d = tempfile.mkdtemp(prefix="nginx-", dir=tmp_path)
    os.chmod(d, 0o755)   # nginx's workers run as nobody when we are root
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    fd = ls.fileno()
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port, certs=certs.dir))
    errlog = os.path.join(d, "error.log")
    # master_process off crashes nginx 1.22 on inherited sockets: run a master + 1 worker
    p = procs.popen([nginx, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", errlog],
                    env=dict(CHILD_ENV, NGINX="%d;" % fd), pass_fds=[fd],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ls.close()          # nginx holds it now
    try:
        deadline = time.monotonic() + 10
        log = ""
        while time.monotonic() < deadline and p.poll() is None:
            log = open(errlog).read() if os.path.exists(errlog) else ""
            if "start worker process" in log:
                break
            time.sleep(0.05)
        if "start worker process" not in log:
            out = p.stdout.read().decode() if p.poll() is not None else ""
            raise AssertionError("nginx did not start: %s %s" % (log, out))
        t.contains("nginx took the inherited socket", log, "using inherited sockets")
        r = client("--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs nginx: exit", r.rc, 0)
        t.contains("client vs nginx: body", r.text, "hello from nginx")
        t.eq("client vs nginx: version", (first(r.ev, "handshake_done") or {}).get("version"), "TLSv1.3")
        # nginx answers our close_notify with a bare FIN (no close_notify of its own)
        t.check("client vs nginx: close_notify out", events(r.ev, "close_notify", dir="out"),
                "present", summary(r.ev))
        # the order of the two FINs varies from run to run: look at several closes
        logs = [r.conn()] + [client("--cacert", certs.ca, "https://localhost:%d/" % port).conn()
                             for _ in range(4)]
        missing = [summary(c) for c in logs if not events(c, "fin_received")]
        t.check("client vs nginx: fin_received logged in each of %d closes" % len(logs),
                not missing, "the peer's FIN every time",
                "missing in %d: %s" % (len(missing), missing[:1]))
        check_close(t, "client vs nginx", logs[0])
        r = client("--tls-max", "1.2", "--cacert", certs.ca, "https://localhost:%d/" % port)
        t.eq("client vs nginx TLS 1.2: exit", r.rc, 0)
        t.eq("client vs nginx TLS 1.2: version", (first(r.ev, "handshake_done") or {}).get("version"),
             "TLSv1.2")
        t.check("client vs nginx TLS 1.2: ServerKeyExchange",
                events(r.ev, "message", type="ServerKeyExchange", dir="in"), "present", summary(r.ev))
    finally:
        rc = stop_pid(p, 10)
    t.check("nginx stopped by pid", rc is not None, "exited", rc)
