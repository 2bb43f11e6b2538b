/* kethread.h - the processor and thread state of the kernel core (included by ke.h):
 * the vector map, KPCR/KPRCB (reached through the GS base), KTHREAD, interrupt objects,
 * DPCs, the framework's gate (its own wait), and the hooks that labs 04 and 05 fill in.
 *
 * Vector map, as on NT x64 (vector = IRQL * 16 + n): 0x1F APC, 0x2F DISPATCH, device
 * vectors 0x30-0xCF, 0xD1 the clock, 0xFF spurious. Software interrupts (APC, DISPATCH)
 * are requested by bits in KPRCB.SoftwareInterruptPending and delivered when IRQL drops
 * below their level (KeLowerIrql, interrupt exit); no self-IPI is sent. */
#pragma once

#include "ntdef.h"

#define APC_VECTOR 0x1F
#define DISPATCH_VECTOR 0x2F
#define CLOCK_VECTOR 0xD1
#define SPURIOUS_VECTOR 0xFF
#define MAXIMUM_VECTOR 256

typedef LONG KPRIORITY;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;
typedef CHAR KPROCESSOR_MODE;
#define KernelMode 0
#define UserMode 1

#define LOW_PRIORITY 0
#define LOW_REALTIME_PRIORITY 16
#define HIGH_PRIORITY 31
#define MAXIMUM_PRIORITY 32

/* ---- Thread states and wait reasons (NT's values) ---- */
typedef enum _KTHREAD_STATE {
    Initialized = 0,
    Ready = 1,
    Running = 2,
    Standby = 3,
    Terminated = 4,
    Waiting = 5,
    Transition = 6,
    DeferredReady = 7,
} KTHREAD_STATE;

typedef enum _KWAIT_REASON {
    Executive = 0,
    FreePage = 1,
    PageIn = 2,
    PoolAllocation = 3,
    DelayExecution = 4,
    Suspended = 5,
    UserRequest = 6,
    WrExecutive = 7,
    WrQueue = 15,
    WrDispatchInt = 31,
    WrKernel = 37, /* framework waits (gates) that are not a lab's object */
    MaximumWaitReason = 38,
} KWAIT_REASON;
PCSTR KeThreadStateName(ULONG State);
PCSTR KeWaitReasonName(ULONG WaitReason);

/* ---- Dispatcher objects (lab 05 builds on these) ---- */
typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Reserved[3];
    volatile LONG SignalState;
    LIST_ENTRY WaitListHead; /* KWAIT_BLOCK.WaitListEntry */
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

/* Object types in DISPATCHER_HEADER.Type (NT's KOBJECTS values). */
typedef enum _KOBJECTS {
    EventNotificationObject = 0,
    EventSynchronizationObject = 1,
    MutantObject = 2,
    ProcessObject = 3,
    SemaphoreObject = 5,
    ThreadObject = 6,
    GateObject = 7,
    TimerNotificationObject = 8,
    TimerSynchronizationObject = 9,
    DpcObject = 19,
    InterruptObject = 22,
} KOBJECTS;

#define THREAD_WAIT_OBJECTS 3
/* The kernel half of a process (lab 08): EPROCESS (ps.h) begins with the same fields.
 * DirectoryTableBase is the physical address of its PML4 (0: the kernel's own tables). */
typedef struct _KPROCESS {
    DISPATCHER_HEADER Header;
    ULONG64 DirectoryTableBase;
} KPROCESS, *PKPROCESS;

typedef struct _KWAIT_BLOCK {
    LIST_ENTRY WaitListEntry; /* in the object's WaitListHead */
    struct _KTHREAD *Thread;
    PVOID Object;
    struct _KWAIT_BLOCK *NextWaitBlock; /* the ring of one wait's blocks (lab 05) */
    USHORT WaitKey;           /* index of the object in a WaitAny/WaitAll; STATUS_TIMEOUT for the timeout's */
    UCHAR WaitType;           /* WaitAll 0, WaitAny 1, WaitFramework 2 (a gate or join: not lab 05's) */
    UCHAR BlockState;
} KWAIT_BLOCK, *PKWAIT_BLOCK;
#define WaitFramework 2

