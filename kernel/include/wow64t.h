/* wow64t.h - WOW64 (lab 09): the 32-bit layouts of the native API's structures, the
 * wow64 layer's thunks (64-bit user-mode code in a 32-bit process: wow64.dll's role), file
 * system redirection, the process's address limit, and the kernel side (IoIs32bitProcess, a
 * sample driver whose ioctl has a 32-bit layout).
 *
 * A 32-bit program calls its 32-bit ntdll, which far-jumps to CS 0x33 (wow64cpu's role)
 * with the service number and a pointer to its arguments on the 32-bit stack: one 32-bit
 * slot per argument (ULONG *Args). The thunk of the service (whNtXxx) reads the slots,
 * widens them to the 64-bit native call's arguments, converts every structure the call
 * reads from the 32-bit layout to the native one, calls the native service (the 64-bit
 * ntdll's NtXxx: a `syscall`), writes every output back in the 32-bit layout, and returns
 * the native status unchanged.
 *
 * Departures from NT, on purpose: this kernel names objects with counted 8-bit strings
 * (STRING, see ob.h), so the 32-bit name is a STRING32 - the layout of NT's
 * UNICODE_STRING32 (Length, MaximumLength, a 32-bit Buffer); its OBJECT_ATTRIBUTES has
 * no Length, SecurityDescriptor or QualityOfService, so OBJECT_ATTRIBUTES32 has neither;
 * NtReadFile/NtWriteFile/NtDeviceIoControlFile have no APC arguments. */
#pragma once

#include "io.h"
#include "mm.h"
#include "ntexcept.h" /* w16x: exceptions in 32-bit code (EXCEPTION_RECORD32, CONTEXT32, exception.c) */
#include "ob.h"
/* Not ps.h: it pulls in kuser.h, which includes user/services.def, outside the files a
 * student's code may include (the submission pipeline's compile view). What lab 09 needs of
 * it is declared here, the same as there. */
struct _EPROCESS *PsGetCurrentProcess(VOID);
#ifndef ProcessBasicInformation
#define ProcessBasicInformation 0
#endif
#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_INVALID_INFO_CLASS
#define STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003L)
#endif
NTSTATUS NtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, PVOID ProcessInformation,
                                   ULONG ProcessInformationLength, PULONG ReturnLength);

/* Status codes of lab 09 (wow): the ones the thunks return themselves. */
#ifndef STATUS_INVALID_PARAMETER_2
#define STATUS_INVALID_PARAMETER_2   ((NTSTATUS)0xC00000F0L)
#endif
#ifndef STATUS_INVALID_PARAMETER_4
#define STATUS_INVALID_PARAMETER_4   ((NTSTATUS)0xC00000F2L)
#endif

/* ---- The 32-bit layouts (what a 32-bit program sees; every pointer and handle 4 bytes) ---- */
typedef ULONG PTR32;          /* a 32-bit pointer: widen with Wow64Ptr (zero extension) */
typedef ULONG HANDLE32;       /* a 32-bit handle: widen with Wow64Handle (sign extension) */

typedef struct _STRING32 {    /* = NT's UNICODE_STRING32 layout: 8 bytes */
    USHORT Length;            /* bytes, no terminator */
    USHORT MaximumLength;
    PTR32 Buffer;
} STRING32, *PSTRING32, UNICODE_STRING32, *PUNICODE_STRING32;

typedef struct _OBJECT_ATTRIBUTES32 { /* 12 bytes (the native one: 24) */
    HANDLE32 RootDirectory;
    PTR32 ObjectName;         /* a STRING32, or 0 */
    ULONG Attributes;
} OBJECT_ATTRIBUTES32, *POBJECT_ATTRIBUTES32;

typedef struct _IO_STATUS_BLOCK32 {   /* 8 bytes (the native one: 16) */
    NTSTATUS Status;
    ULONG Information;
} IO_STATUS_BLOCK32, *PIO_STATUS_BLOCK32;

/* A LARGE_INTEGER as 32-bit code lays it out: 8 bytes, but only 4-byte aligned (i386's
 * alignment of a 64-bit integer in a structure or on the stack). */
typedef struct _LARGE_INTEGER32 {
    ULONG LowPart;
    LONG HighPart;
} LARGE_INTEGER32, *PLARGE_INTEGER32;

/* NtQueryVirtualMemory's MemoryBasicInformation, both layouts (the native one is mm.h's
 * MEMORY_BASIC_INFORMATION; MEMORY_BASIC_INFORMATION64 spells its padding out). */
