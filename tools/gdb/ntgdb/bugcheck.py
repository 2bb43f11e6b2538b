"""bugcheck.py - nt bugcheck (the last STOP decoded, like !analyze -v) and nt attach (what
`make gdb` runs once connected: a machine halted after a STOP is shown, a fresh one is
run to KiSystemStartup).

The STOP comes from KiBugCheckData[0..4] (code, parameters) and KiBugCheckTrapFrame,
which KeBugCheckEx records before it prints (kernel/ke/stopdata.c).
"""
from __future__ import annotations

import gdb

from ntgdb import command, core, stack
from ntgdb.core import NtError, out

# code: (name, [meaning of P1..P4]); a meaning may be a dict of P1 sub-codes -> (title, [P2..P4]).
CODES = {
    0x09: ("IRQL_NOT_GREATER_OR_EQUAL", ["the IRQL that was required", "the IRQL at the time", "0", "the caller"]),
    0x0A: ("IRQL_NOT_LESS_OR_EQUAL", ["the address referenced", "the IRQL at the time",
                                      "0 read, 1 write, 8 execute", "the instruction that referenced it"]),
    0x19: ("BAD_POOL_HEADER", {0x20: ("a pool block header's size is corrupt",
                                      ["the pool block", "the next pool block", "(reserved)"])}),
    0x1E: ("KMODE_EXCEPTION_NOT_HANDLED", ["the exception code (NTSTATUS)", "the address of the exception",
                                           "exception parameter 0", "exception parameter 1"]),
    0x32: ("PHASE1_INITIALIZATION_FAILED", ["the status", "0", "0", "0"]),
    0x4E: ("PFN_LIST_CORRUPT", {0x99: ("a PTE or PFN is corrupt (e.g. a frame freed twice)",
                                       ["the frame number (PFN)", "its PageLocation", "its Reserved flag"])}),
    0x50: ("PAGE_FAULT_IN_NONPAGED_AREA", ["the address referenced", "0 read, 1 write, 10 execute",
                                           "the instruction that referenced it", "the page-fault error code"]),
    0x7F: ("UNEXPECTED_KERNEL_MODE_TRAP", ["the trap number", "the error code", "the instruction", "0"]),
    0xC2: ("BAD_POOL_CALLER", {
        0x07: ("a block freed twice", ["(reserved)", "the header's first 8 bytes", "the address freed"]),
        0x08: ("an allocation at too high an IRQL", ["the IRQL", "the pool type", "the size"]),
        0x09: ("a free at too high an IRQL", ["the IRQL", "the pool type", "the address"]),
        0x0A: ("a free with the wrong tag", ["the address", "the allocator's tag", "the tag given"]),
    }),
    0xE2: ("MANUALLY_INITIATED_CRASH", ["(the caller's)", "(the caller's)", "(the caller's)", "(the caller's)"]),
}
STATUS = {0xC0000005: "STATUS_ACCESS_VIOLATION", 0xC0000094: "STATUS_INTEGER_DIVIDE_BY_ZERO",
          0xC000001D: "STATUS_ILLEGAL_INSTRUCTION", 0x80000003: "STATUS_BREAKPOINT"}


def _tick(v: int) -> str:
    return f"{v >> 32:08x}`{v & 0xFFFFFFFF:08x}"


def _describe(value: int, meaning: str) -> str:
    extra = ""
    if "instruction" in meaning or "address of the exception" in meaning or meaning == "the caller":
        site = core.symbolize(value)
        line = core.source_line(value)
        if site != "?":
            extra = f"  = {site}" + (f" [{line}]" if line else "")
    elif "tag" in meaning:
        extra = f"  = '{core.tag_text(value & 0xFFFFFFFF)}'"
    elif "NTSTATUS" in meaning and value & 0xFFFFFFFF in STATUS:
        extra = f"  = {STATUS[value & 0xFFFFFFFF]}"
    return f"{value:#x}: {meaning}{extra}"


def bugcheck_data() -> tuple[list[int], int]:
    addr = core.symbol_address("KiBugCheckData")
    data = core.read(addr, 40, "KiBugCheckData")
    values = [int.from_bytes(data[i * 8:i * 8 + 8], "little") for i in range(5)]
    trap = core.variable_u64("KiBugCheckTrapFrame")
    return values, trap


