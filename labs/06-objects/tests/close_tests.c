/* close_tests.c - lab 06 public tests of closing and duplicating handles, the
 * pseudo-handles and processes: a protected handle cannot be closed, a closed handle is
 * invalid and its slot is the next one handed out, the close method sees the count
 * before the close; duplicates with the same or less access (never more), the source
 * closed with DUPLICATE_CLOSE_SOURCE even when the duplicate fails; -1 and -2 name the
 * current process and thread; a handle of one process is not valid in another. */
#include "lab06_support.h"

static PEPROCESS KtNewProcess(PKTEST_CONTEXT Context, PCSTR Name)
{
    PEPROCESS p;
    NTSTATUS status = PspCreateProcess(Name, &p);
    if (!KtRequireImplemented(Context, status, "PspCreateProcess (ObCreateObject, ExCreateHandleTable)", "lab 06") ||
        KtObStubbed(Context) ||
        !KtCheck(Context, NT_SUCCESS(status), "process", "creating a test process failed: 0x%08x", (ULONG)status))
        return NULL;
    return p;
}

/* An object with one handle in the current process. */
static BOOLEAN KtObjectWithHandle(PKTEST_CONTEXT Context, ULONG Id, ACCESS_MASK Access, PVOID *Body, PHANDLE Handle)
{
    *Handle = NULL;
    if (!KtObCreate(Context, KtObType, Id, NULL, 0, Body))
        return FALSE;
    NTSTATUS status = ObInsertObject(*Body, Access, 0, Handle);
    return KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") &&
           KtCheck(Context, status == STATUS_SUCCESS && *Handle, "insert", "ObInsertObject returned 0x%08x",
                   (ULONG)status);
}

