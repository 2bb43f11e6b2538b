"""Lab 09 model: what the seeded lab 09 tests must report, computed from the seed
(labs/09-wow64/tests/*.c); the kernel reports, this model judges.

thunks (wow64.thunks): the model builds each of the 37 seeded cases exactly as
wow64_support.c does (the arena's address and poison, the 32-bit argument slots and
structures, what the native double answers), runs its own reference thunk against its own
double, and compares every native argument, every structure the native call read, the name
it saw, the thunk's status, the number of native calls and every byte of each 32-bit
structure with the 4 bytes before it and the 8 after it (`KTEST VALUE wow64.thunks case|call|
callname|mem`). Each difference is reported with the contract clause it breaks.
redirect (wow64.redirect): the 24 seeded names of every kind and what Wow64RedirectName must
answer for each (`KTEST VALUE wow64.redirect name`).
ioctl32 (wow64.ioctl32): the seeded requests and replies of \\Device\\WowSample in both
layouts (`KTEST VALUE wow64.ioctl32 <step>`).
"""
from __future__ import annotations

import struct

from grader.models.rng import KtRng, signed_hex

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
LIMIT_2G = 0x7FFEFFFF
LIMIT_4G = 0xFFFEFFFF
POISON_BYTES = 0x1000
OFF_ARGS = 0x20

SUCCESS = 0
PENDING = 0x103
TIMEOUT = 0x102
ACCESS_VIOLATION = 0xC0000005
NO_MEMORY = 0xC0000017
CONFLICTING = 0xC0000018
INVALID_PARAMETER = 0xC000000D
INVALID_PARAMETER_2 = 0xC00000F0
INVALID_PARAMETER_4 = 0xC00000F2
INFO_LENGTH_MISMATCH = 0xC0000004
INVALID_INFO_CLASS = 0xC0000003
INVALID_HANDLE = 0xC0000008
OBJECT_NAME_EXISTS = 0x40000000
OBJECT_NAME_NOT_FOUND = 0xC0000034
BUFFER_OVERFLOW = 0x80000005
BUFFER_TOO_SMALL = 0xC0000023
INSUFFICIENT_RESOURCES = 0xC000009A
MEM_DECOMMIT, MEM_RELEASE = 0x4000, 0x8000
IOCTL_WOWSAMPLE_ECHO = (0x8009 << 16) | (0x900 << 2)

SERVICES = ["NtAllocateVirtualMemory", "NtFreeVirtualMemory", "NtProtectVirtualMemory", "NtQueryVirtualMemory",
            "NtCreateFile", "NtOpenFile", "NtReadFile", "NtWriteFile", "NtClose", "NtDeviceIoControlFile",
            "NtWaitForSingleObject", "NtCreateEvent", "NtDuplicateObject", "NtQueryInformationProcess"]
(ALLOC, FREE, PROTECT, QUERYVM, CREATEFILE, OPENFILE, READ, WRITE, CLOSE, IOCTL, WAIT, CREATEEVENT, DUPLICATE,
 QUERYPROCESS) = range(14)
CASES = ([(ALLOC, v) for v in range(7)] + [(FREE, 0), (FREE, 1), (PROTECT, 0), (PROTECT, 1)] +
         [(QUERYVM, v) for v in range(4)] + [(CREATEFILE, v) for v in range(3)] +
         [(s, v) for s in (OPENFILE, READ, WRITE, CLOSE, IOCTL, WAIT, CREATEEVENT, DUPLICATE) for v in range(2)] +
         [(QUERYPROCESS, v) for v in range(3)])
FILES = ["ntdll.dll", "kernel32.dll", "wowtest.exe", "config\\system"]

# What each native argument and each input means, for the messages (and the clause each breaks).
HANDLE = "handle slots are sign-extended (0xFFFFFFFF -> -1, 0xFFFFFFFE -> -2, bit 31 -> 0xFFFFFFFF8...)"
PTR = "pointer and value slots are zero-extended"
NULLSLOT = "a 0 slot is passed as NULL, any other as a pointer to a native local (or the widened pointer)"
ARG_NAMES = {
    ALLOC: [("ProcessHandle", HANDLE), ("BaseAddress", NULLSLOT), ("ZeroBits", "ZeroBits goes as the mask of "
            "the process's limit (0 -> 0x7FFFFFFF or 0xFFFFFFFF large-address aware; n -> (0xFFFFFFFF >> n) & it)"),
            ("RegionSize", NULLSLOT), ("AllocationType", PTR), ("Protect", PTR)],
    FREE: [("ProcessHandle", HANDLE), ("BaseAddress", NULLSLOT), ("RegionSize", NULLSLOT), ("FreeType", PTR)],
    PROTECT: [("ProcessHandle", HANDLE), ("BaseAddress", NULLSLOT), ("RegionSize", NULLSLOT), ("NewProtect", PTR),
              ("OldProtect", "OldProtect has one layout: its slot is widened and passed as it is")],
    QUERYVM: [("ProcessHandle", HANDLE), ("BaseAddress", PTR), ("MemoryInformationClass", PTR),
              ("MemoryInformation", NULLSLOT), ("MemoryInformationLength", "the native call gets the native "
              "structure's size (48)"), ("ReturnLength", "a native ReturnLength local")],
    CREATEFILE: [("FileHandle", NULLSLOT), ("DesiredAccess", PTR), ("ObjectAttributes", NULLSLOT),
                 ("IoStatusBlock", NULLSLOT)],
    OPENFILE: [("FileHandle", NULLSLOT), ("DesiredAccess", PTR), ("ObjectAttributes", NULLSLOT),
               ("IoStatusBlock", NULLSLOT), ("ShareAccess", PTR), ("OpenOptions", PTR)],
    READ: [("FileHandle", HANDLE), ("Event", HANDLE), ("IoStatusBlock", NULLSLOT), ("Buffer", PTR), ("Length", PTR),
           ("ByteOffset", NULLSLOT)],
    CLOSE: [("Handle", HANDLE)],
    IOCTL: [("FileHandle", HANDLE), ("Event", HANDLE), ("IoStatusBlock", NULLSLOT), ("IoControlCode", PTR),
            ("InputBuffer", PTR), ("InputBufferLength", PTR), ("OutputBuffer", PTR), ("OutputBufferLength", PTR)],
    WAIT: [("Handle", HANDLE), ("Alertable", "Alertable is the slot's low byte"), ("Timeout", NULLSLOT + " (a NULL "
           "timeout waits forever: never a pointer to a zeroed local)")],
    CREATEEVENT: [("EventHandle", NULLSLOT), ("DesiredAccess", PTR), ("ObjectAttributes", NULLSLOT),
                  ("EventType", PTR), ("InitialState", "InitialState is the slot's low byte")],
    DUPLICATE: [("SourceProcessHandle", HANDLE), ("SourceHandle", HANDLE), ("TargetProcessHandle", HANDLE),
                ("TargetHandle", NULLSLOT), ("DesiredAccess", PTR), ("HandleAttributes", PTR), ("Options", PTR)],
    QUERYPROCESS: [("ProcessHandle", HANDLE), ("ProcessInformationClass", PTR), ("ProcessInformation", NULLSLOT),
                   ("ProcessInformationLength", "the native call gets the native structure's size (48)"),
                   ("ReturnLength", "a native ReturnLength local")],
}
ARG_NAMES[WRITE] = ARG_NAMES[READ]
OA_IN = [("ObjectAttributes.RootDirectory", HANDLE), ("ObjectAttributes.Attributes", "Attributes copied"),
         ("ObjectAttributes.ObjectName", NULLSLOT), ("ObjectName.Length", "the STRING32's Length copied (or the "
         "redirected name's)"), ("ObjectName.MaximumLength", "the STRING32's MaximumLength copied and its Buffer "
         "widened (the caller's own buffer; only a redirected name lives in the thunk's memory)"),
         ("ObjectName.Buffer", "the STRING32's Buffer widened (zero extension) - or the thunk's own buffer for a "
          "redirected name")]
