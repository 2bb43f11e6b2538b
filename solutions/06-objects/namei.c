/* namei.c - lab 06: the namespace. Directories hash their entries (NUMBER_HASH_BUCKETS
 * chains, case-insensitive hash); a lookup walks a path component by component from the
 * root (or a directory handle), follows symbolic links and hands the rest of a path to
 * an object type's parse method, restarting from the root at most
 * OBJ_MAX_REPARSE_ATTEMPTS times. */
#include "ps.h"
#include "rtl.h"

#define OBP_MAX_PATH 256

/* The name an object has in its directory (the name info's Name). */
static PSTRING ObpNameOf(PVOID Object)
{
    POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(Object));
    return ni ? &ni->Name : NULL;
}

/*
 * ObpLookupDirectoryEntry - the object named Name (one component) in Directory, or NULL.
 * Contract: IRQL <= APC_LEVEL. Searches only the chain of bucket ObpHashName(Name) %
 * NUMBER_HASH_BUCKETS; names compare with ObpEqualNames (ignoring case when
 * CaseInsensitive). Adds no reference and changes nothing.
 */
PVOID ObpLookupDirectoryEntry(POBJECT_DIRECTORY Directory, PSTRING Name, BOOLEAN CaseInsensitive)
{
    ULONG hash = ObpHashName(Name->Buffer, Name->Length);
    for (POBJECT_DIRECTORY_ENTRY e = Directory->HashBuckets[hash % NUMBER_HASH_BUCKETS]; e; e = e->ChainLink) {
        PSTRING n = ObpNameOf(e->Object);
        if (e->HashValue == hash && n && ObpEqualNames(n->Buffer, n->Length, Name->Buffer, Name->Length,
                                                       CaseInsensitive))
            return e->Object;
    }
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
    PSTRING n = ObpNameOf(Object);
    if (!n)
        return STATUS_OBJECT_NAME_INVALID;
    POBJECT_DIRECTORY_ENTRY e = ExAllocatePoolWithTag(NonPagedPool, sizeof(*e), OB_DIRECTORY_ENTRY_TAG);
    if (!e)
        return STATUS_INSUFFICIENT_RESOURCES;
    e->Object = Object;
    e->HashValue = ObpHashName(n->Buffer, n->Length);
    ULONG b = e->HashValue % NUMBER_HASH_BUCKETS;
    e->ChainLink = Directory->HashBuckets[b];
    Directory->HashBuckets[b] = e;
    Directory->EntryCount++;
    return STATUS_SUCCESS;
}

/*
 * ObpDeleteDirectoryEntry - take Object's entry out of Directory (the entry whose Object
 * is this one, in its bucket) and free it; EntryCount drops by 1. IRQL <= APC_LEVEL.
 * Drops no reference. STATUS_NOT_FOUND (nothing changed) if Object is not in Directory.
 */
