/* timer_tests.c - lab 04 public tests of timers: initialisation on poisoned memory; seeded
 * timers (relative and absolute, several in one table entry, across the table's
 * wrap-around) fire in due-time order at their due tick (the order judged by the grader's
 * model); cancel and reset in both directions; a periodic timer's exact count; due times
 * already past, one 100 ns unit ahead, exactly on a tick; a timer due at DISPATCH_LEVEL.
 * The whole timer table is audited after every step. */
#include "lab04_audit.h"

#define KT_TIMERS 40
static KTIMER KtTimers[KT_TIMERS];
static KDPC KtTimerDpcs[KT_TIMERS];
static KT_TIMER_EXPECT KtExpect[KT_TIMERS];

static ULONG64 KtInc(VOID)
{
    return KeTimeIncrement;
}

/* Initialises timer i (poisoned first) and its logging DPC; checks every field. */
static BOOLEAN KtInitTimer(PKTEST_CONTEXT Context, ULONG i, TIMER_TYPE Type)
{
    PKTIMER t = &KtTimers[i];
    KtPoison(Context, t, sizeof(*t));
    if (Type == NotificationTimer && (i & 1))
        KeInitializeTimer(t);
    else
        KeInitializeTimerEx(t, Type);
    KtPoison(Context, &KtTimerDpcs[i], sizeof(KtTimerDpcs[i]));
    KeInitializeDpc(&KtTimerDpcs[i], KtLogDpcRoutine, (PVOID)(ULONG_PTR)i);
    KtExpect[i].Timer = t;
    KtExpect[i].Set = FALSE;
    KtExpect[i].DueTime = 0;
    if (KtLab04Stubbed(Context))
        return FALSE;
    return KtCheck(Context, t->Header.Type == TimerNotificationObject + Type && t->Header.SignalState == 0 &&
                   t->Header.WaitListHead.Flink == &t->Header.WaitListHead &&
                   t->Header.WaitListHead.Blink == &t->Header.WaitListHead && t->DueTime == 0 && t->Dpc == NULL &&
                   t->Period == 0 && !t->Inserted && t->Hand == 0 && t->TimerListEntry.Flink == NULL &&
                   t->TimerListEntry.Blink == NULL, "initialize",
                   "KeInitializeTimer%s on poisoned memory left Type %u (%u), SignalState %d (0), WaitListHead %p/%p "
                   "(empty: %p), DueTime %llu (0), Dpc %p (NULL), Period %d (0), Inserted %u (0), Hand %u (0), links "
                   "%p/%p (NULL)", (Type == NotificationTimer && (i & 1)) ? "" : "Ex", t->Header.Type,
                   TimerNotificationObject + Type, t->Header.SignalState, t->Header.WaitListHead.Flink,
                   t->Header.WaitListHead.Blink, &t->Header.WaitListHead, t->DueTime, t->Dpc, t->Period, t->Inserted,
                   t->Hand, t->TimerListEntry.Flink, t->TimerListEntry.Blink);
}

/* Sets timer i to Offset (100 ns) from Now, relative or absolute; updates the expectation. */
static BOOLEAN KtSet(PKTEST_CONTEXT Context, ULONG i, ULONG64 Now, ULONG64 Offset, BOOLEAN Absolute, LONG Period,
                     BOOLEAN ExpectedReturn)
{
    LARGE_INTEGER due;
    due.QuadPart = Absolute ? (LONG64)(KeBootSystemTime + Now + Offset) : -(LONG64)Offset;
    BOOLEAN r = KeSetTimerEx(&KtTimers[i], due, Period, &KtTimerDpcs[i]);
    if (KtLab04Stubbed(Context))
        return FALSE;
    KtExpect[i].Set = Offset != 0 || Period != 0;
    KtExpect[i].DueTime = Now + (Offset ? Offset : (ULONG64)Period * 10000);
    if (!KtCheck(Context, r == ExpectedReturn, "set_return", "KeSetTimerEx(timer #%u) returned %s, expected %s (TRUE "
                 "only if the timer was set)", i, r ? "TRUE" : "FALSE", ExpectedReturn ? "TRUE" : "FALSE"))
        return FALSE;
    if (Offset && !KtCheck(Context, KtTimers[i].Header.SignalState == 0 && KtTimers[i].Dpc == &KtTimerDpcs[i] &&
                           KtTimers[i].Period == Period, "set_fields", "after KeSetTimerEx(timer #%u): SignalState %d "
                           "(0), Dpc %p (%p), Period %d (%d)", i, KtTimers[i].Header.SignalState, KtTimers[i].Dpc,
                           &KtTimerDpcs[i], KtTimers[i].Period, Period))
        return FALSE;
    char step[64];
    RtlFormatString(step, sizeof(step), "KeSetTimerEx(timer #%u, %s %llu)", i, Absolute ? "absolute" : "relative",
                     Offset);
    return KtAuditTimerTable(Context, step, KtExpect, KT_TIMERS);
}

