/* irp.c - lab 07: I/O request packets. An IRP carries one request down a device stack:
 * each driver reads its own stack location, prepares the next one for the driver below
 * and passes the IRP on (IoCallDriver); the driver that finishes it calls
 * IoCompleteRequest, which walks back up the locations calling the completion routines
 * the drivers above set, until one says STATUS_MORE_PROCESSING_REQUIRED or the walk runs
 * off the top, where the I/O manager finishes the request (IopCompleteRequest). */
#include "bugcodes.h"
#include "io.h"

#define IRP_POOL_TAG POOL_TAG('I', 'r', 'p', ' ')

/*
 * IoInitializeIrp - make PacketSize bytes at Irp an IRP with StackSize locations.
 * Contract: any IRQL <= DISPATCH_LEVEL. PacketSize is sizeof(IRP) + StackSize *
 * sizeof(IO_STACK_LOCATION); the memory may hold anything before. Every byte of the
 * packet is zeroed (stack locations included), then Type = IO_TYPE_IRP, Size =
 * PacketSize, StackCount = StackSize, CurrentLocation = StackSize + 1 (no driver holds
 * it), Tail.Overlay.CurrentStackLocation = location StackSize + 1 (one past the top
 * location) and ThreadListEntry an empty list (pointing at itself).
 */
VOID IoInitializeIrp(PIRP Irp, USHORT PacketSize, CCHAR StackSize)
{
    PUCHAR p = (PUCHAR)Irp;
    for (USHORT i = 0; i < PacketSize; i++)
        p[i] = 0;
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = PacketSize;
    Irp->StackCount = StackSize;
    Irp->CurrentLocation = (CCHAR)(StackSize + 1);
    Irp->Tail.Overlay.CurrentStackLocation = IopIrpStackLocation(Irp, StackSize + 1);
    InitializeListHead(&Irp->ThreadListEntry);
}

/*
 * IoAllocateIrp - a new IRP with StackSize stack locations, from nonpaged pool.
 * Contract: IRQL <= DISPATCH_LEVEL. StackSize must be 1..127: otherwise NULL. Allocates
 * one block of sizeof(IRP) + StackSize * sizeof(IO_STACK_LOCATION) bytes with tag 'Irp '
 * and initializes it as IoInitializeIrp does; NULL (nothing allocated) when the pool is
 * out of memory. ChargeQuota is ignored.
 */
PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    UNREFERENCED_PARAMETER(ChargeQuota);
    if (StackSize < 1)
        return NULL;
    USHORT size = (USHORT)(sizeof(IRP) + (SIZE_T)StackSize * sizeof(IO_STACK_LOCATION));
    PIRP irp = ExAllocatePoolWithTag(NonPagedPool, size, IRP_POOL_TAG);
    if (irp == NULL)
        return NULL;
    IoInitializeIrp(irp, size, StackSize);
    return irp;
}

/*
 * IoFreeIrp - give back an IRP from IoAllocateIrp. IRQL <= DISPATCH_LEVEL.
 * Sets Type to 0 first (a freed IRP is no longer an IRP: completing it again is caught),
 * then frees the block with tag 'Irp '. It does not free SystemBuffer or MDLs.
 */
VOID IoFreeIrp(PIRP Irp)
{
    Irp->Type = 0;
    ExFreePoolWithTag(Irp, IRP_POOL_TAG);
}

/*
 * IoGetCurrentIrpStackLocation - the location of the driver that holds Irp now
 * (Tail.Overlay.CurrentStackLocation, location CurrentLocation). Any IRQL.
 */
PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation;
}

/*
 * IoGetNextIrpStackLocation - the location the driver below will get: the one just under
 * the current one (location CurrentLocation - 1). Any IRQL. For a fresh IRP it is the top
 * location, StackCount.
 */
PIO_STACK_LOCATION IoGetNextIrpStackLocation(PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation - 1;
}

/*
 * IoCopyCurrentIrpStackLocationToNext - give the driver below the same request: copies
 * the current location into the next one, every field up to (not including)
 * CompletionRoutine, and clears the next location's Control, CompletionRoutine and
 * Context (a completion routine belongs to the driver that set it, never copied).
 * Any IRQL.
 */
