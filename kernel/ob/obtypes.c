/* obtypes.c - the object manager's framework side: object types (created by the framework
 * so that a stubbed lab 06 still has them), name hashing and comparison, the namespace
 * (built on first use with lab 06's routines), and the Nt wrappers over lab 06. */
#include "ob.h"
#include "ps.h"
#include "rtl.h"

POBJECT_TYPE ObpTypeObjectType, ObpDirectoryObjectType, ObpSymbolicLinkObjectType;
POBJECT_TYPE PsProcessType, PsThreadType;
POBJECT_TYPE ExEventObjectType, ExSemaphoreObjectType, ExMutantObjectType, ExTimerObjectType;
POBJECT_TYPE ObpObjectTypes[OB_MAX_TYPES];
ULONG ObpObjectTypeCount;
POBJECT_DIRECTORY ObpRootDirectoryObject;

/* A type object: [name info][header][OBJECT_TYPE] (the type is the header's body), static,
 * never freed (permanent). */
#define OBP_TYPE_STORAGE_SIZE \
    ALIGN_UP(sizeof(OBJECT_HEADER_NAME_INFO) + offsetof(OBJECT_HEADER, Body) + sizeof(OBJECT_TYPE), 16)
static UCHAR ObpTypeStorage[OB_MAX_TYPES][OBP_TYPE_STORAGE_SIZE] __attribute__((aligned(16)));

VOID RtlInitString(PSTRING String, PCSTR Source)
{
    SIZE_T n = Source ? strlen(Source) : 0;
    String->Buffer = (PCHAR)Source;
    String->Length = (USHORT)n;
    String->MaximumLength = (USHORT)(Source ? n + 1 : 0);
}

static CHAR ObpUpcase(CHAR c)
{
    return (c >= 'a' && c <= 'z') ? (CHAR)(c - 'a' + 'A') : c;
}

ULONG ObpHashName(PCSTR Name, ULONG Length)
{
    ULONG h = 0;
    for (ULONG i = 0; i < Length; i++)
        h = h * 31 + (UCHAR)ObpUpcase(Name[i]);
    return h;
}

BOOLEAN ObpEqualNames(PCSTR A, ULONG ALength, PCSTR B, ULONG BLength, BOOLEAN CaseInsensitive)
{
    if (ALength != BLength)
        return FALSE;
    for (ULONG i = 0; i < ALength; i++)
        if (CaseInsensitive ? ObpUpcase(A[i]) != ObpUpcase(B[i]) : A[i] != B[i])
            return FALSE;
    return TRUE;
}

NTSTATUS ObCreateObjectType(PCSTR Name, POBJECT_TYPE_INITIALIZER Initializer, POBJECT_TYPE *ObjectType)
{
    *ObjectType = NULL;
    if (ObpObjectTypeCount >= OB_MAX_TYPES || strlen(Name) >= sizeof(((POBJECT_TYPE)0)->Name))
        return STATUS_INSUFFICIENT_RESOURCES;
    PUCHAR block = ObpTypeStorage[ObpObjectTypeCount];
    RtlZeroMemory(block, OBP_TYPE_STORAGE_SIZE);
    POBJECT_HEADER_NAME_INFO ni = (POBJECT_HEADER_NAME_INFO)block;
    POBJECT_HEADER h = (POBJECT_HEADER)(block + sizeof(OBJECT_HEADER_NAME_INFO));
    POBJECT_TYPE type = (POBJECT_TYPE)&h->Body;
    SIZE_T n = strlen(Name);
    RtlCopyMemory(ni->NameBuffer, Name, n);
    ni->Name.Buffer = ni->NameBuffer;
    ni->Name.Length = (USHORT)n;
    ni->Name.MaximumLength = OB_MAX_NAME;
    h->PointerCount = 1; /* the type's own, never dropped */
    h->HandleCount = 0;
    h->Type = ObpTypeObjectType ? ObpTypeObjectType : type; /* "Type" is its own type */
    h->NameInfoOffset = sizeof(OBJECT_HEADER_NAME_INFO);
    h->Flags = OB_FLAG_PERMANENT;
    h->Signature = OB_HEADER_SIGNATURE;
    RtlCopyMemory(type->Name, Name, n + 1);
    type->Index = ObpObjectTypeCount;
    type->TypeInfo = *Initializer;
    if (!type->TypeInfo.PoolTag)
        type->TypeInfo.PoolTag = POOL_TAG('O', 'b', 'j', ' ');
    ObpObjectTypes[ObpObjectTypeCount++] = type;
    if (ObpTypeObjectType)
        ObpTypeObjectType->TotalNumberOfObjects++;
    *ObjectType = type;
    return STATUS_SUCCESS;
}

/* The thread type's delete method: the thread has ended; free its stack and slot. */
static VOID PspDeleteThread(PVOID Object)
{
    PETHREAD t = Object;
    if (t->Tcb)
        KeJoinThread(t->Tcb);
    if (t->ThreadListEntry.Flink)
        RemoveEntryList(&t->ThreadListEntry);
}

