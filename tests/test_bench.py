"""make bench runs end to end: bench/bench.py --smoke (1 s per wrk run, 100 idle
connections, 3 runs of each client on a 1 MB file) prints the ours/nginx table and the
ours/curl table with every row. No timed assertions: the figures depend on the machine; only
that each one was measured.
"""

import os
import re
import shutil
import tempfile

import pytest

from harness.env import ROOT, SAN, VALGRIND


BENCH_ROWS = ("HTTP keep-alive req/s (-q)", "new HTTPS conn/s, resumed (wrk)",
              "new HTTPS conn/s, full handshake", "HTTPS keep-alive req/s",
              "full log vs -q: HTTP keep-alive req/s *",
              "full log vs -q: new HTTPS conn/s (wrk) *", "RSS per idle HTTP conn (100)",
              "RSS per idle HTTPS conn (100)", "RSS per idle HTTPS conn (100), full log",
              "the full page, HTTPS keep-alive req/s", "close_notify -> FIN, ms (ours -q)",
              "close_notify -> FIN, ms (ours full log)")
# --smoke fetches 1 MB where make bench fetches 10 MB
CLIENT_ROWS = ("s_server -www: its status page (HTTPS)", "s_server -WWW: 1 MB (HTTPS)",
               "lighttpd: 1 MB (HTTP)", "lighttpd: 1 MB (HTTPS)", "nginx: 1 MB (HTTP)",
               "nginx: 1 MB (HTTPS)", "nginx: 1 MB (HTTPS), our full log")


def check_table(t, lines, other, names):
    """The table whose header names `other` holds one filled row per name, in order; the
    index of the line after it."""
    head = [i for i, l in enumerate(lines) if l.split()[:6] == ["metric", "ours", other,
                                                                  "ratio", "goal", "met?"]]
    if not t.eq("one table header with %s" % other, len(head), 1):
        return len(lines)
    table = lines[head[0] + 1:head[0] + 1 + len(names)]
    t.eq("the %s table: one row per metric" % other, len(table), len(names))
    for name, row in zip(names, table):
        t.check("row %r" % name, row.startswith(name), name, row)
        rest = row[len(name):].split()
        # ours, the other (numbers; with ' KB' or ' ms'), ratio, goal, met?
        nums = [x for x in rest if re.match(r"^-?\d+(\.\d+)?$", x)]
        t.check("row %r: ours, %s and a ratio measured" % (name, other), len(nums) >= 3,
                ">= 3 numbers", row)
        t.check("row %r: met? says yes, NO or -" % name, rest[-1:] in (["yes"], ["NO"], ["-"]),
                "yes/NO/-", row)
    return head[0] + 1 + len(names)


@pytest.mark.skipif(SAN or VALGRIND, reason="runs once per CI run: it checks bench.py's tables, "
                    "not the server, and a sanitized server's figures mean nothing")
@pytest.mark.usefixtures("wrk", "nginx", "openssl", "curl")
def test_bench_smoke(t, run, certs, build):
    """make bench --smoke: our server and nginx driven by wrk, the close_notify round trip,
    our client against curl on s_server, lighttpd and nginx: every row of both tables
    filled."""
    idle = build.idleconns
    if not os.path.exists(idle):
        t.skip("%s is not built (make %s)" % (idle, idle))
    if shutil.which("lighttpd") is None and not os.path.exists("/usr/sbin/lighttpd"):
        t.skip("lighttpd is not installed (apt-get install lighttpd lighttpd-mod-openssl)")
    # its own TMPDIR, which nginx's worker can enter: another bench run (a second checkout, a
    # person) may be using /tmp right now
    tmp = tempfile.mkdtemp(prefix="hslab-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    r = run(["python3", os.path.join(ROOT, "bench", "bench.py"), "--smoke", "--certs",
             certs.dir], timeout=180, env={"BUILD": build.dir, "TMPDIR": tmp},
            name="bench.py --smoke")
    t.eq("bench.py --smoke: exit status", r.rc, 0)
    lines = r.text.rstrip("\n").split("\n")
    end = check_table(t, lines, "nginx", BENCH_ROWS)
    end = check_table(t, lines, "curl", CLIENT_ROWS)
    t.eq("the output ends with the client table", end, len(lines))
    t.contains("the crypto limit is printed", r.text, "crypto limit")
    t.contains("nginx's RSS is its worker's", r.text, "nginx: the worker process")
    t.contains("the close_notify round trip says what each server sent back", r.text,
               "close_notify round trip (Python ssl")
    left = [d for d in os.listdir(tmp) if d.startswith("hl-bench-")]
    t.check("no temp dir left behind", not left, "none", " ".join(left))
    shutil.rmtree(tmp, ignore_errors=True)
