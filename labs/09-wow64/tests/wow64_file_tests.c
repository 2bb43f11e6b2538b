/* wow64_file_tests.c - lab 09's end-to-end checkpoints of files, ioctls, handles and the
 * address limit from real 32-bit processes (w16f):
 *   wow64.files - user/programs/wowfile.c built 32-bit (SysWOW64) and 64-bit (System32) with
 *     the same seed: opens through your whNtOpenFile/whNtCreateFile and redirection (System32
 *     -> SysWOW64, off and on, nested, Sysnative), reads at seeded offsets, writes, ioctls to
 *     \Device\WowSample (your ioctl32.c sees the 32-bit layout), a duplicate through -1, bad
 *     pointers; canary bytes after every written-back structure;
 *   wow64.span - user/programs/wowspan.c built 64-bit, 32-bit (2 GiB) and 32-bit
 *     large-address aware (4 GiB): fixed ranges past and across the limit, then seeded
 *     reservations top-down and bottom-up until the allocator refuses.
 * The kernel only runs the programs; the grader (grader/models/lab09f.py) judges every
 * record from the seed and the 32-bit transcript against the 64-bit one. */
#include "ktest.h"
#include "usertest.h"
#include "wow64_support.h"

/* A stubbed lab reports itself before any program runs (as wow64_run_tests.c does). */
static BOOLEAN KtfThunksImplemented(PKTEST_CONTEXT Context)
{
    ULONG slot = 0;
    RtlZeroMemory(&KtwPlan, sizeof(KtwPlan));
    return KtRequireImplemented(Context, whNtClose(&slot), "whNtClose", "lab 09");
}

static VOID KtfClean(PKTEST_CONTEXT Context, PKT_USER_RUN Run, PCSTR What)
{
    KtCheck(Context, Run->ExceptionCode == 0 && Run->Refused == 0, "ran_clean",
            "%s: exception 0x%x at 0x%llx, %u records refused", What, Run->ExceptionCode, Run->ExceptionAddress,
            Run->Refused);
}

KTEST("wow64.files", KtWow64Files)
{
    KtSetBudget(Context, 20000);
    if (!KtfThunksImplemented(Context))
        return;
    NTSTATUS status = IopStartUserDrivers();
    if (!KtCheck(Context, NT_SUCCESS(status), "drivers", "the Null, BootFs and WowSample drivers: 0x%08X",
                 (ULONG)status))
        return;
    CHAR line[64];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowfile.exe %llu", KtRandom(Context));
    if (!KtRunWow64Program(Context, "wowfile.exe", line, &run))
        return;
    KtfClean(Context, &run, "32-bit wowfile.exe");
    if (!KtRunUserProgram(Context, "wowfile.exe", line, &run))
        return;
    KtfClean(Context, &run, "64-bit wowfile.exe");
    IopStopUserDrivers();
}

KTEST("wow64.span", KtWow64Span)
{
    KtSetBudget(Context, 20000);
    if (!KtfThunksImplemented(Context))
        return;
    CHAR line[64];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowspan.exe %llu", KtRandom(Context));
    if (!KtRunWow64Program(Context, "wowspan.exe", line, &run))
        return;
    KtfClean(Context, &run, "32-bit wowspan.exe");
    if (!KtRunWow64Program(Context, "wowspanl.exe", line, &run))
        return;
    KtfClean(Context, &run, "32-bit large-address-aware wowspanl.exe");
    if (!KtRunUserProgram(Context, "wowspan.exe", line, &run))
        return;
    KtfClean(Context, &run, "64-bit wowspan.exe");
}
