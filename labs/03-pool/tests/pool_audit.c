/* pool_audit.c - the lab 03 auditor: checks every field of every block of every pool
 * page, the free lists, the descriptors' totals and the big-page table against the
 * POOL_HEADER rules, independently of the student's code. */
#include "mm.h"
#include "pool_audit.h"
#include "rtl.h"

BOOLEAN KtPoolReady(PKTEST_CONTEXT Context)
{
    ExSetPoolPoison(Context->Seed);
    PVOID block = NULL;
    NTSTATUS status = ExpAllocatePool(NonPagedPool, 24, POOL_TAG('K', 't', 'R', 'd'), &block);
    if (!KtRequireImplemented(Context, status, "ExpAllocatePool", "lab 03"))
        return FALSE;
    if (!KtCheck(Context, status == STATUS_SUCCESS && block, "first_allocation",
                 "a first 24-byte allocation returned 0x%08X%s", (ULONG)status,
                 MmKernelPml4 ? "" : " (the kernel has no address space of its own: labs 01 and 02 come first)"))
        return FALSE;
    /* checked before the free: a header that reads as free would make it a double free */
    const POOL_HEADER *header = (const POOL_HEADER *)block - 1;
    if (!KtCheck(Context, header->PoolType == NonPagedPool + 1 && header->PoolTag == POOL_TAG('K', 't', 'R', 'd') &&
                 header->PreviousSize == 0 && header->BlockSize == KtUnitsFor(24), "first_header",
                 "a first 24-byte nonpaged block, at the start of a fresh page, has a header with PoolType %u, tag "
                 "0x%08x, PreviousSize %u, BlockSize %u; expected PoolType 1 (the pool type + 1: 0 marks a free "
                 "block), tag 0x%08x, PreviousSize 0 (the first block of a page; the page is not zeroed) and "
                 "BlockSize %u", header->PoolType, header->PoolTag, header->PreviousSize, header->BlockSize,
                 POOL_TAG('K', 't', 'R', 'd'), KtUnitsFor(24)))
        return FALSE;
    status = KtFreePool(block, POOL_TAG('K', 't', 'R', 'd'));
    if (!KtRequireImplemented(Context, status, "ExpFreePool", "lab 03"))
        return FALSE;
    return KtCheck(Context, status == STATUS_SUCCESS && ExpPoolDescriptors[NonPagedPool].TotalPages == 0 &&
                   !MiIsPoolPageInUse(NonPagedPool, (ULONG_PTR)block & ~(PAGE_SIZE - 1)), "first_allocation",
                   "after allocating and freeing one 24-byte block in an empty pool, ExpFreePool returned 0x%08X, "
                   "TotalPages is %lld and the page is %s: the freed block must merge with the free rest of the "
                   "page after it, and a wholly free page goes back (MiFreePoolPages, TotalPages - 1)", (ULONG)status,
                   (LONG64)ExpPoolDescriptors[NonPagedPool].TotalPages,
                   MiIsPoolPageInUse(NonPagedPool, (ULONG_PTR)block & ~(PAGE_SIZE - 1)) ? "still held" : "given back");
}

ULONG KtUnitsFor(SIZE_T Bytes)
{
    ULONG units = (ULONG)((Bytes + sizeof(POOL_HEADER) + POOL_BLOCK_SIZE - 1) / POOL_BLOCK_SIZE);
    return units < POOL_MIN_BLOCK_UNITS ? POOL_MIN_BLOCK_UNITS : units;
}

NTSTATUS KtFreePool(PVOID Block, ULONG Tag)
{
    ExPoisonBlockForFree(Block);
    return ExpFreePool(Block, Tag);
}

const POOL_TRACKER_BIG_PAGES *KtFindBigPage(PVOID Va)
{
    for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++)
        if (ExpPoolBigPageTable[i].Va == Va)
            return &ExpPoolBigPageTable[i];
    return NULL;
}

const POOL_TRACKER_TABLE *KtFindTag(ULONG Tag)
{
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
        if (ExpPoolTrackTable[i].Key == Tag)
            return &ExpPoolTrackTable[i];
    return NULL;
}

/* A set of headers seen during one audit (open addressing; a generation number empties it). */
#define KT_SET_SIZE 16384
#define KT_LISTED 0x1
#define KT_FREE_IN_PAGE 0x2
#define KT_ALLOCATED 0x4
static struct {
    ULONG_PTR Key;
    ULONG Generation;
    ULONG Marks;
} KtSet[KT_SET_SIZE];
static ULONG KtGeneration;

