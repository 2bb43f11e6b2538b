/* buffers.c - lab 07: building requests with their buffers, and finishing them. The I/O
 * manager gives a driver the caller's buffers in one of three ways: buffered (a copy in
 * nonpaged pool, Irp->AssociatedIrp.SystemBuffer, copied back to the caller when the
 * request is done), direct (an MDL describing the caller's own pages, Irp->MdlAddress),
 * or neither (the caller's addresses as they are). Device I/O control codes name their
 * method in their low two bits: METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT,
 * METHOD_NEITHER. When the completion walk runs off the top of the stack,
 * IopCompleteRequest copies back, frees, writes the IO_STATUS_BLOCK and signals. */
#include "io.h"

#define BUFFER_POOL_TAG POOL_TAG('I', 'o', 'B', 'f')

static VOID IopCopy(PVOID To, const VOID *From, SIZE_T Length)
{
    PUCHAR t = To;
    const UCHAR *f = From;
    for (SIZE_T i = 0; i < Length; i++)
        t[i] = f[i];
}

/* A system buffer of Length bytes (nonpaged, tag 'IoBf'): the first Copy bytes from
 * Source, the rest zero. */
static PVOID IopAllocateSystemBuffer(ULONG Length, const VOID *Source, ULONG Copy)
{
    PUCHAR b = ExAllocatePoolWithTag(NonPagedPool, Length, BUFFER_POOL_TAG);
    if (b == NULL)
        return NULL;
    IopCopy(b, Source, Copy);
    for (ULONG i = Copy; i < Length; i++)
        b[i] = 0;
    return b;
}

/* An MDL over Length bytes at Buffer (nonpaged), attached to Irp; FALSE if out of pool. */
static BOOLEAN IopAttachMdl(PIRP Irp, PVOID Buffer, ULONG Length)
{
    PMDL mdl = IoAllocateMdl(Buffer, Length, FALSE, FALSE, Irp);
    if (mdl == NULL)
        return FALSE;
    MmBuildMdlForNonPagedPool(mdl);
    return TRUE;
}

/* Frees what a builder attached before it failed, and the IRP. */
static VOID IopUndoBuild(PIRP Irp)
{
    if (Irp->Flags & IRP_DEALLOCATE_BUFFER)
        ExFreePoolWithTag(Irp->AssociatedIrp.SystemBuffer, BUFFER_POOL_TAG);
    if (Irp->MdlAddress != NULL)
        IoFreeMdl(Irp->MdlAddress);
    IoFreeIrp(Irp);
}

/*
 * IoBuildDeviceIoControlRequest - an IRP asking DeviceObject's stack for IoControlCode.
 * Contract: IRQL == PASSIVE_LEVEL. Allocates an IRP of DeviceObject->StackSize locations;
 * its next (top) location gets MajorFunction IRP_MJ_INTERNAL_DEVICE_CONTROL if
 * InternalDeviceIoControl else IRP_MJ_DEVICE_CONTROL, and Parameters.DeviceIoControl
 * OutputBufferLength, InputBufferLength, IoControlCode. By METHOD_FROM_CTL_CODE:
 * - METHOD_BUFFERED: when max(InputBufferLength, OutputBufferLength) > 0, a system buffer
 *   of that size (nonpaged pool, tag 'IoBf') holding the input, zero after it, in
 *   AssociatedIrp.SystemBuffer; Flags IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER, plus
 *   IRP_INPUT_OPERATION when OutputBufferLength > 0; UserBuffer = OutputBuffer.
 *   Otherwise SystemBuffer NULL, Flags 0.
 * - METHOD_IN_DIRECT / METHOD_OUT_DIRECT: the input (if InputBufferLength > 0) in a system
 *   buffer of exactly InputBufferLength bytes as above, Flags IRP_BUFFERED_IO |
 *   IRP_DEALLOCATE_BUFFER (never IRP_INPUT_OPERATION); the output buffer (if
 *   OutputBufferLength > 0) described by an MDL in MdlAddress (IoAllocateMdl over
 *   OutputBuffer, OutputBufferLength; MmBuildMdlForNonPagedPool).
 * - METHOD_NEITHER: no copy, no MDL: Parameters.DeviceIoControl.Type3InputBuffer =
 *   InputBuffer, UserBuffer = OutputBuffer.
 * In every method UserIosb = IoStatusBlock, UserEvent = Event, RequestorMode = KernelMode,
 * Tail.Overlay.Thread = the current thread. Returns NULL, with nothing left allocated,
 * when the IRP, the buffer or the MDL cannot be allocated.
 */
PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, struct _KEVENT *Event,
                                   PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = IoAllocateIrp(DeviceObject->StackSize, FALSE);
    if (irp == NULL)
        return NULL;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    sp->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    sp->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    sp->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    switch (METHOD_FROM_CTL_CODE(IoControlCode)) {
    case METHOD_BUFFERED: {
        ULONG length = InputBufferLength > OutputBufferLength ? InputBufferLength : OutputBufferLength;
        if (length > 0) {
            irp->AssociatedIrp.SystemBuffer = IopAllocateSystemBuffer(length, InputBuffer, InputBufferLength);
            if (irp->AssociatedIrp.SystemBuffer == NULL) {
                IoFreeIrp(irp);
                return NULL;
            }
            irp->Flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            if (OutputBufferLength > 0)
                irp->Flags |= IRP_INPUT_OPERATION;
        }
        irp->UserBuffer = OutputBuffer;
        break;
    }
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT:
        if (InputBufferLength > 0) {
            irp->AssociatedIrp.SystemBuffer = IopAllocateSystemBuffer(InputBufferLength, InputBuffer,
                                                                      InputBufferLength);
            if (irp->AssociatedIrp.SystemBuffer == NULL) {
                IoFreeIrp(irp);
                return NULL;
            }
            irp->Flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        }
        if (OutputBufferLength > 0 && !IopAttachMdl(irp, OutputBuffer, OutputBufferLength)) {
            IopUndoBuild(irp);
            return NULL;
        }
        break;
    default:
        sp->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
        irp->UserBuffer = OutputBuffer;
        break;
    }
    irp->UserIosb = IoStatusBlock;
    irp->UserEvent = Event;
    irp->RequestorMode = KernelMode;
    irp->Tail.Overlay.Thread = KeGetCurrentThread();
    return irp;
}