KTEST_OB("handle.close", KtTestHandleClose)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS p = KtNewProcess(Context, "close");
    if (!p)
        return;
    KeStackAttachProcess(p);
    PVOID body;
    HANDLE h[4] = {0};
    ULONG n = (ULONG)KtRandomRange(Context, 2, 4);
    if (!KtObjectWithHandle(Context, 7, 3, &body, &h[0]))
        goto out;
    for (ULONG i = 1; i < n; i++) {
        NTSTATUS status = ObDuplicateObject(p, h[0], p, &h[i], 0, 0, DUPLICATE_SAME_ACCESS, UserMode);
        if (!KtRequireImplemented(Context, status, "ObDuplicateObject", "lab 06") ||
            !KtCheck(Context, status == STATUS_SUCCESS, "duplicate", "ObDuplicateObject returned 0x%08x", (ULONG)status))
            goto out;
    }
    if (!KtObCheckCounts(Context, "the handles are open", body, n, n))
        goto out;
    /* Protect a seeded one: it cannot be closed, and stays valid; then unprotect. */
    ULONG k = (ULONG)KtRandomRange(Context, 0, n - 1);
    OBJECT_HANDLE_FLAG_INFORMATION flags = {FALSE, TRUE};
    NTSTATUS status = ObSetHandleAttributes(h[k], &flags, UserMode);
    if (!KtRequireImplemented(Context, status, "ObSetHandleAttributes", "lab 06"))
        goto out;
    status = ObCloseHandle(h[k], UserMode);
    PVOID obj;
    if (!KtCheck(Context, status == STATUS_HANDLE_NOT_CLOSABLE, "protect_from_close", "ObCloseHandle of a handle "
                 "marked protect-from-close returned 0x%08x, expected STATUS_HANDLE_NOT_CLOSABLE (0xc0000235)",
                 (ULONG)status) ||
        !KtCheck(Context, KtObCalls.Closes == 0, "protect_from_close", "the refused close called the close method") ||
        !KtObCheckCounts(Context, "a refused close", body, n, n) ||
        !KtCheck(Context, ObReferenceObjectByHandle(h[k], 0, NULL, UserMode, &obj, NULL) == STATUS_SUCCESS,
                 "protect_from_close", "a protected handle was no longer valid after the refused close"))
        goto out;
    ObDereferenceObject(obj);
    OBJECT_HANDLE_INFORMATION pinfo = {0xFFFF, 0xFFFF};
    status = ObReferenceObjectByHandle(h[k], 0, NULL, UserMode, &obj, &pinfo);
    if (!KtCheck(Context, status == STATUS_SUCCESS && pinfo.HandleAttributes == OBJ_PROTECT_CLOSE,
                 "handle_information", "ObReferenceObjectByHandle of a protect-from-close handle returned 0x%08x with "
                 "HandleAttributes 0x%x, expected OBJ_PROTECT_CLOSE (0x%x)", (ULONG)status, pinfo.HandleAttributes,
                 (ULONG)OBJ_PROTECT_CLOSE))
        goto out;
    ObDereferenceObject(obj);
    flags.ProtectFromClose = FALSE;
    ObSetHandleAttributes(h[k], &flags, UserMode);
    /* Close all but the last in a seeded order: the close method sees the count before. */
    ULONG closed = 0, calls = 0;
    for (ULONG i = 0; i < n; i++) {
        ULONG j = (k + i) % n;
        status = ObCloseHandle(h[j], UserMode);
        closed++;
        calls++;
        if (!KtCheck(Context, status == STATUS_SUCCESS, "close", "ObCloseHandle(0x%llx) returned 0x%08x",
                     (ULONG64)(ULONG_PTR)h[j], (ULONG)status) ||
            !KtCheck(Context, KtObCalls.Closes == calls && KtObCalls.LastCloseCount == n - closed + 1 &&
                     KtObCalls.HandleCountAtClose == (LONG_PTR)(n - closed + 1), "close_method", "close %u: the close "
                     "method ran %u times in all (expected %u) with HandleCount %u and the header's HandleCount %lld "
                     "(expected %u for both: it runs before the count drops)", closed, KtObCalls.Closes, calls,
                     KtObCalls.LastCloseCount, (LONG64)KtObCalls.HandleCountAtClose, n - closed + 1))
            goto out;
        status = ObReferenceObjectByHandle(h[j], 0, NULL, UserMode, &obj, NULL);
        if (!KtCheck(Context, status == STATUS_INVALID_HANDLE && obj == NULL, "closed_invalid", "a closed handle "
                     "0x%llx still referenced its object (status 0x%08x)", (ULONG64)(ULONG_PTR)h[j], (ULONG)status) ||
            !KtCheck(Context, ObCloseHandle(h[j], UserMode) == STATUS_INVALID_HANDLE, "close_twice", "closing 0x%llx "
                     "a second time did not return STATUS_INVALID_HANDLE", (ULONG64)(ULONG_PTR)h[j]))
            goto out;
        if (closed < n && !KtObCheckCounts(Context, "a close", body, n - closed, n - closed))
            goto out;
        if (closed == n) {
            if (!KtCheck(Context, KtObDeletesById[7] == 1, "delete_on_last_close", "after the last handle closed (no "
                         "other reference) the delete method ran %u times, expected once", KtObDeletesById[7]))
                goto out;
        } else if (!KtCheck(Context, KtObDeletesById[7] == 0, "delete_last", "the object was deleted with %u handles "
                            "open", n - closed)) {
            goto out;
        }
        HANDLE last = h[j];
        h[j] = NULL;
        if (i == 0) {
            /* The slot is reused: the next handle created is the one just closed. */
            PVOID b2;
            HANDLE h2;
            if (!KtObjectWithHandle(Context, 8, 1, &b2, &h2))
                goto out;
            BOOLEAN reused = h2 == last;
            ObCloseHandle(h2, UserMode);
            if (!KtCheck(Context, reused, "slot_reused", "after closing 0x%llx the next handle was 0x%llx: a closed "
                         "slot is the first one reused", (ULONG64)(ULONG_PTR)last, (ULONG64)(ULONG_PTR)h2))
                goto out;
            calls++; /* the close method ran for h2 too */
        }
    }
    /* Pseudo-handles and nonsense: STATUS_INVALID_HANDLE. */
    KtCheck(Context, ObCloseHandle(NtCurrentProcess(), UserMode) == STATUS_INVALID_HANDLE &&
            ObCloseHandle((HANDLE)(ULONG_PTR)0, UserMode) == STATUS_INVALID_HANDLE, "close_invalid",
            "closing -1 or 0 did not return STATUS_INVALID_HANDLE");
out:
    for (ULONG i = 0; i < 4; i++)
        if (h[i]) {
            OBJECT_HANDLE_FLAG_INFORMATION f = {FALSE, FALSE};
            ObSetHandleAttributes(h[i], &f, UserMode);
            ObCloseHandle(h[i], UserMode);
        }
    KeUnstackDetachProcess();
    ObDereferenceObject(p);
}

/* NtDuplicateObject's rules through ObDuplicateObject: the same access, less access, more
 * access refused (UserMode), attributes, into another process, DUPLICATE_CLOSE_SOURCE
 * with a duplicate that succeeds and one that fails, an invalid source. */
