"""The same-log check of issue 10: the event logs of a fixed set of runs are what the code
before the restructure (3b1cff2) logged, apart from times, ports, random values and keys.

scripts/samelog.py runs each scenario with $BUILD (default build) and compares both sides'
JSON and text logs with the recording in tests/golden/samelog (12 runs of the reference
build per scenario: what races between the programs and the kernel may differ only the ways
it did there); one test per recorded scenario, its ladder drawings included.

    /usr/bin/python3 -m pytest tests/test_samelog.py
    make samelog                        the same, straight from the script (all its diffs)

The recording is made on purpose only, from the reference build:
    scripts/samelog.py --record tests/golden/samelog --before 3b1cff2
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD") or "build"
BUILD_DIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
SCRIPT = os.path.join(ROOT, "scripts", "samelog.py")
GOLDEN = os.path.join(ROOT, "tests", "golden", "samelog")
RECORDED = sorted(f[:-5] for f in os.listdir(GOLDEN) if f.endswith(".json"))


def samelog(*args, timeout=600):
    return subprocess.run([sys.executable, SCRIPT] + list(args), cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          universal_newlines=True)


@pytest.fixture(scope="module")
def samelog_certs(tmp_path_factory):
    """One certificate set for every scenario (made by the script: RSA, fixed serials)."""
    d = str(tmp_path_factory.mktemp("samelog-certs"))
    r = samelog("--make-certs", d, timeout=120)
    assert r.returncode == 0, r.stderr
    return d


def test_every_scenario_is_recorded():
    r = samelog("--list")
    assert r.returncode == 0, r.stderr
    listed = sorted(line.split()[0] for line in r.stdout.splitlines() if line.strip())
    assert listed == RECORDED, "scenarios and tests/golden/samelog disagree: record again " \
        "(scripts/samelog.py --record tests/golden/samelog --before 3b1cff2)"


@pytest.mark.parametrize("scenario", RECORDED)
def test_same_log(scenario, samelog_certs):
    if os.environ.get("SAN") == "1" or "san" in os.path.basename(BUILD_DIR.rstrip("/")):
        pytest.skip("the recording is of the optimised build; a sanitizer build runs at "
                    "another speed, so its races go other ways (make samelog)")
    for prog in ("server", "client"):
        if not os.access(os.path.join(BUILD_DIR, prog), os.X_OK):
            pytest.skip("%s/%s is not built" % (BUILD_DIR, prog))
    r = samelog("--check", GOLDEN, "--build", BUILD_DIR, "--certs", samelog_certs,
                "-k", scenario)
    for line in r.stderr.splitlines():
        if line.startswith("samelog: skip %s:" % scenario):
            pytest.skip(line.split(":", 2)[2].strip())
    assert r.returncode == 0, "%s\n%s" % (r.stdout[-20000:], r.stderr[-3000:])
