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
    /* LAB 09: read *BaseAddress and *RegionSize (32-bit) into native locals, refuse a range past Wow64HighestUserAddress(), pass ZeroBits as the limit's mask, call NtAllocateVirtualMemory, release a region above the limit, write base and size back on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * whNtFreeVirtualMemory - Args: ProcessHandle, PTR32 *BaseAddress (in/out),
 * ULONG *RegionSize (in/out), FreeType.
 * Contract: *BaseAddress and *RegionSize converted in and, on success, written back
 * (32-bit); a 0 slot passed as NULL. Returns the native status.
 */
NTSTATUS whNtFreeVirtualMemory(PULONG Args)
{
    /* LAB 09: convert *BaseAddress and *RegionSize in, call NtFreeVirtualMemory, write them back (32-bit) on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: as whNtFreeVirtualMemory; OldProtect is a ULONG in both layouts. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: check the class and the length, query into a MEMORY_BASIC_INFORMATION64 local, write the 28 bytes of the 32-bit structure and *ReturnLength on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: convert the OBJECT_ATTRIBUTES32 and its STRING32 (redirect absolute names: Wow64RedirectName), call NtCreateFile with native locals, write the handle and the IO_STATUS_BLOCK32 back. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * whNtOpenFile - Args: HANDLE32 *FileHandle, DesiredAccess, OBJECT_ATTRIBUTES32 *,
 * IO_STATUS_BLOCK32 *, ShareAccess, OpenOptions.
 * Contract: as whNtCreateFile; ShareAccess and OpenOptions pass unchanged.
 */
NTSTATUS whNtOpenFile(PULONG Args)
{
    /* LAB 09: as whNtCreateFile, with ShareAccess and OpenOptions. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: sign-extend the handles, widen the buffer, copy the LARGE_INTEGER32 offset into an aligned local (0: NULL), write the IO_STATUS_BLOCK32 back by the rule. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS whNtWriteFile(PULONG Args)
{
    /* LAB 09: as whNtReadFile. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * whNtClose - Args: Handle. Contract: the handle sign-extended; the native status.
 */
NTSTATUS whNtClose(PULONG Args)
{
    /* LAB 09: sign-extend the handle. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: sign-extend the handles, widen the buffers (the driver converts their contents), write the IO_STATUS_BLOCK32 back by the rule. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: sign-extend the handle; a 0 timeout slot is NULL (no timeout), else an aligned LARGE_INTEGER copy. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: convert the optional OBJECT_ATTRIBUTES32 (no redirection), write the 32-bit handle back on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: sign-extend the three handles, write the optional 32-bit target handle back on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
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
    /* LAB 09: check the class and the exact length, query into a PROCESS_BASIC_INFORMATION64 local, write the 24 bytes of the 32-bit structure and *ReturnLength on success. */
    UNREFERENCED_PARAMETER(Args);
    return STATUS_NOT_IMPLEMENTED;
}
