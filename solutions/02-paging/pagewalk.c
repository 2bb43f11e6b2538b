/* pagewalk.c - lab 02: walking the four levels of page tables. */
#include "mm.h"

/*
 * MiWalkPageTables - find the entry that maps Va at a given level.
 *
 * Pml4 is the top table of an address space (a VA in the physical map). Level is
 * MM_LEVEL_PML4 (4), MM_LEVEL_PDPT (3), MM_LEVEL_PD (2) or MM_LEVEL_PT (1).
 *
 * Contract:
 *  - Starting with the PML4, follow the entry for Va (MiTableIndex(Va, level)) down
 *    to the table of Level, and set *Pte to Va's entry in that table (valid or not).
 *    A table's entry gives the next table's frame (PageFrameNumber); reach it
 *    through the physical map (MiPfnToVirtual).
 *  - A missing table (an entry on the way with Valid 0): if Create, allocate a
 *    zeroed frame (MmAllocatePhysicalPage with MM_ALLOCATE_ZEROED) and point the
 *    entry at it: Valid 1, Write 1, Owner 1 only for a user address (Va <=
 *    MM_HIGHEST_USER_ADDRESS), NoExecute 0; the leaf entry decides the access. If
 *    not Create, return STATUS_NOT_FOUND. If no frame is left, STATUS_NO_MEMORY.
 *  - An entry on the way that maps a large page (LargePage 1) has no table below:
 *    return STATUS_CONFLICTING_ADDRESSES.
 *  - Va not canonical, or Level outside 1..4: STATUS_INVALID_PARAMETER.
 *  - Otherwise STATUS_SUCCESS.
 */
NTSTATUS MiWalkPageTables(PMMPTE Pml4, ULONG_PTR Va, ULONG Level, BOOLEAN Create, PMMPTE *Pte)
{
    if (!MiIsCanonical(Va) || Level < MM_LEVEL_PT || Level > MM_LEVEL_PML4)
        return STATUS_INVALID_PARAMETER;

    PMMPTE table = Pml4;
    for (ULONG level = MM_LEVEL_PML4; level > Level; level--) {
        PMMPTE entry = &table[MiTableIndex(Va, level)];
        if (!entry->Hard.Valid) {
            if (!Create)
                return STATUS_NOT_FOUND;
            PFN_NUMBER pfn;
            if (!NT_SUCCESS(MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pfn)))
                return STATUS_NO_MEMORY;
            MMPTE next = {0};
            next.Hard.Valid = 1;
            next.Hard.Write = 1;
            next.Hard.Owner = Va <= MM_HIGHEST_USER_ADDRESS;
            next.Hard.PageFrameNumber = pfn;
            MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)entry;
            entry->Long = next.Long;
        } else if (entry->Hard.LargePage) {
            return STATUS_CONFLICTING_ADDRESSES;
        }
        table = MiPfnToVirtual(entry->Hard.PageFrameNumber);
    }
    *Pte = &table[MiTableIndex(Va, Level)];
    return STATUS_SUCCESS;
}