KTEST_OB("handle.duplicate", KtTestHandleDuplicate)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS a = KtNewProcess(Context, "dupA"), b = a ? KtNewProcess(Context, "dupB") : NULL;
    if (!a || !b) {
        if (a)
            ObDereferenceObject(a);
        return;
    }
    KeStackAttachProcess(a);
    PVOID body;
    HANDLE src = NULL, d1 = NULL, d2 = NULL, d3 = NULL, src2 = NULL;
    ACCESS_MASK granted = 0x6 | ((ACCESS_MASK)KtRandomRange(Context, 0, 1) << 3);
    if (!KtObjectWithHandle(Context, 9, granted, &body, &src))
        goto out;
    OBJECT_HANDLE_FLAG_INFORMATION inherit = {TRUE, FALSE};
    ObSetHandleAttributes(src, &inherit, UserMode);
    PHANDLE_TABLE_ENTRY e;
    /* Same access, same attributes, into process B. */
    NTSTATUS status = ObDuplicateObject(a, src, b, &d1, 0, 0, DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES,
                                        UserMode);
    if (!KtRequireImplemented(Context, status, "ObDuplicateObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && d1, "duplicate", "ObDuplicateObject into another process "
                 "returned 0x%08x", (ULONG)status))
        goto out;
    e = KtHandleEntry(b->ObjectTable, (ULONG)(ULONG_PTR)d1);
    if (!KtCheck(Context, e && ObpEntryHeader(e) == OBJECT_TO_OBJECT_HEADER(body) && e->GrantedAccess == granted &&
                 (e->ObAttributes & OBJ_HANDLE_INHERIT), "duplicate_same", "a DUPLICATE_SAME_ACCESS | "
                 "DUPLICATE_SAME_ATTRIBUTES duplicate in process B: entry %p, access 0x%x (0x%x), inherit %u (1)", e,
                 e ? e->GrantedAccess : 0, granted, e ? (ULONG)(e->ObAttributes & OBJ_HANDLE_INHERIT) : 0) ||
        !KtCheck(Context, KtObCalls.LastProcess == b && KtObCalls.LastReason == ObDuplicateHandle,
                 "open_method", "the duplicate's open method ran for process %p (B %p) with reason %u (2)",
                 KtObCalls.LastProcess, b, KtObCalls.LastReason) ||
        !KtObCheckCounts(Context, "a duplicate", body, 2, 2))
        goto out;
    /* Less access, no attributes: granted as asked. */
    status = ObDuplicateObject(a, src, a, &d2, 0x2, 0, 0, UserMode);
    e = d2 ? KtHandleEntry(a->ObjectTable, (ULONG)(ULONG_PTR)d2) : NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS && e && e->GrantedAccess == 0x2 &&
                 !(e->ObAttributes & OBJ_HANDLE_INHERIT), "duplicate_access", "a duplicate asking access 0x2 without "
                 "DUPLICATE_SAME_ACCESS/ATTRIBUTES returned 0x%08x with access 0x%x, inherit %u; expected 0x2, 0",
                 (ULONG)status, e ? e->GrantedAccess : 0, e ? (ULONG)(e->ObAttributes & OBJ_HANDLE_INHERIT) : 0))
        goto out;
    /* More access than the source has from KernelMode: not checked, granted as asked. */
    HANDLE dk = NULL;
    status = ObDuplicateObject(a, src, a, &dk, granted | 0x1, 0, 0, KernelMode);
    e = dk ? KtHandleEntry(a->ObjectTable, (ULONG)(ULONG_PTR)dk) : NULL;
    BOOLEAN dkOk = status == STATUS_SUCCESS && e && e->GrantedAccess == (granted | 0x1);
    if (dk)
        ObCloseHandle(dk, KernelMode);
    if (!KtCheck(Context, dkOk, "duplicate_access", "a KernelMode duplicate asking access 0x%x (more than the source's "
                 "0x%x) returned 0x%08x with access 0x%x; expected STATUS_SUCCESS and 0x%x (KernelMode callers are not "
                 "access-checked)", granted | 0x1, granted, (ULONG)status, e ? e->GrantedAccess : 0, granted | 0x1))
        goto out;
    /* More access than the source has: refused from UserMode; nothing created. */
    LONG handlesB = b->ObjectTable->HandleCount;
    status = ObDuplicateObject(a, src, b, &d3, granted | 0x1, 0, 0, UserMode);
    if (!KtCheck(Context, status == STATUS_ACCESS_DENIED && d3 == NULL && b->ObjectTable->HandleCount == handlesB,
                 "duplicate_more_access", "a duplicate asking a right the source lacks returned 0x%08x, handle 0x%llx; "
                 "expected STATUS_ACCESS_DENIED, NULL and nothing created", (ULONG)status, (ULONG64)(ULONG_PTR)d3) ||
        !KtObCheckCounts(Context, "a refused duplicate", body, 3, 3))
        goto out;
    /* DUPLICATE_CLOSE_SOURCE with a refused duplicate: the source is closed all the same. */
    status = ObDuplicateObject(a, d2, b, &d3, 0x4, 0, DUPLICATE_CLOSE_SOURCE, UserMode);
    if (!KtCheck(Context, status == STATUS_ACCESS_DENIED && d3 == NULL, "duplicate_more_access", "a refused "
                 "DUPLICATE_CLOSE_SOURCE duplicate returned 0x%08x, handle 0x%llx", (ULONG)status,
                 (ULONG64)(ULONG_PTR)d3) ||
        !KtCheck(Context, ExMapHandleToPointer(a->ObjectTable, d2) == NULL, "close_source_on_failure", "after a "
                 "DUPLICATE_CLOSE_SOURCE duplicate that failed the source handle 0x%llx is still open: the source is "
                 "closed whatever the outcome", (ULONG64)(ULONG_PTR)d2) ||
        !KtObCheckCounts(Context, "a refused DUPLICATE_CLOSE_SOURCE", body, 2, 2))
        goto out;
    d2 = NULL;
    /* DUPLICATE_CLOSE_SOURCE that succeeds: the object moves to B, its counts unchanged. */
    ObDuplicateObject(a, src, a, &src2, 0, 0, DUPLICATE_SAME_ACCESS, UserMode);
    status = ObDuplicateObject(a, src2, b, &d3, 0, 0, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE, UserMode);
    if (!KtCheck(Context, status == STATUS_SUCCESS && d3, "close_source", "a DUPLICATE_CLOSE_SOURCE duplicate returned "
                 "0x%08x", (ULONG)status) ||
        !KtCheck(Context, ExMapHandleToPointer(a->ObjectTable, src2) == NULL, "close_source", "the source of a "
                 "DUPLICATE_CLOSE_SOURCE duplicate is still open") ||
        !KtObCheckCounts(Context, "a DUPLICATE_CLOSE_SOURCE duplicate", body, 3, 3))
        goto out;
    src2 = NULL;
    /* An invalid source: STATUS_INVALID_HANDLE, *TargetHandle NULL. */
    HANDLE none = (HANDLE)0x1;
    status = ObDuplicateObject(a, (HANDLE)(ULONG_PTR)0x7FFFFF00, b, &none, 0, 0, DUPLICATE_SAME_ACCESS, UserMode);
    KtCheck(Context, status == STATUS_INVALID_HANDLE && none == NULL, "duplicate_invalid", "duplicating an invalid "
            "handle returned 0x%08x, handle %p; expected STATUS_INVALID_HANDLE and NULL", (ULONG)status, none);
