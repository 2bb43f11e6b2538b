/* keapc.h - kernel APCs (lab 05, labs/05-threads/apc.c): the KAPC object, queueing an APC
 * to a thread, its delivery when the IRQL drops below APC_LEVEL, and the critical and
 * guarded regions that hold delivery off.
 *
 * Kinds, as on NT: a *special* kernel APC has no NormalRoutine; its KernelRoutine runs at
 * APC_LEVEL and only a guarded region (or IRQL >= APC_LEVEL) holds it off. A *normal*
 * kernel APC has a NormalRoutine: its KernelRoutine runs at APC_LEVEL, then its
 * NormalRoutine at PASSIVE_LEVEL; a critical region, a guarded region or another normal
 * APC in progress holds it off. The thread's kernel APC queue
 * (ApcState.ApcListHead[KernelMode]) holds the special APCs first, in the order they
 * were queued, then the normal ones, in the order they were queued. */
#pragma once

#include "kedpc.h" /* KiRequestSoftwareInterrupt */
#include "kewait.h" /* KiUnwaitThread: an APC wakes a waiting thread */

struct _KAPC;
typedef VOID (*PKNORMAL_ROUTINE)(PVOID NormalContext, PVOID SystemArgument1, PVOID SystemArgument2);
typedef VOID (*PKKERNEL_ROUTINE)(struct _KAPC *Apc, PKNORMAL_ROUTINE *NormalRoutine, PVOID *NormalContext,
                                 PVOID *SystemArgument1, PVOID *SystemArgument2);
typedef VOID (*PKRUNDOWN_ROUTINE)(struct _KAPC *Apc);

#define ApcObject 18 /* KOBJECTS value of a KAPC */

typedef enum _KAPC_ENVIRONMENT {
    OriginalApcEnvironment = 0,
    AttachedApcEnvironment = 1,
    CurrentApcEnvironment = 2,
} KAPC_ENVIRONMENT;

typedef struct _KAPC {
    UCHAR Type;                   /* ApcObject */
    UCHAR SpareByte0;
    UCHAR Size;                   /* sizeof(KAPC) */
    UCHAR SpareByte1;
    PKTHREAD Thread;              /* the thread it is queued to */
    LIST_ENTRY ApcListEntry;      /* in Thread->ApcState.ApcListHead[ApcMode] while Inserted */
    PKKERNEL_ROUTINE KernelRoutine;
    PKRUNDOWN_ROUTINE RundownRoutine;
    PKNORMAL_ROUTINE NormalRoutine; /* NULL: a special kernel APC */
    PVOID NormalContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    CHAR ApcStateIndex;           /* KAPC_ENVIRONMENT */
    KPROCESSOR_MODE ApcMode;      /* KernelMode for every APC of this lab */
    BOOLEAN Inserted;
} KAPC, *PKAPC;

/* Lab 05 (labs/05-threads/apc.c). */
VOID KeInitializeApc(PKAPC Apc, PKTHREAD Thread, KAPC_ENVIRONMENT Environment, PKKERNEL_ROUTINE KernelRoutine,
                     PKRUNDOWN_ROUTINE RundownRoutine, PKNORMAL_ROUTINE NormalRoutine, KPROCESSOR_MODE ApcMode,
                     PVOID NormalContext);
BOOLEAN KeInsertQueueApc(PKAPC Apc, PVOID SystemArgument1, PVOID SystemArgument2, KPRIORITY Increment);
BOOLEAN KeRemoveQueueApc(PKAPC Apc);
VOID KeEnterCriticalRegion(VOID);
VOID KeLeaveCriticalRegion(VOID);
VOID KeEnterGuardedRegion(VOID);
VOID KeLeaveGuardedRegion(VOID);
/* TRUE inside a critical or guarded region. */
BOOLEAN KeAreApcsDisabled(VOID);
/* KiDeliverApc (the APC_LEVEL software interrupt) is declared in kethread.h. */
