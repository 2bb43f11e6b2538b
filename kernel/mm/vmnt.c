/* vmnt.c - the virtual-memory system services (lab 08, vm): NtAllocateVirtualMemory,
 * NtFreeVirtualMemory, NtProtectVirtualMemory, NtQueryVirtualMemory. From user mode every
 * pointer argument is probed (ProbeForWrite: in user space, aligned) and read and written
 * only through the fixup-protected copy routines, so a bad pointer gives
 * STATUS_ACCESS_VIOLATION (or STATUS_DATATYPE_MISALIGNMENT) and never a bugcheck; the
 * handle is referenced with PROCESS_VM_OPERATION / PROCESS_QUERY_INFORMATION (-1 is the
 * current process). The work is the Mm* routines' (vmsvc.c, over the student's virtual.c). */
#include "kuser.h"
#include "mi.h"
#include "ps.h"
#include "rtl.h"
#include "wow64t.h"

#ifndef PROCESS_VM_OPERATION
#define PROCESS_VM_OPERATION 0x0008
#endif
#ifndef PROCESS_QUERY_INFORMATION
#define PROCESS_QUERY_INFORMATION 0x0400
#endif

static NTSTATUS MiReferenceProcess(HANDLE ProcessHandle, ACCESS_MASK Access, PEPROCESS *Process)
{
    if (ProcessHandle == NtCurrentProcess()) {
        *Process = PsGetCurrentProcess();
        if (!*Process)
            return STATUS_INVALID_HANDLE;
        ObReferenceObject(*Process);
        return STATUS_SUCCESS;
    }
    return ObReferenceObjectByHandle(ProcessHandle, Access, PsProcessType, ExGetPreviousMode(), (PVOID *)Process,
                                     NULL);
}

/* Reads a pointer-sized in/out argument (probed for write in user mode). */
static NTSTATUS MiCaptureInOut(KPROCESSOR_MODE Mode, PVOID Pointer, ULONG64 *Value)
{
    if (Mode == KernelMode) {
        *Value = *(ULONG64 *)Pointer;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = ProbeForWrite(Pointer, sizeof(ULONG64), sizeof(ULONG64));
    if (!NT_SUCCESS(status))
        return status;
    return KeCopyFromUser(Value, Pointer, sizeof(ULONG64));
}

static NTSTATUS MiWriteBack(KPROCESSOR_MODE Mode, PVOID Pointer, const VOID *Value, SIZE_T Length)
{
    if (Mode == KernelMode) {
        RtlCopyMemory(Pointer, Value, Length);
        return STATUS_SUCCESS;
    }
    return KeCopyToUser(Pointer, Value, Length);
}

/* The in/out pair every region service takes: *BaseAddress and *RegionSize. */
static NTSTATUS MiCaptureRange(KPROCESSOR_MODE Mode, PVOID *BaseAddress, PSIZE_T RegionSize, PVOID *Base, SIZE_T *Size)
{
    ULONG64 base, size;
    NTSTATUS status = MiCaptureInOut(Mode, BaseAddress, &base);
    if (NT_SUCCESS(status))
        status = MiCaptureInOut(Mode, RegionSize, &size);
    if (NT_SUCCESS(status)) {
        *Base = (PVOID)base;
        *Size = size;
    }
    return status;
}

static NTSTATUS MiWriteBackRange(KPROCESSOR_MODE Mode, PVOID *BaseAddress, PSIZE_T RegionSize, PVOID Base, SIZE_T Size)
{
    NTSTATUS status = MiWriteBack(Mode, BaseAddress, &Base, sizeof(Base));
    return NT_SUCCESS(status) ? MiWriteBack(Mode, RegionSize, &Size, sizeof(Size)) : status;
}

NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    PVOID b;
    SIZE_T s;
    NTSTATUS status = MiCaptureRange(mode, BaseAddress, RegionSize, &b, &s);
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p;
    status = MiReferenceProcess(ProcessHandle, PROCESS_VM_OPERATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    /* lab 09: NT x64's ZeroBits mask, and a WOW64 process's address limit (wow64t.h). */
    status = PsWow64CheckAllocation(p, (ULONG_PTR)b, s, &ZeroBits, &AllocationType);
    if (NT_SUCCESS(status))
        status = MmAllocateVirtualMemory(p, &b, ZeroBits, &s, AllocationType, Protect);
    if (NT_SUCCESS(status) && PsWow64AboveLimit(p, (ULONG_PTR)b, s)) {
        SIZE_T zero = 0;
        MmFreeVirtualMemory(p, &b, &zero, MEM_RELEASE);
        status = STATUS_NO_MEMORY;
    }
    ObDereferenceObject(p);
    if (NT_SUCCESS(status)) {
        /* The region is the caller's even if it cannot learn where: NT behaves the same. */
        NTSTATUS w = MiWriteBackRange(mode, BaseAddress, RegionSize, b, s);
        if (!NT_SUCCESS(w))
            return w;
    }
    return status;
}

NTSTATUS NtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    PVOID b;
    SIZE_T s;
    NTSTATUS status = MiCaptureRange(mode, BaseAddress, RegionSize, &b, &s);
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p;
    status = MiReferenceProcess(ProcessHandle, PROCESS_VM_OPERATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    status = MmFreeVirtualMemory(p, &b, &s, FreeType);
    ObDereferenceObject(p);
    if (NT_SUCCESS(status)) {
        NTSTATUS w = MiWriteBackRange(mode, BaseAddress, RegionSize, b, s);
        if (!NT_SUCCESS(w))
            return w;
    }
    return status;
}

NTSTATUS NtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG NewProtect,
                                PULONG OldProtect)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    PVOID b;
    SIZE_T s;
    NTSTATUS status = MiCaptureRange(mode, BaseAddress, RegionSize, &b, &s);
    if (NT_SUCCESS(status) && mode == UserMode)
        status = ProbeForWrite(OldProtect, sizeof(ULONG), sizeof(ULONG));
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p;
    status = MiReferenceProcess(ProcessHandle, PROCESS_VM_OPERATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    ULONG old = 0;
    status = MmProtectVirtualMemory(p, &b, &s, NewProtect, &old);
    ObDereferenceObject(p);
    if (NT_SUCCESS(status)) {
        NTSTATUS w = MiWriteBackRange(mode, BaseAddress, RegionSize, b, s);
        if (NT_SUCCESS(w))
            w = MiWriteBack(mode, OldProtect, &old, sizeof(old));
        if (!NT_SUCCESS(w))
            return w;
    }
    return status;
}

