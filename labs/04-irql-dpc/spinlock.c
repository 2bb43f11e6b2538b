/* spinlock.c - lab 04: spin locks. One processor, but the lock words are real: an
 * ordinary lock records its owner (a re-acquire bugchecks SPIN_LOCK_ALREADY_OWNED), and
 * an in-stack queued lock lines its waiters up in FIFO order, each spinning on its own
 * queue entry (seed 003 §3.3.1.3-4). Holding a spin lock means running at DISPATCH_LEVEL
 * or above: no thread switch, no page fault, no wait. */
#include "bugcodes.h"
#include "kespin.h"

/* KeInitializeSpinLock - the lock is free: its word is 0. Any IRQL. */
VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    /* LAB 04: a free lock. */
    UNREFERENCED_PARAMETER(SpinLock);
    KeNotImplemented("KeInitializeSpinLock", "lab 04");
}

/*
 * KeAcquireSpinLockAtDpcLevel - take SpinLock; the caller already runs at IRQL >=
 * DISPATCH_LEVEL. Contract: below DISPATCH_LEVEL bugchecks IRQL_NOT_GREATER_OR_EQUAL
 * (P1 the current IRQL, P2 DISPATCH_LEVEL, P3 0, P4 the lock). If the word records the
 * current thread as owner, bugchecks SPIN_LOCK_ALREADY_OWNED (P1 the lock, P2 the word,
 * 0, 0). While another owner holds it, spins, calling KiSpinWait(SpinLock) once per turn.
 * Takes it with an atomic exchange or compare-exchange: the word becomes
 * KiSpinLockOwnerValue() (the current thread | 1). The IRQL is not changed.
 */
VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    /* LAB 04: check the IRQL and the owner, spin with KiSpinWait, record the owner. */
    UNREFERENCED_PARAMETER(SpinLock);
    KeNotImplemented("KeAcquireSpinLockAtDpcLevel", "lab 04");
}

/*
 * KeReleaseSpinLockFromDpcLevel - give SpinLock back; the IRQL is not changed.
 * Contract: IRQL >= DISPATCH_LEVEL. If the word is not the current thread's owner value,
 * bugchecks SPIN_LOCK_NOT_OWNED (P1 the lock, P2 the word, 0, 0) and changes nothing.
 * Otherwise the word becomes 0.
 */
VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    /* LAB 04: check the owner, free the word. */
    UNREFERENCED_PARAMETER(SpinLock);
    KeNotImplemented("KeReleaseSpinLockFromDpcLevel", "lab 04");
}

/*
 * KeAcquireSpinLock - raise to DISPATCH_LEVEL (KeRaiseIrql: above it bugchecks
 * IRQL_NOT_GREATER_OR_EQUAL with the current IRQL and DISPATCH_LEVEL), store the IRQL
 * the caller ran at in *OldIrql, and take SpinLock as KeAcquireSpinLockAtDpcLevel does.
 */
VOID KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql)
{
    /* LAB 04: raise to DISPATCH_LEVEL, take the lock, return the old IRQL. */
    UNREFERENCED_PARAMETER(SpinLock);
    KeNotImplemented("KeAcquireSpinLock", "lab 04");
    *OldIrql = KeGetCurrentIrql();
}

/*
 * KeReleaseSpinLock - release SpinLock as KeReleaseSpinLockFromDpcLevel does, then lower
 * the IRQL to NewIrql (the *OldIrql of the acquire) with KeLowerIrql, which runs the DPCs
 * queued meanwhile when NewIrql < DISPATCH_LEVEL and bugchecks IRQL_NOT_LESS_OR_EQUAL
 * (P1 the current IRQL, P2 NewIrql) when NewIrql is above the current IRQL.
 */
VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    /* LAB 04: release, then lower to NewIrql. */
    UNREFERENCED_PARAMETER(SpinLock);
    UNREFERENCED_PARAMETER(NewIrql);
    KeNotImplemented("KeReleaseSpinLock", "lab 04");
}

/*
 * KeAcquireInStackQueuedSpinLock - take the queued lock SpinLock with the caller's
 * LockHandle (on its stack). Contract: IRQL <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL
 * (KeRaiseIrql) and stores the old IRQL in LockHandle->OldIrql. The handle's entry joins
 * the line: Next = NULL, Lock = SpinLock; one atomic exchange makes the lock word point at
 * it and returns the previous tail. No previous tail: the lock was free, Lock gets
 * LOCK_QUEUE_OWNER. Otherwise Lock gets LOCK_QUEUE_WAIT, the previous tail's Next points
 * at the entry, and it spins while LOCK_QUEUE_WAIT is set, calling KiSpinWait(SpinLock)
 * once per turn; the releaser hands it ownership. Waiters thus own in FIFO order.
 */
VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    /* LAB 04: raise, join the line with one exchange, wait for ownership. */
    UNREFERENCED_PARAMETER(SpinLock);
    KeNotImplemented("KeAcquireInStackQueuedSpinLock", "lab 04");
    LockHandle->OldIrql = KeGetCurrentIrql();
}

/*
 * KeReleaseInStackQueuedSpinLock - give the lock held through LockHandle to the next in
 * line, then lower the IRQL to LockHandle->OldIrql (KeLowerIrql). Contract: the handle
 * must own the lock (LOCK_QUEUE_OWNER), otherwise SPIN_LOCK_NOT_OWNED (P1 the lock, P2
 * the handle's Lock field, 0, 0). The handle's Lock loses LOCK_QUEUE_OWNER. No waiter
 * (the word still points at this entry): one compare-exchange makes the word 0. A waiter
 * that has not linked itself yet is waited for (KiSpinWait); then the next entry's Lock
 * goes from LOCK_QUEUE_WAIT to LOCK_QUEUE_OWNER and this entry's Next becomes NULL.
 */
VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    /* LAB 04: hand ownership to the next in line (or free the word), then lower. */
    UNREFERENCED_PARAMETER(LockHandle);
    KeNotImplemented("KeReleaseInStackQueuedSpinLock", "lab 04");
}
