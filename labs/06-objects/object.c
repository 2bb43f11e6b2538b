/* object.c - lab 06: objects. ObCreateObject lays out [name info][OBJECT_HEADER][body] in
 * one pool block; ObReferenceObject/ObDereferenceObject count pointer references and run
 * the type's delete method exactly once, when the last one goes; a temporary named object
 * leaves the namespace when its last handle closes, a permanent one keeps its name. */
#include "bugcodes.h"
#include "ob.h"
#include "rtl.h"

/*
 * ObCreateObject - allocate an object of ObjectType with a body of ObjectBodySize bytes.
 * Contract: IRQL <= APC_LEVEL. One block from the type's pool (TypeInfo.PoolType, tagged
 * TypeInfo.PoolTag) holds, in order: an OBJECT_HEADER_NAME_INFO if ObjectAttributes names
 * the object (ObjectName not NULL), the OBJECT_HEADER, the body. The header gets
 * PointerCount 1 (the caller's reference), HandleCount 0, Type, Signature
 * OB_HEADER_SIGNATURE, NameInfoOffset (bytes from the name info to the header, 0 if
 * unnamed), Flags OB_FLAG_PERMANENT if OBJ_PERMANENT is in the attributes and
 * OB_FLAG_KERNEL_ONLY if OBJ_KERNEL_HANDLE is. The name info gets a copy of the name
 * (Name.Buffer = NameBuffer, Length, MaximumLength OB_MAX_NAME) and Directory NULL (the
 * name enters a directory in ObInsertObject). The type's TotalNumberOfObjects grows by 1.
 * *Object = the body (its contents are the caller's to fill). Errors, with *Object NULL
 * and nothing allocated or counted: STATUS_INVALID_PARAMETER for a NULL type or
 * attributes, attributes outside OBJ_VALID_ATTRIBUTES, or an empty name;
 * STATUS_OBJECT_NAME_INVALID for a name of OB_MAX_NAME bytes or more;
 * STATUS_INSUFFICIENT_RESOURCES when the pool is empty.
 */
NTSTATUS ObCreateObject(KPROCESSOR_MODE ProbeMode, POBJECT_TYPE ObjectType, POBJECT_ATTRIBUTES ObjectAttributes,
                        ULONG ObjectBodySize, PVOID *Object)
{
    /* LAB 06: ObCreateObject - see the contract above. */
    UNREFERENCED_PARAMETER(ProbeMode);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(ObjectAttributes);
    UNREFERENCED_PARAMETER(ObjectBodySize);
    UNREFERENCED_PARAMETER(Object);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ObReferenceObject - add one pointer reference to Object (a body). Any IRQL.
 * Returns the new PointerCount.
 */
LONG_PTR ObReferenceObject(PVOID Object)
{
    /* LAB 06: ObReferenceObject - see the contract above. */
    UNREFERENCED_PARAMETER(Object);
    KeNotImplemented("ObReferenceObject", "lab 06");
    return 0;
}

/*
 * ObDereferenceObject - drop one pointer reference. Contract: IRQL <= APC_LEVEL when it
 * may be the last. A reference the object does not have (PointerCount already 0, or
 * fewer pointer references than handles after the drop) bugchecks REFERENCE_BY_POINTER
 * (p1 the type, p2 the object, p3 the PointerCount before, p4 the HandleCount).
 * When PointerCount reaches 0: the type's DeleteProcedure(Object) runs, exactly once;
 * then the type's TotalNumberOfObjects drops by 1, the Signature is cleared and the
 * block (from its start: the name info, if any) is freed with the type's tag.
 * Returns the new PointerCount.
 */
LONG_PTR ObDereferenceObject(PVOID Object)
{
    /* LAB 06: ObDereferenceObject - see the contract above. */
    UNREFERENCED_PARAMETER(Object);
    KeNotImplemented("ObDereferenceObject", "lab 06");
    return 0;
}

/*
 * ObpDeleteNameCheck - called with no handle left (HandleCount 0): a temporary object
 * whose name is in a directory leaves the namespace. Contract: IRQL <= APC_LEVEL. If
 * HandleCount is 0, OB_FLAG_PERMANENT is clear and the name info's Directory is set: the
 * directory entry is removed (ObpDeleteDirectoryEntry), Directory becomes NULL, and the
 * reference the entry held is dropped (which may delete the object). Otherwise nothing.
 */
VOID ObpDeleteNameCheck(PVOID Object)
{
    /* LAB 06: ObpDeleteNameCheck - see the contract above. */
    UNREFERENCED_PARAMETER(Object);
    KeNotImplemented("ObpDeleteNameCheck", "lab 06");
}

/*
 * ObMakeTemporaryObject - clear OB_FLAG_PERMANENT; then, if no handle is left, the name
 * leaves the namespace as for the last handle's close (ObpDeleteNameCheck). IRQL <=
 * APC_LEVEL. The caller's own reference keeps the object alive until it drops it.
 */
VOID ObMakeTemporaryObject(PVOID Object)
{
    /* LAB 06: ObMakeTemporaryObject - see the contract above. */
    UNREFERENCED_PARAMETER(Object);
    KeNotImplemented("ObMakeTemporaryObject", "lab 06");
}
