/* pagingfile.c - the framework side of lab 08's pager: the pagefile (MmPagingFile) on a
 * RAM disk of lab 07 ("\Device\PagingFile0", created on first use), frames taken and given
 * back under the PFN lock for the pager's student code, and the hooks vm's address spaces
 * call when a PTE that held a pagefile slot or a resident page is replaced. */
#include "ex.h"
#include "ke.h"
#include "mi.h"
#include "mmpf.h"
#include "rtl.h"

#define MI_PAGEFILE_TAG POOL_TAG('M', 'm', 'P', 'f')

PMMPAGING_FILE MmPagingFile;
static MMPAGING_FILE MiPagingFileBlock;
static PDRIVER_OBJECT MiPagingFileDriver;

NTSTATUS MiCreatePagingFile(ULONG Pages)
{
    if (Pages == 0 || Pages > 8192)
        return STATUS_INVALID_PARAMETER;
    if (MmPagingFile != NULL)
        return MmPagingFile->Size == Pages ? STATUS_SUCCESS : STATUS_CONFLICTING_ADDRESSES;
    if (MiPagingFileDriver == NULL) {
        NTSTATUS status = IopCreateDriver("PagingDisk", IopRamDiskDriverEntry, &MiPagingFileDriver);
        if (!NT_SUCCESS(status))
            return status;
    }
    ULONG words = (Pages + 63) / 64;
    ULONG64 *bitmap = ExAllocatePoolWithTag(NonPagedPool, words * sizeof(ULONG64), MI_PAGEFILE_TAG);
    if (bitmap == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PDEVICE_OBJECT device;
    NTSTATUS status = IopCreateRamDisk(MiPagingFileDriver, "\\Device\\PagingFile0", Pages * (ULONG)PAGE_SIZE, &device);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(bitmap, MI_PAGEFILE_TAG);
        return status;
    }
    RtlZeroMemory(bitmap, words * sizeof(ULONG64));
    PMMPAGING_FILE f = &MiPagingFileBlock;
    RtlZeroMemory(f, sizeof(*f));
    f->Device = device;
    f->Size = Pages;
    f->FreeSpace = Pages;
    f->Hint = 0;
    f->Bitmap = bitmap;
    MmPagingFile = f;
    return STATUS_SUCCESS;
}

/* The pagefile goes away between tests (ktest runner, once no process but the system is
 * left): its bitmap, the RAM disk's data, its device and driver go back to the pool, so the
 * next test finds the pool as the boot left it. No PTE may still name a slot. */
VOID MiDeletePagingFile(VOID)
{
    if (MmPagingFile != NULL) {
        ExFreePoolWithTag(MmPagingFile->Bitmap, MI_PAGEFILE_TAG);
        MmPagingFile = NULL;
    }
    if (MiPagingFileDriver != NULL) {
        IopDeleteDriver(MiPagingFileDriver); /* its unload frees the disk and deletes the device */
        MiPagingFileDriver = NULL;
    }
}

NTSTATUS MiAllocateFrame(ULONG Flags, PPFN_NUMBER Pfn)
{
    KIRQL old;
    MiLockPfnDatabase(&old);
    NTSTATUS status = MmAllocatePhysicalPage(Flags, Pfn);
    MiUnlockPfnDatabase(old);
    return status;
}

VOID MiFreeFrame(PFN_NUMBER Pfn)
{
    KIRQL old;
    MiLockPfnDatabase(&old);
    MmFreePhysicalPage(Pfn);
    MiUnlockPfnDatabase(old);
}

/* vm's hooks (mi.h): a PTE that named a pagefile slot is replaced or its address space
 * deleted - the slot goes back; a valid page leaves (freed, decommitted, made a guard page)
 * - it leaves the working set list too, or only the count without a list. */
VOID MiReleasePageFileSpace(MMPTE PteContents)
{
    if (MmPagingFile != NULL && !PteContents.Hard.Valid && !PteContents.Soft.Prototype &&
        PteContents.Soft.PageFileHigh != 0)
        MiFreePagefileSlot(MmPagingFile, PteContents.Soft.PageFileHigh - 1);
}

VOID MiWorkingSetRemovePage(PMMADDRESS_SPACE Space, ULONG_PTR Va, PFN_NUMBER Pfn)
{
    UNREFERENCED_PARAMETER(Pfn);
    if (MiWorkingSetList(Space) != NULL) {
        NTSTATUS status = MiRemoveWorkingSetPage(Space, Va);
        if (status != STATUS_NOT_IMPLEMENTED)
            return;
    }
    if (Space->Vm.WorkingSetSize)
        Space->Vm.WorkingSetSize--;
}
