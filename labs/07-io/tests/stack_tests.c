/* stack_tests.c - lab 07 public tests of device objects and device stacks: IoCreateDevice
 * on dirty pool (every field, the extension zeroed, the driver's list, the named list, a
 * name collision and bad names leave nothing behind), a seeded stack of filters (each
 * filter's StackSize is the base's plus its depth, AttachedDevice / AttachedTo both ways,
 * IoGetAttachedDevice from every device is the top, attaching to a device that has
 * filters goes on top of them), detaching the top and deleting the newest and the oldest
 * device of their driver's list. */
#include "lab07_support.h"

#define KT_DEV_TAG POOL_TAG('D', 'e', 'v', 'i')
#define KT_MAX_FILTERS 8

static BOOLEAN KtAuditStack(PKTEST_CONTEXT Context, PCSTR Step, PDEVICE_OBJECT *Stack, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++) {
        PDEVICE_OBJECT d = Stack[i];
        PDEVICE_OBJECT above = i + 1 < Count ? Stack[i + 1] : NULL, below = i > 0 ? Stack[i - 1] : NULL;
        if (!KtCheck(Context, d->AttachedDevice == above, "attached_device", "%s: device %u of %u has AttachedDevice "
                     "%p, expected %p (the device above it)", Step, i + 1, Count, d->AttachedDevice, above) ||
            !KtCheck(Context, d->AttachedTo == below, "attached_to", "%s: device %u of %u has AttachedTo %p, expected "
                     "%p (the device below it)", Step, i + 1, Count, d->AttachedTo, below) ||
            !KtCheck(Context, d->StackSize == Stack[0]->StackSize + (CCHAR)i, "stack_size", "%s: device %u of %u has "
                     "StackSize %d, expected the base's %d + %u filters below and including it", Step, i + 1, Count,
                     d->StackSize, Stack[0]->StackSize, i) ||
            !KtCheck(Context, d->AlignmentRequirement == Stack[0]->AlignmentRequirement, "alignment", "%s: device %u "
                     "of %u has AlignmentRequirement 0x%x, expected the base's 0x%x (an attached device takes the "
                     "AlignmentRequirement of the device it attaches to)", Step, i + 1, Count, d->AlignmentRequirement,
                     Stack[0]->AlignmentRequirement))
            return FALSE;
        PDEVICE_OBJECT top = IoGetAttachedDevice(d);
        if (!KtCheck(Context, top == Stack[Count - 1], "attached_top", "%s: IoGetAttachedDevice(device %u) is %p, "
                     "expected the top of the stack, %p", Step, i + 1, top, Stack[Count - 1]))
            return FALSE;
    }
    return TRUE;
}

static BOOLEAN KtCheckDriverList(PKTEST_CONTEXT Context, PCSTR Step, PDRIVER_OBJECT Driver, PDEVICE_OBJECT *Newest,
                                 ULONG Count)
{
    PDEVICE_OBJECT d = Driver->DeviceObject;
    for (ULONG i = 0; i < Count; i++, d = d->NextDevice)
        if (!KtCheck(Context, d == Newest[i], "driver_list", "%s: device %u of the driver's NextDevice list is %p, "
                     "expected %p (newest first)", Step, i, d, Newest[i]))
            return FALSE;
    return KtCheck(Context, d == NULL, "driver_list", "%s: the driver's list goes on past its %u devices (%p)", Step,
                   Count, d);
}

