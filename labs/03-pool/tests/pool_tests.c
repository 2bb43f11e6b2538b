/* pool_tests.c - lab 03 public tests: page layout through a seeded storm, coalescing,
 * per-tag accounting, big allocations, IRQL rules, and the bugchecks for a wrong tag,
 * an overrun into the next header and a double free. */
#include "arch.h"
#include "bugcodes.h"
#include "hal.h"
#include "ke.h"
#include "mm.h"
#include "pool_audit.h"
#include "rtl.h"

#define KT_SLOTS 256

typedef struct {
    PUCHAR Block;
    SIZE_T Size;
    ULONG Tag;
    POOL_TYPE Type;
    UCHAR Fill;
} KT_LIVE;

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

static BOOLEAN KtAllocateSlot(PKTEST_CONTEXT Context, KT_LIVE *Live, BOOLEAN AllowBig)
{
    Live->Size = KtRandomSize(Context, AllowBig);
    Live->Type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    Live->Tag = KtTags[KtRandomRange(Context, 0, ARRAYSIZE(KtTags) - 1)];
    Live->Fill = (UCHAR)KtRandomRange(Context, 1, 255);
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

static BOOLEAN KtFreeSlot(PKTEST_CONTEXT Context, KT_LIVE *Live)
{
    if (!KtCheckFill(Context, Live))
        return FALSE;
    NTSTATUS status = ExpFreePool(Live->Block, Live->Tag);
    Live->Block = NULL;
    return KtCheck(Context, status == STATUS_SUCCESS, "free", "ExpFreePool returned 0x%08X", (ULONG)status);
}

/* Seeded allocations and frees of both pools: every pool page stays consistent. */
KTEST("pool.layout", KtTestPoolLayout)
{
    if (!KtPoolReady(Context))
        return;
    ULONG ops = (ULONG)KtRandomRange(Context, 1500, 2500);
    for (ULONG op = 0; op < ops; op++) {
        KT_LIVE *live = &KtLive[KtRandomRange(Context, 0, KT_SLOTS - 1)];
        if (live->Block ? !KtFreeSlot(Context, live) : !KtAllocateSlot(Context, live, FALSE))
            return;
        if (op % 500 == 499 && !KtPoolAudit(Context, "during the storm"))
            return;
    }
    if (!KtPoolAudit(Context, "after the storm"))
        return;
    for (ULONG i = 0; i < KT_SLOTS; i++)
        if (KtLive[i].Block && !KtFreeSlot(Context, &KtLive[i]))
            return;
    if (!KtPoolAudit(Context, "after freeing everything"))
        return;
    KtCheck(Context, ExpPoolDescriptors[0].TotalPages == 0 && ExpPoolDescriptors[1].TotalPages == 0, "pages_returned",
            "with every block freed the pools still hold %llu nonpaged and %llu paged pages",
            (ULONG64)ExpPoolDescriptors[0].TotalPages, (ULONG64)ExpPoolDescriptors[1].TotalPages);
}

/* Three neighbours A B C in a fresh page: freeing them in a seeded order merges
 * free neighbours, both ways, and the empty page goes back. */
KTEST("pool.coalesce", KtTestPoolCoalesce)
{
    if (!KtPoolReady(Context))
        return;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    ULONG tag = POOL_TAG('C', 'o', 'a', 'l');
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
    ExpAllocatePool(type, sizes[3], tag, &d);
    h[3] = (PPOOL_HEADER)d - 1;
    for (ULONG i = 0; i < 3; i++)
        if (!KtCheck(Context, (PUCHAR)h[i + 1] == (PUCHAR)h[i] + h[i]->BlockSize * POOL_BLOCK_SIZE, "neighbours",
                     "in an empty pool, block %u (%p, %u units) is not followed by block %u (%p): a fresh page is "
                     "carved from its start", i, h[i], h[i]->BlockSize, i + 1, h[i + 1]))
            return;
    ULONG units[3] = {h[0]->BlockSize, h[1]->BlockSize, h[2]->BlockSize};
    static const UCHAR orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    const UCHAR *order = orders[KtRandomRange(Context, 0, 5)];
    KtValue(Context, "free_order", "%c %c %c", 'A' + order[0], 'A' + order[1], 'A' + order[2]);
    BOOLEAN freed[3] = {FALSE, FALSE, FALSE};
    for (ULONG k = 0; k < 3; k++) {
        ULONG i = order[k];
        ExpFreePool(h[i] + 1, tag);
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
        if (!KtCheck(Context, run->PoolType == 0 && run->BlockSize == want, "merged",
                     "after freeing %c (order %c %c %c), the free block at %c should span %u units, found PoolType %u "
                     "BlockSize %u%s", 'A' + i, 'A' + order[0], 'A' + order[1], 'A' + order[2], 'A' + first, want,
                     run->PoolType, run->BlockSize,
                     last > i ? " (not merged with the free block after it)"
                     : first < i ? " (not merged with the free block before it)" : ""))
            return;
        PPOOL_HEADER after = (PPOOL_HEADER)((PUCHAR)run + want * POOL_BLOCK_SIZE);
        if (!KtCheck(Context, after->PreviousSize == want, "previous_size",
                     "the block after the merged run has PreviousSize %u, expected %u", after->PreviousSize, want))
            return;
    }
    if (!KtPoolAudit(Context, "after coalescing"))
        return;
    ExpFreePool(d, tag);
    KtCheck(Context, ExpPoolDescriptors[type].TotalPages == 0, "page_returned",
            "after freeing every block of the page, the pool still holds %llu pages",
            (ULONG64)ExpPoolDescriptors[type].TotalPages);
}

/* Per-tag counters follow a seeded storm and come back to zero. */
KTEST("pool.tags", KtTestPoolTags)
{
    if (!KtPoolReady(Context))
        return;
    const POOL_TRACKER_TABLE *before[ARRAYSIZE(KtTags)];
    LONG allocs0[ARRAYSIZE(KtTags)][2], frees0[ARRAYSIZE(KtTags)][2];
    for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
        before[t] = KtFindTag(KtTags[t]);
        for (ULONG p = 0; p < 2; p++) {
            allocs0[t][p] = before[t] ? before[t]->Allocs[p] : 0;
            frees0[t][p] = before[t] ? before[t]->Frees[p] : 0;
        }
    }
    ULONG ops = (ULONG)KtRandomRange(Context, 600, 1000);
    LONG allocs[ARRAYSIZE(KtTags)][2] = {{0}}, frees[ARRAYSIZE(KtTags)][2] = {{0}};
    for (ULONG op = 0; op < ops; op++) {
        KT_LIVE *live = &KtLive[KtRandomRange(Context, 0, 63)];
        ULONG t;
        if (live->Block) {
            for (t = 0; KtTags[t] != live->Tag; t++) {
            }
            frees[t][live->Type]++;
            if (!KtFreeSlot(Context, live))
                return;
        } else {
            if (!KtAllocateSlot(Context, live, TRUE))
                return;
            for (t = 0; KtTags[t] != live->Tag; t++) {
            }
            allocs[t][live->Type]++;
        }
    }
    for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
        const POOL_TRACKER_TABLE *e = KtFindTag(KtTags[t]);
        for (ULONG p = 0; p < 2; p++) {
            LONG a = e ? e->Allocs[p] - allocs0[t][p] : 0, f = e ? e->Frees[p] - frees0[t][p] : 0;
            if (a != allocs[t][p] || f != frees[t][p]) {
                KtFail(Context, "counts", "tag %.4s, %s pool: %d allocations and %d frees counted, %d and %d made",
                       (PCSTR)&KtTags[t], p ? "paged" : "nonpaged", a, f, allocs[t][p], frees[t][p]);
                return;
            }
        }
    }
    KtCheck(Context, TRUE, "counts", "-");
    for (ULONG i = 0; i < 64; i++)
        if (KtLive[i].Block && !KtFreeSlot(Context, &KtLive[i]))
            return;
    for (ULONG t = 0; t < ARRAYSIZE(KtTags); t++) {
        const POOL_TRACKER_TABLE *e = KtFindTag(KtTags[t]);
        if (e && (e->Bytes[0] || e->Bytes[1])) {
            KtFail(Context, "bytes_zero", "tag %.4s still counts %llu nonpaged and %llu paged bytes after every block "
                   "was freed", (PCSTR)&KtTags[t], (ULONG64)e->Bytes[0], (ULONG64)e->Bytes[1]);
            ExDumpPoolUsage();
            return;
        }
    }
    KtCheck(Context, TRUE, "bytes_zero", "-");
    ExDumpPoolUsage();
}

