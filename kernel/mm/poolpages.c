/* poolpages.c - MiAllocatePoolPages / MiFreePoolPages: runs of pages in the pool
 * regions of system space, each backed by a frame and mapped with lab 02's MmMapPage
 * in the kernel's address space. A bitmap per pool tracks which pages are in use.
 * Paged-pool pages carry MM_PTE_SOFTWARE_PAGEABLE in their PTE; fresh pages are poisoned
 * (ExPoisonMemory) so that the pool never runs on clean memory. The lab 01 and 02 calls
 * run under the PFN lock (MmPfnLock). */
#include "bugcodes.h"
#include "ex.h"
#include "ke.h"
#include "mi.h"
#include "rtl.h"

static ULONG64 MiPoolBitmap[2][MM_POOL_REGION_PAGES / 64];
static ULONG MiPoolHint[2];
static ULONG MiPoolLimit[2]; /* 1 + the highest page index ever handed out */

static ULONG_PTR MiPoolBase(ULONG PoolType)
{
    return PoolType ? MM_PAGED_POOL_START : MM_NONPAGED_POOL_START;
}

static BOOLEAN MiBit(ULONG PoolType, ULONG i) { return (MiPoolBitmap[PoolType][i / 64] >> (i % 64)) & 1; }
static VOID MiSetBit(ULONG PoolType, ULONG i, BOOLEAN v)
{
    if (v)
        MiPoolBitmap[PoolType][i / 64] |= 1ULL << (i % 64);
    else
        MiPoolBitmap[PoolType][i / 64] &= ~(1ULL << (i % 64));
}

BOOLEAN MiIsPoolPageInUse(ULONG PoolType, ULONG_PTR Va)
{
    ULONG_PTR base = MiPoolBase(PoolType);
    if (PoolType > 1 || Va < base || Va >= base + MM_POOL_REGION_PAGES * PAGE_SIZE)
        return FALSE;
    return MiBit(PoolType, (ULONG)((Va - base) >> PAGE_SHIFT));
}

ULONG MiPoolPageLimit(ULONG PoolType)
{
    return PoolType > 1 ? 0 : MiPoolLimit[PoolType];
}

PVOID MiAllocatePoolPages(ULONG PoolType, SIZE_T Pages)
{
    if (PoolType > 1 || Pages == 0 || Pages > MM_POOL_REGION_PAGES || !MmKernelPml4)
        return NULL;
    /* first fit from a rotating hint: single pages, the common case, are found fast */
    for (ULONG pass = 0; pass < 2; pass++) {
        ULONG start = pass ? 0 : MiPoolHint[PoolType];
        for (ULONG i = start; i + Pages <= MM_POOL_REGION_PAGES; i++) {
            if (MiPoolBitmap[PoolType][i / 64] == ~0ULL && i % 64 == 0) {
                i += 63;
                continue;
            }
            ULONG run = 0;
            while (run < Pages && !MiBit(PoolType, i + run))
                run++;
            if (run < Pages) {
                i += run;
                continue;
            }
            ULONG_PTR va = MiPoolBase(PoolType) + ((ULONG64)i << PAGE_SHIFT);
            for (ULONG p = 0; p < Pages; p++) {
                PFN_NUMBER pfn;
                KIRQL old;
                MiLockPfnDatabase(&old);
                BOOLEAN ok = NT_SUCCESS(MmAllocatePhysicalPage(0, &pfn)) &&
                             NT_SUCCESS(MmMapPage(MmKernelPml4, va + p * PAGE_SIZE, pfn, MM_PROTECT_WRITE, 0));
                MiUnlockPfnDatabase(old);
                if (!ok) {
                    MiFreePoolPages((PVOID)va, p); /* undo the pages mapped so far */
                    return NULL;
                }
                PMMPTE pte;
                if (PoolType == 1 && NT_SUCCESS(MiWalkPageTables(MmKernelPml4, va + p * PAGE_SIZE, MM_LEVEL_PT, FALSE,
                                                                 &pte)))
                    pte->Hard.SoftwareBits |= MM_PTE_SOFTWARE_PAGEABLE;
                MiSetBit(PoolType, i + p, TRUE);
                if (MiCurrentPml4() == MmKernelPml4) /* fresh pool memory is dirty, as real memory is */
                    ExPoisonMemory((PVOID)(va + p * PAGE_SIZE), PAGE_SIZE);
            }
            MiPoolHint[PoolType] = i + (ULONG)Pages;
            if (MiPoolLimit[PoolType] < i + (ULONG)Pages)
                MiPoolLimit[PoolType] = i + (ULONG)Pages;
            return (PVOID)va;
        }
    }
    return NULL;
}

VOID MiFreePoolPages(PVOID Va, SIZE_T Pages)
{
    ULONG type = (ULONG_PTR)Va >= MM_NONPAGED_POOL_START ? 0 : 1;
    ULONG first = (ULONG)(((ULONG_PTR)Va - MiPoolBase(type)) >> PAGE_SHIFT);
    for (SIZE_T p = 0; p < Pages; p++) {
        PFN_NUMBER pfn;
        KIRQL old;
        MiLockPfnDatabase(&old);
        if (MmUnmapPage(MmKernelPml4, (ULONG_PTR)Va + p * PAGE_SIZE, &pfn) == STATUS_SUCCESS)
            MmFreePhysicalPage(pfn);
        /* w16t: system space is the same in every address space, but lab 02's MmUnmapPage
         * flushes the translation only when MmKernelPml4 is the current PML4: from a process
         * (a system call) the stale entry would outlive the unmap until the next CR3 load,
         * which a switch between two threads of one process never does. */
        __invlpg((PVOID)((ULONG_PTR)Va + p * PAGE_SIZE));
        MiUnlockPfnDatabase(old);
        MiSetBit(type, first + (ULONG)p, FALSE);
    }
    if (first < MiPoolHint[type])
        MiPoolHint[type] = first;
}
