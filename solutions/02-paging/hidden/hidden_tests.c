/* hidden_tests.c - lab 02 hidden tests: a map/unmap storm of 4 KiB and 2 MiB pages
 * audited after every step, error cases with their outputs and frame counts, frames
 * running out in the middle of a walk, and the edges (1 GiB entries, the first and last
 * index, the highest user address). */
#include "pfn_audit.h"
#include "pt_audit.h"
#include "rtl.h"

#define KT_STORM_SLOTS 48
#define KT_SENTINEL 0x5A5A5A5A5A5A5A5AULL

KTEST("paging.storm", KtTestPagingStorm)
{
    PFN_NUMBER top;
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    static KT_MAPPING maps[KT_STORM_SLOTS];
    ULONG_PTR base = (KtRandomRange(Context, 0, 1) ? 0xFFFF800000000000ULL : 0) |
                     (KtRandomRange(Context, 1, 0x3FFF) << 33);
    for (ULONG op = 0; op < 700; op++) {
        ULONG s = (ULONG)KtRandomRange(Context, 0, KT_STORM_SLOTS - 1);
        KT_MAPPING *m = &maps[s];
        if (m->Va) {
            PFN_NUMBER pfn = KT_SENTINEL;
            ULONG_PTR at = m->Va + KtRandomRange(Context, 0, (m->Large ? MM_LARGE_PAGE_SIZE : PAGE_SIZE) - 1);
            NTSTATUS status = MmUnmapPage(pml4, at, &pfn);
            if (!KtRequireImplemented(Context, status, "MmUnmapPage", "lab 02"))
                return;
            if (!KtCheck(Context, status == STATUS_SUCCESS && pfn == m->Pfn, "unmap",
                         "op %u: MmUnmapPage(0x%016llx, inside a %s page) returned 0x%08X frame 0x%llx, expected 0x%llx",
                         op, (ULONG64)at, m->Large ? "2 MiB" : "4 KiB", (ULONG)status, pfn, m->Pfn))
                return;
            m->Va = 0;
        } else {
            BOOLEAN large = s % 4 == 0;
            /* large pages in four PDs of their own, a few each, so their PDs empty often */
            ULONG_PTR v = large ? base + (KtRandomRange(Context, 1, 4) << 30) + KtRandomRange(Context, 0, 7) * MM_LARGE_PAGE_SIZE
                                : base + (KtRandomRange(Context, 0, (1ULL << 17) - 1) << PAGE_SHIFT);
            BOOLEAN used = FALSE;
            for (ULONG i = 0; i < KT_STORM_SLOTS; i++) {
                ULONG64 span = maps[i].Large || large ? MM_LARGE_PAGE_SIZE : PAGE_SIZE;
                used |= maps[i].Va && (maps[i].Va & ~(span - 1)) == (v & ~(span - 1));
            }
            if (used)
                continue;
            m->Pfn = large ? KtRandomRange(Context, 1, 0x7FFF) * MM_LARGE_PAGE_PFNS : KtRandomRange(Context, 1, 0xFFFFFF);
            m->Protect = (ULONG)KtRandomRange(Context, 0, 7) & ~(v <= MM_HIGHEST_USER_ADDRESS ? 0 : MM_PROTECT_USER);
            m->Large = large;
            NTSTATUS status = MmMapPage(pml4, v, m->Pfn, m->Protect, large ? MM_MAP_LARGE : 0);
            if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02"))
                return;
            if (!KtCheck(Context, status == STATUS_SUCCESS, "map", "op %u: MmMapPage(0x%016llx, %s) returned 0x%08X%s",
                         op, (ULONG64)v, large ? "2 MiB" : "4 KiB", (ULONG)status,
                         status == STATUS_CONFLICTING_ADDRESSES ? " for an address nothing maps: a table with stray "
                         "valid entries (a new table must be a zeroed frame, MM_ALLOCATE_ZEROED; free memory is dirty)"
                                                                : ""))
                return;
            m->Va = v;
        }
        if (!KtAuditSpace(Context, "during the storm", pml4, maps, KT_STORM_SLOTS, baseline))
            return;
    }
    for (ULONG i = 0; i < KT_STORM_SLOTS; i++) {
        PFN_NUMBER pfn;
        if (maps[i].Va && MmUnmapPage(pml4, maps[i].Va, &pfn) == STATUS_SUCCESS)
            maps[i].Va = 0;
    }
    if (!KtAuditSpace(Context, "after the storm", pml4, maps, KT_STORM_SLOTS, baseline))
        return;
    MmFreePhysicalPage(top);
    KtCheck(Context, MmAvailablePages == baseline + 1, "all_freed",
            "after the storm %lld frames are missing: page tables were not freed",
            (LONG64)(baseline + 1 - MmAvailablePages));
}

