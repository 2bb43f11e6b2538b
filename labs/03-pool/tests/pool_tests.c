/* pool_tests.c - lab 03 public tests: page layout through a seeded storm, coalescing,
 * per-tag accounting, big allocations, IRQL rules, and the bugchecks for a wrong tag,
 * an overrun into the next header and a double free. */
#include "arch.h"
#include "bugcodes.h"
#include "hal.h"
#include "ke.h"
#include "../../../kernel/mm/mi.h"
#include "pool_audit.h"
#include "rtl.h"

#define KT_SLOTS 256

static KT_LIVE KtLive[KT_SLOTS];

static const ULONG KtTags[] = {
    POOL_TAG('T', 's', 't', '0'), POOL_TAG('I', 'r', 'p', ' '), POOL_TAG('O', 'b', 'j', 'H'),
    POOL_TAG('M', 'm', 'S', 't'), POOL_TAG('F', 'i', 'l', 'e'), POOL_TAG('S', 'e', 'T', 'k'),
};

/* A seeded size: mostly small, sometimes near the small limit, now and then big. */
static SIZE_T KtRandomSize(PKTEST_CONTEXT Context, BOOLEAN AllowBig)
{
    ULONG kind = (ULONG)KtRandomRange(Context, 0, 19);
    if (kind < 12)
        return KtRandomRange(Context, 1, 200);
    if (kind < 17)
        return KtRandomRange(Context, 200, 2000);
    if (kind < 19 || !AllowBig)
        return KtRandomRange(Context, 2000, POOL_SMALL_LIMIT);
    return KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 5 * PAGE_SIZE);
}

/* Checks that a block still holds its fill pattern (a neighbour did not write over it). */
static BOOLEAN KtCheckFill(PKTEST_CONTEXT Context, const KT_LIVE *Live)
{
    for (SIZE_T i = 0; i < Live->Size; i++)
        if (Live->Block[i] != Live->Fill) {
            KtFail(Context, "contents", "the %llu-byte block at %p lost its contents at byte %llu (0x%02x, expected "
                   "0x%02x): blocks overlap", (ULONG64)Live->Size, Live->Block, (ULONG64)i, Live->Block[i], Live->Fill);
            return FALSE;
        }
    return TRUE;
}

/* Allocates Live->Size bytes of Live->Type tagged Live->Tag and fills them. */
static BOOLEAN KtAllocateExact(PKTEST_CONTEXT Context, KT_LIVE *Live)
{
    PVOID block = NULL;
    NTSTATUS status = ExpAllocatePool(Live->Type, Live->Size, Live->Tag, &block);
    if (!KtCheck(Context, status == STATUS_SUCCESS && block, "allocate", "ExpAllocatePool(%s, %llu) returned 0x%08X",
                 Live->Type ? "PagedPool" : "NonPagedPool", (ULONG64)Live->Size, (ULONG)status))
        return FALSE;
    ULONG_PTR base = Live->Type ? MM_PAGED_POOL_START : MM_NONPAGED_POOL_START;
    if (!KtCheck(Context, ((ULONG_PTR)block & 15) == 0 && (ULONG_PTR)block >= base &&
                 (ULONG_PTR)block < base + MM_POOL_REGION_PAGES * PAGE_SIZE, "placement",
                 "a %s block is at %p: blocks are 16-byte aligned and inside their pool's region",
                 Live->Type ? "paged" : "nonpaged", block))
        return FALSE;
    Live->Block = block;
    RtlFillMemory(block, Live->Size, Live->Fill);
    return TRUE;
}

static BOOLEAN KtAllocateSlot(PKTEST_CONTEXT Context, KT_LIVE *Live, BOOLEAN AllowBig)
{
    Live->Size = KtRandomSize(Context, AllowBig);
    Live->Type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    Live->Tag = KtTags[KtRandomRange(Context, 0, ARRAYSIZE(KtTags) - 1)];
    Live->Fill = (UCHAR)KtRandomRange(Context, 1, 255);
    return KtAllocateExact(Context, Live);
}

/* Like KtAllocateSlot, with the size and pool given. */
static BOOLEAN KtAllocateSlotAs(PKTEST_CONTEXT Context, KT_LIVE *Live, POOL_TYPE Type, SIZE_T Size)
{
    Live->Size = Size;
    Live->Type = Type;
    Live->Tag = KtTags[KtRandomRange(Context, 0, ARRAYSIZE(KtTags) - 1)];
    Live->Fill = (UCHAR)KtRandomRange(Context, 1, 255);
    return KtAllocateExact(Context, Live);
}

