/* ke_tests.c - framework ktests of the concurrency foundation (not graded): the clock
 * runs at its calibrated rate, two threads ping-pong on a framework wait (gates), a
 * deadlock ends in the watchdog's hang verdict, a kernel stack overflow hits the guard
 * page and bugchecks naming the thread. */
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "rtl.h"

/* The clock counts ticks at KeClockHz against the HPET, with interrupts on, at PASSIVE. */
KTEST("ke.clock_rate", KtTestClockRate)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET: KeQueryPerformanceCounter reports no frequency") ||
        !KtCheck(Context, KeClockHz != 0, "clock", "the clock is not running (KeClockHz 0)"))
        return;
    ULONG ms = (ULONG)KtRandomRange(Context, 100, 200);
    ULONG64 start = KeQueryPerformanceCounter(NULL), ticks0 = KeTickCount;
    while (KeQueryPerformanceCounter(NULL) - start < frequency * ms / 1000)
        ;
    ULONG64 ticks = KeTickCount - ticks0;
    ULONG64 expected = (ULONG64)ms * KeClockHz / 1000;
    KtCheck(Context, ticks + 2 >= expected && ticks <= expected + 2, "rate",
            "%llu clock ticks in %u ms of HPET time, expected %llu +- 2 at %u Hz", ticks, ms, expected, KeClockHz);
    KtCheck(Context, KeGetCurrentIrql() == PASSIVE_LEVEL, "irql", "IRQL %u after the clock ran, expected 0",
            KeGetCurrentIrql());
}

typedef struct {
    PKTEST_CONTEXT Context;
    KGATE Ping, Pong;
    ULONG Rounds;
    volatile ULONG Turn; /* counts every hand-over: even = ping's turn */
    ULONG Bad;
} KT_PINGPONG;

static VOID KtPinger(PVOID Argument)
{
    KT_PINGPONG *p = Argument;
    for (ULONG i = 0; i < p->Rounds; i++) {
        if (p->Turn != 2 * i)
            p->Bad++;
        p->Turn++;
        KeSignalGate(&p->Pong);
        KeWaitForGate(&p->Ping, WrKernel);
    }
}

static VOID KtPonger(PVOID Argument)
{
    KT_PINGPONG *p = Argument;
    for (ULONG i = 0; i < p->Rounds; i++) {
        KeWaitForGate(&p->Pong, WrKernel);
        if (p->Turn != 2 * i + 1)
            p->Bad++;
        p->Turn++;
        KeSignalGate(&p->Ping);
    }
}

/* Two threads hand a turn back and forth on two gates; the test thread waits for both. */
KTEST("ke.thread_pingpong", KtTestThreadPingPong)
{
    static KT_PINGPONG p;
    RtlZeroMemory(&p, sizeof(p));
    p.Context = Context;
    p.Rounds = (ULONG)KtRandomRange(Context, 50, 200);
    KeInitializeGate(&p.Ping);
    KeInitializeGate(&p.Pong);
    PKTHREAD a, b;
    ULONG64 switches = KeGetCurrentPrcb()->ContextSwitches;
    if (!KtCreateThread(Context, "ping", KtPinger, &p, &a))
        return;
    if (!KtCreateThread(Context, "pong", KtPonger, &p, &b)) {
        KtJoinThread(Context, a);
        return;
    }
    KtJoinThread(Context, a);
    KtJoinThread(Context, b);
    KtValue(Context, "rounds", "%u", p.Rounds);
    KtCheck(Context, p.Turn == 2 * p.Rounds && p.Bad == 0, "alternate",
            "%u hand-overs (expected %u), %u out of turn", p.Turn, 2 * p.Rounds, p.Bad);
    ULONG64 done = KeGetCurrentPrcb()->ContextSwitches - switches;
    KtCheck(Context, done >= 2 * p.Rounds, "switches", "%llu context switches for %u hand-overs", done,
            2 * p.Rounds);
    KtCheck(Context, a->State == Terminated || !a->InUse, "terminated", "thread ping did not terminate");
}

typedef struct {
    KGATE First, Second;
} KT_DEADLOCK;

static VOID KtDeadlockA(PVOID Argument)
{
    KT_DEADLOCK *d = Argument;
    KeWaitForGate(&d->Second, WrKernel); /* B signals Second only after First */
    KeSignalGate(&d->First);
}

static VOID KtDeadlockB(PVOID Argument)
{
    KT_DEADLOCK *d = Argument;
    KeWaitForGate(&d->First, WrKernel); /* A signals First only after Second */
    KeSignalGate(&d->Second);
}

/* A deliberate deadlock: the watchdog must end the run with KTEST HANG and both
 * threads' backtraces (the grader's verdict "hang"). */
KTEST_HANG("ke.deadlock", KtTestDeadlock)
{
    static KT_DEADLOCK d;
    KeInitializeGate(&d.First);
    KeInitializeGate(&d.Second);
    PKTHREAD a, b;
    if (!KtCreateThread(Context, "deadlock_a", KtDeadlockA, &d, &a) ||
        !KtCreateThread(Context, "deadlock_b", KtDeadlockB, &d, &b))
        return;
    KtJoinThread(Context, a);
    KtFail(Context, "hang", "the deadlocked threads ended");
}

