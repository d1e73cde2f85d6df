"""curl's connection flags on our client: -L/--location and --max-redirs, --resolve,
--connect-to, -4/-6; and the server's --bind with a host name. Each flag runs against our
server and against nginx, and curl runs the same URL with the same flag: the exit codes
agree (47 too many redirects, 6 cannot resolve, 7 cannot connect, 49 a malformed --resolve),
and so do the bodies where the server sends the same bytes to both.
"""

import os
import socket
import tempfile

import pytest

from harness.env import SLOW
from harness.log import events, first
from harness.net import ipv6_usable
from harness.tcp import is_root
from harness.peers import start_nginx


def curl_run(t, run, curl, *args):
    """curl -sS with a write-out line after the body: (result, body, [fields])."""
    r = run([curl, "-sS", "--max-time", str(int(10 * SLOW)), "-o", "-", "-w",
             "\n@@ %{http_code} %{num_redirects} %{num_connects} %{remote_ip}"] + list(args))
    body, _, tail = r.out.rpartition(b"\n@@ ")
    return r, body, tail.decode().split()


def requests(r):
    return events(r.ev, "request")


def connections(r):
    return sorted({e["conn"] for e in events(r.ev, "connect")})


NGINX_REDIRECTS = """
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
        location = /r303 {{ return 303 /final; }}
        location = /r307 {{ return 307 final; }}
        location = /final {{ default_type text/plain; return 200 "final\\n"; }}
        location = /loop {{ return 302 /loop; }}
        location = /bad {{ return 302 http://lab.test:99999/; }}
        location = /to-ours {{ return 301 http://127.0.0.1:OURS_HTTP/; }}
        location = /to-https {{ return 302 https://localhost:OURS_HTTPS/; }}
        location / {{ default_type text/plain; return 200 "hello from nginx\\n"; }}
    }}
}}
"""


def nginx_redirects(procs, nginx, certs, tmp_path, http_port, https_port):
    d = tempfile.mkdtemp(prefix="nginx-", dir=tmp_path)
    conf = NGINX_REDIRECTS.replace("OURS_HTTPS", str(https_port)).replace(
        "OURS_HTTP", str(http_port))
    return start_nginx(procs, nginx, certs.dir, d, conf=conf)[1]


def test_location_our_server(t, server, client, run, curl):
    """-L against our server's /redirect/N: each hop a new request on the one kept-alive
    connection, as curl (num_connects 1); without -L the 302 and its Location are shown."""
    with server(https=None, selfsigned=None) as srv:
        base = "http://127.0.0.1:%d" % srv.port("http")
        for code in ("", "?code=301", "?code=303", "?code=307", "?code=308"):
            url = base + "/redirect/3" + code
            r = client("-L", url)
            c, cbody, cw = curl_run(t, run, curl, "-L", url)
            t.eq("-L %s: exit, ours and curl's" % url, (r.rc, c.rc), (0, 0))
            t.eq("-L %s: curl followed 3 on 1 connection" % url, cw[:3], ["200", "3", "1"])
            t.eq("-L %s: our requests" % url, [e.get("target") for e in requests(r)],
                 ["/redirect/3" + code, "/redirect/2" + code, "/redirect/1" + code, "/"])
            t.eq("-L %s: which redirect each request follows" % url,
                 [e.get("redirect") for e in requests(r)], [None, 1, 2, 3])
            t.eq("-L %s: one connection, as curl's" % url, len(connections(r)), int(cw[2]))
            t.eq("-L %s: the Locations" % url, [e.get("location") for e in events(r.ev, "response")],
                 ["/redirect/2" + code, "/redirect/1" + code, "/", None])
            t.contains("-L %s: only the last body is written" % url, r.text, "your connection")
            t.check("-L %s: no redirect body written" % url, "redirect 3 of this chain" not in r.text)
            t.contains("-L %s: curl wrote the same page" % url, cbody.decode(), "your connection")
        # without -L: the 302 itself, its body as curl writes it, the Location in the log
        r = client(base + "/redirect/2")
        c, cbody, cw = curl_run(t, run, curl, base + "/redirect/2")
        t.eq("no -L: exit, ours and curl's", (r.rc, c.rc), (0, 0))
        t.eq("no -L: the same body as curl's", r.out, cbody)
        resp = first(r.ev, "response") or {}
        t.eq("no -L: status", resp.get("status"), 302)
        t.eq("no -L: the Location is shown", resp.get("location"), "/redirect/1")
        t.contains("no -L: the gloss says -L would follow it", resp.get("gloss", ""), "-L")
        t.eq("no -L: one request", len(requests(r)), 1)
        # -q formats no event: -L follows all the same
        r = client("-q", "-L", base + "/redirect/2", json_log=False)
        t.eq("-q -L: exit", r.rc, 0)
        t.contains("-q -L: the last page", r.text, "your connection")
        # -I -L: HEAD all along, a 303 too (curl's rule: a 303 turns only other methods to GET)
        r = client("-I", "-L", base + "/redirect/2?code=303")
        c, _, cw = curl_run(t, run, curl, "-I", "-L", base + "/redirect/2?code=303")
        t.eq("-I -L 303: exit, ours and curl's", (r.rc, c.rc), (0, 0))
        t.eq("-I -L 303: HEAD on every hop", [e.get("method") for e in requests(r)], ["HEAD"] * 3)
        t.eq("-I -L 303: curl followed as many", int(cw[1]), 2)
        # the server refuses a malformed chain
        r = client(base + "/redirect/0")
        t.eq("/redirect/0: 400", (first(r.ev, "response") or {}).get("status"), 400)