typedef struct _KAPC_STATE {
    LIST_ENTRY ApcListHead[2]; /* [KernelMode], [UserMode] */
    PVOID Process;
    BOOLEAN KernelApcInProgress;
    BOOLEAN KernelApcPending;
    BOOLEAN UserApcPending;
} KAPC_STATE, *PKAPC_STATE;

/* ---- Timers (lab 04; the rest of their API is in ketimer.h) ---- */
#ifndef NTLAB_LARGE_INTEGER
#define NTLAB_LARGE_INTEGER
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONG64 QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
#endif

typedef enum _TIMER_TYPE {
    NotificationTimer = 0,
    SynchronizationTimer = 1,
} TIMER_TYPE;

/* A timer. While set it is on the timer table's list TimerListEntry, in the entry
 * KiTimerIndex(DueTime); Inserted says so. DueTime is an absolute interrupt time. */
typedef struct _KTIMER {
    DISPATCHER_HEADER Header;      /* Type: TimerNotificationObject / TimerSynchronizationObject;
                                    * SignalState: 1 once expired, 0 when (re)set */
    ULONG64 DueTime;               /* interrupt time (100 ns) at which it expires */
    LIST_ENTRY TimerListEntry;     /* in KiTimerTableListHead[Hand].Entry while Inserted */
    struct _KDPC *Dpc;             /* queued (SystemArgument1 = low, 2 = high of the expiry time) */
    LONG Period;                   /* milliseconds; 0 = one-shot */
    BOOLEAN Inserted;              /* on the timer table */
    UCHAR Hand;                    /* the table entry it is on (KiTimerIndex(DueTime)) */
} KTIMER, *PKTIMER;

typedef VOID (*PKSTART_ROUTINE)(PVOID StartContext);

#define KERNEL_STACK_PAGES 4      /* 16 KiB, below it one guard page */
#define THREAD_QUANTUM 6          /* clock ticks, decremented by 3 a tick (NT's units) */
#define CLOCK_QUANTUM_DECREMENT 3

/* A thread. Its kernel stack is [StackLimit, StackBase); GuardPage (if not 0) is the
 * unmapped page just below StackLimit. KernelStack is the saved RSP while the thread
 * is not running (KiSwapContext's frame). */
