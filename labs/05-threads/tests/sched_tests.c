/* sched_tests.c - lab 05 public tests of the dispatcher: seeded priorities run highest
 * first and FIFO within one priority (the order judged by the grader's model); a thread
 * readied above the running one preempts it at once, below it waits; KeSetPriorityThread
 * moves a ready thread and preempts; equal priorities round-robin at quantum end; a wait
 * boost decays one level per quantum end back to the base. The ready queues and the
 * summary bitmap are audited after every step. */
#include "lab05_audit.h"

static KT_TRACE KtSchedTrace;

static VOID KtTraceThread(PVOID Argument)
{
    KtTraceAdd(&KtSchedTrace, (CHAR)(ULONG_PTR)Argument);
}

/* sched.priority: n threads of seeded priorities (two equal) created while the test runs
 * above them; when it drops below them they run highest first, FIFO within a priority. */
KTEST("sched.priority", KtTestSchedPriority)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtSchedTrace, sizeof(KtSchedTrace));
    ULONG n = (ULONG)KtRandomRange(Context, 4, 8);
    KPRIORITY prio[8];
    for (ULONG i = 0; i < n; i++)
        prio[i] = (KPRIORITY)KtRandomRange(Context, 9, 14);
    prio[n - 1] = prio[0];
    prio[1] = 9;
    prio[2] = 14;
    PKTHREAD self = KeGetCurrentThread(), t[8];
    KPRIORITY old = KeSetPriorityThread(self, 20);
    if (KtLab05Stubbed(Context))
        return;
    KtCheck(Context, old == KT_RUNNER_PRIORITY && self->Priority == 20 && self->BasePriority == 20, "set_priority",
            "KeSetPriorityThread(self, 20) returned %d (expected the old priority %d) and left Priority %d, "
            "BasePriority %d (expected 20, 20)", old, KT_RUNNER_PRIORITY, self->Priority, self->BasePriority);
    ULONG made = 0;
    for (ULONG i = 0; i < n; i++) {
        if (!KtCreateThreadAt(Context, "prio", KtTraceThread, (PVOID)(ULONG_PTR)('a' + i), prio[i], &t[i]))
            break;
        made++;
        KtCheck(Context, KtSchedTrace.Length == 0 && t[i]->State == Ready, "no_preempt_lower",
                "thread %c (priority %d) was readied below the running thread (20): it must wait Ready on its queue, "
                "seen State %s and %u threads already ran", 'a' + i, prio[i], KeThreadStateName(t[i]->State),
                KtSchedTrace.Length);
        KtAuditReadyQueues(Context, "readying a thread");
    }
    CHAR expected[9];
    ULONG k = 0;
    for (KPRIORITY p = 14; p >= 9; p--)
        for (ULONG i = 0; i < made; i++)
            if (prio[i] == p)
                expected[k++] = (CHAR)('a' + i);
    expected[k] = 0;
    /* KiSelectNextThread takes the head of the highest queue and makes it Standby; put back
     * with Preempted set, it returns to the head of its queue (the order is unchanged). */
    if (made) {
        KIRQL irql;
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
        PKTHREAD chosen = KiSelectNextThread(KeGetCurrentPrcb());
        KTHREAD_STATE state = chosen ? (KTHREAD_STATE)chosen->State : Initialized;
        BOOLEAN right = chosen && chosen == t[expected[0] - 'a'];
        if (chosen) {
            chosen->Preempted = TRUE;
            KiReadyThread(chosen);
        }
        KeLowerIrql(irql);
        KtCheck(Context, right && state == Standby, "select_standby", "KiSelectNextThread with threads ready at "
                "9..14 returned %p in state %s, expected thread %c %p (the head of the highest non-empty queue) in "
                "state Standby", chosen, chosen ? KeThreadStateName(state) : "-", expected[0], t[expected[0] - 'a']);
        KtAuditReadyQueues(Context, "KiSelectNextThread, then KiReadyThread of the chosen thread");
    }
    KeSetPriorityThread(self, KT_RUNNER_PRIORITY);
    /* Every thread is above the test now: all have run when KeSetPriorityThread returns. */
    KtTraceCheck(Context, &KtSchedTrace, "order", expected, "highest_first",
                 "the highest-priority ready thread runs first, equal priorities first in first out");
    for (ULONG i = 0; i < made; i++)
        KtJoinThread(Context, t[i]);
    KtAuditReadyQueues(Context, "all threads ended");
}