def test_location_with_data(t, server, client, run, curl):
    """-L -d: a 303 turns the POST into a GET and drops the body; 307 and 308 repeat the POST
    with its body, as curl does (the server's POST page says how many bytes it got)."""
    with server(https=None, selfsigned=None) as srv:
        base = "http://127.0.0.1:%d" % srv.port("http")
        for code, methods, got_body in (("303", ["POST", "GET"], False),
                                        ("307", ["POST", "POST"], True),
                                        ("308", ["POST", "POST"], True)):
            url = base + "/redirect/1?code=" + code
            r = client("-L", "-d", "pw=secret", url)
            c, cbody, cw = curl_run(t, run, curl, "-L", "-d", "pw=secret", url)
            t.eq("-L -d %s: exit, ours and curl's" % code, (r.rc, c.rc), (0, 0))
            t.eq("-L -d %s: the methods" % code, [e.get("method") for e in requests(r)], methods)
            t.eq("-L -d %s: body_len on each request" % code,
                 [e.get("body_len") for e in requests(r)], [9, 9 if got_body else None])
            t.eq("-L -d %s: the final page is the same kind, ours and curl's" % code,
                 b"POST received" in r.out, b"POST received" in cbody)
            t.eq("-L -d %s: the server got the body at the end" % code,
                 b"POST received: 9 bytes" in r.out, got_body)


def test_max_redirs(t, server, client, run, curl):
    """--max-redirs N: one redirect more is exit 47, with nothing written, as curl; curl's
    default limit is 50; -1 lifts it."""
    with server(https=None, selfsigned=None) as srv:
        base = "http://127.0.0.1:%d" % srv.port("http")
        for args, path, rc, hops in ((["--max-redirs", "2"], "/redirect/3", 47, 2),
                                     (["--max-redirs", "3"], "/redirect/3", 0, 3),
                                     (["--max-redirs", "0"], "/redirect/1", 47, 0),
                                     ([], "/redirect/51", 47, 50),
                                     ([], "/redirect/50", 0, 50),
                                     (["--max-redirs", "-1"], "/redirect/60", 0, 60)):
            what = "-L %s %s" % (" ".join(args), path)
            r = client("-L", *args, base + path)
            c, cbody, cw = curl_run(t, run, curl, "-L", *args, base + path)
            t.eq("%s: exit, ours and curl's" % what, (r.rc, c.rc), (rc, rc))
            t.eq("%s: redirects followed, ours and curl's" % what,
                 (len(requests(r)) - 1, int(cw[1]) if len(cw) > 1 else None), (hops, hops))
            if rc == 47:
                t.eq("%s: nothing written, as curl" % what, (r.out, cbody), (b"", b""))
                t.contains("%s: the error" % what, (first(r.ev, "error") or {}).get("detail", ""),
                           "redirects followed")
    r = client("-L", "--max-redirs", "x", "http://127.0.0.1:1/")
    t.eq("--max-redirs x: usage error", r.rc, 2)
    r = client("-L", "-n", "2", "http://127.0.0.1:1/")
    t.eq("-L with -n: usage error", r.rc, 2)


