/* pool.c - lab 03: the pool allocator: small blocks with POOL_HEADERs inside pool
 * pages, split on allocation and coalesced on free; big blocks on whole pages. */
#include "bugcodes.h"
#include "ex.h"
#include "ke.h"
#include "mm.h"
#include "rtl.h"

#define POOL_UNITS(h) ((h)->BlockSize)
#define POOL_NEXT(h) ((PPOOL_HEADER)((PUCHAR)(h) + (h)->BlockSize * POOL_BLOCK_SIZE))
#define POOL_PREV(h) ((PPOOL_HEADER)((PUCHAR)(h) - (h)->PreviousSize * POOL_BLOCK_SIZE))
#define POOL_PAGE_OF(h) ((ULONG_PTR)(h) & ~(PAGE_SIZE - 1))
#define POOL_PAGE_END(h) (POOL_PAGE_OF(h) + PAGE_SIZE)

/* Marks Header as a free block of Units and puts it on its list; the block after it
 * (if any, in the same page) learns its new PreviousSize. */
static VOID ExpInsertFreeBlock(PPOOL_DESCRIPTOR Pool, PPOOL_HEADER Header, ULONG Units)
{
    Header->BlockSize = Units;
    Header->PoolIndex = 0;
    Header->PoolType = 0;
    Header->ProcessBilled = 0;
    InsertTailList(&Pool->ListHeads[Units], POOL_FREE_LINKS(Header));
    PPOOL_HEADER next = POOL_NEXT(Header);
    if ((ULONG_PTR)next < POOL_PAGE_END(Header))
        next->PreviousSize = Units;
}

/*
 * ExpAllocatePool - allocate NumberOfBytes of PoolType pool tagged Tag.
 *
 * Contract:
 *  - IRQL: PagedPool needs IRQL <= APC_LEVEL, NonPagedPool IRQL <= DISPATCH_LEVEL;
 *    otherwise KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_ALLOCATE_IRQL, irql,
 *    PoolType, NumberOfBytes). A PoolType other than the two: STATUS_INVALID_PARAMETER.
 *  - Small (NumberOfBytes <= POOL_SMALL_LIMIT): the block takes
 *    units = max(POOL_MIN_BLOCK_UNITS, ceil((NumberOfBytes + 16) / 16)). Take a
 *    free block of at least that many units from the descriptor's ListHeads (the
 *    first block, Flink, of the smallest size that has one); if it has
 *    POOL_MIN_BLOCK_UNITS or more to spare, split it: the front becomes the
 *    allocation, the rest a free block at the tail of its list.
 *    With no free block big enough, get a page (MiAllocatePoolPages(PoolType, 1)),
 *    put the block at its start and the rest of the page at the tail of its list.
 *    The block's header: BlockSize, PreviousSize (0 at the start of a page, and the
 *    next block's PreviousSize kept right), PoolType + 1, Tag. *Block = the byte
 *    after the header (16-byte aligned). Count it with ExpInsertPoolTracker(Tag,
 *    BlockSize * 16, PoolType) and RunningAllocs; a new page adds one to TotalPages.
 *  - Big (more than POOL_SMALL_LIMIT): ceil(NumberOfBytes / PAGE_SIZE) whole pages
 *    from MiAllocatePoolPages, no header; record them with ExpAddTagForBigPages
 *    (give the pages back if that fails), count Pages * PAGE_SIZE bytes for the
 *    tag, and add Pages to TotalBigPages. *Block = the first page.
 *  - No page or no room: STATUS_INSUFFICIENT_RESOURCES. Otherwise STATUS_SUCCESS.
 *  - Allocation must not take longer as more blocks are live: no walk over all pool
 *    pages or all blocks.
 */