static BOOLEAN KtCancel(PKTEST_CONTEXT Context, ULONG i, BOOLEAN ExpectedReturn)
{
    BOOLEAN r = KeCancelTimer(&KtTimers[i]);
    if (KtLab04Stubbed(Context))
        return FALSE;
    KtExpect[i].Set = FALSE;
    if (!KtCheck(Context, r == ExpectedReturn, ExpectedReturn ? "cancel" : "cancel_unset",
                 "KeCancelTimer(timer #%u) returned %s, expected %s (TRUE only if it was set)", i, r ? "TRUE" : "FALSE",
                 ExpectedReturn ? "TRUE" : "FALSE"))
        return FALSE;
    char step[48];
    RtlFormatString(step, sizeof(step), "KeCancelTimer(timer #%u)", i);
    return KtAuditTimerTable(Context, step, KtExpect, KT_TIMERS);
}

/* Expected fire: the DPC ran at DISPATCH_LEVEL, not before the due tick (the first tick at
 * or after DueTime), and got as its arguments the interrupt time of the expiry: that tick,
 * or (when the expiry pass itself was interrupted by the clock) at most two ticks later. */
static BOOLEAN KtCheckFire(PKTEST_CONTEXT Context, const KT_DPC_RUN *Run, ULONG64 DueTime)
{
    ULONG64 tick = KiDueTick(DueTime);
    ULONG64 time = (ULONG64)(ULONG_PTR)Run->Argument1 | ((ULONG64)(ULONG_PTR)Run->Argument2 << 32);
    return KtCheck(Context, Run->Tick >= tick && time >= tick * KtInc() && time <= (tick + 2) * KtInc() &&
                   time % KtInc() == 0 && time <= Run->Tick * KtInc(), "expiry_time", "timer #%u's DPC ran at tick %llu "
                   "with interrupt time %llu (SystemArgument1/2), expected the expiry's interrupt time from %llu (the "
                   "first tick at or after its DueTime %llu) to %llu", Run->Id, Run->Tick, time, tick * KtInc(),
                   DueTime, (tick + 2) * KtInc()) &&
           KtCheck(Context, Run->Irql == DISPATCH_LEVEL && Run->InterruptsOn, "run_irql", "timer #%u's DPC ran at IRQL "
                   "%u, interrupts %s", Run->Id, Run->Irql, Run->InterruptsOn ? "on" : "off");
}

/* Freezes time: DISPATCH_LEVEL with interrupts off, so every set in the window sees one
 * interrupt time. */
static ULONG64 KtFreeze(PKIRQL Old)
{
    KeRaiseIrql(DISPATCH_LEVEL, Old);
    _disable();
    return KeQueryInterruptTime();
}
static VOID KtThaw(KIRQL Old)
{
    _enable();
    KeLowerIrql(Old);
}

/* The seeded schedule of timer.order, mirrored by grader/models/lab04.py: Count near timers
 * (offsets in 100 ns, ticks 2..16 past the start), the first three sharing one due tick
 * (two with the same due time), absolute for even indexes; Far timers due TIMER_TABLE_SIZE ticks after
 * near ones (the same table entry, not due). */