def test_location_nginx(t, server, client, run, curl, nginx, certs, procs, tmp_path):
    """-L against nginx: 303 and 307 (relative Location), a loop (47 after 50), and redirects
    to another port (our server: a new connection) and to https:// (a new TLS connection);
    curl follows the same hops on as many connections, and writes the same body."""
    with server(selfsigned=None) as srv:
        port = nginx_redirects(procs, nginx, certs, tmp_path, srv.port("http"), srv.port("https"))
        base = "http://127.0.0.1:%d" % port
        for path, rc, conns, body in (("/r303", 0, 1, b"final\n"), ("/r307", 0, 1, b"final\n"),
                                      ("/loop", 47, 1, b""), ("/bad", 3, 1, b""),
                                      ("/to-ours", 0, 2, None),
                                      ("/to-https", 0, 2, None)):
            args = ["--cacert", certs.ca, "-L", base + path]
            r = client(*args)
            c, cbody, cw = curl_run(t, run, curl, *args)
            t.eq("nginx %s: exit, ours and curl's" % path, (r.rc, c.rc), (rc, rc))
            t.eq("nginx %s: connections, ours and curl's" % path,
                 (len(connections(r)), int(cw[2]) if len(cw) > 2 else None), (conns, conns))
            if body is not None:
                t.eq("nginx %s: body, ours and curl's" % path, (r.out, cbody), (body, body))
            else:
                t.contains("nginx %s: our server's page" % path, r.text, "your connection")
                t.contains("nginx %s: curl got it too" % path, cbody.decode(), "your connection")
                t.eq("nginx %s: a name lookup per connection" % path,
                     len(events(r.ev, "resolve")), 2)
                last = requests(r)[-1]
                t.eq("nginx %s: the last request is the redirect's, on connection 2" % path,
                     (last.get("redirect"), last.get("conn")), (1, 2))
        r = client("--cacert", certs.ca, "-L", base + "/to-https")
        t.eq("nginx /to-https: the second connection is TLS, trusted",
             [e.get("conn") for e in events(r.ev, "handshake_done")], [2])
        t.eq("nginx /to-https: SNI and Host name localhost", requests(r)[-1].get("host"),
             "localhost:%d" % srv.port("https"))
        if is_root():
            # --capture with -L: the hop to another port is captured too (its SYN, its FIN)
            r = client("--capture", "--cacert", certs.ca, "-L", base + "/to-https")
            segs = events(r.ev, "segment")
            t.eq("-L --capture: segments of both connections",
                 sorted({e.get("conn") for e in segs if e.get("step") == "syn"}), [1, 2])


