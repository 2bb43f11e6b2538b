"""Throughput of the submission pipeline: packs the reference solutions (solutions/*/*.c) as a
handin, grades K copies (default 4) with `python3 -m grader batch -j 2`, and prints
submissions per minute and seconds per submission.

With --baseline REV the pipeline of that commit (e.g. the commit before a speed change) grades
the same submissions in the same run, alternating with this tree's (--rounds each), so the
two figures share the machine's load: on a shared machine compare them with each other, not
with the figures of another run.

--profile grades one reference submission stage by stage instead and prints each stage's wall
time and CPU time (its processes' user + system time): unpacking, the pristine tree, the static
check and compile, the framework objects, the link and images, the boots. CPU time is counted
only for processes this one waits for, which bubblewrap's namespaces hide, so the profile runs
without the sandbox (NTLAB_SANDBOX=none, --unconfined): the same work, not isolated. CPU time
depends much less on the machine's load than wall time.

  /usr/bin/python3 tests/bench_submit.py [-k 4] [-j 2] [--per-submission-jobs 1]
                                         [--baseline REV] [--rounds 1]
  /usr/bin/python3 tests/bench_submit.py --profile [--runs 2] [--baseline REV]

With --profile --baseline REV, each tree's own bench_submit.py --profile runs in turn (--runs
times each, alternating), and the CPU seconds of both are printed side by side, stage by stage.
"""
import argparse
import csv
import os
import shutil
import statistics
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


