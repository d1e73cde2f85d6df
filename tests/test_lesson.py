"""Issue 13 items 2 and 3: one clock where both sides' lines meet (HSLAB_T0, make demo, the
ladder), and make lesson: five steps, a pause between them on a terminal, one self-contained
HTML handout in English or Chinese that headless Chromium renders.

These run whole scripts (the demo, the lesson, Chromium): once per CI run, not again under
SAN=1 or valgrind (the programs they drive are tested there by the other files).
"""

import fcntl
import html.parser
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import termios
import time
import unicodedata

import pytest

from harness.env import CHILD_ENV, CLIENT, LADDER, ROOT, SAN, VALGRIND
from harness.peers import run_chromium
from harness.tcp import is_root

pytestmark = pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again "
                                "under SAN=1 or valgrind (whole scripts and Chromium)")

TIME = re.compile(r"^\s*\+(\d+\.\d+) ms  (client|server)")
STEPS = 5


def width(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def closed_port():
    """A loopback port nothing listens on (bound, then closed: a refused connect)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_t_ms(r):
    return r.ev[0]["t_ms"] if r.ev and "t_ms" in r.ev[0] else None


def test_one_origin_hslab_t0(t, run, build, certs, tmp_path):
    """HSLAB_T0 (wall-clock µs) is the origin of the log's times: 5 s back gives +5000 ms on
    the first line; a value that is not a number, or in the future, is ignored. The ladder
    counts from it too, and says so."""
    port = closed_port()
    url = "http://127.0.0.1:%d/" % port
    t0 = int(time.time() * 1e6) - 5000000
    r = run([CLIENT, "--log-format", "json", url], env={"HSLAB_T0": str(t0)}, name="client t0")
    first = first_t_ms(r)
    t.check("HSLAB_T0 5 s back: the first t_ms counts from it", first is not None and
            5000 <= first < 15000, "5000 <= t_ms < 15000", first)
    for bad in ("abc", str(int(time.time() * 1e6) + 60000000), "12x", ""):
        r = run([CLIENT, "--log-format", "json", url], env={"HSLAB_T0": bad},
                name="client bad t0")
        first = first_t_ms(r)
        t.check("HSLAB_T0=%r ignored: t_ms from the program's start" % bad,
                first is not None and first < 1000, "t_ms < 1000", first)
    # the ladder: two logs made under one origin (make lesson's step 3), drawn with that
    # origin (ts_us - t_ms of any record) and without
    logs = lesson_run(t, tmp_path, "en", certs)
    c, s = (os.path.join(logs, "step3", "tls13", n) for n in ("client.json", "server.json"))
    recs = [json.loads(l) for l in open(c) if l.startswith("{")]
    origin = recs[0]["ts_us"] - int(round(recs[0]["t_ms"] * 1000))
    r = run([LADDER, c, s], env={"HSLAB_T0": str(origin)}, name="ladder t0")
    t.contains("ladder with HSLAB_T0: says where its times count from", r.text,
               "times in ms since HSLAB_T0")
    rows = [float(m.group(1)) for m in re.finditer(r"^\s+(\d+\.\d{3})[*^]?\s", r.text, re.M)]
    lo = min(e["t_ms"] for e in recs)
    t.check("ladder with HSLAB_T0: its times are the programs' t_ms (one origin)",
            bool(rows) and abs(min(rows) - lo) < 1.0, "first row ≈ %.3f" % lo, rows[:3])
    env = dict(CHILD_ENV)
    env.pop("HSLAB_T0", None)
    p = subprocess.run([LADDER, c, s], env=env, stdout=subprocess.PIPE, timeout=30)
    t.contains("ladder without HSLAB_T0: from the first event, as before",
               p.stdout.decode(), "times in ms since the first event")


_LESSONS = {}


def lesson_run(t, tmp_path, lang, certs):
    """scripts/lesson.sh --out DIR --lang LANG (the certs fixture's CERTS: a fresh clone has
    no certs/out), for a test that reads its logs; returns DIR/work-LANG."""
    if lang not in _LESSONS:
        out = tempfile.mkdtemp(prefix="lesson-", dir=str(tmp_path))
        p = subprocess.run([os.path.join(ROOT, "scripts", "lesson.sh"), "--out", out,
                            "--lang", lang], cwd=ROOT, env=dict(CHILD_ENV, CERTS=certs.dir),
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        t.eq("lesson.sh --lang %s: exit" % lang, p.returncode, 0)
        _LESSONS[lang] = os.path.join(out, "work-" + lang)
    return _LESSONS[lang]


def test_demo_one_clock(t, run, certs, build):
    """make demo (scripts/demo.sh): both programs on one origin, each step's lines of both
    sides merged in time order: the times never go back, and the server's lines of a request
    come between the client's (without one origin the server's times, counted from its own
    start, put all its lines after the client's). --explain is on; as root the client's
    capture shows the handshake's seq/ack, otherwise the demo says why there is none."""
    r = run([os.path.join(ROOT, "scripts", "demo.sh")], timeout=60, name="demo.sh",
            env={"BUILD": build.dir, "CERTS": certs.dir})
    t.eq("demo.sh: exit", r.rc, 0)
    lines = r.text.splitlines()
    times = [(float(m.group(1)), m.group(2), i) for i, l in enumerate(lines)
             for m in [TIME.match(l)] if m]
    back = [(lines[a[2]], lines[b[2]]) for a, b in zip(times, times[1:]) if b[0] < a[0]]
    t.check("demo.sh: %d timed lines, none earlier than the one before" % len(times),
            len(times) > 50 and not back, "non-decreasing", back[:2])
    step1 = r.text.split("== 1. HTTP", 1)[-1].split("== 2. HTTPS", 1)[0]
    pos = {k: step1.find(k) for k in ("client #1  HTTP > GET", "server #1  HTTP < GET",
                                      "client #1  HTTP < 200 OK")}
    t.check("demo.sh: the server's '< GET' between the client's '> GET' and '< 200 OK'",
            -1 not in pos.values() and pos["client #1  HTTP > GET"] <
            pos["server #1  HTTP < GET"] < pos["client #1  HTTP < 200 OK"], "in order", pos)
    t.check("demo.sh: --explain's why lines", re.search(r"^\s{20,}why", r.text, re.M) is not None,
            "why ...", step1[:300])
    if is_root():
        t.check("demo.sh as root: the client's captured SYN with its seq",
                re.search(r"client #1  TCP  > SYN\s+SYN seq=x \(x=\d+\)", step1) is not None,
                "> SYN seq=x (x=N)", step1[:600])
        # a segment at its capture's stamp: before the accept() it caused (read from the
        # capture a little later, it used to come after)
        at = {k: step1.find(k) for k in ("client #1  TCP  < SYN,ACK", "client #1  TCP  > ACK ",
                                         "server #1  TCP  established")}
        t.check("demo.sh as root: SYN+ACK and ACK before the server's accept()",
                -1 not in at.values() and at["client #1  TCP  < SYN,ACK"] <
                at["client #1  TCP  > ACK "] < at["server #1  TCP  established"], "in order", at)
        t.contains("demo.sh as root: says a segment is shown at the capture's time", r.text,
                   "shown at the capture's time")
    else:
        t.contains("demo.sh not root: says there is no capture", r.text, "Not root: no capture")


def pty_run(argv, cols, answer_to=None, timeout=60.0, env=None, answer=b"\n"):
    """argv in a pseudo-terminal of cols columns (stdin, stdout and stderr); each time the
    output shows answer_to (bytes) again, answer (Enter) is typed. Returns (text, exit
    status)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    e = dict(CHILD_ENV)
    e.update(env or {})
    e["COLUMNS"] = str(cols)
    p = subprocess.Popen(argv, cwd=ROOT, env=e, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True)
    os.close(slave)
    out, answered = b"", 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    d = os.read(master, 65536)
                except OSError:
                    break
                if not d:
                    break
                out += d
                if answer_to and out.count(answer_to) > answered:
                    answered += 1
                    os.write(master, answer)
            elif p.poll() is not None:
                break
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
        p.wait(5)
        os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))
    return text.replace("\r", ""), p.returncode, answered


def test_demo_fits_terminal(t, certs, build):
    """In an 80-column terminal no line of make demo is wider (the page's body lines aside,
    '  | ': the server's bytes), and no word is cut."""
    text, rc, _ = pty_run([os.path.join(ROOT, "scripts", "demo.sh")], 80,
                          env={"BUILD": build.dir, "CERTS": certs.dir})
    t.eq("demo.sh in a pty: exit", rc, 0)
    wide = [l for l in text.splitlines() if width(l) > 80 and not l.startswith("  | ")]
    t.check("demo.sh in 80 columns: no line wider", not wide, "none", wide[:3])
    t.contains("demo.sh in 80 columns: the ladder, too wide, goes to a file", text,
               "lesson-out/demo-ladder.txt")


class Handout(html.parser.HTMLParser):
    """What the tests look at in a handout: the steps, their SVGs and table rows, and every
    attribute or style that could load something."""

    def __init__(self):
        super().__init__()
        self.steps = []         # per step: {"svg": n, "client": n, "server": n}
        self.refs = []          # attributes and tags that would fetch something
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "section" and a.get("class") == "step":
            self.steps.append({"svg": 0, "client": 0, "server": 0})
        elif self.steps and tag == "svg":
            self.steps[-1]["svg"] += 1
        elif self.steps and tag == "tr" and a.get("class") in ("client", "server"):
            self.steps[-1][a["class"]] += 1
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "srcset", "data", "action", "xmlns") and \
                    v and not v.startswith("#"):
                self.refs.append((tag, k, v))
            if k == "style" and v and "url(" in v:
                self.refs.append((tag, k, v))
        if tag in ("script", "link", "img", "iframe", "object", "embed", "image", "use"):
            self.refs.append((tag, "", ""))

    def handle_data(self, data):
        if "@import" in data or re.search(r"url\(\s*['\"]?(https?:|//)", data):
            self.refs.append(("text", "css", data[:80]))


def make_lesson(t, build, lang, timeout=60.0):
    """make lesson [LESSON_LANG=zh], not on a terminal, as a user would run it from the top of
    the repository. Returns (stdout lines, the handout's path, seconds)."""
    env = dict(CHILD_ENV)
    for k in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "HSLAB_T0"):
        env.pop(k, None)
    argv = ["make", "--no-print-directory", "lesson", "BUILD=" + build.dir] + \
        (["LESSON_LANG=zh"] if lang == "zh" else [])
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        t.check("make lesson %s finishes" % lang, False, "exit", "timed out")
        return [], None, timeout + 60
    secs = time.monotonic() - t0
    t.eq("make lesson %s: exit" % lang, p.returncode, 0)
    t.check("make lesson %s: under %.0f s without a terminal" % (lang, timeout), secs < timeout,
            "< %.0f s" % timeout, "%.1f s" % secs)
    lines = p.stdout.decode("utf-8", "replace").splitlines()
    want = "lesson-out/lesson-%s.html" % lang
    t.eq("make lesson %s: the last line is the handout's path alone" % lang,
         lines[-1] if lines else None, want)
    t.check("make lesson %s: no error output" % lang, not p.stderr.strip(), "nothing",
            p.stderr.decode("utf-8", "replace")[-800:])
    return lines, os.path.join(ROOT, want), secs


