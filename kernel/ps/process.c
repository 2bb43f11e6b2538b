/* process.c - user processes and threads (lab 08, framework): NtCreateUserProcess's work
 * (the process object, its own address space, the PEB, the initial thread with its TEB and
 * user stack), the first entry of a thread into ring 3, the end of threads and processes
 * (an exit, NtTerminateProcess, an unhandled exception: the process ends with its code),
 * and waiting for a process. The address space is the memory manager's
 * (MmCreateProcessAddressSpace); PsMapUserMemory maps framework pages in it directly (the
 * test programs' code and data), beside what NtAllocateVirtualMemory and the loader map. */
#include "../ke/ki.h"
#include "../mm/mi.h"
#include "bugcodes.h"
#include "kewait.h"
#include "ps.h"
#include "mmpf.h"
#include "wow64t.h"
#include "rtl.h"

#define PSP_USER_CS 0x33
#define PSP_USER_SS 0x2B
#define PSP_KERNEL_HALF 256
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define PSP_TEB32_TAG 0x62547350u /* 'PsTb' */

static KSPIN_LOCK PspProcessLock;

static PMMPTE PspPml4(PEPROCESS Process)
{
    return MmPhysicalToVirtual(Process->DirectoryTableBase);
}

/* Walks the user half: counts (Free FALSE) or frees (Free TRUE) every frame in it, tables too. */
static ULONG64 PspWalkUserHalf(PEPROCESS Process, BOOLEAN Free)
{
    if (!Process->DirectoryTableBase)
        return 0;
    ULONG64 n = 0;
    PMMPTE pml4 = PspPml4(Process);
    KIRQL old;
    MiLockPfnDatabase(&old);
    for (ULONG i4 = 0; i4 < PSP_KERNEL_HALF; i4++) {
        if (!pml4[i4].Hard.Valid)
            continue;
        PMMPTE pdpt = MiPfnToVirtual(pml4[i4].Hard.PageFrameNumber);
        for (ULONG i3 = 0; i3 < MM_PTES_PER_TABLE; i3++) {
            if (!pdpt[i3].Hard.Valid || pdpt[i3].Hard.LargePage)
                continue;
            PMMPTE pd = MiPfnToVirtual(pdpt[i3].Hard.PageFrameNumber);
            for (ULONG i2 = 0; i2 < MM_PTES_PER_TABLE; i2++) {
                if (!pd[i2].Hard.Valid || pd[i2].Hard.LargePage)
                    continue;
                PMMPTE pt = MiPfnToVirtual(pd[i2].Hard.PageFrameNumber);
                for (ULONG i1 = 0; i1 < MM_PTES_PER_TABLE; i1++) {
                    if (!pt[i1].Hard.Valid)
                        continue;
                    n++;
                    if (Free) {
                        MmFreePhysicalPage(pt[i1].Hard.PageFrameNumber);
                        pt[i1].Long = 0;
                    }
                }
                n++;
                if (Free) {
                    MmFreePhysicalPage(pd[i2].Hard.PageFrameNumber);
                    pd[i2].Long = 0;
                }
            }
            n++;
            if (Free) {
                MmFreePhysicalPage(pdpt[i3].Hard.PageFrameNumber);
                pdpt[i3].Long = 0;
            }
        }
        n++;
        if (Free) {
            MmFreePhysicalPage(pml4[i4].Hard.PageFrameNumber);
            pml4[i4].Long = 0;
        }
    }
    MiUnlockPfnDatabase(old);
    return n;
}

ULONG64 PsQueryUserFrames(PEPROCESS Process)
{
    return PspWalkUserHalf(Process, FALSE);
}

static VOID PspDeleteAddressSpace(PEPROCESS Process)
{
    MmDeleteProcessAddressSpace(Process);
}

static NTSTATUS PspMapUserPages(PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect, const VOID *Contents,
                                SIZE_T Size);