VOID IoCopyCurrentIrpStackLocationToNext(PIRP Irp)
{
    PIO_STACK_LOCATION cur = IoGetCurrentIrpStackLocation(Irp);
    PIO_STACK_LOCATION next = cur - 1;
    next->MajorFunction = cur->MajorFunction;
    next->MinorFunction = cur->MinorFunction;
    next->Flags = cur->Flags;
    next->Parameters = cur->Parameters;
    next->DeviceObject = cur->DeviceObject;
    next->FileObject = cur->FileObject;
    next->Control = 0;
    next->CompletionRoutine = NULL;
    next->Context = NULL;
}

/*
 * IoSkipCurrentIrpStackLocation - give the driver below this driver's own location: moves
 * one location up (CurrentLocation + 1 and CurrentStackLocation + 1), so that the next
 * IoCallDriver lands on the current location again. The caller sets no completion
 * routine. Any IRQL.
 */
VOID IoSkipCurrentIrpStackLocation(PIRP Irp)
{
    Irp->CurrentLocation++;
    Irp->Tail.Overlay.CurrentStackLocation++;
}

/*
 * IoSetNextIrpStackLocation - make the next location the current one (CurrentLocation - 1,
 * CurrentStackLocation - 1), as IoCallDriver does, for a driver that uses a location of
 * its own in an IRP it allocated. Any IRQL.
 */
VOID IoSetNextIrpStackLocation(PIRP Irp)
{
    Irp->CurrentLocation--;
    Irp->Tail.Overlay.CurrentStackLocation--;
}

/*
 * IoSetCompletionRoutine - have CompletionRoutine(device, Irp, Context) called when the
 * driver below completes Irp. Any IRQL.
 * Stores the routine and Context in the NEXT location and sets its Control to exactly
 * the SL_INVOKE_ON_SUCCESS / SL_INVOKE_ON_ERROR / SL_INVOKE_ON_CANCEL bits asked for
 * (any bit set before is cleared, SL_PENDING_RETURNED included).
 */
VOID IoSetCompletionRoutine(PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                            BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel)
{
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(Irp);
    next->CompletionRoutine = CompletionRoutine;
    next->Context = Context;
    next->Control = 0;
    if (InvokeOnSuccess)
        next->Control |= SL_INVOKE_ON_SUCCESS;
    if (InvokeOnError)
        next->Control |= SL_INVOKE_ON_ERROR;
    if (InvokeOnCancel)
        next->Control |= SL_INVOKE_ON_CANCEL;
}

/*
 * IoSetCompletionRoutineEx - IoSetCompletionRoutine for a driver that may unload: here the
 * same, returning STATUS_SUCCESS; STATUS_INVALID_PARAMETER (nothing set) if DeviceObject
 * is NULL. Any IRQL.
 */
NTSTATUS IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine,
                                  PVOID Context, BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError,
                                  BOOLEAN InvokeOnCancel)
{
    if (DeviceObject == NULL)
        return STATUS_INVALID_PARAMETER;
    IoSetCompletionRoutine(Irp, CompletionRoutine, Context, InvokeOnSuccess, InvokeOnError, InvokeOnCancel);
    return STATUS_SUCCESS;
}

/*
 * IoMarkIrpPending - the current driver will return STATUS_PENDING: sets
 * SL_PENDING_RETURNED in the CURRENT location's Control (other bits kept). Any IRQL.
 */
VOID IoMarkIrpPending(PIRP Irp)
{
    IoGetCurrentIrpStackLocation(Irp)->Control |= SL_PENDING_RETURNED;
}

/*
 * IoCallDriver - send Irp to DeviceObject's driver. IRQL <= DISPATCH_LEVEL.
 * Moves to the next location (CurrentLocation - 1, CurrentStackLocation - 1); if that
 * leaves CurrentLocation at 0 or below there is no location for this driver: bugcheck
 * NO_MORE_IRP_STACK_LOCATIONS (P1 = Irp, P2..P4 = 0). Otherwise sets the new current
 * location's DeviceObject to DeviceObject and returns what
 * DeviceObject->DriverObject->MajorFunction[its MajorFunction](DeviceObject, Irp) returns.
 */
