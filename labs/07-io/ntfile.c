/* ntfile.c - lab 07: the paths from a handle to a driver. NtCreateFile opens a device:
 * a file object (lab 06's object manager) that an IRP_MJ_CREATE has been sent for, and a
 * handle to it. NtReadFile, NtWriteFile and NtDeviceIoControlFile turn a file handle into
 * an IRP for the top of the device's stack. A request that a driver pends either makes
 * the caller wait on the file object (no event given: synchronous I/O), or returns
 * STATUS_PENDING and the caller waits on the event it gave. Either way the
 * IO_STATUS_BLOCK is written when the request completes (IopCompleteRequest). */
#include "io.h"

/*
 * NtCreateFile - open the device ObjectAttributes->ObjectName names (a device name such as
 * "\Device\Null", as IoCreateDevice was given it).
 * Contract: IRQL == PASSIVE_LEVEL, kernel-mode caller. *FileHandle is NULL on every failure.
 * ObjectAttributes or IoStatusBlock NULL: STATUS_INVALID_PARAMETER. The File type is made
 * ready with IopInitializeFileType (its failure returned). No device of that name:
 * STATUS_OBJECT_NAME_NOT_FOUND. Otherwise a file object (ObCreateObject of
 * IoFileObjectType, no name, sizeof(FILE_OBJECT)) with every field zero but Type =
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
    /* LAB 07: find the device, a file object, IRP_MJ_CREATE to the stack's top (wait if pended), a kernel handle. */
    UNREFERENCED_PARAMETER(FileHandle);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(ObjectAttributes);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 07: the file and event from their handles, an IRP_MJ_READ for the stack's top, wait on the file if no event. */
    UNREFERENCED_PARAMETER(FileHandle);
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    UNREFERENCED_PARAMETER(ByteOffset);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * NtWriteFile - NtReadFile's contract for IRP_MJ_WRITE, with FILE_WRITE_DATA.
 */
NTSTATUS NtWriteFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                     PLARGE_INTEGER ByteOffset)
{
    /* LAB 07: as NtReadFile, with IRP_MJ_WRITE and FILE_WRITE_DATA. */
    UNREFERENCED_PARAMETER(FileHandle);
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    UNREFERENCED_PARAMETER(ByteOffset);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 07: as NtReadFile, with IoBuildDeviceIoControlRequest. */
    UNREFERENCED_PARAMETER(FileHandle);
    UNREFERENCED_PARAMETER(Event);
    UNREFERENCED_PARAMETER(IoStatusBlock);
    UNREFERENCED_PARAMETER(IoControlCode);
    UNREFERENCED_PARAMETER(InputBuffer);
    UNREFERENCED_PARAMETER(InputBufferLength);
    UNREFERENCED_PARAMETER(OutputBuffer);
    UNREFERENCED_PARAMETER(OutputBufferLength);
    return STATUS_NOT_IMPLEMENTED;
}
