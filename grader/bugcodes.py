"""Decode a STOP line's parameters P1..P4 for every bugcheck code the course raises, as
WinDbg's !analyze does: subcodes by name (BAD_POOL_CALLER_DOUBLE_FREE...), IRQLs, pool
types, page-list names, NTSTATUS names, fault access and error-code bits, and code
addresses with their source line.

Codes and subcodes are read from kernel/include/bugcodes.h (and NTSTATUS values from
ntdef.h), so the decoder follows the kernel; only the meaning of each parameter is here.
"""
from __future__ import annotations

import os
import re

from grader.selection import ROOT

_DEFINE_RE = re.compile(r"^#define\s+([A-Z0-9_]+)\s+(?:\(\(NTSTATUS\))?(0x[0-9A-Fa-f]+)L?\)?\s*(?:/\*\s*(.*?)\s*\*/)?")
_CONST: dict[str, tuple[str, str]] = {}

IRQLS = {0: "PASSIVE_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 15: "HIGH_LEVEL"}
POOL_TYPES = {0: "NonPagedPool", 1: "PagedPool"}
PAGE_LISTS = {0: "ZeroedPageList", 1: "FreePageList", 2: "StandbyPageList", 3: "ModifiedPageList",
              4: "ModifiedNoWritePageList", 5: "BadPageList", 6: "ActiveAndValid", 7: "TransitionPage"}
VECTORS = {0: "#DE divide error", 1: "#DB debug", 2: "NMI", 3: "#BP breakpoint", 4: "#OF overflow",
           5: "#BR bound range", 6: "#UD invalid opcode", 7: "#NM device not available", 8: "#DF double fault",
           10: "#TS invalid TSS", 11: "#NP segment not present", 12: "#SS stack fault",
           13: "#GP general protection", 14: "#PF page fault", 16: "#MF x87 error", 17: "#AC alignment check",
           18: "#MC machine check", 19: "#XM SIMD exception"}
ALL_ONES = (1 << 64) - 1


def constants(root: str = ROOT) -> dict[str, tuple[str, str]]:
    """NAME -> (value as hex text, trailing comment) from bugcodes.h and ntdef.h."""
    if not _CONST:
        for header in ("bugcodes.h", "ntdef.h"):
            try:
                with open(os.path.join(root, "kernel", "include", header), encoding="utf-8") as f:
                    for line in f:
                        m = _DEFINE_RE.match(line.strip())
                        if m:
                            _CONST[m.group(1)] = (m.group(2), m.group(3) or "")
            except OSError:
                pass
    return _CONST


def _value(name: str, root: str = ROOT) -> int | None:
    c = constants(root).get(name)
    return int(c[0], 16) if c else None


def _named(prefix: str, value: int, root: str = ROOT) -> str | None:
    """The constant NAME with this prefix and value (e.g. BAD_POOL_CALLER_ + 7)."""
    for name, (text, _c) in constants(root).items():
        if name.startswith(prefix) and int(text, 16) == value:
            return name
    return None


def subcode_name(code: int, p1: int, root: str = ROOT) -> str | None:
    """The name of P1 for codes whose P1 is a subcode (BAD_POOL_CALLER_DOUBLE_FREE...)."""
    for base in ("BAD_POOL_CALLER", "BAD_POOL_HEADER", "PFN_LIST_CORRUPT"):
        if code == _value(base, root):
            return _named(base + "_", p1, root)
    return None


def status_name(value: int, root: str = ROOT) -> str:
    v = value & 0xFFFFFFFF
    return _named("STATUS_", v, root) or f"NTSTATUS 0x{v:08X}"


def _pool_type(v: int) -> str:
    return f"{v} ({POOL_TYPES[v]})" if v in POOL_TYPES else f"0x{v:X} (not a pool type)"


def _irql(v: int) -> str:
    return f"IRQL {v} ({IRQLS[v]})" if v in IRQLS else f"IRQL {v}"


def _tag(v: int) -> str:
    raw = (v & 0xFFFFFFFF).to_bytes(4, "little")
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in raw)
    return f"0x{v & 0xFFFFFFFF:08X} ('{text}')"


