/* namei.c - lab 06: the namespace. Directories hash their entries (NUMBER_HASH_BUCKETS
 * chains, case-insensitive hash); a lookup walks a path component by component from the
 * root (or a directory handle), follows symbolic links and hands the rest of a path to
 * an object type's parse method, restarting from the root at most
 * OBJ_MAX_REPARSE_ATTEMPTS times. */
#include "ps.h"
#include "rtl.h"

/*
 * ObpLookupDirectoryEntry - the object named Name (one component) in Directory, or NULL.
 * Contract: IRQL <= APC_LEVEL. Searches only the chain of bucket ObpHashName(Name) %
 * NUMBER_HASH_BUCKETS; names compare with ObpEqualNames (ignoring case when
 * CaseInsensitive). Adds no reference and changes nothing.
 */
PVOID ObpLookupDirectoryEntry(POBJECT_DIRECTORY Directory, PSTRING Name, BOOLEAN CaseInsensitive)
{
    /* LAB 06: ObpLookupDirectoryEntry - see the contract above. */
    UNREFERENCED_PARAMETER(Directory);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(CaseInsensitive);
    KeNotImplemented("ObpLookupDirectoryEntry", "lab 06");
    return NULL;
}

/*
 * ObpInsertDirectoryEntry - put Object (whose name info's Name is one component) into
 * Directory. Contract: IRQL <= APC_LEVEL. A new OBJECT_DIRECTORY_ENTRY (nonpaged pool,
 * OB_DIRECTORY_ENTRY_TAG) with the object and HashValue = ObpHashName(name) goes at the
 * head of bucket HashValue % NUMBER_HASH_BUCKETS; EntryCount grows by 1. Adds no
 * reference, sets nothing in the object, does not look for duplicates.
 * STATUS_INSUFFICIENT_RESOURCES (nothing changed) when the pool is empty;
 * STATUS_OBJECT_NAME_INVALID for an object without a name.
 */
NTSTATUS ObpInsertDirectoryEntry(POBJECT_DIRECTORY Directory, PVOID Object)
{
    /* LAB 06: ObpInsertDirectoryEntry - see the contract above. */
    UNREFERENCED_PARAMETER(Directory);
    UNREFERENCED_PARAMETER(Object);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ObpDeleteDirectoryEntry - take Object's entry out of Directory (the entry whose Object
 * is this one, in its bucket) and free it; EntryCount drops by 1. IRQL <= APC_LEVEL.
 * Drops no reference. STATUS_NOT_FOUND (nothing changed) if Object is not in Directory.
 */
NTSTATUS ObpDeleteDirectoryEntry(POBJECT_DIRECTORY Directory, PVOID Object)
{
    /* LAB 06: ObpDeleteDirectoryEntry - see the contract above. */
    UNREFERENCED_PARAMETER(Directory);
    UNREFERENCED_PARAMETER(Object);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ObpLookupObjectName - find (or, with InsertObject, create) the object named ObjectName.
 * Contract: IRQL PASSIVE_LEVEL. *FoundObject is NULL on failure, else the object with one
 * more pointer reference for the caller.
 * - Start: with RootDirectoryHandle (a Directory handle, KernelMode lookup) the name is
 *   relative to it and may not begin with '\'; without, it must begin with '\' and the
 *   walk starts at the root (ObpRootDirectoryObject); otherwise
 *   STATUS_OBJECT_PATH_SYNTAX_BAD. "\" alone is the root itself.
 * - Components are separated by single '\'; an empty component (a doubled or trailing
 *   '\') is STATUS_OBJECT_NAME_INVALID. Each is looked up in the current directory
 *   (ObpLookupDirectoryEntry, ignoring case with OBJ_CASE_INSENSITIVE).
 * - A symbolic link is followed (the path becomes its LinkTarget + the rest, walked from
 *   the root) - the last component too, unless OBJ_OPENLINK. A directory with components
 *   left is walked into. Another object with components left and a ParseProcedure gets
 *   the rest (without its leading '\'): its status and object are the result, except
 *   STATUS_REPARSE, whose new complete name is walked from the root. More than
 *   OBJ_MAX_REPARSE_ATTEMPTS links and reparses: STATUS_REPARSE_POINT_NOT_RESOLVED. Any
 *   other object with components left, or a missing directory on the way:
 *   STATUS_OBJECT_PATH_NOT_FOUND.
 * - The last component found: with InsertObject, STATUS_OBJECT_NAME_COLLISION, or with
 *   OBJ_OPENIF the existing object (STATUS_OBJECT_TYPE_MISMATCH if its type is not
 *   InsertObject's) and STATUS_OBJECT_NAME_EXISTS; without, the object
 *   (STATUS_OBJECT_TYPE_MISMATCH if ObjectType is given and differs).
 * - The last component missing: without InsertObject STATUS_OBJECT_NAME_NOT_FOUND; with
 *   it, InsertObject's name info's Name becomes that component (moved to the start of its
 *   NameBuffer), it enters the directory (ObpInsertDirectoryEntry), Directory is set, and
 *   it gains a reference for the entry plus the caller's: STATUS_SUCCESS.
 */
NTSTATUS ObpLookupObjectName(HANDLE RootDirectoryHandle, PSTRING ObjectName, ULONG Attributes,
                             POBJECT_TYPE ObjectType, PVOID InsertObject, PVOID *FoundObject)
{
    /* LAB 06: ObpLookupObjectName - see the contract above. */
    UNREFERENCED_PARAMETER(RootDirectoryHandle);
    UNREFERENCED_PARAMETER(ObjectName);
    UNREFERENCED_PARAMETER(Attributes);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(InsertObject);
    UNREFERENCED_PARAMETER(FoundObject);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ObReferenceObjectByName - the object ObjectName names, referenced (ObpLookupObjectName
 * from the root with Attributes, checking ObjectType). IRQL PASSIVE_LEVEL. *Object NULL on
 * failure. Access is not checked (objects here carry no security descriptor).
 */
NTSTATUS ObReferenceObjectByName(PSTRING ObjectName, ULONG Attributes, ACCESS_MASK DesiredAccess,
                                 POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode, PVOID *Object)
{
    /* LAB 06: ObReferenceObjectByName - see the contract above. */
    UNREFERENCED_PARAMETER(ObjectName);
    UNREFERENCED_PARAMETER(Attributes);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(Object);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ObOpenObjectByName - a handle to the object ObjectAttributes names (its RootDirectory,
 * ObjectName and Attributes: OBJ_CASE_INSENSITIVE, OBJ_OPENLINK, OBJ_INHERIT,
 * OBJ_KERNEL_HANDLE). Contract: IRQL PASSIVE_LEVEL. The lookup's reference goes to the
 * handle (ObpCreateHandle, reason ObOpenHandle, DesiredAccess). *Handle NULL on failure
 * and no reference left behind: the lookup's status (STATUS_OBJECT_NAME_NOT_FOUND,
 * STATUS_OBJECT_TYPE_MISMATCH...) or the handle's.
 */
NTSTATUS ObOpenObjectByName(POBJECT_ATTRIBUTES ObjectAttributes, POBJECT_TYPE ObjectType,
                            KPROCESSOR_MODE AccessMode, ACCESS_MASK DesiredAccess, PHANDLE Handle)
{
    /* LAB 06: ObOpenObjectByName - see the contract above. */
    UNREFERENCED_PARAMETER(ObjectAttributes);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(Handle);
    return STATUS_NOT_IMPLEMENTED;
}
