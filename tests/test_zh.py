"""Issue 13, item 4 (the programs): with --lang zh every sentence the client and the server
write is Chinese, over http, https, a refused self-signed certificate, TLS 1.2 RSA key
transport and -n; the trust question and its answer too; the ladder's labels and notes.

The rule for "a sentence left in English" is harness.zh's (4+ consecutive English words once
quoted peer data, names, URLs, flags and identifiers are set aside), shared with the common/
tests.
"""

import re

import pytest

from harness.env import SAN, VALGRIND
from harness.log import events, first, parse_json_lines
from harness.procs import pty_session
from harness.zh import english_lines, english_runs

# The events whose sentences (detail, gloss, reason, label) are written in client/*.c and
# server/*.c; the others' come from common/ (and --explain's why lines from explain.c).
PROGRAM_EVENTS = {"resolve", "request", "response", "body", "timing", "summary",
                  "trust_decision", "trust_question", "trust_retry", "hostname", "listen",
                  "start", "stop", "pause_read", "http_error", "resume", "error"}
TEXT_FIELDS = ("detail", "gloss", "reason", "label", "advice")
HAN = re.compile(r"[\u4e00-\u9fff]")


def field_runs(evs, names=None, fields=TEXT_FIELDS, aside=()):
    """[(event, field, text, runs)] for each text field still holding an English sentence,
    once the strings in `aside` are taken out."""
    out = []
    for e in evs:
        if names is not None and e.get("event") not in names:
            continue
        for k in fields:
            v = e.get(k)
            if not isinstance(v, str):
                continue
            for a in aside:
                v = v.replace(a, " ")
            if english_runs(v):
                out.append((e.get("event"), k, e.get(k), english_runs(v)))
    return out


def common_words(evs):
    """What common/ says inside the programs' sentences: the certificate error in plain
    words (tls_verify_plain, the trust_decision's explanation field), which the client's
    error line quotes. Checked by test_zh_whole_log, not here."""
    return [e["explanation"] for e in events(evs, "trust_decision") if e.get("explanation")]


def scenarios(client, certs, srv, lang, json_log=True, extra=()):
    """The runs of the issue: http, https, self-signed refused (not a terminal), TLS 1.2 RSA
    key transport, -n 3, -L over two redirects, -d (a POST). [(name, rc wanted, result)]"""
    h, s, ss, rsa = (srv.port(k) for k in ("http", "https", "selfsigned", "rsa"))
    base = ["--lang", lang] + list(extra) + ["-o", "/dev/null"]
    runs = [
        ("http", 0, base + ["http://localhost:%d/" % h]),
        ("https", 0, base + ["--cacert", certs.ca, "https://localhost:%d/" % s]),
        ("self-signed refused", 60, base + ["https://localhost:%d/" % ss]),
        ("tls1.2 rsa", 0, base + ["--cacert", certs.ca, "--tls-max", "1.2", "--kx", "rsa",
                                  "https://localhost:%d/" % rsa]),
        ("-n 3", 0, base + ["-n", "3", "--cacert", certs.ca, "https://localhost:%d/" % s]),
        ("-L, a redirect", 0, base + ["-L", "http://localhost:%d/redirect/2" % h]),
        ("-d, a POST", 0, base + ["-d", "user=alice", "http://localhost:%d/" % h]),
    ]
    out = []
    for name, rc, args in runs:
        r = client(*args, json_log=json_log, name="client %s --lang %s" % (name, lang))
        out.append((name, rc, r))
    return out