static BOOLEAN KtFreeSlot(PKTEST_CONTEXT Context, KT_LIVE *Live)
{
    if (!KtCheckFill(Context, Live))
        return FALSE;
    NTSTATUS status = KtFreePool(Live->Block, Live->Tag);
    Live->Block = NULL;
    return KtCheck(Context, status == STATUS_SUCCESS, "free", "ExpFreePool returned 0x%08X", (ULONG)status);
}

/* Sizes every storm allocates on every seed, in both pools: no bytes at all (still the
 * 2-unit minimum), the smallest block, the edges of the 2- and 3-unit blocks, and the
 * largest small block. */
static const SIZE_T KtEdgeSizes[] = {0, 1, 16, 17, POOL_SMALL_LIMIT - 16, POOL_SMALL_LIMIT};

/* Reports the block layout of every small-block pool page, for grader/models/lab03.py:
 * `layout <type> <blocks>` starts a page, `layout_more <blocks>` continues it; a block is
 * its BlockSize in hex, prefixed with f when it is free. The pages go in address order;
 * the model compares the set of pages, so where a page lies does not matter. */
static VOID KtEmitLayout(PKTEST_CONTEXT Context, BOOLEAN First, ULONG Type, PCSTR Text)
{
    if (First)
        KtValue(Context, "layout", "%u %s", Type, Text);
    else
        KtValue(Context, "layout_more", "%s", Text);
}

static VOID KtReportLayout(PKTEST_CONTEXT Context)
{
    for (ULONG type = 0; type < POOL_TYPE_COUNT; type++) {
        ULONG_PTR base = type ? MM_PAGED_POOL_START : MM_NONPAGED_POOL_START;
        for (ULONG i = 0; i < MiPoolPageLimit(type); i++) {
            ULONG_PTR page = base + ((ULONG64)i << PAGE_SHIFT);
            if (!MiIsPoolPageInUse(type, page) || KtFindBigPage((PVOID)page))
                continue;
            CHAR text[200];
            ULONG used = 0, inRecord = 0;
            BOOLEAN first = TRUE;
            for (ULONG_PTR h = page; h < page + PAGE_SIZE;) {
                const POOL_HEADER *header = (const POOL_HEADER *)h;
                if (header->BlockSize == 0)
                    break;
                used += RtlFormatString(text + used, sizeof(text) - used, "%s%x ", header->PoolType ? "" : "f",
                                        (ULONG)header->BlockSize);
                h += header->BlockSize * POOL_BLOCK_SIZE;
                if (++inRecord == 32 || h >= page + PAGE_SIZE || ((const POOL_HEADER *)h)->BlockSize == 0) {
                    KtEmitLayout(Context, first, type, text);
                    first = FALSE;
                    used = inRecord = 0;
                }
            }
        }
    }
}

/* Seeded allocations and frees of both pools: after every operation the auditor checks
 * every header of every pool page, the free lists, the totals and the big-page table,
 * and that the allocated blocks are exactly the ones the test holds. */
KTEST("pool.layout", KtTestPoolLayout)
{
    if (!KtPoolReady(Context))
        return;
    ULONG ops = (ULONG)KtRandomRange(Context, 900, 1300);
    for (ULONG op = 0; op < ops; op++) {
        KT_LIVE *live = &KtLive[KtRandomRange(Context, 0, KT_SLOTS - 1)];
        if (op < 2 * ARRAYSIZE(KtEdgeSizes)) {
            live = &KtLive[KT_SLOTS - 1 - op];
            if (!KtAllocateSlotAs(Context, live, (POOL_TYPE)(op & 1), KtEdgeSizes[op / 2]))
                return;
        } else if (live->Block ? !KtFreeSlot(Context, live) : !KtAllocateSlot(Context, live, FALSE)) {
            return;
        }
        if (!KtPoolAuditLive(Context, "during the storm", KtLive, KT_SLOTS))
            return;
    }
    KtReportLayout(Context);
    for (ULONG i = 0; i < KT_SLOTS; i++)
        if (KtLive[i].Block && (!KtFreeSlot(Context, &KtLive[i]) ||
                                !KtPoolAuditLive(Context, "while freeing everything", KtLive, KT_SLOTS)))
            return;
    KtCheck(Context, ExpPoolDescriptors[0].TotalPages == 0 && ExpPoolDescriptors[1].TotalPages == 0, "pages_returned",
            "with every block freed the pools still hold %llu nonpaged and %llu paged pages",
            (ULONG64)ExpPoolDescriptors[0].TotalPages, (ULONG64)ExpPoolDescriptors[1].TotalPages);
}

/* Three neighbours A B C in a fresh page: freeing them in a seeded order merges
 * free neighbours, both ways, and the empty page goes back. Every seed runs all six
 * orders, in both pools (the seed varies the sizes). */
