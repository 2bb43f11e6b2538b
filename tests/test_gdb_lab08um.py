"""nt process (lab 08, tools/gdb/ntgdb/ps.py) at the stop of gdb.process
(labs/08-usermode/tests/gdb_um_tests.c): a process ended by an access violation and a live
one whose thread is inside NtYieldExecution, its user registers in its trap frame."""
from __future__ import annotations

import re

from test_gdb_nt import SEED, _no_traceback, pytestmark, reference, run_snapshot  # noqa: F401


def test_nt_process(reference):  # noqa: F811
    _, v, _ = run_snapshot(reference, SEED, [("list", "nt help")], ktest="gdb.process", first_stop=1)
    dead, dead_pid, va = v["dead"][0].split()
    live, live_pid, thread, teb = v["live"][0].split()
    rax, rip = v["frame"][0].split()
    s, v2, text = run_snapshot(reference, SEED, [
        ("list", "nt process"), ("live", f"nt process {live}"), ("dead", f"nt process {dead}"),
    ], ktest="gdb.process", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.process PASS" in text and v2["live"] == v["live"], text
    # the list: the system process and both user processes, each once
    assert re.search(r"PROCESS [0-9a-f]{16}  Cid +4  'System' .*\(system\)", s["list"]), s["list"]
    assert f"PROCESS {int(live, 16):016x}  Cid {int(live_pid):4d}  'gdblive'" in s["list"], s["list"]
    assert re.search(rf"PROCESS {int(dead, 16):016x}  Cid +{dead_pid}  'gdbdead' .*status 0xC0000005", s["list"]), \
        s["list"]
    # the live one: its thread, TEB, Ready inside the kernel, its user registers
    assert re.search(rf"THREAD {int(thread, 16):016x}  Cid \d+  Teb {int(teb, 16):x} .*Ready", s["live"]), s["live"]
    assert f"user Rip {int(rip, 16):016x}" in s["live"] and f"Rax {int(rax, 16):016x}" in s["live"], s["live"]
    assert "status running" in s["live"] and "corrupt" not in s["live"], s["live"]
    # the dead one: the exception, with the address written to
    assert "ended by exception 0xC0000005" in s["dead"] and f"{int(va, 16):#x}" in s["dead"], s["dead"]
