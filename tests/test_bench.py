"""make bench runs end to end: bench/bench.py --smoke (1 s per wrk run, 100 idle
connections) prints the ours/nginx table with every row. No timed assertions: the figures
depend on the machine; only that each one was measured.
"""

import os
import re
import shutil
import tempfile

import pytest

from harness.env import ROOT


BENCH_ROWS = ("HTTP keep-alive req/s (-q)", "new HTTPS conn/s, resumed (wrk)",
              "new HTTPS conn/s, full handshake", "HTTPS keep-alive req/s",
              "full log vs -q: HTTP keep-alive req/s *",
              "full log vs -q: new HTTPS conn/s (wrk) *", "RSS per idle HTTP conn (100)",
              "RSS per idle HTTPS conn (100)")


@pytest.mark.usefixtures("wrk", "nginx", "openssl")
def test_bench_smoke(t, run, certs, build):
    """make bench --smoke: our server and nginx driven by wrk, every row of the table filled."""
    idle = build.idleconns
    if not os.path.exists(idle):
        t.skip("%s is not built (make %s)" % (idle, idle))
    # its own TMPDIR, which nginx's worker can enter: another bench run (a second checkout, a
    # person) may be using /tmp right now
    tmp = tempfile.mkdtemp(prefix="hslab-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    r = run(["python3", os.path.join(ROOT, "bench", "bench.py"), "--smoke", "--certs",
             certs.dir], timeout=120, env={"BUILD": build.dir, "TMPDIR": tmp},
            name="bench.py --smoke")
    t.eq("bench.py --smoke: exit status", r.rc, 0)
    lines = r.text.rstrip("\n").split("\n")
    head = [i for i, l in enumerate(lines) if l.split()[:6] == ["metric", "ours", "nginx",
                                                                  "ratio", "goal", "met?"]]
    if not t.eq("one table header", len(head), 1):
        return
    table = lines[head[0] + 1:]
    t.eq("the output ends with the table: one row per metric", len(table), len(BENCH_ROWS))
    for name, row in zip(BENCH_ROWS, table):
        t.check("row %r" % name, row.startswith(name), name, row)
        rest = row[len(name):].split()
        # ours, nginx (numbers, RSS rows with ' KB'), ratio, goal, met?
        nums = [x for x in rest if re.match(r"^-?\d+(\.\d+)?$", x)]
        t.check("row %r: ours, nginx and a ratio measured" % name, len(nums) >= 3, ">= 3 numbers",
                row)
        t.check("row %r: met? says yes, NO or -" % name, rest[-1:] in (["yes"], ["NO"], ["-"]),
                "yes/NO/-", row)
    t.contains("the crypto limit is printed", r.text, "crypto limit")
    t.contains("nginx's RSS is its worker's", r.text, "nginx: the worker process")
    left = [d for d in os.listdir(tmp) if d.startswith("hl-bench-")]
    t.check("no temp dir left behind", not left, "none", " ".join(left))
    shutil.rmtree(tmp, ignore_errors=True)
