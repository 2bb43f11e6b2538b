/* file_tests.c - lab 07 public tests of the paths from a handle to a driver: NtCreateFile
 * of a RAM disk with a filter on it (the create goes through the stack; a kernel handle to
 * a file object of the device; an unknown name fails), synchronous writes and reads with
 * and without a byte offset (the disk completes 2 ms later from a timer's DPC: the caller
 * waits on the file object; CurrentByteOffset advances), a device I/O control, access
 * rights and bad handles, and closing (IRP_MJ_CLOSE reaches the stack when the last
 * reference goes); then pended reads and writes with an event: STATUS_PENDING at once,
 * the event cleared, the IO_STATUS_BLOCK written and the event signalled when the disk's
 * DPC completes the request. */
#include "lab07_support.h"
#include "rtl.h"

#define KT_FILE_DISK 65536
static UCHAR KtFileBuffer[4][2048];

static UCHAR KtFilePattern(ULONG Salt, ULONG i)
{
    return (UCHAR)(((i * 37) ^ (Salt * 101) ^ (i >> 7)) | 0x10);
}

typedef struct {
    PDRIVER_OBJECT Disk, Filters;
    PDEVICE_OBJECT Device, Filter;
} KT_FILE_STACK;

static BOOLEAN KtFileStack(PKTEST_CONTEXT Context, KT_FILE_STACK *S, ULONG DelayMs)
{
    NTSTATUS status = IopCreateDriver("RamDisk", IopRamDiskDriverEntry, &S->Disk);
    if (!KtCheck(Context, NT_SUCCESS(status), "driver", "creating the RAM disk driver: 0x%x", status))
        return FALSE;
    KtIoTrackDriver(S->Disk);
    status = IopCreateRamDisk(S->Disk, "\\Device\\KtFileDisk", KT_FILE_DISK, &S->Device);
    if (!KtRequireImplemented(Context, status, "IoCreateDevice", "lab 07") ||
        !KtCheck(Context, NT_SUCCESS(status), "create_device", "the RAM disk device: 0x%x", status) ||
        !KtCreateFilterDriver(Context, &S->Filters))
        return FALSE;
    IopSetRamDiskDelay(S->Device, DelayMs);
    status = IopAddFilter(S->Filters, S->Device, 2, FILTER_CONTINUE, TRUE, TRUE, &S->Filter);
    return !KtIoStubbed(Context) && KtCheck(Context, NT_SUCCESS(status), "attach", "the filter: 0x%x", status);
}

static BOOLEAN KtOpen(PKTEST_CONTEXT Context, PCSTR Name, ACCESS_MASK Access, PHANDLE Handle)
{
    STRING name;
    RtlInitString(&name, Name);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, 0, NULL);
    IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0x5555};
    NTSTATUS status = NtCreateFile(Handle, Access, &oa, &iosb);
    return KtRequireImplemented(Context, status, "NtCreateFile", "lab 07") &&
           KtCheck(Context, status == STATUS_SUCCESS && *Handle != NULL && ObpIsKernelHandle(*Handle),
                   "create_file", "NtCreateFile('%s') returned 0x%x, handle %p: expected STATUS_SUCCESS and a kernel "
                   "handle", Name, status, *Handle) &&
           KtCheck(Context, iosb.Status == STATUS_SUCCESS && iosb.Information == 0, "create_iosb", "NtCreateFile('%s'): "
                   "IO_STATUS_BLOCK 0x%x/%llu, expected the create's STATUS_SUCCESS/0 written back", Name, iosb.Status,
                   (ULONG64)iosb.Information);
}

static BOOLEAN KtDiskHolds(PKTEST_CONTEXT Context, PCSTR Step, PDEVICE_OBJECT Disk, ULONG Offset, ULONG Length,
                           ULONG Salt)
{
    PUCHAR data = IopRamDiskData(Disk) + Offset;
    for (ULONG i = 0; i < Length; i++)
        if (!KtCheck(Context, data[i] == KtFilePattern(Salt, i), "file_data", "%s: the disk's byte %u (offset %u) is "
                     "0x%02x, expected 0x%02x", Step, Offset + i, Offset, data[i], KtFilePattern(Salt, i)))
            return FALSE;
    return TRUE;
}

