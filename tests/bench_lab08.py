#!/usr/bin/env python3
"""Benchmark of lab 08's user-mode core: boots the (ungraded) ktest lab08.bench_syscall and
prints the round trip of a system call from ring 3 and back in guest time (HPET): a bad
number (syscall entry, the dispatcher's refusal, sysret), the null service NtYieldExecution
(no argument), and NtTestArguments (sixteen arguments, twelve copied from the user stack
after a probe) - the difference is the argument capture.

    /usr/bin/python3 tests/bench_lab08.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers

KEYS = (("bad_number_ns", "bad number (refused)"), ("null_ns", "NtYieldExecution (0 arguments)"),
        ("args16_ns", "NtTestArguments (16 arguments)"))


def main() -> int:
    got = collect(__doc__, "lab08.bench_syscall", lambda values, text: all(k in values for k, _ in KEYS), 120)
    if got is None:
        return 1
    args, runs = got
    figures = [numbers(values) for values, _ in runs]
    calls = figures[0]["calls"]
    print(f"lab 08 system call round trip (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET, "
          f"{calls:,} calls a figure)")
    med = {}
    for key, what in KEYS:
        med[key] = statistics.median(f[key] for f in figures)
        print(f"  {what:34s} {med[key]:>8,.0f} ns a call ({1e9 / med[key] if med[key] else 0:>12,.0f} calls/s)")
    print(f"  argument capture of 12 stack arguments: {med['args16_ns'] - med['null_ns']:,.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
