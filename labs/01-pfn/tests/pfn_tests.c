/* pfn_tests.c - lab 01 public tests: list totals, reserved frames, zeroing,
 * exhaustion, contiguous runs, double free. */
#include "bugcodes.h"
#include "pfn_audit.h"
#include "rtl.h"

/* Every usable frame on exactly one list, reserved ones on none; a seeded storm of
 * allocations and frees (both flags, random order) keeps it that way. */
KTEST("pfn.totals", KtTestPfnTotals)
{
    if (!KtPfnReady(Context) || !KtPfnAudit(Context, "after boot"))
        return;
    PFN_NUMBER available = MmAvailablePages;
    KtValue(Context, "pages", "usable %llu available %llu highest 0x%llx", MmNumberOfPhysicalPages, available,
            MmHighestPhysicalPage);

    ULONG target = (ULONG)KtRandomRange(Context, 200, available < 3000 ? available / 2 : 1500), n = 0;
    for (; n < target; n++) {
        NTSTATUS status = MmAllocatePhysicalPage(KtRandomRange(Context, 0, 1) ? MM_ALLOCATE_ZEROED : 0, &KtHeld[n]);
        if (!KtRequireImplemented(Context, status, "MmAllocatePhysicalPage", "lab 01"))
            return;
        if (!KtCheck(Context, status == STATUS_SUCCESS, "allocate", "allocation %u of %u returned 0x%08X with %llu "
                     "available", n, target, (ULONG)status, available - n))
            return;
        if (!KtPfnIsAllocatable(KtHeld[n])) {
            KtFail(Context, "allocate", "allocation %u returned frame 0x%llx, which is not allocatable RAM", n,
                   KtHeld[n]);
            return;
        }
        /* now and then give one back, so frees interleave with allocations */
        if (n > 0 && KtRandomRange(Context, 0, 3) == 0) {
            ULONG victim = (ULONG)KtRandomRange(Context, 0, n - 1);
            NTSTATUS st = MmFreePhysicalPage(KtHeld[victim]);
            if (!KtRequireImplemented(Context, st, "MmFreePhysicalPage", "lab 01"))
                return;
            KtHeld[victim] = KtHeld[n];
            n--;
            target--;
        }
    }
    /* structure first: a broken link explains a wrong count, not the other way round */
    if (!KtPfnAudit(Context, "while holding frames"))
        return;
    if (!KtCheck(Context, MmAvailablePages == available - n, "available_after_alloc",
                 "holding %u frames: MmAvailablePages is %llu, expected %llu", n, MmAvailablePages, available - n))
        return;
    KtPfnFreeShuffled(Context, n);
    if (!KtPfnAudit(Context, "after freeing all"))
        return;
    KtCheck(Context, MmAvailablePages == available, "available_restored",
            "after freeing every frame MmAvailablePages is %llu, it was %llu", MmAvailablePages, available);
}

/* The kernel image, modules, the boot information, the first MiB and the PFN
 * database are never handed out, even when every frame is taken. */
