/* ntfile.c - lab 07: the paths from a handle to a driver. NtCreateFile opens a device:
 * a file object (lab 06's object manager) that an IRP_MJ_CREATE has been sent for, and a
 * handle to it. NtReadFile, NtWriteFile and NtDeviceIoControlFile turn a file handle into
 * an IRP for the top of the device's stack. A request that a driver pends either makes
 * the caller wait on the file object (no event given: synchronous I/O), or returns
 * STATUS_PENDING and the caller waits on the event it gave. Either way the
 * IO_STATUS_BLOCK is written when the request completes (IopCompleteRequest). */
#include "io.h"

/* The device a STRING names (at most DEVICE_NAME_LENGTH - 1 characters), or NULL. */
static PDEVICE_OBJECT IopDeviceByName(PSTRING Name)
{
    CHAR text[DEVICE_NAME_LENGTH];
    if (Name == NULL || Name->Buffer == NULL || Name->Length == 0 || Name->Length >= DEVICE_NAME_LENGTH)
        return NULL;
    for (USHORT i = 0; i < Name->Length; i++)
        text[i] = Name->Buffer[i];
    text[Name->Length] = 0;
    return IopFindDevice(text);
}

/*
 * NtCreateFile - open the device ObjectAttributes->ObjectName names (a device name such as
 * "\Device\Null", as IoCreateDevice was given it).
 * Contract: IRQL == PASSIVE_LEVEL, kernel-mode caller. *FileHandle is NULL on every failure.
 * ObjectAttributes or IoStatusBlock NULL: STATUS_INVALID_PARAMETER. The File type is made
 * ready with IopInitializeFileType (its failure returned). No device of that name:
 * STATUS_OBJECT_NAME_NOT_FOUND. Otherwise a file object (ObCreateObject of
 * IoFileObjectType, no name, OBJ_KERNEL_HANDLE, sizeof(FILE_OBJECT)) with every field zero but Type =
 * IO_TYPE_FILE, Size, Flags = FO_SYNCHRONOUS_IO and Event a notification event not
 * signalled; an IRP of the stack top's StackSize (IoGetAttachedDevice) whose next location
 * is IRP_MJ_CREATE with FileObject = the file, Tail.Overlay.OriginalFileObject = the file
 * (holding one more reference, which IopCompleteRequest drops), UserIosb = IoStatusBlock,
 * the current thread; sent with IoCallDriver to the top. STATUS_PENDING: wait on the file's
 * Event and take its FinalStatus. A failed create dereferences the file (deleted without a
 * close) and returns the status. Success: DeviceObject = the named device, then
 * ObInsertObject(file, DesiredAccess, OBJ_KERNEL_HANDLE, FileHandle) (its status returned).
 */
NTSTATUS NtCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                      PIO_STATUS_BLOCK IoStatusBlock)
{
    *FileHandle = NULL;
    if (ObjectAttributes == NULL || IoStatusBlock == NULL)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = IopInitializeFileType();
    if (!NT_SUCCESS(status))
        return status;
    PDEVICE_OBJECT device = IopDeviceByName(ObjectAttributes->ObjectName);
    if (device == NULL)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    OBJECT_ATTRIBUTES unnamed;
    InitializeObjectAttributes(&unnamed, NULL, OBJ_KERNEL_HANDLE, NULL);
    PFILE_OBJECT file;
    status = ObCreateObject(KernelMode, IoFileObjectType, &unnamed, sizeof(FILE_OBJECT), (PVOID *)&file);
    if (!NT_SUCCESS(status))
        return status;
    PUCHAR p = (PUCHAR)file;
    for (SIZE_T i = 0; i < sizeof(*file); i++)
        p[i] = 0;
    file->Type = IO_TYPE_FILE;
    file->Size = sizeof(FILE_OBJECT);
    file->Flags = FO_SYNCHRONOUS_IO;
    KeInitializeEvent(&file->Event, NotificationEvent, FALSE);
    PDEVICE_OBJECT top = IoGetAttachedDevice(device);
    PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
    if (irp == NULL) {
        ObDereferenceObject(file);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_CREATE;
    sp->FileObject = file;
    ObReferenceObject(file);
    irp->Tail.Overlay.OriginalFileObject = file;
    irp->UserIosb = IoStatusBlock;
    irp->Tail.Overlay.Thread = KeGetCurrentThread();
    status = IoCallDriver(top, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&file->Event, Executive, KernelMode, FALSE, NULL);
        status = file->FinalStatus;
    }
    if (!NT_SUCCESS(status)) {
        ObDereferenceObject(file);
        return status;
    }
    file->DeviceObject = device;
    return ObInsertObject(file, DesiredAccess, OBJ_KERNEL_HANDLE, FileHandle);
}

/* The common part of the three services: the file object and event of the handles (each
 * referenced), the access checked. */
static NTSTATUS IopReferenceFile(HANDLE FileHandle, ACCESS_MASK Access, HANDLE Event, PFILE_OBJECT *File,
                                 PKEVENT *EventObject)
{
    OBJECT_HANDLE_INFORMATION info;
    *EventObject = NULL;
    NTSTATUS status = ObReferenceObjectByHandle(FileHandle, Access, IoFileObjectType, KernelMode, (PVOID *)File,
                                                &info);
    if (!NT_SUCCESS(status))
        return status;
    if ((info.GrantedAccess & Access) != Access) {
        ObDereferenceObject(*File);
        return STATUS_ACCESS_DENIED;
    }
    if (Event != NULL) {
        status = ObReferenceObjectByHandle(Event, EVENT_MODIFY_STATE, ExEventObjectType, KernelMode,
                                           (PVOID *)EventObject, NULL);
        if (!NT_SUCCESS(status)) {
            ObDereferenceObject(*File);
            return status;
        }
        KeClearEvent(*EventObject);
    }
    return STATUS_SUCCESS;
}

