/* resource.c - executive resources (lab 05): a reader/writer lock with many shared owners
 * or one exclusive owner, recursive for its owners, whose waiters queue in arrival order
 * and are handed the resource by the release that frees it. An exclusive waiter is not
 * starved: once one waits, new shared requests wait behind it. See handouts/05-threads.md. */
#include "exsync.h"

/*
 * ExInitializeResourceLite - a free resource: every owner entry empty (OwnerThread NULL,
 * OwnerCount 0), ActiveCount 0, Flag 0, no waiters (both counts 0, WaitListHead empty),
 * ContentionCount 0, SpinLock 0. STATUS_SUCCESS.
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS ExInitializeResourceLite(PERESOURCE Resource)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ExDeleteResourceLite - the resource is no longer used (it must be free, with no waiter):
 * nothing to give back here. STATUS_SUCCESS.
 * IRQL: <= APC_LEVEL.
 */
NTSTATUS ExDeleteResourceLite(PERESOURCE Resource)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ExAcquireResourceSharedLite - own Resource shared.
 * At once (TRUE) when: the caller already owns it, shared or exclusive (its OwnerCount goes
 * up by one; a shared owner is never made to wait behind an exclusive waiter, or it would
 * deadlock); or it is not owned exclusively and no exclusive waiter is queued (a new owner
 * entry with OwnerCount 1, ActiveCount up by one). Otherwise FALSE at once with nothing
 * changed when Wait is FALSE; with Wait TRUE the caller queues at the tail
 * (NumberOfSharedWaiters and ContentionCount up by one) and returns TRUE once a release
 * has granted it the resource.
 * IRQL: <= APC_LEVEL (the caller should be in a critical region); the fields are changed
 * under SpinLock at DISPATCH_LEVEL.
 */
BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("ExAcquireResourceSharedLite", "lab 05");
    return FALSE;
}

/*
 * ExAcquireResourceExclusiveLite - own Resource exclusively.
 * At once (TRUE) when the caller owns it exclusively already (OwnerCount up by one) or
 * nobody owns it (ActiveCount 0): entry 0 is the caller with OwnerCount 1, Flag gets
 * ResourceOwnedExclusive, ActiveCount 1. Otherwise FALSE with nothing changed when Wait is
 * FALSE; with Wait TRUE the caller queues at the tail (NumberOfExclusiveWaiters and
 * ContentionCount up by one) and returns TRUE once a release has granted it the resource.
 * A shared owner asking for exclusive ownership waits for ever (as on NT).
 * IRQL: <= APC_LEVEL (the caller should be in a critical region).
 */
BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("ExAcquireResourceExclusiveLite", "lab 05");
    return FALSE;
}

/*
 * ExReleaseResourceLite - give up one acquisition of Resource by the caller.
 * The caller's OwnerCount goes down by one; at 0 its entry is emptied (OwnerThread NULL),
 * ActiveCount goes down by one and, for the exclusive owner, ResourceOwnedExclusive is
 * cleared. When ActiveCount reaches 0 the resource goes to its waiters: after an exclusive
 * owner, every queued shared waiter at once if there is one (in queue order), else the
 * first exclusive waiter; after the last shared owner, the first exclusive waiter (else
 * every shared waiter). A granted waiter is an owner (OwnerCount 1) before its wait returns.
 * A caller that does not own the resource bugchecks RESOURCE_NOT_OWNED (0xE3) with
 * P1 Resource, P2 the thread, P3 0, P4 0.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID ExReleaseResourceLite(PERESOURCE Resource)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    KeNotImplemented("ExReleaseResourceLite", "lab 05");
}

/*
 * ExIsResourceAcquiredExclusiveLite - TRUE if the caller owns Resource exclusively.
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    KeNotImplemented("ExIsResourceAcquiredExclusiveLite", "lab 05");
    return FALSE;
}

/*
 * ExIsResourceAcquiredSharedLite - how many acquisitions of Resource the caller holds,
 * shared or exclusive (0: it does not own it).
 * IRQL: <= DISPATCH_LEVEL.
 */
ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Resource);
    KeNotImplemented("ExIsResourceAcquiredSharedLite", "lab 05");
    return 0;
}
