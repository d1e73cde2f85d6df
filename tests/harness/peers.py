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

