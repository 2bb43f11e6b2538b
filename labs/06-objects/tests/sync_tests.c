/* sync_tests.c - lab 06 public test of the framework's own objects through lab 06: named
 * events, semaphores and mutants (lab 05's dispatcher objects as bodies) are created and
 * opened by name (OBJ_OPENIF), used through handles whose type and access are checked
 * (EVENT_MODIFY_STATE, SYNCHRONIZE), waited on through a handle, and deleted with their
 * last handle. Needs lab 05's event, semaphore and mutant routines. */
#include "kewait.h"
#include "lab06_support.h"

KTEST_OB("name.events", KtTestNameEvents)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS p;
    if (!KtCheck(Context, NT_SUCCESS(PspCreateProcess("events", &p)), "process", "PspCreateProcess failed"))
        return;
    KeStackAttachProcess(p);
    HANDLE e1 = NULL, e2 = NULL, sync = NULL, sem = NULL, mut = NULL;
    CHAR name[OB_MAX_NAME];
    RtlFormatString(name, sizeof(name), "\\BaseNamedObjects\\KtEvent%x", (ULONG)KtRandomRange(Context, 0, 0xFFFF));
    STRING s;
    RtlInitString(&s, name);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &s, OBJ_OPENIF, NULL);
    LONG events = ExEventObjectType->TotalNumberOfObjects;
    NTSTATUS status = NtCreateEvent(&e1, EVENT_ALL_ACCESS, &oa, NotificationEvent, FALSE);
    if (!KtCheck(Context, status == STATUS_SUCCESS && e1, "create_event", "NtCreateEvent(%s) returned 0x%08x", name,
                 (ULONG)status))
        goto out;
    status = NtCreateEvent(&e2, SYNCHRONIZE, &oa, NotificationEvent, FALSE);
    PVOID o1 = NULL, o2 = NULL;
    if (NT_SUCCESS(status)) {
        ObReferenceObjectByHandle(e1, 0, NULL, KernelMode, &o1, NULL);
        ObReferenceObjectByHandle(e2, 0, NULL, KernelMode, &o2, NULL);
        if (o1)
            ObDereferenceObject(o1);
        if (o2)
            ObDereferenceObject(o2);
    }
    if (!KtCheck(Context, status == STATUS_OBJECT_NAME_EXISTS && o1 && o1 == o2 &&
                 ExEventObjectType->TotalNumberOfObjects == events + 1, "openif", "a second NtCreateEvent(%s, "
                 "OBJ_OPENIF) returned 0x%08x and object %p (the first is %p), %d events exist (expected "
                 "STATUS_OBJECT_NAME_EXISTS, the same event, %d)", name, (ULONG)status, o2, o1,
                 ExEventObjectType->TotalNumberOfObjects, events + 1))
        goto out;
    LARGE_INTEGER zero = {.QuadPart = 0};
    status = NtWaitForSingleObject(e2, FALSE, &zero);
    if (!KtCheck(Context, status == STATUS_TIMEOUT, "wait_handle", "polling the unsignalled event through its handle "
                 "returned 0x%08x, expected STATUS_TIMEOUT", (ULONG)status))
        goto out;
    /* The SYNCHRONIZE-only handle may wait but not set; the other may set. */
    LONG previous = 7;
    status = NtSetEvent(e2, &previous);
    if (!KtCheck(Context, status == STATUS_ACCESS_DENIED && previous == 7, "access_denied", "NtSetEvent through a "
                 "handle granted only SYNCHRONIZE returned 0x%08x, expected STATUS_ACCESS_DENIED", (ULONG)status))
        goto out;
    status = NtSetEvent(e1, &previous);
    if (!KtCheck(Context, status == STATUS_SUCCESS && previous == 0, "set_event", "NtSetEvent returned 0x%08x, "
                 "previous state %d (expected 0)", (ULONG)status, previous))
        goto out;
    status = NtWaitForSingleObject(e2, FALSE, &zero);
    if (!KtCheck(Context, status == STATUS_WAIT_0, "wait_handle", "polling the signalled event through the other "
                 "handle returned 0x%08x, expected STATUS_WAIT_0", (ULONG)status))
        goto out;
    /* A semaphore's handle is not an event's. */
    status = NtCreateSemaphore(&sem, SEMAPHORE_ALL_ACCESS, NULL, 1, (LONG)KtRandomRange(Context, 2, 9));
    if (!KtCheck(Context, status == STATUS_SUCCESS, "create_semaphore", "NtCreateSemaphore returned 0x%08x",
                 (ULONG)status))
        goto out;
    status = NtSetEvent(sem, NULL);
    if (!KtCheck(Context, status == STATUS_OBJECT_TYPE_MISMATCH, "type_mismatch", "NtSetEvent on a semaphore's handle "
                 "returned 0x%08x, expected STATUS_OBJECT_TYPE_MISMATCH", (ULONG)status))
        goto out;
    status = NtWaitForSingleObject(sem, FALSE, &zero);
    LONG count = -1;
    NTSTATUS released = NtReleaseSemaphore(sem, 1, &count);
    if (!KtCheck(Context, status == STATUS_WAIT_0 && released == STATUS_SUCCESS && count == 0, "semaphore",
                 "waiting on a semaphore of count 1 returned 0x%08x; releasing it returned 0x%08x with previous count %d "
                 "(expected STATUS_WAIT_0, STATUS_SUCCESS, 0)", (ULONG)status, (ULONG)released, count))
        goto out;
    /* A mutant created owned is signalled for its owner (recursive acquisition). */
    status = NtCreateMutant(&mut, MUTANT_ALL_ACCESS, NULL, TRUE);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "create_mutant", "NtCreateMutant returned 0x%08x", (ULONG)status))
        goto out;
    status = NtWaitForSingleObject(mut, FALSE, &zero);
    LONG level = 0;
    NTSTATUS r1 = NtReleaseMutant(mut, &level), r2 = NtReleaseMutant(mut, NULL);
    KtCheck(Context, status == STATUS_WAIT_0 && r1 == STATUS_SUCCESS && r2 == STATUS_SUCCESS, "mutant", "the owner "
            "waiting on its mutant returned 0x%08x; two releases returned 0x%08x, 0x%08x", (ULONG)status, (ULONG)r1,
            (ULONG)r2);
