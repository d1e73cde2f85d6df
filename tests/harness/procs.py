"""harness/procs.py -- running the programs: a server whose ports come from its `listen` events,
a client run to completion, any command, a client on a terminal; sanitizer and valgrind reports.

Everything runs on 127.0.0.1 / ::1 with port 0: the real ports are read back from the server's
JSON `listen` events, readiness is read from the logs, every wait has a deadline (times SLOW),
and only processes started here are stopped, by pid (Procs).
"""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time

from harness.env import (CHILD_ENV, CLIENT, ROOT, SAN, SAN_PATTERNS, SERVER, SLOW, VALGRIND,
                         VALGRIND_CMD, VALGRIND_DIR)
from harness.log import events, first, parse_json_lines

_vg_runs = [0]


def valgrind_wrap(cmd, env):
    """(cmd, env, report file): cmd under valgrind when VALGRIND=1 and it runs one of our
    programs, else (cmd, env, None)."""
    if not (VALGRIND and cmd and cmd[0] in (SERVER, CLIENT)):
        return cmd, env, None
    _vg_runs[0] += 1
    env = dict(env)
    env["HSLAB_VG_RUN"] = str(_vg_runs[0])
    log = os.path.join(VALGRIND_DIR, "vg.%d" % _vg_runs[0])
    return VALGRIND_CMD + ["--log-file=" + os.path.join(VALGRIND_DIR, "vg.%q{HSLAB_VG_RUN}")] + \
        list(cmd), env, log


def check_valgrind(t, what, log, rc):
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            err = f.read()
    except OSError:
        return      # killed, or never started: nothing to read
    bad = [l for l in err.splitlines() if re.match(r"==\d+== ", l) and re.search(
        r"Invalid|uninitialised|definitely lost|Mismatched|overlap|Syscall param", l)]
    t.check("%s: no valgrind error" % what, not bad, "no report", "\n".join(bad[:20]) or err)
    # each fd still open at exit (but the standard ones) is a block of lines; the inherited ones
    # (valgrind's own report file) are not ours. Exit 1 and 2 (a start-up error, a usage error)
    # leave at once, without freeing anything.
    blocks = re.split(r"\n==\d+== (?=Open file descriptor)", err)[1:]
    ours = [b for b in blocks if "<inherited from parent>" not in b]
    if "FILE DESCRIPTORS:" in err and rc not in (1, 2):
        t.check("%s: no fd left open at exit (valgrind --track-fds)" % what, not ours,
                "only the standard and inherited ones", "\n".join(ours)[:1500])


def check_sanitizer(t, what, stderr, vg_log=None, rc=None):
    if VALGRIND and vg_log:
        check_valgrind(t, what, vg_log, rc)
    if not SAN:
        return
    hits = [p for p in SAN_PATTERNS if p in (stderr or "")]
    t.check("%s: no sanitizer report" % what, not hits, "clean stderr", stderr)


# ---------------------------------------------------------------- processes of a test

class Procs:
    """Every process a test starts in the background (the `procs` fixture): whatever happens,
    those still running when the test ends are killed, by pid."""

    def __init__(self):
        self.started = []

    def add(self, p):
        self.started.append(p)
        return p

    def popen(self, cmd, **kw):
        """subprocess.Popen(cmd), from the repository, with the programs' environment."""
        return self.add(subprocess.Popen(cmd, cwd=kw.pop("cwd", ROOT),
                                         env=kw.pop("env", CHILD_ENV), **kw))

    def stop_all(self):
        for p in self.started:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        del self.started[:]


def stop_pid(p, timeout=5.0):
    """SIGTERM (SIGKILL after timeout) to a process we started; its exit status."""
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)
        except ProcessLookupError:
            pass
    return p.returncode


