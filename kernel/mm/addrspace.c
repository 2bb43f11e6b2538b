/* addrspace.c - the kernel's own address space, built with the lab 02 code once the
 * PFN database exists: the physical map in 2 MiB pages, the system image in 4 KiB
 * pages with per-section protection (the stacks' guard pages left out). The new tables are checked with an independent
 * walk before CR3 switches to them; a stubbed or broken lab 02 keeps the boot tables. */
#include "arch.h"
#include "ke.h"
#include "mi.h"
#include "rtl.h"

PMMPTE MmKernelPml4;
NTSTATUS MmKernelAddressSpaceStatus = STATUS_NOT_IMPLEMENTED;
CHAR MmKernelAddressSpaceProblem[160];

extern UCHAR KiTextStart[], KiRodataStart[], KiDataStart[], KiImageEnd[];
extern UCHAR KiBootStackGuard[], KiDoubleFaultStackGuard[]; /* boot.asm: never mapped */

static BOOLEAN MiIsStackGuardPage(ULONG_PTR Va)
{
    Va = ALIGN_DOWN(Va, PAGE_SIZE);
    return Va == (ULONG_PTR)KiBootStackGuard || Va == (ULONG_PTR)KiDoubleFaultStackGuard;
}

PMMPTE MiCurrentPml4(VOID)
{
    return MmPhysicalToVirtual(__readcr3() & 0x000FFFFFFFFFF000ULL);
}

VOID MiInspectTranslation(PMMPTE Pml4, ULONG_PTR Va, PMI_TRANSLATION Out)
{
    RtlZeroMemory(Out, sizeof(*Out));
    if (!MiIsCanonical(Va))
        return;
    PMMPTE table = Pml4;
    Out->Tables[MM_LEVEL_PML4] = ((ULONG64)Pml4 - MM_PHYSICAL_MAP_BASE) >> PAGE_SHIFT;
    for (ULONG level = MM_LEVEL_PML4; level >= MM_LEVEL_PT; level--) {
        MMPTE e = table[MiTableIndex(Va, level)];
        Out->Entries[level] = e;
        if (!e.Hard.Valid)
            return;
        if (level == MM_LEVEL_PT || ((level == MM_LEVEL_PD || level == MM_LEVEL_PDPT) && e.Hard.LargePage)) {
            ULONG64 span = 1ULL << (PAGE_SHIFT + 9 * (level - 1));
            Out->Valid = TRUE;
            Out->Level = level;
            Out->Physical = ((ULONG64)e.Hard.PageFrameNumber << PAGE_SHIFT) + (Va & (span - 1));
            return;
        }
        Out->Tables[level - 1] = e.Hard.PageFrameNumber;
        table = MiPfnToVirtual(e.Hard.PageFrameNumber);
    }
}

/* Maps [Start, End) of the image at its link address with Protect; the first failure. */
static NTSTATUS MiMapImageRange(PMMPTE Pml4, ULONG_PTR Start, ULONG_PTR End, ULONG Protect)
{
    for (ULONG_PTR va = ALIGN_DOWN(Start, PAGE_SIZE); va < End; va += PAGE_SIZE) {
        if (MiIsStackGuardPage(va))
            continue;
        NTSTATUS status = MmMapPage(Pml4, va, (va - MM_KERNEL_VMA) >> PAGE_SHIFT, Protect, 0);
        if (!NT_SUCCESS(status))
            return status;
    }
    return STATUS_SUCCESS;
}

