"""harness/cdp.py -- a small Chrome DevTools Protocol client (standard library only) that drives
Debian's headless Chromium over --remote-debugging-pipe, for the tests of what a real browser
sees: open a page, reload it, read its text, wait for a live page to change, take a screenshot.

The pipe: Chromium reads commands on its fd 3 and writes replies and events on its fd 4; each
message is one JSON object followed by a NUL byte. A reader thread splits the stream
(FrameReader), files replies by id and keeps events (bounded) for the waits. Pages are targets
made with Target.createTarget and attached with flatten=True: their commands and events carry a
sessionId on the one pipe. Every wait has a deadline and raises CdpTimeout saying what it
waited for; a command Chromium refuses raises CdpError; a page load that fails (a certificate
error, a refused connection) raises NavigationError with Chromium's errorText.

    with Browser(chromium, home) as b:          # home: a scratch $HOME (trust: make_nssdb)
        page = b.new_page()
        page.navigate("https://localhost:8443/")
        text = page.text()
        png = page.screenshot(1024, 768)

The browser runs in a process group of its own (start_new_session): close() asks it to quit
(Browser.close), then kills that group, and only that group, with SIGKILL. Pass procs (the
fixture) too, so a test that fails before close() still has its pid killed at the end.
"""

import base64
import collections
import fcntl
import json
import os
import signal
import struct
import subprocess
import tempfile
import threading
import time

from harness.peers import CHROMIUM_FLAGS


class CdpError(Exception):
    """Chromium answered a command with an error, or it is gone."""


class CdpTimeout(CdpError):
    """A wait ran out of time; the message says what was awaited."""


class NavigationError(CdpError):
    """Page.navigate answered with errorText (net::ERR_CERT_AUTHORITY_INVALID ...)."""

    def __init__(self, url, error_text):
        CdpError.__init__(self, "navigating to %s failed: %s" % (url, error_text))
        self.url = url
        self.error_text = error_text


class FrameReader:
    """Splits the pipe's byte stream into messages: each JSON text ends with a NUL byte. A read
    may hold part of a message, several messages, or end in the middle of one."""

    def __init__(self, limit=64 << 20):
        self.buf = bytearray()
        self.limit = limit      # a message longer than this is a protocol error, not a hang

    def feed(self, data):
        """The complete messages (bytes, without the NUL) that data completes."""
        self.buf += data
        out = []
        start = 0
        while True:
            end = self.buf.find(b"\0", start)
            if end < 0:
                break
            out.append(bytes(self.buf[start:end]))
            start = end + 1
        del self.buf[:start]
        if len(self.buf) > self.limit:
            raise CdpError("a DevTools message longer than %d bytes without its NUL" % self.limit)
        return out

    def pending(self):
        """Bytes of an unfinished message (at EOF: a truncated one)."""
        return len(self.buf)


def encode_frame(msg):
    """One message as it goes on the pipe: compact JSON and the NUL."""
    return json.dumps(msg, separators=(",", ":")).encode("utf-8") + b"\0"