KTEST("file.sync", KtTestFileSync)
{
    if (!KtIoEnter(Context))
        return;
    KT_FILE_STACK s;
    HANDLE h = NULL, ro = NULL;
    if (!KtFileStack(Context, &s, 2))
        goto out;
    PFILTER_EXTENSION fe = s.Filter->DeviceExtension;
    /* An unknown name. */
    STRING name;
    RtlInitString(&name, "\\Device\\KtNoSuchDevice");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, 0, NULL);
    IO_STATUS_BLOCK iosb;
    HANDLE bad = (HANDLE)(ULONG_PTR)0x1234;
    NTSTATUS st = NtCreateFile(&bad, FILE_ALL_ACCESS, &oa, &iosb);
    if (!KtRequireImplemented(Context, st, "NtCreateFile", "lab 07") ||
        !KtCheck(Context, st == STATUS_OBJECT_NAME_NOT_FOUND && bad == NULL, "create_unknown", "NtCreateFile of a name "
                 "no device has returned 0x%x, handle %p: expected STATUS_OBJECT_NAME_NOT_FOUND, NULL", st, bad))
        goto out;
    if (!KtOpen(Context, "\\Device\\KtFileDisk", FILE_READ_DATA | FILE_WRITE_DATA, &h))
        goto out;
    PFILE_OBJECT file = NULL;
    st = ObReferenceObjectByHandle(h, 0, IoFileObjectType, KernelMode, (PVOID *)&file, NULL);
    if (!KtCheck(Context, NT_SUCCESS(st) && file->Type == IO_TYPE_FILE && file->DeviceObject == s.Device &&
                 file->CurrentByteOffset == 0 && file->Flags == FO_SYNCHRONOUS_IO, "file_object", "the handle names %p "
                 "(status 0x%x): Type %d (5), DeviceObject %p (the disk, %p), CurrentByteOffset %lld (0), Flags 0x%x "
                 "(FO_SYNCHRONOUS_IO 0x%x)", file, st, file ? file->Type : -1, file ? file->DeviceObject : NULL,
                 s.Device, file ? file->CurrentByteOffset : -1, file ? file->Flags : 0, FO_SYNCHRONOUS_IO))
        goto out;
    ObDereferenceObject(file);
    if (!KtCheck(Context, fe->Seen == 1 && fe->SeenMajor[0] == IRP_MJ_CREATE, "create_through_stack", "the filter on "
                 "the disk saw %u requests (first major %u): IRP_MJ_CREATE goes to the top of the stack", fe->Seen,
                 fe->SeenMajor[0]))
        goto out;
    /* Two synchronous writes at the current offset, one at an explicit offset. */
    ULONG len[3] = {(ULONG)KtRandomRange(Context, 1, 4) * RAMDISK_SECTOR, (ULONG)KtRandomRange(Context, 1, 4) *
                    RAMDISK_SECTOR, RAMDISK_SECTOR};
    ULONG at[3] = {0, len[0], (ULONG)KtRandomRange(Context, 16, 100) * RAMDISK_SECTOR};
    for (ULONG k = 0; k < 3; k++) {
        for (ULONG i = 0; i < len[k]; i++)
            KtFileBuffer[k][i] = KtFilePattern(k + 1, i);
        LARGE_INTEGER offset;
        offset.QuadPart = at[k];
        iosb.Status = (NTSTATUS)0xDEADBEEF;
        st = NtWriteFile(h, NULL, &iosb, KtFileBuffer[k], len[k], k == 2 ? &offset : NULL);
        char step[64];
        RtlFormatString(step, sizeof(step), "write %u (%u bytes at %s)", k, len[k], k == 2 ? "an offset" : "the file's");
        if (!KtCheck(Context, st == STATUS_SUCCESS && iosb.Status == STATUS_SUCCESS && iosb.Information == len[k],
                     "sync_write", "%s: NtWriteFile returned 0x%x, IO_STATUS_BLOCK 0x%x/%llu; expected the finished "
                     "request's STATUS_SUCCESS/%u (no event: the caller waits on the file)", step, st, iosb.Status,
                     (ULONG64)iosb.Information, len[k]) ||
            !KtDiskHolds(Context, step, s.Device, at[k], len[k], k + 1))
            goto out;
    }
    st = ObReferenceObjectByHandle(h, 0, IoFileObjectType, KernelMode, (PVOID *)&file, NULL);
    if (!NT_SUCCESS(st))
        goto out;
    LONGLONG cur = file->CurrentByteOffset;
    ObDereferenceObject(file);
    if (!KtCheck(Context, cur == len[0] + len[1], "byte_offset", "CurrentByteOffset is %lld after writes of %u and %u "
                 "bytes at the file's offset and one at an explicit offset: expected %u", cur, len[0], len[1],
                 len[0] + len[1]))
        goto out;
    /* A synchronous read back at an explicit offset. */
    LARGE_INTEGER offset;
    offset.QuadPart = at[1];
    KtIoPoison(Context, KtFileBuffer[3], len[1], 7);
    st = NtReadFile(h, NULL, &iosb, KtFileBuffer[3], len[1], &offset);
    if (!KtCheck(Context, st == STATUS_SUCCESS && iosb.Information == len[1], "sync_read", "NtReadFile of %u bytes: "
                 "0x%x, IO_STATUS_BLOCK 0x%x/%llu", len[1], st, iosb.Status, (ULONG64)iosb.Information))
        goto out;
    for (ULONG i = 0; i < len[1]; i++)
        if (!KtCheck(Context, KtFileBuffer[3][i] == KtFilePattern(2, i), "file_data", "read back: byte %u is 0x%02x, "
                     "expected 0x%02x", i, KtFileBuffer[3][i], KtFilePattern(2, i)))
            goto out;
    /* A device I/O control through the handle. */
    ULONG64 size = 0;
    st = NtDeviceIoControlFile(h, NULL, &iosb, IOCTL_RAMDISK_GET_LENGTH, NULL, 0, &size, sizeof(size));
    if (!KtCheck(Context, st == STATUS_SUCCESS && size == KT_FILE_DISK && iosb.Information == sizeof(size),
                 "file_ioctl", "NtDeviceIoControlFile(IOCTL_RAMDISK_GET_LENGTH): 0x%x, length %llu (%u), Information "
                 "%llu (8)", st, size, KT_FILE_DISK, (ULONG64)iosb.Information))
        goto out;
    if (!KtCheck(Context, fe->Seen == 6, "through_stack", "the filter on the disk saw %u requests, expected 6 (the "
                 "create, three writes, a read, a device control): every request on a file goes to the top of its "
                 "device's stack", fe->Seen))
        goto out;
    /* Access rights, bad handles. */
    if (!KtOpen(Context, "\\Device\\KtFileDisk", FILE_READ_DATA, &ro))
        goto out;
    ULONG seen = fe->Seen;
    st = NtWriteFile(ro, NULL, &iosb, KtFileBuffer[0], RAMDISK_SECTOR, &offset);
    if (!KtCheck(Context, st == STATUS_ACCESS_DENIED && fe->Seen == seen, "access", "NtWriteFile on a handle opened "
                 "for FILE_READ_DATA only returned 0x%x and sent %u requests: expected STATUS_ACCESS_DENIED, nothing "
                 "sent", st, fe->Seen - seen))
        goto out;
    st = NtReadFile((HANDLE)(ULONG_PTR)0xFFFFFFFF80000FF0ULL, NULL, &iosb, KtFileBuffer[0], RAMDISK_SECTOR, &offset);
    if (!KtCheck(Context, st == STATUS_INVALID_HANDLE, "bad_handle", "NtReadFile of a handle that names nothing: 0x%x, "
                 "expected STATUS_INVALID_HANDLE", st))
        goto out;
    st = NtReadFile(h, ro, &iosb, KtFileBuffer[0], RAMDISK_SECTOR, &offset);
    if (!KtCheck(Context, st == STATUS_OBJECT_TYPE_MISMATCH && fe->Seen == seen, "bad_handle", "NtReadFile with a file "
                 "handle as its event: 0x%x, expected STATUS_OBJECT_TYPE_MISMATCH, nothing sent", st))
        goto out;
    /* Closing: IRP_MJ_CLOSE goes down the stack when each file's last reference goes. */
    ObCloseHandle(ro, KernelMode);
    ro = NULL;
    ObCloseHandle(h, KernelMode);
    h = NULL;
    ULONG closes = 0;
    for (ULONG i = 0; i < fe->Seen && i < sizeof(fe->SeenMajor); i++)
        closes += fe->SeenMajor[i] == IRP_MJ_CLOSE;
    if (!KtCheck(Context, closes == 2 && fe->SeenMajor[fe->Seen - 1] == IRP_MJ_CLOSE, "close", "after closing both "
                 "handles the filter saw %u IRP_MJ_CLOSE requests (2: the file objects were deleted, their close sent)",
                 closes))
        goto out;
    /* A device I/O control needs no access right: a handle opened for writing only. */
    if (!KtOpen(Context, "\\Device\\KtFileDisk", FILE_WRITE_DATA, &ro))
        goto out;
    size = 0;
    st = NtDeviceIoControlFile(ro, NULL, &iosb, IOCTL_RAMDISK_GET_LENGTH, NULL, 0, &size, sizeof(size));
    KtCheck(Context, st == STATUS_SUCCESS && size == KT_FILE_DISK, "file_ioctl", "NtDeviceIoControlFile on a handle "
            "opened for FILE_WRITE_DATA only returned 0x%x, length %llu: expected STATUS_SUCCESS (a device control "
            "asks for no access right)", st, size);