/* Sends Irp (built for File's stack) and finishes the call as the service contracts say. */
static NTSTATUS IopSendFileRequest(PFILE_OBJECT File, PKEVENT Event, PIRP Irp, PIO_STATUS_BLOCK IoStatusBlock,
                                   BOOLEAN Transfer)
{
    IoGetNextIrpStackLocation(Irp)->FileObject = File;
    Irp->Tail.Overlay.OriginalFileObject = File; /* the reference of the handle lookup: dropped at completion */
    KeClearEvent(&File->Event);
    NTSTATUS status = IoCallDriver(IoGetAttachedDevice(File->DeviceObject), Irp);
    if (Event != NULL) {
        ObDereferenceObject(Event);
        return status;
    }
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&File->Event, Executive, KernelMode, FALSE, NULL);
        status = File->FinalStatus;
    }
    if (Transfer && NT_SUCCESS(status))
        File->CurrentByteOffset += IoStatusBlock->Information;
    return status;
}

/* NtReadFile and NtWriteFile. */
static NTSTATUS IopReadWrite(UCHAR Major, HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock,
                             PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset)
{
    if (IoStatusBlock == NULL)
        return STATUS_INVALID_PARAMETER;
    PFILE_OBJECT file;
    PKEVENT event;
    NTSTATUS status = IopReferenceFile(FileHandle, Major == IRP_MJ_READ ? FILE_READ_DATA : FILE_WRITE_DATA, Event,
                                       &file, &event);
    if (!NT_SUCCESS(status))
        return status;
    LONGLONG offset = ByteOffset != NULL ? ByteOffset->QuadPart : file->CurrentByteOffset;
    PIRP irp = IoBuildSynchronousFsdRequest(Major, IoGetAttachedDevice(file->DeviceObject), Buffer, Length, offset,
                                            event, IoStatusBlock);
    if (irp == NULL) {
        if (event != NULL)
            ObDereferenceObject(event);
        ObDereferenceObject(file);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    return IopSendFileRequest(file, event, irp, IoStatusBlock, ByteOffset == NULL);
}

/*
 * NtReadFile - read Length bytes into Buffer from the file FileHandle names, at *ByteOffset,
 * or at the file's CurrentByteOffset when ByteOffset is NULL.
 * Contract: IRQL == PASSIVE_LEVEL, kernel-mode caller. IoStatusBlock NULL:
 * STATUS_INVALID_PARAMETER. The handle must name a file (ObReferenceObjectByHandle of
 * IoFileObjectType: its failure status) granted FILE_READ_DATA (else STATUS_ACCESS_DENIED,
 * nothing sent); Event, if not NULL, must name an event object (its failure status), which
 * is cleared. The IRP is IoBuildSynchronousFsdRequest(IRP_MJ_READ, the stack's top, ...,
 * the event or NULL, IoStatusBlock); its next location's FileObject and its
 * Tail.Overlay.OriginalFileObject are the file (the lookup's reference goes with the IRP
 * and IopCompleteRequest drops it); the file's Event is cleared; it is sent to the top of
 * the file's device stack. With an Event: its reference is dropped when IoCallDriver
 * returns (the caller keeps its handle open until the request completes) and the service
 * returns what IoCallDriver returned (the caller waits on its event when STATUS_PENDING). Without: a STATUS_PENDING request is waited for
 * on the file's Event and its FinalStatus returned; then, when ByteOffset was NULL and the
 * status is a success, CurrentByteOffset advances by IoStatusBlock->Information.
 */
NTSTATUS NtReadFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                    PLARGE_INTEGER ByteOffset)
{
    return IopReadWrite(IRP_MJ_READ, FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
}

/*
 * NtWriteFile - NtReadFile's contract for IRP_MJ_WRITE, with FILE_WRITE_DATA.
 */
NTSTATUS NtWriteFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                     PLARGE_INTEGER ByteOffset)
{
    return IopReadWrite(IRP_MJ_WRITE, FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
}

/*
 * NtDeviceIoControlFile - send IoControlCode with its buffers to the file's device stack.
 * Contract: IRQL == PASSIVE_LEVEL, kernel-mode caller. As NtReadFile (no access right
 * required beyond a valid file handle: DesiredAccess 0), with the IRP from
 * IoBuildDeviceIoControlRequest(IoControlCode, the stack's top, the buffers, FALSE, the
 * event or NULL, IoStatusBlock); CurrentByteOffset never changes.
 */
NTSTATUS NtDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, ULONG IoControlCode,
                               PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                               ULONG OutputBufferLength)
{
    if (IoStatusBlock == NULL)
        return STATUS_INVALID_PARAMETER;
    PFILE_OBJECT file;
    PKEVENT event;
    NTSTATUS status = IopReferenceFile(FileHandle, 0, Event, &file, &event);
    if (!NT_SUCCESS(status))
        return status;
    PIRP irp = IoBuildDeviceIoControlRequest(IoControlCode, IoGetAttachedDevice(file->DeviceObject), InputBuffer,
                                             InputBufferLength, OutputBuffer, OutputBufferLength, FALSE, event,
                                             IoStatusBlock);
    if (irp == NULL) {
        if (event != NULL)
            ObDereferenceObject(event);
        ObDereferenceObject(file);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    return IopSendFileRequest(file, event, irp, IoStatusBlock, FALSE);
}
