"""Issue 13, item 1: text that fits the terminal. In a pseudo-terminal of 80 and of 120 columns
(TIOCSWINSZ) no line of the client's or the server's text log (--explain, --lang zh, --dissect,
--capture), of the certificate warning or of `scripts/demo.sh` is wider than the terminal or
splits a word; CJK characters count two columns (unicodedata, independently of our C code).
Piped, the log keeps one event per line. Bodies aside: -o /dev/null."""

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unicodedata

import pytest

from harness.env import CHILD_ENV, ROOT, SAN, SLOW, VALGRIND
from harness.procs import stop_pid
from harness.tcp import is_root

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EVENT_LINE = re.compile(r"^\s*[+-]\d+\.\d{3} ms  (client|server)")
WIDTHS = (80, 120)
PUNCT = "()[]{}<>,.;:!?'\"`|=-─│┃◆▶◀"


def width(line):
    """Display columns, as a terminal counts them: East Asian Wide/Fullwidth two, combining 0."""
    w = 0
    for ch in ANSI.sub("", line):
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def pty_run(procs, argv, cols, answer=b"n\n", prompt=b"Proceed anyway", timeout=30.0, env=None,
            on_start=None, until=None):
    """argv with stdin, stdout and stderr on a pseudo-terminal of `cols` columns; `answer`
    typed when `prompt` shows; `until(output)` true: SIGTERM (once). Returns (exit status,
    the terminal's text, ANSI codes left in)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    e = dict(CHILD_ENV)
    e.pop("COLUMNS", None)
    e.update(env or {})
    p = procs.popen(argv, stdin=slave, stdout=slave, stderr=slave, env=e, start_new_session=True)
    os.close(slave)
    buf, sent = b"", False
    deadline = time.monotonic() + timeout * SLOW
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    d = os.read(master, 65536)
                except OSError:         # EIO: every writer closed the terminal
                    d = b""
                if not d:
                    break
                buf += d
                if on_start is not None and on_start(buf):
                    on_start = None
                if until is not None and on_start is None and until(buf):
                    p.send_signal(signal.SIGTERM)
                    until = None
            elif p.poll() is not None:
                break
            if answer is not None and not sent and prompt in buf:
                os.write(master, answer)
                sent = True
        rc = p.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        stop_pid(p)
        rc = None
    finally:
        os.close(master)
    return rc, buf.decode("utf-8", "replace").replace("\r\n", "\n")


def piped_run(argv, timeout=30.0):
    """The same command with its output piped: (exit status, stdout + stderr text)."""
    p = subprocess.run(argv, cwd=ROOT, env=CHILD_ENV, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout * SLOW)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def words(text):
    """Every ASCII word of the text (CJK characters break words), ANSI codes taken out."""
    out = set()
    for tok in re.split(r"[\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+", ANSI.sub("", text)):
        tok = tok.strip(PUNCT)
        if tok:
            out.add(tok)
    return out


def split_words(term, reference):
    """Words the terminal's line breaks split: a line's last word and the next line's first
    that are not words of the reference but make one when joined (secr / et)."""
    ref = words(reference)
    # the warning's frame ("| " before each line) is not part of its words
    lines = [re.sub(r"^[|+]-*", "", ANSI.sub("", l)) for l in term.split("\n")]
    bad = []
    for a, b in zip(lines, lines[1:]):
        ta, tb = a.split(), b.split()
        if not ta or not tb:
            continue
        x, y = ta[-1], tb[0]
        xs, ys = x.strip(PUNCT), y.strip(PUNCT)
        if not xs or not ys:            # a frame, a rule, a lone mark: not part of a word
            continue
        for joined in (x + y, x.rstrip(",.;:") + y):
            j = joined.strip(PUNCT)
            if j in ref and (xs not in ref or ys not in ref):
                bad.append("%s / %s" % (x, y))
                break
    return bad


def check_fits(t, what, text, cols, reference=None, wrapped=True):
    """No line wider than cols, no word split; wrapped: some line continues under the detail
    column (the --explain view; the compact view cuts instead, see test_fit_compact)."""
    lines = text.split("\n")
    wide = ["%d: %s" % (width(l), ANSI.sub("", l)) for l in lines if width(l) > cols]
    t.check("%s (%d columns): no line wider than the terminal" % (what, cols), not wide,
            "none", wide[:3])
    if wrapped:
        t.check("%s (%d columns): some lines were wrapped, under the detail column" %
                (what, cols), any(re.match(r"^ {47}\S", ANSI.sub("", l)) for l in lines) or
                what.startswith("demo"), "a continuation line at column 47", None)
    if reference is not None:
        bad = split_words(text, reference)
        t.check("%s (%d columns): no word split by a line break" % (what, cols), not bad, "none",
                bad[:5])


def one_event_per_line(t, what, text):
    """Piped: every log line is an event's line (or a --dissect field, or the warning box and
    the final words on standard error), none continues another."""
    lines = [l for l in text.split("\n") if l.strip()]
    cont = [l for l in lines if l.startswith(" ") and not EVENT_LINE.match(l) and
            not re.match(r"^ {14}(client|server)( #\d+)? ", l)]
    t.check("%s piped: one event per line (no continuation lines)" % what, not cont, "none",
            cont[:3])
    t.check("%s piped: the why joins its event's line" % what,
            not [l for l in lines if l.lstrip().startswith(("why", "原因"))],
            "no why line of its own", None)


@pytest.mark.parametrize("cols", WIDTHS)
def test_fit_client(t, server, procs, certs, build, cols):
    """The client's log on a terminal: compact by default, --explain, --explain --lang zh,
    --dissect; and the same commands piped keep one event per line."""
    with server(http=0, https=0, selfsigned=None) as srv:
        https = "https://localhost:%d/" % srv.port("https")
        http = "http://127.0.0.1:%d/" % srv.port("http")
        base = [build.client, "--linger-watch", "0", "-o", "/dev/null"]
        runs = [("client", base + ["--cacert", certs.ca, https]),
                ("client --explain", base + ["--explain", "--cacert", certs.ca, https]),
                ("client --explain --lang zh", base + ["--explain", "--lang", "zh", "--cacert",
                                                       certs.ca, https]),
                ("client --dissect", base + ["--dissect", "--cacert", certs.ca, https]),
                ("client http --explain", base + ["--explain", http])]
        for what, argv in runs:
            rc, term = pty_run(procs, argv, cols)
            t.eq("%s: exit" % what, rc, 0)
            prc, piped = piped_run(argv + ["--color", "never"])
            t.eq("%s piped: exit" % what, prc, 0)
            check_fits(t, what, term, cols, piped, wrapped="--explain" in argv)
            one_event_per_line(t, what, piped)
            if what == "client":
                t.check("compact on a terminal: no gloss", " -- " not in term and
                        "SYN+ACK received" not in term, "no gloss", None)
                t.check("...which piped keeps", "  -- " in piped, "the gloss", None)
            if what == "client --explain":
                t.check("--explain on a terminal: the why on lines of its own",
                        re.search(r"\n {47}(\x1b\[[0-9;]*m)?why \(", term) is not None,
                        "a why line under the detail column", None)
            if what == "client --explain --lang zh":
                t.check("--lang zh: the Chinese step names are there",
                        "第一次握手" in term.replace("\n", "").replace(" ", ""), "第一次握手", None)


@pytest.mark.parametrize("cols", WIDTHS)
def test_fit_warning_box(t, server, procs, certs, build, cols):
    """The certificate warning at the self-signed port (answered n), in English and Chinese:
    its frame and text fit the terminal, 80 columns at most."""
    with server(http=None, https=None, selfsigned=0) as srv:
        url = "https://localhost:%d/" % srv.port("selfsigned")
        for lang in ("en", "zh"):
            argv = [build.client, "--linger-watch", "0", "--lang", lang, "-o", "/dev/null", url]
            rc, term = pty_run(procs, argv, cols, prompt="[y/N]".encode())
            t.eq("warning (%s): refused after the answer n, exit 60" % lang, rc, 60)
            plain = ANSI.sub("", term)
            box = [l for l in plain.split("\n") if l.startswith("|") or l.startswith("+--")]
            t.check("warning (%s): the box is there" % lang, len(box) > 8, "> 8 lines", len(box))
            t.check("warning (%s, %d columns): the frame fits 80 columns" % (lang, cols),
                    all(width(l) <= 80 for l in box), "<= 80", [l for l in box if width(l) > 80][:2])
            t.check("warning (%s): its title in the language" % lang,
                    ("证书警告" if lang == "zh" else "Certificate warning") in plain, "title", None)
            _, piped = piped_run(argv + ["--color", "never"])
            check_fits(t, "warning (%s)" % lang, term, cols, piped, wrapped=False)


@pytest.mark.parametrize("cols", WIDTHS)
def test_fit_server(t, procs, certs, build, cols):
    """The server's own log on a terminal, with --explain --lang zh, while clients connect."""
    argv = [build.server, "--certs", certs.dir, "--http-port", "0", "--https-port", "0",
            "--selfsigned-port", "off", "--explain", "--lang", "zh", "--linger-watch", "0"]
    ports = {}

    def started(buf):
        text = ANSI.sub("", buf.decode("utf-8", "replace"))
        for kind in ("http", "https"):
            m = re.search(r"listen\s+%s\s+127\.0\.0\.1:(\d+)" % kind, text)
            if m:
                ports[kind] = int(m.group(1))
        if len(ports) == 2:
            # in the background: the server's terminal must be read meanwhile
            for url in ("http://127.0.0.1:%d/" % ports["http"],
                        "https://localhost:%d/" % ports["https"]):
                procs.popen([build.client, "-q", "--cacert", certs.ca, "-o", "/dev/null", url],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
            return True
        return False

    def both_closed(buf):
        return len(re.findall(r"#\d+\s+(?:TCP\s+)?closed\b", ANSI.sub("", buf.decode(
            "utf-8", "replace")))) >= 2

    # The server runs until it has logged both clients' closes, then SIGTERM.
    rc, term = pty_run(procs, argv, cols, answer=None, on_start=started, until=both_closed)
    t.check("server: both ports reported", len(ports) == 2, "http and https", ports)
    t.check("server: its log shows the clients' requests", "GET /" in term, "GET /", None)
    check_fits(t, "server --explain --lang zh", term, cols)


@pytest.mark.parametrize("cols", WIDTHS)
def test_fit_capture(t, server, procs, build, cols):
    """--capture --explain (root): the segment lines with seq/ack fit too."""
    if not is_root():
        pytest.skip("--capture needs root (CAP_NET_RAW)")
    with server(https=None, selfsigned=None) as srv:
        argv = [build.client, "--capture", "--explain", "--linger-watch", "0", "-o", "/dev/null",
                "http://127.0.0.1:%d/" % srv.port("http")]
        rc, term = pty_run(procs, argv, cols)
        t.eq("capture: exit", rc, 0)
        t.check("capture: segments logged", "seq=" in term or "SYN" in term, "segments", None)
        _, piped = piped_run(argv + ["--color", "never"])
        check_fits(t, "client --capture --explain", term, cols, piped)
        one_event_per_line(t, "client --capture --explain", piped)


ONCE_PER_CI = pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: not again "
                                 "under SAN=1 or valgrind (a whole script; the printer's C "
                                 "code is checked under them by the other fit tests)")
