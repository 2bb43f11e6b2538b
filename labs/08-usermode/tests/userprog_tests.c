/* userprog_tests.c - the example checkpoint of the user-program harness (img; how to write one:
 * kernel/include/usertest.h). user.seedcalc runs user/programs/seedcalc.c three times, with
 * arguments from the seed, so every seed covers every case: a seeded start value and round
 * count, the same start value with zero rounds, and no arguments at all (its usage path).
 * The kernel only reports; grader/models/usertest.py recomputes the arguments and every value
 * the program must report, and its exit status, from the seed. */
#include "ktest.h"
#include "usertest.h"

KTEST("user.seedcalc", KtTestUserSeedcalc)
{
    ULONG64 x = KtRandom(Context);
    ULONG64 rounds = KtRandomRange(Context, 100, 3000);
    CHAR line[96];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "seedcalc.exe %llu %llu", x, rounds);
    if (!KtRunUserProgram(Context, "seedcalc.exe", line, &run))
        return;
    KtCheck(Context, run.ExceptionCode == 0 && run.Refused == 0, "ran_clean",
            "exception 0x%x at 0x%llx, %u records refused", run.ExceptionCode, run.ExceptionAddress, run.Refused);
    RtlFormatString(line, sizeof(line), "seedcalc.exe 0x%llx 0", x);
    if (!KtRunUserProgram(Context, "seedcalc.exe", line, &run))
        return;
    if (!KtRunUserProgram(Context, "seedcalc.exe", "seedcalc.exe", &run))
        return;
    KtCheck(Context, run.ExceptionCode == 0 && run.Refused == 0, "ran_clean",
            "exception 0x%x at 0x%llx, %u records refused", run.ExceptionCode, run.ExceptionAddress, run.Refused);
}
