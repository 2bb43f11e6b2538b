/* walk_tests.c - lab 07 public tests of the completion walk: seeded device stacks of 4-7
 * filters over a base driver, each filter passing the IRP down without a completion
 * routine, with one that continues, one that takes the IRP back
 * (STATUS_MORE_PROCESSING_REQUIRED, completing it again from a DPC) or one that pends; the
 * base completes at once or pends and completes from its DPC, with success or an error.
 * Four scenarios a run, so every seed covers every case: success at once, success later,
 * an error at once (routines that ask only for success are skipped), and an error later
 * through filters none of whose routines run (the pending mark must propagate to the top).
 * The kernel reports what IoCallDriver returned, every routine call (its level and
 * PendingReturned) and the final IoStatus; grader/models/lab07.py computes them from the
 * seed. The kernel checks what it can know alone: each routine got its own device, the
 * originator's routine ran once, and the walk cleared every location. */
#include "lab07_support.h"


/* The seeded plan of scenario S (mirrored by grader/models/lab07.py walk_plan). */
static VOID KtWalkPlan(PKTEST_CONTEXT Context, ULONG S, KT_WALK_PLAN *P)
{
    P->Filters = (ULONG)KtRandomRange(Context, 4, 7);
    ULONG r = (ULONG)KtRandomRange(Context, 0, 3);
    for (ULONG i = 0; i < P->Filters; i++)
        P->Action[i] = (UCHAR)(i < 4 ? (r + i) % 4 : KtRandomRange(Context, 0, 3));
    for (ULONG i = P->Filters - 1; i > 0; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i);
        UCHAR t = P->Action[i];
        P->Action[i] = P->Action[j];
        P->Action[j] = t;
    }
    for (ULONG i = 0; i < P->Filters; i++)
        P->Flags[i] = (UCHAR)KtRandomRange(Context, 0, 2);
    P->Information = (ULONG_PTR)KtRandomRange(Context, 1, 4095);
    P->BaseMode = (S == 1 || S == 3) ? KT_BASE_PEND : KT_BASE_SYNC;
    P->Status = S < 2 ? STATUS_SUCCESS : S == 2 ? STATUS_END_OF_FILE : STATUS_DEVICE_DATA_ERROR;
    if (S == 3) {
        ULONG q = (ULONG)KtRandomRange(Context, 0, P->Filters - 1);
        for (ULONG i = 0; i < P->Filters; i++) {
            P->Action[i] = i == q ? FILTER_PASS : FILTER_CONTINUE;
            P->Flags[i] = 1;
        }
    }
}

static const char *const KtActionNames[4] = {"pass", "continue", "more", "pend"};

