"""Lab 03 model: what the seeded lab 03 tests must report, computed from the seed.

tag_accounting: the seeded storm of pool.tags (labs/03-pool/tests/pool_tests.c) decides,
operation by operation, which blocks are allocated with which tag in which pool; the
kernel reports the allocations and frees its tag table counted for every tag and pool
(`KTEST VALUE pool.tags tag_counts <tag> <allocs np> <frees np> <allocs p> <frees p>`),
and this model checks them against the operations the seed makes.
paged_above_apc: the IRQL and the size the test announces for the STOP parameters are the
seeded ones. (The hidden checkpoints' models are in solutions/03-pool/hidden/models/lab03.py.)
"""
from __future__ import annotations

from grader.models.rng import KtRng

POOL_SMALL_LIMIT = 4048
PAGE_SIZE = 4096
TAGS = ("Tst0", "Irp ", "ObjH", "MmSt", "File", "SeTk")
HIGH_LEVEL = 15
DISPATCH_LEVEL = 2


def _random_size(rng: KtRng, allow_big: bool) -> int:
    kind = rng.range(0, 19)
    if kind < 12:
        return rng.range(1, 200)
    if kind < 17:
        return rng.range(200, 2000)
    if kind < 19 or not allow_big:
        return rng.range(2000, POOL_SMALL_LIMIT)
    return rng.range(POOL_SMALL_LIMIT + 1, 5 * PAGE_SIZE)


def tag_counts_expected(seed: int) -> dict[str, list[int]]:
    """tag -> [allocs nonpaged, frees nonpaged, allocs paged, frees paged] over the whole test."""
    rng = KtRng(seed, "pool.tags")
    counts = {t: [0, 0, 0, 0] for t in TAGS}
    live: list[tuple[str, int] | None] = [None] * 64
    ops = rng.range(600, 900)
    for op in range(ops):
        s = rng.range(0, 63)
        if live[s] is not None:
            tag, ptype = live[s]
            counts[tag][2 * ptype + 1] += 1
            live[s] = None
            continue
        if op < 2:
            rng.range(POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE)
            ptype = op
        else:
            _random_size(rng, True)
            ptype = rng.range(0, 1)
        tag = TAGS[rng.range(0, len(TAGS) - 1)]
        rng.range(1, 255)  # the fill byte
        counts[tag][2 * ptype] += 1
        live[s] = (tag, ptype)
    for entry in live:
        if entry is not None:
            counts[entry[0]][2 * entry[1] + 1] += 1
    return counts


def _values(values, test, key):
    return [v for t, k, v in values if t == test and k == key]


def _judge_tags(seed, values) -> list[str]:
    want = tag_counts_expected(seed)
    seen = {}
    for v in _values(values, "pool.tags", "tag_counts"):
        try:
            f = v.split()
            key = int(f[0], 0).to_bytes(4, "little").decode("latin-1")
            seen[key] = [int(x) for x in f[1:5]]
        except (ValueError, IndexError, OverflowError):
            return [f"pool.tags: cannot read the record {v!r}"]
    if not seen:
        return []  # the test stopped before its report: its failing check says why
    out = []
    for tag in TAGS:
        w, s = want[tag], seen.get(tag)
        if s != w:
            out.append(f"ExpInsertPoolTracker/ExpRemovePoolTracker for tag {tag!r}: the seeded storm allocates "
                       f"{w[0]} nonpaged and {w[2]} paged blocks and frees {w[1]} and {w[3]}; the tag table "
                       f"counted allocs/frees nonpaged {s[0] if s else '?'}/{s[1] if s else '?'}, paged "
                       f"{s[2] if s else '?'}/{s[3] if s else '?'} (each allocation and free counts once, in its "
                       f"own pool's column)")
    return out


def _judge_stop(test, seed, values, want_irql_size) -> list[str]:
    ann = _values(values, test, "stop_params")
    if not ann:
        return []
    try:
        p = [int(x, 0) for x in ann[0].split()]
    except ValueError:
        return [f"{test}: cannot read the announced stop_params {ann[0]!r}"]
    irql, size = want_irql_size
    if len(p) < 4 or p[1] != irql or p[3] != size:
        return [f"BAD_POOL_CALLER 0x8 parameters (irql, pool type, size): the seed gives irql {irql} and size "
                f"{size}, the test announced {ann[0]!r}"]
    return []


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "tag_accounting":
        return _judge_tags(seed, values)
    if checkpoint == "paged_above_apc":
        rng = KtRng(seed, "pool.paged_at_dispatch")
        return _judge_stop("pool.paged_at_dispatch", seed, values, (DISPATCH_LEVEL, rng.range(1, 5000)))
    return [f"grader/models/lab03.py has no model for checkpoint {checkpoint}"]
