"""nt wow64 (lab 09, tools/gdb/ntgdb/wow64.py) live, at the stop of gdb.wow64
(labs/09-wow64/tests/gdb_wow64_tests.c, w16f): a 32-bit thread (user/programs/wowgdb.c) spins in
compatibility mode with seeded EBX, ESI, EDI and was interrupted there by the clock; the kernel
test reports the truth (the program's own FS:[0x18], its loop's addresses and ESP, the TEB32 as
the process sees it) and GDB's nt wow64 must print the same 32-bit context and TEB32."""
from __future__ import annotations

import re

from test_gdb_nt import SEED, _no_traceback, pytestmark, reference, run_snapshot  # noqa: F401


def test_nt_wow64_shows_the_32bit_context_and_teb(reference):  # noqa: F811
    _, v, _ = run_snapshot(reference, SEED, [("list", "nt help")], ktest="gdb.wow64", first_stop=1)
    process, thread = v["process"][0].split()
    s, v2, text = run_snapshot(reference, SEED, [("list", "nt wow64"), ("one", f"nt wow64 {process}"),
                                                 ("bad", "nt wow64 0x1234")], ktest="gdb.wow64", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.wow64 PASS" in text and v2["process"] == v["process"], text
    ebx, esi, edi = (int(x, 16) for x in v["regs"][0].split())
    teb32, loop_start, loop_end, esp = (int(x, 16) for x in v["program"][0].split())
    self_, exc, base, limit, pid, tid, peb32, teb64 = v["teb32"][0].split()
    # the list: this WOW64 process, its 32-bit PEB and its 2 GiB limit
    m = re.search(rf"WOW64 PROCESS {int(process, 16):016x}  'wowgdb.exe'  Peb32 ([0-9a-f]{{8}})  limit 7ffeffff "
                  r"\(2 GiB\)", s["list"])
    assert m and int(m.group(1), 16) == int(peb32, 16), s["list"]
    # the thread: its TEB32 (KTHREAD.Teb32 = the program's FS:[0x18]), Ready, interrupted in 32-bit code
    one = s["one"]
    assert re.search(rf"THREAD {int(thread, 16):016x}  Teb64 [0-9a-f]+  Teb32 {teb32:08x}  Ready", one), one
    m = re.search(r"32-bit \(CS 0x23\): eip=([0-9a-f]{8}) esp=([0-9a-f]{8}) eax=([0-9a-f]{8}) ebx=([0-9a-f]{8}) "
                  r"ecx=([0-9a-f]{8}) edx=([0-9a-f]{8}) esi=([0-9a-f]{8}) edi=([0-9a-f]{8}) ebp=[0-9a-f]{8} "
                  r"efl=([0-9a-f]{8})", one)
    assert m, one
    eip, esp_seen, eax, ebx_seen, ecx, _edx, esi_seen, edi_seen, efl = (int(g, 16) for g in m.groups())
    assert loop_start <= eip <= loop_end, f"eip {eip:#x} outside the spin loop {loop_start:#x}..{loop_end:#x}\n{one}"
    assert (esp_seen, ebx_seen, esi_seen, edi_seen) == (esp, ebx, esi, edi), one
    assert ecx == 0x20000000 and eax > 0 and efl & 0x200, one          # the shared page; it counted; IF set
    # the TEB32 as the process sees it, read through its own page tables
    assert (f"TEB32 {teb32:08x}: Self {int(self_, 16):08x}  ExceptionList {int(exc, 16):08x}  "
            f"StackBase {int(base, 16):08x}  StackLimit {int(limit, 16):08x}  ClientId {pid}.{tid}  "
            f"Peb32 {int(peb32, 16):08x}  Teb64 {int(teb64, 16):08x}") in one, one
    assert "corrupt" not in one, one
    assert "is not a WOW64 process" in s["bad"], s["bad"]
