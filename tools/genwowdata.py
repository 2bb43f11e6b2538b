#!/usr/bin/env python3
"""Write lab 09's data file wowdata.bin of one set (System32 or SysWOW64) to stdout: 5000
bytes, the set's name in the first 8, then bytes that differ between the two sets, so a
transcript shows which copy a process opened (user/programs/wowfile.c; the grader's model,
grader/models/lab09f.py, computes the same bytes).

    python3 tools/genwowdata.py System32 > System32/wowdata.bin
"""
import sys

SIZE = 5000


def data(set_name: str) -> bytes:
    salt = {"System32": 0x64, "SysWOW64": 0x32}[set_name]
    body = bytes(((i * 0x9E3779B1 + salt) & 0xFFFFFFFF) >> 11 & 0xFF for i in range(8, SIZE))
    return set_name.encode() + body


def main(argv) -> int:
    if len(argv) != 2 or argv[1] not in ("System32", "SysWOW64"):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    sys.stdout.buffer.write(data(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