out:
    if (ro != NULL)
        ObCloseHandle(ro, KernelMode);
    if (h != NULL)
        ObCloseHandle(h, KernelMode);
    KtIoCleanup();
}

/* An event object with a kernel handle, created signalled (the service must clear it). */
static BOOLEAN KtCreateEventHandle(PKTEST_CONTEXT Context, PKEVENT *Event, PHANDLE Handle)
{
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL);
    NTSTATUS st = ObCreateObject(KernelMode, ExEventObjectType, &oa, sizeof(KEVENT), (PVOID *)Event);
    if (!KtCheck(Context, NT_SUCCESS(st), "event_object", "ObCreateObject of an event: 0x%x", st))
        return FALSE;
    KeInitializeEvent(*Event, NotificationEvent, TRUE);
    st = ObInsertObject(*Event, EVENT_ALL_ACCESS, OBJ_KERNEL_HANDLE, Handle);
    return KtCheck(Context, NT_SUCCESS(st), "event_object", "ObInsertObject of an event: 0x%x", st);
}

KTEST("file.pended", KtTestFilePended)
{
    if (!KtIoEnter(Context))
        return;
    KT_FILE_STACK s;
    HANDLE h = NULL, eh = NULL;
    /* 20 ms: a relative timer expires at the first clock tick (4 ms apart) past its due time,
     * measured from the last tick, so a short delay can expire right after the call returns;
     * five ticks leave the check below time to see the request still pending, on every seed. */
    if (!KtFileStack(Context, &s, 20))
        goto out;
    if (!KtOpen(Context, "\\Device\\KtFileDisk", FILE_READ_DATA | FILE_WRITE_DATA, &h))
        goto out;
    PKEVENT event;
    if (!KtCreateEventHandle(Context, &event, &eh))
        goto out;
    ULONG len = (ULONG)KtRandomRange(Context, 1, 4) * RAMDISK_SECTOR;
    ULONG at = (ULONG)KtRandomRange(Context, 0, 100) * RAMDISK_SECTOR;
    LONG_PTR eventRefs = OBJECT_TO_OBJECT_HEADER(event)->PointerCount;
    for (ULONG pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        PUCHAR buf = KtFileBuffer[pass];
        if (write)
            for (ULONG i = 0; i < len; i++)
                buf[i] = KtFilePattern(9, i);
        else
            KtIoPoison(Context, buf, len, 11);
        IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0x5555};
        LARGE_INTEGER offset;
        offset.QuadPart = at;
        NTSTATUS st = write ? NtWriteFile(h, eh, &iosb, buf, len, &offset) : NtReadFile(h, eh, &iosb, buf, len, &offset);
        PCSTR what = write ? "NtWriteFile" : "NtReadFile";
        if (!KtRequireImplemented(Context, st, what, "lab 07") ||
            !KtCheck(Context, st == STATUS_PENDING, "pended_return", "%s with an event of a request the disk "
                     "completes 20 ms later returned 0x%x, expected STATUS_PENDING at once", what, st) ||
            !KtCheck(Context, KeReadStateEvent(event) == 0 && iosb.Status == (NTSTATUS)0xDEADBEEF, "pended_untouched",
                     "%s returned STATUS_PENDING but the event is %s and the IO_STATUS_BLOCK holds 0x%x: the event "
                     "is cleared first, and nothing is written until the request completes", what,
                     KeReadStateEvent(event) ? "signalled" : "clear", iosb.Status))
            goto out;
        st = KeWaitForSingleObject(event, Executive, KernelMode, FALSE, NULL);
        if (!KtCheck(Context, st == STATUS_SUCCESS && iosb.Status == STATUS_SUCCESS && iosb.Information == len,
                     "pended_completes", "%s: after the event was signalled (wait 0x%x) the IO_STATUS_BLOCK holds "
                     "0x%x/%llu, expected STATUS_SUCCESS/%u", what, st, iosb.Status, (ULONG64)iosb.Information, len))
            goto out;
        if (!KtCheck(Context, OBJECT_TO_OBJECT_HEADER(event)->PointerCount == eventRefs, "event_reference", "%s: "
                     "after the request the event object holds %lld pointer references, %lld before: the reference "
                     "the service took on the event is dropped when IoCallDriver returns", what,
                     (LONG64)OBJECT_TO_OBJECT_HEADER(event)->PointerCount, (LONG64)eventRefs))
            goto out;
        if (write && !KtDiskHolds(Context, "a pended write", s.Device, at, len, 9))
            goto out;
        for (ULONG i = 0; !write && i < len; i++)
            if (!KtCheck(Context, buf[i] == KtFilePattern(9, i), "file_data", "a pended read: byte %u is 0x%02x, "
                         "expected 0x%02x", i, buf[i], KtFilePattern(9, i)))
                goto out;
    }
    PFILE_OBJECT file;
    NTSTATUS st = ObReferenceObjectByHandle(h, 0, IoFileObjectType, KernelMode, (PVOID *)&file, NULL);
    if (NT_SUCCESS(st)) {
        KtCheck(Context, file->CurrentByteOffset == 0, "byte_offset", "requests with an explicit offset moved "
                "CurrentByteOffset to %lld", file->CurrentByteOffset);
        ObDereferenceObject(file);
    }
