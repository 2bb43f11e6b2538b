"""Lab 09 exceptions model (w16x): what user/programs/wowseh.c, built 32-bit and run by the
ktest wow64.seh (labs/09-wow64/tests/wow64_seh_tests.c), must report for the seed, and the
contract clause (labs/09-wow64/exception.c, the dispatch path) each value proves.

The program draws every value from splitmix64 over its seed (the ktest's KtRandom), in this
order: per fault case the seven registers and EFlags, the faulting address, the value the
handler puts in one register; for each raise its parameter count, code, parameters and the
value the handler puts in EAX; then the final fault's registers and address.
"""
from __future__ import annotations

from grader.models.rng import KtRng

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
TEST = "wow64.seh"
ARITH = 0x8D5
AV, BREAKPOINT, ILLEGAL, DIVIDE, INVALID_PARAMETER = 0xC0000005, 0x80000003, 0xC000001D, 0xC0000094, 0xC000000D
REGS = ["Eax", "Ebx", "Ecx", "Edx", "Esi", "Edi", "Ebp"]
NATIVE = ["Rax", "Rbx", "Rcx", "Rdx", "Rsi", "Rdi", "Rbp"]
# name, op, the register the handler changes, nested behind a handler that continues the search
FAULTS = [("read", "read", 0, False), ("write", "write", 1, False), ("int3", "int3", 2, False),
          ("ud2", "ud2", 3, False), ("div", "div", 4, False), ("nested", "write", 5, True), ("ebp", "read", 6, False)]
CODES = {"read": AV, "write": AV, "int3": BREAKPOINT, "ud2": ILLEGAL, "div": DIVIDE}

TO32 = "Wow64ExceptionRecordTo32"
CTX32 = "Wow64ContextTo32"
FROM32 = "Wow64ContextFrom32 (NtContinue's thunk)"
REC_FIELDS = [
    ("ExceptionCode", f"{TO32}: ExceptionCode copied (the kernel's code for the fault: AV 0xC0000005, int 3 "
                      "0x80000003, ud2 0xC000001D, divide 0xC0000094)"),
    ("ExceptionFlags", f"{TO32}: ExceptionFlags copied"),
    ("ExceptionRecord", f"{TO32}: the nested ExceptionRecord pointer truncated to 32 bits (0 here)"),
    ("NumberParameters", f"{TO32}: NumberParameters copied, capped at 15 (an access violation has 2)"),
    ("ExceptionInformation[0]", f"{TO32}: ExceptionInformation[i] truncated for i < NumberParameters, the rest 0 "
                                "(AV: 0 read, 1 write)"),
    ("ExceptionInformation[1]", f"{TO32}: ExceptionInformation[1] of an access violation is the address touched, "
                                "truncated to 32 bits; entries past NumberParameters are 0"),
    ("ExceptionAddress - the faulting instruction", f"{TO32}: ExceptionAddress = the low 32 bits of the native "
                                                    "one (the faulting instruction; for a raise, the context's Eip)"),
]
CTX_FIELDS = [(r, f"{CTX32}: {r} = the low 32 bits of {n}") for r, n in zip(REGS, NATIVE)] + [
    ("EFlags & 0x8D5", f"{CTX32}: EFlags copied (the arithmetic flags the program loaded)"),
    ("EFlags.IF", f"{CTX32}: EFlags copied (IF is set in user mode)"),
    ("Eip - the faulting instruction", f"{CTX32}: Eip = the low 32 bits of Rip (the faulting instruction; int 3's "
                                       "own address)"),
    ("Esp - ESP at the fault", f"{CTX32}: Esp = the low 32 bits of Rsp (the program's ESP at the fault)"),
]
SEG_FIELDS = [
    ("SegCs", f"{CTX32}: SegCs 0x23 (32-bit user code)"),
    ("SegSs", f"{CTX32}: SegSs 0x2B"),
    ("SegDs", f"{CTX32}: SegDs 0x2B"),
    ("SegEs", f"{CTX32}: SegEs 0x2B"),
    ("SegFs", f"{CTX32}: SegFs 0x53 (the TEB32's selector)"),
    ("SegGs", f"{CTX32}: SegGs 0x2B"),
    ("ContextFlags", f"{CTX32}: ContextFlags CONTEXT_i386_FULL (0x10007: CONTEXT_i386 | CONTROL | INTEGER | "
                     "SEGMENTS)"),
    ("EstablisherFrame", "ntdll32: a handler gets its own registration record as EstablisherFrame"),
]
AFTER_FIELDS = [(r, f"{FROM32}: {n} = {r} zero-extended - the handler's registers come back (it changed one "
                    "of them), the others as they were at the fault") for r, n in zip(REGS, NATIVE)] + [
    ("EFlags & 0x8D5", f"{FROM32}: EFlags copied both ways (the handler flipped CF; {CTX32} copies it out)"),
]
CALLS = ("handler and pass calls", "the FS:[0] chain: ExceptionContinueSearch passes to the next record, "
         "ExceptionContinueExecution ends the dispatch (NtContinue at the handler's Eip) - each handler once")


