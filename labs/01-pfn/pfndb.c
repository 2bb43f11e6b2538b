/* pfndb.c - lab 01: building the PFN database from the boot memory description. */
#include "mm.h"
#include "rtl.h"

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
    /* LAB 01: place the database, mark every frame, put the usable ones on the free list. */
    UNREFERENCED_PARAMETER(Boot);
    return STATUS_NOT_IMPLEMENTED;
}
