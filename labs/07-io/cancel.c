/* cancel.c - lab 07: cancelling an IRP. A driver that holds an IRP for a while (queued,
 * waiting for its device) sets a cancel routine; IoCancelIrp marks the IRP cancelled and,
 * if a cancel routine is set, takes it (so it runs at most once) and calls it, and the
 * routine completes the IRP with STATUS_CANCELLED. A driver that is about to complete the
 * IRP itself takes the routine back first (IoSetCancelRoutine(Irp, NULL)): whoever takes
 * the routine out of the IRP owns the completion, so the IRP completes exactly once. */
#include "io.h"

/*
 * IoSetCancelRoutine - atomically replace Irp->CancelRoutine with CancelRoutine and return
 * the routine it held (NULL when none, or when IoCancelIrp took it already). Any IRQL
 * <= DISPATCH_LEVEL. The exchange is one atomic operation (an xchg), so exactly one of a
 * driver's IoSetCancelRoutine(Irp, NULL) and IoCancelIrp gets a routine that is set.
 */
PDRIVER_CANCEL IoSetCancelRoutine(PIRP Irp, PDRIVER_CANCEL CancelRoutine)
{
    /* LAB 07: one atomic exchange. */
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(CancelRoutine);
    KeNotImplemented("IoSetCancelRoutine", "lab 07");
    return NULL;
}

/*
 * IoCancelIrp - ask for Irp to be cancelled. IRQL <= DISPATCH_LEVEL.
 * Takes the cancel spin lock (IoAcquireCancelSpinLock), sets Irp->Cancel = TRUE, and takes
 * the cancel routine out of the IRP (IoSetCancelRoutine(Irp, NULL)). With a routine: stores
 * the IRQL the lock was taken from in Irp->CancelIrql and calls the routine with the
 * current location's DeviceObject and Irp, still holding the lock (the routine releases it
 * with IoReleaseCancelSpinLock(Irp->CancelIrql)), and returns TRUE. Without one: releases
 * the lock and returns FALSE (the driver that holds the IRP sees Irp->Cancel later).
 */
BOOLEAN IoCancelIrp(PIRP Irp)
{
    /* LAB 07: under the cancel spin lock: mark it, take the routine, call it (it releases the lock). */
    UNREFERENCED_PARAMETER(Irp);
    KeNotImplemented("IoCancelIrp", "lab 07");
    return FALSE;
}
