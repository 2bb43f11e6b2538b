/* sectnt.c - the section system services of lab 08 (framework, pf part): NtCreateSection,
 * NtMapViewOfSection, NtUnmapViewOfSection, and the kernel-mode MmMapViewOfSection /
 * MmUnmapViewOfSection under them. A section object ("Section", an object of lab 06's
 * manager) holds the student's MM_SECTION; its delete method drops the section's reference
 * (MmCloseSection). The services probe and capture user pointers (a bad one is
 * STATUS_ACCESS_VIOLATION, never a bugcheck), reference the process handle (-1 is the
 * current process) and call the student's routines with the process attached and its
 * AddressCreationLock held. Only pagefile-backed sections (FileHandle NULL, SEC_COMMIT). */
#include "ex.h"
#include "kuser.h"
#include "mmpf.h"
#include "ps.h"
#include "rtl.h"

#define SECTION_QUERY 0x0001
#define SECTION_MAP_WRITE 0x0002
#define SECTION_MAP_READ 0x0004
#define SECTION_MAP_EXECUTE 0x0008
#define SECTION_ALL_ACCESS 0x000F001F
#define SEC_COMMIT 0x08000000
#ifndef PROCESS_VM_OPERATION
#define PROCESS_VM_OPERATION 0x0008
#endif
#ifndef STATUS_INVALID_FILE_FOR_SECTION
#define STATUS_INVALID_FILE_FOR_SECTION ((NTSTATUS)0xC0000020L)
#endif

POBJECT_TYPE MmSectionObjectType;


static VOID MiDeleteSectionObject(PVOID Object)
{
    PMI_SECTION_OBJECT o = Object;
    if (o->Section != NULL)
        MmCloseSection(o->Section);
    o->Section = NULL;
}

static NTSTATUS MiInitializeSectionType(VOID)
{
    NTSTATUS status = PsInitializeObjects();
    if (!NT_SUCCESS(status) || MmSectionObjectType != NULL)
        return status;
    OBJECT_TYPE_INITIALIZER init;
    RtlZeroMemory(&init, sizeof(init));
    init.ValidAccessMask = SECTION_ALL_ACCESS;
    init.PoolType = NonPagedPool;
    init.PoolTag = POOL_TAG('S', 'e', 'c', 't');
    init.DeleteProcedure = MiDeleteSectionObject;
    return ObCreateObjectType("Section", &init, &MmSectionObjectType);
}

/* Views of a process still mapped when its address space goes (vm's MmDeleteProcessAddressSpace
 * calls this first): each is unmapped, so the section's frames stay the section's. */
VOID MiUnmapAllViews(PMMADDRESS_SPACE Space)
{
    for (ULONG guard = 0; guard < 4096; guard++) {
        PMMVAD view = NULL;
        for (PMMVAD v = MiGetFirstVad(&Space->VadRoot); v != NULL; v = MiGetNextVad(v))
            if (v->u.VadFlags.VadType == VadMappedView) {
                view = v;
                break;
            }
        if (view == NULL || !NT_SUCCESS(MiUnmapViewOfSection(Space, (PVOID)MI_VPN_TO_VA(view->StartingVpn))))
            return;
    }
}

/* Attach to Process and take its lock (as vmsvc.c does for virtual memory). */
static NTSTATUS MiBeginSectionCall(PEPROCESS Process, PMMADDRESS_SPACE *Space, BOOLEAN *Attached)
{
    *Space = Process ? Process->AddressSpace : NULL;
    *Attached = FALSE;
    if (*Space == NULL || (*Space)->Tag != MI_ADDRESS_SPACE_TAG || (*Space)->Deleting)
        return STATUS_INVALID_PARAMETER_2;
    if (PsGetCurrentProcess() != Process) {
        KeStackAttachProcess(Process);
        *Attached = TRUE;
    }
    KeAcquireGuardedMutex(&(*Space)->AddressCreationLock);
    return STATUS_SUCCESS;
}