def baseline_tree(rev: str, dest: str) -> str:
    """The files of commit rev in dest, committed there as a repository of their own (the
    pipeline grades a committed tree), without touching this repository's worktrees."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", rev], capture_output=True, check=True)
    os.makedirs(dest)
    subprocess.run(["tar", "-x", "-C", dest], input=archive.stdout, check=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@ntlab",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@ntlab"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", f"baseline {rev}"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env, stdout=subprocess.DEVNULL)
    return dest


def grade_batch(tree: str, subs: str, out: str, args) -> tuple[float, int, int]:
    """(wall seconds, submissions with full marks, submissions) of one batch run in tree."""
    # the framework build (build/none) is warm, as an instructor's tree is after `make grade`
    subprocess.run(["make", "--no-print-directory", "SOL=none", "images"], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL)
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/python3", "-m", "grader", "batch", subs, "--out", out, "-j", str(args.j),
                           "--per-submission-jobs", str(args.per_submission_jobs)], cwd=tree,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"bench_submit: batch in {tree} failed with status {proc.returncode}")
    with open(os.path.join(out, "grades.csv")) as f:
        rows = list(csv.DictReader(f))
    full = sum(1 for r in rows if r["status"] == "graded" and r["total"] == r["max"])
    return elapsed, full, len(rows)


def profile(tarball: str, scratch: str, runs: int) -> int:
    """Grade the reference submission `runs` times in this process, unconfined, timing each stage."""
    import resource
    os.environ["NTLAB_SANDBOX"] = "none"
    from grader import build, sandbox, submit

    def cpu() -> float:
        c, s = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        return c.ru_utime + c.ru_stime + s.ru_utime + s.ru_stime

    stages: list[tuple[str, float, float]] = []

    def timed(name, fn):
        def wrapper(*a, **k):
            c, t = cpu(), time.monotonic()
            try:
                return fn(*a, **k)
            finally:
                stages.append((name(a) if callable(name) else name, time.monotonic() - t, cpu() - c))
        return wrapper

    def which(a):
        argv = a[1]
        if "unpack" in argv:
            return "unpack (sandboxed python)"
        if any("staticcheck" in x for x in argv):
            return "static check + compile student files"
        if argv[:1] == ["make"]:
            return "link + images (make)"
        return "boots (pytest + QEMU, -n 0)"
    sandbox.Sandbox.run = timed(which, sandbox.Sandbox.run)
    submit.make_pristine_tree = timed("pristine tree", submit.make_pristine_tree)
    build.seed_tree = timed("framework objects (seed_tree)", build.seed_tree)
    print(f"bench_submit --profile: one reference submission, {runs} run(s), unconfined (see --help); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for r in range(runs):
        stages.clear()
        c, t = cpu(), time.monotonic()
        data = submit.grade_submission(tarball, os.path.join(scratch, f"profile-{r}"), seed=7, jobs=1,
                                       unconfined=True, keep_work=False)
        wall, total = time.monotonic() - t, cpu() - c
        top = sum(x.get("max_score", 0) for x in data.get("tests", []))
        print(f"  run {r + 1}: {data.get('score', 0)}/{top} in {wall:.1f} s wall, {total:.1f} s CPU")
        print(f"    {'stage':<40} {'wall s':>7} {'CPU s':>7} {'CPU %':>6}")
        for name, w, c2 in stages:
            print(f"    {name:<40} {w:7.2f} {c2:7.2f} {100 * c2 / total if total else 0:5.0f}%")
        rest = total - sum(c2 for _, _, c2 in stages)
        print(f"    {'(the pipeline itself, outside the stages)':<40} {'':>7} {rest:7.2f}")
    print("  one submission's CPU time bounds the throughput: 2 cores give at most 120 / CPU s submissions a minute")
    return 0


def profile_both(rev: str, scratch: str, runs: int) -> int:
    """--profile --baseline: this tree's profile and the baseline's, alternating, one run each
    time, each by the tree's own bench_submit.py (a process of its own); CPU seconds per stage."""
    import re
    os.chmod(scratch, 0o755)                    # unconfined as root: the work runs as nobody
    trees = [("this tree", ROOT), (f"baseline {rev}", baseline_tree(rev, os.path.join(scratch, "baseline")))]
    stages: dict[str, dict[str, list[float]]] = {name: {} for name, _ in trees}
    order: list[str] = []
    for r in range(runs):
        for name, tree in (trees if r % 2 == 0 else trees[::-1]):
            proc = subprocess.run(["/usr/bin/python3", os.path.join(tree, "tests", "bench_submit.py"), "--profile",
                                   "--runs", "1"], cwd=tree, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stdout[-2000:] + proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"bench_submit: the profile in {tree} failed")
            for line in proc.stdout.splitlines():
                m = re.match(r"\s+run \d+: (\S+) in ([\d.]+) s wall, ([\d.]+) s CPU", line)
                if m:
                    stages[name].setdefault("score", []).append(m.group(1))
                    stages[name].setdefault("TOTAL CPU s", []).append(float(m.group(3)))
                    continue
                m = re.match(r"\s{4}(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+\d+%$", line) or \
                    re.match(r"\s{4}(\(the pipeline itself.*?\))\s+([\d.]+)$", line)
                if m:
                    stage = m.group(1)
                    cpu = float(m.group(3) if m.lastindex == 3 else m.group(2))
                    stages[name].setdefault(stage, []).append(cpu)
                    if stage not in order:
                        order.append(stage)
    print(f"bench_submit --profile --baseline {rev}: one reference submission, {runs} run(s) per tree, "
          f"alternating, unconfined; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  scores: " + "; ".join(f"{n}: {' '.join(stages[n].get('score', []))}" for n, _ in trees))
    a, b = (n for n, _ in trees)
    print(f"    {'stage (median CPU s)':<44} {a:>12} {b[:20]:>20}")
    for stage in order + ["TOTAL CPU s"]:
        va, vb = (statistics.median(stages[n][stage]) if stages[n].get(stage) else float("nan") for n in (a, b))
        print(f"    {stage:<44} {va:12.2f} {vb:20.2f}")
    ta, tb = (statistics.median(stages[n]["TOTAL CPU s"]) for n in (a, b))
    print(f"  this tree: {ta:.1f} CPU-s a submission, {tb / ta:.2f}x fewer than {rev} ({tb:.1f}); on 2 cores at "
          f"most {120 / ta:.1f} vs {120 / tb:.1f} submissions a minute at this load")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-k", type=int, default=4, help="copies of the reference submission (default 4)")
    p.add_argument("-j", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--per-submission-jobs", type=int, default=1, help="QEMU boots at once per submission")
    p.add_argument("--baseline", default=None, help="also grade with the pipeline of this commit (e.g. 66d0106)")
    p.add_argument("--rounds", type=int, default=1, help="batches per tree, alternating (default 1)")
    p.add_argument("--profile", action="store_true", help="time one submission stage by stage (unconfined)")
    p.add_argument("--runs", type=int, default=2, help="--profile: submissions graded (default 2)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = p.parse_args()
    if not os.path.isdir(os.path.join(ROOT, "solutions")):
        print("bench_submit: needs the instructor tree (solutions/)", file=sys.stderr)
        return 2
    scratch = tempfile.mkdtemp(prefix="ntlab-bench-")
    try:
        tarball = reference_handin(scratch)
        if args.profile and args.baseline:
            return profile_both(args.baseline, scratch, args.runs)
        if args.profile:
            os.chmod(scratch, 0o755)            # unconfined as root: the work runs as nobody
            subprocess.run(["make", "--no-print-directory", "SOL=none", "images"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            return profile(tarball, scratch, args.runs)
        subs = os.path.join(scratch, "submissions")
        os.makedirs(subs)
        for i in range(args.k):
            shutil.copy(tarball, os.path.join(subs, f"student{i:03d}.tar.gz"))
        trees = [("this tree", ROOT)]
        if args.baseline:
            trees.append((f"baseline {args.baseline}", baseline_tree(args.baseline, os.path.join(scratch, "baseline"))))
        runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name, _ in trees}
        load = [os.getloadavg()[0]]
        for r in range(args.rounds):
            for name, tree in (trees if r % 2 == 0 else trees[::-1]):
                out = os.path.join(scratch, f"out-{len(runs[name])}-{name.split()[0]}")
                runs[name].append(grade_batch(tree, subs, out, args))
                load.append(os.getloadavg()[0])
        print(f"bench_submit: {args.k} reference submissions, batch -j {args.j} "
              f"(x{args.per_submission_jobs} boots each), {os.cpu_count()} CPUs, load average "
              f"{min(load):.1f}-{max(load):.1f} (other work on the machine slows every figure)")
        print(f"  {'pipeline':<22} {'full marks':>10} {'wall s':>16} {'per minute':>11} {'s/submission':>13}")
        ok = True
        for name, _ in trees:
            walls = [w for w, _, _ in runs[name]]
            full = sum(f for _, f, _ in runs[name])
            total = sum(n for _, _, n in runs[name])
            med = statistics.median(walls)
            print(f"  {name:<22} {f'{full}/{total}':>10} {' '.join(f'{w:.1f}' for w in walls):>16} "
                  f"{args.k / med * 60:11.2f} {med / args.k:13.1f}")
            ok = ok and full == total
        if args.baseline:
            a, b = (statistics.median([w for w, _, _ in runs[n]]) for n, _ in trees)
            print(f"  this tree grades {b / a:.2f}x as many submissions a minute as {args.baseline}")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"bench_submit: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