KTEST("pool.coalesce", KtTestPoolCoalesce)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('C', 'o', 'a', 'l');
    static const UCHAR orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (ULONG round = 0; round < 12; round++) {
        POOL_TYPE type = (POOL_TYPE)(round & 1);
        const UCHAR *order = orders[round / 2];
        PPOOL_HEADER h[4];
        SIZE_T sizes[4];
        for (ULONG i = 0; i < 3; i++) {
            sizes[i] = KtRandomRange(Context, 4, 60) * 16; /* A, B, C: 80..976 bytes with headers */
            PVOID b;
            if (!KtCheck(Context, ExpAllocatePool(type, sizes[i], tag, &b) == STATUS_SUCCESS, "allocate",
                         "allocating %llu bytes failed", (ULONG64)sizes[i]))
                return;
            h[i] = (PPOOL_HEADER)b - 1;
        }
        /* a fourth block keeps the page from being entirely free */
        sizes[3] = 32;
        PVOID d;
        if (!KtCheck(Context, ExpAllocatePool(type, sizes[3], tag, &d) == STATUS_SUCCESS, "allocate",
                     "allocating 32 bytes failed"))
            return;
        h[3] = (PPOOL_HEADER)d - 1;
        for (ULONG i = 0; i < 3; i++)
            if (!KtCheck(Context, (PUCHAR)h[i + 1] == (PUCHAR)h[i] + h[i]->BlockSize * POOL_BLOCK_SIZE, "neighbours",
                         "in an empty pool, block %u (%p, %u units) is not followed by block %u (%p): a fresh page is "
                         "carved from its start", i, h[i], h[i]->BlockSize, i + 1, h[i + 1]))
                return;
        ULONG units[3] = {h[0]->BlockSize, h[1]->BlockSize, h[2]->BlockSize};
        BOOLEAN freed[3] = {FALSE, FALSE, FALSE};
        for (ULONG k = 0; k < 3; k++) {
            ULONG i = order[k];
            NTSTATUS status = KtFreePool(h[i] + 1, tag);
            if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "ExpFreePool returned 0x%08X", (ULONG)status))
                return;
            freed[i] = TRUE;
            /* the free run that contains block i */
            ULONG first = i, last = i;
            while (first > 0 && freed[first - 1])
                first--;
            while (last < 2 && freed[last + 1])
                last++;
            ULONG want = 0;
            for (ULONG j = first; j <= last; j++)
                want += units[j];
            PPOOL_HEADER run = h[first];
            PCSTR why = "";
            ULONG before = 0; /* units of the free run before block i */
            for (ULONG j = first; j < i; j++)
                before += units[j];
            if (first < i && h[i]->PoolType == 0 && h[i]->BlockSize == want)
                why = " (merged backward but the later header holds the merged block: the merged block starts at the "
                      "earlier header, which takes the sum of the sizes)";
            else if (first < i && h[first]->BlockSize == units[first] && h[i]->PoolType == 0)
                why = " (not merged with the free block before it)";
            else if (last > i && run->BlockSize == before + units[i])
                why = " (not merged with the free block after it)";
            if (!KtCheck(Context, run->PoolType == 0 && run->BlockSize == want, "merged",
                         "%s pool, order %c %c %c: after freeing %c the free block at %c should span %u units, found "
                         "PoolType %u BlockSize %u%s", KtPoolName(type), 'A' + order[0], 'A' + order[1],
                         'A' + order[2], 'A' + i, 'A' + first, want, run->PoolType, run->BlockSize, why))
                return;
            PPOOL_HEADER after = (PPOOL_HEADER)((PUCHAR)run + want * POOL_BLOCK_SIZE);
            if (!KtCheck(Context, after->PreviousSize == want, "previous_size",
                         "%s pool, order %c %c %c: the block after the merged run has PreviousSize %u, expected %u",
                         KtPoolName(type), 'A' + order[0], 'A' + order[1], 'A' + order[2], after->PreviousSize, want))
                return;
            if (!KtPoolAudit(Context, "after a merge"))
                return;
        }
        NTSTATUS status = KtFreePool(d, tag);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "ExpFreePool returned 0x%08X", (ULONG)status) ||
            !KtCheck(Context, ExpPoolDescriptors[type].TotalPages == 0 && !MiIsPoolPageInUse(type, ((ULONG_PTR)d & ~(PAGE_SIZE - 1))),
                     "page_returned", "after freeing every block of the page, the %s pool still holds %lld pages%s",
                     KtPoolName(type), (LONG64)ExpPoolDescriptors[type].TotalPages,
                     MiIsPoolPageInUse(type, ((ULONG_PTR)d & ~(PAGE_SIZE - 1))) ? " and the page was not given back (MiFreePoolPages)"
                                                              : ""))
            return;
    }
}

