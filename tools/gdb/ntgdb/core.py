"""core.py - what every nt command needs: argument parsing, symbols and type layouts
from the kernel's debug information, virtual and physical memory reads on a live QEMU
(gdbstub) or a dump (QEMU's ELF core), and output.

Physical memory: on QEMU's gdbstub through its physical-memory mode
(Qqemu.PhyMemMode); in a dump from the core file's PT_LOAD headers (p_paddr); otherwise
through the kernel's physical map (MM_PHYSICAL_MAP_BASE + address).
"""
from __future__ import annotations

import os
import re
import struct

import gdb

PHYS_MAP = 0xFFFF800000000000
PAGE = 0x1000


class NtError(Exception):
    """A message for the user: printed as `nt <cmd>: <message>`, never as a traceback."""


def out(line: str = "") -> None:
    gdb.write(line + "\n")


# ---------------------------------------------------------------- arguments

_HEX = re.compile(r"^(0x)?[0-9a-fA-F`']+$")


def parse_number(text: str, what: str = "address") -> int:
    """A hex number as WinDbg takes it (1f, 0x1f, ffffffff`80100000) or a GDB expression
    (KtGdbSnapshot.Va, $rsp, &MmPfnDatabase[3])."""
    text = text.strip()
    if not text:
        raise NtError(f"which {what}? (hex, or a GDB expression)")
    if _HEX.match(text):
        return int(text.replace("`", "").replace("'", ""), 16)
    try:
        value = gdb.parse_and_eval(text)
        if value.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
            value = value.address
        return int(value.cast(gdb.lookup_type("unsigned long long"))) & 0xFFFFFFFFFFFFFFFF
    except gdb.error as e:
        raise NtError(f"cannot evaluate {text!r}: {e}") from None


def split_args(arg: str) -> list[str]:
    return gdb.string_to_argv(arg)


# ---------------------------------------------------------------- symbols and types

def symbol_address(name: str, required: bool = True) -> int | None:
    """The address of a kernel variable or function, from the symbol table."""
    try:
        return int(gdb.parse_and_eval(f"(unsigned long long)&{name}"))
    except gdb.error:
        pass
    sym = gdb.lookup_minimal_symbol(name) if hasattr(gdb, "lookup_minimal_symbol") else None
    if sym is not None:
        return int(sym.value().address)
    if required:
        raise NtError(f"this kernel has no symbol {name} (is the ELF with debug information loaded?)")
    return None


class Layout:
    """Field offsets and sizes of a C struct, from the debug information."""

    def __init__(self, name: str):
        t = None
        for how in (lambda: gdb.lookup_type(name), lambda: gdb.lookup_type(f"struct _{name}"),
                    lambda: gdb.parse_and_eval(f"({name} *)0").type.target()):
            try:
                t = how().strip_typedefs()
                break
            except gdb.error:
                continue
        if t is None:
            raise NtError(f"this kernel's debug information has no type {name}")
        self.name, self.size, self.fields = name, t.sizeof, {}
        for f in t.fields():
            if f.name is None:
                continue
            bits = f.bitsize or f.type.strip_typedefs().sizeof * 8
            self.fields[f.name] = (f.bitpos, bits, f.type.strip_typedefs())

    def offset(self, field: str) -> int:
        return self.fields[field][0] // 8

    def get(self, data: bytes, field: str, base: int = 0) -> int:
        """The unsigned value of field in data (the struct starting at data[base])."""
        bitpos, bits, _ = self.fields[field]
        start = base + bitpos // 8
        nbytes = (bitpos % 8 + bits + 7) // 8
        raw = int.from_bytes(data[start:start + nbytes], "little")
        return (raw >> (bitpos % 8)) & ((1 << bits) - 1)

    def signed(self, data: bytes, field: str, base: int = 0) -> int:
        v = self.get(data, field, base)
        bits = self.fields[field][1]
        return v - (1 << bits) if v >> (bits - 1) else v

    def array_len(self, field: str) -> int:
        t = self.fields[field][2]
        return t.sizeof // t.target().strip_typedefs().sizeof if t.code == gdb.TYPE_CODE_ARRAY else 1


_layouts: dict[str, Layout] = {}


def layout(name: str) -> Layout:
    if name not in _layouts:
        _layouts[name] = Layout(name)
    return _layouts[name]