BOOLEAN KtWalkRun(PKTEST_CONTEXT Context, ULONG S, const KT_WALK_PLAN *Plan)
{
    KT_WALK_PLAN p = *Plan;
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base, top = NULL, devices[KT_WALK_MAX + 1];
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        return FALSE;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = p.BaseMode;
    ext->Status = p.Status;
    ext->Information = p.Information;
    devices[0] = base;
    for (ULONG i = 0; i < p.Filters; i++) {
        BOOLEAN more = p.Action[i] == FILTER_MORE;
        NTSTATUS st = IopAddFilter(fdrv, base, i + 2, p.Action[i], more || p.Flags[i] != 2, more || p.Flags[i] != 1,
                                   &top);
        if (KtIoStubbed(Context) || !KtCheck(Context, NT_SUCCESS(st) && top != NULL, "attach", "scenario %u: "
                                             "attaching filter %u: 0x%x", S, i + 2, st))
            return FALSE;
        devices[i + 1] = top;
        ((PFILTER_EXTENSION)top->DeviceExtension)->Mark = TRUE;
        KtValue(Context, "filter", "s%u %u %s %u", S, i + 2, KtActionNames[p.Action[i]], p.Flags[i]);
    }
    if (!KtCheck(Context, top->StackSize == (CCHAR)(p.Filters + 1), "stack_size", "scenario %u: the top of a stack of "
                 "%u filters over the base has StackSize %d, expected %u", S, p.Filters, top->StackSize, p.Filters + 1))
        return FALSE;
    PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp returned NULL"))
        return FALSE;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_READ;
    sp->Parameters.Read.Length = 512;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    IopFilterLogCount = 0;
    KtTopRuns = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS st = IoCallDriver(top, irp);
    ULONG runsAtReturn = KtTopRuns;
    KeLowerIrql(old);
    KtValue(Context, "returned", "s%u 0x%x", S, st);
    KtValue(Context, "early", "s%u %u", S, runsAtReturn);
    ULONG count = IopFilterLogCount < IOP_FILTER_LOG ? IopFilterLogCount : IOP_FILTER_LOG;
    for (ULONG k = 0; k < count; k++)
        KtValue(Context, "ran", "s%u %u %u", S, IopFilterLog[k].Level, IopFilterLog[k].PendingReturned);
    BOOLEAN ok = KtCheck(Context, KtTopRuns == 1, "top_once", "scenario %u: the originator's completion routine ran %u "
                         "times, expected once", S, KtTopRuns);
    if (ok) {
        KtValue(Context, "final", "s%u 0x%x 0x%llx", S, irp->IoStatus.Status, (ULONG64)irp->IoStatus.Information);
        for (ULONG k = 0; ok && k < count; k++) {
            ULONG level = IopFilterLog[k].Level;
            PDEVICE_OBJECT want = level == 0 ? NULL : level - 1 <= p.Filters ? devices[level - 1] : NULL;
            ok = KtCheck(Context, IopFilterLog[k].Device == want, "routine_device", "scenario %u: the completion "
                         "routine of %s %u was called with device %p, expected %p (the device of the driver that set "
                         "it; NULL for the originator's)", S, level ? "filter" : "the originator", level,
                         IopFilterLog[k].Device, want);
        }
        ok = ok && KtAuditWalkedIrp(Context, "the end of the walk", irp);
    }
    if (KtTopRuns == 1)
        KtIoFreeIrp(irp);
    return ok;
}

KTEST("irp.walk", KtTestIrpWalk)
{
    if (!KtIoEnter(Context))
        return;
    for (ULONG s = 0; s < 4; s++) {
        KT_WALK_PLAN p;
        KtWalkPlan(Context, s, &p);
        BOOLEAN ok = KtWalkRun(Context, s, &p);
        KtIoCleanup();
        if (!ok || KtIoStubbed(Context))
            return;
    }
}

/* A filter at a seeded depth takes the IRP back: the walk stops at its routine (nothing
 * above runs, the IRP sits at that filter's location), and its later completion resumes
 * one level up. Checked by the kernel at each step. */
