/* wow64_seh_tests.c - lab 09's exception checkpoint (w16x): user/programs/wowseh.c built
 * 32-bit faults with seeded registers (access violations reading and writing a seeded address,
 * int 3, ud2, a divide by zero), raises a seeded exception with seeded parameters and one with
 * too many, once behind a handler that continues the search, and ends with a fault no handler
 * takes. Every exception goes kernel -> ntdll64 -> the wow64 layer (your conversions,
 * labs/09-wow64/exception.c) -> ntdll32's FS:[0] walk -> the 32-bit handler, which continues
 * through NtContinue (your 32 -> 64 conversion). The grader (grader/models/lab09x.py) judges
 * every record, register and the exit status from the seed. Then user/programs/ctxcheck.c
 * (64-bit) hands NtContinue and NtRaiseException hostile contexts and pointers: ring 0's
 * selectors, IOPL 3 and IF clear come back as CS 0x33, IOPL 0, IF set; kernel and non-canonical
 * RIP/RSP are refused; its unhandled raise ends it with the code. */
#include "ktest.h"
#include "usertest.h"
#include "wow64_support.h"

/* A stubbed lab reports itself before the program runs: each conversion once in the kernel. */
static BOOLEAN KtwExceptionsImplemented(PKTEST_CONTEXT Context)
{
    static EXCEPTION_RECORD64 r;
    static EXCEPTION_RECORD32 r32;
    static CONTEXT64 c;
    static CONTEXT32 c32;
    RtlZeroMemory(&r, sizeof(r));
    RtlZeroMemory(&r32, sizeof(r32));
    RtlZeroMemory(&c, sizeof(c));
    RtlZeroMemory(&c32, sizeof(c32));
    return KtRequireImplemented(Context, Wow64ExceptionRecordTo32(&r, &r32), "Wow64ExceptionRecordTo32", "lab 09") &&
           KtRequireImplemented(Context, Wow64ContextTo32(&c, &c32), "Wow64ContextTo32", "lab 09") &&
           KtRequireImplemented(Context, Wow64ContextFrom32(&c32, &c), "Wow64ContextFrom32", "lab 09") &&
           KtRequireImplemented(Context, Wow64ExceptionRecordFrom32(&r32, &r), "Wow64ExceptionRecordFrom32", "lab 09");
}

KTEST("wow64.seh", KtWow64Seh)
{
    KtSetBudget(Context, 20000);
    if (!KtwExceptionsImplemented(Context))
        return;
    ULONG64 seed = KtRandom(Context);
    CHAR line[64];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowseh.exe %llu", seed);
    if (!KtRunWow64Program(Context, "wowseh.exe", line, &run))
        return;
    /* The framework's side: hostile contexts from a 64-bit program (user/programs/ctxcheck.c). */
    RtlFormatString(line, sizeof(line), "ctxcheck.exe %llu", KtRandom(Context));
    KtRunUserProgram(Context, "ctxcheck.exe", line, &run);
}