out:
    if (src)
        ObCloseHandle(src, UserMode);
    if (d2)
        ObCloseHandle(d2, UserMode);
    if (src2)
        ObCloseHandle(src2, UserMode);
    KeStackAttachProcess(b);
    if (d1)
        ObCloseHandle(d1, UserMode);
    if (d3)
        ObCloseHandle(d3, UserMode);
    KeUnstackDetachProcess();
    if (!KtObStubbed(Context))
        KtCheck(Context, KtObDeletesById[9] == 1, "delete_once", "after every handle closed the object was deleted %u "
                "times, expected once", KtObDeletesById[9]);
    ObDereferenceObject(a);
    ObDereferenceObject(b);
}

/* -1 and -2 name the current process and thread (attached: that process); a handle of
 * another process is not valid here, and the same value names another object there;
 * kernel handles are valid in every process (KernelMode). */
KTEST_OB("handle.process", KtTestHandleProcess)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS a = KtNewProcess(Context, "procA"), b = a ? KtNewProcess(Context, "procB") : NULL;
    if (!a || !b) {
        if (a)
            ObDereferenceObject(a);
        return;
    }
    PVOID obj = NULL, ba = NULL, bb = NULL;
    HANDLE ha = NULL, hb = NULL, hk = NULL;
    /* In the system process: -1 is it, -2 the current thread. */
    LONG_PTR sysPointers = OBJECT_TO_OBJECT_HEADER(PsInitialSystemProcess)->PointerCount;
    NTSTATUS status = ObReferenceObjectByHandle(NtCurrentProcess(), PROCESS_DUP_HANDLE, PsProcessType, UserMode, &obj,
                                                NULL);
    if (!KtRequireImplemented(Context, status, "ObReferenceObjectByHandle", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && obj == PsInitialSystemProcess, "pseudo_process",
                 "ObReferenceObjectByHandle(-1) returned 0x%08x, %p; expected the current (system) process %p",
                 (ULONG)status, obj, PsInitialSystemProcess) ||
        !KtCheck(Context, OBJECT_TO_OBJECT_HEADER(obj)->PointerCount == sysPointers + 1, "pseudo_reference",
                 "referencing -1 did not add one pointer reference to the process"))
        goto out;
    ObDereferenceObject(obj);
    OBJECT_HANDLE_INFORMATION info = {0, 0xFFFF};
    status = ObReferenceObjectByHandle(NtCurrentThread(), 0, PsThreadType, UserMode, &obj, &info);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == PsGetCurrentThread() && obj, "pseudo_thread",
                 "ObReferenceObjectByHandle(-2) returned 0x%08x, %p; expected the current thread %p", (ULONG)status, obj,
                 PsGetCurrentThread()) ||
        !KtCheck(Context, info.GrantedAccess == THREAD_ALL_ACCESS, "pseudo_thread", "ObReferenceObjectByHandle(-2) "
                 "gave GrantedAccess 0x%x, expected THREAD_ALL_ACCESS (0x%x)", info.GrantedAccess,
                 (ULONG)THREAD_ALL_ACCESS))
        goto out;
    ObDereferenceObject(obj);
    status = ObReferenceObjectByHandle(NtCurrentProcess(), 0, PsThreadType, UserMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_OBJECT_TYPE_MISMATCH && obj == NULL, "pseudo_type", "-1 asked as a thread "
                 "returned 0x%08x, expected STATUS_OBJECT_TYPE_MISMATCH", (ULONG)status))
        goto out;
    status = ObReferenceObjectByHandle(NtCurrentThread(), 0, PsProcessType, UserMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_OBJECT_TYPE_MISMATCH && obj == NULL, "pseudo_type", "-2 asked as a "
                 "process returned 0x%08x, expected STATUS_OBJECT_TYPE_MISMATCH", (ULONG)status))
        goto out;
    /* Attached to A: -1 is A. One object in A, another in B; a kernel handle to A's. */
    KeStackAttachProcess(a);
    status = ObReferenceObjectByHandle(NtCurrentProcess(), 0, PsProcessType, UserMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == a, "pseudo_process", "attached to process A, -1 named %p, "
                 "expected A %p", obj, a))
        goto out;
    ObDereferenceObject(obj);
    if (!KtObjectWithHandle(Context, 11, 1, &ba, &ha))
        goto out;
    status = ObDuplicateObject(a, ha, a, &hk, 0, OBJ_KERNEL_HANDLE, DUPLICATE_SAME_ACCESS, KernelMode);
    if (!KtCheck(Context, status == STATUS_SUCCESS && ObpIsKernelHandle(hk), "kernel_handle", "a duplicate with "
                 "OBJ_KERNEL_HANDLE returned 0x%08x, 0x%llx", (ULONG)status, (ULONG64)(ULONG_PTR)hk))
        goto out;
    PHANDLE_TABLE_ENTRY ke = KtHandleEntry(PsInitialSystemProcess->ObjectTable, (ULONG)((ULONG_PTR)hk & 0x7FFFFFFF));
    if (!KtCheck(Context, ke && ObpEntryHeader(ke) == OBJECT_TO_OBJECT_HEADER(ba), "kernel_handle", "kernel handle "
                 "0x%llx is not in the system process's table", (ULONG64)(ULONG_PTR)hk))
        goto out;
    KeUnstackDetachProcess();
    KeStackAttachProcess(b);
    ULONG extra = (ULONG)KtRandomRange(Context, 0, 3);
    if (!KtObjectWithHandle(Context, 12, 1, &bb, &hb))
        goto out;
    for (ULONG i = 0; i < extra; i++) {
        HANDLE x;
        ObDuplicateObject(b, hb, b, &x, 0, 0, DUPLICATE_SAME_ACCESS, UserMode);
    }
    /* In B: A's handle value names B's own object (same value) or nothing. */
    status = ObReferenceObjectByHandle(ha, 0, NULL, UserMode, &obj, NULL);
    if (!KtCheck(Context, (status == STATUS_INVALID_HANDLE && obj == NULL) || (status == STATUS_SUCCESS && obj == bb),
                 "other_process", "in process B, process A's handle 0x%llx gave 0x%08x and object %p (A's object is "
                 "%p): a handle is an index into the current process's table only", (ULONG64)(ULONG_PTR)ha,
                 (ULONG)status, obj, ba))
        goto out;
    if (obj)
        ObDereferenceObject(obj);
    HANDLE past = (HANDLE)((ULONG_PTR)hb + 4 * (extra + 1));
    status = ObReferenceObjectByHandle(past, 0, NULL, UserMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_INVALID_HANDLE, "other_process", "in process B, handle 0x%llx (free in B) "
                 "gave 0x%08x", (ULONG64)(ULONG_PTR)past, (ULONG)status))
        goto out;
    /* The kernel handle is valid here too, from KernelMode. */
    status = ObReferenceObjectByHandle(hk, 0, NULL, KernelMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == ba, "kernel_handle", "in process B the kernel handle "
                 "gave 0x%08x, %p; expected A's object %p (kernel handles are the system process's)", (ULONG)status,
                 obj, ba))
        goto out;
    ObDereferenceObject(obj);
    /* A second kernel handle closed as a DUPLICATE_CLOSE_SOURCE source (no target): the close
     * method is told the system process. */
    HANDLE hk2 = NULL;
    status = ObDuplicateObject(b, hk, b, &hk2, 0, OBJ_KERNEL_HANDLE, DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES,
                               KernelMode);
    if (!KtCheck(Context, status == STATUS_SUCCESS && ObpIsKernelHandle(hk2), "kernel_handle", "a duplicate with "
                 "OBJ_KERNEL_HANDLE and DUPLICATE_SAME_ATTRIBUTES returned 0x%08x, handle 0x%llx: expected a kernel "
                 "handle (OBJ_KERNEL_HANDLE comes from HandleAttributes in both cases)", (ULONG)status,
                 (ULONG64)(ULONG_PTR)hk2)) {
        if (hk2)
            ObCloseHandle(hk2, ObpIsKernelHandle(hk2) ? KernelMode : UserMode);
        goto out;
    }
    ULONG closes = KtObCalls.Closes;
    NTSTATUS cs = status == STATUS_SUCCESS ? ObDuplicateObject(b, hk2, NULL, NULL, 0, 0, DUPLICATE_CLOSE_SOURCE,
                                                                KernelMode) : status;
    if (!KtCheck(Context, cs == STATUS_SUCCESS && KtObCalls.Closes == closes + 1 &&
                 KtObCalls.LastProcess == PsInitialSystemProcess, "kernel_handle", "DUPLICATE_CLOSE_SOURCE of a kernel "
                 "handle with no target returned 0x%08x; the close method ran %u times and was given process %p, "
                 "expected once with the system process %p", (ULONG)cs, KtObCalls.Closes - closes,
                 KtObCalls.LastProcess, PsInitialSystemProcess))
        goto out;
    /* Closing the kernel handle: its close method is told the system process (the table's). */
    closes = KtObCalls.Closes;
    status = ObCloseHandle(hk, KernelMode);
    hk = NULL;
    KtCheck(Context, status == STATUS_SUCCESS && KtObCalls.Closes == closes + 1 &&
            KtObCalls.LastProcess == PsInitialSystemProcess, "kernel_handle", "ObCloseHandle of a kernel handle from "
            "process B returned 0x%08x; the close method ran %u times and was given process %p, expected once with "
            "the system process %p (the kernel handle's table)", (ULONG)status, KtObCalls.Closes - closes,
            KtObCalls.LastProcess, PsInitialSystemProcess);
out:
    KeUnstackDetachProcess();
    if (hk)
        ObCloseHandle(hk, KernelMode);
    KeStackAttachProcess(a);
    if (ha)
        ObCloseHandle(ha, UserMode);
    KeStackAttachProcess(b);
    for (ULONG v = 4; hb && v < 4 * 16; v += 4)
        if (ExMapHandleToPointer(b->ObjectTable, (HANDLE)(ULONG_PTR)v))
            ObCloseHandle((HANDLE)(ULONG_PTR)v, UserMode);
    KeUnstackDetachProcess();
    ObDereferenceObject(a);
    ObDereferenceObject(b);
}
