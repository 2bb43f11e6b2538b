"""Throughput of the submission pipeline: packs the reference solutions (solutions/*/*.c) as a
handin, grades K copies (default 4) with `python3 -m grader batch -j 2`, and prints
submissions per minute and seconds per submission.

  /usr/bin/python3 tests/bench_submit.py [-k 4] [-j 2] [--per-submission-jobs 1]
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import handin  # noqa: E402


def reference_handin(dest: str) -> str:
    """A handin tarball of the reference solutions, made by grader.handin in a scratch student tree."""
    tree = os.path.join(dest, "student")
    for name in ("labs",):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(tree, name))
    for lab in sorted(os.listdir(os.path.join(ROOT, "solutions"))):
        src = os.path.join(ROOT, "solutions", lab)
        for f in os.listdir(src):
            if f.endswith(".c") and os.path.isdir(os.path.join(tree, "labs", lab)):
                shutil.copy(os.path.join(src, f), os.path.join(tree, "labs", lab, f))
    out, warnings = handin.pack(tree, os.path.join(dest, "handin.tar.gz"))
    for w in warnings:
        print(w, file=sys.stderr)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-k", type=int, default=4, help="copies of the reference submission (default 4)")
    p.add_argument("-j", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--per-submission-jobs", type=int, default=1, help="QEMU boots at once per submission")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = p.parse_args()
    if not os.path.isdir(os.path.join(ROOT, "solutions")):
        print("bench_submit: needs the instructor tree (solutions/)", file=sys.stderr)
        return 2
    scratch = tempfile.mkdtemp(prefix="ntlab-bench-")
    try:
        tarball = reference_handin(scratch)
        subs = os.path.join(scratch, "submissions")
        os.makedirs(subs)
        for i in range(args.k):
            shutil.copy(tarball, os.path.join(subs, f"student{i:03d}.tar.gz"))
        # warm the framework build cache (build/none) once, as an instructor would
        subprocess.run(["make", "--no-print-directory", "SOL=none", "iso"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        out = os.path.join(scratch, "out")
        start = time.monotonic()
        proc = subprocess.run(["/usr/bin/python3", "-m", "grader", "batch", subs, "--out", out, "-j", str(args.j),
                               "--per-submission-jobs", str(args.per_submission_jobs)], cwd=ROOT)
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            print(f"bench_submit: batch failed with status {proc.returncode}", file=sys.stderr)
            return 1
        with open(os.path.join(out, "grades.csv")) as f:
            rows = list(csv.DictReader(f))
        full = sum(1 for r in rows if r["status"] == "graded" and r["total"] == r["max"])
        print(f"bench_submit: {args.k} reference submissions, batch -j {args.j} "
              f"(x{args.per_submission_jobs} boots each), {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"  full marks:               {full}/{args.k}")
        print(f"  wall time:                {elapsed:.1f} s")
        print(f"  submissions per minute:   {args.k / elapsed * 60:.2f}")
        print(f"  seconds per submission:   {elapsed / args.k:.1f}")
        return 0 if full == args.k else 1
    finally:
        if args.keep:
            print(f"bench_submit: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
