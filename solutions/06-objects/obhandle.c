/* obhandle.c - lab 06: handles to objects. Creating a handle raises the object's handle
 * count and calls the type's open method; ObReferenceObjectByHandle checks the type and
 * the access granted; closing calls the close method, drops the counts, takes a temporary
 * object's name out of the namespace with its last handle, and releases the handle's
 * reference. Kernel handles live in the system process's table. */
#include "bugcodes.h"
#include "ps.h"

/* The table Handle belongs to for Process (NULL: not a table handle here). */
static PHANDLE_TABLE ObpTableOf(struct _EPROCESS *Process, HANDLE Handle, KPROCESSOR_MODE Mode, PHANDLE Value)
{
    if (Handle == NtCurrentProcess() || Handle == NtCurrentThread())
        return NULL;
    if (ObpIsKernelHandle(Handle)) {
        if (Mode != KernelMode)
            return NULL;
        *Value = ObKernelHandleToHandle(Handle);
        return ObpKernelHandleTable;
    }
    *Value = Handle;
    return Process ? Process->ObjectTable : NULL;
}

/*
 * ObpCreateHandle - a handle to Object (a body) in Process's table, or in the system
 * process's table when HandleAttributes has OBJ_KERNEL_HANDLE (the handle is then
 * returned marked: ObMarkHandleAsKernelHandle). Contract: IRQL PASSIVE_LEVEL. The handle
 * takes over one pointer reference the caller holds (it adds none). The entry holds the
 * header, OBJ_HANDLE_INHERIT if OBJ_INHERIT is asked, and GrantedAccess = DesiredAccess
 * (MAXIMUM_ALLOWED: the type's ValidAccessMask). Then the object's HandleCount and the
 * type's TotalNumberOfHandles grow by 1, and the type's OpenProcedure (if any) runs with
 * Reason, the table's process, the object, the access and the new HandleCount. If the
 * table is full (STATUS_INSUFFICIENT_RESOURCES) or the open method fails (its status),
 * everything is undone (counts, entry) and *Handle is NULL; the caller keeps its reference.
 */
NTSTATUS ObpCreateHandle(OB_OPEN_REASON Reason, struct _EPROCESS *Process, PVOID Object, ACCESS_MASK DesiredAccess,
                         ULONG HandleAttributes, PHANDLE Handle)
{
    *Handle = NULL;
    BOOLEAN kernel = (HandleAttributes & OBJ_KERNEL_HANDLE) != 0;
    PEPROCESS owner = kernel ? PsInitialSystemProcess : Process;
    if (!owner || !owner->ObjectTable)
        return STATUS_INVALID_HANDLE;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    ACCESS_MASK access = (DesiredAccess & MAXIMUM_ALLOWED) ? h->Type->TypeInfo.ValidAccessMask : DesiredAccess;
    HANDLE_TABLE_ENTRY entry;
    entry.ObAttributes = (ULONG_PTR)h | ((HandleAttributes & OBJ_INHERIT) ? OBJ_HANDLE_INHERIT : 0);
    entry.GrantedAccess = access;
    entry.Spare = 0;
    HANDLE v = ExCreateHandle(owner->ObjectTable, &entry);
    if (!v)
        return STATUS_INSUFFICIENT_RESOURCES;
    LONG_PTR count = __atomic_add_fetch(&h->HandleCount, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&h->Type->TotalNumberOfHandles, 1, __ATOMIC_SEQ_CST);
    if (h->Type->TypeInfo.OpenProcedure) {
        NTSTATUS status = h->Type->TypeInfo.OpenProcedure(Reason, owner, Object, access, (ULONG)count);
        if (!NT_SUCCESS(status)) {
            __atomic_sub_fetch(&h->HandleCount, 1, __ATOMIC_SEQ_CST);
            __atomic_sub_fetch(&h->Type->TotalNumberOfHandles, 1, __ATOMIC_SEQ_CST);
            ExDestroyHandle(owner->ObjectTable, v, NULL);
            return status;
        }
    }
    *Handle = kernel ? ObMarkHandleAsKernelHandle(v) : v;
    return STATUS_SUCCESS;
}