static PKTEST_CONTEXT KtPreemptContext;
static KPRIORITY KtPreemptHigh;

static VOID KtPreemptInner(PVOID Argument)
{
    KtTraceAdd(&KtSchedTrace, (CHAR)(ULONG_PTR)Argument);
}

/* H: logs 1, creates a thread above itself (2 runs at once), logs 3, creates one below
 * itself but above the test (4 runs when H ends). */
static VOID KtPreemptHighThread(PVOID Argument)
{
    PKTHREAD *inner = Argument;
    KtTraceAdd(&KtSchedTrace, '1');
    KtCreateThreadAt(KtPreemptContext, "above", KtPreemptInner, (PVOID)'2', KtPreemptHigh + 1, &inner[0]);
    KtTraceAdd(&KtSchedTrace, '3');
    KtCreateThreadAt(KtPreemptContext, "below", KtPreemptInner, (PVOID)'4', KtPreemptHigh - 1, &inner[1]);
}

KTEST("sched.preempt", KtTestSchedPreempt)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtSchedTrace, sizeof(KtSchedTrace));
    KtPreemptContext = Context;
    KPRIORITY low = (KPRIORITY)KtRandomRange(Context, 2, 7);
    KtPreemptHigh = (KPRIORITY)KtRandomRange(Context, 10, 14);
    KPRIORITY raise = (KPRIORITY)KtRandomRange(Context, 9, 15);
    PKTHREAD l, h, p, inner[2] = {NULL, NULL};
    /* A peer of the test's priority waits behind it; the test, preempted below, keeps its
     * turn (the head of its queue) and runs again before the peer. */
    if (!KtCreateThreadAt(Context, "peer", KtTraceThread, (PVOID)'P', KT_RUNNER_PRIORITY, &p))
        return;
    if (!KtLab05Stubbed(Context))
        KtCheck(Context, KtSchedTrace.Length == 0 && p->State == Ready, "no_preempt_equal",
                "a thread readied at the running thread's own priority (8) must wait Ready behind it (only a higher "
                "priority preempts); seen State %s, trace %s", KeThreadStateName(p->State),
                KtSchedTrace.Length ? KtSchedTrace.Text : "-");
    if (!KtCreateThreadAt(Context, "low", KtTraceThread, (PVOID)'L', low, &l)) {
        KtJoinThread(Context, p);
        return;
    }
    if (KtLab05Stubbed(Context)) {
        KtJoinThread(Context, l);
        KtJoinThread(Context, p);
        return;
    }
    KtCheck(Context, KtSchedTrace.Length == 0 && l->State == Ready, "no_preempt_lower",
            "a thread of priority %d readied while the test (priority 8) runs must wait Ready; seen State %s, "
            "trace %s", low, KeThreadStateName(l->State), KtSchedTrace.Length ? KtSchedTrace.Text : "-");
    KtAuditReadyQueues(Context, "readying a lower-priority thread");
    if (!KtCreateThreadAt(Context, "high", KtPreemptHighThread, inner, KtPreemptHigh, &h))
        return;
    /* H preempted the test at once; H's own higher thread preempted H; the one below H ran
     * when H ended, still before the test. */
    KtTraceCheck(Context, &KtSchedTrace, "preempt", "1234", "preempt_higher",
                 "a thread readied above the running thread runs at once (preemption); below it, it waits; the "
                 "preempted thread keeps its turn at the head of its queue (before the equal-priority peer P)");
    KtCheck(Context, !KeGetCurrentThread()->Preempted, "preempted_flag", "the test's thread was preempted and readied "
            "at the head of its queue; running again, its Preempted flag is still set (KiReadyThread clears it)");
    KtCheck(Context, l->State == Ready, "no_preempt_lower", "the low thread (priority %d) is %s while the test "
            "(priority 8) runs, expected Ready", low, KeThreadStateName(l->State));
    KtAuditReadyQueues(Context, "preemptions");
    /* Raising the ready low thread above the test preempts the test. */
    KPRIORITY old = KeSetPriorityThread(l, raise);
    KtCheck(Context, old == low, "set_priority_return", "KeSetPriorityThread returned %d, expected the old priority %d",
            old, low);
    KtTraceCheck(Context, &KtSchedTrace, "raised", "1234L", "set_priority_preempts",
                 "KeSetPriorityThread raising a ready thread above the running one preempts it");
    KtJoinThread(Context, l);
    KtJoinThread(Context, h);
    KtJoinThread(Context, p);
    for (ULONG i = 0; i < 2; i++)
        if (inner[i])
            KtJoinThread(Context, inner[i]);
    /* A NextThread displaced by a higher one goes back to the head of its queue: at
     * DISPATCH_LEVEL, D raised to 21 becomes NextThread, A raised to 21 waits behind it, B
     * raised to 22 displaces D; when the IRQL drops B runs, then D (head), then A. */
    PKTHREAD d3[3];
    KeSetPriorityThread(KeGetCurrentThread(), 20);
    RtlZeroMemory(&KtSchedTrace, sizeof(KtSchedTrace));
    ULONG made = 0;
    for (ULONG i = 0; i < 3; i++, made++)
        if (!KtCreateThreadAt(Context, "displace", KtTraceThread, (PVOID)(ULONG_PTR)"DAB"[i], 9, &d3[i]))
            break;
    if (made == 3) {
        KIRQL irql;
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
        KeSetPriorityThread(d3[0], 21);
        KeSetPriorityThread(d3[1], 21);
        KeSetPriorityThread(d3[2], 22);
        KeLowerIrql(irql);
        KtTraceCheck(Context, &KtSchedTrace, "displaced", "BDA", "displaced_next",
                     "a thread chosen to run next (NextThread) and displaced by a higher one goes back Ready to the "
                     "head of its queue (D before A, who was readied after it)");
    }
    KeSetPriorityThread(KeGetCurrentThread(), KT_RUNNER_PRIORITY);
    for (ULONG i = 0; i < made; i++)
        KtJoinThread(Context, d3[i]);
    /* A quantum end while a preempting thread is already chosen (NextThread) keeps it: the test
     * (8) with a peer P (8) ready; at DISPATCH_LEVEL H is raised to 9 (NextThread) and the test's
     * quantum runs out; when the IRQL drops H runs, then the preempted test (head of its queue). */
    PKTHREAD hq, pq;
    RtlZeroMemory(&KtSchedTrace, sizeof(KtSchedTrace));
    if (!KtCreateThreadAt(Context, "peer", KtTraceThread, (PVOID)'P', KT_RUNNER_PRIORITY, &pq))
        return;
    if (!KtCreateThreadAt(Context, "chosen", KtTraceThread, (PVOID)'H', 2, &hq)) {
        KtJoinThread(Context, pq);
        return;
    }
    KIRQL irql;
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    KeSetPriorityThread(hq, 9);
    ULONG64 start = KeTickCount;
    while (KeTickCount < start + 3 * THREAD_QUANTUM / CLOCK_QUANTUM_DECREMENT)
        __asm__ volatile("pause");
    KeLowerIrql(irql);
    KtTraceAdd(&KtSchedTrace, 'T');
    KtTraceCheck(Context, &KtSchedTrace, "quantum_next", "HT", "quantum_end_keeps_next",
                 "a quantum end with a thread already chosen to run next (NextThread, a preemption) keeps that "
                 "choice: no round robin then");
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    if (hq->State == Standby && KeGetCurrentPrcb()->NextThread != hq)
        KiReadyThread(hq); /* lost by the bug: put it back so the test can end */
    KeLowerIrql(irql);
    KtJoinThread(Context, hq);
    KtJoinThread(Context, pq);
}

