/* workset_tests.c - lab 08 public tests of the working set (pf part):
 *   pf.workset  MiInitializeWorkingSet on a dirty list (every bad size refused, nothing
 *               written; every field after a good one); MiInsertWorkingSetPage takes the
 *               lowest free entry (holes left by removals are reused), refuses unaligned and
 *               system addresses; MiRemoveWorkingSetPage of absent pages; the counters.
 *   pf.clock    a seeded storm over a small working set (seeded capacity, minimum and
 *               maximum, more pages than fit): touches (the PTE's Accessed bit), faults that
 *               bring a page in (new, or back from the pagefile with its contents) and insert
 *               it - replacing a page by the clock when the set is full -, trims of seeded
 *               sizes, removals. After every operation the kernel reports the list, the
 *               hand and the counters (KTEST VALUE pf.clock op<i>), and grader/models/lab08pf.py
 *               replays the storm from the seed and compares; the test itself checks that
 *               every resident page is in the list once and every page that left is in the
 *               pagefile with its contents. */
#include "lab08pf_support.h"

#define KT_WS_CAP_MAX 16
#define KT_WS_PAGES_MAX (KT_WS_CAP_MAX + 10)

KTEST("pf.workset", KtPfWorkset)
{
    if (!KtPfEnter(Context))
        return;
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    static MMWSLE wsle[KT_WS_CAP_MAX + 1];
    static MMWSL wsl;
    ULONG cap = (ULONG)KtRandomRange(Context, 6, KT_WS_CAP_MAX);
    ULONG64 garbage = KtRandom(Context) | 1;
    for (ULONG i = 0; i <= KT_WS_CAP_MAX; i++)
        wsle[i].Long = garbage + i;
    RtlFillMemory(&wsl, sizeof(wsl), 0x5A);
    /* Bad sizes: nothing written. */
    struct { ULONG Cap, Min, Max; PCSTR What; } bad[] = {
        {0, 0, 0, "Capacity 0"}, {cap, 0, 0, "Maximum 0"}, {cap, 1, cap + 1, "Maximum above Capacity"},
        {cap, cap, cap - 1, "Minimum above Maximum"},
    };
    PMMSUPPORT vm = &s.Space->Vm;
    SIZE_T oldMax = vm->MaximumWorkingSetSize;
    for (ULONG i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        NTSTATUS status = MiInitializeWorkingSet(s.Space, &wsl, wsle, bad[i].Cap, bad[i].Min, bad[i].Max);
        if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && wsle[0].Long == garbage &&
                     vm->WorkingSetList == NULL && vm->MaximumWorkingSetSize == oldMax, "init_invalid",
                     "MiInitializeWorkingSet with %s: 0x%x; expected STATUS_INVALID_PARAMETER and nothing written",
                     bad[i].What, status))
            goto done;
    }
    ULONG max = cap - (ULONG)KtRandomRange(Context, 0, 2);
    ULONG min = (ULONG)KtRandomRange(Context, 1, 3);
    vm->PageFaultCount = 0x1234;
    vm->WorkingSetSize = 77;
    vm->PeakWorkingSetSize = 99;
    NTSTATUS status = MiInitializeWorkingSet(s.Space, &wsl, wsle, cap, min, max);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "init", "MiInitializeWorkingSet(Capacity %u, Minimum %u, Maximum %u): "
                 "0x%x", cap, min, max, status))
        goto done;
    for (ULONG i = 0; i < cap; i++)
        if (!KtCheck(Context, wsle[i].Long == 0, "init_entries", "entry %u of a new list is 0x%llx, expected 0 (free)", i,
                     (ULONG64)wsle[i].Long))
            goto done;
    if (!KtCheck(Context, wsle[cap].Long == garbage + cap, "init_bounds", "the entry past Capacity was written") ||
        !KtCheck(Context, wsl.Wsle == wsle && wsl.Capacity == cap && wsl.NextSlot == 0 && wsl.PagesTrimmed == 0, "init_list",
                 "the list: Wsle %p (expected %p), Capacity %u (expected %u), NextSlot %u, PagesTrimmed %u (expected 0)",
                 wsl.Wsle, wsle, wsl.Capacity, cap, wsl.NextSlot, wsl.PagesTrimmed) ||
        !KtCheck(Context, vm->WorkingSetList == &wsl && vm->MinimumWorkingSetSize == min && vm->MaximumWorkingSetSize == max &&
                 vm->WorkingSetSize == 0 && vm->PeakWorkingSetSize == 0 && vm->PageFaultCount == 0x1234, "init_vm",
                 "Space->Vm: WorkingSetList %p (expected %p), Minimum %llu (%u), Maximum %llu (%u), WorkingSetSize %llu and "
                 "Peak %llu (expected 0), PageFaultCount 0x%x (expected left alone, 0x1234)", vm->WorkingSetList, &wsl,
                 (ULONG64)vm->MinimumWorkingSetSize, min, (ULONG64)vm->MaximumWorkingSetSize, max,
                 (ULONG64)vm->WorkingSetSize, (ULONG64)vm->PeakWorkingSetSize, vm->PageFaultCount))
        goto done;
    /* Inserts fill entries 0, 1, 2 ...; removals leave holes that the next inserts take, lowest first. */
    ULONG_PTR base = KtRandomRange(Context, 0x100, 0x7FFFF) << 16;
    ULONG_PTR shadow[KT_WS_CAP_MAX];
    RtlZeroMemory(shadow, sizeof(shadow));
    ULONG size = 0, peak = 0;
    ULONG next = 0;
    for (ULONG round = 0; round < 3; round++) {
        while (size < max) {
            ULONG_PTR va = base + (ULONG_PTR)(next++) * PAGE_SIZE;
            ULONG want = 0;
            while (shadow[want])
                want++;
            if (!KtPfMapPage(Context, &s, va, MM_READWRITE, next))
                goto done;
            status = MiInsertWorkingSetPage(s.Space, va);
            if (!KtCheck(Context, status == STATUS_SUCCESS, "insert", "MiInsertWorkingSetPage(0x%llx) with %u of %u pages: "
                         "0x%x", (ULONG64)va, size, max, status))
                goto done;
            shadow[want] = va | MI_WSLE_VALID;
            size++;
            if (size > peak)
                peak = size;
            for (ULONG i = 0; i < cap; i++)
                if (!KtCheck(Context, wsle[i].Long == shadow[i], "lowest_free", "after inserting 0x%llx: entry %u is 0x%llx, "
                             "expected 0x%llx (a new page takes the free entry of lowest index; the entry is the address "
                             "| MI_WSLE_VALID)", (ULONG64)va, i, (ULONG64)wsle[i].Long, (ULONG64)shadow[i]))
                    goto done;
            if (!KtCheck(Context, vm->WorkingSetSize == size && vm->PeakWorkingSetSize == peak, "counters", "after an insert: "
                         "WorkingSetSize %llu, Peak %llu; expected %u, %u", (ULONG64)vm->WorkingSetSize,
                         (ULONG64)vm->PeakWorkingSetSize, size, peak))
                goto done;
        }
        /* Remove a seeded set (always the entry at 0 and the last one in the first round). */
        ULONG removes = (ULONG)KtRandomRange(Context, 2, max - 1);
        for (ULONG r = 0; r < removes; r++) {
            ULONG i = round == 0 && r == 0 ? 0 : round == 0 && r == 1 ? max - 1 : (ULONG)KtRandomRange(Context, 0, max - 1);
            if (!shadow[i])
                continue;
            /* an address inside the page: rounded down */
            ULONG_PTR inside = (shadow[i] & ~(PAGE_SIZE - 1)) + KtRandomRange(Context, 0, PAGE_SIZE - 1);
            status = MiRemoveWorkingSetPage(s.Space, inside);
            if (!KtCheck(Context, status == STATUS_SUCCESS && wsle[i].Long == 0 && vm->WorkingSetSize == size - 1, "remove",
                         "MiRemoveWorkingSetPage(0x%llx) of the page in entry %u: 0x%x, entry now 0x%llx, WorkingSetSize "
                         "%llu (expected STATUS_SUCCESS, 0, %u)", (ULONG64)inside, i, status, (ULONG64)wsle[i].Long,
                         (ULONG64)vm->WorkingSetSize, size - 1))
                goto done;
            /* Again: absent now. */
            status = MiRemoveWorkingSetPage(s.Space, inside);
            if (!KtCheck(Context, status == STATUS_NOT_FOUND && vm->WorkingSetSize == size - 1, "remove_absent",
                         "MiRemoveWorkingSetPage of a page not in the set: 0x%x, WorkingSetSize %llu; expected "
                         "STATUS_NOT_FOUND and nothing changed", status, (ULONG64)vm->WorkingSetSize))
                goto done;
            /* The test unmaps it (vm's MiReplaceUserPte; the hook finds it gone already). */
            MMPTE zero = {0};
            MiReplaceUserPte(s.Space, shadow[i] & ~(PAGE_SIZE - 1), zero);
            shadow[i] = 0;
            size--;
            if (!KtCheck(Context, vm->WorkingSetSize == size && vm->PeakWorkingSetSize == peak, "counters", "after a removal: "
                         "WorkingSetSize %llu, Peak %llu; expected %u and the peak %u kept", (ULONG64)vm->WorkingSetSize,
                         (ULONG64)vm->PeakWorkingSetSize, size, peak))
                goto done;
        }
    }
    /* Bad addresses: unaligned, system space. */
    status = MiInsertWorkingSetPage(s.Space, base + 8);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && vm->WorkingSetSize == size, "insert_invalid", "MiInsertWorkingSetPage "
            "of an unaligned address: 0x%x, expected STATUS_INVALID_PARAMETER and nothing changed", status);
    status = MiInsertWorkingSetPage(s.Space, MM_HIGHEST_USER_ADDRESS + 1);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && vm->WorkingSetSize == size, "insert_invalid", "MiInsertWorkingSetPage "
            "of 0x%llx (system space): 0x%x, expected STATUS_INVALID_PARAMETER", MM_HIGHEST_USER_ADDRESS + 1, status);
    KtPfDestroySpace(&s);
    /* A set at its maximum (Capacity 8, Maximum 4) in entries 1-4, entry 0 free: the new page takes the entry
     * the clock freed, not the lowest free one; then a trim whose first page-out fails stops there. */
    KT_PF_SPACE t;
    if (!KtPfCreateSpace(Context, &t))
        return;
    static MMWSLE wsle2[8];
    static MMWSL wsl2;
    ULONG_PTR tb = (KtRandomRange(Context, 0x100, 0x7FFF) << 16);
    ULONG first = (ULONG)KtRandomRange(Context, 1, 3); /* the entry the hand starts at */
    BOOLEAN ok = KtCheck(Context, MiInitializeWorkingSet(t.Space, &wsl2, wsle2, 8, 1, 4) == STATUS_SUCCESS, "init",
                         "MiInitializeWorkingSet(Capacity 8, Minimum 1, Maximum 4)");
    /* Pages 0-4 in entries 0-4 (the maximum raised to 5 for the fifth by the test's hands), then page 0 removed. */
    for (ULONG i = 0; ok && i < 6; i++) {
        if (i == 4)
            t.Space->Vm.MaximumWorkingSetSize = 5;
        ok = KtPfMapPage(Context, &t, tb + i * PAGE_SIZE, MM_READWRITE, 700 + i) &&
             (i == 5 || KtCheck(Context, MiInsertWorkingSetPage(t.Space, tb + i * PAGE_SIZE) == STATUS_SUCCESS,
                                "lowest_free", "MiInsertWorkingSetPage of page %u", i));
    }
    t.Space->Vm.MaximumWorkingSetSize = 4;
    if (!ok || !KtCheck(Context, MiRemoveWorkingSetPage(t.Space, tb) == STATUS_SUCCESS && wsle2[0].Long == 0,
                        "remove", "MiRemoveWorkingSetPage of the page in entry 0"))
        goto done2;
    for (ULONG i = 0; i < 6; i++)
        KtPte(&t, tb + i * PAGE_SIZE)->Hard.Accessed = 0;
    wsl2.NextSlot = first;
    status = MiInsertWorkingSetPage(t.Space, tb + 5 * PAGE_SIZE);
    if (!KtCheck(Context, status == STATUS_SUCCESS && wsle2[first].Long == ((tb + 5 * PAGE_SIZE) | MI_WSLE_VALID) &&
                 wsle2[0].Long == 0 && wsl2.NextSlot == first + 1 && t.Space->Vm.WorkingSetSize == 4, "lowest_free",
                 "MiInsertWorkingSetPage at the maximum (entries 1-4 used, 0 free, the hand at %u, no page Accessed): "
                 "0x%x, entry %u 0x%llx (expected the new page 0x%llx), entry 0 0x%llx (expected still free), NextSlot "
                 "%u (%u), WorkingSetSize %llu (4): the page takes the entry the clock freed", first, status, first,
                 (ULONG64)wsle2[first].Long, (ULONG64)((tb + 5 * PAGE_SIZE) | MI_WSLE_VALID), (ULONG64)wsle2[0].Long,
                 wsl2.NextSlot, first + 1, (ULONG64)t.Space->Vm.WorkingSetSize))
        goto done2;
    /* The pagefile full: the first page-out fails and the trim stops at that page, the hand just past it. */
    ULONG last = first; /* from first + 1 on, the used entry the hand reaches last */
    for (ULONG i = 1; i <= 4; i++) {
        ULONG_PTR e = wsle2[i].Long & ~(PAGE_SIZE - 1);
        KtPte(&t, e)->Hard.Accessed = i == last;
    }
    MMPAGING_FILE full = *MmPagingFile;
    full.FreeSpace = 0;
    PMMPAGING_FILE real = MmPagingFile;
    MmPagingFile = &full;
    ULONG left = MiTrimWorkingSet(t.Space, 3);
    MmPagingFile = real;
    ULONG_PTR lastVa = wsle2[last].Long & ~(PAGE_SIZE - 1);
    KtCheck(Context, left == 0 && wsl2.NextSlot == first + 2 && t.Space->Vm.WorkingSetSize == 4 &&
            KtPte(&t, lastVa)->Hard.Accessed, "trim_stops", "MiTrimWorkingSet(3) with a full pagefile: %u pages left, "
            "NextSlot %u, WorkingSetSize %llu, entry %u Accessed %u; expected 0, %u (just past the page whose page-out "
            "failed), 4, and entry %u never reached (Accessed still 1): a trim stops at the first page-out that fails",
            left, wsl2.NextSlot, (ULONG64)t.Space->Vm.WorkingSetSize, last, (ULONG)KtPte(&t, lastVa)->Hard.Accessed,
            first + 2, last);
    /* A second chance flushes the page's TLB entry: attached, every page touched (the TLB holds them), a trim of
     * one page clears Accessed on all of them in its first sweep; the next touch of a survivor must walk the page
     * tables again and set Accessed (a stale TLB entry would let it through without). */
    {
        static UCHAR buf[8];
        KeStackAttachProcess(&t.Process);
        for (ULONG i = 1; i <= 4; i++)
            KeCopyFromUser(buf, (PVOID)(wsle2[i].Long & ~(PAGE_SIZE - 1)), sizeof(buf));
        wsl2.NextSlot = 1;
        ULONG out = MiTrimWorkingSet(t.Space, 1);
        ULONG_PTR survivor = wsle2[3].Long & ~(PAGE_SIZE - 1);
        KeCopyFromUser(buf, (PVOID)survivor, sizeof(buf));
        KeUnstackDetachProcess();
        PMMPTE sp = KtPte(&t, survivor);
        KtCheck(Context, out == 1 && sp != NULL && sp->Hard.Valid && sp->Hard.Accessed, "second_chance", "after a trim "
                "whose first sweep gave every page a second chance (%u page left, 1 expected), a touch of the page in "
                "entry 3 left its PTE 0x%016llx with Accessed %u: expected 1 - a second chance clears Accessed and "
                "flushes the TLB entry (MiFlushUserTb), so the next touch sets it again", out, sp ? sp->Long : 0,
                sp ? (ULONG)sp->Hard.Accessed : 0);
    }
