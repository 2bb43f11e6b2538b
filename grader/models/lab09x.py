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
