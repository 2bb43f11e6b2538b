/* except.c - ntdll's side of user-mode exception dispatch (lab 09, w16x), built twice:
 *
 * 64-bit ntdll: KiUserExceptionDispatcher, where the kernel resumes a thread that took an
 * exception (kernel/ke/exceptn.c), with RSP -> [CONTEXT64][EXCEPTION_RECORD64]. A thread
 * that was in compatibility mode (SegCs 0x23) goes to the wow64 layer's
 * Wow64PrepareForException (the kernel, as the loader, writes its address into this ntdll's
 * Wow64PrepareForException for a WOW64 process), which does not return. Native 64-bit code has
 * no handlers here (no unwind-table SEH): the exception is raised second chance and the
 * process ends with its code.
 *
 * 32-bit ntdll: KiUserExceptionDispatcher, entered in compatibility mode by the wow64 layer
 * with ESP -> [&EXCEPTION_RECORD32][&CONTEXT32] (NT x86's frame); RtlDispatchException walks
 * the FS:[0] chain of EXCEPTION_REGISTRATION_RECORD32s and calls each handler (cdecl)
 * with (record, its registration record, context, NULL). ExceptionContinueExecution ->
 * NtContinue(context); ExceptionContinueSearch -> the next; the end of the chain, a record
 * outside the stack or misaligned, or any other answer -> NtRaiseException second chance.
 * RtlRaiseException captures the caller's context and raises first chance. */
#include "ntexcept.h"

NTSTATUS NtTerminateProcess(HANDLE ProcessHandle, NTSTATUS ExitStatus);

#define EXPORT __attribute__((visibility("default")))
#define EXCEPTION_STACK_INVALID 0x08

#ifdef __x86_64__

EXPORT PVOID Wow64PrepareForException;

__attribute__((noreturn, used)) void RtlpDispatchUserException(PEXCEPTION_RECORD Record, PCONTEXT Context)
{
    if (Context->SegCs == KGDT64_R3_CMCODE_SEL && Wow64PrepareForException)
        ((void (*)(PEXCEPTION_RECORD, PCONTEXT))Wow64PrepareForException)(Record, Context);
    NTSTATUS status = NtRaiseException(Record, Context, FALSE);
    NtTerminateProcess(NtCurrentProcess(), status);
    for (;;)
        ;
}

__asm__(".text\n"
        "\t.globl KiUserExceptionDispatcher\n"
        "\t.p2align 4\n"
        "KiUserExceptionDispatcher:\n"
        "\tcld\n"
        "\tleaq 0x4D0(%rsp), %rcx\n"              /* the EXCEPTION_RECORD64, after the CONTEXT64 */
        "\tmovq %rsp, %rdx\n"                     /* the CONTEXT64 */
        "\tsubq $0x20, %rsp\n"                    /* home space; RSP stays 16-aligned at the call */
        "\tcall RtlpDispatchUserException\n"
        "\tud2\n");

#else /* ntdll32 */

typedef ULONG(__attribute__((cdecl)) * PEXCEPTION_ROUTINE32)(PEXCEPTION_RECORD, PVOID, PCONTEXT, PVOID);

static ULONG RtlpReadFs(ULONG Offset)
{
    ULONG v;
    __asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(Offset) : "memory");
    return v;
}

/* TRUE if a handler answered ExceptionContinueExecution. */
EXPORT BOOLEAN RtlDispatchException(PEXCEPTION_RECORD Record, PCONTEXT Context)
{
    ULONG high = RtlpReadFs(4), low = RtlpReadFs(8);
    ULONG reg = RtlpReadFs(0);
    while (reg != EXCEPTION_CHAIN_END32) {
        if (reg < low || reg > high - sizeof(EXCEPTION_REGISTRATION_RECORD32) || (reg & 3)) {
            Record->ExceptionFlags |= EXCEPTION_STACK_INVALID;
            return FALSE;
        }
        PEXCEPTION_REGISTRATION_RECORD32 r = (PEXCEPTION_REGISTRATION_RECORD32)reg;
        ULONG disposition = ((PEXCEPTION_ROUTINE32)r->Handler)(Record, r, Context, NULL);
        if (disposition == ExceptionContinueExecution)
            return (Record->ExceptionFlags & EXCEPTION_NONCONTINUABLE) == 0;
        if (disposition != ExceptionContinueSearch)
            return FALSE;
        reg = r->Next;
    }
    return FALSE;
}