done2:
    KtPfDestroySpace(&t);
    return;
done:
    KtPfDestroySpace(&s);
}

/* ---- pf.clock ---------------------------------------------------------------------- */

typedef struct {
    ULONG_PTR Va;
    ULONG State; /* 0 never touched, 1 resident, 2 in the pagefile */
} KT_WS_PAGE;

static LONG KtWsIndexOf(KT_WS_PAGE *P, ULONG N, ULONG_PTR Entry)
{
    if (!(Entry & MI_WSLE_VALID))
        return -1;
    for (ULONG i = 0; i < N; i++)
        if ((Entry & ~(PAGE_SIZE - 1)) == P[i].Va && (Entry & (PAGE_SIZE - 1)) == MI_WSLE_VALID)
            return (LONG)i;
    return -2;
}

/* "hand=.. size=.. peak=.. trimmed=.. wsle=a,b,.,c" - the state the model replays. */
static BOOLEAN KtWsReport(PKTEST_CONTEXT Context, ULONG Op, PCSTR What, ULONG Page, LONG Result, KT_PF_SPACE *S, PMMWSL Wsl,
                          KT_WS_PAGE *P, ULONG N)
{
    static CHAR list[KT_WS_CAP_MAX * 4 + 8];
    ULONG at = 0;
    for (ULONG i = 0; i < Wsl->Capacity && at + 5 < sizeof(list); i++) {
        LONG k = KtWsIndexOf(P, N, Wsl->Wsle[i].Long);
        if (i)
            list[at++] = ',';
        if (k == -1 && Wsl->Wsle[i].Long == 0) {
            list[at++] = '.';
        } else if (k < 0) {
            list[at++] = '?';
        } else {
            if (k >= 10)
                list[at++] = (CHAR)('0' + k / 10);
            list[at++] = (CHAR)('0' + k % 10);
        }
    }
    list[at] = 0;
    KtValue(Context, "op", "%u %s %u %d hand=%u size=%llu peak=%llu trimmed=%u wsle=%s", Op, What, Page, Result,
            Wsl->NextSlot, (ULONG64)S->Space->Vm.WorkingSetSize, (ULONG64)S->Space->Vm.PeakWorkingSetSize,
            Wsl->PagesTrimmed, list);
    /* The test's own checks: each resident page in the list once, no other page in it; every
     * page that left is a pagefile PTE. */
    ULONG resident = 0;
    for (ULONG k = 0; k < N; k++) {
        ULONG seen = 0;
        for (ULONG i = 0; i < Wsl->Capacity; i++)
            seen += KtWsIndexOf(P, N, Wsl->Wsle[i].Long) == (LONG)k;
        PMMPTE pte = KtPte(S, P[k].Va);
        MMPTE e = pte ? *pte : (MMPTE){0};
        if (e.Hard.Valid) {
            resident++;
            if (!KtCheck(Context, seen == 1, "listed_once", "op %u (%s): resident page %u (0x%llx) is in the list %u times, "
                         "expected once", Op, What, k, (ULONG64)P[k].Va, seen))
                return FALSE;
            P[k].State = 1;
        } else {
            if (!KtCheck(Context, seen == 0, "listed_once", "op %u (%s): page %u (0x%llx) is not resident (PTE 0x%llx) but "
                         "is in the list %u times", Op, What, k, (ULONG64)P[k].Va, e.Long, seen))
                return FALSE;
            if (P[k].State == 1) {
                if (!KtCheck(Context, !e.Soft.Prototype && !e.Soft.Transition && e.Soft.PageFileHigh != 0 &&
                             e.Soft.Protection == MM_READWRITE, "left_to_pagefile", "op %u (%s): page %u left the working "
                             "set but its PTE is 0x%016llx, not a pagefile PTE", Op, What, k, e.Long))
                    return FALSE;
                P[k].State = 2;
            }
        }
    }
    return KtCheck(Context, S->Space->Vm.WorkingSetSize == resident, "size_counts_resident", "op %u (%s): WorkingSetSize "
                   "%llu, but %u pages are resident", Op, What, (ULONG64)S->Space->Vm.WorkingSetSize, resident);
}

