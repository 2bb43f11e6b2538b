/* thunk.c - lab 09: the wow64 layer's thunks. A 32-bit program's system call arrives here,
 * in 64-bit user mode inside the same process, as its service's argument slots: one 32-bit
 * value per argument, read from the 32-bit stack (PULONG Args, Args[0] the first). Each
 * thunk turns them into the native 64-bit call and back (see kernel/include/wow64t.h for
 * the layouts):
 *
 *  - a handle slot is sign-extended (Wow64Handle): 0xFFFFFFFF stays NtCurrentProcess(),
 *    0xFFFFFFFE NtCurrentThread(); a pointer, size or other value slot is zero-extended
 *    (Wow64Ptr): 0x80001000 in a large-address-aware process is 0x0000000080001000;
 *  - a slot that points at a structure the call reads (OBJECT_ATTRIBUTES32 and its
 *    STRING32 name, LARGE_INTEGER32, a 32-bit PVOID or SIZE_T) is converted into a local
 *    in the native layout and the native call gets the local's address; a 0 slot is passed
 *    as NULL (never as a pointer to a zeroed local: a NULL timeout waits forever, a zero
 *    one does not wait);
 *  - every output (a 32-bit PVOID, SIZE_T, HANDLE, IO_STATUS_BLOCK32, an information
 *    structure) is written back in the 32-bit layout - exactly its bytes, not one past -
 *    and only as the clauses below say; nothing is written for a 0 slot;
 *  - the thunk returns the native call's status unchanged (warnings and errors too), or
 *    its own status where a clause says so (then it calls nothing).
 *
 * Write-back rule of an IO_STATUS_BLOCK32: after a native call that returned a success,
 * informational or warning status (below 0xC0000000: STATUS_BUFFER_OVERFLOW included) other
 * than STATUS_PENDING, Status and Information (its low 32 bits) from the native block; after
 * an error status (0xC0000000 and up), or STATUS_PENDING, the 32-bit block is left as it was. Every other output is written back only when the native status is NT_SUCCESS.
 *
 * IRQL: user mode (PASSIVE_LEVEL); the thunks keep no state between calls. */
#include "wow64t.h"

/* The native name of an OBJECT_ATTRIBUTES32 (and a redirected copy when it applies). */
typedef struct _WOW64_OA {
    OBJECT_ATTRIBUTES Attributes;
    STRING Name;
    STRING Redirected;
    CHAR Buffer[1024];
} WOW64_OA;

/* Converts ObjectAttributes32 (a 0 slot: returns NULL). File names go through redirection
 * when Redirect is set, the name is absolute (RootDirectory 0) and Wow64RedirectName
 * rewrites it. */
static POBJECT_ATTRIBUTES Wow64ConvertObjectAttributes(PTR32 Slot, WOW64_OA *Out, BOOLEAN Redirect)
{
    if (Slot == 0)
        return NULL;
    POBJECT_ATTRIBUTES32 oa32 = Wow64Ptr(Slot);
    Out->Attributes.RootDirectory = Wow64Handle(oa32->RootDirectory);
    Out->Attributes.Attributes = oa32->Attributes;
    Out->Attributes.ObjectName = NULL;
    if (oa32->ObjectName != 0) {
        PSTRING32 name32 = Wow64Ptr(oa32->ObjectName);
        Out->Name.Length = name32->Length;
        Out->Name.MaximumLength = name32->MaximumLength;
        Out->Name.Buffer = Wow64Ptr(name32->Buffer);
        Out->Attributes.ObjectName = &Out->Name;
        if (Redirect && oa32->RootDirectory == 0) {
            Out->Redirected.Length = 0;
            Out->Redirected.MaximumLength = sizeof(Out->Buffer);
            Out->Redirected.Buffer = Out->Buffer;
            if (Wow64RedirectName(&Out->Name, &Out->Redirected))
                Out->Attributes.ObjectName = &Out->Redirected;
        }
    }
    return &Out->Attributes;
}

/* The native LARGE_INTEGER of a LARGE_INTEGER32 slot (4-byte aligned), or NULL. */
static PLARGE_INTEGER Wow64ConvertLargeInteger(PTR32 Slot, PLARGE_INTEGER Out)
{
    if (Slot == 0)
        return NULL;
    PLARGE_INTEGER32 li32 = Wow64Ptr(Slot);
    Out->LowPart = li32->LowPart;
    Out->HighPart = li32->HighPart;
    return Out;
}

