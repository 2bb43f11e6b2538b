/* wow64.c - the wow64 layer's framework (wow64.dll's role), 64-bit user-mode code in a
 * 32-bit process: its start (Wow64LdrpInitialize: the 32-bit PEB and process parameters
 * built from the 64-bit ones, ntdll32's Wow64Transition set to wow64cpu's entry, the 32-bit
 * stack, the switch to compatibility mode), the service dispatch (the number a 32-bit ntdll
 * stub passes -> the thunk of that service: the student's whNtXxx of labs/09-wow64/thunk.c,
 * or the framework's below), the per-thread data and the process's address limit.
 *
 * The kernel (kernel/ps/wow64run.c) maps this image below 4 GiB next to the 32-bit program
 * and its 32-bit ntdll, fills Wow64StartBlock, and starts the process's first thread here
 * with the 64-bit PEB in RCX. One thread a process (the per-thread data is one block). */
#include "wow64t.h"
#include "wow64layer.h"

#define WOW64_EXPORT __attribute__((visibility("default")))
#define WOW64_STACK32_BYTES (64 * 1024)
#define STATUS_INVALID_SYSTEM_SERVICE_W ((NTSTATUS)0xC000001CL)

WOW64_EXPORT WOW64_START_BLOCK Wow64StartBlock;
static WOW64_THREAD_DATA Wow64Thread;
static UCHAR Wow64Stack32[WOW64_STACK32_BYTES] __attribute__((aligned(16)));
WOW64_EXPORT PEB32 Wow64Peb32;       /* the kernel records its address (PsGetProcessWow64Process) */
static RTL_USER_PROCESS_PARAMETERS32 Wow64Parameters32;
static WCHAR Wow64CommandLine32[512];

PWOW64_THREAD_DATA Wow64CurrentThreadData(VOID)
{
    return &Wow64Thread;
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

#include "wow64table.h"      /* generated from user/services.def: Wow64ServiceTable */

NTSTATUS Wow64SystemServiceDispatch(ULONG Index, PULONG Args)
{
    if (Index >= WOW64_LAYER_INDEX)   /* the layer's own entries (fsredir.c) */
        return Wow64LayerDispatch(Index - WOW64_LAYER_INDEX, Args);
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

WOW64_EXPORT __attribute__((noreturn)) VOID Wow64LdrpInitialize(PPEB64_W Peb)
{
    Wow64Thread.FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
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
    /* The 32-bit stack: the PEB32 as the entry's argument, 0 as its return address. */
    PULONG top = (PULONG)(Wow64Stack32 + WOW64_STACK32_BYTES - 16);
    top[0] = 0;
    top[1] = (ULONG)(ULONG_PTR)&Wow64Peb32;
    Wow64SwitchTo32(Wow64StartBlock.Entry32, (ULONG)(ULONG_PTR)top);
}
