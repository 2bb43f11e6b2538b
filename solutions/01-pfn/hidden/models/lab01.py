"""Lab 01 model: MiInitializePfnDatabase on the made-up layouts of pfn.layout
(solutions/01-pfn/hidden/hidden_tests.c), drawn from the seed exactly as the test draws
them. From the layout follow MmHighestPhysicalPage, the size of the database, the number
of frames that must end on the free list (MmNumberOfPhysicalPages and MmAvailablePages),
and whether there is room for the database at all (STATUS_NO_MEMORY when there is not).
"""
from __future__ import annotations

from grader.models.rng import KtRng

PAGE = 4096
MMPFN_SIZE = 32
LAYOUT_FRAMES = 192
MAX_RANGES = 32
STATUS_SUCCESS = 0
STATUS_NO_MEMORY = 0xC0000017


def _pages(highest: int) -> int:
    return -(-((highest + 1) * MMPFN_SIZE) // PAGE)


def layout(seed: int, base: int):
    """(usable, reserved, rng): lists of (first frame, frames), in the order the test draws them."""
    r = KtRng(seed, "pfn.layout")
    u0 = r.range(4, 9)
    h1 = r.range(1, 5)
    r0 = u0 + r.range(0, h1 - 1)
    s1 = u0 + h1
    l1 = r.range(40, 69)
    r1 = s1 + r.range(5, 19)
    r1n = r.range(1, 3)
    s2 = s1 + l1 + r.range(1, 3)
    l2 = r.range(30, 59)
    r2 = s2 + l2 - r.range(1, 3)
    r2n = r.range(2, 7)
    s3 = s2 + l2 + r.range(1, 3)
    l3 = r.range(10, 29)
    usable = [(base, u0), (base + s1, l1), (base + s2, l2), (base + s3, l3)]
    reserved = [(base, r0), (base + r1, r1n), (base + r2, r2n)]
    return usable, reserved, r


def expected_ok(seed: int, base: int) -> dict:
    usable, reserved, _ = layout(seed, base)
    highest = max(f + n - 1 for f, n in usable)
    res = {p for f, n in reserved for p in range(f, f + n)}
    free = [p for f, n in usable for p in range(f, f + n) if p not in res]
    pages = _pages(highest)
    # the longest run of usable, unreserved frames (the database must fit in one)
    longest = run = 0
    prev = None
    for p in free:
        run = run + 1 if prev is not None and p == prev + 1 else 1
        longest = max(longest, run)
        prev = p
    return {"highest": highest, "pages": pages, "usable": len(free) - pages, "fits": longest >= pages}


def _parse(text: str) -> dict:
    f = text.split()
    return {f[i]: f[i + 1] for i in range(0, len(f) - 1, 2)}


def _judge_layout(seed, values) -> list[str]:
    out: list[str] = []
    test = "pfn.layout"
    got = {k: v for t, k, v in values if t == test}
    if "layout_base" not in got:
        return [f"the made-up layout: no KTEST VALUE {test} layout_base record (the test stopped early)"]
    base = int(got["layout_base"], 0)
    want = expected_ok(seed, base)
    if "layout_ok" in got:
        seen = _parse(got["layout_ok"])
        status = int(seen.get("status", "0x1"), 16)
        if not want["fits"]:
            out.append("model error: the seeded layout has no room for the database")
        elif status != STATUS_SUCCESS:
            out.append(f"MiInitializePfnDatabase returns STATUS_SUCCESS when a usable run can hold the database: "
                       f"expected 0x00000000, seen 0x{status:08X}")
        else:
            if int(seen["highest"], 16) != want["highest"]:
                out.append(f"MmHighestPhysicalPage = the highest frame of any usable range: expected "
                           f"0x{want['highest']:x}, seen {seen['highest']}")
            for key, name in (("usable", "MmNumberOfPhysicalPages"), ("available", "MmAvailablePages")):
                if int(seen[key]) != want["usable"]:
                    d = int(seen[key]) - want["usable"]
                    out.append(f"{name} = the frames put on the free list (usable, unreserved, outside the "
                               f"{want['pages']} database pages): expected {want['usable']}, seen {seen[key]} "
                               f"({d:+d})")
    if "layout_full" in got:
        seen = _parse(got["layout_full"])
        frames = int(seen["frames"])
        _, _, r = layout(seed, base)
        if frames != r.range(40, LAYOUT_FRAMES):
            out.append(f"the second made-up layout: the test drew {frames} frames, the seed gives another count")
        status = int(seen["status"], 16)
        if status != STATUS_NO_MEMORY:
            out.append(f"STATUS_NO_MEMORY if no usable run can hold the database ({_pages(base + frames - 1)} "
                       f"pages, runs of {_pages(base + frames - 1) - 1}): expected 0xC0000017, seen 0x{status:08X}")
    return out


_JUDGES = {"database_layout": _judge_layout}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab01.py has no model for checkpoint {checkpoint!r}"]
    return fn(seed, values)
