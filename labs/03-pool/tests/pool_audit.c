/* pool_audit.c - the lab 03 auditor: checks pool pages and free lists against the
 * POOL_HEADER rules, independently of the student's code. */
#include "mm.h"
#include "pool_audit.h"
#include "rtl.h"

BOOLEAN KtPoolReady(PKTEST_CONTEXT Context)
{
    PVOID block = NULL;
    NTSTATUS status = ExpAllocatePool(NonPagedPool, 24, POOL_TAG('K', 't', 'R', 'd'), &block);
    if (!KtRequireImplemented(Context, status, "ExpAllocatePool", "lab 03"))
        return FALSE;
    if (!KtCheck(Context, status == STATUS_SUCCESS && block, "first_allocation",
                 "a first 24-byte allocation returned 0x%08X%s", (ULONG)status,
                 MmKernelPml4 ? "" : " (the kernel has no address space of its own: labs 01 and 02 come first)"))
        return FALSE;
    status = ExpFreePool(block, POOL_TAG('K', 't', 'R', 'd'));
    return KtRequireImplemented(Context, status, "ExpFreePool", "lab 03");
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

/* Free blocks seen on the lists, to match against the pages. */
static ULONG_PTR KtFreeBlocks[8192];
static ULONG KtFreeCount;

static BOOLEAN KtIsListedFree(ULONG_PTR Header)
{
    for (ULONG i = 0; i < KtFreeCount; i++)
        if (KtFreeBlocks[i] == Header)
            return TRUE;
    return FALSE;
}

static BOOLEAN KtAuditPage(PKTEST_CONTEXT Context, PCSTR Label, ULONG Type, ULONG_PTR Page, PULONG FreeOnPages)
{
    ULONG units = 0, prevSize = 0, offset = 0;
    BOOLEAN prevFree = FALSE;
    while (offset < PAGE_SIZE) {
        PPOOL_HEADER h = (PPOOL_HEADER)(Page + offset);
        if (h->BlockSize < POOL_MIN_BLOCK_UNITS || units + h->BlockSize > POOL_PAGE_UNITS) {
            KtFail(Context, "block_sizes", "%s: pool page %p: the block at offset 0x%x has BlockSize %u, which %s",
                   Label, (PVOID)Page, offset, h->BlockSize,
                   h->BlockSize < POOL_MIN_BLOCK_UNITS ? "is too small" : "runs past the end of the page");
            return FALSE;
        }
        if (h->PreviousSize != prevSize) {
            KtFail(Context, "previous_size", "%s: pool page %p: the block at offset 0x%x has PreviousSize %u, but the "
                   "block before it has BlockSize %u", Label, (PVOID)Page, offset, h->PreviousSize, prevSize);
            return FALSE;
        }
        BOOLEAN free = h->PoolType == 0;
        if (!free && h->PoolType != Type + 1) {
            KtFail(Context, "pool_type", "%s: pool page %p: the block at offset 0x%x has PoolType %u in the %s pool",
                   Label, (PVOID)Page, offset, h->PoolType, Type ? "paged" : "nonpaged");
            return FALSE;
        }
        if (free && prevFree) {
            KtFail(Context, "coalesced", "%s: pool page %p: free blocks at offsets 0x%x and 0x%x are neighbours (they "
                   "should have been merged)", Label, (PVOID)Page, offset - prevSize * POOL_BLOCK_SIZE, offset);
            return FALSE;
        }
        if (free) {
            if (!KtIsListedFree((ULONG_PTR)h)) {
                KtFail(Context, "free_listed", "%s: pool page %p: the free block at offset 0x%x (%u units) is on no "
                       "free list", Label, (PVOID)Page, offset, h->BlockSize);
                return FALSE;
            }
            (*FreeOnPages)++;
        }
        prevFree = free;
        prevSize = h->BlockSize;
        units += h->BlockSize;
        offset = units * POOL_BLOCK_SIZE;
    }
    if (units != POOL_PAGE_UNITS) {
        KtFail(Context, "block_sizes", "%s: pool page %p: block sizes add up to %u units, not %u", Label, (PVOID)Page,
               units, POOL_PAGE_UNITS);
        return FALSE;
    }
    return TRUE;
}

BOOLEAN KtPoolAudit(PKTEST_CONTEXT Context, PCSTR Label)
{
    for (ULONG type = 0; type < POOL_TYPE_COUNT; type++) {
        PPOOL_DESCRIPTOR pool = &ExpPoolDescriptors[type];
        KtFreeCount = 0;
        for (ULONG size = 0; size < POOL_PAGE_UNITS; size++) {
            PLIST_ENTRY head = &pool->ListHeads[size];
            for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
                PPOOL_HEADER h = (PPOOL_HEADER)e - 1;
                if (h->PoolType != 0 || h->BlockSize != size || !MiIsPoolPageInUse(type, (ULONG_PTR)h) ||
                    e->Flink->Blink != e) {
                    KtFail(Context, "free_lists", "%s: %s pool ListHeads[%u] holds the block at %p with BlockSize %u, "
                           "PoolType %u%s", Label, type ? "paged" : "nonpaged", size, (PVOID)h, h->BlockSize,
                           h->PoolType, MiIsPoolPageInUse(type, (ULONG_PTR)h) ? "" : " in a page the pool gave back");
                    return FALSE;
                }
                if (KtFreeCount < ARRAYSIZE(KtFreeBlocks))
                    KtFreeBlocks[KtFreeCount++] = (ULONG_PTR)h;
            }
        }
        ULONG freeOnPages = 0, pages = 0;
        ULONG_PTR base = type ? MM_PAGED_POOL_START : MM_NONPAGED_POOL_START;
        for (ULONG i = 0; i < MM_POOL_REGION_PAGES; i++) {
            ULONG_PTR page = base + ((ULONG64)i << PAGE_SHIFT);
            if (!MiIsPoolPageInUse(type, page))
                continue;
            const POOL_TRACKER_BIG_PAGES *big = KtFindBigPage((PVOID)page);
            if (big) {
                i += big->NumberOfPages - 1;
                continue;
            }
            pages++;
            if (!KtAuditPage(Context, Label, type, page, &freeOnPages))
                return FALSE;
        }
        if (!KtCheck(Context, freeOnPages == KtFreeCount && pages == pool->TotalPages, "pool_totals",
                     "%s: %s pool: %u free blocks on the lists but %u in the pages; TotalPages %llu, pages found %u",
                     Label, type ? "paged" : "nonpaged", KtFreeCount, freeOnPages, (ULONG64)pool->TotalPages, pages))
            return FALSE;
    }
    return TRUE;
}
