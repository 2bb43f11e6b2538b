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
    /* LAB 09: copy code and flags, truncate the pointers, cap NumberParameters at 15, truncate the parameters, zero the rest. */
    UNREFERENCED_PARAMETER(Record);
    UNREFERENCED_PARAMETER(Record32);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: the low halves of the registers, EFlags, ContextFlags CONTEXT_i386_FULL, the 32-bit selectors (0x23, 0x2B, FS 0x53), everything else 0. */
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Context32);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: zero-extend every register, R8-R15 0, ContextFlags CONTEXT_AMD64_FULL, CS 0x23 and the 32-bit selectors, everything else 0. */
    UNREFERENCED_PARAMETER(Context32);
    UNREFERENCED_PARAMETER(Context);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: refuse more than 15 parameters; zero-extend the pointers and parameters, zero the rest. */
    UNREFERENCED_PARAMETER(Record32);
    UNREFERENCED_PARAMETER(Record);
    return STATUS_NOT_IMPLEMENTED;
}