/* sched.round_robin: K threads of one priority that never wait share the processor in
 * turns at quantum end, in queue order; each logs itself at the start of each turn and
 * ends at the start of its R-th. */
typedef struct {
    volatile ULONG Last;
    ULONG Turns;
    volatile BOOLEAN Stuck;
} KT_RR;
static KT_RR KtRr;

static VOID KtRoundRobinThread(PVOID Argument)
{
    ULONG me = (ULONG)(ULONG_PTR)Argument, turns = 0;
    ULONG64 lastSwitch = KeTickCount;
    for (;;) {
        if (KtRr.Last != me) {
            KtRr.Last = me;
            KtTraceAdd(&KtSchedTrace, (CHAR)('0' + me));
            lastSwitch = KeTickCount;
            if (++turns == KtRr.Turns)
                return;
        }
        if (KeTickCount - lastSwitch > 40) { /* 20 quanta without a turn's end: no round robin */
            KtRr.Stuck = TRUE;
            return;
        }
    }
}

KTEST("sched.round_robin", KtTestSchedRoundRobin)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtSchedTrace, sizeof(KtSchedTrace));
    RtlZeroMemory(&KtRr, sizeof(KtRr));
    ULONG k = (ULONG)KtRandomRange(Context, 3, 5);
    KtRr.Turns = (ULONG)KtRandomRange(Context, 2, 3);
    KtRr.Last = ~0U;
    KPRIORITY prio = (KPRIORITY)KtRandomRange(Context, 9, 12);
    PKTHREAD self = KeGetCurrentThread(), t[5];
    KeSetPriorityThread(self, 20);
    if (KtLab05Stubbed(Context))
        return;
    ULONG made = 0;
    for (ULONG i = 0; i < k; i++) {
        if (!KtCreateThreadAt(Context, "rr", KtRoundRobinThread, (PVOID)(ULONG_PTR)i, prio, &t[i]))
            break;
        made++;
    }
    KtAuditReadyQueues(Context, "readying the threads");
    KeSetPriorityThread(self, KT_RUNNER_PRIORITY);
    CHAR expected[40];
    ULONG n = 0;
    for (ULONG r = 0; r < KtRr.Turns; r++)
        for (ULONG i = 0; i < made; i++)
            expected[n++] = (CHAR)('0' + i);
    expected[n] = 0;
    KtCheck(Context, !KtRr.Stuck, "quantum_end", "a thread ran 40 ticks (20 quanta) without another of its priority "
            "getting a turn: quantum end must hand the processor to the next ready thread of the same priority");
    KtTraceCheck(Context, &KtSchedTrace, "turns", expected, "round_robin",
                 "equal priorities take turns at quantum end, in queue order (the one whose quantum ended goes to the "
                 "tail)");
    for (ULONG i = 0; i < made; i++)
        KtJoinThread(Context, t[i]);
}

