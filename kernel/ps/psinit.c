/* psinit.c - processes and threads as objects (framework side of lab 06): the system
 * process with the kernel handle table, the initial thread's ETHREAD, a second process for
 * tests, attaching the current thread to a process, and PsCreateSystemThread over the
 * kernel's KeCreateThread. Built on first use with lab 06's routines. */
#include "ps.h"
#include "rtl.h"

PEPROCESS PsInitialSystemProcess;
LIST_ENTRY PsActiveProcessHead;
static LIST_ENTRY PspThreadList;
static ULONG_PTR PspNextId = 4;
static PETHREAD PspInitialThread;

NTSTATUS PspCreateProcess(PCSTR ImageName, PEPROCESS *Process)
{
    *Process = NULL;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, 0, NULL);
    PVOID body;
    NTSTATUS status = ObCreateObject(KernelMode, PsProcessType, &oa, sizeof(EPROCESS), &body);
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p = body;
    RtlZeroMemory(p, sizeof(*p));
    p->Header.Type = ProcessObject;
    InitializeListHead(&p->Header.WaitListHead);
    p->UniqueProcessId = PspNextId;
    PspNextId += 4;
    SIZE_T n = strlen(ImageName);
    if (n >= sizeof(p->ImageFileName))
        n = sizeof(p->ImageFileName) - 1;
    RtlCopyMemory(p->ImageFileName, ImageName, n);
    p->ObjectTable = ExCreateHandleTable(p);
    if (!p->ObjectTable) {
        ObDereferenceObject(p);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    InsertTailList(&PsActiveProcessHead, &p->ActiveProcessLinks);
    *Process = p;
    return STATUS_SUCCESS;
}

NTSTATUS PspCreateThreadObject(PKTHREAD Tcb, PEPROCESS Process, PETHREAD *Thread)
{
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, 0, NULL);
    PVOID body;
    *Thread = NULL;
    NTSTATUS status = ObCreateObject(KernelMode, PsThreadType, &oa, sizeof(ETHREAD), &body);
    if (!NT_SUCCESS(status))
        return status;
    PETHREAD t = body;
    RtlZeroMemory(t, sizeof(*t));
    t->Tcb = Tcb;
    t->ThreadsProcess = Process;
    t->Cid.UniqueProcess = (HANDLE)Process->UniqueProcessId;
    t->Cid.UniqueThread = (HANDLE)PspNextId;
    PspNextId += 4;
    InsertTailList(&PspThreadList, &t->ThreadListEntry);
    *Thread = t;
    return STATUS_SUCCESS;
}

NTSTATUS PsInitializeObjects(VOID)
{
    if (PsInitialSystemProcess)
        return STATUS_SUCCESS;
    ObInitSystem();
    InitializeListHead(&PsActiveProcessHead);
    InitializeListHead(&PspThreadList);
    PEPROCESS system;
    NTSTATUS status = PspCreateProcess("System", &system);
    if (!NT_SUCCESS(status))
        return status;
    PETHREAD initial;
    status = PspCreateThreadObject(NULL, system, &initial); /* the initial thread is never joined */
    if (!NT_SUCCESS(status))
        return status;
    initial->Tcb = KeGetCurrentThread();
    PspInitialThread = initial;
    PsInitialSystemProcess = system;
    return STATUS_SUCCESS;
}

PEPROCESS PsGetCurrentProcess(VOID)
{
    /* (lab 08: a user thread's ApcState.Process is its own process unless attached) */
    PEPROCESS p = KeGetCurrentThread()->ApcState.Process;
    return p ? p : PsInitialSystemProcess;
}

PETHREAD PsGetCurrentThread(VOID)
{
    if (!PsInitialSystemProcess)
        return NULL;
    PKTHREAD self = KeGetCurrentThread();
    for (PLIST_ENTRY e = PspThreadList.Flink; e != &PspThreadList; e = e->Flink) {
        PETHREAD t = CONTAINING_RECORD(e, ETHREAD, ThreadListEntry);
        if (t->Tcb == self)
            return t;
    }
    return NULL;
}

VOID KeStackAttachProcess(PEPROCESS Process)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    KeGetCurrentThread()->ApcState.Process = Process;
    KiPrepareAddressSpace(KeGetCurrentThread()); /* lab 08: its address space (CR3) */
    KeLowerIrql(old);
}

VOID KeUnstackDetachProcess(VOID)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    PKTHREAD self = KeGetCurrentThread();
    self->ApcState.Process = self->Process; /* back in its own process (NULL: the system) */
    KiPrepareAddressSpace(self);
    KeLowerIrql(old);
}

/* A system thread starts here: its ETHREAD knows its KTHREAD before the routine runs. */
static VOID PspSystemThreadStartup(PVOID Context)
{
    PETHREAD t = Context;
    t->Tcb = KeGetCurrentThread();
    t->StartRoutine(t->StartContext);
}

NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext)
{
    UNREFERENCED_PARAMETER(ObjectAttributes);
    *ThreadHandle = NULL;
    if (ProcessHandle != NULL && ProcessHandle != NtCurrentProcess())
        return STATUS_INVALID_PARAMETER; /* kernel threads run in the system process */
    NTSTATUS status = PsInitializeObjects();
    if (!NT_SUCCESS(status))
        return status;
    PETHREAD t;
    status = PspCreateThreadObject(NULL, PsInitialSystemProcess, &t);
    if (!NT_SUCCESS(status))
        return status;
    PKTHREAD tcb;
    t->StartRoutine = StartRoutine;
    t->StartContext = StartContext;
    status = KeCreateThread(&tcb, "system", PspSystemThreadStartup, t, 8);
    if (!NT_SUCCESS(status)) {
        ObDereferenceObject(t);
        return status;
    }
    t->Tcb = tcb;
    status = ObInsertObject(t, DesiredAccess, OBJ_KERNEL_HANDLE, ThreadHandle);
    if (NT_SUCCESS(status) && ClientId)
        *ClientId = t->Cid;
    return status;
}

/* Framework, for tests (kernel/ob/obreset.c): frees the system process (its table's pages,
 * not the objects its handles name) and the initial thread's object by the framework's
 * own hands; the next PsInitializeObjects builds them again. */
VOID PspResetObjects(VOID)
{
    if (!PsInitialSystemProcess)
        return;
    PEPROCESS system = PsInitialSystemProcess;
    PsInitialSystemProcess = NULL;
    if (PspInitialThread) {
        RemoveEntryList(&PspInitialThread->ThreadListEntry);
        POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(PspInitialThread);
        h->Signature = 0;
        PsThreadType->TotalNumberOfObjects--;
        ExFreePoolWithTag(h, PsThreadType->TypeInfo.PoolTag);
        PspInitialThread = NULL;
    }
    RemoveEntryList(&system->ActiveProcessLinks);
    if (system->ObjectTable)
        ExDestroyHandleTable(system->ObjectTable);
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(system);
    h->Signature = 0;
    PsProcessType->TotalNumberOfObjects--;
    ExFreePoolWithTag(h, PsProcessType->TypeInfo.PoolTag);
    PspNextId = 4;
}
