/* bench_tests.c - lab 05's benchmark ktest (ungraded; tests/bench_lab05.py boots it), in
 * guest time (HPET): context switches per second by an event ping-pong between the test
 * thread and a peer; the cost of a set+wait pair on a synchronization event (satisfied at
 * once) with 1 and with 100 threads blocked on other events; and KiReadyThread +
 * KiSelectNextThread pairs with 1 and with 100 threads on the ready queues. NT's waits touch
 * only the object's own wait list and the ready summary bitmap makes the selection O(1),
 * so neither rate should fall as the background grows 100x. */
#include "hal.h"
#include "kewait.h"
#include "ktest.h"

#define KT_BENCH_SMALL 1
#define KT_BENCH_LARGE 100
#define KT_BENCH_OPS 20000
#define KT_BENCH_PINGS 2000

static KEVENT KtPing, KtPong;
static KEVENT KtBenchBlock[KT_BENCH_LARGE];
static KEVENT KtBenchProbe;
static volatile BOOLEAN KtBenchStop;

static ULONG64 KtPerSecond(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

static VOID KtPongThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    for (ULONG i = 0; i < KT_BENCH_PINGS; i++) {
        KeWaitForSingleObject(&KtPing, Executive, KernelMode, FALSE, NULL);
        KeSetEvent(&KtPong, 0, FALSE);
    }
}

static VOID KtBlockedThread(PVOID Argument)
{
    KeWaitForSingleObject(Argument, Executive, KernelMode, FALSE, NULL);
}

static VOID KtReadyThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
}

/* Set+wait pairs per second on a synchronization event of the test's own, with
 * Background threads blocked on other events. */
static ULONG64 KtBenchWait(PKTEST_CONTEXT Context, ULONG Background, ULONG64 Frequency)
{
    PKTHREAD t[KT_BENCH_LARGE];
    ULONG n = 0;
    for (; n < Background; n++) {
        KeInitializeEvent(&KtBenchBlock[n], NotificationEvent, FALSE);
        if (!KtCreateThread(Context, "bench blocked", KtBlockedThread, &KtBenchBlock[n], &t[n]))
            break;
    }
    for (ULONG round = 0; round < 200; round++) { /* let them block */
        ULONG waiting = 0;
        for (ULONG i = 0; i < n; i++)
            waiting += t[i]->State == Waiting;
        if (waiting == n)
            break;
        KeYieldProcessor();
    }
    KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG i = 0; i < KT_BENCH_OPS; i++) {
        KeSetEvent(&e, 0, FALSE);
        KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, NULL);
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    for (ULONG i = 0; i < n; i++)
        KeSetEvent(&KtBenchBlock[i], 0, FALSE);
    for (ULONG i = 0; i < n; i++)
        KtJoinThread(Context, t[i]);
    return KtPerSecond(KT_BENCH_OPS, ticks, Frequency);
}

/* KiReadyThread + KiSelectNextThread pairs per second at DISPATCH_LEVEL, with Background
 * threads ready at priorities 1-6 below a probe thread (priority 7, blocked on an event
 * and readied by hand; the test runs at 8, so nothing preempts it). */
static ULONG64 KtBenchSelect(PKTEST_CONTEXT Context, ULONG Background, ULONG64 Frequency, PBOOLEAN Right)
{
    PKTHREAD t[KT_BENCH_LARGE], probe;
    ULONG n = 0;
    KeInitializeEvent(&KtBenchProbe, NotificationEvent, FALSE);
    if (!KtCreateThread(Context, "bench probe", KtBlockedThread, &KtBenchProbe, &probe))
        return 0;
    KeSetPriorityThread(probe, 9);
    for (ULONG round = 0; round < 50 && probe->State != Waiting; round++)
        KeYieldProcessor();
    KeSetPriorityThread(probe, 7);
    for (; n < Background; n++) {
        if (!KtCreateThread(Context, "bench ready", KtReadyThread, NULL, &t[n]))
            break;
        KeSetPriorityThread(t[n], 1 + (KPRIORITY)(n % 6));
    }
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL old = KeRaiseIrqlToDpcLevel();
    UCHAR state = probe->State;
    *Right = TRUE;
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG i = 0; i < KT_BENCH_OPS; i++) {
        KiReadyThread(probe);
        if (KiSelectNextThread(prcb) != probe)
            *Right = FALSE;
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    probe->State = state; /* still on its event's wait list */
    KeLowerIrql(old);
    KeSetEvent(&KtBenchProbe, 0, FALSE);
    KtJoinThread(Context, probe);
    for (ULONG i = 0; i < n; i++)
        KtJoinThread(Context, t[i]);
    return KtPerSecond(KT_BENCH_OPS, ticks, Frequency);
}

KTEST("lab05.bench", KtTestLab05Bench)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET"))
        return;
    KtSetBudget(Context, 60000);
    KeInitializeEvent(&KtPing, SynchronizationEvent, FALSE);
    KeInitializeEvent(&KtPong, SynchronizationEvent, FALSE);
    if (Context->NotImplementedCount)
        return;
    KtValue(Context, "ops", "%u", KT_BENCH_OPS);
    PKTHREAD peer;
    if (!KtCreateThread(Context, "pong", KtPongThread, NULL, &peer))
        return;
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 switches = prcb->ContextSwitches;
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG i = 0; i < KT_BENCH_PINGS; i++) {
        KeSetEvent(&KtPing, 0, FALSE);
        KeWaitForSingleObject(&KtPong, Executive, KernelMode, FALSE, NULL);
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    switches = prcb->ContextSwitches - switches;
    KtJoinThread(Context, peer);
    KtValue(Context, "pings", "%u", KT_BENCH_PINGS);
    KtValue(Context, "switches", "%llu", switches);
    KtValue(Context, "switch_rate", "%llu", KtPerSecond(switches, ticks, frequency));
    KtValue(Context, "wait_small", "%llu", KtBenchWait(Context, KT_BENCH_SMALL, frequency));
    KtValue(Context, "wait_large", "%llu", KtBenchWait(Context, KT_BENCH_LARGE, frequency));
    BOOLEAN right1, right2;
    KtValue(Context, "select_small", "%llu", KtBenchSelect(Context, KT_BENCH_SMALL, frequency, &right1));
    KtValue(Context, "select_large", "%llu", KtBenchSelect(Context, KT_BENCH_LARGE, frequency, &right2));
    KtCheck(Context, right1 && right2, "select", "KiSelectNextThread did not return the highest-priority ready thread");
}
