/* filter.c - the sample filter driver (framework driver, lab 07). Each filter device sits
 * on a device stack and does what its extension's Action says with every IRP (the tests
 * set it from the seed): pass it down without a completion routine (skip its location),
 * copy its location down with a completion routine that continues, mark it pending and
 * return STATUS_PENDING, or take it back in its completion routine with
 * STATUS_MORE_PROCESSING_REQUIRED and complete it again later from its DPC. It may change
 * requests on the way down (OffsetShift) and counts every request it sees. Every
 * completion routine it runs is logged (IopFilterLog) and, when the test asks (Mark), adds
 * 1 << (16 + Level) to the IRP's Information, so the caller sees which routines ran. */
#include "io.h"
#include "kedpc.h"

IOP_FILTER_RECORD IopFilterLog[IOP_FILTER_LOG];
volatile ULONG IopFilterLogCount;

VOID IopFilterLogAppend(ULONG Level, PDEVICE_OBJECT Device, PIRP Irp)
{
    ULONG n = IopFilterLogCount;
    if (n < IOP_FILTER_LOG) {
        IopFilterLog[n].Level = Level;
        IopFilterLog[n].PendingReturned = Irp->PendingReturned;
        IopFilterLog[n].Status = Irp->IoStatus.Status;
        IopFilterLog[n].Information = Irp->IoStatus.Information;
        IopFilterLog[n].CurrentLocation = Irp->CurrentLocation;
        IopFilterLog[n].Device = Device;
    }
    IopFilterLogCount = n + 1;
}

static NTSTATUS FilterCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PDEVICE_OBJECT filter = Context;
    PFILTER_EXTENSION ext = filter->DeviceExtension;
    IopFilterLogAppend(ext->Level, DeviceObject, Irp);
    if (ext->Mark)
        Irp->IoStatus.Information += (ULONG_PTR)1 << (16 + ext->Level);
    if (ext->Action == FILTER_MORE) {
        ext->Held = Irp;
        KeInsertQueueDpc(&ext->Dpc, Irp, NULL);
        return STATUS_MORE_PROCESSING_REQUIRED;
    }
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    return STATUS_CONTINUE_COMPLETION;
}

/* FILTER_MORE: the IRP the completion routine took back completes again, from here. */
static VOID FilterDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument2);
    PFILTER_EXTENSION ext = Context;
    PIRP irp = Argument1;
    ext->Held = NULL;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS FilterDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PFILTER_EXTENSION ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (ext->Seen < sizeof(ext->SeenMajor))
        ext->SeenMajor[ext->Seen] = sp->MajorFunction;
    ext->Seen++;
    if (ext->Action == FILTER_PASS) {
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(ext->Lower, Irp);
    }
    IoCopyCurrentIrpStackLocationToNext(Irp);
    if (sp->MajorFunction == IRP_MJ_READ || sp->MajorFunction == IRP_MJ_WRITE)
        IoGetNextIrpStackLocation(Irp)->Parameters.Read.ByteOffset += ext->OffsetShift;
    IoSetCompletionRoutine(Irp, FilterCompletion, DeviceObject, ext->OnSuccess, ext->OnError, FALSE);
    if (ext->Action == FILTER_CONTINUE)
        return IoCallDriver(ext->Lower, Irp);
    IoMarkIrpPending(Irp);
    IoCallDriver(ext->Lower, Irp);
    return STATUS_PENDING;
}

NTSTATUS IopFilterDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = FilterDispatch;
    return STATUS_SUCCESS;
}

NTSTATUS IopAddFilter(PDRIVER_OBJECT FilterDriver, PDEVICE_OBJECT Target, ULONG Level, ULONG Action,
                      BOOLEAN OnSuccess, BOOLEAN OnError, PDEVICE_OBJECT *Filter)
{
    *Filter = NULL;
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(FilterDriver, sizeof(FILTER_EXTENSION), NULL, Target->DeviceType, 0, FALSE,
                                     &device);
    if (!NT_SUCCESS(status))
        return status;
    PFILTER_EXTENSION ext = device->DeviceExtension;
    ext->Level = Level;
    ext->Action = Action;
    ext->OnSuccess = OnSuccess;
    ext->OnError = OnError;
    KeInitializeDpc(&ext->Dpc, FilterDpc, ext);
    ext->Lower = IoAttachDeviceToDeviceStack(device, Target);
    if (ext->Lower == NULL) {
        IoDeleteDevice(device);
        return STATUS_INVALID_PARAMETER;
    }
    device->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO);
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    *Filter = device;
    return STATUS_SUCCESS;
}

VOID IopRemoveFilter(PDEVICE_OBJECT Filter)
{
    PFILTER_EXTENSION ext = Filter->DeviceExtension;
    if (ext->Lower != NULL)
        IoDetachDevice(ext->Lower);
    IoDeleteDevice(Filter);
}
