"""Lab 09 model of the checkpoints `files` and `span` (w16f): what user/programs/wowfile.c and
user/programs/wowspan.c report, computed from the seed, for each build; the kernel only runs
them (labs/09-wow64/tests/wow64_file_tests.c).

files (wow64.files): run 1 is the 32-bit build (SysWOW64, through the wow64 layer and your
thunks), run 2 the 64-bit one, with the same seed. Every record of each run is judged against
the program's model for its build (which copy of wowdata.bin each open reached, the bytes
read, the ioctl reply in the caller's layout, every canary), then the records that must agree
are compared between the builds. A difference names the contract clause it breaks.
span (wow64.span): runs 1-3 are wowspan built 32-bit (2 GiB), 32-bit large-address aware
(4 GiB) and 64-bit: fixed ranges past and across the limit, then reservations top-down and
bottom-up until the allocator refuses; the limits are judged from the summary records.
"""
from __future__ import annotations

from grader.models.lab09 import _renumbered
from grader.models.rng import KtRng

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
SIZE = 5000
EOF_ = 0xC0000011
FNV0 = 0x811C9DC5

CLAUSES = {
    "open": "whNtOpenFile/whNtCreateFile: the OBJECT_ATTRIBUTES32 and its STRING32 converted, *FileHandle "
            "written back as 4 bytes on success only (the canary after it intact), the IO_STATUS_BLOCK32 by the "
            "write-back rule (8 bytes, not one past)",
    "which.a": "redirection: \\SystemRoot\\System32\\x opened from a 32-bit process is SysWOW64's x "
               "(whNtOpenFile passes the name through Wow64RedirectName)",
    "which.b": "redirection off: after Wow64DisableFsRedirection the name is not redirected (whNtCreateFile "
               "redirects only while the thread's state is enabled)",
    "which.c": "nested disable: a second Wow64DisableFsRedirection keeps redirection off",
    "which.d": "nested revert: reverting the inner disable restores DISABLED, so redirection stays off",
    "which.e": "revert: reverting the outer disable restores ENABLED: System32 is SysWOW64 again",
    "which.f": "Sysnative: a 32-bit process names the real System32 as \\SystemRoot\\Sysnative (64-bit: no such "
               "folder)",
    "which.dup": "whNtDuplicateObject: the duplicate names the same file",
    "redir": "Wow64DisableFsRedirection/Wow64RevertFsRedirection: *OldValue the state before (ENABLED 0, "
             "DISABLED 1), STATUS_SUCCESS",
    "read": "whNtReadFile: handles sign-extended, Buffer widened, ByteOffset copied from the LARGE_INTEGER32 (0 "
            "slot: the file's position), the IO_STATUS_BLOCK32 written after a success (Status, Information's "
            "low 32 bits; not one byte past) and left as it was after an error",
    "write": "whNtWriteFile: as whNtReadFile (the status passed through, the IO_STATUS_BLOCK32 by the rule)",
    "ioctl": "whNtDeviceIoControlFile passes the buffers through and the IO_STATUS_BLOCK32 by the rule; "
             "\\Device\\WowSample (your ioctl32.c) reads a 32-bit caller's WOWSAMPLE_REQUEST32 and writes a "
             "WOWSAMPLE_REPLY32 - 16 bytes, not one more - with Information 16; a native caller's are 32/24 bytes; "
             "short buffers refused with STATUS_BUFFER_TOO_SMALL",
    "dup": "whNtDuplicateObject: the process handles (-1) sign-extended, *TargetHandle written as 4 bytes (the "
           "canary after it intact)",
    "close": "whNtClose: the handle sign-extended, the status passed through",
    "bad": "a bad pointer the kernel is given (widened, not read by the thunk) gives STATUS_ACCESS_VIOLATION, "
           "passed through; nothing written",
    "bits": "the 32-bit build runs as a 32-bit (WOW64) process",
}


def _clause(key: str) -> str:
    if key in CLAUSES:
        return CLAUSES[key]
    head = key.split(".")[0]
    return CLAUSES.get(head, "the program's transcript")


def wowdata(set_name: str) -> bytes:
    """tools/genwowdata.py's bytes of one copy (written here again: the grader judges)."""
    salt = {"System32": 0x64, "SysWOW64": 0x32}[set_name]
    return set_name.encode() + bytes((((i * 0x9E3779B1 + salt) & M32) >> 11) & 0xFF for i in range(8, SIZE))


def _fnv(data: bytes) -> int:
    h = FNV0
    for b in data:
        h = ((h ^ b) * 0x01000193) & M32
    return h


