/* io_tests.c - lab 07 public tests of requests with buffers, pended I/O, cancellation and
 * the framework's devices: buffered reads and the four device I/O control methods with
 * seeded lengths (every byte the driver sees and every byte the caller gets back, guard
 * bytes around every buffer, the pool given back); pended RAM-disk writes and reads that
 * complete later from the disk's DPC and then write the IO_STATUS_BLOCK and signal the
 * event; a filter that sees and changes every request to the disk; cancellation of queued
 * requests from a DPC that runs ahead of the disk's (a seeded set, judged by the model);
 * and a device that completes its request from its interrupt's DPC. */
#include "hal.h"
#include "lab07_support.h"
#include "mm.h"
#include "rtl.h"

#define KT_TAG_IRP POOL_TAG('I', 'r', 'p', ' ')
#define KT_TAG_BUF POOL_TAG('I', 'o', 'B', 'f')
#define KT_TAG_MDL POOL_TAG('M', 'd', 'l', ' ')
#define KT_GUARD 32

/* The event of a request (a lab 05 notification event) and whether it is signalled. */
#define KT_EVENT(e) (e)
#define KT_SIGNALLED(e) (KeReadStateEvent(e) != 0)

static UCHAR KtPattern(ULONG Salt, ULONG i)
{
    return (UCHAR)((i * 131 + Salt * 29 + (i >> 8)) ^ 0xA5) | 1;
}

static BOOLEAN KtPoolBalanced(PKTEST_CONTEXT Context, PCSTR Step, const SIZE_T Before[3])
{
    static const ULONG tags[3] = {KT_TAG_IRP, KT_TAG_BUF, KT_TAG_MDL};
    static const char *const names[3] = {"'Irp ' (the IRP)", "'IoBf' (the system buffer)", "'Mdl ' (the MDL)"};
    for (ULONG i = 0; i < 3; i++)
        if (!KtCheck(Context, KtIoTagBytes(tags[i]) == Before[i], "pool_returned", "%s: %lld bytes of %s still "
                     "allocated after the request completed: IopCompleteRequest frees the buffer, every MDL and the "
                     "IRP", Step, (LONG64)(KtIoTagBytes(tags[i]) - Before[i]), names[i]))
            return FALSE;
    return TRUE;
}

static VOID KtPoolSnapshot(SIZE_T Before[3])
{
    Before[0] = KtIoTagBytes(KT_TAG_IRP);
    Before[1] = KtIoTagBytes(KT_TAG_BUF);
    Before[2] = KtIoTagBytes(KT_TAG_MDL);
}

/* ---- The echo driver: what it saw of a device I/O control request ---- */
typedef struct {
    ULONG Salt;          /* the input pattern's salt */
    ULONG Written;       /* output bytes it writes (Information) */
    ULONG Calls;
    ULONG Method;
    PVOID SystemBuffer;
    ULONG Flags;
    PMDL Mdl;
    MDL MdlCopy;         /* the MDL as the driver saw it (it is freed at completion) */
    ULONG64 Pfn[2];
    PVOID Type3InputBuffer;
    PVOID UserBuffer;
    ULONG InLength, OutLength;
    UCHAR Major;
    BOOLEAN InputOk;     /* every input byte as the caller gave it */
    ULONG BadInput;      /* the first wrong byte */
    BOOLEAN ZeroAfterInput; /* METHOD_BUFFERED: the system buffer is zero after the input */
    ULONG BadZero;
    PVOID OutAddress;    /* where it wrote the output */
} KT_ECHO;
static KT_ECHO KtEcho;
/* Not 0: the status the echo driver completes with (its output written all the same). */
static NTSTATUS KtEchoStatus;

static NTSTATUS KtEchoControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    KT_ECHO *e = &KtEcho;
    e->Calls++;
    e->Major = sp->MajorFunction;
    e->Method = METHOD_FROM_CTL_CODE(sp->Parameters.DeviceIoControl.IoControlCode);
    e->SystemBuffer = Irp->AssociatedIrp.SystemBuffer;
    e->Flags = Irp->Flags;
    e->Mdl = Irp->MdlAddress;
    if (e->Mdl != NULL) {
        e->MdlCopy = *e->Mdl;
        ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(e->Mdl), e->Mdl->ByteCount);
        for (ULONG k = 0; k < pages && k < 2; k++)
            e->Pfn[k] = MmGetMdlPfnArray(e->Mdl)[k];
    }
    e->Type3InputBuffer = sp->Parameters.DeviceIoControl.Type3InputBuffer;
    e->UserBuffer = Irp->UserBuffer;
    e->InLength = sp->Parameters.DeviceIoControl.InputBufferLength;
    e->OutLength = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR in = e->Method == METHOD_NEITHER ? e->Type3InputBuffer : e->SystemBuffer;
    PUCHAR out = NULL;
    if (e->Method == METHOD_BUFFERED)
        out = e->SystemBuffer;
    else if (e->Method == METHOD_NEITHER)
        out = e->UserBuffer;
    else if (e->Mdl != NULL)
        out = MmGetSystemAddressForMdlSafe(e->Mdl, NormalPagePriority);
    e->InputOk = TRUE;
    e->ZeroAfterInput = TRUE;
    if (e->InLength > 0 && in == NULL)
        e->InputOk = FALSE;
    for (ULONG i = 0; in != NULL && i < e->InLength && e->InputOk; i++)
        if (in[i] != KtPattern(e->Salt, i)) {
            e->InputOk = FALSE;
            e->BadInput = i;
        }
    if (e->Method == METHOD_BUFFERED && in != NULL)
        for (ULONG i = e->InLength; i < e->OutLength && e->ZeroAfterInput; i++)
            if (in[i] != 0) {
                e->ZeroAfterInput = FALSE;
                e->BadZero = i;
            }
    e->OutAddress = out;
    if (out != NULL)
        for (ULONG i = 0; i < e->Written; i++)
            out[i] = KtPattern(e->Salt + 7, i);
    Irp->IoStatus.Status = out != NULL || e->Written == 0 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    if (KtEchoStatus != 0 && out != NULL)
        Irp->IoStatus.Status = KtEchoStatus;
    Irp->IoStatus.Information = out != NULL ? e->Written : 0;
    NTSTATUS status = Irp->IoStatus.Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static NTSTATUS KtEchoRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    KtEcho.Calls++;
    KtEcho.SystemBuffer = Irp->AssociatedIrp.SystemBuffer;
    KtEcho.Flags = Irp->Flags;
    KtEcho.UserBuffer = Irp->UserBuffer;
    KtEcho.OutLength = sp->Parameters.Read.Length;
    PUCHAR out = Irp->AssociatedIrp.SystemBuffer;
    ULONG n = KtEcho.Written;
    for (ULONG i = 0; out != NULL && i < n; i++)
        out[i] = KtPattern(KtEcho.Salt + 7, i);
    Irp->IoStatus.Status = out != NULL ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    Irp->IoStatus.Information = out != NULL ? n : 0;
    NTSTATUS status = Irp->IoStatus.Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static NTSTATUS KtEchoEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = KtEchoControl;
    DriverObject->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = KtEchoControl;
    DriverObject->MajorFunction[IRP_MJ_READ] = KtEchoRead;
    return STATUS_SUCCESS;
}

