"""Lab 00 model: what the seeded lab 00 tests must report, computed from the seed.

bugcheck_stop: the four parameters of the deliberate KeBugCheckEx and the seeded call
chain between the test and KeBugCheckEx (labs/00-bugcheck/tests/bugcheck_tests.c);
kernel_page_fault: the faulting address and the access. The kernel announces them in
KTEST VALUE ... stop_params / backtrace, and the verdict compares the STOP line and the
BT records with that announcement; this model checks that the announcement is the one
the seed gives, so a test (or a student) cannot move the goal posts.
"""
from __future__ import annotations

from grader.models.rng import KtRng

_CRASH_NAMES = ("KtCrashA", "KtCrashB", "KtCrashC")
_CHAIN_NAMES = ("KtChainA", "KtChainB", "KtChainC")


def chain_expected(seed: int) -> tuple[int, list[str]]:
    """rtl.stack_chain: the seeded depth and the frames the walk must start with, innermost first."""
    rng = KtRng(seed, "rtl.stack_chain")
    depth = rng.range(3, 8)
    steps = [rng.range(0, 2) for _ in range(depth)]
    names: list[str] = []
    for level in range(depth - 1, -1, -1):
        names += ["KtChainNext", _CHAIN_NAMES[steps[level]]]
    names.append("KtTestStackChain")
    return depth, names


def _judge_chain(seed, values) -> list[str]:
    out: list[str] = []
    test = "rtl.stack_chain"
    depth, names = chain_expected(seed)
    text = _one(values, test, "depth", "the seeded call chain", out)
    if text is not None and text.strip() != str(depth):
        out.append(f"the seeded call chain: expected depth {depth}, the test announced {text}")
    text = _one(values, test, "captured", "*Captured of the walk", out)
    frames = []
    for v in _values(values, test, "frame"):
        f = v.split()
        frames.append((int(f[0]), f[2] if len(f) > 2 else "?"))
    if [i for i, _ in frames] != list(range(len(frames))):
        out.append(f"the walk's frames: expected records numbered 0, 1, 2, ..., seen {[i for i, _ in frames]}")
        return out
    if text is not None and text.strip() != str(len(frames)):
        out.append(f"*Captured = the number stored: the walk reported {text.strip()} frames, "
                   f"the test printed {len(frames)}")
    seen = [n for _, n in frames]
    for i, want in enumerate(names):
        got = seen[i] if i < len(seen) else "(none)"
        if got != want:
            out.append(f"the walk of the seeded chain, innermost first: frame {i} expected {want}, seen {got} "
                       f"(expected {','.join(names)}, ... ,KiBootEntry64; seen {','.join(seen)})")
            break
    if seen and seen[-1] != "KiBootEntry64":
        out.append(f"the walk ends at the zero frame pointer pushed by the boot code: last frame expected "
                   f"KiBootEntry64, seen {seen[-1]}")
    return out


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def _one(values, test, key, clause, out):
    seen = _values(values, test, key)
    if len(seen) != 1:
        out.append(f"{clause}: expected one KTEST VALUE {test} {key} record, seen {len(seen)}")
        return None
    return seen[0]


def bugcheck_expected(seed: int) -> tuple[list[int], list[str]]:
    rng = KtRng(seed, "ke.bugcheck_deliberate")
    params = [rng.random() for _ in range(4)]
    depth = rng.range(2, 4)
    steps = [rng.range(0, 2) for _ in range(depth)]
    chain = ["KeBugCheckEx"]
    for level in range(depth - 1, -1, -1):
        chain += ["KtCrashNext", _CRASH_NAMES[steps[level]]]
    chain.append("KtTestBugCheckDeliberate")
    return params, chain


def page_fault_expected(seed: int) -> tuple[int, int]:
    rng = KtRng(seed, "ke.page_fault")
    va = 0x10000000 + (rng.range(0, 0x3FFFFFF) << 3)
    write = rng.range(0, 1)
    return va, write


def _judge_bugcheck(seed, values) -> list[str]:
    out: list[str] = []
    params, chain = bugcheck_expected(seed)
    test = "ke.bugcheck_deliberate"
    text = _one(values, test, "stop_params", "KeBugCheckEx parameters P1..P4", out)
    if text is not None:
        want = " ".join(f"0x{p:016x}" for p in params)
        if text.split() != want.split():
            out.append(f"KeBugCheckEx parameters P1..P4 (seeded): expected {want}, announced {text}")
    text = _one(values, test, "backtrace", "the walk of the seeded call chain", out)
    if text is not None and text.split(",") != chain:
        out.append(f"the walk of the seeded call chain: expected {','.join(chain)}, announced {text}")
    return out


def _judge_page_fault(seed, values) -> list[str]:
    out: list[str] = []
    va, write = page_fault_expected(seed)
    test = "ke.page_fault"
    text = _one(values, test, "stop_params", "PAGE_FAULT_IN_NONPAGED_AREA parameters", out)
    if text is not None:
        f = text.split()
        want = [f"0x{va:016x}", f"0x{write:x}", f[2] if len(f) == 4 else "<the faulting RIP>",
                f"0x{2 if write else 0:x}"]
        if f != want:
            out.append(f"PAGE_FAULT_IN_NONPAGED_AREA P1 (address), P2 (access, 1 = write), P4 (error code): "
                       f"expected {' '.join(want)}, announced {' '.join(f)}")
    return out


_JUDGES = {
    "stack_chain": _judge_chain,
    "bugcheck_stop": _judge_bugcheck,
    "kernel_page_fault": _judge_page_fault,
}


def stop_params(checkpoint: str, seed: int) -> tuple:
    """The STOP parameters the seed gives (lab.toml's "seed" entries; None where it gives none)."""
    if checkpoint == "bugcheck_stop":
        return tuple(bugcheck_expected(seed)[0])
    if checkpoint == "kernel_page_fault":
        va, write = page_fault_expected(seed)
        return va, write, None, 2 if write else 0     # P3, the faulting RIP, is announced by the test
    return None, None, None, None


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab00.py has no model for checkpoint {checkpoint!r}"]
    return fn(seed, values)
