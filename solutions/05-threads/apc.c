/* apc.c - kernel APCs (lab 05): initialising an APC object, queueing it to a thread,
 * delivering a thread's kernel APCs when its IRQL drops below APC_LEVEL, and the critical
 * and guarded regions that hold delivery off. Reference solution. */
#include "keapc.h"

/* The thread's kernel APC queue. */
static PLIST_ENTRY KiKernelApcQueue(PKTHREAD Thread)
{
    return &Thread->ApcState.ApcListHead[KernelMode];
}

/*
 * KeInitializeApc - make Apc an APC for Thread, not queued.
 * Sets every field: Type ApcObject, Size sizeof(KAPC), Thread, the three routines,
 * ApcStateIndex Environment (CurrentApcEnvironment is stored as OriginalApcEnvironment),
 * Inserted FALSE, both system arguments NULL. A special kernel APC (NormalRoutine NULL)
 * gets ApcMode KernelMode and NormalContext NULL whatever the caller passed; a normal one
 * keeps ApcMode and NormalContext. The list links are not touched (they mean nothing
 * until the APC is queued).
 * IRQL: any (it touches only Apc).
 */
VOID KeInitializeApc(PKAPC Apc, PKTHREAD Thread, KAPC_ENVIRONMENT Environment, PKKERNEL_ROUTINE KernelRoutine,
                     PKRUNDOWN_ROUTINE RundownRoutine, PKNORMAL_ROUTINE NormalRoutine, KPROCESSOR_MODE ApcMode,
                     PVOID NormalContext)
{
    Apc->Type = ApcObject;
    Apc->SpareByte0 = 0;
    Apc->Size = sizeof(KAPC);
    Apc->SpareByte1 = 0;
    Apc->Thread = Thread;
    Apc->ApcStateIndex = (CHAR)(Environment == CurrentApcEnvironment ? OriginalApcEnvironment : Environment);
    Apc->KernelRoutine = KernelRoutine;
    Apc->RundownRoutine = RundownRoutine;
    Apc->NormalRoutine = NormalRoutine;
    if (NormalRoutine) {
        Apc->ApcMode = ApcMode;
        Apc->NormalContext = NormalContext;
    } else {
        Apc->ApcMode = KernelMode;
        Apc->NormalContext = NULL;
    }
    Apc->SystemArgument1 = NULL;
    Apc->SystemArgument2 = NULL;
    Apc->Inserted = FALSE;
}

/* Asks for the APC_LEVEL software interrupt when Thread is the running thread; another
 * thread gets it when it next runs (the framework requests it on the switch to a thread
 * whose KernelApcPending is set). */
static VOID KiSignalApc(PKTHREAD Thread)
{
    Thread->ApcState.KernelApcPending = TRUE;
    if (Thread == KeGetCurrentThread())
        KiRequestSoftwareInterrupt(APC_LEVEL);
}

/*
 * KeInsertQueueApc - queue Apc (initialised by KeInitializeApc) to its thread.
 * Returns FALSE, changing nothing, if Apc is already queued (Inserted). Otherwise stores
 * SystemArgument1/2, sets Inserted, and links the APC into Apc->Thread's kernel APC queue:
 * a special APC (NormalRoutine NULL) after the special APCs already queued and ahead of
 * every normal one, a normal APC at the tail. It sets the thread's
 * ApcState.KernelApcPending, and when the thread is the caller, requests the APC_LEVEL
 * software interrupt, so that the APC runs as soon as the IRQL is below APC_LEVEL (at once
 * when the caller is at PASSIVE_LEVEL, unless a region holds it off). When the thread is
 * another one, Waiting in a wait called at PASSIVE_LEVEL (WaitIrql), and the APC can be
 * delivered to it (a special APC, or a normal one with no critical region active and no
 * normal APC in progress on it), its wait is interrupted so that the APC runs:
 * KiUnwaitThread(thread, STATUS_KERNEL_APC, Increment) - the wait runs the APC and waits
 * again, its caller never sees STATUS_KERNEL_APC. Increment is that wake's priority boost.
 * IRQL: <= DISPATCH_LEVEL; the queue is changed at DISPATCH_LEVEL (raise, then restore),
 * so neither the clock nor a DPC sees it half linked.
 */
