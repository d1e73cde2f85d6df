"""Issue 13, item 5 (part A): curl's everyday flags on our client (-i, -I, -H, -d,
--data-binary, -0, -w, -s, -S, -m, -V) and the server's answer to POST. Each flag runs against
our server and a real one (nginx, lighttpd), and curl runs the same flag on the same URL: the
output and the exit code must be curl's.
"""

import os
import re
import socket
import ssl
import tempfile
import threading
import time

from harness.env import CLIENT, SERVER, SLOW
from harness.log import events, first
from harness.net import http_exchange, read_request_head, split_response
from harness.peers import start_lighttpd, start_nginx
from harness.procs import run_cmd
from harness.tcp import is_root

FORM = "user=alice&password=secret"


def ours(t, args, stdin=None, json_log=False, timeout=20.0):
    """Our client with args (no event log unless json_log: then JSON on stderr)."""
    cmd = [CLIENT] + (["--log-format", "json"] if json_log else []) + list(args)
    return run_cmd(t, cmd, stdin=stdin, timeout=timeout, name="client", san=True)


def theirs(t, curl, args, stdin=None, timeout=20.0):
    """curl with args, held to HTTP/1.1 as our client (ALPN would give it HTTP/2 with
    lighttpd); a later -0 still wins."""
    return run_cmd(t, [curl, "--http1.1"] + list(args), stdin=stdin, timeout=timeout,
                   name="curl")


def head_of(out):
    """(status line, [header names, lowercase, in order], body) of -i output: the last head
    (1xx heads before it skipped)."""
    rest = out
    while True:
        head, sep, body = rest.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not re.match(r"HTTP/1\.[01] 1\d\d", lines[0]) or not sep:
            break
        rest = body
    return lines[0], [l.partition(":")[0].strip().lower() for l in lines[1:]], body


class Targets:
    """Our server (HTTP and HTTPS) and the real servers present (nginx, lighttpd: HTTPS), as
    (name, url, extra client args)."""

    def __init__(self, srv, certs, procs, tmp_path, nginx=None, lighttpd=None):
        self.list = [("ours http", "http://127.0.0.1:%d/" % srv.port("http"), []),
                     ("ours https", "https://localhost:%d/" % srv.port("https"),
                      ["--cacert", certs.ca])]
        if nginx:
            d = tempfile.mkdtemp(prefix="nginx-", dir=tmp_path)
            _, port = start_nginx(procs, nginx, certs.dir, d)
            self.list.append(("nginx https", "https://localhost:%d/" % port,
                              ["--cacert", certs.ca]))
        if lighttpd:
            d = tempfile.mkdtemp(prefix="lighttpd-", dir=tmp_path)
            _, port = start_lighttpd(procs, lighttpd, certs.dir, d)
            self.list.append(("lighttpd https", "https://localhost:%d/" % port,
                              ["--cacert", certs.ca]))

    def real(self):
        return [x for x in self.list if not x[0].startswith("ours")]


def test_curlflags_include_and_head(t, server, certs, procs, tmp_path, curl, nginx, lighttpd):
    """-i writes the response head (status line, header lines as received) before the body,
    -I sends HEAD and writes only the head, as curl: the same status line and header names
    in the same order, the same body (a real server's page is the same for both), exit 0;
    without -i only the body (the head did not leak into it)."""
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx, lighttpd)
        t.check("a real server to compare with", tg.real(), "nginx or lighttpd", tg.list)
        for name, url, extra in tg.list:
            for flag in ("-i", "-I"):
                a = ours(t, ["-s", flag] + extra + [url])
                b = theirs(t, curl, ["-s", flag] + extra + [url])
                w = "%s %s" % (name, flag)
                t.eq("%s: exit as curl's" % w, a.rc, b.rc)
                t.eq("%s: exit 0" % w, a.rc, 0)
                sa, ha, ba = head_of(a.out)
                sb, hb, bb = head_of(b.out)
                t.eq("%s: status line as curl's" % w, sa, sb)
                t.eq("%s: header names as curl's, in order" % w, ha, hb)
                t.check("%s: a real head (Content-Length or Transfer-Encoding)" % w,
                        "content-length" in ha or "transfer-encoding" in ha, "framing", ha)
                if flag == "-I":
                    t.eq("%s: nothing after the head" % w, ba, b"")
                elif not name.startswith("ours"):
                    t.eq("%s: the same body as curl's" % w, ba, bb)
                else:
                    t.check("%s: the page after the head" % w, b"your connection" in ba,
                            "the page", ba[:80])
            a = ours(t, ["-s"] + extra + [url])
            t.check("%s without -i: the body alone" % name,
                    not a.out.startswith(b"HTTP/1."), "no head", a.out[:40])


