/* syspte.c - kernel stacks in system space: MmCreateKernelStack maps a thread's stack
 * pages (frames from lab 01, mappings by lab 02's MmMapPage in the kernel's address
 * space) and leaves the page below them unmapped as a guard page, so that an overflow
 * faults instead of running into its neighbour. The stacks live in their own region
 * right after the system PTE range that tests map into, so they never share a page
 * table with a test's mappings. Lab 01 and 02 calls run under the PFN lock. */
#include "ke.h"
#include "mi.h"
#include "rtl.h"

#define MI_STACK_SLOT_PAGES 8 /* one guard page, up to 7 stack pages */
#define MI_STACK_SLOTS (MM_KERNEL_STACK_SIZE / (MI_STACK_SLOT_PAGES * PAGE_SIZE))

static UCHAR MiStackSlotInUse[MI_STACK_SLOTS];
static KSPIN_LOCK MiStackLock;

NTSTATUS MmCreateKernelStack(ULONG Pages, PULONG_PTR StackBase, PULONG_PTR StackLimit, PULONG_PTR GuardPage)
{
    if (Pages == 0 || Pages >= MI_STACK_SLOT_PAGES)
        return STATUS_INVALID_PARAMETER;
    if (!MmKernelPml4)
        return STATUS_INSUFFICIENT_RESOURCES; /* no kernel address space (labs 01 and 02) */
    KIRQL old;
    KiAcquireFrameworkLock(&MiStackLock, DISPATCH_LEVEL, &old);
    ULONG slot = 0;
    while (slot < MI_STACK_SLOTS && MiStackSlotInUse[slot])
        slot++;
    if (slot < MI_STACK_SLOTS)
        MiStackSlotInUse[slot] = 1;
    KiReleaseFrameworkLock(&MiStackLock, old);
    if (slot == MI_STACK_SLOTS)
        return STATUS_INSUFFICIENT_RESOURCES;

    ULONG_PTR guard = MM_KERNEL_STACK_START + (ULONG64)slot * MI_STACK_SLOT_PAGES * PAGE_SIZE;
    ULONG_PTR limit = guard + PAGE_SIZE;
    for (ULONG i = 0; i < Pages; i++) {
        PFN_NUMBER pfn;
        KIRQL old;
        MiLockPfnDatabase(&old);
        NTSTATUS status = MmAllocatePhysicalPage(0, &pfn);
        if (NT_SUCCESS(status)) {
            status = MmMapPage(MmKernelPml4, limit + i * PAGE_SIZE, pfn, MM_PROTECT_WRITE, 0);
            if (!NT_SUCCESS(status))
                MmFreePhysicalPage(pfn);
        }
        MiUnlockPfnDatabase(old);
        if (!NT_SUCCESS(status)) {
            MmDeleteKernelStack(limit + (ULONG64)i * PAGE_SIZE, i);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    *StackBase = limit + (ULONG64)Pages * PAGE_SIZE;
    *StackLimit = limit;
    *GuardPage = guard;
    return STATUS_SUCCESS;
}

VOID MmDeleteKernelStack(ULONG_PTR StackBase, ULONG Pages)
{
    ULONG_PTR limit = StackBase - (ULONG64)Pages * PAGE_SIZE;
    for (ULONG i = 0; i < Pages; i++) {
        PFN_NUMBER pfn;
        KIRQL old;
        MiLockPfnDatabase(&old);
        if (MmUnmapPage(MmKernelPml4, limit + i * PAGE_SIZE, &pfn) == STATUS_SUCCESS)
            MmFreePhysicalPage(pfn);
        __invlpg((PVOID)(limit + i * PAGE_SIZE)); /* w16t: from any address space (see poolpages.c) */
        MiUnlockPfnDatabase(old);
    }
    ULONG slot = (ULONG)((limit - PAGE_SIZE - MM_KERNEL_STACK_START) / (MI_STACK_SLOT_PAGES * PAGE_SIZE));
    KIRQL old;
    KiAcquireFrameworkLock(&MiStackLock, DISPATCH_LEVEL, &old);
    if (slot < MI_STACK_SLOTS)
        MiStackSlotInUse[slot] = 0;
    KiReleaseFrameworkLock(&MiStackLock, old);
}
