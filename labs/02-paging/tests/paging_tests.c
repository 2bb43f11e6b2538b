/* paging_tests.c - lab 02 public tests: translations, freeing page tables, the TLB,
 * owner and no-execute bits, large pages, the kernel's own address space. Scratch
 * address spaces (a fresh PML4 that is never loaded in CR3) test the tables alone;
 * the TLB tests map into the active address space, in the system PTE region. */
#include "arch.h"
#include "bugcodes.h"
#include "pfn_audit.h"
#include "pt_audit.h"
#include "rtl.h"

#define KT_NOIPA __attribute__((noipa))
#define KT_MAX_MAPS 96

/* A seeded random 4 KiB-aligned canonical address, user or system half. */
static ULONG_PTR KtRandomVa(PKTEST_CONTEXT Context, BOOLEAN User)
{
    ULONG64 low = KtRandomRange(Context, 1, (1ULL << 35) - 2) << PAGE_SHIFT; /* below 2^47 */
    return User ? low : (0xFFFF800000000000ULL | low);
}

static BOOLEAN KtPageUsed(const ULONG_PTR *Vas, ULONG Count, ULONG_PTR Va)
{
    for (ULONG i = 0; i < Count; i++)
        if (Vas[i] == Va)
            return TRUE;
    return FALSE;
}

/* Seeded mappings across the whole address space translate to their frame plus the
 * offset, through the right entry of every level; unmapped addresses do not. */
KTEST("paging.translate", KtTestPagingTranslate)
{
    PFN_NUMBER top, baseline = 0;
    if (KtPfnReady(Context))
        baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    static ULONG_PTR vas[KT_MAX_MAPS];
    static PFN_NUMBER pfns[KT_MAX_MAPS];
    ULONG n = (ULONG)KtRandomRange(Context, 40, KT_MAX_MAPS);
    for (ULONG i = 0; i < n; i++) {
        do {
            vas[i] = KtRandomVa(Context, (BOOLEAN)(i & 1));
            /* every fifth shares the tables of an earlier one */
            if (i > 4 && i % 5 == 0)
                vas[i] = (vas[i - 3] & ~0x1FFFFFULL) | (KtRandomRange(Context, 0, 511) << PAGE_SHIFT);
        } while (KtPageUsed(vas, i, vas[i]));
        pfns[i] = KtRandomRange(Context, 1, 0xFFFFFFF); /* never touched: any frame number will do */
        NTSTATUS status = MmMapPage(pml4, vas[i], pfns[i],
                                    MM_PROTECT_WRITE | (vas[i] <= MM_HIGHEST_USER_ADDRESS ? MM_PROTECT_USER : 0), 0);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02"))
            return;
        if (!KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage(0x%016llx -> frame 0x%llx) returned 0x%08X%s",
                     (ULONG64)vas[i], pfns[i], (ULONG)status,
                     status == STATUS_CONFLICTING_ADDRESSES ? " for an address nothing maps: a table with stray valid "
                     "entries (a new table must be a zeroed frame, MM_ALLOCATE_ZEROED; free memory is dirty)" : ""))
            return;
    }
    KtValue(Context, "mappings", "%u", n);
    static KT_MAPPING maps[KT_MAX_MAPS];
    for (ULONG i = 0; i < n; i++)
        maps[i] = (KT_MAPPING){vas[i], pfns[i], MM_PROTECT_WRITE | (vas[i] <= MM_HIGHEST_USER_ADDRESS ? MM_PROTECT_USER : 0),
                               FALSE};
    if (!KtAuditSpace(Context, "after the mappings", pml4, maps, n, baseline))
        return;
    for (ULONG i = 0; i < n; i++) {
        ULONG64 offset = KtRandomRange(Context, 0, PAGE_SIZE - 1), pa = 0, want = (pfns[i] << PAGE_SHIFT) + offset;
        NTSTATUS status = MmTranslateAddress(pml4, vas[i] + offset, &pa);
        if (!KtRequireImplemented(Context, status, "MmTranslateAddress", "lab 02"))
            return;
        MI_TRANSLATION t;
        MiInspectTranslation(pml4, vas[i] + offset, &t);
        if (!KtCheck(Context, t.Valid && t.Level == MM_LEVEL_PT && t.Physical == want, "tables",
                     "0x%016llx: the page tables (walked by index PML4 %llu, PDPT %llu, PD %llu, PT %llu) give %s "
                     "0x%llx, expected frame 0x%llx + 0x%llx", (ULONG64)vas[i] + offset,
                     MiTableIndex(vas[i], 4), MiTableIndex(vas[i], 3), MiTableIndex(vas[i], 2),
                     MiTableIndex(vas[i], 1), t.Valid ? "physical" : "no mapping, at level", t.Valid ? t.Physical : 0,
                     pfns[i], offset))
            return;
        KtValue(Context, "translation", "0x%llx 0x%llx", (ULONG64)vas[i] + offset, pa);
        if (!KtCheck(Context, status == STATUS_SUCCESS && pa == want, "translate",
                     "MmTranslateAddress(0x%016llx) returned 0x%08X, physical 0x%llx; expected 0x%llx",
                     (ULONG64)vas[i] + offset, (ULONG)status, pa, want))
            return;
    }
    for (ULONG i = 0; i < 30; i++) {
        ULONG_PTR va = KtRandomVa(Context, (BOOLEAN)(i & 1)) + KtRandomRange(Context, 0, PAGE_SIZE - 1);
        if (KtPageUsed(vas, n, ALIGN_DOWN(va, PAGE_SIZE)))
            continue;
        ULONG64 pa = 0x5A5A5A5A5A5A5A5AULL;
        NTSTATUS status = MmTranslateAddress(pml4, va, &pa);
        if (!KtCheck(Context, status == STATUS_NOT_FOUND && pa == 0x5A5A5A5A5A5A5A5AULL, "unmapped",
                     "MmTranslateAddress(0x%016llx), an address nothing maps, returned 0x%08X (expected "
                     "STATUS_NOT_FOUND)%s", (ULONG64)va, (ULONG)status,
                     pa != 0x5A5A5A5A5A5A5A5AULL ? " and wrote *Physical (set it only on success)" : ""))
            return;
    }
    ULONG64 pa = 0x5A5A5A5A5A5A5A5AULL;
    KtCheck(Context, MmTranslateAddress(pml4, 0x0000800000000000ULL, &pa) == STATUS_INVALID_PARAMETER &&
            pa == 0x5A5A5A5A5A5A5A5AULL, "non_canonical",
            "0x0000800000000000 is not canonical: expected STATUS_INVALID_PARAMETER, *Physical untouched");
    for (ULONG i = 0; i < n; i++) {
        PFN_NUMBER pfn;
        if (!KtCheck(Context, MmUnmapPage(pml4, vas[i], &pfn) == STATUS_SUCCESS && pfn == pfns[i], "unmap",
                     "MmUnmapPage(0x%016llx) did not return STATUS_SUCCESS and frame 0x%llx", (ULONG64)vas[i], pfns[i]))
            return;
        maps[i].Va = 0;
    }
    if (!KtAuditSpace(Context, "after unmapping everything", pml4, maps, n, baseline))
        return;
    MmFreePhysicalPage(top);
}

