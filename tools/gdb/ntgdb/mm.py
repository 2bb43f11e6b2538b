"""mm.py - memory manager commands (labs 01-02): nt pte, nt vtop, nt pfn.

The page tables are read where the CPU reads them, in physical memory from CR3, not
through the student's MiWalkPageTables; the PFN database through MmPfnDatabase and the
MMPFN/MMPFNLIST layouts of the debug information.
"""
from __future__ import annotations

import struct

from ntgdb import command, core
from ntgdb.core import NtError, out

LEVELS = [(4, "PXE", "PML4"), (3, "PPE", "PDPT"), (2, "PDE", "PD"), (1, "PTE", "PT")]
PFN_MASK = 0x000FFFFFFFFFF000

MMLISTS = ["ZeroedPageList", "FreePageList", "StandbyPageList", "ModifiedPageList",
           "ModifiedNoWritePageList", "BadPageList", "ActiveAndValid", "TransitionPage"]
PAGE_LIST_COUNT = 4
EMPTY = 0xFFFFFFFFFFFFFFFF


def flags(entry: int) -> str:
    """WinDbg's !pte flag string: P(ageable) G L D A C(ache disabled) T(write-through)
    U/K W/R E V (a '-' for a clear bit)."""
    return "".join([
        "P" if entry >> 9 & 1 else "-",
        "G" if entry >> 8 & 1 else "-",
        "L" if entry >> 7 & 1 else "-",
        "D" if entry >> 6 & 1 else "-",
        "A" if entry >> 5 & 1 else "-",
        "C" if entry >> 4 & 1 else "-",
        "T" if entry >> 3 & 1 else "-",
        "U" if entry >> 2 & 1 else "K",
        "W" if entry >> 1 & 1 else "R",
        "-" if entry >> 63 & 1 else "E",
        "V" if entry & 1 else "-",
    ])


def _canonical(va: int) -> bool:
    return (va >> 47) in (0, 0x1FFFF)


def walk(va: int):
    """[(level, entry address (physical), entry)] from the PML4 down to the leaf or the
    first invalid entry, and the physical address (None if not mapped)."""
    if not _canonical(va):
        raise NtError(f"{va:#x} is not canonical (bits 63:47 must be all 0 or all 1)")
    table = core.cr3()
    steps = []
    for level, _short, name in LEVELS:
        index = (va >> (12 + 9 * (level - 1))) & 0x1FF
        addr = table + index * 8
        entry = core.phys_u64(addr, f"the {name} entry")
        steps.append((level, addr, entry))
        if not entry & 1:
            return steps, None
        if level in (3, 2) and entry >> 7 & 1:
            size = 1 << (12 + 9 * (level - 1))
            base = entry & PFN_MASK & ~(size - 1)
            return steps, base + (va & (size - 1))
        if level == 1:
            return steps, (entry & PFN_MASK) + (va & 0xFFF)
        table = entry & PFN_MASK
    return steps, None


def _highest_pfn() -> int | None:
    try:
        return core.variable_u64("MmHighestPhysicalPage")
    except NtError:
        return None


@command("pte", "VA", "the page-table entry of every level that maps VA, decoded (!pte)", "02")
def pte(arg: str) -> None:
    va = core.parse_number(arg, "virtual address")
    steps, phys = walk(va)
    idx = [(va >> (12 + 9 * (lv - 1))) & 0x1FF for lv in (4, 3, 2, 1)]
    out(f"VA {va:016x}   PML4 {idx[0]:x}  PDPT {idx[1]:x}  PD {idx[2]:x}  PT {idx[3]:x}  offset {va & 0xFFF:03x}")
    highest = _highest_pfn()
    for level, addr, entry in steps:
        short = dict((l, s) for l, s, _ in LEVELS)[level]
        pfn = (entry & PFN_MASK) >> 12
        line = f"{short} at {core.PHYS_MAP + addr:016x}  contains {entry:016x}  "
        if entry & 1:
            line += f"pfn {pfn:<8x} {flags(entry)}"
            if level in (3, 2) and entry >> 7 & 1:
                line += "  (1 GiB page)" if level == 3 else "  (2 MiB page)"
            if highest is not None and pfn > highest and level != 1:
                line += f"  (corrupt? pfn {pfn:x} is past the last frame {highest:x})"
            if level == 1 and not va >> 47:
                from ntgdb import vm  # lab 08: a user PTE keeps its protection code in bits 52-56
                line += vm.valid_pte_note(entry, va)
            elif entry >> 52 & 0x7FF:
                line += f"  (reserved bits 62:52 = {entry >> 52 & 0x7FF:#x}: corrupt?)"
        elif level == 1 and not va >> 47:
            from ntgdb import vm  # lab 08: the invalid PTE states of user memory
            line += "not valid: " + vm.invalid_pte(entry)
        else:
            line += "not valid"
        out(line)
    if phys is None:
        last = steps[-1][0]
        out(f"{va:016x} is not mapped: the {dict((l, n) for l, _, n in LEVELS)[last]} entry is not valid")