def symbolize(pc: int) -> str:
    """'Function+0x12' (or '?') for an address."""
    try:
        text = gdb.execute(f"info symbol {pc:#x}", to_string=True).strip()
    except gdb.error:
        return "?"
    m = re.match(r"^(\S+)(?: \+ (\d+))? in section", text)
    if not m:
        return "?"
    return f"{m.group(1)}+{int(m.group(2) or 0):#x}"


def function_name(pc: int) -> str:
    return symbolize(pc).split("+")[0]


def source_line(pc: int) -> str:
    """'file.c:NN' for the code at pc, or ''."""
    try:
        sal = gdb.find_pc_line(pc)
    except gdb.error:
        return ""
    if sal.symtab is None or not sal.line:
        return ""
    return f"{sal.symtab.filename}:{sal.line}"


# ---------------------------------------------------------------- memory

def read(address: int, size: int, what: str = "") -> bytes:
    """size bytes of virtual memory at address (as the current CPU maps it)."""
    if address < 0 or address + size > 1 << 64:
        raise NtError(f"address {address:#x} is out of range")
    try:
        return bytes(gdb.selected_inferior().read_memory(address, size))
    except gdb.MemoryError:
        raise NtError(f"cannot read {size} bytes at {address:#018x}" + (f" ({what})" if what else "")
                      + ": not mapped, or not in the dump") from None


def u64(address: int, what: str = "") -> int:
    return struct.unpack("<Q", read(address, 8, what))[0]


def u32(address: int, what: str = "") -> int:
    return struct.unpack("<I", read(address, 4, what))[0]


def variable_u64(name: str) -> int:
    return u64(symbol_address(name), name)


def target_kind() -> str:
    """'remote' (QEMU's gdbstub), 'core' (a dump) or 'none'."""
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None:
        kind = getattr(conn, "type", "") or ""
        if "remote" in kind:
            return "remote"
        if "core" in kind:
            return "core"
    if core_file():
        return "core"
    try:
        text = gdb.execute("info target", to_string=True)
    except gdb.error:
        return "none"
    return "remote" if "Remote serial target" in text or "remote target" in text.lower() else "none"


def core_file() -> str | None:
    try:
        text = gdb.execute("info target", to_string=True)
    except gdb.error:
        return None
    m = re.search(r"Local core dump file:\s*\n\s*`([^']+)'", text)
    return m.group(1) if m else None


class CoreFile:
    """The PT_LOAD segments (physical address -> file offset) and QEMU's CPU note of an
    ELF core written by QEMU's dump-guest-memory."""

    def __init__(self, path: str):
        self.path = path
        self.segments: list[tuple[int, int, int]] = []   # (paddr, offset, filesz)
        self.notes: list[tuple[str, int, bytes]] = []
        with open(path, "rb") as f:
            ehdr = f.read(64)
            if ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
                raise NtError(f"{path} is not a 64-bit ELF core")
            phoff, = struct.unpack_from("<Q", ehdr, 32)
            phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
            if phnum == 0xFFFF:  # PN_XNUM: the real count is in section header 0's sh_info
                shoff, = struct.unpack_from("<Q", ehdr, 40)
                f.seek(shoff)
                phnum = struct.unpack_from("<I", f.read(64), 44)[0]
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            for i in range(phnum):
                p_type, _flags, offset, _vaddr, paddr, filesz = struct.unpack_from("<IIQQQQ", table, i * phentsize)
                if p_type == 1 and filesz:
                    self.segments.append((paddr, offset, filesz))
                elif p_type == 4:
                    f.seek(offset)
                    self._parse_notes(f.read(filesz))
        self.segments.sort()

    def _parse_notes(self, data: bytes) -> None:
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            pos += 12
            name = data[pos:pos + namesz].rstrip(b"\0").decode("ascii", "replace")
            pos += (namesz + 3) & ~3
            self.notes.append((name, ntype, data[pos:pos + descsz]))
            pos += (descsz + 3) & ~3

    def read_phys(self, address: int, size: int) -> bytes:
        outp = bytearray()
        with open(self.path, "rb") as f:
            while size > 0:
                seg = next((s for s in self.segments if s[0] <= address < s[0] + s[2]), None)
                if seg is None:
                    raise NtError(f"physical address {address:#x} is not in the dump")
                n = min(size, seg[0] + seg[2] - address)
                f.seek(seg[1] + address - seg[0])
                outp += f.read(n)
                address += n
                size -= n
        return bytes(outp)

    def cr3(self) -> int | None:
        # QEMUCPUState: version, size, 18 registers, 10 segments of 24 bytes, cr[5]
        for name, _type, desc in self.notes:
            if name == "QEMU" and len(desc) >= 8 + 18 * 8 + 10 * 24 + 5 * 8:
                return struct.unpack_from("<Q", desc, 8 + 18 * 8 + 10 * 24 + 3 * 8)[0]
        return None