/* Counts the distinct tables below the PML4 that a set of 4 KiB pages needs. */
static ULONG KtTablesNeeded(const ULONG_PTR *Vas, const BOOLEAN *Live, ULONG Count)
{
    ULONG tables = 0;
    for (ULONG level = MM_LEVEL_PDPT; level >= MM_LEVEL_PT; level--) {
        ULONG shift = PAGE_SHIFT + 9 * level; /* the part of the address a table of this level covers */
        for (ULONG i = 0; i < Count; i++) {
            if (!Live[i])
                continue;
            BOOLEAN seen = FALSE;
            for (ULONG j = 0; j < i && !seen; j++)
                seen = Live[j] && (Vas[j] >> shift) == (Vas[i] >> shift);
            tables += !seen;
        }
    }
    return tables;
}

/* Every table a scratch space references is a frame in use (not on a page list). */
static BOOLEAN KtCheckTableTree(PKTEST_CONTEXT Context, PMMPTE Table, ULONG Level, ULONG64 VaBase)
{
    for (ULONG i = 0; i < MM_PTES_PER_TABLE; i++) {
        MMPTE e = Table[i];
        if (!e.Hard.Valid || Level == MM_LEVEL_PT || e.Hard.LargePage)
            continue;
        ULONG64 va = VaBase | ((ULONG64)i << (PAGE_SHIFT + 9 * (Level - 1)));
        if (Level == MM_LEVEL_PML4 && i >= 256)
            va |= 0xFFFF000000000000ULL;
        PFN_NUMBER child = e.Hard.PageFrameNumber;
        if (child > MmHighestPhysicalPage || MI_PFN_ELEMENT(child)->PageLocation != ActiveAndValid) {
            KtFail(Context, "table_in_use", "the level-%u entry covering 0x%016llx points to frame 0x%llx, which is "
                   "%s: a freed page table is still referenced (clear the entry that points to it)", Level,
                   va, child, child > MmHighestPhysicalPage ? "not RAM" : "on a free list");
            return FALSE;
        }
        if (!KtCheckTableTree(Context, MiPfnToVirtual(child), Level - 1, va))
            return FALSE;
    }
    return TRUE;
}

/* Page-table pages come from the PFN database and go back when empty; a table that
 * still maps something stays. */
