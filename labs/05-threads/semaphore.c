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
    /* LAB 05: type, count, limit, an empty wait list. */
    UNREFERENCED_PARAMETER(Semaphore);
    UNREFERENCED_PARAMETER(Count);
    UNREFERENCED_PARAMETER(Limit);
    KeNotImplemented("KeInitializeSemaphore", "lab 05");
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
    /* LAB 05: the limit rule, then the count and the waiters. */
    UNREFERENCED_PARAMETER(Semaphore);
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Adjustment);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("KeReleaseSemaphore", "lab 05");
    return 0;
}

/* KeReadStateSemaphore - the count. Any IRQL. */
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    /* LAB 05: the count. */
    UNREFERENCED_PARAMETER(Semaphore);
    KeNotImplemented("KeReadStateSemaphore", "lab 05");
    return 0;
}
