/* timer.c - lab 04: kernel timers in NT's timer table. A set timer waits on the list of
 * its due tick (KiTimerTableListHead[due tick % TIMER_TABLE_SIZE]), kept in due-time
 * order, so setting one walks a single list, never all timers. When the list of the
 * current tick holds a timer, the clock interrupt queues the timer expiration DPC, whose
 * routine calls KiTimerExpiration at DISPATCH_LEVEL; it expires what is due: the timer
 * is signalled and its DPC queued, as NT's clock does. */
#include "kedpc.h"
#include "ketimer.h"

/*
 * KeInitializeTimerEx - prepare a timer of Type (NotificationTimer or
 * SynchronizationTimer). Any IRQL. Header.Type = TimerNotificationObject + Type,
 * SignalState 0, an empty Header.WaitListHead; not inserted (Inserted FALSE, Hand 0,
 * links NULL), DueTime 0, Period 0, Dpc NULL. The memory may hold anything before.
 */
VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    /* LAB 04: fill in every field: a timer that is not set. */
    UNREFERENCED_PARAMETER(Timer);
    UNREFERENCED_PARAMETER(Type);
    KeNotImplemented("KeInitializeTimerEx", "lab 04");
}

/* KeInitializeTimer - KeInitializeTimerEx(Timer, NotificationTimer). */
VOID KeInitializeTimer(PKTIMER Timer)
{
    /* LAB 04: a notification timer. */
    UNREFERENCED_PARAMETER(Timer);
    KeNotImplemented("KeInitializeTimer", "lab 04");
}

/*
 * KeSetTimerEx - set Timer to expire at DueTime and then every Period milliseconds.
 * Contract: IRQL <= DISPATCH_LEVEL; the timer table is only touched at DISPATCH_LEVEL
 * (raise, then restore the caller's IRQL). DueTime < 0: relative, -DueTime 100 ns units
 * from the current interrupt time; DueTime >= 0: an absolute system time (KeBootSystemTime
 * + interrupt time; before the boot counts as time 0). Period >= 0 (0: one-shot).
 * If the timer was set, it is first taken off its list. Then SignalState = 0, Dpc, Period
 * and the absolute interrupt DueTime are stored; a due time not after the current
 * interrupt time expires the timer at once (signalled, its DPC queued); otherwise the
 * timer goes on entry KiTimerIndex(DueTime) after every timer due at or before it
 * (Hand = that entry, Inserted TRUE). Returns TRUE if the timer was set before the call.
 * Expiry (KiTimerExpiration): SignalState 1, the DPC queued with SystemArgument1/2 the
 * low/high 32 bits of the interrupt time, and a periodic timer set again at
 * DueTime + Period (or now + Period if that has passed).
 */
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    /* LAB 04: convert the due time, put the timer on its table entry in order (or expire it now). */
    UNREFERENCED_PARAMETER(Timer);
    UNREFERENCED_PARAMETER(DueTime);
    UNREFERENCED_PARAMETER(Period);
    UNREFERENCED_PARAMETER(Dpc);
    KeNotImplemented("KeSetTimerEx", "lab 04");
    return FALSE;
}

/* KeSetTimer - KeSetTimerEx(Timer, DueTime, 0, Dpc). */
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    /* LAB 04: a one-shot KeSetTimerEx. */
    UNREFERENCED_PARAMETER(Timer);
    UNREFERENCED_PARAMETER(DueTime);
    UNREFERENCED_PARAMETER(Dpc);
    KeNotImplemented("KeSetTimer", "lab 04");
    return FALSE;
}

/*
 * KeCancelTimer - take Timer off the timer table. IRQL <= DISPATCH_LEVEL (the table is
 * touched at DISPATCH_LEVEL). Returns TRUE if it was set (it will not expire; Inserted
 * FALSE), FALSE if it was not (nothing changes). A DPC already queued is not removed.
 */
BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    /* LAB 04: take it off the table if it is set. */
    UNREFERENCED_PARAMETER(Timer);
    KeNotImplemented("KeCancelTimer", "lab 04");
    return FALSE;
}

/* KeReadStateTimer - the timer's SignalState (TRUE once expired, until set again). */
BOOLEAN KeReadStateTimer(PKTIMER Timer)
{
    /* LAB 04: the signal state. */
    UNREFERENCED_PARAMETER(Timer);
    KeNotImplemented("KeReadStateTimer", "lab 04");
    return FALSE;
}

/*
 * KiTimerExpiration - expire every timer that is due, in due-time order.
 * Contract: called at DISPATCH_LEVEL by the framework's timer expiration DPC (queued by
 * the clock when the current tick's list holds a timer), with the current interrupt time
 * (a whole number of ticks); the IRQL may have kept it from running for several ticks.
 * Walks the table entries of the ticks
 * since the last call, oldest first (at most TIMER_TABLE_SIZE entries: all of them once
 * after a long gap); from each list it takes, from the head, every timer with
 * DueTime <= InterruptTime (Inserted FALSE) and expires it as KeSetTimerEx describes.
 */
VOID KiTimerExpiration(PKPRCB Prcb, ULONG64 InterruptTime)
{
    /* LAB 04: walk the table entries of the ticks since the last call and expire what is due.
     * (The framework calls this after every clock tick in every lab, so the stub stays
     * silent: the timer functions above report "not implemented".) */
    UNREFERENCED_PARAMETER(Prcb);
    UNREFERENCED_PARAMETER(InterruptTime);
}