typedef struct _MEMORY_BASIC_INFORMATION32 {  /* 28 bytes */
    PTR32 BaseAddress;
    PTR32 AllocationBase;
    ULONG AllocationProtect;
    ULONG RegionSize;
    ULONG State;
    ULONG Protect;
    ULONG Type;
} MEMORY_BASIC_INFORMATION32, *PMEMORY_BASIC_INFORMATION32;
typedef struct __attribute__((aligned(16))) _MEMORY_BASIC_INFORMATION64 {  /* 48 bytes: the native layout */
    ULONG64 BaseAddress;
    ULONG64 AllocationBase;
    ULONG AllocationProtect;
    ULONG Alignment1;
    ULONG64 RegionSize;
    ULONG State;
    ULONG Protect;
    ULONG Type;
    ULONG Alignment2;
} MEMORY_BASIC_INFORMATION64, *PMEMORY_BASIC_INFORMATION64;

/* NtQueryInformationProcess's ProcessBasicInformation, both layouts (the native one is ps.h's
 * PROCESS_BASIC_INFORMATION; PROCESS_BASIC_INFORMATION64 spells its padding out). */
typedef struct _PROCESS_BASIC_INFORMATION32 {  /* 24 bytes */
    NTSTATUS ExitStatus;
    PTR32 PebBaseAddress;
    ULONG AffinityMask;
    LONG BasePriority;
    ULONG UniqueProcessId;
    ULONG InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION32, *PPROCESS_BASIC_INFORMATION32;
typedef struct _PROCESS_BASIC_INFORMATION64 {  /* 48 bytes: the native layout */
    NTSTATUS ExitStatus;
    ULONG Reserved0;
    ULONG64 PebBaseAddress;
    ULONG64 AffinityMask;
    LONG BasePriority;
    ULONG Reserved1;
    ULONG64 UniqueProcessId;
    ULONG64 InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION64, *PPROCESS_BASIC_INFORMATION64;

_Static_assert(sizeof(STRING32) == 8, "STRING32 is 8 bytes");
_Static_assert(sizeof(OBJECT_ATTRIBUTES32) == 12, "OBJECT_ATTRIBUTES32 is 12 bytes");
_Static_assert(sizeof(IO_STATUS_BLOCK32) == 8, "IO_STATUS_BLOCK32 is 8 bytes");
_Static_assert(sizeof(LARGE_INTEGER32) == 8, "LARGE_INTEGER32 is 8 bytes");
_Static_assert(sizeof(MEMORY_BASIC_INFORMATION32) == 28, "MEMORY_BASIC_INFORMATION32 is 28 bytes");
_Static_assert(sizeof(MEMORY_BASIC_INFORMATION64) == 48, "MEMORY_BASIC_INFORMATION64 is 48 bytes");
_Static_assert(sizeof(PROCESS_BASIC_INFORMATION32) == 24, "PROCESS_BASIC_INFORMATION32 is 24 bytes");
_Static_assert(sizeof(PROCESS_BASIC_INFORMATION64) == 48, "PROCESS_BASIC_INFORMATION64 is 48 bytes");
_Static_assert(sizeof(MEMORY_BASIC_INFORMATION) == sizeof(MEMORY_BASIC_INFORMATION64), "the native MBI");

/* Widening (zero extension for pointers and sizes, sign extension for handles: the
 * pseudo-handles -1 and -2 stay the current process and thread). */
static inline PVOID Wow64Ptr(PTR32 Value) { return (PVOID)(ULONG_PTR)Value; }
static inline HANDLE Wow64Handle(HANDLE32 Value) { return (HANDLE)(LONG_PTR)(LONG)Value; }

/* ---- The address limit of a 32-bit process ----
 * Its highest user address: 0x7FFEFFFF (2 GiB minus the 64 KiB no-access area), or
 * 0xFFFEFFFF when its image is large-address aware (IMAGE_FILE_LARGE_ADDRESS_AWARE). */
#define MM_HIGHEST_USER_ADDRESS_WOW64 0x7FFEFFFFUL
#define MM_HIGHEST_USER_ADDRESS_WOW64_LAA 0xFFFEFFFFUL
#ifndef IMAGE_FILE_LARGE_ADDRESS_AWARE
#define IMAGE_FILE_LARGE_ADDRESS_AWARE 0x0020
#endif

/* ---- Native services the wow64 layer calls (the 64-bit ntdll's NtXxx, NT's argument order) ---- */
NTSTATUS NtOpenFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                    PIO_STATUS_BLOCK IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions);
/* (Nt{Allocate,Free,Protect,Query}VirtualMemory: mm.h; NtQueryInformationProcess: above (ps.h);
 * NtCreateFile, NtReadFile, NtWriteFile, NtDeviceIoControlFile: io.h; NtClose,
 * NtDuplicateObject, NtCreateEvent, NtWaitForSingleObject: ob.h.) */

/* ---- The wow64 layer's framework (user/wow64/ in a process; the lab's tests in a checkpoint) ---- */
/* The per-thread state of the wow64 layer (NT keeps it in the 64-bit TEB's TLS slots). */
typedef struct _WOW64_THREAD_DATA {
    PVOID FsRedirectionDisabled;   /* WOW64_FSREDIR_ENABLED or WOW64_FSREDIR_DISABLED */
    ULONG Reserved[6];
} WOW64_THREAD_DATA, *PWOW64_THREAD_DATA;
#define WOW64_FSREDIR_ENABLED ((PVOID)0)
#define WOW64_FSREDIR_DISABLED ((PVOID)1)
/* The calling thread's wow64 data. */
PWOW64_THREAD_DATA Wow64CurrentThreadData(VOID);
/* The process's highest user address (MM_HIGHEST_USER_ADDRESS_WOW64[_LAA]). */
ULONG Wow64HighestUserAddress(VOID);

/* ---- Lab 09, the wow64 layer (student code: labs/09-wow64/thunk.c) ----
 * Each takes the 32-bit argument slots of its service, in the native order. */
typedef NTSTATUS (*PWOW64_THUNK)(PULONG Args);
NTSTATUS whNtAllocateVirtualMemory(PULONG Args);
NTSTATUS whNtFreeVirtualMemory(PULONG Args);
NTSTATUS whNtProtectVirtualMemory(PULONG Args);
NTSTATUS whNtQueryVirtualMemory(PULONG Args);
NTSTATUS whNtCreateFile(PULONG Args);
NTSTATUS whNtOpenFile(PULONG Args);
NTSTATUS whNtReadFile(PULONG Args);
NTSTATUS whNtWriteFile(PULONG Args);
NTSTATUS whNtClose(PULONG Args);
NTSTATUS whNtDeviceIoControlFile(PULONG Args);
NTSTATUS whNtWaitForSingleObject(PULONG Args);
NTSTATUS whNtCreateEvent(PULONG Args);
NTSTATUS whNtDuplicateObject(PULONG Args);
NTSTATUS whNtQueryInformationProcess(PULONG Args);

/* ---- Lab 09, file system redirection (student code: labs/09-wow64/redirect.c) ---- */
NTSTATUS Wow64DisableFsRedirection(PVOID *OldValue);
NTSTATUS Wow64RevertFsRedirection(PVOID OldValue);
BOOLEAN Wow64RedirectName(const STRING *Name, PSTRING Redirected);

/* ---- Starting a 32-bit process (kernel/ps/wow64run.c; the layer's side: user/wow64/) ----
 * The kernel maps the 32-bit program and its 32-bit ntdll (from \SystemRoot\SysWOW64), then
 * the wow64 layer wow64.dll and the 64-bit ntdll (\SystemRoot\System32), writes the layer's
 * exported Wow64StartBlock, and starts the first thread at the layer's Wow64LdrpInitialize
 * with the 64-bit PEB in RCX; the layer builds the 32-bit PEB, sets ntdll32's
 * Wow64Transition and enters the program in compatibility mode. */
typedef struct _WOW64_START_BLOCK {
    ULONG Entry32;            /* the 32-bit program's entry point */
    ULONG ImageBase32;        /* its base */
    ULONG Transition32;       /* ntdll32's Wow64Transition (6 bytes: offset, selector 0x33) */
    ULONG LargeAddressAware;  /* its image is large-address aware: the limit is 4 GiB */
    ULONG KiUserExceptionDispatcher32; /* w16x: ntdll32's, where a 32-bit exception is delivered */
} WOW64_START_BLOCK, *PWOW64_START_BLOCK;
struct _LDR_PROCESS_IMAGES;
/* After LdrMapProcessImages(Process, <program>, IMAGE_FILE_MACHINE_I386, Images32): maps the
 * layer, fills its start block, marks Process WOW64 (its limit from the program's
 * IMAGE_FILE_LARGE_ADDRESS_AWARE) and gives the first thread's start address. */
NTSTATUS PsPrepareWow64Process(struct _EPROCESS *Process, const struct _LDR_PROCESS_IMAGES *Images32,
                               PULONG_PTR StartAddress);
/* NtAllocateVirtualMemory's WOW64 rules (framework, kernel/ps/wow64proc.c), for any process:
 * ZeroBits above 32 is NT x64's mask form (the highest address allowed), turned into the
 * count the allocator takes (0x7FFFFFFF -> 1); a WOW64 process's allocation never ends above
 * its limit: a requested range past it is refused (STATUS_INVALID_PARAMETER_2 / _4), a free
 * choice is kept below it (ZeroBits 1 for 2 GiB; bottom-up for 4 GiB). */
NTSTATUS PsWow64CheckAllocation(struct _EPROCESS *Process, ULONG_PTR Base, SIZE_T Size, PULONG_PTR ZeroBits,
                                PULONG AllocationType);
/* TRUE if a region chosen for Process ends above its limit (the service then releases it). */
BOOLEAN PsWow64AboveLimit(struct _EPROCESS *Process, ULONG_PTR Base, SIZE_T Size);

/* ---- The kernel side ---- */
/* TRUE when the request comes from a 32-bit (WOW64) process in user mode: Irp's
 * RequestorMode is UserMode and the current process is WOW64 (call it in the requestor's
 * context, from the dispatch routine, as NT's documentation says); Irp NULL: the current
 * process is WOW64. */
BOOLEAN IoIs32bitProcess(PIRP Irp);
/* The WOW64 state of a process (kernel/ps/wow64proc.c): NULL for a native process, else
 * the process's 32-bit PEB address as a pointer (NT's PsGetProcessWow64Process). */
PVOID PsGetProcessWow64Process(struct _EPROCESS *Process);
/* Marks Process as WOW64 (its 32-bit PEB, its highest user address); Peb32 0 clears it. */
NTSTATUS PsSetProcessWow64(struct _EPROCESS *Process, ULONG Peb32, ULONG HighestUserAddress);
/* The highest user address of Process: MM_HIGHEST_USER_ADDRESS for a native one. */
ULONG_PTR PsProcessHighestUserAddress(struct _EPROCESS *Process);

/* The sample driver \Device\WowSample (kernel/io/wowsample.c): IOCTL_WOWSAMPLE_ECHO takes a
 * WOWSAMPLE_REQUEST in the caller's layout (METHOD_BUFFERED) and answers a WOWSAMPLE_REPLY
 * in the caller's layout. */
#define FILE_DEVICE_WOWSAMPLE 0x8009
#define IOCTL_WOWSAMPLE_ECHO CTL_CODE(FILE_DEVICE_WOWSAMPLE, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
typedef struct _WOWSAMPLE_REQUEST {     /* native: 32 bytes */
    HANDLE Event;
    PVOID Buffer;
    ULONG Length;
    ULONG Flags;
    ULONG_PTR Cookie;
} WOWSAMPLE_REQUEST, *PWOWSAMPLE_REQUEST;
typedef struct _WOWSAMPLE_REQUEST32 {   /* 32-bit: 20 bytes */
    HANDLE32 Event;
    PTR32 Buffer;
    ULONG Length;
    ULONG Flags;
    ULONG Cookie;
} WOWSAMPLE_REQUEST32, *PWOWSAMPLE_REQUEST32;
typedef struct _WOWSAMPLE_REPLY {       /* native: 24 bytes */
    ULONG_PTR Cookie;
    PVOID Buffer;
    ULONG Length;
    ULONG Is32Bit;
} WOWSAMPLE_REPLY, *PWOWSAMPLE_REPLY;
typedef struct _WOWSAMPLE_REPLY32 {     /* 32-bit: 16 bytes */
    ULONG Cookie;
    PTR32 Buffer;
    ULONG Length;
    ULONG Is32Bit;
} WOWSAMPLE_REPLY32, *PWOWSAMPLE_REPLY32;
_Static_assert(sizeof(WOWSAMPLE_REQUEST) == 32 && sizeof(WOWSAMPLE_REQUEST32) == 20, "request layouts");
_Static_assert(sizeof(WOWSAMPLE_REPLY) == 24 && sizeof(WOWSAMPLE_REPLY32) == 16, "reply layouts");
NTSTATUS IopWowSampleDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);

/* ---- Lab 09, the driver's 32-bit layout (student code: labs/09-wow64/ioctl32.c) ---- */
NTSTATUS WowSampleCaptureRequest(PIRP Irp, PWOWSAMPLE_REQUEST Request);
NTSTATUS WowSampleWriteReply(PIRP Irp, const WOWSAMPLE_REPLY *Reply);
