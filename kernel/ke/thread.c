/* thread.c - threads: the initial thread (the boot context, on the boot stack), the idle
 * thread, and framework-created threads on kernel stacks with guard pages (mm/syspte.c).
 * Thread objects come from a framework table (the pool is lab 03's: a stubbed pool must
 * not stop the clock or the idle thread). Switching: KiSwapThread / KiSwitchTo over
 * KiSwapContext (arch/x86_64/ctxswap.asm). */
#include "bugcodes.h"
#include "kewait.h"
#include "ki.h"
#include "mm.h"
#include "rtl.h"

#define KI_MAX_THREADS 128
#define KI_IDLE_STACK_SIZE 16384

KTHREAD KiInitialThread, KiIdleThread;
LIST_ENTRY KiThreadListHead;
volatile ULONG KiThreadCount; /* threads on KiThreadListHead */
static KTHREAD KiThreadTable[KI_MAX_THREADS];
static ULONG KiNextThreadId = 1;
static KSPIN_LOCK KiThreadTableLock;
static __attribute__((aligned(16))) UCHAR KiIdleStack[KI_IDLE_STACK_SIZE];

/* Offsets KiSwapContext needs (ctxswap.asm). */
const ULONG64 KiSwapContextOffsets[2] = {offsetof(KTHREAD, KernelStack), offsetof(KTHREAD, FxSaveArea)};
extern UCHAR KiBootStack[], KiBootStackTop[], KiBootStackGuard[];
extern VOID KiThreadStartup(VOID);

static PCSTR const KiStateNames[] = {"Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting",
                                     "Transition", "DeferredReady"};
PCSTR KeThreadStateName(ULONG State)
{
    return State < ARRAYSIZE(KiStateNames) ? KiStateNames[State] : "?";
}

PCSTR KeWaitReasonName(ULONG WaitReason)
{
    switch (WaitReason) {
    case Executive: return "Executive";
    case FreePage: return "FreePage";
    case PageIn: return "PageIn";
    case PoolAllocation: return "PoolAllocation";
    case DelayExecution: return "DelayExecution";
    case Suspended: return "Suspended";
    case UserRequest: return "UserRequest";
    case WrExecutive: return "WrExecutive";
    case WrQueue: return "WrQueue";
    case WrDispatchInt: return "WrDispatchInt";
    case WrKernel: return "WrKernel";
    default: return "?";
    }
}

static VOID KiInitializeThreadObject(PKTHREAD Thread, PCSTR Name, KPRIORITY Priority)
{
    RtlZeroMemory(Thread, sizeof(*Thread));
    Thread->Header.Type = ThreadObject;
    InitializeListHead(&Thread->Header.WaitListHead);
    InitializeListHead(&Thread->ApcState.ApcListHead[KernelMode]);
    InitializeListHead(&Thread->ApcState.ApcListHead[UserMode]);
    InitializeListHead(&Thread->MutantListHead);
    /* The timer of its waits' timeouts: a notification timer, not set (lab 04's
     * KeInitializeTimerEx is student code; a stubbed lab 04 must not break threads). */
    Thread->Timer.Header.Type = TimerNotificationObject;
    InitializeListHead(&Thread->Timer.Header.WaitListHead);
    Thread->Priority = Thread->BasePriority = Priority;
    Thread->Quantum = THREAD_QUANTUM;
    Thread->ThreadId = KiNextThreadId++;
    Thread->InUse = TRUE;
    RtlFormatString(Thread->Name, sizeof(Thread->Name), "%s", Name);
    /* A clean FPU/SSE state for the first FXRSTOR: FCW 0x37F, MXCSR 0x1F80. */
    Thread->FxSaveArea[0] = 0x7F;
    Thread->FxSaveArea[1] = 0x03;
    Thread->FxSaveArea[24] = 0x80;
    Thread->FxSaveArea[25] = 0x1F;
    InsertTailList(&KiThreadListHead, &Thread->ThreadListEntry);
    KiThreadCount++;
}

/* The switch frame KiSwapContext pops for a new thread: r15 r14 r13 r12 rbx rbp, then
 * the return into KiThreadStartup with r12 = routine, r13 = context. */
