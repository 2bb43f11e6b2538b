/* iosvc.c - the file and handle services as a user program calls them (framework, w16f for
 * lab 09): NtCreateFile, NtOpenFile, NtReadFile, NtWriteFile, NtDeviceIoControlFile and
 * NtDuplicateObject through the service table (kernel/include/iosvc.h maps the names), over
 * lab 07's I/O manager and lab 06's object manager.
 *
 * With PreviousMode KernelMode each entry calls the kernel routine of its NT name as it is
 * (a kernel caller is trusted). With UserMode, as NT does:
 *  - every pointer is probed (ProbeForRead/ProbeForWrite of lab 08) and what the service
 *    reads through it is captured once into kernel memory (OBJECT_ATTRIBUTES, then its
 *    STRING, then the name's bytes; a LARGE_INTEGER; a write's data and an ioctl's input in
 *    a pool buffer) - the kernel never reads a user byte twice;
 *  - handles are looked up as user handles (ObReferenceObjectByHandle with UserMode: a
 *    kernel handle is refused, the granted access is checked);
 *  - the IRP says RequestorMode UserMode (so a driver's IoIs32bitProcess sees a WOW64
 *    caller), its buffers are the pool copies, and the request is complete when the service
 *    returns (a pended one is waited for on the file object);
 *  - every output (the new handle, the IO_STATUS_BLOCK, the bytes read) is written with
 *    KeCopyToUser once the request is done: a bad pointer is STATUS_ACCESS_VIOLATION, never
 *    a fault in the kernel. The IO_STATUS_BLOCK and the data are written only for a request
 *    that reached a driver and ended without an error status (below 0xC0000000;
 *    STATUS_END_OF_FILE is an error), as NT does for a synchronous request; an open writes
 *    its handle and block only on success.
 * Departures from NT: names are counted 8-bit STRINGs (ob.h); only absolute names
 * (RootDirectory NULL); \SystemRoot\... names open the boot file system's files read-only
 * through \Device\BootFs (a file object whose FsContext is the BOOT_FILE); no APC
 * arguments. IRQL: PASSIVE_LEVEL (system services). */
#include "io.h"
#include "kuser.h"
#include "ps.h"
#include "rtl.h"
#include "wow64t.h"

#define IOP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IOP_USER_BUFFER_TAG POOL_TAG('I', 'o', 'U', 'b')
#define BOOTFS_DEVICE "\\Device\\BootFs"
#define BOOTFS_PREFIX "\\SystemRoot\\"
/* Rights a read-only file refuses. */
#define IOP_WRITE_RIGHTS (FILE_WRITE_DATA | 0x0004 /* FILE_APPEND_DATA */ | 0x40000000 /* GENERIC_WRITE */ | \
                          0x10000000 /* GENERIC_ALL */ | MAXIMUM_ALLOWED)