def grab_requests(n):
    """A plain HTTP peer that takes n connections one after the other and keeps each request
    as it came (head and the body its Content-Length announces). (port, list, thread)."""
    got = []
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(10 * SLOW)

    def run():
        for _ in range(n):
            try:
                c, _ = ls.accept()
            except OSError:
                return
            with c:
                c.settimeout(5 * SLOW)
                try:
                    data = read_request_head(c)
                    head, _, body = data.partition(b"\r\n\r\n")
                    m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
                    want = int(m.group(1)) if m else 0
                    while len(body) < want:
                        d = c.recv(65536)
                        if not d:
                            break
                        body += d
                    got.append((head, body))
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close"
                              b"\r\n\r\nok\n")
                except OSError:
                    got.append((b"", b""))
        ls.close()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return ls.getsockname()[1], got, th


def request_lines(head, port):
    """The head's lines, our User-Agent and curl's made the same, the port left out."""
    out = []
    for l in head.decode("latin-1").split("\r\n"):
        l = re.sub(r"^User-Agent: (curl/[\d.]+|handshake-lab)$", "User-Agent: <ua>", l)
        out.append(l.replace(":%d" % port, ":<port>"))
    return out


CASES = [
    ("-H adds a header", ["-H", "X-Lab: 1"]),
    ("-H replaces Accept", ["-H", "Accept: text/plain"]),
    ("-H 'Accept:' removes it", ["-H", "Accept:"]),
    ("-H 'X-Empty;' sends it empty", ["-H", "X-Empty;"]),
    ("-H replaces Host in its place", ["-H", "Host: example.test"]),
    ("-H replaces User-Agent", ["-H", "User-Agent: lab/1"]),
    ("-H without ':' is not sent", ["-H", "nocolon"]),
    ("-0", ["-0"]),
    ("-d", ["-d", FORM]),
    ("-d twice joined with &", ["-d", "a=1", "-d", "b=2"]),
    ("-d with -H Content-Type", ["-d", "{}", "-H", "Content-Type: application/json"]),
    ("-d with -H X-Lab", ["-d", "a=1", "-H", "X-Lab: 1"]),
    ("-I", ["-I"]),
]


def test_curlflags_request_bytes(t, curl, tmp_path):
    """-H, -0, -d, --data-binary, -I: the request our client sends is curl's, line for line
    (User-Agent aside), and the body byte for byte: -d @FILE without its CR and LF,
    --data-binary @FILE with them, an unreadable @FILE an empty POST with a warning (exit 0
    both)."""
    f = tmp_path / "form.txt"
    f.write_bytes(b"user=alice\r\n&password=secret\n")
    cases = CASES + [("-d @file", ["-d", "@" + str(f)]),
                     ("--data-binary @file", ["--data-binary", "@" + str(f)]),
                     ("-d @missing", ["-d", "@" + str(tmp_path / "missing")])]
    for what, args in cases:
        port, got, th = grab_requests(2)
        url = "http://127.0.0.1:%d/form?x=1" % port
        a = ours(t, ["-s", "-o", os.devnull] + args + [url])
        b = theirs(t, curl, ["-s", "-o", os.devnull] + args + [url])
        th.join(10 * SLOW)
        t.eq("%s: exit as curl's" % what, a.rc, b.rc)
        if len(got) != 2:
            t.check("%s: both requests arrived" % what, False, 2, got)
            continue
        (ha, ba), (hb, bb) = got
        t.eq("%s: request head as curl's" % what, request_lines(ha, port),
             request_lines(hb, port))
        t.eq("%s: request body as curl's" % what, ba, bb)
        if what == "--data-binary @file":
            t.eq("--data-binary @file: CR and LF kept", ba, f.read_bytes())
        if what == "-d @file":
            t.eq("-d @file: CR and LF dropped", ba, b"user=alice&password=secret")
        if what == "-d @missing":
            t.eq("-d @missing -s: no warning, as curl -s", (a.err, b.err), ("", ""))
    port, got, th = grab_requests(1)
    a = ours(t, ["-d", "@" + str(tmp_path / "missing"), "-o", os.devnull,
                 "http://127.0.0.1:%d/" % port])
    th.join(10 * SLOW)
    t.eq("-d @missing: exit 0 (an empty POST), as curl", a.rc, 0)
    t.contains("-d @missing without -s: a warning", a.err, "cannot read data from")
    t.eq("-d @missing: the empty POST", got[0][1] if got else None, b"")


