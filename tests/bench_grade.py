#!/usr/bin/env python3
"""Benchmark: how long a checkpoint takes from QEMU start to verdict, and how long a
whole grade of the reference takes. Prints figures; asserts nothing (speed is measured
here, not in a timed test that could flake).

    make bench                     (or: /usr/bin/python3 tests/bench_grade.py [--boots N])
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import build, labconfig, runner  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boots", type=int, default=10, help="boots per checkpoint (default 10)")
    ap.add_argument("--sol", default="all", help="selection to measure (default all)")
    args = ap.parse_args()

    status = build.build(args.sol, ROOT)
    if not status.ok:
        print(f"build failed: {status.message}")
        return 1
    labs = labconfig.load_labs(ROOT)
    print(f"ntlab benchmark (SOL={args.sol}, {os.cpu_count()} cores, "
          f"{'KVM' if os.environ.get('NTLAB_KVM') == '1' else 'TCG'})")
    print(f"\none checkpoint, QEMU start to verdict, {args.boots} boots each (median / max, seconds):")
    medians = []
    for lab in labs:
        for cp in lab.checkpoints:
            times = []
            for i in range(args.boots):
                t0 = time.monotonic()
                verdict, _ = runner.run_checkpoint(cp, sol=args.sol, seed=1000 + i, root=ROOT, status=status)
                times.append(time.monotonic() - t0)
                if not verdict.passed:
                    print(f"  {lab.number:02d}.{cp.name}: FAILED ({verdict.summary}); figures not meaningful")
                    break
            med = statistics.median(times)
            medians.append(med)
            print(f"  {lab.number:02d}.{cp.name:<24} {med:5.2f} / {max(times):5.2f}")
    print(f"  median over checkpoints: {statistics.median(medians):.2f} s")

    jobs = os.cpu_count() or 2
    cmd = ["/usr/bin/python3", "-m", "pytest", "-p", "grader.plugin", "-p", "no:cacheprovider", "-q",
           "-n", str(jobs), f"--ntlab-sol={args.sol}", "--ntlab-seed=7",
           f"--ntlab-results={os.path.join(ROOT, 'build', 'bench-results.json')}", "labs"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    walls = []
    for _ in range(3):
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        walls.append(time.monotonic() - t0)
    last = [l for l in proc.stdout.splitlines() if "passed" in l or "failed" in l][-1:]
    print(f"\nwhole grade of every lab (make grade SOL={args.sol}, -n {jobs}, build up to date), 3 runs:")
    print(f"  wall time: {' '.join(f'{w:.1f}' for w in walls)} s  (median {statistics.median(walls):.1f} s)"
          f"  {last[0].strip() if last else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
