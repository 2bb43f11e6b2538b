/* bigpages.c - lab 03: the table of big allocations (whole pages), by address. */
#include "ex.h"

static ULONG ExpBigPageHash(PVOID Va)
{
    return (ULONG)(((ULONG_PTR)Va >> 12) * 2654435761ULL) & (POOL_BIG_TABLE_SIZE - 1);
}

/*
 * ExpAddTagForBigPages - remember that the big allocation at Va (page aligned) has
 * Pages pages of PoolType and the tag Tag.
 *
 * Contract:
 *  - ExpPoolBigPageTable is an open-addressing hash table of POOL_BIG_TABLE_SIZE
 *    slots (a power of two). A slot with Va NULL has never been used; a slot with
 *    Va POOL_BIG_TABLE_FREED held an entry that was removed (keep probing past it
 *    when searching; it may be reused when adding).
 *  - Store the entry in the first usable slot of Va's probe sequence (start at a
 *    hash of the page number, step by one, wrap around).
 *  - STATUS_INSUFFICIENT_RESOURCES if every slot is taken, else STATUS_SUCCESS.
 *  - Expected O(1): never scan the whole table when it has room near the hash.
 */
NTSTATUS ExpAddTagForBigPages(PVOID Va, ULONG Tag, ULONG Pages, POOL_TYPE PoolType)
{
    ULONG i = ExpBigPageHash(Va);
    for (ULONG probe = 0; probe < POOL_BIG_TABLE_SIZE; probe++, i = (i + 1) & (POOL_BIG_TABLE_SIZE - 1)) {
        PPOOL_TRACKER_BIG_PAGES slot = &ExpPoolBigPageTable[i];
        if (slot->Va == NULL || slot->Va == POOL_BIG_TABLE_FREED) {
            slot->Va = Va;
            slot->Key = Tag;
            slot->NumberOfPages = Pages;
            slot->PoolType = PoolType;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_INSUFFICIENT_RESOURCES;
}

/*
 * ExpFindAndRemoveTagBigPages - find the big allocation at Va, report its tag, size
 * and pool type, and remove it from the table (its slot becomes
 * POOL_BIG_TABLE_FREED). STATUS_NOT_FOUND if Va is not a big allocation (the probe
 * reached a never-used slot, or went all the way round). Otherwise STATUS_SUCCESS.
 */
NTSTATUS ExpFindAndRemoveTagBigPages(PVOID Va, PULONG Tag, PULONG Pages, POOL_TYPE *PoolType)
{
    ULONG i = ExpBigPageHash(Va);
    for (ULONG probe = 0; probe < POOL_BIG_TABLE_SIZE; probe++, i = (i + 1) & (POOL_BIG_TABLE_SIZE - 1)) {
        PPOOL_TRACKER_BIG_PAGES slot = &ExpPoolBigPageTable[i];
        if (slot->Va == NULL)
            break;
        if (slot->Va == Va) {
            *Tag = slot->Key;
            *Pages = slot->NumberOfPages;
            *PoolType = slot->PoolType;
            slot->Va = POOL_BIG_TABLE_FREED;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NOT_FOUND;
}
