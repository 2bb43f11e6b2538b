"""Lab 08 model, faults and paging (pf part): what the seeded working-set storm must report,
computed from the seed (labs/08-usermode/tests/workset_tests.c); the kernel reports, this
model judges.

working_set_clock (pf.clock): a working set of seeded capacity, minimum and maximum over
more pages than fit. Each operation is a touch (the test sets the PTE's Accessed bit), a
fault (the page is mapped - new, or back from the pagefile - and MiInsertWorkingSetPage
records it in the lowest free entry, or, when the set is at its maximum, in the entry of
the page the clock sends to the pagefile), a trim of a seeded number of pages
(MiTrimWorkingSet: never below the minimum; the clock from NextSlot, a second chance for a
page whose Accessed bit is set) or a removal. After each operation the kernel reports
`KTEST VALUE pf.clock op <i> <what> <page> <result> hand=.. size=.. peak=.. trimmed=..
wsle=..`; the model replays the storm and compares every field.

pf_user (pf.user): user/programs/pfpager.exe from ring 3, three runs - N committed pages
written in order and read back in reverse (N above the process working set's maximum, 345
pages): the faults of each pass and the peak working set as NtQueryInformationProcess
(ProcessVmCounters) reports them, replayed by the same clock (each touch sets the page's
Accessed bit); a guard page and reserved memory touched, ending the process with
STATUS_GUARD_PAGE_VIOLATION and STATUS_ACCESS_VIOLATION.
"""
from __future__ import annotations

from grader.models.rng import KtRng

STATUS_NOT_FOUND = 0xC0000225 - (1 << 32)
MM_LARGE_PAGE_PAGES = 512


class WorkingSet:
    """MiInsertWorkingSetPage / MiTrimWorkingSet / MiRemoveWorkingSetPage over page indices."""

    def __init__(self, cap: int, minimum: int, maximum: int):
        self.cap, self.min, self.max = cap, minimum, maximum
        self.wsle: list[int | None] = [None] * cap
        self.hand = self.size = self.peak = self.trimmed = 0
        self.accessed: dict[int, bool] = {}
        self.out: set[int] = set()

    def resident(self, j: int) -> bool:
        return j in self.wsle

    def _step(self) -> int:
        i = self.hand
        self.hand = (i + 1) % self.cap
        e = self.wsle[i]
        if e is None:
            return -1
        if self.accessed.get(e):
            self.accessed[e] = False
            return -1
        self.wsle[i] = None
        self.size -= 1
        self.trimmed += 1
        self.out.add(e)
        return i

    def insert(self, j: int) -> int:
        self.accessed[j] = False
        self.out.discard(j)
        if self.size >= self.max:
            freed = -1
            n = 0
            while n < 2 * self.cap + 1 and freed < 0:
                freed = self._step()
                n += 1
            if freed < 0:
                raise AssertionError("the model's clock found no page to replace")
            index = freed
        else:
            index = self.wsle.index(None)
        self.wsle[index] = j
        self.size += 1
        self.peak = max(self.peak, self.size)
        return 0

    def trim(self, pages: int) -> int:
        want = min(pages, self.size - self.min if self.size > self.min else 0)
        done = n = 0
        while n < 2 * self.cap and done < want:
            if self._step() >= 0:
                done += 1
            n += 1
        return done

    def remove(self, j: int) -> int:
        if j not in self.wsle:
            return STATUS_NOT_FOUND
        self.wsle[self.wsle.index(j)] = None
        self.size -= 1
        self.accessed[j] = False
        return 0

    def line(self, op: int, what: str, page: int, result: int) -> str:
        wsle = ",".join("." if e is None else str(e) for e in self.wsle)
        return (f"{op} {what} {page} {result} hand={self.hand} size={self.size} peak={self.peak} "
                f"trimmed={self.trimmed} wsle={wsle}")


