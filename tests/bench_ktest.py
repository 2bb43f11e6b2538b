"""bench_ktest.py - what the lab benchmarks (tests/bench_pool.py, bench_labNN.py) share: the
--sol/--seeds options, one build of the selection, and one boot per seed of an ungraded
benchmark ktest whose KTEST VALUE records carry the figures (guest time, from the HPET)."""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import build, qemu, transcript  # noqa: E402


def collect(doc: str, ktest: str, ready, timeout: float):
    """Parse the options, build and boot ktest once per seed. ready(values, text) says whether
    a run reported its figures. Returns (args, [(values, serial text) per seed]), or None
    after printing why (a build failure, or a run without figures)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sol", default="all")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    status = build.build(args.sol, ROOT)
    if not status.ok:
        print(f"build failed: {status.message}")
        return None
    runs = []
    for seed in range(1, args.seeds + 1):
        run = qemu.run_qemu(qemu.qemu_command(status.image(), [ktest], seed), timeout)
        test = transcript.parse(run.output).test(ktest)
        values = test.values if test else {}
        text = run.output.decode(errors="replace")
        if not ready(values, text):
            print(f"seed {seed}: no figures (exit {run.exit_status}):\n{text[-1500:]}")
            return None
        runs.append((values, text))
    return args, runs


def numbers(values: dict) -> dict:
    """The integer-valued records of a run."""
    return {k: int(v) for k, v in values.items() if v.isdigit()}