def check_handout(t, path, lang):
    what = "handout %s" % lang
    text = open(path, encoding="utf-8").read()
    h = Handout()
    h.feed(text)
    t.eq("%s: five steps" % what, len(h.steps), STEPS)
    for i, s in enumerate(h.steps, 1):
        t.check("%s step %d: an SVG ladder and both sides' lines" % (what, i),
                s["svg"] >= 1 and s["client"] >= 1 and s["server"] >= 1,
                "svg, client and server rows", s)
    t.check("%s: self-contained (nothing to fetch)" % what, not h.refs, "no reference",
            h.refs[:5])
    t.check("%s: no URL in an attribute" % what,
            re.search(r"""=\s*["']?\s*(https?:|//|file:)""", text) is None, "none",
            (re.search(r"""=\s*["']?\s*(https?:|//|file:).{0,60}""", text) or [None])[0])
    t.contains("%s: the one clock is said" % what, text, "HSLAB_T0")
    return text


def chromium_renders(t, procs, chromium, path, what, tmp_path):
    """Headless Chromium loads the file: its DOM has the five steps and their SVGs, and a
    screenshot is written."""
    home = tempfile.mkdtemp(prefix="chromium-home-", dir=str(tmp_path))
    url = "file://" + path
    dom, err, _ = run_chromium(t, procs, chromium, home, ["--dump-dom", url], what, 60.0)
    t.eq("%s: Chromium's DOM has the five steps" % what,
         len(re.findall(r'<section class="step"', dom)), STEPS)
    t.check("%s: Chromium's DOM has the SVG ladders" % what, dom.count("<svg") >= STEPS,
            ">= %d <svg" % STEPS, dom.count("<svg"))
    png = os.path.join(home, "shot.png")
    run_chromium(t, procs, chromium, home, ["--hide-scrollbars", "--window-size=1000,1400",
                                            "--screenshot=" + png, url], what, 60.0)
    t.check("%s: Chromium's screenshot" % what,
            os.path.exists(png) and os.path.getsize(png) > 20000, "a PNG > 20 kB",
            os.path.getsize(png) if os.path.exists(png) else "none")