/* Big allocations: whole pages, page aligned, recorded with their tag, given back. */
KTEST("pool.big", KtTestPoolBig)
{
    if (!KtPoolReady(Context))
        return;
    PFN_NUMBER available = MmAvailablePages;
    PVOID blocks[8];
    ULONG pages[8];
    ULONG n = (ULONG)KtRandomRange(Context, 3, 8);
    for (ULONG i = 0; i < n; i++) {
        SIZE_T size = KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 6 * PAGE_SIZE);
        pages[i] = (ULONG)((size + PAGE_SIZE - 1) / PAGE_SIZE);
        POOL_TYPE type = (POOL_TYPE)(i & 1);
        ULONG tag = KtTags[i % ARRAYSIZE(KtTags)];
        NTSTATUS status = ExpAllocatePool(type, size, tag, &blocks[i]);
        if (!KtCheck(Context, status == STATUS_SUCCESS && ((ULONG_PTR)blocks[i] & (PAGE_SIZE - 1)) == 0, "page_aligned",
                     "a %llu-byte allocation returned 0x%08X at %p: big blocks are whole pages", (ULONG64)size,
                     (ULONG)status, blocks[i]))
            return;
        const POOL_TRACKER_BIG_PAGES *e = KtFindBigPage(blocks[i]);
        if (!KtCheck(Context, e && e->Key == tag && e->NumberOfPages == pages[i] && e->PoolType == type, "recorded",
                     "the big allocation at %p (%u pages, tag %.4s) is %s", blocks[i], pages[i], (PCSTR)&tag,
                     e ? "recorded with the wrong tag, size or type" : "not in ExpPoolBigPageTable"))
            return;
        RtlFillMemory(blocks[i], size, 0x5A);
        MI_TRANSLATION t;
        MiInspectTranslation(MmKernelPml4, (ULONG_PTR)blocks[i], &t);
        BOOLEAN pageable = t.Valid && (t.Entries[t.Level].Hard.SoftwareBits & MM_PTE_SOFTWARE_PAGEABLE);
        if (!KtCheck(Context, pageable == (type == PagedPool), "pageable",
                     "the %s page at %p is %s pageable", type == PagedPool ? "paged-pool" : "nonpaged-pool", blocks[i],
                     pageable ? "marked" : "not marked"))
            return;
    }
    for (ULONG i = 0; i < n; i++) {
        ExpFreePool(blocks[i], 0);
        ULONG64 pa;
        if (!KtCheck(Context, !KtFindBigPage(blocks[i]) &&
                     MmTranslateAddress(MmKernelPml4, (ULONG_PTR)blocks[i], &pa) == STATUS_NOT_FOUND, "given_back",
                     "after freeing the big allocation at %p it is %s", blocks[i],
                     KtFindBigPage(blocks[i]) ? "still in the big page table" : "still mapped"))
            return;
    }
    KtCheck(Context, MmAvailablePages == available, "frames_back",
            "after freeing every big allocation %lld frames are missing", (LONG64)(available - MmAvailablePages));
}