typedef struct _KTHREAD {
    DISPATCHER_HEADER Header;     /* signalled when the thread terminates */
    ULONG_PTR StackBase;
    ULONG_PTR StackLimit;
    ULONG_PTR KernelStack;
    ULONG_PTR GuardPage;
    volatile UCHAR State;         /* KTHREAD_STATE */
    UCHAR WaitReason;             /* KWAIT_REASON, while Waiting */
    UCHAR WaitMode;
    BOOLEAN Alertable;
    KPRIORITY Priority;
    KPRIORITY BasePriority;
    LONG Quantum;
    int16_t KernelApcDisable;
    int16_t SpecialApcDisable;
    KAPC_STATE ApcState;
    NTSTATUS WaitStatus;
    PKWAIT_BLOCK WaitBlockList;
    KWAIT_BLOCK WaitBlock[THREAD_WAIT_OBJECTS + 1]; /* [3]: the timeout's (TIMER_WAIT_BLOCK) and the framework's gate/join */
    /* Lab 05 (kewait.h): the timer of a wait's timeout, the mutants owned, the wait's IRQL
     * and the boost still to decay. */
    KTIMER Timer;
    LIST_ENTRY MutantListHead;    /* KMUTANT.MutantListEntry of every mutant it owns */
    KIRQL WaitIrql;               /* the IRQL the wait was called at (restored when it returns) */
    BOOLEAN WaitNext;
    int8_t PriorityDecrement;     /* levels of boost above BasePriority still to decay */
    BOOLEAN Preempted;            /* taken off the processor by a higher priority: head of its queue */
    LIST_ENTRY WaitListEntry;     /* the ready queue the thread is on */
    LIST_ENTRY ThreadListEntry;   /* KiThreadListHead: every thread */
    PKSTART_ROUTINE StartRoutine;
    PVOID StartContext;
    ULONG ThreadId;
    BOOLEAN InUse;                /* the framework's thread table slot is taken */
    BOOLEAN Joined;
    CHAR Name[32];
    PVOID Owner;                  /* who created it (the ktest context), for the end-of-test audit */
    /* Lab 08 (um): user mode. Process is the thread's own process (a KPROCESS/EPROCESS; NULL:
     * the system process); ApcState.Process the one it runs in (attached). TrapFrame: the
     * frame at the top of its kernel stack that holds its user registers (user threads only). */
    PVOID Process;
    struct _KTRAP_FRAME *TrapFrame;
    PVOID Teb;                    /* user address of its TEB (the user GS base) */
    KPROCESSOR_MODE PreviousMode; /* UserMode while it runs a service or trap from user mode */
    BOOLEAN UserThread;           /* it has a user half (PsCreateUserThread) */
    BOOLEAN ExitPending;          /* leave at the next return to user mode (its process is ending) */
    ULONG Teb32;                  /* lab 09 (w16t): its 32-bit TEB (a WOW64 thread), 0 if none: the
                                   * context switch makes it the base of the GDT's 0x53 descriptor */
    UCHAR FxSaveArea[512] __attribute__((aligned(16))); /* FXSAVE image while not running */
} KTHREAD, *PKTHREAD;

/* ---- Interrupt objects ---- */
struct _KINTERRUPT;
typedef BOOLEAN (*PKSERVICE_ROUTINE)(struct _KINTERRUPT *Interrupt, PVOID ServiceContext);
typedef struct _KINTERRUPT {
    USHORT Type;
    USHORT Size;
    PKSERVICE_ROUTINE ServiceRoutine;
    PVOID ServiceContext;
    ULONG Vector;
    UCHAR Irql;                   /* Vector >> 4 */
    BOOLEAN Connected;
    ULONG64 Count;                /* times the routine ran */
} KINTERRUPT, *PKINTERRUPT;

/* Lab 04 (labs/04-irql-dpc/interrupt.c). FALSE if the vector is taken, reserved, or Irql
 * is not Vector >> 4. */
VOID KeInitializeInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                           ULONG Vector, UCHAR Irql);
BOOLEAN KeConnectInterrupt(PKINTERRUPT Interrupt);
BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt);

/* ---- DPCs (lab 04) ---- */
struct _KDPC;
typedef VOID (*PKDEFERRED_ROUTINE)(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                                   PVOID SystemArgument2);
#define LowImportance 0
#define MediumImportance 1
#define HighImportance 2
typedef struct _KDPC {
    UCHAR Type;
    UCHAR Importance;
    USHORT Number;
    LIST_ENTRY DpcListEntry;      /* in KPRCB.DpcListHead while queued */
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;       /* non-NULL while queued */
} KDPC, *PKDPC;

