/* sched.c - lab 05: the dispatcher. One ready queue per priority (0-31) in the KPRCB with
 * a summary bitmap (bit p set <=> queue p is not empty), so the next thread is found in
 * O(1); preemption when a thread of higher priority than the running one becomes ready;
 * quantum end with round robin among equal priorities and the decay of a wait boost;
 * KeSetPriorityThread. The framework (kernel/ke/thread.c, swint.c) does the switching:
 * KiSwapThread takes Prcb->NextThread, else KiSelectNextThread's choice, else the idle
 * thread; the DISPATCH_LEVEL interrupt switches to Prcb->NextThread, readying the running
 * thread first (with Preempted TRUE) if it is still Running. */
#include "kesched.h"

/* The highest priority with a non-empty ready queue; -1 if none. */
static LONG KiHighestReadyPriority(PKPRCB Prcb)
{
    return Prcb->ReadySummary ? 31 - __builtin_clz(Prcb->ReadySummary) : -1;
}

/* Takes Thread off its ready queue, clearing the summary bit when the queue empties. */
static VOID KiRemoveReadyThread(PKPRCB Prcb, PKTHREAD Thread)
{
    RemoveEntryList(&Thread->WaitListEntry);
    if (IsListEmpty(&Prcb->DispatcherReadyListHead[Thread->Priority]))
        Prcb->ReadySummary &= ~(1U << Thread->Priority);
}

/* Queues Thread (Ready) at the head or the tail of its priority's queue. */
static VOID KiInsertReadyThread(PKPRCB Prcb, PKTHREAD Thread, BOOLEAN AtHead)
{
    Thread->State = Ready;
    if (AtHead)
        InsertHeadList(&Prcb->DispatcherReadyListHead[Thread->Priority], &Thread->WaitListEntry);
    else
        InsertTailList(&Prcb->DispatcherReadyListHead[Thread->Priority], &Thread->WaitListEntry);
    Prcb->ReadySummary |= 1U << Thread->Priority;
}

/*
 * KiReadyThread - make Thread ready to run.
 * Contract: DISPATCH_LEVEL. Thread is not on a ready queue (Initialized, Waiting, or the
 * running thread giving up the processor).
 *  - Preemption: if the running thread is Running (not the caller giving itself up) and
 *    Thread's Priority is above the running thread's and above that of the thread already
 *    chosen to run next (Prcb->NextThread, if any), Thread becomes Standby and
 *    Prcb->NextThread; the thread it displaces as NextThread goes back Ready to the head
 *    of its queue; a DISPATCH_LEVEL software interrupt is requested
 *    (KiRequestSoftwareInterrupt), so the switch happens when the IRQL drops.
 *  - Otherwise Thread becomes Ready on the queue of its Priority - at the head if
 *    Thread->Preempted (it lost the processor to a higher priority and keeps its turn;
 *    the flag is cleared), else at the tail - and its bit is set in Prcb->ReadySummary.
 */
VOID KiReadyThread(PKTHREAD Thread)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD current = prcb->CurrentThread;
    PKTHREAD next = prcb->NextThread;
    if (Thread != current && current->State == Running && Thread->Priority > current->Priority &&
        (!next || Thread->Priority > next->Priority)) {
        if (next)
            KiInsertReadyThread(prcb, next, TRUE);
        Thread->State = Standby;
        prcb->NextThread = Thread;
        KiRequestSoftwareInterrupt(DISPATCH_LEVEL);
        return;
    }
    BOOLEAN atHead = Thread->Preempted;
    Thread->Preempted = FALSE;
    KiInsertReadyThread(prcb, Thread, atHead);
}

/*
 * KiSelectNextThread - choose the thread to run next.
 * Contract: DISPATCH_LEVEL. Finds the highest non-empty queue from ReadySummary alone (no
 * scan of the 32 queues or of the threads: O(1)), takes its first thread off it (the
 * summary bit is cleared if the queue empties), makes it Standby and returns it. NULL if
 * no thread is ready (the caller runs the idle thread); nothing changes then.
 */