_PIPED = {}


def piped_once(key, argv, env):
    """The text of a piped run of argv, once per test session for each key (the reference
    whose words a terminal's line breaks must not split)."""
    if key not in _PIPED:
        p = subprocess.run(argv, cwd=ROOT, env=dict(CHILD_ENV, **env), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90 * SLOW)
        _PIPED[key] = p.stdout.decode("utf-8", "replace")
    return _PIPED[key]


@ONCE_PER_CI
@pytest.mark.parametrize("cols", WIDTHS)
def test_fit_demo(t, procs, certs, build, cols):
    """scripts/demo.sh on a terminal of 80 and 120 columns (the self-signed question answered
    n): no line wider than the terminal, no word split by a line break (a long --certs path
    starts further left, whole; the words of a piped run are the reference)."""
    env = {"CERTS": certs.dir, "BUILD": os.path.dirname(build.client)}
    demo = ["bash", os.path.join(ROOT, "scripts", "demo.sh")]
    rc, term = pty_run(procs, demo, cols, timeout=90.0, env=env)
    t.eq("demo: exit", rc, 0)
    check_fits(t, "demo", term, cols)
    bad = split_words(term, piped_once("demo", demo, env))
    t.check("demo (%d columns): no word split by a line break" % cols, not bad, "none",
            bad[:5])


