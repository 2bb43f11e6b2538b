/* exsync.c - fast mutexes and guarded mutexes (lab 05): non-recursive exclusive locks
 * whose waiters sleep on a gate. A fast mutex is held at APC_LEVEL (no APC runs while it
 * is held); a guarded mutex is held in a guarded region (IRQL unchanged). Reference
 * solution. */
#include "exsync.h"

/*
 * ExInitializeFastMutex - a free fast mutex: Count FM_LOCK_FREE (1), Owner NULL,
 * Contention 0, OldIrql 0, its gate initialised (KeInitializeGate).
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(FastMutex);
    KeNotImplemented("ExInitializeFastMutex", "lab 05");
}

/*
 * ExAcquireFastMutex - own FastMutex, waiting if another thread owns it.
 * Raises the IRQL to APC_LEVEL first and keeps it there while the mutex is owned; the
 * caller's IRQL is kept in OldIrql for the release. Count goes down by one: from 1 the
 * caller owns it at once; otherwise it counts one more Contention and waits on the gate
 * (WrExecutive) until a release hands the mutex to it; waiters get it in the order they
 * waited. Owner is the caller when it returns. Not recursive: a second acquire by the
 * owner waits for ever.
 * IRQL: <= APC_LEVEL on entry; APC_LEVEL on return.
 */
VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(FastMutex);
    KeNotImplemented("ExAcquireFastMutex", "lab 05");
}

/*
 * ExTryToAcquireFastMutex - own FastMutex if it is free, without waiting.
 * Free (Count 1): Count 0, Owner the caller, OldIrql the caller's IRQL, the IRQL raised to
 * APC_LEVEL, TRUE. Owned: nothing changes (Count, Contention, the IRQL), FALSE.
 * IRQL: <= APC_LEVEL.
 */
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(FastMutex);
    KeNotImplemented("ExTryToAcquireFastMutex", "lab 05");
    return FALSE;
}

/*
 * ExReleaseFastMutex - give up FastMutex (the caller owns it).
 * Owner becomes NULL and Count goes up by one; if a thread waits (Count was below 0), the
 * gate is signalled once, handing the mutex to the first waiter. Then the IRQL is lowered
 * to the OldIrql saved by the acquire.
 * IRQL: APC_LEVEL (as the acquire left it); returns at the acquirer's IRQL.
 */
VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(FastMutex);
    KeNotImplemented("ExReleaseFastMutex", "lab 05");
}

/*
 * KeInitializeGuardedMutex - a free guarded mutex: Count GM_LOCK_FREE (1), Owner NULL,
 * Contention 0, its gate initialised.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Mutex);
    KeNotImplemented("KeInitializeGuardedMutex", "lab 05");
}

/*
 * KeAcquireGuardedMutex - own Mutex, waiting if another thread owns it.
 * Enters a guarded region first (KeEnterGuardedRegion: no kernel APC, special or normal,
 * runs while it is held) and leaves the IRQL as it is. Then as ExAcquireFastMutex: Count
 * down by one, from 1 owned at once, otherwise one more Contention and a wait on the gate
 * (WrExecutive) until a release hands it over, in wait order. Owner is the caller.
 * IRQL: <= APC_LEVEL; unchanged.
 */
VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Mutex);
    KeNotImplemented("KeAcquireGuardedMutex", "lab 05");
}

/*
 * KeTryToAcquireGuardedMutex - own Mutex if it is free, without waiting: TRUE with the
 * caller in a guarded region and Owner the caller; FALSE with nothing changed (no guarded
 * region left entered, Count and Contention as they were).
 * IRQL: <= APC_LEVEL.
 */
BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Mutex);
    KeNotImplemented("KeTryToAcquireGuardedMutex", "lab 05");
    return FALSE;
}

/*
 * KeReleaseGuardedMutex - give up Mutex (the caller owns it): Owner NULL, Count up by one,
 * the gate signalled once if a thread waits (Count was below 0); then the guarded region is
 * left (KeLeaveGuardedRegion), so kernel APCs held off meanwhile run now if the IRQL
 * allows.
 * IRQL: <= APC_LEVEL.
 */
VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Mutex);
    KeNotImplemented("KeReleaseGuardedMutex", "lab 05");
}
