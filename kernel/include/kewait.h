/* kewait.h - lab 05's public API: dispatcher objects (events, semaphores, mutants; timers
 * and threads are waitable too), waits (KeWaitForSingleObject / KeWaitForMultipleObjects,
 * KeDelayExecutionThread) and the dispatcher calls other components use (KeSetPriorityThread,
 * KiUnwaitThread). NT's names, signatures and documented semantics; the one departure is
 * that ntlab has no structured exceptions: where NT raises (a semaphore released past its
 * limit, a mutant released by a thread that does not own it) the routine changes nothing
 * and returns the status code instead of the previous state (see each prototype).
 *
 * IRQL rules (as NT): Ke*Event/Semaphore/Mutant calls at IRQL <= DISPATCH_LEVEL; waits at
 * IRQL <= APC_LEVEL, or at DISPATCH_LEVEL only with a zero timeout (a poll): a wait at
 * DISPATCH_LEVEL or above that could block bugchecks IRQL_NOT_LESS_OR_EQUAL (0xA) with
 * P1 the caller's IRQL, P2 APC_LEVEL (the highest a blocking wait allows), P3 the first
 * object (0 for a delay), P4 1 (a wait).
 *
 * The dispatcher state (ready queues, wait lists, signal states) is changed only at
 * DISPATCH_LEVEL, as with NT's dispatcher lock on one processor. */
#pragma once

#include "ketimer.h"

/* ---- Status codes of waits (NT's values) ---- */
#define STATUS_WAIT_0                    ((NTSTATUS)0x00000000L)
#define STATUS_WAIT_63                   ((NTSTATUS)0x0000003FL)
#define STATUS_ABANDONED_WAIT_0          ((NTSTATUS)0x00000080L)
#define STATUS_ABANDONED                 STATUS_ABANDONED_WAIT_0
#define STATUS_USER_APC                  ((NTSTATUS)0x000000C0L)
#define STATUS_KERNEL_APC                ((NTSTATUS)0x00000100L)
#define STATUS_ALERTED                   ((NTSTATUS)0x00000101L)
#define STATUS_TIMEOUT                   ((NTSTATUS)0x00000102L)

/* ---- Priority increments given to a thread whose wait a call satisfies ---- */
#define IO_NO_INCREMENT 0
#define EVENT_INCREMENT 1
#define SEMAPHORE_INCREMENT 1
#define MUTANT_INCREMENT 1

#define MAXIMUM_WAIT_OBJECTS 64   /* more objects in one wait bugcheck MAXIMUM_WAIT_OBJECTS_EXCEEDED */
#define TIMER_WAIT_BLOCK 3        /* KTHREAD.WaitBlock[3]: the wait's timeout (WaitKey STATUS_TIMEOUT) */

typedef enum _WAIT_TYPE {
    WaitAll = 0,
    WaitAny = 1,
} WAIT_TYPE;

typedef enum _EVENT_TYPE {
    NotificationEvent = 0,        /* stays signalled: releases every waiter */
    SynchronizationEvent = 1,     /* auto-reset: releases one waiter */
} EVENT_TYPE;

/* ---- Events ---- */
typedef struct _KEVENT {
    DISPATCHER_HEADER Header;     /* Type EventNotificationObject / EventSynchronizationObject; SignalState 0/1 */
} KEVENT, *PKEVENT, *PRKEVENT;

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
/* Signals; releases waiters (all for a notification event; one for a synchronization
 * event, which then stays unsignalled) with Increment. Returns the previous state. If Wait
 * is TRUE the caller goes on to wait at once (NT keeps the dispatcher lock; here: nothing
 * special, the flag is accepted). */
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
/* Unsignals; returns the previous state. */
LONG KeResetEvent(PRKEVENT Event);
/* Unsignals without returning the previous state. */
VOID KeClearEvent(PRKEVENT Event);
/* Releases what a set would release, then leaves the event unsignalled; previous state. */
LONG KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
LONG KeReadStateEvent(PRKEVENT Event);

/* ---- Semaphores ---- */
typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header;     /* Type SemaphoreObject; SignalState the count */
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