#define KT_ORDER_FAR 4
static ULONG KtOrderSchedule(PKTEST_CONTEXT Context, ULONG64 *Offset)
{
    ULONG n = (ULONG)KtRandomRange(Context, 12, 24);
    ULONG64 inc = KtInc();
    for (ULONG i = 0; i < n; i++) {
        ULONG64 ticks = KtRandomRange(Context, 2, 16);
        Offset[i] = ticks * inc - KtRandomRange(Context, 0, inc - 1);
    }
    Offset[1] = Offset[0];
    Offset[2] = KiDueTick(Offset[0]) * inc;
    Offset[2] -= KtRandomRange(Context, 0, inc - 1);
    for (ULONG f = 0; f < KT_ORDER_FAR; f++)
        Offset[n + f] = Offset[KtRandomRange(Context, 0, n - 1)] + TIMER_TABLE_SIZE * inc + f;
    return n;
}

KTEST("timer.order", KtTestTimerOrder)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    ULONG64 offset[KT_TIMERS];
    if (!KtCheck(Context, KeClockHz != 0 && KeTimeIncrement != 0, "clock", "the clock is not running"))
        goto out;
    KtValue(Context, "increment", "%u", KeTimeIncrement);
    ULONG n = KtOrderSchedule(Context, offset);
    KtDpcLogCount = 0;
    RtlZeroMemory(KtExpect, sizeof(KtExpect));
    KtWaitForTick(Context, KeTickCount + 1); /* interrupt time not 0: absolute != relative */
    for (ULONG i = 0; i < n + KT_ORDER_FAR; i++)
        if (!KtInitTimer(Context, i, (i % 3) ? NotificationTimer : SynchronizationTimer))
            goto out;
    if (!KtAuditTimerTable(Context, "initialising the timers", KtExpect, KT_TIMERS))
        goto out;
    /* Start a few ticks before the table wraps, so that the near timers straddle it. */
    ULONG64 wrap = (KeTickCount / TIMER_TABLE_SIZE + 1) * TIMER_TABLE_SIZE;
    if (wrap - KeTickCount < 8)
        wrap += TIMER_TABLE_SIZE;
    KtWaitForTick(Context, wrap - 8);
    KIRQL old;
    ULONG64 now = KtFreeze(&old);
    /* The far timers first: each near timer set after them goes before one in its list. */
    for (ULONG k = 0; k < n + KT_ORDER_FAR; k++) {
        ULONG i = k < KT_ORDER_FAR ? n + k : k - KT_ORDER_FAR;
        if (!KtSet(Context, i, now, offset[i], (i & 1) == 0, 0, FALSE)) {
            KtThaw(old);
            goto out;
        }
    }
    KtCheck(Context, KtDpcLogCount == 0, "not_early", "%u timer DPCs ran before any timer was due", KtDpcLogCount);
    KtThaw(old);
    ULONG64 start = now / KtInc();
    KtWaitForTick(Context, start + 18);
    ULONG64 at = KtFreeze(&old);
    /* The near timers have expired, the far ones (same entries, a table's length later) have not. */
    for (ULONG i = 0; i < n; i++)
        KtExpect[i].Set = FALSE;
    ULONG fired = KtDpcLogCount;
    BOOLEAN audit = fired == n && KtAuditTimerTable(Context, "the near timers' due ticks", KtExpect, KT_TIMERS);
    KtThaw(old);
    UNREFERENCED_PARAMETER(at);
    for (ULONG k = 0; k < KtDpcLogCount && k < KT_DPC_LOG; k++)
        KtValue(Context, "fired", "%u", KtDpcLog[k].Id);
    if (!KtCheck(Context, fired == n, "fire_once", "%u timer DPCs ran, expected %u (each near timer once, no far "
                 "timer: those are due %u ticks later in the same table entries)", fired, n, TIMER_TABLE_SIZE) ||
        !audit)
        goto out;
    for (ULONG k = 0; k < n; k++) {
        ULONG id = KtDpcLog[k].Id;
        if (!KtCheck(Context, id < n, "fire_once", "far timer #%u fired", id) ||
            !KtCheckFire(Context, &KtDpcLog[k], now + offset[id]))
            goto out;
        if (k > 0) {
            ULONG prev = KtDpcLog[k - 1].Id;
            if (!KtCheck(Context, offset[prev] < offset[id] || (offset[prev] == offset[id] && prev < id), "due_order",
                         "timer #%u (due +%llu) fired after timer #%u (due +%llu): timers fire in due-time order, equal "
                         "due times in the order they were set", id, offset[id], prev, offset[prev]))
                goto out;
        }
        if (!KtCheck(Context, KeReadStateTimer(&KtTimers[id]), "signalled", "timer #%u fired but KeReadStateTimer "
                     "returns FALSE", id))
            goto out;
    }
    for (ULONG f = 0; f < KT_ORDER_FAR; f++)
        if (!KtCancel(Context, n + f, TRUE))
            goto out;