def _next(state: list[int]) -> int:
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & M64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _hex(values: list[int]) -> str:
    return " ".join(f"0x{v & M32:x}" for v in values)


def expected(seed: int) -> dict[str, tuple[str, list[tuple[str, str]] | str]]:
    """key -> (value, the fields with their clauses - or one clause for the whole value)."""
    rng = KtRng(seed, TEST)
    state = [rng.random() & M64]
    out: dict[str, tuple[str, list[tuple[str, str]] | str]] = {}
    out["chain"] = ("0xffffffff", "the 32-bit TEB: FS:[0] starts as the chain's end, 0xFFFFFFFF")
    for name, op, fix_reg, nested in FAULTS:
        regs = [_next(state) & M32 for _ in range(7)]
        eflags = (_next(state) & ARITH) | 0x202
        address = 0x100 + _next(state) % 0xEF00
        if op in ("read", "write"):
            regs[5] = address
        if op == "div":
            regs[2] = 0
        fix = _next(state) & M32
        code = CODES[op]
        params = [0 if op == "read" else 1, address] if code == AV else [0, 0]
        out[f"{name}.rec"] = (f"0x{code:x} 0x0 0x0 {2 if code == AV else 0} {_hex(params)} 0", REC_FIELDS)
        out[f"{name}.ctx"] = (f"{_hex(regs)} 0x{eflags & ARITH:x} 1 0 0", CTX_FIELDS)
        out[f"{name}.seg"] = ("0x23 0x2b 0x2b 0x2b 0x53 0x2b 0x10007 1", SEG_FIELDS)
        after = list(regs)
        after[fix_reg] = fix
        out[f"{name}.after"] = (f"{_hex(after)} 0x{(eflags ^ 1) & ARITH:x}", AFTER_FIELDS)
        out[f"{name}.calls"] = (f"1 {1 if nested else 0}", CALLS[1])
        if nested:
            out[f"{name}.pass"] = (f"0x{code:x}", "the FS:[0] chain: the innermost handler (the head) is called "
                                                  "first, with the record")
    for name, many in (("raise", False), ("raise16", True)):
        n = (16 + _next(state) % 8) if many else (1 + _next(state) % 15)
        code = 0xE0000000 | (_next(state) & 0x0FFFFFFF)
        params = [_next(state) & M32 for _ in range(min(n, 15))]
        fix = _next(state) & M32
        if many:
            out[f"{name}.ret"] = (f"0x{INVALID_PARAMETER:x}", "Wow64ExceptionRecordFrom32: NumberParameters above 15 "
                                  "is STATUS_INVALID_PARAMETER (never capped), so NtRaiseException refuses the raise "
                                  "and no handler runs")
            out[f"{name}.calls"] = ("0 0", "Wow64ExceptionRecordFrom32: a refused raise reaches no handler")
            continue
        info = (params + [0, 0])[:2]
        out[f"{name}.rec"] = (f"0x{code:x} 0x0 0x0 {n} {_hex(info)} 0",
                              [(f, c.replace(TO32, f"Wow64ExceptionRecordFrom32 then {TO32}")) for f, c in REC_FIELDS])
        out[f"{name}.params"] = (_hex(params), "Wow64ExceptionRecordFrom32 then Wow64ExceptionRecordTo32: "
                                 "NumberParameters and every parameter of a 32-bit RaiseException carried (zero-"
                                 "extended, then truncated)")
        out[f"{name}.seg"] = ("0x23 0x2b 0x2b 0x2b 0x53 0x2b 0x10007 1", SEG_FIELDS)
        out[f"{name}.ret"] = (f"0x{fix:x}", f"{FROM32}: NtContinue resumes after RtlRaiseException with the "
                              "handler's Eax (the raise's context converted to 64 bits and back)")
        out[f"{name}.calls"] = ("1 0", CALLS[1])
    for _ in range(9):          # the final fault's registers, EFlags and address
        _next(state)
    out["final.pass"] = (f"0x{AV:x}", "the FS:[0] chain: a handler that continues the search is called")
    return out