def proc_fds(pid):
    """How many fds the process has open (-1: it is gone)."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def listen_ports(pid, timeout=5.0):
    """The TCP ports process pid listens on (its sockets' inodes in /proc/net/tcp{,6}): for a
    server with -q, which logs no listen event."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except OSError:
                continue
            if m:
                inodes.add(m.group(1))
        ports = set()
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(f) as fh:
                for line in fh.readlines()[1:]:
                    c = line.split()
                    if c[3] == "0A" and c[9] in inodes:
                        ports.add(int(c[1].rsplit(":", 1)[1], 16))
        if ports:
            return sorted(ports)
        time.sleep(0.05)
    return []


def proc_rss_kb(pid):
    """The process's resident set size in KiB (VmRSS); an OSError if it is gone."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


# ---------------------------------------------------------------- the server

class Server:
    """A running build/server; its JSON log (stdout) is read by a thread."""

    def __init__(self, t, args, name, procs):
        self.t = t
        self.name = name
        self.args = args
        self.lines = []     # raw stdout lines
        self.raw = []       # stdout lines as the bytes came (lines is decoded with "replace")
        self.evs = []       # parsed JSON records
        self.err = []       # stderr lines
        self.cond = threading.Condition()
        cmd, env, self.vg_log = valgrind_wrap(args, CHILD_ENV)
        self.proc = procs.add(subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        self.pid = self.proc.pid
        self.rc = None
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, True),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, False),
                                          daemon=True)]
        for r in self._readers:
            r.start()
        if hasattr(t, "log_run"):
            t.log_run("server", name, self)

    def _read(self, f, is_out):
        for raw in iter(f.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                if is_out:
                    self.lines.append(line)
                    self.raw.append(raw)
                    self.evs.extend(parse_json_lines(line))
                else:
                    self.err.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, timeout=5.0, last=False, after=0):
        """First record (in log order; last=True: the latest) from record number `after` on
        for which pred is true, waiting up to timeout (times SLOW)."""
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while True:
                evs = self.evs[after:]
                for e in (reversed(evs) if last else evs):
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(r.is_alive() for r in self._readers)):
                    return None
                self.cond.wait(min(left, 0.2))

    def wait_count(self, event, n, timeout=5.0):
        """Wait (up to timeout times SLOW) until the log has n records of this event; the
        count then."""
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while True:
                count = len(events(self.evs, event))
                left = deadline - time.monotonic()
                if count >= n or left <= 0 or (self.proc.poll() is not None and
                                               not any(r.is_alive() for r in self._readers)):
                    return count
                self.cond.wait(min(left, 0.2))

    def mark(self):
        """The number of records so far: pass it as after= to look only at later ones."""
        with self.cond:
            return len(self.evs)

    def port(self, kind):
        e = self.wait_for(lambda e: e.get("event") == "listen" and e.get("kind") == kind)
        return e.get("port") if e else None

    def conn_of(self, remote, timeout=5.0, after=None):
        """The server's conn id of the connection whose peer address is `remote`: the latest
        one (local ports are reused over a long server run: the first one may be long gone),
        or with after=mark() the first one logged since then (the latest may be an older one
        logged a moment before ours)."""
        if after is None:
            e = self.wait_for(lambda e: e.get("event") == "established" and
                              e.get("remote") == remote, timeout, last=True)
        else:
            e = self.wait_for(lambda e: e.get("event") == "established" and
                              e.get("remote") == remote, timeout, after=after)
        return e.get("conn") if e else None

    def conn_events(self, remote, timeout=5.0, after=None):
        """All records of the server's connection from `remote` (see conn_of), once it has
        logged `closed`."""
        conn = self.conn_of(remote, timeout, after)
        if conn is None:
            return []
        self.wait_for(lambda e: e.get("conn") == conn and e.get("event") == "closed", timeout)
        with self.cond:
            return [e for e in self.evs if e.get("conn") == conn]

    def stderr(self):
        with self.cond:
            return "\n".join(self.err)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signal the server (by pid; sig=None: just wait) and wait for it; SIGKILL
        after timeout. Returns the exit status (negative: killed by that signal)."""
        if self.proc.poll() is None:
            try:
                if sig is not None:
                    os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
                self.t.check("%s: stops within %.0f s of %s" % (self.name, timeout * SLOW,
                                                                 sig.name if sig else "SIGTERM"),
                             False, "exit", "still running; killed")
        for r in self._readers:
            r.join(5)
        self.rc = self.proc.returncode
        return self.rc


class ServerRun:
    """with ServerRun(t, procs, certs_dir, http=0, https=0, selfsigned=0, ...) as srv: ...
    (the `server` fixture makes these: `with server(https=None) as srv:`)

    A port is 0 (kernel picks), a number, or None (= off). Waits for the listen
    events of every enabled kind. On exit: SIGTERM, expect exit 0 (and, under ASan,
    a clean stderr)."""

    def __init__(self, t, procs, certs_dir, *extra, http=0, https=0, selfsigned=0, bind=None,
                 certs=None, ready=True, expect_rc=0, name="server"):
        args = [SERVER, "--log-format", "json"]
        for b in ([bind] if isinstance(bind, str) else (bind or [])):
            args += ["--bind", b]
        for flag, p in (("--http-port", http), ("--https-port", https),
                        ("--selfsigned-port", selfsigned)):
            args += [flag, "off" if p is None else str(p)]
        if certs is not False:
            args += ["--certs", certs or certs_dir]
        args += list(extra)
        self.t, self.procs, self.args = t, procs, args
        self.ready, self.expect_rc, self.name = ready, expect_rc, name
        self.kinds = [k for k, p in (("http", http), ("https", https), ("selfsigned", selfsigned))
                      if p is not None]

    def __enter__(self):
        self.srv = Server(self.t, self.args, self.name, self.procs)
        if self.ready:
            for kind in self.kinds:
                if self.srv.port(kind) is None:
                    self.srv.stop(signal.SIGKILL)
                    raise AssertionError("%s did not log `listen` for %s within %.0f s; "
                                         "stdout: %s; stderr: %s" % (
                                             self.name, kind, 5 * SLOW,
                                             "\n".join(self.srv.lines[-20:]), self.srv.stderr()))
        return self.srv

    def __exit__(self, *exc):
        rc = self.srv.stop()
        if exc[0] is None and self.expect_rc is not None:
            self.t.eq("%s: exit status after SIGTERM" % self.name, rc, self.expect_rc)
        check_sanitizer(self.t, self.name, self.srv.stderr(), self.srv.vg_log, rc)
        return False


# ---------------------------------------------------------------- the client, any command

class Result:
    def __init__(self, rc, out, err, dur):
        self.rc, self.out, self.err, self.dur = rc, out, err, dur
        self.text = out.decode("utf-8", "replace")
        self.ev = parse_json_lines(err)

    def conn(self, n=None):
        """Records of one connection of the client (default: the last one that connected)."""
        if n is None:
            est = events(self.ev, "established")
            n = est[-1]["conn"] if est else 1
        return [e for e in self.ev if e.get("conn") == n]

    def local(self):
        e = first(self.conn(), "established") or first(self.conn(), "connect")
        return e.get("local") if e else None


def run_client(t, *args, json_log=True, stdin=None, timeout=20.0, env=None, name="client"):
    """Run build/client to completion; stdin defaults to /dev/null (not a terminal)."""
    cmd = [CLIENT] + (["--log-format", "json"] if json_log else []) + list(args)
    return run_cmd(t, cmd, stdin=stdin, timeout=timeout, env=env, name=name, san=True)


def run_cmd(t, cmd, stdin=None, timeout=20.0, env=None, name=None, san=False):
    """Run cmd to completion (timeout times SLOW: then a failed check); stdin bytes or
    /dev/null. san=True: check its stderr (and valgrind's report) too."""
    t0 = time.monotonic()
    e = dict(CHILD_ENV)
    e.update(env or {})
    try:
        vcmd, e, vg_log = valgrind_wrap(cmd, e)
        p = subprocess.run(vcmd, cwd=ROOT, env=e, timeout=timeout * SLOW,
                           input=stdin if isinstance(stdin, bytes) else None,
                           stdin=None if isinstance(stdin, bytes) else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired as x:
        err = (x.stderr or b"").decode("utf-8", "replace")
        t.check("%s finishes within %.0f s" % (name or cmd[0], timeout * SLOW), False,
                "exit", "timed out: %s; stderr: %s" % (" ".join(cmd), err))
        return Result(None, x.stdout or b"", err, time.monotonic() - t0)
    r = Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    r.err_raw = p.stderr        # the log's bytes as they came (r.ev was decoded with "replace")
    if hasattr(t, "log_run") and cmd and cmd[0] == CLIENT and r.ev:
        t.log_run("client", name or "client", r.ev)
    elif hasattr(t, "log_run") and cmd and cmd[0] == SERVER:
        evs = parse_json_lines(r.text)
        if evs:
            t.log_run("server", name or "server", evs)
    if san:
        check_sanitizer(t, name or os.path.basename(cmd[0]), r.err, vg_log, r.rc)
    return r


def pty_session(procs, argv, answer, prompt=b"Proceed anyway", timeout=15.0, on_prompt=None,
                cols=1000):
    """Run argv with stdin and stderr on a pseudo-terminal (stdout a pipe) of `cols` columns
    (by default so wide that no log line wraps: tests/test_fit.py checks the wrapping); type
    `answer` when `prompt` shows (after on_prompt(), if given, has returned: a slow
    reader, a server swapped meanwhile). Returns (rc, stdout, terminal text, prompted)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    p = procs.popen(argv, stdin=slave, stderr=slave, stdout=subprocess.PIPE)
    os.close(slave)
    out = []
    th = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    th.start()
    buf, sent = b"", False
    deadline = time.monotonic() + timeout * SLOW
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    d = os.read(master, 65536)
                except OSError:         # EIO: the client closed the terminal
                    d = b""
                if not d:
                    break
                buf += d
            elif p.poll() is not None:
                break
            if not sent and prompt in buf:
                if on_prompt is not None:
                    on_prompt()
                os.write(master, answer)
                sent = True
        rc = p.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        stop_pid(p)
        rc = None
    finally:
        os.close(master)
    th.join(5)
    return rc, (out[0] if out else b""), buf.decode("utf-8", "replace"), sent
