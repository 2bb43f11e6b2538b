/* kespin.h - spin locks (lab 04): the executive spin lock (a lock word that records its
 * owner) and in-stack queued spin locks (waiters in FIFO order), with their IRQL rules.
 *
 * Lock words: an ordinary KSPIN_LOCK is 0 when free and (ULONG_PTR)owner thread | 1 when
 * held. A queued lock's word is 0 when free and otherwise points at the KSPIN_LOCK_QUEUE
 * of the last processor in line (the tail); each queue entry's Lock field is the lock's
 * address with LOCK_QUEUE_WAIT set while it waits and LOCK_QUEUE_OWNER set while it owns. */
#pragma once

#include "ke.h"

#define LOCK_QUEUE_WAIT 1
#define LOCK_QUEUE_OWNER 2

typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;  /* the waiter after this one */
    PKSPIN_LOCK volatile Lock;                /* the lock | LOCK_QUEUE_WAIT | LOCK_QUEUE_OWNER */
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

/* The owner value an ordinary lock word holds while the current thread holds it. */
static inline ULONG_PTR KiSpinLockOwnerValue(VOID)
{
    return (ULONG_PTR)KeGetCurrentThread() | 1;
}

/* Called by a waiter once per turn of its spin loop. On one processor the holder can
 * never run while we spin, so the framework's default bugchecks SPIN_LOCK_ALREADY_OWNED
 * (P1 the lock, P2 its lock word): a wait on oneself. Tests install KiSpinWaitRoutine to
 * play the other processors. */
VOID KiSpinWait(PKSPIN_LOCK Lock);
extern VOID (*volatile KiSpinWaitRoutine)(PKSPIN_LOCK Lock);

/* ---- Lab 04: spin locks (student code) ---- */
VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
VOID KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql);
VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);