static VOID Wow64WriteIoStatus(PTR32 Slot, NTSTATUS Status, const IO_STATUS_BLOCK *Iosb)
{
    if (Slot == 0 || (ULONG)Status >= 0xC0000000 || Status == STATUS_PENDING)
        return;
    PIO_STATUS_BLOCK32 iosb32 = Wow64Ptr(Slot);
    iosb32->Status = Iosb->Status;
    iosb32->Information = (ULONG)Iosb->Information;
}

static VOID Wow64WriteHandle(PTR32 Slot, NTSTATUS Status, HANDLE Handle)
{
    if (Slot != 0 && NT_SUCCESS(Status))
        *(HANDLE32 *)Wow64Ptr(Slot) = (HANDLE32)(ULONG_PTR)Handle;
}

/* The ZeroBits of a 32-bit caller as the native call takes them: a mask (a value above 32)
 * that keeps every address below the process's limit. */
static ULONG_PTR Wow64ZeroBitsMask(ULONG ZeroBits)
{
    ULONG limitMask = Wow64HighestUserAddress() | 0x1FFFF;
    if (ZeroBits == 0)
        return limitMask;
    if (ZeroBits < 32)
        return (0xFFFFFFFFUL >> ZeroBits) & limitMask;
    return ZeroBits;
}

/*
 * whNtAllocateVirtualMemory - Args: ProcessHandle, PTR32 *BaseAddress (in/out),
 * ZeroBits, ULONG *RegionSize (in/out), AllocationType, Protect.
 * Contract: reads *BaseAddress and *RegionSize (32-bit) into native locals (a 0 slot is
 * passed as NULL). A 32-bit process never gets an address above Wow64HighestUserAddress():
 *  - a nonzero requested base above the limit: STATUS_INVALID_PARAMETER_2; a requested
 *    range (base .. base + size - 1) that runs past the limit: STATUS_INVALID_PARAMETER_4;
 *    in both cases nothing is called and nothing written;
 *  - ZeroBits goes to the native call as a mask: 0 -> the limit's mask (0x7FFFFFFF, or
 *    0xFFFFFFFF when large-address aware); 1..31 -> (0xFFFFFFFF >> ZeroBits) & that mask;
 *    32 and more pass unchanged (the kernel refuses them);
 *  - if the native call succeeds with a region that ends above the limit anyway, the thunk
 *    releases it (NtFreeVirtualMemory of the returned base, size 0, MEM_RELEASE) and returns
 *    STATUS_NO_MEMORY, writing nothing.
 * On success writes back *BaseAddress and *RegionSize (32-bit). Returns the native status.
 */
NTSTATUS whNtAllocateVirtualMemory(PULONG Args)
{
    PVOID base = NULL;
    SIZE_T size = 0;
    PTR32 *base32 = Wow64Ptr(Args[1]);
    PULONG size32 = Wow64Ptr(Args[3]);
    if (base32)
        base = Wow64Ptr(*base32);
    if (size32)
        size = *size32;
    ULONG_PTR limit = Wow64HighestUserAddress();
    if (base32 && (ULONG_PTR)base > limit)
        return STATUS_INVALID_PARAMETER_2;
    if (base32 && size32 && base != NULL && size != 0 && (ULONG_PTR)base + size - 1 > limit)
        return STATUS_INVALID_PARAMETER_4;
    NTSTATUS status = NtAllocateVirtualMemory(Wow64Handle(Args[0]), base32 ? &base : NULL,
                                              Wow64ZeroBitsMask(Args[2]), size32 ? &size : NULL, Args[4], Args[5]);
    if (!NT_SUCCESS(status))
        return status;
    if ((ULONG_PTR)base + size - 1 > limit || (ULONG_PTR)base + size < (ULONG_PTR)base) {
        SIZE_T zero = 0;
        NtFreeVirtualMemory(Wow64Handle(Args[0]), &base, &zero, MEM_RELEASE);
        return STATUS_NO_MEMORY;
    }
    if (base32)
        *base32 = (PTR32)(ULONG_PTR)base;
    if (size32)
        *size32 = (ULONG)size;
    return status;
}

/*
 * whNtFreeVirtualMemory - Args: ProcessHandle, PTR32 *BaseAddress (in/out),
 * ULONG *RegionSize (in/out), FreeType.
 * Contract: *BaseAddress and *RegionSize converted in and, on success, written back
 * (32-bit); a 0 slot passed as NULL. Returns the native status.
 */
