#!/usr/bin/env python3
"""Benchmark of lab 07: boots the (ungraded) ktest lab07.bench and prints IRPs per second
of guest time (HPET) through stacks of 1, 2, 4 and 8 filters, the cost of the base and of
each filter (a least-squares line through the four depths: the cost should be that line,
constant per filter, nothing more), and the RAM disk's throughput in MB/s of guest time.

    /usr/bin/python3 tests/bench_lab07.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect


def _depth_rows(text: str) -> list[list[str]]:
    """The (depth, IRPs per second) records: one KTEST VALUE lab07.bench depth line per depth."""
    return [ln.split()[4:] for ln in text.splitlines()
            if ln.startswith("KTEST VALUE lab07.bench depth ")]


def main() -> int:
    got = collect(__doc__, "lab07.bench",
                  lambda values, text: "disk_bytes_per_second" in values and len(_depth_rows(text)) == 4, 120)
    if got is None:
        return 1
    args, runs = got
    per_depth: dict[int, list[int]] = {}
    disk = []
    irps = 0
    for values, text in runs:
        irps = int(values["irps"])
        for depth, rate in _depth_rows(text):
            per_depth.setdefault(int(depth), []).append(int(rate))
        disk.append(int(values["disk_bytes_per_second"]))
    print(f"lab 07 benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET, {irps} IRPs a figure)")
    depths = sorted(per_depth)
    ns = {d: 1e9 / statistics.median(per_depth[d]) for d in depths}
    for d in depths:
        print(f"  {d} filter{'s' if d > 1 else ' '} over the base: {statistics.median(per_depth[d]):>10,.0f} IRPs/s "
              f"({ns[d]:>8,.0f} ns an IRP)")
    mx = statistics.mean(depths)
    my = statistics.mean(ns[d] for d in depths)
    slope = sum((d - mx) * (ns[d] - my) for d in depths) / sum((d - mx) ** 2 for d in depths)
    base = my - slope * mx
    worst = max(abs(ns[d] - (base + slope * d)) / ns[d] for d in depths)
    print(f"  cost = {base:,.0f} ns + {slope:,.0f} ns per filter (largest deviation from the line {worst:.1%}); "
          f"8 filters / 1 filter = {ns[8] / ns[1]:.2f}x")
    print(f"  RAM disk, 4 KiB writes and reads through its DPC: {statistics.median(disk) / 1e6:,.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