KTEST("pfn.reserved", KtTestPfnReserved)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER available = MmAvailablePages, dbFirst, dbPages;
    KtPfnDatabaseRange(&dbFirst, &dbPages);
    NTSTATUS last;
    ULONG n = KtPfnAllocateAll(Context, (ULONG)KtRandomRange(Context, 0, 1), &last);
    if (!KtRequireImplemented(Context, last, "MmAllocatePhysicalPage", "lab 01"))
        return;
    KtValue(Context, "allocated", "%u", n);
    ULONG bad = n;
    for (ULONG i = 0; i < n && bad == n; i++)
        if (!KtPfnIsAllocatable(KtHeld[i]))
            bad = i;
    if (bad != n) {
        PFN_NUMBER pfn = KtHeld[bad];
        ULONG64 kernelFirst = 0, kernelEnd = 0;
        for (ULONG r = 0; r < MmBootMemory.ReservedCount; r++)
            if ((pfn << PAGE_SHIFT) - MmBootMemory.Reserved[r].Base < MmBootMemory.Reserved[r].Length)
                kernelFirst = MmBootMemory.Reserved[r].Base, kernelEnd = kernelFirst + MmBootMemory.Reserved[r].Length;
        KtFail(Context, "never_reserved", "frame 0x%llx was handed out but is %s", pfn,
               (pfn >= dbFirst && pfn < dbFirst + dbPages) ? "part of the PFN database itself"
               : kernelEnd ? "in a reserved range" : "not usable RAM");
        if (kernelEnd)
            KtValue(Context, "reserved_range", "0x%llx-0x%llx", kernelFirst, kernelEnd);
    } else {
        KtCheck(Context, TRUE, "never_reserved", "-");
    }
    KtCheck(Context, last == STATUS_NO_MEMORY && n == available, "exhausted",
            "allocated %u frames of %llu available, then got 0x%08X (expected STATUS_NO_MEMORY after all of them)",
            n, available, (ULONG)last);
    KtCheck(Context, MmAvailablePages == 0, "available_zero", "with every frame taken MmAvailablePages is %llu",
            MmAvailablePages);
    KtPfnFreeShuffled(Context, n);
    KtPfnAudit(Context, "after giving every frame back");
}

/* Frames from the zeroed list read as zeros; so does a zeroed allocation that has
 * to fall back on a dirty free frame. */
KTEST("pfn.zeroed", KtTestPfnZeroed)
{
    if (!KtPfnReady(Context))
        return;
    ULONG64 pattern = KtRandom(Context) | 1;
    NTSTATUS last;

    /* Dirty every frame, give them all back: the free list is all dirty now. */
    ULONG n = KtPfnAllocateAll(Context, 0, &last);
    if (!KtRequireImplemented(Context, last, "MmAllocatePhysicalPage", "lab 01"))
        return;
    for (ULONG i = 0; i < n; i++) {
        PULONG64 page = MiPfnToVirtual(KtHeld[i]);
        page[0] = pattern;
        page[KtRandomRange(Context, 1, 510)] = pattern + i;
        page[511] = pattern;
    }
    KtPfnFreeShuffled(Context, n);

    /* A zeroed allocation with an empty zeroed list must zero a free frame. */
    ULONG m = (ULONG)KtRandomRange(Context, 16, 64);
    if (!KtCheck(Context, MmPageListHeads[ZeroedPageList].Total == 0, "zeroed_empty",
                 "the zeroed list holds %llu frames after all were dirtied and freed (freed frames belong on the "
                 "free list)", MmPageListHeads[ZeroedPageList].Total))
        return;
    for (ULONG i = 0; i < m; i++) {
        PFN_NUMBER pfn;
        MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pfn);
        const ULONG64 *page = MiPfnToVirtual(pfn);
        for (ULONG w = 0; w < 512; w++)
            if (page[w] != 0) {
                KtFail(Context, "fallback_zeroed", "MM_ALLOCATE_ZEROED with an empty zeroed list returned frame "
                       "0x%llx with 0x%llx at offset 0x%x: zero a free frame before handing it out", pfn, page[w],
                       w * 8);
                return;
            }
        MmFreePhysicalPage(pfn);
    }
    KtCheck(Context, TRUE, "fallback_zeroed", "-");

    /* The zero page thread's work: k frames move from free to zeroed, all zeros. */
    PFN_NUMBER k = KtRandomRange(Context, 100, 400), done = 0;
    PFN_NUMBER freeBefore = MmPageListHeads[FreePageList].Total, zeroBefore = MmPageListHeads[ZeroedPageList].Total;
    NTSTATUS status = MiZeroFreePages(k, &done);
    if (!KtRequireImplemented(Context, status, "MiZeroFreePages", "lab 01"))
        return;
    if (!KtCheck(Context, done == k && MmPageListHeads[FreePageList].Total == freeBefore - k &&
                 MmPageListHeads[ZeroedPageList].Total == zeroBefore + k, "zero_thread",
                 "MiZeroFreePages(%llu) reported %llu; free list %llu -> %llu, zeroed list %llu -> %llu", k, done,
                 freeBefore, MmPageListHeads[FreePageList].Total, zeroBefore, MmPageListHeads[ZeroedPageList].Total))
        return;
    for (PFN_NUMBER pfn = MmPageListHeads[ZeroedPageList].Flink; pfn != MM_EMPTY_LIST;
         pfn = MI_PFN_ELEMENT(pfn)->Flink) {
        const ULONG64 *page = MiPfnToVirtual(pfn);
        for (ULONG w = 0; w < 512; w++)
            if (page[w] != 0) {
                KtFail(Context, "zeroed_list", "frame 0x%llx on the zeroed list has 0x%llx at offset 0x%x", pfn,
                       page[w], w * 8);
                return;
            }
    }
    /* A zeroed allocation now takes from the zeroed list. */
    PFN_NUMBER pfn, head = MmPageListHeads[ZeroedPageList].Flink;
    MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pfn);
    KtCheck(Context, pfn == head, "prefers_zeroed",
            "MM_ALLOCATE_ZEROED returned frame 0x%llx, but the zeroed list starts with 0x%llx", pfn, head);
    MmFreePhysicalPage(pfn);
    KtPfnAudit(Context, "after zeroing");
}

