/* semaphore.c - lab 05: semaphores. The count is the SignalState: a wait takes one, a
 * release adds some, never past the limit. Counts change at DISPATCH_LEVEL. */
#include "kewait.h"

/*
 * KeInitializeSemaphore - a semaphore with count Count and limit Limit, no waiter.
 * Contract: any IRQL; the memory may hold anything before. Header.Type SemaphoreObject,
 * SignalState Count, Limit, an empty WaitListHead. (0 <= Count <= Limit, Limit > 0.)
 */
VOID KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    Semaphore->Header.Type = SemaphoreObject;
    Semaphore->Header.Reserved[0] = Semaphore->Header.Reserved[1] = Semaphore->Header.Reserved[2] = 0;
    Semaphore->Header.SignalState = Count;
    Semaphore->Limit = Limit;
    InitializeListHead(&Semaphore->Header.WaitListHead);
}

/*
 * KeReleaseSemaphore - add Adjustment to the count; returns the previous count.
 * Contract: IRQL <= DISPATCH_LEVEL (works at DISPATCH_LEVEL). Adjustment > 0, else
 * STATUS_INVALID_PARAMETER and nothing changes. If the new count would pass Limit (or
 * overflow), nothing changes and the result is STATUS_SEMAPHORE_LIMIT_EXCEEDED. Otherwise
 * the count grows by Adjustment and, if it was 0, waiters are released in wait order
 * (KiWaitTest with Increment), each taking one.
 */
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Wait);
    if (Adjustment <= 0)
        return STATUS_INVALID_PARAMETER;
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    LONG previous = Semaphore->Header.SignalState;
    if (Semaphore->Limit - previous < Adjustment) {
        KeLowerIrql(oldIrql);
        return STATUS_SEMAPHORE_LIMIT_EXCEEDED;
    }
    Semaphore->Header.SignalState = previous + Adjustment;
    if (previous == 0 && !IsListEmpty(&Semaphore->Header.WaitListHead))
        KiWaitTest(Semaphore, Increment);
    KeLowerIrql(oldIrql);
    return previous;
}

/* KeReadStateSemaphore - the count. Any IRQL. */
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    return Semaphore->Header.SignalState;
}