static PULONG KtMarks(ULONG_PTR Header, BOOLEAN Create)
{
    ULONG i = (ULONG)((Header >> 4) * 2654435761ULL) & (KT_SET_SIZE - 1);
    for (ULONG n = 0; n < KT_SET_SIZE; n++, i = (i + 1) & (KT_SET_SIZE - 1)) {
        if (KtSet[i].Generation != KtGeneration) {
            if (!Create)
                return NULL;
            KtSet[i].Generation = KtGeneration;
            KtSet[i].Key = Header;
            KtSet[i].Marks = 0;
            return &KtSet[i].Marks;
        }
        if (KtSet[i].Key == Header)
            return &KtSet[i].Marks;
    }
    return NULL;
}

static BOOLEAN KtInPool(ULONG Type, ULONG_PTR Va) { return MiIsPoolPageInUse(Type, Va); }

/* Live big entries found in the table during one audit. */
static const POOL_TRACKER_BIG_PAGES *KtBigs[POOL_BIG_TABLE_SIZE];
static ULONG KtBigCount;

static const POOL_TRACKER_BIG_PAGES *KtBigAt(ULONG_PTR Page)
{
    for (ULONG i = 0; i < KtBigCount; i++)
        if ((ULONG_PTR)KtBigs[i]->Va == Page)
            return KtBigs[i];
    return NULL;
}

static BOOLEAN KtAuditLists(PKTEST_CONTEXT Context, PCSTR Label, ULONG Type, PULONG Listed)
{
    PPOOL_DESCRIPTOR pool = &ExpPoolDescriptors[Type];
    for (ULONG size = 0; size < POOL_PAGE_UNITS; size++) {
        PLIST_ENTRY head = &pool->ListHeads[size], prev = head;
        ULONG n = 0;
        for (PLIST_ENTRY e = head->Flink; e != head; prev = e, e = e->Flink) {
            PPOOL_HEADER h = (PPOOL_HEADER)e - 1;
            if (!KtInPool(Type, (ULONG_PTR)e) || ((ULONG_PTR)h & (POOL_BLOCK_SIZE - 1))) {
                KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u]: a link after %p points to %p, which is not a "
                       "block in a pool page the pool holds (%s)", Label, KtPoolName(Type), size, (PVOID)prev, (PVOID)e,
                       KtInPool(Type, (ULONG_PTR)e) ? "not 16-byte aligned" : "a page given back, or never taken");
                return FALSE;
            }
            if (e->Blink != prev) {
                KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u]: the free block at %p has Blink %p, expected "
                       "%p (the entry before it on the list)", Label, KtPoolName(Type), size, (PVOID)h, (PVOID)e->Blink,
                       (PVOID)prev);
                return FALSE;
            }
            if (h->PoolType != 0 || h->BlockSize != size) {
                KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u] holds the block at %p with BlockSize %u, "
                       "PoolType %u: a list holds free blocks (PoolType 0) of exactly its size", Label,
                       KtPoolName(Type), size, (PVOID)h, h->BlockSize, h->PoolType);
                return FALSE;
            }
            PULONG marks = KtMarks((ULONG_PTR)h, TRUE);
            if (!marks || (*marks & KT_LISTED) || ++n > 4096) {
                KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u]: the free block at %p is on the free lists "
                       "twice (or the list loops)", Label, KtPoolName(Type), size, (PVOID)h);
                return FALSE;
            }
            *marks |= KT_LISTED;
            (*Listed)++;
        }
        if (head->Blink != prev) {
            KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u].Blink is %p, expected the last entry %p", Label,
                   KtPoolName(Type), size, (PVOID)head->Blink, (PVOID)prev);
            return FALSE;
        }
    }
    return TRUE;
}