KTEST("paging.free_tables", KtTestPagingFreeTables)
{
    PFN_NUMBER before = 0, top;
    if (KtPfnReady(Context))
        before = MmAvailablePages;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    static ULONG_PTR vas[48];
    static BOOLEAN live[48];
    ULONG n = (ULONG)KtRandomRange(Context, 24, 48);
    ULONG_PTR base = KtRandomVa(Context, (BOOLEAN)KtRandomRange(Context, 0, 1)) & ~0x3FFFFFFFULL;
    for (ULONG i = 0; i < n; i++) {
        /* clustered: the same PT, the same PD, or the same PDPT as the base */
        ULONG64 spread = KtRandomRange(Context, 0, 2);
        ULONG_PTR va;
        do {
            va = base + (KtRandomRange(Context, 0, spread == 0 ? 511 : spread == 1 ? 511 * 512 : 511 * 512 * 512)
                         << PAGE_SHIFT);
        } while (KtPageUsed(vas, i, va));
        vas[i] = va;
        live[i] = TRUE;
        NTSTATUS status = MmMapPage(pml4, va, 0x1000 + i, MM_PROTECT_WRITE | (va <= MM_HIGHEST_USER_ADDRESS ?
                                                                             MM_PROTECT_USER : 0), 0);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
            !KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage(0x%016llx) returned 0x%08X",
                     (ULONG64)va, (ULONG)status))
            return;
    }
    ULONG tables = KtTablesNeeded(vas, live, n);
    if (!KtCheck(Context, MmAvailablePages == before - 1 - tables, "tables_allocated",
                 "%u mappings need %u page tables below the PML4, but %llu frames were taken",
                 n, tables, before - 1 - MmAvailablePages))
        return;
    for (ULONG round = 0; round < 2; round++) {
        for (ULONG i = 0; i < n; i++) {
            if (!live[i] || (round == 0 && KtRandomRange(Context, 0, 1)))
                continue;
            PFN_NUMBER pfn = 0;
            NTSTATUS status = MmUnmapPage(pml4, vas[i], &pfn);
            if (!KtRequireImplemented(Context, status, "MmUnmapPage", "lab 02") ||
                !KtCheck(Context, status == STATUS_SUCCESS && pfn == 0x1000 + i, "unmap",
                         "MmUnmapPage(0x%016llx) returned 0x%08X and frame 0x%llx (mapped to 0x%x)", (ULONG64)vas[i],
                         (ULONG)status, pfn, 0x1000 + i))
                return;
            live[i] = FALSE;
        }
        if (!KtCheckTableTree(Context, pml4, MM_LEVEL_PML4, 0))
            return;
        static KT_MAPPING maps[48];
        for (ULONG i = 0; i < n; i++)
            maps[i] = (KT_MAPPING){live[i] ? vas[i] : 0, 0x1000 + i,
                                   MM_PROTECT_WRITE | (vas[i] <= MM_HIGHEST_USER_ADDRESS ? MM_PROTECT_USER : 0), FALSE};
        if (!KtAuditSpace(Context, round ? "after unmapping all" : "after unmapping half", pml4, maps, n, before - 1))
            return;
        tables = KtTablesNeeded(vas, live, n);
        PFN_NUMBER taken = before - 1 - MmAvailablePages;
        if (!KtCheck(Context, taken == tables, "tables_freed",
                     "after unmapping %s, the remaining mappings need %u page tables but %llu frames are still "
                     "taken (%s)", round ? "all" : "half", tables, taken,
                     taken > tables ? "an empty table was not freed" : "a table still in use was freed"))
            return;
        for (ULONG i = 0; i < n; i++) {
            ULONG64 pa;
            if (live[i] && (MmTranslateAddress(pml4, vas[i], &pa) != STATUS_SUCCESS || pa != (0x1000ULL + i) << 12)) {
                KtFail(Context, "still_mapped", "0x%016llx no longer translates after unmapping its neighbours",
                       (ULONG64)vas[i]);
                return;
            }
        }
    }
    /* Every seed: at each level, a table whose only other entry lies in its upper half (and
     * then in its lower half) is not empty when one page goes; every entry counts. */
    for (ULONG level = MM_LEVEL_PT; level <= MM_LEVEL_PDPT; level++) {
        ULONG shift = PAGE_SHIFT + 9 * (level - 1);
        ULONG_PTR tableBase = KtRandomVa(Context, TRUE) & ~((1ULL << (shift + 9)) - 1);
        for (ULONG order = 0; order < 2; order++) {
            ULONG lowIndex = (ULONG)KtRandomRange(Context, 0, 255), highIndex = (ULONG)KtRandomRange(Context, 256, 511);
            ULONG_PTR low = tableBase + ((ULONG64)lowIndex << shift), high = tableBase + ((ULONG64)highIndex << shift);
            ULONG_PTR gone = order ? high : low, kept = order ? low : high;
            PFN_NUMBER pfn = 0;
            ULONG64 pa = 0;
            if (!KtCheck(Context, MmMapPage(pml4, gone, 0x2000, MM_PROTECT_USER, 0) == STATUS_SUCCESS &&
                         MmMapPage(pml4, kept, 0x2001, MM_PROTECT_USER, 0) == STATUS_SUCCESS, "map",
                         "MmMapPage of 0x%016llx and 0x%016llx failed", (ULONG64)gone, (ULONG64)kept) ||
                !KtCheck(Context, MmUnmapPage(pml4, gone, &pfn) == STATUS_SUCCESS && pfn == 0x2000, "unmap",
                         "MmUnmapPage(0x%016llx) failed", (ULONG64)gone))
                return;
            if (!KtCheck(Context, MmTranslateAddress(pml4, kept, &pa) == STATUS_SUCCESS && pa == 0x2001000ULL,
                         "table_with_entry_kept", "MmUnmapPage(0x%016llx) freed the level-%u table that still maps "
                         "0x%016llx (its entry %u, in the %s half of the table): a table is empty only when none of its "
                         "512 entries is valid", (ULONG64)gone, level, (ULONG64)kept, order ? lowIndex : highIndex,
                         order ? "lower" : "upper") ||
                !KtCheckTableTree(Context, pml4, MM_LEVEL_PML4, 0) ||
                !KtCheck(Context, MmUnmapPage(pml4, kept, &pfn) == STATUS_SUCCESS && pfn == 0x2001, "unmap",
                         "MmUnmapPage(0x%016llx) failed", (ULONG64)kept) ||
                !KtCheck(Context, MmAvailablePages == before - 1, "tables_freed", "MmUnmapPage: after mapping and "
                         "unmapping two pages under one level-%u table, %lld frames are still taken (expected none)",
                         level, (LONG64)(before - 1 - MmAvailablePages)))
                return;
        }
    }
    BOOLEAN empty = TRUE;
    for (ULONG i = 0; i < MM_PTES_PER_TABLE; i++)
        empty &= !pml4[i].Hard.Valid;
    KtCheck(Context, empty, "pml4_empty", "the PML4 still has valid entries after every page was unmapped");
    MmFreePhysicalPage(top);
    KtPfnAudit(Context, "after the scratch space");
}

