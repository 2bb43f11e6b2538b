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
TREE_SLOTS, TREE_SLOT_PAGES, TREE_SLOT_BASE = 128, 16, 0x100


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def tree_expected(seed: int) -> tuple[int, int]:
    """KtVadTree: the slots left occupied, as (count, hash)."""
    rng = KtRng(seed, "vad.tree")
    slot: list[tuple[int, int] | None] = [None] * TREE_SLOTS

    def insert(s: int, a: int, ln: int):
        start = TREE_SLOT_BASE + s * TREE_SLOT_PAGES + a
        slot[s] = (start, start + ln - 1)

    for i in range(64):
        s = i if i < 32 else 95 - i
        a = rng.range(0, 7)
        ln = rng.range(1, 8)
        insert(s, a, ln)
    for i in range(400):
        s = rng.range(0, TREE_SLOTS - 1)
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


# ---- vm_user (user.vmstorm): the address-space model ----------------------------------

PAGE = 0x1000
GRAN = 0x10000
HIGHEST_VAD = 0x7FFFFFFDFFFF
SLOT_BASE, SLOT_SIZE, NSLOTS = 0x20000000, 0x100000, 16
STORM_SLOTS = 4  # the slots the calls use (the walk covers all 16)
MEM_COMMIT, MEM_RESERVE, MEM_DECOMMIT, MEM_RELEASE, MEM_FREE, MEM_PRIVATE, MEM_TOP_DOWN = \
    0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000, 0x100000
PAGE_NOACCESS, PAGE_GUARD, PAGE_NOCACHE = 0x01, 0x100, 0x200
PROTS = [0x02, 0x04, 0x20, 0x40, 0x01, 0x04 | PAGE_GUARD]
_ACCESS = {0x01: 0x18, 0x02: 1, 0x04: 4, 0x08: 5, 0x10: 2, 0x20: 3, 0x40: 6, 0x80: 7}
_BACK = {1: 0x02, 2: 0x10, 3: 0x20, 4: 0x04, 5: 0x08, 6: 0x40, 7: 0x80}
S_OK, S_CONFLICT, S_UNABLE_FREE, S_NOT_COMMITTED, S_BAD_PROT = 0, 0xC0000018, 0xC000001A, 0xC000002D, 0xC0000045
S_NOT_AT_BASE, S_NOT_ALLOCATED = 0xC000009F, 0xC00000A0
S_P2, S_P3, S_P4, S_P5 = 0xC00000F0, 0xC00000F1, 0xC00000F2, 0xC00000F3
S_AV, S_MISALIGNED = 0xC0000005, 0x80000002
STATUS_NAMES = {S_OK: "STATUS_SUCCESS", S_CONFLICT: "STATUS_CONFLICTING_ADDRESSES",
                S_UNABLE_FREE: "STATUS_UNABLE_TO_FREE_VM", S_NOT_COMMITTED: "STATUS_NOT_COMMITTED",
                S_BAD_PROT: "STATUS_INVALID_PAGE_PROTECTION", S_NOT_AT_BASE: "STATUS_FREE_VM_NOT_AT_BASE",
                S_NOT_ALLOCATED: "STATUS_MEMORY_NOT_ALLOCATED", S_P2: "STATUS_INVALID_PARAMETER_2",
                S_P3: "STATUS_INVALID_PARAMETER_3", S_P4: "STATUS_INVALID_PARAMETER_4",
                S_P5: "STATUS_INVALID_PARAMETER_5"}
CLAUSES = {S_CONFLICT: "a reservation never overlaps another, a commit or protect stays inside one reservation",
           S_NOT_AT_BASE: "MEM_RELEASE only at the reservation's base",
           S_NOT_ALLOCATED: "freeing memory no reservation holds",
           S_NOT_COMMITTED: "NtProtectVirtualMemory needs every page committed",
           S_UNABLE_FREE: "MEM_DECOMMIT must stay inside the reservation"}


def mm_protection(p: int) -> int | None:
    """MiMakeProtectionMask (None: invalid)."""
    if p & ~(0xFF | PAGE_GUARD | PAGE_NOCACHE) or (p & 0xFF) not in _ACCESS:
        return None
    if p & 0xFF == PAGE_NOACCESS:
        return None if p & (PAGE_GUARD | PAGE_NOCACHE) else 0x18
    m = _ACCESS[p & 0xFF]
    return m | (0x10 if p & PAGE_GUARD else 0) | (0x8 if p & PAGE_NOCACHE else 0)


