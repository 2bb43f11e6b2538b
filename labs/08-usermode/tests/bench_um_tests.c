/* bench_um_tests.c - lab08.bench_syscall: lab 08's benchmark ktest for the user-mode core
 * (ungraded; tests/bench_lab08.py boots it): the round trip of a system call from ring 3
 * and back, in guest nanoseconds (HPET), for a bad number (the dispatcher refuses it), the
 * null service NtYieldExecution (no argument) and NtTestArguments (sixteen, twelve of them
 * from the user stack). Each figure is (T(N calls) - T(0 calls)) / N: the process's
 * creation and end cancel out. */
#include "hal.h"
#include "lab08_support.h"

#define KT_BENCH_CALLS 20000

extern const ULONG64 KtUserBenchOffset;

/* Guest ticks of the HPET from creating a process that makes Count calls of Number to its end. */
static ULONG64 KtBenchRun(PKTEST_CONTEXT Context, ULONG64 Number, ULONG64 Count)
{
    static KT_USER_PARAMS none;
    ULONG64 b[3] = {Count, Number, KSVC_NtTerminateProcess};
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    PEPROCESS p = KtUserCreate(Context, "bench", &none);
    if (!p)
        return 0;
    PETHREAD t;
    if (!NT_SUCCESS(PsWriteUserMemory(p, KT_USER_PARAMS_VA, b, sizeof(b))) ||
        !KtCheck(Context, NT_SUCCESS(PsCreateUserThread(p, KT_USER_CODE_VA + KtUserBenchOffset, KT_USER_PARAMS_VA, 0,
                                                        0, &t)), "thread_create", "PsCreateUserThread failed")) {
        ObDereferenceObject(p);
        return 0;
    }
    NTSTATUS exit = PsWaitForProcess(p);
    ObDereferenceObject(p);
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    KtCheck(Context, exit == STATUS_SUCCESS, "ended", "the benchmark process ended with 0x%08X", (ULONG)exit);
    return ticks;
}

static VOID KtTestLab08BenchSyscallBody(PKTEST_CONTEXT Context);

KTEST("lab08.bench_syscall", KtTestLab08BenchSyscall)
{
    KtTestLab08BenchSyscallBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestLab08BenchSyscallBody(PKTEST_CONTEXT Context)
{
    KTRAP_FRAME probe;
    RtlZeroMemory(&probe, sizeof(probe));
    probe.Rax = KeServiceDescriptorTable.Limit;
    if (!KtRequireImplemented(Context, KiSystemServiceDispatch(&probe), "KiSystemServiceDispatch", "lab 08"))
        return;
    KtSetBudget(Context, 120000);
    ULONG64 freq;
    KeQueryPerformanceCounter(&freq);
    static const struct { PCSTR Key; ULONG64 Number; } kinds[] = {
        {"bad_number_ns", 0}, {"null_ns", KSVC_NtYieldExecution}, {"args16_ns", KSVC_NtTestArguments}};
    for (ULONG k = 0; k < ARRAYSIZE(kinds); k++) {
        ULONG64 number = kinds[k].Number ? kinds[k].Number : KeServiceDescriptorTable.Limit + 7;
        ULONG64 base = KtBenchRun(Context, number, 0);
        ULONG64 full = KtBenchRun(Context, number, KT_BENCH_CALLS);
        if (!base || !full)
            return;
        ULONG64 ns = full > base ? (full - base) * 1000000000ULL / freq / KT_BENCH_CALLS : 0;
        KtValue(Context, kinds[k].Key, "%llu", ns);
    }
    KtValue(Context, "calls", "%u", KT_BENCH_CALLS);
}