static ULONG64 KtPhysical(PVOID Va)
{
    ULONG_PTR v = (ULONG_PTR)Va;
    if (v >= MM_PHYSICAL_MAP_BASE && v < MM_PHYSICAL_MAP_BASE + MM_PHYSICAL_MAP_SIZE)
        return v - MM_PHYSICAL_MAP_BASE;
    ULONG64 pa = 0;
    MmTranslateAddress(MiCurrentPml4(), v, &pa);
    return pa;
}

static UCHAR KtInBuffer[2 * PAGE_SIZE] __attribute__((aligned(4096)));
static UCHAR KtOutBuffer[3 * PAGE_SIZE] __attribute__((aligned(4096)));
static const char *const KtMethodNames[4] = {"METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT",
                                             "METHOD_NEITHER"};

/* One device I/O control request of Method with the given lengths; the output buffer at
 * OutOffset in KtOutBuffer (guard bytes around it), Written bytes returned. */
BOOLEAN KtOneIoctl(PKTEST_CONTEXT Context, PDEVICE_OBJECT Device, ULONG Case, ULONG Method, ULONG InLength,
                   ULONG OutLength, ULONG Written, ULONG OutOffset, BOOLEAN Internal)
{
    char step[96];
    RtlFormatString(step, sizeof(step), "case %u: %s, input %u bytes, output %u bytes, %u returned", Case,
                    KtMethodNames[Method], InLength, OutLength, Written);
    ULONG salt = Case * 17 + 3;
    PUCHAR in = KtInBuffer + 100, out = KtOutBuffer + OutOffset;
    for (ULONG i = 0; i < InLength; i++)
        in[i] = KtPattern(salt, i);
    KtIoPoison(Context, out - KT_GUARD, OutLength + 2 * KT_GUARD, Case + 100);
    UCHAR guard[2 * KT_GUARD + 512];
    RtlCopyMemory(guard, out - KT_GUARD, OutLength + 2 * KT_GUARD);
    RtlZeroMemory(&KtEcho, sizeof(KtEcho));
    KtEcho.Salt = salt;
    KtEcho.Written = Written;
    IO_STATUS_BLOCK iosb;
    KtIoPoison(Context, &iosb, sizeof(iosb), Case + 200);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    SIZE_T pool[3];
    KtPoolSnapshot(pool);
    ULONG code = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900 + Case, Method, FILE_ANY_ACCESS);
    PIRP irp = IoBuildDeviceIoControlRequest(code, Device, InLength ? in : NULL, InLength, OutLength ? out : NULL,
                                             OutLength, Internal, KT_EVENT(&event), &iosb);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "build", "%s: IoBuildDeviceIoControlRequest returned "
                                         "NULL", step))
        return FALSE;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    UCHAR major = Internal ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    if (!KtCheck(Context, sp->MajorFunction == major && sp->Parameters.DeviceIoControl.IoControlCode == code &&
                 sp->Parameters.DeviceIoControl.InputBufferLength == InLength &&
                 sp->Parameters.DeviceIoControl.OutputBufferLength == OutLength, "ioctl_location", "%s: the top "
                 "location has Major %u (%u), code 0x%x (0x%x), lengths in %u out %u", step, sp->MajorFunction, major,
                 sp->Parameters.DeviceIoControl.IoControlCode, code, sp->Parameters.DeviceIoControl.InputBufferLength,
                 sp->Parameters.DeviceIoControl.OutputBufferLength) ||
        !KtCheck(Context, irp->UserIosb == &iosb && irp->UserEvent == KT_EVENT(&event) &&
                 irp->Tail.Overlay.Thread == KeGetCurrentThread() && irp->RequestorMode == KernelMode,
                 "ioctl_irp", "%s: UserIosb %p (%p), UserEvent %p (%p), Thread %p (%p)", step, irp->UserIosb, &iosb,
                 irp->UserEvent, KT_EVENT(&event), irp->Tail.Overlay.Thread, KeGetCurrentThread()))
        return FALSE;
    NTSTATUS st = IoCallDriver(Device, irp);
    KT_ECHO *e = &KtEcho;
    /* What the driver saw, method by method. */
    BOOLEAN ok = KtCheck(Context, e->Calls == 1 && e->Major == major, "ioctl_dispatch", "%s: the driver's routine ran "
                         "%u times for major %u", step, e->Calls, e->Major) &&
                 KtCheck(Context, e->InputOk, "ioctl_input", "%s: input byte %u the driver read is wrong (or the "
                         "input is missing: SystemBuffer %p, Type3InputBuffer %p)", step, e->BadInput, e->SystemBuffer,
                         e->Type3InputBuffer);
    if (ok && Method == METHOD_BUFFERED) {
        ULONG size = InLength > OutLength ? InLength : OutLength;
        ULONG flags = size ? IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (OutLength ? IRP_INPUT_OPERATION : 0) : 0;
        ok = KtCheck(Context, (size == 0) == (e->SystemBuffer == NULL) && e->SystemBuffer != in &&
                     e->SystemBuffer != out, "buffered_system_buffer", "%s: SystemBuffer %p (input at %p, output at "
                     "%p): METHOD_BUFFERED gives the driver a copy in pool of max(input, output) bytes, none when both "
                     "are 0", step, e->SystemBuffer, in, out) &&
             KtCheck(Context, e->Flags == flags, "buffered_flags", "%s: Flags 0x%x, expected 0x%x (IRP_BUFFERED_IO | "
                     "IRP_DEALLOCATE_BUFFER%s)", step, e->Flags, flags, OutLength ? " | IRP_INPUT_OPERATION" : "") &&
             KtCheck(Context, e->ZeroAfterInput, "buffered_zeroed", "%s: byte %u of the system buffer (after the %u "
                     "input bytes) is not zero", step, e->BadZero, InLength) &&
             KtCheck(Context, e->UserBuffer == (OutLength ? out : NULL), "buffered_user_buffer", "%s: UserBuffer %p, "
                     "expected the caller's output buffer %p", step, e->UserBuffer, OutLength ? out : NULL);
    } else if (ok && Method != METHOD_NEITHER) {
        PMDL m = e->Mdl != NULL ? &e->MdlCopy : NULL;
        ULONG flags = InLength ? IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER : 0;
        ok = KtCheck(Context, e->Flags == flags && (InLength == 0) == (e->SystemBuffer == NULL) &&
                     e->SystemBuffer != in, "direct_input", "%s: Flags 0x%x (0x%x), SystemBuffer %p: the input of a "
                     "direct method is buffered (never copied back)", step, e->Flags, flags, e->SystemBuffer) &&
             KtCheck(Context, (OutLength == 0) == (m == NULL), "direct_mdl", "%s: MdlAddress %p: the output buffer "
                     "of a direct method is described by an MDL", step, m);
        if (ok && m != NULL) {
            PULONG64 pfn = e->Pfn;
            ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(out, OutLength);
            ok = KtCheck(Context, m->StartVa == (PVOID)((ULONG_PTR)out & ~0xFFFULL) &&
                         m->ByteOffset == ((ULONG_PTR)out & 0xFFF) && m->ByteCount == OutLength && m->Next == NULL &&
                         e->OutAddress == out, "direct_mdl", "%s: the MDL has StartVa %p (%p), ByteOffset 0x%x "
                         "(0x%llx), ByteCount %u (%u), maps to %p (%p)", step, m->StartVa,
                         (PVOID)((ULONG_PTR)out & ~0xFFFULL), m->ByteOffset, (ULONG64)((ULONG_PTR)out & 0xFFF),
                         m->ByteCount, OutLength, e->OutAddress, out);
            for (ULONG k = 0; ok && k < pages; k++)
                ok = KtCheck(Context, pfn[k] == KtPhysical((PUCHAR)m->StartVa + k * PAGE_SIZE) >> PAGE_SHIFT,
                             "direct_mdl", "%s: the MDL's frame %u is 0x%llx, expected 0x%llx", step, k, pfn[k],
                             KtPhysical((PUCHAR)m->StartVa + k * PAGE_SIZE) >> PAGE_SHIFT);
        }
    } else if (ok) {
        ok = KtCheck(Context, e->Type3InputBuffer == (InLength ? in : NULL) && e->UserBuffer == (OutLength ? out : NULL)
                     && e->SystemBuffer == NULL && e->Mdl == NULL && e->Flags == 0, "neither", "%s: Type3InputBuffer %p "
                     "(%p), UserBuffer %p (%p), SystemBuffer %p, MDL %p, Flags 0x%x: METHOD_NEITHER passes the "
                     "caller's addresses as they are", step, e->Type3InputBuffer, InLength ? in : NULL, e->UserBuffer,
                     OutLength ? out : NULL, e->SystemBuffer, e->Mdl, e->Flags);
    }
    if (!ok)
        return FALSE;
    /* What the caller got back: a buffered request that failed (NT_ERROR) copies nothing. */
    NTSTATUS want = KtEchoStatus != 0 ? KtEchoStatus : STATUS_SUCCESS;
    BOOLEAN failed = ((ULONG)want >> 30) == 3;
    ULONG copied = Method == METHOD_BUFFERED && failed ? 0 : Written;
    if (!KtCheck(Context, st == want && iosb.Status == want && iosb.Information == Written,
                 "iosb", "%s: IoCallDriver 0x%x, IO_STATUS_BLOCK 0x%x/%llu; expected 0x%x and Information %u "
                 "written back", step, st, iosb.Status, (ULONG64)iosb.Information, want, Written) ||
        !KtCheck(Context, KT_SIGNALLED(&event), "event", "%s: the request's event was not signalled", step))
        return FALSE;
    for (ULONG i = 0; i < copied; i++)
        if (!KtCheck(Context, out[i] == KtPattern(salt + 7, i), "output_bytes", "%s: output byte %u is 0x%02x, "
                     "expected 0x%02x (what the driver wrote)", step, i, out[i], KtPattern(salt + 7, i)))
            return FALSE;
    for (ULONG i = 0; i < KT_GUARD; i++)
        if (!KtCheck(Context, out[-(LONG)KT_GUARD + (LONG)i] == guard[i], "output_guard", "%s: the byte %u before the "
                     "output buffer changed", step, KT_GUARD - i))
            return FALSE;
    for (ULONG i = copied; i < OutLength + KT_GUARD; i++)
        if (!KtCheck(Context, out[i] == guard[KT_GUARD + i], failed ? "error_not_copied" : "output_past_length",
                     "%s: byte %u of the output changed (0x%02x, was 0x%02x) but %u bytes were to come back: %s", step,
                     i, out[i], guard[KT_GUARD + i], copied, failed ? "a buffered request that fails (an NT_ERROR "
                     "status) copies nothing back" : "not a byte past Information is copied back"))
            return FALSE;
    for (ULONG i = 0; i < InLength; i++)
        if (!KtCheck(Context, in[i] == KtPattern(salt, i), "input_kept", "%s: input byte %u changed", step, i))
            return FALSE;
    return KtPoolBalanced(Context, step, pool);
}