/* Taking every frame, giving them all back in a seeded order, and taking them all
 * again yields the same count, twice. */
KTEST("pfn.exhaust", KtTestPfnExhaust)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER available = MmAvailablePages;
    ULONG counts[3];
    for (ULONG round = 0; round < 3; round++) {
        NTSTATUS last;
        counts[round] = KtPfnAllocateAll(Context, round == 1 ? MM_ALLOCATE_ZEROED : 0, &last);
        if (!KtRequireImplemented(Context, last, "MmAllocatePhysicalPage", "lab 01"))
            return;
        if (round == 1) {
            PFN_NUMBER zeroed;
            MiZeroFreePages(1, &zeroed);
        }
        KtPfnFreeShuffled(Context, counts[round]);
        if (round == 0)
            MiZeroFreePages(KtRandomRange(Context, 1, 200), &(PFN_NUMBER){0});
        if (!KtCheck(Context, counts[round] == available, "same_count",
                     "round %u: allocated %u frames before STATUS_NO_MEMORY, %llu were available", round + 1,
                     counts[round], available))
            return;
    }
    KtValue(Context, "rounds", "%u %u %u", counts[0], counts[1], counts[2]);
    KtPfnAudit(Context, "after three rounds");
}

/* Seeded contiguous requests on fragmented memory: aligned, below the limit, all
 * frames were available; a request no run can satisfy fails and changes nothing. */
