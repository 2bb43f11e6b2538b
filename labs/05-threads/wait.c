/* wait.c - lab 05: waits. A waiting thread has one wait block per object it waits on,
 * each on its object's wait list (DISPATCHER_HEADER.WaitListHead, in wait order) and all
 * linked in a ring through NextWaitBlock; a wait with a timeout adds the block of its own
 * timer (KTHREAD.WaitBlock[TIMER_WAIT_BLOCK], WaitKey STATUS_TIMEOUT). A signal runs
 * KiWaitTest on the object, which satisfies waiters (consuming the object by its type's
 * rule) and ends their waits with KiUnwaitThread. All of it at DISPATCH_LEVEL. */
#include "bugcodes.h"
#include "kesched.h"

/*
 * Helpers you will want (static, yours to write; the reference has these):
 *  - signalled(Object, Thread): a mutant is signalled when free (SignalState > 0) or
 *    owned by Thread (recursive acquisition); every other object when SignalState > 0.
 *  - satisfy(Object, Thread), the consumption of a satisfied wait, by type:
 *      synchronization event, synchronization timer: SignalState 0 (auto-reset);
 *      notification event, notification timer, thread: nothing (they stay signalled);
 *      semaphore: SignalState one less;
 *      mutant: SignalState one less; when it was free, Thread becomes OwnerThread and
 *      the mutant goes on Thread->MutantListHead; if it was Abandoned, the flag is
 *      cleared and the wait's status gets STATUS_ABANDONED_WAIT_0 added.
 *  - the wait itself, shared by the three Ke* waits below (at DISPATCH_LEVEL): satisfied
 *    now -> consume and return; a zero timeout -> STATUS_TIMEOUT; otherwise fill the
 *    blocks (Thread, Object, WaitKey = index, WaitType, the NextWaitBlock ring), put
 *    each at the tail of its object's wait list, set the thread's Timer for a timeout
 *    (KeSetTimer; one already due is an immediate STATUS_TIMEOUT) with the timer block
 *    (WaitKey STATUS_TIMEOUT, WaitAny) on the timer's wait list, make the thread Waiting
 *    (WaitReason, WaitMode, Alertable, WaitIrql, WaitBlockList) and call KiSwapThread;
 *    the status is then in Thread->WaitStatus (STATUS_KERNEL_APC: a kernel APC woke it -
 *    lower the IRQL to the caller's so that it runs, raise it again and wait again).
 */

/*
 * KiUnwaitThread - end Thread's wait with WaitStatus (see kewait.h).
 * Contract: DISPATCH_LEVEL; does nothing unless Thread is Waiting on wait blocks
 * (WaitBlockList not NULL).
 *  - Every block of its ring is taken off its object's wait list; its timeout timer, if
 *    set, is cancelled (KeCancelTimer); WaitBlockList becomes NULL; WaitStatus is stored.
 *  - Boost: with Increment > 0 and a variable Priority (below LOW_REALTIME_PRIORITY), the
 *    thread's Priority becomes BasePriority + Increment (at most LOW_REALTIME_PRIORITY - 1)
 *    if that is higher than its Priority now; PriorityDecrement records the levels above
 *    BasePriority (they decay at quantum end). A real-time thread is never boosted.
 *  - Then KiReadyThread (which preempts the running thread if Thread's priority is higher).
 */
VOID KiUnwaitThread(PKTHREAD Thread, LONG_PTR WaitStatus, KPRIORITY Increment)
{
    /* LAB 05: unlink every wait block, cancel the timeout, store the status, boost, ready. */
    UNREFERENCED_PARAMETER(Thread);
    UNREFERENCED_PARAMETER(WaitStatus);
    UNREFERENCED_PARAMETER(Increment);
    KeNotImplemented("KiUnwaitThread", "lab 05");
}

/*
 * KiWaitTest - Object may have become signalled: satisfy its waiters (see kewait.h).
 * Contract: DISPATCH_LEVEL. Walks Object's wait list from the head (wait order) while the
 * object is signalled:
 *  - a WaitAny block: the object is consumed for its thread (KiWaitSatisfy) and the wait
 *    ends with WaitKey (its index; STATUS_TIMEOUT for a timeout's block) plus
 *    STATUS_ABANDONED_WAIT_0 for an abandoned mutant;
 *  - a WaitAll block: only if every WaitAll object of its thread is signalled for that
 *    thread, all of them are consumed and the wait ends with STATUS_WAIT_0 (or
 *    STATUS_ABANDONED_WAIT_0); otherwise that waiter is passed over and keeps its place.
 * Each ended wait goes through KiUnwaitThread(Thread, status, Increment).
 */
VOID KiWaitTest(PVOID Object, KPRIORITY Increment)
{
    /* LAB 05: satisfy the waiters in wait order while the object stays signalled (WaitAny, WaitAll). */
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(Increment);
    KeNotImplemented("KiWaitTest", "lab 05");
}

/*
 * KeWaitForMultipleObjects - wait until any (WaitAny) or all (WaitAll) of Count objects
 * are signalled, or Timeout passes (see kewait.h).
 * Contract: IRQL <= APC_LEVEL, or DISPATCH_LEVEL with a zero timeout; a wait that could
 * block at DISPATCH_LEVEL or above bugchecks IRQL_NOT_LESS_OR_EQUAL (IRQL, APC_LEVEL, the
 * first object, 1). Count 0 is STATUS_INVALID_PARAMETER; Count above MAXIMUM_WAIT_OBJECTS,
 * or above THREAD_WAIT_OBJECTS with no WaitBlockArray (the thread's own blocks are used
 * then), bugchecks MAXIMUM_WAIT_OBJECTS_EXCEEDED (Count). Returns with the caller's IRQL:
 * STATUS_WAIT_0 + the lowest signalled index (WaitAny), STATUS_WAIT_0 (WaitAll),
 * STATUS_ABANDONED_WAIT_0 (+ index) for an abandoned mutant, STATUS_TIMEOUT.
 */
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray)
{
    /* LAB 05: the IRQL and count rules, satisfied now, poll, or wait blocks and KiSwapThread. */
    UNREFERENCED_PARAMETER(Count);
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(WaitType);
    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    UNREFERENCED_PARAMETER(Timeout);
    UNREFERENCED_PARAMETER(WaitBlockArray);
    KeNotImplemented("KeWaitForMultipleObjects", "lab 05");
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * KeWaitForSingleObject - wait until Object is signalled or Timeout passes.
 * Contract: as KeWaitForMultipleObjects with one object and the thread's first wait
 * block: STATUS_WAIT_0, STATUS_ABANDONED_WAIT_0 or STATUS_TIMEOUT; the same IRQL rule.
 */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    /* LAB 05: a wait on one object. */
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    UNREFERENCED_PARAMETER(Timeout);
    KeNotImplemented("KeWaitForSingleObject", "lab 05");
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * KeDelayExecutionThread - sleep for Interval (< 0 relative, >= 0 absolute, 100 ns).
 * Contract: IRQL <= APC_LEVEL (above: the wait bugcheck, object 0). The thread waits on its
 * own timer alone (WaitReason DelayExecution) and returns STATUS_SUCCESS when it expires.
 * A zero interval gives the processor to a ready thread of the same or a higher priority,
 * if any (the thread goes to the tail of its queue), and returns STATUS_SUCCESS.
 */
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    /* LAB 05: wait on the thread's own timer; a zero interval yields. */
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    UNREFERENCED_PARAMETER(Interval);
    KeNotImplemented("KeDelayExecutionThread", "lab 05");
    return STATUS_NOT_IMPLEMENTED;
}