VOID KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);
/* Adds Adjustment (> 0) to the count and releases that many waiters at most; returns the
 * previous count. Past Limit (or on overflow): nothing changes and the result is
 * STATUS_SEMAPHORE_LIMIT_EXCEEDED (NT raises it). */
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait);
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);

/* ---- Mutants (and kernel mutexes, which are mutants here) ---- */
typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;     /* Type MutantObject; SignalState 1 free, 1 - n owned n times */
    LIST_ENTRY MutantListEntry;   /* in the owner's KTHREAD.MutantListHead while owned */
    struct _KTHREAD *OwnerThread; /* NULL while free */
    BOOLEAN Abandoned;            /* its owner ended while owning it */
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

/* InitialOwner TRUE: owned once by the current thread. */
VOID KeInitializeMutant(PRKMUTANT Mutant, BOOLEAN InitialOwner);
/* Releases one level of ownership (Abandoned: the whole ownership, by the framework's
 * thread rundown); at the last level the mutant is free and releases one waiter, who
 * becomes its owner. Returns the previous SignalState. Released by a thread that does not
 * own it (and not Abandoned): nothing changes and the result is STATUS_MUTANT_NOT_OWNED. */
LONG KeReleaseMutant(PRKMUTANT Mutant, KPRIORITY Increment, BOOLEAN Abandoned, BOOLEAN Wait);
LONG KeReadStateMutant(PRKMUTANT Mutant);
VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);   /* a free mutant */
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);     /* KeReleaseMutant(Mutex, MUTANT_INCREMENT, FALSE, Wait) */
LONG KeReadStateMutex(PRKMUTEX Mutex);
/* Thread rundown (framework, at termination, PASSIVE_LEVEL): every mutant the current
 * thread still owns is released as abandoned; its next owner's wait returns
 * STATUS_ABANDONED_WAIT_0 + index. */
VOID KeRundownThread(VOID);

/* ---- Waits ---- */
/* Timeout: NULL waits forever; 0 polls; < 0 relative, >= 0 absolute (100 ns, ketimer.h).
 * Returns STATUS_WAIT_0, STATUS_ABANDONED_WAIT_0 (an abandoned mutant) or STATUS_TIMEOUT. */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout);
/* WaitAny: STATUS_WAIT_0 + the lowest index of a signalled object, which alone is
 * consumed. WaitAll: nothing is consumed until every object is signalled, then all are.
 * WaitBlockArray (Count entries) may be NULL for Count <= THREAD_WAIT_OBJECTS; more
 * than that with NULL bugchecks MAXIMUM_WAIT_OBJECTS_EXCEEDED. */
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray);
/* Waits Interval (relative < 0 or absolute); returns STATUS_SUCCESS (NT's value for a
 * delay that ran out). A zero interval yields to a ready thread of equal priority. */
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);

/* ---- Priorities ---- */
/* Sets Thread's base and current priority (1..31) and moves it as its state requires
 * (a ready thread to its new queue; the running thread is preempted if a higher-priority
 * thread is ready); returns the old current priority. IRQL <= DISPATCH_LEVEL. */
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority);
KPRIORITY KeQueryPriorityThread(PKTHREAD Thread);

/* ---- Internal hooks (for the dispatcher's own users: APCs, the framework) ----
 * KiUnwaitThread - end Thread's wait (it is Waiting on wait blocks of this lab) with
 * WaitStatus: unlink every one of its wait blocks from its object, cancel its timeout
 * timer, give it the priority boost Increment, and ready it (KiReadyThread). Called at
 * DISPATCH_LEVEL. APCs (f12x) use it with STATUS_KERNEL_APC / STATUS_ALERTED / STATUS_USER_APC
 * to wake an alertable waiter.
 * KiWaitTest - Object became signalled: satisfy its waiters in wait-list order while it
 * stays signalled (a WaitAll waiter only when all its objects are), with Increment.
 * DISPATCH_LEVEL. The framework calls it for a timer that expires and a thread that ends. */
VOID KiUnwaitThread(PKTHREAD Thread, LONG_PTR WaitStatus, KPRIORITY Increment);
VOID KiWaitTest(PVOID Object, KPRIORITY Increment);
