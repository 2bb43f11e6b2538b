/* device.c - lab 07: device objects and device stacks. A driver creates device objects;
 * a filter driver attaches its device on top of another device's stack, so that every
 * IRP sent to the stack (always to its top, IoGetAttachedDevice) passes through it first.
 * An IRP sent to a stack needs one stack location per device in it: a device's StackSize
 * is one more than the StackSize of the device it is attached to. */
#include "io.h"

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
    /* LAB 07: check the name, allocate object and extension, fill in every field, link it. */
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(DeviceExtensionSize);
    UNREFERENCED_PARAMETER(DeviceName);
    UNREFERENCED_PARAMETER(DeviceType);
    UNREFERENCED_PARAMETER(DeviceCharacteristics);
    UNREFERENCED_PARAMETER(Exclusive);
    UNREFERENCED_PARAMETER(DeviceObject);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * IoDeleteDevice - delete a device from IoCreateDevice that is in no stack (nothing
 * attached to it, attached to nothing). IRQL == PASSIVE_LEVEL. Unlinks it from its
 * driver's NextDevice list (wherever it is in it), from IopDeviceList when named (under
 * IopDatabaseLock), sets Type to 0 and frees the block with tag 'Devi'.
 */
VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    /* LAB 07: unlink it from its driver and the named list, then free it. */
    UNREFERENCED_PARAMETER(DeviceObject);
    KeNotImplemented("IoDeleteDevice", "lab 07");
}

/*
 * IoGetAttachedDevice - the top of DeviceObject's stack: follow AttachedDevice from
 * DeviceObject until a device with none (DeviceObject itself when nothing is attached).
 * IRQL <= DISPATCH_LEVEL.
 */
PDEVICE_OBJECT IoGetAttachedDevice(PDEVICE_OBJECT DeviceObject)
{
    /* LAB 07: follow AttachedDevice to the top. */
    UNREFERENCED_PARAMETER(DeviceObject);
    KeNotImplemented("IoGetAttachedDevice", "lab 07");
    return NULL;
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
    /* LAB 07: attach on top of the target's stack; StackSize one more than the device below. */
    UNREFERENCED_PARAMETER(SourceDevice);
    UNREFERENCED_PARAMETER(TargetDevice);
    KeNotImplemented("IoAttachDeviceToDeviceStack", "lab 07");
    return NULL;
}

/*
 * IoDetachDevice - take the device attached to TargetDevice off it (TargetDevice is the
 * device the filter attached to, as IoAttachDeviceToDeviceStack returned). IRQL <=
 * DISPATCH_LEVEL. Under IopDatabaseLock: the attached device's AttachedTo becomes NULL
 * and TargetDevice's AttachedDevice NULL. Nothing happens when nothing is attached.
 */
VOID IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    /* LAB 07: unlink the device attached to TargetDevice. */
    UNREFERENCED_PARAMETER(TargetDevice);
    KeNotImplemented("IoDetachDevice", "lab 07");
}
