"""Lab 03 model: what the seeded lab 03 tests must report, computed from the seed.

tag_accounting: the seeded storm of pool.tags (labs/03-pool/tests/pool_tests.c) decides,
operation by operation, which blocks are allocated with which tag in which pool; the
kernel reports the allocations and frees its tag table counted for every tag and pool
(`KTEST VALUE pool.tags tag_counts <tag> <allocs np> <frees np> <allocs p> <frees p>`),
and this model checks them against the operations the seed makes.
page_layout: the seeded storm of pool.layout decides every allocation and free; the contract
of ExpAllocatePool/ExpFreePool decides where each block goes (the first block of the
smallest list that fits, split at the front, freed and split-off blocks at the tail of
their list, neighbours merged, an empty page given back). The kernel reports the blocks of
every pool page after the storm (`layout <type> <blocks>`, `layout_more <blocks>`; a block
is its BlockSize in hex, f-prefixed when free) and this model checks the set of pages.
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


POOL_PAGE_UNITS = PAGE_SIZE // 16
POOL_MIN_BLOCK_UNITS = 2
EDGE_SIZES = (0, 1, 16, 17, POOL_SMALL_LIMIT - 16, POOL_SMALL_LIMIT)  # KtEdgeSizes in pool_tests.c
LAYOUT_SLOTS = 256


class _Pool:
    """One pool as the contract defines it: pages of 16-byte units, FIFO free lists by size."""

    def __init__(self):
        self.pages: list[list[list]] = []  # each page: blocks [units, free], in address order
        self.lists: dict[int, list] = {u: [] for u in range(POOL_PAGE_UNITS)}

    def _index(self, page, block) -> int:
        return next(i for i, b in enumerate(page) if b is block)

    def allocate(self, nbytes: int):
        units = max(POOL_MIN_BLOCK_UNITS, (nbytes + 16 + 15) // 16)
        for size in range(units, POOL_PAGE_UNITS):
            if self.lists[size]:
                page, block = self.lists[size].pop(0)
                rest = block[0] - units
                block[1] = False
                if rest >= POOL_MIN_BLOCK_UNITS:
                    block[0] = units
                    tail = [rest, True]
                    page.insert(self._index(page, block) + 1, tail)
                    self.lists[rest].append((page, tail))
                return page, block
        page = [[units, False], [POOL_PAGE_UNITS - units, True]]
        self.pages.append(page)
        self.lists[POOL_PAGE_UNITS - units].append((page, page[1]))
        return page, page[0]

    def _unlist(self, page, block):
        entries = self.lists[block[0]]
        entries.pop(next(i for i, (_, b) in enumerate(entries) if b is block))

    def free(self, page, block):
        i = self._index(page, block)
        block[1] = True
        if i + 1 < len(page) and page[i + 1][1]:
            nxt = page.pop(i + 1)
            self._unlist(page, nxt)
            block[0] += nxt[0]
        if i > 0 and page[i - 1][1]:
            prev = page[i - 1]
            self._unlist(page, prev)
            prev[0] += block[0]
            page.pop(i)
            block = prev
        if block[0] == POOL_PAGE_UNITS:
            self.pages.remove(page)
            return
        self.lists[block[0]].append((page, block))

    def layout(self) -> list[str]:
        return sorted(" ".join(("f" if free else "") + f"{units:x}" for units, free in page) for page in self.pages)


def layout_expected(seed: int) -> list[list[str]]:
    """[nonpaged pages, paged pages] after the storm of pool.layout, each page as its blocks."""
    rng = KtRng(seed, "pool.layout")
    pools = [_Pool(), _Pool()]
    live: list = [None] * LAYOUT_SLOTS
    ops = rng.range(900, 1300)
    for op in range(ops):
        s = rng.range(0, LAYOUT_SLOTS - 1)
        if op < 2 * len(EDGE_SIZES):
            s = LAYOUT_SLOTS - 1 - op
            ptype, size = op & 1, EDGE_SIZES[op // 2]
        elif live[s] is not None:
            ptype, page, block = live[s]
            pools[ptype].free(page, block)
            live[s] = None
            continue
        else:
            size = _random_size(rng, False)
            ptype = rng.range(0, 1)
        rng.range(0, len(TAGS) - 1)  # the tag
        rng.range(1, 255)  # the fill byte
        page, block = pools[ptype].allocate(size)
        live[s] = (ptype, page, block)
    return [p.layout() for p in pools]


def _judge_layout(seed, values) -> list[str]:
    seen: list[list[str]] = [[], []]
    current = None
    for t, k, v in values:
        if t != "pool.layout" or k not in ("layout", "layout_more"):
            continue
        f = v.split()
        if k == "layout":
            if not f or f[0] not in ("0", "1"):
                return [f"pool.layout: cannot read the record {v!r}"]
            current = [int(f[0])] + f[1:]
            seen[current[0]].append(current)
        elif current is not None:
            current.extend(f)
    if not any(seen):
        return []  # the test stopped before its report: its failing check says why
    want = layout_expected(seed)
    out = []
    for ptype, name in ((0, "nonpaged"), (1, "paged")):
        got = sorted(" ".join(p[1:]) for p in seen[ptype])
        if got == want[ptype]:
            continue
        missing = [p for p in want[ptype] if p not in got]
        extra = [p for p in got if p not in want[ptype]]
        out.append(f"ExpAllocatePool/ExpFreePool: after the seeded storm the {name} pool should hold "
                   f"{len(want[ptype])} pages, it holds {len(got)}; the blocks go where the contract puts them "
                   f"(the first block of the smallest list that fits, split at the front, freed and split-off "
                   f"blocks at the tail of their list, free neighbours merged, an empty page given back). "
                   f"A page the model expects (BlockSize in hex, f = free): [{missing[0] if missing else '-'}]; "
                   f"a page the kernel has instead: [{extra[0] if extra else '-'}]")
    return out


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


def stop_params(checkpoint: str, seed: int) -> tuple:
    """The STOP parameters the seed gives (lab.toml's "seed" entries; None where it gives none)."""
    if checkpoint == "paged_above_apc":
        return 0x8, DISPATCH_LEVEL, 1, KtRng(seed, "pool.paged_at_dispatch").range(1, 5000)
    return None, None, None, None


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "tag_accounting":
        return _judge_tags(seed, values)
    if checkpoint == "page_layout":
        return _judge_layout(seed, values)
    if checkpoint == "paged_above_apc":
        rng = KtRng(seed, "pool.paged_at_dispatch")
        return _judge_stop("pool.paged_at_dispatch", seed, values, (DISPATCH_LEVEL, rng.range(1, 5000)))
    return [f"grader/models/lab03.py has no model for checkpoint {checkpoint}"]
