#!/usr/bin/env python3
"""Write every C string literal of the given unit-test sources to a file of
its own in OUT_DIR, as fuzzing seeds: the JSON, tokens, base64url, UUIDs
and hashes that test/unit checks.  Adjacent literals ("a" "b") are one
string; escapes are decoded (\\n, \\xNN, octal...); macros are not expanded,
so a literal built from macros gives only its literal pieces.

usage: unit_literals.py OUT_DIR FILE.c...
"""
import os
import re
import sys

TOKEN = re.compile(
    r'//[^\n]*|/\*.*?\*/'          # comments
    r"|'(?:\\.|[^'\\\n])*'"        # character constants
    r'|"((?:\\.|[^"\\\n])*)"'      # string literals (group 1)
    r'|(\s+)'                      # whitespace (group 2)
    r'|.', re.S)

ESCAPE = re.compile(r'\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)', re.S)
SIMPLE = {'n': 10, 't': 9, 'r': 13, '0': 0, 'a': 7, 'b': 8, 'f': 12,
          'v': 11, '\\': 92, '"': 34, "'": 39, '?': 63}


def decode(body):
    out = bytearray()
    pos = 0
    for m in ESCAPE.finditer(body):
        out += body[pos:m.start()].encode('utf-8')
        e = m.group(1)
        if e[0] == 'x':
            out.append(int(e[1:], 16) & 0xff)
        elif e[0] in '01234567':
            out.append(int(e, 8) & 0xff)
        else:
            out.append(SIMPLE.get(e, ord(e[0]) & 0xff))
        pos = m.end()
    out += body[pos:].encode('utf-8')
    return bytes(out)


def literals(text):
    current = None
    for m in TOKEN.finditer(text):
        if m.group(1) is not None:
            current = (current or b'') + decode(m.group(1))
        elif m.group(2) is not None or m.group(0).startswith('/'):
            continue
        elif current is not None:
            yield current
            current = None
    if current is not None:
        yield current


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    seen = set()
    for path in sys.argv[2:]:
        base = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for i, lit in enumerate(literals(text)):
            if not lit or lit in seen:
                continue
            seen.add(lit)
            with open(os.path.join(out_dir, '%s_%d' % (base, i)), 'wb') as f:
                f.write(lit)


if __name__ == '__main__':
    main()