def test_curlflags_header_servers(t, server, certs, procs, tmp_path, curl, nginx, lighttpd):
    """-H against our server, nginx and lighttpd, as curl: 'Accept: text/plain' makes our
    server answer its plain-text page (the same Content-Type as curl gets), a header added or
    one of ours removed changes nothing for the real servers: the same status line, header
    names and exit code as curl's."""
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx, lighttpd)
        for name, url, extra in tg.list:
            for h in ("Accept: text/plain", "X-Lab: 1", "User-Agent:"):
                a = ours(t, ["-s", "-i", "-H", h] + extra + [url])
                b = theirs(t, curl, ["-s", "-i", "-H", h] + extra + [url])
                w = "%s -H '%s'" % (name, h)
                t.eq("%s: exit as curl's" % w, a.rc, b.rc)
                t.eq("%s: status line and header names as curl's" % w, head_of(a.out)[:2],
                     head_of(b.out)[:2])
                ct = re.search(rb"\r\nContent-Type: ([^\r]*)", a.out, re.I)
                ctb = re.search(rb"\r\nContent-Type: ([^\r]*)", b.out, re.I)
                t.eq("%s: Content-Type as curl's" % w, ct and ct.group(1), ctb and ctb.group(1))
                if name.startswith("ours") and h.startswith("Accept"):
                    t.check("%s: our plain-text page" % w, ct and b"text/plain" in ct.group(1),
                            "text/plain", ct and ct.group(1))


def test_curlflags_usage_as_curl(t, curl):
    """-d with -I: both refuse (one method only), curl's exit 2."""
    a = ours(t, ["-I", "-d", "a=1", "http://127.0.0.1:9/"])
    b = theirs(t, curl, ["-s", "-I", "-d", "a=1", "http://127.0.0.1:9/"])
    t.eq("-I -d: exit as curl's", a.rc, b.rc)
    t.eq("-I -d: exit 2", a.rc, 2)
    t.contains("-I -d: says why", a.err, "one HTTP request method")