KTEST("paging.errors", KtTestPagingErrors)
{
    PFN_NUMBER top, pfn;
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top), pte;
    if (!pml4)
        return;
    ULONG_PTR va = 0xFFFF800000000000ULL | (KtRandomRange(Context, 1, 1ULL << 30) << PAGE_SHIFT);
    NTSTATUS status = MmMapPage(pml4, va, 0x55, MM_PROTECT_WRITE, 0);
    if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage returned 0x%08X", (ULONG)status))
        return;
    KT_MAPPING m = {va, 0x55, MM_PROTECT_WRITE, FALSE};
    PFN_NUMBER before = MmAvailablePages;
    KtCheck(Context, MmMapPage(pml4, va, 0x56, MM_PROTECT_WRITE, 0) == STATUS_CONFLICTING_ADDRESSES, "double_map",
            "mapping 0x%016llx twice must return STATUS_CONFLICTING_ADDRESSES", (ULONG64)va);
    pfn = KT_SENTINEL;
    status = MmUnmapPage(pml4, va ^ PAGE_SIZE, &pfn);
    KtCheck(Context, status == STATUS_NOT_FOUND && pfn == KT_SENTINEL, "unmap_nothing",
            "unmapping an address nothing maps (its page table exists) returned 0x%08X%s; expected STATUS_NOT_FOUND",
            (ULONG)status, pfn != KT_SENTINEL ? " and wrote *Pfn" : "");
    pfn = KT_SENTINEL;
    status = MmUnmapPage(pml4, va ^ (1ULL << 40), &pfn);
    KtCheck(Context, status == STATUS_NOT_FOUND && pfn == KT_SENTINEL, "unmap_nothing",
            "unmapping an address with no tables returned 0x%08X%s; expected STATUS_NOT_FOUND", (ULONG)status,
            pfn != KT_SENTINEL ? " and wrote *Pfn" : "");
    pfn = KT_SENTINEL;
    KtCheck(Context, MmMapPage(pml4, 0x0000900000000000ULL, 0x55, 0, 0) == STATUS_INVALID_PARAMETER &&
            MmUnmapPage(pml4, 0x0000900000000000ULL, &pfn) == STATUS_INVALID_PARAMETER && pfn == KT_SENTINEL &&
            MmMapPage(pml4, 0xFFFF000000200000ULL, 0x200, 0, MM_MAP_LARGE) == STATUS_INVALID_PARAMETER,
            "non_canonical", "non-canonical addresses must return STATUS_INVALID_PARAMETER (map 4 KiB and 2 MiB, unmap), "
            "*Pfn untouched");
    KtCheck(Context, MmMapPage(pml4, va + 8, 0x55, 0, 0) == STATUS_INVALID_PARAMETER &&
            MmMapPage(pml4, (va & ~(MM_LARGE_PAGE_SIZE - 1)) + MM_LARGE_PAGE_SIZE + PAGE_SIZE, 0x200, 0, MM_MAP_LARGE) ==
            STATUS_INVALID_PARAMETER, "unaligned", "an unaligned address must return STATUS_INVALID_PARAMETER");
    pte = (PMMPTE)KT_SENTINEL;
    KtCheck(Context, MiWalkPageTables(pml4, va, 0, FALSE, &pte) == STATUS_INVALID_PARAMETER &&
            MiWalkPageTables(pml4, va, 5, TRUE, &pte) == STATUS_INVALID_PARAMETER && pte == (PMMPTE)KT_SENTINEL,
            "bad_level", "levels outside 1..4 must return STATUS_INVALID_PARAMETER and leave *Pte alone");
    KtCheck(Context, MiWalkPageTables(pml4, 0x0000900000000000ULL, MM_LEVEL_PT, TRUE, &pte) == STATUS_INVALID_PARAMETER &&
            MiWalkPageTables(pml4, 0xFFFF000000000000ULL, MM_LEVEL_PD, FALSE, &pte) == STATUS_INVALID_PARAMETER &&
            pte == (PMMPTE)KT_SENTINEL, "walk_non_canonical",
            "MiWalkPageTables with a non-canonical address must return STATUS_INVALID_PARAMETER (with and without "
            "Create) and leave *Pte alone");
    KtCheck(Context, MiWalkPageTables(pml4, va ^ (1ULL << 40), MM_LEVEL_PT, FALSE, &pte) == STATUS_NOT_FOUND &&
            pte == (PMMPTE)KT_SENTINEL, "walk_missing",
            "a walk without Create through a missing table must return STATUS_NOT_FOUND and leave *Pte alone");
    KtCheck(Context, MmAvailablePages == before, "refused_take_nothing",
            "the refused calls above took %lld frames (check the arguments before walking with Create)",
            (LONG64)(before - MmAvailablePages));
    status = MiWalkPageTables(pml4, va, MM_LEVEL_PT, FALSE, &pte);
    KtCheck(Context, status == STATUS_SUCCESS && pte->Long == KtLeafEntry(&m), "walk_leaf",
            "a walk to level 1 must return the PT entry that maps the page");
    MI_TRANSLATION t;
    MiInspectTranslation(pml4, va, &t);
    for (ULONG level = MM_LEVEL_PML4; level >= MM_LEVEL_PT; level--) {
        PMMPTE want = (PMMPTE)MiPfnToVirtual(t.Tables[level]) + MiTableIndex(va, level);
        status = MiWalkPageTables(pml4, va, level, level == MM_LEVEL_PML4, &pte);
        if (!KtCheck(Context, status == STATUS_SUCCESS && pte == want, "walk_levels",
                     "MiWalkPageTables(0x%016llx, level %u) returned 0x%08X and %p, expected the entry at %p in the "
                     "level-%u table", (ULONG64)va, level, (ULONG)status, pte, want, level))
            return;
    }
    KtCheck(Context, MmAvailablePages == before, "refused_take_nothing", "walks of existing tables took frames");
    PFN_NUMBER old;
    MmUnmapPage(pml4, va, &old);
    KtAuditSpace(Context, "after the error cases", pml4, NULL, 0, baseline);
    MmFreePhysicalPage(top);
}

