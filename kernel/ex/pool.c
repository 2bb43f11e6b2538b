/* pool.c - NT's pool interface (ExAllocatePoolWithTag and friends) over the lab 03
 * student code, the pool's data, and the !poolused dump. The student code is lock-free:
 * the framework holds the pool lock around it, at the caller's IRQL (its IRQL rules are
 * judged on the caller's IRQL), with interrupts disabled so that nothing preempts it. */
#include "ex.h"
#include "ke.h"
#include "rtl.h"

POOL_DESCRIPTOR ExpPoolDescriptors[POOL_TYPE_COUNT];
POOL_TRACKER_TABLE ExpPoolTrackTable[POOL_TRACK_TABLE_SIZE];
POOL_TRACKER_BIG_PAGES ExpPoolBigPageTable[POOL_BIG_TABLE_SIZE];
KSPIN_LOCK ExpPoolLock; /* both pools: they share the tag and big-page tables */

VOID ExInitializePool(VOID)
{
    for (ULONG t = 0; t < POOL_TYPE_COUNT; t++) {
        ExpPoolDescriptors[t].PoolType = (POOL_TYPE)t;
        for (ULONG i = 0; i < POOL_PAGE_UNITS; i++)
            InitializeListHead(&ExpPoolDescriptors[t].ListHeads[i]);
    }
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    PVOID block = NULL;
    ULONG64 flags;
    KiAcquireFrameworkLockAtCallerIrql(&ExpPoolLock, &flags);
    NTSTATUS status = ExpAllocatePool(PoolType, NumberOfBytes, Tag, &block);
    KiReleaseFrameworkLockAtCallerIrql(&ExpPoolLock, flags);
    return NT_SUCCESS(status) ? block : NULL;
}

VOID ExFreePoolWithTag(PVOID Block, ULONG Tag)
{
    ULONG64 flags;
    KiAcquireFrameworkLockAtCallerIrql(&ExpPoolLock, &flags);
    ExpFreePool(Block, Tag);
    KiReleaseFrameworkLockAtCallerIrql(&ExpPoolLock, flags);
}

VOID ExFreePool(PVOID Block)
{
    ExFreePoolWithTag(Block, 0);
}

VOID ExDumpPoolUsage(VOID)
{
    DbgPrint("!poolused  tag   nonpaged allocs/frees/bytes      paged allocs/frees/bytes\n");
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++) {
        const POOL_TRACKER_TABLE *t = &ExpPoolTrackTable[i];
        if (!t->Key)
            continue;
        CHAR tag[5];
        for (ULONG c = 0; c < 4; c++) {
            CHAR ch = (CHAR)(t->Key >> (8 * c));
            tag[c] = (ch >= 0x20 && ch < 0x7F) ? ch : '.';
        }
        tag[4] = 0;
        DbgPrint("!poolused  %s  %8d %8d %10llu  %8d %8d %10llu\n", tag, t->Allocs[0], t->Frees[0],
                 (ULONG64)t->Bytes[0], t->Allocs[1], t->Frees[1], (ULONG64)t->Bytes[1]);
    }
}
