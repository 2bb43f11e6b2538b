/* pfnalloc.c - lab 01: allocating, freeing and zeroing physical frames. */
#include "bugcodes.h"
#include "ke.h"
#include "mm.h"
#include "rtl.h"

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
    /* LAB 01: take a frame off the zeroed or free list. */
    UNREFERENCED_PARAMETER(Flags);
    UNREFERENCED_PARAMETER(Pfn);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 01: check the frame is in use, then put it on the free list. */
    UNREFERENCED_PARAMETER(Pfn);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 01: find an aligned run of available frames below HighestPfn and take it. */
    UNREFERENCED_PARAMETER(Count);
    UNREFERENCED_PARAMETER(AlignmentPages);
    UNREFERENCED_PARAMETER(HighestPfn);
    UNREFERENCED_PARAMETER(BasePfn);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiZeroFreePages - the zero page thread's work: move up to MaxPages frames from
 * the head of the free list to the tail of the zeroed list, filling each with zeros.
 * *Zeroed = how many were moved (fewer when the free list runs out).
 * Return STATUS_SUCCESS.
 */
NTSTATUS MiZeroFreePages(PFN_NUMBER MaxPages, PPFN_NUMBER Zeroed)
{
    /* LAB 01: move frames from the free list to the zeroed list, zeroing each. */
    UNREFERENCED_PARAMETER(MaxPages);
    *Zeroed = 0;
    return STATUS_NOT_IMPLEMENTED;
}
