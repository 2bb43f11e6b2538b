/* timer.c - lab 04: kernel timers in NT's timer table. A set timer waits on the list of
 * its due tick (KiTimerTableListHead[due tick % TIMER_TABLE_SIZE]), kept in due-time
 * order, so setting one walks a single list, never all timers. When the list of the
 * current tick holds a timer, the clock interrupt queues the timer expiration DPC, whose
 * routine calls KiTimerExpiration at DISPATCH_LEVEL; it expires what is due: the timer
 * is signalled and its DPC queued, as NT's clock does. */
#include "kedpc.h"
#include "ketimer.h"

/* The last tick whose table entry KiTimerExpiration has processed. */
static ULONG64 KiTimerLastTick;

/*
 * KeInitializeTimerEx - prepare a timer of Type (NotificationTimer or
 * SynchronizationTimer). Any IRQL. Header.Type = TimerNotificationObject + Type,
 * SignalState 0, an empty Header.WaitListHead; not inserted (Inserted FALSE, Hand 0,
 * links NULL), DueTime 0, Period 0, Dpc NULL. The memory may hold anything before.
 */
VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    Timer->Header.Type = (UCHAR)(TimerNotificationObject + Type);
    Timer->Header.SignalState = 0;
    InitializeListHead(&Timer->Header.WaitListHead);
    Timer->DueTime = 0;
    Timer->TimerListEntry.Flink = NULL;
    Timer->TimerListEntry.Blink = NULL;
    Timer->Dpc = NULL;
    Timer->Period = 0;
    Timer->Inserted = FALSE;
    Timer->Hand = 0;
}

/* KeInitializeTimer - KeInitializeTimerEx(Timer, NotificationTimer). */
VOID KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

/* Puts Timer on the list of its due tick, after every timer due at or before it. */
static VOID KiInsertTimerTable(PKTIMER Timer)
{
    ULONG index = KiTimerIndex(Timer->DueTime);
    PLIST_ENTRY head = &KiTimerTableListHead[index].Entry;
    PLIST_ENTRY after = head->Blink;
    while (after != head && CONTAINING_RECORD(after, KTIMER, TimerListEntry)->DueTime > Timer->DueTime)
        after = after->Blink;
    InsertHeadList(after, &Timer->TimerListEntry);
    Timer->Hand = (UCHAR)index;
    Timer->Inserted = TRUE;
}

/* Expires Timer (already off the table) at interrupt time Now: signals it, queues its DPC
 * with Now as the arguments, and sets a periodic timer again one period later. */
static VOID KiExpireTimer(PKTIMER Timer, ULONG64 Now)
{
    Timer->Header.SignalState = 1;
    if (Timer->Dpc)
        KeInsertQueueDpc(Timer->Dpc, (PVOID)(Now & 0xFFFFFFFF), (PVOID)(Now >> 32));
    if (Timer->Period > 0) {
        ULONG64 period = (ULONG64)Timer->Period * 10000;
        Timer->DueTime = Timer->DueTime + period > Now ? Timer->DueTime + period : Now + period;
        KiInsertTimerTable(Timer);
    }
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
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    BOOLEAN wasSet = Timer->Inserted;
    if (wasSet) {
        RemoveEntryList(&Timer->TimerListEntry);
        Timer->Inserted = FALSE;
    }
    ULONG64 now = KeQueryInterruptTime();
    ULONG64 due;
    if (DueTime.QuadPart < 0)
        due = now + (ULONG64)(-DueTime.QuadPart);
    else if ((ULONG64)DueTime.QuadPart < KeBootSystemTime)
        due = 0;
    else
        due = (ULONG64)DueTime.QuadPart - KeBootSystemTime;
    Timer->Header.SignalState = 0;
    Timer->Dpc = Dpc;
    Timer->Period = Period > 0 ? Period : 0;
    Timer->DueTime = due;
    if (due <= now)
        KiExpireTimer(Timer, now);
    else
        KiInsertTimerTable(Timer);
    KeLowerIrql(oldIrql);
    return wasSet;
}

/* KeSetTimer - KeSetTimerEx(Timer, DueTime, 0, Dpc). */
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

/*
 * KeCancelTimer - take Timer off the timer table. IRQL <= DISPATCH_LEVEL (the table is
 * touched at DISPATCH_LEVEL). Returns TRUE if it was set (it will not expire; Inserted
 * FALSE), FALSE if it was not (nothing changes). A DPC already queued is not removed.
 */
BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    BOOLEAN wasSet = Timer->Inserted;
    if (wasSet) {
        RemoveEntryList(&Timer->TimerListEntry);
        Timer->Inserted = FALSE;
    }
    KeLowerIrql(oldIrql);
    return wasSet;
}

/* KeReadStateTimer - the timer's SignalState (TRUE once expired, until set again). */
BOOLEAN KeReadStateTimer(PKTIMER Timer)
{
    return Timer->Header.SignalState != 0;
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
    UNREFERENCED_PARAMETER(Prcb);
    ULONG64 inc = KeTimeIncrement ? KeTimeIncrement : 10000;
    ULONG64 nowTick = InterruptTime / inc;
    if (nowTick <= KiTimerLastTick)
        return;
    ULONG64 first = KiTimerLastTick + 1;
    if (nowTick - KiTimerLastTick > TIMER_TABLE_SIZE)
        first = nowTick - TIMER_TABLE_SIZE + 1;
    KiTimerLastTick = nowTick;
    for (ULONG64 tick = first; tick <= nowTick; tick++) {
        PLIST_ENTRY head = &KiTimerTableListHead[tick % TIMER_TABLE_SIZE].Entry;
        while (head->Flink != head) {
            PKTIMER timer = CONTAINING_RECORD(head->Flink, KTIMER, TimerListEntry);
            if (timer->DueTime > InterruptTime)
                break;
            RemoveEntryList(&timer->TimerListEntry);
            timer->Inserted = FALSE;
            KiExpireTimer(timer, InterruptTime);
        }
    }
}
