/* sched.c - lab 05: the dispatcher. One ready queue per priority (0-31) in the KPRCB with
 * a summary bitmap (bit p set <=> queue p is not empty), so the next thread is found in
 * O(1); preemption when a thread of higher priority than the running one becomes ready;
 * quantum end with round robin among equal priorities and the decay of a wait boost;
 * KeSetPriorityThread. The framework (kernel/ke/thread.c, swint.c) does the switching:
 * KiSwapThread takes Prcb->NextThread, else KiSelectNextThread's choice, else the idle
 * thread; the DISPATCH_LEVEL interrupt switches to Prcb->NextThread, readying the running
 * thread first (with Preempted TRUE) if it is still Running. */
#include "kesched.h"

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
    /* LAB 05: preempt (Standby as NextThread, DISPATCH interrupt) or queue at the head/tail, summary bit. */
    KeNotImplemented("KiReadyThread", "lab 05");
    KiStubReadyThread(Thread); /* the framework's stand-in: one FIFO queue, no priorities */
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
    /* LAB 05: the highest non-empty queue from ReadySummary, its first thread, Standby. */
    return KiStubSelectNextThread(Prcb); /* the framework's stand-in (no report: the idle loop calls it in every lab) */
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
    /* LAB 05: new quantum, decay the boost, round robin among equal priorities. */
    KeNotImplemented("KiQuantumEnd", "lab 05");
    KiStubQuantumEnd(); /* the framework's stand-in: round robin on one FIFO queue */
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
    /* LAB 05: new base and current priority; requeue a ready or standby thread; preempt the running one. */
    UNREFERENCED_PARAMETER(Thread);
    UNREFERENCED_PARAMETER(Priority);
    KeNotImplemented("KeSetPriorityThread", "lab 05");
    return 0;
}

/* KeQueryPriorityThread - Thread's current Priority. Any IRQL. */
KPRIORITY KeQueryPriorityThread(PKTHREAD Thread)
{
    /* LAB 05: the current priority. */
    UNREFERENCED_PARAMETER(Thread);
    KeNotImplemented("KeQueryPriorityThread", "lab 05");
    return 0;
}
