/* pooltrack.c - lab 03: per-tag accounting of pool use (what !poolused shows). */
#include "ex.h"

/*
 * ExpInsertPoolTracker - count one allocation of Bytes for Tag in PoolType.
 *
 * Contract:
 *  - ExpPoolTrackTable is an open-addressing hash table keyed by tag (Key 0 = empty
 *    slot; entries are never removed). Find Tag's entry, or claim the first empty
 *    slot of its probe sequence (it starts at a hash of the tag, steps by one and
 *    wraps around).
 *  - Allocs[PoolType] += 1, Bytes[PoolType] += Bytes. STATUS_SUCCESS, or
 *    STATUS_INSUFFICIENT_RESOURCES when the tag is new and the table is full.
 */
NTSTATUS ExpInsertPoolTracker(ULONG Tag, SIZE_T Bytes, POOL_TYPE PoolType)
{
    /* LAB 03: find or claim the tag's slot and count the allocation. */
    UNREFERENCED_PARAMETER(Tag);
    UNREFERENCED_PARAMETER(Bytes);
    UNREFERENCED_PARAMETER(PoolType);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ExpRemovePoolTracker - count one free of Bytes for Tag in PoolType: Frees += 1,
 * Bytes -= Bytes. STATUS_NOT_FOUND if the tag has no entry, else STATUS_SUCCESS.
 */
NTSTATUS ExpRemovePoolTracker(ULONG Tag, SIZE_T Bytes, POOL_TYPE PoolType)
{
    /* LAB 03: find the tag's slot and count the free. */
    UNREFERENCED_PARAMETER(Tag);
    UNREFERENCED_PARAMETER(Bytes);
    UNREFERENCED_PARAMETER(PoolType);
    return STATUS_NOT_IMPLEMENTED;
}