@command("bugcheck", "", "the last STOP: code, parameters decoded, the trap frame and the stack (!analyze)", "00")
def bugcheck(arg: str) -> None:
    warning = core.image_mismatch()
    if warning:
        out(warning)
    values, trap = bugcheck_data()
    code = values[0] & 0xFFFFFFFF
    if code == 0:
        out("No STOP has happened (KiBugCheckData is empty).")
        return
    name, meanings = CODES.get(code, ("UNKNOWN_BUGCHECK_CODE", ["?", "?", "?", "?"]))
    params = values[1:]
    out(f"Bugcheck code {code:08x} ({name})")
    out(f"Arguments {' '.join(_tick(p) for p in params)}")
    if isinstance(meanings, dict):
        sub = meanings.get(params[0])
        if sub is None:
            out(f"  P1 {params[0]:#x}: a sub-code this kernel does not document")
        else:
            out(f"  P1 {params[0]:#x}: {sub[0]}")
            for i, m in enumerate(sub[1], 2):
                out(f"  P{i} {_describe(params[i - 1], m)}")
    else:
        for i, m in enumerate(meanings, 1):
            out(f"  P{i} {_describe(params[i - 1], m)}")
    if trap:
        try:
            tf = stack.read_trap_frame(trap)
        except NtError as e:
            out(f"Trap frame at {trap:016x}: {e}")
            trap = 0
        else:
            out(f"Trap frame at {trap:016x}: vector {tf['Vector']}, error code {tf['ErrorCode']:#x}")
            out(f"  rip {tf['Rip']:016x} rsp {tf['Rsp']:016x} rbp {tf['Rbp']:016x} "
                f"at {core.symbolize(tf['Rip'])} [{core.source_line(tf['Rip']) or '?'}]")
            out("Stack of the code that trapped:")
            stack.print_stack(tf["Rip"], tf["Rbp"])
            return
    try:
        pc, rbp, rsp = stack.current_registers()
    except gdb.error:
        return
    out("Stack (from the current registers):")
    stack.print_stack(pc, rbp, rsp)


def halted_after_stop() -> bool:
    """True if a STOP is recorded and the CPU is in the kernel (paging on), not at reset."""
    try:
        if core.target_kind() == "remote" and not int(gdb.parse_and_eval("$cr0")) & 0x80000000:
            return False
        values, _trap = bugcheck_data()
    except (NtError, gdb.error):
        return False
    return values[0] != 0


def _select_trapping_frame() -> None:
    """Select GDB's frame of the code that trapped (so `info locals`, `up` work from there)."""
    try:
        _values, trap = bugcheck_data()
        if not trap:
            return
        rip = stack.read_trap_frame(trap)["Rip"]
        frame, level = gdb.newest_frame(), 0
        while frame is not None and level < 64:
            if frame.pc() == rip:
                frame.select()
                out(f"Selected frame #{level}, the code that trapped (`frame`, `info locals`, `up`).")
                return
            frame, level = frame.older(), level + 1
    except (NtError, gdb.error):
        return


@command("attach", "", "after `target remote`: show a STOP the machine is halted in, or run to KiSystemStartup", "00")
def attach(arg: str) -> None:
    warning = core.image_mismatch() if halted_after_stop() else None
    if warning:
        out(warning)
    if halted_after_stop():
        out("The kernel is halted after a STOP (NTLAB_ON_STOP=halt). `bt` and every nt command work; "
            "`kill` or quitting QEMU ends it.")
        bugcheck("")
        _select_trapping_frame()
        return
    try:
        paging = core.target_kind() == "remote" and int(gdb.parse_and_eval("$cr0")) & 0x80000000
    except gdb.error:
        paging = False
    if paging:
        pc = int(gdb.selected_frame().pc())
        out(f"The kernel is already running (stopped at {core.symbolize(pc)}): set breakpoints, then `continue`.")
        return
    out("Fresh machine: hardware breakpoint at KiSystemStartup (GRUB loads the kernel after GDB attaches).")
    gdb.execute("hbreak KiSystemStartup")
    gdb.execute("continue")