/* sched.boost_decay: a thread of base priority B woken by KeSetEvent(Increment) runs at
 * min(B + Increment, 15) and loses one level per quantum end down to B; a real-time
 * thread (16) is never boosted. */
typedef struct {
    KEVENT Event, Again;
    KPRIORITY Seen[24];
    ULONG64 SeenTick[24];
    volatile ULONG Count;
    NTSTATUS Status;
    volatile LONG BadDecrement; /* a Priority - BasePriority the thread's PriorityDecrement did not match */
    volatile BOOLEAN DecrementWrong;
    KPRIORITY First, Second, AfterSet;
    LONG DecrementAfterSet;
} KT_BOOST;
static KT_BOOST KtBoost;

static VOID KtBoostThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    PKTHREAD self = KeGetCurrentThread();
    KtBoost.Status = KeWaitForSingleObject(&KtBoost.Event, Executive, KernelMode, FALSE, NULL);
    if (KtBoost.Status != STATUS_WAIT_0)
        return;
    KtBoost.Seen[KtBoost.Count++] = self->Priority;
    ULONG64 start = KeTickCount;
    volatile KPRIORITY *priority = &self->Priority; /* changed by the clock's quantum end */
    ULONG64 atBase = 0;
    volatile int8_t *decrement = &self->PriorityDecrement;
    while (KtBoost.Count < ARRAYSIZE(KtBoost.Seen) && KeTickCount - start < 100) {
        _disable();
        KPRIORITY p = *priority;
        LONG dec = *decrement;
        _enable();
        if (p - self->BasePriority != dec && self->BasePriority < LOW_REALTIME_PRIORITY && !KtBoost.DecrementWrong) {
            KtBoost.DecrementWrong = TRUE;
            KtBoost.BadDecrement = dec;
        }
        if (p != KtBoost.Seen[KtBoost.Count - 1]) {
            KtBoost.SeenTick[KtBoost.Count] = KeTickCount;
            KtBoost.Seen[KtBoost.Count++] = p;
        }
        if (p == self->BasePriority && !atBase)
            atBase = KeTickCount;
        if (atBase && KeTickCount - atBase > 3 * THREAD_QUANTUM / CLOCK_QUANTUM_DECREMENT)
            break; /* three more quanta at the base: the decay stopped there */
    }
}

