#!/usr/bin/env python3
"""Benchmark of lab 06: boots the (ungraded) ktest lab06.bench and prints handle creates,
lookups and closes per second of guest time (HPET) with 1,000 and with 100,000 handles
open, and the ratio (NT's handle table: none of them depends on the number of handles, so
the ratio should stay near 1); and name lookups per second in a directory of 10 and of
1,000 names (a 37-bucket hash: lookups slow down as the chains grow).

    /usr/bin/python3 tests/bench_lab06.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers


def main() -> int:
    got = collect(__doc__, "lab06.bench", lambda values, text: "names_large" in values, 600)
    if got is None:
        return 1
    args, runs = got
    rows = [numbers(values) for values, _ in runs]
    print(f"lab 06 benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET, "
          f"{rows[0]['ops']} operations per figure)")
    for what, label in (("create", "handle create"), ("lookup", "handle lookup"), ("close", "handle close")):
        small = statistics.median(r[f"{what}_small"] for r in rows)
        large = statistics.median(r[f"{what}_large"] for r in rows)
        print(f"  {label:14} per second: {small:>12,.0f} with 1,000 handles open, {large:>12,.0f} with 100,000 "
              f"(ratio {small / large if large else float('inf'):.2f})")
    small = statistics.median(r["names_small"] for r in rows)
    large = statistics.median(r["names_large"] for r in rows)
    print(f"  {'name lookup':14} per second: {small:>12,.0f} in a directory of 10, {large:>12,.0f} of 1,000 "
          f"(ratio {small / large if large else float('inf'):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
