/* wow64_run_tests.c - lab 09's end-to-end checkpoint: user/programs/seedcalc.c built 32-bit
 * (\SystemRoot\SysWOW64\seedcalc.exe, with the 32-bit ntdll) runs in a WOW64 process - the
 * wow64 layer's start, compatibility mode, every system call through ntdll32's far jump to the
 * layer, its thunks (yours) and the 64-bit ntdll - and the same program built 64-bit runs with
 * the same seeded command line. The grader (grader/models/lab09.py) judges both transcripts
 * against the program's model and against each other. */
#include "ktest.h"
#include "usertest.h"
#include "wow64_support.h"

/* A stubbed lab reports itself before any program runs: one thunk called in the kernel (its
 * native call goes to the thunk checkpoint's double, which answers STATUS_SUCCESS). */
static BOOLEAN KtwThunksImplemented(PKTEST_CONTEXT Context)
{
    ULONG slot = 0;
    RtlZeroMemory(&KtwPlan, sizeof(KtwPlan));
    return KtRequireImplemented(Context, whNtClose(&slot), "whNtClose", "lab 09");
}

static BOOLEAN KtwClean(PKTEST_CONTEXT Context, PKT_USER_RUN Run, PCSTR What)
{
    return KtCheck(Context, Run->ExceptionCode == 0 && Run->Refused == 0, "ran_clean",
                   "%s: exception 0x%x at 0x%llx, %u records refused", What, Run->ExceptionCode,
                   Run->ExceptionAddress, Run->Refused);
}

KTEST("wow64.seedcalc", KtWow64Seedcalc)
{
    KtSetBudget(Context, 20000);
    if (!KtwThunksImplemented(Context))
        return;
    ULONG64 x = KtRandom(Context);
    ULONG64 rounds = KtRandomRange(Context, 100, 3000);
    CHAR line[96];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "seedcalc.exe %llu %llu", x, rounds);
    if (!KtRunWow64Program(Context, "seedcalc.exe", line, &run))
        return;
    KtwClean(Context, &run, "32-bit seedcalc.exe");
    if (!KtRunUserProgram(Context, "seedcalc.exe", line, &run))
        return;
    KtwClean(Context, &run, "64-bit seedcalc.exe");
    RtlFormatString(line, sizeof(line), "seedcalc.exe 0x%llx 0", x);
    if (!KtRunWow64Program(Context, "seedcalc.exe", line, &run))
        return;
    if (!KtRunWow64Program(Context, "seedcalc.exe", "seedcalc.exe", &run))
        return;
    KtwClean(Context, &run, "32-bit seedcalc.exe (no arguments)");
}

KTEST("wow64.vm", KtWow64Vm)
{
    KtSetBudget(Context, 20000);
    if (!KtwThunksImplemented(Context))
        return;
    ULONG64 seed = KtRandom(Context);
    CHAR line[64];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowvm.exe %llu", seed);
    if (!KtRunWow64Program(Context, "wowvm.exe", line, &run))
        return;
    KtwClean(Context, &run, "32-bit wowvm.exe");
    if (!KtRunUserProgram(Context, "wowvm.exe", line, &run))
        return;
    KtwClean(Context, &run, "64-bit wowvm.exe");
}