out:
    if (eh != NULL)
        ObCloseHandle(eh, KernelMode);
    if (h != NULL)
        ObCloseHandle(h, KernelMode);
    KtIoCleanup();
}

/* NtCreateFile's failures: no IO_STATUS_BLOCK; a device whose create fails at once and one
 * whose create pends and then fails (the caller waits on the file and takes its
 * FinalStatus): the status returned, *FileHandle NULL, the file object deleted (no file
 * object left behind), the IO_STATUS_BLOCK holding the failure. */
KTEST("file.create_fails", KtTestFileCreateFails)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT dev;
    if (!KtCreateBase(Context, &driver, &dev))
        goto out;
    /* Name the base device by the framework's hands, so NtCreateFile finds it. */
    RtlCopyMemory(dev->DeviceName, "\\Device\\KtRefuses", sizeof("\\Device\\KtRefuses"));
    KIRQL irql;
    KeAcquireSpinLock(&IopDatabaseLock, &irql);
    InsertTailList(&IopDeviceList, &dev->DeviceListEntry);
    KeReleaseSpinLock(&IopDatabaseLock, irql);
    PKT_BASE_EXTENSION ext = dev->DeviceExtension;
    static const NTSTATUS fails[3] = {STATUS_ACCESS_DENIED, STATUS_END_OF_FILE, STATUS_DEVICE_DATA_ERROR};
    STRING name;
    RtlInitString(&name, "\\Device\\KtRefuses");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, 0, NULL);
    HANDLE h = (HANDLE)(ULONG_PTR)0x1234;
    NTSTATUS st = NtCreateFile(&h, FILE_ALL_ACCESS, &oa, NULL);
    if (!KtRequireImplemented(Context, st, "NtCreateFile", "lab 07") ||
        !KtCheck(Context, st == STATUS_INVALID_PARAMETER && h == NULL && ext->Seen == 0, "create_invalid", "NtCreateFile "
                 "with no IO_STATUS_BLOCK returned 0x%x, handle %p, the device saw %u requests: expected "
                 "STATUS_INVALID_PARAMETER, NULL, none", st, h, ext->Seen))
        goto out;
    for (ULONG k = 0; k < 2; k++) {
        ext->Mode = k == 0 ? KT_BASE_SYNC : KT_BASE_PEND;
        ext->Status = fails[KtRandomRange(Context, 0, 2)];
        ext->Information = 0;
        LONG files = IoFileObjectType ? IoFileObjectType->TotalNumberOfObjects : 0;
        IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0x5555};
        h = (HANDLE)(ULONG_PTR)0x1234;
        st = NtCreateFile(&h, FILE_ALL_ACCESS, &oa, &iosb);
        PCSTR how = k == 0 ? "fails at once" : "pends, then fails from its DPC";
        if (!KtCheck(Context, st == ext->Status && h == NULL, "create_fails", "NtCreateFile of a device whose create %s "
                     "with 0x%x returned 0x%x, handle %p: expected that status and a NULL handle%s", how, ext->Status,
                     st, h, k ? " (STATUS_PENDING: wait on the file's Event and take its FinalStatus)" : "") ||
            !KtCheck(Context, iosb.Status == ext->Status, "create_iosb", "NtCreateFile of a device whose create %s: "
                     "IO_STATUS_BLOCK 0x%x, expected 0x%x", how, iosb.Status, ext->Status) ||
            !KtCheck(Context, ext->Copy.MajorFunction == IRP_MJ_CREATE && ext->Copy.FileObject != NULL &&
                     ext->LastLocation == 1, "create_through_stack", "NtCreateFile: the device was given location %d "
                     "with major %u and FileObject %p: expected its own location 1, IRP_MJ_CREATE and the new file "
                     "object", ext->LastLocation, ext->Copy.MajorFunction, ext->Copy.FileObject) ||
            !KtCheck(Context, IoFileObjectType != NULL && IoFileObjectType->TotalNumberOfObjects == files,
                     "create_fails", "NtCreateFile of a device whose create %s left %d file objects (%d before): a "
                     "failed create dereferences its file object, which is deleted", how,
                     IoFileObjectType ? IoFileObjectType->TotalNumberOfObjects : -1, files))
            goto out;
    }
out:
    KtIoCleanup();
}
