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

/* TRUE if every page list holds together: from the head, each frame names the one
 * before it (Blink) and carries the list's PageLocation, the walk ends at the head's
 * Blink after exactly Total frames. Checked before anything allocates, so broken links
 * from lab 01 give a named verdict in the tests instead of a fault during boot. */
static BOOLEAN MiPageListsHoldTogether(VOID)
{
    for (ULONG l = 0; l < MM_PAGE_LIST_COUNT; l++) {
        PMMPFNLIST list = &MmPageListHeads[l];
        PFN_NUMBER prev = MM_EMPTY_LIST, pfn = list->Flink, n = 0;
        while (pfn != MM_EMPTY_LIST) {
            if (pfn > MmHighestPhysicalPage || n >= list->Total || MI_PFN_ELEMENT(pfn)->Blink != prev ||
                MI_PFN_ELEMENT(pfn)->PageLocation != l) {
                DbgPrint("mm: after MiInitializePfnDatabase page list %u is broken at its frame %llu (0x%llx, Total "
                         "%llu): Flink/Blink/PageLocation do not hold together (lab 01: MiInsertPageInList); no "
                         "physical page allocator\n", l, n, pfn, list->Total);
                return FALSE;
            }
            prev = pfn;
            pfn = MI_PFN_ELEMENT(pfn)->Flink;
            n++;
        }
        if (n != list->Total || list->Blink != prev) {
            DbgPrint("mm: after MiInitializePfnDatabase page list %u holds %llu frames from its Flink, its Total is "
                     "%llu, its Blink 0x%llx and its last frame 0x%llx (lab 01: MiInsertPageInList); no physical page "
                     "allocator\n", l, n, list->Total, list->Blink, prev);
            return FALSE;
        }
    }
    return TRUE;
}

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
    if (!MiPageListsHoldTogether())
        return;
    MmPfnDatabaseReady = TRUE;
    DbgPrint("mm: %llu usable pages, %llu available, highest PFN 0x%llx, PFN database at %p\n",
             MmNumberOfPhysicalPages, MmAvailablePages, MmHighestPhysicalPage, MmPfnDatabase);
    MiBuildKernelAddressSpace();
}