/* ---- The processor block (one processor) ---- */
typedef struct _KPRCB {
    PKTHREAD CurrentThread;
    PKTHREAD NextThread;          /* chosen to run next (KiQuantumEnd, preemption) */
    PKTHREAD IdleThread;
    ULONG Number;
    /* Software interrupts requested: bit (1 << APC_LEVEL), bit (1 << DISPATCH_LEVEL). */
    volatile ULONG SoftwareInterruptPending;
    volatile BOOLEAN QuantumEnd;  /* the clock found the running thread's quantum used up */
    /* DPC queue (lab 04). */
    LIST_ENTRY DpcListHead;
    volatile ULONG DpcQueueDepth;
    ULONG64 DpcCount;
    /* Ready queues, one per priority, and the summary bitmap (lab 05). */
    LIST_ENTRY DispatcherReadyListHead[MAXIMUM_PRIORITY];
    ULONG ReadySummary;
    /* Interrupt objects by vector. */
    PKINTERRUPT InterruptObject[MAXIMUM_VECTOR];
    ULONG64 InterruptCount;
    ULONG64 ContextSwitches;
    struct _KTRAP_FRAME *InterruptTrapFrame; /* the innermost interrupt's frame, while it runs */
    volatile LONG DispatcherLock; /* a real lock word: a re-acquire is detected */
} KPRCB, *PKPRCB;

/* The processor control region: what GS points at in kernel mode. */
typedef struct _KPCR {
    struct _KPCR *Self;
    PKPRCB CurrentPrcb;
    ULONG64 UserRsp;              /* gs:0x10 the user RSP while syscall entry switches stacks */
    ULONG64 RspBase;              /* gs:0x18 the current thread's kernel stack top (= TSS.Rsp0) */
    ULONG64 Reserved[4];
    KPRCB Prcb;
} KPCR, *PKPCR;

static inline PKPCR KeGetPcr(VOID)
{
    PKPCR p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}
static inline PKPRCB KeGetCurrentPrcb(VOID)
{
    PKPRCB p;
    __asm__ volatile("movq %%gs:8, %0" : "=r"(p));
    return p;
}
PKTHREAD KeGetCurrentThread(VOID);

/* ---- The clock ---- */
extern volatile ULONG64 KeTickCount;       /* clock interrupts since the clock started */
extern ULONG KeTimeIncrement;               /* 100 ns units per tick */
extern ULONG KeClockHz;                     /* ticks per second, 0 until the clock runs */
ULONG64 KeQueryInterruptTime(VOID);         /* 100 ns units since the clock started */

/* ---- Threads (framework) ---- */
/* Creates a thread that runs StartRoutine(StartContext) at PASSIVE_LEVEL, on a kernel
 * stack from the system PTE region with a guard page, and readies it (KiReadyThread).
 * STATUS_INSUFFICIENT_RESOURCES without a stack (labs 01 and 02 are needed for one) or
 * a free thread slot. */
NTSTATUS KeCreateThread(PKTHREAD *Thread, PCSTR Name, PKSTART_ROUTINE StartRoutine, PVOID StartContext,
                        KPRIORITY Priority);
/* Lab 08: the same for a user thread of Process (a KPROCESS): it runs in Process's address
 * space with a KTRAP_FRAME kept at the top of its kernel stack (KTHREAD.TrapFrame) and Teb
 * as its user GS base; StartRoutine (kernel mode) enters user mode through that frame. */
NTSTATUS KeCreateThreadEx(PKTHREAD *Thread, PCSTR Name, PKSTART_ROUTINE StartRoutine, PVOID StartContext,
                          KPRIORITY Priority, PVOID Process, PVOID Teb);
/* Lab 08: loads what New needs to run (kernel stack top for traps, user GS base, the page
 * tables of ApcState.Process); the attach routines call it for the current thread. */
VOID KiPrepareAddressSpace(PKTHREAD New);
/* Ends the current thread; its header is signalled (KeWaitForThread returns). */
DECLSPEC_NORETURN VOID PsTerminateSystemThread(NTSTATUS ExitStatus);
/* Waits (WrKernel) until Thread has terminated, then frees its stack and slot. */
VOID KeJoinThread(PKTHREAD Thread);
/* Gives the processor to another ready thread of the same or higher priority, if any. */
VOID KeYieldProcessor(VOID);

/* ---- The framework's own wait: a gate (like NT's KGATE) ----
 * One waiter is released per signal; a signal with no waiter is kept (SignalState 1).
 * Waits use the lab 05 hooks (KiReadyThread, KiSelectNextThread): while they are stubs,
 * a waiter is never resumed and the watchdog reports the hang. */