out:
    KtLab04Cleanup();
}

/* Cancel (TRUE when set, FALSE when not: never set, cancelled, expired) and reset (moves
 * the timer, earlier and later; returns TRUE); a cancelled timer never fires; a reset one
 * fires once, at its new time; SignalState 1 after expiry, 0 when set again. */
KTEST("timer.cancel", KtTestTimerCancel)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtDpcLogCount = 0;
    RtlZeroMemory(KtExpect, sizeof(KtExpect));
    KtWaitForTick(Context, KeTickCount + 1); /* interrupt time not 0: absolute != relative */
    for (ULONG i = 0; i < 4; i++)
        if (!KtInitTimer(Context, i, NotificationTimer))
            goto out;
    if (!KtCancel(Context, 0, FALSE))
        goto out;
    ULONG64 inc = KtInc();
    ULONG64 d0 = KtRandomRange(Context, 3, 6) * inc;
    ULONG64 d1 = KtRandomRange(Context, 8, 12) * inc;
    ULONG64 d2 = KtRandomRange(Context, 4, 7) * inc;
    ULONG64 d3 = KtRandomRange(Context, 13, 16) * inc + 7;
    KIRQL old;
    ULONG64 now = KtFreeze(&old);
    BOOLEAN ok = KtSet(Context, 0, now, d1, FALSE, 0, FALSE) &&  /* A, to be moved earlier */
                 KtSet(Context, 1, now, d0, TRUE, 0, FALSE) &&   /* B, to be cancelled */
                 KtSet(Context, 2, now, d2, FALSE, 0, FALSE) &&  /* C, to be moved later */
                 KtSet(Context, 3, now, d1, TRUE, 0, FALSE) &&   /* D, fires as set */
                 KtSet(Context, 0, now, d0 - 1, TRUE, 0, TRUE) && /* A moves earlier */
                 KtSet(Context, 2, now, d3, FALSE, 0, TRUE) &&   /* C moves later */
                 KtCancel(Context, 1, TRUE) && KtCancel(Context, 1, FALSE);
    KtThaw(old);
    if (!ok)
        goto out;
    KtWaitForTick(Context, now / inc + 17);
    ULONG expect[3] = {0, 3, 2};
    ULONG64 due[4] = {now + d0 - 1, 0, now + d3, now + d1};
    for (ULONG i = 0; i < 4; i++)
        KtExpect[i].Set = FALSE;
    if (!KtAuditTimerTable(Context, "every due time", KtExpect, KT_TIMERS) ||
        !KtCheck(Context, KtDpcLogCount == 3, "cancelled_never_fires", "%u timer DPCs ran, expected 3 (A at its new "
                 "time, D, C at its new time; B was cancelled)", KtDpcLogCount))
        goto out;
    for (ULONG k = 0; k < 3; k++)
        if (!KtCheck(Context, KtDpcLog[k].Id == expect[k], "reset_moves", "fire %u was timer #%u, expected #%u (a reset "
                     "timer fires once, at its new due time)", k, KtDpcLog[k].Id, expect[k]) ||
            !KtCheckFire(Context, &KtDpcLog[k], due[expect[k]]))
            goto out;
    if (!KtCheck(Context, KeReadStateTimer(&KtTimers[0]) && !KeReadStateTimer(&KtTimers[1]), "signalled",
                 "after expiry KeReadStateTimer gives %u for the expired timer (1) and %u for the cancelled one (0)",
                 KeReadStateTimer(&KtTimers[0]), KeReadStateTimer(&KtTimers[1])) ||
        !KtCancel(Context, 3, FALSE))
        goto out;
    /* Set again after expiry: returns FALSE and clears the signal. */
    now = KtFreeze(&old);
    ok = KtSet(Context, 0, now, 50 * inc, FALSE, 0, FALSE);
    KtThaw(old);
    if (!ok || !KtCheck(Context, !KeReadStateTimer(&KtTimers[0]), "signalled", "setting an expired timer again left "
                        "it signalled"))
        goto out;
    /* Set again (while set) with another DPC, then with none: each set stores the new Dpc. */
    LARGE_INTEGER later = {.QuadPart = -(LONG64)(60 * inc)};
    BOOLEAN r1 = KeSetTimer(&KtTimers[0], later, &KtTimerDpcs[1]);
    PKDPC dpc1 = KtTimers[0].Dpc;
    BOOLEAN r2 = KeSetTimer(&KtTimers[0], later, NULL);
    PKDPC dpc2 = KtTimers[0].Dpc;
    KtExpect[0].Set = FALSE;
    KeCancelTimer(&KtTimers[0]);
    KtCheck(Context, r1 && r2 && dpc1 == &KtTimerDpcs[1] && dpc2 == NULL, "set_fields", "setting a set timer again "
            "with another DPC, then with none: returned %u %u (1 1), Dpc %p then %p (expected %p, then NULL: each "
            "KeSetTimer stores its Dpc)", r1, r2, dpc1, &KtTimerDpcs[1], dpc2);