VMIO_IN = [("*BaseAddress", "the 32-bit *BaseAddress read and zero-extended into a native PVOID"),
           ("*RegionSize", "the 32-bit *RegionSize read into a native SIZE_T")]
LI_IN = [("the LARGE_INTEGER's value", "the LARGE_INTEGER32 copied whole (LowPart and HighPart)"),
         ("the LARGE_INTEGER's alignment", "the LARGE_INTEGER32 is copied into an aligned native LARGE_INTEGER "
          "(the 32-bit one is only 4-byte aligned)")]
IN_NAMES = {ALLOC: VMIO_IN, FREE: VMIO_IN, PROTECT: VMIO_IN, CREATEFILE: OA_IN, OPENFILE: OA_IN, CREATEEVENT: OA_IN,
            READ: LI_IN, WRITE: LI_IN, WAIT: LI_IN}


def sext32(v: int) -> int:
    v &= M32
    return (v | 0xFFFFFFFF00000000) if v & 0x80000000 else v


def is_error(status: int) -> bool:
    return (status & M32) >= 0xC0000000


def nt_success(status: int) -> bool:
    return (status & M32) < 0x80000000


def writes_iosb(status: int) -> bool:
    return not is_error(status) and status != PENDING


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


# ------------------------------------------------------------------ redirection (reference)

def _match(name: bytes, prefix: bytes) -> int:
    n = len(prefix)
    if len(name) < n or name[:n].lower() != prefix.lower():
        return 0
    if len(name) > n and name[n:n + 1] != b"\\":
        return 0
    return n


def redirect(name: bytes, disabled: bool, room: int) -> bytes | None:
    """Wow64RedirectName's result for a counted name: the new name, or None (FALSE)."""
    if disabled:
        return None
    m = _match(name, b"\\SystemRoot\\System32")
    if m:
        if _match(name, b"\\SystemRoot\\System32\\drivers\\etc"):
            return None
        target = b"\\SystemRoot\\SysWOW64"
    else:
        m = _match(name, b"\\SystemRoot\\Sysnative")
        if not m:
            return None
        target = b"\\SystemRoot\\System32"
    out = target + name[m:]
    return out if len(out) <= room else None


# ------------------------------------------------------------------ the thunk cases

