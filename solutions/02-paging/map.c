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
    BOOLEAN large = (Flags & MM_MAP_LARGE) != 0;
    ULONG64 size = large ? MM_LARGE_PAGE_SIZE : PAGE_SIZE;

    if (!MiIsCanonical(Va) || (Va & (size - 1)) != 0 || (large && (Pfn & (MM_LARGE_PAGE_PFNS - 1)) != 0))
        return STATUS_INVALID_PARAMETER;
    if ((Protect & MM_PROTECT_USER) && Va > MM_HIGHEST_USER_ADDRESS)
        return STATUS_INVALID_PARAMETER;

    PMMPTE pte;
    NTSTATUS status = MiWalkPageTables(Pml4, Va, large ? MM_LEVEL_PD : MM_LEVEL_PT, TRUE, &pte);
    if (!NT_SUCCESS(status))
        return status;
    if (pte->Hard.Valid)
        return STATUS_CONFLICTING_ADDRESSES;

    MMPTE entry = {0};
    entry.Hard.Valid = 1;
    entry.Hard.Write = (Protect & MM_PROTECT_WRITE) != 0;
    entry.Hard.Owner = (Protect & MM_PROTECT_USER) != 0;
    entry.Hard.LargePage = large;
    entry.Hard.NoExecute = (Protect & MM_PROTECT_EXECUTE) == 0;
    entry.Hard.PageFrameNumber = Pfn;
    pte->Long = entry.Long;
    return STATUS_SUCCESS;
}

/* TRUE if no entry of the table is valid. */
static BOOLEAN MiIsTableEmpty(const MMPTE *Table)
{
    for (ULONG i = 0; i < MM_PTES_PER_TABLE; i++)
        if (Table[i].Hard.Valid)
            return FALSE;
    return TRUE;
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
    if (!MiIsCanonical(Va))
        return STATUS_INVALID_PARAMETER;

    PMMPTE entries[MM_LEVEL_PML4 + 1];
    PMMPTE table = Pml4;
    ULONG leaf = MM_LEVEL_PML4;
    for (;; leaf--) {
        entries[leaf] = &table[MiTableIndex(Va, leaf)];
        if (!entries[leaf]->Hard.Valid)
            return STATUS_NOT_FOUND;
        if (leaf == MM_LEVEL_PT || (leaf <= MM_LEVEL_PDPT && entries[leaf]->Hard.LargePage))
            break;
        table = MiPfnToVirtual(entries[leaf]->Hard.PageFrameNumber);
    }

    *Pfn = entries[leaf]->Hard.PageFrameNumber;
    entries[leaf]->Long = 0;

    /* entries[level] lies in the table that entries[level + 1] points to */
    for (ULONG level = leaf; level < MM_LEVEL_PML4; level++) {
        const MMPTE *holder = (const MMPTE *)ALIGN_DOWN((ULONG64)entries[level], PAGE_SIZE);
        if (!MiIsTableEmpty(holder))
            break;
        PFN_NUMBER tablePfn = entries[level + 1]->Hard.PageFrameNumber;
        entries[level + 1]->Long = 0;
        MmFreePhysicalPage(tablePfn);
    }

    if (Pml4 == MiCurrentPml4())
        __invlpg((PVOID)Va);
    return STATUS_SUCCESS;
}