def test_zh_program_sentences(t, server, client, certs):
    """--lang zh --explain, JSON logs of both programs: no sentence written by the client or
    the server (their events' detail, gloss, reason, label) is left in English; the same runs
    with --lang en are English (the rule sees them), so the check is not empty."""
    with server("--lang", "zh", "--explain", "--rsa-port", "0") as srv:
        for name, rc, r in scenarios(client, certs, srv, "zh", extra=("--explain",)):
            t.eq("%s: exit" % name, r.rc, rc)
            mine = [e for e in r.ev if e.get("event") in PROGRAM_EVENTS]
            t.check("%s: the client's own events are there" % name, len(mine) >= 3, ">= 3",
                    len(mine))
            bad = field_runs(r.ev, PROGRAM_EVENTS, aside=common_words(r.ev))
            t.check("%s (--lang zh): no English sentence in the client's own events" % name,
                    not bad, "none", bad[:6])
            t.check("%s (--lang zh): Chinese in the client's own sentences" % name,
                    any(HAN.search(str(e.get(k, ""))) for e in mine for k in TEXT_FIELDS),
                    "Chinese", [(e.get("event"), e.get("detail")) for e in mine][:4])
        srv.wait_count("closed", 10)
        evs = list(srv.evs)
        bad = field_runs(evs, PROGRAM_EVENTS)
        t.check("server (--lang zh): no English sentence in its own events", not bad, "none",
                bad[:6])
        t.check("server: its listen gloss is Chinese",
                HAN.search((first(evs, "listen") or {}).get("gloss", "")), "Chinese",
                first(evs, "listen"))
        port = srv.port("http")
    # nobody listening any more: the client's connect error
    r = client("--lang", "zh", "http://127.0.0.1:%d/" % port,
               name="client --lang zh, no server")
    t.eq("no server: exit 7", r.rc, 7)
    err = first(r.ev, "error") or {}
    t.check("no server: the error line is Chinese", HAN.search(err.get("detail", "")) and
            not field_runs([err]), "Chinese, no English sentence", err)
    # the control: the same rule finds the English sentences of --lang en
    with server("--rsa-port", "0") as srv:
        found = 0
        for name, rc, r in scenarios(client, certs, srv, "en"):
            found += len(field_runs(r.ev, PROGRAM_EVENTS, aside=common_words(r.ev)))
        t.check("--lang en: the rule finds English sentences in the same events", found >= 10,
                ">= 10", found)


def test_zh_trust_question(t, server, build, procs):
    """On a terminal with --lang zh: the warning's question in Chinese, 是 is a yes (a new
    connection gets the page), the trust events say so in Chinese."""
    with server(http=None, https=None) as srv:
        port = srv.port("selfsigned")
        rc, out, term, prompted = pty_session(
            procs, [build.client, "--log-format", "json", "--lang", "zh",
                    "https://localhost:%d/" % port], "是\n".encode(),
            prompt="仍然继续吗？[y/N]".encode())
        t.check("the question is Chinese", prompted, "仍然继续吗？[y/N]", term[-600:])
        t.eq("是: exit 0 (the page came on a new connection)", rc, 0)
        evs = parse_json_lines(term)
        q = first(evs, "trust_question") or {}
        t.check("trust_question: Chinese, no English sentence",
                HAN.search(q.get("detail", "")) and not field_runs([q]), "Chinese", q)
        d = [e for e in events(evs, "trust_decision") if e.get("prompted")]
        t.check("the answer: proceed, said in Chinese", d and d[0].get("decision") == "proceed"
                and "你回答了是" in d[0].get("detail", ""), "你回答了是 ...", d[:1])
        rt = first(evs, "trust_retry") or {}
        t.check("trust_retry: Chinese", HAN.search(rt.get("detail", "")) and
                not field_runs([rt]), "Chinese", rt)


@pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: the same client runs as "
                    "test_zh_program_sentences, which runs under SAN=1 too; this one reads "
                    "their text")
