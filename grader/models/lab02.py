"""Lab 02 model: what the seeded lab 02 tests must report, computed from the seed.

translate: the seeded mappings of paging.translate (labs/02-paging/tests/paging_tests.c)
and the seeded offset probed in each; the kernel reports every MmTranslateAddress result
as `KTEST VALUE paging.translate translation <va> <pa>` and this model checks each against
the frame the seed mapped there plus the offset (the contract: a PT entry gives its
frame's address plus Va's low 12 bits).
fault_after_unmap: the faulting address the test announces in stop_params must be the
seeded one (so the STOP line's P1 is judged against the seed, not the kernel's word).
"""
from __future__ import annotations

from grader.models.rng import KtRng

PAGE_SHIFT = 12
MM_HIGHEST_USER_ADDRESS = 0x00007FFFFFFEFFFF
MM_SYSTEM_PTE_START = 0xFFFFF88000000000


def _random_va(rng: KtRng, user: bool) -> int:
    low = rng.range(1, (1 << 35) - 2) << PAGE_SHIFT
    return low if user else (0xFFFF800000000000 | low)


def translate_expected(seed: int) -> list[tuple[int, int]]:
    """(va + offset, physical) for every mapping of paging.translate, in the test's order."""
    rng = KtRng(seed, "paging.translate")
    n = rng.range(40, 96)
    vas: list[int] = []
    pfns: list[int] = []
    for i in range(n):
        while True:
            va = _random_va(rng, bool(i & 1))
            if i > 4 and i % 5 == 0:
                va = (vas[i - 3] & ~0x1FFFFF) | (rng.range(0, 511) << PAGE_SHIFT)
            if va not in vas:
                break
        vas.append(va)
        pfns.append(rng.range(1, 0xFFFFFFF))
    out = []
    for i in range(n):
        offset = rng.range(0, (1 << PAGE_SHIFT) - 1)
        out.append((vas[i] + offset, (pfns[i] << PAGE_SHIFT) + offset))
    return out


def fault_va_expected(seed: int) -> int:
    rng = KtRng(seed, "paging.fault_after_unmap")
    va = MM_SYSTEM_PTE_START + (rng.range(0, 4095) << PAGE_SHIFT)
    return va + rng.range(0, 511) * 8


def _values(values, test, key):
    return [v for t, k, v in values if t == test and k == key]


def _judge_translate(seed, values) -> list[str]:
    want = translate_expected(seed)
    seen = _values(values, "paging.translate", "translation")
    n = _values(values, "paging.translate", "mappings")
    out: list[str] = []
    if n and n[0].strip() != str(len(want)):
        out.append(f"paging.translate: the seed makes {len(want)} mappings, the test reported {n[0].strip()}")
    if len(seen) != len(want):
        out.append(f"MmTranslateAddress of every seeded mapping: expected {len(want)} translations, "
                   f"{len(seen)} were reported (the test stopped early: see its failing check)")
    for (va, pa), text in zip(want, seen):
        f = text.split()
        try:
            sva, spa = int(f[0], 0), int(f[1], 0)
        except (IndexError, ValueError):
            out.append(f"paging.translate: cannot read the translation record {text!r}")
            break
        if sva != va:
            out.append(f"paging.translate: the seed probes 0x{va:016x}, the test reported 0x{sva:016x} "
                       f"(the test and the model disagree on the seeded addresses)")
            break
        if spa != pa:
            out.append(f"MmTranslateAddress(0x{va:016x}): a PT entry gives its frame's address plus the low 12 "
                       f"bits of Va: expected physical 0x{pa:x} (frame 0x{pa >> 12:x} + 0x{pa & 0xFFF:x}), "
                       f"seen 0x{spa:x}")
            break
    return out


def _judge_fault(seed, values) -> list[str]:
    want = fault_va_expected(seed)
    ann = _values(values, "paging.fault_after_unmap", "stop_params")
    if not ann:
        return []  # the test stopped before announcing: its own verdict says why
    try:
        p1 = int(ann[0].split()[0], 0)
    except (IndexError, ValueError):
        return [f"paging.fault_after_unmap: cannot read the announced stop_params {ann[0]!r}"]
    if p1 != want:
        return [f"PAGE_FAULT_IN_NONPAGED_AREA P1 = the faulting address: the seed gives 0x{want:016x}, "
                f"the test announced 0x{p1:016x}"]
    return []


def stop_params(checkpoint: str, seed: int) -> tuple:
    """The STOP parameters the seed gives (lab.toml's "seed" entries; None where it gives none)."""
    if checkpoint == "fault_after_unmap":
        return fault_va_expected(seed), 0, None, 0    # P3, the faulting RIP, is announced by the test
    return None, None, None, None


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "translate":
        return _judge_translate(seed, values)
    if checkpoint == "fault_after_unmap":
        return _judge_fault(seed, values)
    return []