KTEST("stack.attach", KtTestStackAttach)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base;
    ULONG ext = (ULONG)KtRandomRange(Context, 1, 200);
    ULONG filters = (ULONG)KtRandomRange(Context, 2, KT_MAX_FILTERS - 1);
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    /* IoCreateDevice on dirty pool: a named device with a seeded extension. */
    PDEVICE_OBJECT named = NULL;
    SIZE_T before = KtIoTagBytes(KT_DEV_TAG);
    NTSTATUS st = IoCreateDevice(fdrv, ext, "\\Device\\KtNamed", FILE_DEVICE_DISK, 0x5, TRUE, &named);
    if (!KtRequireImplemented(Context, st, "IoCreateDevice", "lab 07") ||
        !KtCheck(Context, NT_SUCCESS(st) && named != NULL, "create_device", "IoCreateDevice: 0x%x", st))
        goto out;
    PUCHAR e = named->DeviceExtension;
    if (!KtCheck(Context, named->Type == IO_TYPE_DEVICE && named->Size == sizeof(DEVICE_OBJECT) + ext &&
                 named->DriverObject == fdrv && named->DeviceType == FILE_DEVICE_DISK && named->Characteristics == 5 &&
                 named->Flags == (DO_DEVICE_INITIALIZING | DO_EXCLUSIVE) && named->StackSize == 1 &&
                 named->AttachedDevice == NULL && named->AttachedTo == NULL && named->CurrentIrp == NULL &&
                 named->ReferenceCount == 0 && named->AlignmentRequirement == 0, "device_fields", "IoCreateDevice on "
                 "dirty pool: Type %d (3), Size %u (%u), DriverObject %p (%p), DeviceType 0x%x (7), Characteristics "
                 "0x%x (5), Flags 0x%x (0x88), StackSize %d (1), AttachedDevice %p, AttachedTo %p, CurrentIrp %p "
                 "(NULL), ReferenceCount %d (0)", named->Type, named->Size, (ULONG)(sizeof(DEVICE_OBJECT) + ext),
                 named->DriverObject, fdrv, named->DeviceType, named->Characteristics, named->Flags, named->StackSize,
                 named->AttachedDevice, named->AttachedTo, named->CurrentIrp, named->ReferenceCount) ||
        !KtCheck(Context, e == (PUCHAR)(named + 1), "extension", "DeviceExtension %p, expected right after the object "
                 "(%p)", e, (PVOID)(named + 1)))
        goto out;
    for (ULONG i = 0; i < ext; i++)
        if (!KtCheck(Context, e[i] == 0, "extension_zeroed", "byte %u of a %u-byte device extension is 0x%02x: the "
                     "extension is zeroed", i, ext, e[i]))
            goto out;
    SIZE_T charged = KtIoTagBytes(KT_DEV_TAG) - before;
    if (!KtCheck(Context, charged >= sizeof(DEVICE_OBJECT) + ext && charged < sizeof(DEVICE_OBJECT) + ext + 32,
                 "device_pool", "IoCreateDevice took %llu bytes under 'Devi', expected one block of the object and its "
                 "%u-byte extension (%llu)", (ULONG64)charged, ext, (ULONG64)(sizeof(DEVICE_OBJECT) + ext)) ||
        !KtCheck(Context, IopFindDevice("\\Device\\KtNamed") == named && strcmp(named->DeviceName, "\\Device\\KtNamed") == 0,
                 "device_name", "the named device is not found by its name (IopFindDevice gives %p, name '%s')",
                 IopFindDevice("\\Device\\KtNamed"), named->DeviceName))
        goto out;
    /* Collisions and bad names: an error, *DeviceObject NULL, nothing allocated. */
    PCSTR bad[3] = {"\\Device\\KtNamed", "", "\\Device\\AVeryLongDeviceNameThatIsTooLong"};
    NTSTATUS want[3] = {STATUS_OBJECT_NAME_COLLISION, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER};
    for (ULONG i = 0; i < 3; i++) {
        PDEVICE_OBJECT d = (PDEVICE_OBJECT)(ULONG_PTR)0xDEAD;
        before = KtIoTagBytes(KT_DEV_TAG);
        st = IoCreateDevice(fdrv, 16, bad[i], FILE_DEVICE_DISK, 0, FALSE, &d);
        if (!KtCheck(Context, st == want[i] && d == NULL && KtIoTagBytes(KT_DEV_TAG) == before &&
                     fdrv->DeviceObject == named, "create_fails", "IoCreateDevice named '%s' returned 0x%x (0x%x), "
                     "device %p (NULL), %lld bytes kept, driver list head %p (%p): a failure leaves nothing", bad[i],
                     st, want[i], d, (LONG64)(KtIoTagBytes(KT_DEV_TAG) - before), fdrv->DeviceObject, named))
            goto out;
    }
    /* No extension: DeviceExtension NULL and Size the bare object; deleting the head of a driver's list. */
    PDEVICE_OBJECT bare = NULL;
    before = KtIoTagBytes(KT_DEV_TAG);
    st = IoCreateDevice(driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &bare);
    if (!KtCheck(Context, NT_SUCCESS(st) && bare != NULL, "create_device", "IoCreateDevice with no extension: 0x%x", st) ||
        !KtCheck(Context, bare->DeviceExtension == NULL && bare->Size == sizeof(DEVICE_OBJECT) &&
                 bare->Flags == DO_DEVICE_INITIALIZING && driver->DeviceObject == bare && bare->NextDevice == base,
                 "extension", "IoCreateDevice(DeviceExtensionSize 0): DeviceExtension %p (NULL), Size %u (%u), Flags 0x%x "
                 "(0x80, not exclusive), head of the driver's list %p (%p) followed by %p (%p)", bare->DeviceExtension,
                 bare->Size, (ULONG)sizeof(DEVICE_OBJECT), bare->Flags, driver->DeviceObject, bare, bare->NextDevice,
                 base))
        goto out;
    /* A device alone is the top of its own stack: attaching it to itself is refused, nothing changes. */
    PDEVICE_OBJECT self = IoAttachDeviceToDeviceStack(bare, bare);
    if (!KtCheck(Context, self == NULL && bare->AttachedDevice == NULL && bare->AttachedTo == NULL &&
                 bare->StackSize == 1, "attach_twice", "IoAttachDeviceToDeviceStack(d, d) of a device in no stack returned "
                 "%p (NULL: the source may not be the target's top), AttachedDevice %p, AttachedTo %p, StackSize %d (1)",
                 self, bare->AttachedDevice, bare->AttachedTo, bare->StackSize))
        goto out;
    IoDeleteDevice(bare);
    if (!KtCheck(Context, driver->DeviceObject == base && base->NextDevice == NULL && KtIoTagBytes(KT_DEV_TAG) == before,
                 "driver_list", "after IoDeleteDevice of the newest device of its driver: list head %p (%p), next %p "
                 "(NULL), %lld bytes kept under 'Devi' (0)", driver->DeviceObject, base, base->NextDevice,
                 (LONG64)(KtIoTagBytes(KT_DEV_TAG) - before)))
        goto out;
    /* A seeded stack: base + filters (unnamed, extension zeroed on dirty pool). */
    PDEVICE_OBJECT stack[KT_MAX_FILTERS + 1];
    PDEVICE_OBJECT newest[KT_MAX_FILTERS + 2];
    stack[0] = base;
    base->StackSize = (CCHAR)KtRandomRange(Context, 1, 3); /* as if base itself sat on a stack */
    base->AlignmentRequirement = (1u << KtRandomRange(Context, 1, 9)) - 1; /* FILE_WORD_ALIGNMENT .. 512 bytes */
    ULONG count = 1;
    newest[0] = named;
    for (ULONG i = 0; i < filters; i++) {
        PDEVICE_OBJECT f = NULL;
        st = IoCreateDevice(fdrv, sizeof(FILTER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &f);
        if (!KtCheck(Context, NT_SUCCESS(st) && f != NULL, "create_device", "IoCreateDevice of filter %u: 0x%x", i, st) ||
            !KtCheck(Context, f->DeviceName[0] == 0 && f->DeviceListEntry.Flink == &f->DeviceListEntry,
                     "unnamed", "an unnamed device has name '%s' and a DeviceListEntry %p not pointing at itself",
                     f->DeviceName, f->DeviceListEntry.Flink))
            goto out;
        /* Attach to the base each time: the filter goes on the top, not on the base. */
        PDEVICE_OBJECT target = (i % 2) ? base : stack[count - 1];
        PDEVICE_OBJECT lower = IoAttachDeviceToDeviceStack(f, target);
        if (!KtCheck(Context, lower == stack[count - 1], "attach_returns_top", "IoAttachDeviceToDeviceStack(filter %u, "
                     "%s) returned %p, expected the old top of the stack %p", i + 1, (i % 2) ? "the base" : "the top",
                     lower, stack[count - 1]))
            goto out;
        stack[count++] = f;
        for (ULONG k = i + 1; k > 0; k--)
            newest[k] = newest[k - 1];
        newest[0] = f;
        char step[48];
        RtlFormatString(step, sizeof(step), "after attaching filter %u", i + 1);
        if (!KtAuditStack(Context, step, stack, count) || !KtCheckDriverList(Context, step, fdrv, newest, i + 2))
            goto out;
    }
    /* A device already in a stack cannot be attached again. */
    PDEVICE_OBJECT again = IoAttachDeviceToDeviceStack(stack[1], base);
    if (!KtCheck(Context, again == NULL, "attach_twice", "attaching a device that is already in a stack returned %p, "
                 "expected NULL", again) ||
        !KtAuditStack(Context, "after a refused attach", stack, count))
        goto out;
    /* Detach the top; then delete it (first of the driver's list), a middle one and the last. */
    IoDetachDevice(stack[count - 2]);
    PDEVICE_OBJECT gone = stack[--count];
    if (!KtAuditStack(Context, "after detaching the top", stack, count) ||
        !KtCheck(Context, gone->AttachedTo == NULL && gone->AttachedDevice == NULL, "detach", "the detached device "
                 "still has AttachedTo %p", gone->AttachedTo))
        goto out;
    /* Detaching from a device nothing is attached to (the new top) does nothing. */
    IoDetachDevice(stack[count - 1]);
    if (!KtAuditStack(Context, "after IoDetachDevice of a device nothing is attached to", stack, count))
        goto out;
    ULONG total = filters + 1;
    IoDeleteDevice(gone); /* newest[0] */
    for (ULONG k = 0; k + 1 < total; k++)
        newest[k] = newest[k + 1];
    total--;
    if (!KtCheckDriverList(Context, "after deleting the newest device", fdrv, newest, total))
        goto out;
    IoDeleteDevice(named); /* the last of the list */
    total--;
    ULONG guard = 0;
    for (PLIST_ENTRY e = IopDeviceList.Flink; e != &IopDeviceList && guard < 64; e = e->Flink, guard++)
        if (!KtCheck(Context, e != &named->DeviceListEntry, "delete_named", "a deleted named device is still on the "
                     "I/O manager's list of named devices (IopDeviceList)"))
            goto out;
    if (!KtCheckDriverList(Context, "after deleting the oldest device", fdrv, newest, total) ||
        !KtCheck(Context, IopFindDevice("\\Device\\KtNamed") == NULL, "delete_named", "a deleted named device is "
                 "still on the I/O manager's list"))
        goto out;
out:
    KtIoCleanup();
}