/* ---- \Device\BootFs ---- */
static NTSTATUS IopBootFsDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR information = 0;
    if (sp->MajorFunction == IRP_MJ_READ) {
        const BOOT_FILE *file = sp->FileObject ? sp->FileObject->FsContext : NULL;
        LONGLONG offset = sp->Parameters.Read.ByteOffset;
        if (file == NULL || Irp->AssociatedIrp.SystemBuffer == NULL) {
            status = STATUS_INVALID_DEVICE_REQUEST;
        } else if (offset < 0 || (ULONG64)offset >= file->Size) {
            status = STATUS_END_OF_FILE;
        } else {
            SIZE_T n = IOP_MIN((SIZE_T)sp->Parameters.Read.Length, file->Size - (SIZE_T)offset);
            RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, file->Data + offset, n);
            information = n;
        }
    } else if (sp->MajorFunction != IRP_MJ_CREATE && sp->MajorFunction != IRP_MJ_CLOSE) {
        status = STATUS_INVALID_DEVICE_REQUEST;
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS IopBootFsDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = IopBootFsDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = IopBootFsDispatch;
    DriverObject->MajorFunction[IRP_MJ_READ] = IopBootFsDispatch;
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, BOOTFS_DEVICE, FILE_DEVICE_DISK, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

static PDRIVER_OBJECT IopUserDrivers[3];
static ULONG IopUserDriverCount;

NTSTATUS IopStartUserDrivers(VOID)
{
    static const struct {
        PCSTR Device, Driver;
        PDRIVER_INITIALIZE Entry;
    } drivers[] = {
        {"\\Device\\Null", "Null", IopNullDriverEntry},
        {BOOTFS_DEVICE, "BootFs", IopBootFsDriverEntry},
        {"\\Device\\WowSample", "WowSample", IopWowSampleDriverEntry},
    };
    NTSTATUS status = IopInitializeFileType();
    for (ULONG i = 0; i < ARRAYSIZE(drivers) && NT_SUCCESS(status); i++) {
        PDRIVER_OBJECT driver;
        if (IopFindDevice(drivers[i].Device) == NULL) {
            status = IopCreateDriver(drivers[i].Driver, drivers[i].Entry, &driver);
            if (NT_SUCCESS(status) && IopUserDriverCount < ARRAYSIZE(IopUserDrivers))
                IopUserDrivers[IopUserDriverCount++] = driver;
        }
    }
    return status;
}

/* Deletes the drivers IopStartUserDrivers created (newest first) and their devices, so the
 * next test in the same boot (ktest=all) finds the names free and the pool as it was. */
VOID IopStopUserDrivers(VOID)
{
    while (IopUserDriverCount > 0) {
        PDRIVER_OBJECT driver = IopUserDrivers[--IopUserDriverCount];
        while (driver->DeviceObject != NULL)
            IoDeleteDevice(driver->DeviceObject);
        driver->DriverUnload = NULL;
        IopDeleteDriver(driver);
    }
}

/* ---- Capturing ---- */
typedef struct _IOP_CAPTURED_ATTRIBUTES {
    OBJECT_ATTRIBUTES Attributes;
    STRING Name;
    CHAR Buffer[IOP_MAX_USER_NAME + 1];
} IOP_CAPTURED_ATTRIBUTES;

/* A user OBJECT_ATTRIBUTES and its name, read once each into Out (the name terminated).
 * No name, an empty or longer name than IOP_MAX_USER_NAME: STATUS_OBJECT_NAME_INVALID; a
 * RootDirectory: STATUS_INVALID_PARAMETER (absolute names only). */
static NTSTATUS IopCaptureObjectAttributes(POBJECT_ATTRIBUTES User, IOP_CAPTURED_ATTRIBUTES *Out)
{
    OBJECT_ATTRIBUTES oa;
    STRING name;
    NTSTATUS status = ProbeForRead(User, sizeof(oa), sizeof(ULONG));
    if (NT_SUCCESS(status))
        status = KeCopyFromUser(&oa, User, sizeof(oa));
    if (!NT_SUCCESS(status))
        return status;
    if (oa.RootDirectory != NULL)
        return STATUS_INVALID_PARAMETER;
    if (oa.ObjectName == NULL)
        return STATUS_OBJECT_NAME_INVALID;
    status = ProbeForRead(oa.ObjectName, sizeof(name), sizeof(ULONG));
    if (NT_SUCCESS(status))
        status = KeCopyFromUser(&name, oa.ObjectName, sizeof(name));
    if (!NT_SUCCESS(status))
        return status;
    if (name.Length == 0 || name.Length > IOP_MAX_USER_NAME)
        return STATUS_OBJECT_NAME_INVALID;
    status = ProbeForRead(name.Buffer, name.Length, 1);
    if (NT_SUCCESS(status))
        status = KeCopyFromUser(Out->Buffer, name.Buffer, name.Length);
    if (!NT_SUCCESS(status))
        return status;
    Out->Buffer[name.Length] = 0;
    Out->Name.Length = name.Length;
    Out->Name.MaximumLength = (USHORT)(name.Length + 1);
    Out->Name.Buffer = Out->Buffer;
    InitializeObjectAttributes(&Out->Attributes, &Out->Name, oa.Attributes & ~OBJ_KERNEL_HANDLE, NULL);
    return STATUS_SUCCESS;
}

/* ---- Opening ---- */
static BOOLEAN IopIsBootFsName(const STRING *Name)
{
    SIZE_T n = sizeof(BOOTFS_PREFIX) - 1;
    if (Name->Length <= n)
        return FALSE;
    for (SIZE_T i = 0; i < n; i++) {
        CHAR a = Name->Buffer[i], b = BOOTFS_PREFIX[i];
        if ((a >= 'A' && a <= 'Z' ? a + 32 : a) != (b >= 'A' && b <= 'Z' ? b + 32 : b))
            return FALSE;
    }
    return TRUE;
}

/* Opens the captured name for a user caller: a \SystemRoot\ file (read-only) on
 * \Device\BootFs, else the device of that name, through lab 07's NtCreateFile (a kernel
 * handle), then a handle of the current process with DesiredAccess in place of it. */
static NTSTATUS IopOpenForUser(IOP_CAPTURED_ATTRIBUTES *Name, ACCESS_MASK DesiredAccess, PHANDLE Handle,
                               PIO_STATUS_BLOCK IoStatus)
{
    const BOOT_FILE *boot = NULL;
    STRING device;
    POBJECT_ATTRIBUTES oa = &Name->Attributes;
    OBJECT_ATTRIBUTES bootOa;
    if (IopIsBootFsName(&Name->Name)) {
        NTSTATUS status = IoBootFsLookup(Name->Buffer, &boot);
        if (!NT_SUCCESS(status))
            return status;
        if (DesiredAccess & IOP_WRITE_RIGHTS)
            return STATUS_ACCESS_DENIED; /* the boot file system is read-only */
        RtlInitString(&device, BOOTFS_DEVICE);
        InitializeObjectAttributes(&bootOa, &device, 0, NULL);
        oa = &bootOa;
    }
    NTSTATUS status = IopStartUserDrivers();
    if (!NT_SUCCESS(status))
        return status;
    HANDLE kernelHandle = NULL;
    status = NtCreateFile(&kernelHandle, DesiredAccess, oa, IoStatus);
    if (!NT_SUCCESS(status))
        return status;
    PFILE_OBJECT file;
    status = ObReferenceObjectByHandle(kernelHandle, 0, IoFileObjectType, KernelMode, (PVOID *)&file, NULL);
    if (NT_SUCCESS(status)) {
        if (boot != NULL)
            file->FsContext = (PVOID)boot;
        status = ObpCreateHandle(ObOpenHandle, PsGetCurrentProcess(), file, DesiredAccess,
                                 Name->Attributes.Attributes & OBJ_INHERIT, Handle);
        if (!NT_SUCCESS(status))
            ObDereferenceObject(file);
    }
    ObCloseHandle(kernelHandle, KernelMode);
    return status;
}

/* NtCreateFile and NtOpenFile from user mode: FileHandle and IoStatusBlock probed for
 * write, ObjectAttributes captured; on success the handle and the block are written (on a
 * failure neither). */
static NTSTATUS IopOpenService(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                               PIO_STATUS_BLOCK IoStatusBlock)
{
    NTSTATUS status = ProbeForWrite(FileHandle, sizeof(HANDLE), sizeof(ULONG));
    if (NT_SUCCESS(status))
        status = ProbeForWrite(IoStatusBlock, sizeof(IO_STATUS_BLOCK), sizeof(ULONG));
    if (!NT_SUCCESS(status))
        return status;
    IOP_CAPTURED_ATTRIBUTES *name = ExAllocatePoolWithTag(NonPagedPool, sizeof(*name), IOP_USER_BUFFER_TAG);
    if (name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = IopCaptureObjectAttributes(ObjectAttributes, name);
    HANDLE handle = NULL;
    IO_STATUS_BLOCK iosb = {{0}, 0};
    if (NT_SUCCESS(status))
        status = IopOpenForUser(name, DesiredAccess, &handle, &iosb);
    ExFreePoolWithTag(name, IOP_USER_BUFFER_TAG);
    if (!NT_SUCCESS(status))
        return status;
    NTSTATUS copy = KeCopyToUser(FileHandle, &handle, sizeof(handle));
    if (NT_SUCCESS(copy))
        copy = KeCopyToUser(IoStatusBlock, &iosb, sizeof(iosb));
    if (!NT_SUCCESS(copy)) {
        ObCloseHandle(handle, UserMode); /* the caller cannot learn it: not left open */
        return copy;
    }
    return status;
}

/*
 * NtCreateFile (service) - lab 07's shape: FileHandle, DesiredAccess, ObjectAttributes,
 * IoStatusBlock. Kernel mode: lab 07's NtCreateFile. User mode: see IopOpenService.
 */
NTSTATUS IopCreateFileService(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              PIO_STATUS_BLOCK IoStatusBlock)
{
    if (ExGetPreviousMode() == KernelMode)
        return NtCreateFile(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock);
    return IopOpenService(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock);
}

/*
 * NtOpenFile (service) - NtCreateFile's, with ShareAccess and OpenOptions (this kernel keeps
 * no sharing state: they are accepted and ignored).
 */
NTSTATUS IopOpenFileService(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                            PIO_STATUS_BLOCK IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions)
{
    UNREFERENCED_PARAMETER(ShareAccess);
    UNREFERENCED_PARAMETER(OpenOptions);
    return IopCreateFileService(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock);
}

/* ---- Requests ---- */
typedef struct _IOP_USER_REQUEST {
    UCHAR Major;                 /* IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL */
    ULONG Code;                  /* the ioctl's */
    PVOID Input;                 /* user: the data of a write, an ioctl's input */
    ULONG InputLength;
    PVOID Output;                /* user: the buffer of a read, an ioctl's output */
    ULONG OutputLength;
} IOP_USER_REQUEST;

/* Sends Request for a user caller (see the file's comment). */
static NTSTATUS IopUserRequest(const IOP_USER_REQUEST *Request, HANDLE FileHandle, HANDLE Event,
                               PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER ByteOffset)
{
    if (IoStatusBlock == NULL)
        return STATUS_INVALID_PARAMETER; /* lab 07's rule: the block is not optional */
    NTSTATUS status = ProbeForWrite(IoStatusBlock, sizeof(IO_STATUS_BLOCK), sizeof(ULONG));
    LARGE_INTEGER offset = {.QuadPart = 0};
    if (NT_SUCCESS(status) && ByteOffset != NULL) {
        status = ProbeForRead(ByteOffset, sizeof(*ByteOffset), sizeof(ULONG));
        if (NT_SUCCESS(status))
            status = KeCopyFromUser(&offset, ByteOffset, sizeof(offset));
        if (NT_SUCCESS(status) && offset.QuadPart < 0)
            status = STATUS_INVALID_PARAMETER;
    }
    if (NT_SUCCESS(status) && Request->InputLength)
        status = ProbeForRead(Request->Input, Request->InputLength, 1);
    if (NT_SUCCESS(status) && Request->OutputLength)
        status = ProbeForWrite(Request->Output, Request->OutputLength, 1);
    if (!NT_SUCCESS(status))
        return status;
    if (Request->InputLength > IOP_MAX_USER_TRANSFER || Request->OutputLength > IOP_MAX_USER_TRANSFER)
        return STATUS_INSUFFICIENT_RESOURCES;
    /* A NULL type would let ObReferenceObjectByHandle take any object (-2: the thread) as a
     * file or an event: before the first open there is no File type, and no file handle. */
    if (IoFileObjectType == NULL || (Event != NULL && ExEventObjectType == NULL))
        return STATUS_INVALID_HANDLE;
    ACCESS_MASK access = Request->Major == IRP_MJ_READ ? FILE_READ_DATA
                         : Request->Major == IRP_MJ_WRITE ? FILE_WRITE_DATA : 0;
    PFILE_OBJECT file;
    OBJECT_HANDLE_INFORMATION info;
    status = ObReferenceObjectByHandle(FileHandle, access, IoFileObjectType, UserMode, (PVOID *)&file, &info);
    if (!NT_SUCCESS(status))
        return status;
    PKEVENT event = NULL;
    PUCHAR input = NULL, output = NULL;
    if ((info.GrantedAccess & access) != access) {
        status = STATUS_ACCESS_DENIED;
        goto out;
    }
    if (Event != NULL) {
        status = ObReferenceObjectByHandle(Event, EVENT_MODIFY_STATE, ExEventObjectType, UserMode, (PVOID *)&event,
                                           NULL);
        if (!NT_SUCCESS(status)) {
            event = NULL;
            goto out;
        }
        KeClearEvent(event);
    }
    if (Request->InputLength) {
        input = ExAllocatePoolWithTag(NonPagedPool, Request->InputLength, IOP_USER_BUFFER_TAG);
        status = input ? KeCopyFromUser(input, Request->Input, Request->InputLength) : STATUS_INSUFFICIENT_RESOURCES;
        if (!NT_SUCCESS(status))
            goto out;
    }
    if (Request->OutputLength) {
        output = ExAllocatePoolWithTag(NonPagedPool, Request->OutputLength, IOP_USER_BUFFER_TAG);
        if (output == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            goto out;
        }
        RtlZeroMemory(output, Request->OutputLength);
    }
    PDEVICE_OBJECT top = IoGetAttachedDevice(file->DeviceObject);
    IO_STATUS_BLOCK iosb = {{0}, 0};
    LONGLONG start = ByteOffset != NULL ? offset.QuadPart : file->CurrentByteOffset;
    PIRP irp;
    if (Request->Major == IRP_MJ_DEVICE_CONTROL)
        irp = IoBuildDeviceIoControlRequest(Request->Code, top, input, Request->InputLength, output,
                                            Request->OutputLength, FALSE, event, &iosb);
    else if (Request->Major == IRP_MJ_READ)
        irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, top, output, Request->OutputLength, start, event, &iosb);
    else
        irp = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, top, input, Request->InputLength, start, event, &iosb);
    if (irp == NULL) {
        status = STATUS_INSUFFICIENT_RESOURCES;
        goto out;
    }
    irp->RequestorMode = UserMode;
    IoGetNextIrpStackLocation(irp)->FileObject = file;
    irp->Tail.Overlay.OriginalFileObject = file;
    ObReferenceObject(file); /* the request's own: IopCompleteRequest drops it */
    KeClearEvent(&file->Event);
    status = IoCallDriver(top, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&file->Event, Executive, KernelMode, FALSE, NULL);
        status = file->FinalStatus;
    }
    if (Request->Major != IRP_MJ_DEVICE_CONTROL && ByteOffset == NULL && NT_SUCCESS(status))
        file->CurrentByteOffset += iosb.Information;
    /* An error leaves the caller's buffer and block as they were (NT writes the block of a
     * synchronous request only when its status is not an error). */
    NTSTATUS copy = STATUS_SUCCESS;
    if ((ULONG)status < 0xC0000000) {
        if (output != NULL && iosb.Information > 0)
            copy = KeCopyToUser(Request->Output, output, IOP_MIN(iosb.Information, (ULONG_PTR)Request->OutputLength));
        if (NT_SUCCESS(copy))
            copy = KeCopyToUser(IoStatusBlock, &iosb, sizeof(iosb));
        if (!NT_SUCCESS(copy))
            status = copy;
    }