static VOID MiEndSectionCall(PMMADDRESS_SPACE Space, BOOLEAN Attached)
{
    KeReleaseGuardedMutex(&Space->AddressCreationLock);
    if (Attached)
        KeUnstackDetachProcess();
}

NTSTATUS MmMapViewOfSection(PMM_SECTION Section, PEPROCESS Process, PVOID *BaseAddress, ULONG64 SectionOffset,
                            PSIZE_T ViewSize, ULONG Win32Protect)
{
    PMMADDRESS_SPACE space;
    BOOLEAN attached;
    NTSTATUS status = MiBeginSectionCall(Process, &space, &attached);
    if (!NT_SUCCESS(status))
        return status;
    status = MiMapViewOfSection(space, Section, BaseAddress, SectionOffset, ViewSize, Win32Protect);
    MiEndSectionCall(space, attached);
    return status;
}

NTSTATUS MmUnmapViewOfSection(PEPROCESS Process, PVOID BaseAddress)
{
    PMMADDRESS_SPACE space;
    BOOLEAN attached;
    NTSTATUS status = MiBeginSectionCall(Process, &space, &attached);
    if (!NT_SUCCESS(status))
        return status;
    status = MiUnmapViewOfSection(space, BaseAddress);
    MiEndSectionCall(space, attached);
    return status;
}

static NTSTATUS MiReferenceProcessForVm(HANDLE ProcessHandle, PEPROCESS *Process)
{
    if (ProcessHandle == NtCurrentProcess()) {
        *Process = PsGetCurrentProcess();
        if (*Process == NULL)
            return STATUS_INVALID_HANDLE;
        ObReferenceObject(*Process);
        return STATUS_SUCCESS;
    }
    return ObReferenceObjectByHandle(ProcessHandle, PROCESS_VM_OPERATION, PsProcessType, ExGetPreviousMode(),
                                     (PVOID *)Process, NULL);
}

static NTSTATUS MiCapture(KPROCESSOR_MODE Mode, PVOID Pointer, PVOID Value, SIZE_T Length, BOOLEAN Write)
{
    if (Mode == KernelMode) {
        RtlCopyMemory(Value, Pointer, Length);
        return STATUS_SUCCESS;
    }
    NTSTATUS status = Write ? ProbeForWrite(Pointer, Length, (ULONG)Length) : ProbeForRead(Pointer, Length, (ULONG)Length);
    return NT_SUCCESS(status) ? KeCopyFromUser(Value, Pointer, Length) : status;
}

static NTSTATUS MiGiveBack(KPROCESSOR_MODE Mode, PVOID Pointer, const VOID *Value, SIZE_T Length)
{
    if (Mode == KernelMode) {
        RtlCopyMemory(Pointer, Value, Length);
        return STATUS_SUCCESS;
    }
    return KeCopyToUser(Pointer, Value, Length);
}

NTSTATUS NtCreateSection(PHANDLE SectionHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                         PLARGE_INTEGER MaximumSize, ULONG SectionPageProtection, ULONG AllocationAttributes,
                         HANDLE FileHandle)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    if (FileHandle != NULL)
        return STATUS_INVALID_FILE_FOR_SECTION;
    if (AllocationAttributes != SEC_COMMIT)
        return STATUS_INVALID_PARAMETER_6;
    if (ObjectAttributes != NULL && mode != KernelMode)
        return STATUS_INVALID_PARAMETER_3; /* unnamed sections only */
    if (MaximumSize == NULL)
        return STATUS_INVALID_PARAMETER_4;
    HANDLE h = NULL;
    NTSTATUS status = MiCapture(mode, SectionHandle, &h, sizeof(h), TRUE);
    LARGE_INTEGER size;
    if (NT_SUCCESS(status))
        status = MiCapture(mode, MaximumSize, &size, sizeof(size), FALSE);
    if (!NT_SUCCESS(status))
        return status;
    if (size.QuadPart <= 0)
        return STATUS_INVALID_PARAMETER_4;
    status = MiInitializeSectionType();
    if (!NT_SUCCESS(status))
        return status;
    PMM_SECTION section;
    status = MmCreateSection(&section, (ULONG64)size.QuadPart, SectionPageProtection);
    if (!NT_SUCCESS(status))
        return status;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, 0, NULL);
    PVOID body;
    status = ObCreateObject(mode, MmSectionObjectType, &oa, sizeof(MI_SECTION_OBJECT), &body);
    if (!NT_SUCCESS(status)) {
        MmCloseSection(section);
        return status;
    }
    ((PMI_SECTION_OBJECT)body)->Section = section;
    status = ObInsertObject(body, DesiredAccess, mode == KernelMode ? OBJ_KERNEL_HANDLE : 0, &h);
    if (!NT_SUCCESS(status))
        return status;
    status = MiGiveBack(mode, SectionHandle, &h, sizeof(h));
    if (!NT_SUCCESS(status))
        ObCloseHandle(h, mode);
    return status;
}

