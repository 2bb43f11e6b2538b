/* obhandle.c - lab 06: handles to objects. Creating a handle raises the object's handle
 * count and calls the type's open method; ObReferenceObjectByHandle checks the type and
 * the access granted; closing calls the close method, drops the counts, takes a temporary
 * object's name out of the namespace with its last handle, and releases the handle's
 * reference. Kernel handles live in the system process's table. */
#include "bugcodes.h"
#include "ps.h"

/* The table Handle belongs to for Process (NULL: not a table handle here). */

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
    /* LAB 06: ObpCreateHandle - see the contract above. */
    UNREFERENCED_PARAMETER(Reason);
    UNREFERENCED_PARAMETER(Process);
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(HandleAttributes);
    UNREFERENCED_PARAMETER(Handle);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 06: ObInsertObject - see the contract above. */
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(HandleAttributes);
    UNREFERENCED_PARAMETER(Handle);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 06: ObReferenceObjectByHandle - see the contract above. */
    UNREFERENCED_PARAMETER(Handle);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(Object);
    UNREFERENCED_PARAMETER(HandleInformation);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 06: ObCloseHandle - see the contract above. */
    UNREFERENCED_PARAMETER(Handle);
    UNREFERENCED_PARAMETER(PreviousMode);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 06: ObSetHandleAttributes - see the contract above. */
    UNREFERENCED_PARAMETER(Handle);
    UNREFERENCED_PARAMETER(HandleFlags);
    UNREFERENCED_PARAMETER(PreviousMode);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 06: ObDuplicateObject - see the contract above. */
    UNREFERENCED_PARAMETER(SourceProcess);
    UNREFERENCED_PARAMETER(SourceHandle);
    UNREFERENCED_PARAMETER(TargetProcess);
    UNREFERENCED_PARAMETER(TargetHandle);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(HandleAttributes);
    UNREFERENCED_PARAMETER(Options);
    UNREFERENCED_PARAMETER(PreviousMode);
    return STATUS_NOT_IMPLEMENTED;
}