/*
 * IoBuildSynchronousFsdRequest - an IRP_MJ_READ or IRP_MJ_WRITE of Length bytes at
 * StartingOffset for DeviceObject's stack. Contract: IRQL == PASSIVE_LEVEL; any other
 * MajorFunction gives NULL. Allocates an IRP of DeviceObject->StackSize locations; the
 * next location gets MajorFunction and Parameters.Read (Write: the same fields) Length and
 * ByteOffset. Buffers by DeviceObject->Flags: DO_BUFFERED_IO - a system buffer of Length
 * bytes (a write: holding the data; a read: zeroed, Flags also IRP_INPUT_OPERATION, to be
 * copied back), Flags IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER, UserBuffer = Buffer;
 * DO_DIRECT_IO - an MDL over Buffer, Length in MdlAddress; neither - UserBuffer = Buffer.
 * UserIosb, UserEvent, RequestorMode and Tail.Overlay.Thread as in
 * IoBuildDeviceIoControlRequest. NULL, nothing left allocated, when out of pool.
 */
PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  LONGLONG StartingOffset, struct _KEVENT *Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    if (MajorFunction != IRP_MJ_READ && MajorFunction != IRP_MJ_WRITE)
        return NULL;
    PIRP irp = IoAllocateIrp(DeviceObject->StackSize, FALSE);
    if (irp == NULL)
        return NULL;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = (UCHAR)MajorFunction;
    sp->Parameters.Read.Length = Length;
    sp->Parameters.Read.ByteOffset = StartingOffset;
    if (DeviceObject->Flags & DO_BUFFERED_IO) {
        BOOLEAN write = MajorFunction == IRP_MJ_WRITE;
        irp->AssociatedIrp.SystemBuffer = IopAllocateSystemBuffer(Length ? Length : 1, Buffer, write ? Length : 0);
        if (irp->AssociatedIrp.SystemBuffer == NULL) {
            IoFreeIrp(irp);
            return NULL;
        }
        irp->Flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (write ? 0 : IRP_INPUT_OPERATION);
        irp->UserBuffer = Buffer;
    } else if (DeviceObject->Flags & DO_DIRECT_IO) {
        if (Length > 0 && !IopAttachMdl(irp, Buffer, Length)) {
            IoFreeIrp(irp);
            return NULL;
        }
    } else {
        irp->UserBuffer = Buffer;
    }
    irp->UserIosb = IoStatusBlock;
    irp->UserEvent = Event;
    irp->RequestorMode = KernelMode;
    irp->Tail.Overlay.Thread = KeGetCurrentThread();
    return irp;
}

/*
 * IopCompleteRequest - the I/O manager's end of a request, once the completion walk has
 * run off the top of the stack. Contract: IRQL <= DISPATCH_LEVEL.
 * In this order: with IRP_BUFFERED_IO and IRP_INPUT_OPERATION and a status that is not an
 * error (NT_ERROR: the top two bits 11), copies IoStatus.Information bytes (the driver
 * keeps Information <= the output length) from SystemBuffer to UserBuffer - not a byte
 * more; with IRP_DEALLOCATE_BUFFER frees
 * SystemBuffer (tag 'IoBf'); frees every MDL of the MdlAddress chain (IoFreeMdl, following
 * Next); writes IoStatus to *UserIosb when UserIosb is set; signals UserEvent when set
 * (IopSignalUserEvent); when Tail.Overlay.OriginalFileObject is set, stores the status in
 * its FinalStatus, signals its Event (KeSetEvent) and drops the reference the request held
 * on it (ObDereferenceObject); and frees the IRP (IoFreeIrp).
 */
VOID IopCompleteRequest(PIRP Irp)
{
    BOOLEAN error = ((ULONG)Irp->IoStatus.Status >> 30) == 3;
    if ((Irp->Flags & IRP_BUFFERED_IO) && (Irp->Flags & IRP_INPUT_OPERATION) && !error &&
        Irp->UserBuffer != NULL && Irp->IoStatus.Information > 0)
        IopCopy(Irp->UserBuffer, Irp->AssociatedIrp.SystemBuffer, Irp->IoStatus.Information);
    if (Irp->Flags & IRP_DEALLOCATE_BUFFER) {
        ExFreePoolWithTag(Irp->AssociatedIrp.SystemBuffer, BUFFER_POOL_TAG);
        Irp->AssociatedIrp.SystemBuffer = NULL;
    }
    PMDL mdl = Irp->MdlAddress;
    while (mdl != NULL) {
        PMDL next = mdl->Next;
        IoFreeMdl(mdl);
        mdl = next;
    }
    Irp->MdlAddress = NULL;
    if (Irp->UserIosb != NULL)
        *Irp->UserIosb = Irp->IoStatus;
    if (Irp->UserEvent != NULL)
        IopSignalUserEvent(Irp->UserEvent);
    PFILE_OBJECT file = Irp->Tail.Overlay.OriginalFileObject;
    if (file != NULL) {
        file->FinalStatus = Irp->IoStatus.Status;
        KeSetEvent(&file->Event, IO_NO_INCREMENT, FALSE);
        ObDereferenceObject(file);
    }
    IoFreeIrp(Irp);
}