NTSTATUS PsMapUserMemory(PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect, const VOID *Contents,
                         SIZE_T Size)
{
    if ((Va & (PAGE_SIZE - 1)) || Va + Pages * PAGE_SIZE - 1 > MM_HIGHEST_USER_ADDRESS || Size > Pages * PAGE_SIZE ||
        !Process->AddressSpace)
        return STATUS_INVALID_PARAMETER;
    /* Lab 09 (w16t): the space's lock, as a fault and NtAllocateVirtualMemory take it: another
     * thread of the process (NtCreateThreadEx maps a new thread's stack and TEBs while its
     * siblings run) must not build or change the same page tables at the same time. */
    PMMADDRESS_SPACE space = Process->AddressSpace;
    KeAcquireGuardedMutex(&space->AddressCreationLock);
    NTSTATUS result = PspMapUserPages(Process, Va, Pages, Protect, Contents, Size);
    KeReleaseGuardedMutex(&space->AddressCreationLock);
    return result;
}

static NTSTATUS PspMapUserPages(PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect, const VOID *Contents,
                                SIZE_T Size)
{
    for (SIZE_T i = 0; i < Pages; i++) {
        PFN_NUMBER pfn;
        KIRQL old;
        MiLockPfnDatabase(&old);
        NTSTATUS status = MmAllocatePhysicalPage(0, &pfn);
        MiUnlockPfnDatabase(old);
        if (!NT_SUCCESS(status))
            return STATUS_NO_MEMORY;
        PUCHAR page = MiPfnToVirtual(pfn);
        RtlZeroMemory(page, PAGE_SIZE);
        SIZE_T offset = i * PAGE_SIZE;
        if (Contents && offset < Size)
            RtlCopyMemory(page, (const UCHAR *)Contents + offset, MIN(PAGE_SIZE, Size - offset));
        ULONG w = Protect & MM_PROTECT_WRITE, x = Protect & MM_PROTECT_EXECUTE;
        ULONG protection = x ? (w ? MM_EXECUTE_READWRITE : MM_EXECUTE_READ) : (w ? MM_READWRITE : MM_READONLY);
        MMPTE pte = MiMakeValidUserPte(pfn, protection);
        MI_PFN_ELEMENT(pfn)->PteAddress = 0;
        status = MiReplaceUserPte(Process->AddressSpace, Va + offset, pte);
        if (!NT_SUCCESS(status)) {
            MiLockPfnDatabase(&old);
            MmFreePhysicalPage(pfn);
            MiUnlockPfnDatabase(old);
            return status;
        }
    }
    return STATUS_SUCCESS;
}

/* Lab 08's VAD tree: weak, so labs before 08 link without labs/08-usermode/vad.c. */
#pragma weak MiInsertVad

/* The framework's block at the top of the 2 GiB range - the TEB32s, the TEBs and the PEB -
 * is reserved by one private committed VAD, as NT gives its PEB and TEBs VADs: an
 * allocation without a base (top-down in a WOW64 process, whose limit is just above) must
 * never be handed these pages, nor free or re-protect them. Without lab 08's MiInsertVad
 * (a stubbed lab) there is no VAD and no process runs anyway. */
static VOID PspReserveFrameworkBlock(PEPROCESS Process)
{
    if (!MiInsertVad)
        return;
    PMMVAD vad = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
    if (!vad)
        return;
    RtlZeroMemory(vad, sizeof(*vad));
    vad->Tag = MI_VAD_TAG;
    vad->StartingVpn = MI_VA_TO_VPN(PSP_TEB32_ADDRESS(PSP_MAX_THREADS - 1));
    vad->EndingVpn = MI_VA_TO_VPN(PSP_PEB_ADDRESS);
    vad->u.VadFlags.Protection = MM_READWRITE;
    vad->u.VadFlags.PrivateMemory = 1;
    vad->u.VadFlags.MemCommit = 1;
    vad->u.VadFlags.NoChange = 1;
    vad->u.VadFlags.VadType = VadNone;
    if (!NT_SUCCESS(MiInsertVad(&Process->AddressSpace->VadRoot, vad))) {
        vad->Tag = 0;
        ExFreePoolWithTag(vad, MI_VAD_TAG);
    }
}

