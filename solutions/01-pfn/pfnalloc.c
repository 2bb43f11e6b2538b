/* pfnalloc.c - lab 01: allocating, freeing and zeroing physical frames. */
#include "bugcodes.h"
#include "ke.h"
#include "mm.h"
#include "rtl.h"

/* Takes frame Pfn off its list and marks it in use. */
static VOID MiTakePage(PFN_NUMBER Pfn)
{
    PMMPFN entry = MI_PFN_ELEMENT(Pfn);
    MiUnlinkPageFromList(Pfn);
    entry->PageLocation = ActiveAndValid;
    entry->ReferenceCount = 1;
}

/*
 * MmAllocatePhysicalPage - take one frame off the page lists.
 *
 * Contract:
 *  - With MM_ALLOCATE_ZEROED: take the first frame of the zeroed list; if it is
 *    empty, take the first frame of the free list and fill it with zeros. Without
 *    the flag: prefer the free list, then the zeroed list.
 *  - The frame leaves its list (MiUnlinkPageFromList) and is in use: PageLocation
 *    ActiveAndValid, ReferenceCount 1.
 *  - *Pfn = the frame; return STATUS_SUCCESS, or STATUS_NO_MEMORY (and leave *Pfn
 *    alone) when both lists are empty.
 */
NTSTATUS MmAllocatePhysicalPage(ULONG Flags, PPFN_NUMBER Pfn)
{
    BOOLEAN zeroed = (Flags & MM_ALLOCATE_ZEROED) != 0;
    MMLISTS first = zeroed ? ZeroedPageList : FreePageList;
    MMLISTS second = zeroed ? FreePageList : ZeroedPageList;
    MMLISTS from;

    if (MmPageListHeads[first].Total)
        from = first;
    else if (MmPageListHeads[second].Total)
        from = second;
    else
        return STATUS_NO_MEMORY;

    PFN_NUMBER pfn = MmPageListHeads[from].Flink;
    MiTakePage(pfn);
    if (zeroed && from != ZeroedPageList)
        RtlZeroMemory(MiPfnToVirtual(pfn), PAGE_SIZE);
    *Pfn = pfn;
    return STATUS_SUCCESS;
}

/*
 * MmFreePhysicalPage - give back a frame from MmAllocatePhysicalPage or
 * MmAllocateContiguousPages.
 *
 * Contract:
 *  - The frame goes to the tail of the free list (its contents are not zero).
 *  - A frame that is not in use (already on a list: a double free), is reserved, or
 *    lies above MmHighestPhysicalPage is a corrupt PFN:
 *    KeBugCheckEx(PFN_LIST_CORRUPT, PFN_LIST_CORRUPT_PFN_CORRUPT, Pfn, PageLocation,
 *    Reserved) (PageLocation and Reserved of the entry; both ~0 above the database).
 *  - Return STATUS_SUCCESS.
 */
NTSTATUS MmFreePhysicalPage(PFN_NUMBER Pfn)
{
    if (Pfn > MmHighestPhysicalPage)
        KeBugCheckEx(PFN_LIST_CORRUPT, PFN_LIST_CORRUPT_PFN_CORRUPT, Pfn, ~0ULL, ~0ULL);
    PMMPFN entry = MI_PFN_ELEMENT(Pfn);
    if (entry->PageLocation != ActiveAndValid || entry->Reserved)
        KeBugCheckEx(PFN_LIST_CORRUPT, PFN_LIST_CORRUPT_PFN_CORRUPT, Pfn, entry->PageLocation, entry->Reserved);
    MiInsertPageInList(FreePageList, Pfn);
    return STATUS_SUCCESS;
}

/* TRUE if frame Pfn is on the zeroed or free list. */
static BOOLEAN MiIsAvailable(PFN_NUMBER Pfn)
{
    PMMPFN entry = MI_PFN_ELEMENT(Pfn);
    return !entry->Reserved && (entry->PageLocation == ZeroedPageList || entry->PageLocation == FreePageList);
}

/*
 * MmAllocateContiguousPages - take Count physically consecutive frames.
 *
 * Contract:
 *  - Count >= 1; AlignmentPages is a power of two (1 = any frame); otherwise return
 *    STATUS_INVALID_PARAMETER.
 *  - Find a base frame that is a multiple of AlignmentPages such that every frame
 *    of [base, base + Count) is on the zeroed or free list and base + Count - 1 <=
 *    HighestPfn. Take them all (in use, ReferenceCount 1), *BasePfn = base, and
 *    return STATUS_SUCCESS. The contents are not zeroed.
 *  - If there is no such run, return STATUS_NO_MEMORY and change nothing.
 */
NTSTATUS MmAllocateContiguousPages(PFN_NUMBER Count, PFN_NUMBER AlignmentPages, PFN_NUMBER HighestPfn,
                                   PPFN_NUMBER BasePfn)
{
    if (Count == 0 || AlignmentPages == 0 || (AlignmentPages & (AlignmentPages - 1)) != 0)
        return STATUS_INVALID_PARAMETER;
    PFN_NUMBER limit = HighestPfn < MmHighestPhysicalPage ? HighestPfn : MmHighestPhysicalPage;

    for (PFN_NUMBER base = 0; base + Count - 1 <= limit;) {
        PFN_NUMBER i = 0;
        while (i < Count && MiIsAvailable(base + i))
            i++;
        if (i == Count) {
            for (i = 0; i < Count; i++)
                MiTakePage(base + i);
            *BasePfn = base;
            return STATUS_SUCCESS;
        }
        /* frame base + i is taken: the next candidate starts past it */
        base = ALIGN_UP(base + i + 1, AlignmentPages);
    }
    return STATUS_NO_MEMORY;
}

/*
 * MiZeroFreePages - the zero page thread's work: move up to MaxPages frames from
 * the head of the free list to the tail of the zeroed list, filling each with zeros.
 * *Zeroed = how many were moved (fewer when the free list runs out).
 * Return STATUS_SUCCESS.
 */
NTSTATUS MiZeroFreePages(PFN_NUMBER MaxPages, PPFN_NUMBER Zeroed)
{
    PFN_NUMBER n = 0;
    while (n < MaxPages && MmPageListHeads[FreePageList].Total) {
        PFN_NUMBER pfn = MmPageListHeads[FreePageList].Flink;
        MiUnlinkPageFromList(pfn);
        RtlZeroMemory(MiPfnToVirtual(pfn), PAGE_SIZE);
        MiInsertPageInList(ZeroedPageList, pfn);
        n++;
    }
    *Zeroed = n;
    return STATUS_SUCCESS;
}
