/* bigpages.c - lab 03: the table of big allocations (whole pages), by address. */
#include "ex.h"

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
    /* LAB 03: store the entry in the first usable slot of Va's probe sequence. */
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Tag);
    UNREFERENCED_PARAMETER(Pages);
    UNREFERENCED_PARAMETER(PoolType);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ExpFindAndRemoveTagBigPages - find the big allocation at Va, report its tag, size
 * and pool type, and remove it from the table (its slot becomes
 * POOL_BIG_TABLE_FREED). STATUS_NOT_FOUND if Va is not a big allocation (the probe
 * reached a never-used slot, or went all the way round). Otherwise STATUS_SUCCESS.
 */
NTSTATUS ExpFindAndRemoveTagBigPages(PVOID Va, PULONG Tag, PULONG Pages, POOL_TYPE *PoolType)
{
    /* LAB 03: probe for Va, report the entry and mark its slot freed. */
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Tag);
    UNREFERENCED_PARAMETER(Pages);
    UNREFERENCED_PARAMETER(PoolType);
    return STATUS_NOT_IMPLEMENTED;
}