NTSTATUS NtMapViewOfSection(HANDLE SectionHandle, HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                            SIZE_T CommitSize, PLARGE_INTEGER SectionOffset, PSIZE_T ViewSize, ULONG InheritDisposition,
                            ULONG AllocationType, ULONG Win32Protect)
{
    UNREFERENCED_PARAMETER(CommitSize);
    UNREFERENCED_PARAMETER(InheritDisposition);
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    if (ZeroBits != 0)
        return STATUS_INVALID_PARAMETER_4;
    if (AllocationType != 0)
        return STATUS_INVALID_PARAMETER_9;
    ULONG64 base = 0, size = 0;
    LARGE_INTEGER offset;
    offset.QuadPart = 0;
    NTSTATUS status = MiCapture(mode, BaseAddress, &base, sizeof(base), TRUE);
    if (NT_SUCCESS(status))
        status = MiCapture(mode, ViewSize, &size, sizeof(size), TRUE);
    if (NT_SUCCESS(status) && SectionOffset != NULL)
        status = MiCapture(mode, SectionOffset, &offset, sizeof(offset), TRUE);
    if (!NT_SUCCESS(status))
        return status;
    if (offset.QuadPart < 0)
        return STATUS_MAPPED_ALIGNMENT;
    ACCESS_MASK access = SECTION_MAP_READ;
    ULONG p = MiMakeProtectionMask(Win32Protect);
    if (p != MM_INVALID_PROTECTION && MI_IS_WRITABLE(p) && !MI_IS_COPY_ON_WRITE(p))
        access |= SECTION_MAP_WRITE;
    if (p != MM_INVALID_PROTECTION && MI_IS_EXECUTABLE(p))
        access |= SECTION_MAP_EXECUTE;
    PMI_SECTION_OBJECT object;
    status = ObReferenceObjectByHandle(SectionHandle, access, MmSectionObjectType, mode, (PVOID *)&object, NULL);
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS process;
    status = MiReferenceProcessForVm(ProcessHandle, &process);
    if (!NT_SUCCESS(status)) {
        ObDereferenceObject(object);
        return status;
    }
    PVOID b = (PVOID)base;
    SIZE_T s = size;
    status = MmMapViewOfSection(object->Section, process, &b, (ULONG64)offset.QuadPart, &s, Win32Protect);
    ObDereferenceObject(process);
    ObDereferenceObject(object);
    if (NT_SUCCESS(status)) {
        NTSTATUS w = MiGiveBack(mode, BaseAddress, &b, sizeof(b));
        if (NT_SUCCESS(w))
            w = MiGiveBack(mode, ViewSize, &s, sizeof(s));
        if (!NT_SUCCESS(w))
            return w;
    }
    return status;
}

NTSTATUS NtUnmapViewOfSection(HANDLE ProcessHandle, PVOID BaseAddress)
{
    PEPROCESS process;
    NTSTATUS status = MiReferenceProcessForVm(ProcessHandle, &process);
    if (!NT_SUCCESS(status))
        return status;
    status = MmUnmapViewOfSection(process, BaseAddress);
    ObDereferenceObject(process);
    return status;
}
