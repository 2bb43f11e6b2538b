/* wait.c - lab 05: waits. A waiting thread has one wait block per object it waits on,
 * each on its object's wait list (DISPATCHER_HEADER.WaitListHead, in wait order) and all
 * linked in a ring through NextWaitBlock; a wait with a timeout adds the block of its own
 * timer (KTHREAD.WaitBlock[TIMER_WAIT_BLOCK], WaitKey STATUS_TIMEOUT). A signal runs
 * KiWaitTest on the object, which satisfies waiters (consuming the object by its type's
 * rule) and ends their waits with KiUnwaitThread. All of it at DISPATCH_LEVEL. */
#include "bugcodes.h"
#include "kesched.h"

/*
 * KiIsObjectSignalled - TRUE if a wait by Thread on Object would be satisfied now.
 * Contract: DISPATCH_LEVEL, no side effect. A mutant is signalled when free
 * (SignalState > 0) or owned by Thread (recursive acquisition); every other object
 * (events, semaphores, timers, threads) when SignalState > 0.
 */
static BOOLEAN KiIsObjectSignalled(PDISPATCHER_HEADER Object, PKTHREAD Thread)
{
    if (Object->Type == MutantObject)
        return Object->SignalState > 0 || ((PKMUTANT)Object)->OwnerThread == Thread;
    return Object->SignalState > 0;
}

/*
 * KiWaitSatisfy - consume Object for Thread, whose wait on it is satisfied; returns
 * STATUS_ABANDONED_WAIT_0 if Thread acquired an abandoned mutant, else STATUS_WAIT_0.
 * Contract: DISPATCH_LEVEL, Object signalled for Thread. The satisfy rules:
 *  - synchronization event, synchronization timer: SignalState 0 (auto-reset);
 *  - notification event, notification timer, thread: nothing (they stay signalled);
 *  - semaphore: SignalState one less;
 *  - mutant: SignalState one less; when it was free, Thread becomes OwnerThread, the
 *    mutant goes on Thread->MutantListHead, and if it was Abandoned that flag is cleared
 *    and the result is STATUS_ABANDONED_WAIT_0.
 */
static NTSTATUS KiWaitSatisfy(PDISPATCHER_HEADER Object, PKTHREAD Thread)
{
    switch (Object->Type) {
    case EventSynchronizationObject:
    case TimerSynchronizationObject:
        Object->SignalState = 0;
        break;
    case SemaphoreObject:
        Object->SignalState--;
        break;
    case MutantObject: {
        PKMUTANT mutant = (PKMUTANT)Object;
        Object->SignalState--;
        if (Object->SignalState == 0) {
            mutant->OwnerThread = Thread;
            InsertTailList(&Thread->MutantListHead, &mutant->MutantListEntry);
            if (mutant->Abandoned) {
                mutant->Abandoned = FALSE;
                return STATUS_ABANDONED_WAIT_0;
            }
        }
        break;
    }
    default:
        break;
    }
    return STATUS_WAIT_0;
}

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
    if (Thread->State != Waiting || !Thread->WaitBlockList)
        return;
    PKWAIT_BLOCK first = Thread->WaitBlockList, wb = first;
    do {
        RemoveEntryList(&wb->WaitListEntry);
        wb->WaitListEntry.Flink = wb->WaitListEntry.Blink = NULL;
        wb = wb->NextWaitBlock;
    } while (wb && wb != first);
    if (Thread->Timer.Inserted)
        KeCancelTimer(&Thread->Timer);
    Thread->WaitBlockList = NULL;
    Thread->WaitStatus = (NTSTATUS)WaitStatus;
    if (Increment > 0 && Thread->Priority < LOW_REALTIME_PRIORITY) {
        KPRIORITY boosted = Thread->BasePriority + Increment;
        if (boosted >= LOW_REALTIME_PRIORITY)
            boosted = LOW_REALTIME_PRIORITY - 1;
        if (boosted > Thread->Priority) {
            Thread->Priority = boosted;
            Thread->PriorityDecrement = (int8_t)(boosted - Thread->BasePriority);
        }
    }
    KiReadyThread(Thread);
}

/* TRUE if every WaitAll object of the ring starting at Block is signalled for Thread. */
static BOOLEAN KiAllSignalled(PKWAIT_BLOCK Block, PKTHREAD Thread)
{
    PKWAIT_BLOCK wb = Block;
    do {
        if (wb->WaitType == WaitAll && !KiIsObjectSignalled(wb->Object, Thread))
            return FALSE;
        wb = wb->NextWaitBlock;
    } while (wb != Block);
    return TRUE;
}

