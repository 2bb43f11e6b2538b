/* hidden_tests.c - lab 07 hidden tests (instructor tree only): a deep seeded stack of eight
 * filters (judged by the model), the buffering methods with empty buffers, and completing
 * an IRP whose cancel routine is still set. */
#include "lab07_support.h"

/* Eight filters, every action and flag seeded, the base's mode and status seeded
 * (mirrored by grader/models/lab07.py deep_plan). */
KTEST("irp.walk_deep", KtTestIrpWalkDeep)
{
    if (!KtIoEnter(Context))
        return;
    for (ULONG s = 0; s < 2; s++) {
        KT_WALK_PLAN p;
        p.Filters = KT_WALK_MAX;
        for (ULONG i = 0; i < p.Filters; i++) {
            p.Action[i] = (UCHAR)KtRandomRange(Context, 0, 3);
            p.Flags[i] = (UCHAR)KtRandomRange(Context, 0, 2);
        }
        p.BaseMode = s == 0 ? KT_BASE_PEND : KT_BASE_SYNC;
        p.Status = KtRandomRange(Context, 0, 1) ? STATUS_SUCCESS : STATUS_END_OF_FILE;
        p.Information = (ULONG_PTR)KtRandomRange(Context, 1, 4095);
        BOOLEAN ok = KtWalkRun(Context, s, &p);
        KtIoCleanup();
        if (!ok || KtIoStubbed(Context))
            return;
    }
}

/* Empty buffers: every method with no input and no output, the direct methods with only
 * input, METHOD_NEITHER with only output, METHOD_BUFFERED with only input and only output. */
KTEST("ioctl.empty", KtTestIoctlEmpty)
{
    if (!KtIoEnter(Context))
        return;
    PDEVICE_OBJECT dev;
    if (!KtCreateEcho(Context, &dev))
        goto out;
    ULONG n = (ULONG)KtRandomRange(Context, 1, 300);
    for (ULONG m = 0; m < 4; m++)
        if (!KtOneIoctl(Context, dev, 10 + m, m, 0, 0, 0, 64, FALSE))
            goto out;
    if (!KtOneIoctl(Context, dev, 20, METHOD_IN_DIRECT, n, 0, 0, 64, FALSE) ||
        !KtOneIoctl(Context, dev, 21, METHOD_OUT_DIRECT, n, 0, 0, 64, TRUE) ||
        !KtOneIoctl(Context, dev, 22, METHOD_NEITHER, 0, n, n, 64, FALSE) ||
        !KtOneIoctl(Context, dev, 23, METHOD_BUFFERED, n, 0, 0, 64, FALSE) || /* input only: no IRP_INPUT_OPERATION */
        !KtOneIoctl(Context, dev, 24, METHOD_BUFFERED, 0, n, (ULONG)KtRandomRange(Context, 1, n), 64, TRUE))
        goto out;
out:
    KtIoCleanup();
}

static VOID KtNeverCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
}

/* A driver completes an IRP without taking its cancel routine back:
 * CANCEL_STATE_IN_COMPLETED_IRP with the IRP and the routine. */
KTEST_STOP("irp.cancel_state", KtTestCancelState)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT base;
    if (!KtCreateBase(Context, &driver, &base))
        goto out;
    PIRP irp = IoAllocateIrp(base->StackSize, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp returned NULL"))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    PDRIVER_CANCEL old = IoSetCancelRoutine(irp, KtNeverCancel);
    if (KtIoStubbed(Context) || !KtCheck(Context, old == NULL, "set_cancel", "IoSetCancelRoutine on a fresh IRP "
                                         "returned %p, expected NULL", old))
        goto out;
    KtValue(Context, "irp", "0x%llx", (ULONG64)(ULONG_PTR)irp);
    KtValue(Context, "routine", "0x%llx", (ULONG64)(ULONG_PTR)KtNeverCancel);
    KtValue(Context, "stop_params", "0x%llx 0x%llx 0x0 0x0", (ULONG64)(ULONG_PTR)irp, (ULONG64)(ULONG_PTR)KtNeverCancel);
    IoCallDriver(base, irp);
    KtFail(Context, "cancel_state", "an IRP completed with its cancel routine still set: IoCompleteRequest must "
           "bugcheck CANCEL_STATE_IN_COMPLETED_IRP");
out:
    KtIoCleanup();
}

/* A packet that is no IRP (Type 0, as IoFreeIrp leaves it) held at a seeded location: the
 * Type check alone catches it (CurrentLocation is inside the stack). */
KTEST_STOP("irp.complete_not_irp", KtTestCompleteNotIrp)
{
    if (!KtIoEnter(Context))
        return;
    CCHAR n = (CCHAR)KtRandomRange(Context, 2, 6);
    CCHAR at = (CCHAR)KtRandomRange(Context, 1, n);
    PIRP irp = IoAllocateIrp(n, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
        return;
    for (CCHAR k = n; k >= at; k--)
        IoSetNextIrpStackLocation(irp);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp->CurrentLocation == at, "set_next", "CurrentLocation %d, expected "
                                         "%d", irp->CurrentLocation, at))
        return;
    irp->Type = 0;
    KtValue(Context, "irp", "0x%llx", (ULONG64)(ULONG_PTR)irp);
    KtValue(Context, "location", "0x%x", at);
    KtValue(Context, "stop_params", "0x%llx 0x%x 0x0 0x0", (ULONG64)(ULONG_PTR)irp, at);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    KtFail(Context, "complete_not_irp", "IoCompleteRequest of a packet whose Type is 0, not IO_TYPE_IRP (a freed IRP), "
           "returned: it must bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS");
}
