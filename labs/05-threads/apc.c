/* apc.c - kernel APCs (lab 05): initialising an APC object, queueing it to a thread,
 * delivering a thread's kernel APCs when its IRQL drops below APC_LEVEL, and the critical
 * and guarded regions that hold delivery off. See handouts/05-threads.md. */
#include "keapc.h"

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
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Thread);
    UNREFERENCED_PARAMETER(Environment);
    UNREFERENCED_PARAMETER(KernelRoutine);
    UNREFERENCED_PARAMETER(RundownRoutine);
    UNREFERENCED_PARAMETER(NormalRoutine);
    UNREFERENCED_PARAMETER(ApcMode);
    UNREFERENCED_PARAMETER(NormalContext);
    KeNotImplemented("KeInitializeApc", "lab 05");
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
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    UNREFERENCED_PARAMETER(Increment);
    KeNotImplemented("KeInsertQueueApc", "lab 05");
    return FALSE;
}

/*
 * KeRemoveQueueApc - take a queued APC off its thread's queue without running it.
 * TRUE if it was queued (it is unlinked and Inserted is FALSE); FALSE if it was not.
 * When the thread's kernel queue becomes empty, its KernelApcPending is cleared.
 * IRQL: <= DISPATCH_LEVEL (changed at DISPATCH_LEVEL, as KeInsertQueueApc).
 */
BOOLEAN KeRemoveQueueApc(PKAPC Apc)
{
    /* LAB 05: your code here. */
    UNREFERENCED_PARAMETER(Apc);
    KeNotImplemented("KeRemoveQueueApc", "lab 05");
    return FALSE;
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
    /* LAB 05: your code here. Until then the pending request is dropped, so the boot goes on. */
    UNREFERENCED_PARAMETER(PreviousMode);
    KeGetCurrentThread()->ApcState.KernelApcPending = FALSE;
    KeNotImplemented("KiDeliverApc", "lab 05");
}

/*
 * KeEnterCriticalRegion - hold off the current thread's normal kernel APCs (not its
 * special ones) until the matching KeLeaveCriticalRegion. Regions nest: KernelApcDisable
 * counts down by one on each entry (it is 0 or negative).
 * IRQL: <= APC_LEVEL.
 */
VOID KeEnterCriticalRegion(VOID)
{
    /* LAB 05: your code here. */
    KeNotImplemented("KeEnterCriticalRegion", "lab 05");
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
    /* LAB 05: your code here. */
    KeNotImplemented("KeLeaveCriticalRegion", "lab 05");
}

/*
 * KeEnterGuardedRegion - hold off every kernel APC of the current thread, special and
 * normal, until the matching KeLeaveGuardedRegion. Regions nest: SpecialApcDisable counts
 * down by one on each entry.
 * IRQL: <= APC_LEVEL.
 */
VOID KeEnterGuardedRegion(VOID)
{
    /* LAB 05: your code here. */
    KeNotImplemented("KeEnterGuardedRegion", "lab 05");
}

/*
 * KeLeaveGuardedRegion - end one guarded region: SpecialApcDisable counts up by one; when
 * it reaches 0 and kernel APCs are queued, the APC interrupt is requested (the special ones
 * run; the normal ones too unless a critical region is still active).
 * IRQL: <= APC_LEVEL.
 */
VOID KeLeaveGuardedRegion(VOID)
{
    /* LAB 05: your code here. */
    KeNotImplemented("KeLeaveGuardedRegion", "lab 05");
}

/*
 * KeAreApcsDisabled - TRUE if the current thread is in a critical or a guarded region.
 * IRQL: any.
 */
BOOLEAN KeAreApcsDisabled(VOID)
{
    /* LAB 05: your code here. */
    KeNotImplemented("KeAreApcsDisabled", "lab 05");
    return FALSE;
}
