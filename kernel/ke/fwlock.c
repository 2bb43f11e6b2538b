/* fwlock.c - the framework's spin locks: a lock word that records its owner, taken at a
 * raised IRQL, or with interrupts disabled at the caller's IRQL (for the locks around lab
 * 01-03 student code whose contract depends on the caller's IRQL). On one processor a lock
 * can only be found held by its own processor: that is a re-acquire, a bugcheck
 * (SPIN_LOCK_ALREADY_OWNED), never a silent deadlock. */
#include "bugcodes.h"
#include "ki.h"

VOID KiAcquireFrameworkLock(PKSPIN_LOCK Lock, KIRQL Irql, PKIRQL OldIrql)
{
    KIRQL old = KeGetCurrentIrql();
    if (Irql > old)
        __writecr8(Irql);
    ULONG_PTR owner = (ULONG_PTR)KeGetCurrentThread() | 1;
    if (__atomic_exchange_n(Lock, owner, __ATOMIC_ACQUIRE) != 0)
        KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, *Lock, 0, 0);
    *OldIrql = old;
}

VOID KiReleaseFrameworkLock(PKSPIN_LOCK Lock, KIRQL OldIrql)
{
    if (__atomic_exchange_n(Lock, 0, __ATOMIC_RELEASE) == 0)
        KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)Lock, 0, 0, 0);
    KeLowerIrql(OldIrql);
}

VOID KiAcquireFrameworkLockAtCallerIrql(PKSPIN_LOCK Lock, PULONG64 Flags)
{
    *Flags = __readeflags();
    _disable();
    ULONG_PTR owner = (ULONG_PTR)KeGetCurrentThread() | 1;
    if (__atomic_exchange_n(Lock, owner, __ATOMIC_ACQUIRE) != 0)
        KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, *Lock, 1, 0);
}

VOID KiReleaseFrameworkLockAtCallerIrql(PKSPIN_LOCK Lock, ULONG64 Flags)
{
    if (__atomic_exchange_n(Lock, 0, __ATOMIC_RELEASE) == 0)
        KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)Lock, 1, 0, 0);
    if (!(Flags & EFLAGS_IF))
        return;
    _enable();
    /* What became pending while interrupts were off, deliverable at this IRQL. */
    KIRQL irql = KeGetCurrentIrql();
    if (irql < DISPATCH_LEVEL && (KeGetCurrentPrcb()->SoftwareInterruptPending >> irql) > 1)
        KiDeliverSoftwareInterrupts(irql);
}
