"""harness/checks.py -- soft checks: the `t` every test gets.

A test makes many checks of one run of the programs (each field of each event). A failed
check is recorded with what was expected and what came, and the test goes on, so one run
reports every difference at once; the test then fails listing all of them (conftest.py's
pytest_pyfunc_call). A check is one comparison; a test is one pytest test.
"""

import pytest


def short(v, limit=1500):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[:limit] + " ... (%d chars)" % len(s)


class Checks:
    """One test's checks: counts them and records each failure with expected vs got."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failures = []
        self.logs = []      # (side, name, source) of every run of our programs: the story

    @property
    def failed(self):
        return len(self.failures)

    def check(self, what, ok, expected=None, got=None):
        if ok:
            self.passed += 1
        else:
            msg = "FAIL %s" % what
            if expected is not None or got is not None:
                msg += "\n     expected: %s\n     got:      %s" % (short(expected), short(got))
            self.failures.append(msg)
        return bool(ok)

    def eq(self, what, got, expected):
        return self.check(what, got == expected, repr(expected), repr(got))

    def ne(self, what, got, unexpected):
        return self.check(what, got != unexpected, "anything but %r" % (unexpected,), repr(got))

    def contains(self, what, haystack, needle):
        h = haystack if haystack is not None else ""
        return self.check(what, needle in h, "to contain %r" % (needle,), h)

    def icontains(self, what, haystack, needle):
        h = haystack if haystack is not None else ""
        return self.check(what, needle.lower() in h.lower(), "to contain %r (any case)" % (needle,),
                          h)

    def true(self, what, value, expected="true"):
        return self.check(what, bool(value), expected, value)

    def log_run(self, side, name, source):
        """A run of build/server or build/client in this test: source is a list of JSON
        records, or an object whose .evs is (a server still logging). The story checker
        (harness/story.py) reads them all when the test body has ended."""
        self.logs.append((side, name, source))

    def count_passed(self, n):
        """Checks made elsewhere that passed (the unit binary's own), counted here too."""
        self.passed += n

    def skip(self, why):
        """The rest of the test cannot run here (the checks made so far still count)."""
        __tracebackhide__ = True    # pytest reports the skip at the test's line, not here
        pytest.skip(why)

    def report(self):
        return "%d of %d checks failed:\n%s" % (self.failed, self.passed + self.failed,
                                                "\n".join(self.failures))