@command("vtop", "VA", "the physical address VA translates to, by the tables from CR3 (!vtop)", "02")
def vtop(arg: str) -> None:
    va = core.parse_number(arg, "virtual address")
    top = core.cr3()
    steps, phys = walk(va)
    chain = " -> ".join(f"{dict((l, s) for l, s, _ in LEVELS)[lv]} {e:x}" for lv, _a, e in steps)
    out(f"Amd64VtoP: virtual {va:016x}, PML4 at physical {top:x}: {chain}")
    if phys is None:
        out(f"Virtual address {va:016x} is not mapped")
        return
    leaf = steps[-1][0]
    size = {1: "4 KiB", 2: "2 MiB", 3: "1 GiB"}[leaf]
    out(f"Virtual address {va:016x} translates to physical address {phys:x} ({size} page, pfn {phys >> 12:x})")


# ---------------------------------------------------------------- the PFN database

_pfn_cache = core.cache()


CHUNK = 0x10000  # the database is read 64 KiB at a time, as needed, once per stop


def database():
    """(base VA, highest PFN, MMPFN layout) of the PFN database."""
    if "db" in _pfn_cache:
        return _pfn_cache["db"]
    lay = core.layout("MMPFN")
    base = core.variable_u64("MmPfnDatabase")
    highest = core.variable_u64("MmHighestPhysicalPage")
    if base == 0:
        status = None
        try:
            status = core.u32(core.symbol_address("MmPfnDatabaseStatus")) & 0xFFFFFFFF
        except NtError:
            pass
        raise NtError("there is no PFN database (MmPfnDatabase is NULL)"
                      + (f"; MiInitializePfnDatabase returned {status:#010x}" if status is not None else ""))
    if highest >= 1 << 20:  # the physical map covers 4 GiB: 2^20 frames
        raise NtError(f"MmHighestPhysicalPage is {highest:#x}: more frames than 4 GiB holds (corrupt)")
    _pfn_cache["db"] = (base, highest, lay)
    return _pfn_cache["db"]


def _entry_bytes(base: int, size: int, pfn: int, highest: int) -> bytes:
    off = pfn * size
    end = (highest + 1) * size
    first, last = off // CHUNK, (off + size - 1) // CHUNK
    data = b""
    for c in range(first, last + 1):
        key = ("chunk", c)
        if key not in _pfn_cache:
            _pfn_cache[key] = core.read(base + c * CHUNK, min(CHUNK, end - c * CHUNK), "the PFN database")
        data += _pfn_cache[key]
    start = off - first * CHUNK
    return data[start:start + size]


def entry(pfn: int) -> dict:
    base, highest, lay = database()
    if pfn == EMPTY:
        raise NtError("0xffffffffffffffff is MM_EMPTY_LIST (the end of a list), not a frame")
    if pfn > highest:
        raise NtError(f"frame {pfn:#x} is past the end of the PFN database (MmHighestPhysicalPage {highest:#x})")
    data = _entry_bytes(base, lay.size, pfn, highest)
    return {f: lay.get(data, f) for f in lay.fields}