/* Every method with seeded lengths: buffered with more input than output, with more output
 * than input, with neither; in-direct and out-direct with the output across a page
 * boundary; neither; buffered completed with a warning (copied back) and with an error
 * (nothing copied); and a buffered read of a DO_BUFFERED_IO device (Information bytes
 * copied back, not one more). */
BOOLEAN KtCreateEcho(PKTEST_CONTEXT Context, PDEVICE_OBJECT *Device)
{
    PDRIVER_OBJECT driver;
    NTSTATUS status = IopCreateDriver("KtEcho", KtEchoEntry, &driver);
    if (!KtCheck(Context, NT_SUCCESS(status), "driver", "creating the echo driver: 0x%x", status))
        return FALSE;
    KtIoTrackDriver(driver);
    status = IoCreateDevice(driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, Device);
    return KtRequireImplemented(Context, status, "IoCreateDevice", "lab 07") &&
           KtCheck(Context, NT_SUCCESS(status), "create_device", "IoCreateDevice: 0x%x", status);
}

KTEST("ioctl.methods", KtTestIoctlMethods)
{
    if (!KtIoEnter(Context))
        return;
    PDEVICE_OBJECT dev;
    if (!KtCreateEcho(Context, &dev))
        goto out;
    dev->StackSize = (CCHAR)KtRandomRange(Context, 1, 3);
    ULONG a = (ULONG)KtRandomRange(Context, 1, 200), b = (ULONG)KtRandomRange(Context, 201, 400);
    ULONG page = PAGE_SIZE - (ULONG)KtRandomRange(Context, 1, 150);
    struct {
        ULONG Method, In, Out, Written, Offset;
        BOOLEAN Internal;
    } cases[] = {
        {METHOD_BUFFERED, b, a, (ULONG)KtRandomRange(Context, 0, a), 64, FALSE},
        {METHOD_BUFFERED, a, b, (ULONG)KtRandomRange(Context, 1, b - 1), 128, TRUE},
        {METHOD_BUFFERED, 0, 0, 0, 64, FALSE},
        {METHOD_IN_DIRECT, a, b, (ULONG)KtRandomRange(Context, 1, b), page, FALSE},
        {METHOD_OUT_DIRECT, 0, b, b, page + PAGE_SIZE, FALSE},
        {METHOD_OUT_DIRECT, a, a, (ULONG)KtRandomRange(Context, 0, a), 256, TRUE},
        {METHOD_NEITHER, a, b, (ULONG)KtRandomRange(Context, 1, b), 512, FALSE},
    };
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++)
        if (!KtOneIoctl(Context, dev, c, cases[c].Method, cases[c].In, cases[c].Out, cases[c].Written, cases[c].Offset,
                        cases[c].Internal))
            goto out;
    /* Buffered, completed with a warning (copied back) and with an error (nothing copied). */
    static const NTSTATUS statuses[2] = {STATUS_BUFFER_OVERFLOW, STATUS_DEVICE_DATA_ERROR};
    for (ULONG k = 0; k < 2; k++) {
        KtEchoStatus = statuses[k];
        BOOLEAN ok = KtOneIoctl(Context, dev, 30 + k, METHOD_BUFFERED, a, b, (ULONG)KtRandomRange(Context, 1, b), 768,
                                FALSE);
        KtEchoStatus = 0;
        if (!ok)
            goto out;
    }
    /* A buffered read. */
    dev->Flags |= DO_BUFFERED_IO;
    ULONG length = (ULONG)KtRandomRange(Context, 2, 400);
    PUCHAR out = KtOutBuffer + 700;
    KtIoPoison(Context, out, length + KT_GUARD, 300);
    UCHAR guard[400 + KT_GUARD];
    RtlCopyMemory(guard, out, length + KT_GUARD);
    RtlZeroMemory(&KtEcho, sizeof(KtEcho));
    KtEcho.Salt = 99;
    KtEcho.Written = (ULONG)KtRandomRange(Context, 1, length - 1);
    IO_STATUS_BLOCK iosb = {{0}, 0};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    SIZE_T pool[3];
    KtPoolSnapshot(pool);
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, dev, out, length, 0, KT_EVENT(&event), &iosb);
    if (!KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest(IRP_MJ_READ) returned NULL"))
        goto out;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    if (!KtCheck(Context, sp->MajorFunction == IRP_MJ_READ && sp->Parameters.Read.Length == length &&
                 irp->Flags == (IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION) &&
                 irp->UserBuffer == out && irp->AssociatedIrp.SystemBuffer != NULL &&
                 irp->AssociatedIrp.SystemBuffer != out, "buffered_read", "a buffered read of %u bytes: Major %u, "
                 "Length %u, Flags 0x%x (0x70), UserBuffer %p (%p), SystemBuffer %p", length, sp->MajorFunction,
                 sp->Parameters.Read.Length, irp->Flags, irp->UserBuffer, out, irp->AssociatedIrp.SystemBuffer))
        goto out;
    for (ULONG i = 0; i < length; i++)
        if (!KtCheck(Context, ((PUCHAR)irp->AssociatedIrp.SystemBuffer)[i] == 0, "buffered_read", "byte %u of a buffered "
                     "read's system buffer is 0x%02x before the driver runs: a read's system buffer starts zeroed (the "
                     "caller's bytes are not copied in)", i, ((PUCHAR)irp->AssociatedIrp.SystemBuffer)[i]))
            goto out;
    IoCallDriver(dev, irp);
    if (!KtCheck(Context, iosb.Status == STATUS_SUCCESS && iosb.Information == KtEcho.Written && KT_SIGNALLED(&event),
                 "iosb", "buffered read: IO_STATUS_BLOCK 0x%x/%llu, event %d; expected success/%u, signalled",
                 iosb.Status, (ULONG64)iosb.Information, KT_SIGNALLED(&event), KtEcho.Written))
        goto out;
    for (ULONG i = 0; i < length + KT_GUARD; i++) {
        UCHAR want = i < KtEcho.Written ? KtPattern(99 + 7, i) : guard[i];
        if (!KtCheck(Context, out[i] == want, i < KtEcho.Written ? "output_bytes" : "output_past_length",
                     "buffered read of %u bytes, %u returned: byte %u is 0x%02x, expected 0x%02x", length,
                     KtEcho.Written, i, out[i], want))
            goto out;
    }
    if (!KtPoolBalanced(Context, "a buffered read", pool))
        goto out;
    /* A buffered write at a seeded offset, built and not sent: the data copied in, never copied back
     * (no IRP_INPUT_OPERATION); a major other than read or write gives NULL and takes nothing. */
    LONGLONG offset = (LONGLONG)KtRandomRange(Context, 1, 1ULL << 40) * 512;
    KtIoPoison(Context, out, length, 301);
    irp = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, dev, out, length, offset, NULL, &iosb);
    if (!KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest(IRP_MJ_WRITE) returned NULL"))
        goto out;
    sp = IoGetNextIrpStackLocation(irp);
    PUCHAR sys = irp->AssociatedIrp.SystemBuffer;
    BOOLEAN ok = KtCheck(Context, sp->MajorFunction == IRP_MJ_WRITE && sp->Parameters.Write.Length == length &&
                         sp->Parameters.Write.ByteOffset == offset && irp->Flags == (IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER)
                         && irp->UserBuffer == out && sys != NULL && sys != out, "buffered_write", "a buffered write of "
                         "%u bytes at 0x%llx: Major %u, Length %u, ByteOffset 0x%llx, Flags 0x%x (0x50: no "
                         "IRP_INPUT_OPERATION, nothing is copied back), UserBuffer %p (%p), SystemBuffer %p", length,
                         (ULONG64)offset, sp->MajorFunction, sp->Parameters.Write.Length,
                         (ULONG64)sp->Parameters.Write.ByteOffset, irp->Flags, irp->UserBuffer, out, sys);
    for (ULONG i = 0; ok && sys != NULL && i < length; i++)
        ok = KtCheck(Context, sys[i] == out[i], "buffered_write", "byte %u of a buffered write's system buffer is 0x%02x, "
                     "expected the caller's 0x%02x", i, sys[i], out[i]);
    if (sys != NULL)
        ExFreePool(sys);
    KtIoFreeIrp(irp);
    if (!ok || !KtPoolBalanced(Context, "a buffered write built and freed", pool))
        goto out;
    irp = IoBuildSynchronousFsdRequest(IRP_MJ_FLUSH_BUFFERS, dev, out, length, 0, NULL, &iosb);
    if (!KtCheck(Context, irp == NULL, "fsd_major", "IoBuildSynchronousFsdRequest(IRP_MJ_FLUSH_BUFFERS) returned %p, "
                 "expected NULL (only IRP_MJ_READ and IRP_MJ_WRITE)", irp)) {
        KtIoFreeIrp(irp);
        goto out;
    }
    if (!KtPoolBalanced(Context, "a refused IoBuildSynchronousFsdRequest", pool))
        goto out;
    /* A direct request to which two more MDLs were chained (secondary buffers, through Next): completion frees
     * every MDL of the chain. */
    RtlZeroMemory(&KtEcho, sizeof(KtEcho));
    KtEcho.Salt = 77;
    ULONG olen = (ULONG)KtRandomRange(Context, 1, 300);
    KEVENT chained;
    KeInitializeEvent(&chained, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x940, METHOD_OUT_DIRECT, FILE_ANY_ACCESS), dev,
                                        NULL, 0, KtOutBuffer, olen, FALSE, KT_EVENT(&chained), &iosb);
    if (!KtCheck(Context, irp != NULL && irp->MdlAddress != NULL, "build", "IoBuildDeviceIoControlRequest "
                 "(METHOD_OUT_DIRECT, %u bytes) returned %p", olen, irp))
        goto out;
    for (ULONG k = 0; k < 2; k++) {
        PMDL m = IoAllocateMdl(KtOutBuffer + 1024 * (k + 1), 100 + k, TRUE, FALSE, irp);
        if (m != NULL)
            MmBuildMdlForNonPagedPool(m);
    }
    IoCallDriver(dev, irp);
    KtPoolBalanced(Context, "a direct request with a chain of three MDLs (MdlAddress, then Next)", pool);