def test_zh_whole_log(t, server, client, certs):
    """The issue's rule over everything printed: the client's text log (--explain, the
    warning box included) and every text field of the server's log, no line with an English
    sentence."""
    with server("--lang", "zh", "--explain", "--rsa-port", "0") as srv:
        for name, rc, r in scenarios(client, certs, srv, "zh", json_log=False,
                                     extra=("--explain",)):
            t.eq("%s: exit" % name, r.rc, rc)
            bad = english_lines(r.err)
            t.check("%s: no English sentence in the client's text log" % name, not bad,
                    "none", [b[1] for b in bad[:8]])
        srv.wait_count("closed", 10)
        bad = field_runs(list(srv.evs), fields=TEXT_FIELDS + ("explain",))
        t.check("server: no English sentence in any text field", not bad, "none", bad[:8])


def cols(s):
    """Terminal columns of s: 2 for an East Asian wide character, as the ladder counts."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def test_zh_ladder(t, server, client, certs, build, run, tmp_path):
    """build/ladder --lang zh: its labels, notes, header and legend are Chinese (no English
    sentence left), the lanes still line up with the Chinese labels (a wide character is 2
    columns), and --lang en draws the English ones; --lang fr is a usage error."""
    with server("--lang", "zh", http=None, selfsigned=None) as srv:
        r = client("--lang", "zh", "--cacert", certs.ca, "-o", "/dev/null",
                   "https://localhost:%d/" % srv.port("https"))
        t.eq("client exit", r.rc, 0)
        srv.wait_for(lambda e: e.get("event") == "closed")
        cl, sv = tmp_path / "client.json", tmp_path / "server.json"
        cl.write_bytes(r.err_raw)
        sv.write_bytes(b"".join(srv.raw))
    zh = run([build.ladder, "--lang", "zh", str(cl), str(sv)], name="ladder --lang zh")
    en = run([build.ladder, str(cl), str(sv)], name="ladder")
    t.eq("ladder --lang zh: exit", zh.rc, 0)
    bad = english_lines(zh.text)
    t.check("ladder --lang zh: no English sentence", not bad, "none", bad[:6])
    for words in ("客户端", "服务器", "图例", "connect()：内核完成了三次握手", "shutdown()：我方发出 FIN"):
        t.contains("ladder --lang zh: %s" % words, zh.text, words)
    t.check("ladder (en): the same rule finds its English sentences", len(english_lines(en.text))
            >= 3, ">= 3", len(english_lines(en.text)))
    # the server's lane: the same column on every row, Chinese labels or not
    lane = re.compile(r"[│┤◆┳┃┻┫▶]\s+(?:[A-Z_0-9]+\s+)?\d+\.\d{3}\s*$")
    where = set()
    for line in zh.text.splitlines():
        m = lane.search(line)
        if m and re.match(r"\s+(?:\d+\.\d{3}\*?\^?)?\s+", line):
            where.add(cols(line[:m.start()]))
    t.check("ladder --lang zh: the server's lane in one column on every row", len(where) == 1,
            "one column", sorted(where))
    bad = run([build.ladder, "--lang", "fr", str(cl), str(sv)], name="ladder --lang fr")
    t.eq("ladder --lang fr: exit 2", bad.rc, 2)
    t.contains("ladder --lang fr: says what is allowed", bad.err, "--lang: 'fr' is not en or zh")


def test_zh_lang_help(t, build, run):
    """--lang's help (and so the man pages, made from the same table) says what --lang zh does
    now: every sentence in Chinese, and what stays English; not the old "beside the English
    ones" of the step names alone."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for prog, name in ((build.client, "client"), (build.server, "server")):
        h = run([prog, "--help"], name=name + " --help")
        t.eq("%s --help: exit" % name, h.rc, 0)
        words = " ".join(h.text.split())
        t.check("%s --help: --lang no longer says 'beside the English ones'" % name,
                "beside the English ones" not in words, "gone", words[words.find("--lang"):][:200])
        t.contains("%s --help: --lang says what stays English" % name, words,
                   "what stays English: message, state and field names")
        with open(os.path.join(root, "man", name + ".1"), encoding="utf-8") as f:
            man = f.read()
        t.check("man/%s.1: the same words" % name, "beside the English ones" not in man and
                "what stays English" in man, "what stays English", man[man.find("lang"):][:200])
