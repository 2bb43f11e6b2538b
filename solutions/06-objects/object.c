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
    UNREFERENCED_PARAMETER(ProbeMode);
    *Object = NULL;
    if (!ObjectType || !ObjectAttributes || (ObjectAttributes->Attributes & ~OBJ_VALID_ATTRIBUTES))
        return STATUS_INVALID_PARAMETER;
    PSTRING name = ObjectAttributes->ObjectName;
    if (name && name->Length == 0)
        return STATUS_INVALID_PARAMETER;
    if (name && name->Length >= OB_MAX_NAME)
        return STATUS_OBJECT_NAME_INVALID;
    SIZE_T nameInfo = name ? sizeof(OBJECT_HEADER_NAME_INFO) : 0;
    SIZE_T size = nameInfo + offsetof(OBJECT_HEADER, Body) + ObjectBodySize;
    PUCHAR block = ExAllocatePoolWithTag(ObjectType->TypeInfo.PoolType, size, ObjectType->TypeInfo.PoolTag);
    if (!block)
        return STATUS_INSUFFICIENT_RESOURCES;
    POBJECT_HEADER h = (POBJECT_HEADER)(block + nameInfo);
    h->PointerCount = 1;
    h->HandleCount = 0;
    h->Type = ObjectType;
    h->NameInfoOffset = (UCHAR)nameInfo;
    h->Flags = 0;
    if (ObjectAttributes->Attributes & OBJ_PERMANENT)
        h->Flags |= OB_FLAG_PERMANENT;
    if (ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE)
        h->Flags |= OB_FLAG_KERNEL_ONLY;
    h->Reserved = 0;
    h->Signature = OB_HEADER_SIGNATURE;
    if (name) {
        POBJECT_HEADER_NAME_INFO ni = (POBJECT_HEADER_NAME_INFO)block;
        ni->Directory = NULL;
        RtlCopyMemory(ni->NameBuffer, name->Buffer, name->Length);
        ni->NameBuffer[name->Length] = 0;
        ni->Name.Buffer = ni->NameBuffer;
        ni->Name.Length = name->Length;
        ni->Name.MaximumLength = OB_MAX_NAME;
    }
    __atomic_add_fetch(&ObjectType->TotalNumberOfObjects, 1, __ATOMIC_SEQ_CST);
    *Object = &h->Body;
    return STATUS_SUCCESS;
}

/*
 * ObReferenceObject - add one pointer reference to Object (a body). Any IRQL.
 * Returns the new PointerCount.
 */
LONG_PTR ObReferenceObject(PVOID Object)
{
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    return __atomic_add_fetch(&h->PointerCount, 1, __ATOMIC_SEQ_CST);
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
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    LONG_PTR before = h->PointerCount;
    if (before <= 0 || before - 1 < h->HandleCount)
        KeBugCheckEx(REFERENCE_BY_POINTER, (ULONG_PTR)h->Type, (ULONG_PTR)Object, (ULONG_PTR)before,
                     (ULONG_PTR)h->HandleCount);
    LONG_PTR now = __atomic_sub_fetch(&h->PointerCount, 1, __ATOMIC_SEQ_CST);
    if (now != 0)
        return now;
    POBJECT_TYPE type = h->Type;
    if (type->TypeInfo.DeleteProcedure)
        type->TypeInfo.DeleteProcedure(Object);
    __atomic_sub_fetch(&type->TotalNumberOfObjects, 1, __ATOMIC_SEQ_CST);
    h->Signature = 0;
    PVOID block = h->NameInfoOffset ? (PVOID)OBJECT_HEADER_TO_NAME_INFO(h) : (PVOID)h;
    ExFreePoolWithTag(block, type->TypeInfo.PoolTag);
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
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
    if (h->HandleCount != 0 || (h->Flags & OB_FLAG_PERMANENT) || !ni || !ni->Directory)
        return;
    ObpDeleteDirectoryEntry(ni->Directory, Object);
    ni->Directory = NULL;
    ObDereferenceObject(Object);
}

/*
 * ObMakeTemporaryObject - clear OB_FLAG_PERMANENT; then, if no handle is left, the name
 * leaves the namespace as for the last handle's close (ObpDeleteNameCheck). IRQL <=
 * APC_LEVEL. The caller's own reference keeps the object alive until it drops it.
 */
VOID ObMakeTemporaryObject(PVOID Object)
{
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    h->Flags &= (UCHAR)~OB_FLAG_PERMANENT;
    ObpDeleteNameCheck(Object);
}