/*
 * ObInsertObject - give a new object (from ObCreateObject, not yet inserted) its name and
 * a handle. Contract: IRQL PASSIVE_LEVEL. The creator's reference goes to the handle.
 * Unnamed: a handle (ObpCreateHandle, ObCreateHandle) with DesiredAccess and
 * HandleAttributes. Named: ObpLookupObjectName inserts the name (HandleAttributes gives
 * OBJ_CASE_INSENSITIVE and OBJ_OPENIF); on insertion the handle is to Object, status
 * STATUS_SUCCESS. If the name exists and OBJ_OPENIF was given, the new object is
 * dereferenced (deleted) and the handle is to the existing object (the lookup's
 * reference goes to the handle), status STATUS_OBJECT_NAME_EXISTS. On any failure
 * (STATUS_OBJECT_NAME_COLLISION, a path not found, the handle not created - the name
 * removed again) the new object is dereferenced (deleted) and *Handle is NULL.
 */
NTSTATUS ObInsertObject(PVOID Object, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, PHANDLE Handle)
{
    *Handle = NULL;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
    PVOID target = Object;
    NTSTATUS named = STATUS_SUCCESS;
    if (ni && !ni->Directory) {
        PVOID found;
        named = ObpLookupObjectName(NULL, &ni->Name, HandleAttributes, h->Type, Object, &found);
        if (!NT_SUCCESS(named)) {
            ObDereferenceObject(Object);
            return named;
        }
        if (named == STATUS_OBJECT_NAME_EXISTS) {
            ObDereferenceObject(Object);
            target = found;
        } else {
            ObDereferenceObject(found); /* the lookup's extra reference; the entry keeps its own */
        }
    }
    NTSTATUS status = ObpCreateHandle(ObCreateHandle, PsGetCurrentProcess(), target, DesiredAccess,
                                      HandleAttributes, Handle);
    if (!NT_SUCCESS(status)) {
        if (target == Object && ni && ni->Directory) {
            /* Undo the insertion: the name goes, with the entry's reference. */
            ObpDeleteDirectoryEntry(ni->Directory, Object);
            ni->Directory = NULL;
            ObDereferenceObject(Object);
        }
        ObDereferenceObject(target);
        return status;
    }
    return named;
}

/*
 * ObReferenceObjectByHandle - the object Handle names, with one more pointer reference.
 * Contract: IRQL <= APC_LEVEL. *Object is NULL on every failure and nothing changes.
 * NtCurrentProcess() (-1) names the current process (PsGetCurrentProcess) and
 * NtCurrentThread() (-2) the current thread (PsGetCurrentThread; STATUS_INVALID_HANDLE if
 * it has none), with all access (PROCESS_ALL_ACCESS / THREAD_ALL_ACCESS). A kernel handle
 * (ObpIsKernelHandle) is looked up in the system process's table, and only for
 * AccessMode KernelMode (STATUS_INVALID_HANDLE from UserMode); any other handle in the
 * current process's table. A handle naming no entry in use: STATUS_INVALID_HANDLE. With
 * ObjectType not NULL, an object of another type: STATUS_OBJECT_TYPE_MISMATCH. For
 * AccessMode UserMode, DesiredAccess asking a right the handle was not granted:
 * STATUS_ACCESS_DENIED (KernelMode callers are not access-checked). HandleInformation, if
 * not NULL, gets the granted access and the handle's attributes (OBJ_INHERIT,
 * OBJ_PROTECT_CLOSE as 0x1).
 */
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object,
                                   POBJECT_HANDLE_INFORMATION HandleInformation)
{
    *Object = NULL;
    PVOID body = NULL;
    ACCESS_MASK granted = 0;
    ULONG attributes = 0;
    if (Handle == NtCurrentProcess() || Handle == NtCurrentThread()) {
        BOOLEAN process = Handle == NtCurrentProcess();
        body = process ? (PVOID)PsGetCurrentProcess() : (PVOID)PsGetCurrentThread();
        if (!body)
            return STATUS_INVALID_HANDLE;
        if (ObjectType && ObjectType != (process ? PsProcessType : PsThreadType))
            return STATUS_OBJECT_TYPE_MISMATCH;
        granted = process ? PROCESS_ALL_ACCESS : THREAD_ALL_ACCESS;
    } else {
        HANDLE v;
        PHANDLE_TABLE table = ObpTableOf(PsGetCurrentProcess(), Handle, AccessMode, &v);
        PHANDLE_TABLE_ENTRY e = table ? ExMapHandleToPointer(table, v) : NULL;
        if (!e)
            return STATUS_INVALID_HANDLE;
        POBJECT_HEADER h = ObpEntryHeader(e);
        if (ObjectType && h->Type != ObjectType)
            return STATUS_OBJECT_TYPE_MISMATCH;
        granted = e->GrantedAccess;
        if (AccessMode != KernelMode && (DesiredAccess & ~granted))
            return STATUS_ACCESS_DENIED;
        attributes = ((e->ObAttributes & OBJ_HANDLE_INHERIT) ? OBJ_INHERIT : 0) |
                     ((e->ObAttributes & OBJ_PROTECT_CLOSE) ? OBJ_PROTECT_CLOSE : 0);
        body = &h->Body;
    }
    ObReferenceObject(body);
    if (HandleInformation) {
        HandleInformation->GrantedAccess = granted;
        HandleInformation->HandleAttributes = attributes;
    }
    *Object = body;
    return STATUS_SUCCESS;
}

