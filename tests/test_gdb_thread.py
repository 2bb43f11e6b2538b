"""The lab 05 debugger commands nt thread, nt ready, nt waits (tools/gdb/ntgdb/thread.py).

The reference kernel is booted with the ktest exsync.fast_mutex under a gdbstub and stopped
at the test's ExReleaseFastMutex: the test thread owns the fast mutex and its seeded waiters
(2 to 5 threads) wait on its gate. The commands must show exactly those threads, their
states and the gate they wait on, in wait order; after GDB corrupts the ready summary and a
waiter's state, they must say so, never a traceback."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from kernel_harness import ROOT, has_solutions, make
from test_gdb_nt import BAD_OUTPUT, gdb_batch, gdbstub, sections, _wait_for

pytestmark = [pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)"),
              pytest.mark.skipif(shutil.which("gdb") is None, reason="needs gdb (apt-get install gdb)")]


def _run(commands: list[tuple[str, str]], seed: int = 3) -> dict:
    proc = make(ROOT, "SOL=all", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, ROOT)
    from grader import qemu as q
    build = os.path.join(ROOT, "build", "all")
    with tempfile.TemporaryDirectory() as tmp:
        stub, target = gdbstub(tmp)
        cmd = q.qemu_command(os.path.join(build, "ntlab.iso"), "exsync.fast_mutex", seed) + stub
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        _wait_for(os.path.join(tmp, "gdb.sock"), qemu)
        try:
            gcmds = ["hbreak ExReleaseFastMutex", "continue"]
            for marker, c in commands:
                gcmds += [f"echo @@{marker}\\n", c]
            text = gdb_batch(os.path.join(build, "ntlab.elf"), gcmds, target=target)
        finally:
            os.killpg(qemu.pid, 9)
            qemu.wait()
    for bad in BAD_OUTPUT:
        assert bad not in text, text
    return sections(text)


def test_thread_ready_waits():
    s = _run([("count", "p KtFastMutex.Count"), ("gate", "p/x (unsigned long)&KtFastMutex.Gate"),
              ("w0", "p/x (unsigned long)KtExThread[0]"), ("w1", "p/x (unsigned long)KtExThread[1]"),
              ("threads", "nt thread"), ("ready", "nt ready"), ("waits", "nt waits"),
              ("gatewaits", "nt waits &KtFastMutex.Gate"), ("one", "nt thread KtExThread[0]"),
              ("corrupt", "set var KiPcr.Prcb.ReadySummary = 0x100000"),
              ("state", "set var KtExThread[1]->State = 1"),
              ("ready2", "nt ready"), ("gatewaits2", "nt waits &KtFastMutex.Gate")])
    waiters = -int(re.search(r"= (-?\d+)", s["count"]).group(1))
    assert 2 <= waiters <= 5, s["count"]
    gate = int(re.search(r"0x([0-9a-f]+)", s["gate"]).group(1), 16)
    w0 = int(re.search(r"0x([0-9a-f]+)", s["w0"]).group(1), 16)
    w1 = int(re.search(r"0x([0-9a-f]+)", s["w1"]).group(1), 16)
    # nt thread: the running test thread, the idle thread and every waiter.
    assert re.search(r"^\* [0-9a-f]{16}\s+1\s+initial\s+Running", s["threads"], re.M), s["threads"]
    assert len(re.findall(r"fast mutex waiter\s+Waiting\s+8/8\s+\d+\s+WrExecutive", s["threads"])) == waiters, s["threads"]
    assert f"{w0:016x}" in s["threads"] and "corrupt" not in s["threads"], s["threads"]
    # nt ready: nothing is ready (the waiters wait, the test runs), and the bitmap agrees.
    assert "ReadySummary 0x00000000" in s["ready"] and "0 ready thread(s)" in s["ready"], s["ready"]
    # nt waits: every waiter on the gate; with the gate, in wait order (w0 first).
    assert f"{waiters} waiting thread(s)" in s["waits"] and s["waits"].count(f"{gate:016x}") == waiters, s["waits"]
    lines = [l for l in s["gatewaits"].splitlines() if "thread" in l and "wait block" not in l]
    assert len(lines) == waiters and f"{w0:016x}" in lines[0] and f"{w1:016x}" in lines[1], s["gatewaits"]
    assert "Gate SignalState 0" in s["gatewaits"], s["gatewaits"]
    # nt thread ADDR: its stack, start routine and the wait block on the gate.
    assert "KtFastMutexThread" in s["one"] and f"{gate:016x}" in s["one"] and "Waiting (WrExecutive) on 1" in s["one"], s["one"]
    # Corrupted: the bitmap names an empty queue; a waiter marked Ready is still on the gate.
    assert "priority 20: ReadySummary bit is 1 but the queue has 0 thread(s)" in s["ready2"], s["ready2"]
    assert "not Waiting" in s["gatewaits2"], s["gatewaits2"]
