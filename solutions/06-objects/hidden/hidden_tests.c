/* hidden_tests.c - lab 06 hidden tests (instructor tree only): kernel mode closing a bad
 * or protected kernel handle bugchecks INVALID_KERNEL_HANDLE; an open method that fails
 * undoes the handle (counts, entry, the new object), and OBJ_OPENIF on an object of
 * another type is STATUS_OBJECT_TYPE_MISMATCH; with the pool run dry ObCreateObject and a
 * handle table's growth fail cleanly (nothing counted, nothing leaked). */
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
    /* ObpCreateHandle itself: a failing open method leaves *Handle NULL (the caller's value gone). */
    PVOID anon;
    if (!KtObCreate(Context, KtObType, 604, NULL, 0, &anon))
        goto out;
    HANDLE h2 = (HANDLE)0x1;
    KtObCalls.OpenStatus = STATUS_ACCESS_DENIED;
    status = ObpCreateHandle(ObCreateHandle, p, anon, 1, 0, &h2);
    KtObCalls.OpenStatus = STATUS_SUCCESS;
    BOOLEAN undone = status == STATUS_ACCESS_DENIED && h2 == NULL && p->ObjectTable->HandleCount == 0 &&
                     OBJECT_TO_OBJECT_HEADER(anon)->HandleCount == 0 && OBJECT_TO_OBJECT_HEADER(anon)->PointerCount == 1;
    ObDereferenceObject(anon);
    if (!KtCheck(Context, undone, "open_fails", "ObpCreateHandle with an open method failing STATUS_ACCESS_DENIED "
                 "returned 0x%08x and *Handle %p (a poisoned 0x1 before); expected that status, *Handle NULL, no "
                 "handle, the caller's reference kept", (ULONG)status, h2))
        goto out;
    /* ObOpenObjectByName with a failing open method: the lookup's reference is dropped again. */
    PVOID named;
    HANDLE nh = NULL;
    RtlFormatString(name, sizeof(name), "\\BaseNamedObjects\\KtOpenByName%x", (ULONG)KtRandomRange(Context, 0, 0xFFFF));
    if (!KtObCreate(Context, KtObType, 605, name, 0, &named))
        goto out;
    status = ObInsertObject(named, 1, 0, &nh);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", name,
                 (ULONG)status))
        goto out;
    STRING ns;
    OBJECT_ATTRIBUTES oa;
    RtlInitString(&ns, name);
    InitializeObjectAttributes(&oa, &ns, 0, NULL);
    HANDLE oh = (HANDLE)0x1;
    KtObCalls.OpenStatus = STATUS_ACCESS_DENIED;
    status = ObOpenObjectByName(&oa, KtObType, KernelMode, 1, &oh);
    KtObCalls.OpenStatus = STATUS_SUCCESS;
    LONG_PTR pc = OBJECT_TO_OBJECT_HEADER(named)->PointerCount, hc = OBJECT_TO_OBJECT_HEADER(named)->HandleCount;
    ObCloseHandle(nh, UserMode);
    if (!KtCheck(Context, status == STATUS_ACCESS_DENIED && oh == NULL && pc == 2 && hc == 1, "open_fails_undone",
                 "ObOpenObjectByName(%s) with the open method failing returned 0x%08x, handle %p, and left "
                 "PointerCount %lld, HandleCount %lld; expected STATUS_ACCESS_DENIED, NULL, 2 and 1 (the lookup's "
                 "reference dropped again)", name, (ULONG)status, oh, (LONG64)pc, (LONG64)hc))
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

/* The pool runs dry: PAGE_SIZE blocks are taken until ExAllocatePoolWithTag returns NULL (the
 * big-page table or the frames are exhausted). ObCreateObject then fails with
 * STATUS_INSUFFICIENT_RESOURCES and counts nothing; with exactly one page given back, a handle
 * table whose free list is empty gets its new low-level table but not the mid-level table:
 * ExCreateHandle returns NULL, the table is unchanged and nothing is leaked. */
