/* obsync.c - the dispatcher objects as objects (framework): the Event, Semaphore, Mutant
 * and Timer types' bodies are lab 05's KEVENT, KSEMAPHORE, KMUTANT and KTIMER, created,
 * named and used through handles with lab 06's routines - NT's NtCreateEvent, NtSetEvent,
 * NtWaitForSingleObject... (the system services of lab 08 call these with UserMode). */
#include "kewait.h"
#include "ps.h"
#include "rtl.h"

/* Creates an object of Type with a body of Size bytes, initialised by Init, and a handle
 * (ObInsertObject: OBJ_OPENIF gives the existing one, STATUS_OBJECT_NAME_EXISTS). */
static NTSTATUS ObpCreateWaitable(POBJECT_TYPE Type, ULONG Size, PHANDLE Handle, ACCESS_MASK DesiredAccess,
                                  POBJECT_ATTRIBUTES ObjectAttributes, VOID (*Init)(PVOID, LONG, LONG), LONG A,
                                  LONG B)
{
    OBJECT_ATTRIBUTES none;
    *Handle = NULL;
    if (!ObjectAttributes) {
        InitializeObjectAttributes(&none, NULL, 0, NULL);
        ObjectAttributes = &none;
    }
    PVOID body;
    NTSTATUS status = ObCreateObject(UserMode, Type, ObjectAttributes, Size, &body);
    if (!NT_SUCCESS(status))
        return status;
    Init(body, A, B);
    return ObInsertObject(body, DesiredAccess, ObjectAttributes->Attributes, Handle);
}

static VOID ObpInitEvent(PVOID Body, LONG Type, LONG State)
{
    KeInitializeEvent(Body, (EVENT_TYPE)Type, (BOOLEAN)State);
}

static VOID ObpInitSemaphore(PVOID Body, LONG Count, LONG Limit)
{
    KeInitializeSemaphore(Body, Count, Limit);
}

static VOID ObpInitMutant(PVOID Body, LONG InitialOwner, LONG Unused)
{
    UNREFERENCED_PARAMETER(Unused);
    KeInitializeMutant(Body, (BOOLEAN)InitialOwner);
}

static NTSTATUS NtSetEventKernel(HANDLE EventHandle, PLONG PreviousState);
static NTSTATUS NtResetEventKernel(HANDLE EventHandle, PLONG PreviousState);

/* ---- Lab 09 (w16t): the same services called from user mode (PreviousMode UserMode): every
 * user pointer probed, read and written only through the fixup-protected copies. ---- */

NTSTATUS ObpCaptureObjectAttributes(POBJECT_ATTRIBUTES UserAttributes, POBP_CAPTURED_ATTRIBUTES Captured,
                                    POBJECT_ATTRIBUTES *Attributes)
{
    *Attributes = NULL;
    if (!UserAttributes)
        return STATUS_SUCCESS;
    NTSTATUS status = ProbeForRead(UserAttributes, sizeof(OBJECT_ATTRIBUTES), sizeof(ULONG));
    if (NT_SUCCESS(status))
        status = KeCopyFromUser(&Captured->Attributes, UserAttributes, sizeof(OBJECT_ATTRIBUTES));
    if (!NT_SUCCESS(status))
        return status;
    if (Captured->Attributes.Attributes & ~OBJ_VALID_ATTRIBUTES)
        return STATUS_INVALID_PARAMETER;
    Captured->Attributes.Attributes &= ~OBJ_KERNEL_HANDLE; /* a user caller gets a handle of its own */
    if (Captured->Attributes.ObjectName) {
        PSTRING name = Captured->Attributes.ObjectName;
        status = ProbeForRead(name, sizeof(STRING), sizeof(ULONG));
        if (NT_SUCCESS(status))
            status = KeCopyFromUser(&Captured->Name, name, sizeof(STRING));
        if (!NT_SUCCESS(status))
            return status;
        if (Captured->Name.Length > sizeof(Captured->Buffer) || Captured->Name.Length > Captured->Name.MaximumLength)
            return STATUS_OBJECT_NAME_INVALID;
        if (Captured->Name.Length) {
            status = ProbeForRead(Captured->Name.Buffer, Captured->Name.Length, 1);
            if (NT_SUCCESS(status))
                status = KeCopyFromUser(Captured->Buffer, Captured->Name.Buffer, Captured->Name.Length);
            if (!NT_SUCCESS(status))
                return status;
        }
        Captured->Name.Buffer = Captured->Buffer;
        Captured->Name.MaximumLength = Captured->Name.Length;
        Captured->Attributes.ObjectName = &Captured->Name;
    }
    *Attributes = &Captured->Attributes;
    return STATUS_SUCCESS;
}