__attribute__((noreturn, used)) void RtlpDispatchUserException(PEXCEPTION_RECORD Record, PCONTEXT Context)
{
    NTSTATUS status;
    if (RtlDispatchException(Record, Context))
        status = NtContinue(Context, FALSE);
    else
        status = NtRaiseException(Record, Context, FALSE);
    NtTerminateProcess(NtCurrentProcess(), status);
    for (;;)
        ;
}

__asm__(".text\n"
        "\t.globl _KiUserExceptionDispatcher\n"
        "\t.p2align 4\n"
        "_KiUserExceptionDispatcher:\n"
        "\tcld\n"
        "\tmovl (%esp), %ecx\n"                   /* &EXCEPTION_RECORD32 */
        "\tmovl 4(%esp), %edx\n"                  /* &CONTEXT32 */
        "\tandl $-16, %esp\n"
        "\tsubl $8, %esp\n"
        "\tpushl %edx\n"
        "\tpushl %ecx\n"
        "\tcall _RtlpDispatchUserException\n"
        "\tud2\n");

/* RtlRaiseException(Record): the CONTEXT32 (0x2CC bytes) at -0x2D0(%ebp) holds the caller's
 * registers as at its return: EIP the return address, ESP just above it, EBP the caller's,
 * EAX 0 (what the call returns when a handler continues). */
#define CTX "-0x2D0"
__asm__(".text\n"
        "\t.globl _RtlRaiseException\n"
        "\t.p2align 4\n"
        "_RtlRaiseException:\n"
        "\tpushl %ebp\n"
        "\tmovl %esp, %ebp\n"
        "\tsubl $0x2D0, %esp\n"
        "\tpushl %edi\n"
        "\tpushl %ecx\n"
        "\tpushl %eax\n"
        "\tleal " CTX "(%ebp), %edi\n"
        "\tmovl $0xB3, %ecx\n"                    /* 0x2CC / 4 */
        "\txorl %eax, %eax\n"
        "\trep stosl\n"
        "\tpopl %eax\n"
        "\tpopl %ecx\n"
        "\tpopl %edi\n"
        "\tmovl $0x10007, " CTX "+0x00(%ebp)\n"   /* CONTEXT_i386_FULL */
        "\tmovl %edi, " CTX "+0x9C(%ebp)\n"
        "\tmovl %esi, " CTX "+0xA0(%ebp)\n"
        "\tmovl %ebx, " CTX "+0xA4(%ebp)\n"
        "\tmovl %edx, " CTX "+0xA8(%ebp)\n"
        "\tmovl %ecx, " CTX "+0xAC(%ebp)\n"
        "\tmovl $0, " CTX "+0xB0(%ebp)\n"         /* EAX */
        "\tmovl (%ebp), %eax\n"
        "\tmovl %eax, " CTX "+0xB4(%ebp)\n"       /* EBP: the caller's */
        "\tmovl 4(%ebp), %eax\n"
        "\tmovl %eax, " CTX "+0xB8(%ebp)\n"       /* EIP: the return address */
        "\tmovl $0x23, " CTX "+0xBC(%ebp)\n"
        "\tpushfl\n"
        "\tpopl %eax\n"
        "\tmovl %eax, " CTX "+0xC0(%ebp)\n"
        "\tleal 8(%ebp), %eax\n"
        "\tmovl %eax, " CTX "+0xC4(%ebp)\n"       /* ESP: as after the return */
        "\tmovl $0x2B, " CTX "+0xC8(%ebp)\n"
        "\tmovl %gs, %eax\n"
        "\tmovl %eax, " CTX "+0x8C(%ebp)\n"
        "\tmovl %fs, %eax\n"
        "\tmovl %eax, " CTX "+0x90(%ebp)\n"
        "\tmovl %es, %eax\n"
        "\tmovl %eax, " CTX "+0x94(%ebp)\n"
        "\tmovl %ds, %eax\n"
        "\tmovl %eax, " CTX "+0x98(%ebp)\n"
        "\tmovl 8(%ebp), %eax\n"                  /* the record */
        "\tmovl " CTX "+0xB8(%ebp), %ecx\n"
        "\tmovl %ecx, 0x0C(%eax)\n"               /* ExceptionAddress = EIP */
        "\tpushl $1\n"                            /* FirstChance */
        "\tleal " CTX "(%ebp), %ecx\n"
        "\tpushl %ecx\n"
        "\tpushl %eax\n"
        "\tcall _NtRaiseException\n"
        "\taddl $12, %esp\n"
        "\tleave\n"
        "\tret\n");

#endif