out:
    KtLab04Cleanup();
}

/* A periodic timer fires at due, due + P, due + 2P, ... exactly (one per period within
 * the clock's 1 ms resolution), stays set, and stops when cancelled. */
KTEST("timer.periodic", KtTestTimerPeriodic)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtDpcLogCount = 0;
    RtlZeroMemory(KtExpect, sizeof(KtExpect));
    KtWaitForTick(Context, KeTickCount + 1); /* interrupt time not 0: absolute != relative */
    if (!KtInitTimer(Context, 0, SynchronizationTimer) || !KtInitTimer(Context, 1, NotificationTimer))
        goto out;
    ULONG64 inc = KtInc();
    LONG period = (LONG)(KtRandomRange(Context, 2, 5) * inc / 10000); /* whole ticks, in ms */
    ULONG64 first = KtRandomRange(Context, 2, 6) * inc;
    first -= KtRandomRange(Context, 0, inc - 1);
    ULONG fires = (ULONG)KtRandomRange(Context, 3, 6);
    KIRQL old;
    ULONG64 now = KtFreeze(&old);
    BOOLEAN ok = KtSet(Context, 0, now, first, FALSE, period, FALSE);
    /* Timer 1: a one-shot in the same table entry as the periodic timer's third expiry. */
    ok = ok && KtSet(Context, 1, now, first + 2 * (ULONG64)period * 10000 + TIMER_TABLE_SIZE * inc, TRUE, 0, FALSE);
    KtThaw(old);
    if (!ok)
        goto out;
    ULONG64 last = KiDueTick(now + first) + (fires - 1) * (ULONG64)period * 10000 / inc;
    KtWaitForTick(Context, last);
    ULONG seen = KtDpcLogCount;
    now = KtFreeze(&old);
    KtExpect[0].DueTime += (ULONG64)fires * period * 10000;
    BOOLEAN audit = KtAuditTimerTable(Context, "periodic expiries", KtExpect, KT_TIMERS);
    KtThaw(old);
    if (!audit || !KtCheck(Context, seen == fires, "period_count", "a timer of period %d ms first due at tick %llu had "
                           "fired %u times by tick %llu, expected %u", period, KiDueTick(KtExpect[0].DueTime -
                           (ULONG64)fires * period * 10000), seen, last, fires))
        goto out;
    for (ULONG k = 0; k < fires; k++)
        if (!KtCheck(Context, KtDpcLog[k].Id == 0, "period_count", "fire %u was timer #%u", k, KtDpcLog[k].Id) ||
            !KtCheckFire(Context, &KtDpcLog[k], KtExpect[0].DueTime - (ULONG64)(fires - k) * period * 10000))
            goto out;
    if (!KtCancel(Context, 0, TRUE) || !KtCancel(Context, 1, TRUE))
        goto out;
    KtWaitForTick(Context, last + 2 * (ULONG64)period * 10000 / inc + 1);
    if (!KtCheck(Context, KtDpcLogCount == fires, "cancelled_never_fires", "the cancelled periodic timer fired %u more "
                 "times", KtDpcLogCount - fires))
        goto out;
    /* Held at DISPATCH_LEVEL for three periods: the expiry finds DueTime + Period already past and
     * sets the timer again at (the expiry's interrupt time) + Period; one DPC run. The period is 5
     * ticks and the wait 1 + 3 periods + 1 ticks, so DueTime + k * Period never lands on it. */
    KtDpcLogCount = 0;
    LONG slow = (LONG)(5 * inc / 10000);
    now = KtFreeze(&old);
    ok = KtSet(Context, 0, now, inc, FALSE, slow, FALSE);
    _enable();
    if (ok)
        KtWaitForTick(Context, now / inc + 2 + 3 * 5);
    KeLowerIrql(old);
    ULONG64 nextDue = KtTimers[0].DueTime;
    BOOLEAN set = KtTimers[0].Inserted;
    ULONG64 expiry = KtDpcLogCount ? ((ULONG64)(ULONG_PTR)KtDpcLog[0].Argument1 |
                                      ((ULONG64)(ULONG_PTR)KtDpcLog[0].Argument2 << 32)) : 0;
    KtCancel(Context, 0, TRUE);
    KtCheck(Context, ok && KtDpcLogCount == 1 && set && nextDue == expiry + (ULONG64)slow * 10000, "period_catch_up",
            "a periodic timer (period %d ms) held at DISPATCH_LEVEL for three periods: %u DPC runs when the IRQL "
            "dropped (1), then Inserted %u (1) with DueTime %llu, expected the expiry's interrupt time %llu + Period "
            "= %llu (DueTime + Period had passed: set again at now + Period)", slow, KtDpcLogCount, set, nextDue,
            expiry, expiry + (ULONG64)slow * 10000);