/* Fills a frame with a pattern word. */
static VOID KtFill(PFN_NUMBER Pfn, ULONG64 Pattern)
{
    PULONG64 p = MiPfnToVirtual(Pfn);
    for (ULONG i = 0; i < 512; i++)
        p[i] = Pattern + i;
}

static volatile ULONG KtSink;
static KT_NOIPA VOID KtTouchPrepare(VOID) { KtSink++; }

/* Not a leaf, so that a fault here shows its caller in the backtrace. The read is one
 * instruction at a label: with Rip non-NULL it only stores that instruction's address (the
 * STOP's P3 when the read faults) and reads nothing. */
static KT_NOIPA ULONG64 KtReadVa(ULONG_PTR Va, ULONG_PTR *Rip)
{
    ULONG64 value = 0;
    ULONG_PTR at;
    KtTouchPrepare();
    __asm__ volatile("leaq 1f(%%rip), %1\n\t"
                     "testq %3, %3\n\t"
                     "jnz 2f\n"
                     "1:\tmovq (%2), %0\n"
                     "2:"
                     : "+r"(value), "=&r"(at) : "r"(Va), "r"(Rip) : "memory", "cc");
    if (Rip)
        *Rip = at;
    return value;
}

/* In the active address space: map a page, read it, unmap it, map the same address
 * to another frame: the read must see the new frame (a stale TLB entry would not). */
