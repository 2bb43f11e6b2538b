/* device.c - lab 07: device objects and device stacks. A driver creates device objects;
 * a filter driver attaches its device on top of another device's stack, so that every
 * IRP sent to the stack (always to its top, IoGetAttachedDevice) passes through it first.
 * An IRP sent to a stack needs one stack location per device in it: a device's StackSize
 * is one more than the StackSize of the device it is attached to. */
#include "io.h"

#define DEVICE_POOL_TAG POOL_TAG('D', 'e', 'v', 'i')

/*
 * IoCreateDevice - create a device object of DriverObject.
 * Contract: IRQL == PASSIVE_LEVEL. DeviceName is NULL (unnamed) or a name of 1..31
 * characters (longer or empty: STATUS_INVALID_PARAMETER); a name some device already has
 * (IopFindDevice) gives STATUS_OBJECT_NAME_COLLISION. Allocates, from nonpaged pool with
 * tag 'Devi', one block: the DEVICE_OBJECT followed by DeviceExtensionSize bytes of
 * extension (STATUS_INSUFFICIENT_RESOURCES if the pool is out). Every byte is zeroed,
 * then Type = IO_TYPE_DEVICE, Size = sizeof(DEVICE_OBJECT) + DeviceExtensionSize,
 * DriverObject, DeviceType, Characteristics = DeviceCharacteristics, Flags =
 * DO_DEVICE_INITIALIZING (| DO_EXCLUSIVE if Exclusive), StackSize = 1, DeviceExtension =
 * the bytes right after the object (NULL when DeviceExtensionSize is 0), the name copied
 * with its terminating zero, DeviceListEntry on IopDeviceList when named (under
 * IopDatabaseLock) and pointing at itself when not. The device goes at the head of the
 * driver's list (NextDevice = the old DriverObject->DeviceObject). On success
 * *DeviceObject is the device; on failure it is NULL and nothing is allocated or linked.
 */
NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PCSTR DeviceName,
                        ULONG DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject)
{
    *DeviceObject = NULL;
    SIZE_T nameLength = 0;
    if (DeviceName != NULL) {
        while (DeviceName[nameLength] != 0 && nameLength < DEVICE_NAME_LENGTH)
            nameLength++;
        if (nameLength == 0 || nameLength >= DEVICE_NAME_LENGTH)
            return STATUS_INVALID_PARAMETER;
        if (IopFindDevice(DeviceName) != NULL)
            return STATUS_OBJECT_NAME_COLLISION;
    }
    SIZE_T size = sizeof(DEVICE_OBJECT) + DeviceExtensionSize;
    PDEVICE_OBJECT dev = ExAllocatePoolWithTag(NonPagedPool, size, DEVICE_POOL_TAG);
    if (dev == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PUCHAR p = (PUCHAR)dev;
    for (SIZE_T i = 0; i < size; i++)
        p[i] = 0;
    dev->Type = IO_TYPE_DEVICE;
    dev->Size = (USHORT)size;
    dev->DriverObject = DriverObject;
    dev->DeviceType = DeviceType;
    dev->Characteristics = DeviceCharacteristics;
    dev->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    dev->StackSize = 1;
    dev->DeviceExtension = DeviceExtensionSize != 0 ? (PVOID)(dev + 1) : NULL;
    for (SIZE_T i = 0; i < nameLength; i++)
        dev->DeviceName[i] = DeviceName[i];
    dev->DeviceName[nameLength] = 0;
    InitializeListHead(&dev->DeviceListEntry);
    if (nameLength != 0) {
        KIRQL irql;
        KeAcquireSpinLock(&IopDatabaseLock, &irql);
        InsertTailList(&IopDeviceList, &dev->DeviceListEntry);
        KeReleaseSpinLock(&IopDatabaseLock, irql);
    }
    dev->NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = dev;
    *DeviceObject = dev;
    return STATUS_SUCCESS;
}

/*
 * IoDeleteDevice - delete a device from IoCreateDevice that is in no stack (nothing
 * attached to it, attached to nothing). IRQL == PASSIVE_LEVEL. Unlinks it from its
 * driver's NextDevice list (wherever it is in it), from IopDeviceList when named (under
 * IopDatabaseLock), sets Type to 0 and frees the block with tag 'Devi'.
 */
VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    PDRIVER_OBJECT driver = DeviceObject->DriverObject;
    PDEVICE_OBJECT *link = &driver->DeviceObject;
    while (*link != NULL && *link != DeviceObject)
        link = &(*link)->NextDevice;
    if (*link == DeviceObject)
        *link = DeviceObject->NextDevice;
    if (DeviceObject->DeviceName[0] != 0) {
        KIRQL irql;
        KeAcquireSpinLock(&IopDatabaseLock, &irql);
        RemoveEntryList(&DeviceObject->DeviceListEntry);
        KeReleaseSpinLock(&IopDatabaseLock, irql);
    }
    DeviceObject->Type = 0;
    ExFreePoolWithTag(DeviceObject, DEVICE_POOL_TAG);
}