typedef struct _KGATE {
    DISPATCHER_HEADER Header;
} KGATE, *PKGATE;
VOID KeInitializeGate(PKGATE Gate);
VOID KeSignalGate(PKGATE Gate);
VOID KeWaitForGate(PKGATE Gate, KWAIT_REASON WaitReason);

/* ---- Framework spin locks (for framework data and the locks around labs 01-03) ----
 * A real lock word: acquiring a lock the processor already holds bugchecks with
 * SPIN_LOCK_ALREADY_OWNED. KiAcquireFrameworkLock raises to Irql first; the lock
 * records its owner. Lab 04's KeAcquireSpinLock is the students' own. */
VOID KiAcquireFrameworkLock(PKSPIN_LOCK Lock, KIRQL Irql, PKIRQL OldIrql);
VOID KiReleaseFrameworkLock(PKSPIN_LOCK Lock, KIRQL OldIrql);
/* The same lock word, taken with interrupts disabled and IRQL left as the caller's: the
 * student code inside sees the caller's IRQL (its IRQL checks keep their bugcheck codes)
 * and nothing can preempt it. Flags keeps the caller's interrupt flag. */
VOID KiAcquireFrameworkLockAtCallerIrql(PKSPIN_LOCK Lock, PULONG64 Flags);
VOID KiReleaseFrameworkLockAtCallerIrql(PKSPIN_LOCK Lock, ULONG64 Flags);

/* ---- Stubs that cannot return NTSTATUS ----
 * A stubbed function that returns BOOLEAN, LONG or VOID calls this first; the ktest
 * runner turns it into the failing check "implemented" of the running test (the
 * grader's verdict "not implemented"). Outside a test it prints one line. */
VOID KeNotImplemented(PCSTR Function, PCSTR Lab);

/* ---- Hooks into lab 04 and lab 05 code ----
 * The framework calls these; each lives in its own file under kernel/ke/ (dpc.c, timer.c,
 * sched.c, apc.c) with a simple framework default, and becomes student code when labs 04
 * and 05 are sliced (the file moves to labs/NN-name and solutions/NN-name). A stub does
 * nothing useful: the boot goes on, DPCs never run, waiting threads never resume (the
 * watchdog reports the hang). Stubs of functions that tests call (KeInsertQueueDpc,
 * KeSetTimer...) call KeNotImplemented; stubs of hooks the framework calls whatever test
 * runs (KiTimerExpiration every tick; KiRetireDpcList, KiQuantumEnd, KiDeliverApc once
 * something was queued or a thread created) may call it too, since only then are they
 * called: KiRetireDpcList when the DPC queue is not empty, KiQuantumEnd only once a thread
 * besides the initial and idle threads exists, KiDeliverApc when an APC interrupt was
 * requested, but KiTimerExpiration's stub must not (it runs during every test). */
/* lab 04 */
VOID KeInitializeDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
BOOLEAN KeInsertQueueDpc(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN KeRemoveQueueDpc(PKDPC Dpc);
VOID KiRetireDpcList(PKPRCB Prcb);                 /* DISPATCH_LEVEL: run every queued DPC */
VOID KiTimerExpiration(PKPRCB Prcb, ULONG64 InterruptTime); /* DISPATCH_LEVEL, each tick */
/* lab 05 */
VOID KiReadyThread(PKTHREAD Thread);               /* DISPATCH_LEVEL: put Thread on a ready queue */
PKTHREAD KiSelectNextThread(PKPRCB Prcb);          /* DISPATCH_LEVEL: take the next to run; NULL: idle */
VOID KiQuantumEnd(VOID);                           /* DISPATCH_LEVEL: the running thread's quantum ended */
VOID KiDeliverApc(KPROCESSOR_MODE PreviousMode);   /* APC_LEVEL: deliver pending kernel APCs */