/* Checks that the new tables map what the kernel needs before switching to them. */
static BOOLEAN MiVerifyKernelSpace(PMMPTE Pml4)
{
    MI_TRANSLATION t;
    for (ULONG_PTR va = (ULONG_PTR)KiTextStart; va < (ULONG_PTR)KiImageEnd; va += PAGE_SIZE) {
        MiInspectTranslation(Pml4, va, &t);
        if (MiIsStackGuardPage(va)) {
            if (!t.Valid)
                continue;
            RtlFormatString(MmKernelAddressSpaceProblem, sizeof(MmKernelAddressSpaceProblem),
                            "stack guard page %p as valid (it must stay unmapped)", (PVOID)va);
            DbgPrint("mm: the new page tables map the %s\n", MmKernelAddressSpaceProblem);
            return FALSE;
        }
        BOOLEAN text = va < (ULONG_PTR)KiRodataStart, data = va >= (ULONG_PTR)KiDataStart;
        MMPTE e = t.Entries[t.Level];
        if (!t.Valid || t.Physical != va - MM_KERNEL_VMA || e.Hard.NoExecute == text || e.Hard.Write != data ||
            e.Hard.Owner) {
            RtlFormatString(MmKernelAddressSpaceProblem, sizeof(MmKernelAddressSpaceProblem),
                            "kernel %s page %p: valid %u physical 0x%llx Write %u NoExecute %u Owner %u, expected "
                            "physical 0x%llx Write %u NoExecute %u Owner 0", text ? "code" : data ? "data" : "rodata",
                            (PVOID)va, t.Valid, t.Physical, t.Valid ? (ULONG)e.Hard.Write : 0,
                            t.Valid ? (ULONG)e.Hard.NoExecute : 0, t.Valid ? (ULONG)e.Hard.Owner : 0,
                            (ULONG64)va - MM_KERNEL_VMA, data, !text);
            DbgPrint("mm: the new page tables map the %s\n", MmKernelAddressSpaceProblem);
            return FALSE;
        }
    }
    for (ULONG64 pa = 0; pa < MM_PHYSICAL_MAP_SIZE; pa += MM_LARGE_PAGE_SIZE / 4) {
        MiInspectTranslation(Pml4, MM_PHYSICAL_MAP_BASE + pa + 0x123, &t);
        if (!t.Valid || t.Physical != pa + 0x123 || !t.Entries[t.Level].Hard.Write) {
            RtlFormatString(MmKernelAddressSpaceProblem, sizeof(MmKernelAddressSpaceProblem),
                            "physical map at %p: valid %u physical 0x%llx, expected 0x%llx, writable",
                            (PVOID)(MM_PHYSICAL_MAP_BASE + pa + 0x123), t.Valid, t.Physical, pa + 0x123);
            DbgPrint("mm: the new page tables map the %s\n", MmKernelAddressSpaceProblem);
            return FALSE;
        }
    }
    return TRUE;
}

VOID MiBuildKernelAddressSpace(VOID)
{
    if (!MmPfnDatabaseReady) {
        DbgPrint("mm: no PFN database (lab 01): staying on the boot page tables\n");
        return;
    }
    PFN_NUMBER top;
    if (!NT_SUCCESS(MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &top))) {
        DbgPrint("mm: no frame for a PML4: staying on the boot page tables\n");
        return;
    }
    PMMPTE pml4 = MiPfnToVirtual(top);
    /* Memory is dirty (poison.c): a "zeroed" frame that is not would be a PML4 of garbage. */
    for (ULONG i = 0; i < PAGE_SIZE / sizeof(MMPTE); i++)
        if (pml4[i].Long != 0) {
            MmKernelAddressSpaceStatus = STATUS_UNSUCCESSFUL;
            DbgPrint("mm: MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED) returned frame 0x%llx with 0x%llx at offset "
                     "0x%x (lab 01: a zeroed frame reads as zeros): staying on the boot page tables\n", top,
                     pml4[i].Long, i * (ULONG)sizeof(MMPTE));
            return;
        }
    NTSTATUS status = STATUS_SUCCESS;
    for (ULONG64 pa = 0; pa < MM_PHYSICAL_MAP_SIZE && NT_SUCCESS(status); pa += MM_LARGE_PAGE_SIZE)
        status = MmMapPage(pml4, MM_PHYSICAL_MAP_BASE + pa, pa >> PAGE_SHIFT, MM_PROTECT_WRITE, MM_MAP_LARGE);
    if (NT_SUCCESS(status))
        status = MiMapImageRange(pml4, (ULONG_PTR)KiTextStart, (ULONG_PTR)KiRodataStart, MM_PROTECT_EXECUTE);
    if (NT_SUCCESS(status))
        status = MiMapImageRange(pml4, (ULONG_PTR)KiRodataStart, (ULONG_PTR)KiDataStart, 0);
    if (NT_SUCCESS(status))
        status = MiMapImageRange(pml4, (ULONG_PTR)KiDataStart, (ULONG_PTR)KiImageEnd, MM_PROTECT_WRITE);
    MmKernelAddressSpaceStatus = status;
    if (status == STATUS_NOT_IMPLEMENTED) {
        DbgPrint("mm: MmMapPage is not implemented (lab 02 stub): staying on the boot page tables\n");
        return; /* the PML4 frame is kept: a stub may have written to it */
    }
    if (!NT_SUCCESS(status) || !MiVerifyKernelSpace(pml4)) {
        if (NT_SUCCESS(status))
            MmKernelAddressSpaceStatus = STATUS_UNSUCCESSFUL;
        DbgPrint("mm: building the kernel address space failed (0x%08X): staying on the boot page tables\n",
                 (ULONG)MmKernelAddressSpaceStatus);
        return;
    }
    __writecr3(top << PAGE_SHIFT);
    MmKernelPml4 = pml4;
    DbgPrint("mm: running on the kernel's own page tables (PML4 at frame 0x%llx)\n", top);
}
