/* wow64.c - the wow64 layer's framework (wow64.dll's role), 64-bit user-mode code in a
 * 32-bit process: its start (Wow64LdrpInitialize: the 32-bit PEB and process parameters
 * built from the 64-bit ones, ntdll32's Wow64Transition set to wow64cpu's entry, the 32-bit
 * stack, the switch to compatibility mode), the service dispatch (the number a 32-bit ntdll
 * stub passes -> the thunk of that service: the student's whNtXxx of labs/09-wow64/thunk.c,
 * or the framework's below), the per-thread data and the process's address limit.
 *
 * The kernel (kernel/ps/wow64run.c) maps this image below 4 GiB next to the 32-bit program
 * and its 32-bit ntdll, fills Wow64StartBlock, and starts the process's first thread here
 * with the 64-bit PEB in RCX. Every thread, the first and those a 32-bit NtCreateThreadEx
 * makes (they start in Wow64ThreadStart), gets its own per-thread block and 32-bit stack on
 * its first entry (Wow64InitializeThread), reached from its TEB64's TLS slots, and its own
 * TEB32 (the kernel maps it; FS in compatibility mode). */
#include "wow64t.h"
#include "wow64layer.h"

#define WOW64_EXPORT __attribute__((visibility("default")))
#define STATUS_INVALID_SYSTEM_SERVICE_W ((NTSTATUS)0xC000001CL)
#define STATUS_INVALID_PARAMETER_5_W ((NTSTATUS)0xC00000F3L)
#define WOW64_PAGE 4096
#define WOW64_THREAD_REGIONS 0x60000000ULL     /* thread n's block and 32-bit stack: + n * 128 KiB */
#define WOW64_THREAD_REGION_SIZE 0x20000ULL

WOW64_EXPORT WOW64_START_BLOCK Wow64StartBlock;
WOW64_EXPORT PEB32 Wow64Peb32;       /* the kernel records its address (PsGetProcessWow64Process) */
static RTL_USER_PROCESS_PARAMETERS32 Wow64Parameters32;
static WCHAR Wow64CommandLine32[512];

/* The calling thread's 64-bit TEB (GS:[0x30], NtTib.Self) and its TLS slots. */
static PULONG64 Wow64TlsSlots(VOID)
{
    ULONG64 teb;
    __asm__ volatile("movq %%gs:0x30, %0" : "=r"(teb));
    return (PULONG64)(teb + WOW64_TEB_TLS_SLOTS);
}

TEB64 *Wow64CurrentTeb(VOID)
{
    ULONG64 teb;
    __asm__ volatile("movq %%gs:0x30, %0" : "=r"(teb));
    return (TEB64 *)teb;
}

PWOW64_THREAD_DATA Wow64CurrentThreadData(VOID)
{
    return (PWOW64_THREAD_DATA)Wow64TlsSlots()[WOW64_TLS_CPURESERVED];
}

ULONG Wow64HighestUserAddress(VOID)
{
    return Wow64StartBlock.LargeAddressAware ? MM_HIGHEST_USER_ADDRESS_WOW64_LAA : MM_HIGHEST_USER_ADDRESS_WOW64;
}

/* ---- The framework's thunks (services that are not the lab's) ---- */
static NTSTATUS whNtTerminateProcess(PULONG Args)
{
    return NtTerminateProcess(Wow64Handle(Args[0]), (NTSTATUS)Args[1]);
}

static NTSTATUS whNtYieldExecution(PULONG Args)
{
    (void)Args;
    return NtYieldExecution();
}

static NTSTATUS whNtQuerySystemTime(PULONG Args)
{
    LARGE_INTEGER time;
    NTSTATUS status = NtQuerySystemTime(Args[0] ? &time : NULL);
    if (NT_SUCCESS(status) && Args[0]) {
        PLARGE_INTEGER32 out = Wow64Ptr(Args[0]);
        out->LowPart = time.LowPart;
        out->HighPart = time.HighPart;
    }
    return status;
}

static NTSTATUS whNtKtestRecord(PULONG Args)
{
    return NtKtestRecord(Args[0], Wow64Ptr(Args[1]), Args[2]);
}

