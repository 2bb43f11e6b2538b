"""wow64.py - WOW64 commands (lab 09): nt wow64.

A WOW64 process (kernel/ps/wow64proc.c's table PspWow64Table: the process, its 32-bit PEB, its
highest user address) runs its threads' 32-bit code in compatibility mode (CS 0x23) and the
wow64 layer's code in 64-bit mode (CS 0x33). For a thread in the kernel, its trap frame says
which: with CS 0x23 the frame's low halves are the 32-bit context (EIP, ESP, EAX..EDI,
EFLAGS). Every walk is bounded; what cannot be right is reported as `corrupt: ...`.
"""
from __future__ import annotations

from ntgdb import command, core
from ntgdb.core import NtError, out

WOW64_MAX = 32
ENTRY_SIZE = 16      # PSP_WOW64_ENTRY: Process (8), Peb32 (4), HighestUserAddress (4)
STATES = ["Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting", "Transition", "DeferredReady"]


def _entries() -> list[tuple[int, int, int]]:
    table = core.symbol_address("PspWow64Table")
    out_ = []
    for i in range(WOW64_MAX):
        d = core.read(table + i * ENTRY_SIZE, ENTRY_SIZE, f"PspWow64Table[{i}]")
        process = int.from_bytes(d[0:8], "little")
        if process:
            out_.append((process, int.from_bytes(d[8:12], "little"), int.from_bytes(d[12:16], "little")))
    return out_


def _name(p: int) -> str:
    lay = core.layout("EPROCESS")
    d = core.read(p, lay.size, f"EPROCESS {p:#x}")
    off = lay.offset("ImageFileName")
    return d[off:off + 16].split(b"\0", 1)[0].decode("latin-1") or "?"


def _user_read(process: int, va: int, size: int, what: str) -> bytes:
    """size bytes at a user address of process, through its own page tables (DirectoryTableBase),
    whichever address space the CPU has loaded (w16f)."""
    lay = core.layout("EPROCESS")
    d = core.read(process, lay.size, f"EPROCESS {process:#x}")
    pml4 = lay.get(d, "DirectoryTableBase") & 0x000FFFFFFFFFF000
    if not pml4:
        raise NtError(f"process {process:#x} has no page tables")
    data = b""
    while size > 0:
        table, pa = pml4, None
        for shift in (39, 30, 21, 12):
            entry = core.phys_u64(table + ((va >> shift) & 0x1FF) * 8, what)
            if not entry & 1:
                raise NtError(f"{what}: {va:#x} is not resident in process {process:#x}")
            if shift == 12 or (shift in (30, 21) and entry & 0x80):
                frame = entry & 0x000FFFFFFFFFF000 & ~((1 << shift) - 1)
                pa = frame + (va & ((1 << shift) - 1))
                break
            table = entry & 0x000FFFFFFFFFF000
        n = min(size, 0x1000 - (va & 0xFFF))
        data += core.read_phys(pa, n, what)
        va, size = va + n, size - n
    return data


def _teb32(process: int, teb32: int) -> str:
    """The TEB32's first fields (NT x86's layout, kernel/include/ps.h), checked against its address."""
    try:
        t = _user_read(process, teb32, 0x38, f"the TEB32 at {teb32:#x}")
        far = _user_read(process, teb32 + 0xF70, 4, f"the TEB32 at {teb32:#x}")
    except NtError as e:
        return f"TEB32 {teb32:08x}: {e}"
    w = [int.from_bytes(t[i:i + 4], "little") for i in range(0, 0x38, 4)]
    line = (f"TEB32 {teb32:08x}: Self {w[6]:08x}  ExceptionList {w[0]:08x}  StackBase {w[1]:08x}  "
            f"StackLimit {w[2]:08x}  ClientId {w[8]}.{w[9]}  Peb32 {w[12]:08x}  "
            f"Teb64 {int.from_bytes(far, 'little'):08x}")
    if w[6] != teb32:
        line += f"  corrupt: Self is not the TEB32's own address {teb32:08x}"
    return line