BOOLEAN KeInsertQueueApc(PKAPC Apc, PVOID SystemArgument1, PVOID SystemArgument2, KPRIORITY Increment)
{
    UNREFERENCED_PARAMETER(Increment);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    if (Apc->Inserted) {
        KeLowerIrql(old);
        return FALSE;
    }
    PKTHREAD thread = Apc->Thread;
    PLIST_ENTRY head = KiKernelApcQueue(thread);
    Apc->SystemArgument1 = SystemArgument1;
    Apc->SystemArgument2 = SystemArgument2;
    Apc->Inserted = TRUE;
    if (Apc->NormalRoutine) {
        InsertTailList(head, &Apc->ApcListEntry);
    } else {
        /* After the last special APC: walk past the special ones from the head. */
        PLIST_ENTRY e = head->Flink;
        while (e != head && CONTAINING_RECORD(e, KAPC, ApcListEntry)->NormalRoutine == NULL)
            e = e->Flink;
        InsertTailList(e, &Apc->ApcListEntry); /* just before e */
    }
    KiSignalApc(thread);
    if (thread != KeGetCurrentThread() && thread->State == Waiting && thread->WaitIrql == PASSIVE_LEVEL &&
        (!Apc->NormalRoutine || (thread->KernelApcDisable == 0 && !thread->ApcState.KernelApcInProgress)))
        KiUnwaitThread(thread, STATUS_KERNEL_APC, Increment);
    KeLowerIrql(old);
    return TRUE;
}

/*
 * KeRemoveQueueApc - take a queued APC off its thread's queue without running it.
 * TRUE if it was queued (it is unlinked and Inserted is FALSE); FALSE if it was not.
 * When the thread's kernel queue becomes empty, its KernelApcPending is cleared.
 * IRQL: <= DISPATCH_LEVEL (changed at DISPATCH_LEVEL, as KeInsertQueueApc).
 */
BOOLEAN KeRemoveQueueApc(PKAPC Apc)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    BOOLEAN was = Apc->Inserted;
    if (was) {
        RemoveEntryList(&Apc->ApcListEntry);
        Apc->Inserted = FALSE;
        if (IsListEmpty(KiKernelApcQueue(Apc->Thread)))
            Apc->Thread->ApcState.KernelApcPending = FALSE;
    }
    KeLowerIrql(old);
    return was;
}

/*
 * KiDeliverApc - the APC_LEVEL software interrupt: run the current thread's deliverable
 * kernel APCs, from the head of its queue.
 * Clears KernelApcPending first. Nothing is delivered in a guarded region
 * (SpecialApcDisable != 0). Each APC is unlinked (Inserted FALSE) before its routines run;
 * its KernelRoutine runs at APC_LEVEL with pointers to copies of NormalRoutine,
 * NormalContext and the arguments, which it may change (a NULL NormalRoutine means no
 * normal part). A special APC is always delivered. A normal APC stops the delivery (it and
 * every APC behind it stay queued) while a critical region is active (KernelApcDisable != 0)
 * or a normal APC is already in progress (KernelApcInProgress); otherwise after its
 * KernelRoutine, its NormalRoutine (if still non-NULL) runs at PASSIVE_LEVEL with
 * KernelApcInProgress TRUE, and the IRQL is back at APC_LEVEL afterwards. The APC object
 * is not touched after its KernelRoutine is called (the routine may free it).
 * IRQL: called at APC_LEVEL, returns at APC_LEVEL.
 */