KTEST("paging.tlb", KtTestPagingTlb)
{
    if (!KtPfnReady(Context))
        return;
    PMMPTE pml4 = MiCurrentPml4();
    PFN_NUMBER a, b;
    if (!KtCheck(Context, MmAllocatePhysicalPage(0, &a) == STATUS_SUCCESS &&
                 MmAllocatePhysicalPage(0, &b) == STATUS_SUCCESS, "frames", "no frames for the test"))
        return;
    ULONG64 pa_ = KtRandom(Context) & ~0xFFFULL, pb = KtRandom(Context) & ~0xFFFULL;
    KtFill(a, pa_);
    KtFill(b, pb);
    ULONG rounds = (ULONG)KtRandomRange(Context, 4, 10);
    for (ULONG r = 0; r < rounds; r++) {
        ULONG_PTR va = MM_SYSTEM_PTE_START + (KtRandomRange(Context, 0, (MM_SYSTEM_PTE_SIZE >> PAGE_SHIFT) - 1)
                                              << PAGE_SHIFT);
        ULONG word = (ULONG)KtRandomRange(Context, 0, 511);
        NTSTATUS status = MmMapPage(pml4, va, a, MM_PROTECT_WRITE, 0);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
            !KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage(0x%016llx) returned 0x%08X", (ULONG64)va,
                     (ULONG)status))
            return;
        ULONG64 first = KtReadVa(va + word * 8, NULL);
        PFN_NUMBER old = 0;
        status = MmUnmapPage(pml4, va, &old);
        if (!KtRequireImplemented(Context, status, "MmUnmapPage", "lab 02"))
            return;
        ULONG64 pa;
        if (!KtCheck(Context, MmTranslateAddress(pml4, va, &pa) == STATUS_NOT_FOUND, "unmapped",
                     "0x%016llx still translates after MmUnmapPage", (ULONG64)va))
            return;
        status = MmMapPage(pml4, va, b, MM_PROTECT_WRITE, 0);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "map", "mapping 0x%016llx again after MmUnmapPage returned "
                     "0x%08X", (ULONG64)va, (ULONG)status))
            return;
        ULONG64 second = KtReadVa(va + word * 8, NULL);
        status = MmUnmapPage(pml4, va, &old);
        if (!KtCheck(Context, status == STATUS_SUCCESS && old == b, "unmap", "MmUnmapPage(0x%016llx) returned 0x%08X "
                     "and frame 0x%llx, expected 0x%llx", (ULONG64)va, (ULONG)status, old, b))
            return;
        if (!KtCheck(Context, first == pa_ + word && second == pb + word, "tlb_flush",
                     "0x%016llx read 0x%llx through the first mapping and 0x%llx after remapping it to another "
                     "frame (expected 0x%llx, 0x%llx)%s", (ULONG64)va + word * 8, first, second, pa_ + word, pb + word,
                     second == pa_ + word ? ": the old translation was still in the TLB (invlpg after unmapping)" : ""))
            return;
    }
    MmFreePhysicalPage(a);
    MmFreePhysicalPage(b);
    /* The same for a 2 MiB page: frames 0 and 512 (the first two 2 MiB of RAM, read-only), in
     * several rounds at seeded addresses (one round can lose its stale entry to an unrelated
     * eviction; every round keeping it fresh would be luck on every seed) */
    PFN_NUMBER frames[2] = {0, MM_LARGE_PAGE_PFNS};
    PFN_NUMBER available = MmAvailablePages;
    for (ULONG round = 0; round < 4; round++) {
        ULONG64 offset = 0;
        for (ULONG tries = 0; tries < 64; tries++) {
            offset = KtRandomRange(Context, 0, MM_LARGE_PAGE_SIZE / 8 - 1) * 8;
            if (*(volatile ULONG64 *)MmPhysicalToVirtual(offset) !=
                *(volatile ULONG64 *)MmPhysicalToVirtual(MM_LARGE_PAGE_SIZE + offset))
                break;
        }
        ULONG_PTR va = MM_SYSTEM_PTE_START + KtRandomRange(Context, 0, 511) * MM_LARGE_PAGE_SIZE;
        ULONG64 seen[2];
        for (ULONG k = 0; k < 2; k++) {
            NTSTATUS status = MmMapPage(pml4, va, frames[k], 0, MM_MAP_LARGE);
            if (!KtCheck(Context, status == STATUS_SUCCESS, "map_large", "MmMapPage(0x%016llx, large, frame 0x%llx) "
                         "returned 0x%08X", (ULONG64)va, frames[k], (ULONG)status))
                return;
            seen[k] = KtReadVa(va + offset, NULL);
            ULONG64 pa = 0;
            status = MmTranslateAddress(pml4, va + offset, &pa);
            if (!KtCheck(Context, status == STATUS_SUCCESS && pa == (frames[k] << PAGE_SHIFT) + offset, "translate_large",
                         "MmTranslateAddress(0x%016llx) inside a 2 MiB page on frame 0x%llx returned 0x%08X and 0x%llx, "
                         "expected 0x%llx (a PD entry with LargePage 1 maps 2 MiB: its frame's address plus Va's low 21 "
                         "bits; there is no table below it)", (ULONG64)va + offset, frames[k], (ULONG)status, pa,
                         (frames[k] << PAGE_SHIFT) + offset))
                return;
            PFN_NUMBER old = ~0ULL;
            status = MmUnmapPage(pml4, va + KtRandomRange(Context, 0, MM_LARGE_PAGE_SIZE - 1), &old);
            if (!KtCheck(Context, status == STATUS_SUCCESS && old == frames[k], "unmap_large",
                         "MmUnmapPage inside the 2 MiB page at 0x%016llx returned 0x%08X and frame 0x%llx (expected "
                         "0x%llx)", (ULONG64)va, (ULONG)status, old, frames[k]))
                return;
        }
        ULONG64 want[2] = {*(volatile ULONG64 *)MmPhysicalToVirtual(offset),
                           *(volatile ULONG64 *)MmPhysicalToVirtual(MM_LARGE_PAGE_SIZE + offset)};
        if (!KtCheck(Context, seen[0] == want[0] && seen[1] == want[1], "tlb_flush_large",
                     "0x%016llx read 0x%llx through a 2 MiB page on frame 0 and 0x%llx after remapping it to frame "
                     "0x200 (expected 0x%llx, 0x%llx)%s", (ULONG64)va + offset, seen[0], seen[1], want[0], want[1],
                     seen[1] == want[0] && want[0] != want[1] ? ": the old 2 MiB translation was still in the TLB "
                                                                "(invlpg after unmapping a large page too)" : ""))
            return;
    }
    KtCheck(Context, MmAvailablePages == available, "large_tables_freed",
            "mapping and unmapping a 2 MiB page in the system PTE region twice a round kept %lld frames (the tables "
            "it needed are freed when the large page goes)", (LONG64)(available - MmAvailablePages));
}