/* Frames run out in the middle of a walk: with 0, 1 and 2 frames left a 4 KiB page that
 * needs three new tables is refused with STATUS_NO_MEMORY; the tables it made stay
 * linked and are used (not taken again) once frames are back. */
KTEST("paging.no_memory", KtTestPagingNoMemory)
{
    PFN_NUMBER top;
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    for (ULONG left = 0; left < 3; left++) {
        BOOLEAN user = (BOOLEAN)(left & 1);
        ULONG_PTR va = (user ? 0 : 0xFFFF800000000000ULL) | (KtRandomRange(Context, 1, (1ULL << 35) - 2) << PAGE_SHIFT);
        va = (va & ~(0x1FFULL << 39)) | ((ULONG64)((user ? 0 : 256) + left * 50 + 7) << 39); /* a PML4 slot of its own */
        KT_MAPPING m = {va, KtRandomRange(Context, 1, 0xFFFFF), MM_PROTECT_WRITE | (user ? MM_PROTECT_USER : 0), FALSE};
        PFN_NUMBER chain;
        KtTakeAllFrames(&chain);
        KtGiveFramesBack(&chain, left);
        PMMPTE pte = (PMMPTE)KT_SENTINEL;
        NTSTATUS walk = MiWalkPageTables(pml4, va, MM_LEVEL_PT, TRUE, &pte);
        NTSTATUS map = MmMapPage(pml4, va, m.Pfn, m.Protect, 0);
        PFN_NUMBER availableThen = MmAvailablePages;
        KtGiveFramesBack(&chain, (PFN_NUMBER)-1);
        if (!KtCheck(Context, walk == STATUS_NO_MEMORY && pte == (PMMPTE)KT_SENTINEL, "walk_no_memory",
                     "with %u frames left, a walk with Create that needs 3 tables returned 0x%08X%s (expected "
                     "STATUS_NO_MEMORY)", left, (ULONG)walk, pte != (PMMPTE)KT_SENTINEL ? " and wrote *Pte" : "") ||
            !KtCheck(Context, map == STATUS_NO_MEMORY, "map_no_memory",
                     "with %u frames left, MmMapPage that needs 3 tables returned 0x%08X (expected the walk's "
                     "STATUS_NO_MEMORY)", left, (ULONG)map))
            return;
        (void)availableThen;
        /* the tables made before the frames ran out are linked or given back, never leaked: the audits below
         * count every frame taken against the tables in the tree */
        map = MmMapPage(pml4, va, m.Pfn, m.Protect, 0);
        if (!KtCheck(Context, map == STATUS_SUCCESS, "tables_reused",
                     "with frames back, mapping 0x%016llx after a walk that ran out of frames returned 0x%08X",
                     (ULONG64)va, (ULONG)map) ||
            !KtAuditSpace(Context, "after a walk that ran out of frames", pml4, &m, 1, baseline))
            return;
        PFN_NUMBER old;
        if (!KtCheck(Context, MmUnmapPage(pml4, va, &old) == STATUS_SUCCESS, "unmap", "unmapping failed") ||
            !KtAuditSpace(Context, "after unmapping it", pml4, NULL, 0, baseline))
            return;
    }
    MmFreePhysicalPage(top);
}