def test_resolve(t, server, client, run, curl, nginx, certs, procs, tmp_path):
    """--resolve HOST:PORT:ADDR: the address from the command line, the Host header (and
    SNI, the name check) still HOST; -4 with only an IPv6 one: exit 6; malformed: 49."""
    with server(selfsigned=None) as srv:
        hp, sp = srv.port("http"), srv.port("https")
        port = nginx_redirects(procs, nginx, certs, tmp_path, hp, sp)
        for what, args, url in (
                ("ours http", ["--resolve", "lab.test:%d:127.0.0.1" % hp], "http://lab.test:%d/" % hp),
                ("ours https", ["--cacert", certs.ca, "--resolve", "localhost:%d:127.0.0.1" % sp],
                 "https://localhost:%d/" % sp),
                ("nginx", ["--resolve", "lab.test:%d:127.0.0.1" % port], "http://lab.test:%d/" % port)):
            r = client(*(args + [url]))
            c, cbody, cw = curl_run(t, run, curl, *(args + [url]))
            t.eq("--resolve %s: exit, ours and curl's" % what, (r.rc, c.rc), (0, 0))
            res = first(r.ev, "resolve") or {}
            t.eq("--resolve %s: the address given" % what, (res.get("source"), res.get("addresses")),
                 ("--resolve", "127.0.0.1:%d" % int(url.rsplit(":", 1)[1].strip("/"))))
            t.eq("--resolve %s: Host keeps the name" % what, (first(r.ev, "request") or {}).get("host"),
                 url.split("/")[2])
            if what == "nginx":
                t.eq("--resolve nginx: the same body as curl's", r.out, cbody)
        t.check("the server saw Host: lab.test", any(e.get("host") == "lab.test:%d" % hp
                                                    for e in events(srv.evs, "request")))
        r = client("-4", "--resolve", "lab.test:%d:[::1]" % hp, "http://lab.test:%d/" % hp)
        c, _, _ = curl_run(t, run, curl, "-4", "--resolve", "lab.test:%d:[::1]" % hp,
                           "http://lab.test:%d/" % hp)
        t.eq("-4 --resolve to [::1] only: exit 6, ours and curl's", (r.rc, c.rc), (6, 6))
        for bad in ("lab.test", "lab.test:%d:not-an-address" % hp, "lab.test:x:127.0.0.1"):
            r = client("--resolve", bad, "http://lab.test:%d/" % hp)
            c, _, _ = curl_run(t, run, curl, "--resolve", bad, "http://lab.test:%d/" % hp)
            t.eq("--resolve %s: exit 49, ours and curl's" % bad, (r.rc, c.rc), (49, 49))


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_connect_to(t, server, client, run, curl, nginx, certs, procs, tmp_path):
    """--connect-to HOST1:PORT1:HOST2:PORT2: the connection goes elsewhere, the Host header,
    SNI and the certificate's name stay the URL's; to a closed port: exit 7, as curl."""
    with server(selfsigned=None) as srv:
        hp, sp = srv.port("http"), srv.port("https")
        port = nginx_redirects(procs, nginx, certs, tmp_path, hp, sp)
        for what, args, url, host in (
                ("ours http", ["--connect-to", "lab.test:80:127.0.0.1:%d" % hp], "http://lab.test/",
                 "lab.test"),
                ("ours https", ["--cacert", certs.ca, "--connect-to", "::127.0.0.1:%d" % sp],
                 "https://localhost/", "localhost"),
                ("nginx", ["--connect-to", ":80:localhost:%d" % port], "http://lab.test/",
                 "lab.test")):
            r = client(*(args + [url]))
            c, cbody, cw = curl_run(t, run, curl, *(args + [url]))
            t.eq("--connect-to %s: exit, ours and curl's" % what, (r.rc, c.rc), (0, 0))
            res = first(r.ev, "resolve") or {}
            t.check("--connect-to %s: the resolve event names the target" % what,
                    res.get("connect_to", "").endswith(":%d" % int(args[-1].rsplit(":", 1)[1])),
                    "connect_to", res.get("connect_to"))
            t.eq("--connect-to %s: Host keeps the URL's name" % what,
                 (first(r.ev, "request") or {}).get("host"), host)
            if what == "ours https":
                t.eq("--connect-to https: the certificate is checked for localhost",
                     (first(r.ev, "trust_decision") or {}).get("decision"), "trusted")
            if what == "nginx":
                t.eq("--connect-to nginx: the same body as curl's", r.out, cbody)
        cp = closed_port()
        r = client("--connect-to", "::127.0.0.1:%d" % cp, "http://lab.test/")
        c, _, _ = curl_run(t, run, curl, "--connect-to", "::127.0.0.1:%d" % cp, "http://lab.test/")
        t.eq("--connect-to a closed port: exit 7, ours and curl's", (r.rc, c.rc), (7, 7))
        r = client("--connect-to", "nonsense", "http://127.0.0.1:%d/" % hp)
        t.eq("--connect-to malformed: exit 49 (curl 7.88 ignores it)", r.rc, 49)