def test_make_lesson_en(t, build, procs, tmp_path):
    """make lesson: under a minute without a terminal, the last line the handout's path; the
    handout has five steps, each an SVG and both sides' lines, fetches nothing, and renders in
    headless Chromium (if installed)."""
    _, path, _ = make_lesson(t, build, "en")
    if path is None or not os.path.exists(path):
        return t.check("make lesson en: the handout exists", False, path, "missing")
    text = check_handout(t, path, "en")
    for s in ("three-way handshake", "four-way close", "TLS 1.3", "RSA key transport",
              "self-signed", "ClientKeyExchange"):
        t.contains("handout en: %s" % s, text, s)
    t.check("handout en: the logs' text is escaped (no raw tag from a log line)",
            "<- 127.0.0.1" not in text and "&lt;" in text, "escaped", "")
    chromium = shutil.which("chromium")
    if chromium:
        chromium_renders(t, procs, chromium, path, "handout en", tmp_path)
    else:
        t.skip("chromium is not installed: the rendering is not checked")


def test_make_lesson_zh(t, build, procs, tmp_path):
    """make lesson LESSON_LANG=zh: the handout in Chinese (its own prose), the logs from the
    programs' --lang zh (the Chinese textbook's step names), rendered by Chromium."""
    _, path, _ = make_lesson(t, build, "zh")
    if path is None or not os.path.exists(path):
        return t.check("make lesson zh: the handout exists", False, path, "missing")
    text = check_handout(t, path, "zh")
    t.contains("handout zh: lang", text, '<html lang="zh-CN">')
    for s in ("三次握手", "四次挥手", "预主密钥", "自签名证书", "第 1 步"):
        t.contains("handout zh: %s" % s, text, s)
    t.contains("handout zh: the programs' --lang zh step names", text, "第一次握手")
    t.contains("handout zh: a message name with its Chinese beside it", text, "ClientHello 客户端问候")
    chromium = shutil.which("chromium")
    if chromium:
        chromium_renders(t, procs, chromium, path, "handout zh", tmp_path)
    else:
        t.skip("chromium is not installed: the rendering is not checked")