/* Writes a handle the service created to the user's *Handle (probed before anything was
 * created); a failed write closes it again. */
static NTSTATUS ObpReturnUserHandle(PHANDLE UserHandle, HANDLE Handle, NTSTATUS Status)
{
    NTSTATUS copy = KeCopyToUser(UserHandle, &Handle, sizeof(Handle));
    if (!NT_SUCCESS(copy)) {
        ObCloseHandle(Handle, UserMode);
        return copy;
    }
    return Status;
}

/* A user caller's PLONG PreviousState written back (probed first). */
static NTSTATUS ObpSetEventState(HANDLE EventHandle, PLONG PreviousState, BOOLEAN Set)
{
    LONG previous = 0;
    if (ExGetPreviousMode() == KernelMode)
        return Set ? NtSetEventKernel(EventHandle, PreviousState) : NtResetEventKernel(EventHandle, PreviousState);
    if (PreviousState) {
        NTSTATUS status = ProbeForWrite(PreviousState, sizeof(LONG), sizeof(LONG));
        if (!NT_SUCCESS(status))
            return status;
    }
    NTSTATUS status = Set ? NtSetEventKernel(EventHandle, &previous) : NtResetEventKernel(EventHandle, &previous);
    if (NT_SUCCESS(status) && PreviousState)
        status = KeCopyToUser(PreviousState, &previous, sizeof(previous));
    return status;
}

NTSTATUS NtCreateEvent(PHANDLE EventHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                       EVENT_TYPE EventType, BOOLEAN InitialState)
{
    if (EventType != NotificationEvent && EventType != SynchronizationEvent)
        return STATUS_INVALID_PARAMETER;
    if (ExGetPreviousMode() == KernelMode)
        return ObpCreateWaitable(ExEventObjectType, sizeof(KEVENT), EventHandle, DesiredAccess, ObjectAttributes,
                                 ObpInitEvent, EventType, InitialState);
    OBP_CAPTURED_ATTRIBUTES captured;
    POBJECT_ATTRIBUTES attributes;
    NTSTATUS status = ProbeForWrite(EventHandle, sizeof(HANDLE), sizeof(ULONG));
    if (NT_SUCCESS(status))
        status = ObpCaptureObjectAttributes(ObjectAttributes, &captured, &attributes);
    if (!NT_SUCCESS(status))
        return status;
    HANDLE handle;
    status = ObpCreateWaitable(ExEventObjectType, sizeof(KEVENT), &handle, DesiredAccess, attributes, ObpInitEvent,
                               EventType, InitialState);
    return NT_SUCCESS(status) ? ObpReturnUserHandle(EventHandle, handle, status) : status;
}

NTSTATUS NtCreateSemaphore(PHANDLE SemaphoreHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                           LONG InitialCount, LONG MaximumCount)
{
    if (MaximumCount <= 0 || InitialCount < 0 || InitialCount > MaximumCount)
        return STATUS_INVALID_PARAMETER;
    return ObpCreateWaitable(ExSemaphoreObjectType, sizeof(KSEMAPHORE), SemaphoreHandle, DesiredAccess,
                             ObjectAttributes, ObpInitSemaphore, InitialCount, MaximumCount);
}

NTSTATUS NtCreateMutant(PHANDLE MutantHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                        BOOLEAN InitialOwner)
{
    return ObpCreateWaitable(ExMutantObjectType, sizeof(KMUTANT), MutantHandle, DesiredAccess, ObjectAttributes,
                             ObpInitMutant, InitialOwner, 0);
}

static NTSTATUS NtSetEventKernel(HANDLE EventHandle, PLONG PreviousState)
{
    PVOID event;
    NTSTATUS status = ObReferenceObjectByHandle(EventHandle, EVENT_MODIFY_STATE, ExEventObjectType, UserMode, &event,
                                                NULL);
    if (!NT_SUCCESS(status))
        return status;
    LONG previous = KeSetEvent(event, EVENT_INCREMENT, FALSE);
    if (PreviousState)
        *PreviousState = previous;
    ObDereferenceObject(event);
    return STATUS_SUCCESS;
}

