/* gdb_io_tests.c - gdb.io: a framework ktest (in no lab.toml, never graded) for the lab 07
 * debugger commands (nt irp, nt devstack, nt drvobj; tests/test_gdb_nt.py). It builds a
 * seeded stack of filters over the base test driver, sends an IRP that the base pends (at
 * DISPATCH_LEVEL, so it stays held), prints what the kernel holds in KTEST VALUE records
 * and calls KtGdbSnapshotPoint(1), where GDB runs the commands and compares; then lowers
 * the IRQL (the base's DPC completes the IRP) and cleans up. Without a debugger the call
 * does nothing. */
#include "lab07_support.h"

VOID KtGdbSnapshotPoint(ULONG Phase);

KTEST("gdb.io", KtTestGdbIo)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base, top = NULL;
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = KT_BASE_PEND;
    ext->Status = STATUS_SUCCESS;
    ULONG filters = (ULONG)KtRandomRange(Context, 2, 5);
    for (ULONG i = 0; i < filters; i++) {
        NTSTATUS st = IopAddFilter(fdrv, base, i + 2, i == 1 ? FILTER_PASS : FILTER_CONTINUE, TRUE, TRUE, &top);
        if (KtIoStubbed(Context) || !KtCheck(Context, NT_SUCCESS(st), "attach", "attaching filter %u: 0x%x", i, st))
            goto out;
    }
    PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp returned NULL"))
        goto out;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_WRITE;
    sp->Parameters.Write.Length = (ULONG)KtRandomRange(Context, 1, 64) * 512;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS st = IoCallDriver(top, irp);
    KtValue(Context, "irp", "%p %d %d %u", irp, irp->StackCount, irp->CurrentLocation, sp->Parameters.Write.Length);
    KtValue(Context, "status", "0x%x", st);
    for (PDEVICE_OBJECT d = top; d != NULL; d = d->AttachedTo)
        KtValue(Context, "device", "%p %d %p", d, d->StackSize, d->DriverObject);
    KtValue(Context, "drivers", "%p %p", driver, fdrv);
    KtGdbSnapshotPoint(1);
    KeLowerIrql(old);
    KtCheck(Context, KtTopRuns == 1, "complete", "the IRP completed %u times", KtTopRuns);
    if (KtTopRuns == 1)
        KtIoFreeIrp(irp);
out:
    KtIoCleanup();
}