/*
 * IoGetAttachedDevice - the top of DeviceObject's stack: follow AttachedDevice from
 * DeviceObject until a device with none (DeviceObject itself when nothing is attached).
 * IRQL <= DISPATCH_LEVEL.
 */
PDEVICE_OBJECT IoGetAttachedDevice(PDEVICE_OBJECT DeviceObject)
{
    PDEVICE_OBJECT dev = DeviceObject;
    while (dev->AttachedDevice != NULL)
        dev = dev->AttachedDevice;
    return dev;
}

/*
 * IoAttachDeviceToDeviceStack - put SourceDevice on top of TargetDevice's stack.
 * Contract: IRQL <= DISPATCH_LEVEL. SourceDevice must be in no stack (AttachedTo and
 * AttachedDevice NULL) and not the target's top: otherwise NULL and nothing changes.
 * Under IopDatabaseLock: the top of the target's stack (IoGetAttachedDevice, not
 * TargetDevice itself when something is attached to it) gets AttachedDevice =
 * SourceDevice; SourceDevice gets AttachedTo = that top, StackSize = top's StackSize + 1
 * and AlignmentRequirement = top's. Returns the top it attached to (the device the
 * filter sends its IRPs to).
 */
PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice)
{
    KIRQL irql;
    KeAcquireSpinLock(&IopDatabaseLock, &irql);
    PDEVICE_OBJECT top = IoGetAttachedDevice(TargetDevice);
    if (SourceDevice->AttachedTo != NULL || SourceDevice->AttachedDevice != NULL || top == SourceDevice) {
        KeReleaseSpinLock(&IopDatabaseLock, irql);
        return NULL;
    }
    top->AttachedDevice = SourceDevice;
    SourceDevice->AttachedTo = top;
    SourceDevice->StackSize = (CCHAR)(top->StackSize + 1);
    SourceDevice->AlignmentRequirement = top->AlignmentRequirement;
    KeReleaseSpinLock(&IopDatabaseLock, irql);
    return top;
}

/*
 * IoDetachDevice - take the device attached to TargetDevice off it (TargetDevice is the
 * device the filter attached to, as IoAttachDeviceToDeviceStack returned). IRQL <=
 * DISPATCH_LEVEL. Under IopDatabaseLock: the attached device's AttachedTo becomes NULL
 * and TargetDevice's AttachedDevice NULL. Nothing happens when nothing is attached.
 */
VOID IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    KIRQL irql;
    KeAcquireSpinLock(&IopDatabaseLock, &irql);
    PDEVICE_OBJECT attached = TargetDevice->AttachedDevice;
    if (attached != NULL) {
        attached->AttachedTo = NULL;
        TargetDevice->AttachedDevice = NULL;
    }
    KeReleaseSpinLock(&IopDatabaseLock, irql);
}
