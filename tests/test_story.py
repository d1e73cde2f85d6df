"""test_story.py -- the story checker (harness/story.py) on our side of real exchanges: our
client against openssl s_server -www, gnutls-serv, lighttpd, nginx and Python's ssl; curl,
openssl s_client, gnutls-cli and Python's ssl against our server.

Only our side logs, so these are the one-side invariants (story.check_side): the phases in
order, nothing after `closed` but the close watch, the kernel's states never going back, who
sent the first FIN and who holds TIME_WAIT as the kernel and the capture showed them, no
sentence naming an alert that was not there. Each peer closes in its own way (s_server -www
keeps its FIN until we close, lighttpd waits for our close_notify, nginx answers it with a bare
FIN, Python's http.server closes without close_notify, gnutls-cli and Python's unwrap() wait for
ours), and the FINs race on loopback, so each peer gets several runs; as root, some with
--capture, which adds the capture's checks (first FIN, a send stamped before its segment left).
"""

import shutil

import pytest

from harness import story
from harness.env import CLIENT, SLOW
from harness.log import events, first
from harness.peers import (PythonHTTPS, python_https_get, start_gnutls_serv, start_lighttpd,
                           start_nginx, start_s_server)
from harness.procs import run_cmd, stop_pid
from harness.tcp import is_root


def capture_args():
    return ["--capture"] if is_root() else []


def our_client(t, client, what, url, certs, runs, capture_runs=1, extra=(), body=None,
               prefix=None):
    """`runs` runs of our client (the last capture_runs of them with --capture, as root):
    each exits 0, gets the body, and logs its connection up to `closed`. prefix: run it
    through that command (a network namespace)."""
    for i in range(runs):
        args = (capture_args() if i >= runs - capture_runs else []) + list(extra) + \
            ["--cacert", certs.ca, url]
        if prefix:
            r = run_cmd(t, list(prefix) + [CLIENT, "--log-format", "json"] + args,
                        name="client", san=True)
            t.log_run("client", "client", r.ev)
        else:
            r = client(*args)
        tag = "%s, run %d%s" % (what, i + 1, " (--capture)" if "--capture" in args else "")
        t.eq("%s: exit" % tag, r.rc, 0)
        if body:
            t.contains("%s: body" % tag, r.text, body)
        conns = story.split_conns(r.ev)
        t.check("%s: one connection, logged up to `closed`" % tag,
                len(conns) == 1 and all(first(c, "closed") for c in conns.values()),
                "one connection with closed", sorted(conns))
    story.check_now(t, "our client vs %s" % what)


def our_server_conns(t, what, srv, n):
    """The server logged n connections, each up to `closed`; then its story is checked."""
    srv.wait_count("closed", n, timeout=5)
    conns = story.split_conns(srv.evs)
    t.eq("%s: connections the server logged" % what, len(conns), n)
    t.check("%s: each logged up to `closed`" % what,
            all(first(c, "closed") for c in conns.values()), "closed in each",
            [k for k, c in conns.items() if not first(c, "closed")])


# ---------------------------------------------------------------- our client, real servers

def test_story_client_vs_s_server(t, client, certs, procs, openssl):
    """openssl s_server -www: it sends close_notify after the page and keeps its FIN until we
    close; whether its FIN or ours goes first varies, and the story must say which the
    kernel showed (issue 11: "the server closed its side ... 1st wave: our FIN")."""
    p, port = start_s_server(procs, openssl, certs.dir)
    try:
        our_client(t, client, "openssl s_server -www", "https://localhost:%d/" % port, certs,
                   runs=8, capture_runs=2, body="Ciphers")
        our_client(t, client, "openssl s_server -www, TLS 1.2", "https://localhost:%d/" % port,
                   certs, runs=2, extra=["--tls-max", "1.2"], body="Ciphers")
    finally:
        stop_pid(p)


def test_story_client_vs_gnutls_serv(t, client, certs, procs, gnutls_serv):
    """gnutls-serv --http (in a network namespace of its own: it cannot bind one address)."""
    if not is_root():
        pytest.skip("gnutls-serv runs in a network namespace of its own: needs root")
    missing = [b for b in ("unshare", "nsenter", "ip") if not shutil.which(b)]
    if missing:
        pytest.skip("gnutls-serv's network namespace needs %s" % ", ".join(missing))
    p, port, prefix = start_gnutls_serv(procs, gnutls_serv, certs.dir)
    try:
        our_client(t, client, "gnutls-serv --http", "https://localhost:%d/" % port, certs,
                   runs=4, body="GnuTLS", prefix=prefix)
    finally:
        stop_pid(p)


def test_story_client_vs_lighttpd(t, client, certs, procs, tmp_path, lighttpd):
    """lighttpd waits for our close_notify before its FIN; with --close-first server we ask it
    to close first (issue 11: 205 ms there against curl's 3.7)."""
    p, port = start_lighttpd(procs, lighttpd, certs.dir, str(tmp_path))
    try:
        url = "https://localhost:%d/" % port
        our_client(t, client, "lighttpd", url, certs, runs=4, body="hello from lighttpd")
        our_client(t, client, "lighttpd, --close-first server", url, certs, runs=2,
                   extra=["--close-first", "server"], body="hello from lighttpd")
    finally:
        stop_pid(p, 10)