NTSTATUS PsCreateUserProcessObject(PCSTR ImageName, PEPROCESS *Process)
{
    *Process = NULL;
    if (!MmKernelPml4 || !MmPfnDatabaseReady)
        return STATUS_NOT_IMPLEMENTED; /* labs 01-02: no frames or page tables of our own */
    NTSTATUS status = PsInitializeObjects();
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p;
    status = PspCreateProcess(ImageName, &p);
    if (!NT_SUCCESS(status))
        return status;
    p->UserProcess = TRUE;
    p->ExitStatus = STATUS_PENDING;
    InitializeListHead(&p->ThreadListHead);
    status = MmCreateProcessAddressSpace(p);
    if (NT_SUCCESS(status)) {
        PspReserveFrameworkBlock(p);
        PEB64 peb;
        RtlZeroMemory(&peb, sizeof(peb));
        peb.ProcessId = p->UniqueProcessId;
        status = PsMapUserMemory(p, PSP_PEB_ADDRESS, 1, MM_PROTECT_WRITE, &peb, sizeof(peb));
        p->Peb = (PVOID)PSP_PEB_ADDRESS;
    }
    if (!NT_SUCCESS(status)) {
        ObDereferenceObject(p); /* its delete method frees what was built */
        return status;
    }
    *Process = p;
    return STATUS_SUCCESS;
}

/* Where a user thread begins, in kernel mode on its own stack: its user registers go in
 * the frame at the top of that stack, and it leaves for ring 3 through it. */
static VOID PspUserThreadStartup(PVOID Context)
{
    PETHREAD t = Context;
    PKTHREAD self = KeGetCurrentThread();
    t->Tcb = self;
    /* Lab 09 (w16t): its TEB32 before it can reach user mode (it may have been switched to
     * before its creator recorded it in the KTHREAD): the 0x53 base and FS as a switch sets them. */
    if (t->Teb32 && self->Teb32 != t->Teb32) {
        self->Teb32 = t->Teb32;
        KIRQL old = KeRaiseIrqlToDpcLevel();
        KiPrepareAddressSpace(self);
        KeLowerIrql(old);
    }
    PKTRAP_FRAME f = self->TrapFrame;
    RtlZeroMemory(f, sizeof(*f));
    f->Rip = (ULONG64)t->StartRoutine;
    f->Rcx = f->Rdi = (ULONG64)t->StartContext;
    f->Rdx = f->Rsi = t->UserArgument2;
    f->Rsp = t->UserStackBase - 0x28;      /* as after a call: home space + return address */
    f->SegCs = PSP_USER_CS;
    f->SegSs = PSP_USER_SS;
    f->EFlags = EFLAGS_IF | 0x2;
    f->PreviousMode = KernelMode;
    KiStartUserThread(f);
}

/* Lab 09 (w16t): a WOW64 thread's TEB32 page at Teb32 (its stack bounds stay 0 until the
 * wow64 layer's thread start sets them). */
static NTSTATUS PspMapTeb32(PEPROCESS Process, PETHREAD Thread, ULONG Teb32, ULONG Peb32)
{
    TEB32 *teb = ExAllocatePoolWithTag(NonPagedPool, sizeof(TEB32), PSP_TEB32_TAG);
    if (!teb)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(teb, sizeof(*teb));
    teb->ExceptionList = 0xFFFFFFFF;     /* the end of an empty SEH chain */
    teb->Self = Teb32;
    teb->ClientId[0] = (ULONG)(ULONG_PTR)Thread->Cid.UniqueProcess;
    teb->ClientId[1] = (ULONG)(ULONG_PTR)Thread->Cid.UniqueThread;
    teb->ProcessEnvironmentBlock = Peb32;
    teb->GdiBatchCount = (ULONG)(ULONG_PTR)Thread->Teb;
    NTSTATUS status = PsMapUserMemory(Process, Teb32, 1, MM_PROTECT_WRITE, teb, sizeof(*teb));
    ExFreePoolWithTag(teb, PSP_TEB32_TAG);
    return status;
}