out:
    KtIoCleanup();
}

/* ---- The RAM disk ---- */
#define KT_DISK_BYTES (64 * 1024)
static UCHAR KtDiskBuffers[8][4 * RAMDISK_SECTOR + 2 * KT_GUARD];

static BOOLEAN KtCreateDisk(PKTEST_CONTEXT Context, PDRIVER_OBJECT *Driver, PDEVICE_OBJECT *Disk)
{
    NTSTATUS status = IopCreateDriver("RamDisk", IopRamDiskDriverEntry, Driver);
    if (!KtCheck(Context, NT_SUCCESS(status), "driver", "creating the RAM disk driver: 0x%x", status))
        return FALSE;
    KtIoTrackDriver(*Driver);
    status = IopCreateRamDisk(*Driver, "\\Device\\KtRamDisk", KT_DISK_BYTES, Disk);
    return KtRequireImplemented(Context, status, "IoCreateDevice", "lab 07") &&
           KtCheck(Context, NT_SUCCESS(status), "create_device", "creating the RAM disk device: 0x%x", status);
}

/* Seeded writes then reads of the RAM disk, sent at DISPATCH_LEVEL: each returns
 * STATUS_PENDING with its IO_STATUS_BLOCK and event untouched and waits on the disk's
 * queue; when the IRQL drops the disk's DPC completes them, in order, and each has its
 * status block written and its event signalled; the data reaches the disk byte for byte
 * and comes back; a request past the end fails at once. */
