/* null.c - \Device\Null (framework driver, lab 07): opens and closes succeed, a read finds
 * the end of the file, a write takes every byte and keeps none. Every request completes
 * in its dispatch routine; any other major function is the I/O manager's invalid request. */
#include "io.h"

static NTSTATUS NullDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR information = 0;
    switch (sp->MajorFunction) {
    case IRP_MJ_READ:
        status = STATUS_END_OF_FILE;
        break;
    case IRP_MJ_WRITE:
        information = sp->Parameters.Write.Length;
        break;
    default:
        break;
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS IopNullDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = NullDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = NullDispatch;
    DriverObject->MajorFunction[IRP_MJ_READ] = NullDispatch;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = NullDispatch;
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, "\\Device\\Null", FILE_DEVICE_NULL, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
