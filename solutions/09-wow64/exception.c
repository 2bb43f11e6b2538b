/* exception.c - lab 09: exceptions in 32-bit code. The kernel hands every user-mode exception
 * to the 64-bit ntdll as an EXCEPTION_RECORD64 + CONTEXT64 (NT x64's layouts); for a thread
 * that was running 32-bit code, the wow64 layer converts them to the i386 layouts
 * (EXCEPTION_RECORD32 + CONTEXT32) that 32-bit handlers read, and converts the context a handler
 * returns (NtContinue) or a 32-bit RaiseException passes (NtRaiseException) back to the native
 * layouts. The layouts and their offsets: kernel/include/ntexcept.h; the path of one exception
 * through both modes: handouts/09-wow64.md.
 * IRQL: user mode (PASSIVE_LEVEL): plain memory work on the caller's structures, no system
 * call and no kernel routine. */
#include "wow64t.h"

/*
 * Wow64ExceptionRecordTo32 - the record a 32-bit handler sees.
 * Contract: writes all 0x50 bytes of *Record32 and nothing else: ExceptionCode and
 * ExceptionFlags copied; ExceptionRecord (the nested record) and ExceptionAddress truncated to
 * their low 32 bits; NumberParameters copied but capped at EXCEPTION_MAXIMUM_PARAMETERS (15);
 * ExceptionInformation[i] truncated to 32 bits for i < that count, the entries past it 0.
 * Record or Record32 NULL: STATUS_INVALID_PARAMETER, nothing written. STATUS_SUCCESS.
 * IRQL: PASSIVE_LEVEL (user mode, in the wow64 layer): no system call, no kernel routine -
 * plain memory work.
 */
NTSTATUS Wow64ExceptionRecordTo32(const EXCEPTION_RECORD64 *Record, PEXCEPTION_RECORD32 Record32)
{
    if (Record == NULL || Record32 == NULL)
        return STATUS_INVALID_PARAMETER;
    EXCEPTION_RECORD32 r = {0};
    r.ExceptionCode = Record->ExceptionCode;
    r.ExceptionFlags = Record->ExceptionFlags;
    r.ExceptionRecord = (ULONG)Record->ExceptionRecord;
    r.ExceptionAddress = (ULONG)Record->ExceptionAddress;
    r.NumberParameters = Record->NumberParameters < EXCEPTION_MAXIMUM_PARAMETERS ? Record->NumberParameters
                                                                                : EXCEPTION_MAXIMUM_PARAMETERS;
    for (ULONG i = 0; i < r.NumberParameters; i++)
        r.ExceptionInformation[i] = (ULONG)Record->ExceptionInformation[i];
    *Record32 = r;
    return STATUS_SUCCESS;
}

/*
 * Wow64ContextTo32 - the context a 32-bit handler sees (and may change).
 * Contract: writes all 0x2CC bytes of *Context32 and nothing else: ContextFlags =
 * CONTEXT_i386_FULL (CONTEXT_i386 | CONTROL | INTEGER | SEGMENTS, 0x10007); Eax, Ebx, Ecx, Edx,
 * Esi, Edi, Ebp, Esp, Eip = the low 32 bits of Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp, Rip;
 * EFlags copied; the selectors of 32-bit user code whatever the native context says: SegCs
 * 0x23, SegSs, SegDs, SegEs and SegGs 0x2B, SegFs 0x53 (the TEB32); Dr0-Dr7, FloatSave and
 * ExtendedRegisters 0 (not captured). Context or Context32 NULL: STATUS_INVALID_PARAMETER,
 * nothing written. STATUS_SUCCESS.
 * IRQL: PASSIVE_LEVEL (user mode, in the wow64 layer): no system call, no kernel routine -
 * plain memory work.
 */
NTSTATUS Wow64ContextTo32(const CONTEXT64 *Context, PCONTEXT32 Context32)
{
    if (Context == NULL || Context32 == NULL)
        return STATUS_INVALID_PARAMETER;
    *Context32 = (CONTEXT32){0};
    Context32->ContextFlags = CONTEXT_i386_FULL;
    Context32->Eax = (ULONG)Context->Rax;
    Context32->Ebx = (ULONG)Context->Rbx;
    Context32->Ecx = (ULONG)Context->Rcx;
    Context32->Edx = (ULONG)Context->Rdx;
    Context32->Esi = (ULONG)Context->Rsi;
    Context32->Edi = (ULONG)Context->Rdi;
    Context32->Ebp = (ULONG)Context->Rbp;
    Context32->Esp = (ULONG)Context->Rsp;
    Context32->Eip = (ULONG)Context->Rip;
    Context32->EFlags = Context->EFlags;
    Context32->SegCs = KGDT64_R3_CMCODE_SEL;
    Context32->SegSs = KGDT64_R3_DATA_SEL;
    Context32->SegDs = KGDT64_R3_DATA_SEL;
    Context32->SegEs = KGDT64_R3_DATA_SEL;
    Context32->SegGs = KGDT64_R3_DATA_SEL;
    Context32->SegFs = KGDT64_R3_CMTEB_SEL;
    return STATUS_SUCCESS;
}