/* Closes Handle in Table (owned by Process); Value is the handle without kernel marking. */
static NTSTATUS ObpCloseHandleTableEntry(PHANDLE_TABLE Table, PEPROCESS Process, HANDLE Value, HANDLE Handle,
                                         KPROCESSOR_MODE PreviousMode)
{
    PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(Table, Value);
    if (!e) {
        if (PreviousMode == KernelMode && ObpIsKernelHandle(Handle))
            KeBugCheckEx(INVALID_KERNEL_HANDLE, (ULONG_PTR)Handle, 1, 0, 0);
        return STATUS_INVALID_HANDLE;
    }
    if (e->ObAttributes & OBJ_PROTECT_CLOSE) {
        if (PreviousMode == KernelMode && ObpIsKernelHandle(Handle))
            KeBugCheckEx(INVALID_KERNEL_HANDLE, (ULONG_PTR)Handle, 0, 0, 0);
        return STATUS_HANDLE_NOT_CLOSABLE;
    }
    POBJECT_HEADER h = ObpEntryHeader(e);
    ACCESS_MASK granted = e->GrantedAccess;
    PVOID object = &h->Body;
    ExDestroyHandle(Table, Value, e);
    if (h->Type->TypeInfo.CloseProcedure)
        h->Type->TypeInfo.CloseProcedure(Process, object, granted, (ULONG)h->HandleCount);
    __atomic_sub_fetch(&h->Type->TotalNumberOfHandles, 1, __ATOMIC_SEQ_CST);
    if (__atomic_sub_fetch(&h->HandleCount, 1, __ATOMIC_SEQ_CST) == 0)
        ObpDeleteNameCheck(object);
    ObDereferenceObject(object);
    return STATUS_SUCCESS;
}

/*
 * ObCloseHandle - close Handle in the current process (a kernel handle: in the system
 * process, KernelMode only). Contract: IRQL PASSIVE_LEVEL. STATUS_INVALID_HANDLE for a
 * pseudo-handle, a kernel handle from UserMode, or a handle naming no entry in use;
 * STATUS_HANDLE_NOT_CLOSABLE for a protected handle (OBJ_PROTECT_CLOSE), left open. From
 * KernelMode, a bad kernel handle bugchecks INVALID_KERNEL_HANDLE (p1 the handle, p2 1;
 * p2 0 for a protected one). Otherwise: the entry is freed (ExDestroyHandle), the type's
 * CloseProcedure runs once with the process, the object, the granted access and the
 * HandleCount before the close; the HandleCount and the type's TotalNumberOfHandles drop
 * by 1; with no handle left a temporary named object leaves the namespace
 * (ObpDeleteNameCheck); the handle's pointer reference is dropped (ObDereferenceObject).
 */
NTSTATUS ObCloseHandle(HANDLE Handle, KPROCESSOR_MODE PreviousMode)
{
    HANDLE v;
    PEPROCESS process = PsGetCurrentProcess();
    PHANDLE_TABLE table = ObpTableOf(process, Handle, PreviousMode, &v);
    if (!table)
        return STATUS_INVALID_HANDLE;
    if (ObpIsKernelHandle(Handle))
        process = PsInitialSystemProcess;
    return ObpCloseHandleTableEntry(table, process, v, Handle, PreviousMode);
}

/*
 * ObSetHandleAttributes - set or clear a handle's protect-from-close and inherit bits
 * (OBJ_PROTECT_CLOSE, OBJ_HANDLE_INHERIT in the entry), in the current process (a kernel
 * handle: KernelMode only). IRQL PASSIVE_LEVEL. STATUS_INVALID_HANDLE (nothing changed)
 * for a handle naming no entry in use; the object and the access are left as they are.
 */
