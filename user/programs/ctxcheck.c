/* ctxcheck.c - hostile contexts against NtContinue and NtRaiseException (w16x; 64-bit, run by
 * the ktest wow64.seh after wowseh.exe): a context that names the kernel's code and stack
 * selectors with IOPL 3 and IF clear resumes in ring 3 with CS 0x33, IOPL 0 and IF set; a
 * kernel, non-canonical or null RIP or RSP is refused with STATUS_INVALID_PARAMETER and the
 * thread goes on; bad pointers are STATUS_ACCESS_VIOLATION; more than 15 parameters is
 * STATUS_INVALID_PARAMETER. It ends raising a seeded code first chance: 64-bit code has no
 * handlers here, so ntdll64's dispatcher raises it second chance and the process ends with it.
 * grader/models/lab09x.py judges every value from the seed. */
#include "ktuser.h"
#include "ntexcept.h"

#ifdef __x86_64__

#define MARK 0x5EC0FFEEu

CONTEXT CtxContext;
UCHAR CtxSetRip;
NTSTATUS CtxTry(PCONTEXT Context);

/* CtxTry(Context): the caller's callee-saved registers, RSP at the call and (when CtxSetRip)
 * RIP = the instruction after the call go into Context; NtContinue(Context) either resumes
 * there - which looks like the call returning Context->Rax - or returns its refusal. */
__asm__(".text\n"
        "\t.globl CtxTry\n"
        "CtxTry:\n"
        "\tsubq $40, %rsp\n"
        "\tmovq %rbx, 0x90(%rcx)\n\tmovq %rbp, 0xA0(%rcx)\n\tmovq %rsi, 0xA8(%rcx)\n\tmovq %rdi, 0xB0(%rcx)\n"
        "\tmovq %r12, 0xD8(%rcx)\n\tmovq %r13, 0xE0(%rcx)\n\tmovq %r14, 0xE8(%rcx)\n\tmovq %r15, 0xF0(%rcx)\n"
        "\tmovq %rsp, 0x98(%rcx)\n"
        "\tcmpb $0, CtxSetRip(%rip)\n"
        "\tje 1f\n"
        "\tleaq CtxResume(%rip), %rax\n"
        "\tmovq %rax, 0xF8(%rcx)\n"
        "1:\txorl %edx, %edx\n"
        "\tcall NtContinue\n"
        "CtxResume:\n"
        "\taddq $40, %rsp\n"
        "\tret\n");

static ULONG64 State;

static ULONG64 Next(void)
{
    State += 0x9E3779B97F4A7C15ULL;
    ULONG64 z = State;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static NTSTATUS Try(USHORT Cs, USHORT Ss, ULONG EFlags, BOOLEAN SetRip, ULONG64 Rip, ULONG64 Rsp)
{
    CtxContext = (CONTEXT){0};
    CtxContext.ContextFlags = CONTEXT_AMD64_FULL;
    CtxContext.SegCs = Cs;
    CtxContext.SegSs = Ss;
    CtxContext.EFlags = EFlags;
    CtxContext.Rax = MARK;
    CtxContext.Rip = Rip;
    CtxSetRip = SetRip;
    if (Rsp) {
        /* RSP cannot be chosen through CtxTry (it writes its own): refused before it matters. */
        CtxContext.Rsp = Rsp;
        return NtContinue(&CtxContext, FALSE);
    }
    return CtxTry(&CtxContext);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: ctxcheck SEED");
        return 2;
    }
    State = RtlStringToUlong64(argv[1], NULL);
    /* Ring 0's selectors, IOPL 3, IF clear, NT and the seeded arithmetic flags. */
    ULONG flags = ((ULONG)Next() & 0x8D5) | 0x3000 | 0x4000;
    NTSTATUS s = Try(0x10, 0x18, flags, TRUE, 0, 0);
    USHORT cs, ss;
    ULONG64 now;
    __asm__ volatile("movw %%cs, %0; movw %%ss, %1; pushfq; popq %2" : "=r"(cs), "=r"(ss), "=r"(now));
    KtuValue("ring0", "0x%x 0x%x 0x%x %u %u %u", (ULONG)s, cs, ss, (ULONG)((now >> 12) & 3), (ULONG)((now >> 9) & 1),
             (ULONG)((now >> 14) & 1));
    ULONG64 kernel = 0xFFFF800000000000ULL + (Next() & 0x7FFFFFFFFFF0ULL);
    ULONG64 noncanonical = 0x0000800000000000ULL + (Next() & 0x7FFFFFFFFFF0ULL);
    KtuValue("rip_kernel", "0x%x", (ULONG)Try(0x33, 0x2B, 0x202, FALSE, kernel, 0));
    KtuValue("rip_noncanonical", "0x%x", (ULONG)Try(0x33, 0x2B, 0x202, FALSE, noncanonical, 0));
    CtxSetRip = FALSE;
    CtxContext.Rip = 0x10000;
    KtuValue("rsp_kernel", "0x%x", (ULONG)Try(0x33, 0x2B, 0x202, FALSE, 0x10000, kernel));
    KtuValue("rsp_noncanonical", "0x%x", (ULONG)Try(0x33, 0x2B, 0x202, FALSE, 0x10000, noncanonical));
    KtuValue("null", "0x%x 0x%x", (ULONG)NtContinue(NULL, FALSE), (ULONG)NtRaiseException(NULL, &CtxContext, TRUE));
    KtuValue("kernel_pointer", "0x%x", (ULONG)NtContinue((PCONTEXT)kernel, FALSE));
    static EXCEPTION_RECORD record;
    record.ExceptionCode = 0xE0000000u | ((ULONG)Next() & 0x0FFFFFFF);
    record.NumberParameters = 16 + (ULONG)(Next() % 100);
    KtuValue("raise_16", "0x%x", (ULONG)NtRaiseException(&record, &CtxContext, TRUE));
    /* The end: a first-chance raise with no 64-bit handler ends the process with its code. */
    record.NumberParameters = 1;
    record.ExceptionInformation[0] = Next();
    CtxContext = (CONTEXT){0};
    CtxContext.SegCs = 0x33;
    CtxContext.SegSs = 0x2B;
    CtxContext.EFlags = 0x202;
    CtxSetRip = TRUE;
    __asm__ volatile("movq %%rsp, %0" : "=r"(CtxContext.Rsp));
    CtxContext.Rsp -= 0x1000;
    CtxContext.Rip = (ULONG64)(ULONG_PTR)&main;
    record.ExceptionAddress = CtxContext.Rip;
    KtuValue("final_address", "0x%llx", CtxContext.Rip);
    NtRaiseException(&record, &CtxContext, TRUE);
    KtuPrint("the raise came back");
    return 1;
}

#else

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    KtuPrint("ctxcheck is a 64-bit program");
    return 2;
}

#endif