def list_heads() -> list[dict]:
    lay = core.layout("MMPFNLIST")
    addr = core.symbol_address("MmPageListHeads")
    data = core.read(addr, lay.size * PAGE_LIST_COUNT, "MmPageListHeads")
    return [{f: lay.get(data, f, i * lay.size) for f in lay.fields} for i in range(PAGE_LIST_COUNT)]


def _name(loc: int) -> str:
    return MMLISTS[loc] if loc < len(MMLISTS) else f"{loc:#x}"


def _link(v: int) -> str:
    return "MM_EMPTY_LIST" if v == EMPTY else f"{v:x}"


def list_position(pfn: int, loc: int) -> list[str]:
    """Where pfn is on its list, walking from the head; problems found on the way."""
    base, highest, lay = database()
    heads = list_heads()
    head = heads[loc]
    total = head["Total"]
    lines = [f"    {MMLISTS[loc]}: {total} frames, head {_link(head['Flink'])}, tail {_link(head['Blink'])}"]
    cur, prev, pos = head["Flink"], EMPTY, 0
    while cur != EMPTY and pos <= min(total, highest + 1):
        if cur > highest:
            lines.append(f"    corrupt: entry {pos} of the list links to {cur:#x}, past the last frame {highest:#x}")
            return lines
        e = entry(cur)
        if e["Blink"] != prev:
            lines.append(f"    corrupt: frame {cur:x} (entry {pos}) has Blink {_link(e['Blink'])}, "
                         f"but the frame before it is {_link(prev)}")
        if e["PageLocation"] != loc:
            lines.append(f"    corrupt: frame {cur:x} (entry {pos}) is on this list but says "
                         f"PageLocation {_name(e['PageLocation'])}")
        if cur == pfn:
            lines.append(f"    frame {pfn:x} is entry {pos} of {total} (0 = the head)")
            return lines
        prev, cur, pos = cur, e["Flink"], pos + 1
    if cur != EMPTY:
        lines.append(f"    corrupt: more than Total={total} frames on the list from the head (a cycle?)")
    lines.append(f"    corrupt: frame {pfn:x} says it is on {MMLISTS[loc]} but the walk from the head "
                 f"does not reach it")
    return lines


@command("pfn", "PFN", "the MMPFN of a physical frame decoded, and its place on its list (!pfn)", "01")
def pfn(arg: str) -> None:
    n = core.parse_number(arg, "frame number")
    base, highest, lay = database()
    e = entry(n)
    out(f"    PFN {n:08x} at address {base + n * lay.size:016x}")
    out(f"    flink       {_link(e['Flink']):<14} blink       {_link(e['Blink']):<14} "
        f"pteaddress {e['PteAddress']:016x}")
    loc = e["PageLocation"]
    out(f"    reference count {e['ReferenceCount']:04x}   reserved {e['Reserved']}   "
        f"PageLocation {loc} ({_name(loc)})")
    if loc >= len(MMLISTS):
        out(f"    corrupt: PageLocation {loc:#x} is not an MMLISTS value (0..{len(MMLISTS) - 1})")
        for f in ("Flink", "Blink"):
            if e[f] != EMPTY and e[f] > highest:
                out(f"    corrupt: {f} {e[f]:#x} is neither a frame (0..{highest:x}) nor MM_EMPTY_LIST")
        return
    if loc == 6:  # ActiveAndValid
        if e["Reserved"]:
            out("    reserved frame: never on a list, never allocated")
        else:
            out("    in use (ActiveAndValid), on no list")
            if e["ReferenceCount"] == 0:
                out("    corrupt: a frame in use with reference count 0")
        if e["PteAddress"]:
            out(f"    mapped by the PTE at {e['PteAddress']:016x}")
        return
    if loc >= PAGE_LIST_COUNT:
        out(f"    {MMLISTS[loc]}: ntlab keeps no list of that kind yet")
        return
    for f in ("Flink", "Blink"):
        if e[f] != EMPTY and e[f] > highest:
            out(f"    corrupt: {f} {e[f]:#x} is neither a frame (0..{highest:x}) nor MM_EMPTY_LIST")
    for line in list_position(n, loc):
        out(line)