NTSTATUS ObpDeleteDirectoryEntry(POBJECT_DIRECTORY Directory, PVOID Object)
{
    PSTRING n = ObpNameOf(Object);
    if (!n)
        return STATUS_NOT_FOUND;
    ULONG b = ObpHashName(n->Buffer, n->Length) % NUMBER_HASH_BUCKETS;
    for (POBJECT_DIRECTORY_ENTRY *link = &Directory->HashBuckets[b]; *link; link = &(*link)->ChainLink) {
        POBJECT_DIRECTORY_ENTRY e = *link;
        if (e->Object == Object) {
            *link = e->ChainLink;
            Directory->EntryCount--;
            ExFreePoolWithTag(e, OB_DIRECTORY_ENTRY_TAG);
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NOT_FOUND;
}

/* Path = Prefix + Rest (Rest may be empty). FALSE if it does not fit. */
static BOOLEAN ObpJoin(PCHAR Path, PCSTR Prefix, ULONG PrefixLength, PCSTR Rest, ULONG RestLength)
{
    if (PrefixLength + RestLength + 1 > OBP_MAX_PATH)
        return FALSE;
    CHAR tmp[OBP_MAX_PATH];
    RtlCopyMemory(tmp, Prefix, PrefixLength);
    RtlCopyMemory(tmp + PrefixLength, Rest, RestLength);
    tmp[PrefixLength + RestLength] = 0;
    RtlCopyMemory(Path, tmp, PrefixLength + RestLength + 1);
    return TRUE;
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
    *FoundObject = NULL;
    BOOLEAN ci = (Attributes & OBJ_CASE_INSENSITIVE) != 0;
    CHAR path[OBP_MAX_PATH];
    ULONG length = ObjectName ? ObjectName->Length : 0;
    if (length == 0 || length >= OBP_MAX_PATH)
        return length ? STATUS_OBJECT_NAME_INVALID : STATUS_OBJECT_PATH_SYNTAX_BAD;
    RtlCopyMemory(path, ObjectName->Buffer, length);
    path[length] = 0;
    POBJECT_DIRECTORY start = ObpRootDirectoryObject;
    ULONG pos = 1;
    if (RootDirectoryHandle) {
        PVOID d;
        if (path[0] == '\\')
            return STATUS_OBJECT_PATH_SYNTAX_BAD;
        NTSTATUS status = ObReferenceObjectByHandle(RootDirectoryHandle, DIRECTORY_TRAVERSE, ObpDirectoryObjectType,
                                                    KernelMode, &d, NULL);
        if (!NT_SUCCESS(status))
            return status;
        ObDereferenceObject(d); /* the handle keeps it alive during the lookup */
        start = d;
        pos = 0;
    } else if (path[0] != '\\' || !start) {
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    }
    ULONG reparses = 0;
    POBJECT_DIRECTORY dir = start;
    for (;;) {
        length = (ULONG)strlen(path);
        if (pos >= length) { /* "\": the root */
            if (InsertObject)
                return STATUS_OBJECT_NAME_COLLISION;
            if (ObjectType && ObjectType != ObpDirectoryObjectType)
                return STATUS_OBJECT_TYPE_MISMATCH;
            ObReferenceObject(dir);
            *FoundObject = dir;
            return STATUS_SUCCESS;
        }
        ULONG end = pos;
        while (end < length && path[end] != '\\')
            end++;
        if (end == pos)
            return STATUS_OBJECT_NAME_INVALID;
        BOOLEAN last = end == length;
        if (!last && end + 1 == length)
            return STATUS_OBJECT_NAME_INVALID; /* a trailing '\' */
        STRING component = {(USHORT)(end - pos), (USHORT)(end - pos), &path[pos]};
        PVOID object = ObpLookupDirectoryEntry(dir, &component, ci);
        if (!object) {
            if (!last)
                return STATUS_OBJECT_PATH_NOT_FOUND;
            if (!InsertObject)
                return STATUS_OBJECT_NAME_NOT_FOUND;
            POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(InsertObject));
            if (!ni)
                return STATUS_OBJECT_NAME_INVALID;
            RtlCopyMemory(ni->NameBuffer, component.Buffer, component.Length);
            ni->NameBuffer[component.Length] = 0;
            ni->Name.Buffer = ni->NameBuffer;
            ni->Name.Length = component.Length;
            NTSTATUS status = ObpInsertDirectoryEntry(dir, InsertObject);
            if (!NT_SUCCESS(status))
                return status;
            ni->Directory = dir;
            ObReferenceObject(InsertObject); /* the directory entry's */
            ObReferenceObject(InsertObject); /* the caller's */
            *FoundObject = InsertObject;
            return STATUS_SUCCESS;
        }
        POBJECT_TYPE type = OBJECT_TO_OBJECT_HEADER(object)->Type;
        if (type == ObpSymbolicLinkObjectType && (!last || !(Attributes & OBJ_OPENLINK))) {
            if (++reparses > OBJ_MAX_REPARSE_ATTEMPTS)
                return STATUS_REPARSE_POINT_NOT_RESOLVED;
            PSTRING target = &((POBJECT_SYMBOLIC_LINK)object)->LinkTarget;
            if (target->Length == 0 || target->Buffer[0] != '\\')
                return STATUS_OBJECT_PATH_SYNTAX_BAD;
            if (!ObpJoin(path, target->Buffer, target->Length, &path[end], length - end))
                return STATUS_OBJECT_NAME_INVALID;
            dir = ObpRootDirectoryObject;
            pos = 1;
            continue;
        }
        if (last) {
            if (InsertObject) {
                if (!(Attributes & OBJ_OPENIF))
                    return STATUS_OBJECT_NAME_COLLISION;
                if (type != OBJECT_TO_OBJECT_HEADER(InsertObject)->Type)
                    return STATUS_OBJECT_TYPE_MISMATCH;
                ObReferenceObject(object);
                *FoundObject = object;
                return STATUS_OBJECT_NAME_EXISTS;
            }
            if (ObjectType && type != ObjectType)
                return STATUS_OBJECT_TYPE_MISMATCH;
            ObReferenceObject(object);
            *FoundObject = object;
            return STATUS_SUCCESS;
        }
        if (type == ObpDirectoryObjectType) {
            dir = object;
            pos = end + 1;
            continue;
        }
        if (!type->TypeInfo.ParseProcedure)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        STRING complete = {(USHORT)length, OBP_MAX_PATH, path};
        STRING rest = {(USHORT)(length - end - 1), (USHORT)(length - end - 1), &path[end + 1]};
        PVOID parsed = NULL;
        NTSTATUS status = type->TypeInfo.ParseProcedure(object, ObjectType, 0, Attributes, &complete, &rest, &parsed);
        if (status == STATUS_REPARSE) {
            if (++reparses > OBJ_MAX_REPARSE_ATTEMPTS)
                return STATUS_REPARSE_POINT_NOT_RESOLVED;
            if (complete.Length == 0 || complete.Length >= OBP_MAX_PATH || complete.Buffer[0] != '\\')
                return STATUS_OBJECT_PATH_SYNTAX_BAD;
            if (complete.Buffer != path)
                RtlCopyMemory(path, complete.Buffer, complete.Length);
            path[complete.Length] = 0;
            dir = ObpRootDirectoryObject;
            pos = 1;
            continue;
        }
        if (NT_SUCCESS(status))
            *FoundObject = parsed;
        return status;
    }
}

/*
 * ObReferenceObjectByName - the object ObjectName names, referenced (ObpLookupObjectName
 * from the root with Attributes, checking ObjectType). IRQL PASSIVE_LEVEL. *Object NULL on
 * failure. Access is not checked (objects here carry no security descriptor).
 */
NTSTATUS ObReferenceObjectByName(PSTRING ObjectName, ULONG Attributes, ACCESS_MASK DesiredAccess,
                                 POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode, PVOID *Object)
{
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(AccessMode);
    return ObpLookupObjectName(NULL, ObjectName, Attributes, ObjectType, NULL, Object);
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
    UNREFERENCED_PARAMETER(AccessMode);
    *Handle = NULL;
    PVOID object;
    NTSTATUS status = ObpLookupObjectName(ObjectAttributes->RootDirectory, ObjectAttributes->ObjectName,
                                          ObjectAttributes->Attributes, ObjectType, NULL, &object);
    if (!NT_SUCCESS(status))
        return status;
    status = ObpCreateHandle(ObOpenHandle, PsGetCurrentProcess(), object, DesiredAccess, ObjectAttributes->Attributes,
                             Handle);
    if (!NT_SUCCESS(status))
        ObDereferenceObject(object);
    return status;
}
