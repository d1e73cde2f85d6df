#!/usr/bin/env python3
"""compare.py -- TLS variants side by side, from real runs (make compare).

Starts build/server on a free loopback port serving the RSA certificate (--rsa-port 0),
runs build/client three times against it -- TLS 1.2 with static RSA key transport, TLS 1.2
with ECDHE, TLS 1.3 -- and prints one table row per run, every figure read from the
client's JSON log: handshake messages, TLS round trips, handshake bytes, handshake time,
key exchange, forward secrecy. Below the table, each run's messages by flight.

    python3 scripts/compare.py [--build DIR] [--certs DIR] [--logs DIR]

All three use the same server and the same RSA-2048 certificate, so only the key
exchange and the protocol version differ. Only the Python standard library is used.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VARIANTS = (
    ("TLS 1.2 RSA key transport", ["--tls-max", "1.2", "--kx", "rsa"]),
    ("TLS 1.2 ECDHE", ["--tls-max", "1.2", "--kx", "ecdhe"]),
    ("TLS 1.3", []),
)


def die(msg):
    print("compare: %s" % msg, file=sys.stderr)
    sys.exit(1)


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Server:
    """build/server on 127.0.0.1 with only the RSA listener, port picked by the kernel."""

    def __init__(self, build, certs):
        cmd = [os.path.join(build, "server"), "--log-format", "json", "--bind", "127.0.0.1",
               "--http-port", "off", "--https-port", "off", "--selfsigned-port", "off",
               "--rsa-port", "0", "--certs", certs]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.port = None
        self.ready = threading.Event()
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            for e in json_lines(line):
                if e.get("event") == "listen" and e.get("kind") == "rsa":
                    self.port = e.get("port")
                    self.ready.set()
        self.ready.set()

    def wait_port(self, timeout=10.0):
        self.ready.wait(timeout)
        if self.port is None:
            err = self.proc.stderr.read().decode("utf-8", "replace") \
                if self.proc.poll() is not None else ""
            self.stop()
            die("the server did not start listening: %s" % (err.strip() or "no listen event"))
        return self.port

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.t.join(5)


def analyse(evs):
    """The figures of one run: everything up to the client's handshake_done."""
    msgs = []
    done = kx = None
    tls13 = any(e.get("event") == "handshake_done" and e.get("version") == "TLSv1.3" for e in evs)
    for e in evs:
        # A TLS 1.3 NewSessionTicket is a post-handshake message, even when it is read before
        # the client has logged handshake_done.
        if e.get("event") == "message" and done is None and not (
                tls13 and e.get("type") == "NewSessionTicket"):
            msgs.append(e)
        elif e.get("event") == "handshake_done" and done is None:
            done = e
        elif e.get("event") == "key_exchange" and kx is None:
            kx = e
    if done is None or kx is None:
        return None
    flights = []            # [dir, [names]]
    for m in msgs:
        if flights and flights[-1][0] == m.get("dir"):
            flights[-1][1].append(m.get("type"))
        else:
            flights.append([m.get("dir"), [m.get("type")]])
    # A round trip: a flight of ours that must wait for the server's answer.
    rtts = sum(1 for a, b in zip(flights, flights[1:]) if a[0] == "out" and b[0] == "in")
    hs = [m for m in msgs if m.get("type") != "ChangeCipherSpec"]
    group = kx.get("group") or ""
    if kx.get("kx") == "RSA":
        kxs = "RSA (%s-bit key)" % kx.get("key_bits")
    else:
        kxs = "%s %s" % (kx.get("kx"), group)
    return {
        "messages": len(hs),
        "rtts": rtts,
        "bytes_out": sum(m.get("len", 0) for m in msgs if m.get("dir") == "out"),
        "bytes_in": sum(m.get("len", 0) for m in msgs if m.get("dir") == "in"),
        "ms": done.get("handshake_ms"),
        "kx": kxs.strip(),
        "fs": "yes" if kx.get("forward_secrecy") else "no",
        "cert": "encrypted" if tls13 else "in clear",
        "cipher": done.get("cipher"),
        "version": done.get("version"),
        "flights": flights,
        "has": {m.get("type") for m in msgs},
    }


def table(rows):
    head = ("variant", "msgs", "RTTs", "bytes C>S/S>C", "time ms", "key exchange",
            "fwd secrecy", "certificate")
    body = []
    for name, a in rows:
        body.append((name, str(a["messages"]), "%d+1" % a["rtts"],
                     "%d/%d" % (a["bytes_out"], a["bytes_in"]), "%.3f" % a["ms"],
                     a["kx"], a["fs"], a["cert"]))
    w = [max(len(r[i]) for r in (head,) + tuple(body)) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w[i]) if i in (0, 5, 6, 7) else c.rjust(w[i])
                               for i, c in enumerate(r)).rstrip()
    out = [line(head), line(tuple("-" * x for x in w))]
    out += [line(r) for r in body]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("BUILD") or "build",
                    help="where server and client are (default: build, or $BUILD)")
    ap.add_argument("--certs", default=os.path.join(ROOT, "certs", "out"),
                    help="certificate directory with ca.crt and server-rsa.{crt,key}")
    ap.add_argument("--logs", help="also write each run's JSON log into this directory")
    o = ap.parse_args()
    build = o.build if os.path.isabs(o.build) else os.path.join(ROOT, o.build)
    for f in ("server", "client"):
        if not os.access(os.path.join(build, f), os.X_OK):
            die("%s/%s not found: run make first" % (o.build, f))
    for f in ("ca.crt", "server-rsa.crt", "server-rsa.key"):
        if not os.path.exists(os.path.join(o.certs, f)):
            die("%s not found: run make certs (certs/make-certs.sh makes server-rsa.crt)"
                % os.path.join(o.certs, f))
    if o.logs:
        os.makedirs(o.logs, exist_ok=True)

    srv = Server(build, o.certs)
    rows = []
    try:
        port = srv.wait_port()
        url = "https://127.0.0.1:%d/" % port
        for name, flags in VARIANTS:
            cmd = [os.path.join(build, "client"), "--log-format", "json", "--cacert",
                   os.path.join(o.certs, "ca.crt"), "-o", os.devnull] + flags + [url]
            env = dict(os.environ)
            env.pop("SSLKEYLOGFILE", None)
            p = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            err = p.stderr.decode("utf-8", "replace")
            if o.logs:
                fn = name.lower().replace(" ", "-").replace(".", "")
                with open(os.path.join(o.logs, fn + ".json"), "w") as f:
                    f.write(err)
            a = analyse(json_lines(err)) if p.returncode == 0 else None
            if a is None:
                die("%s: build/client %s failed (exit %d): %s" % (
                    name, " ".join(flags), p.returncode, err.strip().splitlines()[-1:]))
            rows.append((name, a))
    finally:
        srv.stop()

    print("TLS variants side by side: build/server --rsa-port %d (RSA-2048 certificate), "
          "one run each" % port)
    print()
    print(table(rows))
    print()
    print("msgs: handshake messages up to handshake_done (ChangeCipherSpec not counted);")
    print("RTTs: TLS round trips before the request can go, +1 for TCP's handshake;")
    print("bytes: handshake message bytes (without record headers); time: TCP up to")
    print("TLS done, on loopback. Every figure is read from the client's JSON log.")
    for name, a in rows:
        print()
        print("%s (%s, %s):" % (name, a["version"], a["cipher"]))
        for d, names in a["flights"]:
            print("  %s %s" % ("C -> S" if d == "out" else "C <- S", ", ".join(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
