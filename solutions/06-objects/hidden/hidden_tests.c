/* hidden_tests.c - lab 06 hidden tests (instructor tree only): kernel mode closing a bad
 * or protected kernel handle bugchecks INVALID_KERNEL_HANDLE; an open method that fails
 * undoes the handle (counts, entry, the new object), and OBJ_OPENIF on an object of
 * another type is STATUS_OBJECT_TYPE_MISMATCH. */
#include "lab06_support.h"

KTEST_STOP("hidden.invalid_kernel_handle", KtTestInvalidKernelHandle)
{
    if (!KtObSetup(Context))
        return;
    PVOID body;
    HANDLE h;
    if (!KtObCreate(Context, KtObType, 600, NULL, 0, &body))
        return;
    NTSTATUS status = ObInsertObject(body, 1, OBJ_KERNEL_HANDLE, &h);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && ObpIsKernelHandle(h), "kernel_handle", "ObInsertObject with "
                 "OBJ_KERNEL_HANDLE returned 0x%08x, handle 0x%llx", (ULONG)status, (ULONG64)(ULONG_PTR)h))
        return;
    ObCloseHandle(h, KernelMode);
    /* Closed: a second kernel-mode close of it is a bug in the kernel. */
    KtValue(Context, "handle", "0x%llx", (ULONG64)(ULONG_PTR)h);
    KtValue(Context, "stop_params", "0x%llx 0x1 0x0 0x0", (ULONG64)(ULONG_PTR)h);
    ObCloseHandle(h, KernelMode);
    KtFail(Context, "invalid_kernel_handle", "kernel mode closed a closed kernel handle and ObCloseHandle returned: it "
           "bugchecks INVALID_KERNEL_HANDLE");
}

KTEST_STOP("hidden.protected_kernel_handle", KtTestProtectedKernelHandle)
{
    if (!KtObSetup(Context))
        return;
    PVOID body;
    HANDLE h;
    if (!KtObCreate(Context, KtObType, 601, NULL, 0, &body))
        return;
    NTSTATUS status = ObInsertObject(body, 1, OBJ_KERNEL_HANDLE, &h);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "insert", "ObInsertObject returned 0x%08x", (ULONG)status))
        return;
    OBJECT_HANDLE_FLAG_INFORMATION f = {FALSE, TRUE};
    ObSetHandleAttributes(h, &f, KernelMode);
    /* From user mode: refused, no bugcheck (and a kernel handle is not even valid there). */
    status = ObCloseHandle(h, UserMode);
    if (!KtCheck(Context, status == STATUS_INVALID_HANDLE, "kernel_handle_user", "user mode closing a kernel handle "
                 "returned 0x%08x, expected STATUS_INVALID_HANDLE", (ULONG)status))
        return;
    KtValue(Context, "handle", "0x%llx", (ULONG64)(ULONG_PTR)h);
    KtValue(Context, "stop_params", "0x%llx 0x0 0x0 0x0", (ULONG64)(ULONG_PTR)h);
    ObCloseHandle(h, KernelMode);
    KtFail(Context, "invalid_kernel_handle", "kernel mode closed a protected kernel handle and ObCloseHandle "
           "returned: it bugchecks INVALID_KERNEL_HANDLE with P2 0");
}

KTEST_OB("hidden.open_fails", KtTestOpenFails)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS p;
    NTSTATUS status = PspCreateProcess("openfail", &p);
    if (!KtRequireImplemented(Context, status, "PspCreateProcess", "lab 06") || KtObStubbed(Context) ||
        !KtCheck(Context, NT_SUCCESS(status), "process", "PspCreateProcess returned 0x%08x", (ULONG)status))
        return;
    KeStackAttachProcess(p);
    LONG typeHandles = KtObType->TotalNumberOfHandles;
    ULONG firstFree = p->ObjectTable->FirstFree;
    PVOID body;
    HANDLE h = (HANDLE)0x1;
    CHAR name[OB_MAX_NAME];
    RtlFormatString(name, sizeof(name), "\\BaseNamedObjects\\KtOpenFails%x", (ULONG)KtRandomRange(Context, 0, 0xFFFF));
    if (!KtObCreate(Context, KtObType, 602, name, 0, &body))
        goto out;
    KtObCalls.OpenStatus = STATUS_ACCESS_DENIED;
    status = ObInsertObject(body, 1, 0, &h);
    KtObCalls.OpenStatus = STATUS_SUCCESS;
    if (!KtCheck(Context, status == STATUS_ACCESS_DENIED && h == NULL, "open_fails", "an open method failing with "
                 "STATUS_ACCESS_DENIED: ObInsertObject returned 0x%08x, handle %p; expected that status and NULL",
                 (ULONG)status, h) ||
        !KtCheck(Context, KtObDeletesById[602] == 1 && KtFindByPath(name) == NULL, "open_fails_undone", "after the "
                 "failed insert the object was deleted %u times (once) and its name is %s in the namespace",
                 KtObDeletesById[602], KtFindByPath(name) ? "still" : "not") ||
        !KtCheck(Context, KtObType->TotalNumberOfHandles == typeHandles && p->ObjectTable->HandleCount == 0 &&
                 p->ObjectTable->FirstFree == firstFree, "open_fails_undone", "after the failed insert the type counts "
                 "%d handles (%d), the table %d (0), FirstFree 0x%x (0x%x)", KtObType->TotalNumberOfHandles,
                 typeHandles, p->ObjectTable->HandleCount, p->ObjectTable->FirstFree, firstFree))
        goto out;
    /* OBJ_OPENIF on a name held by an object of another type. */
    PVOID ev;
    CHAR evname[OB_MAX_NAME];
    RtlFormatString(evname, sizeof(evname), "%s", "\\ObjectTypes\\Event");
    if (!KtObCreate(Context, KtObType, 603, evname, 0, &ev))
        goto out;
    status = ObInsertObject(ev, 1, OBJ_OPENIF, &h);
    KtCheck(Context, status == STATUS_OBJECT_TYPE_MISMATCH && h == NULL && KtObDeletesById[603] == 1, "openif_type",
            "OBJ_OPENIF on \\ObjectTypes\\Event (a Type object) with a KtObject returned 0x%08x, handle %p, the new "
            "object deleted %u times; expected STATUS_OBJECT_TYPE_MISMATCH, NULL, once", (ULONG)status, h,
            KtObDeletesById[603]);
out:
    KeUnstackDetachProcess();
    ObDereferenceObject(p);
}