def test_curlflags_post(t, server, certs, procs, tmp_path, curl, nginx, lighttpd):
    """-d against our server (HTTP, HTTPS), nginx and lighttpd: a POST, the same output and
    exit code as curl's (200 from ours and nginx; lighttpd's static file refuses it as it
    refuses curl's); our server says how many bytes it got (Content-Length and chunked), logs them
    (response.request_body) and keeps nothing; a method it does not serve gets 405 with
    Allow: GET, HEAD, POST."""
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx, lighttpd)
        for name, url, extra in tg.list:
            a = ours(t, ["-d", FORM] + extra + [url], json_log=True)
            b = theirs(t, curl, ["-s", "-d", FORM] + extra + [url])
            t.eq("%s -d: exit as curl's" % name, a.rc, b.rc)
            t.eq("%s -d: exit 0" % name, a.rc, 0)
            t.eq("%s -d: output as curl's" % name, a.out, b.out)
            ai = ours(t, ["-s", "-i", "-d", FORM] + extra + [url])
            bi = theirs(t, curl, ["-s", "-i", "-d", FORM] + extra + [url])
            t.eq("%s -d -i: status line as curl's" % name, head_of(ai.out)[0],
                 head_of(bi.out)[0])
            if not name.startswith("lighttpd"):
                t.eq("%s -d -i: 200" % name, head_of(ai.out)[0].split(" ")[1:2], ["200"])
            req = first(a.ev, "request") or {}
            t.eq("%s -d: the client logs a POST with its body's length" % name,
                 (req.get("method"), req.get("body_len")), ("POST", len(FORM)))
            if name.startswith("ours"):
                t.contains("%s -d: the server counted the body" % name, a.text,
                           "%d bytes of request body" % len(FORM))
                s = srv.conn_events(a.local())
                resp = events(s, "response")
                t.eq("%s -d: the server logs request_body" % name,
                     [e.get("request_body") for e in resp], [len(FORM)])
                t.contains("%s -d: stores nothing" % name, a.text, "stores nothing")
        port = srv.port("http")
        data, _ = http_exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                b"\r\nConnection: close\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
        st, h, body, _ = split_response(data)
        t.eq("chunked POST: 200", st, 200)
        t.contains("chunked POST: 8 bytes counted", body.decode(), "8 bytes of request body")
        data, _ = http_exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                                b"x" * 3000 + b"\r\nContent-Length: 2\r\nConnection: close"
                                b"\r\n\r\nhi")
        st, h, body, _ = split_response(data)
        t.eq("POST with a 3000-byte Content-Type: 200", st, 200)
        t.contains("POST with a 3000-byte Content-Type: still counted", body.decode(),
                   "2 bytes of request body")
        data, _ = http_exchange(port, b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                b"Connection: close\r\n\r\nhi")
        st, h, body, _ = split_response(data)
        t.eq("PUT: 405", st, 405)
        t.eq("PUT: Allow", h.get("allow"), "GET, HEAD, POST")


def test_curlflags_post_on_the_wire(t, server, certs):
    """The "password on the wire" demo: -d over http:// with --wire shows the form's bytes in
    the preview of the client's segment (the body goes in a segment of its own); over
    https:// no segment's preview holds them, only TLS records."""
    if not is_root():
        t.skip("--wire captures with libpcap: needs root (CAP_NET_RAW)")
    with server(selfsigned=None) as srv:
        r = ours(t, ["--wire", "-d", FORM, "http://127.0.0.1:%d/" % srv.port("http")],
                 json_log=True)
        t.eq("http --wire -d: exit 0", r.rc, 0)
        out = [e for e in events(r.ev, "segment") if e.get("dir") == "out" and e.get("len")]
        t.check("http: the form is readable on the wire",
                any(e.get("wire_preview") == FORM for e in out), FORM,
                [e.get("wire_preview") for e in out])
        r = ours(t, ["--wire", "--cacert", certs.ca, "-d", FORM,
                     "https://localhost:%d/" % srv.port("https")], json_log=True)
        t.eq("https --wire -d: exit 0", r.rc, 0)
        segs = [e for e in events(r.ev, "segment") if e.get("len")]
        t.check("https: segments with data were captured", segs, "segments", len(segs))
        t.check("https: no preview shows the password",
                not any("password" in (e.get("wire_preview") or "") for e in segs),
                "ciphertext only", [e.get("wire_preview") for e in segs if e.get("wire_preview")])
        t.check("https: TLS records only", all(e.get("wire") in ("tls", "tls_lost") for e in segs),
                "tls", sorted(set(str(e.get("wire")) for e in segs)))


def test_curlflags_http10(t, server, certs, procs, tmp_path, curl, nginx):
    """-0 against our server and nginx: an HTTP/1.0 request (our server logs it so), the same
    status line and header names as curl's."""
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx)
        for name, url, extra in tg.list:
            a = ours(t, ["-0", "-i"] + extra + [url], json_log=True)
            b = theirs(t, curl, ["-s", "-0", "-i"] + extra + [url])
            t.eq("%s -0: exit as curl's" % name, a.rc, b.rc)
            sa, ha, _ = head_of(a.out)
            sb, hb, _ = head_of(b.out)
            t.eq("%s -0: status line as curl's" % name, sa, sb)
            t.eq("%s -0: header names as curl's" % name, ha, hb)
            if name.startswith("ours"):
                s = srv.conn_events(a.local())
                t.eq("%s -0: the server read HTTP/1.0" % name,
                     (first(s, "request") or {}).get("version"), "HTTP/1.0")