KTEST("ramdisk.pended", KtTestRamDiskPended)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT disk;
    if (!KtCreateDisk(Context, &driver, &disk))
        goto out;
    ULONG n = (ULONG)KtRandomRange(Context, 2, 4);
    ULONG sectors[4], offsets[4];
    for (ULONG i = 0; i < n; i++) {
        sectors[i] = (ULONG)KtRandomRange(Context, 1, 4);
        offsets[i] = i * 16 + (ULONG)KtRandomRange(Context, 0, 12); /* disjoint ranges */
    }
    SIZE_T pool[3];
    KtPoolSnapshot(pool);
    for (ULONG pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        IO_STATUS_BLOCK iosb[4];
        KEVENT event[4];
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (ULONG i = 0; i < n; i++) {
            PUCHAR buf = KtDiskBuffers[i] + KT_GUARD;
            ULONG len = sectors[i] * RAMDISK_SECTOR;
            if (write)
                for (ULONG k = 0; k < len; k++)
                    buf[k] = KtPattern(i + 40, k);
            else
                KtIoPoison(Context, buf, len, 400 + i);
            iosb[i].Status = (NTSTATUS)0xDEADBEEF;
            iosb[i].Information = 0xDEAD;
            KeInitializeEvent(&event[i], NotificationEvent, FALSE);
            PIRP irp = IoBuildSynchronousFsdRequest(write ? IRP_MJ_WRITE : IRP_MJ_READ, disk, buf, len,
                                                    (LONGLONG)offsets[i] * RAMDISK_SECTOR, KT_EVENT(&event[i]),
                                                    &iosb[i]);
            if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest returned "
                                                 "NULL"))
                goto lower;
            PMDL m = irp->MdlAddress;
            if (!KtCheck(Context, m != NULL && MmGetMdlVirtualAddress(m) == buf && m->ByteCount == len &&
                         irp->AssociatedIrp.SystemBuffer == NULL && irp->Flags == 0, "direct_io", "a %s of the RAM "
                         "disk (DO_DIRECT_IO): MdlAddress %p (an MDL of the caller's %u bytes at %p), SystemBuffer "
                         "%p (NULL), Flags 0x%x (0)", write ? "write" : "read", m, len, buf,
                         irp->AssociatedIrp.SystemBuffer, irp->Flags))
                goto lower;
            NTSTATUS st = IoCallDriver(disk, irp);
            if (!KtCheck(Context, st == STATUS_PENDING && iosb[i].Status == (NTSTATUS)0xDEADBEEF && !KT_SIGNALLED(&event[i]),
                         "pended", "%s %u at DISPATCH_LEVEL: IoCallDriver returned 0x%x (STATUS_PENDING expected), the "
                         "status block holds 0x%x, the event %d: a pended request is not finished yet",
                         write ? "write" : "read", i, st, iosb[i].Status, KT_SIGNALLED(&event[i])) ||
                !KtCheck(Context, IopRamDiskQueued(disk) == i + 1, "pended", "the disk holds %u requests, expected %u",
                         IopRamDiskQueued(disk), i + 1))
                goto lower;
        }
        KeLowerIrql(old);
        for (ULONG i = 0; i < n; i++) {
            ULONG len = sectors[i] * RAMDISK_SECTOR;
            if (!KtCheck(Context, iosb[i].Status == STATUS_SUCCESS && iosb[i].Information == len && KT_SIGNALLED(&event[i]),
                         "completed_later", "%s %u after the disk's DPC: IO_STATUS_BLOCK 0x%x/%llu (success/%u), event "
                         "%d (1)", write ? "write" : "read", i, iosb[i].Status, (ULONG64)iosb[i].Information, len,
                         KT_SIGNALLED(&event[i])))
                goto out;
            PUCHAR data = write ? IopRamDiskData(disk) + offsets[i] * RAMDISK_SECTOR : KtDiskBuffers[i] + KT_GUARD;
            for (ULONG k = 0; k < len; k++)
                if (!KtCheck(Context, data[k] == KtPattern(i + 40, k), "data", "%s %u: byte %u is 0x%02x, expected "
                             "0x%02x", write ? "on the disk after write" : "read back by read", i, k, data[k],
                             KtPattern(i + 40, k)))
                    goto out;
        }
        if (!KtPoolBalanced(Context, write ? "the writes" : "the reads", pool))
            goto out;
        continue;
    lower:
        KeLowerIrql(old);
        goto out;
    }
    /* Past the end: fails in the dispatch routine, status block written, event signalled. */
    IO_STATUS_BLOCK iosb = {{0}, 7};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, disk, KtDiskBuffers[0], RAMDISK_SECTOR, KT_DISK_BYTES,
                                            KT_EVENT(&event), &iosb);
    if (!KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest returned NULL"))
        goto out;
    NTSTATUS st = IoCallDriver(disk, irp);
    KtCheck(Context, st == STATUS_INVALID_PARAMETER && iosb.Status == STATUS_INVALID_PARAMETER &&
            iosb.Information == 0 && KT_SIGNALLED(&event), "error_written_back", "a read past the end: IoCallDriver 0x%x, "
            "IO_STATUS_BLOCK 0x%x/%llu, event %d; expected STATUS_INVALID_PARAMETER written back and the event "
            "signalled", st, iosb.Status, (ULONG64)iosb.Information, KT_SIGNALLED(&event));
out:
    KtIoCleanup();
}