PKTHREAD KiSelectNextThread(PKPRCB Prcb)
{
    LONG priority = KiHighestReadyPriority(Prcb);
    if (priority < 0)
        return NULL;
    PKTHREAD thread = CONTAINING_RECORD(Prcb->DispatcherReadyListHead[priority].Flink, KTHREAD, WaitListEntry);
    KiRemoveReadyThread(Prcb, thread);
    thread->State = Standby;
    return thread;
}

/*
 * KiQuantumEnd - the running thread used up its quantum (the clock saw Quantum <= 0).
 * Contract: DISPATCH_LEVEL, on the running thread (never the idle thread).
 *  - It gets a new quantum (THREAD_QUANTUM).
 *  - Boost decay: a thread of a variable priority (below LOW_REALTIME_PRIORITY) above its
 *    BasePriority drops one level (PriorityDecrement one less); never below BasePriority.
 *    Real-time priorities never change here.
 *  - Round robin: unless a NextThread is already chosen, if a thread of the same or a
 *    higher priority than the running thread's (new) Priority is ready, that thread is
 *    selected (KiSelectNextThread) as Prcb->NextThread and the running thread is readied
 *    at the tail of its queue; otherwise the running thread goes on.
 */
VOID KiQuantumEnd(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD current = prcb->CurrentThread;
    if (current == prcb->IdleThread)
        return;
    current->Quantum = THREAD_QUANTUM;
    if (current->Priority < LOW_REALTIME_PRIORITY && current->Priority > current->BasePriority) {
        current->Priority--;
        current->PriorityDecrement = (int8_t)(current->Priority - current->BasePriority);
    }
    if (prcb->NextThread || KiHighestReadyPriority(prcb) < current->Priority)
        return;
    PKTHREAD next = KiSelectNextThread(prcb);
    current->Preempted = FALSE;
    KiInsertReadyThread(prcb, current, FALSE);
    prcb->NextThread = next;
}

/*
 * KeSetPriorityThread - set Thread's BasePriority and Priority to Priority (1..31; a value
 * out of range is clamped) and return its old Priority. Any boost is dropped
 * (PriorityDecrement 0).
 * Contract: IRQL <= DISPATCH_LEVEL (works at DISPATCH_LEVEL, restores the caller's IRQL).
 *  - A Ready thread moves to the tail of its new queue (which may preempt the running one).
 *  - The thread chosen to run next (Standby as Prcb->NextThread) is readied again the same
 *    way, so the choice is made again with its new priority.
 *  - The running thread, when a ready thread now has a higher priority, is preempted: that
 *    thread becomes NextThread and a DISPATCH_LEVEL interrupt is requested.
 *  - A Waiting or Initialized thread keeps its state: the new priority applies when it is
 *    readied.
 */
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority)
{
    if (Priority < 1)
        Priority = 1;
    if (Priority >= MAXIMUM_PRIORITY)
        Priority = MAXIMUM_PRIORITY - 1;
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    PKPRCB prcb = KeGetCurrentPrcb();
    KPRIORITY old = Thread->Priority;
    if (Thread->State == Ready && Thread != prcb->IdleThread) {
        KiRemoveReadyThread(prcb, Thread);
        Thread->Priority = Thread->BasePriority = Priority;
        Thread->PriorityDecrement = 0;
        Thread->Preempted = FALSE;
        KiReadyThread(Thread);
    } else if (Thread->State == Standby && Thread == prcb->NextThread) {
        prcb->NextThread = NULL;
        Thread->Priority = Thread->BasePriority = Priority;
        Thread->PriorityDecrement = 0;
        Thread->Preempted = FALSE;
        KiReadyThread(Thread);
    } else {
        Thread->Priority = Thread->BasePriority = Priority;
        Thread->PriorityDecrement = 0;
        if (Thread == prcb->CurrentThread && Thread->State == Running && !prcb->NextThread &&
            KiHighestReadyPriority(prcb) > Priority) {
            prcb->NextThread = KiSelectNextThread(prcb);
            KiRequestSoftwareInterrupt(DISPATCH_LEVEL);
        }
    }
    KeLowerIrql(oldIrql);
    return old;
}

/* KeQueryPriorityThread - Thread's current Priority. Any IRQL. */
KPRIORITY KeQueryPriorityThread(PKTHREAD Thread)
{
    return Thread->Priority;
}