_core: CoreFile | None = None


def the_core() -> CoreFile | None:
    global _core
    path = core_file()
    if path is None:
        return None
    if _core is None or _core.path != path:
        _core = CoreFile(path)
    return _core


def _send_packet(packet: str) -> str:
    conn = getattr(gdb.selected_inferior(), "connection", None)
    if conn is not None and hasattr(conn, "send_packet"):
        reply = conn.send_packet(packet)
        return reply.decode("ascii", "replace") if isinstance(reply, bytes) else str(reply)
    return gdb.execute(f"maintenance packet {packet}", to_string=True)


def read_phys(address: int, size: int, what: str = "") -> bytes:
    """size bytes of physical memory at address."""
    kind = target_kind()
    if kind == "core":
        core = the_core()
        if core is not None:
            try:
                return core.read_phys(address, size)
            except NtError:
                pass
    elif kind == "remote":
        if "OK" in _send_packet("Qqemu.PhyMemMode:1"):
            try:
                return bytes(gdb.selected_inferior().read_memory(address, size))
            except gdb.MemoryError:
                raise NtError(f"physical address {address:#x} is not RAM" + (f" ({what})" if what else "")) from None
            finally:
                _send_packet("Qqemu.PhyMemMode:0")
    return read(PHYS_MAP + address, size, what or f"physical {address:#x} through the physical map")


def phys_u64(address: int, what: str = "") -> int:
    return struct.unpack("<Q", read_phys(address, 8, what))[0]


def cr3() -> int:
    """The active top-level page table (physical), from CR3 (live) or the dump's CPU note."""
    if target_kind() == "core":
        core = the_core()
        value = core.cr3() if core else None
        if value:
            return value & 0x000FFFFFFFFFF000
    try:
        return int(gdb.parse_and_eval("$cr3")) & 0x000FFFFFFFFFF000
    except gdb.error:
        pass
    # No CR3: the kernel's own tables, if it built them.
    pml4 = variable_u64("MmKernelPml4")
    if pml4 >= PHYS_MAP:
        return pml4 - PHYS_MAP
    raise NtError("CR3 is not available and MmKernelPml4 is NULL")


# ---------------------------------------------------------------- caches

_caches: list[dict] = []


def cache() -> dict:
    """A dict emptied whenever the target runs again (for bulk reads of one stop)."""
    d: dict = {}
    _caches.append(d)
    return d


def _clear(*_args) -> None:
    for d in _caches:
        d.clear()
    global _core
    _core = None


def install_events() -> None:
    for ev in ("cont", "stop", "new_objfile", "exited"):
        registry = getattr(gdb.events, ev, None)
        if registry is not None:
            registry.connect(_clear)


def hexq(v: int) -> str:
    return f"{v:016x}"


def tag_text(key: int) -> str:
    return "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in key.to_bytes(4, "little"))


def image_mismatch() -> str | None:
    """A warning if the kernel in memory (live or in the dump) is not the ELF GDB loaded: its
    .text differs (e.g. a dump of SOL=none opened with build/all/ntlab.elf)."""
    try:
        from elftools.elf.elffile import ELFFile
    except ImportError:
        return None
    try:
        elf_path = gdb.objfiles()[0].filename
        with open(elf_path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(".text")
            if sec is None:
                return None
            addr, want = sec["sh_addr"], sec.data()[:1 << 20]
        seen = read(addr, len(want), "the kernel image")
    except (NtError, gdb.error, OSError, IndexError):
        return None
    if seen != want:
        return (f"warning: the kernel in {'this dump' if target_kind() == 'core' else 'the machine'} is not "
                f"{os.path.relpath(elf_path)} (its code differs): use the SOL= of the run, or every "
                f"address below is wrong")
    return None