/* Owner (user/supervisor), write and no-execute bits, at every level. */
KTEST("paging.owner_nx", KtTestPagingOwnerNx)
{
    PFN_NUMBER top, baseline = 0;
    if (KtPfnReady(Context))
        baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    static const struct {
        BOOLEAN User;
        ULONG Protect;
    } cases[] = {
        {TRUE, MM_PROTECT_USER | MM_PROTECT_WRITE},
        {TRUE, MM_PROTECT_USER | MM_PROTECT_EXECUTE},
        {FALSE, MM_PROTECT_WRITE},
        {FALSE, MM_PROTECT_EXECUTE},
        {FALSE, 0},
        {TRUE, MM_PROTECT_WRITE}, /* a user address mapped for the system only: the leaf has Owner 0 */
    };
    ULONG_PTR vas[ARRAYSIZE(cases)];
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++) {
        vas[c] = KtRandomVa(Context, cases[c].User);
        NTSTATUS status = MmMapPage(pml4, vas[c], 0x2000 + c, cases[c].Protect, 0);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
            !KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage(0x%016llx, protect 0x%x) returned 0x%08X",
                     (ULONG64)vas[c], cases[c].Protect, (ULONG)status))
            return;
        MI_TRANSLATION t;
        MiInspectTranslation(pml4, vas[c], &t);
        if (!KtCheck(Context, t.Valid && t.Level == MM_LEVEL_PT, "mapped", "0x%016llx is not mapped by a PT entry",
                     (ULONG64)vas[c]))
            return;
        for (ULONG level = MM_LEVEL_PML4; level >= MM_LEVEL_PT; level--) {
            MMPTE e = t.Entries[level];
            BOOLEAN leaf = level == MM_LEVEL_PT;
            BOOLEAN wantWrite = leaf ? (cases[c].Protect & MM_PROTECT_WRITE) != 0 : TRUE;
            BOOLEAN wantNx = leaf ? (cases[c].Protect & MM_PROTECT_EXECUTE) == 0 : FALSE;
            BOOLEAN wantOwner = leaf ? (cases[c].Protect & MM_PROTECT_USER) != 0 : cases[c].User;
            if (e.Hard.Owner != wantOwner || e.Hard.Write != wantWrite || e.Hard.NoExecute != wantNx) {
                KtFail(Context, "bits", "%s address 0x%016llx, protect 0x%x: the level-%u entry has Owner %u Write %u "
                       "NoExecute %u, expected %u %u %u%s", cases[c].User ? "user" : "system", (ULONG64)vas[c],
                       cases[c].Protect, level, (ULONG)e.Hard.Owner, (ULONG)e.Hard.Write, (ULONG)e.Hard.NoExecute,
                       wantOwner, wantWrite, wantNx,
                       leaf ? "" : " (tables above the leaf: Owner for user addresses only, Write 1, NoExecute 0)");
                return;
            }
        }
    }
    KtCheck(Context, TRUE, "bits", "-");
    KT_MAPPING maps[ARRAYSIZE(cases)];
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++)
        maps[c] = (KT_MAPPING){vas[c], 0x2000 + c, cases[c].Protect, FALSE};
    if (!KtAuditSpace(Context, "after mapping user and system pages", pml4, maps, ARRAYSIZE(cases), baseline))
        return;
    PFN_NUMBER before = MmAvailablePages;
    KtCheck(Context, MmMapPage(pml4, KtRandomVa(Context, FALSE), 0x3000, MM_PROTECT_USER, 0) == STATUS_INVALID_PARAMETER &&
            MmAvailablePages == before, "user_in_system_space",
            "MM_PROTECT_USER for a system address must return STATUS_INVALID_PARAMETER and take no frame (check the "
            "arguments before walking with Create)");
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++) {
        PFN_NUMBER pfn;
        MmUnmapPage(pml4, vas[c], &pfn);
    }
    MmFreePhysicalPage(top);
}

