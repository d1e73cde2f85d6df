#!/usr/bin/python3
"""limits.py -- issue 10's limits on the C sources: file sizes, main() lengths, option ids.

    scripts/limits.py [--quiet] [--root DIR]      (make limits; tests/test_limits.py)

Prints the line count of every C source file (.c and .h) under server/, client/, common/,
ladder/, bench/, tests/unit and tests/fuzz, the length of every main(), and every option
numbered by a bare integer; exit 1 if a limit is broken:
  - a file over 1,000 lines (no exception: dissect.c's name tables have their own file,
    common/dissect_names.c);
  - a main() over 120 lines, counted from the line with its name to its closing brace;
  - an option id that is a bare number: the val of a getopt_long `struct option` entry (one
    with no flag pointer; the all-zero terminator aside), or a `case 21:` in the switch on
    what getopt/getopt_long (or a flags_* parser) returned, in the same function or in the
    function of the same file it is handed to. Option ids are named (`case OPT_RSA_PORT:`)
    or, for short options, the letter (`case 'h':`). Other switches (protocol numbers in
    dissect.c, tls.c, http1.c) are not option switches.
--quiet prints only what breaks a limit; --root DIR looks at another tree (default: this
one). Standard library only.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ("server", "client", "common", "ladder", "bench", "tests/unit", "tests/fuzz")
FILE_LIMIT = 1000
FILE_LIMIT_FOR = {}
MAIN_LIMIT = 120


def sources(root):
    out = []
    for d in DIRS:
        top = os.path.join(root, d)
        if not os.path.isdir(top):
            continue
        for base, _, files in os.walk(top):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(base, f), root))
    return sorted(out)


def strip(text):
    """The source with comments blanked and the insides of string and character literals
    blanked (quotes kept), newlines kept: offsets and line numbers stay as they were."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\":
                    if out[j] != "\n":
                        out[j] = " "
                    j += 1
                if j < n and out[j] != "\n":
                    out[j] = " "
                j += 1
            i = j + 1
        else:
            i += 1
    return "".join(out)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def match_close(s, pos, open_c, close_c):
    """The offset of the bracket that closes the one at s[pos]."""
    depth = 0
    for i in range(pos, len(s)):
        if s[i] == open_c:
            depth += 1
        elif s[i] == close_c:
            depth -= 1
            if depth == 0:
                return i
    return len(s) - 1


def top_level_blocks(s):
    """(start, end) of every brace block at file level: function bodies, initializers."""
    out, i = [], 0
    while True:
        i = s.find("{", i)
        if i < 0:
            return out
        j = match_close(s, i, "{", "}")
        out.append((i, j))
        i = j + 1


def mains(path, text, s):
    """[(line of its name, length)] of every main() defined in the file."""
    out = []
    for m in re.finditer(r"\bmain\s*\(", s):
        depth = s.count("{", 0, m.start()) - s.count("}", 0, m.start())
        if depth != 0:
            continue
        close = match_close(s, m.end() - 1, "(", ")")
        rest = s[close + 1:].lstrip()
        if not rest.startswith("{"):
            continue                        # a declaration
        body = close + 1 + (len(s) - close - 1 - len(rest))
        end = match_close(s, body, "{", "}")
        first, last = line_of(s, m.start()), line_of(s, end)
        out.append((first, last - first + 1))
    return out


def definitions(s, blocks, name):
    """[(start, end, [parameter names])] of the function `name` defined in the file."""
    out = []
    for start, end in blocks:
        head = s[max(0, start - 400):start]
        m = re.search(r"\b%s\s*\(([^()]*)\)\s*$" % re.escape(name), head)
        if m:
            params = [re.findall(r"\w+", p)[-1] if re.findall(r"\w+", p) else ""
                      for p in split_top(m.group(1))]
            out.append((start, end, params))
    return out


NUMBER = re.compile(r"^-?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")


def split_top(s):
    """s split at the commas outside brackets."""
    out, depth, cur = [], 0, []
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return [x.strip() for x in out]