KTEST("pfn.contiguous", KtTestPfnContiguous)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER base = 0;
    NTSTATUS status = MmAllocateContiguousPages(1, 1, MmHighestPhysicalPage, &base);
    if (!KtRequireImplemented(Context, status, "MmAllocateContiguousPages", "lab 01"))
        return;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "finds_run",
                 "a 1-frame request with alignment 1 and no limit returned 0x%08X with %llu frames available",
                 (ULONG)status, MmAvailablePages))
        return;
    MmFreePhysicalPage(base);

    /* Fragment: take frames in a seeded pattern so that runs are broken up. */
    ULONG held = 0;
    for (ULONG i = 0; i < 3000 && held < KT_PFN_MAX_HELD / 2; i++) {
        PFN_NUMBER pfn;
        if (MmAllocatePhysicalPage(0, &pfn) != STATUS_SUCCESS)
            break;
        KtHeld[held++] = pfn;
    }
    ULONG kept = 0;
    for (ULONG i = 0; i < held; i++) {
        if (KtRandomRange(Context, 0, 2) == 0)
            KtHeld[kept++] = KtHeld[i];
        else
            MmFreePhysicalPage(KtHeld[i]);
    }
    held = kept;

    ULONG rounds = (ULONG)KtRandomRange(Context, 8, 14);
    PFN_NUMBER runs[16][2];
    ULONG nruns = 0;
    for (ULONG r = 0; r < rounds; r++) {
        PFN_NUMBER count = KtRandomRange(Context, 1, 48);
        PFN_NUMBER align = 1ULL << KtRandomRange(Context, 0, 6);
        PFN_NUMBER limit = KtRandomRange(Context, 0x400, MmHighestPhysicalPage);
        PFN_NUMBER before = MmAvailablePages;
        status = MmAllocateContiguousPages(count, align, limit, &base);
        if (status == STATUS_SUCCESS) {
            if (!KtCheck(Context, base % align == 0 && base + count - 1 <= limit, "placement",
                         "request %u (count %llu, alignment %llu, highest 0x%llx) returned base 0x%llx%s", r, count,
                         align, limit, base, base % align ? ": not aligned" : ": ends past the highest frame"))
                return;
            for (PFN_NUMBER p = base; p < base + count; p++)
                if (!KtPfnIsAllocatable(p) || MI_PFN_ELEMENT(p)->PageLocation != ActiveAndValid) {
                    KtFail(Context, "run_frames", "request %u returned run 0x%llx+%llu whose frame 0x%llx was not "
                           "available (or is not marked in use now)", r, base, count, p);
                    return;
                }
            if (!KtCheck(Context, MmAvailablePages == before - count, "run_accounting",
                         "request %u for %llu frames: MmAvailablePages went %llu -> %llu", r, count, before,
                         MmAvailablePages))
                return;
            runs[nruns][0] = base;
            runs[nruns][1] = count;
            nruns++;
        } else {
            /* Verify no run existed. */
            for (PFN_NUMBER b = 0; b + count - 1 <= limit; b += align) {
                PFN_NUMBER i = 0;
                while (i < count && KtPfnIsAllocatable(b + i) && MI_PFN_ELEMENT(b + i)->PageLocation <= FreePageList)
                    i++;
                if (i == count) {
                    KtFail(Context, "finds_run", "request %u (count %llu, alignment %llu, highest 0x%llx) returned "
                           "0x%08X, but frames 0x%llx-0x%llx were all available", r, count, align, limit,
                           (ULONG)status, b, b + count - 1);
                    return;
                }
            }
        }
    }
    KtCheck(Context, MmAllocateContiguousPages(4, 3, MmHighestPhysicalPage, &base) == STATUS_INVALID_PARAMETER &&
            MmAllocateContiguousPages(0, 1, MmHighestPhysicalPage, &base) == STATUS_INVALID_PARAMETER,
            "invalid_parameter", "alignment 3 or count 0 must return STATUS_INVALID_PARAMETER");
    KtValue(Context, "runs", "%u of %u", nruns, rounds);
    if (!KtPfnAudit(Context, "holding contiguous runs"))
        return;
    for (ULONG i = 0; i < nruns; i++)
        for (PFN_NUMBER p = 0; p < runs[i][1]; p++)
            MmFreePhysicalPage(runs[i][0] + p);
    KtPfnFreeShuffled(Context, held);
    KtPfnAudit(Context, "after freeing the runs");
}

/* Freeing a frame twice is a corrupt PFN list: PFN_LIST_CORRUPT (0x4E) with 0x99. */
KTEST_STOP("pfn.double_free", KtTestPfnDoubleFree)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER pfn, skip = KtRandomRange(Context, 0, 50);
    for (PFN_NUMBER i = 0; i <= skip; i++) {
        NTSTATUS status = MmAllocatePhysicalPage(0, &pfn);
        if (!KtRequireImplemented(Context, status, "MmAllocatePhysicalPage", "lab 01"))
            return;
        if (i < skip)
            KtHeld[i] = pfn;
    }
    if (!KtRequireImplemented(Context, MmFreePhysicalPage(pfn), "MmFreePhysicalPage", "lab 01"))
        return;
    KtValue(Context, "stop_params", "0x99 0x%llx * *", pfn);
    NTSTATUS status = MmFreePhysicalPage(pfn);
    KtFail(Context, "double_free", "freeing frame 0x%llx a second time returned 0x%08X instead of bugchecking with "
           "PFN_LIST_CORRUPT", pfn, (ULONG)status);
}
