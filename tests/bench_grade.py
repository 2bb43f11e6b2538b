#!/usr/bin/env python3
"""Benchmark the grader's boot paths side by side, in one run: the ISO (El Torito, today's
`make qemu` path), the GRUB core image given to -kernel, and the state saved at the kernel's
first instruction, restored per checkpoint (the grader's default). Prints figures; asserts
nothing (speed is measured here, not in a timed test that could flake).

  1. each stage of one checkpoint's boot (median of --boots instrumented boots): QEMU start,
     firmware (SeaBIOS, to GRUB's first instruction), loader (GRUB, to the kernel's first
     instruction), kernel (to QEMU's exit), grader (judging the transcript). The stage
     boundaries are GDB breakpoints, so these boots are a little slower than plain ones;
  2. checkpoints from QEMU start to verdict on each path (median / max of --boots): the first
     checkpoint of each lab by default, every checkpoint with --full;
  3. a whole grade (pytest -n <cores>) on the ISO path and on the default path: wall time and
     the slowest checkpoint (--grades runs per path).

The default is quick (about a minute on 2 idle cores); --full is the long run (every
checkpoint on every path, 3 boots each, 2 grades per path: several minutes). The machine's
load changes every figure: compare the paths of one run, not figures of different runs.

    make bench                     quick   (/usr/bin/python3 tests/bench_grade.py [--sol all])
    make bench FULL=1              long    (/usr/bin/python3 tests/bench_grade.py --full)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import auth as a  # noqa: E402
from grader import bootstate as bs  # noqa: E402
from grader import build, labconfig, runner  # noqa: E402
from grader import qemu as q  # noqa: E402
from grader import verdict as v  # noqa: E402

PATHS = ("iso", "kernel", "snapshot")
LOADER_ENTRIES = {"iso": (0x7C00,),                 # El Torito: GRUB's cdboot.img
                  "kernel": (0x10200, 0x90200)}     # -kernel: the setup code of lnxboot.img


def _median(values):
    return statistics.median(values) if values else float("nan")


def staged_boot(path: str, status, cp, seed: int) -> dict:
    """One boot of cp on path with its stages timed (seconds)."""
    mode = "kernel" if path == "snapshot" else path
    image = status.image(mode)
    key = a.AuthKey.new()
    out = {}
    if path == "snapshot":
        state, why = bs.saved_state(image, status.elf, cp.memory)
        if not state:
            raise RuntimeError(why)
        cmd = q.qemu_command(image, cp.ktests, seed, cp.memory, auth=key.fw_cfg_value(), state=state)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = proc.stdout.read(1)
        t1 = time.monotonic()
        head, t_begin = _until_first_test(proc.stdout)
        rest = proc.stdout.read()
        proc.wait()
        t2 = time.monotonic()
        out.update(restore=t1 - t0, kernel=t2 - t1, init=t_begin - t1)
        output, status_code = first + head + rest, proc.returncode
    else:
        cmd = q.qemu_command(image, cp.ktests, seed, cp.memory, auth=key.fw_cfg_value())
        d = tempfile.mkdtemp(prefix="ntlab-bench-")
        sock = os.path.join(d, "gdb")
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd + ["-S", "-gdb", f"unix:{sock},server=on,wait=off"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            gdb = bs._Gdb(bs._connect(sock, proc, t0 + 30))
            gdb.ask(b"?")
            t1 = time.monotonic()
            for addr in LOADER_ENTRIES[path]:
                gdb.ask(b"Z1,%x,1" % addr)
            gdb.send(b"c")
            gdb.reply()
            t2 = time.monotonic()
            for addr in LOADER_ENTRIES[path]:
                gdb.ask(b"z1,%x,1" % addr)
            entry = bs.elf_entry(status.elf)
            gdb.ask(b"Z1,%x,1" % entry)
            gdb.send(b"c")
            gdb.reply()
            t3 = time.monotonic()
            gdb.ask(b"z1,%x,1" % entry)
            gdb.send(b"c")
            head, t_begin = _until_first_test(proc.stdout)
            output = head + proc.stdout.read()
            proc.wait()
            t4 = time.monotonic()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(d, ignore_errors=True)
        out.update(start=t1 - t0, firmware=t2 - t1, loader=t3 - t2, kernel=t4 - t3, init=t_begin - t3)
        status_code = proc.returncode
    t5 = time.monotonic()
    verdict = v.judge(output, status_code, False, False, cp, sol=status.sol, seed=seed, timeout=cp.timeout,
                      command=cmd, auth=key)
    out["grader"] = time.monotonic() - t5
    out["passed"] = verdict.passed
    return out


def _until_first_test(stream) -> tuple[bytes, float]:
    """Read serial lines up to the first KTEST BEGIN: (what was read, when it was seen; the end
    of the output if there is none). The kernel's start (memory poisoning, the PFN database,
    the address space, the clock) is the part of the kernel stage before that line."""
    got = b""
    while True:
        line = stream.readline()
        got += line
        if not line or line.startswith(b"KTEST BEGIN") or b" KTEST BEGIN" in line:
            return got, time.monotonic()


def qemu_start() -> float:
    """QEMU's own start: launch to a ready GDB stub (no guest instruction run)."""
    d = tempfile.mkdtemp(prefix="ntlab-bench-")
    sock = os.path.join(d, "gdb")
    t0 = time.monotonic()
    proc = subprocess.Popen([q.qemu_binary()] + q.machine_args() + q.accel_args()
                            + ["-S", "-gdb", f"unix:{sock},server=on,wait=off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bs._Gdb(bs._connect(sock, proc, t0 + 30)).ask(b"?")
        return time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def whole_grade(sol: str, mode: str, jobs: int) -> tuple[float, float, str, str]:
    """(wall, slowest checkpoint's duration, its id, pytest's last line) of one grade."""
    junit = os.path.join(ROOT, "build", f"bench-{mode}.xml")
    cmd = ["/usr/bin/python3", "-m", "pytest", "-p", "grader.plugin", "-p", "no:cacheprovider", "-q",
           "-n", str(jobs), f"--ntlab-sol={sol}", "--ntlab-seed=7", f"--junitxml={junit}",
           f"--ntlab-results={os.path.join(ROOT, 'build', 'bench-results.json')}", "labs"]
    env = {k: val for k, val in os.environ.items() if not k.startswith("PYTEST_")}
    env["NTLAB_BOOT"] = mode
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    slowest, which = 0.0, "?"
    try:
        for case in ET.parse(junit).getroot().iter("testcase"):
            t = float(case.get("time", 0))
            if t > slowest:
                slowest, which = t, case.get("name", "?")
    except (OSError, ET.ParseError):
        pass
    last = [ln for ln in proc.stdout.splitlines() if "passed" in ln or "failed" in ln][-1:]
    return wall, slowest, which, last[0].strip() if last else "(no summary)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true",
                    help="the long run: every checkpoint, 3 boots each, 2 grades per path")
    ap.add_argument("--boots", type=int, default=None, help="boots per checkpoint and path (default 3; quick: 2)")
    ap.add_argument("--sol", default="all", help="selection to measure (default all)")
    ap.add_argument("--grades", type=int, default=None, help="whole grades per path (default 2; quick: 1)")
    args = ap.parse_args()
    if args.boots is None:
        args.boots = 3 if args.full else 2
    if args.grades is None:
        args.grades = 2 if args.full else 1
    os.environ.pop("NTLAB_BOOT", None)

    status = build.build(args.sol, ROOT, target="images")
    iso = build.build(args.sol, ROOT, target="iso")
    if not (status.ok and iso.ok):
        print(f"build failed: {status.message} {iso.message}")
        return 1
    labs = labconfig.load_labs(ROOT)
    cps = [cp for lab in labs for cp in lab.checkpoints]
    print(f"ntlab benchmark (SOL={args.sol}, {os.cpu_count()} cores, "
          f"{'KVM' if q.kvm_enabled() else 'TCG'}; load average {os.getloadavg()[0]:.1f} at start)")
    print("paths: iso = El Torito CD (today's path, make qemu); kernel = GRUB core image via -kernel;")
    print("       snapshot = state saved at the kernel's first instruction, restored (the grader's default)")

    # 1. stages
    t0 = time.monotonic()
    state, why = bs.saved_state(status.core, status.elf)
    if not state:
        print(f"\nno saved state: {why}")
        return 1
    probe = cps[0]
    print(f"\nstages of one boot of {probe.id}, median of {args.boots} (seconds; GDB marks the boundaries):")
    print(f"  {'path':<9} {'QEMU start':>10} {'firmware':>9} {'loader':>8} {'kernel':>8} {'grader':>8} {'total':>8}"
          f"   (kernel = its start to the first test + the tests)")
    start_alone = _median([qemu_start() for _ in range(args.boots)])
    for path in PATHS:
        runs = [staged_boot(path, status, probe, 100 + i) for i in range(args.boots)]
        med = {k: _median([r[k] for r in runs]) for k in runs[0] if k != "passed"}
        init = med.pop("init")
        split = f"   kernel: start {init:.3f} + tests {med['kernel'] - init:.3f}"
        if path == "snapshot":
            restore = med["restore"] - start_alone
            total = med["restore"] + med["kernel"] + med["grader"]
            print(f"  {path:<9} {start_alone:10.3f} {'(saved)':>9} {'(saved)':>8} {med['kernel']:8.3f} {med['grader']:8.3f}"
                  f" {total:8.3f}   + restore {max(0.0, restore):.3f};{split}")
        else:
            total = sum(med.values())
            print(f"  {path:<9} {med['start']:10.3f} {med['firmware']:9.3f} {med['loader']:8.3f} {med['kernel']:8.3f}"
                  f" {med['grader']:8.3f} {total:8.3f}  {split}")
        if not all(r["passed"] for r in runs):
            print(f"  ({path}: {probe.id} did not pass; figures not meaningful)")
    save = bs.save_boot_state(q.base_command(status.core), bs.elf_entry(status.elf),
                              os.path.join(ROOT, "build", "bench-state.vm"))
    os.unlink(os.path.join(ROOT, "build", "bench-state.vm"))
    print(f"  once per build and memory size: saving the state takes {sum(save.values()):.3f} s "
          f"(QEMU start {save['start']:.3f}, firmware + loader {save['loader']:.3f}, save {save['save']:.3f})")

    # 2. checkpoints, QEMU start to verdict
    sample = cps if args.full else [lab.checkpoints[0] for lab in labs if lab.checkpoints]
    print(f"\n{'every checkpoint' if args.full else 'the first checkpoint of each lab (--full: every one)'}, "
          f"QEMU start to verdict, {args.boots} boots each (median / max, seconds):")
    print(f"  {'checkpoint':<30}" + "".join(f"{p:>16}" for p in PATHS))
    medians = {p: [] for p in PATHS}
    for cp in sample:
        row = []
        for path in PATHS:
            times = []
            for i in range(args.boots):
                t = time.monotonic()
                verdict, _ = runner.run_checkpoint(cp, sol=args.sol, seed=1000 + i, root=ROOT,
                                                   status=iso if path == "iso" else status, mode=path)
                times.append(time.monotonic() - t)
                if not verdict.passed:
                    print(f"  {cp.id}: FAILED on {path} ({verdict.summary}); figures not meaningful")
                    break
            medians[path].append(_median(times))
            row.append(f"{_median(times):7.3f} / {max(times):6.3f}")
        print(f"  {cp.id:<30}" + "".join(f"{r:>16}" for r in row))
    print(f"  {'median over checkpoints':<30}" + "".join(f"{_median(medians[p]):16.3f}" for p in PATHS))
    print(f"  {'speed-up over the ISO':<30}" + "".join(f"{_median(medians['iso']) / _median(medians[p]):15.1f}x"
                                                        for p in PATHS))

    # 3. whole grades
    jobs = os.cpu_count() or 2
    print(f"\nwhole grade of every lab (make grade SOL={args.sol}, -n {jobs}, build up to date), "
          f"{args.grades} run(s) per path:")
    for mode in ("iso", "snapshot"):
        results = [whole_grade(args.sol, mode, jobs) for _ in range(args.grades)]
        walls = [r[0] for r in results]
        worst = max(results, key=lambda r: r[1])
        print(f"  {mode:<9} wall {' '.join(f'{w:.1f}' for w in walls)} s; slowest checkpoint "
              f"{worst[1]:.2f} s ({worst[2]}); {results[-1][3]}")
    print(f"\nbenchmark took {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