def _values(values, test: str) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for t, k, v in values:
        if t == test:
            got.setdefault(k, []).append(v)
    return got


def judge(checkpoint: str, seed: int, values) -> list[str]:
    if checkpoint == "exception_conversions":
        return judge_conversions(seed, values)
    return judge_program(seed, values)


def judge_program(seed: int, values) -> list[str]:
    got = _values(values, TEST)
    rng = KtRng(seed, TEST)
    line = f"wowseh.exe {rng.random()}"
    problems = []
    if got.get("user1.start") != [f"wowseh.exe {line}"]:
        return [f"expected the harness to start `{line}`, saw {got.get('user1.start', 'no start record')}"]
    want = expected(seed)
    seen = {k[3:]: v for k, v in got.items() if k.startswith("u1.")}
    for key, (value, clauses) in want.items():
        s = seen.get(key)
        if s == [value]:
            continue
        if s is None:
            problems.append(f"{key}: the program reported nothing, expected `{value}`: "
                            + (clauses if isinstance(clauses, str) else "; ".join(c for _, c in clauses[:1]))
                            + " (an exception that never reached the 32-bit handler, or the process ended early)")
            continue
        if isinstance(clauses, str) or len(s) != 1 or len(s[0].split()) != len(value.split()):
            problems.append(f"{key}: reported {s}, expected `{value}`: "
                            + (clauses if isinstance(clauses, str) else "; ".join(sorted({c for _, c in clauses}))))
            continue
        for (field, clause), w, g in zip(clauses, value.split(), s[0].split()):
            if w != g:
                problems.append(f"{key} {field}: expected {w}, seen {g}: {clause}")
    problems += judge_ctxcheck(rng, got)
    for key in sorted(set(seen) - set(want) - {"final.op"}):
        problems.append(f"unexpected record u1.{key} = {seen[key]}")
    op = seen.get("final.op", ["?"])[0]
    if got.get("user1.exit") != [f"0x{AV:x}"]:
        problems.append(f"exit status {got.get('user1.exit', 'not reported')}, expected 0x{AV:x}: an exception no "
                        "handler takes (every handler continues the search) is raised second chance and ends the "
                        "process with its code")
    if got.get("user1.exception") != [f"0x{AV:x} {op}"]:
        problems.append(f"the process's exception {got.get('user1.exception', 'not reported')}, expected "
                        f"0x{AV:x} {op} (the final write's address): the second chance carries the record's code and "
                        "address to the process's end")
    return problems


# ------------------------------------------------------------------ the conversions on doubles

CONV = "wow64.exconv"
GUARD = 16
REC_TO32, CTX_TO32, CTX_FROM32, REC_FROM32 = range(4)
IN_SIZE = [0x98, 0x4D0, 0x2CC, 0x50]
OUT_SIZE = [0x50, 0x2CC, 0x4D0, 0x98]
FUNCS = ["Wow64ExceptionRecordTo32", "Wow64ContextTo32", "Wow64ContextFrom32", "Wow64ExceptionRecordFrom32"]
SUCCESS = 0

# (offset, size, name) of each output layout; what is not named is "the rest" (0).
LAYOUT32_REC = [(0, 4, "ExceptionCode"), (4, 4, "ExceptionFlags"), (8, 4, "ExceptionRecord"),
                (0xC, 4, "ExceptionAddress"), (0x10, 4, "NumberParameters")] + \
               [(0x14 + 4 * i, 4, f"ExceptionInformation[{i}]") for i in range(15)]
