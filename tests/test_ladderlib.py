"""ladder_svg() (ladder/ladderlib.h, issue 14): the ladder of one connection drawn by the
server's own code from that connection's events in memory. Here the events come from a live
server (what it logs today, not the unit suite's recorded fixture): the unit suite ladderlib
draws them, checks the message names, refuses damaged and oversized copies and fails every
allocation in turn (HSLAB_LADDERLIB_LOG=FILE unit ladderlib)."""

import json
import re
import subprocess

from harness.env import CHILD_ENV, SAN, SAN_PATTERNS, SLOW, UNIT
from harness.tcp import watch_done


def test_ladder_svg_of_a_live_connection(t, server, client, certs, tmp_path):
    """One HTTPS exchange with build/client; the server's JSON lines of that connection alone
    (as the server will hold them) are drawn: every check of the unit suite passes on them."""
    with server(http=None, selfsigned=None) as srv:
        r = client("--cacert", certs.ca, "https://localhost:%d/" % srv.port("https"))
        t.eq("client exit", r.rc, 0)
        conn = srv.conn_of(r.local())
        t.check("the server logged the connection", conn is not None, r.local(), "")
        if conn is None:
            return
        srv.wait_for(watch_done(conn), 5)
        mine = []
        for line in srv.lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("side") == "server" and e.get("conn") == conn:
                mine.append(line)
    path = tmp_path / "conn.jsonl"
    path.write_text("".join(l if l.endswith("\n") else l + "\n" for l in mine))
    t.check("the connection's records fit ladder_svg()'s 64 KB", 0 < path.stat().st_size <= 65536,
            "1..65536 bytes", path.stat().st_size)
    env = dict(CHILD_ENV, HSLAB_LADDERLIB_LOG=str(path))
    p = subprocess.run([UNIT, "ladderlib"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60 * SLOW)
    out, err = p.stdout.decode(), p.stderr.decode("utf-8", "replace")
    m = re.search(r"^unit: (\d+) passed, (\d+) failed\s*$", out, re.M)
    t.check("unit ladderlib on the live log: none failed", m and int(m.group(2)) == 0 and
            int(m.group(1)) > 20, "0 failed", out[-500:] + err[-3000:])
    t.eq("exit status", p.returncode, 0)
    if SAN:
        t.check("no sanitizer report", not any(s in err for s in SAN_PATTERNS), "clean stderr",
                err[-3000:])
