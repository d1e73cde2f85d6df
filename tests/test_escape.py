"""Issue 12 item 5: every string a server chooses reaches the terminal escaped. A hostile
server (Python's ssl module in a thread of the test, 127.0.0.1, a kernel-picked port) presents
a certificate whose SAN, subject and issuer carry terminal control sequences (ESC ] 0 ; ... BEL
sets the window title, ESC [ 2 J clears the screen; 0x9b, raw or as UTF-8 U+009B, is CSI on
some terminals), and answers with a header carrying C1 controls. The client's --show-certs,
its certificate warning and its text log must show them as \\xNN, never as the bytes."""

import datetime
import http.server
import os
import socket
import ssl
import threading

import pytest

HOSTILE_SAN = "x\x1b]0;PWNED\x07\x1b[2J\x1b[31mYOUR CERTIFICATE IS TRUSTED"
HOSTILE_CN = "evil\u009b31m\x1b[2Jcn\u202eknab"    # U+202E: what follows shows backwards
# The HTTP parser refuses C0 controls in a status line or header, so the server's way in is
# obs-text: a raw 0x9b and UTF-8 U+009B (http.server sends the reason as latin-1).
HOSTILE_REASON = "OK\x9b2J\xc2\x9b31m"
HOSTILE_HEADER = b"X-Evil: a\x9b2Jb\xc2\x9b31mc\r\n"
# Bytes that must never reach the terminal from the server: ESC, BEL, C1 CSI (as a raw byte,
# which the decoding of stderr turns into U+FFFD, or as UTF-8 U+009B), RIGHT-TO-LEFT OVERRIDE.
RAW = ("\x1b", "\x07", "\u009b", "\ufffd", "\u202e")


def hostile_cert(d):
    """A self-signed certificate with HOSTILE_SAN as a DNS name and HOSTILE_CN as the subject's
    (and so the issuer's) CN; written to d, returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(HOSTILE_SAN), x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, kp = os.path.join(d, "evil.crt"), os.path.join(d, "evil.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt, kp


class HostileHTTPS:
    """http.server over TLS with the hostile certificate (tls=False: plain HTTP); its answer's
    reason phrase carries HOSTILE_REASON and a header HOSTILE_HEADER.
    with HostileHTTPS(d) as port: ..."""

    def __init__(self, d, tls=True):

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"hello\n"
                self.send_response(200, HOSTILE_REASON)
                self._headers_buffer.append(HOSTILE_HEADER)  # bytes, not latin-1 text
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*hostile_cert(d))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.th = threading.Thread(target=self.httpd.serve_forever,
                                   kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.th.start()      # the socket listens already: ready before the client starts
        return self.port

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.th.join(5)
        return False


@pytest.fixture
def hostile(tmp_path):
    pytest.importorskip("cryptography")
    with HostileHTTPS(str(tmp_path)) as port:
        yield port


@pytest.fixture
def hostile_http(tmp_path):
    with HostileHTTPS(str(tmp_path), tls=False) as port:
        yield port


def no_raw(t, what, text):
    for b in RAW:
        t.check("%s: no raw %r from the server" % (what, b), b not in text, "none",
                repr(text[max(0, text.find(b) - 40):text.find(b) + 40]))


def test_show_certs_refused_escapes(t, client, hostile):
    """Refused (exit 60), text log, --show-certs: the chain print and the warning box show
    the SAN, subject and issuer escaped."""
    r = client("--show-certs", "https://localhost:%d/" % hostile, json_log=False)
    t.eq("refused: exit 60", r.rc, 60)
    out = r.out.decode("utf-8", "replace") + r.err
    no_raw(t, "--show-certs, refused", out)
    t.contains("the SAN shown escaped", out, "DNS:x\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mYOUR")
    t.contains("the subject shown escaped", out, "evil\\xc2\\x9b31m")
    t.contains("the bidi override shown escaped", out, "cn\\xe2\\x80\\xaeknab")
    t.contains("the warning box is there", out, "Certificate warning")


def test_show_certs_insecure_escapes(t, client, hostile):
    """-k: the exchange goes on; --show-certs and the text log's response headers show the
    server's C1 controls escaped."""
    r = client("-k", "--show-certs", "-v", "--dissect", "--wire", "https://localhost:%d/" % hostile,
               json_log=False)
    t.eq("-k: exit 0", r.rc, 0)
    no_raw(t, "-k --show-certs -v --dissect --wire", r.err)
    t.contains("the SAN shown escaped", r.err, "DNS:x\\x1b]0;PWNED\\x07")
    t.contains("the reason phrase shown escaped", r.err, "< 200 OK\\x9b2J\\xc2\\x9b31m")


def test_reason_phrase_escaped(t, client, hostile_http):
    """Plain HTTP, text log, colour on: the status line's reason phrase (the response's label)
    shows the server's C1 bytes escaped, and the colour codes around it are ours alone."""
    r = client("--color", "always", "http://127.0.0.1:%d/" % hostile_http, json_log=False)
    t.eq("exit 0", r.rc, 0)
    t.check("colour is on", "\x1b[" in r.err, "ESC [", r.err[:200])
    no_raw(t, "text log", r.err.replace("\x1b[", ""))
    t.contains("the reason phrase shown escaped", r.err, "OK\\x9b2J\\xc2\\x9b31m")
