/* pagingfile.c - the framework side of lab 08's pager: the pagefile (MmPagingFile) on a
 * RAM disk of lab 07 ("\Device\PagingFile0", created on first use), frames taken and given
 * back under the PFN lock for the pager's student code, the TLB flush of one page, the
 * lookup of a user PTE without creating tables, and the translation between NT's MM_*
 * protection codes and the hardware bits of a valid user PTE. */
#include "arch.h"
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

VOID MiFlushTb(PMMPTE Pml4, ULONG_PTR Va)
{
    if (Pml4 == MiCurrentPml4())
        __invlpg((PVOID)Va);
}

PMMPTE MiGetPte(PMMPTE Pml4, ULONG_PTR Va)
{
    PMMPTE pte = NULL;
    if (!MiIsCanonical(Va))
        return NULL;
    /* An independent walk (no student code): a table on the way must be valid. */
    PMMPTE table = Pml4;
    for (ULONG level = MM_LEVEL_PML4; level > MM_LEVEL_PT; level--) {
        MMPTE e = table[MiTableIndex(Va, level)];
        if (!e.Hard.Valid || e.Hard.LargePage)
            return NULL;
        table = MiPfnToVirtual(e.Hard.PageFrameNumber);
    }
    pte = &table[MiTableIndex(Va, MM_LEVEL_PT)];
    return pte;
}

ULONG64 MiProtectionToHardware(ULONG Protection)
{
    MMPTE p = {0};
    p.Hard.Owner = 1;
    switch (Protection & 7) {
    case MM_READWRITE:
        p.Hard.Write = 1;
        p.Hard.NoExecute = 1;
        break;
    case MM_EXECUTE_READWRITE:
        p.Hard.Write = 1;
        break;
    case MM_EXECUTE:
    case MM_EXECUTE_READ:
    case MM_EXECUTE_WRITECOPY:
        break;
    default: /* READONLY, WRITECOPY (read-only until the copy) */
        p.Hard.NoExecute = 1;
        break;
    }
    return p.Long;
}

ULONG MiHardwareToProtection(MMPTE Pte)
{
    if (Pte.Hard.Write)
        return Pte.Hard.NoExecute ? MM_READWRITE : MM_EXECUTE_READWRITE;
    return Pte.Hard.NoExecute ? MM_READONLY : MM_EXECUTE_READ;
}