out:
    if (input)
        ExFreePoolWithTag(input, IOP_USER_BUFFER_TAG);
    if (output)
        ExFreePoolWithTag(output, IOP_USER_BUFFER_TAG);
    if (event)
        ObDereferenceObject(event);
    ObDereferenceObject(file);
    return status;
}

/*
 * NtReadFile (service) - lab 07's shape. Kernel mode: lab 07's NtReadFile. User mode: Length
 * bytes at *ByteOffset (captured; negative: STATUS_INVALID_PARAMETER) or at the file's
 * position (which then advances by what was read); Buffer probed for write and written
 * with the bytes the driver gave (IoStatus.Information, at most Length).
 */
NTSTATUS IopReadFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                            ULONG Length, PLARGE_INTEGER ByteOffset)
{
    if (ExGetPreviousMode() == KernelMode)
        return NtReadFile(FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
    IOP_USER_REQUEST r = {IRP_MJ_READ, 0, NULL, 0, Buffer, Length};
    return IopUserRequest(&r, FileHandle, Event, IoStatusBlock, ByteOffset);
}

/*
 * NtWriteFile (service) - as NtReadFile; Buffer probed for read and its Length bytes
 * captured before the request is sent.
 */
NTSTATUS IopWriteFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                             ULONG Length, PLARGE_INTEGER ByteOffset)
{
    if (ExGetPreviousMode() == KernelMode)
        return NtWriteFile(FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
    IOP_USER_REQUEST r = {IRP_MJ_WRITE, 0, Buffer, Length, NULL, 0};
    return IopUserRequest(&r, FileHandle, Event, IoStatusBlock, ByteOffset);
}

/*
 * NtDeviceIoControlFile (service) - lab 07's shape. User mode: the input captured, the
 * output written with what the driver returned (IoStatus.Information bytes, at most
 * OutputBufferLength), the IRP's RequestorMode UserMode.
 */
NTSTATUS IopDeviceIoControlFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock,
                                       ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                                       PVOID OutputBuffer, ULONG OutputBufferLength)
{
    if (ExGetPreviousMode() == KernelMode)
        return NtDeviceIoControlFile(FileHandle, Event, IoStatusBlock, IoControlCode, InputBuffer, InputBufferLength,
                                     OutputBuffer, OutputBufferLength);
    IOP_USER_REQUEST r = {IRP_MJ_DEVICE_CONTROL, IoControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                          OutputBufferLength};
    return IopUserRequest(&r, FileHandle, Event, IoStatusBlock, NULL);
}

