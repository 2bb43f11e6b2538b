/* swint.c - APC and DISPATCH software interrupts: requested by bits in the KPRCB and
 * delivered when IRQL drops below their level (KeLowerIrql, interrupt exit), the highest
 * first, each at its own IRQL with interrupts enabled. Deterministic: no self-IPI.
 *
 * The DISPATCH_LEVEL interrupt (KiDispatchInterrupt) drains the DPC queue (timers expire
 * through the clock's expiration DPC), handles quantum end (lab 04 and 05 hooks), then
 * switches to the thread chosen to run next. */
#include "bugcodes.h"
#include "ki.h"

VOID KiRequestSoftwareInterrupt(KIRQL Irql)
{
    if (Irql != APC_LEVEL && Irql != DISPATCH_LEVEL)
        KeBugCheckEx(INVALID_SOFTWARE_INTERRUPT, Irql, 0, 0, 0);
    ULONG64 flags = __readeflags();
    _disable();
    KeGetCurrentPrcb()->SoftwareInterruptPending |= 1U << Irql;
    if (flags & EFLAGS_IF)
        _enable();
    /* Requested from below its level: deliver now, as a self-interrupt would. */
    if (KeGetCurrentIrql() < Irql)
        KiDeliverSoftwareInterrupts(KeGetCurrentIrql());
}

VOID KiDeliverSoftwareInterrupts(KIRQL NewIrql)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    for (;;) {
        _disable();
        ULONG pending = prcb->SoftwareInterruptPending;
        if ((pending & SWINT_DISPATCH) && NewIrql < DISPATCH_LEVEL) {
            prcb->SoftwareInterruptPending = pending & ~SWINT_DISPATCH;
            __writecr8(DISPATCH_LEVEL);
            _enable();
            KiDispatchInterrupt();
        } else if ((pending & SWINT_APC) && NewIrql < APC_LEVEL) {
            prcb->SoftwareInterruptPending = pending & ~SWINT_APC;
            __writecr8(APC_LEVEL);
            _enable();
            KiDeliverApc(KernelMode);
        } else {
            break;
        }
        _disable();
        __writecr8(NewIrql);
    }
    if (flags & EFLAGS_IF)
        _enable();
}

VOID KiDispatchInterrupt(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    if (prcb->DpcQueueDepth || !IsListEmpty(&prcb->DpcListHead))
        KiRetireDpcList(prcb);
    if (prcb->QuantumEnd) {
        prcb->QuantumEnd = FALSE;
        KiQuantumEnd();
    }
    PKTHREAD current = prcb->CurrentThread;
    if (!prcb->NextThread && current == prcb->IdleThread)
        prcb->NextThread = KiSelectNextThread(prcb);
    if (prcb->NextThread) {
        PKTHREAD next = prcb->NextThread;
        prcb->NextThread = NULL;
        if (next != current) {
            /* The current thread was made Ready by whoever chose next (KiQuantumEnd), or
             * it is still Running: preempted by a higher priority (KiReadyThread). */
            if (current->State == Running && current != prcb->IdleThread) {
                current->Preempted = TRUE; /* it keeps its turn: the head of its queue */
                KiReadyThread(current);
            }
            KiSwitchTo(next);
        } else {
            current->State = Running;
        }
    }
}
