/* wowsample.c - \Device\WowSample (lab 09's framework driver): IOCTL_WOWSAMPLE_ECHO takes a
 * WOWSAMPLE_REQUEST in the caller's layout and answers a WOWSAMPLE_REPLY in the caller's
 * layout: Cookie = the request's Cookie complemented (so a 32-bit caller sees a truncated
 * 64-bit value), Buffer = the request's Buffer + Length, Length, Is32Bit =
 * IoIs32bitProcess. The layouts are the student's (labs/09-wow64/ioctl32.c). Create and
 * close succeed; everything completes in the dispatch routine. */
#include "io.h"
#include "wow64t.h"

static NTSTATUS WowSampleDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_WOWSAMPLE_ECHO) {
            status = STATUS_INVALID_DEVICE_REQUEST;
        } else {
            WOWSAMPLE_REQUEST request;
            status = WowSampleCaptureRequest(Irp, &request);
            if (NT_SUCCESS(status)) {
                WOWSAMPLE_REPLY reply;
                reply.Cookie = ~request.Cookie;
                reply.Buffer = (PUCHAR)request.Buffer + request.Length;
                reply.Length = request.Length;
                reply.Is32Bit = IoIs32bitProcess(Irp);
                status = WowSampleWriteReply(Irp, &reply);
            }
        }
    }
    Irp->IoStatus.Status = status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS IopWowSampleDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = WowSampleDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WowSampleDispatch;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WowSampleDispatch;
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, "\\Device\\WowSample", FILE_DEVICE_WOWSAMPLE, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
