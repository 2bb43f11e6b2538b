/* event.c - lab 05: events. A notification event stays signalled until reset and releases
 * every waiter; a synchronization event (auto-reset) releases one waiter per set and is
 * unsignalled again by the wait it satisfies. Signal states change at DISPATCH_LEVEL. */
#include "kewait.h"

/*
 * KeInitializeEvent - an event of Type (NotificationEvent / SynchronizationEvent) with
 * SignalState State (0 or 1) and no waiter.
 * Contract: any IRQL; the memory may hold anything before. Header.Type is
 * EventNotificationObject or EventSynchronizationObject; WaitListHead is empty.
 */
VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Header.Type = Type == SynchronizationEvent ? EventSynchronizationObject : EventNotificationObject;
    Event->Header.Reserved[0] = Event->Header.Reserved[1] = Event->Header.Reserved[2] = 0;
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

/*
 * KeSetEvent - signal Event; returns its previous SignalState.
 * Contract: IRQL <= DISPATCH_LEVEL (works at DISPATCH_LEVEL, restores the caller's IRQL).
 * SignalState becomes 1; if it was 0, the waiters are tested (KiWaitTest with Increment):
 * a notification event releases all of them and stays signalled; a synchronization event
 * releases the first waiter in wait order (and is unsignalled by that wait) or stays
 * signalled if none can be released. Setting a signalled event changes nothing.
 */
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Wait);
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    if (previous == 0 && !IsListEmpty(&Event->Header.WaitListHead))
        KiWaitTest(Event, Increment);
    KeLowerIrql(oldIrql);
    return previous;
}

/* KeResetEvent - SignalState 0; returns the previous one. IRQL <= DISPATCH_LEVEL. */
LONG KeResetEvent(PRKEVENT Event)
{
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    KeLowerIrql(oldIrql);
    return previous;
}

/* KeClearEvent - SignalState 0. IRQL <= DISPATCH_LEVEL. */
VOID KeClearEvent(PRKEVENT Event)
{
    Event->Header.SignalState = 0;
}

/*
 * KePulseEvent - release what KeSetEvent would release, then leave Event unsignalled;
 * returns the previous SignalState.
 * Contract: IRQL <= DISPATCH_LEVEL. If the event was not signalled and has waiters, it is
 * signalled and tested (KiWaitTest with Increment); whatever happened, SignalState is 0
 * afterwards (a pulse with no waiter is lost).
 */
LONG KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Wait);
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    LONG previous = Event->Header.SignalState;
    if (previous == 0 && !IsListEmpty(&Event->Header.WaitListHead)) {
        Event->Header.SignalState = 1;
        KiWaitTest(Event, Increment);
    }
    Event->Header.SignalState = 0;
    KeLowerIrql(oldIrql);
    return previous;
}

/* KeReadStateEvent - the SignalState. Any IRQL. */
LONG KeReadStateEvent(PRKEVENT Event)
{
    return Event->Header.SignalState;
}
