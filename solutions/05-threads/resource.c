/* resource.c - executive resources (lab 05): a reader/writer lock with many shared owners
 * or one exclusive owner, recursive for its owners, whose waiters queue in arrival order
 * and are handed the resource by the release that frees it. An exclusive waiter is not
 * starved: once one waits, new shared requests wait behind it. Reference solution. */
#include "bugcodes.h"
#include "exsync.h"

/* The caller's entry in the owner table, or NULL. */
static POWNER_ENTRY ExpFindOwner(PERESOURCE Resource, PKTHREAD Thread)
{
    for (ULONG i = 0; i < ERESOURCE_OWNERS; i++)
        if (Resource->OwnerTable[i].OwnerThread == Thread)
            return &Resource->OwnerTable[i];
    return NULL;
}

/* Records Thread as a new owner (entry 0 when exclusive, else the first free entry). */
static VOID ExpAddOwner(PERESOURCE Resource, PKTHREAD Thread, BOOLEAN Exclusive)
{
    POWNER_ENTRY entry = NULL;
    if (Exclusive) {
        entry = &Resource->OwnerTable[0];
        Resource->Flag |= ResourceOwnedExclusive;
    } else {
        for (ULONG i = 0; i < ERESOURCE_OWNERS && !entry; i++)
            if (Resource->OwnerTable[i].OwnerThread == NULL)
                entry = &Resource->OwnerTable[i];
        if (!entry)
            KeBugCheckEx(RESOURCE_NOT_OWNED, (ULONG_PTR)Resource, (ULONG_PTR)Thread, ERESOURCE_OWNERS, 1);
    }
    entry->OwnerThread = Thread;
    entry->OwnerCount = 1;
    Resource->ActiveCount++;
}

/* Queues the caller as a waiter, releases the lock, and waits until a release grants the
 * resource to it (it is then an owner). */
static VOID ExpWait(PERESOURCE Resource, BOOLEAN Exclusive, KIRQL OldIrql)
{
    ERESOURCE_WAITER waiter;
    waiter.Thread = KeGetCurrentThread();
    waiter.Exclusive = Exclusive;
    KeInitializeGate(&waiter.Gate);
    InsertTailList(&Resource->WaitListHead, &waiter.WaitListEntry);
    if (Exclusive)
        Resource->NumberOfExclusiveWaiters++;
    else
        Resource->NumberOfSharedWaiters++;
    Resource->ContentionCount++;
    KiReleaseFrameworkLock(&Resource->SpinLock, OldIrql);
    KeWaitForGate(&waiter.Gate, WrExecutive);
}

/* Hands Waiter the resource: off the queue, an owner, its gate signalled. Lock held. */
static VOID ExpGrant(PERESOURCE Resource, PERESOURCE_WAITER Waiter)
{
    RemoveEntryList(&Waiter->WaitListEntry);
    if (Waiter->Exclusive)
        Resource->NumberOfExclusiveWaiters--;
    else
        Resource->NumberOfSharedWaiters--;
    ExpAddOwner(Resource, Waiter->Thread, Waiter->Exclusive);
    KeSignalGate(&Waiter->Gate);
}

/*
 * ExInitializeResourceLite - a free resource: every owner entry empty (OwnerThread NULL,
 * OwnerCount 0), ActiveCount 0, Flag 0, no waiters (both counts 0, WaitListHead empty),
 * ContentionCount 0, SpinLock 0. STATUS_SUCCESS.
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS ExInitializeResourceLite(PERESOURCE Resource)
{
    for (ULONG i = 0; i < ERESOURCE_OWNERS; i++) {
        Resource->OwnerTable[i].OwnerThread = NULL;
        Resource->OwnerTable[i].OwnerCount = 0;
    }
    Resource->ActiveCount = 0;
    Resource->Flag = 0;
    Resource->NumberOfSharedWaiters = 0;
    Resource->NumberOfExclusiveWaiters = 0;
    InitializeListHead(&Resource->WaitListHead);
    Resource->ContentionCount = 0;
    Resource->SpinLock = 0;
    return STATUS_SUCCESS;
}

/*
 * ExDeleteResourceLite - the resource is no longer used (it must be free, with no waiter):
 * nothing to give back here. STATUS_SUCCESS.
 * IRQL: <= APC_LEVEL.
 */
