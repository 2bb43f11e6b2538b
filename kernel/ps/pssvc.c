/* pssvc.c - the system services of the user-mode core (lab 08, um): ending a process,
 * yielding, the time, basic process information, and a test service that records its
 * arguments. Each one probes every user pointer it is given when PreviousMode is UserMode
 * (ProbeForWrite, lab 08) and touches user memory only through the fixup-protected copy
 * routines; handles -1 (NtCurrentProcess) work as everywhere. */
#include "ps.h"
#include "rtl.h"

#ifndef PROCESS_TERMINATE
#define PROCESS_TERMINATE 0x0001
#endif
#ifndef PROCESS_QUERY_INFORMATION
#define PROCESS_QUERY_INFORMATION 0x0400
#endif

/* The process a handle names (referenced): -1 is the current process. */
static NTSTATUS PspReferenceProcess(HANDLE ProcessHandle, ACCESS_MASK Access, PEPROCESS *Process)
{
    if (ProcessHandle == NtCurrentProcess()) {
        *Process = PsGetCurrentProcess();
        ObReferenceObject(*Process);
        return STATUS_SUCCESS;
    }
    return ObReferenceObjectByHandle(ProcessHandle, Access, PsProcessType, ExGetPreviousMode(), (PVOID *)Process,
                                     NULL);
}

NTSTATUS NtTerminateProcess(HANDLE ProcessHandle, NTSTATUS ExitStatus)
{
    PEPROCESS p;
    NTSTATUS status = PspReferenceProcess(ProcessHandle, PROCESS_TERMINATE, &p);
    if (!NT_SUCCESS(status))
        return status;
    if (!p->UserProcess) {
        ObDereferenceObject(p);
        return STATUS_ACCESS_DENIED; /* the system process does not end */
    }
    BOOLEAN self = (p == KeGetCurrentThread()->Process);
    if (self)
        ObDereferenceObject(p); /* the caller's own process outlives this thread (its creator holds it) */
    PsTerminateProcess(p, ExitStatus); /* does not return when p is the caller's */
    ObDereferenceObject(p);
    return STATUS_SUCCESS;
}

NTSTATUS NtYieldExecution(VOID)
{
    KeYieldProcessor();
    return STATUS_SUCCESS;
}

NTSTATUS NtQuerySystemTime(PLARGE_INTEGER SystemTime)
{
    LARGE_INTEGER now;
    now.QuadPart = (LONG64)KeQueryInterruptTime();
    if (ExGetPreviousMode() == KernelMode) {
        *SystemTime = now;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = ProbeForWrite(SystemTime, sizeof(*SystemTime), sizeof(ULONG));
    if (!NT_SUCCESS(status))
        return status;
    return KeCopyToUser(SystemTime, &now, sizeof(now));
}

NTSTATUS NtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, PVOID ProcessInformation,
                                   ULONG ProcessInformationLength, PULONG ReturnLength)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    if (mode == UserMode) {
        NTSTATUS status = ProbeForWrite(ProcessInformation, ProcessInformationLength, sizeof(ULONG));
        if (NT_SUCCESS(status) && ReturnLength)
            status = ProbeForWrite(ReturnLength, sizeof(ULONG), sizeof(ULONG));
        if (!NT_SUCCESS(status))
            return status;
    }
    if (ProcessInformationClass == ProcessVmCounters) /* lab 08 (vm): kernel/mm/vmnt.c, probed above */
        return MmQueryVmCountersService(ProcessHandle, ProcessInformation, ProcessInformationLength, ReturnLength);
    if (ProcessInformationClass != ProcessBasicInformation)
        return STATUS_INVALID_INFO_CLASS;
    if (ProcessInformationLength != sizeof(PROCESS_BASIC_INFORMATION))
        return STATUS_INFO_LENGTH_MISMATCH;
    PEPROCESS p;
    NTSTATUS status = PspReferenceProcess(ProcessHandle, PROCESS_QUERY_INFORMATION, &p);
    if (!NT_SUCCESS(status))
        return status;
    PROCESS_BASIC_INFORMATION info;
    RtlZeroMemory(&info, sizeof(info));
    info.ExitStatus = p->UserProcess ? p->ExitStatus : STATUS_PENDING;
    info.PebBaseAddress = (ULONG64)p->Peb;
    info.AffinityMask = 1;
    info.BasePriority = 8;
    info.UniqueProcessId = p->UniqueProcessId;
    ObDereferenceObject(p);
    ULONG length = sizeof(info);
    if (mode == KernelMode) {
        RtlCopyMemory(ProcessInformation, &info, sizeof(info));
        if (ReturnLength)
            *ReturnLength = length;
        return STATUS_SUCCESS;
    }
    status = KeCopyToUser(ProcessInformation, &info, sizeof(info));
    if (NT_SUCCESS(status) && ReturnLength)
        status = KeCopyToUser(ReturnLength, &length, sizeof(length));
    return status;
}

NTSTATUS NtTestArguments(ULONG64 A0, ULONG64 A1, ULONG64 A2, ULONG64 A3, ULONG64 A4, ULONG64 A5, ULONG64 A6,
                         ULONG64 A7, ULONG64 A8, ULONG64 A9, ULONG64 A10, ULONG64 A11, ULONG64 A12, ULONG64 A13,
                         ULONG64 A14, ULONG64 A15)
{
    /* KiCallSystemService recorded the arguments; the sum says they arrived here too. */
    ULONG64 sum = A0 + A1 + A2 + A3 + A4 + A5 + A6 + A7 + A8 + A9 + A10 + A11 + A12 + A13 + A14 + A15;
    KiTestArgumentsSum = sum;
    return STATUS_SUCCESS;
}