NTSTATUS IoCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->CurrentLocation--;
    if (Irp->CurrentLocation <= 0)
        KeBugCheckEx(NO_MORE_IRP_STACK_LOCATIONS, (ULONG_PTR)Irp, 0, 0, 0);
    Irp->Tail.Overlay.CurrentStackLocation--;
    PIO_STACK_LOCATION sp = Irp->Tail.Overlay.CurrentStackLocation;
    sp->DeviceObject = DeviceObject;
    PDRIVER_OBJECT driver = DeviceObject->DriverObject;
    return driver->MajorFunction[sp->MajorFunction](DeviceObject, Irp);
}

/*
 * IoCompleteRequest - the driver holding Irp is done with it (IoStatus is set).
 * Contract: IRQL <= DISPATCH_LEVEL.
 * - If Irp->Type is not IO_TYPE_IRP, or CurrentLocation > StackCount (no driver holds it:
 *   it was completed already), bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS (P1 = Irp,
 *   P2 = CurrentLocation, P3 = P4 = 0). If a cancel routine is still set, bugcheck
 *   CANCEL_STATE_IN_COMPLETED_IRP (P1 = Irp, P2 = the routine).
 * - The walk: for each location from the current one upward: move up first
 *   (CurrentLocation + 1, CurrentStackLocation + 1); set PendingReturned from the passed
 *   location's SL_PENDING_RETURNED bit; if it has a completion routine whose Control asks
 *   for this outcome (SL_INVOKE_ON_SUCCESS when NT_SUCCESS(IoStatus.Status),
 *   SL_INVOKE_ON_ERROR otherwise, or SL_INVOKE_ON_CANCEL when Irp->Cancel), clear the
 *   location's Control, CompletionRoutine and Context and call the routine with the
 *   DeviceObject of the location now current (NULL once past the top) - if it returns
 *   STATUS_MORE_PROCESSING_REQUIRED, stop: the IRP belongs to that driver again, which
 *   completes it later (the walk then resumes one level up) or frees it. Otherwise
 *   (no routine, or not for this outcome): if PendingReturned and a location is current
 *   (CurrentLocation <= StackCount), mark it pending too (propagation), then clear the
 *   passed location's Control, CompletionRoutine and Context.
 * - Past the top (CurrentLocation == StackCount + 1): IopCompleteRequest(Irp) finishes it.
 * PriorityBoost is ignored.
 */
VOID IoCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    UNREFERENCED_PARAMETER(PriorityBoost);
    if (Irp->Type != IO_TYPE_IRP || Irp->CurrentLocation > Irp->StackCount)
        KeBugCheckEx(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, (ULONG_PTR)(LONG_PTR)Irp->CurrentLocation, 0, 0);
    if (Irp->CancelRoutine != NULL)
        KeBugCheckEx(CANCEL_STATE_IN_COMPLETED_IRP, (ULONG_PTR)Irp, (ULONG_PTR)Irp->CancelRoutine, 0, 0);
    while (Irp->CurrentLocation <= Irp->StackCount) {
        PIO_STACK_LOCATION sp = Irp->Tail.Overlay.CurrentStackLocation;
        Irp->CurrentLocation++;
        Irp->Tail.Overlay.CurrentStackLocation++;
        Irp->PendingReturned = (sp->Control & SL_PENDING_RETURNED) != 0;
        BOOLEAN invoke = sp->CompletionRoutine != NULL &&
                         ((NT_SUCCESS(Irp->IoStatus.Status) && (sp->Control & SL_INVOKE_ON_SUCCESS)) ||
                          (!NT_SUCCESS(Irp->IoStatus.Status) && (sp->Control & SL_INVOKE_ON_ERROR)) ||
                          (Irp->Cancel && (sp->Control & SL_INVOKE_ON_CANCEL)));
        PIO_COMPLETION_ROUTINE routine = sp->CompletionRoutine;
        PVOID context = sp->Context;
        if (!invoke && Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount)
            IoMarkIrpPending(Irp);
        sp->Control = 0;
        sp->CompletionRoutine = NULL;
        sp->Context = NULL;
        if (invoke) {
            PDEVICE_OBJECT device = Irp->CurrentLocation <= Irp->StackCount
                                        ? Irp->Tail.Overlay.CurrentStackLocation->DeviceObject
                                        : NULL;
            if (routine(device, Irp, context) == STATUS_MORE_PROCESSING_REQUIRED)
                return;
        }
    }
    IopCompleteRequest(Irp);
}
