#!/usr/bin/env python3
"""Benchmark of lab 04: boots the (ungraded) ktest lab04.bench and prints DPC
insert+remove and timer set+cancel pairs per second of guest time (HPET), with 10 and
with 1000 queued DPCs / set timers in the background, and the ratio (NT's O(1) DPC
insert and one-list timer insert: the ratio should stay near 1).

    /usr/bin/python3 tests/bench_lab04.py [--sol all] [--seeds 3]
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
    rows = []
    for seed in range(1, args.seeds + 1):
        run = qemu.run_qemu(qemu.qemu_command(status.iso, ["lab04.bench"], seed), 120)
        t = transcript.parse(run.output)
        values = t.test("lab04.bench").values if t.test("lab04.bench") else {}
        if "timer_large" not in values:
            print(f"seed {seed}: no figures (exit {run.exit_status}):\n{run.output.decode(errors='replace')[-1500:]}")
            return 1
        rows.append({k: int(v) for k, v in values.items() if v.isdigit()})
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
