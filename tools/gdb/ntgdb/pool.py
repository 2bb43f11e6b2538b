"""pool.py - executive pool commands (lab 03): nt pool, nt poolused.

A pool page is read header by header (POOL_HEADER from the debug information), as
WinDbg's !pool does; a header that cannot be right stops the walk with a message.
Big allocations are found in ExpPoolBigPageTable; tag counts in ExpPoolTrackTable.
"""
from __future__ import annotations

import gdb

from ntgdb import command, core
from ntgdb.core import NtError, out

PAGED_POOL = (0xFFFFF8A000000000, 0x40000000)
NONPAGED_POOL = (0xFFFFFA8000000000, 0x40000000)
UNIT = 16
PAGE_UNITS = 256
FREED_SLOT = 1


def region(va: int) -> str | None:
    for name, (start, size) in (("Paged pool", PAGED_POOL), ("Nonpaged pool", NONPAGED_POOL)):
        if start <= va < start + size:
            return name
    return None


def big_allocation(va: int):
    """(slot, Va, tag, pages, type) of the big allocation that contains va, or None."""
    lay = core.layout("POOL_TRACKER_BIG_PAGES")
    addr = core.symbol_address("ExpPoolBigPageTable")
    try:
        count = int(gdb.parse_and_eval("sizeof(ExpPoolBigPageTable)")) // lay.size
    except gdb.error:
        count = 1024
    data = core.read(addr, count * lay.size, "ExpPoolBigPageTable")
    for i in range(count):
        start = lay.get(data, "Va", i * lay.size)
        if start in (0, FREED_SLOT):
            continue
        pages = lay.get(data, "NumberOfPages", i * lay.size)
        if start <= va < start + max(pages, 1) * core.PAGE:
            return i, start, lay.get(data, "Key", i * lay.size), pages, lay.get(data, "PoolType", i * lay.size)
    return None


@command("pool", "ADDR", "the blocks of the pool page holding ADDR, its block marked with * (!pool)", "03")
def pool(arg: str) -> None:
    va = core.parse_number(arg, "address")
    page = va & ~(core.PAGE - 1)
    where = region(va)
    big = big_allocation(va)
    if big is not None:
        slot, start, key, pages, ptype = big
        kind = {0: "Nonpaged pool", 1: "Paged pool"}.get(ptype, f"pool type {ptype} (corrupt?)")
        out(f"Pool page {va:016x} region is {where or 'outside both pool regions'}")
        out(f"*{start:016x} : large page allocation, tag {core.tag_text(key)}, size {pages * core.PAGE:#x} "
            f"({pages} pages), {kind}  (ExpPoolBigPageTable[{slot}])")
        return
    out(f"Pool page {va:016x} region is {where or 'outside both pool regions (not a pool address?)'}")
    lay = core.layout("POOL_HEADER")
    data = core.read(page, core.PAGE, "the pool page")
    offset, prev_units, found, problems = 0, 0, False, []
    while offset < core.PAGE:
        size = lay.get(data, "BlockSize", offset)
        prev = lay.get(data, "PreviousSize", offset)
        ptype = lay.get(data, "PoolType", offset)
        tag = lay.get(data, "PoolTag", offset)
        addr = page + offset
        notes = []
        if prev != prev_units:
            notes.append(f"PreviousSize should be {prev_units * UNIT:#x}")
        if ptype > 2:
            notes.append(f"PoolType {ptype} is not 0 (free), 1 or 2")
        state = "Free" if ptype == 0 else "Allocated"
        mine = size and addr <= va < addr + size * UNIT
        found |= bool(mine)
        mark = "*" if mine else " "
        line = (f"{mark}{addr:016x} size: {size * UNIT:4x} previous size: {prev * UNIT:4x}  "
                f"{'(' + state + ')':<12}{'*' if mine else ' '}{core.tag_text(tag)}")
        if notes:
            line += "  <- corrupt: " + "; ".join(notes)
            problems.append(f"the header at {addr:016x}: " + "; ".join(notes))
        out(line)
        if size == 0:
            problems.append(f"the header at {addr:016x} has BlockSize 0: the chain of blocks is corrupt here")
            break
        if offset + size * UNIT > core.PAGE:
            problems.append(f"the block at {addr:016x} ({size * UNIT:#x} bytes) runs past the end of the page")
            break
        prev_units = size
        offset += size * UNIT
    if problems:
        out(f"Pool page {page:016x} is corrupt; the walk stopped or found:")
        for p in problems:
            out(f"    {p}")
    if not found:
        out(f"{va:016x} is in none of the blocks found" + (" (the walk stopped before it)" if problems else ""))


@command("poolused", "[TAG]", "the pool tag table: allocations, frees and bytes per tag (!poolused)", "03")
def poolused(arg: str) -> None:
    want = arg.strip()
    lay = core.layout("POOL_TRACKER_TABLE")
    addr = core.symbol_address("ExpPoolTrackTable")
    try:
        count = int(gdb.parse_and_eval("sizeof(ExpPoolTrackTable)")) // lay.size
    except gdb.error:
        count = 128
    data = core.read(addr, count * lay.size, "ExpPoolTrackTable")
    a_off, f_off, b_off = (lay.offset(n) for n in ("Allocs", "Frees", "Bytes"))
    rows = []
    for i in range(count):
        base = i * lay.size
        key = lay.get(data, "Key", base)
        if key == 0:
            continue
        vals = []
        for t in range(2):
            allocs = int.from_bytes(data[base + a_off + 4 * t:base + a_off + 4 * t + 4], "little", signed=True)
            frees = int.from_bytes(data[base + f_off + 4 * t:base + f_off + 4 * t + 4], "little", signed=True)
            nbytes = int.from_bytes(data[base + b_off + 8 * t:base + b_off + 8 * t + 8], "little")
            vals.append((allocs, frees, nbytes))
        rows.append((core.tag_text(key), vals))
    if want:
        rows = [r for r in rows if r[0] == want]
        if not rows:
            raise NtError(f"no tag {want!r} in ExpPoolTrackTable")
    rows.sort()
    out(" Tag    NP Allocs   NP Frees   NP Bytes     P Allocs    P Frees    P Bytes")
    for tag, vals in rows:
        cells = "".join(f"{a:11d}{f:11d}{b:11d}  " for a, f, b in vals)
        notes = [f"{'nonpaged' if t == 0 else 'paged'}: frees exceed allocations"
                 for t, (a, f, _b) in enumerate(vals) if f > a or a < 0 or f < 0]
        out(f" {tag}  {cells.rstrip()}" + (f"   <- corrupt: {'; '.join(notes)}" if notes else ""))
    out(f" {len(rows)} tags")