W = ("%{http_code}|%{time_connect}|%{time_appconnect}|%{time_starttransfer}|%{time_total}|"
     "%{size_download}|%{remote_ip}|%{remote_port}|%{ssl_verify_result}|%{num_connects}|"
     "%{url_effective}\\n")


def wfields(out):
    line = out.decode("utf-8", "replace").splitlines()[-1] if out else ""
    return line.split("|")


def test_curlflags_write_out(t, server, certs, procs, tmp_path, curl, nginx, lighttpd):
    """-w with every variable we take, against our server, nginx and lighttpd: http_code,
    size_download (for a real server), remote_ip, remote_port, ssl_verify_result,
    num_connects, url_effective as curl's; the times in seconds with 6 decimals, in order
    (connect <= appconnect <= starttransfer <= total, appconnect 0 over http); a refused
    connection: 000 and exit 7 both; the self-signed port with -k: the same
    ssl_verify_result as curl (18); an unknown variable said on stderr, as curl."""
    with server() as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx, lighttpd)
        for name, url, extra in tg.list:
            a = ours(t, ["-s", "-o", os.devnull, "-w", W] + extra + [url])
            b = theirs(t, curl, ["-s", "-o", os.devnull, "-w", W] + extra + [url])
            fa, fb = wfields(a.out), wfields(b.out)
            t.eq("%s -w: exit as curl's" % name, a.rc, b.rc)
            t.eq("%s -w: 11 fields" % name, len(fa), 11)
            if len(fa) != 11 or len(fb) != 11:
                continue
            same = [0, 6, 7, 8, 9, 10] + ([5] if not name.startswith("ours") else [])
            t.eq("%s -w: code, ip, port, verify, connects, url (and size) as curl's" % name,
                 [fa[i] for i in same], [fb[i] for i in same])
            times = [float(x) for x in fa[1:5]]
            t.check("%s -w: times with 6 decimals" % name,
                    all(re.fullmatch(r"\d+\.\d{6}", x) for x in fa[1:5]), "0.001234", fa[1:5])
            if url.startswith("https"):
                t.check("%s -w: times in order" % name, times == sorted(times) and times[0] > 0,
                        "connect <= appconnect <= starttransfer <= total", times)
            else:
                t.check("%s -w: appconnect 0 over http, the rest in order" % name,
                        times[1] == 0 and times[0] <= times[2] <= times[3], "0", times)
        # the self-signed port with -k
        url = "https://localhost:%d/" % srv.port("selfsigned")
        a = ours(t, ["-s", "-k", "-o", os.devnull, "-w", "%{ssl_verify_result}", url])
        b = theirs(t, curl, ["-s", "-k", "-o", os.devnull, "-w", "%{ssl_verify_result}", url])
        t.eq("selfsigned -k -w: exit as curl's", a.rc, b.rc)
        t.eq("selfsigned -k -w: ssl_verify_result as curl's", a.out, b.out)
        t.check("selfsigned -k -w: not 0", a.out not in (b"0", b""), "an X509_V_ERR", a.out)
        # an unknown variable and escapes
        url = "http://127.0.0.1:%d/" % srv.port("http")
        a = ours(t, ["-s", "-o", os.devnull, "-w", "a%{nope}b\\t%%\\n", url])
        b = theirs(t, curl, ["-s", "-o", os.devnull, "-w", "a%{nope}b\\t%%\\n", url])
        t.eq("unknown variable, \\t, %%: output as curl's", a.out, b.out)
        t.contains("unknown variable: said on stderr", a.err, "unknown --write-out variable")
    # nobody listening
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/" % port.getsockname()[1]
    a = ours(t, ["-s", "-w", "%{http_code} %{num_connects}", url])
    b = theirs(t, curl, ["-s", "-w", "%{http_code} %{num_connects}", url])
    port.close()
    t.eq("refused -w: exit as curl's (7)", (a.rc, b.rc), (7, 7))
    t.eq("refused -w: output as curl's", a.out, b.out)


