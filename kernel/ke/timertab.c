/* timertab.c - the framework side of lab 04: the timer table's storage (NT's
 * KiTimerTableListHead), the clock's check of it and the timer expiration DPC, the system time absolute due times are measured in, and the
 * spin-wait hook a spin-lock waiter calls (on one processor: a wait on oneself). */
#include "bugcodes.h"
#include "kespin.h"
#include "ketimer.h"
#include "kewait.h"
#include "ki.h"

KTIMER_TABLE_ENTRY KiTimerTableListHead[TIMER_TABLE_SIZE];

/* 2026-01-01 00:00 UTC in 100 ns units since 1601-01-01: a fixed epoch, no wall clock. */
const ULONG64 KeBootSystemTime = 134118144000000000ULL;

KDPC KiTimerExpirationDpc;

/* Timers are waitable (lab 05): a timer that expires with threads waiting on it (a
 * KeWaitFor* on the timer, or a wait's timeout on the thread's own timer) has its waiters
 * tested (KiWaitTest) after lab 04's KiTimerExpiration has signalled it. The framework
 * notes which due timers have waiters before the expiry, from the same table entries
 * (ticks since its last look), so lab 04's code needs no lab 05 call. */
#define KI_MAX_WAITED_TIMERS 128
static ULONG64 KiWaitedTimerLastTick;

static ULONG KiCollectWaitedTimers(ULONG64 InterruptTime, PKTIMER *Timers)
{
    ULONG64 inc = KeTimeIncrement ? KeTimeIncrement : 10000;
    ULONG64 nowTick = InterruptTime / inc, first = KiWaitedTimerLastTick + 1;
    ULONG n = 0;
    if (nowTick < first)
        return 0;
    if (nowTick - KiWaitedTimerLastTick > TIMER_TABLE_SIZE)
        first = nowTick - TIMER_TABLE_SIZE + 1;
    KiWaitedTimerLastTick = nowTick;
    for (ULONG64 tick = first; tick <= nowTick; tick++) {
        PLIST_ENTRY head = &KiTimerTableListHead[tick % TIMER_TABLE_SIZE].Entry;
        for (PLIST_ENTRY e = head->Flink; e != head && n < KI_MAX_WAITED_TIMERS; e = e->Flink) {
            PKTIMER timer = CONTAINING_RECORD(e, KTIMER, TimerListEntry);
            /* Waiters only on a list that looks initialised (a system address, aligned): a
             * lab 04 bug that leaves it uninitialised must not send lab 05 through garbage. */
            ULONG_PTR flink = (ULONG_PTR)timer->Header.WaitListHead.Flink;
            if (timer->DueTime <= InterruptTime && flink >= 0xFFFF800000000000ULL && (flink & 7) == 0 &&
                !IsListEmpty(&timer->Header.WaitListHead))
                Timers[n++] = timer;
        }
    }
    return n;
}

/* The routine of the timer expiration DPC: expire what is due, at DISPATCH_LEVEL. */
static VOID KiTimerExpirationDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    PKTIMER waited[KI_MAX_WAITED_TIMERS];
    ULONG64 now = KeQueryInterruptTime();
    ULONG n = KiCollectWaitedTimers(now, waited);
    KiTimerExpiration(KeGetCurrentPrcb(), now);
    for (ULONG i = 0; i < n; i++)
        if (waited[i]->Header.SignalState > 0 && !IsListEmpty(&waited[i]->Header.WaitListHead))
            KiWaitTest(waited[i], IO_NO_INCREMENT);
}

VOID KiInitializeTimerTable(VOID)
{
    for (ULONG i = 0; i < TIMER_TABLE_SIZE; i++)
        InitializeListHead(&KiTimerTableListHead[i].Entry);
    /* Filled in here, not by KeInitializeDpc: the framework's DPC exists even when lab 04
     * is a stub (and then is never queued: the table stays empty). */
    KiTimerExpirationDpc.Type = DpcObject;
    KiTimerExpirationDpc.Importance = MediumImportance;
    KiTimerExpirationDpc.DeferredRoutine = KiTimerExpirationDpcRoutine;
}

VOID KiCheckTimerTable(PKPRCB Prcb)
{
    UNREFERENCED_PARAMETER(Prcb);
    PLIST_ENTRY head = &KiTimerTableListHead[KeTickCount % TIMER_TABLE_SIZE].Entry;
    if (head->Flink != head)
        KeInsertQueueDpc(&KiTimerExpirationDpc, NULL, NULL);
}

VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = (LONG64)(KeBootSystemTime + KeQueryInterruptTime());
}

VOID (*volatile KiSpinWaitRoutine)(PKSPIN_LOCK Lock);

VOID KiSpinWait(PKSPIN_LOCK Lock)
{
    VOID (*routine)(PKSPIN_LOCK) = KiSpinWaitRoutine;
    if (routine) {
        routine(Lock);
        return;
    }
    KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, *Lock, 0, 0);
}