LAYOUT64_REC = [(0, 4, "ExceptionCode"), (4, 4, "ExceptionFlags"), (8, 8, "ExceptionRecord"),
                (0x10, 8, "ExceptionAddress"), (0x18, 4, "NumberParameters"), (0x1C, 4, "the alignment field")] + \
               [(0x20 + 8 * i, 8, f"ExceptionInformation[{i}]") for i in range(15)]
C32 = {"ContextFlags": 0, "Dr0": 4, "Dr1": 8, "Dr2": 0xC, "Dr3": 0x10, "Dr6": 0x14, "Dr7": 0x18, "SegGs": 0x8C,
       "SegFs": 0x90, "SegEs": 0x94, "SegDs": 0x98, "Edi": 0x9C, "Esi": 0xA0, "Ebx": 0xA4, "Edx": 0xA8, "Ecx": 0xAC,
       "Eax": 0xB0, "Ebp": 0xB4, "Eip": 0xB8, "SegCs": 0xBC, "EFlags": 0xC0, "Esp": 0xC4, "SegSs": 0xC8}
LAYOUT32_CTX = [(o, 4, n) for n, o in C32.items()] + [(0x1C, 112, "FloatSave"), (0xCC, 512, "ExtendedRegisters")]
C64 = {"Rax": 0x78, "Rcx": 0x80, "Rdx": 0x88, "Rbx": 0x90, "Rsp": 0x98, "Rbp": 0xA0, "Rsi": 0xA8, "Rdi": 0xB0,
       "R8": 0xB8, "R9": 0xC0, "R10": 0xC8, "R11": 0xD0, "R12": 0xD8, "R13": 0xE0, "R14": 0xE8, "R15": 0xF0,
       "Rip": 0xF8}
S64 = {"SegCs": 0x38, "SegDs": 0x3A, "SegEs": 0x3C, "SegFs": 0x3E, "SegGs": 0x40, "SegSs": 0x42}
LAYOUT64_CTX = [(o, 8, n) for n, o in C64.items()] + [(o, 2, n) for n, o in S64.items()] + \
               [(0x30, 4, "ContextFlags"), (0x34, 4, "MxCsr"), (0x44, 4, "EFlags")] + \
               [(0x48 + 8 * i, 8, n) for i, n in enumerate(["Dr0", "Dr1", "Dr2", "Dr3", "Dr6", "Dr7"])] + \
               [(8 * i, 8, f"P{i + 1}Home") for i in range(6)] + [(0x100, 0x3D0, "FltSave..LastExceptionFromRip")]
LAYOUTS = [LAYOUT32_REC, LAYOUT32_CTX, LAYOUT64_CTX, LAYOUT64_REC]
PAIRS = [("Eax", "Rax"), ("Ebx", "Rbx"), ("Ecx", "Rcx"), ("Edx", "Rdx"), ("Esi", "Rsi"), ("Edi", "Rdi"), ("Ebp", "Rbp"),
         ("Esp", "Rsp"), ("Eip", "Rip")]


def _u(b: bytes, off: int, size: int) -> int:
    return int.from_bytes(b[off:off + size], "little")