static volatile ULONG KtRecursionSink;
static volatile ULONG KtRecursionLimit = ~0U; /* never reached: the guard page is */
static __attribute__((noipa)) ULONG KtRecurse(ULONG Depth)
{
    volatile UCHAR pad[256];
    pad[0] = (UCHAR)Depth;
    KtRecursionSink += pad[0];
    if (Depth >= KtRecursionLimit)
        return 0;
    return KtRecurse(Depth + 1) + pad[0];
}

static VOID KtOverflowThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KtRecurse(0);
}

/* Unbounded recursion on a thread: the stack runs into its guard page, the fault cannot
 * push its frame (double fault), and the bugcheck names the thread. */
KTEST_STOP("ke.stack_overflow", KtTestStackOverflow)
{
    PKTHREAD t;
    /* P3 and P4 are the RIP and RSP of the push that hit the guard page: which instruction of
     * the recursion that is depends on the compiler's frame layout, so they stay unchecked. */
    KtValue(Context, "stop_params", "0x8 0x0 * *");
    if (!KtCreateThread(Context, "overflow", KtOverflowThread, NULL, &t))
        return;
    KtJoinThread(Context, t);
    KtFail(Context, "overflow", "the thread returned from unbounded recursion");
}

typedef struct {
    volatile ULONG64 Count[2];
    volatile BOOLEAN Stop;
} KT_SPINNERS;

static VOID KtSpinner(PVOID Argument)
{
    KT_SPINNERS *s = (KT_SPINNERS *)((ULONG_PTR)Argument & ~1ULL);
    ULONG me = (ULONG)((ULONG_PTR)Argument & 1);
    while (!s->Stop)
        s->Count[me]++;
}

/* Two threads that never wait and the test thread (spinning on the clock) share the
 * processor by quantum end: round robin at equal priority. The counts depend on where
 * preemption falls: under instruction counting they repeat exactly for a seed (the
 * determinism test compares transcripts), under KVM they vary. */
KTEST("ke.preempt", KtTestPreempt)
{
    static KT_SPINNERS s;
    RtlZeroMemory((PVOID)&s, sizeof(s));
    if (!KtCheck(Context, KeClockHz != 0, "clock", "the clock is not running"))
        return;
    ULONG ms = (ULONG)KtRandomRange(Context, 40, 80);
    ULONG64 switches = KeGetCurrentPrcb()->ContextSwitches;
    PKTHREAD a, b;
    if (!KtCreateThread(Context, "spin0", KtSpinner, &s, &a))
        return;
    if (!KtCreateThread(Context, "spin1", KtSpinner, (PVOID)((ULONG_PTR)&s | 1), &b)) {
        s.Stop = TRUE;
        KtJoinThread(Context, a);
        return;
    }
    ULONG64 end = KeTickCount + (ULONG64)ms * KeClockHz / 1000;
    while (KeTickCount < end)
        ;
    s.Stop = TRUE;
    KtJoinThread(Context, a);
    KtJoinThread(Context, b);
    switches = KeGetCurrentPrcb()->ContextSwitches - switches;
    KtValue(Context, "counts", "%llu %llu", s.Count[0], s.Count[1]);
    KtValue(Context, "switches", "%llu", switches);
    KtValue(Context, "ticks", "%llu", KeTickCount);
    KtCheck(Context, s.Count[0] > 0 && s.Count[1] > 0, "both_ran",
            "a spinning thread never ran in %u ms (counts %llu, %llu): no round robin at quantum end", ms,
            s.Count[0], s.Count[1]);
    KtCheck(Context, switches >= 4, "preempted", "%llu context switches in %u ms of three spinning threads",
            switches, ms);
}

typedef struct {
    PKTEST_CONTEXT Context;
    ULONG Records;
    ULONG Index;
} KT_WRITER;

static VOID KtRecordWriter(PVOID Argument)
{
    KT_WRITER *w = Argument;
    for (ULONG i = 0; i < w->Records; i++) {
        KtValue(w->Context, "record", "writer %u record %u of %u: a long line so that a clock tick is likely to "
                "fall inside it, were it not written under the record lock", w->Index, i, w->Records);
        KtCheck(w->Context, TRUE, "writer_check", "-");
    }
}

/* Three threads (the test's own and two more, preempted at quantum end) write records at
 * once: each line comes out whole, and the test's tag covers them all (the grader checks
 * both). */
KTEST("ke.records_threads", KtTestRecordsThreads)
{
    static KT_WRITER w[3];
    ULONG records = (ULONG)KtRandomRange(Context, 40, 80);
    PKTHREAD t[2];
    for (ULONG i = 0; i < 3; i++) {
        w[i].Context = Context;
        w[i].Records = records;
        w[i].Index = i;
    }
    KtValue(Context, "records_each", "%u", records);
    if (!KtCreateThread(Context, "writer1", KtRecordWriter, &w[1], &t[0]))
        return;
    if (!KtCreateThread(Context, "writer2", KtRecordWriter, &w[2], &t[1])) {
        KtJoinThread(Context, t[0]);
        return;
    }
    KtRecordWriter(&w[0]);
    KtJoinThread(Context, t[0]);
    KtJoinThread(Context, t[1]);
}

