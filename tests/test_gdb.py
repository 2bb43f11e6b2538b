"""Debugging with GDB as a student does it, in tmux: two `make qemu-gdb DEBUG=1` sessions on one
machine get different ports and print the exact `make gdb` command; `make gdb` (in GDB's batch
mode, commands on stdin) attaches, stops in the student's code, shows locals (DEBUG=1 builds at
-Og), turns `ExpFreePool+0x123` into a source line, and prints no "not in symtab" warnings."""
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from kernel_harness import ROOT, clean_env, copy_tree, has_solutions

pytestmark = pytest.mark.skipif(
    not has_solutions() or not all(shutil.which(t) for t in ("tmux", "gdb", "qemu-system-x86_64")),
    reason="needs solutions/, tmux, gdb and QEMU")

GDB_COMMANDS = """set width 0
set pagination off
hbreak ExpFreePool
continue
next
next
info locals
bt
info line *(ExpFreePool+0x123)
kill
quit
"""


def _session(tree: Path, name: str, log: Path) -> None:
    cmd = (f"cd {tree} && make --no-print-directory qemu-gdb SOL=all DEBUG=1 KTEST=pool.double_free SEED=5 "
           f"> {log} 2>&1")
    subprocess.run(["tmux", "new-session", "-d", "-s", name, cmd], check=True, env=clean_env())


def _wait_for(log: Path, pattern: str, timeout: float = 120) -> re.Match:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, log.read_text() if log.exists() else "")
        if m:
            return m
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen in {log}:\n{log.read_text() if log.exists() else ''}")


def test_two_gdb_sessions_in_tmux(tmp_path):
    tree = Path(copy_tree(str(tmp_path / "tree"), with_build=None))
    subprocess.run(["make", "--no-print-directory", "SOL=all", "DEBUG=1", "iso"], cwd=tree, env=clean_env(),
                   check=True, capture_output=True, timeout=300)
    names = [f"ntlab-gdb-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    logs = [tmp_path / "qemu1.log", tmp_path / "qemu2.log"]
    try:
        commands = []
        for name, log in zip(names, logs):
            _session(tree, name, log)
            m = _wait_for(log, r"in another terminal run:\s*\n\s*(make gdb SOL=all DEBUG=1 GDBPORT=(\d+))")
            commands.append((m.group(1), int(m.group(2))))
        assert commands[0][1] != commands[1][1], commands        # no collision
        for (command, port), log in zip(commands, logs):
            out = subprocess.run(command.split() + ["--no-print-directory"], cwd=tree, env=clean_env(),
                                 input=GDB_COMMANDS, capture_output=True, text=True, timeout=120)
            text = out.stdout + out.stderr
            assert f"localhost:{port}" in text
            assert "not in symtab" not in text and "Internal error" not in text, text
            assert re.search(r"Breakpoint \d+, ExpFreePool \(Block=(?:Block@entry=)?0x[0-9a-f]+", text), text
            assert re.search(r"\birql = 0 ", text), text           # a local, visible at -Og
            assert re.search(r'Line \d+ of "[\w/.-]+" starts at address 0x[0-9a-f]+ <ExpFreePool\+\d+>', text), text
            assert "#1  0x" in text and "KtTestPoolDoubleFree" in text
            _wait_for(log, r"ntlab: QEMU stopped before the kernel ended the run", 30)
    finally:
        for name in names:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
