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
    FastMutex->Count = FM_LOCK_FREE;
    FastMutex->Owner = NULL;
    FastMutex->Contention = 0;
    FastMutex->OldIrql = 0;
    KeInitializeGate(&FastMutex->Gate);
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
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    if (__atomic_sub_fetch(&FastMutex->Count, 1, __ATOMIC_SEQ_CST) != 0) {
        FastMutex->Contention++;
        KeWaitForGate(&FastMutex->Gate, WrExecutive);
    }
    FastMutex->Owner = KeGetCurrentThread();
    FastMutex->OldIrql = old;
}

/*
 * ExTryToAcquireFastMutex - own FastMutex if it is free, without waiting.
 * Free (Count 1): Count 0, Owner the caller, OldIrql the caller's IRQL, the IRQL raised to
 * APC_LEVEL, TRUE. Owned: nothing changes (Count, Contention, the IRQL), FALSE.
 * IRQL: <= APC_LEVEL.
 */
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    LONG expected = FM_LOCK_FREE;
    if (!__atomic_compare_exchange_n(&FastMutex->Count, &expected, 0, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        KeLowerIrql(old);
        return FALSE;
    }
    FastMutex->Owner = KeGetCurrentThread();
    FastMutex->OldIrql = old;
    return TRUE;
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
    KIRQL old = (KIRQL)FastMutex->OldIrql;
    FastMutex->Owner = NULL;
    if (__atomic_add_fetch(&FastMutex->Count, 1, __ATOMIC_SEQ_CST) != FM_LOCK_FREE)
        KeSignalGate(&FastMutex->Gate);
    KeLowerIrql(old);
}

/*
 * KeInitializeGuardedMutex - a free guarded mutex: Count GM_LOCK_FREE (1), Owner NULL,
 * Contention 0, its gate initialised.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    Mutex->Count = GM_LOCK_FREE;
    Mutex->Owner = NULL;
    Mutex->Contention = 0;
    KeInitializeGate(&Mutex->Gate);
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
    KeEnterGuardedRegion();
    if (__atomic_sub_fetch(&Mutex->Count, 1, __ATOMIC_SEQ_CST) != 0) {
        Mutex->Contention++;
        KeWaitForGate(&Mutex->Gate, WrExecutive);
    }
    Mutex->Owner = KeGetCurrentThread();
}

/*
 * KeTryToAcquireGuardedMutex - own Mutex if it is free, without waiting: TRUE with the
 * caller in a guarded region and Owner the caller; FALSE with nothing changed (no guarded
 * region left entered, Count and Contention as they were).
 * IRQL: <= APC_LEVEL.
 */
BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    KeEnterGuardedRegion();
    LONG expected = GM_LOCK_FREE;
    if (!__atomic_compare_exchange_n(&Mutex->Count, &expected, 0, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        KeLeaveGuardedRegion();
        return FALSE;
    }
    Mutex->Owner = KeGetCurrentThread();
    return TRUE;
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
    Mutex->Owner = NULL;
    if (__atomic_add_fetch(&Mutex->Count, 1, __ATOMIC_SEQ_CST) != GM_LOCK_FREE)
        KeSignalGate(&Mutex->Gate);
    KeLeaveGuardedRegion();
}