#include "ex.h"

typedef struct {
    PKTEST_CONTEXT Context;
    ULONG Index;
    ULONG Rounds;
    ULONG64 Seed;
    ULONG Failures;
} KT_POOL_WORKER;

#define KT_POOL_THREAD_TAG POOL_TAG('K', 't', 'T', 'h')

/* Allocates and frees seeded sizes from both pools, keeping up to 16 blocks live, each
 * filled with its owner's pattern and checked before it is freed. */
static VOID KtPoolWorker(PVOID Argument)
{
    KT_POOL_WORKER *w = Argument;
    PUCHAR live[16] = {0};
    SIZE_T size[16] = {0};
    ULONG64 rng = w->Seed;
    for (ULONG r = 0; r < w->Rounds; r++) {
        ULONG slot = (ULONG)(RtlSplitMix64(&rng) % 16);
        if (live[slot]) {
            for (SIZE_T i = 0; i < size[slot]; i++)
                if (live[slot][i] != (UCHAR)(w->Index * 16 + slot))
                    w->Failures++;
            ExFreePoolWithTag(live[slot], KT_POOL_THREAD_TAG);
            live[slot] = NULL;
            continue;
        }
        size[slot] = 1 + RtlSplitMix64(&rng) % (r % 7 == 0 ? 6000 : 500);
        live[slot] = ExAllocatePoolWithTag((r & 1) ? PagedPool : NonPagedPool, size[slot], KT_POOL_THREAD_TAG);
        if (!live[slot]) {
            w->Failures++;
            continue;
        }
        RtlFillMemory(live[slot], size[slot], w->Index * 16 + slot);
    }
    for (ULONG slot = 0; slot < 16; slot++)
        if (live[slot])
            ExFreePoolWithTag(live[slot], KT_POOL_THREAD_TAG);
}

/* Three threads, preempted at quantum end, share the pools (lab 03 code under the pool
 * lock, lab 01-02 code under the PFN lock): no block is corrupted and the tag's counters
 * balance. */
KTEST("ke.pool_threads", KtTestPoolThreads)
{
    static KT_POOL_WORKER w[3];
    PKTHREAD t[3];
    ULONG rounds = (ULONG)KtRandomRange(Context, 1500, 3000);
    for (ULONG i = 0; i < 3; i++) {
        w[i].Context = Context;
        w[i].Index = i;
        w[i].Rounds = rounds;
        w[i].Seed = KtRandom(Context);
        w[i].Failures = 0;
    }
    ULONG64 switches = KeGetCurrentPrcb()->ContextSwitches;
    ULONG created = 0;
    for (; created < 3; created++)
        if (!KtCreateThread(Context, "pool_worker", KtPoolWorker, &w[created], &t[created]))
            break;
    for (ULONG i = 0; i < created; i++)
        KtJoinThread(Context, t[i]);
    if (created < 3)
        return;
    KtValue(Context, "switches", "%llu", KeGetCurrentPrcb()->ContextSwitches - switches);
    KtCheck(Context, w[0].Failures + w[1].Failures + w[2].Failures == 0, "blocks",
            "%u failed allocations or corrupted bytes", w[0].Failures + w[1].Failures + w[2].Failures);
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++) {
        const POOL_TRACKER_TABLE *e = &ExpPoolTrackTable[i];
        if (e->Key != KT_POOL_THREAD_TAG)
            continue;
        for (ULONG type = 0; type < POOL_TYPE_COUNT; type++)
            KtCheck(Context, e->Allocs[type] == e->Frees[type] && e->Bytes[type] == 0, "tag_balance",
                    "pool type %u: %d allocations, %d frees, %llu bytes outstanding", type, e->Allocs[type],
                    e->Frees[type], (ULONG64)e->Bytes[type]);
    }
}

/* What a lab 04/05 stub that cannot return NTSTATUS looks like. */
static BOOLEAN KtFakeBooleanStub(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KeNotImplemented("KtFakeBooleanStub", "lab 04");
    return FALSE;
}

static VOID KtStubCaller(PVOID Argument)
{
    KtFakeBooleanStub(Argument);
}

/* A BOOLEAN stub, called from the test and from a test thread, marks itself with
 * KeNotImplemented: the runner reports it once as the failing check "implemented" (the
 * grader's verdict "not implemented"). Fails on purpose. */
KTEST_EX("ke.stub_not_implemented", KtTestStubNotImplemented, KTEST_FAILS)
{
    PKTHREAD t;
    KtFakeBooleanStub(NULL);
    if (KtCreateThread(Context, "stub_caller", KtStubCaller, NULL, &t))
        KtJoinThread(Context, t);
    KtCheck(Context, Context->NotImplementedCount == 1, "reported_once", "%u functions reported",
            Context->NotImplementedCount);
}