NTSTATUS NtQueryVirtualMemory(HANDLE ProcessHandle, PVOID BaseAddress, MEMORY_INFORMATION_CLASS InformationClass,
                              PVOID MemoryInformation, SIZE_T MemoryInformationLength, PSIZE_T ReturnLength)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    if (mode == UserMode) {
        NTSTATUS status = ProbeForWrite(MemoryInformation, MemoryInformationLength, sizeof(ULONG64));
        if (NT_SUCCESS(status) && ReturnLength)
            status = ProbeForWrite(ReturnLength, sizeof(SIZE_T), sizeof(SIZE_T));
        if (!NT_SUCCESS(status))
            return status;
    }
    if (InformationClass != MemoryBasicInformation)
        return STATUS_INVALID_INFO_CLASS;
    if (MemoryInformationLength < sizeof(MEMORY_BASIC_INFORMATION))
        return STATUS_INFO_LENGTH_MISMATCH;
    PEPROCESS p;
    NTSTATUS status = MiReferenceProcess(ProcessHandle, PROCESS_QUERY_INFORMATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    MEMORY_BASIC_INFORMATION mbi;
    status = MmQueryVirtualMemory(p, BaseAddress, &mbi);
    ObDereferenceObject(p);
    if (!NT_SUCCESS(status))
        return status;
    SIZE_T length = sizeof(mbi);
    status = MiWriteBack(mode, MemoryInformation, &mbi, sizeof(mbi));
    if (NT_SUCCESS(status) && ReturnLength)
        status = MiWriteBack(mode, ReturnLength, &length, sizeof(length));
    return status;
}

NTSTATUS MmQueryVmCountersService(HANDLE ProcessHandle, PVOID Information, ULONG Length, PULONG ReturnLength)
{
    if (Length != sizeof(VM_COUNTERS))
        return STATUS_INFO_LENGTH_MISMATCH;
    PEPROCESS p;
    NTSTATUS status = MiReferenceProcess(ProcessHandle, PROCESS_QUERY_INFORMATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    VM_COUNTERS c;
    PMMADDRESS_SPACE space = p->AddressSpace;
    if (space)
        KeAcquireGuardedMutex(&space->AddressCreationLock);
    MmQueryVmCounters(p, &c);
    if (space)
        KeReleaseGuardedMutex(&space->AddressCreationLock);
    ObDereferenceObject(p);
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    ULONG length = sizeof(c);
    status = MiWriteBack(mode, Information, &c, sizeof(c));
    if (NT_SUCCESS(status) && ReturnLength)
        status = MiWriteBack(mode, ReturnLength, &length, sizeof(length));
    return status;
}