NTSTATUS whNtFreeVirtualMemory(PULONG Args)
{
    PVOID base = NULL;
    SIZE_T size = 0;
    PTR32 *base32 = Wow64Ptr(Args[1]);
    PULONG size32 = Wow64Ptr(Args[2]);
    if (base32)
        base = Wow64Ptr(*base32);
    if (size32)
        size = *size32;
    NTSTATUS status = NtFreeVirtualMemory(Wow64Handle(Args[0]), base32 ? &base : NULL, size32 ? &size : NULL,
                                          Args[3]);
    if (NT_SUCCESS(status)) {
        if (base32)
            *base32 = (PTR32)(ULONG_PTR)base;
        if (size32)
            *size32 = (ULONG)size;
    }
    return status;
}

/*
 * whNtProtectVirtualMemory - Args: ProcessHandle, PTR32 *BaseAddress (in/out),
 * ULONG *RegionSize (in/out), NewProtect, ULONG *OldProtect.
 * Contract: as whNtFreeVirtualMemory for *BaseAddress and *RegionSize; OldProtect has the
 * same layout in both worlds: its slot is widened and passed as it is. Returns the native
 * status.
 */
NTSTATUS whNtProtectVirtualMemory(PULONG Args)
{
    PVOID base = NULL;
    SIZE_T size = 0;
    PTR32 *base32 = Wow64Ptr(Args[1]);
    PULONG size32 = Wow64Ptr(Args[2]);
    if (base32)
        base = Wow64Ptr(*base32);
    if (size32)
        size = *size32;
    NTSTATUS status = NtProtectVirtualMemory(Wow64Handle(Args[0]), base32 ? &base : NULL, size32 ? &size : NULL,
                                             Args[3], Wow64Ptr(Args[4]));
    if (NT_SUCCESS(status)) {
        if (base32)
            *base32 = (PTR32)(ULONG_PTR)base;
        if (size32)
            *size32 = (ULONG)size;
    }
    return status;
}

/*
 * whNtQueryVirtualMemory - Args: ProcessHandle, BaseAddress, MemoryInformationClass,
 * MEMORY_BASIC_INFORMATION32 *MemoryInformation, MemoryInformationLength,
 * ULONG *ReturnLength (optional).
 * Contract: only MemoryBasicInformation; any other class: STATUS_INVALID_INFO_CLASS, a
 * length below sizeof(MEMORY_BASIC_INFORMATION32) (28): STATUS_INFO_LENGTH_MISMATCH, in
 * both cases nothing called or written. The native call gets a MEMORY_BASIC_INFORMATION64
 * local and its size (48) and a native ReturnLength local; on success the 28 bytes of the
 * 32-bit structure (every field truncated to 32 bits) and, when the slot is not 0,
 * *ReturnLength = 28. Returns the native status.
 */
NTSTATUS whNtQueryVirtualMemory(PULONG Args)
{
    if (Args[2] != MemoryBasicInformation)
        return STATUS_INVALID_INFO_CLASS;
    if (Args[4] < sizeof(MEMORY_BASIC_INFORMATION32))
        return STATUS_INFO_LENGTH_MISMATCH;
    MEMORY_BASIC_INFORMATION64 mbi;
    SIZE_T returned = 0;
    NTSTATUS status = NtQueryVirtualMemory(Wow64Handle(Args[0]), Wow64Ptr(Args[1]), MemoryBasicInformation,
                                           Args[3] ? &mbi : NULL, sizeof(mbi), &returned);
    if (!NT_SUCCESS(status))
        return status;
    PMEMORY_BASIC_INFORMATION32 out = Wow64Ptr(Args[3]);
    if (out) {
        out->BaseAddress = (PTR32)mbi.BaseAddress;
        out->AllocationBase = (PTR32)mbi.AllocationBase;
        out->AllocationProtect = mbi.AllocationProtect;
        out->RegionSize = (ULONG)mbi.RegionSize;
        out->State = mbi.State;
        out->Protect = mbi.Protect;
        out->Type = mbi.Type;
    }
    if (Args[5])
        *(PULONG)Wow64Ptr(Args[5]) = sizeof(MEMORY_BASIC_INFORMATION32);
    return status;
}

/*
 * whNtCreateFile - Args: HANDLE32 *FileHandle, DesiredAccess, OBJECT_ATTRIBUTES32 *,
 * IO_STATUS_BLOCK32 *.
 * Contract: the OBJECT_ATTRIBUTES32 converted (RootDirectory sign-extended, the STRING32
 * name into a native STRING with the same Length and MaximumLength and a widened Buffer,
 * Attributes copied); an absolute name (RootDirectory 0) goes through file system
 * redirection (Wow64RedirectName) and the native call gets the redirected name when it
 * applies. On success *FileHandle = the native handle's low 32 bits; the IO_STATUS_BLOCK32
 * by the write-back rule. Returns the native status.
 */