COMPACT_HINT = {"en": "compact view: --explain for every detail and why",
                "zh": "简洁视图：--explain 显示全部细节和原因"}
KEPT_WHOLE = ("timing", "error", "warning", "start", "summary")   # wrapped, not cut
TIME = re.compile(r"^\s*[+-]\d+\.\d+ ms ")
STATE = re.compile(r"\[([A-Z_0-9]+)( seq\+\d+ ack\+\d+)?\]")


def compact_key(line, narrow):
    """An event line's connection and label (its first 15 columns), in the compact view's
    narrow prefix (time, #N, label) or the full one (time, side #N, layer, label)."""
    plain = ANSI.sub("", line)
    if narrow:
        m = re.match(r"^\s*[+-]\d+\.\d ms (#\d+)?\s+(\S.{0,14})", plain)
    else:
        m = re.match(r"^\s*[+-]\d+\.\d{3} ms  (?:client|server)( #\d+)?\s+"
                     r"(?:TCP|TLS|CERT|HTTP|APP)\s+(\S.{0,14})", plain)
    return ((m.group(1) or "").strip(), m.group(2).rstrip()) if m else None


@pytest.mark.parametrize("cols", WIDTHS)
@pytest.mark.parametrize("lang", ("en", "zh"))
def test_fit_compact(t, server, procs, certs, build, cols, lang):
    """The compact view (a terminal, no --explain): one line per event, none wider than the
    terminal, no word split (a detail too long is cut at a word with "…"), the kernel state's
    bracket whole wherever the record has a tcp_state (the piped line's bracket is the JSON
    record's tcp_state: checked against a JSON run), a first line that says where the whole
    text is; piped, the same command still writes whole lines."""
    with server(http=0, https=0, selfsigned=None) as srv:
        argv = [build.client, "--linger-watch", "0", "-o", "/dev/null", "--lang", lang,
                "--cacert", certs.ca, "https://localhost:%d/" % srv.port("https")]
        rc, term = pty_run(procs, argv, cols)
        t.eq("compact %s: exit" % lang, rc, 0)
        _, piped = piped_run(argv + ["--color", "never"])
        _, js = piped_run(argv + ["--log-format", "json"])
    what = "compact %s (%d columns)" % (lang, cols)
    lines = [l for l in term.split("\n") if l.strip()]
    plain = [ANSI.sub("", l) for l in lines]
    narrow = cols < 100
    t.check("%s: the first line says where the whole text is" % what,
            bool(plain) and plain[0].startswith(COMPACT_HINT[lang]), COMPACT_HINT[lang],
            plain[:1])
    t.check("%s piped: no such line" % what, COMPACT_HINT[lang] not in piped, "none", None)
    wide = ["%d: %s" % (width(l), l) for l in plain if width(l) > cols]
    t.check("%s: no line wider than the terminal" % what, not wide, "none", wide[:3])
    # One line per event: every line but the first is an event's, except the continuation
    # of an event read whole (an error, the timings ...).
    extra, whole = [], False
    for l in plain[1:]:
        if TIME.match(l):
            key = compact_key(l, narrow)
            whole = key is not None and key[1].split()[0] in KEPT_WHOLE
        elif not whole:
            extra.append(l)
    t.check("%s: one line per event" % what, not extra, "none", extra[:3])
    events = [l for l in plain if TIME.match(l)]
    t.check("%s: the events are there" % what, len(events) > 20, "> 20", len(events))
    t.check("%s: some detail was cut, with …" % what, cols > 100 or
            any("…" in l for l in events), "…", None)
    # No word split: the word before each "…" is whole: a word of the piped or the JSON log,
    # or one the terminal shows whole elsewhere (numbers, which differ between runs, aside).
    ref = words(piped) | words(js.replace("\\n", " ")) | \
        words(re.sub(r"\S*…", " ", "\n".join(plain)))
    cut = [m.group(1) for l in events for m in re.finditer(r"(\S+)…", l)]
    split = [w for w in cut if words(w) - ref and not re.search(r"\d", w)]
    t.check("%s: no word split" % what, not split, "none", split[:5])
    # The kernel state: the piped log's bracket on the same event (its connection and label).
    piped_states = {}
    for l in piped.split("\n"):
        m = re.match(r"^\s*[+-]\d+\.\d{3} ms  (?:client|server)( #\d+)?\s+"
                     r"(?:TCP|TLS|CERT|HTTP|APP)\s+(\S.{0,15})", l)
        if m:
            key = ((m.group(1) or "").strip(), m.group(2)[:15].rstrip())
            st = STATE.search(l)
            piped_states.setdefault(key, set()).add((st.group(1), bool(st.group(2))) if st
                                                    else None)
    missing, compared = [], 0
    for l in events:
        key = compact_key(l, narrow)
        states = piped_states.get(key)
        if key is None or not states or None in states:
            continue
        compared += 1
        st = STATE.search(l)
        # the state itself may differ between two runs (a FIN that crossed ours); its form not
        if st is None or bool(st.group(2)) not in {seq for _, seq in states}:
            missing.append(l)
    t.check("%s: the kernel state wherever the record has one, whole" % what, not missing,
            "none", missing[:3])
    t.check("%s: events matched with the piped log's" % what, compared > 15, "> 15", compared)
    with_state = [json.loads(l) for l in js.split("\n") if l.startswith("{")]
    with_state = [r for r in with_state if r.get("tcp_state") and r["event"] not in ("phase",
                                                                                  "dissect")]
    bracketed = [l for l in events if STATE.search(l)]
    t.check("%s: as many brackets as JSON records with a tcp_state (within the run's "
            "variation)" % what, abs(len(bracketed) - len(with_state)) <= 3,
            len(with_state), len(bracketed))
    if lang == "zh":
        t.check("%s: the Chinese step names kept" % what, "【第一次握手】" in term and
                "【第二次和第三次握手】" in term, "【第一次握手】", None)


