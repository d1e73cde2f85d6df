"""--lang zh: is any sentence left in English? One rule for every test that asks.

A line fails when, after the parts that are not ours to translate are set aside, it still holds
a run of 4 or more consecutive ASCII English words ("the server sent its FIN"). Set aside:
quoted text ('...', "...": peer data, a request target, a name), certificate names (CN=...,
O=...), URLs and paths, flags (--cacert), identifiers (TLS_AES_128_GCM_SHA256, FIN_WAIT1,
close_notify, X25519), and what OpenSSL itself says (its error string, in parentheses after
"OpenSSL"). Message names (ClientHello, CertificateVerify ...) are single words: they never make
a run on their own.

Two short English names are too few words for a run, yet are not names that stay English: the
textbook's steps ("1st handshake", "4th wave": 第一次握手, 第四次挥手) and the kernel's timers as a
sentence names them ("retransmit timer", "timewait 计时器": 重传计时器, TIME_WAIT 计时器). A line
holding one fails too (the kernel's own name in parentheses, "（retransmit）", is fine).
"""
import re

# a run of 4+ words of ASCII letters, separated by single spaces
RUN = re.compile(r"(?<![\w'/.-])[A-Za-z]+(?:'[a-z]+)?(?: [A-Za-z]+(?:'[a-z]+)?){3,}(?![\w/-])")

SET_ASIDE = [
    re.compile(r"'[^'\n]*'"),                       # quoted: peer data, names
    re.compile(r'"[^"\n]*"'),
    re.compile(r"\b(?:CN|O|OU|C|L|ST|emailAddress)=[^,/\]\)]*"),  # certificate names
    re.compile(r"\b[a-z][a-z0-9+.-]*://\S*"),       # URLs
    re.compile(r"(?<!\S)--?[A-Za-z][\w-]*"),         # flags
    re.compile(r"\S*/\S*"),                          # paths, HTTP/1.1, a/b
    re.compile(r"\bOpenSSL(?: error \d+)?[:,]? \([^)]*\)"),    # OpenSSL's own text
    re.compile(r"\(OpenSSL: [^)]*\)"),
]

# a textbook step or a kernel timer left in English (see above)
SHORT = re.compile(r"\b(?:1st|2nd|3rd|4th)(?: and 3rd)? (?:handshake|wave)\b|"
                   r"\b(?:retransmit|keepalive|timewait|probe) ?(?:timer|计时器)")


def english_runs(line):
    """The runs of 4+ English words left in one line, after what is set aside."""
    s = line
    for p in SET_ASIDE:
        s = p.sub(" \u00b7 ", s)
    return [m.group(0) for m in RUN.finditer(s)] + [m.group(0) for m in SHORT.finditer(s)]


def english_lines(text):
    """[(line, [runs])] for each line of text that still has an English run."""
    out = []
    for line in text.splitlines():
        runs = english_runs(line)
        if runs:
            out.append((line, runs))
    return out