NTSTATUS whNtCreateFile(PULONG Args)
{
    WOW64_OA oa;
    HANDLE handle = NULL;
    IO_STATUS_BLOCK iosb = {{0}, 0};
    NTSTATUS status = NtCreateFile(Args[0] ? &handle : NULL, Args[1], Wow64ConvertObjectAttributes(Args[2], &oa, TRUE),
                                   Args[3] ? &iosb : NULL);
    Wow64WriteHandle(Args[0], status, handle);
    Wow64WriteIoStatus(Args[3], status, &iosb);
    return status;
}

/*
 * whNtOpenFile - Args: HANDLE32 *FileHandle, DesiredAccess, OBJECT_ATTRIBUTES32 *,
 * IO_STATUS_BLOCK32 *, ShareAccess, OpenOptions.
 * Contract: as whNtCreateFile; ShareAccess and OpenOptions pass unchanged.
 */
NTSTATUS whNtOpenFile(PULONG Args)
{
    WOW64_OA oa;
    HANDLE handle = NULL;
    IO_STATUS_BLOCK iosb = {{0}, 0};
    NTSTATUS status = NtOpenFile(Args[0] ? &handle : NULL, Args[1], Wow64ConvertObjectAttributes(Args[2], &oa, TRUE),
                                 Args[3] ? &iosb : NULL, Args[4], Args[5]);
    Wow64WriteHandle(Args[0], status, handle);
    Wow64WriteIoStatus(Args[3], status, &iosb);
    return status;
}

/*
 * whNtReadFile / whNtWriteFile - Args: FileHandle, Event, IO_STATUS_BLOCK32 *, Buffer,
 * Length, LARGE_INTEGER32 *ByteOffset (optional).
 * Contract: both handles sign-extended, Buffer widened (the data is not copied: the kernel
 * reads or writes the caller's bytes), ByteOffset copied into an aligned native
 * LARGE_INTEGER (0 slot: NULL, the file's current position). The IO_STATUS_BLOCK32 by the
 * write-back rule. Returns the native status.
 */
NTSTATUS whNtReadFile(PULONG Args)
{
    LARGE_INTEGER offset;
    IO_STATUS_BLOCK iosb = {{0}, 0};
    NTSTATUS status = NtReadFile(Wow64Handle(Args[0]), Wow64Handle(Args[1]), Args[2] ? &iosb : NULL,
                                 Wow64Ptr(Args[3]), Args[4], Wow64ConvertLargeInteger(Args[5], &offset));
    Wow64WriteIoStatus(Args[2], status, &iosb);
    return status;
}

NTSTATUS whNtWriteFile(PULONG Args)
{
    LARGE_INTEGER offset;
    IO_STATUS_BLOCK iosb = {{0}, 0};
    NTSTATUS status = NtWriteFile(Wow64Handle(Args[0]), Wow64Handle(Args[1]), Args[2] ? &iosb : NULL,
                                  Wow64Ptr(Args[3]), Args[4], Wow64ConvertLargeInteger(Args[5], &offset));
    Wow64WriteIoStatus(Args[2], status, &iosb);
    return status;
}

/*
 * whNtClose - Args: Handle. Contract: the handle sign-extended; the native status.
 */
NTSTATUS whNtClose(PULONG Args)
{
    return NtClose(Wow64Handle(Args[0]));
}

/*
 * whNtDeviceIoControlFile - Args: FileHandle, Event, IO_STATUS_BLOCK32 *, IoControlCode,
 * InputBuffer, InputBufferLength, OutputBuffer, OutputBufferLength.
 * Contract: handles sign-extended, buffers widened and passed as they are (the driver sees
 * the 32-bit layout of its own structures and converts them: IoIs32bitProcess); the
 * IO_STATUS_BLOCK32 by the write-back rule. Returns the native status.
 */
NTSTATUS whNtDeviceIoControlFile(PULONG Args)
{
    IO_STATUS_BLOCK iosb = {{0}, 0};
    NTSTATUS status = NtDeviceIoControlFile(Wow64Handle(Args[0]), Wow64Handle(Args[1]), Args[2] ? &iosb : NULL,
                                            Args[3], Wow64Ptr(Args[4]), Args[5], Wow64Ptr(Args[6]), Args[7]);
    Wow64WriteIoStatus(Args[2], status, &iosb);
    return status;
}

