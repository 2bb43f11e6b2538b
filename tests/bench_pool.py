#!/usr/bin/env python3
"""Benchmark of the lab 03 pool: boots the (ungraded) ktest pool.bench in the
reference kernel and prints allocations and frees per second of guest time (HPET)
and the utilisation of pool pages after a seeded storm.

    /usr/bin/python3 tests/bench_pool.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect, numbers


def main() -> int:
    got = collect(__doc__, "pool.bench", lambda values, text: "ops_per_second" in values, 60)
    if got is None:
        return 1
    args, runs = got
    rows = [numbers(values) for values, _ in runs]
    print(f"pool benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET)")
    print(f"  operations per run:        {rows[0]['ops']} (alloc or free, mixed sizes 1..4048 bytes, both pools)")
    ops = [r["ops_per_second"] for r in rows]
    print(f"  allocs+frees per second:   median {statistics.median(ops):,.0f}  (min {min(ops):,}, max {max(ops):,})")
    small = statistics.median(r["ops_per_second_256_live"] for r in rows)
    large = statistics.median(r["ops_per_second_2048_live"] for r in rows)
    print(f"  with ~256 / ~2048 live:    {small:,.0f} / {large:,.0f} per second "
          f"(ratio {large / small:.2f}; flat means no walk over live blocks)")
    util = [r["utilisation_percent"] for r in rows]
    print(f"  after the storm:           {rows[0]['live_blocks']} live blocks, {rows[0]['bytes_in_use']:,} bytes in "
          f"use in {rows[0]['pool_page_bytes']:,} bytes of pool pages")
    print(f"  utilisation (in use/pages): median {statistics.median(util)}%  (per seed: {util})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
