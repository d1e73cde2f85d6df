"""tests/conftest.py -- the fixtures of handshake-lab's test suite (pytest).

Every fixture is opt-in: a test names what it needs.

    build    the programs of $BUILD (server, client, ladder, unit, idleconns); fails the test
             if the server or the client is not built
    certs    certificates made once per session by certs/make-certs.sh --gallery into a
             temporary directory: certs.dir, certs.ca, certs.gallery, certs.path(name)
    t        the test's soft checks (harness/checks.py): t.eq, t.check, t.contains ...; the
             test fails at its end listing every failed check. It also collects the JSON log
             of every run of our programs (server, client, run): when the test body ends, the
             story checker (harness/story.py) reads them all, unless the test is marked
             @pytest.mark.story_off("why")
    procs    the processes the test starts in the background, killed by pid when it ends
    server   with server(http=0, https=None, ...) as srv: a running server, ports read from
             its `listen` events (srv.port("http")); stopped with SIGTERM at the end of the
             block, which must give exit 0; server.process(argv, name) for a server started
             some other way (as nobody, under prlimit)
    client   client(*args) runs build/client to completion (JSON log): a Result
    run      run(argv) runs any command to completion: a Result
    nobody   copies of files runnable as user nobody (setpriv); skips unless root
    public_tmp  a temporary directory under /tmp that other users (nobody) may enter
    curl, openssl, nginx, gnutls_cli, gnutls_serv, lighttpd, tshark, chromium, certutil, wrk
             the path of that peer program, or the test is skipped
"""

import functools
import os
import shutil
import subprocess
import tempfile

import pytest

from harness import env, story
from harness.checks import Checks
from harness.procs import Procs, Server, ServerRun, run_client, run_cmd


def pytest_report_header(config):
    mode = " (sanitizers)" if env.SAN else " (valgrind)" if env.VALGRIND else ""
    return "handshake-lab: BUILD=%s%s" % (env.BUILD, mode)


# ---------------------------------------------------------------- soft checks

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run a test that uses `t`, then fail it if any of its checks failed (also when it
    skipped itself after a failed check). Other tests run as pytest runs them."""
    t = pyfuncitem.funcargs.get("t")
    if not isinstance(t, Checks):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    skipped = None
    try:
        pyfuncitem.obj(**args)
        # the story checker over every log the test's runs produced (harness/story.py),
        # unless the test breaks the story on purpose (@pytest.mark.story_off("why"))
        if t.logs and pyfuncitem.get_closest_marker("story_off") is None:
            story.check_test(t, t.logs)
    except pytest.skip.Exception as x:
        if not t.failures:
            raise
        skipped = x
    except BaseException:
        if t.failures:
            pyfuncitem.add_report_section("call", "failed checks", t.report())
        raise
    if t.failures:
        pytest.fail(t.report() + ("\n(and then it skipped the rest: %s)" % skipped.msg
                                  if skipped else ""), pytrace=False)
    return True


def pytest_configure(config):
    config.addinivalue_line("markers", "story_off(why): the test breaks the story on purpose "
                            "(a peer that lies, a killed program): the story checker "
                            "(harness/story.py) does not read its logs; say why")


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.config.stash.get(_CHECKS, None)
    if stats and stats[0] + stats[1]:
        terminalreporter.write_line("checks: %d passed, %d failed (in %d tests with `t`)" % (
            stats[0], stats[1], stats[2]))


_CHECKS = pytest.StashKey()


@pytest.fixture
def t(request):
    checks = Checks(request.node.name)
    yield checks
    stats = request.config.stash.setdefault(_CHECKS, [0, 0, 0])
    stats[0] += checks.passed
    stats[1] += checks.failed
    stats[2] += 1


# ---------------------------------------------------------------- the programs, certificates

@pytest.fixture(scope="session")
def build():
    b = env.Build()
    missing = b.missing()
    if missing:
        pytest.fail("%s not built: run make%s" % (", ".join(missing), " SAN=1" if env.SAN else ""),
                    pytrace=False)
    return b


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("session") / "certs"
    # --gallery: the certificate gallery of issue 4 too (about 2 s, once per session)
    p = subprocess.run([os.path.join(env.ROOT, "certs", "make-certs.sh"), "--gallery", str(d)],
                       cwd=env.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    c = env.Certs(d)
    missing = [f for f in c.FILES if not os.path.exists(c.path(f))]
    if p.returncode != 0 or missing:
        pytest.fail("certs/make-certs.sh --gallery %s failed (exit %d; missing %s):\n%s" % (
            d, p.returncode, missing, p.stdout.decode("utf-8", "replace")[-2000:]), pytrace=False)
    return c


# ---------------------------------------------------------------- running them

@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.stop_all()


class ServerFactory:
    """The `server` fixture: server(*extra, http=0, https=0, selfsigned=0, bind=None, ready=True,
    expect_rc=0, name="server") is a `with` block around a running build/server (ServerRun)."""

    def __init__(self, t, procs, certs_dir):
        self.t, self.procs, self.certs_dir = t, procs, certs_dir

    def __call__(self, *extra, **kw):
        return ServerRun(self.t, self.procs, self.certs_dir, *extra, **kw)

    def process(self, argv, name):
        """A server started from this exact argv (as nobody, under prlimit ...): a Server the
        test stops itself; the fixture kills it if the test did not."""
        return Server(self.t, argv, name, self.procs)


@pytest.fixture
def server(t, procs, certs, build):
    return ServerFactory(t, procs, certs.dir)


@pytest.fixture
def client(t, build):
    return functools.partial(run_client, t)


@pytest.fixture
def run(t):
    return functools.partial(run_cmd, t)


class Nobody:
    """The `nobody` fixture: prefix runs a command as user nobody; copy(files) puts copies of
    files in a fresh folder under /tmp that nobody can read and execute: (folder, {name: path})."""

    def __init__(self, setpriv):
        self.prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        self.dirs = []

    def copy(self, files):
        d = tempfile.mkdtemp(prefix="hslab-nobody-", dir="/tmp")
        self.dirs.append(d)
        os.chmod(d, 0o755)
        out = {}
        for f in files:
            dst = os.path.join(d, os.path.basename(f))
            shutil.copy2(f, dst)
            os.chmod(dst, 0o755 if os.access(f, os.X_OK) else 0o644)
            out[os.path.basename(f)] = dst
        return d, out


@pytest.fixture
def nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    n = Nobody(_peer("setpriv"))
    yield n
    for d in n.dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def public_tmp():
    """A temporary folder under /tmp that other users (nobody) may enter, removed after."""
    d = tempfile.mkdtemp(prefix="hslab-public-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- peers, found or skipped

def _peer(binary):
    path = shutil.which(binary)
    if not path:
        pytest.skip("%s is not installed" % binary)
    return path


@pytest.fixture
def curl():
    return _peer("curl")


@pytest.fixture
def openssl():
    return _peer("openssl")


@pytest.fixture
def nginx():
    return _peer("nginx")


@pytest.fixture
def gnutls_cli():
    return _peer("gnutls-cli")


@pytest.fixture
def gnutls_serv():
    return _peer("gnutls-serv")


@pytest.fixture
def lighttpd():
    path = _peer("lighttpd")
    if not os.path.exists("/usr/lib/lighttpd/mod_openssl.so"):
        pytest.skip("lighttpd-mod-openssl is not installed")
    return path


@pytest.fixture
def tshark():
    return _peer("tshark")


@pytest.fixture
def chromium():
    return _peer("chromium")


@pytest.fixture
def certutil():
    return _peer("certutil")


@pytest.fixture
def wrk():
    return _peer("wrk")