@ONCE_PER_CI
@pytest.mark.parametrize("cols", WIDTHS)
@pytest.mark.parametrize("lang", ("en", "zh"))
def test_fit_lesson(t, procs, build, certs, tmp_path, cols, lang):
    """scripts/lesson.sh --no-pause on a terminal of 80 and 120 columns, in English and in
    Chinese: no line wider (but the last, the handout's path alone), no word split by a line
    break (the words of a piped run of the same lesson are the reference)."""
    env = {"BUILD": os.path.dirname(build.client), "CERTS": certs.dir}
    argv = [os.path.join(ROOT, "scripts", "lesson.sh"), "--no-pause", "--lang", lang,
            "--hold-close", "200"]
    rc, term = pty_run(procs, argv + ["--out", str(tmp_path / "term")], cols, answer=None,
                       timeout=90.0, env=env)
    t.eq("lesson %s: exit" % lang, rc, 0)
    piped = piped_once("lesson " + lang, argv + ["--out", str(tmp_path / "piped")], env)
    lines = [l for l in term.split("\n") if l.strip()]
    t.contains("lesson %s: the last line is the handout's path" % lang,
               lines[-1] if lines else "", "lesson-%s.html" % lang)
    body = "\n".join(lines[:-1])
    wide = [l for l in body.split("\n") if width(l) > cols]
    t.check("lesson %s (%d columns): no line wider" % (lang, cols), not wide, "none",
            [(width(l), l) for l in wide[:3]])
    bad = split_words(body, piped)
    t.check("lesson %s (%d columns): no word split by a line break" % (lang, cols), not bad,
            "none", bad[:5])
