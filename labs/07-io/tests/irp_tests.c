/* irp_tests.c - lab 07 public tests of the IRP itself: allocation on dirty pool (every
 * field, every stack location, the pool charged exactly), the stack-location helpers
 * (current, next, copy, skip, completion routine bits, pending mark), IoCallDriver's
 * bookkeeping and dispatch by major function (an unsupported one gives
 * STATUS_INVALID_DEVICE_REQUEST), and the two bugchecks: no stack location left, and an
 * IRP completed twice. */
#include "lab07_support.h"

#define KT_IRP_TAG POOL_TAG('I', 'r', 'p', ' ')

static BOOLEAN KtCheckFreshIrp(PKTEST_CONTEXT Context, PCSTR Step, PIRP irp, CCHAR n)
{
    USHORT size = (USHORT)(sizeof(IRP) + n * sizeof(IO_STACK_LOCATION));
    if (!KtCheck(Context, irp->Type == IO_TYPE_IRP && irp->Size == size && irp->StackCount == n &&
                 irp->CurrentLocation == n + 1, "irp_fields", "%s (StackSize %d): Type %d (6), Size %u (%u), StackCount "
                 "%d (%d), CurrentLocation %d (StackSize + 1 = %d)", Step, n, irp->Type, irp->Size, size,
                 irp->StackCount, n, irp->CurrentLocation, n + 1) ||
        !KtCheck(Context, irp->Tail.Overlay.CurrentStackLocation == IopIrpStackLocation(irp, n + 1),
                 "irp_fields", "%s (StackSize %d): CurrentStackLocation %p, expected one past the top location, %p", Step,
                 n, irp->Tail.Overlay.CurrentStackLocation, IopIrpStackLocation(irp, n + 1)) ||
        !KtCheck(Context, irp->ThreadListEntry.Flink == &irp->ThreadListEntry &&
                 irp->ThreadListEntry.Blink == &irp->ThreadListEntry, "irp_fields", "%s: ThreadListEntry is not an "
                 "empty list (%p/%p)", Step, irp->ThreadListEntry.Flink, irp->ThreadListEntry.Blink) ||
        !KtCheck(Context, irp->MdlAddress == NULL && irp->Flags == 0 && irp->AssociatedIrp.SystemBuffer == NULL &&
                 irp->IoStatus.Status == 0 && irp->IoStatus.Information == 0 && !irp->PendingReturned &&
                 !irp->Cancel && irp->CancelRoutine == NULL && irp->UserIosb == NULL && irp->UserEvent == NULL &&
                 irp->UserBuffer == NULL && irp->Tail.Overlay.OriginalFileObject == NULL &&
                 irp->Tail.Overlay.Thread == NULL, "irp_zeroed", "%s: a fresh IRP on dirty pool has MdlAddress %p, "
                 "Flags 0x%x, SystemBuffer %p, IoStatus 0x%x/%llu, PendingReturned %u, Cancel %u, CancelRoutine %p, "
                 "UserIosb %p, UserEvent %p, UserBuffer %p (all zero: IoInitializeIrp zeroes the packet)", Step,
                 irp->MdlAddress, irp->Flags, irp->AssociatedIrp.SystemBuffer, irp->IoStatus.Status,
                 (ULONG64)irp->IoStatus.Information, irp->PendingReturned, irp->Cancel, irp->CancelRoutine,
                 irp->UserIosb, irp->UserEvent, irp->UserBuffer))
        return FALSE;
    for (CCHAR k = 1; k <= n; k++) {
        PUCHAR b = (PUCHAR)IopIrpStackLocation(irp, k);
        for (ULONG i = 0; i < sizeof(IO_STACK_LOCATION); i++)
            if (!KtCheck(Context, b[i] == 0, "locations_zeroed", "%s (StackSize %d): byte %u of stack location %d is "
                         "0x%02x: every stack location of a fresh IRP is zero", Step, n, i, k, b[i]))
                return FALSE;
    }
    return KtCheck(Context, IoGetNextIrpStackLocation(irp) == IopIrpStackLocation(irp, n) &&
                   IoGetCurrentIrpStackLocation(irp) == IopIrpStackLocation(irp, n + 1), "next_location", "%s: next "
                   "location %p (expected the top one, location %d at %p), current %p (expected %p)", Step,
                   IoGetNextIrpStackLocation(irp), n, IopIrpStackLocation(irp, n), IoGetCurrentIrpStackLocation(irp),
                   IopIrpStackLocation(irp, n + 1));
}

