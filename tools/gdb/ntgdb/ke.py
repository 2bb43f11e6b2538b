"""ke.py - kernel core commands (lab 04): nt irql, nt dpcs, nt timers.

The IRQL is CR8 (live; a dump's QEMU note has no CR8). The processor block is KiPcr.Prcb
(kernel/ke/prcb.c): SoftwareInterruptPending, the DPC queue DpcListHead/DpcQueueDepth.
The timer table is KiTimerTableListHead (kernel/ke/timertab.c), one list per due tick
modulo its size; its hand is the list of the current tick (KeTickCount mod the size).
Every list is walked with a bound and checked link by link; what cannot be right is
reported as `corrupt: ...` with the address.
"""
from __future__ import annotations

import gdb

from ntgdb import command, core
from ntgdb.core import NtError, out

IRQL_NAMES = {0: "PASSIVE_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 13: "CLOCK_LEVEL", 14: "IPI_LEVEL",
              15: "HIGH_LEVEL"}
IMPORTANCE = {0: "Low", 1: "Medium", 2: "High"}
DPC_OBJECT = 19
MAX_WALK = 4096


def irql_name(irql: int) -> str:
    if irql in IRQL_NAMES:
        return IRQL_NAMES[irql]
    if 3 <= irql <= 12:
        return "device IRQL (DIRQL)"
    return "not an IRQL"


def prcb() -> tuple[int, bytes, core.Layout]:
    """The address, bytes and layout of the KPRCB (KiPcr.Prcb), checked against KPCR.CurrentPrcb."""
    pcr = core.symbol_address("KiPcr")
    play = core.layout("KPCR")
    lay = core.layout("KPRCB")
    addr = pcr + play.offset("Prcb")
    pdata = core.read(pcr, play.offset("Prcb"), "KiPcr")
    current = play.get(pdata, "CurrentPrcb")
    if current != addr:
        out(f"corrupt: KiPcr.CurrentPrcb is {current:016x}, not &KiPcr.Prcb {addr:016x} (reading KiPcr.Prcb)")
    return addr, core.read(addr, lay.size, "KiPcr.Prcb"), lay


def pending_text(bits: int) -> str:
    names = [IRQL_NAMES[i] for i in (1, 2) if bits & (1 << i)]
    text = ", ".join(names) if names else "none"
    if bits & ~0b110:
        text += f"  <- corrupt: bits {bits & ~0b110:#x} request no software interrupt (only APC_LEVEL 0x2, DISPATCH_LEVEL 0x4)"
    return text


@command("irql", "", "the current IRQL (CR8) named, and the software interrupts pending (!irql)", "04")
def irql(arg: str) -> None:
    try:
        cr8 = int(gdb.parse_and_eval("$cr8"))
    except gdb.error:
        cr8 = None
    if cr8 is None:
        out("Current IRQL: unknown (CR8 is not available: a dump's CPU note has no CR8)")
    else:
        line = f"Current IRQL (CR8): {cr8} {irql_name(cr8)}"
        if cr8 > 15:
            line += "  <- corrupt: CR8 holds 4 bits"
        out(line)
    addr, data, lay = prcb()
    bits = lay.get(data, "SoftwareInterruptPending")
    out(f"KPRCB {addr:016x} SoftwareInterruptPending {bits:#x}: {pending_text(bits)}")
    if cr8 is not None and cr8 < 15:
        held = [IRQL_NAMES[i] for i in (1, 2) if bits & (1 << i) and cr8 >= i]
        if held:
            out(f"    held back until the IRQL drops below {held[-1]}")


def _list(head: int, offset: int, what: str, kind: str, problems: list[str]):
    """The objects (of type kind, linked at offset) on the list at head, checked and bounded."""
    entries, prev = [], head
    cur = core.u64(head, what)
    seen = set()
    while cur != head:
        if len(entries) >= MAX_WALK:
            problems.append(f"{what}: more than {MAX_WALK} entries (a cycle?); the walk stopped")
            break
        if cur in seen:
            problems.append(f"{what}: the entry {cur:016x} comes twice (a cycle); the walk stopped")
            break
        if cur == 0 or cur & 7:
            problems.append(f"{what}: Flink of {prev:016x} is {cur:#x}, not a list entry; the walk stopped")
            break
        try:
            flink, blink = core.u64(cur, what), core.u64(cur + 8, what)
        except NtError:
            problems.append(f"{what}: Flink of {prev:016x} is {cur:016x}, which is not readable; the walk stopped")
            break
        if blink != prev:
            problems.append(f"{what}: the {kind} {cur - offset:016x} has Blink {blink:016x}, not {prev:016x}")
        seen.add(cur)
        entries.append(cur)
        prev, cur = cur, flink
    else:
        if core.u64(head + 8, what) != prev:
            problems.append(f"{what}: the head's Blink is {core.u64(head + 8, what):016x}, not the last entry {prev:016x}")
    return [e - offset for e in entries]


def _report(problems: list[str]) -> None:
    for p in problems:
        out(f"    corrupt: {p}")


