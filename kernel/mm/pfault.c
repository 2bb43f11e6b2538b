/* pfault.c - the page-fault entry of lab 08 (framework): MmAccessFault, which the trap
 * handler calls for a fault on a user address below DISPATCH_LEVEL. It finds the current
 * process's address space, serialises the fault with every other change of that space
 * (its AddressCreationLock), gives the space a working set list on its first fault, and
 * lets the student's MiDispatchFault (labs/08-usermode/fault.c) resolve it. */
#include "ex.h"
#include "ke.h"
#include "kethread.h"
#include "mmpf.h"
#include "rtl.h"

#define MI_WSL_TAG POOL_TAG('M', 'm', 'W', 's')

/* A list of MaximumWorkingSetSize entries for a space that has none (NULL if no pool or
 * lab 08's MiInitializeWorkingSet refused). */
static PMMWSL MiCreateWorkingSetList(PMMADDRESS_SPACE Space)
{
    SIZE_T max = Space->Vm.MaximumWorkingSetSize ? Space->Vm.MaximumWorkingSetSize : 345;
    SIZE_T min = Space->Vm.MinimumWorkingSetSize <= max ? Space->Vm.MinimumWorkingSetSize : max;
    PMMWSL wsl = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMWSL) + max * sizeof(MMWSLE), MI_WSL_TAG);
    if (wsl == NULL)
        return NULL;
    RtlZeroMemory(wsl, sizeof(*wsl));
    NTSTATUS status = MiInitializeWorkingSet(Space, wsl, (PMMWSLE)(wsl + 1), (ULONG)max, (ULONG)min, (ULONG)max);
    if (!NT_SUCCESS(status)) {
        Space->Vm.WorkingSetList = NULL;
        ExFreePoolWithTag(wsl, MI_WSL_TAG);
        return NULL;
    }
    wsl->Allocated = 1;
    return wsl;
}

VOID MiDeleteWorkingSetList(PMMADDRESS_SPACE Space)
{
    PMMWSL wsl = MiWorkingSetList(Space);
    Space->Vm.WorkingSetList = NULL;
    if (wsl != NULL && wsl->Allocated)
        ExFreePoolWithTag(wsl, MI_WSL_TAG);
}

NTSTATUS MmAccessFault(ULONG FaultStatus, PVOID VirtualAddress, KPROCESSOR_MODE PreviousMode, PVOID TrapInformation)
{
    UNREFERENCED_PARAMETER(TrapInformation);
    ULONG_PTR va = (ULONG_PTR)VirtualAddress;
    if (va > MM_HIGHEST_USER_ADDRESS || KeGetCurrentIrql() > APC_LEVEL)
        return STATUS_ACCESS_VIOLATION;
    PMMADDRESS_SPACE space = MiGetCurrentAddressSpace();
    if (space == NULL || space->Tag != MI_ADDRESS_SPACE_TAG || space->Deleting)
        return STATUS_ACCESS_VIOLATION;
    /* A fault while this thread changes the space (the lock is not recursive): refused. */
    if (space->AddressCreationLock.Owner == KeGetCurrentThread())
        return STATUS_ACCESS_VIOLATION;
    KeAcquireGuardedMutex(&space->AddressCreationLock);
    if (MiWorkingSetList(space) == NULL)
        MiCreateWorkingSetList(space);
    NTSTATUS status = MiDispatchFault(space, FaultStatus, va, PreviousMode);
    KeReleaseGuardedMutex(&space->AddressCreationLock);
    return status;
}