out:
    KtLab04Cleanup();
}

/* Boundaries: an absolute due time of 0 (before boot) and one equal to now expire at once
 * (the DPC has run when KeSetTimer returns at PASSIVE_LEVEL; the timer is on no list); a
 * relative 1 (100 ns) is due at the next tick; a relative whole number of ticks is due
 * exactly at that tick; a timer due while the IRQL is DISPATCH_LEVEL fires when it drops. */
KTEST("timer.boundaries", KtTestTimerBoundaries)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtDpcLogCount = 0;
    RtlZeroMemory(KtExpect, sizeof(KtExpect));
    KtWaitForTick(Context, KeTickCount + 1); /* interrupt time not 0: absolute != relative */
    for (ULONG i = 0; i < 6; i++)
        if (!KtInitTimer(Context, i, NotificationTimer))
            goto out;
    ULONG64 inc = KtInc();
    LARGE_INTEGER due;
    due.QuadPart = 0;
    BOOLEAN r = KeSetTimer(&KtTimers[0], due, &KtTimerDpcs[0]);
    if (KtLab04Stubbed(Context) ||
        !KtCheck(Context, !r && KtDpcLogCount == 1 && KtDpcLog[0].Id == 0 && !KtTimers[0].Inserted &&
                 KeReadStateTimer(&KtTimers[0]), "past_due", "KeSetTimer with absolute due time 0 (before boot): "
                 "returned %u (0), DPC runs %u (1, before KeSetTimer returns), Inserted %u (0), signalled %u (1)", r,
                 KtDpcLogCount, KtTimers[0].Inserted, KeReadStateTimer(&KtTimers[0])) ||
        !KtAuditTimerTable(Context, "a timer already due", KtExpect, KT_TIMERS))
        goto out;
    KIRQL old;
    ULONG64 now = KtFreeze(&old);
    due.QuadPart = (LONG64)(KeBootSystemTime + now);
    r = KeSetTimer(&KtTimers[1], due, &KtTimerDpcs[1]);
    BOOLEAN queued = KtTimerDpcs[1].DpcData != NULL;
    BOOLEAN ok = KtCheck(Context, queued && !KtTimers[1].Inserted, "past_due", "KeSetTimer with the absolute due time "
                         "now: DPC queued %u (1), Inserted %u (0)", queued, KtTimers[1].Inserted) &&
                 KtSet(Context, 2, now, 1, FALSE, 0, FALSE) &&        /* next tick */
                 KtSet(Context, 3, now, 3 * inc, FALSE, 0, FALSE);   /* exactly 3 ticks */
    KtThaw(old);
    if (!ok)
        goto out;
    ULONG64 tick = now / inc;
    KtWaitForTick(Context, tick + 3);
    KtExpect[2].Set = KtExpect[3].Set = FALSE;
    if (!KtCheck(Context, KtDpcLogCount == 4, "fire_once", "%u DPC runs, expected 4", KtDpcLogCount) ||
        !KtCheck(Context, KtDpcLog[1].Id == 1 && KtDpcLog[2].Id == 2 && KtDpcLog[3].Id == 3, "due_order",
                 "fires were #%u, #%u, #%u; expected #1 (due now), #2 (next tick), #3 (third tick)", KtDpcLog[1].Id,
                 KtDpcLog[2].Id, KtDpcLog[3].Id) ||
        !KtCheckFire(Context, &KtDpcLog[2], now + 1) || !KtCheckFire(Context, &KtDpcLog[3], now + 3 * inc) ||
        !KtAuditTimerTable(Context, "the boundary timers' ticks", KtExpect, KT_TIMERS))
        goto out;
    /* Due while at DISPATCH_LEVEL: expiry waits for the IRQL to drop. */
    KtDpcLogCount = 0;
    now = KtFreeze(&old);
    ok = KtSet(Context, 4, now, 2 * inc, FALSE, 0, FALSE);
    _enable();
    if (ok)
        KtWaitForTick(Context, now / inc + 4);
    ULONG held = KtDpcLogCount;
    KeLowerIrql(old);
    KtExpect[4].Set = FALSE;
    if (!ok || !KtCheck(Context, held == 0 && KtDpcLogCount == 1, "held_at_dispatch", "a timer due while the IRQL was "
                        "DISPATCH_LEVEL: %u DPC runs before it dropped (0), %u after (1)", held, KtDpcLogCount))
        goto out;
    if (!KtAuditTimerTable(Context, "lowering the IRQL", KtExpect, KT_TIMERS))
        goto out;
    /* A periodic timer whose due time has passed: it expires at once (its DPC queued) and, being
     * periodic, goes back on the table one period after now. */
    KtDpcLogCount = 0;
    LONG period = (LONG)KtRandomRange(Context, 20, 60);
    now = KtFreeze(&old);
    due.QuadPart = (LONG64)(KeBootSystemTime + now);
    r = KeSetTimerEx(&KtTimers[5], due, period, &KtTimerDpcs[5]);
    queued = KtTimerDpcs[5].DpcData != NULL;
    BOOLEAN inserted = KtTimers[5].Inserted;
    ULONG64 dueTime = KtTimers[5].DueTime;
    KtExpect[5].Set = TRUE;
    KtExpect[5].DueTime = now + (ULONG64)period * 10000;
    KtThaw(old);
    if (!KtCheck(Context, !r && queued && inserted && dueTime == now + (ULONG64)period * 10000, "past_due_periodic",
                 "KeSetTimerEx(periodic %d ms) with the due time now: returned %u (0), DPC queued %u (1), Inserted %u "
                 "(1: a periodic timer expired at once goes back on the table one period later), DueTime %llu (now + "
                 "Period = %llu)", period, r, queued, inserted, dueTime, now + (ULONG64)period * 10000) ||
        !KtAuditTimerTable(Context, "a periodic timer due at once", KtExpect, KT_TIMERS))
        goto out;
    KtCancel(Context, 5, TRUE);
out:
    KtLab04Cleanup();
}
