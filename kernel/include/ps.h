/* ps.h - processes and threads as objects (lab 06's framework side): a minimal EPROCESS
 * with its handle table (ObjectTable) and an ETHREAD for a kernel thread, the system
 * process (whose table holds the kernel handles), PsCreateSystemThread, and attaching
 * the current thread to another process (what "the current process" means). */
#pragma once

#include "ob.h"

typedef struct _EPROCESS {
    DISPATCHER_HEADER Header;            /* the KPROCESS part: signalled when it ends */
    ULONG64 DirectoryTableBase;          /* KPROCESS too: its PML4 (physical), 0 for the system process */
    ULONG_PTR UniqueProcessId;
    PHANDLE_TABLE ObjectTable;           /* its handles (lab 06's table) */
    CHAR ImageFileName[16];
    LIST_ENTRY ActiveProcessLinks;       /* PsActiveProcessHead */
    /* Lab 08 (um): user processes (kernel/ps/process.c). */
    struct _MMADDRESS_SPACE *AddressSpace; /* vm: VADs, counters, working set (kernel/mm/mi.h); NULL: system */
    PVOID Peb;                           /* user address of its PEB */
    NTSTATUS ExitStatus;                 /* STATUS_PENDING while it runs */
    BOOLEAN Exiting;                     /* NtTerminateProcess or an unhandled exception began its end */
    BOOLEAN UserProcess;
    ULONG ActiveThreads;                 /* user threads not yet ended */
    LIST_ENTRY ThreadListHead;           /* ETHREAD.ProcessThreadLink of its user threads */
    /* The unhandled exception that ended it (ExceptionCode 0 if none). */
    NTSTATUS ExceptionCode;
    ULONG64 ExceptionAddress;            /* RIP of the faulting instruction */
    ULONG64 ExceptionInformation[2];     /* access violation: 0 read / 1 write / 8 execute, the address */
    /* w16x: ntdll64's KiUserExceptionDispatcher (LdrMapProcessImages finds it), where an
     * exception in user mode is delivered; 0 (no ntdll, e.g. lab 08's raw code): it ends the process. */
    ULONG64 UserExceptionDispatcher;
} EPROCESS, *PEPROCESS;
_Static_assert(offsetof(EPROCESS, DirectoryTableBase) == offsetof(KPROCESS, DirectoryTableBase), "KPROCESS");

/* A kernel thread's executive object. Departure from NT: the KTHREAD lives in the
 * framework's thread table (the watchdog and backtraces walk it), so ETHREAD points at
 * it instead of embedding it. */
typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;
typedef struct _ETHREAD {
    PKTHREAD Tcb;
    CLIENT_ID Cid;
    PEPROCESS ThreadsProcess;
    LIST_ENTRY ThreadListEntry;          /* PspThreadList */
    PKSTART_ROUTINE StartRoutine;        /* PsCreateSystemThread's routine and context */
    PVOID StartContext;
    /* Lab 08 (um): a user thread's place in its process, its TEB and user stack. */
    LIST_ENTRY ProcessThreadLink;        /* EPROCESS.ThreadListHead */
    PVOID Teb;
    ULONG_PTR UserStackBase, UserStackLimit;
    ULONG64 UserArgument2;               /* RDX at its first entry (StartContext is RCX) */
    ULONG ThreadIndex;                   /* its TEB and stack slot in the process */
    NTSTATUS ExitStatus;
    NTSTATUS TerminationStatus;          /* lab 09 (w16t): NtTerminateThread's status from another thread */
    ULONG Teb32;                         /* lab 09 (w16t): its TEB32 (a WOW64 thread), 0 if none */
} ETHREAD, *PETHREAD;

extern PEPROCESS PsInitialSystemProcess;
extern LIST_ENTRY PsActiveProcessHead;
#define ObpKernelHandleTable (PsInitialSystemProcess ? PsInitialSystemProcess->ObjectTable : NULL)

/* The system process and the initial thread's ETHREAD, with lab 06's routines (lazily,
 * on first use). STATUS_NOT_IMPLEMENTED while lab 06 is a stub (PsInitialSystemProcess
 * stays NULL; nothing else changes). */
NTSTATUS PsInitializeObjects(VOID);
/* The process the current thread runs in (attached to): the system process by default. */
PEPROCESS PsGetCurrentProcess(VOID);
/* The current thread's ETHREAD (NULL before PsInitializeObjects, or a thread not made by
 * PsCreateSystemThread other than the initial thread). */
