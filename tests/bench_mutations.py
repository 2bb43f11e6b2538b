#!/usr/bin/env python3
"""Where the mutation runner's time goes (tests/test_mutations.py): runs a sample of the cases
(every --step-th, default 20) one at a time with the runner's own run_case, and prints the CPU
seconds (this process and its children: make, gcc, ld, QEMU) and wall seconds of each stage per
case: copying the tree, building (make under the selection's lock), booting the checkpoints the
case names; then what the whole list would cost, and its wall time at CASE_JOBS cases at once if
the cores were its own. CPU time depends much less on the machine's load than wall time: on a
shared machine compare CPU figures. Asserts nothing (a case that is not caught is listed).

  /usr/bin/python3 tests/bench_mutations.py [--step 20] [--lab N]
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import kernel_harness  # noqa: E402
import test_mutations as tm  # noqa: E402
from grader import build, runner  # noqa: E402


def cpu() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=20, help="run every step-th case (default 20)")
    ap.add_argument("--lab", type=int, default=None, help="only this lab's cases")
    args = ap.parse_args()
    cases = [c for c in tm.CASES if args.lab is None or c[1] == args.lab][::max(1, args.step)]
    proc = kernel_harness.make(ROOT, "SOL=all", "images")
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr)
        return 1
    os.environ["NTLAB_DEPS_OK"] = "1"          # as the runner: the prebuilt make checked the tools
    acc = defaultdict(float)

    def timed(name, fn):
        def wrapper(*a, **k):
            c, w = cpu(), time.monotonic()
            try:
                return fn(*a, **k)
            finally:
                acc[name + " cpu"] += cpu() - c
                acc[name + " wall"] += time.monotonic() - w
                acc[name + " calls"] += 1
        return wrapper
    tm.copy_tree = timed("copy", kernel_harness.copy_tree)
    build.build = timed("build", build.build)
    runner.run_checkpoint = timed("boot", runner.run_checkpoint)
    scratch = tempfile.mkdtemp(prefix="ntlab-bench-mut-")
    missed = []
    c0, w0 = cpu(), time.monotonic()
    try:
        for case in cases:
            if tm.run_case(case, os.path.join(scratch, case[0])):
                missed.append(case[0])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total_cpu, total_wall = cpu() - c0, time.monotonic() - w0
    n = len(cases)
    print(f"mutation runner, {n} of {len(tm.CASES)} cases (every {args.step}th"
          f"{'' if args.lab is None else f' of lab {args.lab}'}); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  {'stage':<10} {'CPU s/case':>11} {'wall s/case':>12} {'calls/case':>11}")
    for stage in ("copy", "build", "boot"):
        print(f"  {stage:<10} {acc[stage + ' cpu'] / n:11.3f} {acc[stage + ' wall'] / n:12.3f} "
              f"{acc[stage + ' calls'] / n:11.2f}")
    print(f"  {'all':<10} {total_cpu / n:11.3f} {total_wall / n:12.3f}")
    every = total_cpu / n * len(tm.CASES)
    print(f"  every case: about {every:.0f} CPU s, {every / min(tm.CASE_JOBS, os.cpu_count() or 1):.0f} s wall "
          f"with {tm.CASE_JOBS} cases at once on cores of its own")
    if missed:
        print(f"  not caught (see pytest tests/test_mutations.py -k <id>): {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
