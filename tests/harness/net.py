"""harness/net.py -- raw sockets on loopback: HTTP framing read by hand, one-connection peers
that misbehave on purpose (plain and TLS), and a close with RST."""

import os
import re
import socket
import ssl
import struct
import threading
import time

from harness.env import SLOW

# SO_LINGER {on, 0 s}: close() sends RST instead of FIN
LINGER_RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"


def rst_close(s):
    """Close with RST (SO_LINGER {1, 0})."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
    s.close()


def accept_queue_length(ls):
    """How many finished handshakes wait in a listening socket's accept queue: TCP_INFO's
    tcpi_unacked on a listener (a u32 at offset 24 of struct tcp_info)."""
    info = ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("<I", info, 24)[0]


def wait_accept_queue(ls, n, timeout=5.0):
    """Wait until at least n connections sit in ls's accept queue; returns how many do."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        q = accept_queue_length(ls)
        if q >= n or time.monotonic() > deadline:
            return q
        time.sleep(0.002)


def ipv6_usable():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
            return True
        finally:
            s.close()
    except OSError:
        return False


def http_exchange(port, data, host="127.0.0.1", timeout=5.0):
    """Send raw bytes, read until the server closes. Returns (bytes, closed_by_server)."""
    with socket.create_connection((host, port), timeout=timeout * SLOW) as s:
        s.sendall(data)
        return recv_all(s)


def recv_all(s):
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return buf, True
            buf += d
    except socket.timeout:
        return buf, False


class Reader:
    """Buffered reads from a socket, so pipelined responses are not lost between calls."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def fill(self):
        d = self.s.recv(65536)
        self.buf += d
        return bool(d)


def read_raw_response(s):
    """Read exactly one HTTP response (Content-Length framed) from a socket (TLS too) or a
    Reader: (head bytes, body bytes)."""
    r = s if isinstance(s, Reader) else Reader(s)
    while b"\r\n\r\n" not in r.buf:
        if not r.fill():
            raise AssertionError("connection closed inside the response head: %r" % r.buf)
    head, _, rest = r.buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        if not r.fill():
            raise AssertionError("connection closed inside the body: %r" % rest)
        head, _, rest = r.buf.partition(b"\r\n\r\n")
    r.buf = rest[n:]
    if not isinstance(s, Reader) and r.buf:
        raise AssertionError("unexpected bytes after the response: %r" % r.buf[:200])
    return head, rest[:n]


def read_response(s):
    """Read exactly one HTTP response (Content-Length framed) from a socket or a Reader:
    (status, headers, body)."""
    head, body = read_raw_response(s)
    status, headers = parse_head(head)
    return status, headers, body


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    status = int(m.group(1)) if m else None
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def split_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    return status, headers, body, bool(sep)


# ---------------------------------------------------------------- registry


def bio_handshake(o, inc, out, sock):
    """Drive o (an ssl.SSLObject over the MemoryBIOs inc and out) through its handshake over
    sock, sending what it writes and feeding it what arrives. True when the handshake is done,
    False if the peer closed first; a TLS error (an alert sent or received) propagates as
    ssl.SSLError, with o's alert, if any, still in out."""
    while True:
        try:
            o.do_handshake()
            return True
        except ssl.SSLWantReadError:
            d = out.read()
            if d:
                sock.sendall(d)
            d = sock.recv(65536)
            if not d:
                return False
            inc.write(d)


def one_shot_peer(behaviour, timeout=10.0):
    """A one-connection server on 127.0.0.1 that runs behaviour(conn) after accept() (an
    OSError in it ends the connection quietly). Returns (listening socket, thread)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(timeout * SLOW)

    def run():
        try:
            c, _ = ls.accept()
        except OSError:
            return
        with c:
            c.settimeout(timeout * SLOW)
            try:
                behaviour(c)
            except OSError:
                pass
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return ls, th


def read_request_head(c):
    """Read from c up to the end of a request head (or EOF); returns what was read."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    return buf


def one_shot_http(response, close=True):
    """A one-connection plain HTTP server that sends `response` after the request head."""
    def beh(c):
        if b"\r\n\r\n" not in read_request_head(c):
            return
        c.sendall(response)
        if not close:
            c.recv(4096)        # wait for the client to close
    return one_shot_peer(beh)


class TLSPeer:
    """A one-connection TLS server in a thread (Python's ssl module) with a scripted
    behaviour, for the close cases that real servers produce."""

    def __init__(self, certs_dir, behaviour, max_version=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(certs_dir, "server.crt"),
                                 os.path.join(certs_dir, "server.key"))
        if max_version:
            self.ctx.maximum_version = max_version
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(4)
        self.ls.settimeout(10 * SLOW)
        self.port = self.ls.getsockname()[1]
        self.behaviour = behaviour
        self.error = None
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        try:
            raw, _ = self.ls.accept()
            raw.settimeout(10 * SLOW)
            c = self.ctx.wrap_socket(raw, server_side=True)     # takes over raw's fd
            with c:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        break
                    buf += d
                self.behaviour(c)
        except Exception as x:      # reported by the test if it matters
            self.error = x

    def close(self):
        self.ls.close()
        self.th.join(10 * SLOW)