def png_size(data):
    """(width, height) of a PNG, from its IHDR; ValueError if data is no PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG (starts %r)" % data[:16])
    return struct.unpack(">II", data[16:24])


def make_nssdb(certutil, home, ca_path, nick="handshake-lab", timeout=30.0):
    """Chromium's trust store is $HOME/.pki/nssdb (not --user-data-dir): a new NSS database
    there with the CA at ca_path trusted to issue server certificates (-t C,,)."""
    nss = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nss, exist_ok=True)
    env = dict(os.environ, HOME=home)
    for argv in ([certutil, "-d", "sql:" + nss, "-N", "--empty-password"],
                 [certutil, "-d", "sql:" + nss, "-A", "-t", "C,,", "-n", nick, "-i", ca_path]):
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        if p.returncode != 0:
            raise CdpError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                 p.stdout.decode("utf-8", "replace")))
    return nss


def _high_fd(fd):
    """fd moved to a number >= 10 (close-on-exec), so bash's `3<&R 4>&W` cannot clobber one
    pipe end with the other."""
    hi = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return hi


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe (see the module's docstring).

    chromium: its path (the `chromium` fixture); home: a scratch directory used as $HOME (its
    .pki/nssdb is the trust store) and for the fresh --user-data-dir and Chromium's stderr
    (home/chromium.stderr); args: more flags; procs: the `procs` fixture (optional);
    timeout: the default of every wait, in seconds; max_events: events kept (the oldest are
    dropped beyond it)."""

    def __init__(self, chromium, home, args=(), procs=None, timeout=10.0, max_events=20000):
        self.chromium, self.home, self.args, self.procs = chromium, home, list(args), procs
        self.timeout = timeout
        self.cond = threading.Condition()
        self.replies = {}           # id -> message, until its waiter takes it
        self.events = collections.deque(maxlen=max_events)     # (seq, message)
        self.seq = 0                # events received so far
        self.next_id = 0
        self.eof = False
        self.bad = None             # why the reader stopped, if not at EOF
        self.proc = None
        self.wfd = None
        self.wlock = threading.Lock()
        self.reader = None
        self.stderr_path = os.path.join(home, "chromium.stderr")

    # ------------------------------------------------------------ start, stop

    def start(self):
        """Start Chromium and wait (bounded) until it answers Browser.getVersion; returns that
        reply (product, protocolVersion ...)."""
        ud = tempfile.mkdtemp(prefix="ud-", dir=self.home)
        cmd_r, cmd_w = os.pipe()        # we write commands, Chromium reads its fd 3
        ev_r, ev_w = os.pipe()          # Chromium writes its fd 4, we read
        cmd_r, cmd_w, ev_r, ev_w = (_high_fd(fd) for fd in (cmd_r, cmd_w, ev_r, ev_w))
        env = dict(os.environ)
        env.pop("SSLKEYLOGFILE", None)
        env["HOME"] = self.home
        argv = [self.chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + ud,
                                                   "--remote-debugging-pipe"] + self.args
        # Popen cannot renumber fds: bash puts the pipe ends on 3 and 4, then becomes Chromium
        # (Debian's /usr/bin/chromium is itself a script that execs /usr/lib/chromium/chromium).
        # Not sh: dash takes only one-digit fd numbers in a redirection ("Bad fd number")
        shell = 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (cmd_r, ev_w, cmd_r, ev_w)
        err = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(["/bin/bash", "-c", shell] + argv, cwd=self.home, env=env,
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         pass_fds=(cmd_r, ev_w), start_new_session=True)
        except OSError:
            for fd in (cmd_r, cmd_w, ev_r, ev_w):
                os.close(fd)
            raise
        finally:
            err.close()
        if self.procs is not None:
            self.procs.add(self.proc)
        os.close(cmd_r)
        os.close(ev_w)
        self.wfd = cmd_w
        self.reader = threading.Thread(target=self._read, args=(ev_r,), daemon=True)
        self.reader.start()
        try:
            return self.call("Browser.getVersion", what="Chromium to start and answer "
                             "Browser.getVersion on the pipe")
        except BaseException:
            self.close()
            raise

    def close(self, timeout=5.0):
        """Ask Chromium to quit, wait up to timeout, then SIGKILL its process group (ours:
        start_new_session). Safe to call twice. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None and not self.eof:
            try:
                self.send("Browser.close")
            except (CdpError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # also after the leader has exited: a renderer or zygote of its group may be left
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if self.wfd is not None:
            os.close(self.wfd)
            self.wfd = None
        if self.reader is not None:
            self.reader.join(5)
        return self.proc.returncode

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def stderr_tail(self, n=1500):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    # ------------------------------------------------------------ the pipe

    def _read(self, fd):
        fr = FrameReader()
        try:
            while True:
                data = os.read(fd, 65536)
                if not data:
                    break
                for raw in fr.feed(data):
                    msg = json.loads(raw.decode("utf-8"))
                    with self.cond:
                        if "id" in msg:
                            self.replies[msg["id"]] = msg
                        else:
                            self.seq += 1
                            self.events.append((self.seq, msg))
                        self.cond.notify_all()
        except (OSError, ValueError, CdpError) as x:
            with self.cond:
                self.bad = "reading the pipe: %s" % x
        finally:
            os.close(fd)
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def send(self, method, params=None, session=None):
        """Write one command; its id (the reply comes later: wait_reply)."""
        with self.cond:
            self.next_id += 1
            mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = encode_frame(msg)
        with self.wlock:
            if self.wfd is None:
                raise CdpError("%s: the browser is closed" % method)
            view = memoryview(data)
            try:
                while view:
                    n = os.write(self.wfd, view)
                    view = view[n:]
            except OSError as x:        # EPIPE: Chromium has closed its end
                with self.cond:
                    raise CdpError("sending %s: %s; %s" % (method, x, self._gone() or ""))
        return mid

    def _gone(self):
        """Why no more can come (under self.cond), or None."""
        if self.eof or (self.proc is not None and self.proc.poll() is not None):
            try:
                self.proc.wait(1.0)     # the pipe closes a moment before the exit
            except subprocess.TimeoutExpired:
                pass
            return "Chromium has gone (exit %s%s); its stderr ends: %s" % (
                self.proc.poll() if self.proc else None,
                "; " + self.bad if self.bad else "", self.stderr_tail())
        return None

    def wait_for(self, pred, what, timeout=None):
        """Wait until pred() (called under the lock, after each message) returns something
        true, and return it. CdpTimeout("timed out after N s waiting for WHAT") if not."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred()
                if got:
                    return got
                gone = self._gone()
                if gone:
                    raise CdpError("while waiting for %s: %s" % (what, gone))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpTimeout("timed out after %.1f s waiting for %s" % (timeout, what))
                self.cond.wait(min(left, 0.2))

    def wait_reply(self, mid, what, timeout=None):
        msg = self.wait_for(lambda: self.replies.pop(mid, None), what, timeout)
        if "error" in msg:
            raise CdpError("%s: Chromium says %s" % (what, msg["error"]))
        return msg.get("result", {})

    def call(self, method, params=None, session=None, timeout=None, what=None):
        """Send a command and wait for its result (a dict); CdpError on an error reply."""
        mid = self.send(method, params, session)
        return self.wait_reply(mid, what or "the reply to %s" % method, timeout)

    # ------------------------------------------------------------ events

    def mark(self):
        """The sequence number of the latest event: pass it as after= to see only later ones."""
        with self.cond:
            return self.seq

    def events_of(self, method=None, session=None, after=0):
        """Events (whole messages: method, params, sessionId) received after `after`, of this
        method (None: any; a trailing '.' or '*': a prefix such as 'Network.') and session."""
        with self.cond:
            return [m for s, m in self.events if s > after and _match(m, method, session)]

    def wait_event(self, method, session=None, pred=None, after=0, timeout=None, what=None):
        """The first event after `after` of this method and session for which pred(params) is
        true; CdpTimeout if none comes in time."""
        def find():
            for s, m in self.events:
                if s > after and _match(m, method, session) and \
                        (pred is None or pred(m.get("params", {}))):
                    return m
            return None
        return self.wait_for(find, what or "event %s" % method, timeout)

    # ------------------------------------------------------------ pages

    def new_page(self, url="about:blank", timeout=None):
        """A new page target, attached (flatten): a Page with Page, Runtime enabled."""
        tid = self.call("Target.createTarget", {"url": url}, timeout=timeout)["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": tid, "flatten": True},
                        timeout=timeout)["sessionId"]
        page = Page(self, tid, sid)
        page.call("Page.enable")
        page.call("Runtime.enable")
        return page

    def page_targets(self):
        """Target infos of the open pages (the default page included, if Chromium made one)."""
        return [t for t in self.call("Target.getTargets")["targetInfos"] if t.get("type") == "page"]