#define KT_DRY_TAG POOL_TAG('K', 't', 'D', 'y')
static PVOID KtPoolDry(ULONG *Count)
{
    PVOID head = NULL;
    for (*Count = 0; *Count < 200000; (*Count)++) {
        PVOID b = ExAllocatePoolWithTag(NonPagedPool, PAGE_SIZE, KT_DRY_TAG);
        if (!b)
            break;
        *(PVOID *)b = head;
        head = b;
    }
    return head;
}

static PVOID KtPoolGiveBack(PVOID Head)
{
    PVOID next = *(PVOID *)Head;
    ExFreePoolWithTag(Head, KT_DRY_TAG);
    return next;
}

KTEST_OB("hidden.pool_empty", KtTestPoolEmpty)
{
    if (!KtObSetup(Context))
        return;
    LONG tableTag = KtPoolOutstanding(HANDLE_TABLE_TAG);
    PHANDLE_TABLE t = ExCreateHandleTable(NULL);
    if (KtObStubbed(Context) || !KtCheck(Context, t != NULL, "create_table", "ExCreateHandleTable returned NULL"))
        return;
    HANDLE_TABLE_ENTRY e = {.ObAttributes = 0xFFFF900000000010ULL, .GrantedAccess = 1, .Spare = 0};
    for (ULONG i = 1; i < LOWLEVEL_COUNT; i++)
        if (!KtCheck(Context, ExCreateHandle(t, &e) != NULL, "handle_value", "ExCreateHandle #%u of a new table "
                     "returned NULL", i)) {
            ExDestroyHandleTable(t);
            return;
        }
    ULONG dry = 0;
    PVOID held = KtPoolDry(&dry);
    /* ObCreateObject with the pool empty (a body of two pages). */
    LONG objects = KtObType->TotalNumberOfObjects;
    PVOID body = (PVOID)0x1;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, 0, NULL);
    NTSTATUS status = ObCreateObject(KernelMode, KtObType, &oa, 2 * PAGE_SIZE, &body);
    LONG objectsAfter = KtObType->TotalNumberOfObjects;
    /* One page given back: the grow's low-level table fits, its mid-level table does not. */
    if (held)
        held = KtPoolGiveBack(held);
    ULONG nhnp = t->NextHandleNeedingPool, firstFree = t->FirstFree;
    ULONG_PTR code = t->TableCode;
    LONG handles = t->HandleCount;
    HANDLE h = ExCreateHandle(t, &e);
    BOOLEAN unchanged = t->NextHandleNeedingPool == nhnp && t->FirstFree == firstFree && t->TableCode == code &&
                        t->HandleCount == handles;
    while (held)
        held = KtPoolGiveBack(held);
    if (h == NULL)
        ExDestroyHandleTable(t);
    KtValue(Context, "dry_blocks", "%u", dry);
    if (!KtCheck(Context, dry > 0, "pool_dry", "no PAGE_SIZE block could be allocated at all") ||
        !KtCheck(Context, status == STATUS_INSUFFICIENT_RESOURCES && body == NULL && objectsAfter == objects,
                 "create_oom", "ObCreateObject with the pool empty returned 0x%08x, *Object %p, the type's "
                 "TotalNumberOfObjects %d -> %d; expected STATUS_INSUFFICIENT_RESOURCES, NULL, unchanged (nothing "
                 "allocated or counted)", (ULONG)status, body, objects, objectsAfter) ||
        !KtCheck(Context, h == NULL && unchanged, "grow_oom", "ExCreateHandle growing a full level-0 table with one "
                 "page of pool left returned 0x%llx and %s the table (expected NULL, the table unchanged: the new "
                 "low-level table fits but the mid-level table does not)", (ULONG64)(ULONG_PTR)h,
                 unchanged ? "left" : "CHANGED"))
        return;
    KtCheck(Context, KtPoolOutstanding(HANDLE_TABLE_TAG) == tableTag, "table_freed", "after the failed grow and "
            "ExDestroyHandleTable %d blocks tagged Obtt are allocated, expected %d: a grow that fails frees what it "
            "allocated", KtPoolOutstanding(HANDLE_TABLE_TAG), tableTag);
}
