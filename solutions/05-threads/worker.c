/* worker.c - system worker threads (lab 05): ExQueueWorkItem hands a routine to the
 * threads of a work queue (critical or delayed), which run the queued items one at a time
 * each, in queue order, at PASSIVE_LEVEL. Reference solution. */
#include "bugcodes.h"
#include "exsync.h"

typedef struct _EX_WORK_QUEUE {
    LIST_ENTRY WorkerQueue;       /* WORK_QUEUE_ITEM.List, FIFO */
    KGATE Gate;                   /* signalled once per item queued */
    KSPIN_LOCK Lock;              /* guards WorkerQueue */
    PKTHREAD Threads[EX_WORKERS_PER_QUEUE];
    BOOLEAN Started;
} EX_WORK_QUEUE, *PEX_WORK_QUEUE;

static EX_WORK_QUEUE ExWorkerQueue[MaximumWorkQueue];

/* A worker thread's loop: sleep on the queue's gate, then run every queued item. */
static VOID ExpWorkerThread(PVOID Context)
{
    PEX_WORK_QUEUE queue = Context;
    for (;;) {
        KeWaitForGate(&queue->Gate, WrQueue);
        for (;;) {
            KIRQL old;
            KiAcquireFrameworkLock(&queue->Lock, DISPATCH_LEVEL, &old);
            if (IsListEmpty(&queue->WorkerQueue)) {
                KiReleaseFrameworkLock(&queue->Lock, old);
                break;
            }
            PLIST_ENTRY e = queue->WorkerQueue.Flink;
            RemoveEntryList(e);
            KiReleaseFrameworkLock(&queue->Lock, old);
            PWORK_QUEUE_ITEM item = CONTAINING_RECORD(e, WORK_QUEUE_ITEM, List);
            PWORKER_THREAD_ROUTINE routine = item->WorkerRoutine;
            PVOID parameter = item->Parameter;
            item->List.Flink = NULL; /* not queued: the routine may queue it again */
            routine(parameter);
            KIRQL irql = KeGetCurrentIrql();
            if (irql != PASSIVE_LEVEL)
                KeBugCheckEx(WORKER_RETURNED_AT_BAD_IRQL, (ULONG_PTR)routine, irql, (ULONG_PTR)item,
                             (ULONG_PTR)parameter);
        }
    }
}

/* Starts the queue's worker threads (once). */
static VOID ExpStartWorkers(WORK_QUEUE_TYPE QueueType)
{
    static const char *names[MaximumWorkQueue][EX_WORKERS_PER_QUEUE] = {{"critical worker 0", "critical worker 1"},
                                                                        {"delayed worker 0", "delayed worker 1"}};
    PEX_WORK_QUEUE queue = &ExWorkerQueue[QueueType];
    InitializeListHead(&queue->WorkerQueue);
    KeInitializeGate(&queue->Gate);
    queue->Lock = 0;
    queue->Started = TRUE;
    KPRIORITY priority = QueueType == CriticalWorkQueue ? EX_CRITICAL_WORKER_PRIORITY : EX_DELAYED_WORKER_PRIORITY;
    for (ULONG i = 0; i < EX_WORKERS_PER_QUEUE; i++)
        if (!NT_SUCCESS(KeCreateThread(&queue->Threads[i], names[QueueType][i], ExpWorkerThread, queue, priority)))
            queue->Threads[i] = NULL;
}

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
    if ((ULONG)QueueType >= MaximumWorkQueue || WorkItem->List.Flink != NULL)
        return;
    PEX_WORK_QUEUE queue = &ExWorkerQueue[QueueType];
    if (!queue->Started)
        ExpStartWorkers(QueueType);
    KIRQL old;
    KiAcquireFrameworkLock(&queue->Lock, DISPATCH_LEVEL, &old);
    InsertTailList(&queue->WorkerQueue, &WorkItem->List);
    KeSignalGate(&queue->Gate);
    KiReleaseFrameworkLock(&queue->Lock, old);
}

/*
 * ExWorkerThread - the Index-th worker thread of QueueType, NULL if it was not started.
 * IRQL: any.
 */
PKTHREAD ExWorkerThread(WORK_QUEUE_TYPE QueueType, ULONG Index)
{
    if ((ULONG)QueueType >= MaximumWorkQueue || Index >= EX_WORKERS_PER_QUEUE || !ExWorkerQueue[QueueType].Started)
        return NULL;
    return ExWorkerQueue[QueueType].Threads[Index];
}
