"""Issue 10's limits on the C sources (scripts/limits.py): no file over 1,000 lines
(no exception), no main() over 120 lines, no option numbered by a bare integer.

test_the_tree_keeps_the_limits is the check itself; the others show on small made-up trees
that limits.py sees what it should, and only that.

    /usr/bin/python3 -m pytest tests/test_limits.py         (or: make limits)
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "limits.py")


def limits(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                          universal_newlines=True)


def test_the_tree_keeps_the_limits():
    r = limits("--quiet")
    assert r.returncode == 0, r.stdout + r.stderr


def tree(tmp_path, files):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return limits("--root", str(tmp_path))


def main_of(n, body_line="\tx++;\n", head=""):
    """A file whose main() is n lines long, name to closing brace."""
    return head + "int\nmain(int argc, char **argv)\n{\n" + body_line * (n - 3) + "}\n"


def test_a_tree_within_the_limits_passes(tmp_path):
    opts = ('#include <getopt.h>\nenum { OPT_RSA_PORT = 256, OPT_KX };\n'
            'static const struct option longopts[] = {\n'
            '\t{ "rsa-port", required_argument, NULL, OPT_RSA_PORT },\n'
            '\t{ "kx", required_argument, NULL, OPT_KX },\n'
            '\t{ "verbose", no_argument, &verbose, 1 },\t/* a flag pointer: 1 is a value */\n'
            '\t{ "help", no_argument, NULL, \'h\' },\n'
            '\t{ NULL, 0, NULL, 0 }\n};\n')
    parse = ('static void\nparse(int argc, char **argv)\n{\n\tint ch;\n'
             '\twhile ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {\n'
             '\t\tswitch (ch) {\n\t\tcase OPT_RSA_PORT: break;\n\t\tcase \'h\': break;\n'
             '\t\t}\n\t}\n}\n')
    proto = ('int\nkind(int type)\n{\n\tswitch (type) {\n\tcase 1: return 1;\t/* a '
             'ClientHello: protocol numbers are not option ids */\n\tcase 22: return 2;\n'
             '\t}\n\treturn 0;\n}\n')
    r = tree(tmp_path, {
        "server/main.c": opts + parse + main_of(120),
        "common/dissect.c": proto + "/* tables */\n" * 980,
        "common/big.c": "/* */\n" * 1000,
    })
    assert r.returncode == 0, r.stdout
    assert "0 file(s) over, 0 main() over, 0 bare-number option id(s): ok" in r.stdout


def test_what_breaks_the_limits_is_named(tmp_path):
    r = tree(tmp_path, {
        "client/main.c": (
            '#include <getopt.h>\nstatic const struct option longopts[] = {\n'
            '\t{ "kx", required_argument, NULL, 21 },\n'
            '\t{ "ciphers", required_argument, NULL, 0x04 },\n\t{ NULL, 0, NULL, 0 }\n};\n' +
            main_of(121, head="static int ch;\n").replace(
                "{\n", "{\n\twhile ((ch = getopt_long(argc, argv, \"\", longopts, NULL)) != -1)"
                "\n\t\tswitch (ch) {\n\t\tcase 21: case 'k': break;\n\t\t}\n", 1)),
        "common/dissect.c": "/* */\n" * 1001,
        "ladder/ladder.c": "/* */\n" * 1001,
        # the id handed on from the loop to the function that switches on it
        "server/options.c": (
            "static void\nparse_one(struct options *o, int id, const char *arg)\n{\n"
            "\tswitch (id) {\n\tcase F_BIND: break;\n\tcase 7: break;\n\t}\n}\n"
            "void\noptions_parse(int argc, char **argv)\n{\n\tint id;\n"
            "\twhile ((id = flags_next(&server_flags, argc, argv, &arg)) != -1)\n"
            "\t\tparse_one(&o, id, arg);\n}\n"),
    })
    assert r.returncode == 1, r.stdout
    out = r.stdout
    assert "common/dissect.c                  OVER the limit of 1000" in out
    assert "ladder/ladder.c                   OVER the limit of 1000" in out
    assert re.search(r"  12\d  client/main\.c:\d+ +OVER the limit of 120", out)
    assert '{ "kx", required_argument, NULL, 21 }' in out
    assert '{ "ciphers", required_argument, NULL, 0x04 }' in out
    assert "case 21:" in out and "case 'k'" not in out
    assert re.search(r"server/options\.c:6 +case 7:", out)
    assert "2 file(s) over, 1 main() over, 4 bare-number option id(s): FAIL" in out
