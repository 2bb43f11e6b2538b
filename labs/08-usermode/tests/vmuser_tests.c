/* vmuser_tests.c - lab 08 virtual memory driven from ring 3 (the harness of
 * kernel/include/usertest.h runs user/programs/vmstorm.c in a new process).
 * user.vmstorm: bad pointers for every output of the services, then a seeded storm of
 * NtAllocateVirtualMemory / NtFreeVirtualMemory / NtProtectVirtualMemory calls (scripted
 * ones first, one per case, then random ones) with NtQueryVirtualMemory walks; the kernel
 * only reports, grader/models/lab08.py replays the calls on its own address space and
 * judges every status, output and region.
 * user.vmtouch: a committed page reads as zeros and keeps what is written; touching a
 * reserved page ends the process with STATUS_ACCESS_VIOLATION, not the kernel. */
#include "ktest.h"
#include "usertest.h"

KTEST("user.vmstorm", KtTestUserVmStorm)
{
    ULONG64 seed = KtRandom(Context);
    ULONG64 calls = KtRandomRange(Context, 96, 120); /* grader/models/lab08.py user_storm_args */
    CHAR line[96];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "vmstorm.exe storm %llu %llu", seed, calls);
    if (!KtRunUserProgram(Context, "vmstorm.exe", line, &run))
        return;
    KtCheck(Context, run.ExceptionCode == 0 && run.Refused == 0, "ran_clean", "vmstorm ended with exception 0x%x at "
            "0x%llx, %u records refused (a service must return a status, never fault in the caller)",
            run.ExceptionCode, run.ExceptionAddress, run.Refused);
}

KTEST("user.vmtouch", KtTestUserVmTouch)
{
    KT_USER_RUN run;
    if (!KtRunUserProgram(Context, "vmstorm.exe", "vmstorm.exe touch", &run))
        return;
    KtCheck(Context, run.ExceptionCode == (NTSTATUS)0xC0000005, "reserved_touch", "touching a reserved, uncommitted page ended "
            "the program with exception 0x%x, expected STATUS_ACCESS_VIOLATION (0xC0000005): reserved memory has no "
            "storage", run.ExceptionCode);
}