static VOID KiInitializeThreadStack(PKTHREAD Thread, PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    /* A user thread keeps the top of its stack for the frame of its user registers. */
    ULONG_PTR top = Thread->UserThread ? Thread->StackBase - sizeof(KTRAP_FRAME) : Thread->StackBase;
    PULONG64 frame = (PULONG64)(top - 72);
    frame[0] = 0;                          /* r15 */
    frame[1] = 0;                          /* r14 */
    frame[2] = (ULONG64)StartContext;      /* r13 */
    frame[3] = (ULONG64)StartRoutine;      /* r12 */
    frame[4] = 0;                          /* rbx */
    frame[5] = 0;                          /* rbp */
    frame[6] = (ULONG64)KiThreadStartup;   /* return address */
    Thread->KernelStack = (ULONG_PTR)frame;
    Thread->StartRoutine = StartRoutine;
    Thread->StartContext = StartContext;
}

static VOID KiIdleLoop(PVOID Context);

VOID KiInitializeThreads(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    InitializeListHead(&KiThreadListHead);
    KiInitializeThreadObject(&KiInitialThread, "initial", 8);
    KiInitialThread.StackBase = (ULONG_PTR)KiBootStackTop;
    KiInitialThread.StackLimit = (ULONG_PTR)KiBootStack;
    KiInitialThread.GuardPage = (ULONG_PTR)KiBootStackGuard; /* unmapped (boot.asm) */
    KiInitialThread.State = Running;
    prcb->CurrentThread = &KiInitialThread;

    KiInitializeThreadObject(&KiIdleThread, "idle", 0);
    KiIdleThread.StackBase = (ULONG_PTR)KiIdleStack + sizeof(KiIdleStack);
    KiIdleThread.StackLimit = (ULONG_PTR)KiIdleStack;
    KiInitializeThreadStack(&KiIdleThread, KiIdleLoop, NULL);
    KiIdleThread.State = Ready; /* never on a ready queue: chosen when nothing else is */
    prcb->IdleThread = &KiIdleThread;
}

/* Runs when nothing else is ready: takes a ready thread if the dispatcher has one,
 * otherwise halts with interrupts on until the next interrupt. */
static VOID KiIdleLoop(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    PKPRCB prcb = KeGetCurrentPrcb();
    for (;;) {
        KIRQL old = KeRaiseIrqlToDpcLevel();
        PKTHREAD next = prcb->NextThread ? prcb->NextThread : KiSelectNextThread(prcb);
        prcb->NextThread = NULL;
        if (next && next != &KiIdleThread)
            KiSwitchTo(next);
        KeLowerIrql(old);
        _disable();
        if (prcb->NextThread || prcb->SoftwareInterruptPending)
            _enable();
        else
            __asm__ volatile("sti; hlt" ::: "memory");
    }
}

ULONG64 KiKernelDirectoryTableBase; /* CR3 of the kernel's own tables (set on the first switch) */

/* The page tables of the process a thread runs in (0: the kernel's own). */
static ULONG64 KiDirectoryTableBaseOf(PKTHREAD Thread)
{
    PKPROCESS p = Thread->ApcState.Process;
    return p && p->DirectoryTableBase ? p->DirectoryTableBase : KiKernelDirectoryTableBase;
}

/* Lab 08: what the processor needs before New runs: its kernel stack top for traps and
 * syscalls from user mode, its TEB as the user GS base, its process's page tables.
 * Lab 09 (w16t): as NT does, its 32-bit TEB becomes the base of the GDT's 0x53 descriptor
 * (FS in compatibility mode), and FS is reloaded so that the base cached from the previous
 * thread's load is not the one New returns to user mode with (the return does not reload
 * FS; the kernel never uses it). */
VOID KiPrepareAddressSpace(PKTHREAD New)
{
    if (!KiKernelDirectoryTableBase && MmKernelPml4)
        KiKernelDirectoryTableBase = (ULONG64)MmKernelPml4 - MM_PHYSICAL_MAP_BASE;
    KiSetKernelStackTop(New->StackBase);
    if (New->UserThread) {
        __writemsr(MSR_KERNEL_GS_BASE, (ULONG64)New->Teb);
        KiSetTeb32Base(New->Teb32);
        __asm__ volatile("movl %0, %%fs" : : "r"((ULONG)KGDT64_R3_CMTEB) : "memory");
    }
    ULONG64 cr3 = KiDirectoryTableBaseOf(New);
    if (cr3 && cr3 != (__readcr3() & 0x000FFFFFFFFFF000ULL))
        __writecr3(cr3);
}