NTSTATUS ExDeleteResourceLite(PERESOURCE Resource)
{
    UNREFERENCED_PARAMETER(Resource);
    return STATUS_SUCCESS;
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
    PKTHREAD self = KeGetCurrentThread();
    KIRQL old;
    KiAcquireFrameworkLock(&Resource->SpinLock, DISPATCH_LEVEL, &old);
    POWNER_ENTRY mine = ExpFindOwner(Resource, self);
    if (mine) {
        mine->OwnerCount++;
    } else if (!(Resource->Flag & ResourceOwnedExclusive) && Resource->NumberOfExclusiveWaiters == 0) {
        ExpAddOwner(Resource, self, FALSE);
    } else if (!Wait) {
        KiReleaseFrameworkLock(&Resource->SpinLock, old);
        return FALSE;
    } else {
        ExpWait(Resource, FALSE, old);
        return TRUE;
    }
    KiReleaseFrameworkLock(&Resource->SpinLock, old);
    return TRUE;
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
    PKTHREAD self = KeGetCurrentThread();
    KIRQL old;
    KiAcquireFrameworkLock(&Resource->SpinLock, DISPATCH_LEVEL, &old);
    if ((Resource->Flag & ResourceOwnedExclusive) && Resource->OwnerTable[0].OwnerThread == self) {
        Resource->OwnerTable[0].OwnerCount++;
    } else if (Resource->ActiveCount == 0) {
        ExpAddOwner(Resource, self, TRUE);
    } else if (!Wait) {
        KiReleaseFrameworkLock(&Resource->SpinLock, old);
        return FALSE;
    } else {
        ExpWait(Resource, TRUE, old);
        return TRUE;
    }
    KiReleaseFrameworkLock(&Resource->SpinLock, old);
    return TRUE;
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
    PKTHREAD self = KeGetCurrentThread();
    KIRQL old;
    KiAcquireFrameworkLock(&Resource->SpinLock, DISPATCH_LEVEL, &old);
    POWNER_ENTRY mine = ExpFindOwner(Resource, self);
    if (!mine || mine->OwnerCount == 0)
        KeBugCheckEx(RESOURCE_NOT_OWNED, (ULONG_PTR)Resource, (ULONG_PTR)self, 0, 0);
    BOOLEAN exclusive = (Resource->Flag & ResourceOwnedExclusive) != 0;
    if (--mine->OwnerCount == 0) {
        mine->OwnerThread = NULL;
        Resource->ActiveCount--;
        if (exclusive)
            Resource->Flag &= (USHORT)~ResourceOwnedExclusive;
        if (Resource->ActiveCount == 0 && !IsListEmpty(&Resource->WaitListHead)) {
            BOOLEAN shared = Resource->NumberOfSharedWaiters != 0 &&
                             (exclusive || Resource->NumberOfExclusiveWaiters == 0);
            PLIST_ENTRY e = Resource->WaitListHead.Flink;
            while (e != &Resource->WaitListHead) {
                PERESOURCE_WAITER w = CONTAINING_RECORD(e, ERESOURCE_WAITER, WaitListEntry);
                e = e->Flink;
                if (w->Exclusive == !shared) {
                    ExpGrant(Resource, w);
                    if (!shared)
                        break;
                }
            }
        }
    }
    KiReleaseFrameworkLock(&Resource->SpinLock, old);
}

/*
 * ExIsResourceAcquiredExclusiveLite - TRUE if the caller owns Resource exclusively.
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    return (Resource->Flag & ResourceOwnedExclusive) && Resource->OwnerTable[0].OwnerThread == KeGetCurrentThread();
}

/*
 * ExIsResourceAcquiredSharedLite - how many acquisitions of Resource the caller holds,
 * shared or exclusive (0: it does not own it).
 * IRQL: <= DISPATCH_LEVEL.
 */
ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    POWNER_ENTRY mine = ExpFindOwner(Resource, KeGetCurrentThread());
    return mine ? mine->OwnerCount : 0;
}