def test_curlflags_silent(t, server, certs, procs, tmp_path, curl, nginx):
    """-s: the body on stdout, nothing on stderr (no event log, no error line), as curl -s;
    -sS: one error line on stderr, as curl -sS; the exit codes as curl's (7 refused)."""
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx)
        for name, url, extra in tg.list:
            a = ours(t, ["-s"] + extra + [url])
            b = theirs(t, curl, ["-s"] + extra + [url])
            t.eq("%s -s: exit as curl's" % name, (a.rc, a.err), (b.rc, ""))
            t.check("%s -s: the body" % name, len(a.out) > 0, "> 0 bytes", len(a.out))
            a = ours(t, extra + [url])
            t.check("%s without -s: the event log" % name, a.err.count("\n") > 5,
                    "many lines", a.err[:200])
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/" % ls.getsockname()[1]
    for flags in (["-s"], ["-sS"], ["-s", "-S"]):
        a = ours(t, flags + [url])
        b = theirs(t, curl, flags + [url])
        w = " ".join(flags)
        t.eq("refused %s: exit as curl's" % w, a.rc, b.rc)
        t.eq("refused %s: lines on stderr as curl's" % w, len(a.err.splitlines()),
             len(b.err.splitlines()))
    ls.close()


def test_curlflags_max_time(t, server, certs, procs, tmp_path, curl, nginx):
    """-m: a server that accepts but does not answer in time (our server's --accept-delay
    holds the connection in the accept queue) ends the transfer at -m with curl's exit 28,
    as curl; a fast server (ours, nginx) answers within it: exit 0 both."""
    with server("--accept-delay", "3000", https=None, selfsigned=None) as slow:
        url = "http://127.0.0.1:%d/" % slow.port("http")
        t0 = time.monotonic()
        a = ours(t, ["-s", "-m", "0.5", url])
        took = time.monotonic() - t0
        b = theirs(t, curl, ["-s", "-m", "0.5", url])
        t.eq("-m 0.5 on a stalled server: exit as curl's", a.rc, b.rc)
        t.eq("-m 0.5: exit 28", a.rc, 28)
        t.check("-m 0.5: ends near 0.5 s", took < 2.5 * SLOW, "< 2.5 s", took)
        a = ours(t, ["-sS", "--max-time", "0.5", url])
        t.contains("-m: the error line says --max-time", a.err, "--max-time")
    with server(selfsigned=None) as srv:
        tg = Targets(srv, certs, procs, tmp_path, nginx)
        for name, url, extra in tg.list:
            a = ours(t, ["-s", "-m", "10", "-o", os.devnull] + extra + [url])
            b = theirs(t, curl, ["-s", "-m", "10", "-o", os.devnull] + extra + [url])
            t.eq("%s -m 10: exit as curl's (0)" % name, (a.rc, b.rc), (0, 0))


def test_curlflags_version(t, run, curl):
    """-V / --version on the client and the server: exit 0, the versions of OpenSSL (the one
    loaded: the same as curl's and Python's libssl), libevent and libpcap."""
    b = theirs(t, curl, ["-V"])
    m = re.search(r"OpenSSL/(\S+)", b.text)
    for prog in (CLIENT, SERVER):
        for flag in ("-V", "--version"):
            r = run_cmd(t, [prog, flag], name=os.path.basename(prog), san=True)
            w = "%s %s" % (os.path.basename(prog), flag)
            t.eq("%s: exit 0" % w, r.rc, 0)
            t.contains("%s: OpenSSL in use" % w, r.text, ssl.OPENSSL_VERSION)
            if m:
                t.contains("%s: the OpenSSL curl loads too" % w, r.text, "OpenSSL/" + m.group(1))
            t.check("%s: libevent" % w, re.search(r"libevent/2\.\d+\.\d+", r.text), "libevent/2.x",
                    r.text)
            t.check("%s: libpcap" % w, re.search(r"libpcap version \d+\.\d+", r.text),
                    "libpcap version", r.text)
    h = run_cmd(t, [CLIENT, "--help"], name="client")
    for flag in ("-i, --include", "-H, --header", "-d, --data", "--data-binary", "-0, --http1.0",
                 "-w, --write-out", "-s, --silent", "-S, --show-error", "-m, --max-time",
                 "-V, --version"):
        t.contains("client --help lists %s" % flag, h.text, flag)


