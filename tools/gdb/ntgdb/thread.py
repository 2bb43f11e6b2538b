"""thread.py - thread and dispatcher commands (lab 05): nt thread, nt ready, nt waits.

Threads are on KiThreadListHead (kernel/ke/thread.c) by KTHREAD.ThreadListEntry; the idle
thread is KiPcr.Prcb.IdleThread. The ready queues are KPRCB.DispatcherReadyListHead[0..31]
(KTHREAD.WaitListEntry) with the summary bitmap ReadySummary: bit p set exactly when queue p
is not empty. A waiting thread's wait blocks are KTHREAD.WaitBlockList..; each KWAIT_BLOCK is
on its object's DISPATCHER_HEADER.WaitListHead. A thread's kernel APCs are on
ApcState.ApcListHead[0] (KAPC.ApcListEntry). Every list is walked with a bound and checked
link by link; what cannot be right is reported as `corrupt: ...` with the address.
"""
from __future__ import annotations

from ntgdb import command, core
from ntgdb.core import NtError, out
from ntgdb.ke import _list, _report, prcb

STATES = {0: "Initialized", 1: "Ready", 2: "Running", 3: "Standby", 4: "Terminated", 5: "Waiting",
          6: "Transition", 7: "DeferredReady"}
WAIT_REASONS = {0: "Executive", 1: "FreePage", 2: "PageIn", 3: "PoolAllocation", 4: "DelayExecution",
                5: "Suspended", 6: "UserRequest", 7: "WrExecutive", 15: "WrQueue", 31: "WrDispatchInt",
                37: "WrKernel"}
OBJECT_TYPES = {0: "NotificationEvent", 1: "SynchronizationEvent", 2: "Mutant", 3: "Process", 5: "Semaphore",
                6: "Thread", 7: "Gate", 8: "NotificationTimer", 9: "SynchronizationTimer", 18: "Apc", 19: "Dpc",
                22: "Interrupt"}
MAX_PRIORITY = 32


def _name(lay: core.Layout, data: bytes) -> str:
    off = lay.offset("Name")
    raw = data[off:off + lay.array_len("Name")]
    return raw.split(b"\0", 1)[0].decode("ascii", "replace") or "?"


def threads(problems: list[str]) -> list[int]:
    """Every thread on KiThreadListHead, then the idle thread if it is not on it."""
    tlay = core.layout("KTHREAD")
    head = core.symbol_address("KiThreadListHead")
    items = _list(head, tlay.offset("ThreadListEntry"), "KiThreadListHead", "KTHREAD", problems)
    addr, data, lay = prcb()
    idle = lay.get(data, "IdleThread")
    if idle and idle not in items:
        items.append(idle)
    return items


def _summary(t: int, current: int) -> str:
    lay = core.layout("KTHREAD")
    b = core.read(t, lay.size, f"the KTHREAD at {t:016x}")
    state = lay.get(b, "State")
    text = (f"{'*' if t == current else ' '} {t:016x}  {lay.get(b, 'ThreadId'):3d}  {_name(lay, b)[:18]:18}  "
            f"{STATES.get(state, f'? {state}'):11}  {lay.signed(b, 'Priority'):2d}/{lay.signed(b, 'BasePriority'):<2d}  "
            f"{lay.signed(b, 'Quantum'):3d}")
    if state == 5:
        reason = lay.get(b, "WaitReason")
        text += f"  {WAIT_REASONS.get(reason, str(reason))}{' alertable' if lay.get(b, 'Alertable') else ''}"
    notes = []
    if not 0 <= lay.signed(b, "Priority") < MAX_PRIORITY:
        notes.append("Priority is not 0-31")
    if state not in STATES:
        notes.append(f"State {state} is no KTHREAD_STATE")
    if state == 2 and t != current:
        notes.append("Running but not the KPRCB's CurrentThread")
    if notes:
        text += "  <- corrupt: " + "; ".join(notes)
    return text


