"""Command line of the grader.

  python3 -m grader run --sol SOL --ktest a,b --seed S [--memory 64M] [--gdb]
      build (same make and lock as a grade), then exec QEMU with the serial port on this
      terminal, so the raw output is visible (`make qemu` and `make qemu-gdb` use this).
  python3 -m grader labs [--root DIR]
      check every lab.toml (and hidden checkpoints) and list the checkpoints.
"""
from __future__ import annotations

import argparse
import os
import sys

from grader import build as b
from grader import labconfig, selection
from grader import qemu as q


def _sol_arg(sol: str) -> str:
    s = (sol or "").strip()
    return "" if s.lower() in ("", "none") else f" SOL={s}"


def cmd_run(args) -> int:
    root = os.path.abspath(args.root)
    try:
        selection.parse(args.sol, root)
    except selection.SelectionError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 2
    if not b.no_build_requested():
        print(f"ntlab: building: {' '.join(b.make_command(args.sol))}", file=sys.stderr, flush=True)
    status = b.build(args.sol, root)
    if not status.ok:
        print(f"ntlab: build failed: {status.message}", file=sys.stderr)
        for line in b.error_excerpt(status.log):
            print(f"  {line}", file=sys.stderr)
        if status.log:
            print(f"full log: {os.path.relpath(status.log_path, root)}", file=sys.stderr)
        return 1
    seed = (args.seed or "").strip() or "1"
    command = q.qemu_command(status.iso, args.ktest or "", seed, args.memory, gdb=args.gdb)
    try:
        q.check_qemu(command[0])
    except q.QemuNotFound as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    print(f"ntlab: {q.format_command(command)}", file=sys.stderr)
    if args.gdb:
        print(f'gdb: run "make gdb{_sol_arg(args.sol)}" in another terminal '
              f"(QEMU waits on tcp::1234 with the CPU stopped)", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    try:
        os.execvp(command[0], command)
    except OSError as e:
        print(f"ntlab: cannot run {command[0]}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0  # not reached


def cmd_labs(args) -> int:
    try:
        labs = labconfig.load_labs(os.path.abspath(args.root))
    except labconfig.LabConfigError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    for lab in labs:
        total = sum(cp.points for cp in lab.checkpoints)
        print(f"lab {lab.number:02d}  {lab.title}  ({total} points)")
        for cp in lab.checkpoints:
            extra = f" expect STOP 0x{cp.stop_code:08X}" if cp.expect == "stop" else ""
            hidden = " (hidden)" if cp.hidden else ""
            print(f"  {cp.number:<6}{cp.name:<24}{cp.points:>4}  {','.join(cp.ktests)}{extra}{hidden}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m grader", description="ntlab grader tools")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="build and boot the kernel with the serial port on this terminal")
    r.add_argument("--sol", default="none", help="labs taken from solutions/ (none, all, 1-3, ...)")
    r.add_argument("--ktest", default="", help="ktests to run, comma separated (all, list, or names)")
    r.add_argument("--seed", default="1", help="seed for the ktests (default 1)")
    r.add_argument("--memory", default="64M", help="guest memory (default 64M)")
    r.add_argument("--gdb", action="store_true", help="wait for gdb on tcp::1234 with the CPU stopped")
    r.add_argument("--root", default=selection.ROOT, help=argparse.SUPPRESS)
    r.set_defaults(func=cmd_run)
    lb = sub.add_parser("labs", help="check the lab.toml files and list the checkpoints")
    lb.add_argument("--root", default=selection.ROOT, help="the repository (default: this one)")
    lb.set_defaults(func=cmd_labs)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