/* A filter that shifts every read and write by seeded sectors, under a filter that passes
 * everything: each sees every request (create, write, read, device control, an unsupported
 * flush), in order; the write lands where the shifted offset says. */
KTEST("filter.modify", KtTestFilterModify)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT disk, shift = NULL, pass = NULL;
    if (!KtCreateDisk(Context, &driver, &disk) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    NTSTATUS st = IopAddFilter(fdrv, disk, 2, FILTER_CONTINUE, TRUE, TRUE, &shift);
    if (KtIoStubbed(Context) || !KtCheck(Context, NT_SUCCESS(st), "attach", "attaching the shifting filter: 0x%x", st))
        goto out;
    st = IopAddFilter(fdrv, disk, 3, FILTER_PASS, TRUE, TRUE, &pass);
    if (!KtCheck(Context, NT_SUCCESS(st), "attach", "attaching the passing filter: 0x%x", st))
        goto out;
    LONGLONG by = (LONGLONG)KtRandomRange(Context, 1, 20) * RAMDISK_SECTOR;
    ((PFILTER_EXTENSION)shift->DeviceExtension)->OffsetShift = by;
    ULONG at = (ULONG)KtRandomRange(Context, 0, 40) * RAMDISK_SECTOR;
    PUCHAR buf = KtDiskBuffers[0] + KT_GUARD;
    for (ULONG k = 0; k < RAMDISK_SECTOR; k++)
        buf[k] = KtPattern(77, k);
    static const UCHAR majors[5] = {IRP_MJ_CREATE, IRP_MJ_WRITE, IRP_MJ_READ, IRP_MJ_DEVICE_CONTROL,
                                    IRP_MJ_FLUSH_BUFFERS};
    static const NTSTATUS want[5] = {STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS,
                                     STATUS_INVALID_DEVICE_REQUEST};
    ULONG64 length = 0;
    for (ULONG i = 0; i < 5; i++) {
        IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0};
        KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
        PIRP irp;
        if (majors[i] == IRP_MJ_DEVICE_CONTROL) {
            irp = IoBuildDeviceIoControlRequest(IOCTL_RAMDISK_GET_LENGTH, pass, NULL, 0, &length, sizeof(length),
                                                FALSE, KT_EVENT(&event), &iosb);
        } else if (majors[i] == IRP_MJ_READ || majors[i] == IRP_MJ_WRITE) {
            if (majors[i] == IRP_MJ_READ)
                KtIoPoison(Context, buf, RAMDISK_SECTOR, 500);
            irp = IoBuildSynchronousFsdRequest(majors[i], pass, buf, RAMDISK_SECTOR, at, KT_EVENT(&event), &iosb);
        } else {
            irp = IoAllocateIrp(pass->StackSize, FALSE);
            if (irp != NULL) {
                IoGetNextIrpStackLocation(irp)->MajorFunction = majors[i];
                irp->UserIosb = &iosb;
                irp->UserEvent = KT_EVENT(&event);
            }
        }
        if (!KtCheck(Context, irp != NULL, "build", "building request %u returned NULL", i))
            goto out;
        if (!KtCheck(Context, pass->StackSize == 3 && irp->StackCount == 3, "stack_size", "a stack of the disk and two "
                     "filters: top StackSize %d, IRP StackCount %d (3)", pass->StackSize, irp->StackCount))
            goto out;
        IoCallDriver(pass, irp); /* at PASSIVE_LEVEL: the disk's DPC runs at once */
        if (!KtCheck(Context, iosb.Status == want[i] && KT_SIGNALLED(&event), "filtered_status", "request %u (major %u) through "
                     "the filters: IO_STATUS_BLOCK 0x%x, expected 0x%x, event %d", i, majors[i], iosb.Status, want[i],
                     KT_SIGNALLED(&event)))
            goto out;
    }
    PFILTER_EXTENSION se = shift->DeviceExtension, pe = pass->DeviceExtension;
    for (ULONG i = 0; i < 5; i++)
        if (!KtCheck(Context, se->Seen == 5 && pe->Seen == 5 && se->SeenMajor[i] == majors[i] &&
                     pe->SeenMajor[i] == majors[i], "filter_sees_all", "the filters saw %u and %u requests (5 each); "
                     "request %u was major %u / %u, expected %u: every request to the stack goes through every filter",
                     se->Seen, pe->Seen, i, se->SeenMajor[i], pe->SeenMajor[i], majors[i]))
            goto out;
    PUCHAR data = IopRamDiskData(disk);
    for (ULONG k = 0; k < RAMDISK_SECTOR; k++)
        if (!KtCheck(Context, data[at + by + k] == KtPattern(77, k) && buf[k] == KtPattern(77, k), "filter_changes",
                     "byte %u: the disk at offset %llu + the filter's shift %lld holds 0x%02x, read back 0x%02x, "
                     "expected 0x%02x: the filter changed the offset on the way down", k, (ULONG64)at, by,
                     data[at + by + k], buf[k], KtPattern(77, k)))
            goto out;
    KtCheck(Context, length == KT_DISK_BYTES, "filtered_status", "IOCTL_RAMDISK_GET_LENGTH through the filters gave "
            "%llu, expected %u", length, KT_DISK_BYTES);
