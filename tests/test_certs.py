"""certs/make-certs.sh: the demo CA and its certificates, and a second run that keeps them."""

import os
import shutil
import stat

from harness.env import ROOT


def test_certs_script(t, run, certs):
    """certs/make-certs.sh: the chain verifies, the self-signed one fails with 18, keys 0600."""
    ok = run(["openssl", "verify", "-CAfile", certs.ca, os.path.join(certs.dir, "server.crt")])
    t.eq("openssl verify server.crt against ca.crt: exit", ok.rc, 0)
    bad = run(["openssl", "verify", "-CAfile", certs.ca, os.path.join(certs.dir, "selfsigned.crt")])
    t.ne("openssl verify selfsigned.crt against ca.crt: exit", bad.rc, 0)
    t.contains("openssl verify selfsigned.crt: error 18", bad.text + bad.err, "error 18")
    mode = stat.S_IMODE(os.stat(os.path.join(certs.dir, "ca.key")).st_mode)
    t.eq("ca.key mode", oct(mode), oct(0o600))
    before = open(certs.ca, "rb").read()
    again = run([os.path.join(ROOT, "certs", "make-certs.sh"), certs.dir])
    t.eq("make-certs.sh again on the same dir: exit", again.rc, 0)
    t.check("make-certs.sh again keeps the existing CA", open(certs.ca, "rb").read() == before,
            "ca.crt unchanged", "ca.crt rewritten")


def test_certs_refuses_readable_ca_key(t, run, certs, tmp_path):
    """Issue 12 item 8: make-certs.sh refuses to reuse a ca.key that other users can read (mode
    0644, 0640) and says so; a 0600 one is reused as before."""
    out = os.path.join(tmp_path, "out")
    shutil.copytree(certs.dir, out)
    key = os.path.join(out, "ca.key")
    before = {f: open(os.path.join(out, f), "rb").read()
              for f in os.listdir(out) if os.path.isfile(os.path.join(out, f))}
    for mode in (0o644, 0o640, 0o604):
        os.chmod(key, mode)
        r = run([os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
        t.eq("ca.key mode %04o: refused (exit 1)" % mode, r.rc, 1)
        t.contains("ca.key mode %04o: says why" % mode, r.err, "can be read by other users")
        t.check("ca.key mode %04o: nothing rewritten" % mode,
                all(open(os.path.join(out, f), "rb").read() == b for f, b in before.items()),
                "unchanged", "a file changed")
    os.chmod(key, 0o600)
    r = run([os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
    t.eq("ca.key mode 0600: reused (exit 0)", r.rc, 0)


def test_certs_rsa_added(t, run, certs, tmp_path):
    """make-certs.sh on a certs dir made before server-rsa.crt existed: it adds the RSA
    certificate (RSA-2048, keyEncipherment, signed by the kept CA) and changes nothing else."""
    out = os.path.join(tmp_path, "out")
    os.mkdir(out)
    for f in ("ca.crt", "ca.key", "server.crt", "server.key", "selfsigned.crt", "selfsigned.key",
              "client.crt", "client.key"):
        shutil.copy(os.path.join(certs.dir, f), out)
    before = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out)}
    r = run([os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
    t.eq("make-certs.sh exit status", r.rc, 0)
    t.contains("says what it makes", r.text, "making server-rsa.key and server-rsa.crt")
    t.check("the other files are untouched",
            all(open(os.path.join(out, f), "rb").read() == b for f, b in before.items()),
            "unchanged", sorted(before))
    crt, key = os.path.join(out, "server-rsa.crt"), os.path.join(out, "server-rsa.key")
    v = run(["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"), "-purpose",
             "sslserver", crt])
    t.eq("server-rsa.crt verifies against the kept CA", v.rc, 0)
    x = run(["openssl", "x509", "-in", crt, "-noout", "-text"])
    t.contains("an RSA-2048 key", x.text, "Public-Key: (2048 bit)")
    t.contains("keyUsage allows key encipherment", x.text, "Digital Signature, Key Encipherment")
    t.contains("SAN as server.crt", x.text, "DNS:localhost, IP Address:127.0.0.1")
    t.eq("server-rsa.key mode", oct(stat.S_IMODE(os.stat(key).st_mode)), oct(0o600))
    again = run([os.path.join(ROOT, "certs", "make-certs.sh"), out], timeout=60)
    t.contains("a second run keeps everything", again.text, "certificates already present")
