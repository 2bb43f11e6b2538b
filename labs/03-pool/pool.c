/* pool.c - lab 03: the pool allocator: small blocks with POOL_HEADERs inside pool
 * pages, split on allocation and coalesced on free; big blocks on whole pages. */
#include "bugcodes.h"
#include "ex.h"
#include "ke.h"
#include "mm.h"
#include "rtl.h"

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
    /* LAB 03: check the IRQL, then a small block from the free lists or a new page, or big pages. */
    UNREFERENCED_PARAMETER(PoolType);
    UNREFERENCED_PARAMETER(NumberOfBytes);
    UNREFERENCED_PARAMETER(Tag);
    *Block = NULL;
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 03: check the header, the tag and the neighbours, then coalesce. */
    UNREFERENCED_PARAMETER(Block);
    UNREFERENCED_PARAMETER(Tag);
    return STATUS_NOT_IMPLEMENTED;
}
