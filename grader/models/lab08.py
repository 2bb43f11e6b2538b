"""Lab 08 model (virtual memory): what the seeded lab 08 vm tests must report, computed
from the seed (labs/08-usermode/tests/vad_tests.c, vm_tests.c); the kernel reports, this
model judges.

vad_tree (vad.tree): the storm of insertions, removals and refused insertions over 128
slots of 16 pages is replayed; the VADs left (their count and an FNV-1a hash of the
in-order ranges) must match, and the tree's height must stay within the AVL bound
(1.4405 log2(n + 2) - 0.3277).
vm_storm (vm.storm): a seeded sequence of NtAllocateVirtualMemory / NtFreeVirtualMemory /
NtProtectVirtualMemory calls on an empty address space, replayed on the model's address
space (regions, page states, protections, virtual and private bytes); every call's status
and outputs, the counters after it, and the regions NtQueryVirtualMemory reports must match.
"""
from __future__ import annotations

import math

from grader.models.rng import KtRng

M64 = (1 << 64) - 1
SLOTS, SLOT_PAGES, SLOT_BASE = 128, 16, 0x100


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def tree_expected(seed: int) -> tuple[int, int]:
    """KtVadTree: the slots left occupied, as (count, hash)."""
    rng = KtRng(seed, "vad.tree")
    slot: list[tuple[int, int] | None] = [None] * SLOTS

    def insert(s: int, a: int, ln: int):
        start = SLOT_BASE + s * SLOT_PAGES + a
        slot[s] = (start, start + ln - 1)

    for i in range(64):
        s = i if i < 32 else 95 - i
        a = rng.range(0, 7)
        ln = rng.range(1, 8)
        insert(s, a, ln)
    for i in range(400):
        s = rng.range(0, SLOTS - 1)
        if slot[s] is None:
            a = rng.range(0, 7)
            ln = rng.range(1, 8)
            insert(s, a, ln)
            continue
        r = rng.range(0, 3)
        if r < 2:
            slot[s] = None
        elif r == 2:
            rng.range(0, 3)
    # phase D removes the root 12 times: the model cannot know which VADs the tree has at
    # its root, so the kernel reports the final set after D separately ("final" is before D).
    h = 0xCBF29CE484222325
    n = 0
    for v in slot:
        if v is not None:
            n += 1
            h = ((h ^ v[0]) * 0x100000001B3) & M64
            h = ((h ^ v[1]) * 0x100000001B3) & M64
    return n, h


def _judge_tree(seed: int, values) -> list[str]:
    problems = []
    final = _values(values, "vad.tree", "final")
    if not final:
        return ["vad.tree did not report its VADs after the storm (KTEST VALUE vad.tree final)"]
    n, h = tree_expected(seed)
    parts = final[0].split()
    got_n, got_h = int(parts[0]), int(parts[1], 16)
    if got_n != n or got_h != h:
        problems.append(f"after the storm the tree holds {got_n} VADs (hash 0x{got_h:x}), the model {n} (hash 0x{h:x}): "
                        f"an insertion, removal or refused insertion lost, kept or moved a VAD")
    height = _values(values, "vad.tree", "height")
    if not height:
        problems.append("vad.tree did not report the tree's height (KTEST VALUE vad.tree height)")
    else:
        bound = math.floor(1.4405 * math.log2(n + 2) - 0.3277)
        if int(height[0]) > bound:
            problems.append(f"the tree of {n} VADs is {height[0]} high, more than the AVL bound {bound}: it is not kept "
                            f"balanced (lookups are not O(log n))")
    return problems


_JUDGES = {"vad_tree": _judge_tree}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab08.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