static BOOLEAN KtAuditPage(PKTEST_CONTEXT Context, PCSTR Label, ULONG Type, ULONG_PTR Page, PULONG FreeOnPages,
                           PULONG Allocated)
{
    ULONG units = 0, prevSize = 0, offset = 0;
    BOOLEAN prevFree = FALSE;
    while (offset < PAGE_SIZE) {
        PPOOL_HEADER h = (PPOOL_HEADER)(Page + offset);
        if (h->BlockSize < POOL_MIN_BLOCK_UNITS || h->BlockSize > POOL_MAX_BLOCK_UNITS ||
            units + h->BlockSize > POOL_PAGE_UNITS) {
            KtFail(Context, "block_sizes", "%s: %s pool page %p: the block at offset 0x%x has BlockSize %u, which %s",
                   Label, KtPoolName(Type), (PVOID)Page, offset, h->BlockSize,
                   h->BlockSize < POOL_MIN_BLOCK_UNITS ? "is below POOL_MIN_BLOCK_UNITS (2): a block takes max(POOL_MIN_BLOCK_UNITS, "
                                                         "ceil((bytes + 16) / 16)) units, also for 0 bytes (or a header "
                                                         "never set?)"
                   : h->BlockSize > POOL_MAX_BLOCK_UNITS ? "is more than POOL_MAX_BLOCK_UNITS (a header never set?)"
                                                         : "runs past the end of the page");
            return FALSE;
        }
        if (h->PreviousSize != prevSize) {
            KtFail(Context, "previous_size", "%s: %s pool page %p: the block at offset 0x%x has PreviousSize %u, but the "
                   "block before it has BlockSize %u%s", Label, KtPoolName(Type), (PVOID)Page, offset, h->PreviousSize,
                   prevSize, offset ? "" : " (PreviousSize is 0 at the start of a page)");
            return FALSE;
        }
        if (h->PoolIndex != 0 || h->ProcessBilled != 0) {
            KtFail(Context, "header_fields", "%s: %s pool page %p: the %s block at offset 0x%x has PoolIndex 0x%x and "
                   "ProcessBilled 0x%llx; both are unused and must be 0 in every header (a header field left "
                   "uninitialised: pool memory is not clean)", Label, KtPoolName(Type), (PVOID)Page,
                   h->PoolType ? "allocated" : "free", offset, h->PoolIndex, (ULONG64)h->ProcessBilled);
            return FALSE;
        }
        BOOLEAN free = h->PoolType == 0;
        if (!free && h->PoolType != Type + 1) {
            KtFail(Context, "pool_type", "%s: %s pool page %p: the block at offset 0x%x has PoolType %u, expected 0 "
                   "(free) or %u (POOL_TYPE + 1)", Label, KtPoolName(Type), (PVOID)Page, offset, h->PoolType, Type + 1);
            return FALSE;
        }
        if (free && prevFree) {
            KtFail(Context, "coalesced", "%s: %s pool page %p: free blocks at offsets 0x%x and 0x%x are neighbours (they "
                   "should have been merged)", Label, KtPoolName(Type), (PVOID)Page,
                   offset - prevSize * POOL_BLOCK_SIZE, offset);
            return FALSE;
        }
        PULONG marks = KtMarks((ULONG_PTR)h, TRUE);
        if (free) {
            if (!marks || !(*marks & KT_LISTED)) {
                KtFail(Context, "free_listed", "%s: %s pool page %p: the free block at offset 0x%x (%u units) is on no "
                       "free list", Label, KtPoolName(Type), (PVOID)Page, offset, h->BlockSize);
                return FALSE;
            }
            *marks |= KT_FREE_IN_PAGE;
            (*FreeOnPages)++;
        } else {
            if (marks)
                *marks |= KT_ALLOCATED;
            (*Allocated)++;
        }
        prevFree = free;
        prevSize = h->BlockSize;
        units += h->BlockSize;
        offset = units * POOL_BLOCK_SIZE;
    }
    return TRUE;
}

static BOOLEAN KtAuditBigTable(PKTEST_CONTEXT Context, PCSTR Label, SIZE_T *Pages)
{
    KtBigCount = 0;
    Pages[0] = Pages[1] = 0;
    for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++) {
        const POOL_TRACKER_BIG_PAGES *e = &ExpPoolBigPageTable[i];
        if (e->Va == NULL || e->Va == POOL_BIG_TABLE_FREED)
            continue;
        ULONG_PTR va = (ULONG_PTR)e->Va;
        BOOLEAN ok = (ULONG)e->PoolType < POOL_TYPE_COUNT && (va & (PAGE_SIZE - 1)) == 0 && e->NumberOfPages >= 1;
        for (ULONG p = 0; ok && p < e->NumberOfPages; p++)
            ok = KtInPool(e->PoolType, va + p * PAGE_SIZE);
        if (!ok) {
            KtFail(Context, "big_table", "%s: ExpPoolBigPageTable[%u] records Va %p, %u pages, PoolType %u, tag 0x%x: "
                   "not a run of pages the %s pool holds (an entry not removed when its pages went back?)", Label, i,
                   e->Va, e->NumberOfPages, (ULONG)e->PoolType, e->Key,
                   (ULONG)e->PoolType < POOL_TYPE_COUNT ? KtPoolName(e->PoolType) : "(no such)");
            return FALSE;
        }
        if (KtBigAt(va)) {
            KtFail(Context, "big_table", "%s: the big allocation %p is in ExpPoolBigPageTable twice", Label, e->Va);
            return FALSE;
        }
        KtBigs[KtBigCount++] = e;
        Pages[e->PoolType] += e->NumberOfPages;
    }
    for (ULONG t = 0; t < POOL_TYPE_COUNT; t++)
        if (!KtCheck(Context, ExpPoolDescriptors[t].TotalBigPages == Pages[t], "total_big_pages",
                     "%s: %s pool: TotalBigPages is %lld but the big-page table records %llu pages (add the pages of "
                     "every big allocation, subtract them when it is freed)", Label, KtPoolName(t),
                     (LONG64)ExpPoolDescriptors[t].TotalBigPages, (ULONG64)Pages[t]))
            return FALSE;
    return TRUE;
}

