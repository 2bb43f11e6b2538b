/* map.c - lab 02: mapping and unmapping 4 KiB and 2 MiB pages. */
#include "arch.h"
#include "mm.h"

/*
 * MmMapPage - map one page at Va to frame Pfn in the address space of Pml4.
 *
 * Contract:
 *  - Without MM_MAP_LARGE: a 4 KiB page; Va must be 4 KiB aligned. With
 *    MM_MAP_LARGE: one 2 MiB page, entered in the page directory (LargePage 1); Va
 *    and Pfn must both be 2 MiB aligned (Pfn a multiple of MM_LARGE_PAGE_PFNS).
 *    A misaligned or non-canonical Va, a misaligned large Pfn, or MM_PROTECT_USER
 *    for a system address (Va > MM_HIGHEST_USER_ADDRESS): STATUS_INVALID_PARAMETER.
 *  - Missing tables are created (MiWalkPageTables with Create).
 *  - If the entry is already valid (a page, a large page, or a table where a large
 *    page should go): STATUS_CONFLICTING_ADDRESSES, nothing changes.
 *  - The new entry: Valid 1, PageFrameNumber Pfn, Write from MM_PROTECT_WRITE,
 *    Owner from MM_PROTECT_USER, NoExecute unless MM_PROTECT_EXECUTE.
 *  - Return STATUS_SUCCESS, or the walk's failure.
 */
NTSTATUS MmMapPage(PMMPTE Pml4, ULONG_PTR Va, PFN_NUMBER Pfn, ULONG Protect, ULONG Flags)
{
    /* LAB 02: check the arguments, walk with Create, fill in the leaf entry. */
    UNREFERENCED_PARAMETER(Pml4);
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Pfn);
    UNREFERENCED_PARAMETER(Protect);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MmUnmapPage - remove the page (4 KiB or 2 MiB) that maps Va.
 *
 * Contract:
 *  - Find the entry that maps Va: a PT entry, or a PD entry with LargePage 1. If
 *    some entry on the way is not valid, return STATUS_NOT_FOUND; a non-canonical
 *    Va is STATUS_INVALID_PARAMETER.
 *  - Set *Pfn to the frame it mapped (the first frame of a large page) and clear
 *    the entry. The frame itself is the caller's to free.
 *  - Free every page table that this leaves empty, bottom up (the PT, then the PD,
 *    then the PDPT; never the PML4): clear the entry that points to it and give its
 *    frame back with MmFreePhysicalPage.
 *  - If Pml4 is the active address space (MiCurrentPml4()), the TLB may still hold
 *    the old translation: invalidate it with __invlpg(Va) after the tables change.
 *  - Return STATUS_SUCCESS.
 */
NTSTATUS MmUnmapPage(PMMPTE Pml4, ULONG_PTR Va, PPFN_NUMBER Pfn)
{
    /* LAB 02: clear the leaf, free the tables left empty, invalidate the TLB. */
    UNREFERENCED_PARAMETER(Pml4);
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Pfn);
    return STATUS_NOT_IMPLEMENTED;
}
