/* exceptn.c - user-mode exception dispatch, as NT does it (w16x, lab 09's framework): an
 * exception taken in user mode (a page fault MmAccessFault did not resolve, int 3, ud2, a
 * divide error, a #GP...) is not the end of the process. KiDispatchUserException copies an
 * EXCEPTION_RECORD64 and a CONTEXT64 (kernel/include/ntexcept.h) onto the thread's user stack
 * and resumes the thread at its ntdll's KiUserExceptionDispatcher:
 *     RSP -> [CONTEXT64, 0x4D0 bytes][EXCEPTION_RECORD64, 0x98 bytes]   (RSP 16-aligned)
 *     RCX = the record, RDX = the context, CS 0x33, interrupts on.
 * ntdll answers with NtContinue(Context) (a handler fixed it: resume there) or
 * NtRaiseException(Record, Context, FALSE) (second chance: nobody handled it - the process
 * ends with the code, as lab 08's unhandled exception does).
 *
 * Departures from NT: no kernel debugger gets a first look; the floating-point state is not
 * part of the CONTEXT (ContextFlags says so); a process without an ntdll (lab 08's raw code)
 * or whose stack cannot take the frame ends with the exception's code; TestAlert is ignored
 * (there are no user APCs). Every context from user mode is sanitised before any register is
 * loaded from it (KiContextToTrapFrame): it can choose no selector, no IOPL and no ring-0
 * address. */
#include "ki.h"
#include "kuser.h"
#include "ntexcept.h"
#include "ps.h"
#include "rtl.h"

#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400
/* What a context may set in EFlags: CF PF AF ZF SF TF DF OF AC; IF is always set, IOPL, NT,
 * RF, VM, VIF, VIP and ID never. */
#define KI_USER_EFLAGS_MASK 0x00040DD5u
#define KI_USER_EFLAGS_SET 0x00000202u

static USHORT KiReadSelector(int Which)
{
    USHORT s = 0;
    switch (Which) {
    case 0: __asm__ volatile("movw %%ds, %0" : "=r"(s)); break;
    case 1: __asm__ volatile("movw %%es, %0" : "=r"(s)); break;
    case 2: __asm__ volatile("movw %%fs, %0" : "=r"(s)); break;
    default: __asm__ volatile("movw %%gs, %0" : "=r"(s)); break;
    }
    return s;
}

/* The state a trap frame from user mode holds, as a CONTEXT64 (compatibility mode: RIP and
 * RSP are 32-bit values, zero-extended). */
static VOID KiTrapFrameToContext(const KTRAP_FRAME *F, PCONTEXT64 C)
{
    RtlZeroMemory(C, sizeof(*C));
    C->ContextFlags = CONTEXT_AMD64_FULL;
    BOOLEAN compat = (F->SegCs & ~3ULL) == (KGDT64_R3_CMCODE_SEL & ~3);
    C->SegCs = (USHORT)F->SegCs;
    C->SegSs = (USHORT)F->SegSs;
    C->SegDs = KiReadSelector(0);
    C->SegEs = KiReadSelector(1);
    C->SegFs = KiReadSelector(2);
    C->SegGs = KiReadSelector(3);
    C->EFlags = (ULONG)F->EFlags;
    C->Rax = F->Rax, C->Rcx = F->Rcx, C->Rdx = F->Rdx, C->Rbx = F->Rbx;
    C->Rbp = F->Rbp, C->Rsi = F->Rsi, C->Rdi = F->Rdi;
    C->R8 = F->R8, C->R9 = F->R9, C->R10 = F->R10, C->R11 = F->R11;
    C->R12 = F->R12, C->R13 = F->R13, C->R14 = F->R14, C->R15 = F->R15;
    C->Rsp = compat ? (F->Rsp & 0xFFFFFFFFULL) : F->Rsp;
    C->Rip = compat ? (F->Rip & 0xFFFFFFFFULL) : F->Rip;
}

