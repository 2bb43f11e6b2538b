/* pooltrack.c - lab 03: per-tag accounting of pool use (what !poolused shows). */
#include "ex.h"

/* The slot of Tag in ExpPoolTrackTable, claiming an empty one if Create; NULL if
 * the tag is not there (or the table is full). */
static PPOOL_TRACKER_TABLE ExpFindTracker(ULONG Tag, BOOLEAN Create)
{
    ULONG i = (Tag * 40543U) & (POOL_TRACK_TABLE_SIZE - 1);
    for (ULONG probe = 0; probe < POOL_TRACK_TABLE_SIZE; probe++, i = (i + 1) & (POOL_TRACK_TABLE_SIZE - 1)) {
        PPOOL_TRACKER_TABLE t = &ExpPoolTrackTable[i];
        if (t->Key == Tag)
            return t;
        if (t->Key == 0) {
            if (!Create)
                return NULL;
            t->Key = Tag;
            return t;
        }
    }
    return NULL;
}

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
    PPOOL_TRACKER_TABLE t = ExpFindTracker(Tag, TRUE);
    if (!t)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->Allocs[PoolType]++;
    t->Bytes[PoolType] += Bytes;
    return STATUS_SUCCESS;
}

/*
 * ExpRemovePoolTracker - count one free of Bytes for Tag in PoolType: Frees += 1,
 * Bytes -= Bytes. STATUS_NOT_FOUND if the tag has no entry, else STATUS_SUCCESS.
 */
NTSTATUS ExpRemovePoolTracker(ULONG Tag, SIZE_T Bytes, POOL_TYPE PoolType)
{
    PPOOL_TRACKER_TABLE t = ExpFindTracker(Tag, FALSE);
    if (!t)
        return STATUS_NOT_FOUND;
    t->Frees[PoolType]++;
    t->Bytes[PoolType] -= Bytes;
    return STATUS_SUCCESS;
}
