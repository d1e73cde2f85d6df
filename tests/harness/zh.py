"""harness/zh.py -- is a --lang zh log Chinese all the way? One rule, shared by every test that
asks (tests/test_zh.py for the programs, tests/test_zh_common.py for common/).

The rule: no line (text log) and no sentence field (JSON log: detail, gloss, explain, the note)
holds a run of 4 or more consecutive English words, once these are set aside:
  - the text line's fixed columns (time, side and connection, layer, event name or label);
  - what is quoted, "..." or '...' (peer data, file names, a header as it came);
  - the C library's own error texts (strerror: "Connection reset by peer").
A word is a token of ASCII letters, lower case or Capitalised ("the", "Peer's", "sent,"): names
such as ClientHello, TLS, SYN+ACK, TLS_AES_128_GCM_SHA256, localhost:8443, depth=0 are not words,
so "收到 EncryptedExtensions, Certificate, CertificateVerify" passes. A real English sentence
("our kernel received SYN+ACK and answered ACK: the connection is open both ways") has runs of
4 plain words; a Chinese one has none.
"""

import errno
import json
import os
import re

RUN = 4

# The text log's fixed columns: "   +1.234 ms  client #1  TCP  connect          ".
_PREFIX = re.compile(r"^\s*[+-]?\d+\.\d+ ms\s+(?:client|server)(?: #\d+)?\s+"
                     r"(?:TCP|TLS|CERT|HTTP|APP)\s+\S+")
_DQUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_SQUOTED = re.compile(r"(?<![A-Za-z])'[^'\n]*'(?![A-Za-z])")
_WORD = re.compile(r"^[(\[]?[A-Za-z][a-z]*(?:'[a-z]+)?[,.;:)\]]?$")
_STRERROR = sorted({os.strerror(e) for e in errno.errorcode}, key=len, reverse=True)
# JSON fields that hold sentences (the rest are names, numbers, peer data).
# ("summary", "reason", "what", "why" are data: explain.c, the checkers and the ladder read them
# as the program wrote them, in English, as OpenSSL's reason is.)
SENTENCE_FIELDS = ("detail", "gloss", "explain", "note", "explanation")


def _strip(text):
    text = _DQUOTED.sub('""', text)
    text = _SQUOTED.sub("''", text)
    for s in _STRERROR:
        if len(s) > 8 and s in text:
            text = text.replace(s, "E")
    return text


def english_run(text, run=RUN):
    """The first run of `run` or more English words in text (a string), or None."""
    words = []
    for tok in _strip(text).split():
        if _WORD.match(tok):
            words.append(tok)
            if len(words) >= run:
                continue
        else:
            if len(words) >= run:
                return " ".join(words)
            words = []
    return " ".join(words) if len(words) >= run else None


def english_lines(text, run=RUN):
    """The lines of a text log (or of JSON lines) that break the rule, as (line, run) pairs.
    A JSON line is judged by its sentence fields; a text line without its fixed columns."""
    bad = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("{"):
            try:
                rec = json.loads(s)
            except ValueError:
                rec = None
            if isinstance(rec, dict):
                for k in SENTENCE_FIELDS:
                    v = rec.get(k)
                    if isinstance(v, str):
                        r = english_run(v, run)
                        if r:
                            bad.append((line, r))
                            break
                continue
        r = english_run(_PREFIX.sub("", line), run)
        if r:
            bad.append((line, r))
    return bad