KTEST("irp.more", KtTestIrpMore)
{
    if (!KtIoEnter(Context))
        return;
    ULONG filters = (ULONG)KtRandomRange(Context, 2, 6);
    ULONG at = (ULONG)KtRandomRange(Context, 0, filters - 1); /* the MORE filter, level at + 2 */
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base, top = NULL, more = NULL;
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = KT_BASE_SYNC;
    ext->Status = STATUS_SUCCESS;
    ext->Information = 5;
    for (ULONG i = 0; i < filters; i++) {
        NTSTATUS st = IopAddFilter(fdrv, base, i + 2, i == at ? FILTER_MORE : FILTER_CONTINUE, TRUE, TRUE, &top);
        if (KtIoStubbed(Context) || !KtCheck(Context, NT_SUCCESS(st), "attach", "attaching filter %u: 0x%x", i + 2, st))
            goto out;
        if (i == at)
            more = top;
        ((PFILTER_EXTENSION)top->DeviceExtension)->Mark = TRUE;
    }
    PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp returned NULL"))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    IopFilterLogCount = 0;
    KtTopRuns = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS st = IoCallDriver(top, irp);
    /* Held at DISPATCH_LEVEL: the walk stopped at the MORE filter's routine. */
    ULONG below = at; /* CONTINUE filters below it: levels 2..at+1 */
    BOOLEAN ok = KtCheck(Context, st == STATUS_PENDING, "more_pending", "a stack with a filter that takes the IRP "
                         "back returned 0x%x, expected STATUS_PENDING", st) &&
                 KtCheck(Context, IopFilterLogCount == below + 1 && KtTopRuns == 0, "more_stops", "when the routine of "
                         "filter %u returned STATUS_MORE_PROCESSING_REQUIRED, %u routines had run (expected %u: the "
                         "ones below it and its own) and the originator's %u times (expected 0): the walk stops there",
                         at + 2, IopFilterLogCount, below + 1, KtTopRuns) &&
                 KtCheck(Context, irp->CurrentLocation == (CCHAR)(at + 2) &&
                         IoGetCurrentIrpStackLocation(irp) == IopIrpStackLocation(irp, at + 2), "more_location",
                         "after STATUS_MORE_PROCESSING_REQUIRED the IRP is at location %d, expected %u (the location "
                         "of the filter whose routine took it back)", irp->CurrentLocation, at + 2) &&
                 KtCheck(Context, IoGetCurrentIrpStackLocation(irp)->DeviceObject == more, "more_location",
                         "the current location's device is %p, expected the filter's %p",
                         IoGetCurrentIrpStackLocation(irp)->DeviceObject, more);
    KeLowerIrql(old);
    if (!ok)
        goto out;
    ok = KtCheck(Context, KtTopRuns == 1 && IopFilterLogCount == filters + 1, "more_resumes", "after the filter "
                 "completed the IRP again, %u routines ran in all (expected %u) and the originator's %u times (1): "
                 "the walk resumes one level up", IopFilterLogCount, filters + 1, KtTopRuns);
    for (ULONG k = 0; ok && k < IopFilterLogCount; k++) {
        ULONG want = k < filters ? k + 2 : 0;
        ok = KtCheck(Context, IopFilterLog[k].Level == want, "more_order", "routine %u to run was that of level %u, "
                     "expected %u (bottom-up, the originator's last)", k, IopFilterLog[k].Level, want);
    }
    if (ok)
        KtAuditWalkedIrp(Context, "after the resumed walk", irp);
    if (KtTopRuns == 1)
        KtIoFreeIrp(irp);
out:
    KtIoCleanup();
}

/* The walk's rules one at a time, both directions of each, at PASSIVE_LEVEL:
 * - PendingReturned is the passed location's SL_PENDING_RETURNED bit, not what it was below:
 *   a driver that forwards synchronously (its routine takes the IRP back, it completes it
 *   again itself, it never returned STATUS_PENDING) leaves its location unmarked, and the
 *   walk does not mark a location whose routine runs;
 * - SL_INVOKE_ON_CANCEL runs a routine when Irp->Cancel is set, whatever the status, and
 *   not when it is clear;
 * - success is NT_SUCCESS (an informational status is a success, a warning is not). */
static volatile ULONG KtRuleRuns;
static volatile BOOLEAN KtRulePending, KtRuleBackPending;
static KEVENT KtRuleEvent;

