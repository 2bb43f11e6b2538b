#!/usr/bin/env python3
"""Benchmark: what the user images cost a boot, and what a user-program checkpoint costs.

    python3 tests/bench_userimage.py [--sol all] [--runs 5] [--ktest pfn.totals] [--root DIR]

For the tree at --root (default: this one, built with `make SOL=<sol> images iso`), prints the
size of each boot file, then the median wall time of --runs boots of --ktest on each boot
path (the ISO, the GRUB core image, the saved state restored) and of the user-program
example (user.seedcalc: three processes). Run it on a copy of the tree whose user/user.mk
sets USER_IMAGES and USER_MODULES empty to see the modules' cost (the handout's figures).
Figures only: under a loaded machine they vary; compare medians from one sitting.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sol", default="all")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ktest", default="pfn.totals")
    ap.add_argument("--root", default=ROOT)
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    sys.path.insert(0, root)
    from grader import bootstate as bs
    from grader import build as b
    from grader import qemu as q
    st = b.build(a.sol, root, no_build=True)
    if not st.ok:
        print(f"no build: {st.message} (make SOL={a.sol} images iso)", file=sys.stderr)
        return 2
    user = os.path.join(st.build_dir, "user", "System32")
    files = sorted(os.listdir(user)) if os.path.isdir(user) else []
    cfg = open(os.path.join(st.build_dir, "grub-core.cfg")).read() if os.path.isfile(
        os.path.join(st.build_dir, "grub-core.cfg")) else ""
    modules = [l.split()[1] for l in cfg.splitlines() if l.strip().startswith("module2 ")]
    print(f"tree {root}: {len(modules)} modules, "
          + ", ".join(f"{n} {os.path.getsize(os.path.join(user, n))} B" for n in files))
    print(f"core image {os.path.getsize(st.core)} B, ISO {os.path.getsize(st.iso)} B")
    t0 = time.monotonic()
    state, why = bs.saved_state(st.core, st.elf)
    print(f"saved state: {'made in %.2f s' % (time.monotonic() - t0) if state else why}"
          + (f", {os.path.getsize(state)} B" if state else ""))
    for ktest in (a.ktest, "user.seedcalc"):
        for name, image, s in (("iso", st.iso, None), ("kernel", st.core, None), ("restore", st.core, state)):
            times = []
            for i in range(a.runs):
                run = q.run_qemu(q.qemu_command(image, ktest, 1 + i, state=s), 60)
                if run.exit_status != q.EXIT_ALL_PASSED:
                    times = None
                    print(f"{ktest:14} {name:8} did not pass (exit {run.exit_status})")
                    break
                times.append(run.elapsed)
            if times:
                print(f"{ktest:14} {name:8} median {statistics.median(times):.3f} s  "
                      f"(min {min(times):.3f}, max {max(times):.3f}, {a.runs} boots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