out:
    KtIoCleanup();
}

/* ---- Cancellation ---- */
static volatile ULONG KtCancelCompletions[9];
static volatile NTSTATUS KtCancelStatus[9];
static volatile BOOLEAN KtCancelFlag[9];  /* Irp->Cancel when the completion routine ran */
static PIRP KtCancelIrps[9];
static ULONG KtCancelMask, KtCancelCount;
static BOOLEAN KtCancelResult[9];
static KDPC KtCancelDpc;

static NTSTATUS KtCountCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    ULONG i = (ULONG)(ULONG_PTR)Context;
    if (i < 9) {
        KtCancelCompletions[i]++;
        KtCancelStatus[i] = Irp->IoStatus.Status;
        KtCancelFlag[i] = Irp->Cancel;
    }
    return STATUS_CONTINUE_COMPLETION;
}

/* Runs ahead of the disk's DPC (HighImportance): cancels the seeded set while queued. */
static VOID KtCancelDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    for (ULONG i = 0; i < KtCancelCount; i++)
        if (KtCancelMask >> i & 1)
            KtCancelResult[i] = IoCancelIrp(KtCancelIrps[i]);
}

/* The seeded plan (mirrored by grader/models/lab07.py cancel_expected): n requests, the set
 * cancelled while queued - never empty, never all: the first cancelled and the last
 * survivor seeded. */
static ULONG KtCancelPlan(PKTEST_CONTEXT Context, PULONG Mask)
{
    ULONG n = (ULONG)KtRandomRange(Context, 4, 8);
    ULONG mask = (ULONG)KtRandomRange(Context, 1, (1u << n) - 2);
    ULONG first = (ULONG)KtRandomRange(Context, 0, n - 1);
    mask |= 1u << first;
    ULONG last = (first + (ULONG)KtRandomRange(Context, 1, n - 1)) % n;
    mask &= ~(1u << last);
    *Mask = mask;
    return n;
}

/* Seeded reads queued on the RAM disk; a DPC that runs ahead of the disk's cancels a seeded
 * set of them (IoCancelIrp TRUE, each completes at once with STATUS_CANCELLED); the disk's
 * DPC completes the rest normally; each completes exactly once. One more request is
 * cancelled before it is sent (IoCancelIrp FALSE: no cancel routine yet) and the disk
 * completes it with STATUS_CANCELLED when it sees Irp->Cancel. */
