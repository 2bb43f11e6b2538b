/* bench_tests.c - lab09.bench_syscall: lab 09's benchmark ktest (ungraded; tests/bench_lab09.py
 * boots it): the round trip of the null system call NtYieldExecution from a 64-bit program and
 * from the same program built 32-bit (through the wow64 layer), in guest nanoseconds (HPET).
 * Each figure is (T(N calls) - T(0 calls)) / N: the process's creation and end cancel out. */
#include "hal.h"
#include "ktest.h"
#include "usertest.h"

#define KT_WOW_BENCH_CALLS 20000

static ULONG64 KtwBenchRun(PKTEST_CONTEXT Context, BOOLEAN Wow64, ULONG Count)
{
    CHAR line[48];
    KT_USER_RUN run;
    RtlFormatString(line, sizeof(line), "wowbench.exe %u", Count);
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    BOOLEAN ok = Wow64 ? KtRunWow64Program(Context, "wowbench.exe", line, &run)
                       : KtRunUserProgram(Context, "wowbench.exe", line, &run);
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    if (!ok || !KtCheck(Context, run.ExitStatus == 0 && run.ExceptionCode == 0, "ended",
                        "wowbench.exe (%s) ended with 0x%08X, exception 0x%x", Wow64 ? "32-bit" : "64-bit",
                        (ULONG)run.ExitStatus, (ULONG)run.ExceptionCode))
        return 0;
    return ticks;
}

KTEST("lab09.bench_syscall", KtTestLab09BenchSyscall)
{
    KtSetBudget(Context, 120000);
    ULONG64 freq;
    KeQueryPerformanceCounter(&freq);
    static const struct { PCSTR Key; BOOLEAN Wow64; } kinds[] = {{"null64_ns", FALSE}, {"null32_ns", TRUE}};
    for (ULONG k = 0; k < ARRAYSIZE(kinds); k++) {
        ULONG64 base = KtwBenchRun(Context, kinds[k].Wow64, 0);
        ULONG64 full = KtwBenchRun(Context, kinds[k].Wow64, KT_WOW_BENCH_CALLS);
        if (!base || !full)
            return;
        ULONG64 ns = full > base ? (full - base) * 1000000000ULL / freq / KT_WOW_BENCH_CALLS : 0;
        KtValue(Context, kinds[k].Key, "%llu", ns);
    }
    KtValue(Context, "calls", "%u", KT_WOW_BENCH_CALLS);
}