/* The bytes a live block counts for its tag: its header's BlockSize * 16, or its pages. */
static SIZE_T KtCountedBytes(const KT_LIVE *Live)
{
    if (Live->Size > POOL_SMALL_LIMIT)
        return ((Live->Size + PAGE_SIZE - 1) / PAGE_SIZE) * PAGE_SIZE;
    return (SIZE_T)((PPOOL_HEADER)Live->Block - 1)->BlockSize * POOL_BLOCK_SIZE;
}

static ULONG KtTagIndex(ULONG Tag)
{
    ULONG t = 0;
    while (t < ARRAYSIZE(KtTags) - 1 && KtTags[t] != Tag)
        t++;
    return t;
}

/* Per-tag counters follow a seeded storm: after every operation, for every tag and
 * pool, Allocs, Frees and the bytes outstanding match the blocks the test holds. */
KTEST("pool.tags", KtTestPoolTags)
{
    if (!KtPoolReady(Context))
        return;
    LONG allocs0[ARRAYSIZE(KtTags)][2], frees0[ARRAYSIZE(KtTags)][2];
    SIZE_T bytes0[ARRAYSIZE(KtTags)][2];
    for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
        const POOL_TRACKER_TABLE *e = KtFindTag(KtTags[t]);
        for (ULONG p = 0; p < 2; p++) {
            allocs0[t][p] = e ? e->Allocs[p] : 0;
            frees0[t][p] = e ? e->Frees[p] : 0;
            bytes0[t][p] = e ? e->Bytes[p] : 0;
        }
    }
    SIZE_T running[2][2];
    for (ULONG p = 0; p < 2; p++) {
        running[p][0] = ExpPoolDescriptors[p].RunningAllocs;
        running[p][1] = ExpPoolDescriptors[p].RunningDeAllocs;
    }
    ULONG ops = (ULONG)KtRandomRange(Context, 600, 900);
    LONG allocs[ARRAYSIZE(KtTags)][2] = {{0}}, frees[ARRAYSIZE(KtTags)][2] = {{0}};
    for (ULONG op = 0; op < ops; op++) {
        KT_LIVE *live = &KtLive[KtRandomRange(Context, 0, 63)];
        if (live->Block) {
            frees[KtTagIndex(live->Tag)][live->Type]++;
            if (!KtFreeSlot(Context, live))
                return;
        } else {
            /* every seed: the first two allocate one big block in each pool */
            if (op < 2 ? !KtAllocateSlotAs(Context, live, (POOL_TYPE)op,
                                           KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE))
                       : !KtAllocateSlot(Context, live, TRUE))
                return;
            allocs[KtTagIndex(live->Tag)][live->Type]++;
        }
        for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
            const POOL_TRACKER_TABLE *e = KtFindTag(KtTags[t]);
            for (ULONG p = 0; p < 2; p++) {
                SIZE_T bytes = bytes0[t][p];
                LONG count = 0;
                for (ULONG i = 0; i < 64; i++)
                    if (KtLive[i].Block && KtLive[i].Tag == KtTags[t] && KtLive[i].Type == (POOL_TYPE)p) {
                        bytes += KtCountedBytes(&KtLive[i]);
                        count++;
                    }
                LONG a = e ? e->Allocs[p] - allocs0[t][p] : 0, f = e ? e->Frees[p] - frees0[t][p] : 0;
                SIZE_T b = e ? e->Bytes[p] : 0;
                if (a - f != count || b != bytes) {
                    KtFail(Context, "counts", "op %u: tag %.4s, %s pool: %d allocations and %d frees counted (%d "
                           "blocks live), %lld bytes outstanding; the test holds %d blocks of %lld bytes (a small "
                           "block counts BlockSize * 16, a big one its pages * 4096, in its own pool)", op,
                           (PCSTR)&KtTags[t], KtPoolName(p), a, f, a - f, (LONG64)b, count, (LONG64)bytes);
                    ExDumpPoolUsage();
                    return;
                }
            }
        }
    }
    KtCheck(Context, TRUE, "counts", "-");
    for (ULONG i = 0; i < 64; i++) {
        if (!KtLive[i].Block)
            continue;
        frees[KtTagIndex(KtLive[i].Tag)][KtLive[i].Type]++;
        if (!KtFreeSlot(Context, &KtLive[i]))
            return;
    }
    for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
        const POOL_TRACKER_TABLE *e = KtFindTag(KtTags[t]);
        KtValue(Context, "tag_counts", "0x%x %d %d %d %d", KtTags[t], e ? e->Allocs[0] - allocs0[t][0] : 0,
                e ? e->Frees[0] - frees0[t][0] : 0, e ? e->Allocs[1] - allocs0[t][1] : 0,
                e ? e->Frees[1] - frees0[t][1] : 0);
        if (e && (e->Bytes[0] != bytes0[t][0] || e->Bytes[1] != bytes0[t][1])) {
            KtFail(Context, "bytes_zero", "tag %.4s still counts %lld nonpaged and %lld paged bytes after every block "
                   "was freed", (PCSTR)&KtTags[t], (LONG64)(e->Bytes[0] - bytes0[t][0]),
                   (LONG64)(e->Bytes[1] - bytes0[t][1]));
            ExDumpPoolUsage();
            return;
        }
    }
    KtCheck(Context, TRUE, "bytes_zero", "-");
    for (ULONG p = 0; p < 2; p++) {
        LONG64 a = (LONG64)(ExpPoolDescriptors[p].RunningAllocs - running[p][0]);
        LONG64 f = (LONG64)(ExpPoolDescriptors[p].RunningDeAllocs - running[p][1]);
        LONG64 wa = 0, wf = 0;
        for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
            wa += allocs[t][p];
            wf += frees[t][p];
        }
        if (!KtCheck(Context, a == wa && f == wf, "running_counts",
                     "%s pool: RunningAllocs went up by %lld and RunningDeAllocs by %lld; the test made %lld "
                     "allocations and %lld frees (count every allocation and free, small and big)", KtPoolName(p), a,
                     f, wa, wf))
            return;
    }
    ExDumpPoolUsage();
}