def test_curlflags_request_log_as_sent(t, curl):
    """The request event names the Host the request carried, as the peer received it: -H's
    Host (not the URL's), none after -H 'Host:' (curl's way to remove it: the log says none
    went), an empty one after -H 'Host;'; the Connection -H put in its place, and with
    --close-first server and -H 'Connection:' no claim that we asked the server to close.
    curl sends the same head (test_curlflags_request_bytes)."""
    cases = [(["-H", "Host: foo.example"], "foo.example"),
             (["-H", "Host:"], None),
             (["-H", "Host;"], ""),
             ([], "127.0.0.1:<port>")]
    for args, want in cases:
        port, got, th = grab_requests(2)
        url = "http://127.0.0.1:%d/" % port
        a = ours(t, ["-o", os.devnull] + args + [url], json_log=True)
        theirs(t, curl, ["-s", "-o", os.devnull] + args + [url])
        th.join(10 * SLOW)
        w = "-H %s" % (args[1] if args else "(none)")
        if len(got) != 2:
            t.check("%s: both requests arrived" % w, False, 2, got)
            continue
        hosts = [[l.partition(":")[2].strip() for l in request_lines(h, port)
                  if l.lower().startswith("host:")] for h, _ in got]
        t.eq("%s: the peer got the Host curl sends" % w, hosts[0], hosts[1])
        exp = want.replace("<port>", str(port)) if want is not None else None
        t.eq("%s: the peer got it" % w, hosts[0], [want] if want is not None else [])
        req = first(a.ev, "request") or {}
        t.eq("%s: the request event's host is the one sent" % w, req.get("host"), exp)
        t.eq("%s: no_host only when none was sent" % w, req.get("no_host"),
             True if exp is None else None)
        if exp is None:
            t.contains("%s: the detail says no Host went" % w, req.get("detail", ""),
                       "no Host header")
        else:
            t.contains("%s: the detail shows it" % w, req.get("detail", ""),
                       "Host: %s" % exp if exp else "Host: (empty)")
    # the same in the text log (the line a student reads)
    port, got, th = grab_requests(1)
    a = ours(t, ["-o", os.devnull, "-H", "Host: foo.example", "http://127.0.0.1:%d/" % port])
    th.join(10 * SLOW)
    t.contains("text log: Host: foo.example", a.err, "Host: foo.example")
    t.check("text log: not the URL's host", "Host: 127.0.0.1:%d" % port not in a.err,
            "no Host: 127.0.0.1", a.err[-600:])
    # Connection: ours with --close-first server, replaced or removed by -H
    for h, want in (("Connection: keep-alive", "keep-alive"), ("Connection:", None),
                    (None, "close")):
        port, got, th = grab_requests(1)
        args = ["-H", h] if h else []
        a = ours(t, ["-o", os.devnull, "--close-first", "server"] + args +
                 ["http://127.0.0.1:%d/" % port], json_log=True)
        th.join(10 * SLOW)
        w = "--close-first server -H %r" % h
        sent = [l.partition(":")[2].strip() for l in request_lines(got[0][0], port)
                if l.lower().startswith("connection:")] if got else None
        t.eq("%s: the peer got" % w, sent, [want] if want else [])
        req = first(a.ev, "request") or {}
        t.eq("%s: the request event's connection" % w, req.get("connection"), want)
        body = first(a.ev, "body") or {}
        asked = "we asked the server to close first" in body.get("gloss", "")
        t.eq("%s: 'we asked the server to close' only if we did" % w, asked, want == "close")


