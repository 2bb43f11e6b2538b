/* interrupt.c - lab 04: interrupt objects. A KINTERRUPT ties a service routine to a
 * vector; connected, it sits in KPRCB.InterruptObject[vector] and the framework's
 * interrupt entry (KiInterruptDispatch) calls it at the vector's IRQL (vector >> 4).
 * The service routine does the minimum and queues a DPC for the rest. */
#include "kedpc.h"

/*
 * KeInitializeInterrupt - prepare Interrupt for ServiceRoutine(Interrupt, ServiceContext)
 * on Vector at Irql. Any IRQL. Type = InterruptObject, Size = sizeof(KINTERRUPT), the
 * routine, context, vector and IRQL stored, Connected FALSE, Count 0. The memory may
 * hold anything before.
 */
VOID KeInitializeInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                           ULONG Vector, UCHAR Irql)
{
    Interrupt->Type = InterruptObject;
    Interrupt->Size = sizeof(*Interrupt);
    Interrupt->ServiceRoutine = ServiceRoutine;
    Interrupt->ServiceContext = ServiceContext;
    Interrupt->Vector = Vector;
    Interrupt->Irql = Irql;
    Interrupt->Connected = FALSE;
    Interrupt->Count = 0;
}

/*
 * KeConnectInterrupt - install Interrupt on its vector. IRQL <= DISPATCH_LEVEL; the
 * vector table is updated with interrupts disabled (restored after).
 * Returns FALSE and changes nothing when: the vector is not a device vector
 * (0x30 <= Vector < SPURIOUS_VECTOR: below are exceptions and the APC/DISPATCH software
 * interrupts), Irql != Vector >> 4, the object is already connected, or another object
 * holds the vector (the clock holds CLOCK_VECTOR). Otherwise
 * KPRCB.InterruptObject[Vector] = Interrupt, Connected = TRUE, returns TRUE.
 */
BOOLEAN KeConnectInterrupt(PKINTERRUPT Interrupt)
{
    ULONG vector = Interrupt->Vector;
    if (vector < 0x30 || vector >= SPURIOUS_VECTOR || Interrupt->Irql != (vector >> 4) || Interrupt->Connected)
        return FALSE;
    ULONG64 flags = __readeflags();
    _disable();
    PKPRCB prcb = KeGetCurrentPrcb();
    BOOLEAN connected = prcb->InterruptObject[vector] == NULL;
    if (connected) {
        prcb->InterruptObject[vector] = Interrupt;
        Interrupt->Connected = TRUE;
    }
    __restoreflags(flags);
    return connected;
}

/*
 * KeDisconnectInterrupt - remove Interrupt from its vector. IRQL <= DISPATCH_LEVEL.
 * Returns FALSE (nothing changes) if it is not connected; otherwise, with interrupts
 * disabled, KPRCB.InterruptObject[Vector] = NULL and Connected = FALSE: from then on the
 * vector's interrupts run no routine. Returns TRUE.
 */
BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt)
{
    ULONG64 flags = __readeflags();
    _disable();
    PKPRCB prcb = KeGetCurrentPrcb();
    BOOLEAN connected = Interrupt->Connected && Interrupt->Vector < MAXIMUM_VECTOR &&
                        prcb->InterruptObject[Interrupt->Vector] == Interrupt;
    if (connected) {
        prcb->InterruptObject[Interrupt->Vector] = NULL;
        Interrupt->Connected = FALSE;
    }
    __restoreflags(flags);
    return connected;
}
