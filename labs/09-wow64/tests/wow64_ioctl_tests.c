/* wow64_ioctl_tests.c - lab 09's driver checkpoint: WowSampleCaptureRequest and
 * WowSampleWriteReply (labs/09-wow64/ioctl32.c) on seeded requests from a WOW64 process in
 * user mode (the 32-bit layouts), from a native process in user mode and from kernel mode
 * in a WOW64 process (the native layouts), with inputs and outputs one byte too short; then
 * \Device\WowSample end to end (IoCallDriver, the reply copied back to the caller's buffer:
 * Information bytes, not one more). Buffers are poisoned; what was written is reported as
 * `KTEST VALUE wow64.ioctl32 <step> ...` and grader/models/lab09.py judges it from the seed. */
#include "ktest.h"
#include "ps.h"
#include "wow64_support.h"

#define KTI_POISON 0xE3

static VOID KtiPoison(PVOID Buffer, SIZE_T Size)
{
    for (SIZE_T i = 0; i < Size; i++)
        ((PUCHAR)Buffer)[i] = (UCHAR)(KTI_POISON ^ i);
}

static BOOLEAN KtiPoisoned(PVOID Buffer, SIZE_T From, SIZE_T Size)
{
    for (SIZE_T i = From; i < Size; i++)
        if (((PUCHAR)Buffer)[i] != (UCHAR)(KTI_POISON ^ i))
            return FALSE;
    return TRUE;
}

static ULONG KtiHandle(ULONG Kind, ULONG64 R)
{
    return Kind == 0 ? 0xFFFFFFFF : Kind == 1 ? 0xFFFFFFFE : 0x80000000 | (4 * (1 + (ULONG)(R % 0x3FFF)));
}

/* An IRP whose current location is a device control of the given lengths, SystemBuffer Buffer. */
static PIRP KtiIrp(PKTEST_CONTEXT Context, KPROCESSOR_MODE Mode, PVOID Buffer, ULONG In, ULONG Out)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    if (!KtCheck(Context, irp != NULL, "irp", "IoAllocateIrp(1) returned NULL"))
        return NULL;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_DEVICE_CONTROL;
    sp->Parameters.DeviceIoControl.IoControlCode = IOCTL_WOWSAMPLE_ECHO;
    sp->Parameters.DeviceIoControl.InputBufferLength = In;
    sp->Parameters.DeviceIoControl.OutputBufferLength = Out;
    IoSetNextIrpStackLocation(irp);
    irp->AssociatedIrp.SystemBuffer = Buffer;
    irp->RequestorMode = Mode;
    irp->IoStatus.Information = 0x5555;
    return irp;
}

static VOID KtiHex(PKTEST_CONTEXT Context, PCSTR Step, NTSTATUS Status, ULONG_PTR Information, const UCHAR *Bytes,
                   ULONG Count)
{
    CHAR hex[2 * 48 + 1];
    for (ULONG i = 0; i < Count && i < 48; i++)
        RtlFormatString(hex + 2 * i, 3, "%02x", Bytes[i]);
    hex[2 * (Count < 48 ? Count : 48)] = 0;
    KtValue(Context, Step, "%08x %llx %s", (ULONG)Status, (ULONG64)Information, hex);
}

static VOID KtiCapture(PKTEST_CONTEXT Context, PCSTR Step, KPROCESSOR_MODE Mode, PVOID In, ULONG InLength)
{
    static UCHAR buffer[64];
    KtiPoison(buffer, sizeof(buffer));
    RtlCopyMemory(buffer, In, InLength);
    UCHAR saved[64];
    RtlCopyMemory(saved, buffer, sizeof(buffer));
    PIRP irp = KtiIrp(Context, Mode, buffer, InLength, 0);
    if (irp == NULL)
        return;
    WOWSAMPLE_REQUEST request;
    KtiPoison(&request, sizeof(request));
    NTSTATUS status = WowSampleCaptureRequest(irp, &request);
    IoFreeIrp(irp);
    KtCheck(Context, memcmp(saved, buffer, sizeof(buffer)) == 0, "input_unchanged", "%s: the input buffer was modified",
            Step);
    KtiHex(Context, Step, status, 0, (const UCHAR *)&request, sizeof(request));
}

static VOID KtiReply(PKTEST_CONTEXT Context, PCSTR Step, KPROCESSOR_MODE Mode, const WOWSAMPLE_REPLY *Reply, ULONG Out)
{
    static UCHAR buffer[64];
    KtiPoison(buffer, sizeof(buffer));
    PIRP irp = KtiIrp(Context, Mode, buffer, 0, Out);
    if (irp == NULL)
        return;
    NTSTATUS status = WowSampleWriteReply(irp, Reply);
    ULONG_PTR information = irp->IoStatus.Information;
    IoFreeIrp(irp);
    ULONG written = 0;
    for (ULONG i = 0; i < sizeof(buffer); i++)
        if (buffer[i] != (UCHAR)(KTI_POISON ^ i))
            written = i + 1;
    KtCheck(Context, written <= (Mode == UserMode && PsGetProcessWow64Process(PsGetCurrentProcess()) ?
                                 sizeof(WOWSAMPLE_REPLY32) : sizeof(WOWSAMPLE_REPLY)),
            "not_past_the_reply", "%s: the reply wrote %u bytes of the system buffer", Step, written);
    KtiHex(Context, Step, status, information, buffer, 32);
}

