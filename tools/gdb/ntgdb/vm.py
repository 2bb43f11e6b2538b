"""vm.py - lab 08 virtual-memory commands: nt vad, and the decoding of invalid user PTEs
that nt pte prints (demand zero, decommitted, pagefile, transition, prototype).

The VAD tree is read from the process's MMADDRESS_SPACE (EPROCESS.AddressSpace) through
the debug information, in a bounded walk that reports a corrupt tree (a cycle, a wrong
Parent, a Balance that does not match the heights) instead of looping.
"""
from __future__ import annotations

from ntgdb import command, core
from ntgdb.core import NtError, out

MM_NAMES = ["NOACCESS0", "READONLY", "EXECUTE", "EXECUTE_READ", "READWRITE", "WRITECOPY", "EXECUTE_READWRITE",
            "EXECUTE_WRITECOPY"]
VAD_TYPES = {0: "private", 2: "image", 8: "mapped"}
MAX_VADS = 100000


def protection_name(p: int) -> str:
    """An MM_* protection code (mi.h) by name."""
    if p == 0x18:
        return "NOACCESS"
    if p == 0x10:
        return "DECOMMIT"
    name = MM_NAMES[p & 7]
    if p & 0x8:
        name += "|NOCACHE"
    if p & 0x10:
        name += "|GUARD"
    return name


def invalid_pte(entry: int) -> str:
    """What an invalid (Valid 0) user PTE means, by the formats of kernel/mm/mi.h."""
    if entry == 0:
        return "zero: ask the VAD (committed if the VAD has MemCommit, else reserved or free)"
    if entry >> 10 & 1:
        proto = entry >> 16
        if proto >> 47:
            proto |= 0xFFFF << 48
        prot = entry >> 11 & 0x1F
        how = f"protection {protection_name(prot)}" if prot else "the prototype's protection"
        return f"prototype: the section's prototype PTE at {proto:016x}, {how}"
    prot = entry >> 5 & 0x1F
    if entry >> 11 & 1:
        return f"transition: frame {(entry >> 12) & 0xFFFFFFFFFF:x} still in memory (standby/modified), " \
               f"protection {protection_name(prot)}"
    high = entry >> 32
    if high:
        return f"in the pagefile: slot {high - 1:#x}, protection {protection_name(prot)}"
    if prot == 0x10:
        return "decommitted: reserved again (MM_DECOMMIT)"
    return f"demand zero: committed, protection {protection_name(prot)}, a zeroed frame on the first touch"


def valid_pte_note(entry: int, va: int) -> str:
    """The MM protection code a valid user PTE keeps in bits 52-56."""
    if va >> 47:
        return ""
    return f"  (kept protection {protection_name(entry >> 52 & 0x1F)})"


def _process_space(arg: str) -> tuple[int, int]:
    from ntgdb import ob
    process = core.parse_number(arg, "EPROCESS address") if arg else ob.current_process()
    if not process:
        raise NtError("no process: PsInitialSystemProcess is NULL")
    el = core.layout("EPROCESS")
    space = core.u64(process + el.offset("AddressSpace"), "EPROCESS.AddressSpace")
    if not space:
        raise NtError(f"process {process:016x} has no user address space (the system process runs on the kernel's "
                      f"tables)")
    return process, space


@command("vad", "[EPROCESS]", "the VAD tree of a process (default: the current one), in address order, audited (!vad)",
         "08")
def nt_vad(arg: str) -> None:
    process, space = _process_space(arg)
    sl, tl, vl = core.layout("MMADDRESS_SPACE"), core.layout("MM_AVL_TABLE"), core.layout("MMVAD")
    sd = core.read(space, sl.size, f"the MMADDRESS_SPACE at {space:#x}")
    troot = sl.offset("VadRoot")
    root = tl.get(sd, "Root", troot)
    count = tl.get(sd, "NumberGenericTableElements", troot)
    out(f"Process {process:016x}  address space {space:016x}  PML4 frame {sl.get(sd, 'Pml4Pfn'):x}")
    out(f"  {count} VADs; virtual bytes {sl.get(sd, 'VirtualSize'):#x}, private bytes "
        f"{sl.get(sd, 'CommitCharge') * 4096:#x}, page tables {sl.get(sd, 'PageTablePages')}")
    out(f"  {'VAD':16}  {'level':>5}  {'start':>12}  {'end':>12}  {'bal':>3}  {'commit':>6}  type     protection")
    problems, rows, seen = [], [], set()

    def visit(node: int, parent: int, depth: int) -> int:
        if not node:
            return 0
        if node in seen or len(seen) >= MAX_VADS:
            problems.append(f"VAD {node:016x} reached twice (a cycle)")
            return 0
        seen.add(node)
        d = core.read(node, vl.size, f"the MMVAD at {node:#x}")
        if vl.get(d, "Parent") != parent:
            problems.append(f"VAD {node:016x} has Parent {vl.get(d, 'Parent'):016x}, expected {parent:016x}")
        hl = visit(vl.get(d, "LeftChild"), node, depth + 1)
        flags = int.from_bytes(d[vl.offset("u"):vl.offset("u") + 4], "little")
        start, end, bal = vl.get(d, "StartingVpn"), vl.get(d, "EndingVpn"), vl.signed(d, "Balance")
        memc = " MemCommit" if flags >> 6 & 1 else ""
        rows.append(f"  {node:016x}  {depth:5}  {start << 12:12x}  {(end << 12) | 0xFFF:12x}  {bal:3}  "
                    f"{vl.get(d, 'CommitCharge'):6}  {VAD_TYPES.get(flags >> 7 & 0xF, '?'):8} "
                    f"{protection_name(flags & 0x1F)}{memc}")
        hr = visit(vl.get(d, "RightChild"), node, depth + 1)
        if bal != hr - hl or abs(hr - hl) > 1:
            problems.append(f"VAD {node:016x} [{start:x}-{end:x}] has Balance {bal}, heights left {hl} right {hr}")
        return 1 + max(hl, hr)

    height = visit(root, 0, 1)
    for r in rows:
        out(r)
    out(f"  height {height}")
    if len(seen) != count:
        problems.append(f"{len(seen)} VADs reachable, NumberGenericTableElements says {count}")
    for p in problems:
        out(f"    corrupt: {p}")