class Prng:
    """user/programs/wowfile.c's and wowspan.c's Next and Range."""

    def __init__(self, seed: int):
        self.x = seed & M64

    def next(self) -> int:
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def range(self, low: int, high: int) -> int:
        return low + self.next() % (high - low + 1)


def wowfile(seed: int, bits: int) -> dict[str, str]:
    """Every record of wowfile.exe SEED in one build."""
    x = Prng(seed)
    native = "System32"
    own = "SysWOW64" if bits == 32 else "System32"
    ok_open = "0x0 1 1 1 0"
    out = {"bits": str(bits)}
    out["open.a"] = ok_open
    out["which.a"] = f"0x0 {own} 1"
    for k in "bcd":
        out[f"open.{k}"] = ok_open
        out[f"which.{k}"] = f"0x0 {native} 1"
    out["redir"] = "0x0 0 0x0 1 0x0 0x0" if bits == 32 else "native"
    out["open.e"] = ok_open
    out["which.e"] = f"0x0 {own} 1"
    if bits == 32:
        out["open.f"] = ok_open
        out["which.f"] = f"0x0 {native} 1"
    else:
        out["open.f"] = "0xc0000034 1 1 1 0"
        out["which.f"] = "0xc0000008 - 1"
    data = wowdata(own)

    def read(key: str, offset: int, length: int) -> int:
        if offset >= SIZE:
            out[key] = f"0x{EOF_:x} 0 0x{FNV0:08x} 1 1 1"
            return 0
        got = data[offset:offset + length]
        out[key] = f"0x0 {len(got)} 0x{_fnv(got):08x} 1 1 1"
        return len(got)

    read("read.start", 0, x.range(1, 64))
    at = x.range(100, 3000)
    read("read.middle", at, x.range(100, 1500))
    read("read.tail", SIZE - x.range(1, 50), 100)
    read("read.end", SIZE, x.range(1, 16))
    read("read.past", SIZE + x.range(1, 1000), 8)
    pos = read("read.pos1", 0, x.range(1, 700))
    read("read.pos2", pos, x.range(1, 700))
    read("read.zero", x.range(0, 4000), 0)
    out["write.readonly"] = "0xc0000022 1"
    out["open.w"] = "0xc0000022 1 1 1 0"
    out["open.null"] = ok_open
    wl = x.range(1, 4096)
    out["write.null"] = f"0x0 {wl} {wl} 1 1"
    out["open.sample"] = ok_open
    mask = M32 if bits == 32 else M64
    fill = f"0x{0xA5A5A5A5A5A5A5A5 & mask:x}"
    for key, short in (("ioctl.a", None), ("ioctl.b", None), ("ioctl.shortin", "in"), ("ioctl.shortout", "out"),
                       ("ioctl.badcode", "code")):
        cookie = x.next()
        x.range(1, 0x7FFF)                       # Event
        buffer = x.range(0x10000, 0x3FFFFFFF) & ~0xF
        length = x.range(1, 0x10000)
        x.next()                                 # Flags
        if short is None:
            info = 16 if bits == 32 else 24
            out[key] = (f"0x0 {info} 0x{~cookie & mask:x} 0x{(buffer + length) & mask:x} {length} "
                        f"{1 if bits == 32 else 0} 1 1 1")
        else:
            status = 0xC0000010 if short == "code" else 0xC0000023
            out[key] = f"0x{status:x} 0 {fill} {fill} 2779096485 2779096485 1 1 1"
    out["dup"] = "0x0 1 1"
    out["which.dup"] = f"0x0 {own} 1"
    out["close.dup"] = "0x0 0xc0000008"
    out["bad.buffer"] = "0xc0000005 1"
    out["bad.data"] = "0xc0000005 1"
    out["bad.handle"] = "0xc0000008 1"
    out["close"] = "0x0 0x0 0x0"
    return out


# The fields of each record (for messages) and which must agree between the builds.
FIELDS = {
    "open": ["status", "handle written (on success) / untouched (on failure)", "canary after the handle",
             "canary after the IO_STATUS_BLOCK", "IO_STATUS_BLOCK.Status"],
    "which": ["status", "copy", "canary after the IO_STATUS_BLOCK"],
    "read": ["status", "bytes read (Information)", "fnv of the bytes", "bytes past them untouched",
             "canary after the IO_STATUS_BLOCK", "IO_STATUS_BLOCK.Status = the status (success) / untouched (error)"],
    "ioctl": ["status", "Information", "reply Cookie", "reply Buffer", "reply Length", "reply Is32Bit",
              "canary after the reply", "canary after the IO_STATUS_BLOCK",
              "IO_STATUS_BLOCK.Status = the status (success) / untouched (error)"],
    "write.null": ["status", "length", "Information", "IO_STATUS_BLOCK.Status", "canary after the IO_STATUS_BLOCK"],
}
# Fields allowed to differ between the builds (index lists), per record kind; None: the whole record.
DIFFER = {"bits": None, "redir": None, "which": [1], "which.f": None, "open.f": None, "read": [2],
          "ioctl": [1, 2, 3, 5]}