static NTSTATUS KtRuleRecord(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    KtRuleRuns++;
    KtRulePending = Irp->PendingReturned;
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS KtRuleTakeBack(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    KtRuleBackPending = Irp->PendingReturned;
    KeSetEvent(&KtRuleEvent, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

KTEST("irp.rules", KtTestIrpRules)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT base;
    if (!KtCreateBase(Context, &driver, &base))
        goto out;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = KT_BASE_PEND;
    ext->Status = STATUS_SUCCESS;
    ext->Information = (ULONG_PTR)KtRandomRange(Context, 1, 4095);
    /* A synchronous forward: the test is the driver of location 2 of a 2-location IRP. */
    PIRP irp = IoAllocateIrp(2, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(2) returned NULL"))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    IoSetCompletionRoutine(irp, KtRuleRecord, NULL, TRUE, TRUE, TRUE);
    IoSetNextIrpStackLocation(irp);
    IoCopyCurrentIrpStackLocationToNext(irp);
    IoSetCompletionRoutine(irp, KtRuleTakeBack, NULL, TRUE, TRUE, TRUE);
    KeInitializeEvent(&KtRuleEvent, NotificationEvent, FALSE);
    KtRuleRuns = 0;
    KtRuleBackPending = 2;
    NTSTATUS st = IoCallDriver(base, irp);
    KeWaitForSingleObject(&KtRuleEvent, Executive, KernelMode, FALSE, NULL);
    if (!KtCheck(Context, st == STATUS_PENDING && KtRuleBackPending == 1 && KtRuleRuns == 0 && irp->CurrentLocation == 2,
                 "walk_pending", "a base that pends under a synchronously forwarding driver: IoCallDriver returned "
                 "0x%x (STATUS_PENDING), the forwarder's routine saw PendingReturned %u (1: the base marked location 1), "
                 "the originator's ran %u times (0: the forwarder took the IRP back), CurrentLocation %d (2)", st,
                 KtRuleBackPending, KtRuleRuns, irp->CurrentLocation))
        goto out;
    KtRulePending = 2;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    BOOLEAN ran = KtRuleRuns == 1;
    if (!KtCheck(Context, ran && KtRulePending == 0, "pending_from_location", "the forwarder completed the IRP again: "
                 "the originator's routine ran %u times (1) with PendingReturned %u, expected 0 - location 2 was never "
                 "marked: PendingReturned is the passed location's SL_PENDING_RETURNED bit, and the walk marks a "
                 "location pending only when the location below it had no routine to run", KtRuleRuns, KtRulePending))
        goto out_free;
    if (!KtAuditWalkedIrp(Context, "after the forwarder's completion", irp))
        goto out_free;
    KtIoFreeIrp(irp);
    /* Invoke bits against Cancel and the kind of status, each direction (one location: the base's). */
    static const NTSTATUS info[4] = {0x00000001, 0x00000102, 0x40000000, 0x40000006};
    static const NTSTATUS warn[3] = {(NTSTATUS)0x80000005, (NTSTATUS)0x80000006, (NTSTATUS)0x8000001A};
    NTSTATUS informational = info[KtRandomRange(Context, 0, 3)], warning = warn[KtRandomRange(Context, 0, 2)];
    struct {
        BOOLEAN Cancel, OnSuccess, OnError, OnCancel, Runs;
        NTSTATUS Status;
        PCSTR What;
    } cases[6] = {
        {TRUE, FALSE, FALSE, TRUE, TRUE, STATUS_SUCCESS, "cancel-only routine, Irp->Cancel set, a success"},
        {FALSE, FALSE, FALSE, TRUE, FALSE, STATUS_DEVICE_DATA_ERROR, "cancel-only routine, Irp->Cancel clear, an error"},
        {FALSE, TRUE, FALSE, FALSE, TRUE, informational, "success-only routine, an informational status (NT_SUCCESS)"},
        {FALSE, FALSE, TRUE, FALSE, FALSE, informational, "error-only routine, an informational status (NT_SUCCESS)"},
        {FALSE, FALSE, TRUE, FALSE, TRUE, warning, "error-only routine, a warning status (not NT_SUCCESS)"},
        {FALSE, TRUE, FALSE, FALSE, FALSE, warning, "success-only routine, a warning status (not NT_SUCCESS)"},
    };
    ext->Mode = KT_BASE_SYNC;
    for (ULONG c = 0; c < 6; c++) {
        irp = IoAllocateIrp(1, FALSE);
        if (!KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(1) returned NULL"))
            goto out;
        irp->Cancel = cases[c].Cancel;
        IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
        IoSetCompletionRoutine(irp, KtRuleRecord, NULL, cases[c].OnSuccess, cases[c].OnError, cases[c].OnCancel);
        ext->Status = cases[c].Status;
        KtRuleRuns = 0;
        IoCallDriver(base, irp); /* a routine that runs keeps the IRP; otherwise the walk frees it */
        ran = KtRuleRuns != 0;
        if (ran)
            KtIoFreeIrp(irp);
        if (!KtCheck(Context, ran == cases[c].Runs, "invoke_rules", "%s (status 0x%08x): the routine %s, expected it "
                     "%s (SL_INVOKE_ON_SUCCESS when NT_SUCCESS, SL_INVOKE_ON_ERROR otherwise, SL_INVOKE_ON_CANCEL when "
                     "Irp->Cancel)", cases[c].What, (ULONG)cases[c].Status, ran ? "ran" : "did not run",
                     cases[c].Runs ? "to run" : "not to run"))
            goto out;
    }
    goto out;
out_free:
    if (ran)
        KtIoFreeIrp(irp);
out:
    KtIoCleanup();
}