/* 2 MiB pages: alignment rules, every offset translates, no 4 KiB page inside one. */
KTEST("paging.large_page", KtTestPagingLargePage)
{
    PFN_NUMBER top, baseline = 0;
    if (KtPfnReady(Context))
        baseline = MmAvailablePages - 1;
    PMMPTE pml4 = KtNewSpace(Context, &top);
    if (!pml4)
        return;
    ULONG_PTR va = KtRandomVa(Context, (BOOLEAN)KtRandomRange(Context, 0, 1)) & ~(MM_LARGE_PAGE_SIZE - 1);
    PFN_NUMBER pfn = KtRandomRange(Context, 1, 0x7FFF) * MM_LARGE_PAGE_PFNS;
    ULONG user = va <= MM_HIGHEST_USER_ADDRESS ? MM_PROTECT_USER : 0;
    NTSTATUS status = MmMapPage(pml4, va + PAGE_SIZE, pfn, MM_PROTECT_WRITE | user, MM_MAP_LARGE);
    if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02"))
        return;
    KtCheck(Context, status == STATUS_INVALID_PARAMETER, "aligned_va",
            "a large page at 0x%016llx (not 2 MiB aligned) returned 0x%08X, expected STATUS_INVALID_PARAMETER",
            (ULONG64)va + PAGE_SIZE, (ULONG)status);
    status = MmMapPage(pml4, va, pfn + 1, MM_PROTECT_WRITE | user, MM_MAP_LARGE);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER, "aligned_frame",
            "a large page on frame 0x%llx (not a multiple of 512) returned 0x%08X, expected STATUS_INVALID_PARAMETER",
            pfn + 1, (ULONG)status);
    if (!KtAuditSpace(Context, "after refused large pages", pml4, NULL, 0, baseline))
        return;
    status = MmMapPage(pml4, va, pfn, MM_PROTECT_WRITE | user, MM_MAP_LARGE);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "map_large", "MmMapPage(0x%016llx, large) returned 0x%08X",
                 (ULONG64)va, (ULONG)status))
        return;
    KT_MAPPING large = {va, pfn, MM_PROTECT_WRITE | user, TRUE};
    if (!KtAuditSpace(Context, "after mapping a large page", pml4, &large, 1, baseline))
        return;
    MI_TRANSLATION t;
    MiInspectTranslation(pml4, va, &t);
    if (!KtCheck(Context, t.Valid && t.Level == MM_LEVEL_PD && t.Entries[MM_LEVEL_PD].Hard.LargePage, "pde",
                 "the 2 MiB page must be a PD entry with LargePage 1 (found: valid %u at level %u)", t.Valid, t.Level))
        return;
    for (ULONG i = 0; i < 64; i++) {
        ULONG64 offset = i == 0 ? 0 : i == 1 ? MM_LARGE_PAGE_SIZE - 1 : KtRandomRange(Context, 0, MM_LARGE_PAGE_SIZE - 1);
        ULONG64 pa = 0;
        status = MmTranslateAddress(pml4, va + offset, &pa);
        if (!KtCheck(Context, status == STATUS_SUCCESS && pa == (pfn << PAGE_SHIFT) + offset, "translate_large",
                     "0x%016llx (offset 0x%llx in the large page) translated to 0x%llx (status 0x%08X), expected "
                     "0x%llx", (ULONG64)va + offset, offset, pa, (ULONG)status, (pfn << PAGE_SHIFT) + offset))
            return;
    }
    status = MmMapPage(pml4, va + KtRandomRange(Context, 0, 511) * PAGE_SIZE, 0x1234, MM_PROTECT_WRITE | user, 0);
    KtCheck(Context, status == STATUS_CONFLICTING_ADDRESSES, "small_inside_large",
            "a 4 KiB page inside the large page returned 0x%08X, expected STATUS_CONFLICTING_ADDRESSES", (ULONG)status);
    PFN_NUMBER old = 0;
    status = MmUnmapPage(pml4, va + KtRandomRange(Context, 0, MM_LARGE_PAGE_SIZE - 1), &old);
    KtCheck(Context, status == STATUS_SUCCESS && old == pfn, "unmap_large",
            "MmUnmapPage inside the large page returned 0x%08X, frame 0x%llx (expected 0x%llx)", (ULONG)status, old,
            pfn);
    /* the PD and the PDPT that only served the large page go back */
    if (!KtAuditSpace(Context, "after unmapping the large page", pml4, NULL, 0, baseline))
        return;
    /* a 4 KiB page where the large page was, then a large page over that table: conflict */
    MmMapPage(pml4, va + PAGE_SIZE, 0x1234, MM_PROTECT_WRITE | user, 0);
    status = MmMapPage(pml4, va, pfn, MM_PROTECT_WRITE | user, MM_MAP_LARGE);
    KtCheck(Context, status == STATUS_CONFLICTING_ADDRESSES, "large_over_table",
            "a large page where a page table already maps 4 KiB pages returned 0x%08X, expected "
            "STATUS_CONFLICTING_ADDRESSES", (ULONG)status);
    MmUnmapPage(pml4, va + PAGE_SIZE, &old);
    MmFreePhysicalPage(top);
}