def _wait_blocks(t: int, data: bytes, lay: core.Layout, problems: list[str]) -> list[tuple[int, bytes]]:
    """The thread's wait blocks: the ring from WaitBlockList by NextWaitBlock (a gate's or a
    join's block points at itself); without that field, WaitBlockList and the others of the
    thread's WaitBlock array that name an object and link to the same thread."""
    wlay = core.layout("KWAIT_BLOCK")
    first = lay.get(data, "WaitBlockList")
    if not first:
        return []
    blocks = []
    if "NextWaitBlock" in wlay.fields:  # lab 05's waits link their blocks in a ring
        wb = first
        while len(blocks) <= 64:
            b = core.read(wb, wlay.size, f"the KWAIT_BLOCK at {wb:016x}")
            if wlay.get(b, "Thread") != t:
                problems.append(f"the wait block {wb:016x} of the ring names thread {wlay.get(b, 'Thread'):016x}")
                break
            blocks.append((wb, b))
            wb = wlay.get(b, "NextWaitBlock")
            if wb in (0, first):
                break
        else:
            problems.append(f"the wait block ring from {first:016x} has more than 64 blocks; the walk stopped")
        return blocks
    base = t + lay.offset("WaitBlock")
    count = lay.array_len("WaitBlock")
    inside = base <= first < base + count * wlay.size
    candidates = [base + i * wlay.size for i in range(count)] if inside else [first]
    for wb in candidates:
        b = core.read(wb, wlay.size, f"the KWAIT_BLOCK at {wb:016x}")
        if wlay.get(b, "Thread") != t or not wlay.get(b, "Object"):
            continue
        if inside and wb != first and wlay.get(b, "Object") == 0:
            continue
        blocks.append((wb, b))
    if not blocks:
        problems.append(f"the thread waits but WaitBlockList {first:016x} holds no wait block of it")
    return blocks


def _object_text(obj: int) -> str:
    hlay = core.layout("DISPATCHER_HEADER")
    try:
        h = core.read(obj, hlay.size, f"the object at {obj:016x}")
    except NtError:
        return f"{obj:016x} (not readable)"
    typ = hlay.get(h, "Type")
    sym = core.symbolize(obj)
    where = f" {sym}" if sym and sym != "?" else ""
    return f"{obj:016x}{where} {OBJECT_TYPES.get(typ, f'type {typ}')} SignalState {hlay.signed(h, 'SignalState')}"


def _on_wait_list(obj: int, wb: int) -> bool | None:
    hlay = core.layout("DISPATCHER_HEADER")
    wlay = core.layout("KWAIT_BLOCK")
    head = obj + hlay.offset("WaitListHead")
    problems: list[str] = []
    try:
        return wb in _list(head, wlay.offset("WaitListEntry"), f"the wait list of {obj:016x}", "KWAIT_BLOCK", problems)
    except NtError:
        return None


@command("thread", "[ADDR]", "every thread in one line each; with ADDR one KTHREAD in full: state, priorities, "
         "stack, wait blocks, kernel APCs (!thread)", "05")
