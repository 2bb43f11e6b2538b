/* ramdisk.c - the RAM disk (framework driver, lab 07; lab 08's pagefile lives on it).
 * Direct I/O in whole sectors: a read or write is checked, marked pending, queued with a
 * cancel routine, and completed later by the disk's DPC, in arrival order, which copies
 * between the disk and the MDL's pages. A queued request can be cancelled: whoever takes
 * its cancel routine (the DPC with IoSetCancelRoutine(Irp, NULL), or IoCancelIrp) completes
 * it, so it completes exactly once. */
#include "io.h"
#include "kedpc.h"
#include "rtl.h"

#define RAMDISK_POOL_TAG POOL_TAG('R', 'a', 'm', 'D')

typedef struct _RAMDISK_EXTENSION {
    PUCHAR Data;
    ULONG Bytes;
    KSPIN_LOCK Lock;       /* the queue */
    LIST_ENTRY Queue;      /* IRPs through Tail.Overlay.ListEntry, oldest first */
    ULONG Queued;
    KDPC Dpc;
    KTIMER Timer;          /* with DelayMs: queues Dpc that much later */
    ULONG DelayMs;
} RAMDISK_EXTENSION, *PRAMDISK_EXTENSION;

static NTSTATUS RamDiskFinish(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* The cancel routine: entered with the cancel spin lock held (released first). */
static VOID RamDiskCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PRAMDISK_EXTENSION ext = DeviceObject->DeviceExtension;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    InitializeListHead(&Irp->Tail.Overlay.ListEntry);
    ext->Queued--;
    KeReleaseSpinLock(&ext->Lock, irql);
    RamDiskFinish(Irp, STATUS_CANCELLED, 0);
}

/* The DPC: completes every queued request whose cancel routine it can take back. */
static VOID RamDiskDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    PRAMDISK_EXTENSION ext = Context;
    for (;;) {
        KeAcquireSpinLockAtDpcLevel(&ext->Lock);
        PIRP irp = NULL;
        for (PLIST_ENTRY e = ext->Queue.Flink; e != &ext->Queue; e = e->Flink) {
            PIRP candidate = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
            if (IoSetCancelRoutine(candidate, NULL) != NULL) {
                irp = candidate;
                break;
            }
        }
        if (irp != NULL) {
            RemoveEntryList(&irp->Tail.Overlay.ListEntry);
            InitializeListHead(&irp->Tail.Overlay.ListEntry);
            ext->Queued--;
        }
        KeReleaseSpinLockFromDpcLevel(&ext->Lock);
        if (irp == NULL)
            return;
        PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
        ULONG length = sp->Parameters.Read.Length;
        PUCHAR disk = ext->Data + sp->Parameters.Read.ByteOffset;
        PUCHAR buffer = MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority);
        if (buffer == NULL) {
            RamDiskFinish(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
            continue;
        }
        if (sp->MajorFunction == IRP_MJ_READ)
            RtlCopyMemory(buffer, disk, length);
        else
            RtlCopyMemory(disk, buffer, length);
        RamDiskFinish(irp, STATUS_SUCCESS, length);
    }
}

static NTSTATUS RamDiskReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PRAMDISK_EXTENSION ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = sp->Parameters.Read.Length;
    LONGLONG offset = sp->Parameters.Read.ByteOffset;
    if (length % RAMDISK_SECTOR != 0 || offset < 0 || offset % RAMDISK_SECTOR != 0 ||
        (ULONG64)offset + length > ext->Bytes)
        return RamDiskFinish(Irp, STATUS_INVALID_PARAMETER, 0);
    if (length == 0)
        return RamDiskFinish(Irp, STATUS_SUCCESS, 0);
    if (Irp->MdlAddress == NULL || Irp->MdlAddress->ByteCount < length)
        return RamDiskFinish(Irp, STATUS_INVALID_PARAMETER, 0);
    IoMarkIrpPending(Irp);
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    IoSetCancelRoutine(Irp, RamDiskCancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
        /* Cancelled before it was queued, and the cancel routine was not called. */
        KeReleaseSpinLock(&ext->Lock, irql);
        RamDiskFinish(Irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
    }
    InsertTailList(&ext->Queue, &Irp->Tail.Overlay.ListEntry);
    ext->Queued++;
    if (ext->DelayMs != 0) {
        LARGE_INTEGER due;
        due.QuadPart = -(LONGLONG)ext->DelayMs * 10000;
        KeSetTimer(&ext->Timer, due, &ext->Dpc);
    } else {
        KeInsertQueueDpc(&ext->Dpc, NULL, NULL);
    }
    KeReleaseSpinLock(&ext->Lock, irql);
    return STATUS_PENDING;
}

static NTSTATUS RamDiskControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PRAMDISK_EXTENSION ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_RAMDISK_GET_LENGTH)
        return RamDiskFinish(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(ULONG64))
        return RamDiskFinish(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    *(PULONG64)Irp->AssociatedIrp.SystemBuffer = ext->Bytes;
    return RamDiskFinish(Irp, STATUS_SUCCESS, sizeof(ULONG64));
}

static NTSTATUS RamDiskOpenClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return RamDiskFinish(Irp, STATUS_SUCCESS, 0);
}

static VOID RamDiskUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    while (device != NULL) {
        PDEVICE_OBJECT next = device->NextDevice;
        PRAMDISK_EXTENSION ext = device->DeviceExtension;
        KeCancelTimer(&ext->Timer);
        KeRemoveQueueDpc(&ext->Dpc);
        ExFreePoolWithTag(ext->Data, RAMDISK_POOL_TAG);
        IoDeleteDevice(device);
        device = next;
    }
}

NTSTATUS IopRamDiskDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = RamDiskOpenClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = RamDiskOpenClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = RamDiskReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = RamDiskReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = RamDiskControl;
    DriverObject->DriverUnload = RamDiskUnload;
    return STATUS_SUCCESS;
}

NTSTATUS IopCreateRamDisk(PDRIVER_OBJECT DriverObject, PCSTR Name, ULONG Bytes, PDEVICE_OBJECT *Device)
{
    *Device = NULL;
    if (Bytes == 0 || Bytes % RAMDISK_SECTOR != 0)
        return STATUS_INVALID_PARAMETER;
    PUCHAR data = ExAllocatePoolWithTag(NonPagedPool, Bytes, RAMDISK_POOL_TAG);
    if (data == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(RAMDISK_EXTENSION), Name, FILE_DEVICE_DISK, 0, FALSE,
                                     &device);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(data, RAMDISK_POOL_TAG);
        return status;
    }
    PRAMDISK_EXTENSION ext = device->DeviceExtension;
    RtlZeroMemory(data, Bytes);
    ext->Data = data;
    ext->Bytes = Bytes;
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Queue);
    ext->Queued = 0;
    KeInitializeDpc(&ext->Dpc, RamDiskDpc, ext);
    KeInitializeTimer(&ext->Timer);
    ext->DelayMs = 0;
    device->Flags |= DO_DIRECT_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    *Device = device;
    return STATUS_SUCCESS;
}

ULONG IopRamDiskQueued(PDEVICE_OBJECT Device)
{
    return ((PRAMDISK_EXTENSION)Device->DeviceExtension)->Queued;
}

PUCHAR IopRamDiskData(PDEVICE_OBJECT Device)
{
    return ((PRAMDISK_EXTENSION)Device->DeviceExtension)->Data;
}

VOID IopSetRamDiskDelay(PDEVICE_OBJECT Device, ULONG DelayMs)
{
    ((PRAMDISK_EXTENSION)Device->DeviceExtension)->DelayMs = DelayMs;
}
