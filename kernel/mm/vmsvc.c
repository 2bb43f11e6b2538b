/* vmsvc.c - the virtual-memory routines around lab 08's virtual.c: Mm*VirtualMemory for
 * kernel-mode callers (attach to the process, take its AddressCreationLock, call the
 * student's Mi* routine with kernel copies of the arguments, undo). The Nt* system
 * services over them live in vmnt.c (they probe and capture user pointers). */
#include "ke.h"
#include "mi.h"
#include "ps.h"

typedef struct _MI_VM_CALL {
    PEPROCESS Process;
    PMMADDRESS_SPACE Space;
    BOOLEAN Attached;
} MI_VM_CALL;

static NTSTATUS MiBeginVmCall(PEPROCESS Process, MI_VM_CALL *Call)
{
    Call->Process = Process;
    Call->Space = Process ? Process->AddressSpace : NULL;
    Call->Attached = FALSE;
    if (!Call->Space || Call->Space->Tag != MI_ADDRESS_SPACE_TAG || Call->Space->Deleting)
        return STATUS_INVALID_PARAMETER_1; /* the system process has no user address space */
    if (KeGetCurrentIrql() > APC_LEVEL)
        return STATUS_INVALID_PARAMETER; /* never reached by a correct caller: PASSIVE_LEVEL */
    if (PsGetCurrentProcess() != Process) {
        KeStackAttachProcess(Process);
        Call->Attached = TRUE;
    }
    KeAcquireGuardedMutex(&Call->Space->AddressCreationLock);
    return STATUS_SUCCESS;
}

static VOID MiEndVmCall(MI_VM_CALL *Call)
{
    KeReleaseGuardedMutex(&Call->Space->AddressCreationLock);
    if (Call->Attached)
        KeUnstackDetachProcess();
}

NTSTATUS MmAllocateVirtualMemory(PEPROCESS Process, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect)
{
    MI_VM_CALL call;
    NTSTATUS status = MiBeginVmCall(Process, &call);
    if (!NT_SUCCESS(status))
        return status;
    PVOID base = *BaseAddress;
    SIZE_T size = *RegionSize;
    status = MiAllocateVirtualMemory(call.Space, &base, ZeroBits, &size, AllocationType, Protect);
    MiEndVmCall(&call);
    if (NT_SUCCESS(status)) {
        *BaseAddress = base;
        *RegionSize = size;
    }
    return status;
}

NTSTATUS MmFreeVirtualMemory(PEPROCESS Process, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType)
{
    MI_VM_CALL call;
    NTSTATUS status = MiBeginVmCall(Process, &call);
    if (!NT_SUCCESS(status))
        return status;
    PVOID base = *BaseAddress;
    SIZE_T size = *RegionSize;
    status = MiFreeVirtualMemory(call.Space, &base, &size, FreeType);
    MiEndVmCall(&call);
    if (NT_SUCCESS(status)) {
        *BaseAddress = base;
        *RegionSize = size;
    }
    return status;
}

NTSTATUS MmProtectVirtualMemory(PEPROCESS Process, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG NewProtect,
                                PULONG OldProtect)
{
    MI_VM_CALL call;
    NTSTATUS status = MiBeginVmCall(Process, &call);
    if (!NT_SUCCESS(status))
        return status;
    PVOID base = *BaseAddress;
    SIZE_T size = *RegionSize;
    ULONG old = 0;
    status = MiProtectVirtualMemory(call.Space, &base, &size, NewProtect, &old);
    MiEndVmCall(&call);
    if (NT_SUCCESS(status)) {
        *BaseAddress = base;
        *RegionSize = size;
        *OldProtect = old;
    }
    return status;
}

NTSTATUS MmQueryVirtualMemory(PEPROCESS Process, PVOID BaseAddress, PMEMORY_BASIC_INFORMATION Info)
{
    MI_VM_CALL call;
    NTSTATUS status = MiBeginVmCall(Process, &call);
    if (!NT_SUCCESS(status))
        return status;
    MEMORY_BASIC_INFORMATION mbi;
    status = MiQueryVirtualMemory(call.Space, (ULONG_PTR)BaseAddress, &mbi);
    MiEndVmCall(&call);
    if (NT_SUCCESS(status))
        *Info = mbi;
    return status;
}
