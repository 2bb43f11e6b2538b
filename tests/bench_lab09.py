#!/usr/bin/env python3
"""Benchmark of lab 09: boots the (ungraded) ktest lab09.bench_syscall and prints the round trip
of the null system call NtYieldExecution from a 64-bit program and from the same program built
32-bit - compatibility mode, ntdll32's far jump to the wow64 layer, its dispatch and thunk, the
64-bit ntdll's syscall, and the far return - in guest time (HPET), and the ratio: what the
thunk layer costs a call.

    /usr/bin/python3 tests/bench_lab09.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers

KEYS = (("null64_ns", "64-bit program"), ("null32_ns", "32-bit program (WOW64)"))


def main() -> int:
    got = collect(__doc__, "lab09.bench_syscall", lambda values, text: all(k in values for k, _ in KEYS), 180)
    if got is None:
        return 1
    args, runs = got
    figures = [numbers(values) for values, _ in runs]
    calls = figures[0]["calls"]
    print(f"lab 09 null system call round trip (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET, "
          f"{calls:,} calls a figure)")
    med = {}
    for key, what in KEYS:
        med[key] = statistics.median(f[key] for f in figures)
        print(f"  {what:26s} {med[key]:>8,.0f} ns a call ({1e9 / med[key] if med[key] else 0:>12,.0f} calls/s)")
    ratio = med["null32_ns"] / med["null64_ns"] if med["null64_ns"] else float("inf")
    print(f"  the wow64 layer's cost: {med['null32_ns'] - med['null64_ns']:,.0f} ns a call, "
          f"{ratio:.2f}x the 64-bit round trip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