out:
    if (e1)
        NtClose(e1);
    if (e2)
        NtClose(e2);
    if (sync)
        NtClose(sync);
    if (sem)
        NtClose(sem);
    if (mut)
        NtClose(mut);
    if (!KtObStubbed(Context))
        KtCheck(Context, ExEventObjectType->TotalNumberOfObjects == events && KtFindByPath(name) == NULL,
                "temporary_leaves", "after its handles closed the event %s is %s in the namespace and %d events exist "
                "(expected %d)", name, KtFindByPath(name) ? "still" : "not", ExEventObjectType->TotalNumberOfObjects,
                events);
    KeUnstackDetachProcess();
    ObDereferenceObject(p);
}

/* A system thread is an object: PsCreateSystemThread gives a kernel handle to its
 * ETHREAD; inside the thread -2 names it; the thread object is signalled when it ends
 * (a wait through its handle returns); its last handle deletes it (joined). */
static volatile PVOID KtThreadSeenSelf;
static volatile ULONG KtThreadRan;

static VOID KtSystemThread(PVOID Context)
{
    PVOID self = NULL;
    if (NT_SUCCESS(ObReferenceObjectByHandle(NtCurrentThread(), 0, PsThreadType, KernelMode, &self, NULL))) {
        KtThreadSeenSelf = self;
        ObDereferenceObject(self);
    }
    KtThreadRan = (ULONG)(ULONG_PTR)Context;
}

KTEST_OB("handle.thread", KtTestHandleThread)
{
    if (!KtObSetup(Context))
        return;
    KtThreadSeenSelf = NULL;
    KtThreadRan = 0;
    ULONG tag = (ULONG)KtRandomRange(Context, 1, 0xFFFF);
    HANDLE h = NULL;
    CLIENT_ID cid = {0};
    LONG threads = PsThreadType->TotalNumberOfObjects;
    NTSTATUS status = PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, &cid, KtSystemThread,
                                           (PVOID)(ULONG_PTR)tag);
    if (!KtCheck(Context, status == STATUS_SUCCESS && ObpIsKernelHandle(h), "create_thread", "PsCreateSystemThread "
                 "returned 0x%08x, handle 0x%llx (expected a kernel handle)", (ULONG)status, (ULONG64)(ULONG_PTR)h))
        return;
    PVOID obj = NULL;
    status = ObReferenceObjectByHandle(h, SYNCHRONIZE, PsThreadType, KernelMode, &obj, NULL);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj, "reference_by_handle", "the thread's handle gave 0x%08x",
                 (ULONG)status))
        goto out;
    status = KeWaitForSingleObject(((PETHREAD)obj)->Tcb, Executive, KernelMode, FALSE, NULL);
    if (!KtCheck(Context, status == STATUS_WAIT_0 && KtThreadRan == tag, "thread_ran", "waiting for the thread "
                 "returned 0x%08x; it ran with context 0x%x (expected 0x%x)", (ULONG)status, KtThreadRan, tag) ||
        !KtCheck(Context, KtThreadSeenSelf == obj, "pseudo_thread", "inside the thread -2 named %p, expected its "
                 "ETHREAD %p", KtThreadSeenSelf, obj) ||
        !KtCheck(Context, cid.UniqueThread != NULL && cid.UniqueProcess == (HANDLE)PsInitialSystemProcess->UniqueProcessId,
                 "client_id", "the CLIENT_ID is %p.%p, expected the system process's id %llu and a thread id",
                 cid.UniqueProcess, cid.UniqueThread, (ULONG64)PsInitialSystemProcess->UniqueProcessId))
        goto out;
    KtObCheckCounts(Context, "the thread ended, its handle open, one reference held", obj, 2, 1);
out:
    if (obj)
        ObDereferenceObject(obj);
    if (h)
        ObCloseHandle(h, KernelMode);
    KtCheck(Context, PsThreadType->TotalNumberOfObjects == threads, "delete_on_last_close", "after the thread's last "
            "handle closed %d thread objects exist, expected %d (the delete method joins the ended thread)",
            PsThreadType->TotalNumberOfObjects, threads);
}
