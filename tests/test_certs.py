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


PSL = "/usr/share/publicsuffix/public_suffix_list.dat"


def test_certs_refuse_public_suffix(t, run, tmp_path):
    """Issue 12 item 6: --name refuses a top-level domain or any public suffix of Debian's
    publicsuffix list (ICANN and PRIVATE sections, wildcard and exception rules), makes no CA
    for it, and says exactly which names the CA it makes can vouch for. Without the list, a
    name of fewer than three labels is refused and the message says the list is missing."""
    script = os.path.join(ROOT, "certs", "make-certs.sh")

    def make(name, *names, env=None):
        out = os.path.join(tmp_path, name.replace(":", "_"))
        args = [script]
        for n in (name,) + names:
            args += ["--name", n]
        return run(args + [out], env=env, timeout=60), out

    if not os.path.exists(PSL):
        t.skip("%s is missing (apt-get install publicsuffix)" % PSL)
    for name, why in (("com", "top-level domain"), ("Teacher", "top-level domain"),
                      ("co.uk", "rule co.uk in the ICANN section"),
                      ("github.io", "rule github.io in the PRIVATE section"),
                      ("foo.ck", "rule *.ck"), ("x.kawasaki.jp", "rule *.kawasaki.jp"),
                      ("xn--55qx5d.cn", "public suffix")):
        r, out = make(name)
        t.eq("--name %s: refused (exit 2)" % name, r.rc, 2)
        t.contains("--name %s: the reason names the rule" % name, r.err, why)
        t.check("--name %s: no CA was made" % name,
                not os.path.exists(os.path.join(out, "ca.crt")), "no ca.crt", "ca.crt made")
    # Refused in the middle of good names too.
    r, _ = make("teacher.lan", "com")
    t.eq("--name teacher.lan --name com: refused", r.rc, 2)

    r, out = make("www.ck", "192.168.1.10")
    t.eq("--name www.ck (an exception rule, !www.ck): accepted", r.rc, 0)
    t.contains("the output says the CA vouches for www.ck and the names under it", r.text,
               "    www.ck and every name under it (*.www.ck, at any depth)\n"
               "    192.168.1.10 (this one address)\n")
    nc = run(["openssl", "x509", "-in", os.path.join(out, "ca.crt"), "-noout", "-ext",
              "nameConstraints"]).text
    t.contains("ca.crt permits www.ck", nc, "DNS:www.ck")

    missing = {"PUBLIC_SUFFIX_LIST": os.path.join(tmp_path, "no-such-list.dat")}
    r, out = make("teacher.lan", env=missing)
    t.eq("without the list: --name teacher.lan (two labels) refused", r.rc, 2)
    t.contains("without the list: the message says the list is missing", r.err,
               "no-such-list.dat is missing")
    r, out = make("pc1.teacher.lan", env=missing)
    t.eq("without the list: --name pc1.teacher.lan (three labels) accepted", r.rc, 0)
    t.contains("the output lists pc1.teacher.lan", r.text,
               "    pc1.teacher.lan and every name under it")
