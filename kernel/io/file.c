/* file.c - file objects (framework, lab 07): the File object type of lab 06's object
 * manager. A file object is one open of a device; when its last reference goes, its
 * delete method sends IRP_MJ_CLOSE down the device's stack (synchronously: the framework
 * waits on an event if a driver pends it). The paths from a handle to a
 * driver (NtCreateFile, NtReadFile...) are the student's (labs/07-io/file.c). */
#include "io.h"
#include "ps.h"
#include "rtl.h"

POBJECT_TYPE IoFileObjectType;

static VOID IopDeleteFile(PVOID Object)
{
    PFILE_OBJECT file = Object;
    if (file->DeviceObject == NULL)
        return; /* never opened: no close to send */
    PDEVICE_OBJECT top = IoGetAttachedDevice(file->DeviceObject);
    PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
    if (irp == NULL)
        return;
    IO_STATUS_BLOCK iosb;
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_CLOSE;
    sp->FileObject = file;
    irp->UserIosb = &iosb;
    irp->UserEvent = &event;
    irp->Tail.Overlay.Thread = KeGetCurrentThread();
    if (IoCallDriver(top, irp) == STATUS_PENDING)
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
}

NTSTATUS IopInitializeFileType(VOID)
{
    NTSTATUS status = PsInitializeObjects(); /* again after a test took the object manager down */
    if (!NT_SUCCESS(status) || IoFileObjectType != NULL)
        return status;
    OBJECT_TYPE_INITIALIZER init;
    RtlZeroMemory(&init, sizeof(init));
    init.ValidAccessMask = FILE_ALL_ACCESS;
    init.PoolType = NonPagedPool;
    init.PoolTag = POOL_TAG('F', 'i', 'l', 'e');
    init.DeleteProcedure = IopDeleteFile;
    return ObCreateObjectType("File", &init, &IoFileObjectType);
}