/* ---- w16t: threads, waits and events (the framework's thunks; NtWaitForSingleObject and
 * NtCreateEvent are the lab's, labs/09-wow64/thunk.c) ---- */
static NTSTATUS whNtCreateThreadEx(PULONG Args);
static NTSTATUS whNtTerminateThread(PULONG Args)
{
    return NtTerminateThread(Wow64Handle(Args[0]), (NTSTATUS)Args[1]);
}

static NTSTATUS Wow64SetEventState(PULONG Args, BOOLEAN Set)
{
    LONG previous;
    PLONG out = Args[1] ? &previous : NULL;
    NTSTATUS status = Set ? NtSetEvent(Wow64Handle(Args[0]), out) : NtResetEvent(Wow64Handle(Args[0]), out);
    if (NT_SUCCESS(status) && Args[1])
        *(PLONG)Wow64Ptr(Args[1]) = previous;
    return status;
}

static NTSTATUS whNtSetEvent(PULONG Args)
{
    return Wow64SetEventState(Args, TRUE);
}

static NTSTATUS whNtResetEvent(PULONG Args)
{
    return Wow64SetEventState(Args, FALSE);
}

/* THREAD_BASIC_INFORMATION: 48 bytes natively, 28 in the 32-bit layout. As on NT, a 32-bit
 * caller's TebBaseAddress is the thread's TEB32 (its TEB64's NtTib.ExceptionList). */
typedef struct _THREAD_BASIC_INFORMATION64_W {
    NTSTATUS ExitStatus;
    ULONG64 TebBaseAddress, UniqueProcess, UniqueThread, AffinityMask;
    LONG Priority, BasePriority;
} THREAD_BASIC_INFORMATION64_W;
typedef struct _THREAD_BASIC_INFORMATION32_W {
    NTSTATUS ExitStatus;
    ULONG TebBaseAddress, UniqueProcess, UniqueThread, AffinityMask;
    LONG Priority, BasePriority;
} THREAD_BASIC_INFORMATION32_W;
_Static_assert(sizeof(THREAD_BASIC_INFORMATION32_W) == 28, "NT x86 layout");

static NTSTATUS whNtQueryInformationThread(PULONG Args)
{
    if (Args[1] != 0)
        return STATUS_INVALID_INFO_CLASS;
    if (Args[3] != sizeof(THREAD_BASIC_INFORMATION32_W))
        return STATUS_INFO_LENGTH_MISMATCH;
    THREAD_BASIC_INFORMATION64_W info;
    ULONG length;
    NTSTATUS status = NtQueryInformationThread(Wow64Handle(Args[0]), 0, &info, sizeof(info), &length);
    if (!NT_SUCCESS(status))
        return status;
    THREAD_BASIC_INFORMATION32_W *out = Wow64Ptr(Args[2]);
    ULONG64 teb32 = info.TebBaseAddress ? ((TEB64 *)info.TebBaseAddress)->NtTib.ExceptionList : 0;
    out->ExitStatus = info.ExitStatus;
    out->TebBaseAddress = (ULONG)(teb32 ? teb32 : info.TebBaseAddress);
    out->UniqueProcess = (ULONG)info.UniqueProcess;
    out->UniqueThread = (ULONG)info.UniqueThread;
    out->AffinityMask = (ULONG)info.AffinityMask;
    out->Priority = info.Priority;
    out->BasePriority = info.BasePriority;
    if (Args[4])
        *(PULONG)Wow64Ptr(Args[4]) = sizeof(*out);
    return STATUS_SUCCESS;
}

#include "wow64table.h"      /* generated from user/services.def: Wow64ServiceTable */

/* The framework's own calls from 32-bit code (not services): redirection for the calling
 * thread, through the lab's redirect.c. OldValue travels as a 32-bit PVOID. */
static NTSTATUS Wow64FrameworkCall(ULONG Index, PULONG Args)
{
    if (Index == WOW64_CALL_DISABLE_FS_REDIRECTION) {
        PVOID old = WOW64_FSREDIR_ENABLED;
        NTSTATUS status = Wow64DisableFsRedirection(Args[0] ? &old : NULL);
        if (NT_SUCCESS(status) && Args[0])
            *(PULONG)Wow64Ptr(Args[0]) = (ULONG)(ULONG_PTR)old;
        return status;
    }
    if (Index == WOW64_CALL_REVERT_FS_REDIRECTION)
        return Wow64RevertFsRedirection(Wow64Ptr(Args[0]));
    return STATUS_INVALID_SYSTEM_SERVICE_W;
}

