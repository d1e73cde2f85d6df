#!/usr/bin/python3
"""shots.py -- the screenshots of the docs, taken in headless Chromium from a real run.

usage: scripts/shots.py [--certs DIR] [--build DIR] OUTDIR      (make shots: OUTDIR docs/img)

Starts build/server on kernel-picked ports (HTTP, HTTPS, self-signed), gives Chromium a scratch
HOME whose NSS database trusts the demo CA (DIR/ca.crt, default certs/out), and writes:
  page-https.png  https://localhost:PORT/ in Chromium: the summary and the ladder
  page-hello.png  the same page further down: Chromium's ClientHello and what the server chose
  live.png        /live after a few clients connected (our client over HTTP, HTTPS and TLS 1.2,
                  curl, one refused on the self-signed port), a row clicked and its ladder
each 1200 px wide. Standard library only, and tests/harness/cdp.py (the DevTools client).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness.cdp import Browser, make_nssdb  # noqa: E402

WIDTH = 1200


class Server:
    """build/server with a JSON log read by a thread; ports from its listen events."""

    def __init__(self, build, certs):
        env = dict(os.environ)
        env.pop("SSLKEYLOGFILE", None)
        self.proc = subprocess.Popen(
            [os.path.join(build, "server"), "--log-format", "json", "--http-port", "0",
             "--https-port", "0", "--selfsigned-port", "0", "--certs", certs],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.evs = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.evs.append(e)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.evs:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise SystemExit("shots.py: no %s from the server (stderr: %s)" % (
                        what, self.proc.stderr.read().decode("utf-8", "replace")[-500:]
                        if self.proc.poll() is not None else "-"))
                self.cond.wait(min(left, 0.2))

    def port(self, kind):
        return self.wait(lambda e: e.get("event") == "listen" and e.get("kind") == kind,
                         "listen event for %s" % kind)["port"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def clip_shot(page, path, top, height):
    """A PNG of the page from y=top, height CSS px, WIDTH wide (beyond the viewport too)."""
    r = page.call("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": top, "width": WIDTH, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(r["data"]))
    print("wrote %s (%d x %d)" % (path, WIDTH, height))


def y_of(page, selector_js):
    """The page-relative top of the element selector_js finds (a JS expression), or None."""
    return page.evaluate("(function () { var e = %s; if (!e) return null;"
                         " return e.getBoundingClientRect().top + window.scrollY; })()"
                         % selector_js)


def h2(text):
    return ("Array.prototype.find.call(document.querySelectorAll('h2'), function (h) {"
            " return h.textContent.indexOf(%s) === 0; })" % json.dumps(text))


def shoot_page(page, port, out):
    """The HTTPS page in Chromium: two shots of it."""
    page.set_viewport(WIDTH, 1000)
    page.navigate("https://localhost:%d/" % port)
    # the summary and the ladder: from the top to just under the ladder's drawing
    bottom = page.evaluate("(function () { var l = document.querySelector('.ladder');"
                           " var r = l.getBoundingClientRect(); return r.bottom + window.scrollY;"
                           " })()")
    clip_shot(page, os.path.join(out, "page-https.png"), 0, int(bottom) + 16)
    # Chromium's ClientHello and what the server chose: that section, to the certificate's
    top = y_of(page, h2("Your ClientHello"))
    end = y_of(page, h2("The certificate"))
    if top is None or end is None:
        raise SystemExit("shots.py: the page has no ClientHello section")
    clip_shot(page, os.path.join(out, "page-hello.png"), int(top) - 12, int(end - top))


def run_quiet(argv, timeout=20):
    try:
        return subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout).returncode
    except (OSError, subprocess.TimeoutExpired):
        return None


def shoot(b, srv, build, ca, out):
    """/live opened first, as on the teacher's projector; then the students: our client over
    HTTP, HTTPS and TLS 1.2, curl, one refused on the self-signed port, and Chromium itself
    in a second tab (the page shots); then a click on Chromium's row, and the shot of /live."""
    hp, sp, ss = srv.port("http"), srv.port("https"), srv.port("selfsigned")
    live = b.new_page()
    live.set_viewport(WIDTH, 1300)
    live.navigate("http://127.0.0.1:%d/live" % hp)
    live.wait_js("document.getElementById('status').textContent.indexOf('live') >= 0",
                 what="#status to say live")
    client = os.path.join(build, "client")
    runs = [[client, "http://127.0.0.1:%d/" % hp],
            [client, "--cacert", ca, "https://localhost:%d/" % sp],
            [client, "--cacert", ca, "--tls-max", "1.2", "https://127.0.0.1:%d/" % sp],
            [client, "--cacert", ca, "https://localhost:%d/" % ss]]      # refused: self-signed
    curl = shutil.which("curl")
    if curl:
        runs[2:2] = [[curl, "-sS", "-o", "/dev/null", "--cacert", ca,
                      "https://localhost:%d/" % sp]]
    for argv in runs:
        rc = run_quiet(argv)
        print("ran %s: exit %s" % (" ".join(os.path.basename(a) if i == 0 else a
                                            for i, a in enumerate(argv)), rc))
    with srv.cond:
        mark = len(srv.evs)
    page = b.new_page()
    shoot_page(page, sp, out)
    mine = srv.wait(lambda e: e.get("event") == "request" and e.get("target") == "/" and
                    srv.evs.index(e) >= mark, "Chromium's GET /")["conn"]
    page.close()
    b.call("Target.activateTarget", {"targetId": live.target_id})
    n = live.wait_js("document.querySelector('#rows tr[data-conn=\"%d\"]') && "
                     "document.querySelectorAll('#rows tr[data-conn]').length" % mine,
                     what="Chromium's row (conn %d)" % mine)
    live.evaluate("document.querySelector('#rows tr[data-conn=\"%d\"]').click()" % mine)
    live.wait_js("(function () { var d = document.getElementById('detail').contentDocument;"
                 " return d && d.querySelector('svg') ? 1 : 0; })()",
                 what="#detail to show connection %d" % mine)
    time.sleep(0.3)         # the iframe's paint
    height = live.evaluate("document.documentElement.scrollHeight")
    clip_shot(live, os.path.join(out, "live.png"), 0, int(height))
    print("/live: %d rows, clicked Chromium's conn %d" % (n, mine))


def main():
    ap = argparse.ArgumentParser(description="the docs' screenshots (page-https.png, "
                                 "page-hello.png, live.png) from headless Chromium")
    ap.add_argument("outdir")
    ap.add_argument("--certs", default=os.path.join(ROOT, "certs", "out"),
                    help="the demo certificates (ca.crt trusted; default certs/out)")
    ap.add_argument("--build", default=os.path.join(ROOT, os.environ.get("BUILD") or "build"))
    a = ap.parse_args()
    chromium, certutil = shutil.which("chromium"), shutil.which("certutil")
    if not chromium or not certutil:
        raise SystemExit("shots.py needs chromium and certutil (Debian: chromium, libnss3-tools)")
    ca = os.path.abspath(os.path.join(a.certs, "ca.crt"))
    if not os.path.exists(ca):
        raise SystemExit("shots.py: no %s (run certs/make-certs.sh)" % ca)
    os.makedirs(a.outdir, exist_ok=True)
    home = tempfile.mkdtemp(prefix="shots-home-")
    srv = Server(a.build, os.path.abspath(a.certs))
    try:
        make_nssdb(certutil, home, ca)
        with Browser(chromium, home, timeout=15.0) as b:
            shoot(b, srv, a.build, ca, a.outdir)
    finally:
        srv.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
