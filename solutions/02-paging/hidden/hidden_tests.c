/* hidden_tests.c - lab 02 hidden tests: a map/unmap storm against a model, error cases. */
#include "pfn_audit.h"
#include "rtl.h"

#define KT_STORM_SLOTS 64

KTEST("paging.storm", KtTestPagingStorm)
{
    PFN_NUMBER top;
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER before = MmAvailablePages;
    MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &top);
    PMMPTE pml4 = MiPfnToVirtual(top);
    static ULONG_PTR va[KT_STORM_SLOTS];
    static PFN_NUMBER frame[KT_STORM_SLOTS];
    ULONG_PTR base = (KtRandomRange(Context, 0, 1) ? 0xFFFF800000000000ULL : 0) |
                     (KtRandomRange(Context, 1, 0xFFFF) << 31);
    for (ULONG op = 0; op < 1500; op++) {
        ULONG s = (ULONG)KtRandomRange(Context, 0, KT_STORM_SLOTS - 1);
        if (va[s]) {
            PFN_NUMBER pfn = 0;
            NTSTATUS status = MmUnmapPage(pml4, va[s], &pfn);
            if (!KtRequireImplemented(Context, status, "MmUnmapPage", "lab 02"))
                return;
            if (!KtCheck(Context, status == STATUS_SUCCESS && pfn == frame[s], "unmap",
                         "op %u: MmUnmapPage(0x%016llx) returned 0x%08X frame 0x%llx, expected 0x%llx", op,
                         (ULONG64)va[s], (ULONG)status, pfn, frame[s]))
                return;
            va[s] = 0;
        } else {
            ULONG_PTR v = base + (KtRandomRange(Context, 0, (1ULL << 19) - 1) << PAGE_SHIFT);
            BOOLEAN used = FALSE;
            for (ULONG i = 0; i < KT_STORM_SLOTS; i++)
                used |= va[i] == v;
            if (used)
                continue;
            frame[s] = KtRandomRange(Context, 1, 0xFFFFFF);
            NTSTATUS status = MmMapPage(pml4, v, frame[s], MM_PROTECT_WRITE | (v <= MM_HIGHEST_USER_ADDRESS ?
                                                                                MM_PROTECT_USER : 0), 0);
            if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02"))
                return;
            if (!KtCheck(Context, status == STATUS_SUCCESS, "map", "op %u: MmMapPage(0x%016llx) returned 0x%08X",
                         op, (ULONG64)v, (ULONG)status))
                return;
            va[s] = v;
        }
        if (op % 100 == 99)
            for (ULONG i = 0; i < KT_STORM_SLOTS; i++) {
                ULONG64 pa;
                if (va[i] && (MmTranslateAddress(pml4, va[i] + 8, &pa) != STATUS_SUCCESS ||
                              pa != (frame[i] << PAGE_SHIFT) + 8)) {
                    KtFail(Context, "translate", "op %u: 0x%016llx no longer translates to frame 0x%llx", op,
                           (ULONG64)va[i], frame[i]);
                    return;
                }
            }
    }
    for (ULONG i = 0; i < KT_STORM_SLOTS; i++) {
        PFN_NUMBER pfn;
        if (va[i])
            MmUnmapPage(pml4, va[i], &pfn);
    }
    MmFreePhysicalPage(top);
    KtCheck(Context, MmAvailablePages == before, "all_freed",
            "after the storm %llu frames are missing: page tables were not freed", before - MmAvailablePages);
}

KTEST("paging.errors", KtTestPagingErrors)
{
    PFN_NUMBER top, pfn;
    if (!KtPfnReady(Context))
        return;
    MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &top);
    PMMPTE pml4 = MiPfnToVirtual(top), pte;
    ULONG_PTR va = 0xFFFF800000000000ULL | (KtRandomRange(Context, 1, 1ULL << 30) << PAGE_SHIFT);
    NTSTATUS status = MmMapPage(pml4, va, 0x55, MM_PROTECT_WRITE, 0);
    if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02"))
        return;
    KtCheck(Context, MmMapPage(pml4, va, 0x56, MM_PROTECT_WRITE, 0) == STATUS_CONFLICTING_ADDRESSES, "double_map",
            "mapping 0x%016llx twice must return STATUS_CONFLICTING_ADDRESSES", (ULONG64)va);
    KtCheck(Context, MmUnmapPage(pml4, va + PAGE_SIZE, &pfn) == STATUS_NOT_FOUND, "unmap_nothing",
            "unmapping an address nothing maps must return STATUS_NOT_FOUND");
    KtCheck(Context, MmMapPage(pml4, 0x0000900000000000ULL, 0x55, 0, 0) == STATUS_INVALID_PARAMETER &&
            MmUnmapPage(pml4, 0x0000900000000000ULL, &pfn) == STATUS_INVALID_PARAMETER, "non_canonical",
            "non-canonical addresses must return STATUS_INVALID_PARAMETER");
    KtCheck(Context, MmMapPage(pml4, va + 8, 0x55, 0, 0) == STATUS_INVALID_PARAMETER, "unaligned",
            "an unaligned address must return STATUS_INVALID_PARAMETER");
    KtCheck(Context, MiWalkPageTables(pml4, va, 0, FALSE, &pte) == STATUS_INVALID_PARAMETER &&
            MiWalkPageTables(pml4, va, 5, FALSE, &pte) == STATUS_INVALID_PARAMETER, "bad_level",
            "levels outside 1..4 must return STATUS_INVALID_PARAMETER");
    KtCheck(Context, MiWalkPageTables(pml4, va ^ (1ULL << 40), MM_LEVEL_PT, FALSE, &pte) == STATUS_NOT_FOUND,
            "walk_missing", "a walk without Create through a missing table must return STATUS_NOT_FOUND");
    status = MiWalkPageTables(pml4, va, MM_LEVEL_PT, FALSE, &pte);
    KtCheck(Context, status == STATUS_SUCCESS && pte->Hard.Valid && pte->Hard.PageFrameNumber == 0x55, "walk_leaf",
            "a walk to level 1 must return the PT entry that maps the page");
    MmUnmapPage(pml4, va, &pfn);
    MmFreePhysicalPage(top);
}