class Case:
    """One case of wow64.thunks as wow64_support.c builds it, and what the reference thunk does."""

    def __init__(self, n: int, base: int, poison: int, r: list[int]):
        self.n, self.base, self.poison, self.r = n, base, poison, r
        self.service, self.variant = CASES[n % len(CASES)]
        self.mem = bytearray(self.poison_byte(i) for i in range(POISON_BYTES))
        self.structs: list[tuple[int, int, str]] = []
        self.args = [0] * 11
        self.status = 0
        self.out = [0] * 8
        self.limit = LIMIT_2G
        self.disabled = False
        self.calls: list[dict] = []
        self._build()

    def poison_byte(self, off: int) -> int:
        return ((self.poison >> ((off & 7) * 8)) & 0xFF) ^ ((off >> 3) & 0xFF)

    # memory of the arena, by 32-bit address
    def va(self, off: int) -> int:
        return (self.base + off) & M32

    def r32(self, va: int) -> int:
        o = va - self.base
        return struct.unpack_from("<I", self.mem, o)[0]

    def w32(self, va: int, value: int):
        struct.pack_into("<I", self.mem, va - self.base, value & M32)

    def put32(self, off: int, value: int):
        struct.pack_into("<I", self.mem, off, value & M32)

    def struct_at(self, k: int, size: int, name: str) -> int:
        off = 0x100 + 0x100 * k + 4 * ((self.n + k) & 1)
        self.structs.append((off, size, name))
        return off

    @staticmethod
    def handle(kind: int, r: int) -> int:
        if kind == 0:
            return 0xFFFFFFFF
        if kind == 1:
            return 0xFFFFFFFE
        if kind == 2:
            return 4 * (1 + r % 0x3FFF)
        return 0x80000000 | (4 * (1 + r % 0x3FFF))

    @staticmethod
    def ptr(high: bool, r: int) -> int:
        return ((0x80000000 if high else 0x00010000) + ((r % 0x7FFE) << 16) + ((r >> 20) & 0xFFF)) & M32

    def name_attributes(self, root: int, prefix: str, file: str):
        name = (prefix + file).encode()
        oa = self.struct_at(1, 12, "OBJECT_ATTRIBUTES32")
        st = self.struct_at(3, 8, "STRING32")
        text = self.struct_at(4, len(name), "name")
        self.mem[text:text + len(name)] = name
        self.put32(st, len(name) | ((len(name) + 2) << 16))
        self.put32(st + 4, self.va(text))
        self.put32(oa, root)
        self.put32(oa + 4, self.va(st))
        self.put32(oa + 8, 0x40)

    def _build(self):
        r, v, a, s = self.r, self.variant, self.args, self.service
        size = ((r[1] % 64) + 1) << 12
        system32 = "\\SYSTEMROOT\\system32\\" if r[8] & 1 else "\\SystemRoot\\System32\\"
        file = FILES[r[7] % 4]
        if s == ALLOC:
            kinds = [0, 3, 1, 2, 0, 3, 1]
            s0 = self.struct_at(0, 4, "BaseAddress")
            base = zb = 0
            self.status = SUCCESS
            self.out[3] = (size + 0xFFFF) & ~0xFFFF
            if v == 0:
                self.out[0] = 0x00010000 + ((r[2] % 0x7FF0) << 16)
            elif v == 1:
                self.limit = LIMIT_4G
                base = 0x80000000 + ((r[2] % 0x7000) << 16)
                self.out[0] = base
            elif v == 2:
                base = 0x7FFE0000 - ((r[2] % 4) << 16)
                size = ((r[2] % 4) + 2) << 16
            elif v == 3:
                base = 0x80000000 | ((r[2] % 0x7FFF) << 16)
            elif v == 4:
                self.status = CONFLICTING if r[4] & 1 else NO_MEMORY
            elif v == 5:
                self.out[0] = 0x80000000 + ((r[2] % 0x7000) << 16)
            self.put32(s0, base)
            a[0] = self.handle(kinds[v], r[0])
            a[1] = self.va(s0)
            if v == 6:
                zb = 2 + r[3] % 19
            a[2] = zb
            if v == 6:
                a[3] = 0
            else:
                s1 = self.struct_at(1, 4, "RegionSize")
                self.put32(s1, size)
                a[3] = self.va(s1)
            a[4] = 0x103000 if v == 0 else 0x3000
            a[5] = 0x40 if v == 1 else 0x04
        elif s in (FREE, PROTECT):
            base = self.ptr(True, r[2])
            s0 = self.struct_at(0, 4, "BaseAddress")
            s1 = self.struct_at(1, 4, "RegionSize")
            self.put32(s0, base)
            self.put32(s1, size)
            self.out[0] = base & ~0xFFF
            self.out[3] = (size + (base & 0xFFF) + 0xFFF) & ~0xFFF
            a[1], a[2] = self.va(s0), self.va(s1)
            if s == FREE:
                a[0] = self.handle(0 if v == 0 else 3, r[0])
                a[3] = MEM_DECOMMIT if v == 0 else MEM_RELEASE
                self.status = SUCCESS if v == 0 else 0xC000009F
            else:
                s2 = self.struct_at(2, 4, "OldProtect")
                a[0] = self.handle(1 if v == 0 else 2, r[0])
                a[3] = 0x02
                a[4] = self.va(s2)
                self.out[4] = 0x04
                self.status = SUCCESS if v == 0 else 0xC0000045
        elif s == QUERYVM:
            s0 = self.struct_at(0, 28, "MEMORY_BASIC_INFORMATION32")
            a[0] = self.handle(3 if v == 3 else 0, r[0])
            a[1] = self.ptr(v != 3, r[2])
            a[2] = 1 + r[3] % 5 if v == 2 else 0
            a[3] = self.va(s0)
            a[4] = (27 - r[3] % 8) if v == 1 else (28 + r[3] % 8)
            if v == 3:
                a[5] = 0
            else:
                a[5] = self.va(self.struct_at(1, 4, "ReturnLength"))
            self.status = INVALID_PARAMETER if v == 3 else SUCCESS
            self.out[0] = a[1] & ~0xFFF
            self.out[3] = ((r[5] % 32) + 1) << 12
            self.out[4] = 0x04
            self.out[5] = r[4] % 16
            self.out[6] = 0x02
        elif s in (CREATEFILE, OPENFILE):
            s0 = self.struct_at(0, 4, "FileHandle")
            s2 = self.struct_at(2, 8, "IO_STATUS_BLOCK32")
            root = 0
            prefix = system32
            self.status = SUCCESS
            self.out[2] = 1 + (r[9] & 1)
            if s == CREATEFILE:
                if v == 1:
                    root = self.handle(3, r[5])
                    self.status = OBJECT_NAME_EXISTS
                    self.out[2] |= 1 << 32
                elif v == 2:
                    prefix, file = "\\Device\\", "WowSample"
                    self.status = OBJECT_NAME_NOT_FOUND
            else:
                if v == 0:
                    self.disabled = True
                else:
                    prefix = "\\SystemRoot\\Sysnative\\"
                    self.status = PENDING
            self.name_attributes(root, prefix, file)
            self.out[0] = 4 * (1 + r[6] % 0x3FFF)
            self.out[1] = self.status
            a[0] = self.va(s0)
            a[1] = 0x00120089 | ((r[10] & 1) << 1)
            a[2] = self.va(self.structs[2][0])
            a[3] = self.va(s2)
            if s == OPENFILE:
                a[4] = r[11] & 7
                a[5] = 0x20 | ((r[11] >> 3) & 0x40)
        elif s in (READ, WRITE):
            s0 = self.struct_at(0, 8, "IO_STATUS_BLOCK32")
            length = 1 + r[3] % 0x10000
            a[0] = self.handle(2, r[0])
            a[2] = self.va(s0)
            a[3] = self.ptr(v == 0, r[2])
            a[4] = length
            if v == 0:
                s1 = self.struct_at(1, 8, "LARGE_INTEGER32")
                offset = r[5] & 0x7FFFFFFFFFFF
                self.put32(s1, offset)
                self.put32(s1 + 4, offset >> 32)
                a[5] = self.va(s1)
            self.out[2] = length
            if s == READ:
                a[1] = self.handle(0 if v == 0 else 3, r[1])
                self.status = SUCCESS if v == 0 else PENDING
            else:
                a[1] = self.handle(2, r[1]) if v == 0 else 0
                self.status = SUCCESS if v == 0 else 0xC000007F
                self.out[2] |= 1 << 32
            self.out[1] = self.status
        elif s == CLOSE:
            a[0] = self.handle(3 if v == 0 else 1, r[0])
            self.status = SUCCESS if v == 0 else INVALID_HANDLE
        elif s == IOCTL:
            s0 = self.struct_at(0, 8, "IO_STATUS_BLOCK32")
            a[0] = self.handle(3, r[0])
            a[1] = self.handle(2 if v == 0 else 0, r[1])
            a[2] = self.va(s0)
            a[3] = IOCTL_WOWSAMPLE_ECHO
            a[4] = self.ptr(True, r[2])
            a[5] = 20
            a[6] = self.ptr(False, r[3])
            a[7] = 16 + r[4] % 8
            self.status = SUCCESS if v == 0 else BUFFER_OVERFLOW
            self.out[1] = self.status
            self.out[2] = 16
        elif s == WAIT:
            a[0] = self.handle(1 if v == 0 else 2, r[0])
            a[1] = ((r[1] & 0xFF00) | 1) if v == 0 else 0x0100
            if v == 0:
                s0 = self.struct_at(0, 8, "LARGE_INTEGER32")
                timeout = (-(r[2] % 10000000 + 1)) & M64
                self.put32(s0, timeout)
                self.put32(s0 + 4, timeout >> 32)
                a[2] = self.va(s0)
                self.status = TIMEOUT
            else:
                self.status = SUCCESS
        elif s == CREATEEVENT:
            s0 = self.struct_at(0, 4, "EventHandle")
            a[0] = self.va(s0)
            a[1] = 0x001F0003
            if v == 0:
                self.name_attributes(0, system32, file)
                a[2] = self.va(self.structs[1][0])
                a[3], a[4] = 0, 0x0201
                self.status = SUCCESS
            else:
                a[2], a[3], a[4] = 0, 1, 0x0100
                self.status = INSUFFICIENT_RESOURCES
            self.out[0] = 4 * (1 + r[6] % 0x3FFF)
        elif s == DUPLICATE:
            if v == 0:
                s0 = self.struct_at(0, 4, "TargetHandle")
                a[0], a[1], a[2], a[3], a[6] = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, self.va(s0), 2
                self.status = SUCCESS
            else:
                a[0], a[1], a[2] = self.handle(3, r[0]), self.handle(2, r[1]), self.handle(0, r[2])
                a[3], a[4] = 0, 0x001F0003
                self.status = INVALID_HANDLE
            self.out[0] = 4 * (1 + r[6] % 0x3FFF)
        elif s == QUERYPROCESS:
            s0 = self.struct_at(0, 24, "PROCESS_BASIC_INFORMATION32")
            s1 = self.struct_at(1, 4, "ReturnLength")
            a[0] = self.handle(0, r[0])
            a[1] = 26 if v == 2 else 0
            a[2] = self.va(s0)
            a[3] = 48 if v == 1 else 24
            a[4] = self.va(s1)
            self.status = SUCCESS
            self.out[0] = 0x7F000000 - ((r[2] % 256) << 12)
            self.out[1] = PENDING
            self.out[3] = 1
            self.out[4] = 4 * (r[3] % 1000 + 1)
            self.out[5] = 4 * (r[4] % 1000 + 1)
        # The slots live in the arena too (zeroed, then set).
        for i in range(11):
            struct.pack_into("<I", self.mem, OFF_ARGS + 4 * i, a[i] & M32)

    # ---- the reference thunk against the reference double ----
    def call(self, service: int, args: list[int], ins: list[int] | None = None, name: str = ""):
        self.calls.append({"service": service, "args": [x & M64 for x in args], "in": [x & M64 for x in (ins or [])],
                           "name": name})

    def _oa(self, slot: int, do_redirect: bool) -> tuple[int, list[int], str]:
        """(nonzero, the double's In list, name) for an OBJECT_ATTRIBUTES32 slot."""
        if slot == 0:
            return 0, [], ""
        root, name_ptr, attrs = self.r32(slot), self.r32(slot + 4), self.r32(slot + 8)
        ins = [sext32(root), attrs, 1 if name_ptr else 0]
        if not name_ptr:
            return 1, ins, ""
        lm = self.r32(name_ptr)
        length, maxlen, buf = lm & 0xFFFF, lm >> 16, self.r32(name_ptr + 4)
        text = bytes(self.mem[buf - self.base:buf - self.base + length])
        red = redirect(text, self.disabled, 1024) if do_redirect and root == 0 else None
        if red is not None:
            ins += [len(red), 0xFFFFFFFF, 1]
            text = red
        else:
            ins += [length, maxlen, buf]
        shown = "".join(chr(c) if 0x20 < c < 0x7F else "?" for c in text[:79]) or "<empty>"
        return 1, ins, shown

    def run(self) -> int:
        s, a, st, out = self.service, self.args, self.status, self.out
        h = sext32
        if s == ALLOC:
            base = self.r32(a[1]) if a[1] else 0
            size = self.r32(a[3]) if a[3] else 0
            limit = self.limit
            if a[1] and base > limit:
                return INVALID_PARAMETER_2
            if a[1] and a[3] and base and size and base + size - 1 > limit:
                return INVALID_PARAMETER_4
            mask = limit | 0x1FFFF
            zb = a[2]
            zbits = mask if zb == 0 else ((0xFFFFFFFF >> zb) & mask) if zb < 32 else zb
            self.call(ALLOC, [h(a[0]), 1 if a[1] else 0, zbits, 1 if a[3] else 0, a[4], a[5]], [base, size])
            if not a[1] or not a[3]:
                return ACCESS_VIOLATION
            if not nt_success(st):
                return st
            base, size = out[0], out[3]
            if base + size - 1 > limit:
                self.call(FREE, [h(a[0]), 1, 1, MEM_RELEASE], [base, 0])
                return NO_MEMORY
            self.w32(a[1], base)
            self.w32(a[3], size)
            return st
        if s in (FREE, PROTECT):
            base = self.r32(a[1]) if a[1] else 0
            size = self.r32(a[2]) if a[2] else 0
            if s == FREE:
                self.call(FREE, [h(a[0]), 1 if a[1] else 0, 1 if a[2] else 0, a[3]], [base, size])
            else:
                self.call(PROTECT, [h(a[0]), 1 if a[1] else 0, 1 if a[2] else 0, a[3], a[4]], [base, size])
            if nt_success(st):
                if s == PROTECT:
                    self.w32(a[4], out[4])
                self.w32(a[1], out[0])
                self.w32(a[2], out[3])
            return st
        if s == QUERYVM:
            if a[2] != 0:
                return INVALID_INFO_CLASS
            if a[4] < 28:
                return INFO_LENGTH_MISMATCH
            self.call(QUERYVM, [h(a[0]), a[1], 0, 1 if a[3] else 0, 48, 1])
            if not a[3]:
                return ACCESS_VIOLATION
            if not nt_success(st):
                return st
            mbi = [out[0], out[0] - (out[5] << 12), out[4], out[3], 0x1000, out[6], 0x20000]
            for i, f in enumerate(mbi):
                self.w32(a[3] + 4 * i, f)
            if a[5]:
                self.w32(a[5], 28)
            return st
        if s in (CREATEFILE, OPENFILE, CREATEEVENT):
            nz, ins, name = self._oa(a[2], s != CREATEEVENT)
            if s == CREATEEVENT:
                self.call(s, [1 if a[0] else 0, a[1], nz, a[3], a[4] & 0xFF], ins, name)
            else:
                extra = [a[4], a[5]] if s == OPENFILE else []
                self.call(s, [1 if a[0] else 0, a[1], nz, 1 if a[3] else 0] + extra, ins, name)
            if not a[0]:
                return ACCESS_VIOLATION
            if nt_success(st):
                self.w32(a[0], out[0])
            if s != CREATEEVENT and a[3] and writes_iosb(st):
                self.w32(a[3], out[1])
                self.w32(a[3] + 4, out[2])
            return st
        if s in (READ, WRITE):
            ins = []
            if a[5]:
                ins = [self.r32(a[5]) | (self.r32(a[5] + 4) << 32), 1]
            self.call(s, [h(a[0]), h(a[1]), 1 if a[2] else 0, a[3], a[4], 1 if a[5] else 0], ins)
            if a[2] and writes_iosb(st):
                self.w32(a[2], out[1])
                self.w32(a[2] + 4, out[2])
            return st
        if s == CLOSE:
            self.call(CLOSE, [h(a[0])])
            return st
        if s == IOCTL:
            self.call(IOCTL, [h(a[0]), h(a[1]), 1 if a[2] else 0, a[3], a[4], a[5], a[6], a[7]])
            if a[2] and writes_iosb(st):
                self.w32(a[2], out[1])
                self.w32(a[2] + 4, out[2])
            return st
        if s == WAIT:
            ins = [self.r32(a[2]) | (self.r32(a[2] + 4) << 32), 1] if a[2] else []
            self.call(WAIT, [h(a[0]), a[1] & 0xFF, 1 if a[2] else 0], ins)
            return st
        if s == DUPLICATE:
            self.call(DUPLICATE, [h(a[0]), h(a[1]), h(a[2]), 1 if a[3] else 0, a[4], a[5], a[6]])
            if nt_success(st) and a[3]:
                self.w32(a[3], out[0])
            return st
        if s == QUERYPROCESS:
            if a[1] != 0:
                return INVALID_INFO_CLASS
            if a[3] != 24:
                return INFO_LENGTH_MISMATCH
            self.call(QUERYPROCESS, [h(a[0]), 0, 1 if a[2] else 0, 48, 1])
            if not a[2]:
                return ACCESS_VIOLATION
            if not nt_success(st):
                return st
            pbi = [out[1], out[0], out[3], 8, out[4], out[5]]
            for i, f in enumerate(pbi):
                self.w32(a[2] + 4 * i, f)
            if a[4]:
                self.w32(a[4], 24)
            return st
        raise ValueError(s)

    def mem_hex(self, off: int, size: int) -> str:
        count = min(size + 12, 80)
        return self.mem[off - 4:off - 4 + count].hex()


