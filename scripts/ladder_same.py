#!/usr/bin/env python3
"""ladder_same.py -- checks that two builds of the ladder draw byte-identical output.

Makes JSON-lines logs from real runs of build/server and build/client (plain HTTP, HTTPS, a
refused self-signed certificate, TLS 1.2 with RSA key transport, -n 3, --reconnect 2, the server
closing first, an abort, --dissect/--explain/--lang zh, and --capture when permitted), derives
damaged, hostile and mixed copies of them, then runs the reference ladder and the new one on
every log pair with every format and on many argument lists (usage errors included), comparing
standard output, standard error and the exit status byte for byte.

  scripts/ladder_same.py --ref OLD/build/ladder [--new build/ladder] [--logs DIR]

OLD is a build of the code before the change (e.g. a worktree of main).
--logs DIR keeps the logs (made once, reused on the next run). Exit 0 when every case matched.
Standard library only."""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMATS = [[], ["--text"], ["--ascii"], ["--svg"], ["--mermaid"]]


def start_server(build, certs, logdir, name, extra):
    """A server on kernel-picked loopback ports; returns (process, ports by kind, log path)."""
    path = os.path.join(logdir, "%s-server.json" % name)
    out = open(path, "w")
    p = subprocess.Popen([os.path.join(build, "server"), "--certs", certs, "--http-port", "0",
                          "--https-port", "0", "--selfsigned-port", "0", "--rsa-port", "0",
                          "--log-format", "json", "--linger-watch", "0"] + extra,
                         stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
    out.close()
    ports = {}
    for _ in range(200):
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    e = json.loads(line)
                    if e.get("event") == "listen":
                        ports[e["kind"]] = e["port"]
        if {"http", "https", "selfsigned", "rsa"} <= set(ports):
            return p, ports, path
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    p.wait()
    raise SystemExit("ladder_same: the server did not start (%s)" % path)


def stop_server(p):
    time.sleep(0.4)         # let it log the close of the last connection
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


# name, server flags, client flags, URL kind and path
SCENARIOS = [
    ("http", [], [], "http", "/"),
    ("https", [], [], "https", "/"),
    ("selfsigned", [], [], "selfsigned", "/"),
    ("rsa12", [], ["--tls-max", "1.2", "--kx", "rsa"], "rsa", "/"),
    ("ecdhe12", [], ["--tls-max", "1.2", "--kx", "ecdhe"], "rsa", "/"),
    ("n3", [], ["-n", "3"], "https", "/"),
    ("reconnect2", [], ["--reconnect", "2"], "https", "/"),
    ("reconnect2n2", [], ["--reconnect", "2", "-n", "2"], "http", "/"),
    ("serverfirst", ["--close-first", "server"], ["--close-first", "server"], "https", "/"),
    ("abort", [], ["--abort"], "https", "/"),
    ("hold", ["--hold-close", "50"], [], "http", "/"),
    ("head", [], ["-I"], "https", "/"),
    ("words", ["--dissect", "--explain", "--lang", "zh"],
     ["--dissect", "--explain", "--lang", "zh"], "https", "/"),
    ("hrr", ["--groups", "P-256"], [], "https", "/"),
    ("capture-https", ["--capture"], ["--capture"], "https", "/"),
    ("capture-http", ["--capture"], ["--capture"], "http", "/"),
    ("capture-n3", ["--capture"], ["--capture", "-n", "3"], "https", "/"),
    ("capture-reconnect2", ["--capture"], ["--capture", "--reconnect", "2"], "https", "/"),
    ("capture-selfsigned", ["--capture"], ["--capture"], "selfsigned", "/"),
    ("capture-clientonly", [], ["--capture"], "https", "/"),
    ("capture-serveronly", ["--capture"], [], "http", "/"),
    ("capture-wire", ["--wire"], ["--wire", "--half-close"], "http", "/"),
]


def make_logs(build, certs, logdir):
    """Runs every scenario; returns [(name, client log, server log)]."""
    runs = []
    for name, sflags, cflags, kind, path in SCENARIOS:
        srv, ports, spath = start_server(build, certs, logdir, name, sflags)
        cpath = os.path.join(logdir, "%s-client.json" % name)
        host = "127.0.0.1" if kind == "http" else "localhost"
        url = "%s://%s:%d%s" % ("http" if kind == "http" else "https", host, ports[kind], path)
        with open(cpath, "w") as err:
            r = subprocess.run([os.path.join(build, "client"), "--cacert",
                                os.path.join(certs, "ca.crt"), "--log-format", "json",
                                "--linger-watch", "0"] + cflags + [url],
                               stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, timeout=60)
        stop_server(srv)
        text = open(cpath).read() + open(spath).read()
        if "cannot capture" in text:
            print("  note: %s: --capture is not permitted here: left out" % name)
            continue
        print("  %-20s client exit %d, %d + %d lines" % (
            name, r.returncode, len(open(cpath).readlines()), len(open(spath).readlines())))
        runs.append((name, cpath, spath))
    return runs


def hostile(line, i):
    """A broken or odd twin of a real record line (the i-th variant): what the reader must
    reject (bad grammar, nesting, too long, too many members, NUL) or take with care (odd
    values, bad UTF-8, escapes, a CR at the end)."""
    head = line[:-1]                    # without its closing brace
    broken = [
        head, head + b',"nested":{"a":1}}', head + b',"list":[1,2]}', line + b'} ',
        head + b',"x":"\\x41"}', head + b',"x":"\\ud800"x}', head + b',"x":01}',
        head + b',"x":1.}', head + b',"x":-}', head + b',"x":1e999}', head + b',"x":tru}',
        head + b',"x":"a\tb"}', head + b',"x":"nul\x00byte"}', b'{,}', b'{"a" 1}',
        head + b',"x":"' + b"x" * 70000 + b'"}', b'{' * 5000,
        head + b',"x":' + b"9" * 100 + b'}', head + b''.join(b',"m%d":1' % k for k in range(130)) + b'}',
        head + b',"x":"\xc3\x28 \xe2\x82"}', head + b',"x":"\\/\\b\\f\\n\\r\\t\\"\\\\\\u00e9\\ud83d\\ude00\\u202e"}\r',
        head + b',"x":-0.5e+3,"y":true,"z":null,"w":-9223372036854775808}',
        line.replace(b'"conn":', b'"conn":-', 1), line.replace(b'"ts_us":', b'"ts_us":-', 1),
        line.replace(b'"ts_us":', b'"ts_us":9', 1), line.replace(b'"side":"', b'"side":"x', 1),
        b'   ' + line, b'not json ' + line,
    ]
    return broken[i % len(broken)]


def mutate(data, rnd):
    """A damaged copy of a log. Whole lines dropped, doubled or swapped reach the model and
    the renderers; a changed value (a time, a number, a name, a
    direction) gives them records that are valid JSON but odd; bytes cut or flipped reach
    the reader."""
    lines = data.split(b"\n")
    for _ in range(rnd.randint(1, 6)):
        if not lines:
            break
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        op = rnd.randint(0, 6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(j, lines[i])
        elif op == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif op in (3, 4) and lines[i].startswith(b"{"):
            try:
                e = json.loads(lines[i])
            except ValueError:
                continue
            if not isinstance(e, dict) or not e:
                continue
            k = rnd.choice(sorted(e))
            e[k] = rnd.choice([0, -1, 1, 2 ** 53, 2 ** 64, 1.5, "", "in", "out", "client",
                               "server", "established", "FIN", "ACK", "SYN", "x" * 300, None,
                               True, e.get("event"), e.get("local"), e.get("ts_us")])
            lines[i] = json.dumps(e, ensure_ascii=rnd.random() < 0.5).encode()
        elif op == 5:
            lines[i] = lines[i][:rnd.randrange(len(lines[i]) + 1)]
        else:
            b = bytearray(lines[i])
            if b:
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            lines[i] = bytes(b)
    return b"\n".join(lines)


BAD_TEXT = ["/<a href='x'>&amp;\"\u0001\u202e;#x\udcff\U0001F600", "Certi]]>ficate<!--",
            "a\u2028b\u2029c\td\re\nf", "\u200f\u2066bidi\u2069\ufdd0\uffff", "é" * 200, ""]
BAD_FIELDS = {"request": ("target", "host", "method"), "message": ("type", "summary"),
              "established": ("local", "remote"), "connect": ("local", "remote"),
              "alert": ("desc", "level"), "closed": ("reason",), "response": ("reason",),
              "segment": ("flags", "step"), "state_change": ("from", "to", "timer"),
              "handshake_done": ("version", "cipher"), "key_exchange": ("kx", "group")}


def poison(path, out):
    """The log with hostile text (markup, Mermaid's ; and #, controls, bidi overrides, a
    lone surrogate, line separators, long UTF-8) in the fields the diagram shows."""
    lines, n = [], 0
    for line in open(path, encoding="utf-8", errors="surrogateescape").read().splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            for k in BAD_FIELDS.get(e.get("event"), ()):
                if k in e:
                    # the addresses stay paired: both logs get the same text for them
                    e[k] = e[k] + BAD_TEXT[0] if k in ("local", "remote") else \
                        BAD_TEXT[n % len(BAD_TEXT)]
                    n += 1
            line = json.dumps(e, ensure_ascii=False)
        lines.append(line)
    with open(out, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write("\n".join(lines) + "\n")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def derive(runs, logdir, nmut):
    """Log pairs beyond the real ones: (name, client, server)."""
    pairs = list(runs)
    d = os.path.join(logdir, "derived")
    os.makedirs(d, exist_ok=True)
    raw = {n: (open(c, "rb").read(), open(s, "rb").read()) for n, c, s in runs}
    allc = write(os.path.join(d, "all-client.json"), b"".join(c for c, _ in raw.values()))
    alls = write(os.path.join(d, "all-server.json"), b"".join(s for _, s in raw.values()))
    pairs.append(("all-runs-concatenated", allc, alls))
    for n, c, s in runs:
        pairs.append((n + "-swapped", s, c))                     # the server's log first
        pairs.append((n + "-long-server-log", c, alls))           # one long server log
    for n, c, s in runs[:4]:
        cc, ss = raw[n]
        hc, hs = [], []
        for src, dst in ((cc, hc), (ss, hs)):
            for i, line in enumerate(src.split(b"\n")):
                dst.append(line)
                if line.startswith(b"{") and line.endswith(b"}"):
                    dst.append(hostile(line, i))
        pairs.append((n + "-hostile", write(os.path.join(d, n + "-hostile-client.json"),
                                            b"\n".join(hc) + b"\xff\xfe not json\n"),
                      write(os.path.join(d, n + "-hostile-server.json"),
                            b"\n".join(hs) + b"\xff\xfe not json\n")))
        pc, ps = os.path.join(d, n + "-poison-client.json"), os.path.join(d, n + "-poison-server.json")
        poison(c, pc)
        poison(s, ps)
        pairs.append((n + "-poison", pc, ps))
        pairs.append((n + "-crlf", write(os.path.join(d, n + "-crlf-client.json"),
                                         cc.replace(b"\n", b"\r\n")),
                      write(os.path.join(d, n + "-noeol-server.json"), ss.rstrip(b"\n"))))
        # the same program twice in one file: t_ms goes back, connection numbers restart
        pairs.append((n + "-two-runs", write(os.path.join(d, n + "-twice-client.json"), cc + cc),
                      write(os.path.join(d, n + "-twice-server.json"), ss + ss)))
    rnd = random.Random(5)
    for i in range(nmut):
        n = runs[i % len(runs)][0]
        cc, ss = raw[n]
        pairs.append(("%s-damaged-%d" % (n, i),
                      write(os.path.join(d, "m%d-client.json" % i), mutate(cc, rnd)),
                      write(os.path.join(d, "m%d-server.json" % i), mutate(ss, rnd))))
    return pairs


def cases(runs, pairs, logdir):
    """(name, argv, stdin bytes or None, stdout to /dev/full) for every comparison."""
    out = []
    for n, c, s in pairs:
        for f in FORMATS:
            out.append(("%s %s" % (n, " ".join(f) or "(default)"), f + [c, s], None, False))
    c, s = runs[1][1], runs[1][2]
    d = os.path.join(logdir, "derived")
    empty = write(os.path.join(d, "empty.json"), b"")
    text = write(os.path.join(d, "text.log"),
                 b"    +0.145 ms  client     TCP  resolve          localhost -> 127.0.0.1:8080\n")
    other = runs[0][1]                  # the plain HTTP client: not in the HTTPS server's log
    for f in FORMATS:
        out.append(("stdin server %s" % " ".join(f), f + [c, "-"], open(s, "rb").read(), False))
        out.append(("stdin client %s" % " ".join(f), f + ["-", s], open(c, "rb").read(), False))
        out.append(("/dev/full %s" % " ".join(f), f + [c, s], None, True))
    args = [
        [], ["-h"], ["--help"], ["-h", "a", "b"], ["a", "b", "--help"], ["--svg", "--help"],
        ["--bogus", "a", "b"], ["-x"], ["--svg=1", c, s], ["-hv"], ["--SVG", c, s],
        ["--svg", "--mermaid", "a", "b"], ["--svg", "--svg", c, s], ["--text", "--ascii", c, s],
        ["--ascii", "--ascii", "--ascii"], ["a", "b", "c"], ["a"], ["-", "-"], ["--", "-h", s],
        ["--", c, s], [c, "--", s], ["--", "--", c], [c, s, "--svg"], [c, "--mermaid", s],
        ["--svg", "--", c, s, "x"], ["", s], [c, ""], ["-", "-", "-"], ["--", "a", "b", "c"],
        [c, os.path.join(d, "no-such.json")], [os.path.join(d, "no-such.json"), s],
        [d, s], [c, d], [text, s], [c, text], [empty, s], [c, empty], [c, c], [s, s],
        [other, s], ["--svg", other, s], ["--mermaid", c, c], ["--ascii", s, s],
        ["--bogus", "--help"], ["--help", "--bogus"], ["-", "--bogus"], ["--", "--bogus", s],
        ["a", "b", "c", "--help"], ["--svg", "--svg", "--help"], ["-", "x", "-h"], ["-H"],
        ["--help=1"], ["--h"], ["-help"], ["---svg", c, s], ["-h", "-h"], ["--", "-"],
    ]
    for a in args:
        out.append(("args %r" % a, a, b"", False))
    return out


def run(binary, argv, stdin, full):
    """Exit status, standard output and standard error; with full, standard output is
    /dev/full (every write fails: the ladder's write error)."""
    with open("/dev/full" if full else os.devnull, "wb") as dev:
        p = subprocess.run([binary] + argv, input=stdin if stdin is not None else b"",
                           stdout=dev if full else subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=ROOT, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", required=True, help="the reference ladder binary")
    ap.add_argument("--new", default=os.path.join(ROOT, "build", "ladder"),
                    help="the ladder to check (default build/ladder)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="where server and client are (default build)")
    ap.add_argument("--certs", default=os.path.join(ROOT, "certs", "out"))
    ap.add_argument("--logs", help="keep the logs here and reuse them on the next run")
    ap.add_argument("--damaged", type=int, default=200, help="damaged log pairs (default 200)")
    o = ap.parse_args()
    for b in (o.ref, o.new):
        if not os.access(b, os.X_OK):
            raise SystemExit("ladder_same: %s is not an executable" % b)
    logdir = o.logs or tempfile.mkdtemp(prefix="ladder-same-")
    os.makedirs(logdir, exist_ok=True)
    index = os.path.join(logdir, "runs.json")
    if os.path.exists(index):
        runs = json.load(open(index))
        print("ladder_same: reusing the logs of %d runs in %s" % (len(runs), logdir))
    else:
        if not os.path.exists(os.path.join(o.certs, "ca.crt")):
            raise SystemExit("ladder_same: no %s/ca.crt: run certs/make-certs.sh" % o.certs)
        print("ladder_same: logs of real runs into %s" % logdir)
        runs = make_logs(o.build, o.certs, logdir)
        json.dump(runs, open(index, "w"))
    if len(runs) < 2:
        raise SystemExit("ladder_same: too few runs")
    all_cases = cases(runs, derive(runs, logdir, o.damaged), logdir)
    same, differ, rcs = 0, [], {}
    for name, argv, stdin, full in all_cases:
        a, b = run(o.ref, argv, stdin, full), run(o.new, argv, stdin, full)
        rcs[a[0]] = rcs.get(a[0], 0) + 1
        if a == b:
            same += 1
        else:
            what = [w for w, x, y in zip(("exit", "stdout", "stderr"), a, b) if x != y]
            differ.append((name, what))
    print("ladder_same: %d cases: %d byte-identical, %d differ (reference exit statuses: %s)" % (
        len(all_cases), same, len(differ),
        ", ".join("%d x%d" % (k, v) for k, v in sorted(rcs.items()))))
    for name, what in differ[:20]:
        print("  DIFFER %s: %s" % (name, ", ".join(what)))
    if not o.logs:
        shutil.rmtree(logdir, ignore_errors=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
