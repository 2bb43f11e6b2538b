/* intdev.c - a device that raises interrupts (framework driver, lab 07, over lab 04's
 * interrupt objects). IOCTL_INTDEV_FIRE marks the IRP pending, holds it and raises the
 * device's interrupt; the service routine, at the device's IRQL, counts the interrupt and
 * queues the device's DPC; the DPC completes the held IRP at DISPATCH_LEVEL. This is the
 * path of every real device: ISR -> DPC -> IoCompleteRequest. */
#include "hal.h"
#include "io.h"
#include "kedpc.h"

typedef struct _INTDEV_EXTENSION {
    KINTERRUPT Interrupt;
    KDPC Dpc;
    PIRP Held;
    ULONG Serviced;
    KIRQL IsrIrql;
} INTDEV_EXTENSION, *PINTDEV_EXTENSION;

static BOOLEAN IntDevIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    UNREFERENCED_PARAMETER(Interrupt);
    PINTDEV_EXTENSION ext = ServiceContext;
    ext->Serviced++;
    ext->IsrIrql = KeGetCurrentIrql();
    KeInsertQueueDpc(&ext->Dpc, NULL, NULL);
    return TRUE;
}

static VOID IntDevDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    PINTDEV_EXTENSION ext = Context;
    PIRP irp = ext->Held;
    if (irp == NULL)
        return;
    ext->Held = NULL;
    irp->IoStatus.Status = ext->IsrIrql == (INTDEV_VECTOR >> 4) ? STATUS_SUCCESS : STATUS_DEVICE_DATA_ERROR;
    irp->IoStatus.Information = ext->Serviced;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS IntDevControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PINTDEV_EXTENSION ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_INTDEV_FIRE || ext->Held != NULL) {
        Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    IoMarkIrpPending(Irp);
    ext->Held = Irp;
    HalRequestInterrupt(INTDEV_VECTOR);
    return STATUS_PENDING;
}

static VOID IntDevUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    while (device != NULL) {
        PDEVICE_OBJECT next = device->NextDevice;
        PINTDEV_EXTENSION ext = device->DeviceExtension;
        KeDisconnectInterrupt(&ext->Interrupt);
        KeRemoveQueueDpc(&ext->Dpc);
        IoDeleteDevice(device);
        device = next;
    }
}

NTSTATUS IopIntDevDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(INTDEV_EXTENSION), "\\Device\\IntDev", FILE_DEVICE_UNKNOWN,
                                     0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    PINTDEV_EXTENSION ext = device->DeviceExtension;
    KeInitializeDpc(&ext->Dpc, IntDevDpc, ext);
    KeInitializeInterrupt(&ext->Interrupt, IntDevIsr, ext, INTDEV_VECTOR, INTDEV_VECTOR >> 4);
    if (!KeConnectInterrupt(&ext->Interrupt)) {
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = IntDevControl;
    DriverObject->DriverUnload = IntDevUnload;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
