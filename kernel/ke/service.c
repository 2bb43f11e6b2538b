/* service.c - the framework's side of system services: the C half of the syscall entry
 * (KiSystemServiceEntry, called by arch/x86_64/syscall.asm with the trap frame), calling
 * a service with its captured arguments, PreviousMode, the exception-fixup table lookup,
 * and the user/system boundary. The argument capture itself is lab 08's
 * (KiSystemServiceDispatch in labs/08-usermode/syscall.c). */
#include "bugcodes.h"
#include "ki.h"
#include "kuser.h"
#include "rtl.h"

const ULONG_PTR MmUserProbeAddress = MM_USER_PROBE_ADDRESS;
volatile ULONG64 KiFixupCount;
volatile ULONG64 KiSystemCalls;
volatile ULONG64 KiTestArgumentsSum;

/* The last calls KiCallSystemService made (for the dispatcher's tests): a ring. */
KI_SERVICE_CALL_RECORD KiServiceCallLog[KI_SERVICE_CALL_LOG];
volatile ULONG KiServiceCallLogNext;

KPROCESSOR_MODE ExGetPreviousMode(VOID)
{
    return KeGetCurrentThread()->PreviousMode;
}

extern const KFIXUP_ENTRY KiFixupTable[], KiFixupTableEnd[];
ULONG64 KiFindFixup(ULONG64 Rip)
{
    for (const KFIXUP_ENTRY *e = KiFixupTable; e < KiFixupTableEnd; e++)
        if (e->Rip == Rip)
            return e->Fixup;
    return 0;
}

typedef NTSTATUS (*PKI_SERVICE16)(ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64,
                                  ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64, ULONG64);

NTSTATUS KiCallSystemService(PKSYSTEM_SERVICE Routine, const ULONG64 *Arguments, ULONG Count)
{
    ULONG64 a[KI_MAX_SERVICE_ARGUMENTS] = {0};
    ULONG index = (ULONG)-1;
    for (ULONG i = 0; i < KeServiceDescriptorTable.Limit; i++)
        if (KeServiceDescriptorTable.Base[i] == Routine)
            index = i;
    PKI_SERVICE_CALL_RECORD r = &KiServiceCallLog[KiServiceCallLogNext++ % KI_SERVICE_CALL_LOG];
    r->Service = index;
    r->Count = Count;
    if (Count > KI_MAX_SERVICE_ARGUMENTS || index == (ULONG)-1) {
        DbgPrint("KiCallSystemService: %s with %u arguments (at most %u, a routine of the table)\n",
                 index == (ULONG)-1 ? "a routine not in the service table" : KeServiceDescriptorTable.Names[index],
                 Count, KI_MAX_SERVICE_ARGUMENTS);
        r->Status = STATUS_INVALID_PARAMETER;
        return STATUS_INVALID_PARAMETER;
    }
    for (ULONG i = 0; i < Count; i++)
        a[i] = Arguments[i];
    RtlCopyMemory(r->Arguments, a, sizeof(a));
    NTSTATUS status = ((PKI_SERVICE16)(PVOID)Routine)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
                                                      a[10], a[11], a[12], a[13], a[14], a[15]);
    r->Status = status;
    return status;
}

/* The C half of KiSystemCall64: PASSIVE_LEVEL, interrupts enabled, on the thread's kernel
 * stack with TrapFrame at its top. RAX of the frame gets the status back. */
VOID KiSystemServiceEntry(PKTRAP_FRAME TrapFrame)
{
    PKTHREAD thread = KeGetCurrentThread();
    KiSystemCalls++;
    TrapFrame->PreviousMode = (ULONG64)thread->PreviousMode;
    thread->PreviousMode = UserMode;
    ULONG number = (ULONG)TrapFrame->Rax;
    NTSTATUS status = KiSystemServiceDispatch(TrapFrame);
    if (TrapFrame->Vector != KI_CONTEXT_VECTOR) /* NtContinue/NtRaiseException wrote the whole frame */
        TrapFrame->Rax = (ULONG)status;
    KIRQL irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL)
        KeBugCheckEx(IRQL_GT_ZERO_AT_SYSTEM_SERVICE, number, irql, 0, 0);
    if (thread->ApcState.Process != thread->Process)
        KeBugCheckEx(APC_INDEX_MISMATCH, number, 1, 0, 0); /* a service left the thread attached */
    KiExitToUserMode(TrapFrame);
    thread->PreviousMode = (KPROCESSOR_MODE)TrapFrame->PreviousMode;
}