def _put(b: bytearray, off: int, size: int, value: int):
    b[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def convert(kind: int, src: bytes) -> tuple[int, bytes | None]:
    """The contract's status and output (None: nothing written)."""
    out = bytearray(OUT_SIZE[kind])
    if kind == REC_TO32:
        n = min(_u(src, 0x18, 4), 15)
        _put(out, 0, 4, _u(src, 0, 4)), _put(out, 4, 4, _u(src, 4, 4)), _put(out, 8, 4, _u(src, 8, 8))
        _put(out, 0xC, 4, _u(src, 0x10, 8)), _put(out, 0x10, 4, n)
        for i in range(n):
            _put(out, 0x14 + 4 * i, 4, _u(src, 0x20 + 8 * i, 8))
    elif kind == CTX_TO32:
        _put(out, 0, 4, 0x10007)
        for r32, r64 in PAIRS:
            _put(out, C32[r32], 4, _u(src, C64[r64], 8))
        _put(out, C32["EFlags"], 4, _u(src, 0x44, 4))
        for s, v in (("SegCs", 0x23), ("SegSs", 0x2B), ("SegDs", 0x2B), ("SegEs", 0x2B), ("SegGs", 0x2B),
                     ("SegFs", 0x53)):
            _put(out, C32[s], 4, v)
    elif kind == CTX_FROM32:
        _put(out, 0x30, 4, 0x100007)
        for r32, r64 in PAIRS:
            _put(out, C64[r64], 8, _u(src, C32[r32], 4))
        _put(out, 0x44, 4, _u(src, C32["EFlags"], 4))
        for s, v in (("SegCs", 0x23), ("SegSs", 0x2B), ("SegDs", 0x2B), ("SegEs", 0x2B), ("SegGs", 0x2B),
                     ("SegFs", 0x53)):
            _put(out, S64[s], 2, v)
    else:
        n = _u(src, 0x10, 4)
        if n > 15:
            return INVALID_PARAMETER, None
        _put(out, 0, 4, _u(src, 0, 4)), _put(out, 4, 4, _u(src, 4, 4)), _put(out, 8, 8, _u(src, 8, 4))
        _put(out, 0x10, 8, _u(src, 0xC, 4)), _put(out, 0x18, 4, n)
        for i in range(n):
            _put(out, 0x20 + 8 * i, 8, _u(src, 0x14 + 4 * i, 4))
    return SUCCESS, bytes(out)


def _clause(kind: int, field: str, src: bytes) -> str:
    f = FUNCS[kind]
    if field == "guard":
        return f"{f}: nothing is written past the structure's {OUT_SIZE[kind]:#x} bytes"
    if kind == REC_TO32:
        n = _u(src, 0x18, 4)
        if field.startswith("ExceptionInformation"):
            i = int(field[field.index("[") + 1:-1])
            return (f"{f}: ExceptionInformation[i] truncated to 32 bits for i < NumberParameters ({min(n, 15)} here)"
                    if i < min(n, 15) else f"{f}: the entries past NumberParameters ({min(n, 15)}) are 0")
        return {"NumberParameters": f"{f}: NumberParameters copied but capped at 15 ({n} here)",
                "ExceptionRecord": f"{f}: the nested ExceptionRecord truncated to its low 32 bits",
                "ExceptionAddress": f"{f}: ExceptionAddress truncated to its low 32 bits"}.get(
            field, f"{f}: {field} copied")
    if kind == REC_FROM32:
        n = _u(src, 0x10, 4)
        if n > 15:
            return f"{f}: NumberParameters {n} (above 15) is STATUS_INVALID_PARAMETER with nothing written (never capped)"
        if field.startswith("ExceptionInformation"):
            i = int(field[field.index("[") + 1:-1])
            return (f"{f}: ExceptionInformation[i] zero-extended for i < NumberParameters ({n} here)" if i < n
                    else f"{f}: the entries past NumberParameters ({n}) are 0")
        return {"ExceptionRecord": f"{f}: the nested ExceptionRecord zero-extended (never sign-extended)",
                "ExceptionAddress": f"{f}: ExceptionAddress zero-extended (never sign-extended)",
                "the alignment field": f"{f}: every one of the 0x98 bytes written: the alignment field 0"}.get(
            field, f"{f}: {field} copied")
    if kind == CTX_TO32:
        for r32, r64 in PAIRS:
            if field == r32:
                return f"{f}: {r32} = the low 32 bits of {r64}"
        if field.startswith("Seg"):
            return f"{f}: {field} {'0x23' if field == 'SegCs' else '0x53' if field == 'SegFs' else '0x2B'} " \
                   "(the selectors of 32-bit user code, whatever the native context holds)"
        return {"ContextFlags": f"{f}: ContextFlags CONTEXT_i386_FULL (0x10007)", "EFlags": f"{f}: EFlags copied"}.get(
            field, f"{f}: {field} is 0 (not captured: every other byte of the 0x2CC is 0)")
    for r32, r64 in PAIRS:
        if field == r64:
            return f"{f}: {r64} = {r32} zero-extended (the upper half 0, never a copy of bit 31)"
    if field.startswith("Seg"):
        return f"{f}: {field} {'0x23' if field == 'SegCs' else '0x53' if field == 'SegFs' else '0x2B'} whatever the " \
               "32-bit context says (the thread goes back to compatibility mode: never 64-bit code, never ring 0)"
    if field[0] == "R":
        return f"{f}: {field} is 0 (32-bit code has no R8-R15)"
    return {"ContextFlags": f"{f}: ContextFlags CONTEXT_AMD64_FULL (0x100007)", "EFlags": f"{f}: EFlags copied"}.get(
        field, f"{f}: {field} is 0 (every other byte of the 0x4D0 is 0)")


def _field(kind: int, off: int) -> str:
    if off >= OUT_SIZE[kind]:
        return "guard"
    for o, size, name in LAYOUTS[kind]:
        if o <= off < o + size:
            return name
    return "reserved"


def conversion_cases(seed: int) -> list[tuple[int, int, bytes, bytes]]:
    """(kind, NumberParameters, input, poison) of each case, in the ktest's order of draws."""
    rng = KtRng(seed, CONV)
    pattern = rng.random()
    poison = bytes((pattern >> (8 * (i % 8))) & 0xFF for i in range(0x4D0 + GUARD))
    # (kind, NumberParameters, bit 31 of every input word: 1 set, 2 clear, 0 as drawn)
    plan = [(REC_TO32, 2, 1), (REC_TO32, 15, 2), (REC_TO32, None, 0), (REC_TO32, 0, 0), (CTX_TO32, 0, 1),
            (CTX_TO32, 0, 2), (CTX_FROM32, 0, 1), (CTX_FROM32, 0, 2), (REC_FROM32, "r15", 1), (REC_FROM32, 15, 2),
            (REC_FROM32, None, 0)]
    cases = []
    for kind, n, bit31 in plan:
        if n is None:
            n = 16 + rng.random() % 1000
        elif n == "r15":
            n = rng.random() % 15
        src = bytearray()
        while len(src) < IN_SIZE[kind]:
            src += rng.random().to_bytes(8, "little")
        src = src[:IN_SIZE[kind]]
        for i in range(3, IN_SIZE[kind], 4):
            if bit31:
                src[i] = (src[i] | 0x80) if bit31 == 1 else (src[i] & 0x7F)
        if kind == REC_TO32:
            _put(src, 0x18, 4, n)
        elif kind == REC_FROM32:
            _put(src, 0x10, 4, n)
        cases.append((kind, n, bytes(src), poison))
    return cases


def judge_conversions(seed: int, values) -> list[str]:
    got = _values(values, CONV)
    problems = []
    for v, (kind, n, src, poison) in enumerate(conversion_cases(seed)):
        size = OUT_SIZE[kind] + GUARD
        status, out = convert(kind, src)
        want = (out if out is not None else poison[:OUT_SIZE[kind]]) + poison[OUT_SIZE[kind]:size]
        what = f"case {v} ({FUNCS[kind]}" + (f", NumberParameters {n}" if kind in (REC_TO32, REC_FROM32) else "") + ")"
        seen_status = got.get(f"v{v}.status")
        if seen_status != [f"0x{status:x}"]:
            problems.append(f"{what}: status {seen_status or 'not reported'}, expected 0x{status:x}: "
                            + _clause(kind, "NumberParameters" if kind == REC_FROM32 else "status", src))
        seen = b""
        for off in range(0, size, 64):
            line = got.get(f"v{v}.{off:x}")
            if not line or len(line) != 1:
                problems.append(f"{what}: no output bytes at {off:#x}")
                break
            seen += bytes.fromhex(line[0])
        if len(seen) != size:
            continue
        reported: set[str] = set()
        for off in range(size):
            if seen[off] != want[off]:
                field = _field(kind, off)
                if field in reported:
                    continue
                reported.add(field)
                lo = off if field in ("guard", "reserved") else next(o for o, s, nm in LAYOUTS[kind] if nm == field)
                width = 1 if field in ("guard", "reserved") else min(8, next(s for o, s, nm in LAYOUTS[kind]
                                                                          if nm == field))
                problems.append(f"{what}: {field} at {lo:#x}: expected {want[lo:lo + width][::-1].hex()}, seen "
                                f"{seen[lo:lo + width][::-1].hex()}: {_clause(kind, field, src)}")
    inv = f"0x{INVALID_PARAMETER:x}"
    if got.get("null") != [" ".join([inv] * 8)]:
        problems.append(f"NULL arguments: statuses {got.get('null', 'not reported')}, expected {inv} from each "
                        "conversion for a NULL input and for a NULL output: Record/Context NULL is "
                        "STATUS_INVALID_PARAMETER, nothing written")
    if got.get("null_changed") != ["0"]:
        problems.append(f"NULL arguments: {got.get('null_changed', '?')} bytes of the other argument changed: a call "
                        "refused for a NULL argument writes nothing")
    return problems


CTX_CLAUSES = {
    "ring0": ("status CS SS IOPL IF NT", "NtContinue (kernel/ke/exceptn.c): a context from user mode never chooses "
              "ring 0 - CS is forced to 0x33 (or 0x23), SS to 0x2B, IOPL and NT cleared, IF set - and the thread "
              "resumes with the context's RAX"),
    "rip_kernel": ("status", "NtContinue: a 64-bit RIP in kernel space is refused with STATUS_INVALID_PARAMETER"),
    "rip_noncanonical": ("status", "NtContinue: a non-canonical RIP is refused with STATUS_INVALID_PARAMETER (iretq "
                         "would fault in ring 0)"),
    "rsp_kernel": ("status", "NtContinue: a 64-bit RSP in kernel space is refused with STATUS_INVALID_PARAMETER"),
    "rsp_noncanonical": ("status", "NtContinue: a non-canonical RSP is refused with STATUS_INVALID_PARAMETER"),
    "null": ("statuses", "NtContinue(NULL) and NtRaiseException(NULL, ..) are STATUS_ACCESS_VIOLATION"),
    "kernel_pointer": ("status", "NtContinue with a kernel pointer is STATUS_ACCESS_VIOLATION (captured from user "
                       "space only)"),
    "raise_16": ("status", "NtRaiseException: more than 15 parameters is STATUS_INVALID_PARAMETER"),
}


def judge_ctxcheck(rng: KtRng, got: dict[str, list[str]]) -> list[str]:
    """The second run (user2): ctxcheck.exe with the ktest's next KtRandom."""
    seed2 = rng.random()
    line = f"ctxcheck.exe {seed2}"
    if got.get("user2.start") != [f"ctxcheck.exe {line}"]:
        return [f"expected the harness to start `{line}` after wowseh.exe, saw {got.get('user2.start', 'nothing')}"]
    state = [seed2]
    for _ in range(3):           # the flags, the kernel and the non-canonical addresses
        _next(state)
    code = 0xE0000000 | (_next(state) & 0x0FFFFFFF)
    inv, av = f"0x{INVALID_PARAMETER:x}", f"0x{AV:x}"
    want = {"ring0": "0x5ec0ffee 0x33 0x2b 0 1 0", "rip_kernel": inv, "rip_noncanonical": inv, "rsp_kernel": inv,
            "rsp_noncanonical": inv, "null": f"{av} {av}", "kernel_pointer": av, "raise_16": inv}
    seen = {k[3:]: v for k, v in got.items() if k.startswith("u2.")}
    problems = []
    for key, value in want.items():
        if seen.get(key) != [value]:
            fields, clause = CTX_CLAUSES[key]
            problems.append(f"ctxcheck {key} ({fields}): expected `{value}`, seen {seen.get(key, 'nothing')}: {clause}")
    address = seen.get("final_address", ["?"])[0]
    if got.get("user2.exit") != [f"0x{code:x}"] or got.get("user2.exception") != [f"0x{code:x} {address}"]:
        problems.append(f"ctxcheck: exit {got.get('user2.exit', 'not reported')}, exception "
                        f"{got.get('user2.exception', 'not reported')}, expected 0x{code:x} and `0x{code:x} {address}`: "
                        "a 64-bit first-chance raise goes to ntdll64's KiUserExceptionDispatcher, which (no 64-bit "
                        "handlers) raises it second chance: the process ends with the record's code and address")
    for key in sorted(set(seen) - set(want) - {"final_address"}):
        problems.append(f"ctxcheck: unexpected record u2.{key} = {seen[key]}")
    return problems
