/* pf_user_tests.c - lab 08's paging checkpoint driven from ring 3 (pf part):
 *   pf.user  runs user/programs/pfpager.exe three times in processes of their own: N
 *            committed pages (N seeded, above the working set's maximum) written and read back
 *            in order - the faults of each pass and the peak working set, as
 *            NtQueryInformationProcess(ProcessVmCounters) reports them, are judged by
 *            grader/models/lab08pf.py, which replays the clock over the same touches; every
 *            word must come back -; a PAGE_GUARD page touched (the process ends with
 *            STATUS_GUARD_PAGE_VIOLATION); reserved memory touched (it ends with
 *            STATUS_ACCESS_VIOLATION). The kernel survives all three. */
#include "lab08pf_support.h"
#include "usertest.h"

KTEST("pf.user", KtPfUser)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    KtSetBudget(Context, 20000);
    ULONG pages = (ULONG)KtRandomRange(Context, 380, 520);
    ULONG salt = (ULONG)KtRandomRange(Context, 1, 0xFFFFF);
    CHAR line[64];
    RtlFormatString(line, sizeof(line), "pfpager.exe pages %u %u", pages, salt);
    KT_USER_RUN run;
    if (!KtRunUserProgram(Context, "pfpager.exe", line, &run))
        return;
    KtCheck(Context, run.ExitStatus == STATUS_SUCCESS && run.ExceptionCode == 0, "pages_run", "pfpager.exe pages: exit "
            "0x%x, exception 0x%x at 0x%llx", run.ExitStatus, run.ExceptionCode, run.ExceptionAddress);
    if (!KtRunUserProgram(Context, "pfpager.exe", "pfpager.exe guard", &run))
        return;
    KtCheck(Context, run.ExitStatus == STATUS_GUARD_PAGE_VIOLATION, "guard_run", "a ring-3 touch of a guard page: the "
            "process ended with 0x%x, expected STATUS_GUARD_PAGE_VIOLATION", run.ExitStatus);
    if (!KtRunUserProgram(Context, "pfpager.exe", "pfpager.exe reserved", &run))
        return;
    KtCheck(Context, run.ExitStatus == STATUS_ACCESS_VIOLATION, "reserved_run", "a ring-3 touch of reserved memory: the "
            "process ended with 0x%x, expected STATUS_ACCESS_VIOLATION", run.ExitStatus);
}