/* IRQL rules that allow: nonpaged pool at DISPATCH_LEVEL, paged pool at APC_LEVEL. */
KTEST("pool.irql_allowed", KtTestPoolIrqlAllowed)
{
    if (!KtPoolReady(Context))
        return;
    KIRQL old;
    PVOID a = NULL, b = NULL;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS sa = ExpAllocatePool(NonPagedPool, KtRandomRange(Context, 1, 3000), POOL_TAG('D', 'p', 'c', ' '), &a);
    if (a)
        ExpFreePool(a, POOL_TAG('D', 'p', 'c', ' '));
    KeLowerIrql(APC_LEVEL);
    NTSTATUS sb = ExpAllocatePool(PagedPool, KtRandomRange(Context, 1, 3000), POOL_TAG('A', 'p', 'c', ' '), &b);
    if (b)
        ExpFreePool(b, POOL_TAG('A', 'p', 'c', ' '));
    KeLowerIrql(old);
    KtCheck(Context, sa == STATUS_SUCCESS, "nonpaged_at_dispatch", "NonPagedPool at DISPATCH_LEVEL returned 0x%08X",
            (ULONG)sa);
    KtCheck(Context, sb == STATUS_SUCCESS, "paged_at_apc", "PagedPool at APC_LEVEL returned 0x%08X", (ULONG)sb);
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

/* Freeing with another tag than the allocator's: BAD_POOL_CALLER 0x0A. */
KTEST_STOP("pool.wrong_tag", KtTestPoolWrongTag)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('G', 'o', 'o', 'd'), other = POOL_TAG('E', 'v', 'i', 'l');
    BOOLEAN big = (BOOLEAN)KtRandomRange(Context, 0, 1);
    PVOID block;
    ExpAllocatePool((POOL_TYPE)KtRandomRange(Context, 0, 1), big ? 3 * PAGE_SIZE : KtRandomRange(Context, 1, 900),
                    tag, &block);
    KtValue(Context, "stop_params", "0xa 0x%llx 0x%x 0x%x", (ULONG64)block, tag, other);
    ExpFreePool(block, other);
    KtFail(Context, "wrong_tag", "freeing with tag %.4s a block allocated with %.4s did not bugcheck", (PCSTR)&other,
           (PCSTR)&tag);
}