NTSTATUS Wow64SystemServiceDispatch(ULONG Index, PULONG Args)
{
    if (Index >= WOW64_CALL_BASE)
        return Wow64FrameworkCall(Index, Args);
    if (Index >= sizeof(Wow64ServiceTable) / sizeof(Wow64ServiceTable[0]) || Wow64ServiceTable[Index] == NULL)
        return STATUS_INVALID_SYSTEM_SERVICE_W;
    return Wow64ServiceTable[Index](Args);
}

/* The 32-bit process parameters: the command line copied below 4 GiB. */
static VOID Wow64BuildPeb32(PPEB64_W Peb)
{
    PRTL_USER_PROCESS_PARAMETERS64_W pp = Peb ? (PRTL_USER_PROCESS_PARAMETERS64_W)Peb->ProcessParameters : NULL;
    ULONG n = 0;
    if (pp && pp->CommandLine.Buffer) {
        n = pp->CommandLine.Length / sizeof(WCHAR);
        if (n > sizeof(Wow64CommandLine32) / sizeof(WCHAR) - 1)
            n = sizeof(Wow64CommandLine32) / sizeof(WCHAR) - 1;
        const WCHAR *line = (const WCHAR *)pp->CommandLine.Buffer;
        for (ULONG i = 0; i < n; i++)
            Wow64CommandLine32[i] = line[i];
    }
    Wow64CommandLine32[n] = 0;
    Wow64Parameters32.MaximumLength = Wow64Parameters32.Length = sizeof(Wow64Parameters32);
    Wow64Parameters32.CommandLine.Length = (USHORT)(n * sizeof(WCHAR));
    Wow64Parameters32.CommandLine.MaximumLength = (USHORT)((n + 1) * sizeof(WCHAR));
    Wow64Parameters32.CommandLine.Buffer = (PTR32)(ULONG_PTR)Wow64CommandLine32;
    Wow64Peb32.ImageBaseAddress = Wow64StartBlock.ImageBase32;
    Wow64Peb32.ProcessParameters = (PTR32)(ULONG_PTR)&Wow64Parameters32;
}

/* A thread's first entry (NT: wow64's thread initialisation): its per-thread block and its
 * 32-bit stack in one region - [guard page (reserved, never committed)] [stack] [block page] -
 * at 0x60000000 + its TEB's index x 128 KiB, below the process's limit; the block in its TLS slot, the stack bounds in its TEB32; then
 * compatibility mode at Entry32 with Argument32 on the new stack and 0 as its return address
 * (a 32-bit thread ends with NtTerminateThread). A failure ends the thread with its status. */
static __attribute__((noreturn)) VOID Wow64InitializeThread(ULONG Entry32, ULONG Argument32)
{
    /* At a place of its own, from its TEB's slot (the kernel's TEBs are one page each below
     * 0x7FFDE000): the kernel maps the process parameters, TEBs and stacks without VADs, so a
     * region the allocator chose by itself could land on one of them. */
    ULONG index = (ULONG)((0x7FFDE000ULL - (ULONG64)Wow64CurrentTeb()) / WOW64_PAGE);
    PVOID base = (PVOID)(WOW64_THREAD_REGIONS + (ULONG64)index * WOW64_THREAD_REGION_SIZE);
    SIZE_T size = WOW64_STACK32_BYTES + 2 * WOW64_PAGE;
    NTSTATUS status = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    if (NT_SUCCESS(status)) {
        PVOID commit = (PUCHAR)base + WOW64_PAGE;
        SIZE_T committed = size - WOW64_PAGE;
        status = NtAllocateVirtualMemory(NtCurrentProcess(), &commit, 0, &committed, MEM_COMMIT, PAGE_READWRITE);
    }
    if (!NT_SUCCESS(status))
        NtTerminateThread(NtCurrentThread(), status);
    PUCHAR block = (PUCHAR)base + size - WOW64_PAGE;
    PWOW64_THREAD_DATA data = (PWOW64_THREAD_DATA)block;
    data->FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    Wow64TlsSlots()[WOW64_TLS_CPURESERVED] = (ULONG64)data;
    Wow64InitializeTeb32((ULONG)(ULONG_PTR)base + WOW64_PAGE, (ULONG)(ULONG_PTR)block); /* w16x: SEH's bounds */
    PULONG top = (PULONG)(block - 16);
    top[0] = 0;
    top[1] = Argument32;
    Wow64SwitchTo32(Entry32, (ULONG)(ULONG_PTR)top);
}