NTSTATUS PsCreateUserThread(PEPROCESS Process, ULONG_PTR StartAddress, ULONG64 Argument, ULONG64 Argument2,
                            ULONG StackPages, PETHREAD *Thread)
{
    *Thread = NULL;
    if (!Process->UserProcess || Process->Exiting)
        return STATUS_PROCESS_IS_TERMINATING;
    if (StackPages == 0)
        StackPages = PSP_DEFAULT_STACK_PAGES;
    if (StackPages >= PSP_STACK_REGION_SIZE / PAGE_SIZE)
        return STATUS_INVALID_PARAMETER;
    ULONG index = 0;
    for (PLIST_ENTRY e = Process->ThreadListHead.Flink; e != &Process->ThreadListHead; e = e->Flink)
        index = MAX(index, CONTAINING_RECORD(e, ETHREAD, ProcessThreadLink)->ThreadIndex + 1);
    if (index >= PSP_MAX_THREADS)
        return STATUS_INSUFFICIENT_RESOURCES;
    PETHREAD t;
    NTSTATUS status = PspCreateThreadObject(NULL, Process, &t);
    if (!NT_SUCCESS(status))
        return status;
    t->ThreadIndex = index;
    /* The stack: StackPages pages at the top of its region; the page below is never mapped
     * (a run-away recursion faults instead of running into something else). */
    t->UserStackBase = PSP_STACK_REGION(index) + PSP_STACK_REGION_SIZE;
    t->UserStackLimit = t->UserStackBase - StackPages * PAGE_SIZE;
    t->Teb = (PVOID)PSP_TEB_ADDRESS(index);
    TEB64 teb;
    RtlZeroMemory(&teb, sizeof(teb));
    teb.NtTib.StackBase = t->UserStackBase;
    teb.NtTib.StackLimit = t->UserStackLimit;
    teb.NtTib.Self = (ULONG64)t->Teb;
    teb.ClientId[0] = (ULONG64)t->Cid.UniqueProcess;
    teb.ClientId[1] = (ULONG64)t->Cid.UniqueThread;
    teb.ProcessEnvironmentBlock = (ULONG64)Process->Peb;
    /* Lab 09 (w16t): a WOW64 thread also gets its 32-bit TEB (NT: the TEB64's ExceptionList
     * names it); the wow64 layer fills its 32-bit stack bounds on the thread's first entry. */
    ULONG peb32 = (ULONG)(ULONG_PTR)PsGetProcessWow64Process(Process);
    ULONG teb32 = peb32 ? (ULONG)PSP_TEB32_ADDRESS(index) : 0;
    if (teb32)
        teb.NtTib.ExceptionList = teb32;
    t->Teb32 = teb32;
    status = PsMapUserMemory(Process, t->UserStackLimit, StackPages, MM_PROTECT_WRITE, NULL, 0);
    if (NT_SUCCESS(status))
        status = PsMapUserMemory(Process, (ULONG_PTR)t->Teb, 1, MM_PROTECT_WRITE, &teb, sizeof(teb));
    if (NT_SUCCESS(status) && teb32)
        status = PspMapTeb32(Process, t, teb32, peb32);
    if (!NT_SUCCESS(status)) {
        ObDereferenceObject(t);
        return status;
    }
    t->StartRoutine = (PKSTART_ROUTINE)StartAddress;
    t->StartContext = (PVOID)Argument;
    t->UserArgument2 = Argument2;
    t->ExitStatus = STATUS_PENDING;
    t->TerminationStatus = STATUS_PENDING;
    KIRQL old;
    KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
    InsertTailList(&Process->ThreadListHead, &t->ProcessThreadLink);
    Process->ActiveThreads++;
    KiReleaseFrameworkLock(&PspProcessLock, old);
    PKTHREAD tcb;
    status = KeCreateThreadEx(&tcb, Process->ImageFileName, PspUserThreadStartup, t, 8, Process, t->Teb);
    if (!NT_SUCCESS(status)) {
        KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
        RemoveEntryList(&t->ProcessThreadLink);
        Process->ActiveThreads--;
        KiReleaseFrameworkLock(&PspProcessLock, old);
        ObDereferenceObject(t);
        return status;
    }
    tcb->Teb32 = teb32;
    t->Tcb = tcb;
    *Thread = t;
    return STATUS_SUCCESS;
}