NTSTATUS ExpAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, PVOID *Block)
{
    if (PoolType != NonPagedPool && PoolType != PagedPool)
        return STATUS_INVALID_PARAMETER;
    KIRQL irql = KeGetCurrentIrql();
    if (irql > (PoolType == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))
        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_ALLOCATE_IRQL, irql, PoolType, NumberOfBytes);
    PPOOL_DESCRIPTOR pool = &ExpPoolDescriptors[PoolType];

    if (NumberOfBytes > POOL_SMALL_LIMIT) {
        SIZE_T pages = (NumberOfBytes + PAGE_SIZE - 1) / PAGE_SIZE;
        PVOID va = MiAllocatePoolPages(PoolType, pages);
        if (!va)
            return STATUS_INSUFFICIENT_RESOURCES;
        if (!NT_SUCCESS(ExpAddTagForBigPages(va, Tag, (ULONG)pages, PoolType))) {
            MiFreePoolPages(va, pages);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        ExpInsertPoolTracker(Tag, pages * PAGE_SIZE, PoolType);
        pool->TotalBigPages += pages;
        pool->RunningAllocs++;
        *Block = va;
        return STATUS_SUCCESS;
    }

    ULONG units = (ULONG)((NumberOfBytes + sizeof(POOL_HEADER) + POOL_BLOCK_SIZE - 1) / POOL_BLOCK_SIZE);
    if (units < POOL_MIN_BLOCK_UNITS)
        units = POOL_MIN_BLOCK_UNITS;

    PPOOL_HEADER header = NULL;
    for (ULONG size = units; size < POOL_PAGE_UNITS; size++) {
        if (!IsListEmpty(&pool->ListHeads[size])) {
            PLIST_ENTRY links = pool->ListHeads[size].Flink;
            RemoveEntryList(links);
            header = (PPOOL_HEADER)links - 1;
            break;
        }
    }
    if (!header) {
        header = MiAllocatePoolPages(PoolType, 1);
        if (!header)
            return STATUS_INSUFFICIENT_RESOURCES;
        pool->TotalPages++;
        header->PreviousSize = 0;
        header->PoolIndex = 0;
        header->BlockSize = units;
        ExpInsertFreeBlock(pool, POOL_NEXT(header), POOL_PAGE_UNITS - units);
        POOL_NEXT(header)->PreviousSize = units;
        POOL_NEXT(header)->PoolTag = 0;
    } else if (header->BlockSize - units >= POOL_MIN_BLOCK_UNITS) {
        ULONG rest = header->BlockSize - units;
        header->BlockSize = units;
        PPOOL_HEADER tail = POOL_NEXT(header);
        tail->PreviousSize = units;
        tail->PoolIndex = 0;
        tail->PoolTag = 0;
        ExpInsertFreeBlock(pool, tail, rest);
    }
    header->PoolType = PoolType + 1;
    header->PoolTag = Tag;
    header->ProcessBilled = 0;
    ExpInsertPoolTracker(Tag, header->BlockSize * POOL_BLOCK_SIZE, PoolType);
    pool->RunningAllocs++;
    *Block = header + 1;
    return STATUS_SUCCESS;
}

/*
 * ExpFreePool - free a block from ExpAllocatePool. Tag 0 skips the tag check.
 *
 * Contract:
 *  - A page-aligned Block is a big allocation: ExpFindAndRemoveTagBigPages finds it
 *    (not found: KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, 0,
 *    Block)); check the IRQL and the tag as below, uncount its bytes and pages
 *    (TotalBigPages), MiFreePoolPages.
 *  - Otherwise the header is just before Block:
 *    - a free header (PoolType 0): a double free, BAD_POOL_CALLER
 *      BAD_POOL_CALLER_DOUBLE_FREE, 0, the header's first 8 bytes, Block;
 *    - IRQL above what the block's pool allows (see ExpAllocatePool):
 *      BAD_POOL_CALLER BAD_POOL_CALLER_FREE_IRQL, irql, pool type, Block;
 *    - Tag != 0 and != the header's tag: BAD_POOL_CALLER BAD_POOL_CALLER_WRONG_TAG,
 *      Block, the header's tag, Tag;
 *    - the block after it in the page does not have PreviousSize == this BlockSize
 *      (someone wrote past the end of this block), or the block before it does not
 *      have BlockSize == this PreviousSize: KeBugCheckEx(BAD_POOL_HEADER,
 *      BAD_POOL_HEADER_SIZE_CORRUPT, the header, the neighbouring header, 0).
 *  - Uncount it (ExpRemovePoolTracker with the header's tag, RunningDeAllocs), then
 *    coalesce: merge it with the next block and with the previous block when they
 *    are free (taking them off their lists). If the merged block is the whole page,
 *    give the page back (MiFreePoolPages, one less in TotalPages); otherwise put it
 *    at the tail of the list of its size (the free lists are FIFO)
 *    and fix the following block's PreviousSize. No two free blocks may ever be
 *    neighbours.
 *  - Return STATUS_SUCCESS.
 */
