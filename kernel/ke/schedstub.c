/* schedstub.c - what lab 05's stubbed dispatcher falls back on, so that a kernel whose
 * lab 05 is a stub still runs threads (the framework's own waits - gates, thread join -
 * and the ktest runner keep working) and never hangs: one FIFO queue, no priorities, no
 * preemption, round robin at quantum end. The stubs in labs/05-threads/sched.c call these
 * (after reporting themselves not implemented); the solution never does. */
#include "ki.h"

static LIST_ENTRY KiStubReadyList;

static PLIST_ENTRY KiStubList(VOID)
{
    if (!KiStubReadyList.Flink)
        InitializeListHead(&KiStubReadyList);
    return &KiStubReadyList;
}

VOID KiStubReadyThread(PKTHREAD Thread)
{
    Thread->State = Ready;
    InsertTailList(KiStubList(), &Thread->WaitListEntry);
}

PKTHREAD KiStubSelectNextThread(PKPRCB Prcb)
{
    UNREFERENCED_PARAMETER(Prcb);
    PLIST_ENTRY head = KiStubList();
    if (IsListEmpty(head))
        return NULL;
    PLIST_ENTRY e = head->Flink;
    RemoveEntryList(e);
    PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, WaitListEntry);
    t->State = Standby;
    return t;
}

VOID KiStubQuantumEnd(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD current = prcb->CurrentThread;
    current->Quantum = THREAD_QUANTUM;
    if (current == prcb->IdleThread || prcb->NextThread)
        return;
    PKTHREAD next = KiStubSelectNextThread(prcb);
    if (next) {
        KiStubReadyThread(current);
        prcb->NextThread = next;
    }
}