VOID KiSwitchTo(PKTHREAD New)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD old = prcb->CurrentThread;
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, KeGetCurrentIrql(), DISPATCH_LEVEL, (ULONG_PTR)New, 1);
    if (New == old) {
        New->State = Running;
        return;
    }
    ULONG64 flags = __readeflags();
    _disable();
    New->State = Running;
    if (old == &KiIdleThread)
        old->State = Ready;
    if (New != &KiIdleThread)
        New->Quantum = New->Quantum > 0 ? New->Quantum : THREAD_QUANTUM;
    prcb->CurrentThread = New;
    prcb->ContextSwitches++;
    KiPrepareAddressSpace(New);
    KiSwapContext(old, New);
    /* Back on old: as NT, kernel APCs queued to it meanwhile get the APC interrupt (lab 05). */
    if (old->ApcState.KernelApcPending)
        prcb->SoftwareInterruptPending |= SWINT_APC;
    __restoreflags(flags);
}

VOID KiSwapThread(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD next = prcb->NextThread;
    prcb->NextThread = NULL;
    if (!next)
        next = KiSelectNextThread(prcb);
    if (!next)
        next = &KiIdleThread;
    KiSwitchTo(next);
}

/* The C half of a new thread's start (KiThreadStartup): at DISPATCH_LEVEL with
 * interrupts disabled, as KiSwapContext left it. */
