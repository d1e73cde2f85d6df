#!/usr/bin/env python3
"""mergelog.py -- both programs' text logs merged into one stream in time order, for make demo
and make lesson.

Each program writes its own log (the server to standard output, the client to standard error);
printed live to one terminal their lines race, and a line can come out before an earlier one of
the other side. With both programs started under one origin (HSLAB_T0, see common/clock.c) their
"+ms" fields are on one clock: this script sorts the lines of both files on that field (a stable
sort: lines with the same time keep their order, the first file first), so the times it prints
never go backwards. Lines without a time (the certificate warning's frame, a --dissect field, a
"why" line) stay under the event they follow. A program whose log is not a terminal ends an
event's line with its --explain why; here that why goes back under its event, on a line of its
own at the detail column, the first time it is said (the same sentence under the next event of
its kind is left out).

On a terminal (or with --width N) each line is wrapped to the width at a space, or between two
CJK characters (two columns each, counted here, not by the locale); continuation lines are
indented under the event's detail. Escape sequences (colour) take no width.

A captured segment's line carries the moment the program read it from the capture, a little
after the capture stamped it (the kernel can meanwhile have finished the handshake and the other
side logged accept()). Given the same program's records as JSON lines (--stamps LOG:JSON, the
file HSLAB_JSON_COPY names: the text log's records also as JSON), such a line is placed and
shown at its capture's stamp (cap_ts_us, on the same one clock) instead, so a segment comes
before what it caused. Whoever prints the merged lines says so (make demo does, once).

usage: mergelog.py [--width N] [--from-line FILE:N ...] [--stamps LOG:JSON ...] LOG...
       mergelog.py --text [--width N]
       --from-line FILE:N  skip the first N lines of FILE (what an earlier step printed)
       --stamps LOG:JSON   LOG's records as JSON lines: its segments at their capture's time
       --text              no logs: wrap standard input's lines (prose: a continuation line
                           keeps the line's own indent)
exit status 0; 1 when a log cannot be read (the others are merged); 2 on a usage error.
"""
import os
import re
import sys
import unicodedata

TIME = re.compile(r"^(?:\x1b\[[0-9;]*m)*\s*\+(\d+\.\d+) ms")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def records(lines):
    """Groups lines into records: (time or None, [lines]); an untimed line joins the record
    before it (or starts one with no time when it comes first)."""
    recs = []
    for line in lines:
        m = TIME.match(line)
        if m:
            recs.append([float(m.group(1)), [line]])
        elif recs:
            recs[-1][1].append(line)
        else:
            recs.append([None, [line]])
    return recs


def when(r):
    """A JSON record's time on the one clock, in ms: t_ms, or for a captured segment its
    capture's stamp (cap_ts_us, wall-clock µs) on the same origin (ts_us - t_ms)."""
    t = float(r.get("t_ms", 0))
    if r.get("event") == "segment" and "cap_ts_us" in r and "ts_us" in r:
        origin = r["ts_us"] - t * 1000.0
        t = (r["cap_ts_us"] - origin) / 1000.0
    return t


def cap_stamps(path):
    """The captured segments of a JSON-lines log: {("%.3f" % t_ms, "> SYN"): [ms at the
    capture's stamp, ...]} (a list: two segments can be read in the same microsecond)."""
    import json
    stamps = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("event") != "segment" or "cap_ts_us" not in r:
                    continue
                k = ("%.3f" % float(r.get("t_ms", 0)),
                     "%s %s" % (">" if r.get("dir") == "out" else "<", r.get("flags", "")))
                stamps.setdefault(k, []).append(when(r))
    except OSError as e:
        print("mergelog: %s: %s" % (path, e.strerror), file=sys.stderr)
    return stamps


SEGMENT = re.compile(r"^\s*\+(\d+\.\d+) ms  (?:client|server)(?: #\d+)?\s+TCP  ([<>] \S+)")