/* A context from user mode into the frame the thread leaves by: CS 0x23 stays compatibility
 * mode (EIP and ESP cut to 32 bits), any other CS is 64-bit user code 0x33; SS 0x2B; EFlags
 * masked (IF set, no IOPL); a 64-bit RIP or RSP outside user space is refused
 * (STATUS_INVALID_PARAMETER, the frame untouched): iretq would fault in ring 0 on it. The
 * frame is marked KI_CONTEXT_VECTOR so that it leaves by iretq with every register. */
static NTSTATUS KiContextToTrapFrame(PCONTEXT64 C, PKTRAP_FRAME F)
{
    BOOLEAN compat = C->SegCs == KGDT64_R3_CMCODE_SEL;
    if (compat) {
        C->Rip &= 0xFFFFFFFFULL;
        C->Rsp &= 0xFFFFFFFFULL;
    } else if (C->Rip > MM_HIGHEST_USER_ADDRESS || C->Rsp > MM_HIGHEST_USER_ADDRESS + 1) {
        return STATUS_INVALID_PARAMETER;
    }
    C->SegCs = compat ? KGDT64_R3_CMCODE_SEL : KGDT64_R3_CODE_SEL;
    C->SegSs = KGDT64_R3_DATA_SEL;
    C->EFlags = (C->EFlags & KI_USER_EFLAGS_MASK) | KI_USER_EFLAGS_SET;
    F->Rax = C->Rax, F->Rcx = C->Rcx, F->Rdx = C->Rdx, F->Rbx = C->Rbx;
    F->Rbp = C->Rbp, F->Rsi = C->Rsi, F->Rdi = C->Rdi;
    F->R8 = C->R8, F->R9 = C->R9, F->R10 = C->R10, F->R11 = C->R11;
    F->R12 = C->R12, F->R13 = C->R13, F->R14 = C->R14, F->R15 = C->R15;
    F->Rip = C->Rip;
    F->Rsp = C->Rsp;
    F->SegCs = C->SegCs;
    F->SegSs = C->SegSs;
    F->EFlags = C->EFlags;
    F->Vector = KI_CONTEXT_VECTOR;
    return STATUS_SUCCESS;
}

/* Copies Record and Context below Context->Rsp and points the frame at the dispatcher.
 * FALSE (nothing of the frame changed) when the process has no dispatcher or the user stack
 * cannot take the 0x568 bytes (a bad RSP, an absent or read-only page). */
static BOOLEAN KiDeliverToUser(PKTRAP_FRAME F, const EXCEPTION_RECORD64 *Record, const CONTEXT64 *Context)
{
    PEPROCESS process = KeGetCurrentThread()->Process;
    ULONG64 dispatcher = process ? process->UserExceptionDispatcher : 0;
    const ULONG64 size = sizeof(CONTEXT64) + sizeof(EXCEPTION_RECORD64);
    ULONG64 sp = Context->Rsp;
    if (!dispatcher || sp < size + 16 || sp > MM_HIGHEST_USER_ADDRESS + 1)
        return FALSE;
    sp = (sp - size) & ~15ULL;
    if (!NT_SUCCESS(KeCopyToUser((PVOID)sp, Context, sizeof(CONTEXT64))) ||
        !NT_SUCCESS(KeCopyToUser((PVOID)(sp + sizeof(CONTEXT64)), Record, sizeof(EXCEPTION_RECORD64))))
        return FALSE;
    F->Rsp = sp;
    F->Rip = dispatcher;
    F->Rcx = sp + sizeof(CONTEXT64);
    F->Rdx = sp;
    F->SegCs = KGDT64_R3_CODE_SEL;
    F->SegSs = KGDT64_R3_DATA_SEL;
    F->EFlags = (F->EFlags & ~(ULONG64)(EFLAGS_TF | EFLAGS_DF)) | KI_USER_EFLAGS_SET;
    F->Vector = KI_CONTEXT_VECTOR;
    return TRUE;
}