VOID KiStartThread(PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    if (KeGetCurrentThread()->ApcState.KernelApcPending) /* APCs queued before it first ran */
        KeGetCurrentPrcb()->SoftwareInterruptPending |= SWINT_APC;
    _enable();
    KeLowerIrql(PASSIVE_LEVEL);
    StartRoutine(StartContext);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS KeCreateThread(PKTHREAD *Thread, PCSTR Name, PKSTART_ROUTINE StartRoutine, PVOID StartContext,
                        KPRIORITY Priority)
{
    return KeCreateThreadEx(Thread, Name, StartRoutine, StartContext, Priority, NULL, NULL);
}

NTSTATUS KeCreateThreadEx(PKTHREAD *Thread, PCSTR Name, PKSTART_ROUTINE StartRoutine, PVOID StartContext,
                          KPRIORITY Priority, PVOID Process, PVOID Teb)
{
    *Thread = NULL;
    if (Priority <= 0 || Priority >= MAXIMUM_PRIORITY)
        return STATUS_INVALID_PARAMETER;
    ULONG_PTR base, limit, guard;
    NTSTATUS status = MmCreateKernelStack(KERNEL_STACK_PAGES, &base, &limit, &guard);
    if (!NT_SUCCESS(status))
        return status;
    KIRQL old;
    KiAcquireFrameworkLock(&KiThreadTableLock, DISPATCH_LEVEL, &old);
    PKTHREAD t = NULL;
    for (ULONG i = 0; i < KI_MAX_THREADS && !t; i++)
        if (!KiThreadTable[i].InUse)
            t = &KiThreadTable[i];
    if (t) {
        KiInitializeThreadObject(t, Name, Priority);
        t->StackBase = base;
        t->StackLimit = limit;
        t->GuardPage = guard;
        if (Process) {
            t->UserThread = TRUE;
            t->Process = Process;
            t->ApcState.Process = Process;
            t->Teb = Teb;
            t->TrapFrame = (struct _KTRAP_FRAME *)(base - sizeof(KTRAP_FRAME));
        }
        KiInitializeThreadStack(t, StartRoutine, StartContext);
        t->State = Initialized;
    }
    KiReleaseFrameworkLock(&KiThreadTableLock, old);
    if (!t) {
        MmDeleteKernelStack(base, KERNEL_STACK_PAGES);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *Thread = t;
    old = KeRaiseIrqlToDpcLevel();
    KiReadyThread(t);
    KeLowerIrql(old);
    return STATUS_SUCCESS;
}

DECLSPEC_NORETURN VOID PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    PKTHREAD t = KeGetCurrentThread();
    /* Lab 05: mutants it still owns are abandoned (only lab 05 code puts any there). */
    if (!IsListEmpty(&t->MutantListHead))
        KeRundownThread();
    KeRaiseIrqlToDpcLevel();
    t->WaitStatus = ExitStatus;
    t->State = Terminated;
    t->Header.SignalState = 1;
    /* Release the joiners (framework wait blocks on our header)... */
    for (PLIST_ENTRY e = t->Header.WaitListHead.Flink; e != &t->Header.WaitListHead;) {
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        e = e->Flink;
        if (wb->WaitType != WaitFramework)
            continue;
        RemoveEntryList(&wb->WaitListEntry);
        wb->Thread->WaitBlockList = NULL;
        wb->Thread->WaitStatus = STATUS_SUCCESS;
        KiReadyThread(wb->Thread);
    }
    /* ...and the threads waiting on it through lab 05 (a thread object is signalled). */
    if (!IsListEmpty(&t->Header.WaitListHead))
        KiWaitTest(&t->Header, IO_NO_INCREMENT);
    KiSwapThread();
    KeBugCheckEx(ATTEMPTED_SWITCH_FROM_DPC, (ULONG_PTR)t, 0, 0, 0); /* a terminated thread ran again */
}

VOID KeJoinThread(PKTHREAD Thread)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    while (Thread->State != Terminated) {
        PKTHREAD self = KeGetCurrentThread();
        PKWAIT_BLOCK wb = &self->WaitBlock[THREAD_WAIT_OBJECTS];
        wb->Thread = self;
        wb->Object = Thread;
        wb->WaitType = WaitFramework;
        wb->NextWaitBlock = wb;
        InsertTailList(&Thread->Header.WaitListHead, &wb->WaitListEntry);
        self->WaitBlockList = wb;
        self->WaitStatus = STATUS_KERNEL_APC;
        self->WaitReason = WrKernel;
        self->State = Waiting;
        KiSwapThread();
        if (self->WaitStatus != STATUS_KERNEL_APC)
            break; /* released by the thread's end (or told to stop waiting) */
        KeLowerIrql(old); /* woken to run a kernel APC: let it run, then wait again */
        old = KeRaiseIrqlToDpcLevel();
    }
    KeLowerIrql(old);
    if (Thread->State != Terminated)
        return; /* woken without the thread ending: keep its stack */
    MmDeleteKernelStack(Thread->StackBase, KERNEL_STACK_PAGES);
    KiAcquireFrameworkLock(&KiThreadTableLock, DISPATCH_LEVEL, &old);
    RemoveEntryList(&Thread->ThreadListEntry);
    KiThreadCount--;
    Thread->InUse = FALSE;
    Thread->Joined = TRUE;
    KiReleaseFrameworkLock(&KiThreadTableLock, old);
}

/* The running thread goes to the tail of its ready queue; the dispatcher's choice runs
 * (itself again when no other thread of its priority or higher is ready). */
VOID KeYieldProcessor(VOID)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD self = KeGetCurrentThread();
    if (self != prcb->IdleThread) {
        self->Preempted = FALSE;
        KiReadyThread(self);
        KiSwapThread();
    }
    KeLowerIrql(old);
}

static BOOLEAN KiInRange(ULONG_PTR Va, ULONG_PTR Low, ULONG_PTR High)
{
    return Va >= Low && Va < High;
}

PKTHREAD KiFindGuardPageOwner(ULONG_PTR Va)
{
    if (!KiThreadListHead.Flink)
        return NULL;
    for (PLIST_ENTRY e = KiThreadListHead.Flink; e != &KiThreadListHead; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (t->GuardPage && KiInRange(Va, t->GuardPage, t->GuardPage + PAGE_SIZE))
            return t;
    }
    return NULL;
}

PKTHREAD KiFindStackOwner(ULONG_PTR Va)
{
    if (!KiThreadListHead.Flink)
        return NULL;
    for (PLIST_ENTRY e = KiThreadListHead.Flink; e != &KiThreadListHead; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        ULONG_PTR low = t->GuardPage ? t->GuardPage : t->StackLimit;
        if (KiInRange(Va, low, t->StackBase))
            return t;
    }
    return NULL;
}