/* 1 GiB entries, the first and the last index at every level, the highest user page. */
KTEST("paging.edges", KtTestPagingEdges)
{
    PFN_NUMBER top;
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    PFN_NUMBER before = MmAvailablePages;
    NTSTATUS status = MmMapPage(pml4, MM_HIGHEST_USER_ADDRESS + 1, 0x77, MM_PROTECT_USER, 0);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && MmAvailablePages == before, "highest_user",
            "MM_PROTECT_USER at 0x%016llx, one page above MM_HIGHEST_USER_ADDRESS, returned 0x%08X (expected "
            "STATUS_INVALID_PARAMETER, no frame taken)", MM_HIGHEST_USER_ADDRESS + 1, (ULONG)status);
    /* index 0 (and PT index 1: a Va of 0 is the model's empty slot) and index 511 at every level */
    static const ULONG_PTR edges[] = {0x1000, 0x00007FFFFFFEF000ULL, 0xFFFF800000000000ULL, 0xFFFFFFFFFFFFF000ULL};
    KT_MAPPING maps[4];
    for (ULONG i = 0; i < 4; i++) {
        maps[i] = (KT_MAPPING){edges[i], KtRandomRange(Context, 1, 0xFFFFF),
                               (ULONG)KtRandomRange(Context, 0, 7) & ~(edges[i] <= MM_HIGHEST_USER_ADDRESS ? 0
                                                                                                 : MM_PROTECT_USER),
                               FALSE};
        NTSTATUS status = MmMapPage(pml4, edges[i], maps[i].Pfn, maps[i].Protect, 0);
        ULONG64 off = KtRandomRange(Context, 0, PAGE_SIZE - 1), pa = 0;
        NTSTATUS tr = MmTranslateAddress(pml4, edges[i] + off, &pa);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
            !KtCheck(Context, status == STATUS_SUCCESS && tr == STATUS_SUCCESS && pa == (maps[i].Pfn << PAGE_SHIFT) + off,
                     "index_edges", "0x%016llx (indices %llu/%llu/%llu/%llu): map returned 0x%08X, translation 0x%08X "
                     "0x%llx, expected 0x%llx", (ULONG64)edges[i], MiTableIndex(edges[i], 4), MiTableIndex(edges[i], 3),
                     MiTableIndex(edges[i], 2), MiTableIndex(edges[i], 1), (ULONG)status, (ULONG)tr, pa,
                     (maps[i].Pfn << PAGE_SHIFT) + off))
            return;
    }
    if (!KtAuditSpace(Context, "after mapping the first and last pages of each half", pml4, maps, 4, baseline))
        return;
    for (ULONG i = 0; i < 4; i++) {
        PFN_NUMBER old;
        MmUnmapPage(pml4, edges[i], &old);
        maps[i].Va = 0;
    }
    if (!KtAuditSpace(Context, "after unmapping them", pml4, maps, 4, baseline))
        return;
    /* a 1 GiB page, entered by hand in a PDPT: translation adds the low 30 bits; no
     * table may be walked or mapped below it */
    ULONG_PTR gva = (KtRandomRange(Context, 0, 1) ? 0xFFFF800000000000ULL : 0) |
                    (KtRandomRange(Context, 1, 0x1FFFF) << 30);
    PFN_NUMBER pdpt;
    if (!KtCheck(Context, MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pdpt) == STATUS_SUCCESS, "frame", "no frame"))
        return;
    pml4[MiTableIndex(gva, 4)].Long = KtTableEntry(pdpt, gva);
    PFN_NUMBER gpfn = KtRandomRange(Context, 1, 3) << 18; /* below 4 GiB */
    MMPTE huge = {0};
    huge.Hard.Valid = 1;
    huge.Hard.Write = 1;
    huge.Hard.LargePage = 1;
    huge.Hard.PageFrameNumber = gpfn;
    ((PMMPTE)MiPfnToVirtual(pdpt))[MiTableIndex(gva, 3)] = huge;
    ULONG64 off = KtRandomRange(Context, 0, (1ULL << 30) - 1), pa = 0;
    status = MmTranslateAddress(pml4, gva + off, &pa);
    KtCheck(Context, status == STATUS_SUCCESS && pa == (gpfn << PAGE_SHIFT) + off, "translate_1gib",
            "0x%016llx in a 1 GiB page on frame 0x%llx translated to 0x%llx (status 0x%08X), expected 0x%llx (a PDPT "
            "entry with LargePage 1: plus the low 30 bits)", (ULONG64)gva + off, gpfn, pa, (ULONG)status,
            (gpfn << PAGE_SHIFT) + off);
    before = MmAvailablePages;
    PMMPTE pte = (PMMPTE)KT_SENTINEL;
    KtCheck(Context, MiWalkPageTables(pml4, gva + PAGE_SIZE, MM_LEVEL_PT, TRUE, &pte) == STATUS_CONFLICTING_ADDRESSES &&
            MiWalkPageTables(pml4, gva, MM_LEVEL_PD, FALSE, &pte) == STATUS_CONFLICTING_ADDRESSES &&
            MmMapPage(pml4, gva + MM_LARGE_PAGE_SIZE, 0x400, 0, MM_MAP_LARGE) == STATUS_CONFLICTING_ADDRESSES &&
            MmMapPage(pml4, gva + PAGE_SIZE, 0x400, 0, 0) == STATUS_CONFLICTING_ADDRESSES &&
            MmAvailablePages == before && pte == (PMMPTE)KT_SENTINEL, "below_large",
            "walking or mapping below a 1 GiB page must return STATUS_CONFLICTING_ADDRESSES (an entry with LargePage 1 "
            "has no table below it), take no frame and leave *Pte alone");
    ((PMMPTE)MiPfnToVirtual(pdpt))[MiTableIndex(gva, 3)].Long = 0;
    pml4[MiTableIndex(gva, 4)].Long = 0;
    MmFreePhysicalPage(pdpt);
    MmFreePhysicalPage(top);
    KtCheck(Context, MmAvailablePages == baseline + 1, "frames_back", "%lld frames missing at the end",
            (LONG64)(baseline + 1 - MmAvailablePages));
}
