#!/usr/bin/env python3
"""Benchmark of lab 04: boots the (ungraded) ktest lab04.bench and prints DPC
insert+remove and timer set+cancel pairs per second of guest time (HPET), with 10 and
with 1000 queued DPCs / set timers in the background, and the ratio (NT's O(1) DPC
insert and one-list timer insert: the ratio should stay near 1).

    /usr/bin/python3 tests/bench_lab04.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers


def main() -> int:
    got = collect(__doc__, "lab04.bench", lambda values, text: "timer_large" in values, 120)
    if got is None:
        return 1
    args, runs = got
    rows = [numbers(values) for values, _ in runs]
    print(f"lab 04 benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET, "
          f"{rows[0]['ops']} pairs per figure)")
    for what, label in (("dpc", "DPC insert+remove"), ("timer", "timer set+cancel")):
        small = statistics.median(r[f"{what}_small"] for r in rows)
        large = statistics.median(r[f"{what}_large"] for r in rows)
        bg = "queued DPCs" if what == "dpc" else "set timers"
        print(f"  {label:18} per second: {small:>12,.0f} with 10 {bg}, {large:>12,.0f} with 1000 "
              f"(ratio {small / large if large else float('inf'):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
