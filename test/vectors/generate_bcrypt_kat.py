#!/usr/bin/python3
"""
Generate bcrypt_kat.tsv: bcrypt known-answer vectors from an independent
implementation (Debian's python3-bcrypt, which wraps OpenBSD's code).

Output, one vector per line after a header:
    label <TAB> password_hex <TAB> hash
The password is hex so that any byte survives the TSV format.

python-bcrypt 3.2.2 silently cuts passwords to 72 bytes, so the vectors
for longer passwords are exactly what other libraries produce.
$2y$ vectors are $2b$ hashes with the letter replaced: PHP's $2y$ is the
same algorithm, and python-bcrypt cannot emit that prefix itself.

Salts are random, so each run gives different (equally valid) vectors.
Run: /usr/bin/python3 generate_bcrypt_kat.py > bcrypt_kat.tsv
"""

import sys

import bcrypt

PASSWORDS = [
    ("empty", b""),
    ("ascii", b"password"),
    ("ascii-mixed", b"Tr0ub4dor&3"),
    ("cyrillic", "пароль".encode()),
    ("72-bytes", bytes(ord("a") + i % 26 for i in range(72))),
    ("73-bytes-cut-inside-char", b"x" * 71 + "п".encode()),
    ("72-bytes-cyrillic", ("яж" * 18).encode()),
    ("255-bytes", bytes(0x20 + i % 95 for i in range(255))),
    ("special", b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t"),
    ("spaces", b"     "),
    ("high-bytes", bytes(range(0x80, 0x100, 3))),
    ("one-char", b"U"),
]

COSTS = (4, 5, 6)


def main():
    out = sys.stdout
    out.write("label\tpassword_hex\thash\n")
    for label, pw in PASSWORDS:
        for prefix in (b"2a", b"2b"):
            for cost in COSTS:
                h = bcrypt.hashpw(pw, bcrypt.gensalt(cost, prefix=prefix))
                assert bcrypt.checkpw(pw, h)
                out.write("%s-%s-%02d\t%s\t%s\n"
                          % (label, prefix.decode(), cost, pw.hex(),
                             h.decode()))
        # $2y$: same algorithm as $2b$, only the letter differs.
        h = bcrypt.hashpw(pw, bcrypt.gensalt(4, prefix=b"2b"))
        out.write("%s-2y-04\t%s\t%s\n"
                  % (label, pw.hex(), "$2y$" + h.decode()[4:]))


if __name__ == "__main__":
    main()