NTSTATUS ObSetHandleAttributes(HANDLE Handle, POBJECT_HANDLE_FLAG_INFORMATION HandleFlags,
                               KPROCESSOR_MODE PreviousMode)
{
    HANDLE v;
    PHANDLE_TABLE table = ObpTableOf(PsGetCurrentProcess(), Handle, PreviousMode, &v);
    PHANDLE_TABLE_ENTRY e = table ? ExMapHandleToPointer(table, v) : NULL;
    if (!e)
        return STATUS_INVALID_HANDLE;
    ULONG_PTR a = e->ObAttributes & ~(ULONG_PTR)(OBJ_PROTECT_CLOSE | OBJ_HANDLE_INHERIT);
    if (HandleFlags->ProtectFromClose)
        a |= OBJ_PROTECT_CLOSE;
    if (HandleFlags->Inherit)
        a |= OBJ_HANDLE_INHERIT;
    e->ObAttributes = a;
    return STATUS_SUCCESS;
}

/*
 * ObDuplicateObject - a new handle in TargetProcess to the object SourceHandle names in
 * SourceProcess. Contract: IRQL PASSIVE_LEVEL. *TargetHandle is NULL unless it succeeds.
 * STATUS_INVALID_HANDLE if SourceHandle names nothing in SourceProcess's table (a kernel
 * handle: the system table, KernelMode only); nothing else happens then. Access: the
 * source's granted access with DUPLICATE_SAME_ACCESS, else DesiredAccess, which from
 * UserMode may not ask a right the source lacks (STATUS_ACCESS_DENIED). Attributes: the
 * source's inherit bit with DUPLICATE_SAME_ATTRIBUTES, else HandleAttributes' OBJ_INHERIT;
 * OBJ_KERNEL_HANDLE comes from HandleAttributes in both cases. The new handle holds a new pointer reference and counts as a handle
 * (ObpCreateHandle, reason ObDuplicateHandle). With DUPLICATE_CLOSE_SOURCE the source
 * handle is closed afterwards, whether the duplicate succeeded or not (a protected source
 * stays open). TargetProcess NULL: only the close of the source (STATUS_SUCCESS).
 */
NTSTATUS ObDuplicateObject(struct _EPROCESS *SourceProcess, HANDLE SourceHandle, struct _EPROCESS *TargetProcess,
                           PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options,
                           KPROCESSOR_MODE PreviousMode)
{
    if (TargetHandle)
        *TargetHandle = NULL;
    HANDLE v;
    PHANDLE_TABLE table = ObpTableOf(SourceProcess, SourceHandle, PreviousMode, &v);
    PHANDLE_TABLE_ENTRY e = table ? ExMapHandleToPointer(table, v) : NULL;
    if (!e)
        return STATUS_INVALID_HANDLE;
    PEPROCESS sourceOwner = ObpIsKernelHandle(SourceHandle) ? PsInitialSystemProcess : SourceProcess;
    POBJECT_HEADER h = ObpEntryHeader(e);
    PVOID object = &h->Body;
    ACCESS_MASK granted = e->GrantedAccess;
    ULONG inherit = (e->ObAttributes & OBJ_HANDLE_INHERIT) ? OBJ_INHERIT : 0;
    NTSTATUS status = STATUS_SUCCESS;
    if (TargetProcess) {
        ACCESS_MASK access = (Options & DUPLICATE_SAME_ACCESS) ? granted : DesiredAccess;
        ULONG attributes = (Options & DUPLICATE_SAME_ATTRIBUTES) ? (inherit | (HandleAttributes & OBJ_KERNEL_HANDLE))
                                                                 : HandleAttributes;
        if (!(Options & DUPLICATE_SAME_ACCESS) && PreviousMode != KernelMode && (access & ~granted)) {
            status = STATUS_ACCESS_DENIED;
        } else {
            ObReferenceObject(object);
            status = ObpCreateHandle(ObDuplicateHandle, TargetProcess, object, access, attributes, TargetHandle);
            if (!NT_SUCCESS(status))
                ObDereferenceObject(object);
        }
    }
    if (Options & DUPLICATE_CLOSE_SOURCE)
        ObpCloseHandleTableEntry(table, sourceOwner, v, SourceHandle, UserMode);
    return status;
}