def thunk_cases(seed: int, test: str = "wow64.thunks", rounds: int = 1) -> list[tuple[Case, int]]:
    """Every case of a thunk test (KtwRunThunkCases) and the status the reference thunk returns."""
    rng = KtRng(seed, test)
    base = rng.range(0x100, 0x6FFF) << 16
    poison = rng.random() | 0x0101010101010101
    out = []
    for n in range(len(CASES) * rounds):
        r = [rng.random() for _ in range(12)]
        c = Case(n, base, poison, r)
        out.append((c, c.run()))
    return out


def _hexlist(text: str) -> list[int]:
    return [] if text in ("-", "") else [int(x, 16) for x in text.split(",")]


def judge_thunks(seed, values, test: str = "wow64.thunks", rounds: int = 1) -> list[str]:
    """The thunk cases of `test` (KtwRunThunkCases(Context, rounds)) against the reference."""
    out: list[str] = []
    rng = KtRng(seed, test)
    want_arena = rng.range(0x100, 0x6FFF) << 16
    arena = _values(values, test, "arena")
    if arena and int(arena[0], 16) != want_arena:
        return [f"the arena is at {arena[0]}, the seed puts it at 0x{want_arena:x}: the test's random sequence "
                f"differs from the model's"]
    cases = {int(v.split()[0]): v.split() for v in _values(values, test, "case")}
    calls: dict[tuple[int, int], list[str]] = {}
    for v in _values(values, test, "call"):
        p = v.split()
        calls[(int(p[0]), int(p[1]))] = p
    names = {}
    for v in _values(values, test, "callname"):
        p = v.split(" ", 2)
        names[(int(p[0]), int(p[1]))] = p[2] if len(p) > 2 else ""
    mems = {}
    for v in _values(values, test, "mem"):
        p = v.split()
        mems[(int(p[0]), int(p[1]))] = p[3] if len(p) > 3 else ""
    for c, ret in thunk_cases(seed, test, rounds):
        n = c.n
        thunk = "wh" + SERVICES[c.service]
        where = f"case {n} ({thunk}, variant {c.variant})"
        seen = cases.get(n)
        if seen is None:
            out.append(f"{where}: no `case {n}` record")
            continue
        seen_ret = int(seen[2], 16)
        if seen_ret != ret:
            why = ("the thunk returns the native status unchanged" if c.calls else
                   "this case is refused by the thunk itself, before any native call")
            out.append(f"{where}: returned {signed_hex(seen_ret)[:10]} (0x{seen_ret:08x}), expected 0x{ret:08x}: {why}")
        seen_calls = int(seen[3])
        if seen_calls != len(c.calls):
            want = " then ".join(SERVICES[x["service"]] for x in c.calls) or "none"
            out.append(f"{where}: {seen_calls} native call(s), expected {len(c.calls)} ({want})")
        for j, call in enumerate(c.calls[:seen_calls]):
            p = calls.get((n, j))
            if p is None:
                out.append(f"{where}: no record of native call {j}")
                continue
            svc = call["service"]
            if p[2] != SERVICES[svc]:
                out.append(f"{where}: native call {j} was {p[2]}, expected {SERVICES[svc]}")
                continue
            args = _hexlist(p[3])
            ins = _hexlist(p[4]) if len(p) > 4 else []
            labels = ARG_NAMES[svc]
            for i, want in enumerate(call["args"]):
                got = args[i] if i < len(args) else None
                if got != want:
                    label, clause = labels[i] if i < len(labels) else (f"argument {i}", "")
                    out.append(f"{where}: {SERVICES[svc]}'s {label} was "
                               f"{'missing' if got is None else signed_hex(got)}, expected {signed_hex(want)}"
                               f"{(': ' + clause) if clause else ''}")
            in_labels = IN_NAMES.get(svc, [])
            for i, want in enumerate(call["in"]):
                got = ins[i] if i < len(ins) else None
                if got != want:
                    label, clause = in_labels[i] if i < len(in_labels) else (f"input {i}", "")
                    out.append(f"{where}: {SERVICES[svc]} read {label} = "
                               f"{'nothing' if got is None else signed_hex(got)}, expected {signed_hex(want)}: {clause}")
            if call["name"] and names.get((n, j)) != call["name"]:
                out.append(f"{where}: {SERVICES[svc]} was given the name {names.get((n, j))!r}, expected "
                           f"{call['name']!r}" + (" (redirection: System32 -> SysWOW64 for an absolute name, "
                                                  "Sysnative -> System32; not when the thread disabled it, not "
                                                  "with a RootDirectory, never for an event)"))
        for s, (off, size, sname) in enumerate(c.structs):
            want = c.mem_hex(off, size)
            got = mems.get((n, s))
            if got is None:
                out.append(f"{where}: no record of the {sname}")
            elif got != want:
                out.append(f"{where}: the {sname} at 0x{c.va(off):08x} (with 4 bytes before it and 8 after) holds "
                           f"{got}, expected {want}: " + _mem_clause(c, sname, got, want))
        if len(out) > 12:
            break
    return out


