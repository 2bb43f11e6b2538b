/* dpc.c - lab 04: the DPC queue. A KDPC waits on its processor's queue (KPRCB.DpcListHead,
 * DpcQueueDepth) until IRQL drops below DISPATCH_LEVEL; then the DISPATCH_LEVEL software
 * interrupt drains the queue (KiRetireDpcList), running each routine at DISPATCH_LEVEL. */
#include "kedpc.h"

/*
 * KeInitializeDpc - prepare Dpc to run DeferredRoutine(Dpc, DeferredContext, SA1, SA2).
 * Contract: any IRQL. Sets Type = DpcObject, Importance = MediumImportance, Number = 0,
 * the routine and context, both system arguments NULL, and marks it not queued
 * (DpcData NULL; DpcListEntry links NULL). The memory may hold anything before.
 */
VOID KeInitializeDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    /* LAB 04: fill in every field: a DPC that is not queued. */
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredRoutine);
    UNREFERENCED_PARAMETER(DeferredContext);
    KeNotImplemented("KeInitializeDpc", "lab 04");
}

/*
 * KeSetImportanceDpc - set where KeInsertQueueDpc puts Dpc: HighImportance at the head of
 * the queue, MediumImportance and LowImportance at the tail. Any IRQL; Dpc not queued.
 */
VOID KeSetImportanceDpc(PKDPC Dpc, UCHAR Importance)
{
    /* LAB 04: record the importance. */
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Importance);
    KeNotImplemented("KeSetImportanceDpc", "lab 04");
}

/*
 * KeInsertQueueDpc - queue Dpc on this processor's DPC queue.
 * Contract: any IRQL (interrupts are disabled around the queue update, so an ISR may
 * call it). If Dpc is already queued (DpcData not NULL) returns FALSE and changes
 * nothing, its arguments included. Otherwise stores SystemArgument1/2, sets DpcData to
 * the KPRCB, inserts it at the head (HighImportance) or the tail (otherwise) of
 * KPRCB.DpcListHead, adds 1 to DpcQueueDepth, requests a DISPATCH_LEVEL software
 * interrupt (KiRequestSoftwareInterrupt) and returns TRUE. The routine runs once, later,
 * at DISPATCH_LEVEL: immediately when called below DISPATCH_LEVEL, otherwise when the
 * IRQL drops below DISPATCH_LEVEL.
 */
BOOLEAN KeInsertQueueDpc(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    /* LAB 04: queue it (head or tail), count it, request the DISPATCH_LEVEL interrupt. */
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    KeNotImplemented("KeInsertQueueDpc", "lab 04");
    return FALSE;
}

/*
 * KeRemoveQueueDpc - take Dpc off the queue. Any IRQL.
 * Returns TRUE if it was queued: it is unlinked, DpcData is NULL, DpcQueueDepth is one
 * less, and its routine will not run. FALSE (nothing changed) if it was not queued.
 */
BOOLEAN KeRemoveQueueDpc(PKDPC Dpc)
{
    /* LAB 04: unlink it if it is queued. */
    UNREFERENCED_PARAMETER(Dpc);
    KeNotImplemented("KeRemoveQueueDpc", "lab 04");
    return FALSE;
}

/*
 * KiRetireDpcList - the drain: run every queued DPC in queue order, including DPCs
 * queued while it runs, until the queue is empty.
 * Contract: called by the framework at DISPATCH_LEVEL with interrupts enabled. For each
 * DPC: with interrupts disabled, take it from the head, clear DpcData, subtract 1 from
 * DpcQueueDepth and add 1 to DpcCount; then, with interrupts enabled again and still
 * at DISPATCH_LEVEL, call its routine with its context and the two system arguments.
 * Because it is unlinked first, a routine may queue its own DPC again.
 */
VOID KiRetireDpcList(PKPRCB Prcb)
{
    /* LAB 04: dequeue each DPC, then run it at DISPATCH_LEVEL with interrupts on. */
    UNREFERENCED_PARAMETER(Prcb);
    KeNotImplemented("KiRetireDpcList", "lab 04");
}