def _match(msg, method, session):
    if session is not None and msg.get("sessionId") != session:
        return False
    if method is None:
        return True
    m = msg.get("method", "")
    if method.endswith("*") or method.endswith("."):
        return m.startswith(method.rstrip("*"))
    return m == method


class Page:
    """One attached page target: commands go to its session, its events carry its sessionId."""

    def __init__(self, browser, target_id, session_id):
        self.b, self.target_id, self.session = browser, target_id, session_id

    def call(self, method, params=None, timeout=None, what=None):
        return self.b.call(method, params, self.session, timeout, what)

    def mark(self):
        return self.b.mark()

    def events(self, method=None, after=0):
        return self.b.events_of(method, self.session, after)

    def wait_event(self, method, pred=None, after=0, timeout=None, what=None):
        return self.b.wait_event(method, self.session, pred, after, timeout, what)

    def enable(self, *domains):
        """Enable more event domains: "Network", "Log" ... (Page and Runtime already are)."""
        for d in domains:
            self.call(d + ".enable")

    def navigate(self, url, timeout=None, wait_load=True):
        """Page.navigate to url and wait for its Page.loadEventFired. NavigationError (with
        .error_text, e.g. net::ERR_CERT_AUTHORITY_INVALID) if Chromium reports a failed load;
        Chromium then shows its error page, and no wait is made for it. Returns the reply."""
        after = self.mark()
        r = self.call("Page.navigate", {"url": url}, timeout,
                      what="the reply to Page.navigate(%s)" % url)
        if r.get("errorText"):
            raise NavigationError(url, r["errorText"])
        if wait_load:
            self.wait_event("Page.loadEventFired", after=after, timeout=timeout,
                            what="Page.loadEventFired after navigating to %s" % url)
        return r

    def reload(self, timeout=None, ignore_cache=False):
        """Page.reload and wait for its Page.loadEventFired."""
        after = self.mark()
        self.call("Page.reload", {"ignoreCache": ignore_cache}, timeout)
        self.wait_event("Page.loadEventFired", after=after, timeout=timeout,
                        what="Page.loadEventFired after Page.reload")

    def evaluate(self, expression, timeout=None, await_promise=False):
        """Runtime.evaluate(expression) with returnByValue: the value (str, number, list,
        dict, None). CdpError if the script threw."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": await_promise}, timeout,
                      what="Runtime.evaluate(%s)" % expression[:80])
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError("Runtime.evaluate(%s) threw: %s" % (
                expression[:80], d.get("exception", {}).get("description") or d.get("text")))
        return r.get("result", {}).get("value")

    def text(self):
        """The page's visible text (document.body.innerText; '' before there is a body)."""
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def html(self):
        return self.evaluate("document.documentElement ? document.documentElement.outerHTML : ''")

    def url(self):
        return self.evaluate("location.href")

    def wait_js(self, expression, timeout=None, what=None, interval=0.05):
        """Evaluate expression every interval until its value is true; that value.
        CdpTimeout saying what (default: the expression) and the last value if never."""
        timeout = self.b.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            last = self.evaluate(expression, timeout=max(deadline - time.monotonic(), 0.5))
            if last:
                return last
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpTimeout("timed out after %.1f s waiting for %s (last value: %r)" % (
                    timeout, what or expression, last if not isinstance(last, str)
                    else last[-300:]))
            time.sleep(min(interval, left))

    def wait_text(self, needle, timeout=None):
        """Wait until the page's text contains needle (a page that changes itself, e.g. by
        Server-Sent Events); the whole text then."""
        return self.wait_js("(document.body && document.body.innerText.includes(%s)) ? "
                            "document.body.innerText : ''" % json.dumps(needle), timeout,
                            what="the page's text to contain %r" % needle)

    def set_viewport(self, width, height, scale=1):
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})

    def screenshot(self, width=None, height=None, path=None, full_page=False, timeout=None):
        """A PNG (bytes) of the page at width x height CSS pixels (scale 1; None: as it is);
        full_page: the whole page's height. Written to path too, if given."""
        if width and height:
            self.set_viewport(width, height)
        params = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": width or size["width"],
                              "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.call("Page.captureScreenshot", params, timeout)["data"])
        if path:
            with open(path, "wb") as f:
                f.write(data)
        return data

    def console(self, after=0):
        """Console messages so far: (type, text) from Runtime.consoleAPICalled."""
        out = []
        for m in self.events("Runtime.consoleAPICalled", after):
            p = m.get("params", {})
            out.append((p.get("type"), " ".join(str(a.get("value", a.get("description", "")))
                                                for a in p.get("args", []))))
        return out

    def close(self):
        self.b.call("Target.closeTarget", {"targetId": self.target_id})
