/* kuser.h - user mode (lab 08, the um part): the user/system boundary, probing and
 * copying user buffers (with the exception-fixup table standing in for SEH), the system
 * service table and its dispatcher, PreviousMode. Processes and threads are in ps.h. */
#pragma once

#include "ke.h"

/* ---- Status codes of the user-mode core (lab 08, um) ---- */
#ifndef STATUS_DATATYPE_MISALIGNMENT
#define STATUS_DATATYPE_MISALIGNMENT ((NTSTATUS)0x80000002L)
#endif
#ifndef STATUS_INVALID_SYSTEM_SERVICE
#define STATUS_INVALID_SYSTEM_SERVICE ((NTSTATUS)0xC000001CL)
#endif
#ifndef STATUS_PRIVILEGED_INSTRUCTION
#define STATUS_PRIVILEGED_INSTRUCTION ((NTSTATUS)0xC0000096L)
#endif
#ifndef STATUS_PROCESS_IS_TERMINATING
#define STATUS_PROCESS_IS_TERMINATING ((NTSTATUS)0xC000010AL)
#endif
#ifndef STATUS_STACK_OVERFLOW
#define STATUS_STACK_OVERFLOW ((NTSTATUS)0xC00000FDL)
#endif
#ifndef STATUS_ARRAY_BOUNDS_EXCEEDED
#define STATUS_ARRAY_BOUNDS_EXCEEDED ((NTSTATUS)0xC000008CL)
#endif

/* ---- The user/system boundary ----
 * User space is [0, MmUserProbeAddress): the highest user address is 0x7FFFFFFEFFFF and
 * the 64 KiB below the boundary are never mapped (NT x64's values). */
#define MM_USER_PROBE_ADDRESS 0x00007FFFFFFF0000ULL
extern const ULONG_PTR MmUserProbeAddress;

/* Lab 08 (labs/08-usermode/probe.c). See the contracts there. */
NTSTATUS ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment);
NTSTATUS ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment);

/* ---- Copying to and from user memory (framework, arch/x86_64/usercopy.asm) ----
 * Each copies Length bytes and returns STATUS_SUCCESS, or STATUS_ACCESS_VIOLATION if an
 * access faulted (a page fault the memory manager could not resolve, or a general
 * protection fault on a non-canonical address): the faulting instruction is in the
 * exception-fixup table, and the trap handler resumes at its fixup instead of
 * bugchecking. They do not check the boundary: probe first (ProbeForRead/ProbeForWrite). */
NTSTATUS KeCopyFromUser(PVOID Destination, const volatile VOID *UserSource, SIZE_T Length);
NTSTATUS KeCopyToUser(volatile VOID *UserDestination, const VOID *Source, SIZE_T Length);
/* Reads one byte of Address and writes it back (the touch of ProbeForWrite). */
NTSTATUS KeTouchUserByteForWrite(volatile VOID *Address);
/* Reads one byte (a probe for read that faults the page in). */
NTSTATUS KeTouchUserByteForRead(const volatile VOID *Address);

/* The exception-fixup table: a fault at Rip inside one of the routines above resumes at
 * its Fixup (which returns STATUS_ACCESS_VIOLATION). KiFindFixup returns 0 if Rip has none. */
typedef struct _KFIXUP_ENTRY {
    ULONG64 Rip;
    ULONG64 Fixup;
} KFIXUP_ENTRY;
ULONG64 KiFindFixup(ULONG64 Rip);
/* Faults the fixup table turned into STATUS_ACCESS_VIOLATION since boot. */
extern volatile ULONG64 KiFixupCount;

/* ---- The system service table ----
 * One entry a service, in the order of user/services.def (SVC(NtName, ArgCount)); the
 * number a caller puts in EAX is the index. Arguments: the first four in R10 (ntdll's stub
 * copies RCX there: syscall overwrites RCX), RDX, R8, R9; the fifth and later on the
 * caller's stack, at user RSP + 0x28 + 8 * (i - 4) for argument i (0-based): RSP points at
 * the stub's return address, then the four home slots of the register arguments. */
#define KI_MAX_SERVICE_ARGUMENTS 16
typedef NTSTATUS (*PKSYSTEM_SERVICE)(VOID);
typedef struct _KSERVICE_TABLE_DESCRIPTOR {
    const PKSYSTEM_SERVICE *Base;   /* the routines */
    const UCHAR *Number;            /* arguments of each routine (each <= KI_MAX_SERVICE_ARGUMENTS) */
    ULONG Limit;                    /* services in the table */
    const PCSTR *Names;             /* for messages and debuggers */
} KSERVICE_TABLE_DESCRIPTOR, *PKSERVICE_TABLE_DESCRIPTOR;
extern const KSERVICE_TABLE_DESCRIPTOR KeServiceDescriptorTable;

/* The index of each service (generated from user/services.def): KSVC_NtClose... */
enum {
#define SVC(Name, Args) KSVC_##Name,
#include "../../user/services.def"
#undef SVC
    KSVC_COUNT
};

/* Framework: calls Routine with Count (<= KI_MAX_SERVICE_ARGUMENTS) captured arguments. */
NTSTATUS KiCallSystemService(PKSYSTEM_SERVICE Routine, const ULONG64 *Arguments, ULONG Count);

/* What KiCallSystemService was asked to call, the last KI_SERVICE_CALL_LOG times (tests). */
#define KI_SERVICE_CALL_LOG 64
typedef struct _KI_SERVICE_CALL_RECORD {
    ULONG Service;                  /* index in the table */
    ULONG Count;                    /* arguments passed */
    ULONG64 Arguments[KI_MAX_SERVICE_ARGUMENTS]; /* 0 past Count */
    NTSTATUS Status;
} KI_SERVICE_CALL_RECORD, *PKI_SERVICE_CALL_RECORD;
extern KI_SERVICE_CALL_RECORD KiServiceCallLog[KI_SERVICE_CALL_LOG];
extern volatile ULONG KiServiceCallLogNext;
extern volatile ULONG64 KiSystemCalls;
extern volatile ULONG64 KiTestArgumentsSum; /* NtTestArguments: the sum of its last arguments */

/* Framework: before a thread returns to user mode (service exit, interrupt or exception
 * exit): a thread whose process is ending leaves here (PspExitThread). */
VOID KiExitToUserMode(PKTRAP_FRAME TrapFrame);

/* The memory manager's page-fault handler (lab 08, pf: labs/08-usermode/fault.c), called
 * for a fault on a user address (FaultStatus: the page-fault error code; bit 1 write,
 * bit 4 instruction fetch). A failure status is raised in the process (user mode) or
 * goes to the fixup table (kernel mode). Until pf's file exists, a framework default
 * resolves nothing (STATUS_ACCESS_VIOLATION). */
NTSTATUS MmAccessFault(ULONG FaultStatus, PVOID VirtualAddress, KPROCESSOR_MODE PreviousMode, PVOID TrapInformation);

/* Lab 08 (labs/08-usermode/syscall.c): the dispatcher's argument capture. */
NTSTATUS KiSystemServiceDispatch(PKTRAP_FRAME TrapFrame);

/* ---- Previous mode ----
 * UserMode while the current thread runs a service called from user mode (or handles an
 * exception or interrupt taken in user mode); KernelMode otherwise. */
KPROCESSOR_MODE ExGetPreviousMode(VOID);
#define KeGetPreviousMode ExGetPreviousMode
