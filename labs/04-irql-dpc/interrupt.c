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
    /* LAB 04: fill in every field: an object that is not connected. */
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(ServiceRoutine);
    UNREFERENCED_PARAMETER(ServiceContext);
    UNREFERENCED_PARAMETER(Vector);
    UNREFERENCED_PARAMETER(Irql);
    KeNotImplemented("KeInitializeInterrupt", "lab 04");
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
    /* LAB 04: check the vector and IRQL, then install it if the vector is free. */
    UNREFERENCED_PARAMETER(Interrupt);
    KeNotImplemented("KeConnectInterrupt", "lab 04");
    return FALSE;
}

/*
 * KeDisconnectInterrupt - remove Interrupt from its vector. IRQL <= DISPATCH_LEVEL.
 * Returns FALSE (nothing changes) if it is not connected; otherwise, with interrupts
 * disabled, KPRCB.InterruptObject[Vector] = NULL and Connected = FALSE: from then on the
 * vector's interrupts run no routine. Returns TRUE.
 */
BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt)
{
    /* LAB 04: remove it if it is connected. */
    UNREFERENCED_PARAMETER(Interrupt);
    KeNotImplemented("KeDisconnectInterrupt", "lab 04");
    return FALSE;
}
