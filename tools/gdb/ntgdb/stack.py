"""stack.py - nt stack (lab 00): the frame-pointer walk with file:line, across trap frames;
and a GDB unwinder so that GDB's own `bt` also continues through a trap frame
(KiTrapCommon, trap.asm, has no unwind information) into the code that trapped.

The walk is the one the lab 00 contract describes: frame 0 is the PC; then, at each
frame pointer RBP inside the stack, [RBP+8] is the return address and [RBP] the next
frame pointer, which must be higher. A return address into KiTrapCommon means a
KTRAP_FRAME lies at RBP+16: the walk goes on from its RIP and RBP.
"""
from __future__ import annotations

import os

import gdb
import gdb.unwinder

from ntgdb import command, core
from ntgdb.core import NtError, out

MAX_FRAMES = 64
VECTORS = {0: "divide error", 1: "debug", 2: "NMI", 3: "breakpoint", 6: "invalid opcode",
           8: "double fault", 13: "general protection", 14: "page fault"}


def _range(name: str) -> tuple[int, int] | None:
    start = core.symbol_address(name, required=False)
    if start is None:
        return None
    try:
        end = int(gdb.parse_and_eval(f"(unsigned long long)&{name} + sizeof({name})"))
    except gdb.error:
        return (start, start + 1)
    return (start, end)


def stacks() -> list[tuple[str, int, int]]:
    """The kernel's stacks, (name, low, high), from every provider in STACK_PROVIDERS."""
    found = []
    for provider in STACK_PROVIDERS:
        try:
            found += provider()
        except NtError:
            continue
    return found


def boot_stacks() -> list[tuple[str, int, int]]:
    """The boot stack and the double-fault stack (kernel/ke/stack.c)."""
    found = []
    low = core.symbol_address("KiBootStack", required=False)
    high = core.symbol_address("KiBootStackTop", required=False)
    if low is not None and high is not None:
        found.append(("boot stack", low, high))
    low = core.symbol_address("KiDoubleFaultStack", required=False)
    top_ptr = core.symbol_address("KiDoubleFaultStackTop", required=False)
    if low is not None and top_ptr is not None:
        try:
            found.append(("double-fault stack", low, core.u64(top_ptr)))
        except NtError:
            pass
    return found


# Functions returning [(name, low, high)]: the stacks a frame pointer may lie in. A later lab's
# module appends its own (e.g. every KTHREAD's kernel stack) with STACK_PROVIDERS.append(f).
STACK_PROVIDERS = [boot_stacks]


def stack_of(address: int) -> tuple[str, int, int] | None:
    for s in stacks():
        if s[1] <= address < s[2]:
            return s
    return None


_trap_range = core.cache()


def _elf_symbol_size(name: str) -> int | None:
    """The size of a symbol in the kernel ELF's symbol table (pyelftools, if present)."""
    try:
        from elftools.elf.elffile import ELFFile
        path = gdb.objfiles()[0].filename
        with open(path, "rb") as f:
            symtab = ELFFile(f).get_section_by_name(".symtab")
            for sym in symtab.get_symbol_by_name(name) or []:
                return sym["st_size"] or None
    except Exception:
        return None
    return None


def trap_common_range() -> tuple[int, int] | None:
    """[start, end) of KiTrapCommon (trap.asm gives the symbol its size)."""
    if "r" not in _trap_range:
        start = core.symbol_address("KiTrapCommon", required=False)
        if start is None:
            _trap_range["r"] = None
        else:
            _trap_range["r"] = (start, start + (_elf_symbol_size("KiTrapCommon") or 0x80))
    return _trap_range["r"]


def in_trap_common(pc: int) -> bool:
    r = trap_common_range()
    return r is not None and r[0] <= pc < r[1]


def read_trap_frame(address: int) -> dict:
    lay = core.layout("KTRAP_FRAME")
    data = core.read(address, lay.size, "the trap frame")
    return {f: lay.get(data, f) for f in lay.fields}


def _function_start(pc: int) -> int | None:
    """The start of the (non-inline) function holding pc, from the ELF symbol table."""
    site = core.symbolize(pc)
    if site == "?":
        return None
    return pc - int(site.split("+")[1], 16)


