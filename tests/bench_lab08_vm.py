#!/usr/bin/env python3
"""Benchmark of lab 08's virtual memory: boots the (ungraded) ktest lab08vm.bench and prints
VAD lookups per second (guest time, HPET) in trees of 100 and 10,000 VADs - regions grown
100x: an O(log n) lookup should cost about log2(10000)/log2(100) = 2x as much, a linear
scan 100x - and demand-zero faults per second (committed pages touched for the first time).

    /usr/bin/python3 tests/bench_lab08_vm.py [--sol all] [--seeds 3]
"""
import math
import statistics
import sys

from bench_ktest import collect


def _rows(text: str, key: str) -> list[list[str]]:
    return [ln.split()[4:] for ln in text.splitlines() if ln.startswith(f"KTEST VALUE lab08vm.bench {key} ")]


def main() -> int:
    got = collect(__doc__, "lab08vm.bench",
                  lambda values, text: "demand_zero_faults_per_second" in values and len(_rows(text, "lookup")) == 2,
                  180)
    if got is None:
        return 1
    args, runs = got
    rates: dict[int, list[int]] = {}
    heights: dict[int, int] = {}
    faults = []
    for values, text in runs:
        for n, rate in _rows(text, "lookup"):
            rates.setdefault(int(n), []).append(int(rate))
        for n, h in _rows(text, "height"):
            heights[int(n)] = int(h)
        faults.append(int(values["demand_zero_faults_per_second"]))
    print(f"lab 08 vm benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET)")
    ns = {}
    for n in sorted(rates):
        r = statistics.median(rates[n])
        ns[n] = 1e9 / r if r else float("inf")
        print(f"  VAD lookup, {n:>6} VADs (height {heights.get(n, '?')}): {r:>12,.0f} lookups/s ({ns[n]:,.0f} ns)")
    small, big = min(ns), max(ns)
    ratio = ns[big] / ns[small]
    print(f"  regions x{big // small}: lookup cost x{ratio:.2f} (log growth x{math.log2(big) / math.log2(small):.2f}, "
          f"linear x{big // small})")
    f = statistics.median(faults)
    print(f"  demand-zero faults: {f:,.0f} /s" + ("" if f else " (no fault handler resolved them: lab 08 pf part)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
