/* iomgr.c - the I/O manager's framework side (lab 07): driver objects (IopCreateDriver
 * runs a driver's DriverEntry), the routine behind every major function a driver does not
 * handle, the list of named devices, the cancel spin lock, and signalling the event of a
 * finished request. The IRP, device-stack and buffering code is the student's
 * (labs/07-io). */
#include "io.h"
#include "rtl.h"

#define DRIVER_POOL_TAG POOL_TAG('D', 'r', 'v', 'r')

LIST_ENTRY IopDeviceList = {&IopDeviceList, &IopDeviceList};
KSPIN_LOCK IopDatabaseLock;
static KSPIN_LOCK IopCancelSpinLock;

NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

NTSTATUS IopCreateDriver(PCSTR Name, PDRIVER_INITIALIZE DriverEntry, PDRIVER_OBJECT *DriverObject)
{
    *DriverObject = NULL;
    PDRIVER_OBJECT driver = ExAllocatePoolWithTag(NonPagedPool, sizeof(*driver), DRIVER_POOL_TAG);
    if (driver == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(driver, sizeof(*driver));
    driver->Type = IO_TYPE_DRIVER;
    driver->Size = sizeof(*driver);
    driver->DriverInit = DriverEntry;
    for (ULONG i = 0; Name[i] != 0 && i < DRIVER_NAME_LENGTH - 1; i++)
        driver->DriverName[i] = Name[i];
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        driver->MajorFunction[i] = IopInvalidDeviceRequest;
    NTSTATUS status = DriverEntry(driver, NULL);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(driver, DRIVER_POOL_TAG);
        return status;
    }
    *DriverObject = driver;
    return STATUS_SUCCESS;
}

VOID IopDeleteDriver(PDRIVER_OBJECT DriverObject)
{
    if (DriverObject->DriverUnload != NULL)
        DriverObject->DriverUnload(DriverObject);
    DriverObject->Type = 0;
    ExFreePoolWithTag(DriverObject, DRIVER_POOL_TAG);
}

PDEVICE_OBJECT IopFindDevice(PCSTR Name)
{
    PDEVICE_OBJECT found = NULL;
    KIRQL irql;
    KeAcquireSpinLock(&IopDatabaseLock, &irql);
    for (PLIST_ENTRY e = IopDeviceList.Flink; e != &IopDeviceList; e = e->Flink) {
        PDEVICE_OBJECT d = CONTAINING_RECORD(e, DEVICE_OBJECT, DeviceListEntry);
        ULONG i = 0;
        while (i < DEVICE_NAME_LENGTH && d->DeviceName[i] == Name[i] && Name[i] != 0)
            i++;
        if (i < DEVICE_NAME_LENGTH && d->DeviceName[i] == Name[i]) {
            found = d;
            break;
        }
    }
    KeReleaseSpinLock(&IopDatabaseLock, irql);
    return found;
}

VOID IoAcquireCancelSpinLock(PKIRQL Irql)
{
    KeAcquireSpinLock(&IopCancelSpinLock, Irql);
}

VOID IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLock(&IopCancelSpinLock, Irql);
}

VOID IopSignalUserEvent(struct _KEVENT *Event)
{
    KeSetEvent(Event, IO_NO_INCREMENT, FALSE);
}