def test_lesson_pauses_on_terminal(t, build, certs, tmp_path):
    """On a terminal lesson.sh stops after each step until Enter (four pauses), and its lines
    fit the terminal (80 columns); the last line is the handout's path."""
    out = str(tmp_path / "lesson")
    text, rc, answered = pty_run([os.path.join(ROOT, "scripts", "lesson.sh"), "--out", out],
                                 80, answer_to=b"-- Enter: next step", timeout=90,
                                 env={"CERTS": certs.dir})
    t.eq("lesson.sh in a pty: exit", rc, 0)
    t.eq("lesson.sh in a pty: paused between the five steps", answered, STEPS - 1)
    lines = [l for l in text.splitlines() if l.strip()]
    t.eq("lesson.sh in a pty: last line", lines[-1] if lines else None,
         os.path.join(out, "lesson-en.html"))
    # (the last line is the path alone, however long: it is not wrapped)
    wide = [l for l in lines[:-1] if width(l) > 80]
    t.check("lesson.sh in 80 columns: no line wider (but the path)", not wide, "none", wide[:3])


def test_lesson_q_skips_to_handout(t, build, certs, tmp_path):
    """On a terminal, q at the first pause: the remaining steps still run (the handout needs
    them) but are not printed; the last line is the handout's path, and the handout has all
    five steps."""
    out = str(tmp_path / "lesson")
    text, rc, answered = pty_run([os.path.join(ROOT, "scripts", "lesson.sh"), "--out", out],
                                 100, answer_to=b"-- Enter: next step", timeout=90,
                                 answer=b"q\n", env={"CERTS": certs.dir})
    t.eq("lesson.sh, q after step 1: exit", rc, 0)
    t.eq("lesson.sh, q after step 1: asked once", answered, 1)
    t.contains("lesson.sh, q after step 1: step 1 shown", text, "== Step 1:")
    shown = [n for n in range(2, STEPS + 1) if "== Step %d:" % n in text]
    t.eq("lesson.sh, q after step 1: steps 2-5 not printed", shown, [])
    lines = [l for l in text.splitlines() if l.strip()]
    path = os.path.join(out, "lesson-en.html")
    t.eq("lesson.sh, q after step 1: last line", lines[-1] if lines else None, path)
    page = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    t.eq("lesson.sh, q after step 1: the handout has the five steps",
         len(re.findall(r'<section class="step" id="step\d"', page)), STEPS)
    t.eq("lesson.sh, q after step 1: an SVG ladder in every step",
         page.count("<svg") >= STEPS, True)