def test_curlflags_write_out_redirects(t, server, curl):
    """-w with -L against curl on the same URL (/redirect/3): size_download is the last
    response's body alone (curl counts only the last transfer), num_redirects, size_header
    (every head, the redirects' too), http_code, num_connects, remote_ip, remote_port,
    url_effective as curl's; the times in order."""
    fmt = ("%{http_code}|%{size_download}|%{num_redirects}|%{size_header}|%{num_connects}|"
           "%{remote_ip}|%{remote_port}|%{url_effective}|%{time_connect}|"
           "%{time_starttransfer}|%{time_total}")
    def last_length(srv, mark):
        """The length of the last response the server logged since mark: the page shows each
        client its own request, so curl's page and ours differ in size."""
        srv.wait_for(lambda e: e.get("event") == "response" and e.get("status") == 200,
                     after=mark)
        resp = [e for e in srv.evs[mark:] if e.get("event") == "response"]
        return str(resp[-1].get("length")) if resp else None

    with server() as srv:
        for url in ("http://127.0.0.1:%d/redirect/3" % srv.port("http"),
                    "http://127.0.0.1:%d/" % srv.port("http")):
            m = srv.mark()
            a = ours(t, ["-s", "-L", "-o", os.devnull, "-w", fmt, url])
            la, m = last_length(srv, m), srv.mark()
            b = theirs(t, curl, ["-s", "-L", "-o", os.devnull, "-w", fmt, url])
            lb = last_length(srv, m)
            fa, fb = a.out.decode().split("|"), b.out.decode().split("|")
            t.eq("%s -L -w: exit as curl's" % url, a.rc, b.rc)
            t.eq("%s -L -w: code, redirects, header size, connects, ip, port, url as "
                 "curl's" % url, fa[:1] + fa[2:8], fb[:1] + fb[2:8])
            t.eq("%s -L -w: size_download, ours and curl's: the last body the server sent "
                 "each" % url, [fa[1:2], fb[1:2]], [[la], [lb]])
            times = [float(x) for x in fa[8:]] if len(fa) == 11 else []
            t.check("%s -L -w: connect <= starttransfer <= total" % url,
                    times and times == sorted(times), "in order", times)


def test_curlflags_write_out_file(t, server, curl, tmp_path):
    """-w @FILE and -w @- as curl 7.88 (file2string): each line's CR and LF cut (a CR ends its
    line's piece), the lines joined: no blank line after the output."""
    f = tmp_path / "fmt.txt"
    f.write_bytes(b"code=%{http_code}\nnext\\n\r\nx\rdropped\nend\n")
    with server() as srv:
        url = "http://127.0.0.1:%d/" % srv.port("http")
        for what, arg, stdin in (("@file", "@" + str(f), None),
                                 ("@-", "@-", b"%{http_code}\n"),
                                 ("@- CRLF", "@-", b"%{http_code}|\r\n%{num_connects}\r\n")):
            a = ours(t, ["-s", "-o", os.devnull, "-w", arg, url], stdin=stdin)
            b = theirs(t, curl, ["-s", "-o", os.devnull, "-w", arg, url], stdin=stdin)
            t.eq("-w %s: output as curl's" % what, a.out, b.out)
            t.check("-w %s: no line end from the file" % what,
                    a.out != b"" and not a.out.endswith(b"\n"), "no trailing newline", a.out)


def test_curlflags_write_out_untrusted(t, server, curl):
    """The self-signed port without -k (exit 60): the connection was made, so remote_ip,
    remote_port, num_connects and ssl_verify_result (18) are curl's, not empty."""
    fmt = "%{http_code}|%{remote_ip}|%{remote_port}|%{num_connects}|%{ssl_verify_result}"
    with server() as srv:
        url = "https://localhost:%d/" % srv.port("selfsigned")
        a = ours(t, ["-s", "-o", os.devnull, "-w", fmt, url])
        b = theirs(t, curl, ["-s", "-o", os.devnull, "-w", fmt, url])
        t.eq("untrusted -w: exit 60 both", (a.rc, b.rc), (60, 60))
        t.eq("untrusted -w: output as curl's", a.out, b.out)
        t.check("untrusted -w: the address is there", b"|127.0.0.1|%d|" % srv.port("selfsigned")
                in a.out, "127.0.0.1 and the port", a.out)
