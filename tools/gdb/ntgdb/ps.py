"""ps.py - process commands (lab 08, user mode): nt process.

Processes are EPROCESS objects on PsActiveProcessHead (ActiveProcessLinks); a user
process (kernel/ps/process.c) has its own page tables (DirectoryTableBase), a PEB, and its
user threads on ThreadListHead (ETHREAD.ProcessThreadLink), each with a TEB, a user stack
and a KTHREAD whose TrapFrame holds its user registers while it is in the kernel. Every
walk is bounded; what cannot be right is reported as `corrupt: ...`.
"""
from __future__ import annotations

from ntgdb import command, core
from ntgdb.core import NtError, out

MAX_WALK = 4096
STATES = ["Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting", "Transition", "DeferredReady"]


def _cstring(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("latin-1")


def _status(v: int) -> str:
    v &= 0xFFFFFFFF
    return "running" if v == 0x103 else f"0x{v:08X}"


def _list(head: int, entry_layout: str, field: str, what: str) -> list[int]:
    """The records on a LIST_ENTRY list (their base addresses), bounded and checked."""
    off = core.layout(entry_layout).offset(field)
    items, e = [], core.u64(head, f"the head of {what}")
    while e != head:
        if not e or len(items) >= MAX_WALK:
            raise NtError(f"corrupt: {what} does not come back to its head {head:#x} (at {e:#x})")
        items.append(e - off)
        e = core.u64(e, f"a link of {what}")
    return items


def _process_line(p: int) -> str:
    lay = core.layout("EPROCESS")
    d = core.read(p, lay.size, f"EPROCESS {p:#x}")
    name = _cstring(d[lay.offset("ImageFileName"):lay.offset("ImageFileName") + 16]) or "?"
    user = lay.get(d, "UserProcess")
    line = (f"PROCESS {p:016x}  Cid {lay.get(d, 'UniqueProcessId'):4d}  '{name}'  "
            f"DirBase {lay.get(d, 'DirectoryTableBase'):x}")
    if user:
        line += (f"  Peb {lay.get(d, 'Peb'):x}  threads {lay.get(d, 'ActiveThreads')}  "
                 f"{'exiting ' if lay.get(d, 'Exiting') else ''}status {_status(lay.get(d, 'ExitStatus'))}")
    else:
        line += "  (system)"
    return line


@command("process", "[ADDR]", "every process (Cid, image, page tables, PEB, threads, exit status), or one with its "
         "user threads, TEBs, stacks and trap frames (!process)", "08")
def nt_process(arg: str) -> None:
    head = core.symbol_address("PsActiveProcessHead")
    if not arg.strip():
        procs = _list(head, "EPROCESS", "ActiveProcessLinks", "PsActiveProcessHead")
        if not procs:
            out("no process (lab 06's objects are not initialised yet)")
        for p in procs:
            out(_process_line(p))
        return
    p = core.parse_number(arg)
    out(_process_line(p))
    lay = core.layout("EPROCESS")
    d = core.read(p, lay.size, f"EPROCESS {p:#x}")
    if not lay.get(d, "UserProcess"):
        return
    code = lay.get(d, "ExceptionCode")
    if code:
        info = lay.offset("ExceptionInformation")
        out(f"  ended by exception 0x{code & 0xFFFFFFFF:08X} at {core.symbolize(lay.get(d, 'ExceptionAddress'))} "
            f"({lay.get(d, 'ExceptionAddress'):#x}), information {core.u64(p + info):#x} {core.u64(p + info + 8):#x}")
    el, tl, fl = core.layout("ETHREAD"), core.layout("KTHREAD"), core.layout("KTRAP_FRAME")
    for t in _list(p + lay.offset("ThreadListHead"), "ETHREAD", "ProcessThreadLink", "the process's thread list"):
        e = core.read(t, el.size, f"ETHREAD {t:#x}")
        tcb = el.get(e, "Tcb")
        cid = el.get(e, "Cid")
        tid = core.u64(t + el.offset("Cid") + 8)
        line = (f"  THREAD {t:016x}  Cid {tid}  Teb {el.get(e, 'Teb'):x}  stack "
                f"{el.get(e, 'UserStackLimit'):x}-{el.get(e, 'UserStackBase'):x}  exit {_status(el.get(e, 'ExitStatus'))}")
        del cid
        if not tcb:
            out(line + "  (no KTHREAD yet)")
            continue
        k = core.read(tcb, tl.size, f"KTHREAD {tcb:#x}")
        state = tl.get(k, "State")
        line += f"  KTHREAD {tcb:x} {STATES[state] if state < len(STATES) else state}"
        if core.u64(tcb + tl.offset("Process")) != p:
            line += f"  corrupt: its KTHREAD.Process is {core.u64(tcb + tl.offset('Process')):#x}"
        out(line)
        frame = tl.get(k, "TrapFrame")
        if frame and state != 4:
            f = core.read(frame, fl.size, f"the trap frame {frame:#x}")
            cs = fl.get(f, "SegCs")
            if cs & 3:
                out(f"    user Rip {fl.get(f, 'Rip'):016x}  Rsp {fl.get(f, 'Rsp'):016x}  Rax {fl.get(f, 'Rax'):016x}"
                    f"  Cs {cs:x}  EFlags {fl.get(f, 'EFlags'):x}  (frame {frame:x}, vector {fl.get(f, 'Vector'):#x})")
            else:
                out(f"    trap frame {frame:x}: not entered from user mode yet")
