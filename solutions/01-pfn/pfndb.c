/* pfndb.c - lab 01: building the PFN database from the boot memory description. */
#include "mm.h"
#include "rtl.h"

/* TRUE if frame Pfn lies in one of the boot's reserved ranges. */
static BOOLEAN MiIsBootReserved(const MM_BOOT_MEMORY *Boot, PFN_NUMBER Pfn)
{
    ULONG64 address = Pfn << PAGE_SHIFT;
    for (ULONG i = 0; i < Boot->ReservedCount; i++)
        if (address >= Boot->Reserved[i].Base && address - Boot->Reserved[i].Base < Boot->Reserved[i].Length)
            return TRUE;
    return FALSE;
}

/* The first run of Pages usable, unreserved frames; 0 if there is none (frame 0 is
 * always reserved, so 0 cannot be an answer). */
static PFN_NUMBER MiFindFreeRun(const MM_BOOT_MEMORY *Boot, PFN_NUMBER Pages)
{
    for (ULONG r = 0; r < Boot->UsableCount; r++) {
        PFN_NUMBER first = Boot->Usable[r].Base >> PAGE_SHIFT;
        PFN_NUMBER end = (Boot->Usable[r].Base + Boot->Usable[r].Length) >> PAGE_SHIFT;
        PFN_NUMBER run = 0;
        for (PFN_NUMBER pfn = first; pfn < end; pfn++) {
            run = MiIsBootReserved(Boot, pfn) ? 0 : run + 1;
            if (run == Pages)
                return pfn - Pages + 1;
        }
    }
    return 0;
}

/*
 * MiInitializePfnDatabase - build the PFN database and the page lists.
 *
 * Contract:
 *  - MmHighestPhysicalPage = the highest frame of any usable range. The database is
 *    an array of MMPFN, one for every frame 0 .. MmHighestPhysicalPage, placed in
 *    whole pages of usable memory outside every reserved range and reached through
 *    the physical map (MiPfnToVirtual). MmPfnDatabase points to entry 0.
 *  - Every frame in a usable range, outside the reserved ranges and outside the
 *    database's own pages, is on the free list (MiInsertPageInList). Every other
 *    frame is on no list: PageLocation ActiveAndValid, Reserved 1, ReferenceCount 1,
 *    Flink and Blink MM_EMPTY_LIST.
 *  - MmNumberOfPhysicalPages = the number of frames put on the free list;
 *    MmAvailablePages = the same (the zeroed list starts empty).
 *  - Return STATUS_SUCCESS, or STATUS_NO_MEMORY if no usable run can hold the
 *    database. The page lists' heads are already empty (MmInitSystem).
 */
NTSTATUS MiInitializePfnDatabase(const MM_BOOT_MEMORY *Boot)
{
    PFN_NUMBER highest = 0;
    for (ULONG r = 0; r < Boot->UsableCount; r++) {
        PFN_NUMBER last = ((Boot->Usable[r].Base + Boot->Usable[r].Length) >> PAGE_SHIFT) - 1;
        if (last > highest)
            highest = last;
    }
    if (Boot->UsableCount == 0)
        return STATUS_NO_MEMORY;

    PFN_NUMBER databasePages = ALIGN_UP((highest + 1) * sizeof(MMPFN), PAGE_SIZE) >> PAGE_SHIFT;
    PFN_NUMBER databaseBase = MiFindFreeRun(Boot, databasePages);
    if (databaseBase == 0)
        return STATUS_NO_MEMORY;

    MmPfnDatabase = MiPfnToVirtual(databaseBase);
    MmHighestPhysicalPage = highest;
    for (PFN_NUMBER pfn = 0; pfn <= highest; pfn++) {
        PMMPFN entry = MI_PFN_ELEMENT(pfn);
        entry->Flink = MM_EMPTY_LIST;
        entry->Blink = MM_EMPTY_LIST;
        entry->ReferenceCount = 1;
        entry->PageLocation = ActiveAndValid;
        entry->Reserved = 1;
        entry->Spare = 0;
        entry->PteAddress = 0;
    }

    MmNumberOfPhysicalPages = 0;
    for (ULONG r = 0; r < Boot->UsableCount; r++) {
        PFN_NUMBER first = Boot->Usable[r].Base >> PAGE_SHIFT;
        PFN_NUMBER end = (Boot->Usable[r].Base + Boot->Usable[r].Length) >> PAGE_SHIFT;
        for (PFN_NUMBER pfn = first; pfn < end; pfn++) {
            if (MiIsBootReserved(Boot, pfn) || (pfn >= databaseBase && pfn < databaseBase + databasePages))
                continue;
            MI_PFN_ELEMENT(pfn)->Reserved = 0;
            MiInsertPageInList(FreePageList, pfn);
            MmNumberOfPhysicalPages++;
        }
    }
    return STATUS_SUCCESS;
}