def thread(arg: str) -> None:
    _, pdata, play = prcb()
    current = play.get(pdata, "CurrentThread")
    problems: list[str] = []
    if not arg:
        items = threads(problems)
        out(f"{len(items)} threads (* = running; KPRCB.CurrentThread {current:016x}, ContextSwitches "
            f"{play.get(pdata, 'ContextSwitches')})")
        out(f"  {'KTHREAD':16}   Id  {'Name':18}  {'State':11}  Pri/Base  Qnt  Wait")
        for t in items:
            out(_summary(t, current))
        _report(problems)
        return
    t = core.parse_number(arg, "KTHREAD")
    lay = core.layout("KTHREAD")
    b = core.read(t, lay.size, f"the KTHREAD at {t:016x}")
    out(_summary(t, current))
    out(f"    Stack [{lay.get(b, 'StackLimit'):016x}, {lay.get(b, 'StackBase'):016x})  KernelStack "
        f"{lay.get(b, 'KernelStack'):016x}  guard page {lay.get(b, 'GuardPage'):016x}")
    start = lay.get(b, "StartRoutine")
    out(f"    StartRoutine {core.symbolize(start) if start else 'none'}  context {lay.get(b, 'StartContext'):016x}  "
        f"WaitStatus 0x{lay.get(b, 'WaitStatus'):08x}")
    sk = lay.offset("ApcState")
    alay = core.layout("KAPC_STATE")
    adata = b[sk:sk + alay.size]
    out(f"    KernelApcDisable {lay.signed(b, 'KernelApcDisable')}  SpecialApcDisable "
        f"{lay.signed(b, 'SpecialApcDisable')}  KernelApcPending {alay.get(adata, 'KernelApcPending')}  "
        f"KernelApcInProgress {alay.get(adata, 'KernelApcInProgress')}")
    if lay.signed(b, "KernelApcDisable") > 0 or lay.signed(b, "SpecialApcDisable") > 0:
        out("    corrupt: an APC disable count is positive (more leaves than enters)")
    if lay.get(b, "State") == 5:
        blocks = _wait_blocks(t, b, lay, problems)
        wlay = core.layout("KWAIT_BLOCK")
        out(f"    Waiting ({WAIT_REASONS.get(lay.get(b, 'WaitReason'), '?')}) on {len(blocks)} object(s):")
        for wb, wbd in blocks:
            obj = wlay.get(wbd, "Object")
            linked = _on_wait_list(obj, wb)
            note = "" if linked else ("  <- corrupt: the wait block is not on the object's wait list"
                                      if linked is False else "")
            out(f"      [{wlay.get(wbd, 'WaitKey')}] {'WaitAny' if wlay.get(wbd, 'WaitType') else 'WaitAll'} "
                f"{_object_text(obj)}{note}")
    try:
        klay = core.layout("KAPC")
    except NtError:
        klay = None
    if klay is not None:
        head = t + sk + alay.offset("ApcListHead")
        apcs = _list(head, klay.offset("ApcListEntry"), "ApcState.ApcListHead[KernelMode]", "KAPC", problems)
        out(f"    {len(apcs)} kernel APC(s) queued:")
        seen_normal = False
        for a in apcs:
            ad = core.read(a, klay.size, f"the KAPC at {a:016x}")
            normal = klay.get(ad, "NormalRoutine")
            notes = []
            if normal:
                seen_normal = True
            elif seen_normal:
                notes.append("a special APC behind a normal one")
            if klay.get(ad, "Thread") != t:
                notes.append(f"Thread {klay.get(ad, 'Thread'):016x} is not this thread")
            if not klay.get(ad, "Inserted"):
                notes.append("Inserted is FALSE")
            line = (f"      {a:016x} {'normal ' if normal else 'special'}  kernel {core.symbolize(klay.get(ad, 'KernelRoutine'))}"
                    + (f"  normal {core.symbolize(normal)}" if normal else ""))
            if notes:
                line += "  <- corrupt: " + "; ".join(notes)
            out(line)
    _report(problems)


@command("ready", "", "the ready queues by priority and the ReadySummary bitmap, checked against each other "
         "(!ready)", "05")