def at_capture(t, body, stamps):
    """A segment's record moved to its capture's stamp: (time, lines) with the time field of
    its first line rewritten (same width); any other record as it was."""
    if not stamps or t is None:
        return t, body
    m = SEGMENT.match(ANSI.sub("", body[0]))
    if m is None:
        return t, body
    got = stamps.get((m.group(1), m.group(2)))
    if not got:
        return t, body
    cap = got.pop(0)
    # the time field rewritten in place, as wide as the text printer's "%+10.3f"
    tm = re.match(r"^((?:\x1b\[[0-9;]*m)*)(\s*\+\d+\.\d+)", body[0])
    line = tm.group(1) + ("%+.3f" % cap).rjust(len(tm.group(2))) + body[0][tm.end(2):]
    return cap, [line] + body[1:]


def merge(files, skip, errors=None, stamps=None):
    """All records of all files in time order (stable); a leading untimed record sorts first.
    A file that cannot be read is named on standard error (and counted in errors). stamps:
    {file: JSON log of the same records}, its segments placed at their capture's stamp."""
    allrecs = []
    stamps = stamps or {}
    for i, path in enumerate(files):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError as e:
            print("mergelog: %s: %s" % (path, e.strerror), file=sys.stderr)
            if errors is not None:
                errors.append(path)
            continue
        lines = lines[skip.get(path, 0):]
        caps = cap_stamps(stamps[path]) if path in stamps else None
        for n, (t, body) in enumerate(records(lines)):
            t, body = at_capture(t, body, caps)
            allrecs.append((t if t is not None else -1.0, i, n, body))
    allrecs.sort(key=lambda r: (r[0], r[1], r[2]))
    return allrecs


def cwidth(ch):
    """Columns a character takes: 2 for East Asian wide and full-width, 0 for combining marks."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def is_cjk(ch):
    return cwidth(ch) == 2


# CJK punctuation that must not begin a line (it stays with the character before it)
NO_START = set("，。、：；！？）》」』】〕…")


def tokens(line):
    """The line as (text, width) tokens: an escape sequence (width 0), a run of spaces, a word of
    narrow characters, or one wide character (a place to break on either side)."""
    out = []
    i = 0
    while i < len(line):
        m = ANSI.match(line, i)
        if m:
            out.append((m.group(0), 0))
            i = m.end()
            continue
        ch = line[i]
        if ch == " ":
            j = i
            while j < len(line) and line[j] == " ":
                j += 1
            out.append((line[i:j], j - i))
            i = j
        elif is_cjk(ch):
            if ch in NO_START and out and out[-1][1] >= 2 and not out[-1][0].startswith(" "):
                out[-1] = (out[-1][0] + ch, out[-1][1] + 2)
            else:
                out.append((ch, 2))
            i += 1
        else:
            j = i
            while j < len(line) and line[j] != " " and line[j] != "\x1b" and not is_cjk(line[j]):
                j += 1
            out.append((line[i:j], sum(cwidth(c) for c in line[i:j])))
            i = j
    return out


def detail_column(line):
    """Where an event's detail starts (the column continuation lines go under): after the time,
    side, layer and event fields, i.e. the indent of a 'why' line (47 columns)."""
    plain = ANSI.sub("", line)
    m = re.match(r"^\s*\+\d+\.\d+ ms  .{9}  \S+\s+\S+\s+", plain)
    return min(len(m.group(0)), 47) if m else 4


LEFT = 8	# where a word too long for the room under the detail starts (as common/textwidth.c)


def wrap(line, width, prose=False, indent=None):
    """Lines of at most width columns, broken at spaces or between wide characters; a word
    too long for the room under the detail starts further left (column LEFT); one longer than
    a line is cut (it cannot fit anywhere)."""
    plain_w = sum(w for _, w in tokens(line))
    if plain_w <= width:
        return [line]
    lead = len(line) - len(line.lstrip(" "))
    if indent is None:
        indent = detail_column(line) if TIME.match(line) else min(lead + 2, 47)
        if prose:
            indent = lead
    if width - indent < 30:
        indent = min(4, width // 4)
    # a framed box (the certificate warning): continuation lines keep the frame's left edge
    pad = "|" + " " * (indent - 1) if ANSI.sub("", line).startswith("|") and indent > 1 else " " * indent
    out, cur, curw = [], "", 0
    for text, w in tokens(line):
        if text.startswith(" ") and w > 0:	# a space: a place to break
            if curw + w > width:
                out.append(cur)
                cur, curw = pad, indent
                continue
            cur += text
            curw += w
            continue
        if curw + w > width and curw > indent and w > 0:
            out.append(cur.rstrip(" "))
            cur, curw = pad, indent
        if curw + w > width and w <= width - LEFT and LEFT < curw:
            # a word too long for the room under the detail: whole, further left
            if cur.strip(" |"):
                out.append(cur.rstrip(" "))
            cur, curw = pad[:1] + " " * (LEFT - 1) if pad.startswith("|") else " " * LEFT, LEFT
        while w > width - curw and curw + w > width:	# a word wider than a line: cut it
            room = width - curw
            part, pw = "", 0
            for c in text:
                if pw + cwidth(c) > room:
                    break
                part += c
                pw += cwidth(c)
            out.append(cur + part)
            text = text[len(part):]
            w -= pw
            cur, curw = pad, indent
        cur += text
        curw += w
    if cur.strip(" ") or not out:
        out.append(cur.rstrip(" "))
    return out


WHY = re.compile(r"  ((?:\x1b\[[0-9;]*m)?(?:why[ :(]|原因[（：]))")


def split_why(line):
    """An event's line and, when it ends with its why, that why on a line of its own under the
    event's detail."""
    m = WHY.search(line) if TIME.match(line) else None
    if m is None:
        return [line]
    return [line[:m.start()], " " * detail_column(line) + line[m.start(1):]]


