/* worker.c - system worker threads (lab 05): ExQueueWorkItem hands a routine to the
 * threads of a work queue (critical or delayed), which run the queued items one at a time
 * each, in queue order, at PASSIVE_LEVEL. See handouts/05-threads.md. */
#include "exsync.h"

/*
 * ExQueueWorkItem - queue WorkItem (set up by ExInitializeWorkItem) to the system worker
 * threads of QueueType (CriticalWorkQueue: priority 13; DelayedWorkQueue: 12;
 * EX_WORKERS_PER_QUEUE threads each).
 * The item goes to the tail of the queue (items start in the order they were queued) and
 * the queue's gate is signalled once, so a waiting worker wakes; a worker runs
 * WorkerRoutine(Parameter) at PASSIVE_LEVEL after taking the item off the queue (its
 * List.Flink is NULL again, so the routine may queue it anew) and bugchecks
 * WORKER_RETURNED_AT_BAD_IRQL (0xE1: P1 the routine, P2 the IRQL, P3 the item, P4 the
 * parameter) if the routine returns at another IRQL. The first call for a queue starts its
 * worker threads (at PASSIVE_LEVEL). An item already queued (List.Flink not NULL) or a
 * QueueType out of range is ignored.
 * IRQL: <= DISPATCH_LEVEL (PASSIVE_LEVEL for the first call of each queue).
 */
VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(WorkItem);
    UNREFERENCED_PARAMETER(QueueType);
    KeNotImplemented("ExQueueWorkItem", "lab 05");
}

/*
 * ExWorkerThread - the Index-th worker thread of QueueType, NULL if it was not started.
 * IRQL: any.
 */
PKTHREAD ExWorkerThread(WORK_QUEUE_TYPE QueueType, ULONG Index)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(QueueType);
    UNREFERENCED_PARAMETER(Index);
    KeNotImplemented("ExWorkerThread", "lab 05");
    return NULL;
}
