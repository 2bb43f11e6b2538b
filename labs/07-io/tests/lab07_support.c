/* lab07_support.c - lab 07's shared test code (see lab07_support.h). */
#include "lab07_support.h"
#include "rtl.h"

volatile ULONG KtTopRuns;
#define KT_MAX_DRIVERS 8
static PDRIVER_OBJECT KtDrivers[KT_MAX_DRIVERS];
static ULONG KtDriverCount;

BOOLEAN KtIoStubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

BOOLEAN KtIoEnter(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB07_BUDGET_MS);
    PIRP probe = IoAllocateIrp(1, FALSE);
    if (probe != NULL)
        IoFreeIrp(probe);
    return !KtIoStubbed(Context);
}

VOID KtIoPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size, ULONG Salt)
{
    ULONG64 x = Context->Seed ^ ((ULONG64)Salt * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ULL;
    ULONG64 pattern = x | 0x0101010101010101ULL;
    PUCHAR p = Buffer;
    for (SIZE_T i = 0; i < Size; i++)
        p[i] = (UCHAR)(pattern >> ((i % 8) * 8));
}

SIZE_T KtIoTagBytes(ULONG Tag)
{
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
        if (ExpPoolTrackTable[i].Key == Tag)
            return ExpPoolTrackTable[i].Bytes[NonPagedPool];
    return 0;
}

VOID KtIoTrackDriver(PDRIVER_OBJECT Driver)
{
    if (Driver != NULL && KtDriverCount < KT_MAX_DRIVERS)
        KtDrivers[KtDriverCount++] = Driver;
}

static VOID KtBaseDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    PKT_BASE_EXTENSION ext = Context;
    PIRP irp = ext->Held;
    if (irp == NULL)
        return;
    ext->Held = NULL;
    irp->IoStatus.Status = ext->Status;
    irp->IoStatus.Information = ext->Information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS KtBaseDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PKT_BASE_EXTENSION ext = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ext->Seen++;
    ext->LastLocation = Irp->CurrentLocation;
    ext->LastSp = sp;
    if (Irp->CurrentLocation < 1 || Irp->CurrentLocation > Irp->StackCount ||
        sp != IopIrpStackLocation(Irp, Irp->CurrentLocation))
        return STATUS_UNSUCCESSFUL; /* not a location it could own: the test reports it, the IRP stays */
    if (sp != NULL) {
        ext->LastMajor = sp->MajorFunction;
        ext->LastSpDevice = sp->DeviceObject;
        ext->Copy = *sp;
    }
    if (ext->Mode == KT_BASE_PEND) {
        IoMarkIrpPending(Irp);
        ext->Held = Irp;
        KeInsertQueueDpc(&ext->Dpc, NULL, NULL);
        return STATUS_PENDING;
    }
    NTSTATUS status = ext->Status;
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = ext->Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static NTSTATUS KtBaseEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        if (i != IRP_MJ_FLUSH_BUFFERS)
            DriverObject->MajorFunction[i] = KtBaseDispatch;
    return STATUS_SUCCESS;
}

BOOLEAN KtCreateBase(PKTEST_CONTEXT Context, PDRIVER_OBJECT *Driver, PDEVICE_OBJECT *Device)
{
    *Device = NULL;
    NTSTATUS status = IopCreateDriver("KtBase", KtBaseEntry, Driver);
    if (!KtCheck(Context, NT_SUCCESS(status), "driver", "creating the base test driver failed: 0x%x", status))
        return FALSE;
    KtIoTrackDriver(*Driver);
    status = IoCreateDevice(*Driver, sizeof(KT_BASE_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, Device);
    if (!KtRequireImplemented(Context, status, "IoCreateDevice", "lab 07") ||
        !KtCheck(Context, NT_SUCCESS(status) && *Device != NULL, "create_device", "IoCreateDevice of the base test "
                 "device returned 0x%x, device %p", status, *Device))
        return FALSE;
    PKT_BASE_EXTENSION ext = (*Device)->DeviceExtension;
    if (!KtCheck(Context, ext == (PVOID)(*Device + 1), "create_device", "DeviceExtension is %p, expected the bytes "
                 "right after the device object (%p)", ext, (PVOID)(*Device + 1)))
        return FALSE;
    KeInitializeDpc(&ext->Dpc, KtBaseDpc, ext);
    (*Device)->Flags |= DO_BUFFERED_IO;
    (*Device)->Flags &= ~DO_DEVICE_INITIALIZING;
    return TRUE;
}

BOOLEAN KtCreateFilterDriver(PKTEST_CONTEXT Context, PDRIVER_OBJECT *Driver)
{
    NTSTATUS status = IopCreateDriver("KtFilter", IopFilterDriverEntry, Driver);
    if (!KtCheck(Context, NT_SUCCESS(status), "driver", "creating the filter driver failed: 0x%x", status))
        return FALSE;
    KtIoTrackDriver(*Driver);
    return TRUE;
}

NTSTATUS KtTopCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    IopFilterLogAppend(0, DeviceObject, Irp);
    KtTopRuns++;
    return STATUS_MORE_PROCESSING_REQUIRED;
}

