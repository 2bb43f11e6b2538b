#!/usr/bin/env python3
"""Fuzz of lab 08's system services from user mode: boots the ktest user.fuzz (a ring-3
program, kernel/ktest/usercode.asm's KtUserFuzz) with fuzz_calls=N on the kernel command
line, once per seed, and prints the calls made, the seconds taken (host and guest), and the
bugchecks and hangs seen - both must be 0 on the reference kernel. The calls: numbers valid
and not (past the table, huge, garbage above EAX), arguments null, small handles, -1/-2,
kernel and non-canonical addresses, unaligned ones, buffers straddling the user/system
boundary or running into an absent page, read-only and guard pages, huge lengths, or fully
random; one call in eight from a bad user stack. Exits 1 if any boot bugchecked, hung or
did not finish.

    /usr/bin/python3 tests/fuzz_lab08.py [--sol all] [--calls 1000000] [--seeds 1] [--first-seed 1]
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import build, qemu, transcript  # noqa: E402

KTEST = "user.fuzz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sol", default="all")
    ap.add_argument("--calls", type=int, default=1_000_000, help="calls per boot")
    ap.add_argument("--seeds", type=int, default=1, help="boots, one seed each")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    status = build.build(args.sol, ROOT)
    if not status.ok:
        print(f"build failed: {status.message}")
        return 1
    total = dict(calls=0, bugchecks=0, hangs=0, unfinished=0, host=0.0, guest=0.0)
    classes: dict[str, int] = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        cmd = qemu.qemu_command(status.image(), [KTEST], seed)
        cmd = [a.replace("string=ktest=", f"string=fuzz_calls={args.calls} ktest=", 1) for a in cmd]
        # generous: a million calls take seconds of guest time; the kernel's watchdog ends a hang first
        start = time.monotonic()
        run = qemu.run_qemu(cmd, 120 + args.calls / 2000)
        host = time.monotonic() - start
        text = run.output.decode(errors="replace")
        test = transcript.parse(run.output).test(KTEST)
        values = test.values if test else {}
        calls = int(values.get("calls", "0"))
        stop = "*** STOP" in text
        hang = "KTEST HANG" in text or run.timed_out
        passed = test is not None and test.end == "PASS"
        total["calls"] += calls
        total["bugchecks"] += stop
        total["hangs"] += hang
        total["unfinished"] += not passed and not stop and not hang
        total["host"] += host
        total["guest"] += int(values.get("guest_ns", "0")) / 1e9
        for k in ("success", "access_violation", "invalid_service", "misaligned", "other", "bad_rsp"):
            classes[k] = classes.get(k, 0) + int(values.get(k, "0"))
        verdict = "ok" if passed else "BUGCHECK" if stop else "HANG" if hang else "FAILED"
        print(f"seed {seed}: {calls:,} calls in {host:.1f} s host, {int(values.get('guest_ns', '0')) / 1e9:.2f} s "
              f"guest: {verdict}")
        if not passed:
            lines = [ln for ln in text.splitlines() if ln.startswith(("KTEST CHECK", "*** STOP", "KTEST HANG", "BT", "ps:"))]
            print("\n".join("    " + ln for ln in lines[-30:]))
            print(f"    re-run: /usr/bin/python3 tests/fuzz_lab08.py --sol {args.sol} --calls {args.calls} "
                  f"--first-seed {seed} --seeds 1")
    rate = total["calls"] / total["host"] if total["host"] else 0
    print(f"lab 08 fuzz (SOL={args.sol}, {args.seeds} boot(s) of {args.calls:,} calls): calls {total['calls']:,}, "
          f"seconds {total['host']:.1f} host ({rate:,.0f} calls/s) / {total['guest']:.2f} guest, "
          f"bugchecks {total['bugchecks']}, hangs {total['hangs']}, unfinished {total['unfinished']}")
    print("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in classes.items()))
    return 0 if total["bugchecks"] == 0 and total["hangs"] == 0 and total["unfinished"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