NTSTATUS PsCreateUserProcess(PCSTR ImageName, const VOID *Code, SIZE_T CodeSize, ULONG_PTR CodeAddress,
                             ULONG_PTR EntryOffset, ULONG64 Argument, ULONG64 Argument2, PEPROCESS *Process)
{
    PEPROCESS p;
    NTSTATUS status = PsCreateUserProcessObject(ImageName, &p);
    if (!NT_SUCCESS(status))
        return status;
    SIZE_T pages = (CodeSize + PAGE_SIZE - 1) / PAGE_SIZE;
    status = PsMapUserMemory(p, CodeAddress, pages ? pages : 1, MM_PROTECT_EXECUTE, Code, CodeSize);
    PETHREAD t;
    if (NT_SUCCESS(status))
        status = PsCreateUserThread(p, CodeAddress + EntryOffset, Argument, Argument2, 0, &t);
    if (!NT_SUCCESS(status)) {
        PsTerminateProcess(p, status);
        ObDereferenceObject(p);
        return status;
    }
    *Process = p;
    return STATUS_SUCCESS;
}

static PETHREAD PspCurrentUserThread(VOID)
{
    PKTHREAD self = KeGetCurrentThread();
    PEPROCESS p = self->Process;
    if (!p)
        return NULL;
    for (PLIST_ENTRY e = p->ThreadListHead.Flink; e != &p->ThreadListHead; e = e->Flink) {
        PETHREAD t = CONTAINING_RECORD(e, ETHREAD, ProcessThreadLink);
        if (t->Tcb == self)
            return t;
    }
    return NULL;
}

PETHREAD PsGetCurrentUserThread(VOID)
{
    return PspCurrentUserThread();
}

/* The current user thread ends. The last one to end ends its process: ExitStatus (if
 * nothing set it before), the process object signalled. */
static DECLSPEC_NORETURN VOID PspExitThread(NTSTATUS ExitStatus)
{
    PKTHREAD self = KeGetCurrentThread();
    PEPROCESS p = self->Process;
    PETHREAD t = PspCurrentUserThread();
    KIRQL old;
    KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
    if (t)
        t->ExitStatus = ExitStatus;
    BOOLEAN last = p && --p->ActiveThreads == 0;
    if (last) {
        if (p->ExitStatus == STATUS_PENDING)
            p->ExitStatus = ExitStatus;
        p->Exiting = TRUE;
    }
    KiReleaseFrameworkLock(&PspProcessLock, old);
    if (last) {
        /* The process object is signalled (lab 05's waits see it); the framework's own waiter
         * joins the threads. */
        old = KeRaiseIrqlToDpcLevel();
        p->Header.SignalState = 1;
        if (!IsListEmpty(&p->Header.WaitListHead))
            KiWaitTest(&p->Header, IO_NO_INCREMENT);
        KeLowerIrql(old);
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL)
        KeLowerIrql(PASSIVE_LEVEL);
    _enable();
    PsTerminateSystemThread(ExitStatus);
}

/* Lab 09 (w16t): a thread told to end while it waits in a user-mode wait (NtWaitForSingleObject)
 * leaves the wait at once and ends at its return to user mode (NT delivers a kernel APC that
 * does it); a kernel-mode wait (I/O) is left to finish. DISPATCH_LEVEL. */