def _mem_clause(c: Case, sname: str, got: str, want: str) -> str:
    g, w = bytes.fromhex(got), bytes.fromhex(want)
    size = len(w) - 12
    inside = [i for i in range(len(w)) if i < len(g) and g[i] != w[i]]
    if inside and (inside[-1] >= 4 + size or inside[0] < 4):
        return (f"bytes outside the {size}-byte 32-bit structure changed: write back in the 32-bit layout and "
                f"not a byte past it")
    if not nt_success(c.status) or c.variant and c.service in (ALLOC,) and c.variant in (2, 3, 4, 5):
        return "nothing may be written back after an error (or a refused call)"
    if sname == "IO_STATUS_BLOCK32":
        return ("the IO_STATUS_BLOCK32 gets the native Status and Information's low 32 bits after a status "
                "below 0xC0000000 other than STATUS_PENDING, and is left as it was otherwise")
    return f"the {sname} written back in the 32-bit layout (pointers and sizes truncated to 32 bits)"


# ------------------------------------------------------------------ redirection names

def redirect_expected(seed: int) -> list[tuple[int, bool, bytes]]:
    """(kind, TRUE?, new name) for each seeded name of wow64.redirect."""
    rng = KtRng(seed, "wow64.redirect")

    def flip(s: str, mask: int) -> str:
        return "".join(ch.swapcase() if ch.isalpha() and (mask >> (k % 64)) & 1 else ch for k, ch in enumerate(s))

    out = []
    for i in range(24):
        r0, r1 = rng.random(), rng.random()
        kind = i % 10 if i < 20 else r1 % 10
        file = FILES[r1 % 4]
        p32 = flip("\\SystemRoot\\System32", r0)
        disabled = False
        room = None
        if kind == 1:
            name = p32
        elif kind == 2:
            name = p32 + "x\\" + file
        elif kind == 3:
            name = flip("\\SystemRoot\\System32\\drivers\\etc", r0) + ("" if r1 & 4 else "\\hosts")
        elif kind == 4:
            name = p32 + "\\drivers\\etcx\\" + file
        elif kind == 5:
            name = flip("\\SystemRoot\\Sysnative", r0) + "\\" + file
        elif kind == 6:
            name = "\\Device\\WowSample" if r1 & 4 else "\\SystemRoot\\Fonts\\" + file
        elif kind == 7:
            name = p32[:len(p32) - 1 - (r1 >> 3) % 3]
        elif kind == 8:
            name = p32 + "\\" + file
            room = len(name) - 1
        elif kind == 9:
            name = p32 + "\\" + file
            disabled = True
        else:
            name = p32 + "\\" + file
        raw = name.encode()
        res = redirect(raw, disabled, room if room is not None else len(raw) + 8)
        out.append((kind, res is not None, res or b""))
    return out