/*
 * Wow64ContextFrom32 - the native context NtContinue/NtRaiseException get for a 32-bit one.
 * Contract: writes all 0x4D0 bytes of *Context and nothing else: ContextFlags =
 * CONTEXT_AMD64_FULL (0x100007); Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp, Rip = Eax, Ebx, Ecx,
 * Edx, Esi, Edi, Ebp, Esp, Eip zero-extended (the upper halves 0, never copies of bit 31);
 * R8-R15 0; EFlags copied (the kernel sanitises it); SegCs 0x23 whatever the 32-bit context
 * says (the thread goes back to compatibility mode - never 64-bit code, never ring 0); SegSs,
 * SegDs, SegEs, SegGs 0x2B, SegFs 0x53; everything else 0. Context32 or Context NULL:
 * STATUS_INVALID_PARAMETER, nothing written. STATUS_SUCCESS.
 * IRQL: PASSIVE_LEVEL (user mode, in the wow64 layer): no system call, no kernel routine -
 * plain memory work.
 */
NTSTATUS Wow64ContextFrom32(const CONTEXT32 *Context32, PCONTEXT64 Context)
{
    if (Context32 == NULL || Context == NULL)
        return STATUS_INVALID_PARAMETER;
    *Context = (CONTEXT64){0};
    Context->ContextFlags = CONTEXT_AMD64_FULL;
    Context->Rax = Context32->Eax;
    Context->Rbx = Context32->Ebx;
    Context->Rcx = Context32->Ecx;
    Context->Rdx = Context32->Edx;
    Context->Rsi = Context32->Esi;
    Context->Rdi = Context32->Edi;
    Context->Rbp = Context32->Ebp;
    Context->Rsp = Context32->Esp;
    Context->Rip = Context32->Eip;
    Context->EFlags = Context32->EFlags;
    Context->SegCs = KGDT64_R3_CMCODE_SEL;
    Context->SegSs = KGDT64_R3_DATA_SEL;
    Context->SegDs = KGDT64_R3_DATA_SEL;
    Context->SegEs = KGDT64_R3_DATA_SEL;
    Context->SegGs = KGDT64_R3_DATA_SEL;
    Context->SegFs = KGDT64_R3_CMTEB_SEL;
    return STATUS_SUCCESS;
}

/*
 * Wow64ExceptionRecordFrom32 - the native record for a 32-bit RaiseException.
 * Contract: NumberParameters above EXCEPTION_MAXIMUM_PARAMETERS (15): STATUS_INVALID_PARAMETER
 * and nothing written (never capped: the raiser asked for what cannot be delivered). Else
 * writes all 0x98 bytes of *Record and nothing else: ExceptionCode, ExceptionFlags and
 * NumberParameters copied; ExceptionRecord, ExceptionAddress and ExceptionInformation[i]
 * (i < NumberParameters) zero-extended; the entries past NumberParameters and the alignment
 * field 0. Record32 or Record NULL: STATUS_INVALID_PARAMETER, nothing written. STATUS_SUCCESS.
 * IRQL: PASSIVE_LEVEL (user mode, in the wow64 layer): no system call, no kernel routine -
 * plain memory work.
 */
NTSTATUS Wow64ExceptionRecordFrom32(const EXCEPTION_RECORD32 *Record32, PEXCEPTION_RECORD64 Record)
{
    if (Record32 == NULL || Record == NULL || Record32->NumberParameters > EXCEPTION_MAXIMUM_PARAMETERS)
        return STATUS_INVALID_PARAMETER;
    EXCEPTION_RECORD64 r = {0};
    r.ExceptionCode = Record32->ExceptionCode;
    r.ExceptionFlags = Record32->ExceptionFlags;
    r.ExceptionRecord = Record32->ExceptionRecord;
    r.ExceptionAddress = Record32->ExceptionAddress;
    r.NumberParameters = Record32->NumberParameters;
    for (ULONG i = 0; i < r.NumberParameters; i++)
        r.ExceptionInformation[i] = Record32->ExceptionInformation[i];
    *Record = r;
    return STATUS_SUCCESS;
}
