/* sched.c - the ready queues and the choice of the next thread (becomes lab 05 student
 * code). Framework default: one FIFO queue per priority in the KPRCB with a summary
 * bitmap; the highest non-empty priority runs; equal priorities round-robin at quantum
 * end. All three run at DISPATCH_LEVEL. */
#include "ki.h"

/*
 * KiReadyThread - make Thread ready to run: State = Ready, at the tail of the ready
 * queue of its Priority, its bit set in ReadySummary.
 */
VOID KiReadyThread(PKTHREAD Thread)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    Thread->State = Ready;
    InsertTailList(&prcb->DispatcherReadyListHead[Thread->Priority], &Thread->WaitListEntry);
    prcb->ReadySummary |= 1U << Thread->Priority;
}

/*
 * KiSelectNextThread - take the first thread of the highest-priority non-empty ready
 * queue off it (State = Standby) and return it; NULL when no thread is ready (the
 * caller runs the idle thread).
 */
PKTHREAD KiSelectNextThread(PKPRCB Prcb)
{
    if (Prcb->ReadySummary == 0)
        return NULL;
    ULONG priority = 31 - (ULONG)__builtin_clz(Prcb->ReadySummary);
    PLIST_ENTRY head = &Prcb->DispatcherReadyListHead[priority];
    PLIST_ENTRY e = head->Flink;
    RemoveEntryList(e);
    if (IsListEmpty(head))
        Prcb->ReadySummary &= ~(1U << priority);
    PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, WaitListEntry);
    t->State = Standby;
    return t;
}

/*
 * KiQuantumEnd - the running thread used up its quantum: give it a new one; if a thread
 * of the same or higher priority is ready, ready the running thread (at the tail of its
 * queue) and set Prcb->NextThread to the chosen one.
 */
VOID KiQuantumEnd(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD current = prcb->CurrentThread;
    if (current == prcb->IdleThread)
        return;
    current->Quantum = THREAD_QUANTUM;
    if (prcb->NextThread || prcb->ReadySummary == 0)
        return;
    ULONG top = 31 - (ULONG)__builtin_clz(prcb->ReadySummary);
    if ((LONG)top < current->Priority)
        return;
    PKTHREAD next = KiSelectNextThread(prcb);
    KiReadyThread(current);
    prcb->NextThread = next;
}
