#!/usr/bin/env python3
"""Benchmark of lab 05: boots the (ungraded) ktest lab05.bench and prints, in guest time
(HPET): context switches per second of an event ping-pong between two threads; set+wait
pairs per second on a synchronization event with 1 and with 100 threads blocked on other
events; KiReadyThread+KiSelectNextThread pairs per second with 1 and with 100 threads on
the ready queues; and each ratio (NT's waits touch only the object's wait list and the ready
summary bitmap makes the selection O(1): the ratios should stay near 1 as the background
grows 100x).

    /usr/bin/python3 tests/bench_lab05.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers


def main() -> int:
    got = collect(__doc__, "lab05.bench", lambda values, text: "select_large" in values, 300)
    if got is None:
        return 1
    args, runs = got
    rows = [numbers(values) for values, _ in runs]

    def med(key):
        return statistics.median(r[key] for r in rows)

    print(f"lab 05 benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET)")
    print(f"  context switches per second (event ping-pong, {rows[0]['pings']} round trips, "
          f"{rows[0]['switches']} switches): {med('switch_rate'):>12,.0f}")
    for what, label, bg in (("wait", "set+wait (satisfied)", "threads blocked on other events"),
                            ("select", "ready+select", "threads ready")):
        small, large = med(f"{what}_small"), med(f"{what}_large")
        print(f"  {label:20} per second: {small:>12,.0f} with 1, {large:>12,.0f} with 100 {bg} "
              f"(ratio {small / large if large else float('inf'):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