VOID KiDeliverApc(KPROCESSOR_MODE PreviousMode)
{
    UNREFERENCED_PARAMETER(PreviousMode);
    PKTHREAD thread = KeGetCurrentThread();
    PLIST_ENTRY head = KiKernelApcQueue(thread);
    thread->ApcState.KernelApcPending = FALSE;
    for (;;) {
        if (thread->SpecialApcDisable)
            return;
        KIRQL old = KeRaiseIrqlToDpcLevel();
        if (IsListEmpty(head)) {
            KeLowerIrql(old);
            return;
        }
        PKAPC apc = CONTAINING_RECORD(head->Flink, KAPC, ApcListEntry);
        PKKERNEL_ROUTINE kernelRoutine = apc->KernelRoutine;
        PKNORMAL_ROUTINE normalRoutine = apc->NormalRoutine;
        PVOID normalContext = apc->NormalContext;
        PVOID argument1 = apc->SystemArgument1, argument2 = apc->SystemArgument2;
        if (normalRoutine && (thread->KernelApcDisable || thread->ApcState.KernelApcInProgress)) {
            KeLowerIrql(old);
            return;
        }
        RemoveEntryList(&apc->ApcListEntry);
        apc->Inserted = FALSE;
        KeLowerIrql(old);
        kernelRoutine(apc, &normalRoutine, &normalContext, &argument1, &argument2);
        if (normalRoutine) {
            thread->ApcState.KernelApcInProgress = TRUE;
            KeLowerIrql(PASSIVE_LEVEL);
            normalRoutine(normalContext, argument1, argument2);
            KIRQL passive;
            KeRaiseIrql(APC_LEVEL, &passive);
            thread->ApcState.KernelApcInProgress = FALSE;
        }
    }
}

/* A region ended: when nothing holds delivery off any more and kernel APCs are queued,
 * ask for the APC interrupt (delivered once the IRQL is below APC_LEVEL). */
static VOID KiCheckForKernelApcDelivery(PKTHREAD Thread)
{
    if (Thread->SpecialApcDisable == 0 && !IsListEmpty(KiKernelApcQueue(Thread)))
        KiSignalApc(Thread);
}

/*
 * KeEnterCriticalRegion - hold off the current thread's normal kernel APCs (not its
 * special ones) until the matching KeLeaveCriticalRegion. Regions nest: KernelApcDisable
 * counts down by one on each entry (it is 0 or negative).
 * IRQL: <= APC_LEVEL.
 */
VOID KeEnterCriticalRegion(VOID)
{
    KeGetCurrentThread()->KernelApcDisable--;
}

/*
 * KeLeaveCriticalRegion - end one critical region: KernelApcDisable counts up by one; when
 * it reaches 0 and kernel APCs are queued (and no guarded region is active), the APC
 * interrupt is requested, so that the held-off APCs run before this returns when the
 * caller is at PASSIVE_LEVEL.
 * IRQL: <= APC_LEVEL.
 */
VOID KeLeaveCriticalRegion(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    if (++thread->KernelApcDisable == 0)
        KiCheckForKernelApcDelivery(thread);
}

/*
 * KeEnterGuardedRegion - hold off every kernel APC of the current thread, special and
 * normal, until the matching KeLeaveGuardedRegion. Regions nest: SpecialApcDisable counts
 * down by one on each entry.
 * IRQL: <= APC_LEVEL.
 */
VOID KeEnterGuardedRegion(VOID)
{
    KeGetCurrentThread()->SpecialApcDisable--;
}

/*
 * KeLeaveGuardedRegion - end one guarded region: SpecialApcDisable counts up by one; when
 * it reaches 0 and kernel APCs are queued, the APC interrupt is requested (the special ones
 * run; the normal ones too unless a critical region is still active).
 * IRQL: <= APC_LEVEL.
 */
VOID KeLeaveGuardedRegion(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    if (++thread->SpecialApcDisable == 0)
        KiCheckForKernelApcDelivery(thread);
}

/*
 * KeAreApcsDisabled - TRUE if the current thread is in a critical or a guarded region.
 * IRQL: any.
 */
BOOLEAN KeAreApcsDisabled(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    return thread->KernelApcDisable != 0 || thread->SpecialApcDisable != 0;
}