/* Satisfies every WaitAll object of the ring; STATUS_ABANDONED_WAIT_0 if one was an
 * abandoned mutant. */
static NTSTATUS KiSatisfyAll(PKWAIT_BLOCK Block, PKTHREAD Thread)
{
    NTSTATUS status = STATUS_WAIT_0;
    PKWAIT_BLOCK wb = Block;
    do {
        if (wb->WaitType == WaitAll && KiWaitSatisfy(wb->Object, Thread) == STATUS_ABANDONED_WAIT_0)
            status = STATUS_ABANDONED_WAIT_0;
        wb = wb->NextWaitBlock;
    } while (wb != Block);
    return status;
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
    PDISPATCHER_HEADER header = Object;
    PLIST_ENTRY e = header->WaitListHead.Flink;
    while (e != &header->WaitListHead && header->SignalState > 0) {
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        PKTHREAD thread = wb->Thread;
        NTSTATUS status;
        if (wb->WaitType == WaitAny) {
            status = (NTSTATUS)wb->WaitKey;
            if (KiWaitSatisfy(header, thread) == STATUS_ABANDONED_WAIT_0)
                status += STATUS_ABANDONED_WAIT_0;
        } else if (KiAllSignalled(wb, thread)) {
            status = KiSatisfyAll(wb, thread);
        } else {
            e = e->Flink;
            continue;
        }
        KiUnwaitThread(thread, status, Increment);
        e = header->WaitListHead.Flink; /* the list changed: start again from its head */
    }
}

/* A wait that could block at DISPATCH_LEVEL or above bugchecks (kewait.h). */
static VOID KiCheckWaitIrql(KIRQL Irql, PVOID Object, PLARGE_INTEGER Timeout)
{
    if (Irql >= DISPATCH_LEVEL && !(Timeout && Timeout->QuadPart == 0))
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, Irql, APC_LEVEL, (ULONG_PTR)Object, 1);
}

/*
 * KiWaitForObjects - the wait shared by KeWaitForSingleObject/KeWaitForMultipleObjects
 * and KeDelayExecutionThread (Count 0: only the timeout).
 * Contract: called at DISPATCH_LEVEL (raised by the caller from OldIrql); returns there.
 *  - Satisfied now (WaitAny: the lowest signalled index; WaitAll: all): the objects are
 *    consumed and the status returned without blocking.
 *  - A zero timeout: STATUS_TIMEOUT without blocking.
 *  - Otherwise the blocks are filled in (Thread, Object, WaitKey = index, WaitType,
 *    ring through NextWaitBlock) and each goes at the tail of its object's wait list; a
 *    timeout sets the thread's Timer (KeSetTimer; one already due ends the wait with
 *    STATUS_TIMEOUT at once) with the timer block on its wait list. The thread is then
 *    Waiting (WaitReason, WaitMode, Alertable, WaitIrql = OldIrql) and gives up the
 *    processor (KiSwapThread); whoever ends the wait (KiUnwaitThread) leaves the status
 *    in WaitStatus. A wake by a kernel APC (STATUS_KERNEL_APC) lowers the IRQL to OldIrql
 *    (the APC runs), raises it again and waits again.
 */
