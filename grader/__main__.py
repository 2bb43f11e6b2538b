"""Command line of the grader.

  python3 -m grader run --sol SOL --ktest a,b --seed S [--memory 64M] [--gdb]
      build (same make and lock as a grade), then run QEMU with the serial port on this
      terminal, so the raw output is visible, and say how the run ended (`make qemu` and
      `make qemu-gdb` use this). A run the kernel ended itself exits 0.
  python3 -m grader labs [--root DIR]
      check every lab.toml (and hidden checkpoints) and list the checkpoints.
  python3 -m grader handin                      pack the student files (grader/handin.py)
  python3 -m grader submit SUBMISSION --out DIR grade one submission in a sandbox (grader/submit.py)
  python3 -m grader batch DIR --out DIR -j N    grade a folder of submissions (grader/batch.py)
  python3 -m grader autograder                  build the Gradescope bundle (grader/submit.py)
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from grader import build as b
from grader import labconfig, onstop, selection
from grader import qemu as q


# isa-debug-exit codes of the kernel, as QEMU's exit status ((code << 1) | 1)
RUN_ENDINGS = {33: "all ktests passed", 35: "some ktest failed (see the KTEST lines above)",
               37: "bugcheck (see the *** STOP line above)"}


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
        print(f"ntlab: building: {' '.join(b.make_command(args.sol, 'iso'))}", file=sys.stderr, flush=True)
    status = b.build(args.sol, root, target="iso")   # make qemu boots the CD image
    if not status.ok:
        print(f"ntlab: build failed: {status.message}", file=sys.stderr)
        for line in b.error_excerpt(status.log):
            print(f"  {line}", file=sys.stderr)
        if status.log:
            print(f"full log: {os.path.relpath(status.log_path, root)}", file=sys.stderr)
        return 1
    seed = (args.seed or "").strip() or "1"
    port = gdb_port(status.build_dir) if args.gdb else None
    command = q.qemu_command(status.iso, args.ktest or "", seed, args.memory, gdb=port or False)
    try:
        q.check_qemu(command[0])
    except q.QemuNotFound as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    try:
        keep = onstop.mode()
    except onstop.OnStopError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 2
    if keep == "dump":
        return _run_dump(args, root, status, command, seed)
    if keep == "halt":
        if not args.gdb:
            port = gdb_port(status.build_dir)
            command += ["-gdb", f"tcp:127.0.0.1:{port}"]
        print("ntlab: NTLAB_ON_STOP=halt: after a STOP the machine stays halted; attach with "
              f'"make gdb{_sol_arg(args.sol)} GDBPORT={port}" in another terminal; Ctrl-C here ends QEMU',
              file=sys.stderr)
    print(f"ntlab: {q.format_command(command)}", file=sys.stderr)
    if args.gdb:
        debug = " DEBUG=1" if os.environ.get("DEBUG", "").strip() not in ("", "0") else ""
        print(f"gdb: QEMU waits for GDB on localhost:{port} with the CPU stopped; in another terminal run:\n"
              f"       make gdb{_sol_arg(args.sol)}{debug} GDBPORT={port}", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    # QEMU runs as a child on this terminal; Ctrl-C goes to it, and its exit status
    # (the kernel's isa-debug-exit code) is told in words rather than passed to make.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = subprocess.call(command)
    except OSError as e:
        print(f"ntlab: cannot run {command[0]}: {e.strerror or e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
    meaning = RUN_ENDINGS.get(code)
    if meaning:
        print(f"ntlab: the kernel ended the run: {meaning}", file=sys.stderr)
        return 0
    if code == 0:
        if args.gdb:
            print("ntlab: QEMU stopped before the kernel ended the run (GDB ended it, or a triple fault)",
                  file=sys.stderr)
            return 0
        print("ntlab: the guest reset without ending the run (a triple fault, with -no-reboot)", file=sys.stderr)
        return 1
    print(f"ntlab: QEMU exited with status {code}", file=sys.stderr)
    return code if code > 0 else 1


def gdb_port(build_dir: str) -> int:
    """A free TCP port for QEMU's GDB stub, the same for one user from run to run when it is
    free (so two users, or two trees, on one machine do not collide on 1234); recorded in
    <build_dir>/gdbport for `make gdb`."""
    import socket
    base = 20000 + (os.getuid() * 37) % 20000
    port = base
    for i in range(200):
        port = 20000 + (base - 20000 + i) % 20000
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
    try:
        from grader.results import write_text_atomic
        write_text_atomic(os.path.join(build_dir, "gdbport"), f"{port}\n")
    except OSError:
        pass
    return port


def _run_dump(args, root, status, command, seed) -> int:
    """make qemu with NTLAB_ON_STOP=dump: the serial output on this terminal; a STOP is saved
    as build/dumps/<ktests>-<seed>.core (grader/onstop.py)."""
    print(f"ntlab: {q.format_command(command)}", file=sys.stderr)
    print("ntlab: NTLAB_ON_STOP=dump: a STOP is saved as a crash dump in build/dumps/", file=sys.stderr)
    sys.stderr.flush()

    def echo(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    try:
        run = onstop.run(command, 24 * 3600, root=root, name=args.ktest or "boot", seed=seed, echo=echo,
                         elf=status.elf)
    except (q.QemuNotFound, OSError) as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    for line in onstop.report_lines(run, root, _sol_arg(args.sol).strip() + " " if args.sol.strip() not in
                                    ("", "none") else ""):
        print(f"ntlab: {line}", file=sys.stderr)
    meaning = RUN_ENDINGS.get(run.exit_status)
    if meaning:
        print(f"ntlab: the kernel ended the run: {meaning}", file=sys.stderr)
        return 0
    print(f"ntlab: QEMU exited with status {run.exit_status}", file=sys.stderr)
    return 1


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
            if cp.stop_params:
                extra += " (" + " ".join(labconfig.param_text(p) for p in cp.stop_params) + ")"
            if cp.model:
                extra += f" model {cp.model}"
            hidden = " (hidden)" if cp.hidden else ""
            print(f"  {cp.number:<6}{cp.name:<24}{cp.points:>4}  {','.join(cp.ktests)}{extra}{hidden}")
    return 0


# Subcommands of the submission pipeline: each module parses its own arguments.
PIPELINE = {"handin": ("grader.handin", "main"), "submit": ("grader.submit", "main"),
            "batch": ("grader.batch", "main"), "autograder": ("grader.submit", "autograder_main")}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PIPELINE:
        import importlib
        module, func = PIPELINE[argv[0]]
        return getattr(importlib.import_module(module), func)(argv[1:])
    p = argparse.ArgumentParser(prog="python3 -m grader", description="ntlab grader tools")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="build and boot the kernel with the serial port on this terminal")
    r.add_argument("--sol", default="none", help="labs taken from solutions/ (none, all, 1-3, ...)")
    r.add_argument("--ktest", default="", help="ktests to run, comma separated (all, list, or names)")
    r.add_argument("--seed", default="1", help="seed for the ktests (default 1)")
    r.add_argument("--memory", default="64M", help="guest memory (default 64M)")
    r.add_argument("--gdb", action="store_true", help="wait for gdb (on a free port it prints) with the CPU stopped")
    r.add_argument("--root", default=selection.ROOT, help=argparse.SUPPRESS)
    r.set_defaults(func=cmd_run)
    lb = sub.add_parser("labs", help="check the lab.toml files and list the checkpoints")
    lb.add_argument("--root", default=selection.ROOT, help="the repository (default: this one)")
    lb.set_defaults(func=cmd_labs)
    for name, (module, _func) in PIPELINE.items():
        sub.add_parser(name, help=f"see python3 -m grader {name} --help ({module})")
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