def _code(v: int, where) -> str:
    loc = where(v) if where else None
    return f"0x{v:016X}" + (f" = {loc}" if loc else "")


def decode(code: int, params: list[int], *, where=None, root: str = ROOT) -> list[str]:
    """Lines explaining P1..P4 of a STOP. where(address) -> 'Func+0x12 (file.c:34)' or None
    names code addresses (a trap's RIP)."""
    p = list(params) + [0] * (4 - len(params))
    c = lambda n: _value(n, root)          # noqa: E731
    out: list[str] = []
    if code == c("BAD_POOL_CALLER"):
        sub = _named("BAD_POOL_CALLER_", p[0], root)
        if sub == "BAD_POOL_CALLER_DOUBLE_FREE":
            out += [f"P1 0x{p[0]:X} {sub}: the block was already free (or never allocated) when it was freed",
                    f"P3 0x{p[2]:016X}: the first 8 bytes of its POOL_HEADER",
                    f"P4 0x{p[3]:016X}: the address freed"]
        elif sub == "BAD_POOL_CALLER_ALLOCATE_IRQL":
            out += [f"P1 0x{p[0]:X} {sub}: allocation at an IRQL too high for the pool type",
                    f"P2 {_irql(p[1])}: the caller's IRQL",
                    f"P3 {_pool_type(p[2])}: the pool type",
                    f"P4 {p[3]}: the number of bytes asked for"]
        elif sub == "BAD_POOL_CALLER_FREE_IRQL":
            out += [f"P1 0x{p[0]:X} {sub}: free at an IRQL too high for the pool type",
                    f"P2 {_irql(p[1])}: the caller's IRQL",
                    f"P3 {_pool_type(p[2])}: the pool type",
                    f"P4 0x{p[3]:016X}: the address freed"]
        elif sub == "BAD_POOL_CALLER_WRONG_TAG":
            out += [f"P1 0x{p[0]:X} {sub}: freed with a tag other than the allocator's",
                    f"P2 0x{p[1]:016X}: the address freed",
                    f"P3 {_tag(p[2])}: the allocator's tag",
                    f"P4 {_tag(p[3])}: the tag given to the free"]
        else:
            out.append(f"P1 0x{p[0]:X}: not a BAD_POOL_CALLER subcode this kernel uses "
                       f"(see kernel/include/bugcodes.h)")
    elif code == c("BAD_POOL_HEADER"):
        sub = _named("BAD_POOL_HEADER_", p[0], root)
        if sub:
            out += [f"P1 0x{p[0]:X} {sub}: a block's size and its neighbour's PreviousSize disagree",
                    f"P2 0x{p[1]:016X}: the block being freed (its POOL_HEADER)",
                    f"P3 0x{p[2]:016X}: the neighbour whose header disagrees"]
        else:
            out.append(f"P1 0x{p[0]:X}: not a BAD_POOL_HEADER subcode this kernel uses")
    elif code == c("PFN_LIST_CORRUPT"):
        sub = _named("PFN_LIST_CORRUPT_", p[0], root)
        if sub:
            loc = ("~0: the frame is above MmHighestPhysicalPage" if p[2] == ALL_ONES
                   else f"{p[2]} ({PAGE_LISTS.get(p[2], '?')})")
            out += [f"P1 0x{p[0]:X} {sub}: a frame that is not in use was freed (a double free, a reserved "
                    f"frame, or a frame beyond the database)",
                    f"P2 0x{p[1]:X}: the page frame number (physical address 0x{(p[1] << 12) & ALL_ONES:X})",
                    f"P3 {loc}: its PageLocation",
                    "P4 " + ("~0: above the database" if p[3] == ALL_ONES else f"{p[3]}: its Reserved flag")]
        else:
            out.append(f"P1 0x{p[0]:X}: not a PFN_LIST_CORRUPT subcode this kernel uses")
    elif code == c("PAGE_FAULT_IN_NONPAGED_AREA"):
        access = {0: "a read", 1: "a write", 10: "an instruction fetch"}.get(p[1], f"access {p[1]}")
        bits = [n for b, n in ((1, "present"), (2, "write"), (4, "user"), (8, "reserved bit"),
                               (16, "instruction fetch")) if p[3] & b]
        out += [f"P1 0x{p[0]:016X}: the address referenced (CR2)",
                f"P2 {p[1]}: {access}",
                f"P3 {_code(p[2], where)}: the faulting instruction (RIP)",
                f"P4 0x{p[3]:X}: the page-fault error code ({', '.join(bits) if bits else 'read'})"
                + ("; not present: no valid PTE maps that address" if not p[3] & 1 else
                   "; present: the PTE forbids this access")]
    elif code == c("KMODE_EXCEPTION_NOT_HANDLED"):
        out += [f"P1 0x{p[0] & 0xFFFFFFFF:08X} ({status_name(p[0], root)}): the exception",
                f"P2 {_code(p[1], where)}: the faulting instruction (RIP)"]
        if p[0] & 0xFFFFFFFF == (c("STATUS_ACCESS_VIOLATION") or -1):
            out.append(f"P3 0x{p[2]:X}: the #GP error code (0: a non-canonical address or a privileged operation)")
    elif code == c("UNEXPECTED_KERNEL_MODE_TRAP"):
        out += [f"P1 {p[0]} ({VECTORS.get(p[0], 'vector')}): the trap vector",
                f"P2 0x{p[1]:X}: its error code", f"P3 {_code(p[2], where)}: the faulting instruction (RIP)"]
    elif code == c("IRQL_NOT_LESS_OR_EQUAL") and p[3] == 1:
        out += ["a wait that could block, at DISPATCH_LEVEL or above (only a zero timeout may be used there):",
                f"P1 {_irql(p[0])}: the caller's IRQL", f"P2 {_irql(p[1])}: the highest IRQL a blocking wait allows",
                f"P3 0x{p[2]:016X}: the first object waited on (0: a delay)", "P4 1: a wait"]
    elif code in (c("IRQL_NOT_GREATER_OR_EQUAL"), c("IRQL_NOT_LESS_OR_EQUAL")):
        verb = "KeRaiseIrql to a lower IRQL" if code == c("IRQL_NOT_GREATER_OR_EQUAL") else \
            "KeLowerIrql to a higher IRQL"
        out += [f"{verb}:", f"P1 {_irql(p[0])}: the current IRQL", f"P2 {_irql(p[1])}: the IRQL asked for"]
    elif code == c("APC_INDEX_MISMATCH"):
        out += [f"P1 0x{p[0]:X}: the system service number that returned to user mode",
                f"P2 {p[1]}: " + ("the thread was still attached to another process (KeStackAttachProcess "
                                  "without KeUnstackDetachProcess)" if p[1] == 1 else "the APC state the service left")]
    elif code == c("IRQL_GT_ZERO_AT_SYSTEM_SERVICE"):
        out += [f"P1 0x{p[0]:X}: the system service number that returned to user mode",
                f"P2 {_irql(p[1])}: the IRQL it returned at (a service must give back PASSIVE_LEVEL)"]
    elif code == c("PHASE1_INITIALIZATION_FAILED"):
        out.append(f"P1 0x{p[0] & 0xFFFFFFFF:08X} ({status_name(p[0], root)}): the status that stopped the boot")
    elif code == c("MANUALLY_INITIATED_CRASH"):
        out.append("P1..P4: the values the test passed to KeBugCheckEx")
    elif code == c("SPIN_LOCK_ALREADY_OWNED"):
        out += [f"P1 0x{p[0]:016X}: the spin lock, acquired by the processor that already owns it",
                f"P2 0x{p[1]:016X}: its lock word (who holds it)"]
    elif code == c("SPIN_LOCK_NOT_OWNED"):
        out += [f"P1 0x{p[0]:016X}: the spin lock, released by a caller that does not hold it",
                f"P2 0x{p[1]:016X}: its lock word"]
    elif code == c("TRAP_CAUSE_UNKNOWN"):
        out += [f"P1 0x{p[0]:X}: the interrupt vector, which has no connected interrupt object",
                f"P2 {_irql(p[1])}: the IRQL it interrupted",
                f"P3 0x{p[2]:016X}: the interrupted instruction" + (f" {where(p[2])}" if where and where(p[2]) else "")]
    elif code == c("INVALID_SOFTWARE_INTERRUPT"):
        out.append(f"P1 {_irql(p[0])}: a software interrupt was requested at this level (only APC and DISPATCH exist)")
    elif code == c("ATTEMPTED_SWITCH_FROM_DPC"):
        out.append(f"P1 0x{p[0]:016X}: the thread (a terminated thread was switched to again)")
    elif code == c("MAXIMUM_WAIT_OBJECTS_EXCEEDED"):
        out.append(f"P1 {p[0]}: the object count of a wait (more than MAXIMUM_WAIT_OBJECTS, or more than "
                   f"THREAD_WAIT_OBJECTS without a wait block array)")
    elif code == c("THREAD_NOT_MUTEX_OWNER"):
        out += [f"P1 0x{p[0]:016X}: the thread releasing the mutex", f"P2 0x{p[1]:016X}: the mutex",
                f"P3 0x{p[2]:016X}: its owner"]
    elif code == c("RESOURCE_NOT_OWNED"):  # lab 05
        out += [f"P1 0x{p[0]:016X}: the ERESOURCE being released",
                f"P2 0x{p[1]:016X}: the thread releasing it, which does not own it"]
    elif code == c("WORKER_RETURNED_AT_BAD_IRQL"):  # lab 05
        out += [f"P1 {_code(p[0], where)}: the work routine", f"P2 {p[1]}: the IRQL it returned at (0 expected)",
                f"P3 0x{p[2]:016X}: the WORK_QUEUE_ITEM", f"P4 0x{p[3]:016X}: its parameter"]
    elif code == c("REFERENCE_BY_POINTER"):  # lab 06
        out += [f"P1 0x{p[0]:016X}: the object's type", f"P2 0x{p[1]:016X}: the object (its body)",
                f"P3 {p[2] - (1 << 64) if p[2] >> 63 else p[2]}: its PointerCount before the dereference",
                f"P4 {p[3]}: its HandleCount (every handle holds a pointer reference: PointerCount >= HandleCount)"]
    elif code == c("INVALID_KERNEL_HANDLE"):  # lab 06
        out += [f"P1 0x{p[0]:016X}: the kernel handle kernel mode closed",
                "P2 " + ("1: it names no entry in use in the system process's table" if p[1] == 1
                         else "0: it is protected from close")]
    # lab 07: the I/O manager
    elif code == c("NO_MORE_IRP_STACK_LOCATIONS"):
        out.append(f"P1 0x{p[0]:016X}: the IRP: IoCallDriver found no stack location left for the driver "
                   f"(the IRP was allocated with fewer locations than the device's StackSize)")
    elif code == c("MULTIPLE_IRP_COMPLETE_REQUESTS"):
        loc = p[1] - (1 << 64) if p[1] >> 63 else p[1]
        out += [f"P1 0x{p[0]:016X}: the IRP, completed while no driver held it (completed twice, or freed)",
                f"P2 {loc}: its CurrentLocation (StackCount + 1: the completion had run off the top already)"]
    elif code == c("CANCEL_STATE_IN_COMPLETED_IRP"):
        out += [f"P1 0x{p[0]:016X}: the IRP, completed with its cancel routine still set",
                f"P2 0x{p[1]:016X}: the cancel routine" + (f" {where(p[1])}" if where and where(p[1]) else "")
                + " (take it back with IoSetCancelRoutine(Irp, NULL) before completing)"]
    elif code == c("HAL_INITIALIZATION_FAILED"):
        out.append("the HAL could not set up the interrupt controller or the clock (see the lines before the STOP)")
    return out


def signed_note(text: str) -> str:
    """Append the signed value to every decimal in text that is a negative 64-bit number
    printed unsigned (18446744073709550977 -> '18446744073709550977 (= -639)'): a counter
    below zero means more was taken off than was ever added."""
    def fix(m):
        v = int(m.group(0))
        if (1 << 63) <= v < (1 << 64):
            return f"{m.group(0)} (= {v - (1 << 64)})"
        return m.group(0)
    return re.sub(r"(?<![0-9A-Za-z_])\d{19,20}(?![0-9])", fix, text)