def term_width():
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        pass
    try:
        return int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return 0


def main(argv):
    width = None
    text = False
    skip = {}
    stamps = {}
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--width" and args:
            try:
                width = int(args.pop(0))
            except ValueError:
                width = -1
            if width < 20:
                print("mergelog: --width wants a number of columns (20 or more)", file=sys.stderr)
                return 2
        elif a == "--stamps" and args:
            path, _, js = args.pop(0).partition(":")
            if not path or not js:
                print("mergelog: --stamps wants LOG:JSON", file=sys.stderr)
                return 2
            stamps[path] = js
        elif a == "--text":
            text = True
        elif a == "--from-line" and args:
            path, _, n = args.pop(0).rpartition(":")
            if not path or not n.isdigit():
                print("mergelog: --from-line wants FILE:N", file=sys.stderr)
                return 2
            skip[path] = int(n)
        elif a.startswith("-") and a != "-":
            print(__doc__.split("usage: ")[1].split("\n")[0], file=sys.stderr)
            return 2
        else:
            files.append(a)
    if text:
        if width is None and sys.stdout.isatty():
            width = term_width() or None
        for line in sys.stdin.read().splitlines():
            sys.stdout.write("".join(l + "\n" for l in (wrap(line, width, True) if width else [line])))
        return 0
    if not files:
        print("usage: mergelog.py [--width N] [--from-line FILE:N ...] [--stamps LOG:JSON ...] "
              "LOG...", file=sys.stderr)
        return 2
    if width is None and sys.stdout.isatty():
        width = term_width() or None
    out, errors, whys = [], [], set()
    for _, _, _, body in merge(files, skip, errors, stamps):
        for l in body:
            parts = split_why(l)
            # a why once: the same sentence under the next event of its kind (six listen
            # lines, every ACK) is left out, its first time above explains them all
            if len(parts) == 2:
                key = ANSI.sub("", parts[1]).strip()
                if key in whys:
                    parts = parts[:1]
                whys.add(key)
            for line in parts:
                out.extend(wrap(line, width) if width else [line])
    sys.stdout.write("".join(l + "\n" for l in out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