def clock_storm(seed: int) -> tuple[str, list[str]]:
    """KtPfClock (workset_tests.c): the setup line and one line an operation."""
    rng = KtRng(seed, "pf.clock")
    cap = rng.range(8, 16)
    maximum = cap - rng.range(1, 3)
    minimum = rng.range(1, 2)
    n = maximum + rng.range(4, 10)
    rng.range(0x100, 0x7FFFF)                 # the base address
    for _ in range(n):
        rng.range(0, 3)                       # each page's 2 MiB region
    ws = WorkingSet(cap, minimum, maximum)
    lines = []
    for op in range(90):
        kind = rng.range(0, 9)
        j = rng.range(0, n - 1)
        if op < maximum + 3:
            kind, j = 0, op
        elif op in (maximum + 3, maximum + 4):
            kind = 6
        if kind <= 5:
            if ws.resident(j):
                ws.accessed[j] = True
                lines.append(ws.line(op, "touch", j, 0))
                continue
            result = ws.insert(j)
            lines.append(ws.line(op, "fault", j, result))
        elif kind <= 7:
            k = rng.range(1, 4)
            if op == maximum + 3:
                k = maximum - ws.hand if ws.hand < maximum else 1   # ends with the hand just past the maximum's index
            elif op == maximum + 4:
                k = maximum + 2       # asks for more than the set holds above its minimum
            lines.append(ws.line(op, "trim", k, ws.trim(k)))
        else:
            lines.append(ws.line(op, "remove", j, ws.remove(j)))
    return f"cap={cap} max={maximum} min={minimum} pages={n}", lines


def _judge_clock(seed: int, values) -> list[str]:
    setup, want = clock_storm(seed)
    seen_setup = [v for t, k, v in values if t == "pf.clock" and k == "setup"]
    seen = [v for t, k, v in values if t == "pf.clock" and k == "op"]
    if seen_setup != [setup]:
        return [f"pf.clock setup: the kernel reported {seen_setup}, the model expects [{setup!r}]"]
    for i, (w, s) in enumerate(zip(want, seen)):
        if w != s:
            return [f"pf.clock operation {i}: expected `{w}`, the kernel reported `{s}` "
                    "(the lowest free entry for a new page; at the maximum the clock from NextSlot replaces the first "
                    "page whose Accessed bit is clear, clearing the bits it passes; a trim never goes below the "
                    "minimum; the hand advances one entry a step and wraps at the capacity)"]
    if len(seen) != len(want):
        return [f"pf.clock: the kernel reported {len(seen)} operations, the model expects {len(want)} "
                "(a check failed on the way, see the KTEST CHECK lines)"]
    return []




# ---- pf_user (pf.user, user/programs/pfpager.exe) ---------------------------------------
USER_TEST = "pf.user"
PROCESS_WS_MIN, PROCESS_WS_MAX = 50, 345      # MmCreateProcessAddressSpace's working set
STATUS_GUARD_PAGE_VIOLATION = 0x80000001
STATUS_ACCESS_VIOLATION = 0xC0000005


def pager_faults(pages: int) -> tuple[int, int, int]:
    """The faults of pfpager's write pass and read pass (pages touched in order, then in reverse, each touch
    setting the page's Accessed bit) and the peak working set in pages, by the clock."""
    ws = WorkingSet(PROCESS_WS_MAX, PROCESS_WS_MIN, PROCESS_WS_MAX)
    faults = []
    for order in (range(pages), range(pages - 1, -1, -1)):
        n = 0
        for j in order:
            if not ws.resident(j):
                ws.insert(j)
                n += 1
            ws.accessed[j] = True
        faults.append(n)
    return faults[0], faults[1], ws.peak


def user_runs(seed: int) -> list[list[str]]:
    rng = KtRng(seed, USER_TEST)
    pages = rng.range(380, 520)
    salt = rng.range(1, 0xFFFFF)
    return [["pfpager.exe", "pages", str(pages), str(salt)], ["pfpager.exe", "guard"], ["pfpager.exe", "reserved"]]


def pfpager(argv: list[str]) -> tuple[dict[str, str], int]:
    if argv[1] == "pages":
        pages = int(argv[2])
        w, r, peak = pager_faults(pages)
        return ({"allocate": f"ok NtAllocateVirtualMemory({pages} pages): 0x0", "query": "0x0 88",
                 "write_faults": str(w), "read_faults": str(r), "bad_words": "0",
                 "peak_working_set": str(peak * 4096)}, 0)
    status = STATUS_GUARD_PAGE_VIOLATION if argv[1] == "guard" else STATUS_ACCESS_VIOLATION
    return {"allocate": "ok NtAllocateVirtualMemory: 0x0", "touch": argv[1]}, status


def _judge_user(seed: int, values) -> list[str]:
    from grader.models.usertest import judge_runs
    return judge_runs(USER_TEST, user_runs(seed), pfpager, values)


_JUDGES = {"working_set_clock": _judge_clock, "pf_user": _judge_user}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab08pf.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