/* Woken twice in a row by KeSetEvent(Increment) before any decay: the boost counts from the
 * base both times (base + increment, not priority + increment); then KeSetPriorityThread
 * sets both priorities and clears PriorityDecrement. */
static VOID KtBoostTwiceThread(PVOID Argument)
{
    PKTHREAD self = KeGetCurrentThread();
    if (KeWaitForSingleObject(&KtBoost.Event, Executive, KernelMode, FALSE, NULL) != STATUS_WAIT_0)
        return;
    KtBoost.First = self->Priority;
    if (KeWaitForSingleObject(&KtBoost.Again, Executive, KernelMode, FALSE, NULL) != STATUS_WAIT_0)
        return;
    KtBoost.Second = self->Priority;
    KeSetPriorityThread(self, (KPRIORITY)(ULONG_PTR)Argument);
    KtBoost.AfterSet = self->Priority;
    KtBoost.DecrementAfterSet = self->PriorityDecrement;
}

KTEST("sched.boost_decay", KtTestSchedBoostDecay)
{
    if (!KtLab05Begin(Context))
        return;
    for (ULONG round = 0; round < 3; round++) {
        /* round 0: a seeded base and increment within 15; 1: the cap at 15; 2: real time. */
        KPRIORITY base = round == 0 ? (KPRIORITY)KtRandomRange(Context, 9, 11)
                                    : round == 1 ? (KPRIORITY)KtRandomRange(Context, 13, 14) : 16;
        KPRIORITY inc = round == 0 ? (KPRIORITY)KtRandomRange(Context, 2, 3) : (KPRIORITY)KtRandomRange(Context, 3, 5);
        RtlZeroMemory(&KtBoost, sizeof(KtBoost));
        KtPoison05(Context, &KtBoost.Event, sizeof(KtBoost.Event));
        KeInitializeEvent(&KtBoost.Event, SynchronizationEvent, FALSE);
        PKTHREAD t;
        if (!KtCreateThreadAt(Context, "boosted", KtBoostThread, NULL, base, &t))
            return;
        if (KtLab05Stubbed(Context)) {
            KtJoinThread(Context, t);
            return;
        }
        KtCheck(Context, t->State == Waiting && t->Priority == base, "wait_blocks", "thread of priority %d after "
                "waiting on an unsignalled event: State %s, Priority %d (expected Waiting, %d)", base,
                KeThreadStateName(t->State), t->Priority, base);
        KeSetEvent(&KtBoost.Event, inc, FALSE);
        KtJoinThread(Context, t);
        KPRIORITY top = base >= LOW_REALTIME_PRIORITY ? base : base + inc > 15 ? 15 : base + inc;
        CHAR seen[80], want[80];
        ULONG ns = 0, nw = 0;
        for (ULONG i = 0; i < KtBoost.Count; i++)
            ns += RtlFormatString(seen + ns, sizeof(seen) - ns, "%d ", KtBoost.Seen[i]);
        for (KPRIORITY p = top; p >= base; p--)
            nw += RtlFormatString(want + nw, sizeof(want) - nw, "%d ", p);
        if (!ns)
            RtlFormatString(seen, sizeof(seen), "(the wait returned 0x%X)", (ULONG)KtBoost.Status);
        KtValue(Context, "priorities", "%s", seen);
        BOOLEAN same = KtBoost.Count == (ULONG)(top - base + 1);
        for (ULONG i = 0; same && i < KtBoost.Count; i++)
            same = KtBoost.Seen[i] == top - (KPRIORITY)i;
        KtCheck(Context, !KtBoost.DecrementWrong, "priority_decrement", "base %d woken with increment %d: while "
                "its priority went %s its PriorityDecrement was %d at one point, expected Priority - BasePriority "
                "(the boost records the levels above the base; each quantum end's decay takes one off)", base, inc,
                seen, KtBoost.BadDecrement);
        ULONG64 gap = ~0ULL;
        for (ULONG i = 2; i < KtBoost.Count; i++)
            if (KtBoost.SeenTick[i] - KtBoost.SeenTick[i - 1] < gap)
                gap = KtBoost.SeenTick[i] - KtBoost.SeenTick[i - 1];
        KtCheck(Context, gap >= THREAD_QUANTUM / CLOCK_QUANTUM_DECREMENT, "quantum_reset", "base %d woken with "
                "increment %d: two decay steps came %llu tick(s) apart, expected one quantum (%d ticks): KiQuantumEnd "
                "gives the running thread a new quantum (THREAD_QUANTUM)", base, inc, gap,
                THREAD_QUANTUM / CLOCK_QUANTUM_DECREMENT);
        KtCheck(Context, same, round == 2 ? "no_realtime_boost" : round == 1 ? "boost_cap" : "boost_decay",
                "base %d woken with increment %d: priorities seen %s, expected %s(%s)", base, inc, seen, want,
                round == 2 ? "a real-time thread is never boosted"
                : round == 1 ? "the boost stops at 15, and decays one level per quantum end"
                             : "boosted to base + increment, then one level less at each quantum end, down to base");
    }
    {
        KPRIORITY base = (KPRIORITY)KtRandomRange(Context, 9, 11), inc = 2;
        RtlZeroMemory(&KtBoost, sizeof(KtBoost));
        KtPoison05(Context, &KtBoost.Event, sizeof(KtBoost.Event));
        KeInitializeEvent(&KtBoost.Event, SynchronizationEvent, FALSE);
        KtPoison05(Context, &KtBoost.Again, sizeof(KtBoost.Again));
        KeInitializeEvent(&KtBoost.Again, SynchronizationEvent, FALSE);
        PKTHREAD t;
        if (!KtCreateThreadAt(Context, "boosted2", KtBoostTwiceThread, (PVOID)(ULONG_PTR)base, base, &t))
            return;
        if (KtLab05Stubbed(Context)) {
            KtJoinThread(Context, t);
            return;
        }
        KeSetEvent(&KtBoost.Event, inc, FALSE);
        KeSetEvent(&KtBoost.Again, inc, FALSE);
        KtJoinThread(Context, t);
        KtCheck(Context, KtBoost.First == base + inc && KtBoost.Second == base + inc, "boost_from_base",
                "base %d woken twice with increment %d: priorities %d then %d, expected %d both times (the boost is "
                "BasePriority + increment, applied only if higher than the priority now)", base, inc, KtBoost.First,
                KtBoost.Second, base + inc);
        KtCheck(Context, KtBoost.AfterSet == base && KtBoost.DecrementAfterSet == 0, "set_priority",
                "a boosted thread (priority %d) called KeSetPriorityThread(self, %d): Priority %d, PriorityDecrement "
                "%d (expected %d, 0: the boost is gone)", KtBoost.Second, base, KtBoost.AfterSet,
                (int)KtBoost.DecrementAfterSet, base);
    }
}
