"""harness/env.py -- where the programs under test are and how they are run.

$BUILD (default "build", relative to the repository) holds server, client, ladder, unit and
idleconns. SAN=1 (or a build directory named *san*) means an ASan + UBSan build: every deadline
is stretched 3 times and stderr is searched for reports. VALGRIND=1 (make valgrind) runs the
server and the client under valgrind memcheck: deadlines x 10.
"""

import atexit
import os
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD") or "build"
BUILD_DIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
SERVER = os.path.join(BUILD_DIR, "server")
CLIENT = os.path.join(BUILD_DIR, "client")
LADDER = os.path.join(BUILD_DIR, "ladder")
UNIT = os.path.join(BUILD_DIR, "unit")
IDLECONNS = os.path.join(BUILD_DIR, "idleconns")
SAN = os.environ.get("SAN") == "1" or "san" in os.path.basename(BUILD_DIR.rstrip("/"))
# sanitizer builds are slower: stretch every deadline
SLOW = 3.0 if SAN else 1.0

# the environment of every program the tests start (a test may change it for a while:
# test_robust_server.py's small ASan quarantine)
CHILD_ENV = dict(os.environ)
CHILD_ENV.pop("SSLKEYLOGFILE", None)
if SAN:
    CHILD_ENV["ASAN_OPTIONS"] = "detect_leaks=1"
    CHILD_ENV.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
SAN_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# VALGRIND=1 (make valgrind): build/server and build/client run under valgrind memcheck. An error
# or a definite leak makes them exit 99, which the exit-status checks catch; check_sanitizer()
# also reads valgrind's report (a file of its own, so the programs' stderr stays as it is) and
# its list of fds left open at exit.
VALGRIND = os.environ.get("VALGRIND") == "1"
VALGRIND_CMD = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--track-fds=yes", "-q"]
VALGRIND_DIR = None
if VALGRIND:
    SLOW = 10.0
    VALGRIND_DIR = tempfile.mkdtemp(prefix="hslab-valgrind-")
    atexit.register(shutil.rmtree, VALGRIND_DIR, True)
    # connections from calloc, not the mmap slab: memcheck then sees one never freed
    CHILD_ENV["HSLAB_SLAB"] = "off"


class Build:
    """The programs of one build directory (the `build` fixture)."""

    def __init__(self):
        self.name = BUILD
        self.dir = BUILD_DIR
        self.server = SERVER
        self.client = CLIENT
        self.ladder = LADDER
        self.unit = UNIT
        self.idleconns = IDLECONNS

    def missing(self):
        """The programs every end-to-end test needs that are not built."""
        return [p for p in (self.server, self.client) if not os.access(p, os.X_OK)]


class Certs:
    """The certificates of this run (the `certs` fixture): certs/make-certs.sh --gallery DIR
    makes the demo CA, server, self-signed and client certificates and the gallery."""

    FILES = ("ca.crt", "server.crt", "server.key", "selfsigned.crt", "selfsigned.key",
             "client.crt", "client.key", "gallery/index.tsv", "gallery/trust.pem",
             "gallery/crl.pem")

    def __init__(self, d):
        self.dir = str(d)
        self.ca = os.path.join(self.dir, "ca.crt")
        self.gallery = os.path.join(self.dir, "gallery")

    def path(self, name):
        return os.path.join(self.dir, name)

    def gfile(self, name):
        """A file of the certificate gallery (index.tsv, trust.pem, crl.pem, NAME.chain.pem)."""
        return os.path.join(self.gallery, name)