def walk(pc: int, rbp: int, rsp: int | None = None):
    """Yields ('frame', frame pointer, pc, is_return_address), ('trap', address, frame dict)
    and ('stop', reason) items."""
    frames = 0
    is_ret = False
    # At the first instructions of a function its frame is not built yet: the return
    # address is at RSP (or RSP+8 after `push rbp`) and RBP is still the caller's.
    start = _function_start(pc)
    if rsp is not None and start is not None and pc in (start, start + 1):
        yield ("frame", rbp, pc, False)
        frames += 1
        pc, is_ret = core.u64(rsp + (8 if pc == start + 1 else 0), "the return address"), True
    yield ("frame", rbp, pc, is_ret)
    frames += 1
    while frames < MAX_FRAMES:
        if rbp == 0:
            yield ("stop", "")
            return
        where = stack_of(rbp)
        if where is None:
            yield ("stop", f"frame pointer {rbp:#018x} is not inside a kernel stack: the walk stops "
                           f"(a corrupt RBP, or a frame without one)")
            return
        if rbp & 7 or rbp + 16 > where[2]:
            yield ("stop", f"frame pointer {rbp:#018x} is misaligned or at the top of the {where[0]}")
            return
        ret = core.u64(rbp + 8, "a return address")
        nxt = core.u64(rbp, "a saved frame pointer")
        if ret == 0:
            yield ("stop", "")
            return
        yield ("frame", nxt, ret, True)
        frames += 1
        if in_trap_common(ret):
            # KiTrapCommon called KiDispatchTrap with RSP = the KTRAP_FRAME, right above
            # the return address: the frame continues in the code that trapped.
            trap = rbp + 16
            try:
                tf = read_trap_frame(trap)
            except NtError as e:
                yield ("stop", str(e))
                return
            yield ("trap", trap, tf)
            rbp = tf["Rbp"]
            yield ("frame", rbp, tf["Rip"], False)
            frames += 1
            continue
        if nxt != 0 and nxt <= rbp:
            yield ("stop", f"the saved frame pointer {nxt:#018x} is below {rbp:#018x}: the chain is corrupt")
            return
        rbp = nxt
    yield ("stop", f"more than {MAX_FRAMES} frames: stopped")


def print_stack(pc: int, rbp: int, rsp: int | None = None) -> list[str]:
    """Prints the walk; returns the function names in order (for callers)."""
    out(" # FramePtr          Pc/RetAddr        Call Site")
    names = []
    n = 0
    for item in walk(pc, rbp, rsp):
        if item[0] == "frame":
            _k, fp, addr, is_ret = item
            probe = addr - 1 if is_ret else addr
            site = core.symbolize(probe)
            if site != "?" and is_ret:
                name, off = site.split("+")
                site = f"{name}+{int(off, 16) + 1:#x}"
            line = core.source_line(probe)
            names.append(site.split("+")[0])
            out(f"{n:02x} {fp:016x}  {addr:016x}  {site}" + (f"  [{line}]" if line else ""))
            n += 1
        elif item[0] == "trap":
            _k, addr, tf = item
            vec = tf["Vector"]
            out(f"   --- trap frame at {addr:016x}: vector {vec} ({VECTORS.get(vec, 'interrupt' if vec >= 32 else 'exception')}), "
                f"error code {tf['ErrorCode']:#x}, rip {tf['Rip']:016x} rsp {tf['Rsp']:016x} rbp {tf['Rbp']:016x} ---")
        elif item[0] == "stop" and item[1]:
            out(f"   ({item[1]})")
    return names


def current_registers():
    frame = gdb.selected_frame()
    return tuple(int(frame.read_register(r)) & 0xFFFFFFFFFFFFFFFF for r in ("rip", "rbp", "rsp"))


@command("stack", "[RBP [RIP]]", "the frame-pointer walk of the current stack with file:line, across trap frames (k)", "00")
def stack(arg: str) -> None:
    args = core.split_args(arg)
    try:
        pc, rbp, rsp = current_registers()
    except gdb.error as e:
        raise NtError(f"no registers: {e} (is GDB attached to the kernel or a dump?)") from None
    if args:
        rbp, rsp = core.parse_number(args[0], "frame pointer"), None
        if len(args) > 1:
            pc = core.parse_number(args[1], "instruction pointer")
        else:
            pc = core.u64(rbp + 8, "the return address")
            rbp = core.u64(rbp, "the saved frame pointer")
    print_stack(pc, rbp, rsp)


# ---------------------------------------------------------------- GDB's own bt through trap frames

class _FrameId:
    def __init__(self, sp, pc):
        self.sp, self.pc = sp, pc


class TrapFrameUnwinder(gdb.unwinder.Unwinder):
    """For a frame in KiTrapCommon (just after `call KiDispatchTrap`), the caller is the
    interrupted code: its registers are in the KTRAP_FRAME at the frame's RSP."""

    def __init__(self):
        super().__init__("ntlab trap frame")

    def __call__(self, pending_frame):
        try:
            pc = int(pending_frame.read_register("rip"))
            r = trap_common_range()
            if r is None or not r[0] <= pc < r[1]:
                return None
            sp = int(pending_frame.read_register("rsp"))
            tf = read_trap_frame(sp)
            lay = core.layout("KTRAP_FRAME")
            ptr = gdb.lookup_type("unsigned long long")
            info = pending_frame.create_unwind_info(_FrameId(gdb.Value(sp + lay.size).cast(ptr),
                                                             gdb.Value(r[0]).cast(ptr)))
            for reg in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11",
                        "r12", "r13", "r14", "r15", "rip", "rsp"):
                value = tf.get(reg.capitalize())
                if value is None:
                    continue
                t = pending_frame.read_register(reg).type
                info.add_saved_register(reg, gdb.Value(value).cast(t))
            return info
        except Exception as e:  # never break GDB's unwinding
            if os.environ.get("NTGDB_DEBUG"):
                gdb.write(f"ntlab trap-frame unwinder: {type(e).__name__}: {e}\n")
            return None


def _install_unwinder():
    try:
        gdb.unwinder.register_unwinder(None, TrapFrameUnwinder(), replace=True)
    except Exception:
        pass


_install_unwinder()