KIND_CLAUSES = {
    0: "\\SystemRoot\\System32\\x (any case) -> \\SystemRoot\\SysWOW64\\x",
    1: "\\SystemRoot\\System32 itself -> \\SystemRoot\\SysWOW64",
    2: "System32x is not System32: directories match as whole components",
    3: "\\SystemRoot\\System32\\drivers\\etc and below are exempt",
    4: "drivers\\etcx is not the exempt drivers\\etc (whole components)",
    5: "\\SystemRoot\\Sysnative\\x -> \\SystemRoot\\System32\\x",
    6: "other paths are not redirected",
    7: "names are counted: a Length that stops inside \"System32\" is not System32 (the bytes after Length are not "
       "part of the name)",
    8: "a result that does not fit in Redirected->MaximumLength: FALSE, nothing written",
    9: "a thread that disabled redirection gets none",
}


def _judge_redirect(seed, values) -> list[str]:
    out = []
    seen = {}
    for v in _values(values, "wow64.redirect", "name"):
        p = v.split(" ", 4)
        seen[int(p[0])] = p
    for i, (kind, ok, name) in enumerate(redirect_expected(seed)):
        p = seen.get(i)
        if p is None:
            out.append(f"name {i}: no record")
            continue
        got_ok = p[2] == "TRUE"
        got_name = p[4] if got_ok else ""
        want_name = name.decode() if ok else ""
        if got_ok != ok or (ok and (got_name != want_name or int(p[3]) != len(name))):
            out.append(f"name {i} (kind {kind}): Wow64RedirectName gave {p[2]} {got_name!r}, expected "
                       f"{'TRUE' if ok else 'FALSE'} {want_name!r}: {KIND_CLAUSES[kind]}")
    return out


