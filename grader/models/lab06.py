"""Lab 06 model: what the seeded lab 06 tests must report, computed from the seed
(labs/06-objects/tests/handle_tests.c); the kernel reports, this model judges.

handle_storm: the storm's seeded operations (insert, duplicate, reference, dereference,
close; up until the seeded target of open handles, then down to none) and the handle
table's contract - handles are multiples of 4 from 4, index 0 of each 256-entry low-level
table is never handed out, a freed handle is the next one handed out (LIFO), a new
low-level table's entries are handed out in order - give every handle value the kernel
must return. The kernel reports `steps`, `created`, `max_live` and `digest` (digest =
digest * 31 + handle, mod 2^64, over every handle created, in order).
"""
from __future__ import annotations

from grader.models.rng import M64, KtRng

LOWLEVEL_COUNT = 256      # kernel/include/ob.h: PAGE_SIZE / sizeof(HANDLE_TABLE_ENTRY)
STORM_OBJECTS = 48        # handle_tests.c
STORM_HANDLES = 1200
STORM_HELD = 256


class HandleTable:
    """The contract of ExCreateHandle / ExDestroyHandle on handle values."""

    def __init__(self):
        self.next_needing_pool = LOWLEVEL_COUNT * 4
        self.free = [k * 4 for k in range(LOWLEVEL_COUNT - 1, 0, -1)]  # head at the end

    def create(self) -> int:
        if not self.free:
            base = self.next_needing_pool
            self.free = [base + k * 4 for k in range(LOWLEVEL_COUNT - 1, 0, -1)]
            self.next_needing_pool += LOWLEVEL_COUNT * 4
        return self.free.pop()

    def destroy(self, value: int) -> None:
        self.free.append(value)


def storm_expected(seed: int) -> dict[str, int]:
    rng = KtRng(seed, "handle.storm")
    table = HandleTable()
    live: list[int] = []          # handle values (the object does not change the values)
    held = 0
    next_object = steps = max_live = created = digest = 0
    target = rng.range(LOWLEVEL_COUNT + 20, 2 * LOWLEVEL_COUNT + 40)
    up = True
    while steps < 4000:
        if up and len(live) >= target:
            up = False
        if not up and not live and held == 0:
            break
        steps += 1
        r = rng.range(0, 99)
        if up:
            op = 0 if r < 12 else 1 if r < 50 else 2 if r < 64 else 3 if r < 78 else 4
        else:
            op = 1 if r < 5 else 2 if r < 15 else 3 if r < 35 else 4
        n = len(live)
        can = [next_object < STORM_OBJECTS and n < STORM_HANDLES - 1, 0 < n < STORM_HANDLES - 1,
               n > 0 and held < STORM_HELD, held > 0, n > 0]
        tries = 0
        while not can[op] and tries < 5:
            tries += 1
            op = (op + 1) % 5
        if not can[op]:
            break
        if op == 0:
            next_object += 1
            rng.range(1, 15)          # access
            rng.range(0, 1)           # OBJ_INHERIT
            v = table.create()
            live.append(v)
            digest = (digest * 31 + v) & M64
            created += 1
        elif op == 1:
            rng.range(0, n - 1)
            if rng.range(0, 1) == 0:
                rng.range(0, 15)      # the access mask of a duplicate with less access
            v = table.create()
            live.append(v)
            digest = (digest * 31 + v) & M64
            created += 1
        elif op == 2:
            rng.range(0, n - 1)
            held += 1
        elif op == 3:
            rng.range(0, held - 1)
            held -= 1
        else:
            k = rng.range(0, n - 1)
            table.destroy(live[k])
            live[k] = live[-1]
            live.pop()
        max_live = max(max_live, len(live))
    return {"steps": steps, "created": created, "max_live": max_live, "digest": digest}


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def _judge_storm(seed, values) -> list[str]:
    want = storm_expected(seed)
    out = []
    for key in ("steps", "created", "max_live", "digest"):
        seen = _values(values, "handle.storm", key)
        if len(seen) != 1:
            out.append(f"handle.storm: expected one KTEST VALUE {key} record, seen {len(seen)}")
            continue
        if int(seen[0], 0) != want[key]:
            what = ("the handle values: a freed handle is the next one handed out (LIFO), a new low-level table's "
                    "entries in order, multiples of 4 from 4, index 0 of each low-level table never handed out"
                    if key == "digest" else "the storm's seeded operations")
            out.append(f"{what}: expected {key} {want[key]:#x}, seen {seen[0]}")
    return out


_JUDGES = {
    "handle_storm": _judge_storm,
}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab06.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