static NTSTATUS KiWaitForObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                 KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                 PKWAIT_BLOCK WaitBlockArray, KIRQL OldIrql)
{
    PKTHREAD thread = KeGetCurrentThread();
    for (;;) {
        if (Count && WaitType == WaitAny) {
            for (ULONG i = 0; i < Count; i++)
                if (KiIsObjectSignalled(Object[i], thread))
                    return (NTSTATUS)i + KiWaitSatisfy(Object[i], thread);
        } else if (Count) {
            BOOLEAN all = TRUE;
            for (ULONG i = 0; i < Count && all; i++)
                all = KiIsObjectSignalled(Object[i], thread);
            if (all) {
                NTSTATUS status = STATUS_WAIT_0;
                for (ULONG i = 0; i < Count; i++)
                    if (KiWaitSatisfy(Object[i], thread) == STATUS_ABANDONED_WAIT_0)
                        status = STATUS_ABANDONED_WAIT_0;
                return status;
            }
        }
        if (Timeout && Timeout->QuadPart == 0)
            return STATUS_TIMEOUT;

        PKWAIT_BLOCK first = NULL, last = NULL;
        for (ULONG i = 0; i < Count; i++) {
            PKWAIT_BLOCK wb = &WaitBlockArray[i];
            wb->Thread = thread;
            wb->Object = Object[i];
            wb->WaitKey = (USHORT)i;
            wb->WaitType = (UCHAR)WaitType;
            wb->BlockState = 0;
            if (last)
                last->NextWaitBlock = wb;
            else
                first = wb;
            last = wb;
        }
        if (Timeout) {
            PKWAIT_BLOCK tb = &thread->WaitBlock[TIMER_WAIT_BLOCK];
            KeSetTimer(&thread->Timer, *Timeout, NULL);
            if (thread->Timer.Header.SignalState)
                return STATUS_TIMEOUT; /* already due: KeSetTimer expired it at once */
            tb->Thread = thread;
            tb->Object = &thread->Timer;
            tb->WaitKey = (USHORT)STATUS_TIMEOUT;
            tb->WaitType = WaitAny;
            tb->BlockState = 0;
            if (last)
                last->NextWaitBlock = tb;
            else
                first = tb;
            last = tb;
        }
        if (!first)
            return STATUS_SUCCESS; /* nothing to wait for */
        last->NextWaitBlock = first;
        PKWAIT_BLOCK wb = first;
        do {
            InsertTailList(&((PDISPATCHER_HEADER)wb->Object)->WaitListHead, &wb->WaitListEntry);
            wb = wb->NextWaitBlock;
        } while (wb != first);
        thread->WaitBlockList = first;
        thread->WaitStatus = STATUS_WAIT_0;
        thread->WaitReason = (UCHAR)WaitReason;
        thread->WaitMode = (UCHAR)WaitMode;
        thread->Alertable = Alertable;
        thread->WaitIrql = OldIrql;
        thread->State = Waiting;
        KiSwapThread();
        if (thread->WaitStatus != STATUS_KERNEL_APC)
            return thread->WaitStatus;
        /* Woken to run a kernel APC: drop to the caller's IRQL (the APC interrupt is
         * delivered there), then wait again. */
        KIRQL irql;
        KeLowerIrql(OldIrql);
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
    }
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
    if (Count == 0 || (WaitType != WaitAll && WaitType != WaitAny))
        return STATUS_INVALID_PARAMETER;
    if (Count > MAXIMUM_WAIT_OBJECTS || (!WaitBlockArray && Count > THREAD_WAIT_OBJECTS))
        KeBugCheckEx(MAXIMUM_WAIT_OBJECTS_EXCEEDED, Count, 0, 0, 0);
    KiCheckWaitIrql(KeGetCurrentIrql(), Object[0], Timeout);
    if (!WaitBlockArray)
        WaitBlockArray = KeGetCurrentThread()->WaitBlock;
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    NTSTATUS status =
        KiWaitForObjects(Count, Object, WaitType, WaitReason, WaitMode, Alertable, Timeout, WaitBlockArray, oldIrql);
    KeLowerIrql(oldIrql);
    return status;
}

/*
 * KeWaitForSingleObject - wait until Object is signalled or Timeout passes.
 * Contract: as KeWaitForMultipleObjects with one object and the thread's first wait
 * block: STATUS_WAIT_0, STATUS_ABANDONED_WAIT_0 or STATUS_TIMEOUT; the same IRQL rule.
 */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    KiCheckWaitIrql(KeGetCurrentIrql(), Object, Timeout);
    PKTHREAD thread = KeGetCurrentThread();
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    NTSTATUS status = KiWaitForObjects(1, &Object, WaitAny, WaitReason, WaitMode, Alertable, Timeout,
                                       thread->WaitBlock, oldIrql);
    KeLowerIrql(oldIrql);
    return status;
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
    KIRQL irql = KeGetCurrentIrql();
    if (irql >= DISPATCH_LEVEL)
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, irql, APC_LEVEL, 0, 1);
    if (Interval->QuadPart == 0) {
        KeYieldProcessor();
        return STATUS_SUCCESS;
    }
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    NTSTATUS status = KiWaitForObjects(0, NULL, WaitAny, DelayExecution, WaitMode, Alertable, Interval, NULL, oldIrql);
    KeLowerIrql(oldIrql);
    return status == STATUS_TIMEOUT ? STATUS_SUCCESS : status;
}