static VOID PspDeleteProcess(PVOID Object)
{
    PEPROCESS p = Object;
    PspDeleteUserProcess(p); /* lab 08: its threads joined, its address space freed */
    if (p->ObjectTable)
        ExDestroyHandleTable(p->ObjectTable);
    p->ObjectTable = NULL;
    if (p->ActiveProcessLinks.Flink)
        RemoveEntryList(&p->ActiveProcessLinks);
}

static VOID ObpDeleteDirectory(PVOID Object)
{
    UNREFERENCED_PARAMETER(Object); /* a directory deleted while not empty keeps nothing alive */
}

/* Creates the framework's types. Runs at boot, before any test; calls no student code. */
VOID ObInitSystem(VOID)
{
    static BOOLEAN done;
    if (done)
        return;
    done = TRUE;
    OBJECT_TYPE_INITIALIZER init;
    RtlZeroMemory(&init, sizeof(init));
    init.PoolType = NonPagedPool;
    init.ValidAccessMask = 0x001F0001;
    ObCreateObjectType("Type", &init, &ObpTypeObjectType);
    ObpTypeObjectType->TotalNumberOfObjects = 1;
    init.ValidAccessMask = DIRECTORY_ALL_ACCESS;
    init.PoolTag = POOL_TAG('D', 'i', 'r', 'e');
    init.DeleteProcedure = ObpDeleteDirectory;
    ObCreateObjectType("Directory", &init, &ObpDirectoryObjectType);
    init.ValidAccessMask = SYMBOLIC_LINK_ALL_ACCESS;
    init.PoolTag = POOL_TAG('S', 'y', 'm', 'b');
    init.DeleteProcedure = NULL;
    ObCreateObjectType("SymbolicLink", &init, &ObpSymbolicLinkObjectType);
    init.ValidAccessMask = PROCESS_ALL_ACCESS;
    init.PoolTag = POOL_TAG('P', 'r', 'o', 'c');
    init.DeleteProcedure = PspDeleteProcess;
    ObCreateObjectType("Process", &init, &PsProcessType);
    init.ValidAccessMask = THREAD_ALL_ACCESS;
    init.PoolTag = POOL_TAG('T', 'h', 'r', 'e');
    init.DeleteProcedure = PspDeleteThread;
    ObCreateObjectType("Thread", &init, &PsThreadType);
    init.DeleteProcedure = NULL;
    init.ValidAccessMask = EVENT_ALL_ACCESS;
    init.PoolTag = POOL_TAG('E', 'v', 'e', 'n');
    ObCreateObjectType("Event", &init, &ExEventObjectType);
    init.PoolTag = POOL_TAG('S', 'e', 'm', 'a');
    init.ValidAccessMask = SEMAPHORE_ALL_ACCESS;
    ObCreateObjectType("Semaphore", &init, &ExSemaphoreObjectType);
    init.PoolTag = POOL_TAG('M', 'u', 't', 'a');
    init.ValidAccessMask = MUTANT_ALL_ACCESS;
    ObCreateObjectType("Mutant", &init, &ExMutantObjectType);
    init.ValidAccessMask = TIMER_ALL_ACCESS;
    init.PoolTag = POOL_TAG('T', 'i', 'm', 'e');
    ObCreateObjectType("Timer", &init, &ExTimerObjectType);
}

static NTSTATUS ObpCreateNamed(POBJECT_TYPE Type, PCSTR Name, ULONG Attributes, ULONG BodySize, PVOID *Object)
{
    STRING name;
    RtlInitString(&name, Name);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, Attributes | OBJ_PERMANENT | OBJ_KERNEL_HANDLE, NULL);
    PVOID body;
    *Object = NULL;
    NTSTATUS status = ObCreateObject(KernelMode, Type, &oa, BodySize, &body);
    if (!NT_SUCCESS(status))
        return status;
    RtlZeroMemory(body, BodySize);
    *Object = body;
    return STATUS_SUCCESS;
}

/* Inserts a fresh named permanent object and closes the handle: the name keeps it. */
static NTSTATUS ObpInsertPermanent(PVOID Body, PVOID *Object)
{
    HANDLE h;
    NTSTATUS status = ObInsertObject(Body, 0, OBJ_KERNEL_HANDLE, &h);
    if (!NT_SUCCESS(status))
        return status;
    if (status == STATUS_OBJECT_NAME_EXISTS) {
        /* OBJ_OPENIF found one: use it (referenced by the handle until closed). */
        PVOID found;
        status = ObReferenceObjectByHandle(h, 0, NULL, KernelMode, &found, NULL);
        ObCloseHandle(h, KernelMode);
        if (!NT_SUCCESS(status))
            return status;
        ObDereferenceObject(found); /* the name holds it: permanent */
        *Object = found;
        return STATUS_OBJECT_NAME_EXISTS;
    }
    *Object = Body;
    return ObCloseHandle(h, KernelMode);
}