/* The kernel runs on tables built with MmMapPage: text executable and read-only,
 * data writable and no-execute, the physical map in large pages, no user mappings. */
KTEST("paging.kernel_space", KtTestPagingKernelSpace)
{
    if (!KtRequireImplemented(Context, MmKernelAddressSpaceStatus, "MmMapPage (building the kernel space)", "lab 02"))
        return;
    if (!KtCheck(Context, MmKernelPml4 != NULL && MiCurrentPml4() == MmKernelPml4, "switched",
                 "the kernel did not switch to its own page tables (status 0x%08X): %s",
                 (ULONG)MmKernelAddressSpaceStatus,
                 MmKernelAddressSpaceProblem[0] ? MmKernelAddressSpaceProblem : "see the mm: lines at boot"))
        return;
    MI_TRANSLATION t;
    MiInspectTranslation(MmKernelPml4, (ULONG_PTR)KtTestPagingKernelSpace, &t);
    KtCheck(Context, t.Valid && !t.Entries[t.Level].Hard.Write && !t.Entries[t.Level].Hard.NoExecute, "text",
            "kernel code must be mapped read-only and executable");
    static ULONG64 KtData;
    MiInspectTranslation(MmKernelPml4, (ULONG_PTR)&KtData, &t);
    KtCheck(Context, t.Valid && t.Entries[t.Level].Hard.Write && t.Entries[t.Level].Hard.NoExecute, "data",
            "kernel data must be mapped writable and no-execute");
    BOOLEAN user = FALSE;
    for (ULONG i = 0; i < 256; i++)
        user |= MmKernelPml4[i].Hard.Valid;
    KtCheck(Context, !user, "no_user_space", "the kernel's PML4 maps something in the user half");
}

/* Touching an address after MmUnmapPage must fault: PAGE_FAULT_IN_NONPAGED_AREA. */
KTEST_STOP("paging.fault_after_unmap", KtTestPagingFaultAfterUnmap)
{
    if (!KtPfnReady(Context))
        return;
    PMMPTE pml4 = MiCurrentPml4();
    PFN_NUMBER a, old;
    if (!KtCheck(Context, MmAllocatePhysicalPage(0, &a) == STATUS_SUCCESS, "frames", "no frame for the test"))
        return;
    ULONG_PTR va = MM_SYSTEM_PTE_START + (KtRandomRange(Context, 0, 4095) << PAGE_SHIFT);
    ULONG offset = (ULONG)KtRandomRange(Context, 0, 511) * 8;
    NTSTATUS status = MmMapPage(pml4, va, a, MM_PROTECT_WRITE, 0);
    if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "map", "MmMapPage(0x%016llx) returned 0x%08X", (ULONG64)va,
                 (ULONG)status))
        return;
    KtReadVa(va + offset, NULL); /* the translation is in the TLB now */
    status = MmUnmapPage(pml4, va, &old);
    if (!KtRequireImplemented(Context, status, "MmUnmapPage", "lab 02") ||
        !KtCheck(Context, status == STATUS_SUCCESS && old == a, "unmap", "MmUnmapPage(0x%016llx) returned 0x%08X and "
                 "frame 0x%llx, expected 0x%llx", (ULONG64)va, (ULONG)status, old, a))
        return;
    ULONG_PTR rip = 0;
    KtReadVa(va + offset, &rip);
    KtValue(Context, "stop_params", "0x%016llx 0x0 0x%llx 0x0", (ULONG64)va + offset, (ULONG64)rip);
    KtValue(Context, "rip", "0x%llx", (ULONG64)rip);
    KtValue(Context, "backtrace", "KtReadVa,KtTestPagingFaultAfterUnmap");
    ULONG64 v = KtReadVa(va + offset, NULL);
    KtFail(Context, "fault", "reading 0x%016llx after MmUnmapPage returned 0x%llx instead of faulting (a stale TLB "
           "entry: invlpg the address when unmapping from the active address space)", (ULONG64)va + offset, v);
}