/* Big allocations: whole pages, page aligned, recorded with their tag, given back. The
 * page counts at the edges (4049 and 4096 bytes: one page; 4097 and 8192: two) and
 * both pools are in every run. */
KTEST("pool.big", KtTestPoolBig)
{
    if (!KtPoolReady(Context))
        return;
    PFN_NUMBER available = MmAvailablePages;
    static const SIZE_T edges[] = {POOL_SMALL_LIMIT + 1, PAGE_SIZE, PAGE_SIZE + 1, 2 * PAGE_SIZE};
    static KT_LIVE big[10];
    ULONG n = ARRAYSIZE(big);
    SIZE_T totalBig0[2] = {ExpPoolDescriptors[0].TotalBigPages, ExpPoolDescriptors[1].TotalBigPages};
    for (ULONG i = 0; i < n; i++) {
        KT_LIVE *l = &big[i];
        l->Size = i < ARRAYSIZE(edges) ? edges[i] : KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 6 * PAGE_SIZE);
        ULONG pages = (ULONG)((l->Size + PAGE_SIZE - 1) / PAGE_SIZE);
        l->Type = (POOL_TYPE)((i + (i >= ARRAYSIZE(edges) ? 0 : i / 2)) & 1);
        l->Tag = KtTags[i % ARRAYSIZE(KtTags)];
        PVOID block = NULL;
        NTSTATUS status = ExpAllocatePool(l->Type, l->Size, l->Tag, &block);
        if (!KtCheck(Context, status == STATUS_SUCCESS && ((ULONG_PTR)block & (PAGE_SIZE - 1)) == 0, "page_aligned",
                     "a %llu-byte %s allocation returned 0x%08X at %p: big blocks are whole pages", (ULONG64)l->Size,
                     KtPoolName(l->Type), (ULONG)status, block))
            return;
        l->Block = block;
        const POOL_TRACKER_BIG_PAGES *e = KtFindBigPage(block);
        if (!KtCheck(Context, e && e->Key == l->Tag && e->NumberOfPages == pages && e->PoolType == l->Type, "recorded",
                     "the big allocation at %p (%llu bytes = %u pages, %s, tag %.4s) is %s%s%u pages, type %u, tag 0x%x",
                     block, (ULONG64)l->Size, pages, KtPoolName(l->Type), (PCSTR)&l->Tag,
                     e ? "recorded with the wrong tag, size or type: " : "not in ExpPoolBigPageTable",
                     e ? "" : " (", e ? e->NumberOfPages : 0, e ? (ULONG)e->PoolType : 0, e ? e->Key : 0))
            return;
        for (ULONG p = 0; p < pages; p++)
            if (!KtCheck(Context, MiIsPoolPageInUse(l->Type, (ULONG_PTR)block + p * PAGE_SIZE), "whole_pages",
                         "page %u of the %u-page allocation at %p is not a pool page of the %s pool", p, pages, block,
                         KtPoolName(l->Type)))
                return;
        RtlFillMemory(block, l->Size, 0x5A);
        MI_TRANSLATION t;
        MiInspectTranslation(MmKernelPml4, (ULONG_PTR)block, &t);
        BOOLEAN pageable = t.Valid && (t.Entries[t.Level].Hard.SoftwareBits & MM_PTE_SOFTWARE_PAGEABLE);
        if (!KtCheck(Context, pageable == (l->Type == PagedPool), "pageable",
                     "the %s page at %p is %s pageable", l->Type == PagedPool ? "paged-pool" : "nonpaged-pool", block,
                     pageable ? "marked" : "not marked"))
            return;
        if (!KtPoolAuditLive(Context, "after a big allocation", big, n))
            return;
    }
    for (ULONG i = 0; i < n; i++) {
        PVOID block = big[i].Block;
        ULONG pages = (ULONG)((big[i].Size + PAGE_SIZE - 1) / PAGE_SIZE);
        SIZE_T before = ExpPoolDescriptors[big[i].Type].TotalBigPages;
        NTSTATUS status = KtFreePool(block, big[i].Tag);
        big[i].Block = NULL;
        ULONG64 pa;
        if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "freeing the big allocation at %p returned 0x%08X",
                     block, (ULONG)status) ||
            !KtCheck(Context, !KtFindBigPage(block) &&
                     MmTranslateAddress(MmKernelPml4, (ULONG_PTR)block, &pa) == STATUS_NOT_FOUND &&
                     !MiIsPoolPageInUse(big[i].Type, (ULONG_PTR)block), "given_back",
                     "after freeing the big allocation at %p it is %s", block,
                     KtFindBigPage(block) ? "still in the big page table"
                     : MiIsPoolPageInUse(big[i].Type, (ULONG_PTR)block) ? "still a pool page (MiFreePoolPages)"
                                                                        : "still mapped") ||
            !KtCheck(Context, ExpPoolDescriptors[big[i].Type].TotalBigPages == before - pages, "total_big_pages",
                     "freeing %u big pages of the %s pool changed TotalBigPages from %lld to %lld", pages,
                     KtPoolName(big[i].Type), (LONG64)before, (LONG64)ExpPoolDescriptors[big[i].Type].TotalBigPages) ||
            !KtPoolAuditLive(Context, "after freeing a big allocation", big, n))
            return;
    }
    KtCheck(Context, ExpPoolDescriptors[0].TotalBigPages == totalBig0[0] &&
            ExpPoolDescriptors[1].TotalBigPages == totalBig0[1], "total_big_pages",
            "TotalBigPages did not come back: nonpaged %lld, paged %lld", (LONG64)ExpPoolDescriptors[0].TotalBigPages,
            (LONG64)ExpPoolDescriptors[1].TotalBigPages);
    KtCheck(Context, MmAvailablePages == available, "frames_back",
            "after freeing every big allocation %lld frames are missing", (LONG64)(available - MmAvailablePages));
}

