"""ob.py - object manager commands (lab 06): nt handle, nt object, nt dir.

An object is [OBJECT_HEADER_NAME_INFO][OBJECT_HEADER][body] (kernel/include/ob.h); the
commands take body addresses, as the kernel passes them. A handle table has three levels
(TableCode's low two bits); entries are 16 bytes, 256 to a low-level table. The namespace
starts at ObpRootDirectoryObject; a directory hashes its entries into 37 chains. Every
walk is bounded and checked; what cannot be right is reported as `corrupt: ...`.
"""
from __future__ import annotations

from ntgdb import command, core
from ntgdb.core import NtError, out

SIGNATURE = 0x6A624F
LOW = 256
MID = 512
MAX_WALK = 200000
FLAGS = {0x10: "PERMANENT", 0x02: "KERNEL_ONLY"}
KERNEL_HANDLE_MASK = 0xFFFFFFFF80000000


def _cstring(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("latin-1")


def header_of(body: int) -> int:
    return body - core.layout("OBJECT_HEADER").offset("Body")


def type_name(type_addr: int) -> str:
    if not type_addr:
        return "?"
    lay = core.layout("OBJECT_TYPE")
    try:
        data = core.read(type_addr, lay.size, "an OBJECT_TYPE")
    except Exception:
        return f"<type {type_addr:#x} unreadable>"
    off = lay.offset("Name")
    return _cstring(data[off:off + 24]) or "?"


def object_name(body: int) -> str:
    """The object's name (its last component) or ''."""
    hl = core.layout("OBJECT_HEADER")
    h = header_of(body)
    hd = core.read(h, hl.size, f"the header of {body:#x}")
    off = hl.get(hd, "NameInfoOffset")
    if not off:
        return ""
    nl = core.layout("OBJECT_HEADER_NAME_INFO")
    nd = core.read(h - off, nl.size, "a name info")
    buf = nl.offset("NameBuffer")
    slay = core.layout("STRING")
    name_off = nl.offset("Name")
    length = slay.get(nd, "Length", name_off)
    return nd[buf:buf + min(length, 64)].decode("latin-1")


def describe(body: int) -> tuple[str, list[str]]:
    """One line for an object, and what looks corrupt in its header."""
    hl = core.layout("OBJECT_HEADER")
    h = header_of(body)
    hd = core.read(h, hl.size, f"the header of {body:#x}")
    pc, hc = hl.signed(hd, "PointerCount"), hl.signed(hd, "HandleCount")
    t = hl.get(hd, "Type")
    flags = hl.get(hd, "Flags")
    problems = []
    if hl.get(hd, "Signature") != SIGNATURE:
        problems.append(f"Signature {hl.get(hd, 'Signature'):#x} is not {SIGNATURE:#x} (a freed or foreign object)")
    if pc < hc:
        problems.append(f"PointerCount {pc} < HandleCount {hc}")
    if pc <= 0:
        problems.append(f"PointerCount {pc}: the object should have been deleted")
    fl = "|".join(n for b, n in FLAGS.items() if flags & b) or "0"
    name = object_name(body) if hl.get(hd, "NameInfoOffset") else ""
    return (f"{body:016x} {type_name(t):14} P={pc:<4} H={hc:<4} flags {fl:21} {name}", problems)


@command("object", "ADDR", "an object (its body address): header, counts, type, flags and name (!object)", "06")
def nt_object(arg: str) -> None:
    if not arg:
        raise NtError("usage: nt object ADDR (the body address, as the kernel passes objects)")
    body = core.parse_number(arg)
    hl = core.layout("OBJECT_HEADER")
    h = header_of(body)
    hd = core.read(h, hl.size, f"the header of {body:#x}")
    line, problems = describe(body)
    out(f"Object {body:016x}  header {h:016x}")
    out(f"  Type          {hl.get(hd, 'Type'):016x} ({type_name(hl.get(hd, 'Type'))})")
    out(f"  PointerCount  {hl.signed(hd, 'PointerCount')}")
    out(f"  HandleCount   {hl.signed(hd, 'HandleCount')}")
    off = hl.get(hd, "NameInfoOffset")
    flags = hl.get(hd, "Flags")
    out(f"  Flags         {flags:#x} ({'|'.join(n for b, n in FLAGS.items() if flags & b) or 'temporary'})")
    if off:
        nl = core.layout("OBJECT_HEADER_NAME_INFO")
        nd = core.read(h - off, nl.size, "the name info")
        out(f"  Name          '{object_name(body)}' in directory {nl.get(nd, 'Directory'):016x} "
            f"(name info {h - off:016x})")
    else:
        out("  Name          (unnamed)")
    for p in problems:
        out(f"    corrupt: {p}")


def current_process() -> int:
    pcr = core.symbol_address("KiPcr")
    play, prl, tl = core.layout("KPCR"), core.layout("KPRCB"), core.layout("KTHREAD")
    prcb = pcr + play.offset("Prcb")
    thread = core.u64(prcb + prl.offset("CurrentThread"), "KPRCB.CurrentThread")
    apc = core.layout("KAPC_STATE")
    p = core.u64(thread + tl.offset("ApcState") + apc.offset("Process"), "KTHREAD.ApcState.Process") if thread else 0
    return p or core.variable_u64("PsInitialSystemProcess")


def _entry_address(table_code: int, value: int) -> int | None:
    i = value // 4
    level, top = table_code & 3, table_code & ~3
    if level == 0:
        return top + 16 * i
    if level == 1:
        low = core.u64(top + 8 * (i // LOW), "a mid-level table")
        return low + 16 * (i % LOW) if low else None
    mid = core.u64(top + 8 * (i // (LOW * MID)), "a top-level table")
    if not mid:
        return None
    low = core.u64(mid + 8 * ((i // LOW) % MID), "a mid-level table")
    return low + 16 * (i % LOW) if low else None


@command("handle", "[TABLE]", "every handle in use of a handle table (default: the current process's), the free list (!handle)", "06")
def nt_handle(arg: str) -> None:
    if arg:
        table = core.parse_number(arg)
        owner = None
    else:
        owner = current_process()
        if not owner:
            raise NtError("no process yet: PsInitialSystemProcess is NULL (lab 06 builds it on first use)")
        el = core.layout("EPROCESS")
        table = core.u64(owner + el.offset("ObjectTable"), "EPROCESS.ObjectTable")
    tl = core.layout("HANDLE_TABLE")
    td = core.read(table, tl.size, f"the HANDLE_TABLE at {table:#x}")
    code, nhnp = tl.get(td, "TableCode"), tl.get(td, "NextHandleNeedingPool")
    count, first = tl.signed(td, "HandleCount"), tl.get(td, "FirstFree")
    who = f" of process {owner:016x}" if owner else ""
    out(f"Handle table {table:016x}{who}: level {code & 3}, {nhnp // (LOW * 4)} low-level tables, HandleCount {count}, "
        f"FirstFree {first:#x}, NextHandleNeedingPool {nhnp:#x}")
    used = 0
    problems = []
    for value in range(4, min(nhnp, MAX_WALK * 4), 4):
        if (value // 4) % LOW == 0:
            continue
        e = _entry_address(code, value)
        if e is None:
            problems.append(f"handle {value:#x} has no low-level table")
            break
        obj, access = core.u64(e, "an entry"), core.u32(e + 8, "an entry")
        if not obj:
            continue
        used += 1
        header = obj & ~7
        body = header + core.layout("OBJECT_HEADER").offset("Body")
        bits = ("P" if obj & 1 else "-") + ("I" if obj & 2 else "-")
        line, bad = describe(body)
        out(f"  {value:#6x}  access {access:#010x} {bits}  {line}")
        for b in bad:
            out(f"    corrupt: {b}")
    if used != count:
        problems.append(f"{used} entries are in use but HandleCount is {count}")
    free, v, n = [], first, 0
    while v and n < 8:
        free.append(f"{v:#x}")
        e = _entry_address(code, v)
        v = core.u32(e + 8, "a free entry") if e else 0
        n += 1
    out(f"  free list: {' -> '.join(free) or 'empty'}{' -> ...' if v else ''}")
    for p in problems:
        out(f"    corrupt: {p}")


def _dir_entries(directory: int) -> list[int]:
    dl = core.layout("OBJECT_DIRECTORY")
    el = core.layout("OBJECT_DIRECTORY_ENTRY")
    objects = []
    for b in range(37):
        e = core.u64(directory + dl.offset("HashBuckets") + 8 * b, "a hash bucket")
        n = 0
        while e and n < MAX_WALK:
            objects.append(core.u64(e + el.offset("Object"), "a directory entry"))
            e = core.u64(e + el.offset("ChainLink"), "a directory entry")
            n += 1
    return objects


@command("dir", "[PATH]", "a directory of the object namespace (default: the root) with each entry's type and counts", "06")
def nt_dir(arg: str) -> None:
    root = core.variable_u64("ObpRootDirectoryObject")
    if not root:
        raise NtError("the namespace is not built yet (ObpRootDirectoryObject is NULL: lab 06 builds it on first use)")
    path = arg or "\\"
    current = root
    for part in [p for p in path.split("\\") if p]:
        found = None
        for o in _dir_entries(current):
            if object_name(o).lower() == part.lower():
                found = o
                break
        if found is None:
            raise NtError(f"{path}: no {part!r} in the directory {current:#x}")
        current = found
    dl = core.layout("OBJECT_DIRECTORY")
    count = core.u32(current + dl.offset("EntryCount"), "OBJECT_DIRECTORY.EntryCount")
    entries = _dir_entries(current)
    out(f"Directory {path} ({current:016x}): EntryCount {count}, {len(entries)} entries")
    for o in sorted(entries, key=lambda o: object_name(o).lower()):
        line, bad = describe(o)
        out(f"  {line}")
        for b in bad:
            out(f"    corrupt: {b}")
    if count != len(entries):
        out(f"    corrupt: EntryCount {count} but {len(entries)} entries on the chains")