/*
 * NtDuplicateObject (service) - NT's shape. User mode: TargetHandle (optional) probed for
 * write; the object manager's NtDuplicateObject writes a kernel local, copied out on success.
 */
NTSTATUS IopDuplicateObjectService(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                                   PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes,
                                   ULONG Options)
{
    if (ExGetPreviousMode() == KernelMode)
        return NtDuplicateObject(SourceProcessHandle, SourceHandle, TargetProcessHandle, TargetHandle, DesiredAccess,
                                 HandleAttributes, Options);
    if (TargetHandle != NULL) {
        NTSTATUS status = ProbeForWrite(TargetHandle, sizeof(HANDLE), sizeof(ULONG));
        if (!NT_SUCCESS(status))
            return status;
    }
    HANDLE target = NULL;
    NTSTATUS status = NtDuplicateObject(SourceProcessHandle, SourceHandle, TargetProcessHandle,
                                        TargetHandle ? &target : NULL, DesiredAccess, HandleAttributes, Options);
    if (NT_SUCCESS(status) && TargetHandle != NULL) {
        NTSTATUS copy = KeCopyToUser(TargetHandle, &target, sizeof(target));
        if (!NT_SUCCESS(copy)) {
            if (TargetProcessHandle == NtCurrentProcess())
                ObCloseHandle(target, UserMode);
            return copy;
        }
    }
    return status;
}