/* IRQL rules that allow: nonpaged pool at DISPATCH_LEVEL and paged pool at APC_LEVEL,
 * small and big, allocation and free. */
KTEST("pool.irql_allowed", KtTestPoolIrqlAllowed)
{
    if (!KtPoolReady(Context))
        return;
    for (ULONG big = 0; big < 2; big++) {
        SIZE_T size = big ? KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE) : KtRandomRange(Context, 1, 3000);
        KIRQL old;
        PVOID a = NULL, b = NULL;
        NTSTATUS fa = STATUS_UNSUCCESSFUL, fb = STATUS_UNSUCCESSFUL;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        NTSTATUS sa = ExpAllocatePool(NonPagedPool, size, POOL_TAG('D', 'p', 'c', ' '), &a);
        if (sa == STATUS_SUCCESS)
            fa = KtFreePool(a, POOL_TAG('D', 'p', 'c', ' '));
        KeLowerIrql(APC_LEVEL);
        NTSTATUS sb = ExpAllocatePool(PagedPool, size, POOL_TAG('A', 'p', 'c', ' '), &b);
        if (sb == STATUS_SUCCESS)
            fb = KtFreePool(b, POOL_TAG('A', 'p', 'c', ' '));
        KeLowerIrql(old);
        KtCheck(Context, sa == STATUS_SUCCESS && fa == STATUS_SUCCESS, "nonpaged_at_dispatch",
                "a %llu-byte (%s) NonPagedPool allocation at DISPATCH_LEVEL returned 0x%08X, its free 0x%08X",
                (ULONG64)size, big ? "big" : "small", (ULONG)sa, (ULONG)fa);
        KtCheck(Context, sb == STATUS_SUCCESS && fb == STATUS_SUCCESS, "paged_at_apc",
                "a %llu-byte (%s) PagedPool allocation at APC_LEVEL returned 0x%08X, its free 0x%08X", (ULONG64)size,
                big ? "big" : "small", (ULONG)sb, (ULONG)fb);
    }
}