KTEST("wow64.ioctl32", KtWow64Ioctl32)
{
    KtSetBudget(Context, 5000);
    ULONG64 r[8];
    for (ULONG i = 0; i < 8; i++)
        r[i] = KtRandom(Context);
    /* A first call: a stub reports itself before anything else. */
    WOWSAMPLE_REQUEST probe;
    UCHAR zero[32] = {0};
    PIRP irp = KtiIrp(Context, KernelMode, zero, sizeof(zero), 0);
    if (irp == NULL)
        return;
    NTSTATUS status = WowSampleCaptureRequest(irp, &probe);
    IoFreeIrp(irp);
    if (!KtRequireImplemented(Context, status, "WowSampleCaptureRequest", "lab 09"))
        return;
    PEPROCESS wow, native;
    status = PsInitializeObjects();
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PsInitializeObjects: 0x%08X", (ULONG)status))
        return;
    status = PspCreateProcess("wow32", &wow);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PspCreateProcess: 0x%08X", (ULONG)status))
        return;
    status = PspCreateProcess("native64", &native);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PspCreateProcess: 0x%08X", (ULONG)status)) {
        ObDereferenceObject(wow);
        return;
    }
    PsSetProcessWow64(wow, 0x7EFDE000, MM_HIGHEST_USER_ADDRESS_WOW64);

    WOWSAMPLE_REQUEST32 in32 = {
        KtiHandle((ULONG)(r[0] % 3), r[1]), 0x80000000 | (ULONG)(r[1] >> 33), (ULONG)(r[2] % 0x10000), (ULONG)r[3],
        0x80000000 | (ULONG)(r[4] >> 33),
    };
    WOWSAMPLE_REQUEST in64 = {(HANDLE)r[5], (PVOID)r[6], (ULONG)r[2], (ULONG)(r[3] >> 32), r[4]};
    WOWSAMPLE_REPLY reply = {r[4] | 0xFFFFFFFF00000000ULL, (PVOID)(r[6] | 0x80000000ULL), (ULONG)r[7], 1};

    KeStackAttachProcess(wow);
    KtCheck(Context, IoIs32bitProcess(NULL), "framework", "IoIs32bitProcess(NULL) in a WOW64 process is FALSE");
    KtiCapture(Context, "capture32", UserMode, &in32, sizeof(in32) + (ULONG)(r[5] % 4));
    KtiCapture(Context, "capture32_short", UserMode, &in32, sizeof(in32) - 1);
    KtiCapture(Context, "capture_kernelmode", KernelMode, &in64, sizeof(in64));
    KtiReply(Context, "reply32", UserMode, &reply, sizeof(WOWSAMPLE_REPLY32) + (ULONG)(r[5] % 8));
    KtiReply(Context, "reply32_short", UserMode, &reply, sizeof(WOWSAMPLE_REPLY32) - 1);
    KtiReply(Context, "reply_kernelmode", KernelMode, &reply, sizeof(WOWSAMPLE_REPLY));

    /* \Device\WowSample end to end, from the 32-bit requestor. */
    PDRIVER_OBJECT driver = NULL;
    status = IopCreateDriver("WowSample", IopWowSampleDriverEntry, &driver);
    if (KtCheck(Context, NT_SUCCESS(status) && driver->DeviceObject, "driver", "IopCreateDriver(WowSample): 0x%08X",
                (ULONG)status)) {
        static UCHAR out[48];
        KtiPoison(out, sizeof(out));
        KEVENT event;
        KeInitializeEvent(&event, NotificationEvent, FALSE);
        IO_STATUS_BLOCK iosb = {{(NTSTATUS)0xDEADBEEF}, 0x5555};
        ULONG outLength = sizeof(WOWSAMPLE_REPLY32) + (ULONG)(r[6] % 8);
        irp = IoBuildDeviceIoControlRequest(IOCTL_WOWSAMPLE_ECHO, driver->DeviceObject, &in32, sizeof(in32), out,
                                            outLength, FALSE, &event, &iosb);
        if (KtCheck(Context, irp != NULL, "irp", "IoBuildDeviceIoControlRequest returned NULL")) {
            irp->RequestorMode = UserMode;
            status = IoCallDriver(driver->DeviceObject, irp);
            KtCheck(Context, KtiPoisoned(out, sizeof(WOWSAMPLE_REPLY32), sizeof(out)), "not_past_the_reply",
                    "the 32-bit caller's output buffer (%u bytes) got bytes past the 16 of a WOWSAMPLE_REPLY32 "
                    "(Information %llu)", outLength, (ULONG64)iosb.Information);
            KtiHex(Context, "driver32", status, iosb.Information, out, 24);
        }
        IoDeleteDevice(driver->DeviceObject);
        IopDeleteDriver(driver);
    }
    KeUnstackDetachProcess();

    KeStackAttachProcess(native);
    KtiCapture(Context, "capture64", UserMode, &in64, sizeof(in64) + (ULONG)(r[7] % 4));
    KtiCapture(Context, "capture64_short", UserMode, &in64, sizeof(in32));
    KtiReply(Context, "reply64", UserMode, &reply, sizeof(WOWSAMPLE_REPLY) + (ULONG)(r[7] % 8));
    KtiReply(Context, "reply64_short", UserMode, &reply, sizeof(WOWSAMPLE_REPLY) - 1);
    KeUnstackDetachProcess();

    PsSetProcessWow64(wow, 0, 0);
    ObDereferenceObject(wow);
    ObDereferenceObject(native);
    ObpResetObjectManager();
}