BOOLEAN KtPoolAuditLive(PKTEST_CONTEXT Context, PCSTR Label, const KT_LIVE *Live, ULONG Count)
{
    KtGeneration++;
    SIZE_T bigPages[2];
    if (!KtAuditBigTable(Context, Label, bigPages))
        return FALSE;
    ULONG allocated = 0;
    for (ULONG type = 0; type < POOL_TYPE_COUNT; type++) {
        PPOOL_DESCRIPTOR pool = &ExpPoolDescriptors[type];
        ULONG listed = 0, freeOnPages = 0, pages = 0;
        if (!KtAuditLists(Context, Label, type, &listed))
            return FALSE;
        ULONG_PTR base = type ? MM_PAGED_POOL_START : MM_NONPAGED_POOL_START;
        ULONG limit = MiPoolPageLimit(type);
        for (ULONG i = 0; i < limit; i++) {
            ULONG_PTR page = base + ((ULONG64)i << PAGE_SHIFT);
            if (!KtInPool(type, page))
                continue;
            const POOL_TRACKER_BIG_PAGES *big = KtBigAt(page);
            if (big) {
                i += big->NumberOfPages - 1;
                continue;
            }
            pages++;
            if (!KtAuditPage(Context, Label, type, page, &freeOnPages, &allocated))
                return FALSE;
        }
        if (!KtCheck(Context, freeOnPages == listed, "pool_totals",
                     "%s: %s pool: %u free blocks on the lists but %u in the pages (a listed block that is not a "
                     "block of a pool page)", Label, KtPoolName(type), listed, freeOnPages) ||
            !KtCheck(Context, pages == pool->TotalPages, "total_pages",
                     "%s: %s pool: TotalPages is %lld but %u pages hold small blocks (one more for every page taken "
                     "for small blocks, one less for every page given back)", Label, KtPoolName(type),
                     (LONG64)pool->TotalPages, pages))
            return FALSE;
    }
    if (!Live)
        return TRUE;
    ULONG liveSmall = 0, liveBig = 0;
    for (ULONG i = 0; i < Count; i++) {
        const KT_LIVE *l = &Live[i];
        if (!l->Block)
            continue;
        if (l->Size > POOL_SMALL_LIMIT) {
            liveBig++;
            const POOL_TRACKER_BIG_PAGES *e = KtBigAt((ULONG_PTR)l->Block);
            ULONG pages = (ULONG)((l->Size + PAGE_SIZE - 1) / PAGE_SIZE);
            if (!e || e->Key != l->Tag || e->NumberOfPages != pages || e->PoolType != l->Type) {
                KtFail(Context, "live_blocks", "%s: the %s big allocation at %p (%llu bytes, %u pages, tag 0x%x) is %s",
                       Label, KtPoolName(l->Type), l->Block, (ULONG64)l->Size, pages, l->Tag,
                       e ? "recorded with another tag, page count or pool type" : "not in ExpPoolBigPageTable");
                return FALSE;
            }
            continue;
        }
        liveSmall++;
        PPOOL_HEADER h = (PPOOL_HEADER)l->Block - 1;
        PULONG marks = KtMarks((ULONG_PTR)h, FALSE);
        ULONG units = KtUnitsFor(l->Size);
        if (!marks || !(*marks & KT_ALLOCATED) || h->PoolType != l->Type + 1 || h->PoolTag != l->Tag ||
            (h->BlockSize != units && h->BlockSize != units + 1)) {
            KtFail(Context, "live_blocks", "%s: the %s block at %p (%llu bytes, tag 0x%x) %s; its header: BlockSize %u "
                   "(expected %u, or %u when the remainder was 1 unit), PoolType %u (expected %u), tag 0x%x", Label,
                   KtPoolName(l->Type), l->Block, (ULONG64)l->Size, l->Tag,
                   !marks || !(*marks & KT_ALLOCATED) ? "is not an allocated block of any pool page (handed out "
                                                        "twice, or its header was merged into a free block)"
                                                      : "has a wrong header",
                   h->BlockSize, units, units + 1, h->PoolType, l->Type + 1, h->PoolTag);
            return FALSE;
        }
    }
    return KtCheck(Context, allocated == liveSmall && KtBigCount == liveBig, "live_blocks",
                   "%s: the pools hold %u allocated small blocks and %u big allocations, the test holds %u and %u "
                   "(a block handed out that nobody asked for, or a freed one still marked allocated)", Label,
                   allocated, KtBigCount, liveSmall, liveBig);
}