/* Paged pool at DISPATCH_LEVEL: BAD_POOL_CALLER (0xC2) with 0x08. */
KTEST_STOP("pool.paged_at_dispatch", KtTestPoolPagedAtDispatch)
{
    if (!KtPoolReady(Context))
        return;
    SIZE_T size = KtRandomRange(Context, 1, 5000);
    KIRQL irql = DISPATCH_LEVEL, old; /* the classic mistake: paged pool in a DPC or under a spin lock */
    KtValue(Context, "stop_params", "0x8 0x%x 0x1 0x%llx", irql, (ULONG64)size);
    KeRaiseIrql(irql, &old);
    PVOID block;
    NTSTATUS status = ExpAllocatePool(PagedPool, size, POOL_TAG('B', 'a', 'd', 'I'), &block);
    KeLowerIrql(old);
    KtFail(Context, "irql", "PagedPool at IRQL %u returned 0x%08X instead of bugchecking", irql, (ULONG)status);
}

/* Allocates a block for a STOP test; FALSE (a failed check, no STOP) if it fails. */
static BOOLEAN KtAllocateOrFail(PKTEST_CONTEXT Context, POOL_TYPE Type, SIZE_T Size, ULONG Tag, PVOID *Block)
{
    *Block = NULL;
    NTSTATUS status = ExpAllocatePool(Type, Size, Tag, Block);
    return KtCheck(Context, status == STATUS_SUCCESS && *Block, "allocate", "ExpAllocatePool(%s, %llu) returned 0x%08X",
                   KtPoolName(Type), (ULONG64)Size, (ULONG)status);
}

/* Freeing a small block with another tag than the allocator's: BAD_POOL_CALLER 0x0A. */
KTEST_STOP("pool.wrong_tag", KtTestPoolWrongTag)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('G', 'o', 'o', 'd'), other = POOL_TAG('E', 'v', 'i', 'l');
    PVOID block;
    if (!KtAllocateOrFail(Context, (POOL_TYPE)KtRandomRange(Context, 0, 1), KtRandomRange(Context, 1, 900), tag, &block))
        return;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0xa 0x%llx 0x%x 0x%x", (ULONG64)block, tag, other);
    ExpFreePool(block, other);
    KtFail(Context, "wrong_tag", "freeing with tag %.4s a small block allocated with %.4s did not bugcheck",
           (PCSTR)&other, (PCSTR)&tag);
}

/* Freeing a big block with another tag than the allocator's: BAD_POOL_CALLER 0x0A. */
KTEST_STOP("pool.wrong_tag_big", KtTestPoolWrongTagBig)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('G', 'o', 'o', 'd'), other = POOL_TAG('E', 'v', 'i', 'l');
    PVOID block;
    if (!KtAllocateOrFail(Context, (POOL_TYPE)KtRandomRange(Context, 0, 1),
                          KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 4 * PAGE_SIZE), tag, &block))
        return;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0xa 0x%llx 0x%x 0x%x", (ULONG64)block, tag, other);
    ExpFreePool(block, other);
    KtFail(Context, "wrong_tag", "freeing with tag %.4s a big block allocated with %.4s did not bugcheck (the tag "
           "check applies to big blocks too, with the big-page entry's tag)", (PCSTR)&other, (PCSTR)&tag);
}

/* One byte written past a block lands in the next header: freeing the block bugchecks. */
KTEST_STOP("pool.overrun", KtTestPoolOverrun)
{
    if (!KtPoolReady(Context))
        return;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    SIZE_T size = KtRandomRange(Context, 1, 60) * 16;
    PUCHAR a, b;
    if (!KtAllocateOrFail(Context, type, size, POOL_TAG('O', 'v', 'e', 'r'), (PVOID *)&a) ||
        !KtAllocateOrFail(Context, type, 48, POOL_TAG('O', 'v', 'e', 'r'), (PVOID *)&b))
        return;
    if (!KtCheck(Context, b == a + size + sizeof(POOL_HEADER), "neighbours",
                 "in an empty pool the second block (%p) should directly follow the first (%p, %llu bytes)", b, a,
                 (ULONG64)size))
        return;
    KtValue(Context, "header", "0x%llx", (ULONG64)(a - sizeof(POOL_HEADER)));
    KtValue(Context, "next", "0x%llx", (ULONG64)(b - sizeof(POOL_HEADER)));
    KtValue(Context, "stop_params", "0x20 0x%llx 0x%llx 0x0", (ULONG64)(a - sizeof(POOL_HEADER)),
            (ULONG64)(b - sizeof(POOL_HEADER)));
    a[size] ^= 0x5C; /* the low byte of the next header: its PreviousSize */
    ExpFreePool(a, 0);
    KtFail(Context, "overrun", "freeing a block whose neighbour's header was overwritten did not bugcheck");
}

