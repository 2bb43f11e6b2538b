#!/usr/bin/env python3
"""Benchmark of lab 07: boots the (ungraded) ktest lab07.bench and prints IRPs per second
of guest time (HPET) through stacks of 1, 2, 4 and 8 filters, the cost of the base and of
each filter (a least-squares line through the four depths: the cost should be that line,
constant per filter, nothing more), and the RAM disk's throughput in MB/s of guest time.

    /usr/bin/python3 tests/bench_lab07.py [--sol all] [--seeds 3]
"""
import argparse
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import build, qemu, transcript  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sol", default="all")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    status = build.build(args.sol, ROOT)
    if not status.ok:
        print(f"build failed: {status.message}")
        return 1
    per_depth: dict[int, list[int]] = {}
    disk = []
    irps = 0
    for seed in range(1, args.seeds + 1):
        run = qemu.run_qemu(qemu.qemu_command(status.image(), ["lab07.bench"], seed), 120)
        t = transcript.parse(run.output)
        test = t.test("lab07.bench")
        lines = [ln for ln in run.output.decode(errors="replace").splitlines()
                 if ln.startswith("KTEST VALUE lab07.bench ")]
        depth_rows = [ln.split()[4:] for ln in lines if ln.split()[3] == "depth"]
        if test is None or "disk_bytes_per_second" not in test.values or len(depth_rows) != 4:
            print(f"seed {seed}: no figures (exit {run.exit_status}):\n{run.output.decode(errors='replace')[-1500:]}")
            return 1
        irps = int(test.values["irps"])
        for depth, rate in depth_rows:
            per_depth.setdefault(int(depth), []).append(int(rate))
        disk.append(int(test.values["disk_bytes_per_second"]))
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