def _kind(key: str) -> str:
    return key.split(".")[0] if key.split(".")[0] in ("open", "which", "read", "ioctl") else key


def _describe(key: str, got: str | None, want: str) -> str:
    if got is None:
        return f"{key}: expected `{want}`, not reported"
    names = FIELDS.get(_kind(key)) or FIELDS.get(key)
    g, w = got.split(), want.split()
    if names and len(g) == len(w) == len(names):
        diffs = [f"{names[i]} {g[i]} (expected {w[i]})" for i in range(len(w)) if g[i] != w[i]]
        return f"{key}: " + ", ".join(diffs)
    return f"{key}: `{got}` (expected `{want}`)"


def _runs(values, test: str) -> dict[int, dict[str, str]]:
    runs: dict[int, dict[str, str]] = {}
    for t, k, v in values:
        if t != test:
            continue
        if k.startswith("u") and "." in k and k[1:k.index(".")].isdigit():
            n = int(k[1:k.index(".")])
            runs.setdefault(n, {})[k[k.index(".") + 1:]] = v
        elif k.startswith("user") and "." in k and k[4:k.index(".")].isdigit():
            n = int(k[4:k.index(".")])
            runs.setdefault(n, {})["@" + k[k.index(".") + 1:]] = v
    return runs


def _judge_run(test: str, k: int, what: str, line: str, seen: dict[str, str], want: dict[str, str]) -> list[str]:
    out = []
    if seen.get("@start") != f"{line.split()[0]} {line}":
        return [f"{test} run {k} ({what}): expected the harness to start `{line}`, saw {seen.get('@start')}"]
    for key, value in want.items():
        if seen.get(key) != value:
            out.append(f"{test} run {k} ({what}): {_describe(key, seen.get(key), value)}: {_clause(key)}")
    for key in sorted(set(seen) - set(want)):
        if not key.startswith("@"):
            out.append(f"{test} run {k} ({what}): unexpected record {key} = {seen[key]}")
    if seen.get("@exit") != "0x0":
        out.append(f"{test} run {k} ({what}): exit status must be 0x0, was {seen.get('@exit', 'not reported')}"
                   + (f" (exception {seen['@exception']})" if "@exception" in seen else ""))
    return out


def _agree(test: str, a: dict[str, str], b: dict[str, str]) -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        if key.startswith("@") and key not in ("@exit",):
            continue
        kind = _kind(key)
        rule = DIFFER.get(key, DIFFER.get(kind, []))
        if rule is None:
            continue
        va, vb = (a.get(key) or "").split(), (b.get(key) or "").split()
        if len(va) != len(vb):
            out.append(f"{test}: {key} is `{a.get(key)}` in the 32-bit build and `{b.get(key)}` in the 64-bit one: "
                       f"they must agree ({_clause(key)})")
            continue
        for i, (x, y) in enumerate(zip(va, vb)):
            if i not in rule and x != y:
                names = FIELDS.get(kind) or FIELDS.get(key)
                name = names[i] if names and i < len(names) else f"field {i + 1}"
                out.append(f"{test}: {key}'s {name} is {x} in the 32-bit build and {y} in the 64-bit one: the same "
                           f"program must agree through the wow64 layer ({_clause(key)})")
    return out


def judge_files(seed: int, values) -> list[str]:
    test = "wow64.files"
    rng = KtRng(seed, test)
    s = rng.random()
    line = f"wowfile.exe {s}"
    runs = _runs(_renumbered(test, values), test)
    out = []
    for k, bits in ((1, 32), (2, 64)):
        out += _judge_run(test, k, f"{bits}-bit", line, runs.get(k, {}), wowfile(s, bits))
    if not out:
        out += _agree(test, runs.get(1, {}), runs.get(2, {}))
    return out


LIMIT_2G, LIMIT_4G = 0x7FFEFFFF, 0xFFFEFFFF