KTEST("irp.cancel", KtTestIrpCancel)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT disk;
    ULONG n = KtCancelPlan(Context, &KtCancelMask);
    KtCancelCount = n;
    if (!KtCreateDisk(Context, &driver, &disk))
        goto out;
    PUCHAR data = IopRamDiskData(disk);
    for (ULONG k = 0; k < 8 * RAMDISK_SECTOR; k++)
        data[k] = KtPattern(5, k);
    IO_STATUS_BLOCK iosb[9];
    for (ULONG i = 0; i <= n; i++) {
        KtCancelCompletions[i] = 0;
        KtCancelStatus[i] = (NTSTATUS)0xDEADBEEF;
        KtCancelFlag[i] = 2;
        KtCancelResult[i] = 2;
        KtIoPoison(Context, KtDiskBuffers[i], RAMDISK_SECTOR, 600 + i);
    }
    KeInitializeDpc(&KtCancelDpc, KtCancelDpcRoutine, NULL);
    KeSetImportanceDpc(&KtCancelDpc, HighImportance);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i < n; i++) {
        PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, disk, KtDiskBuffers[i], RAMDISK_SECTOR,
                                                (LONGLONG)i * RAMDISK_SECTOR, NULL, &iosb[i]);
        if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest returned NULL"))
            goto lower;
        IoSetCompletionRoutine(irp, KtCountCompletion, (PVOID)(ULONG_PTR)i, TRUE, TRUE, TRUE);
        KtCancelIrps[i] = irp;
        NTSTATUS st = IoCallDriver(disk, irp);
        if (!KtCheck(Context, st == STATUS_PENDING, "pended", "read %u: IoCallDriver returned 0x%x, expected "
                     "STATUS_PENDING", i, st))
            goto lower;
    }
    KeInsertQueueDpc(&KtCancelDpc, NULL, NULL);
    KeLowerIrql(old);
    for (ULONG i = 0; i < n; i++) {
        BOOLEAN cancelled = (KtCancelMask >> i & 1) != 0;
        KtValue(Context, "status", "%u 0x%x", i, KtCancelStatus[i]);
        if (!KtCheck(Context, KtCancelCompletions[i] == 1, "complete_once", "read %u%s completed %u times, expected "
                     "exactly once", i, cancelled ? " (cancelled while queued)" : "", KtCancelCompletions[i]) ||
            (cancelled && !KtCheck(Context, KtCancelResult[i] == TRUE, "cancel_returns", "IoCancelIrp of queued read "
                                   "%u returned %u, expected TRUE (its cancel routine ran)", i, KtCancelResult[i])) ||
            !KtCheck(Context, KtCancelFlag[i] == cancelled, "cancel_flag", "read %u (%s) completed with Irp->Cancel %u, "
                     "expected %u (IoCancelIrp sets Cancel under the cancel lock before it calls the cancel routine)", i,
                     cancelled ? "cancelled while queued" : "not cancelled", KtCancelFlag[i], cancelled))
            goto out;
        NTSTATUS want = cancelled ? STATUS_CANCELLED : STATUS_SUCCESS;
        if (!KtCheck(Context, iosb[i].Status == want && iosb[i].Information == (cancelled ? 0 : RAMDISK_SECTOR),
                     "cancel_status", "read %u (%s): IO_STATUS_BLOCK 0x%x/%llu, expected 0x%x/%u", i,
                     cancelled ? "cancelled" : "not cancelled", iosb[i].Status, (ULONG64)iosb[i].Information, want,
                     cancelled ? 0 : RAMDISK_SECTOR))
            goto out;
        for (ULONG k = 0; !cancelled && k < RAMDISK_SECTOR; k++)
            if (!KtCheck(Context, KtDiskBuffers[i][k] == KtPattern(5, i * RAMDISK_SECTOR + k), "data", "read %u: byte "
                         "%u is 0x%02x, expected 0x%02x", i, k, KtDiskBuffers[i][k],
                         KtPattern(5, i * RAMDISK_SECTOR + k)))
                goto out;
    }
    if (!KtCheck(Context, IopRamDiskQueued(disk) == 0, "cancel_dequeued", "the disk still holds %u requests",
                 IopRamDiskQueued(disk)))
        goto out;
    /* Cancelled before it is sent. */
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, disk, KtDiskBuffers[n], RAMDISK_SECTOR, 0, NULL, &iosb[n]);
    if (!KtCheck(Context, irp != NULL, "build", "IoBuildSynchronousFsdRequest returned NULL"))
        goto out;
    IoSetCompletionRoutine(irp, KtCountCompletion, (PVOID)(ULONG_PTR)n, TRUE, TRUE, TRUE);
    BOOLEAN r = IoCancelIrp(irp);
    if (!KtCheck(Context, r == FALSE && irp->Cancel, "cancel_unqueued", "IoCancelIrp of a request no driver holds yet "
                 "returned %u (FALSE: no cancel routine) and left Cancel %u (TRUE)", r, irp->Cancel))
        goto out;
    IoCallDriver(disk, irp);
    KtCheck(Context, KtCancelCompletions[n] == 1 && iosb[n].Status == STATUS_CANCELLED, "cancel_unqueued", "a request "
            "cancelled before it was sent completed %u times with 0x%x; expected once, STATUS_CANCELLED (the driver "
            "sees Irp->Cancel)", KtCancelCompletions[n], iosb[n].Status);
    goto out;
lower:
    KeLowerIrql(old);
out:
    KtIoCleanup();
}

/* The interrupting device: a request pends, the device interrupts, its service routine
 * (at the device's IRQL) queues its DPC, the DPC completes the request; twice. */
KTEST("io.interrupt", KtTestIoInterrupt)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    NTSTATUS status = IopCreateDriver("IntDev", IopIntDevDriverEntry, &driver);
    if (!KtRequireImplemented(Context, status, "IoCreateDevice", "lab 07") ||
        !KtCheck(Context, NT_SUCCESS(status), "driver", "the interrupting device's DriverEntry: 0x%x", status))
        goto out;
    KtIoTrackDriver(driver);
    PDEVICE_OBJECT dev = IopFindDevice("\\Device\\IntDev");
    if (!KtCheck(Context, dev != NULL, "named_device", "\\Device\\IntDev is not on the I/O manager's list"))
        goto out;
    for (ULONG round = 1; round <= 2; round++) {
        IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0};
        KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
        PIRP irp = IoBuildDeviceIoControlRequest(IOCTL_INTDEV_FIRE, dev, NULL, 0, NULL, 0, FALSE, KT_EVENT(&event),
                                                 &iosb);
        if (!KtCheck(Context, irp != NULL, "build", "IoBuildDeviceIoControlRequest returned NULL"))
            goto out;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        NTSTATUS st = IoCallDriver(dev, irp);
        BOOLEAN ok = KtCheck(Context, st == STATUS_PENDING && !KT_SIGNALLED(&event) && iosb.Status == (NTSTATUS)0xDEADBEEF,
                             "pended", "round %u: IoCallDriver 0x%x, event %d, status block 0x%x: the device's DPC has "
                             "not run yet at DISPATCH_LEVEL", round, st, KT_SIGNALLED(&event), iosb.Status);
        KeLowerIrql(old);
        if (!ok || !KtCheck(Context, KT_SIGNALLED(&event) && iosb.Status == STATUS_SUCCESS && iosb.Information == round,
                            "interrupt_completes", "round %u: after the DPC, event %d, IO_STATUS_BLOCK 0x%x/%llu; "
                            "expected signalled, success (the service routine ran at IRQL 7), %u interrupts", round,
                            KT_SIGNALLED(&event), iosb.Status, (ULONG64)iosb.Information, round))
            goto out;
    }
out:
    KtIoCleanup();
}