@command("dpcs", "", "the processor's DPC queue in order: routine, importance, context, arguments (!dpcs)", "04")
def dpcs(arg: str) -> None:
    addr, data, lay = prcb()
    depth = lay.get(data, "DpcQueueDepth")
    head = addr + lay.offset("DpcListHead")
    dlay = core.layout("KDPC")
    problems: list[str] = []
    items = _list(head, dlay.offset("DpcListEntry"), "KPRCB.DpcListHead", "KDPC", problems)
    out(f"DPC queue of KPRCB {addr:016x}: DpcQueueDepth {depth}, DpcCount {lay.get(data, 'DpcCount')}, "
        f"{len(items)} queued")
    if items:
        out(f"  #  {'KDPC':16}  Importance  {'Routine':32}  {'Context':16}  {'Argument1':16}  Argument2")
    for i, d in enumerate(items):
        b = core.read(d, dlay.size, f"the KDPC at {d:016x}")
        routine = dlay.get(b, "DeferredRoutine")
        imp = dlay.get(b, "Importance")
        notes = []
        if dlay.get(b, "Type") != DPC_OBJECT:
            notes.append(f"Type {dlay.get(b, 'Type')} is not DpcObject ({DPC_OBJECT})")
        if imp not in IMPORTANCE:
            notes.append(f"Importance {imp} is not 0-2")
        if dlay.get(b, "DpcData") != addr:
            notes.append(f"DpcData {dlay.get(b, 'DpcData'):#x} is not the KPRCB")
        sym = core.symbolize(routine) if routine else "NULL"
        line = (f" {i:2d}  {d:016x}  {IMPORTANCE.get(imp, str(imp)):10}  {sym:32}  "
                f"{dlay.get(b, 'DeferredContext'):016x}  {dlay.get(b, 'SystemArgument1'):016x}  "
                f"{dlay.get(b, 'SystemArgument2'):016x}")
        if sym == "?":
            notes.append(f"DeferredRoutine {routine:#x} is no function of the kernel")
        if notes:
            line += "  <- corrupt: " + "; ".join(notes)
        out(line)
    if depth != len(items) and not problems:
        problems.append(f"DpcQueueDepth is {depth} but {len(items)} DPCs are on the list")
    _report(problems)


@command("timers", "", "every set timer in the timer table by list: due time, period, DPC; the hand (!timer)", "04")
def timers(arg: str) -> None:
    table = core.symbol_address("KiTimerTableListHead")
    elay = core.layout("KTIMER_TABLE_ENTRY")
    try:
        size = int(gdb.parse_and_eval("sizeof(KiTimerTableListHead)")) // elay.size
    except gdb.error:
        size = 64
    tick = core.variable_u64("KeTickCount")
    inc = core.u32(core.symbol_address("KeTimeIncrement"), "KeTimeIncrement") or 10000
    now = tick * inc
    hand = tick % size
    tlay = core.layout("KTIMER")
    out(f"Timer table KiTimerTableListHead ({size} lists), hand {hand} (KeTickCount {tick} mod {size}); "
        f"interrupt time {now:#x} (tick {tick})")
    total, problems = 0, []
    for index in range(size):
        head = table + index * elay.size
        items = _list(head, tlay.offset("TimerListEntry"), f"KiTimerTableListHead[{index}]", "KTIMER",
                      problems)
        if not items:
            continue
        out(f"List {index}{'  <- hand' if index == hand else ''}:")
        last = None
        for t in items:
            b = core.read(t, tlay.size, f"the KTIMER at {t:016x}")
            due = tlay.get(b, "DueTime")
            period = tlay.signed(b, "Period")
            dpc = tlay.get(b, "Dpc")
            due_tick = (due + inc - 1) // inc
            notes = []
            if due_tick % size != index:
                notes.append(f"due tick {due_tick} belongs on list {due_tick % size}")
            if tlay.get(b, "Hand") != index:
                notes.append(f"Hand {tlay.get(b, 'Hand')} is not {index}")
            if not tlay.get(b, "Inserted"):
                notes.append("Inserted is FALSE")
            if last is not None and due < last:
                notes.append("due before the timer ahead of it (the list is not in due-time order)")
            last = due
            when = (due - now) / 1e7
            dpc_text = "none"
            if dpc:
                try:
                    db = core.read(dpc, core.layout("KDPC").size, f"the KDPC at {dpc:016x}")
                    dpc_text = f"{dpc:016x} ({core.symbolize(core.layout('KDPC').get(db, 'DeferredRoutine'))})"
                except NtError:
                    notes.append(f"Dpc {dpc:016x} is not readable")
                    dpc_text = f"{dpc:016x}"
            line = (f"  KTIMER {t:016x}  due {due:#x} (tick {due_tick}, {when:+.3f} s)  "
                    f"period {period} ms  DPC {dpc_text}")
            if notes:
                line += "  <- corrupt: " + "; ".join(notes)
            out(line)
            total += 1
    out(f"{total} timers set")
    _report(problems)