def judge_span(seed: int, values) -> list[str]:
    test = "wow64.span"
    rng = KtRng(seed, test)
    s = rng.random()
    x = Prng(s)
    x.next()                                     # fixed.below's offset
    cap = 40 + x.next() % 40
    runs = _runs(_renumbered(test, values), test)
    out = []
    plan = [(1, "wowspan.exe", 32, False), (2, "wowspanl.exe", 32, True), (3, "wowspan.exe", 64, True)]
    counts = {}
    for k, image, bits, laa in plan:
        seen = runs.get(k, {})
        what = f"{bits}-bit{' large-address-aware' if bits == 32 and laa else ''} {image}"
        line = f"wowspan.exe {s}"
        if seen.get("@start") != f"{image} {line}":
            out.append(f"{test} run {k} ({what}): expected the harness to start `{image} {line}`, saw "
                       f"{seen.get('@start')}")
            continue
        want = {"image": f"{bits} {1 if laa else 0}"}
        if bits == 32:
            want.update({"fixed.past": "0xc00000f0", "fixed.across": "0xc00000f2", "fixed.below": "0x0"})
        else:
            want.update({"fixed.past": "0x0", "fixed.across": "0x0", "fixed.below": "0x0"})
        clauses = {"image": "the loader keeps the image's IMAGE_FILE_LARGE_ADDRESS_AWARE (wowspanl.exe is linked "
                            "--large-address-aware)",
                   "fixed.past": "whNtAllocateVirtualMemory: a requested base above the limit is "
                                 "STATUS_INVALID_PARAMETER_2, nothing called",
                   "fixed.across": "whNtAllocateVirtualMemory: a requested range running past the limit is "
                                   "STATUS_INVALID_PARAMETER_4, nothing called",
                   "fixed.below": "a range that ends below the limit is granted"}
        for key, value in want.items():
            if seen.get(key) != value:
                out.append(f"{test} run {k} ({what}): {key} = {seen.get(key, 'not reported')}, expected {value}: "
                           f"{clauses[key]}")
        span = (seen.get("span") or "").split()
        if len(span) != 8:
            out.append(f"{test} run {k} ({what}): span record missing or malformed: {seen.get('span')}")
            continue
        count, capped, status = int(span[0]), int(span[1]), int(span[2], 16)
        low, high, above2, above4, first_top = (int(span[3], 16), int(span[4], 16), int(span[5]), int(span[6]),
                                                int(span[7], 16))
        counts[k] = count
        limit = LIMIT_4G if laa else LIMIT_2G
        if bits == 32:
            if high > limit or (not laa and above2) or above4:
                out.append(f"{test} run {k} ({what}): a reservation ended at 0x{high:x} ({above2} above 2 GiB, "
                           f"{above4} at or above 4 GiB): a 32-bit process never gets an address above its limit "
                           f"0x{limit:x}, even top-down (whNtAllocateVirtualMemory's ZeroBits mask)")
            if laa and above2 == 0:
                out.append(f"{test} run {k} ({what}): no reservation reached above 2 GiB (highest end 0x{high:x}): a "
                           f"large-address-aware process's limit is 0x{LIMIT_4G:x} (ZeroBits 0 -> 0xFFFFFFFF)")
            if capped or count >= cap or status == 0:
                out.append(f"{test} run {k} ({what}): {count} reservations of 64-256 MiB and no refusal (status "
                           f"0x{status:x}): the 32-bit address space must run out")
            if first_top == 0 or first_top > limit:
                out.append(f"{test} run {k} ({what}): the first top-down reservation ended at 0x{first_top:x}, "
                           f"above the limit 0x{limit:x}")
        else:
            if count != cap or not capped or status != 0:
                out.append(f"{test} run {k} ({what}): {count} reservations (status 0x{status:x}), expected all "
                           f"{cap}: the 64-bit address space does not run out")
            if above4 == 0 or first_top <= 0xFFFFFFFF:
                out.append(f"{test} run {k} ({what}): the 64-bit allocator's first top-down reservation ended at "
                           f"0x{first_top:x}: it should go above 4 GiB (the 32-bit runs prove the thunk's limit "
                           f"against that)")
        if low < 0x10000:
            out.append(f"{test} run {k} ({what}): a reservation at 0x{low:x}, below 64 KiB")
        for key in sorted(set(seen) - {"image", "fixed.past", "fixed.across", "fixed.below", "span"}):
            if not key.startswith("@"):
                out.append(f"{test} run {k} ({what}): unexpected record {key} = {seen[key]}")
        if seen.get("@exit") != "0x0":
            out.append(f"{test} run {k} ({what}): exit status must be 0x0, was {seen.get('@exit', 'not reported')}"
                       + (f" (exception {seen['@exception']})" if "@exception" in seen else ""))
    if 1 in counts and 2 in counts and counts[2] <= counts[1]:
        out.append(f"{test}: the large-address-aware run got {counts[2]} reservations, the 2 GiB one {counts[1]}: "
                   f"a large-address-aware process has twice the space (Wow64HighestUserAddress)")
    return out


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "files":
        return judge_files(seed, values)
    if checkpoint == "span":
        return judge_span(seed, values)
    return []