# ------------------------------------------------------------------ the driver's layouts

POISON_IOCTL = 0xE3


def _poison(n: int) -> bytearray:
    return bytearray((POISON_IOCTL ^ i) & 0xFF for i in range(n))


def ioctl_expected(seed: int) -> dict[str, tuple[int, int | None, str]]:
    """step -> (status, Information or None, hex of what the test reports)."""
    rng = KtRng(seed, "wow64.ioctl32")
    r = [rng.random() for _ in range(8)]
    k = r[0] % 3
    event32 = 0xFFFFFFFF if k == 0 else 0xFFFFFFFE if k == 1 else 0x80000000 | (4 * (1 + r[1] % 0x3FFF))
    in32 = [event32, 0x80000000 | (r[1] >> 33), r[2] % 0x10000, r[3] & M32, 0x80000000 | (r[4] >> 33)]
    in64 = struct.pack("<QQIIQ", r[5], r[6], r[2] & M32, (r[3] >> 32) & M32, r[4])
    reply = (r[4] | 0xFFFFFFFF00000000, r[6] | 0x80000000, r[7] & M32, 1)
    req_poison = bytes(_poison(32))
    native_req_32 = struct.pack("<QQIIQ", sext32(in32[0]), in32[1], in32[2], in32[3], in32[4])
    out = {
        "capture32": (SUCCESS, 0, native_req_32.hex()),
        "capture32_short": (BUFFER_TOO_SMALL, 0, req_poison.hex()),
        "capture_kernelmode": (SUCCESS, 0, in64.hex()),
        "capture64": (SUCCESS, 0, in64.hex()),
        "capture64_short": (BUFFER_TOO_SMALL, 0, req_poison.hex()),
    }

    def reply_bytes(is32: bool, fits: bool) -> tuple[int, int, str]:
        buf = _poison(64)
        if not fits:
            return BUFFER_TOO_SMALL, 0, bytes(buf[:32]).hex()
        if is32:
            buf[0:16] = struct.pack("<IIII", reply[0] & M32, reply[1] & M32, reply[2], reply[3])
            return SUCCESS, 16, bytes(buf[:32]).hex()
        buf[0:24] = struct.pack("<QQII", reply[0], reply[1], reply[2], reply[3])
        return SUCCESS, 24, bytes(buf[:32]).hex()

    out["reply32"] = reply_bytes(True, True)
    out["reply32_short"] = reply_bytes(True, False)
    out["reply_kernelmode"] = reply_bytes(False, True)
    out["reply64"] = reply_bytes(False, True)
    out["reply64_short"] = reply_bytes(False, False)
    buf = _poison(48)
    cookie = (~in32[4]) & M64
    buf[0:16] = struct.pack("<IIII", cookie & M32, (in32[1] + in32[2]) & M32, in32[2], 1)
    out["driver32"] = (SUCCESS, 16, bytes(buf[:24]).hex())
    return out


IOCTL_CLAUSES = {
    "capture32": "a 32-bit requestor's WOWSAMPLE_REQUEST32: Event sign-extended, Buffer and Cookie zero-extended, "
                 "Length and Flags copied",
    "capture32_short": "a 32-bit input shorter than 20 bytes: STATUS_BUFFER_TOO_SMALL, *Request untouched",
    "capture_kernelmode": "a kernel-mode requestor (even in a WOW64 process) uses the native layout: "
                          "IoIs32bitProcess is FALSE",
    "capture64": "a native requestor's WOWSAMPLE_REQUEST is copied as it is",
    "capture64_short": "a native input of 20 bytes (a 32-bit request's size) is too short: STATUS_BUFFER_TOO_SMALL",
    "reply32": "a 32-bit requestor gets a WOWSAMPLE_REPLY32: 16 bytes (Cookie and Buffer truncated), "
               "Information 16, not a byte more",
    "reply32_short": "an output below 16 bytes: STATUS_BUFFER_TOO_SMALL, Information 0, nothing written",
    "reply_kernelmode": "a kernel-mode requestor gets the native WOWSAMPLE_REPLY (24 bytes)",
    "reply64": "a native requestor gets the native WOWSAMPLE_REPLY (24 bytes), Information 24",
    "reply64_short": "a native output below 24 bytes: STATUS_BUFFER_TOO_SMALL, Information 0, nothing written",
    "driver32": "through \\Device\\WowSample from a 32-bit requestor: the reply comes back as a WOWSAMPLE_REPLY32 "
                "(Cookie = ~Cookie truncated, Buffer + Length, Is32Bit 1), Information 16",
}


