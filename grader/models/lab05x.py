"""Lab 05 model, APC part (f12x): what the seeded APC tests must report, computed from the
seed (labs/05-threads/tests/apc_tests.c); the kernel reports, this model judges.

apc_order: apc.order draws n in [6, 10] kinds (0 normal, 1 special, 2 special, 3 normal,
the rest seeded, then all but the first two shuffled) and queues APC 0..n-1 in that order
at APC_LEVEL. A special APC goes after the special ones already queued, ahead of every
normal one; a normal one at the tail; so the delivery runs the special APCs in the order
they were queued, then the normal ones in the order they were queued. The kernel reports
`kinds` (N/S per APC) and `delivered` (the ids whose KernelRoutine ran, in order).
resource_shared_exclusive: resource.shared_exclusive (after one draw that poisons the
resource) draws n in [4, 7] modes (0 exclusive, 1 shared, n-1 exclusive, the rest seeded)
and queues waiter 0..n-1 on a resource the test owns exclusively. Its release hands the
resource to every shared waiter at once; each releases at once, and the last shared release
hands it to the first exclusive waiter, whose release hands it to the next: so the grant
order is the shared waiters in queue order, then the exclusive ones in queue order. The
kernel reports `modes` (X/S) and `granted` (ids in the order they owned it).
"""
from __future__ import annotations

from grader.models.rng import KtRng


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def apc_kinds(seed: int) -> list[bool]:
    """apc.order: TRUE for a normal APC, in queue order."""
    rng = KtRng(seed, "apc.order")
    n = rng.range(6, 10)
    normal = [True, False, False, True] + [False] * (n - 4)
    for i in range(4, n):
        normal[i] = bool(rng.random() & 1)
    for i in range(2, n):
        j = 2 + rng.range(0, n - 3)
        normal[i], normal[j] = normal[j], normal[i]
    return normal


def apc_order_expected(seed: int) -> list[int]:
    normal = apc_kinds(seed)
    return [i for i, n in enumerate(normal) if not n] + [i for i, n in enumerate(normal) if n]


def _timeline(order: list[int], normal: list[bool]) -> str:
    return " ".join(f"{i}{'' if normal[i] else 's'}" for i in order)


def _judge_apc_order(seed, values) -> list[str]:
    normal = apc_kinds(seed)
    kinds = "".join("N" if n else "S" for n in normal)
    seen_kinds = _values(values, "apc.order", "kinds")
    if seen_kinds != [kinds]:
        return [f"apc.order: the seeded kinds are {kinds}, the test reported {seen_kinds} (a test and model mismatch)"]
    delivered = _values(values, "apc.order", "delivered")
    if len(delivered) != 1:
        return [f"apc.order: expected one KTEST VALUE delivered record, seen {len(delivered)}"]
    try:
        seen = [int(x) for x in delivered[0].split(",")] if delivered[0] != "none" else []
    except ValueError:
        return [f"apc.order: the delivered record {delivered[0]!r} is not a list of APC ids"]
    want = apc_order_expected(seed)
    if seen != want:
        bad = [i for i in seen if not 0 <= i < len(normal)]
        if bad:
            return [f"apc.order: delivered APC ids {bad} that were never queued"]
        return ["a special kernel APC is queued after the special ones and ahead of every normal one, a normal one "
                "at the tail; the delivery runs the queue from its head (s = special):\n"
                f"    queued   : {_timeline(list(range(len(normal))), normal)}\n"
                f"    expected : {_timeline(want, normal)}\n"
                f"    seen     : {_timeline(seen, normal)}"]
    return []


def resource_modes(seed: int) -> list[bool]:
    """resource.shared_exclusive phase B: TRUE for an exclusive waiter, in queue order."""
    rng = KtRng(seed, "resource.shared_exclusive")
    rng.random()                      # KtPoison of the resource
    n = rng.range(4, 7)
    x = [bool(rng.random() & 1) for _ in range(n)]
    x[0], x[1], x[2], x[n - 1] = True, False, False, True
    return x


def resource_grant_expected(seed: int) -> list[int]:
    x = resource_modes(seed)
    return [i for i, e in enumerate(x) if not e] + [i for i, e in enumerate(x) if e]


def _judge_resource(seed, values) -> list[str]:
    x = resource_modes(seed)
    modes = "".join("X" if e else "S" for e in x)
    seen_modes = _values(values, "resource.shared_exclusive", "modes")
    if seen_modes != [modes]:
        return [f"resource.shared_exclusive: the seeded modes are {modes}, the test reported {seen_modes}"]
    granted = _values(values, "resource.shared_exclusive", "granted")
    if len(granted) != 1:
        return [f"resource.shared_exclusive: expected one KTEST VALUE granted record, seen {len(granted)}"]
    try:
        seen = [int(v) for v in granted[0].split(",")] if granted[0] != "none" else []
    except ValueError:
        return [f"resource.shared_exclusive: the granted record {granted[0]!r} is not a list of waiter ids"]
    want = resource_grant_expected(seed)
    if seen != want:
        def tl(order):
            return " ".join(f"{i}{'X' if 0 <= i < len(x) and x[i] else 'S'}" for i in order)
        return ["the release of an exclusive owner grants every shared waiter at once (in queue order), the last "
                "shared release the first exclusive waiter, each exclusive release the next (X exclusive, S shared):\n"
                f"    queued   : {tl(range(len(x)))}\n"
                f"    expected : {tl(want)}\n"
                f"    seen     : {tl(seen)}"]
    return []


_JUDGES = {"apc_order": _judge_apc_order, "resource_shared_exclusive": _judge_resource}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab05x.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