BOOLEAN KtAuditWalkedIrp(PKTEST_CONTEXT Context, PCSTR Step, PIRP Irp)
{
    if (!KtCheck(Context, Irp->CurrentLocation == Irp->StackCount + 1, "walk_to_top", "%s: after the walk reached the "
                 "originator CurrentLocation is %d, expected StackCount + 1 = %d", Step, Irp->CurrentLocation,
                 Irp->StackCount + 1) ||
        !KtCheck(Context, Irp->Tail.Overlay.CurrentStackLocation == IopIrpStackLocation(Irp, Irp->StackCount + 1),
                 "walk_to_top", "%s: CurrentStackLocation %p, expected one past the top location (%p)", Step,
                 Irp->Tail.Overlay.CurrentStackLocation, IopIrpStackLocation(Irp, Irp->StackCount + 1)))
        return FALSE;
    for (LONG k = 1; k <= Irp->StackCount; k++) {
        PIO_STACK_LOCATION sp = IopIrpStackLocation(Irp, k);
        if (!KtCheck(Context, sp->Control == 0 && sp->CompletionRoutine == NULL && sp->Context == NULL,
                     "walk_clears", "%s: location %d still has Control 0x%x, CompletionRoutine %p, Context %p after "
                     "the walk passed it (each passed location is cleared)", Step, k, sp->Control,
                     sp->CompletionRoutine, sp->Context))
            return FALSE;
    }
    return TRUE;
}

VOID KtIoFreeIrp(PIRP Irp)
{
    ExFreePool(Irp);
}

/* Unlinks a device from everything by the framework's hands and frees it. */
static VOID KtIoDropDevice(PDEVICE_OBJECT Device)
{
    KIRQL irql;
    KeAcquireSpinLock(&IopDatabaseLock, &irql);
    for (PLIST_ENTRY e = IopDeviceList.Flink; e != &IopDeviceList; e = e->Flink)
        if (e == &Device->DeviceListEntry) {
            RemoveEntryList(e);
            break;
        }
    KeReleaseSpinLock(&IopDatabaseLock, irql);
    Device->Type = 0;
    ExFreePool(Device);
}

VOID KtIoCleanup(VOID)
{
    if (KeGetCurrentIrql() != PASSIVE_LEVEL)
        KeLowerIrql(PASSIVE_LEVEL);
    for (ULONG i = KtDriverCount; i-- > 0;) {
        PDRIVER_OBJECT d = KtDrivers[i];
        if (d->DriverUnload != NULL)
            d->DriverUnload(d); /* the RAM disk's data, the device's interrupt */
        PDEVICE_OBJECT dev = d->DeviceObject;
        ULONG guard = 0;
        while (dev != NULL && guard++ < 64) {
            PDEVICE_OBJECT next = dev->NextDevice;
            if (dev->Type == IO_TYPE_DEVICE)
                KtIoDropDevice(dev);
            dev = next;
        }
        d->DeviceObject = NULL;
        d->DriverUnload = NULL;
        IopDeleteDriver(d);
    }
    KtDriverCount = 0;
    ObpResetObjectManager(); /* file and event objects, handles, the system process: a fresh start */
    IopFilterLogCount = 0;
    KtTopRuns = 0;
}
