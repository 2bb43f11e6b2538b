/* mminit.c - MmInitSystem: builds the PFN database (lab 01) from the boot memory
 * description, then the kernel's own address space (lab 02). A stubbed lab leaves
 * the kernel without that part; the boot carries on. */
#include "bugcodes.h"
#include "ke.h"
#include "mi.h"
#include "rtl.h"

MMPFNLIST MmPageListHeads[MM_PAGE_LIST_COUNT];
PMMPFN MmPfnDatabase;
PFN_NUMBER MmHighestPhysicalPage;
PFN_NUMBER MmNumberOfPhysicalPages;
PFN_NUMBER MmAvailablePages;
BOOLEAN MmPfnDatabaseReady;
NTSTATUS MmPfnDatabaseStatus = STATUS_NOT_IMPLEMENTED;

VOID MmInitSystem(VOID)
{
    for (ULONG i = 0; i < MM_PAGE_LIST_COUNT; i++) {
        MmPageListHeads[i].Total = 0;
        MmPageListHeads[i].ListName = (MMLISTS)i;
        MmPageListHeads[i].Flink = MM_EMPTY_LIST;
        MmPageListHeads[i].Blink = MM_EMPTY_LIST;
    }
    MiPoisonUsableMemory(KeLoaderCommandLine);     /* every checkpoint runs on dirty memory */
    NTSTATUS status = MiInitializePfnDatabase(&MmBootMemory);
    MmPfnDatabaseStatus = status;
    if (status == STATUS_NOT_IMPLEMENTED) {
        DbgPrint("mm: MiInitializePfnDatabase is not implemented (lab 01 stub): no physical page allocator\n");
        return;
    }
    if (!NT_SUCCESS(status))
        KeBugCheckEx(PHASE1_INITIALIZATION_FAILED, (ULONG)status, 0, 0, 0);
    MmPfnDatabaseReady = TRUE;
    DbgPrint("mm: %llu usable pages, %llu available, highest PFN 0x%llx, PFN database at %p\n",
             MmNumberOfPhysicalPages, MmAvailablePages, MmHighestPhysicalPage, MmPfnDatabase);
    MiBuildKernelAddressSpace();
}
