"""The man pages (man/*.1) against --help and the flag tables they are written from.

Run: /usr/bin/python3 -m pytest tests/test_man.py   (BUILD=build by default; make all first)

--help and the man page are both written from one flag table per program (common/flags.c,
server/options.c, client/options.c, ladder/options.c), so: every flag --help lists is in the
man page's OPTIONS section and the reverse, and the committed pages are what the generator
(build/mkman-NAME) writes from the tables now (if not: make man, and commit)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MAN = os.path.join(ROOT, "man")
PAGES = sorted(f[:-2] for f in os.listdir(MAN) if f.endswith(".1"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        pytest.fail("%s is not built (make all)" % path)
    return path


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=30, **kw)


def flag_words(left):
    """'-b, --bind ADDR' -> {'-b ADDR', '--bind ADDR'}: each flag with its argument."""
    m = re.match(r"((?:-[A-Za-z0-9]|--[a-z0-9][a-z0-9.-]*)(?:, (?:-[A-Za-z0-9]|--[a-z0-9][a-z0-9.-]*))*)"
                 r"(?: (\S+))?$", left.strip())
    assert m, "not a flag: %r" % left
    arg = " " + m.group(2) if m.group(2) else ""
    return {f + arg for f in m.group(1).split(", ")}


def help_flags(name):
    r = run([binary(name), "--help"])
    assert r.returncode == 0, r.stderr
    flags = set()
    for line in r.stdout.splitlines():
        # "  -b, --bind ADDR        text": the flag column ends at two spaces
        m = re.match(r"  (-\S.*?)(?:  |$)", line)
        if m:
            flags |= flag_words(m.group(1))
    return flags, r.stdout


def man_source(name):
    with open(os.path.join(MAN, name + ".1"), encoding="utf-8") as f:
        return f.read()


def man_sections(src):
    """{'OPTIONS': [lines], ...} from the .SH headings."""
    sections, cur = {}, None
    for line in src.splitlines():
        if line.startswith(".SH "):
            cur = line[4:].strip().strip('"')
            sections[cur] = []
        elif cur is not None:
            sections[cur].append(line)
    return sections


def man_flags(name):
    lines = man_sections(man_source(name)).get("OPTIONS", [])
    flags = set()
    for i, line in enumerate(lines):
        if line == ".TP" and i + 1 < len(lines):
            tag = re.sub(r"\\f[BIR]", "", lines[i + 1]).replace("\\-", "-")
            flags |= flag_words(tag)
    return flags


def test_pages_exist():
    # every program's page: without one, the tests below would silently skip that program
    assert {"server", "client", "ladder"} <= set(PAGES), PAGES


@pytest.mark.parametrize("name", PAGES)
def test_help_and_man_list_the_same_flags(name):
    """Every flag in --help (with its argument) is in the man page's OPTIONS, and the reverse."""
    in_help, text = help_flags(name)
    in_man = man_flags(name)
    assert len(in_help) > 5, text
    assert in_help - in_man == set(), "in --help, not in man/%s.1" % name
    assert in_man - in_help == set(), "in man/%s.1, not in --help" % name


@pytest.mark.parametrize("name", PAGES)
def test_page_is_what_the_table_writes(name):
    """The committed page is what build/mkman-NAME writes from its table now (else: make man)."""
    r = run([binary("mkman-" + name)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == man_source(name), "man/%s.1 is out of date: run make man" % name


@pytest.mark.parametrize("name", PAGES)
def test_page_sections(name):
    src = man_source(name)
    sections = list(man_sections(src))
    for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"):
        assert s in sections, (s, sections)
    assert re.search(r"^\.TH %s 1 " % name.upper(), src, re.M)
    # every dash in the source is \- (groff never breaks --linger-watch after one)
    text = [l for l in src.splitlines() if not l.startswith(".")]
    assert [l for l in text if re.search(r"(?<!\\)-", l)] == []


@pytest.mark.parametrize("name", PAGES)
def test_help_fits_80_columns(name):
    _, text = help_flags(name)
    wide = [l for l in text.splitlines()
            if sum(2 if "\u3000" <= ch <= "\ud7ff" else 1 for ch in l) >= 80]
    assert wide == []


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")
@pytest.mark.parametrize("name", PAGES)
def test_man_renders(name):
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    r = run(["man", "--warnings", "-l", os.path.join(MAN, name + ".1")], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "OPTIONS" in r.stdout and "--help" in r.stdout.replace("\u2010", "-")