/* IoAllocateIrp of seeded sizes (1, a seeded middle one, 16) on dirty pool; the pool is
 * charged the IRP's exact size under 'Irp ' and gets it back; StackSize 0 gives NULL;
 * IoInitializeIrp on a poisoned buffer. */
KTEST("irp.alloc", KtTestIrpAlloc)
{
    if (!KtIoEnter(Context))
        return;
    CCHAR sizes[3] = {1, (CCHAR)KtRandomRange(Context, 2, 12), 16};
    for (ULONG s = 0; s < 3; s++) {
        CCHAR n = sizes[s];
        SIZE_T before = KtIoTagBytes(KT_IRP_TAG);
        PIRP irp = IoAllocateIrp(n, FALSE);
        if (KtIoStubbed(Context) ||
            !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
            return;
        SIZE_T charged = KtIoTagBytes(KT_IRP_TAG) - before;
        SIZE_T size = sizeof(IRP) + n * sizeof(IO_STACK_LOCATION);
        if (!KtCheck(Context, charged >= size && charged < size + 32, "pool_charge", "IoAllocateIrp(%d) took %llu bytes "
                     "of nonpaged pool under 'Irp ', expected one block of sizeof(IRP) + %d * sizeof(IO_STACK_LOCATION) "
                     "= %llu bytes (plus its header)", n, (ULONG64)charged, n, (ULONG64)size) ||
            !KtCheckFreshIrp(Context, "IoAllocateIrp", irp, n))
            return;
        IoFreeIrp(irp);
        if (!KtCheck(Context, KtIoTagBytes(KT_IRP_TAG) == before, "free", "after IoFreeIrp the pool holds %llu bytes "
                     "under 'Irp ', expected %llu as before the allocation", (ULONG64)KtIoTagBytes(KT_IRP_TAG),
                     (ULONG64)before))
            return;
    }
    SIZE_T before = KtIoTagBytes(KT_IRP_TAG);
    PIRP none = IoAllocateIrp(0, FALSE);
    if (!KtCheck(Context, none == NULL && KtIoTagBytes(KT_IRP_TAG) == before, "zero_stack", "IoAllocateIrp(0) returned "
                 "%p and left %llu bytes under 'Irp ' (expected NULL, nothing allocated)", none,
                 (ULONG64)(KtIoTagBytes(KT_IRP_TAG) - before)))
        return;
    static UCHAR buffer[sizeof(IRP) + 5 * sizeof(IO_STACK_LOCATION)] __attribute__((aligned(16)));
    KtIoPoison(Context, buffer, sizeof(buffer), 1);
    IoInitializeIrp((PIRP)buffer, sizeof(buffer), 5);
    KtCheckFreshIrp(Context, "IoInitializeIrp on a poisoned buffer", (PIRP)buffer, 5);
}

static NTSTATUS KtRoutineA(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    return STATUS_SUCCESS;
}

/* The stack-location helpers on an IRP of seeded size, positioned at a seeded location:
 * the next location; IoSetCompletionRoutine's exact Control bits for all eight choices
 * (over a location whose Control was dirty); IoMarkIrpPending on the current location only;
 * IoCopyCurrentIrpStackLocationToNext copies the request but not the routine; skip and
 * set-next move by one. */
KTEST("irp.locations", KtTestIrpLocations)
{
    if (!KtIoEnter(Context))
        return;
    CCHAR n = (CCHAR)KtRandomRange(Context, 3, 10);
    CCHAR at = (CCHAR)KtRandomRange(Context, 2, n);
    PIRP irp = IoAllocateIrp(n, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
        return;
    /* Move to location `at` as drivers above would (IoSetNextIrpStackLocation). */
    for (CCHAR k = n; k >= at; k--)
        IoSetNextIrpStackLocation(irp);
    if (KtIoStubbed(Context) ||
        !KtCheck(Context, irp->CurrentLocation == at && IoGetCurrentIrpStackLocation(irp) == IopIrpStackLocation(irp, at),
                 "set_next", "after %d IoSetNextIrpStackLocation calls CurrentLocation is %d, current location %p "
                 "(expected %d, %p)", n - at + 1, irp->CurrentLocation, IoGetCurrentIrpStackLocation(irp), at,
                 IopIrpStackLocation(irp, at)) ||
        !KtCheck(Context, IoGetNextIrpStackLocation(irp) == IopIrpStackLocation(irp, at - 1), "next_location",
                 "at location %d the next location is %p, expected location %d at %p", at,
                 IoGetNextIrpStackLocation(irp), at - 1, IopIrpStackLocation(irp, at - 1)))
        goto out;
    PIO_STACK_LOCATION cur = IopIrpStackLocation(irp, at), next = IopIrpStackLocation(irp, at - 1);
    for (ULONG bits = 0; bits < 8; bits++) {
        next->Control = 0xFF;
        cur->Control = 0;
        PVOID ctx = (PVOID)(ULONG_PTR)(0xC0DE0000 + bits);
        IoSetCompletionRoutine(irp, KtRoutineA, ctx, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0);
        UCHAR want = ((bits & 1) ? SL_INVOKE_ON_SUCCESS : 0) | ((bits & 2) ? SL_INVOKE_ON_ERROR : 0) |
                     ((bits & 4) ? SL_INVOKE_ON_CANCEL : 0);
        if (!KtCheck(Context, next->CompletionRoutine == KtRoutineA && next->Context == ctx && next->Control == want,
                     "completion_bits", "IoSetCompletionRoutine(success %u, error %u, cancel %u) left the next location "
                     "with routine %p (%p), context %p (%p), Control 0x%02x (expected exactly 0x%02x)", bits & 1,
                     (bits >> 1) & 1, (bits >> 2) & 1, next->CompletionRoutine, KtRoutineA, next->Context, ctx,
                     next->Control, want) ||
            !KtCheck(Context, cur->Control == 0 && cur->CompletionRoutine == NULL, "completion_next", "IoSetCompletion"
                     "Routine changed the current location (Control 0x%02x, routine %p): the routine goes in the next "
                     "location", cur->Control, cur->CompletionRoutine))
            goto out;
    }
    next->CompletionRoutine = NULL;
    next->Context = (PVOID)(ULONG_PTR)0xC0DE00EE;
    next->Control = SL_INVOKE_ON_ERROR;
    NTSTATUS st = IoSetCompletionRoutineEx(NULL, irp, KtRoutineA, NULL, TRUE, TRUE, TRUE);
    if (!KtCheck(Context, st == STATUS_INVALID_PARAMETER, "completion_ex", "IoSetCompletionRoutineEx with no device "
                 "returned 0x%x, expected STATUS_INVALID_PARAMETER", st) ||
        !KtCheck(Context, next->CompletionRoutine == NULL && next->Context == (PVOID)(ULONG_PTR)0xC0DE00EE &&
                 next->Control == SL_INVOKE_ON_ERROR, "completion_ex", "IoSetCompletionRoutineEx with no device changed "
                 "the next location (routine %p, Context %p, Control 0x%02x; expected NULL, 0xc0de00ee, 0x80): a refused "
                 "call sets nothing", next->CompletionRoutine, next->Context, next->Control))
        goto out;
    static DEVICE_OBJECT KtSomeDevice;
    st = IoSetCompletionRoutineEx(&KtSomeDevice, irp, KtRoutineA, (PVOID)(ULONG_PTR)0xC0DE00EF, FALSE, TRUE, FALSE);
    if (!KtCheck(Context, st == STATUS_SUCCESS && next->CompletionRoutine == KtRoutineA &&
                 next->Context == (PVOID)(ULONG_PTR)0xC0DE00EF && next->Control == SL_INVOKE_ON_ERROR, "completion_ex",
                 "IoSetCompletionRoutineEx with a device returned 0x%x (STATUS_SUCCESS) and left routine %p (%p), "
                 "Context %p (0xc0de00ef), Control 0x%02x (0x80)", st, next->CompletionRoutine, KtRoutineA,
                 next->Context, next->Control))
        goto out;
    /* The pending mark. */
    cur->Control = SL_INVOKE_ON_ERROR;
    next->Control = 0;
    IoMarkIrpPending(irp);
    if (!KtCheck(Context, cur->Control == (SL_INVOKE_ON_ERROR | SL_PENDING_RETURNED) && next->Control == 0,
                 "mark_pending", "IoMarkIrpPending left the current location's Control 0x%02x (expected 0x%02x: the bit "
                 "added, the others kept) and the next one's 0x%02x (0)", cur->Control,
                 SL_INVOKE_ON_ERROR | SL_PENDING_RETURNED, next->Control))
        goto out;
    /* Copy to next. */
    cur->MajorFunction = IRP_MJ_WRITE;
    cur->MinorFunction = 3;
    cur->Flags = 0x11;
    cur->Parameters.Write.Length = (ULONG)KtRandomRange(Context, 1, 100000);
    cur->Parameters.Write.Key = 0x5555;
    cur->Parameters.Write.ByteOffset = (LONGLONG)KtRandomRange(Context, 0, 1ULL << 40);
    cur->DeviceObject = (PDEVICE_OBJECT)(ULONG_PTR)0xFFFF800012340000ULL;
    cur->FileObject = (PFILE_OBJECT)(ULONG_PTR)0xFFFF800056780000ULL;
    cur->CompletionRoutine = KtRoutineA;
    cur->Context = (PVOID)0x1234;
    KtIoPoison(Context, next, sizeof(*next), 2);
    IoCopyCurrentIrpStackLocationToNext(irp);
    if (!KtCheck(Context, next->MajorFunction == cur->MajorFunction && next->MinorFunction == cur->MinorFunction &&
                 next->Flags == cur->Flags && next->Parameters.Write.Length == cur->Parameters.Write.Length &&
                 next->Parameters.Write.Key == cur->Parameters.Write.Key &&
                 next->Parameters.Write.ByteOffset == cur->Parameters.Write.ByteOffset &&
                 next->DeviceObject == cur->DeviceObject && next->FileObject == cur->FileObject, "copy_to_next",
                 "IoCopyCurrentIrpStackLocationToNext: the next location has Major %u (%u), Minor %u (%u), Flags 0x%x "
                 "(0x%x), Length %u (%u), ByteOffset %lld (%lld), FileObject %p (%p): the request is copied whole",
                 next->MajorFunction, cur->MajorFunction, next->MinorFunction, cur->MinorFunction, next->Flags,
                 cur->Flags, next->Parameters.Write.Length, cur->Parameters.Write.Length,
                 next->Parameters.Write.ByteOffset, cur->Parameters.Write.ByteOffset, next->FileObject,
                 cur->FileObject) ||
        !KtCheck(Context, next->CompletionRoutine == NULL && next->Context == NULL && next->Control == 0,
                 "copy_not_routine", "IoCopyCurrentIrpStackLocationToNext left the next location with routine %p, "
                 "context %p, Control 0x%02x: a completion routine (and the pending and invoke bits) belong to the "
                 "driver that set them and are never copied", next->CompletionRoutine, next->Context, next->Control))
        goto out;
    IoSkipCurrentIrpStackLocation(irp);
    KtCheck(Context, irp->CurrentLocation == at + 1 && IoGetCurrentIrpStackLocation(irp) == IopIrpStackLocation(irp, at + 1)
            && IoGetNextIrpStackLocation(irp) == cur, "skip", "IoSkipCurrentIrpStackLocation at location %d: "
            "CurrentLocation %d (expected %d), the next location %p (expected this driver's own, %p)", at,
            irp->CurrentLocation, at + 1, IoGetNextIrpStackLocation(irp), cur);
out:
    KtIoFreeIrp(irp);
}

/* IoCallDriver: one location down, the location's DeviceObject set, the driver's routine
 * for that major function called and its status returned; a major the driver does not
 * handle completes with STATUS_INVALID_DEVICE_REQUEST; \Device\Null's reads and writes. */
KTEST("irp.call", KtTestIrpCall)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT base;
    if (!KtCreateBase(Context, &driver, &base))
        goto out;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    static const UCHAR majors[] = {IRP_MJ_CREATE, IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_CLOSE};
    for (ULONG i = 0; i < ARRAYSIZE(majors); i++) {
        CCHAR n = (CCHAR)KtRandomRange(Context, 1, 4);
        PIRP irp = IoAllocateIrp(n, FALSE);
        if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
            goto out;
        PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
        next->MajorFunction = majors[i];
        IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
        ext->Mode = KT_BASE_SYNC;
        ext->Status = i == 2 ? STATUS_END_OF_FILE : (NTSTATUS)(0x40000000 | (ULONG)KtRandomRange(Context, 1, 0xFFFF));
        ext->Information = (ULONG_PTR)KtRandomRange(Context, 0, 1 << 20);
        ext->Seen = 0;
        KtTopRuns = 0;
        NTSTATUS st = IoCallDriver(base, irp);
        if (KtIoStubbed(Context))
            goto out;
        BOOLEAN ok = KtCheck(Context, ext->Seen == 1, "dispatch", "IoCallDriver of major %u: the base driver's "
                             "routine ran %u times (1)", majors[i], ext->Seen) &&
                     KtCheck(Context, ext->LastLocation == n && ext->LastSp == IopIrpStackLocation(irp, n),
                             "call_location", "the driver ran with CurrentLocation %d and current location %p; expected "
                             "%d and the top location %p (IoCallDriver moves one location down)", ext->LastLocation,
                             ext->LastSp, n, IopIrpStackLocation(irp, n)) &&
                     KtCheck(Context, ext->LastMajor == majors[i], "dispatch", "IoCallDriver of major %u: the driver's "
                             "location says major %u", majors[i], ext->LastMajor) &&
                     KtCheck(Context, ext->LastSpDevice == base, "call_device", "the location the driver got has "
                             "DeviceObject %p, expected the device called, %p", ext->LastSpDevice, base) &&
                     KtCheck(Context, st == ext->Status, "call_status", "IoCallDriver returned 0x%x, expected what the "
                             "driver returned, 0x%x", st, ext->Status) &&
                     KtCheck(Context, KtTopRuns == 1 && irp->IoStatus.Status == ext->Status &&
                             irp->IoStatus.Information == ext->Information, "complete", "the originator's completion "
                             "routine ran %u times (1) with IoStatus 0x%x/%llu (0x%x/%llu)", KtTopRuns,
                             irp->IoStatus.Status, (ULONG64)irp->IoStatus.Information, ext->Status,
                             (ULONG64)ext->Information) &&
                     KtAuditWalkedIrp(Context, "a one-level call", irp);
        KtIoFreeIrp(irp);
        if (!ok)
            goto out;
    }
    /* An unsupported major function (the base driver leaves IRP_MJ_FLUSH_BUFFERS alone). */
    PIRP irp = IoAllocateIrp(1, FALSE);
    if (!KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(1) returned NULL"))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_FLUSH_BUFFERS;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    ext->Seen = 0;
    irp->IoStatus.Information = 77;
    NTSTATUS st = IoCallDriver(base, irp);
    BOOLEAN ok = KtCheck(Context, st == STATUS_INVALID_DEVICE_REQUEST && ext->Seen == 0 &&
                         irp->IoStatus.Status == STATUS_INVALID_DEVICE_REQUEST && irp->IoStatus.Information == 0,
                         "unsupported_major", "IRP_MJ_FLUSH_BUFFERS to a driver without it: IoCallDriver returned 0x%x, "
                         "IoStatus 0x%x/%llu, the driver's own routine ran %u times; expected "
                         "STATUS_INVALID_DEVICE_REQUEST (0xc0000010) from the I/O manager's routine", st,
                         irp->IoStatus.Status, (ULONG64)irp->IoStatus.Information, ext->Seen);
    KtIoFreeIrp(irp);
    if (!ok)
        goto out;
    /* \Device\Null. */
    PDRIVER_OBJECT nulldrv;
    NTSTATUS status = IopCreateDriver("Null", IopNullDriverEntry, &nulldrv);
    if (!KtCheck(Context, NT_SUCCESS(status), "null_driver", "the null driver's DriverEntry failed: 0x%x", status))
        goto out;
    KtIoTrackDriver(nulldrv);
    PDEVICE_OBJECT null = IopFindDevice("\\Device\\Null");
    if (!KtCheck(Context, null != NULL && null == nulldrv->DeviceObject && null->DriverObject == nulldrv,
                 "named_device", "\\Device\\Null is %p, the driver's device %p: a named device is on the I/O manager's "
                 "list", null, nulldrv->DeviceObject))
        goto out;
    ULONG length = (ULONG)KtRandomRange(Context, 1, 4096);
    for (ULONG k = 0; k < 3; k++) {
        UCHAR major = k == 0 ? IRP_MJ_WRITE : k == 1 ? IRP_MJ_READ : IRP_MJ_DEVICE_CONTROL;
        irp = IoAllocateIrp(null->StackSize, FALSE);
        if (!KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp returned NULL"))
            goto out;
        PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
        sp->MajorFunction = major;
        sp->Parameters.Write.Length = length;
        IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
        st = IoCallDriver(null, irp);
        NTSTATUS want = k == 0 ? STATUS_SUCCESS : k == 1 ? STATUS_END_OF_FILE : STATUS_INVALID_DEVICE_REQUEST;
        ULONG_PTR info = k == 0 ? length : 0;
        ok = KtCheck(Context, st == want && irp->IoStatus.Status == want && irp->IoStatus.Information == info,
                     k == 2 ? "unsupported_major" : "null_device", "\\Device\\Null major %u: IoCallDriver 0x%x, IoStatus "
                     "0x%x/%llu; expected 0x%x/%llu", major, st, irp->IoStatus.Status,
                     (ULONG64)irp->IoStatus.Information, want, (ULONG64)info);
        KtIoFreeIrp(irp);
        if (!ok)
            goto out;
    }
out:
    KtIoCleanup();
}

/* An IRP with one stack location fewer than the stack needs: the last IoCallDriver has no
 * location left, NO_MORE_IRP_STACK_LOCATIONS with P1 = the IRP. */
KTEST_STOP("irp.no_more_stack", KtTestNoMoreStack)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base, top = NULL;
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    ULONG filters = (ULONG)KtRandomRange(Context, 1, 4);
    for (ULONG i = 0; i < filters; i++) {
        NTSTATUS st = IopAddFilter(fdrv, base, 2 + i, i % 2 ? FILTER_PASS : FILTER_CONTINUE, TRUE, TRUE, &top);
        if (KtIoStubbed(Context) || !KtCheck(Context, NT_SUCCESS(st), "attach", "attaching filter %u: 0x%x", i, st))
            goto out;
    }
    /* FILTER_PASS reuses its location: make every filter copy, so each needs one. */
    for (PDEVICE_OBJECT d = base->AttachedDevice; d != NULL; d = d->AttachedDevice)
        ((PFILTER_EXTENSION)d->DeviceExtension)->Action = FILTER_CONTINUE;
    CCHAR n = (CCHAR)(filters + 1 - 1);
    PIRP irp = IoAllocateIrp(n, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    KtValue(Context, "irp", "0x%llx", (ULONG64)(ULONG_PTR)irp);
    KtValue(Context, "stop_params", "0x%llx 0x0 0x0 0x0", (ULONG64)(ULONG_PTR)irp);
    IoCallDriver(top, irp);
    KtFail(Context, "no_more_stack", "an IRP of %d locations went through a stack of %u devices without a bugcheck: "
           "IoCallDriver must bugcheck NO_MORE_IRP_STACK_LOCATIONS when no location is left", n, filters + 1);
out:
    KtIoCleanup();
}

/* A driver completes an IRP, then completes it again: MULTIPLE_IRP_COMPLETE_REQUESTS with
 * P1 = the IRP, P2 = its CurrentLocation (StackCount + 1: no driver holds it). The first
 * completion's walk ends at the originator's routine, which keeps the IRP. */
KTEST_STOP("irp.complete_twice", KtTestCompleteTwice)
{
    if (!KtIoEnter(Context))
        return;
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT base;
    if (!KtCreateBase(Context, &driver, &base))
        goto out;
    CCHAR n = (CCHAR)KtRandomRange(Context, 1, 6);
    PIRP irp = IoAllocateIrp(n, FALSE);
    if (KtIoStubbed(Context) || !KtCheck(Context, irp != NULL, "allocate", "IoAllocateIrp(%d) returned NULL", n))
        goto out;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    IoSetCompletionRoutine(irp, KtTopCompletion, NULL, TRUE, TRUE, TRUE);
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = KT_BASE_SYNC;
    ext->Status = STATUS_SUCCESS;
    IoCallDriver(base, irp);
    if (KtIoStubbed(Context) || !KtCheck(Context, KtTopRuns == 1, "complete", "the first completion ran the "
                                         "originator's routine %u times (1)", KtTopRuns))
        goto out;
    KtValue(Context, "irp", "0x%llx", (ULONG64)(ULONG_PTR)irp);
    KtValue(Context, "location", "0x%x", n + 1);
    KtValue(Context, "stop_params", "0x%llx 0x%x 0x0 0x0", (ULONG64)(ULONG_PTR)irp, n + 1);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    KtFail(Context, "complete_twice", "IoCompleteRequest of an IRP already completed (CurrentLocation %d of %d) "
           "returned: it must bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS", irp->CurrentLocation, irp->StackCount);
out:
    KtIoCleanup();
}