WOW64_EXPORT __attribute__((noreturn)) VOID Wow64LdrpInitialize(PPEB64_W Peb)
{
    Wow64BuildPeb32(Peb);
    /* ntdll32's far pointer to the 64-bit side: offset, then selector 0x33. */
    if (Wow64StartBlock.Transition32) {
        PUCHAR far = Wow64Ptr(Wow64StartBlock.Transition32);
        ULONG offset = (ULONG)(ULONG_PTR)Wow64SystemServiceEntry;
        USHORT selector = 0x33;
        for (int i = 0; i < 4; i++)
            far[i] = (UCHAR)(offset >> (8 * i));
        far[4] = (UCHAR)selector;
        far[5] = (UCHAR)(selector >> 8);
    }
    /* The program's entry gets the PEB32 as its argument. */
    Wow64InitializeThread(Wow64StartBlock.Entry32, (ULONG)(ULONG_PTR)&Wow64Peb32);
}

/* Where a thread a 32-bit NtCreateThreadEx made begins (64-bit, RCX = its 32-bit start
 * routine in the low half, its 32-bit argument in the high half). */
static __attribute__((noreturn)) VOID Wow64ThreadStart(ULONG64 Packed)
{
    Wow64InitializeThread((ULONG)Packed, (ULONG)(Packed >> 32));
}

/*
 * whNtCreateThreadEx - Args: HANDLE32 *ThreadHandle, DesiredAccess, OBJECT_ATTRIBUTES32 *
 * (optional), ProcessHandle, StartRoutine (32-bit), Argument (32-bit), CreateFlags, ZeroBits,
 * StackSize, MaximumStackSize, AttributeList. The native thread starts in the layer
 * (Wow64ThreadStart), which gives it its block and 32-bit stack (64 KiB) and enters the 32-bit
 * routine; the sizes go to the native call (its 64-bit stack). A 0 StartRoutine:
 * STATUS_INVALID_PARAMETER_5, nothing called. On success *ThreadHandle = the handle's low 32
 * bits. Framework, not the lab's: the 32-bit start needs the layer's trampoline.
 */
static NTSTATUS whNtCreateThreadEx(PULONG Args)
{
    if (Args[4] == 0)
        return STATUS_INVALID_PARAMETER_5_W;
    OBJECT_ATTRIBUTES oa, *poa = NULL;
    STRING name;
    if (Args[2]) {
        const OBJECT_ATTRIBUTES32 *oa32 = Wow64Ptr(Args[2]);
        InitializeObjectAttributes(&oa, NULL, oa32->Attributes, Wow64Handle(oa32->RootDirectory));
        if (oa32->ObjectName) {
            const STRING32 *n32 = Wow64Ptr(oa32->ObjectName);
            name.Length = n32->Length;
            name.MaximumLength = n32->MaximumLength;
            name.Buffer = Wow64Ptr(n32->Buffer);
            oa.ObjectName = &name;
        }
        poa = &oa;
    }
    HANDLE handle = NULL;
    ULONG64 packed = (ULONG64)Args[4] | ((ULONG64)Args[5] << 32);
    NTSTATUS status = NtCreateThreadEx(Args[0] ? &handle : NULL, Args[1], poa, Wow64Handle(Args[3]),
                                       (PVOID)Wow64ThreadStart, (PVOID)packed, Args[6], Args[7], Args[8], Args[9],
                                       Wow64Ptr(Args[10]));
    if (NT_SUCCESS(status) && Args[0])
        *(PULONG)Wow64Ptr(Args[0]) = (ULONG)(ULONG_PTR)handle;
    return status;
}
