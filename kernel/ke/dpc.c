/* dpc.c - the DPC queue (becomes lab 04 student code): a framework default that keeps
 * the KPRCB's DpcListHead in FIFO order (high importance at the head) and drains it at
 * DISPATCH_LEVEL. Lab 04 replaces it; the framework only calls these functions. */
#include "ki.h"

VOID KeInitializeDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    Dpc->Type = DpcObject;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
    Dpc->DpcListEntry.Flink = Dpc->DpcListEntry.Blink = NULL;
}

/*
 * KeInsertQueueDpc - queue Dpc on this processor's DPC queue.
 * Contract: any IRQL. Returns FALSE (and changes nothing) if Dpc is already queued;
 * otherwise records the two arguments, queues it (at the head for HighImportance, at
 * the tail otherwise), requests a DISPATCH_LEVEL software interrupt and returns TRUE.
 * The routine runs once, at DISPATCH_LEVEL, when IRQL drops below DISPATCH_LEVEL.
 */
BOOLEAN KeInsertQueueDpc(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    BOOLEAN inserted = Dpc->DpcData == NULL;
    if (inserted) {
        Dpc->DpcData = prcb;
        Dpc->SystemArgument1 = SystemArgument1;
        Dpc->SystemArgument2 = SystemArgument2;
        if (Dpc->Importance == HighImportance)
            InsertHeadList(&prcb->DpcListHead, &Dpc->DpcListEntry);
        else
            InsertTailList(&prcb->DpcListHead, &Dpc->DpcListEntry);
        prcb->DpcQueueDepth++;
    }
    __restoreflags(flags);
    if (inserted)
        KiRequestSoftwareInterrupt(DISPATCH_LEVEL);
    return inserted;
}

/*
 * KeRemoveQueueDpc - take Dpc off the queue if it is queued. Any IRQL.
 * Returns TRUE if it was queued (its routine will not run), FALSE otherwise.
 */
BOOLEAN KeRemoveQueueDpc(PKDPC Dpc)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    BOOLEAN removed = Dpc->DpcData != NULL;
    if (removed) {
        RemoveEntryList(&Dpc->DpcListEntry);
        Dpc->DpcData = NULL;
        prcb->DpcQueueDepth--;
    }
    __restoreflags(flags);
    return removed;
}

/*
 * KiRetireDpcList - run every queued DPC, in queue order, including DPCs queued by the
 * routines themselves. Called at DISPATCH_LEVEL with interrupts enabled; each DPC is
 * unlinked (DpcData cleared) before its routine runs, so it may queue itself again.
 */
VOID KiRetireDpcList(PKPRCB Prcb)
{
    for (;;) {
        _disable();
        if (IsListEmpty(&Prcb->DpcListHead)) {
            _enable();
            return;
        }
        PLIST_ENTRY e = Prcb->DpcListHead.Flink;
        RemoveEntryList(e);
        PKDPC dpc = CONTAINING_RECORD(e, KDPC, DpcListEntry);
        PKDEFERRED_ROUTINE routine = dpc->DeferredRoutine;
        PVOID context = dpc->DeferredContext, a1 = dpc->SystemArgument1, a2 = dpc->SystemArgument2;
        dpc->DpcData = NULL;
        Prcb->DpcQueueDepth--;
        Prcb->DpcCount++;
        _enable();
        routine(dpc, context, a1, a2);
    }
}
