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
    /* LAB 05: type, state, an empty wait list. */
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(Type);
    UNREFERENCED_PARAMETER(State);
    KeNotImplemented("KeInitializeEvent", "lab 05");
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
    /* LAB 05: signal; release all (notification) or one (synchronization) waiter. */
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("KeSetEvent", "lab 05");
    return 0;
}

/* KeResetEvent - SignalState 0; returns the previous one. IRQL <= DISPATCH_LEVEL. */
LONG KeResetEvent(PRKEVENT Event)
{
    /* LAB 05: unsignal, return the previous state. */
    UNREFERENCED_PARAMETER(Event);
    KeNotImplemented("KeResetEvent", "lab 05");
    return 0;
}

/* KeClearEvent - SignalState 0. IRQL <= DISPATCH_LEVEL. */
VOID KeClearEvent(PRKEVENT Event)
{
    /* LAB 05: unsignal. */
    UNREFERENCED_PARAMETER(Event);
    KeNotImplemented("KeClearEvent", "lab 05");
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
    /* LAB 05: release what a set would, then unsignal. */
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("KePulseEvent", "lab 05");
    return 0;
}

/* KeReadStateEvent - the SignalState. Any IRQL. */
LONG KeReadStateEvent(PRKEVENT Event)
{
    /* LAB 05: the signal state. */
    UNREFERENCED_PARAMETER(Event);
    KeNotImplemented("KeReadStateEvent", "lab 05");
    return 0;
}