def test_lesson_usage(t, run):
    """A newcomer's mistakes: a wrong language, an unknown flag."""
    sh = os.path.join(ROOT, "scripts", "lesson.sh")
    r = run([sh, "--lang", "fr"], name="lesson.sh --lang fr")
    t.eq("lesson.sh --lang fr: usage error", r.rc, 2)
    t.contains("lesson.sh --lang fr: says what it takes", r.err, "en or zh")
    r = run([sh, "--frobnicate"], name="lesson.sh --frobnicate")
    t.eq("lesson.sh --frobnicate: usage error", r.rc, 2)
    t.contains("lesson.sh --frobnicate: names it", r.err, "--frobnicate")
    r = run([sh, "--help"], name="lesson.sh --help")
    t.eq("lesson.sh --help: exit", r.rc, 0)
    t.contains("lesson.sh --help: usage", r.text, "usage: scripts/lesson.sh")


def test_mergelog(t, run, tmp_path):
    """scripts/mergelog.py: two logs on one clock merged in time order, an untimed line (a why
    line, the warning's frame) kept under its event; wrapped at a width at spaces or between
    CJK characters (two columns each), never splitting a word, never starting a line with CJK
    punctuation; a log that cannot be read is an error."""
    a, b = tmp_path / "server.log", tmp_path / "client.log"
    a.write_text("    +1.000 ms  server     TCP  listen           http 127.0.0.1:1\n"
                 "    +3.000 ms  server #1  HTTP < GET /        HTTP/1.1\n"
                 "                                               why: the request arrived\n")
    b.write_text("    +2.000 ms  client #1  HTTP > GET /        HTTP/1.1\n"
                 "    +4.000 ms  client #1  HTTP < 200 OK       HTTP/1.1\n")
    ml = os.path.join(ROOT, "scripts", "mergelog.py")
    r = run(["python3", ml, str(a), str(b)], name="mergelog")
    got = [l.split()[0] if l.lstrip().startswith("+") else "why" for l in r.text.splitlines()]
    t.eq("mergelog: in time order, the why line under its event", got,
         ["+1.000", "+2.000", "+3.000", "why", "+4.000"])
    zh = ("    +5.000 ms  client #1  TCP  fin_sent         第一次挥手：客户端发出 FIN，进入 FIN_WAIT1，"
          "服务器的内核立即回复 ACK（第二次挥手）。 shutdown(SHUT_WR) makes the kernel send FIN")
    b.write_text(zh + "\n")
    r = run(["python3", ml, "--width", "40", str(b)], name="mergelog --width 40")
    lines = r.text.splitlines()
    t.check("mergelog --width 40: no line wider", lines and all(width(l) <= 40 for l in lines),
            "<= 40 columns", [(width(l), l) for l in lines if width(l) > 40])
    t.check("mergelog --width 40: no CJK punctuation starts a line",
            not any(l.strip()[:1] in "，。、：；）" for l in lines[1:]), "none", lines)
    words = set(re.findall(r"[A-Za-z_()0-9]+", zh))
    got_words = set(re.findall(r"[A-Za-z_()0-9]+", r.text))
    t.check("mergelog --width 40: no word split", words == got_words, "the same words",
            sorted(got_words - words))
    t.eq("mergelog --width 40: the text kept", re.sub(r"\s+", "", r.text), re.sub(r"\s+", "", zh))
    # a why at the end of an event's line (a piped log) goes under it, once: the same
    # sentence under the next event of its kind is left out
    why = "why: listen() turns the socket into a passive one"
    b.write_text("".join("    +%d.000 ms  server     TCP  listen           http 127.0.0.1:%d  "
                         "[LISTEN]  %s\n" % (n, n, why) for n in (6, 7, 8)) +
                 "    +9.000 ms  server     TCP  closed           close()  why: other\n")
    r = run(["python3", ml, str(b)], name="mergelog whys")
    lines = r.text.splitlines()
    t.eq("mergelog: a why said once, under its first event",
         [l.strip() for l in lines if "why:" in l], [why, "why: other"])
    t.eq("mergelog: every event line kept", sum(1 for l in lines if "ms  server" in l), 4)
    r = run(["python3", ml, str(a), str(tmp_path / "missing.log")], name="mergelog missing")
    t.eq("mergelog with a log that cannot be read: exit", r.rc, 1)
    t.contains("mergelog with a log that cannot be read: names it", r.err, "missing.log")