static VOID PspAbortUserWait(PKTHREAD Thread)
{
    if (Thread->State == Waiting && Thread->WaitMode == UserMode && Thread->WaitBlockList)
        KiUnwaitThread(Thread, STATUS_PROCESS_IS_TERMINATING, 0);
}

VOID PsTerminateProcess(PEPROCESS Process, NTSTATUS ExitStatus)
{
    KIRQL old;
    KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
    if (!Process->Exiting) {
        Process->Exiting = TRUE;
        Process->ExitStatus = ExitStatus;
    }
    for (PLIST_ENTRY e = Process->ThreadListHead.Flink; e != &Process->ThreadListHead; e = e->Flink) {
        PETHREAD t = CONTAINING_RECORD(e, ETHREAD, ProcessThreadLink);
        if (t->Tcb) {
            t->Tcb->ExitPending = TRUE;
            PspAbortUserWait(t->Tcb);
        }
    }
    KiReleaseFrameworkLock(&PspProcessLock, old);
    if (KeGetCurrentThread()->Process == Process)
        PspExitThread(Process->ExitStatus);
}

/* Lab 09 (w16t): NtTerminateThread - a thread of the caller's own process ends with
 * ExitStatus: the caller itself (NtCurrentThread(), NULL, or a handle naming it) at once, the
 * last thread ending its process with that status; another thread at its next return to user
 * mode (a thread blocked in a wait ends when the wait does). A thread of another process:
 * STATUS_ACCESS_DENIED (ntlab's departure: only the caller's own process). */
#define PSP_THREAD_TERMINATE 0x0001
NTSTATUS NtTerminateThread(HANDLE ThreadHandle, NTSTATUS ExitStatus)
{
    PETHREAD self = PspCurrentUserThread();
    if (ThreadHandle == NULL || ThreadHandle == NtCurrentThread()) {
        if (!self)
            return STATUS_INVALID_HANDLE;
        PspExitThread(ExitStatus);
    }
    PETHREAD t;
    NTSTATUS status = ObReferenceObjectByHandle(ThreadHandle, PSP_THREAD_TERMINATE, PsThreadType, ExGetPreviousMode(),
                                                (PVOID *)&t, NULL);
    if (!NT_SUCCESS(status))
        return status;
    if (self && t == self) {
        ObDereferenceObject(t);
        PspExitThread(ExitStatus);
    }
    PEPROCESS p = KeGetCurrentThread()->Process;
    if (!p || t->ThreadsProcess != p || !t->Tcb) {
        ObDereferenceObject(t);
        return STATUS_ACCESS_DENIED;
    }
    KIRQL old;
    KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
    if (t->ExitStatus == STATUS_PENDING && !t->Tcb->ExitPending) {
        t->TerminationStatus = ExitStatus;
        t->Tcb->ExitPending = TRUE;
        PspAbortUserWait(t->Tcb);
    }
    KiReleaseFrameworkLock(&PspProcessLock, old);
    ObDereferenceObject(t);
    return STATUS_SUCCESS;
}

/* Before any return to user mode. */
VOID KiExitToUserMode(PKTRAP_FRAME TrapFrame)
{
    UNREFERENCED_PARAMETER(TrapFrame);
    PKTHREAD self = KeGetCurrentThread();
    if (self->ExitPending) {
        PEPROCESS p = self->Process;
        PETHREAD t = PspCurrentUserThread();
        if (p && !p->Exiting && t && t->TerminationStatus != STATUS_PENDING)
            PspExitThread(t->TerminationStatus); /* NtTerminateThread from another thread */
        PspExitThread(p ? p->ExitStatus : STATUS_PROCESS_IS_TERMINATING);
    }
}