def test_ipv4_ipv6(t, server, client, run, curl, nginx, certs, procs, tmp_path):
    """-4 / -6: only that family's addresses; a literal of the other family cannot be
    reached: exit 7, as curl."""
    if not ipv6_usable():
        pytest.skip("no ::1 here")
    with server(https=None, selfsigned=None) as srv:
        hp = srv.port("http")
        port = nginx_redirects(procs, nginx, certs, tmp_path, hp, hp)
        both = "lab.test:%d:127.0.0.1,::1" % hp
        for flag, want in (("-4", "127.0.0.1"), ("-6", "::1")):
            args = [flag, "--resolve", both, "http://lab.test:%d/" % hp]
            r = client(*args)
            c, _, cw = curl_run(t, run, curl, *args)
            t.eq("%s ours: exit, ours and curl's" % flag, (r.rc, c.rc), (0, 0))
            t.eq("%s: curl's address" % flag, cw[3:], [want])
            remote = (first(r.ev, "connect") or {}).get("remote", "")
            t.check("%s: our address is %s" % (flag, want), remote.startswith(want) or
                    remote.startswith("[%s]" % want), "remote", remote)
            t.eq("%s: the resolve event's family" % flag, (first(r.ev, "resolve") or {}).get("family"),
                 int(flag[1]))
        for flag, url in (("-6", "http://127.0.0.1:%d/" % hp), ("-4", "http://[::1]:%d/" % hp),
                          ("-6", "http://127.0.0.1:%d/" % port)):
            r = client(flag, url)
            c, _, _ = curl_run(t, run, curl, flag, url)
            t.eq("%s %s: exit 7, ours and curl's" % (flag, url), (r.rc, c.rc), (7, 7))
        r = client("-4", "http://127.0.0.1:%d/" % port)
        c, cbody, _ = curl_run(t, run, curl, "-4", "http://127.0.0.1:%d/" % port)
        t.eq("-4 nginx: exit and body, ours and curl's", (r.rc, r.out), (c.rc, cbody))


def test_server_bind_name(t, server, client, run, curl, build):
    """server --bind localhost: a name, resolved; a resolve event lists its addresses (those
    getaddrinfo gives here) and each gets a listener; curl and our client reach it by name."""
    want = []
    for ai in socket.getaddrinfo("localhost", None, 0, socket.SOCK_STREAM):
        if ai[4][0] not in want:
            want.append(ai[4][0])
    with server(https=None, selfsigned=None, bind="localhost") as srv:
        res = first(srv.evs, "resolve") or {}
        t.eq("--bind localhost: the resolve event", (res.get("host"), res.get("source")),
             ("localhost", "--bind"))
        t.eq("--bind localhost: its addresses, as getaddrinfo gives them",
             res.get("addresses", "").split(", "), want)
        t.eq("--bind localhost: a listener on each",
             sorted(e.get("addr").rsplit(":", 1)[0].strip("[]") for e in events(srv.evs, "listen")),
             sorted(want))
        url = "http://localhost:%d/" % srv.port("http")
        r = client(url)
        c, _, cw = curl_run(t, run, curl, url)
        t.eq("--bind localhost: ours and curl's exit", (r.rc, c.rc), (0, 0))
    with server(https=None, selfsigned=None, bind=["localhost", "127.0.0.1"]) as srv:
        t.eq("--bind localhost --bind 127.0.0.1: one listener per address",
             sorted(e.get("addr").rsplit(":", 1)[0].strip("[]") for e in events(srv.evs, "listen")),
             sorted(want))
    r = run([build.server, "--bind", "a b", "--http-port", "0"])
    t.eq("--bind 'a b': usage error", r.rc, 2)
    t.contains("--bind 'a b': says why", r.err, "nor a host name")
    r = run([build.server, "--bind", "nosuch.invalid", "--http-port", "0", "--https-port", "off",
             "--selfsigned-port", "off"])
    t.check("--bind nosuch.invalid: the server does not start", r.rc not in (0, None), "rc", r.rc)
    t.contains("--bind nosuch.invalid: says so", r.err, "cannot resolve the name")