def test_mergelog_capture_stamps(t, run, tmp_path):
    """scripts/mergelog.py --stamps LOG:JSON: a captured segment's text line carries the moment
    the program read it (ts_us), a little after the capture stamped it (cap_ts_us); merged with
    the other side's log, it is placed and shown at the capture's stamp, so the SYN+ACK and the
    ACK come before the server's accept() they caused (here ts_us order and cap_ts_us order
    differ); a line that is not a captured segment keeps its time."""
    srv, cli, js = tmp_path / "server.log", tmp_path / "client.log", tmp_path / "client.json"
    srv.write_text("    +2.000 ms  server #1  TCP  established      127.0.0.1:1 <- 127.0.0.1:2"
                   "  accept() returned\n")
    cli.write_text("    +1.900 ms  client #1  TCP  connect          127.0.0.1:2 -> 127.0.0.1:1\n"
                   "    +2.100 ms  client #1  TCP  < SYN,ACK        SYN+ACK seq=y ack=x+1\n"
                   "                                 why (2nd handshake): the listening side\n"
                   "    +2.110 ms  client #1  TCP  > ACK            ACK seq=x+1 ack=y+1\n"
                   "    +2.200 ms  client #1  TCP  established      connect() completed\n")
    origin = 1700000000000000	# ts_us - t_ms * 1000 of every record
    recs = [dict(t_ms=1.9, event="connect"),
            dict(t_ms=2.1, event="segment", dir="in", flags="SYN,ACK", cap_ts_us=origin + 1950),
            dict(t_ms=2.11, event="segment", dir="out", flags="ACK", cap_ts_us=origin + 1960),
            dict(t_ms=2.2, event="established")]
    with open(js, "w") as f:
        for r in recs:
            r.update(ts_us=origin + int(round(r["t_ms"] * 1000)), side="client", conn=1,
                     layer="TCP")
            f.write(json.dumps(r) + "\n")
    ml = os.path.join(ROOT, "scripts", "mergelog.py")
    r = run(["python3", ml, "--stamps", "%s:%s" % (cli, js), str(srv), str(cli)],
            name="mergelog --stamps")
    t.eq("mergelog --stamps: exit", r.rc, 0)
    got = [(l.split()[0], " ".join(l.split()[5:7])) for l in r.text.splitlines()
           if TIME.match(l)]
    t.eq("mergelog --stamps: segments at their capture's stamp, before the accept() they caused",
         got, [("+1.900", "connect 127.0.0.1:2"), ("+1.950", "< SYN,ACK"), ("+1.960", "> ACK"),
               ("+2.000", "established 127.0.0.1:1"), ("+2.200", "established connect()")])
    lines = r.text.splitlines()
    t.check("mergelog --stamps: the why stays under its segment, the time field as wide",
            len(lines) == 6 and lines[2].lstrip().startswith("why") and
            lines[1].index(" ms") == lines[0].index(" ms"), "why under '< SYN,ACK'", lines)
    r = run(["python3", ml, str(srv), str(cli)], name="mergelog without --stamps")
    t.check("mergelog without --stamps: the read times, as logged",
            "+2.100 ms  client #1  TCP  < SYN,ACK" in r.text, "+2.100", r.text[:300])
