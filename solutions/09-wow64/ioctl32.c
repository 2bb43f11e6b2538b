/* ioctl32.c - lab 09: a driver's 32-bit ioctl layout. The wow64 layer passes an ioctl's
 * buffers through untouched (it cannot know a driver's structures), so a 32-bit program's
 * WOWSAMPLE_REQUEST arrives at \Device\WowSample in the 32-bit layout: 4-byte handles and
 * pointers. The driver asks IoIs32bitProcess(Irp) and converts: in on the way in, out on
 * the way out. METHOD_BUFFERED: the input is in Irp->AssociatedIrp.SystemBuffer
 * (InputBufferLength bytes), the reply goes to the same buffer (OutputBufferLength bytes)
 * and Irp->IoStatus.Information says how many bytes go back to the caller.
 * IRQL: PASSIVE_LEVEL, in the requestor's context (the device's dispatch routine). */
#include "wow64t.h"

/*
 * WowSampleCaptureRequest - the request of Irp in the native layout.
 * Contract: when IoIs32bitProcess(Irp), the input is a WOWSAMPLE_REQUEST32: it needs
 * InputBufferLength >= sizeof(WOWSAMPLE_REQUEST32) (20); Event is sign-extended, Buffer
 * and Cookie zero-extended, Length and Flags copied. Otherwise the input is a native
 * WOWSAMPLE_REQUEST and needs InputBufferLength >= sizeof(WOWSAMPLE_REQUEST) (32); it is
 * copied as it is. A shorter input (or no SystemBuffer): STATUS_BUFFER_TOO_SMALL and
 * *Request untouched. Success: every field of *Request set, STATUS_SUCCESS. The input
 * buffer is not modified.
 */
NTSTATUS WowSampleCaptureRequest(PIRP Irp, PWOWSAMPLE_REQUEST Request)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = sp->Parameters.DeviceIoControl.InputBufferLength;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;
    if (IoIs32bitProcess(Irp)) {
        if (buffer == NULL || length < sizeof(WOWSAMPLE_REQUEST32))
            return STATUS_BUFFER_TOO_SMALL;
        PWOWSAMPLE_REQUEST32 request32 = buffer;
        Request->Event = Wow64Handle(request32->Event);
        Request->Buffer = Wow64Ptr(request32->Buffer);
        Request->Length = request32->Length;
        Request->Flags = request32->Flags;
        Request->Cookie = request32->Cookie;
        return STATUS_SUCCESS;
    }
    if (buffer == NULL || length < sizeof(WOWSAMPLE_REQUEST))
        return STATUS_BUFFER_TOO_SMALL;
    *Request = *(PWOWSAMPLE_REQUEST)buffer;
    return STATUS_SUCCESS;
}

/*
 * WowSampleWriteReply - Reply into Irp's system buffer, in the caller's layout.
 * Contract: when IoIs32bitProcess(Irp), a WOWSAMPLE_REPLY32 (16 bytes: Cookie and Buffer
 * truncated to their low 32 bits, Length and Is32Bit copied); otherwise the native
 * WOWSAMPLE_REPLY (24 bytes). OutputBufferLength below that size (or no SystemBuffer):
 * STATUS_BUFFER_TOO_SMALL, Irp->IoStatus.Information = 0, nothing written. Success:
 * exactly that many bytes written at the start of the system buffer, not one more,
 * Irp->IoStatus.Information = that size, STATUS_SUCCESS. The caller completes the IRP.
 */
NTSTATUS WowSampleWriteReply(PIRP Irp, const WOWSAMPLE_REPLY *Reply)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;
    BOOLEAN is32 = IoIs32bitProcess(Irp);
    ULONG size = is32 ? sizeof(WOWSAMPLE_REPLY32) : sizeof(WOWSAMPLE_REPLY);
    if (buffer == NULL || length < size) {
        Irp->IoStatus.Information = 0;
        return STATUS_BUFFER_TOO_SMALL;
    }
    if (is32) {
        PWOWSAMPLE_REPLY32 reply32 = buffer;
        reply32->Cookie = (ULONG)Reply->Cookie;
        reply32->Buffer = (PTR32)(ULONG_PTR)Reply->Buffer;
        reply32->Length = Reply->Length;
        reply32->Is32Bit = Reply->Is32Bit;
    } else {
        *(PWOWSAMPLE_REPLY)buffer = *Reply;
    }
    Irp->IoStatus.Information = size;
    return STATUS_SUCCESS;
}