static NTSTATUS NtResetEventKernel(HANDLE EventHandle, PLONG PreviousState)
{
    PVOID event;
    NTSTATUS status = ObReferenceObjectByHandle(EventHandle, EVENT_MODIFY_STATE, ExEventObjectType, UserMode, &event,
                                                NULL);
    if (!NT_SUCCESS(status))
        return status;
    LONG previous = KeResetEvent(event);
    if (PreviousState)
        *PreviousState = previous;
    ObDereferenceObject(event);
    return STATUS_SUCCESS;
}

NTSTATUS NtSetEvent(HANDLE EventHandle, PLONG PreviousState)
{
    return ObpSetEventState(EventHandle, PreviousState, TRUE);
}

NTSTATUS NtResetEvent(HANDLE EventHandle, PLONG PreviousState)
{
    return ObpSetEventState(EventHandle, PreviousState, FALSE);
}

NTSTATUS NtReleaseSemaphore(HANDLE SemaphoreHandle, LONG ReleaseCount, PLONG PreviousCount)
{
    PVOID semaphore;
    if (ReleaseCount <= 0)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = ObReferenceObjectByHandle(SemaphoreHandle, SEMAPHORE_MODIFY_STATE, ExSemaphoreObjectType,
                                                UserMode, &semaphore, NULL);
    if (!NT_SUCCESS(status))
        return status;
    LONG previous = KeReleaseSemaphore(semaphore, SEMAPHORE_INCREMENT, ReleaseCount, FALSE);
    ObDereferenceObject(semaphore);
    if (previous == STATUS_SEMAPHORE_LIMIT_EXCEEDED)
        return STATUS_SEMAPHORE_LIMIT_EXCEEDED;
    if (PreviousCount)
        *PreviousCount = previous;
    return STATUS_SUCCESS;
}

NTSTATUS NtReleaseMutant(HANDLE MutantHandle, PLONG PreviousCount)
{
    PVOID mutant;
    NTSTATUS status = ObReferenceObjectByHandle(MutantHandle, 0, ExMutantObjectType, UserMode, &mutant, NULL);
    if (!NT_SUCCESS(status))
        return status;
    LONG previous = KeReleaseMutant(mutant, MUTANT_INCREMENT, FALSE, FALSE);
    ObDereferenceObject(mutant);
    if (previous == STATUS_MUTANT_NOT_OWNED)
        return STATUS_MUTANT_NOT_OWNED;
    if (PreviousCount)
        *PreviousCount = previous;
    return STATUS_SUCCESS;
}

/* The dispatcher object an object's body waits on: a thread's KTHREAD, else the body. */
static PVOID ObpWaitObject(PVOID Object)
{
    POBJECT_TYPE type = OBJECT_TO_OBJECT_HEADER(Object)->Type;
    if (type == PsThreadType)
        return ((PETHREAD)Object)->Tcb;
    if (type == ExEventObjectType || type == ExSemaphoreObjectType || type == ExMutantObjectType ||
        type == ExTimerObjectType || type == PsProcessType)
        return Object;
    return NULL;
}

NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    LARGE_INTEGER timeout;
    if (Timeout && ExGetPreviousMode() == UserMode) {
        NTSTATUS status = ProbeForRead(Timeout, sizeof(LARGE_INTEGER), sizeof(ULONG));
        if (NT_SUCCESS(status))
            status = KeCopyFromUser(&timeout, Timeout, sizeof(timeout));
        if (!NT_SUCCESS(status))
            return status;
        Timeout = &timeout;
    }
    PVOID object;
    NTSTATUS status = ObReferenceObjectByHandle(Handle, SYNCHRONIZE, NULL, UserMode, &object, NULL);
    if (!NT_SUCCESS(status))
        return status;
    PVOID wait = ObpWaitObject(object);
    status = wait ? KeWaitForSingleObject(wait, UserRequest, UserMode, Alertable, Timeout)
                  : STATUS_OBJECT_TYPE_MISMATCH;
    ObDereferenceObject(object);
    return status;
}
