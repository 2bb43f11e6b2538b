/* ps.h - processes and threads as objects (lab 06's framework side): a minimal EPROCESS
 * with its handle table (ObjectTable) and an ETHREAD for a kernel thread, the system
 * process (whose table holds the kernel handles), PsCreateSystemThread, and attaching
 * the current thread to another process (what "the current process" means). */
#pragma once

#include "ob.h"

typedef struct _EPROCESS {
    DISPATCHER_HEADER Header;            /* the KPROCESS part: signalled when it ends */
    ULONG_PTR UniqueProcessId;
    PHANDLE_TABLE ObjectTable;           /* its handles (lab 06's table) */
    CHAR ImageFileName[16];
    LIST_ENTRY ActiveProcessLinks;       /* PsActiveProcessHead */
    /* Lab 08 (vm): MmCreateProcessAddressSpace sets both; 0 / NULL for the system process
     * (it runs on the kernel's tables, MmKernelPml4). */
    ULONG64 DirectoryTableBase;          /* CR3 of its address space */
    struct _MMADDRESS_SPACE *AddressSpace; /* VADs, counters, working set (kernel/mm/mi.h) */
} EPROCESS, *PEPROCESS;

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
/* The current thread runs in Process until KeUnstackDetachProcess (not nested). */
VOID KeStackAttachProcess(PEPROCESS Process);
VOID KeUnstackDetachProcess(VOID);
/* Creates a kernel thread in the system process and a kernel handle to it (THREAD_ALL_ACCESS).
 * The thread object holds its own reference until the thread has ended and been joined
 * (its delete method joins it). */
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext);
