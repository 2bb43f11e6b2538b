/* pool.c - NT's pool interface (ExAllocatePoolWithTag and friends) over the lab 03
 * student code, the pool's data, and the !poolused dump. The student code is lock-free:
 * the framework holds the pool lock around it, at the caller's IRQL (its IRQL rules are
 * judged on the caller's IRQL), with interrupts disabled so that nothing preempts it. */
#include "ex.h"
#include "ke.h"
#include "mm.h"
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

static ULONG64 ExpPoisonPattern = 0xC3D5E7F9A1B3C5D7ULL;

VOID ExSetPoolPoison(ULONG64 Seed)
{
    ULONG64 state = Seed ^ 0x506F6F6C506F6973ULL, r = RtlSplitMix64(&state), p = 0;
    for (ULONG i = 0; i < 8; i++)
        p |= (((r >> (8 * i)) & 0x7F) | 0x81) << (8 * i);
    ExpPoisonPattern = p;
}

ULONG64 ExPoolPoisonPattern(VOID)
{
    return ExpPoisonPattern;
}

VOID ExPoisonMemory(PVOID Va, SIZE_T Bytes)
{
    PUCHAR p = Va;
    for (SIZE_T i = 0; i < Bytes; i++)
        p[i] = (UCHAR)(ExpPoisonPattern >> (8 * (((ULONG_PTR)p + i) & 7)));
}

VOID ExPoisonBlockForFree(PVOID Block)
{
    ULONG_PTR va = (ULONG_PTR)Block;
    ULONG type = va >= MM_NONPAGED_POOL_START ? NonPagedPool : PagedPool;
    if (!MiIsPoolPageInUse(type, va))
        return;
    if ((va & (PAGE_SIZE - 1)) == 0) {
        for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++) {
            const POOL_TRACKER_BIG_PAGES *e = &ExpPoolBigPageTable[i];
            if (e->Va != Block)
                continue;
            for (ULONG p = 0; p < e->NumberOfPages && MiIsPoolPageInUse(type, va + p * PAGE_SIZE); p++)
                ExPoisonMemory((PVOID)(va + p * PAGE_SIZE), PAGE_SIZE);
            return;
        }
        return;
    }
    const POOL_HEADER *h = (const POOL_HEADER *)Block - 1;
    ULONG_PTR end = va + ((ULONG_PTR)h->BlockSize - 1) * POOL_BLOCK_SIZE;
    if ((va & (POOL_BLOCK_SIZE - 1)) || h->PoolType != type + 1 || h->BlockSize < POOL_MIN_BLOCK_UNITS ||
        end > ((va - 1) & ~(PAGE_SIZE - 1)) + PAGE_SIZE)
        return;
    ExPoisonMemory(Block, end - va);
}

VOID ExFreePoolWithTag(PVOID Block, ULONG Tag)
{
    ULONG64 flags;
    KiAcquireFrameworkLockAtCallerIrql(&ExpPoolLock, &flags);
    ExPoisonBlockForFree(Block);
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