NTSTATUS ObpCreateDirectory(PCSTR Name, ULONG Attributes, POBJECT_DIRECTORY *Directory)
{
    PVOID body;
    NTSTATUS status = ObpCreateNamed(ObpDirectoryObjectType, Name, Attributes, sizeof(OBJECT_DIRECTORY), &body);
    if (!NT_SUCCESS(status))
        return status;
    return ObpInsertPermanent(body, (PVOID *)Directory);
}

NTSTATUS ObpCreateSymbolicLink(PCSTR Name, PCSTR Target, ULONG Attributes, POBJECT_SYMBOLIC_LINK *Link)
{
    PVOID body;
    SIZE_T n = strlen(Target);
    if (n >= sizeof(((POBJECT_SYMBOLIC_LINK)0)->TargetBuffer))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = ObpCreateNamed(ObpSymbolicLinkObjectType, Name, Attributes, sizeof(OBJECT_SYMBOLIC_LINK), &body);
    if (!NT_SUCCESS(status))
        return status;
    POBJECT_SYMBOLIC_LINK l = body;
    RtlCopyMemory(l->TargetBuffer, Target, n + 1);
    l->LinkTarget.Buffer = l->TargetBuffer;
    l->LinkTarget.Length = (USHORT)n;
    l->LinkTarget.MaximumLength = sizeof(l->TargetBuffer);
    return ObpInsertPermanent(body, (PVOID *)Link);
}

NTSTATUS ObpInitializeNamespace(VOID)
{
    if (ObpRootDirectoryObject)
        return STATUS_SUCCESS;
    ObInitSystem();
    NTSTATUS status = PsInitializeObjects();
    if (!NT_SUCCESS(status))
        return status;
    /* The root: unnamed, kept by its creation reference for good. */
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_PERMANENT, NULL);
    PVOID root;
    status = ObCreateObject(KernelMode, ObpDirectoryObjectType, &oa, sizeof(OBJECT_DIRECTORY), &root);
    if (!NT_SUCCESS(status))
        return status;
    RtlZeroMemory(root, sizeof(OBJECT_DIRECTORY));
    ObpRootDirectoryObject = root;
    POBJECT_DIRECTORY types, dir;
    status = ObpCreateDirectory("\\ObjectTypes", 0, &types);
    if (!NT_SUCCESS(status))
        goto fail;
    for (ULONG i = 0; i < ObpObjectTypeCount; i++) {
        POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(ObpObjectTypes[i]);
        POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
        if (ni->Directory)
            continue;
        status = ObpInsertDirectoryEntry(types, ObpObjectTypes[i]);
        if (!NT_SUCCESS(status))
            goto fail;
        ni->Directory = types;
        h->PointerCount++; /* the directory entry's reference */
    }
    static const PCSTR dirs[] = {"\\??", "\\Device", "\\BaseNamedObjects", "\\KernelObjects"};
    for (ULONG i = 0; i < ARRAYSIZE(dirs); i++) {
        status = ObpCreateDirectory(dirs[i], 0, &dir);
        if (!NT_SUCCESS(status))
            goto fail;
    }
    POBJECT_SYMBOLIC_LINK link;
    status = ObpCreateSymbolicLink("\\DosDevices", "\\??", 0, &link);
    if (!NT_SUCCESS(status))
        goto fail;
    return STATUS_SUCCESS;
fail:
    ObpRootDirectoryObject = NULL; /* the next use tries again */
    return status;
}

/* ---- Nt wrappers (system services of lab 09 will call these) ---- */
NTSTATUS NtClose(HANDLE Handle)
{
    return ObCloseHandle(Handle, UserMode);
}

NTSTATUS NtDuplicateObject(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                           PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options)
{
    PVOID source, target = NULL;
    NTSTATUS status = ObReferenceObjectByHandle(SourceProcessHandle, PROCESS_DUP_HANDLE, PsProcessType, UserMode,
                                                &source, NULL);
    if (!NT_SUCCESS(status))
        return status;
    if (TargetProcessHandle) {
        status = ObReferenceObjectByHandle(TargetProcessHandle, PROCESS_DUP_HANDLE, PsProcessType, UserMode,
                                           &target, NULL);
        if (!NT_SUCCESS(status)) {
            ObDereferenceObject(source);
            return status;
        }
    }
    status = ObDuplicateObject(source, SourceHandle, target, TargetHandle, DesiredAccess, HandleAttributes, Options,
                               UserMode);
    if (target)
        ObDereferenceObject(target);
    ObDereferenceObject(source);
    return status;
}

NTSTATUS NtMakeTemporaryObject(HANDLE Handle)
{
    PVOID object;
    NTSTATUS status = ObReferenceObjectByHandle(Handle, DELETE, NULL, UserMode, &object, NULL);
    if (!NT_SUCCESS(status))
        return status;
    ObMakeTemporaryObject(object);
    ObDereferenceObject(object);
    return STATUS_SUCCESS;
}

NTSTATUS NtSetInformationObjectHandleFlags(HANDLE Handle, POBJECT_HANDLE_FLAG_INFORMATION Flags)
{
    return ObSetHandleAttributes(Handle, Flags, UserMode);
}