PETHREAD PsGetCurrentThread(VOID);
/* Creates a process object (referenced, no handle) with an empty handle table. */
NTSTATUS PspCreateProcess(PCSTR ImageName, PEPROCESS *Process);
/* Creates a thread object of Process for Tcb (referenced, no handle). */
NTSTATUS PspCreateThreadObject(PKTHREAD Tcb, PEPROCESS Process, PETHREAD *Thread);
/* The current thread runs in Process until KeUnstackDetachProcess (not nested). */
VOID KeStackAttachProcess(PEPROCESS Process);
VOID KeUnstackDetachProcess(VOID);
/* Creates a kernel thread in the system process and a kernel handle to it (THREAD_ALL_ACCESS).
 * The thread object holds its own reference until the thread has ended and been joined
 * (its delete method joins it). */
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext);

/* ---- User processes and threads (lab 08, um: kernel/ps/process.c) ---- */
#include "kuser.h"

/* The start of the TEB and PEB, at NT x64's offsets (user mode reads them through GS and
 * TEB.ProcessEnvironmentBlock). */
typedef struct _NT_TIB64 {
    ULONG64 ExceptionList, StackBase, StackLimit, SubSystemTib, FiberData, ArbitraryUserPointer, Self;
} NT_TIB64;
typedef struct _TEB64 {
    NT_TIB64 NtTib;                      /* 0x00 */
    ULONG64 EnvironmentPointer;          /* 0x38 */
    ULONG64 ClientId[2];                 /* 0x40 UniqueProcess, UniqueThread */
    ULONG64 ActiveRpcHandle;             /* 0x50 */
    ULONG64 ThreadLocalStoragePointer;   /* 0x58 */
    ULONG64 ProcessEnvironmentBlock;     /* 0x60 */
    ULONG LastErrorValue;                /* 0x68 */
} TEB64;
/* Lab 09 (w16t): a WOW64 thread's 32-bit TEB (NT x86's layout up to the fields used), FS:0 in
 * compatibility mode (selector 0x53, whose base the context switch sets to KTHREAD.Teb32). As on
 * NT, the 64-bit TEB's NtTib.ExceptionList holds the TEB32's address and the TEB32's
 * GdiBatchCount the TEB64's. */
typedef struct _TEB32 {
    ULONG ExceptionList, StackBase, StackLimit, SubSystemTib, FiberData, ArbitraryUserPointer, Self; /* 0x00 */
    ULONG EnvironmentPointer;            /* 0x1C */
    ULONG ClientId[2];                   /* 0x20 UniqueProcess, UniqueThread */
    ULONG ActiveRpcHandle;               /* 0x28 */
    ULONG ThreadLocalStoragePointer;     /* 0x2C */
    ULONG ProcessEnvironmentBlock;       /* 0x30 the PEB32 */
    ULONG LastErrorValue;                /* 0x34 */
    UCHAR Reserved[0xF70 - 0x38];
    ULONG GdiBatchCount;                 /* 0xF70 under WOW64: the 64-bit TEB's address */
} TEB32;
_Static_assert(offsetof(TEB32, GdiBatchCount) == 0xF70, "NT x86 TEB");
typedef struct _PEB64 {
    UCHAR InheritedAddressSpace, ReadImageFileExecOptions, BeingDebugged, BitField; /* 0x00 */
    ULONG Padding0;
    ULONG64 Mutant;                      /* 0x08 */
    ULONG64 ImageBaseAddress;            /* 0x10 */
    ULONG64 Ldr;                         /* 0x18 */
    ULONG64 ProcessParameters;           /* 0x20 */
    ULONG64 ProcessId;                   /* 0x28 (ntlab: the process's id, for its tests) */
} PEB64;

/* Where the framework puts things in a new process (until the memory manager's VADs
 * choose): the PEB, the TEBs below it (one page each), the threads' stacks. */
#define PSP_PEB_ADDRESS 0x000000007FFDF000ULL
#define PSP_TEB_ADDRESS(n) (0x000000007FFDE000ULL - (ULONG64)(n) * PAGE_SIZE)
#define PSP_STACK_REGION(n) (0x0000000001000000ULL + (ULONG64)(n) * 0x100000ULL) /* 1 MiB each */
#define PSP_STACK_REGION_SIZE 0x100000ULL
#define PSP_DEFAULT_STACK_PAGES 4
#define PSP_MAX_THREADS 64
/* Lab 09 (w16t): a WOW64 thread's TEB32, below the 64 TEBs (one page each). */
#define PSP_TEB32_ADDRESS(n) (PSP_TEB_ADDRESS(PSP_MAX_THREADS) - (ULONG64)(n) * PAGE_SIZE)

/* Creates a user process: the process object (referenced), its handle table, its own
 * address space (the kernel half shared, the user half empty) and its PEB. No thread yet.
 * Needs labs 01-02 (frames, mappings) and 06 (objects). */
NTSTATUS PsCreateUserProcessObject(PCSTR ImageName, PEPROCESS *Process);
/* Maps Pages zeroed pages at Va (page aligned, user space) in Process with Protect
 * (MM_PROTECT_WRITE / MM_PROTECT_EXECUTE; MM_PROTECT_USER is added), then copies Size bytes
 * of Contents (may be NULL) to Va. The framework's own mapping, until the VADs of lab 08. */