def bare_option_ids(text, s):
    """[(line, what)] of every option id that is a bare number."""
    out = []
    # getopt_long tables: struct option NAME[] = { { name, has_arg, flag, val }, ... };
    for m in re.finditer(r"\bstruct\s+option\s+\w+\s*\[[^\]]*\]\s*=\s*\{", s):
        end = match_close(s, m.end() - 1, "{", "}")
        i = m.end()
        while True:
            i = s.find("{", i, end)
            if i < 0:
                break
            j = match_close(s, i, "{", "}")
            f = split_top(s[i + 1:j])
            if len(f) >= 4 and f[0] not in ("NULL", "0") and f[2] in ("NULL", "0") and \
                    NUMBER.match(f[3]):
                out.append((i, " ".join(text[i:j + 1].split())))
            i = j + 1
    # the switch on what getopt (or a flags_* parser) returned: case 21:, also in a function
    # of the same file the id is handed to (parse_one(&o, id, arg) -> switch (id))
    blocks = top_level_blocks(s)
    watch = set()       # (function body, the variable or parameter that holds an option id)
    for start, end in blocks:
        body = s[start:end + 1]
        for name in set(re.findall(r"\b(\w+)\s*=\s*(?:getopt\w*|flags?_\w+)\s*\(", body)):
            watch.add((start, end, name))
            for call in re.finditer(r"\b(\w+)\s*\(", body):
                close = match_close(body, call.end() - 1, "(", ")")
                args = split_top(body[call.end():close])
                if name in args:
                    i = args.index(name)
                    for fstart, fend, params in definitions(s, blocks, call.group(1)):
                        if i < len(params):
                            watch.add((fstart, fend, params[i]))
    for start, end, name in sorted(watch):
        body = s[start:end + 1]
        for sw in re.finditer(r"\bswitch\s*\(\s*%s\s*\)\s*\{" % re.escape(name), body):
            b0 = sw.end() - 1
            b1 = match_close(body, b0, "{", "}")
            depth = 0
            for k in range(b0, b1):
                c = body[k]
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                elif depth == 1 and body.startswith("case", k) and \
                        not (body[k - 1].isalnum() or body[k - 1] == "_"):
                    cm = re.match(r"case\s+([^:]+?)\s*:", body[k:])
                    if cm and NUMBER.match(cm.group(1)):
                        out.append((start + k, "case %s:" % cm.group(1)))
    return [(line_of(s, pos), what) for pos, what in sorted(set(out))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quiet", action="store_true", help="only what breaks a limit")
    ap.add_argument("--root", default=ROOT, help="the tree to look at (default: this one)")
    a = ap.parse_args()
    quiet = a.quiet
    files, funcs, ids = [], [], []
    for path in sources(a.root):
        with open(os.path.join(a.root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        s = strip(text)
        files.append((path, text.count("\n")))
        funcs += [(path, line, n) for line, n in mains(path, text, s)]
        ids += [(path, line, what) for line, what in bare_option_ids(text, s)]
    broken = 0

    print("C source files, lines (limit %d; %s)" % (FILE_LIMIT, ", ".join(
        "%s %d" % kv for kv in sorted(FILE_LIMIT_FOR.items()))))
    for path, n in files:
        limit = FILE_LIMIT_FOR.get(path, FILE_LIMIT)
        over = n > limit
        broken += over
        if over or not quiet:
            print("  %5d  %-32s%s" % (n, path, "  OVER the limit of %d" % limit if over
                                      else ""))
    print("main(), lines from its name to its closing brace (limit %d)" % MAIN_LIMIT)
    for path, line, n in funcs:
        over = n > MAIN_LIMIT
        broken += over
        if over or not quiet:
            print("  %5d  %-32s%s" % (n, "%s:%d" % (path, line),
                                      "  OVER the limit of %d" % MAIN_LIMIT if over else ""))
    print("option ids that are bare numbers (limit: none)")
    for path, line, what in ids:
        print("         %-32s%s" % ("%s:%d" % (path, line), what))
    broken += len(ids)
    nf = sum(1 for p, n in files if n > FILE_LIMIT_FOR.get(p, FILE_LIMIT))
    nm = sum(1 for _, _, n in funcs if n > MAIN_LIMIT)
    print("limits: %d file(s) over, %d main() over, %d bare-number option id(s): %s" % (
        nf, nm, len(ids), "FAIL" if broken else "ok"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
