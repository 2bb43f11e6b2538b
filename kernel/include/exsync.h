/* exsync.h - executive synchronisation (lab 05, labs/05-threads/exsync.c, resource.c,
 * worker.c): fast and guarded mutexes, executive resources (ERESOURCE: shared and
 * exclusive ownership) and system worker threads (ExQueueWorkItem). NT's names and
 * documented semantics. Waits are on the framework's gate (KGATE, kethread.h), which goes
 * through the lab 05 dispatcher (KiReadyThread, KiSelectNextThread): one waiter released
 * per signal, a signal without a waiter kept, waiters released in the order they waited. */
#pragma once

#include "keapc.h"

/* ---- Fast mutexes: held at APC_LEVEL, not recursive ---- */
#define FM_LOCK_FREE 1
typedef struct _FAST_MUTEX {
    volatile LONG Count;          /* 1 free; 0 owned; -n owned with n waiters */
    PKTHREAD Owner;               /* NULL while free */
    ULONG Contention;             /* acquisitions that had to wait */
    KGATE Gate;                   /* waiters; one released per release */
    ULONG OldIrql;                /* the owner's IRQL before the acquire */
} FAST_MUTEX, *PFAST_MUTEX;

VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex);
VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex);
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);
VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex);

/* ---- Guarded mutexes: held in a guarded region, IRQL unchanged, not recursive ---- */
#define GM_LOCK_FREE 1
typedef struct _KGUARDED_MUTEX {
    volatile LONG Count;          /* as FAST_MUTEX */
    PKTHREAD Owner;
    ULONG Contention;
    KGATE Gate;
} KGUARDED_MUTEX, *PKGUARDED_MUTEX;

VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex);
VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);
BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);
VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex);

/* ---- Executive resources ----
 * Owners are recorded in OwnerTable (one entry a thread, with its recursion count); entry
 * 0 is the exclusive owner while Flag has ResourceOwnedExclusive. Waiters queue on
 * WaitListHead in arrival order, each with its own gate; a release hands the resource to
 * waiters directly (they own it when their wait returns). */
#define ResourceOwnedExclusive 0x0080
#define ERESOURCE_OWNERS 128      /* one entry a thread (the framework has at most 128 threads) */

typedef struct _OWNER_ENTRY {
    PKTHREAD OwnerThread;         /* NULL: a free entry */
    ULONG OwnerCount;             /* its acquisitions not yet released */
} OWNER_ENTRY, *POWNER_ENTRY;

typedef struct _ERESOURCE_WAITER {
    LIST_ENTRY WaitListEntry;     /* in ERESOURCE.WaitListHead */
    PKTHREAD Thread;
    BOOLEAN Exclusive;
    KGATE Gate;                   /* signalled when the resource was granted to it */
} ERESOURCE_WAITER, *PERESOURCE_WAITER;

typedef struct _ERESOURCE {
    OWNER_ENTRY OwnerTable[ERESOURCE_OWNERS];
    LONG ActiveCount;             /* distinct owning threads (0 free) */
    USHORT Flag;                  /* ResourceOwnedExclusive */
    ULONG NumberOfSharedWaiters;
    ULONG NumberOfExclusiveWaiters;
    LIST_ENTRY WaitListHead;      /* ERESOURCE_WAITER.WaitListEntry, arrival order */
    ULONG ContentionCount;        /* acquisitions that had to wait */
    KSPIN_LOCK SpinLock;          /* guards every field (taken at DISPATCH_LEVEL) */
} ERESOURCE, *PERESOURCE;

NTSTATUS ExInitializeResourceLite(PERESOURCE Resource);
NTSTATUS ExDeleteResourceLite(PERESOURCE Resource);
BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait);
BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait);
VOID ExReleaseResourceLite(PERESOURCE Resource);
BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource);
ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource);

/* ---- System worker threads ---- */
typedef VOID (*PWORKER_THREAD_ROUTINE)(PVOID Parameter);
typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue = 0,        /* served by threads at priority 13 */
    DelayedWorkQueue = 1,         /* served by threads at priority 12 */
    MaximumWorkQueue = 2,
} WORK_QUEUE_TYPE;
#define EX_CRITICAL_WORKER_PRIORITY 13
#define EX_DELAYED_WORKER_PRIORITY 12
#define EX_WORKERS_PER_QUEUE 2

typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List;              /* in the queue; Flink NULL while not queued */
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;

static inline VOID ExInitializeWorkItem(PWORK_QUEUE_ITEM Item, PWORKER_THREAD_ROUTINE Routine, PVOID Parameter)
{
    Item->WorkerRoutine = Routine;
    Item->Parameter = Parameter;
    Item->List.Flink = NULL;
}
VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType);
/* The worker threads of QueueType, started by the first ExQueueWorkItem (NULL before). */
PKTHREAD ExWorkerThread(WORK_QUEUE_TYPE QueueType, ULONG Index);