def ready(arg: str) -> None:
    addr, data, lay = prcb()
    summary = lay.get(data, "ReadySummary")
    tlay = core.layout("KTHREAD")
    head0 = addr + lay.offset("DispatcherReadyListHead")
    problems: list[str] = []
    out(f"KPRCB {addr:016x} ReadySummary {summary:#010x}  CurrentThread {lay.get(data, 'CurrentThread'):016x}  "
        f"NextThread {lay.get(data, 'NextThread'):016x}")
    total = 0
    for p in range(MAX_PRIORITY - 1, -1, -1):
        head = head0 + p * 16
        items = _list(head, tlay.offset("WaitListEntry"), f"DispatcherReadyListHead[{p}]", "KTHREAD", problems)
        bit = bool(summary >> p & 1)
        if bit != bool(items):
            problems.append(f"priority {p}: ReadySummary bit is {int(bit)} but the queue has {len(items)} thread(s)")
        if not items:
            continue
        out(f"Priority {p}:")
        for t in items:
            b = core.read(t, tlay.size, f"the KTHREAD at {t:016x}")
            notes = []
            if tlay.get(b, "State") != 1:
                notes.append(f"State {STATES.get(tlay.get(b, 'State'), tlay.get(b, 'State'))}, not Ready")
            if tlay.signed(b, "Priority") != p:
                notes.append(f"Priority {tlay.signed(b, 'Priority')} on queue {p}")
            line = f"  {t:016x}  {tlay.get(b, 'ThreadId'):3d}  {_name(tlay, b)}"
            if notes:
                line += "  <- corrupt: " + "; ".join(notes)
            out(line)
            total += 1
    out(f"{total} ready thread(s)")
    _report(problems)


@command("waits", "[OBJECT]", "every waiting thread and what it waits on; with OBJECT its wait list in order "
         "(!waits)", "05")
def waits(arg: str) -> None:
    problems: list[str] = []
    wlay = core.layout("KWAIT_BLOCK")
    tlay = core.layout("KTHREAD")
    if arg:
        obj = core.parse_number(arg, "dispatcher object")
        hlay = core.layout("DISPATCHER_HEADER")
        out(_object_text(obj))
        head = obj + hlay.offset("WaitListHead")
        blocks = _list(head, wlay.offset("WaitListEntry"), f"the wait list of {obj:016x}", "KWAIT_BLOCK", problems)
        out(f"{len(blocks)} wait block(s), first to be satisfied first:")
        for wb in blocks:
            b = core.read(wb, wlay.size, f"the KWAIT_BLOCK at {wb:016x}")
            t = wlay.get(b, "Thread")
            notes = []
            if wlay.get(b, "Object") != obj:
                notes.append(f"Object {wlay.get(b, 'Object'):016x} is not this object")
            try:
                tb = core.read(t, tlay.size, f"the KTHREAD at {t:016x}")
                name, state = _name(tlay, tb), tlay.get(tb, "State")
                if state != 5:
                    notes.append(f"its thread is {STATES.get(state, state)}, not Waiting")
            except NtError:
                name = "?"
                notes.append("its thread is not readable")
            line = (f"  {wb:016x}  thread {t:016x} {name}  key {wlay.get(b, 'WaitKey')}  "
                    f"{'WaitAny' if wlay.get(b, 'WaitType') else 'WaitAll'}")
            if notes:
                line += "  <- corrupt: " + "; ".join(notes)
            out(line)
        _report(problems)
        return
    n = 0
    for t in threads(problems):
        b = core.read(t, tlay.size, f"the KTHREAD at {t:016x}")
        if tlay.get(b, "State") != 5:
            continue
        n += 1
        reason = tlay.get(b, "WaitReason")
        out(f"{t:016x} {tlay.get(b, 'ThreadId'):3d} {_name(tlay, b)}: {WAIT_REASONS.get(reason, str(reason))}"
            f"{' alertable' if tlay.get(b, 'Alertable') else ''}")
        for wb, wbd in _wait_blocks(t, b, tlay, problems):
            obj = wlay.get(wbd, "Object")
            linked = _on_wait_list(obj, wb)
            out(f"    [{wlay.get(wbd, 'WaitKey')}] {'WaitAny' if wlay.get(wbd, 'WaitType') else 'WaitAll'} "
                f"{_object_text(obj)}" + ("  <- corrupt: not on the object's wait list" if linked is False else ""))
    out(f"{n} waiting thread(s)")
    _report(problems)