static DECLSPEC_NORETURN VOID KiEndWithRecord(const EXCEPTION_RECORD64 *R)
{
    PspRaiseUserException((NTSTATUS)R->ExceptionCode, R->ExceptionAddress,
                          R->NumberParameters > 0 ? R->ExceptionInformation[0] : 0,
                          R->NumberParameters > 1 ? R->ExceptionInformation[1] : 0);
}

VOID KiDispatchUserException(PKTRAP_FRAME TrapFrame, NTSTATUS Code, ULONG64 Address, ULONG NumberParameters,
                             ULONG64 Info0, ULONG64 Info1)
{
    EXCEPTION_RECORD64 record;
    RtlZeroMemory(&record, sizeof(record));
    record.ExceptionCode = (ULONG)Code;
    record.ExceptionAddress = (TrapFrame->SegCs & ~3ULL) == (KGDT64_R3_CMCODE_SEL & ~3) ? (Address & 0xFFFFFFFFULL)
                                                                                          : Address;
    record.NumberParameters = NumberParameters;
    record.ExceptionInformation[0] = Info0;
    record.ExceptionInformation[1] = Info1;
    CONTEXT64 context;
    KiTrapFrameToContext(TrapFrame, &context);
    if (!KiDeliverToUser(TrapFrame, &record, &context))
        KiEndWithRecord(&record);
}

/* A user buffer of Length bytes at Address, wholly below the user boundary. */
static NTSTATUS KiCaptureUser(PVOID Buffer, const VOID *Address, SIZE_T Length)
{
    ULONG_PTR va = (ULONG_PTR)Address;
    if (va == 0 || va >= MmUserProbeAddress || Length > MmUserProbeAddress - va)
        return STATUS_ACCESS_VIOLATION;
    return KeCopyFromUser(Buffer, Address, Length);
}

/* NtContinue: the thread resumes in user mode with every register of Context (sanitised). */
NTSTATUS NtContinue(PCONTEXT64 Context, BOOLEAN TestAlert)
{
    UNREFERENCED_PARAMETER(TestAlert);
    PKTHREAD thread = KeGetCurrentThread();
    if (ExGetPreviousMode() != UserMode || thread->TrapFrame == NULL)
        return STATUS_INVALID_PARAMETER;
    CONTEXT64 c;
    NTSTATUS status = KiCaptureUser(&c, Context, sizeof(c));
    if (!NT_SUCCESS(status))
        return status;
    return KiContextToTrapFrame(&c, thread->TrapFrame);
}

/* NtRaiseException: FirstChance - the exception is dispatched as if the instruction at
 * Context->Rip had raised it (the record and the sanitised context go to the user stack below
 * Context->Rsp); else the process ends with the record's code. */
NTSTATUS NtRaiseException(PEXCEPTION_RECORD64 ExceptionRecord, PCONTEXT64 Context, BOOLEAN FirstChance)
{
    PKTHREAD thread = KeGetCurrentThread();
    if (ExGetPreviousMode() != UserMode || thread->TrapFrame == NULL)
        return STATUS_INVALID_PARAMETER;
    EXCEPTION_RECORD64 r;
    CONTEXT64 c;
    NTSTATUS status = KiCaptureUser(&r, ExceptionRecord, sizeof(r));
    if (NT_SUCCESS(status))
        status = KiCaptureUser(&c, Context, sizeof(c));
    if (!NT_SUCCESS(status))
        return status;
    if (r.NumberParameters > EXCEPTION_MAXIMUM_PARAMETERS)
        return STATUS_INVALID_PARAMETER;
    if (!FirstChance)
        KiEndWithRecord(&r);
    KTRAP_FRAME frame = *thread->TrapFrame;
    status = KiContextToTrapFrame(&c, &frame);
    if (!NT_SUCCESS(status))
        return status;
    if (!KiDeliverToUser(&frame, &r, &c))
        KiEndWithRecord(&r);
    *thread->TrapFrame = frame;
    return STATUS_SUCCESS;
}