def _judge_ioctl(seed, values) -> list[str]:
    out = []
    for step, (status, info, hexs) in ioctl_expected(seed).items():
        got = _values(values, "wow64.ioctl32", step)
        if not got:
            out.append(f"{step}: no record ({IOCTL_CLAUSES[step]})")
            continue
        p = got[0].split()
        gs, gi, gh = int(p[0], 16), int(p[1], 16), p[2] if len(p) > 2 else ""
        problems = []
        if gs != status:
            problems.append(f"status 0x{gs:08x}, expected 0x{status:08x}")
        if step.startswith(("reply", "driver")) and gi != info:
            problems.append(f"Information {gi}, expected {info}")
        if gh != hexs:
            problems.append(f"bytes {gh}, expected {hexs}")
        if problems:
            out.append(f"{step}: " + "; ".join(problems) + f": {IOCTL_CLAUSES[step]}")
    return out


# ------------------------------------------------------------------ 32-bit and 64-bit programs

def _next(state: list[int]) -> int:
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & M64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def wowvm(argv: list[str]) -> tuple[dict[str, str], int]:
    """What user/programs/wowvm.c reports for argv (either build), and its exit status."""
    if len(argv) != 2:
        return {"print": "usage: wowvm SEED"}, 2
    state = [int(argv[1], 0) & M64]
    out = {}
    for i in range(4):
        want = ((_next(state) % 16) + 1) * 4096 + _next(state) % 4096
        size = (want + 4095) & ~4095
        off = (size // 2) & ~4095
        out[f"alloc{i}"] = f"0x0 {size}"
        out[f"fits{i}"] = "1"
        out[f"query{i}"] = f"0x0 1 1 0x1000 0x4 0x20000 {size - off} 1"
        out[f"protect{i}"] = "0x0 0x4 4096 1"
        out[f"free{i}"] = f"0x0 {size} 1"
    out["close"] = f"0x{INVALID_HANDLE:x}"
    out["process"] = "0x0 1 1"
    return out, 0


def _same_transcript(test: str, pairs: list[tuple[int, int]], values) -> list[str]:
    """Run a (32-bit) and run b (64-bit) reported the same records with the same values."""
    got: dict[str, str] = {}
    for t, k, v in values:
        if t == test:
            got[k] = v
    problems = []
    for a, b in pairs:
        ra = {k[len(f"u{a}."):]: v for k, v in got.items() if k.startswith(f"u{a}.")}
        rb = {k[len(f"u{b}."):]: v for k, v in got.items() if k.startswith(f"u{b}.")}
        for key in sorted(set(ra) | set(rb)):
            if ra.get(key) != rb.get(key):
                problems.append(f"{test}: the 32-bit build (run {a}) reported {key} = {ra.get(key, 'nothing')}, the "
                                f"64-bit build (run {b}) {rb.get(key, 'nothing')}: the same program must give the same "
                                f"transcript through the wow64 layer")
        if got.get(f"user{a}.exit") != got.get(f"user{b}.exit"):
            problems.append(f"{test}: exit status 32-bit {got.get(f'user{a}.exit')}, 64-bit {got.get(f'user{b}.exit')}")
    return problems


def _renumbered(test: str, values) -> list[tuple[str, str, str]]:
    """The harness numbers runs per test context (kernel/ps/usertest.c); when two tests of one
    boot share it, the second test's runs continue the count: number each test's from 1."""
    import re
    ks = [int(m.group(1)) for t, k, _ in values if t == test for m in [re.match(r"user(\d+)\.start$", k)] if m]
    base = min(ks) - 1 if ks else 0
    out = []
    for t, k, v in values:
        if t == test and base:
            m = re.match(r"(u|user)(\d+)\.(.*)$", k)
            if m:
                k = f"{m.group(1)}{int(m.group(2)) - base}.{m.group(3)}"
        out.append((t, k, v))
    return out


def judge_programs(seed: int, values) -> list[str]:
    from grader.models import usertest
    values = _renumbered("wow64.vm", _renumbered("wow64.seedcalc", values))
    rng = KtRng(seed, "wow64.seedcalc")
    x, rounds = rng.random(), rng.range(100, 3000)
    line = ["seedcalc.exe", str(x), str(rounds)]
    planned = [line, line, ["seedcalc.exe", f"0x{x:x}", "0"], ["seedcalc.exe"]]
    out = _same_transcript("wow64.seedcalc", [(1, 2)], values)
    out += usertest.judge_runs("wow64.seedcalc", planned, usertest.seedcalc, values)
    rng = KtRng(seed, "wow64.vm")
    vm = ["wowvm.exe", str(rng.random())]
    out += _same_transcript("wow64.vm", [(1, 2)], values)
    out += usertest.judge_runs("wow64.vm", [vm, vm], wowvm, values)
    return out


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "same_program":
        return judge_programs(seed, values)
    if checkpoint == "thunks":
        return judge_thunks(seed, values)
    if checkpoint == "redirect":
        return _judge_redirect(seed, values)
    if checkpoint == "ioctl32":
        return _judge_ioctl(seed, values)
    if checkpoint == "threads":  # w16t: grader/models/lab09t.py
        from grader.models import lab09t
        return lab09t.judge(seed, values)
    return []
