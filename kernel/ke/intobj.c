/* intobj.c - interrupt objects (KINTERRUPT), connected by vector in the KPRCB (by lab 04's
 * KeConnectInterrupt; the framework's clock by KiConnectFrameworkInterrupt), and the
 * interrupt entry: save the previous IRQL in the trap frame, raise CR8 to the vector's
 * IRQL (vector >> 4), EOI, run the service routine with interrupts enabled, restore the
 * IRQL and deliver the software interrupts that became deliverable. */
#include "bugcodes.h"
#include "hal.h"
#include "ki.h"
#include "rtl.h"

/* The framework's own interrupts (the clock): fills Interrupt and installs it on Vector
 * directly, so that the clock runs while lab 04's KeInitializeInterrupt and
 * KeConnectInterrupt (students' code, labs/04-irql-dpc/interrupt.c) are stubs. */
BOOLEAN KiConnectFrameworkInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                                    ULONG Vector)
{
    RtlZeroMemory(Interrupt, sizeof(*Interrupt));
    Interrupt->Type = InterruptObject;
    Interrupt->Size = sizeof(*Interrupt);
    Interrupt->ServiceRoutine = ServiceRoutine;
    Interrupt->ServiceContext = ServiceContext;
    Interrupt->Vector = Vector;
    Interrupt->Irql = (UCHAR)(Vector >> 4);
    ULONG64 flags = __readeflags();
    _disable();
    PKPRCB prcb = KeGetCurrentPrcb();
    BOOLEAN ok = Vector < MAXIMUM_VECTOR && prcb->InterruptObject[Vector] == NULL;
    if (ok) {
        prcb->InterruptObject[Vector] = Interrupt;
        Interrupt->Connected = TRUE;
    }
    __restoreflags(flags);
    return ok;
}

/* Entered from KiDispatchTrap with interrupts disabled (interrupt gate). */
VOID KiInterruptDispatch(PKTRAP_FRAME TrapFrame)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG vector = (ULONG)TrapFrame->Vector;
    KIRQL previous = (KIRQL)__readcr8();
    TrapFrame->PreviousIrql = previous;

    if (vector == SPURIOUS_VECTOR)
        return; /* no EOI for a spurious interrupt */
    if (vector == APC_VECTOR || vector == DISPATCH_VECTOR) {
        /* "int 0x1f/0x2f": a software interrupt requested by an instruction. */
        prcb->SoftwareInterruptPending |= 1U << (vector >> 4);
    } else {
        KIRQL irql = (KIRQL)(vector >> 4);
        prcb->InterruptCount++;
        if (irql <= previous) /* the APIC never does this: the TPR holds it back */
            KeBugCheckEx(TRAP_CAUSE_UNKNOWN, vector, previous, TrapFrame->Rip, 0);
        __writecr8(irql);
        HalEndOfInterrupt();
        PKINTERRUPT interrupt = prcb->InterruptObject[vector];
        PKTRAP_FRAME outer = prcb->InterruptTrapFrame;
        prcb->InterruptTrapFrame = TrapFrame;
        _enable();
        if (interrupt) {
            interrupt->Count++;
            interrupt->ServiceRoutine(interrupt, interrupt->ServiceContext);
        }
        _disable();
        prcb->InterruptTrapFrame = outer;
        __writecr8(previous);
    }
    if (previous < DISPATCH_LEVEL && (prcb->SoftwareInterruptPending >> previous) > 1) {
        KiDeliverSoftwareInterrupts(previous); /* may switch threads; returns disabled */
        _disable();
    }
}