KTEST("pf.clock", KtPfClock)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "pager"))
        return;
    PFN_NUMBER avail0 = MmAvailablePages;
    ULONG free0 = MmPagingFile->FreeSpace;
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    static MMWSLE wsle[KT_WS_CAP_MAX];
    static MMWSL wsl;
    static KT_WS_PAGE p[KT_WS_PAGES_MAX];
    ULONG cap = (ULONG)KtRandomRange(Context, 8, KT_WS_CAP_MAX);
    ULONG max = cap - (ULONG)KtRandomRange(Context, 1, 3);   /* entries past the maximum: the hand still sweeps them */
    ULONG min = (ULONG)KtRandomRange(Context, 1, 2);   /* below the 3 pages the fill phase replaces */
    ULONG n = max + (ULONG)KtRandomRange(Context, 4, 10);
    ULONG_PTR base = KtRandomRange(Context, 0x100, 0x7FFFF) << 16;
    for (ULONG i = 0; i < n; i++) {
        p[i].Va = base + (ULONG_PTR)KtRandomRange(Context, 0, 3) * MM_LARGE_PAGE_SIZE + i * PAGE_SIZE;
        p[i].State = 0;
    }
    NTSTATUS status = MiInitializeWorkingSet(s.Space, &wsl, wsle, cap, min, max);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "init", "MiInitializeWorkingSet: 0x%x", status))
        goto done;
    KtValue(Context, "setup", "cap=%u max=%u min=%u pages=%u", cap, max, min, n);
    ULONG ops = 90;
    for (ULONG op = 0; op < ops; op++) {
        ULONG kind = (ULONG)KtRandomRange(Context, 0, 9);
        ULONG j = (ULONG)KtRandomRange(Context, 0, n - 1);
        /* Every case on every seed: the first ops fill the set past its maximum, then a trim. */
        if (op < max + 3)
            kind = 0, j = op;
        else if (op == max + 3 || op == max + 4)
            kind = 6;
        if (kind <= 5) {
            PMMPTE pte = KtPte(&s, p[j].Va);
            if (pte && pte->Hard.Valid) {
                pte->Hard.Accessed = 1;     /* the test touches it */
                if (!KtWsReport(Context, op, "touch", j, 0, &s, &wsl, p, n))
                    goto done;
                continue;
            }
            if (p[j].State == 2) {
                status = MiPageIn(s.Space, p[j].Va);
                if (!KtCheck(Context, status == STATUS_SUCCESS, "page_in", "op %u: MiPageIn(page %u, 0x%llx): 0x%x", op, j,
                             (ULONG64)p[j].Va, status))
                    goto done;
                LONG bad = KtPfCompare(MiPfnToVirtual(KtPte(&s, p[j].Va)->Hard.PageFrameNumber), 1000 + j);
                if (!KtCheck(Context, bad < 0, "contents", "op %u: page %u came back from the pagefile different at byte %d",
                             op, j, bad * 8))
                    goto done;
            } else if (!KtPfMapPage(Context, &s, p[j].Va, MM_READWRITE, 1000 + j)) {
                goto done;
            }
            status = MiInsertWorkingSetPage(s.Space, p[j].Va);
            if (!KtWsReport(Context, op, "fault", j, status, &s, &wsl, p, n))
                goto done;
        } else if (kind <= 7) {
            ULONG k = (ULONG)KtRandomRange(Context, 1, 4);
            /* The two forced trims: the first ends with the hand just past the maximum's index
             * (the entries up to it are all in the set, none accessed, after the fill), so a clock
             * that wraps at the maximum instead of the capacity shows; the second asks for more
             * pages than the set holds above its minimum (the floor is the minimum). */
            if (op == max + 3)
                k = wsl.NextSlot < max ? max - wsl.NextSlot : 1;
            else if (op == max + 4)
                k = max + 2;
            ULONG got = MiTrimWorkingSet(s.Space, k);
            if (!KtWsReport(Context, op, "trim", k, (LONG)got, &s, &wsl, p, n))
                goto done;
        } else {
            status = MiRemoveWorkingSetPage(s.Space, p[j].Va);
            if (status == STATUS_SUCCESS) {
                MMPTE zero = {0};
                MiReplaceUserPte(s.Space, p[j].Va, zero);
                p[j].State = 0;
            }
            if (!KtWsReport(Context, op, "remove", j, status, &s, &wsl, p, n))
                goto done;
        }
    }
done:
    KtPfDestroySpace(&s);
    KtCheck(Context, MmAvailablePages == avail0 && MmPagingFile->FreeSpace == free0, "conserved", "at the end: %llu frames "
            "available (expected %llu), pagefile FreeSpace %u (expected %u)", (ULONG64)MmAvailablePages, (ULONG64)avail0,
            MmPagingFile->FreeSpace, free0);
}