DECLSPEC_NORETURN VOID PspRaiseUserException(NTSTATUS Code, ULONG64 Address, ULONG64 Info0, ULONG64 Info1)
{
    PEPROCESS p = KeGetCurrentThread()->Process;
    if (p && p->ExceptionCode == 0) {
        p->ExceptionCode = Code;
        p->ExceptionAddress = Address;
        p->ExceptionInformation[0] = Info0;
        p->ExceptionInformation[1] = Info1;
    }
    DbgPrint("ps: process %llu (%s) ends: unhandled exception 0x%08X at 0x%llx (0x%llx, 0x%llx)\n",
             p ? (ULONG64)p->UniqueProcessId : 0ULL, p ? p->ImageFileName : "?", (ULONG)Code, Address, Info0, Info1);
    if (!p)
        KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG)Code, Address, Info0, Info1);
    PsTerminateProcess(p, Code);
    PspExitThread(Code); /* not reached: PsTerminateProcess ends the current thread */
}

/* A syscall from compatibility mode (KiSystemCall32): not a way into this kernel. */
DECLSPEC_NORETURN VOID KiSystemCall32Entry(PKTRAP_FRAME TrapFrame)
{
    KeGetCurrentThread()->PreviousMode = UserMode;
    PspRaiseUserException(STATUS_ILLEGAL_INSTRUCTION, TrapFrame->Rip - 2, 0, 0);
}

NTSTATUS PsWaitForProcess(PEPROCESS Process)
{
    for (;;) {
        KIRQL old;
        KiAcquireFrameworkLock(&PspProcessLock, DISPATCH_LEVEL, &old);
        PETHREAD t = NULL;
        if (!IsListEmpty(&Process->ThreadListHead)) {
            t = CONTAINING_RECORD(Process->ThreadListHead.Flink, ETHREAD, ProcessThreadLink);
            RemoveEntryList(&t->ProcessThreadLink);
            t->ProcessThreadLink.Flink = t->ProcessThreadLink.Blink = NULL;
        }
        KiReleaseFrameworkLock(&PspProcessLock, old);
        if (!t)
            break;
        ObDereferenceObject(t); /* the thread type's delete method joins it */
    }
    return Process->ExitStatus;
}

/* The process type's delete method (ob/obtypes.c), for a user process: its threads are
 * joined and its address space freed. */
VOID PspDeleteUserProcess(PEPROCESS Process)
{
    if (!Process->UserProcess)
        return;
    PsWaitForProcess(Process);
    PspDeleteAddressSpace(Process);
    PsSetProcessWow64(Process, 0, 0); /* lab 09: no longer a WOW64 process (kernel/ps/wow64proc.c) */
}

NTSTATUS PsReadUserMemory(PEPROCESS Process, ULONG_PTR Va, PVOID Buffer, SIZE_T Size)
{
    if (Va > MM_HIGHEST_USER_ADDRESS || Size > MM_HIGHEST_USER_ADDRESS + 1 - Va)
        return STATUS_ACCESS_VIOLATION;
    KeStackAttachProcess(Process);
    NTSTATUS status = KeCopyFromUser(Buffer, (PVOID)Va, Size);
    KeUnstackDetachProcess();
    return status;
}

NTSTATUS PsWriteUserMemory(PEPROCESS Process, ULONG_PTR Va, const VOID *Buffer, SIZE_T Size)
{
    if (Va > MM_HIGHEST_USER_ADDRESS || Size > MM_HIGHEST_USER_ADDRESS + 1 - Va)
        return STATUS_ACCESS_VIOLATION;
    KeStackAttachProcess(Process);
    NTSTATUS status = KeCopyToUser((PVOID)Va, Buffer, Size);
    KeUnstackDetachProcess();
    return status;
}

VOID PsResetObjectsAfterTest(VOID)
{
    if (PsInitialSystemProcess) {
        for (PLIST_ENTRY e = PsActiveProcessHead.Flink; e != &PsActiveProcessHead; e = e->Flink)
            if (CONTAINING_RECORD(e, EPROCESS, ActiveProcessLinks) != PsInitialSystemProcess)
                return;
        ObpResetObjectManager();
    }
    /* No process is left to name a pagefile slot: the pagefile goes too (lab 08 pf). */
    MiDeletePagingFile();
}