def test_story_client_vs_nginx(t, client, certs, procs, tmp_path, nginx):
    """nginx answers our close_notify with a bare FIN; the two FINs race (TLS 1.3 and 1.2)."""
    p, port = start_nginx(procs, nginx, certs.dir, str(tmp_path))
    try:
        url = "https://localhost:%d/" % port
        our_client(t, client, "nginx", url, certs, runs=5, body="hello from nginx")
        our_client(t, client, "nginx, TLS 1.2", url, certs, runs=2, extra=["--tls-max", "1.2"],
                   body="hello from nginx")
    finally:
        stop_pid(p, 10)


def test_story_client_vs_python_ssl(t, client, certs):
    """Python's http.server over ssl: HTTP/1.0, it answers and close()s without close_notify."""
    with PythonHTTPS(certs.dir) as port:
        our_client(t, client, "python ssl (http.server)", "https://localhost:%d/" % port, certs,
                   runs=4, body="hello from python ssl")


# ---------------------------------------------------------------- real clients, our server

def test_story_curl_vs_server(t, server, run, certs, curl):
    """curl, HTTPS and HTTP, then HTTPS with the server capturing (as root)."""
    for extra in ([], capture_args()) if is_root() else ([],):
        with server(*extra, selfsigned=None) as srv:
            urls = [["--cacert", certs.ca, "https://localhost:%d/" % srv.port("https")]] * 2
            if not extra:
                urls.append(["http://127.0.0.1:%d/" % srv.port("http")])
            for args in urls:
                r = run([curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                         "--max-time", str(int(10 * SLOW))] + args)
                t.eq("curl %s: status" % args[-1], (r.rc, r.text), (0, "200"))
            our_server_conns(t, "curl%s" % (" (--capture)" if extra else ""), srv, len(urls))
        story.check_now(t, "curl vs our server%s" % (" (--capture)" if extra else ""))


def test_story_s_client_vs_server(t, server, run, certs, openssl):
    """openssl s_client with Connection: close (the server closes after the response; s_client
    reads to the end, -ign_eof), TLS 1.3 and 1.2."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        for i, extra in enumerate(([], [], ["-tls1_2"])):
            r = run([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                     "localhost", "-CAfile", certs.ca, "-verify_return_error", "-ign_eof"] + extra,
                    stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            t.eq("s_client %d: exit" % (i + 1), r.rc, 0)
            t.contains("s_client %d: 200 OK" % (i + 1), r.text, "200 OK")
        our_server_conns(t, "s_client", srv, 3)
    story.check_now(t, "openssl s_client vs our server")


def test_story_gnutls_cli_vs_server(t, server, run, certs, gnutls_cli):
    """gnutls-cli sends close_notify at the end of its input and waits for ours (issue 11:
    250 ms, as our server held its answer)."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        for i in range(3):
            r = run([gnutls_cli, "--x509cafile=" + certs.ca, "-p", str(port), "localhost"],
                    stdin=b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            t.eq("gnutls-cli %d: exit" % (i + 1), r.rc, 0)
            t.contains("gnutls-cli %d: 200 OK" % (i + 1), r.text, "200 OK")
        our_server_conns(t, "gnutls-cli", srv, 3)
    story.check_now(t, "gnutls-cli vs our server")


def test_story_python_ssl_vs_server(t, server, certs):
    """Python's ssl: GET, then unwrap() (close_notify, waiting for ours) twice; once a plain
    close() without close_notify."""
    with server(http=None, selfsigned=None) as srv:
        port = srv.port("https")
        for i, unwrap in enumerate((True, True, False)):
            status, _ = python_https_get(port, certs.ca, unwrap=unwrap)
            t.eq("python ssl %d: status" % (i + 1), status, "HTTP/1.1 200 OK")
        our_server_conns(t, "python ssl", srv, 3)
    story.check_now(t, "python ssl vs our server")


def test_story_checked_every_run(t, server, client, certs):
    """The fixtures hand every run's log to the checker: a test that runs the server and the
    client twice has both clients paired with the server's two connections."""
    with server(selfsigned=None) as srv:
        for _ in range(2):
            client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        srv.wait_count("closed", 2)
    sides = [(side, len(story.split_conns(src.evs if hasattr(src, "evs") else src)))
             for side, _, src in t.logs]
    t.eq("logs collected by the fixtures", sorted(sides),
         [("client", 1), ("client", 1), ("server", 2)])
    clients = [(n, s) for side, n, s in t.logs if side == "client"]
    servers = [(n, s.evs) for side, n, s in t.logs if side == "server"]
    pairs = list(story.pair_conns(clients, servers))
    t.eq("client connections paired with the server's", len(pairs), 2)
    t.check("no TLS message of the pairs is missing on the other side",
            all(len(events(cc, "message")) == len(events(sc, "message")) for _, cc, _, sc in pairs),
            "same counts", [(len(events(cc, "message")), len(events(sc, "message")))
                            for _, cc, _, sc in pairs])