NTSTATUS ExpFreePool(PVOID Block, ULONG Tag)
{
    KIRQL irql = KeGetCurrentIrql();

    if (((ULONG_PTR)Block & (PAGE_SIZE - 1)) == 0) {
        ULONG tag, pages;
        POOL_TYPE type;
        if (!NT_SUCCESS(ExpFindAndRemoveTagBigPages(Block, &tag, &pages, &type)))
            KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, 0, (ULONG_PTR)Block);
        if (irql > (type == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))
            KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_FREE_IRQL, irql, type, (ULONG_PTR)Block);
        if (Tag && Tag != tag)
            KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_WRONG_TAG, (ULONG_PTR)Block, tag, Tag);
        ExpRemovePoolTracker(tag, (SIZE_T)pages * PAGE_SIZE, type);
        ExpPoolDescriptors[type].TotalBigPages -= pages;
        ExpPoolDescriptors[type].RunningDeAllocs++;
        MiFreePoolPages(Block, pages);
        return STATUS_SUCCESS;
    }

    PPOOL_HEADER header = (PPOOL_HEADER)Block - 1;
    if (header->PoolType == 0)
        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, *(PULONG64)header, (ULONG_PTR)Block);
    POOL_TYPE type = (POOL_TYPE)(header->PoolType - 1);
    if (irql > (type == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))
        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_FREE_IRQL, irql, type, (ULONG_PTR)Block);
    if (Tag && Tag != header->PoolTag)
        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_WRONG_TAG, (ULONG_PTR)Block, header->PoolTag, Tag);

    PPOOL_HEADER next = POOL_NEXT(header);
    BOOLEAN hasNext = (ULONG_PTR)next < POOL_PAGE_END(header);
    if (hasNext && next->PreviousSize != header->BlockSize)
        KeBugCheckEx(BAD_POOL_HEADER, BAD_POOL_HEADER_SIZE_CORRUPT, (ULONG_PTR)header, (ULONG_PTR)next, 0);
    PPOOL_HEADER prev = header->PreviousSize ? POOL_PREV(header) : NULL;
    if (prev && prev->BlockSize != header->PreviousSize)
        KeBugCheckEx(BAD_POOL_HEADER, BAD_POOL_HEADER_SIZE_CORRUPT, (ULONG_PTR)header, (ULONG_PTR)prev, 0);

    PPOOL_DESCRIPTOR pool = &ExpPoolDescriptors[type];
    ExpRemovePoolTracker(header->PoolTag, header->BlockSize * POOL_BLOCK_SIZE, type);
    pool->RunningDeAllocs++;

    ULONG units = header->BlockSize;
    if (hasNext && next->PoolType == 0) {
        RemoveEntryList(POOL_FREE_LINKS(next));
        units += next->BlockSize;
    }
    if (prev && prev->PoolType == 0) {
        RemoveEntryList(POOL_FREE_LINKS(prev));
        units += prev->BlockSize;
        header = prev;
    }
    if (units == POOL_PAGE_UNITS) {
        pool->TotalPages--;
        MiFreePoolPages((PVOID)POOL_PAGE_OF(header), 1);
        return STATUS_SUCCESS;
    }
    ExpInsertFreeBlock(pool, header, units);
    return STATUS_SUCCESS;
}