NTSTATUS PsMapUserMemory(PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect, const VOID *Contents,
                         SIZE_T Size);
/* Creates a thread in Process that starts in user mode at StartAddress with RCX (and RDI)
 * = Argument, RDX (and RSI) = Argument2, RSP just below a StackPages-page stack (16-byte
 * aligned minus 8, as after a call, with 0x20 bytes of home space), GS base its TEB. It is
 * ready at once. *Thread is its ETHREAD, held by the process until PsWaitForProcess. */
NTSTATUS PsCreateUserThread(PEPROCESS Process, ULONG_PTR StartAddress, ULONG64 Argument, ULONG64 Argument2,
                            ULONG StackPages, PETHREAD *Thread);
/* Lab 09 (w16t): the current thread's ETHREAD if it is a user thread, else NULL. */
PETHREAD PsGetCurrentUserThread(VOID);
/* Lab 09 (w16t): the thread services (kernel/ps/psthread.c, process.c). */
NTSTATUS NtCreateThreadEx(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                          HANDLE ProcessHandle, PVOID StartRoutine, PVOID Argument, ULONG CreateFlags,
                          SIZE_T ZeroBits, SIZE_T StackSize, SIZE_T MaximumStackSize, PVOID AttributeList);
NTSTATUS NtTerminateThread(HANDLE ThreadHandle, NTSTATUS ExitStatus);
NTSTATUS NtQueryInformationThread(HANDLE ThreadHandle, ULONG ThreadInformationClass, PVOID ThreadInformation,
                                  ULONG ThreadInformationLength, PULONG ReturnLength);
/* PsCreateUserProcessObject, the Code bytes mapped executable at CodeAddress, and its
 * initial thread at CodeAddress + EntryOffset (NtCreateUserProcess's work, for a code image
 * that is already in memory; images from files come through the PE loader). */
NTSTATUS PsCreateUserProcess(PCSTR ImageName, const VOID *Code, SIZE_T CodeSize, ULONG_PTR CodeAddress,
                             ULONG_PTR EntryOffset, ULONG64 Argument, ULONG64 Argument2, PEPROCESS *Process);
/* Waits until every thread of Process has ended (threads that still run keep the caller
 * waiting: the watchdog names them), frees them, and returns its exit status. The address
 * space stays until the process object is deleted (its last reference). */
NTSTATUS PsWaitForProcess(PEPROCESS Process);
VOID PspDeleteUserProcess(PEPROCESS Process);
/* Copies from / to Process's user memory (attached; the fixup table catches a bad page). */
NTSTATUS PsReadUserMemory(PEPROCESS Process, ULONG_PTR Va, PVOID Buffer, SIZE_T Size);
NTSTATUS PsWriteUserMemory(PEPROCESS Process, ULONG_PTR Va, const VOID *Buffer, SIZE_T Size);
/* Begins the end of Process: ExitStatus set (once), each of its threads leaves at its
 * next return to user mode; the current thread leaves at once if it is one of them. */
VOID PsTerminateProcess(PEPROCESS Process, NTSTATUS ExitStatus);
/* Frames of the user half of Process's address space (page tables included): the
 * conservation count of its tests. */
ULONG64 PsQueryUserFrames(PEPROCESS Process);

/* The ktest runner, after each test: takes the object manager down (ObpResetObjectManager)
 * when no process but the system is left, so that the next test finds the pool as it was. */
VOID PsResetObjectsAfterTest(VOID);

/* Services (user/services.def). */
NTSTATUS NtTerminateProcess(HANDLE ProcessHandle, NTSTATUS ExitStatus);
NTSTATUS NtYieldExecution(VOID);
NTSTATUS NtQuerySystemTime(PLARGE_INTEGER SystemTime);
typedef struct _PROCESS_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    ULONG64 PebBaseAddress;
    ULONG64 AffinityMask;
    LONG BasePriority;
    ULONG64 UniqueProcessId;
    ULONG64 InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION;
#define ProcessBasicInformation 0
#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_INVALID_INFO_CLASS
#define STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003L)
#endif
NTSTATUS NtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, PVOID ProcessInformation,
                                   ULONG ProcessInformationLength, PULONG ReturnLength);
/* A test service: records its 16 arguments (KiServiceCallLog) and returns STATUS_SUCCESS. */
NTSTATUS NtTestArguments(ULONG64 A0, ULONG64 A1, ULONG64 A2, ULONG64 A3, ULONG64 A4, ULONG64 A5, ULONG64 A6,
                         ULONG64 A7, ULONG64 A8, ULONG64 A9, ULONG64 A10, ULONG64 A11, ULONG64 A12, ULONG64 A13,
                         ULONG64 A14, ULONG64 A15);