def win32_protection(m: int) -> int:
    """MiProtectionToWin32."""
    if m == 0x18:
        return PAGE_NOACCESS
    if m in (0, 0x10):
        return 0
    return _BACK[m & 7] | (PAGE_GUARD if m & 0x10 else 0) | (PAGE_NOCACHE if m & 0x8 else 0)


def _cow(m: int) -> bool:
    return (m & 7) & 5 == 5


class AddressSpace:
    """Regions (VADs: first page, last page, protection at reservation) and the committed pages
    (page -> MM protection code) of the slot area."""

    def __init__(self):
        self.vads: dict[int, list[int]] = {}   # start page -> [start page, end page, MM protection]
        self.committed: dict[int, int] = {}

    def vad_at(self, page: int):
        for v in self.vads.values():
            if v[0] <= page <= v[1]:
                return v
        return None

    def allocate(self, base: int, size: int, atype: int, prot: int) -> tuple[int, int, int]:
        if atype & ~(MEM_COMMIT | MEM_RESERVE | MEM_TOP_DOWN) or not atype & (MEM_COMMIT | MEM_RESERVE):
            return S_P5, base, size
        m = mm_protection(prot)
        if m is None or _cow(m):
            return S_BAD_PROT, base, size
        if size == 0:
            return S_P4, base, size
        if base > HIGHEST_VAD:
            return S_P2, base, size
        if size > HIGHEST_VAD + 1 or base + size - 1 > HIGHEST_VAD:
            return S_P4, base, size
        if atype & MEM_RESERVE:
            start, end = base & ~(GRAN - 1), ((base + size + PAGE - 1) & ~(PAGE - 1)) - 1
            sp, ep = start // PAGE, end // PAGE
            if any(not (ep < v[0] or sp > v[1]) for v in self.vads.values()):
                return S_CONFLICT, base, size
            self.vads[sp] = [sp, ep, m]
            if atype & MEM_COMMIT:
                for p in range(sp, ep + 1):
                    self.committed[p] = m
            return S_OK, start, end - start + 1
        start, end = base & ~(PAGE - 1), ((base + size + PAGE - 1) & ~(PAGE - 1)) - 1
        v = self.vad_at(start // PAGE)
        if v is None or end // PAGE > v[1]:
            return S_CONFLICT, base, size
        for p in range(start // PAGE, end // PAGE + 1):
            self.committed[p] = m
        return S_OK, start, end - start + 1

    def free(self, base: int, size: int, ftype: int) -> tuple[int, int, int]:
        if ftype not in (MEM_RELEASE, MEM_DECOMMIT):
            return S_P4, base, size
        if base > HIGHEST_VAD:
            return S_P2, base, size
        v = self.vad_at(base // PAGE)
        if v is None:
            return S_NOT_ALLOCATED, base, size
        vstart, vend = v[0] * PAGE, (v[1] + 1) * PAGE - 1
        if ftype == MEM_RELEASE:
            if base & ~(PAGE - 1) != vstart:
                return S_NOT_AT_BASE, base, size
            if size and ((base + size + PAGE - 1) & ~(PAGE - 1)) - 1 != vend:
                return S_UNABLE_FREE, base, size
            for p in range(v[0], v[1] + 1):
                self.committed.pop(p, None)
            del self.vads[v[0]]
            return S_OK, vstart, vend - vstart + 1
        if size == 0:
            start, end = base & ~(PAGE - 1), vend
        else:
            start, end = base & ~(PAGE - 1), ((base + size + PAGE - 1) & ~(PAGE - 1)) - 1
            if end > vend:
                return S_UNABLE_FREE, base, size
        for p in range(start // PAGE, end // PAGE + 1):
            self.committed.pop(p, None)
        return S_OK, start, end - start + 1

    def protect(self, base: int, size: int, prot: int) -> tuple[int, int, int, int | None]:
        m = mm_protection(prot)
        if m is None:
            return S_BAD_PROT, base, size, None
        if size == 0:
            return S_P3, base, size, None
        if base > HIGHEST_VAD:
            return S_P2, base, size, None
        start, end = base & ~(PAGE - 1), ((base + size + PAGE - 1) & ~(PAGE - 1)) - 1
        v = self.vad_at(start // PAGE)
        if v is None or end // PAGE > v[1]:
            return S_CONFLICT, base, size, None
        if _cow(m):
            return S_BAD_PROT, base, size, None
        pages = range(start // PAGE, end // PAGE + 1)
        if any(p not in self.committed for p in pages):
            return S_NOT_COMMITTED, base, size, None
        old = win32_protection(self.committed[start // PAGE])
        for p in pages:
            self.committed[p] = m
        return S_OK, start, end - start + 1, old

    def walk(self) -> list[tuple]:
        """What vmstorm's Walk reports: (base, size capped at the slots' end, state, protect,
        allocation base, allocation protect, type)."""
        out, va, end = [], SLOT_BASE, SLOT_BASE + NSLOTS * SLOT_SIZE
        while va < end:
            page = va // PAGE
            v = self.vad_at(page)
            if v is None:
                nxt = min([x[0] * PAGE for x in self.vads.values() if x[0] > page] + [end])
                out.append((va, nxt - va, MEM_FREE, PAGE_NOACCESS, 0, 0, 0))
                va = nxt
                continue
            state = self.committed.get(page)
            q = page + 1
            while q <= v[1] and self.committed.get(q) == state:
                q += 1
            out.append((va, q * PAGE - va, MEM_COMMIT if state is not None else MEM_RESERVE,
                        win32_protection(state) if state is not None else 0, v[0] * PAGE, win32_protection(v[2]),
                        MEM_PRIVATE))
            va = q * PAGE
        return out


SCRIPTED = 13  # the first calls cover every case on every seed (randomised within each case)


def storm_calls(seed: int, calls: int):
    """The calls vmstorm makes (its splitmix64 over SEED, drawn in its order; vmstorm.c
    NextCall). First SCRIPTED calls at slot 12, one per case; then, in each group of six,
    calls 1-5 aim at the range call 0 asked to reserve (whatever the kernel answered)."""
    rng = KtRng(0, "")
    rng.state = seed & M64
    s = SLOT_BASE + 12 * SLOT_SIZE
    last, lsize, a_end = SLOT_BASE, 0x10000, 0
    for i in range(calls):
        if i < SCRIPTED:
            if i == 0:
                base = s + rng.range(0, 0xFFFF)
                size = rng.range(0x3000, 0x20000)
                a_end = base + size - 1
                yield ("allocate", base, size, MEM_RESERVE | MEM_COMMIT, PROTS[rng.range(0, 3)])
            elif i == 1:
                base = s + rng.range(0, 0xFFF)
                size = rng.range(1, 0x1000)
                yield ("protect", base, size, 0, PROTS[rng.range(0, 5)])
            elif i == 2:
                base = s + rng.range(0, 0xFFFF)
                yield ("allocate", base, rng.range(1, 0x1000), MEM_RESERVE, 0x04)
            elif i == 3:
                yield ("protect", a_end & ~0xFFF, 0x2000, 0, 0x02)  # its last page and the free one after
            elif i == 4:
                yield ("free", s + 0x1000, 0x40000, MEM_DECOMMIT, 0)
            elif i == 5:
                yield ("free", s + 0x1000 + rng.range(0, 0xFFF), 0, MEM_RELEASE, 0)
            elif i == 6:
                base = s + 0x80000 + rng.range(0, 0xFFFF)
                yield ("allocate", base, rng.range(0x2000, 0x10000), MEM_RESERVE, 0x04)
            elif i == 7:
                yield ("protect", s + 0x80000, 0x1000, 0, 0x02)
            elif i == 8:
                base = s + 0x80000 + rng.range(0, 0xFFF)
                yield ("allocate", base, 0x1000, MEM_COMMIT, PROTS[rng.range(0, 5)])
            elif i == 9:
                yield ("free", s + 0x80000, 0x1000, MEM_DECOMMIT, 0)
            elif i in (10, 11):
                yield ("free", s, 0, MEM_RELEASE, 0)
            else:
                yield ("free", s + 0x80000, 0, MEM_RELEASE, 0)
            continue
        kind = (i - SCRIPTED) % 6
        if kind == 0:
            slot = SLOT_BASE + rng.range(0, STORM_SLOTS - 1) * SLOT_SIZE
            a = rng.range(0, 3)
            base = slot + a * 0x10000 + rng.range(0, 0xFFFF)
            size = rng.range(1, 0x30000)
            atype = MEM_RESERVE if rng.range(0, 1) else MEM_RESERVE | MEM_COMMIT
            last, lsize = base & ~0xFFFF, size + (base & 0xFFFF)
            yield ("allocate", base, size, atype, PROTS[rng.range(0, 5)])
        elif kind == 1:
            base = last + rng.range(0, lsize - 1)
            size = rng.range(1, 0x8000)
            yield ("allocate", base, size, MEM_COMMIT, PROTS[rng.range(0, 5)])
        elif kind == 2:
            base = last + rng.range(0, lsize - 1)
            size = rng.range(1, 0x3000)
            yield ("protect", base, size, 0, PROTS[rng.range(0, 5)])
        elif kind == 3:
            base = last + rng.range(0, lsize - 1)
            size = 0 if rng.range(0, 3) == 0 else rng.range(1, 0x20000)
            yield ("free", base, size, MEM_DECOMMIT, 0)
        elif kind == 4:
            base = last
            if rng.range(0, 2) == 0:
                base += rng.range(1, lsize - 1)
            yield ("free", base, 0, MEM_RELEASE, 0)
        else:
            base = last + rng.range(0, lsize + 0x10000)
            size = rng.range(1, 0x10000)
            yield ("allocate", base, size, MEM_RESERVE, 0x04)


def user_storm_args(seed: int) -> tuple[int, int]:
    """What user.vmstorm passes vmstorm.exe: its seed and the number of calls."""
    rng = KtRng(seed, "user.vmstorm")
    return rng.random(), rng.range(96, 120)


def _describe(call) -> str:
    kind, base, size, t, prot = call
    if kind == "allocate":
        what = {MEM_RESERVE: "MEM_RESERVE", MEM_COMMIT: "MEM_COMMIT", MEM_RESERVE | MEM_COMMIT: "MEM_RESERVE|MEM_COMMIT"}
        return f"NtAllocateVirtualMemory(0x{base:x}, size 0x{size:x}, {what.get(t, hex(t))}, 0x{prot:x})"
    if kind == "free":
        return f"NtFreeVirtualMemory(0x{base:x}, size 0x{size:x}, {'MEM_RELEASE' if t == MEM_RELEASE else 'MEM_DECOMMIT'})"
    return f"NtProtectVirtualMemory(0x{base:x}, size 0x{size:x}, 0x{prot:x})"


def _fmt_region(r) -> str:
    state = {MEM_FREE: "free", MEM_COMMIT: "committed", MEM_RESERVE: "reserved"}.get(r[2], hex(r[2]))
    return f"0x{r[0]:x}+0x{r[1]:x} {state} Protect 0x{r[3]:x} AllocationBase 0x{r[4]:x} AllocationProtect 0x{r[5]:x}"


def _run_records(values, test: str) -> dict[str, str]:
    """The records of the first program test ran, keyed without their "u<k>." prefix (k from
    its user<k>.start record: the harness numbers runs)."""
    import re
    ks = [m.group(1) for t, k, v in values if t == test for m in [re.fullmatch(r"user(\d+)\.start", k)] if m]
    if not ks:
        return {}
    prefix = f"u{ks[0]}."
    return {"u1." + k[len(prefix):]: v for t, k, v in values if t == test and k.startswith(prefix)}


def _judge_user(seed: int, values) -> list[str]:
    test = "user.vmstorm"
    got = _run_records(values, test)
    problems = []
    for i in range(4):
        v = got.get(f"u1.bad{i}")
        if v is None:
            return [f"vmstorm did not report its bad-pointer calls (KTEST VALUE {test} u1.bad{i})"]
        for name, st in zip(("NtAllocateVirtualMemory(bad BaseAddress)", "NtAllocateVirtualMemory(bad RegionSize)",
                             "NtQueryVirtualMemory(bad buffer)"), v.split()):
            if int(st, 16) not in (S_AV, S_MISALIGNED):
                problems.append(f"bad pointer {i}: {name} returned {st}, expected STATUS_ACCESS_VIOLATION (or "
                                f"STATUS_DATATYPE_MISALIGNMENT): every user pointer is probed")
    xseed, calls = user_storm_args(seed)
    space = AddressSpace()
    for i, call in enumerate(storm_calls(xseed, calls)):
        kind, base, size, t, prot = call
        old = 0xA5A5A5A5
        if kind == "allocate":
            st, ob, osz = space.allocate(base, size, t, prot)
        elif kind == "free":
            st, ob, osz = space.free(base, size, t)
        else:
            st, ob, osz, o = space.protect(base, size, prot)
            if o is not None:
                old = o
        rep = got.get(f"u1.op{i}")
        if rep is None:
            problems.append(f"call {i} ({_describe(call)}) was not reported (KTEST VALUE {test} u1.op{i}): the "
                            f"program ended early (an exception or a hang in the service?)")
            break
        f = rep.split()
        gst, gb, gs, go = int(f[0], 16), int(f[1], 16), int(f[2], 16), int(f[3], 16)
        if gst != st:
            why = CLAUSES.get(st, "")
            problems.append(f"call {i}: {_describe(call)} returned 0x{gst:08x} ({STATUS_NAMES.get(gst, '?')}), the model "
                            f"0x{st:08x} ({STATUS_NAMES.get(st, '?')})" + (f" - {why}" if why else ""))
            break
        if (gb, gs, go) != (ob, osz, old):
            problems.append(f"call {i}: {_describe(call)} gave base 0x{gb:x} size 0x{gs:x} OldProtect 0x{go:x}, the "
                            f"model base 0x{ob:x} size 0x{osz:x} OldProtect 0x{old:x} (reservations round the base "
                            f"down to 64 KiB and the end up to a page; commits, decommits and protects cover the "
                            f"pages the range touches; OldProtect is the first page's)")
            break
        if got.get("u1.counters") != "0x0":
            problems.append(f"NtQueryInformationProcess(ProcessVmCounters) failed: {got.get('u1.counters')}")
            break
        c = " ".join(f[4:6])
        wv = sum((v[1] - v[0] + 1) * PAGE for v in space.vads.values())
        wp = len(space.committed) * PAGE
        if len(f) != 6 or [int(x) for x in f[4:6]] != [wv, wp]:
            problems.append(f"after call {i} ({_describe(call)}): virtual bytes and private bytes grew by {c} since the "
                            f"storm began, the model {wv} {wp} (virtual bytes: every reserved byte; private bytes: "
                            f"every committed page, charged once, given back by decommit and release)")
            break
        if i % 12 == 11 or i == calls - 1:
            want = space.walk()
            for j, r in enumerate(want):
                w = got.get(f"u1.w{i}.{j}")
                if w is None:
                    problems.append(f"after call {i}: NtQueryVirtualMemory's walk over the slots stopped at region {j}; "
                                    f"the model has {_fmt_region(r)}")
                    break
                wf = [int(x, 16) for x in w.split()[:7]] + [int(w.split()[7])] if len(w.split()) == 8 else None
                if wf is None or tuple(wf[:7]) != r or wf[7] != 48:
                    problems.append(f"after call {i} ({_describe(call)}): NtQueryVirtualMemory region {j} reports "
                                    f"{w}; the model {_fmt_region(r)} (a region is the run of pages alike inside one "
                                    f"reservation; ReturnLength 48)")
                    break
            if problems:
                break
    return problems


def _judge_touch(seed: int, values) -> list[str]:
    got = _run_records(values, "user.vmtouch")
    problems = []
    for key, want, why in (("u1.reserve", "0x0", "MEM_RESERVE of 128 KiB with a NULL base"),
                           ("u1.commit", "0x0", "MEM_COMMIT of its first page"),
                           ("u1.committed_reads", "0x0", "a committed page reads as zeros"),
                           ("u1.written", "0x1234", "a committed read-write page keeps what is written")):
        if got.get(key) != want:
            problems.append(f"vmstorm touch: {key} is {got.get(key)!r}, expected {want} ({why})")
    if "u1.reserved_reads" in got:
        problems.append("vmstorm touch read a reserved, never committed page (u1.reserved_reads): reserved memory has "
                        "no storage, the touch must raise an access violation")
    return problems


_JUDGES = {"vad_tree": _judge_tree, "vm_user": _judge_user, "vm_touch": _judge_touch}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab08.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