/*
 * whNtWaitForSingleObject - Args: Handle, Alertable, LARGE_INTEGER32 *Timeout (optional).
 * Contract: the handle sign-extended (NtCurrentThread() waits on the thread itself),
 * Alertable is the slot's low byte, the timeout copied into an aligned native
 * LARGE_INTEGER; a 0 slot is NULL: wait without a timeout. Returns the native status
 * (STATUS_TIMEOUT and the other success codes included).
 */
NTSTATUS whNtWaitForSingleObject(PULONG Args)
{
    LARGE_INTEGER timeout;
    return NtWaitForSingleObject(Wow64Handle(Args[0]), (BOOLEAN)Args[1], Wow64ConvertLargeInteger(Args[2], &timeout));
}

/*
 * whNtCreateEvent - Args: HANDLE32 *EventHandle, DesiredAccess, OBJECT_ATTRIBUTES32 *
 * (optional), EventType, InitialState.
 * Contract: the attributes converted as for whNtCreateFile but never redirected (an event
 * is not a file); InitialState is the slot's low byte. On success *EventHandle = the low
 * 32 bits of the native handle. Returns the native status.
 */
NTSTATUS whNtCreateEvent(PULONG Args)
{
    WOW64_OA oa;
    HANDLE handle = NULL;
    NTSTATUS status = NtCreateEvent(Args[0] ? &handle : NULL, Args[1], Wow64ConvertObjectAttributes(Args[2], &oa, FALSE),
                                    (EVENT_TYPE)Args[3], (BOOLEAN)Args[4]);
    Wow64WriteHandle(Args[0], status, handle);
    return status;
}

/*
 * whNtDuplicateObject - Args: SourceProcessHandle, SourceHandle, TargetProcessHandle,
 * HANDLE32 *TargetHandle (optional), DesiredAccess, HandleAttributes, Options.
 * Contract: the three handles sign-extended (duplicating NtCurrentThread() from
 * NtCurrentProcess() gives a real handle to the thread); on success, when the slot is
 * not 0, *TargetHandle = the low 32 bits of the new handle. Returns the native status.
 */
NTSTATUS whNtDuplicateObject(PULONG Args)
{
    HANDLE target = NULL;
    NTSTATUS status = NtDuplicateObject(Wow64Handle(Args[0]), Wow64Handle(Args[1]), Wow64Handle(Args[2]),
                                        Args[3] ? &target : NULL, Args[4], Args[5], Args[6]);
    Wow64WriteHandle(Args[3], status, target);
    return status;
}

/*
 * whNtQueryInformationProcess - Args: ProcessHandle, ProcessInformationClass,
 * PROCESS_BASIC_INFORMATION32 *, ProcessInformationLength, ULONG *ReturnLength (optional).
 * Contract: only ProcessBasicInformation (any other class: STATUS_INVALID_INFO_CLASS); its
 * length must be exactly 24 (else STATUS_INFO_LENGTH_MISMATCH); in both cases nothing is
 * called or written. The native call gets a PROCESS_BASIC_INFORMATION64 local and its size
 * (48); on success the 24 bytes of the 32-bit structure (pointers and ids truncated to 32
 * bits) and, when the slot is not 0, *ReturnLength = 24. Returns the native status.
 */
NTSTATUS whNtQueryInformationProcess(PULONG Args)
{
    if (Args[1] != ProcessBasicInformation)
        return STATUS_INVALID_INFO_CLASS;
    if (Args[3] != sizeof(PROCESS_BASIC_INFORMATION32))
        return STATUS_INFO_LENGTH_MISMATCH;
    PROCESS_BASIC_INFORMATION64 pbi;
    ULONG returned = 0;
    NTSTATUS status = NtQueryInformationProcess(Wow64Handle(Args[0]), ProcessBasicInformation, Args[2] ? &pbi : NULL,
                                                sizeof(pbi), &returned);
    if (!NT_SUCCESS(status))
        return status;
    PPROCESS_BASIC_INFORMATION32 out = Wow64Ptr(Args[2]);
    if (out) {
        out->ExitStatus = pbi.ExitStatus;
        out->PebBaseAddress = (PTR32)pbi.PebBaseAddress;
        out->AffinityMask = (ULONG)pbi.AffinityMask;
        out->BasePriority = pbi.BasePriority;
        out->UniqueProcessId = (ULONG)pbi.UniqueProcessId;
        out->InheritedFromUniqueProcessId = (ULONG)pbi.InheritedFromUniqueProcessId;
    }
    if (Args[4])
        *(PULONG)Wow64Ptr(Args[4]) = sizeof(PROCESS_BASIC_INFORMATION32);
    return status;
}