/* One byte written past a block lands in the next header: freeing the block bugchecks. */
KTEST_STOP("pool.overrun", KtTestPoolOverrun)
{
    if (!KtPoolReady(Context))
        return;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    SIZE_T size = KtRandomRange(Context, 1, 60) * 16;
    PUCHAR a, b;
    ExpAllocatePool(type, size, POOL_TAG('O', 'v', 'e', 'r'), (PVOID *)&a);
    ExpAllocatePool(type, 48, POOL_TAG('O', 'v', 'e', 'r'), (PVOID *)&b);
    if (!KtCheck(Context, b == a + size + sizeof(POOL_HEADER), "neighbours",
                 "in an empty pool the second block (%p) should directly follow the first (%p, %llu bytes)", b, a,
                 (ULONG64)size))
        return;
    KtValue(Context, "stop_params", "0x20 0x%llx 0x%llx *", (ULONG64)(a - sizeof(POOL_HEADER)),
            (ULONG64)(b - sizeof(POOL_HEADER)));
    a[size] ^= 0x5C; /* the low byte of the next header: its PreviousSize */
    ExpFreePool(a, 0);
    KtFail(Context, "overrun", "freeing a block whose neighbour's header was overwritten did not bugcheck");
}

/* Freeing a block twice: BAD_POOL_CALLER 0x07. */
KTEST_STOP("pool.double_free", KtTestPoolDoubleFree)
{
    if (!KtPoolReady(Context))
        return;
    PVOID keep, block;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    ExpAllocatePool(type, 64, POOL_TAG('K', 'e', 'e', 'p'), &keep); /* keeps the page mapped after the first free */
    ExpAllocatePool(type, KtRandomRange(Context, 1, 2000), POOL_TAG('T', 'w', 'i', 'c'), &block);
    ExpFreePool(block, 0);
    KtValue(Context, "stop_params", "0x7 * * 0x%llx", (ULONG64)block);
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
