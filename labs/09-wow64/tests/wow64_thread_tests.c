/* wow64_thread_tests.c - lab 09's multi-threaded checkpoint (w16t): user/programs/wowthreads.c
 * built 32-bit runs in a WOW64 process - N threads, each with its own TEB32 (FS:[0x18]: the
 * GDT's 0x53 base switched by the context switch), its own 32-bit stack and wow64 block, waits
 * and events through your whNtWaitForSingleObject and whNtCreateEvent, one thread's redirection
 * disabled (your redirect.c) while the others' stays on - and the same program built 64-bit
 * runs with the same seed. The grader (grader/models/lab09t.py) judges both transcripts from
 * the seed and against each other. */
#include "ktest.h"
#include "usertest.h"
#include "wow64_support.h"

KTEST("wow64.threads", KtWow64Threads)
{
    KtSetBudget(Context, 20000);
    ULONG slot = 0;
    RtlZeroMemory(&KtwPlan, sizeof(KtwPlan));
    if (!KtRequireImplemented(Context, whNtClose(&slot), "whNtClose", "lab 09"))
        return;
    ULONG64 seed = KtRandom(Context);
    CHAR line[64];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowthreads.exe %llu", seed);
    if (KtRunWow64Program(Context, "wowthreads.exe", line, &run))
        KtCheck(Context, run.ExceptionCode == 0 && run.Refused == 0, "ran_clean",
                "32-bit wowthreads.exe: exception 0x%x at 0x%llx, %u records refused (an access violation "
                "on a read of FS:[0x18] - the serial line above gives the address - means FS's base, the GDT's "
                "0x53 descriptor, was not the thread's own TEB32)", run.ExceptionCode,
                run.ExceptionAddress, run.Refused);
    if (KtRunUserProgram(Context, "wowthreads.exe", line, &run))
        KtCheck(Context, run.ExceptionCode == 0 && run.Refused == 0, "ran_clean",
                "64-bit wowthreads.exe: exception 0x%x at 0x%llx, %u records refused", run.ExceptionCode,
                run.ExceptionAddress, run.Refused);
}
