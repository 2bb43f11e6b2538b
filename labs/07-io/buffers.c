/* buffers.c - lab 07: building requests with their buffers, and finishing them. The I/O
 * manager gives a driver the caller's buffers in one of three ways: buffered (a copy in
 * nonpaged pool, Irp->AssociatedIrp.SystemBuffer, copied back to the caller when the
 * request is done), direct (an MDL describing the caller's own pages, Irp->MdlAddress),
 * or neither (the caller's addresses as they are). Device I/O control codes name their
 * method in their low two bits: METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT,
 * METHOD_NEITHER. When the completion walk runs off the top of the stack,
 * IopCompleteRequest copies back, frees, writes the IO_STATUS_BLOCK and signals. */
#include "io.h"

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
    /* LAB 07: an IRP for the stack; the buffers by the code's method. */
    UNREFERENCED_PARAMETER(IoControlCode);
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(InputBuffer);
    UNREFERENCED_PARAMETER(InputBufferLength);
    UNREFERENCED_PARAMETER(OutputBuffer);
    UNREFERENCED_PARAMETER(OutputBufferLength);
    UNREFERENCED_PARAMETER(InternalDeviceIoControl);
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    KeNotImplemented("IoBuildDeviceIoControlRequest", "lab 07");
    return NULL;
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
    /* LAB 07: an IRP for the stack; the buffer by the device's DO_BUFFERED_IO / DO_DIRECT_IO. */
    UNREFERENCED_PARAMETER(MajorFunction);
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    UNREFERENCED_PARAMETER(StartingOffset);
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    KeNotImplemented("IoBuildSynchronousFsdRequest", "lab 07");
    return NULL;
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
    /* LAB 07: copy back, free the buffer and the MDLs, write the IO_STATUS_BLOCK, signal, free the IRP. */
    UNREFERENCED_PARAMETER(Irp);
    KeNotImplemented("IopCompleteRequest", "lab 07");
}