def _context32(frame: int) -> str:
    fl = core.layout("KTRAP_FRAME")
    f = core.read(frame, fl.size, f"the trap frame {frame:#x}")
    cs = fl.get(f, "SegCs")
    if cs == 0x23:
        regs = " ".join(f"e{r[1:].lower()}={fl.get(f, r) & 0xFFFFFFFF:08x}"   # the 32-bit names
                        for r in ("Rax", "Rbx", "Rcx", "Rdx", "Rsi", "Rdi", "Rbp"))
        return (f"32-bit (CS 0x23): eip={fl.get(f, 'Rip') & 0xFFFFFFFF:08x} esp={fl.get(f, 'Rsp') & 0xFFFFFFFF:08x} "
                f"{regs} efl={fl.get(f, 'EFlags') & 0xFFFFFFFF:08x}")
    if cs == 0x33:
        return (f"in the 64-bit wow64 layer (CS 0x33): rip={fl.get(f, 'Rip'):016x} rsp={fl.get(f, 'Rsp'):016x} "
                f"(its 32-bit ESP is pushed at the top of the thread's 64-bit stack, TEB TlsSlots[0] at TEB+0x200)")
    if cs & 3:
        return f"corrupt: user CS {cs:#x} is neither 0x23 nor 0x33"
    return "not entered from user mode"


@command("wow64", "[ADDR]", "the WOW64 processes (32-bit PEB, address limit), or one process's threads with the "
         "32-bit context of each (compatibility mode, CS 0x23) and its TEB", "09")
def nt_wow64(arg: str) -> None:
    entries = _entries()
    if not arg.strip():
        if not entries:
            out("no WOW64 process")
        for p, peb32, limit in entries:
            out(f"WOW64 PROCESS {p:016x}  '{_name(p)}'  Peb32 {peb32:08x}  limit {limit:08x} "
                f"({'4 GiB, large-address aware' if limit > 0x7FFFFFFF else '2 GiB'})")
        return
    p = core.parse_number(arg)
    match = [e for e in entries if e[0] == p]
    if not match:
        raise NtError(f"{p:#x} is not a WOW64 process (nt wow64 lists them)")
    _, peb32, limit = match[0]
    out(f"WOW64 PROCESS {p:016x}  '{_name(p)}'  Peb32 {peb32:08x}  limit {limit:08x}")
    lay, el, tl = core.layout("EPROCESS"), core.layout("ETHREAD"), core.layout("KTHREAD")
    head = p + lay.offset("ThreadListHead")
    off = el.offset("ProcessThreadLink")
    e, n = core.u64(head, "the process's thread list"), 0
    while e != head:
        if not e or n >= 4096:
            raise NtError(f"corrupt: the thread list of {p:#x} does not come back to its head")
        t = e - off
        d = core.read(t, el.size, f"ETHREAD {t:#x}")
        tcb, teb = el.get(d, "Tcb"), el.get(d, "Teb")
        line = f"  THREAD {t:016x}  Teb64 {teb:x}"
        if tcb:
            k = core.read(tcb, tl.size, f"KTHREAD {tcb:#x}")
            state = tl.get(k, "State")
            teb32 = tl.get(k, "Teb32") if "Teb32" in tl.fields else 0
            if teb32:
                line += f"  Teb32 {teb32:08x}"   # the GDT 0x53 base while it runs (FS in compatibility mode)
            line += f"  {STATES[state] if state < len(STATES) else state}"
            frame = tl.get(k, "TrapFrame")
            out(line)
            if frame and state != 4:
                out("    " + _context32(frame))
            if teb32:
                out("    " + _teb32(p, teb32))
        else:
            out(line + "  (no KTHREAD yet)")
        e = core.u64(e, "a link of the thread list")
        n += 1
