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
    Dpc->Type = DpcObject;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = NULL;
    Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
    Dpc->DpcListEntry.Flink = NULL;
    Dpc->DpcListEntry.Blink = NULL;
}

/*
 * KeSetImportanceDpc - set where KeInsertQueueDpc puts Dpc: HighImportance at the head of
 * the queue, MediumImportance and LowImportance at the tail. Any IRQL; Dpc not queued.
 */
VOID KeSetImportanceDpc(PKDPC Dpc, UCHAR Importance)
{
    Dpc->Importance = Importance;
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
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    if (Dpc->DpcData != NULL) {
        __restoreflags(flags);
        return FALSE;
    }
    Dpc->SystemArgument1 = SystemArgument1;
    Dpc->SystemArgument2 = SystemArgument2;
    Dpc->DpcData = prcb;
    if (Dpc->Importance == HighImportance)
        InsertHeadList(&prcb->DpcListHead, &Dpc->DpcListEntry);
    else
        InsertTailList(&prcb->DpcListHead, &Dpc->DpcListEntry);
    prcb->DpcQueueDepth++;
    __restoreflags(flags);
    KiRequestSoftwareInterrupt(DISPATCH_LEVEL);
    return TRUE;
}

/*
 * KeRemoveQueueDpc - take Dpc off the queue. Any IRQL.
 * Returns TRUE if it was queued: it is unlinked, DpcData is NULL, DpcQueueDepth is one
 * less, and its routine will not run. FALSE (nothing changed) if it was not queued.
 */
BOOLEAN KeRemoveQueueDpc(PKDPC Dpc)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    if (Dpc->DpcData == NULL) {
        __restoreflags(flags);
        return FALSE;
    }
    RemoveEntryList(&Dpc->DpcListEntry);
    Dpc->DpcData = NULL;
    prcb->DpcQueueDepth--;
    __restoreflags(flags);
    return TRUE;
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
    for (;;) {
        _disable();
        if (IsListEmpty(&Prcb->DpcListHead)) {
            _enable();
            return;
        }
        PLIST_ENTRY entry = Prcb->DpcListHead.Flink;
        RemoveEntryList(entry);
        PKDPC dpc = CONTAINING_RECORD(entry, KDPC, DpcListEntry);
        PKDEFERRED_ROUTINE routine = dpc->DeferredRoutine;
        PVOID context = dpc->DeferredContext;
        PVOID argument1 = dpc->SystemArgument1;
        PVOID argument2 = dpc->SystemArgument2;
        dpc->DpcData = NULL;
        Prcb->DpcQueueDepth--;
        Prcb->DpcCount++;
        _enable();
        routine(dpc, context, argument1, argument2);
    }
}
