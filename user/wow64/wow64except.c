/* wow64except.c - the wow64 layer's part in exceptions (w16x; wow64.dll's
 * Wow64PrepareForException role): the calling thread's TEB32 start (the SEH chain head FS:[0]
 * and the stack bounds the 32-bit dispatcher checks records against), the turn of a native exception
 * into a 32-bit one, and the framework's thunks of NtContinue and NtRaiseException. The
 * conversions themselves are the student's (labs/09-wow64/exception.c).
 *
 * Wow64PrepareForException(Record, Context): called by the 64-bit ntdll's
 * KiUserExceptionDispatcher for a thread that was in compatibility mode, on the 32-bit stack
 * below the faulting ESP (where the kernel put the native record and context). It converts
 * both into locals, then lays out NT x86's frame just below the faulting ESP - over the native
 * structures, which are consumed by then and lie above this function's own frame:
 *     ESP -> [&EXCEPTION_RECORD32][&CONTEXT32][EXCEPTION_RECORD32 (0x50)][CONTEXT32 (0x2CC)] <- old ESP
 * and far-returns to ntdll32's KiUserExceptionDispatcher at CS 0x23. A conversion that fails,
 * or no 32-bit dispatcher: the exception is raised second chance (the process ends with it). */
#include "wow64t.h"
#include "wow64layer.h"

#define WOW64_EXPORT __attribute__((visibility("default")))

/* The calling thread's TEB32 (w16t: one per thread, mapped by the kernel and named by the
 * TEB64's NtTib.ExceptionList; FS's base while the thread runs): an empty SEH chain and the
 * bounds of its 32-bit stack. */
VOID Wow64InitializeTeb32(ULONG StackLimit, ULONG StackBase)
{
    NT_TIB32_W *teb32 = (NT_TIB32_W *)Wow64CurrentTeb()->NtTib.ExceptionList;
    if (!teb32)
        return;
    teb32->ExceptionList = EXCEPTION_CHAIN_END32;
    teb32->StackBase = StackBase;
    teb32->StackLimit = StackLimit;
}

WOW64_EXPORT __attribute__((noreturn)) VOID Wow64PrepareForException(PEXCEPTION_RECORD64 Record, PCONTEXT64 Context)
{
    EXCEPTION_RECORD32 record32;
    CONTEXT32 context32;
    ULONG esp = (ULONG)Context->Rsp;
    ULONG frame = (esp - (ULONG)(sizeof(EXCEPTION_RECORD32) + sizeof(CONTEXT32) + 8)) & ~3u;
    NTSTATUS status = Wow64ExceptionRecordTo32(Record, &record32);
    if (NT_SUCCESS(status))
        status = Wow64ContextTo32(Context, &context32);
    if (!NT_SUCCESS(status) || Wow64StartBlock.KiUserExceptionDispatcher32 == 0 || frame > esp) {
        NtRaiseException(Record, Context, FALSE);
        NtTerminateProcess(NtCurrentProcess(), (NTSTATUS)Record->ExceptionCode);
        for (;;)
            ;
    }
    PULONG slots = (PULONG)(ULONG_PTR)frame;
    PEXCEPTION_RECORD32 r32 = (PEXCEPTION_RECORD32)(ULONG_PTR)(frame + 8);
    PCONTEXT32 c32 = (PCONTEXT32)(ULONG_PTR)(frame + 8 + sizeof(EXCEPTION_RECORD32));
    *r32 = record32;
    *c32 = context32;
    slots[0] = (ULONG)(ULONG_PTR)r32;
    slots[1] = (ULONG)(ULONG_PTR)c32;
    Wow64JumpTo32(Wow64StartBlock.KiUserExceptionDispatcher32, frame);
}

/* NtContinue(CONTEXT32 *, TestAlert) from 32-bit code: the context in the native layout
 * (compatibility mode, CS 0x23), then the native service, which does not come back. */
NTSTATUS whNtContinue(PULONG Args)
{
    CONTEXT64 context;
    if (Args[0] == 0)
        return STATUS_ACCESS_VIOLATION;
    NTSTATUS status = Wow64ContextFrom32(Wow64Ptr(Args[0]), &context);
    if (!NT_SUCCESS(status))
        return status;
    return NtContinue(&context, (BOOLEAN)Args[1]);
}

/* NtRaiseException(EXCEPTION_RECORD32 *, CONTEXT32 *, FirstChance) from 32-bit code. */
NTSTATUS whNtRaiseException(PULONG Args)
{
    EXCEPTION_RECORD64 record;
    CONTEXT64 context;
    if (Args[0] == 0 || Args[1] == 0)
        return STATUS_ACCESS_VIOLATION;
    NTSTATUS status = Wow64ExceptionRecordFrom32(Wow64Ptr(Args[0]), &record);
    if (NT_SUCCESS(status))
        status = Wow64ContextFrom32(Wow64Ptr(Args[1]), &context);
    if (!NT_SUCCESS(status))
        return status;
    return NtRaiseException(&record, &context, (BOOLEAN)Args[2]);
}
