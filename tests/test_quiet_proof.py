"""-q formats nothing: bench/quiet-proof.sh runs the server with -q under callgrind (HTTP
keep-alive, new HTTPS connections, HTTPS keep-alive, driven by wrk) and fails if any of the
log's formatting or its probes ran. Needs valgrind and wrk (CI installs neither: there it is
skipped, and `make bench` is where it belongs); not under SAN (callgrind runs the plain build)."""

import os
import shutil
import subprocess

import pytest

from harness.env import BUILD, ROOT, SAN, VALGRIND


@pytest.mark.skipif(SAN or VALGRIND, reason="callgrind runs the plain build, once")
def test_quiet_proof(t, build, certs):
    for tool in ("valgrind", "wrk", "callgrind_annotate"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed (apt-get install valgrind wrk)" % tool)
    if not os.path.isdir(os.path.join(ROOT, "certs", "out")):
        pytest.skip("certs/out is not there (make certs): the proof runs the server's defaults")
    p = subprocess.run([os.path.join(ROOT, "bench", "quiet-proof.sh")], cwd=ROOT,
                       env=dict(os.environ, BUILD=BUILD), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    t.eq("quiet-proof.sh: exit", p.returncode, 0)
    t.contains("quiet-proof.sh: PASS", p.stdout, "PASS: with -q no event text was formatted")