/* Freeing a small block twice: BAD_POOL_CALLER 0x07 with the free header's first 8 bytes. */
KTEST_STOP("pool.double_free", KtTestPoolDoubleFree)
{
    if (!KtPoolReady(Context))
        return;
    PVOID keep, block;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    SIZE_T size = KtRandomRange(Context, 1, 2000);
    ULONG tag = POOL_TAG('T', 'w', 'i', 'c');
    if (!KtAllocateOrFail(Context, type, 64, POOL_TAG('K', 'e', 'e', 'p'), &keep) || /* keeps the page mapped */
        !KtAllocateOrFail(Context, type, size, tag, &block))
        return;
    NTSTATUS status = KtFreePool(block, 0);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "the first free returned 0x%08X", (ULONG)status))
        return;
    /* Keep (5 units) then the freed block merged with the free rest of the page: 251 units, tag kept */
    PPOOL_HEADER h = (PPOOL_HEADER)block - 1;
    if (!KtCheck(Context, h->PoolType == 0 && h->BlockSize == POOL_PAGE_UNITS - 5 && h->PreviousSize == 5 &&
                 h->PoolTag == tag, "freed_header",
                 "after the first free the header at %p reads PreviousSize %u BlockSize %u PoolType %u tag 0x%x, "
                 "expected 5 %u 0 0x%x (merged with the free rest of the page; a freed block keeps its tag)", h,
                 h->PreviousSize, h->BlockSize, h->PoolType, h->PoolTag, POOL_PAGE_UNITS - 5, tag))
        return;
    KtValue(Context, "free_header", "0x%llx", *(PULONG64)h);
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0x7 0x0 0x%llx 0x%llx", *(PULONG64)h, (ULONG64)block);
    ExpFreePool(block, 0);
    KtFail(Context, "double_free", "freeing %p twice did not bugcheck", block);
}

/* Not graded: allocations and frees per second of guest time for a seeded mix of
 * sizes, and fragmentation after the storm (bytes in use / bytes of pool pages). */
KTEST("pool.bench", KtTestPoolBench)
{
    if (!KtPoolReady(Context))
        return;
    ULONG64 frequency, ops = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "clock", "no HPET: cannot measure guest time"))
        return;
    static PVOID blocks[4096];
    static SIZE_T sizes[4096];
    /* The same number of operations with about 256 and about 2048 blocks live: the
     * rates should match (no walk over live blocks or pool pages on the hot path). */
    ULONG64 rate[2] = {0, 0}, t0 = 0, t1 = 0;
    for (ULONG phase = 0; phase < 2; phase++) {
        ULONG slots = phase ? 4096 : 512;
        ops = 0;
        t0 = KeQueryPerformanceCounter(NULL);
        for (ULONG round = 0; round < 80000; round++) {
            ULONG s = (ULONG)KtRandomRange(Context, 0, slots - 1);
            if (blocks[s]) {
                ExpFreePool(blocks[s], 0);
                blocks[s] = NULL;
            } else {
                sizes[s] = KtRandomSize(Context, FALSE);
                ExpAllocatePool((POOL_TYPE)(s & 1), sizes[s], POOL_TAG('B', 'n', 'c', 'h'), &blocks[s]);
            }
            ops++;
        }
        t1 = KeQueryPerformanceCounter(NULL);
        ULONG64 us = (t1 - t0) * 1000000 / frequency;
        rate[phase] = us ? ops * 1000000 / us : 0;
    }
    KtValue(Context, "ops_per_second_256_live", "%llu", rate[0]);
    KtValue(Context, "ops_per_second_2048_live", "%llu", rate[1]);
    ULONG64 live = 0, inUse = 0;
    for (ULONG i = 0; i < ARRAYSIZE(blocks); i++)
        if (blocks[i]) {
            live++;
            inUse += sizes[i];
        }
    ULONG64 poolBytes = (ExpPoolDescriptors[0].TotalPages + ExpPoolDescriptors[1].TotalPages) * PAGE_SIZE;
    ULONG64 micro = (t1 - t0) * 1000000 / frequency;
    KtValue(Context, "ops", "%llu", ops);
    KtValue(Context, "guest_microseconds", "%llu", micro);
    KtValue(Context, "ops_per_second", "%llu", micro ? ops * 1000000 / micro : 0);
    KtValue(Context, "live_blocks", "%llu", live);
    KtValue(Context, "bytes_in_use", "%llu", inUse);
    KtValue(Context, "pool_page_bytes", "%llu", poolBytes);
    KtValue(Context, "utilisation_percent", "%llu", poolBytes ? inUse * 100 / poolBytes : 0);
    for (ULONG i = 0; i < ARRAYSIZE(blocks); i++)
        if (blocks[i])
            ExpFreePool(blocks[i], 0);
}
