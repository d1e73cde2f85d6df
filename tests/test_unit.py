"""The C unit tests (tests/unit/test_NAME.c): one pytest test per suite, each running
$BUILD/unit NAME. Their own checks (CHECK, CHECK_STR) count as checks here too. `make unit`
runs them all at once."""

import glob
import os
import re
import subprocess

import pytest

from harness.env import CHILD_ENV, ROOT, SAN, SAN_PATTERNS, SLOW, UNIT

SUITES = sorted(os.path.basename(f)[len("test_"):-len(".c")]
                for f in glob.glob(os.path.join(ROOT, "tests", "unit", "test_*.c")))


def run_unit(*args):
    if not os.path.exists(UNIT):
        pytest.fail("%s is missing (make %s)" % (UNIT, os.path.relpath(UNIT, ROOT)), pytrace=False)
    try:
        return subprocess.run([UNIT] + list(args), cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60 * SLOW)
    except subprocess.TimeoutExpired:
        pytest.fail("%s %s did not finish within %.0f s" % (UNIT, " ".join(args), 60 * SLOW),
                    pytrace=False)


def test_unit_suites_listed(t):
    """unit --list names one suite per tests/unit/test_*.c file: none is left out of
    unit_main.c."""
    p = run_unit("--list")
    t.eq("unit --list: exit", p.returncode, 0)
    t.eq("unit --list == the test_*.c files", sorted(p.stdout.decode().split()), SUITES)


@pytest.mark.parametrize("suite", SUITES)
def test_unit(t, suite):
    """One unit suite: its summary line says 0 failed, the exit status agrees, and (SAN=1)
    no sanitizer report."""
    p = run_unit(suite)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"^unit: (\d+) passed, (\d+) failed\s*$", out, re.M)
    if not t.check("a 'unit: N passed, M failed' line", m, "the summary line",
                   "exit %s\n%s%s" % (p.returncode, out[-2000:], err[-2000:])):
        return
    passed, failed = int(m.group(1)), int(m.group(2))
    t.count_passed(passed)
    t.check("%d unit check(s) passed, none failed" % passed, failed == 0 and passed > 0,
            "0 failed", "%d failed:\n%s%s" % (failed, out[-3000:], err[-1000:]))
    t.eq("exit status agrees with the failures", p.returncode != 0, failed != 0)
    if SAN:
        t.check("no sanitizer report", not any(s in err for s in SAN_PATTERNS), "clean stderr",
                err[-3000:])
