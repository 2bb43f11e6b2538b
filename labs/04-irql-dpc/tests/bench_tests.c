/* bench_tests.c - lab 04's benchmark ktest (ungraded; tests/bench_lab04.py boots it):
 * DPC insert+remove pairs and timer set+cancel pairs per second of guest time (HPET),
 * each with a small and a 100x larger background of queued DPCs / set timers. NT's
 * insert is O(1) for DPCs and walks one timer-table list for timers, so the rates should
 * not fall with the background. */
#include "hal.h"
#include "lab04_audit.h"

#define KT_BENCH_SMALL 10
#define KT_BENCH_LARGE 1000
#define KT_BENCH_OPS 20000
static KDPC KtBenchDpcs[KT_BENCH_LARGE + 1];
static KTIMER KtBenchTimers[KT_BENCH_LARGE + 1];

static VOID KtBenchRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
}

static ULONG64 KtPerSecond(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

/* Pairs per second with Background DPCs queued (at DISPATCH_LEVEL, so none runs). */
static ULONG64 KtBenchDpc(ULONG Background, ULONG64 Frequency)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i <= Background; i++) {
        KeInitializeDpc(&KtBenchDpcs[i], KtBenchRoutine, NULL);
        if (i < Background)
            KeInsertQueueDpc(&KtBenchDpcs[i], NULL, NULL);
    }
    PKDPC probe = &KtBenchDpcs[Background];
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG n = 0; n < KT_BENCH_OPS; n++) {
        KeSetImportanceDpc(probe, (n & 1) ? HighImportance : MediumImportance);
        KeInsertQueueDpc(probe, NULL, NULL);
        KeRemoveQueueDpc(probe);
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    for (ULONG i = 0; i < Background; i++)
        KeRemoveQueueDpc(&KtBenchDpcs[i]);
    KeLowerIrql(old);
    return KtPerSecond(KT_BENCH_OPS, ticks, Frequency);
}

/* Pairs per second with Background timers set (due 100 s and more from now, spread over
 * the table), the probe due at seeded times in the same range. */
static ULONG64 KtBenchTimer(PKTEST_CONTEXT Context, ULONG Background, ULONG64 Frequency)
{
    LARGE_INTEGER due;
    for (ULONG i = 0; i <= Background; i++) {
        KeInitializeTimer(&KtBenchTimers[i]);
        due.QuadPart = -(LONG64)(1000000000ULL + KtRandomRange(Context, 0, 10000000));
        if (i < Background)
            KeSetTimer(&KtBenchTimers[i], due, NULL);
    }
    PKTIMER probe = &KtBenchTimers[Background];
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG n = 0; n < KT_BENCH_OPS; n++) {
        due.QuadPart = -(LONG64)(1000000000ULL + (n * 7919ULL) % 10000000);
        KeSetTimer(probe, due, NULL);
        KeCancelTimer(probe);
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    for (ULONG i = 0; i < Background; i++)
        KeCancelTimer(&KtBenchTimers[i]);
    return KtPerSecond(KT_BENCH_OPS, ticks, Frequency);
}

KTEST("lab04.bench", KtTestLab04Bench)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET"))
        return;
    KtValue(Context, "ops", "%u", KT_BENCH_OPS);
    KtValue(Context, "dpc_small", "%llu", KtBenchDpc(KT_BENCH_SMALL, frequency));
    KtValue(Context, "dpc_large", "%llu", KtBenchDpc(KT_BENCH_LARGE, frequency));
    KtValue(Context, "timer_small", "%llu", KtBenchTimer(Context, KT_BENCH_SMALL, frequency));
    KtValue(Context, "timer_large", "%llu", KtBenchTimer(Context, KT_BENCH_LARGE, frequency));
    KtCheck(Context, !KtLab04Stubbed(Context), "implemented", "lab 04 is stubbed");
    KtLab04Cleanup();
}
