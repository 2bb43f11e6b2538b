/* usertest.c - the checkpoint harness for user programs (framework, img/lab 08-09; how to use
 * it: kernel/include/usertest.h): KtRunUserProgram starts a program from the boot file system
 * in a new process with a command line and waits for its end; NtKtestRecord is the service
 * through which the program reports, written as records of the running ktest. */
#include "io.h"
#include "ldr.h"
#include "ps.h"
#include "rtl.h"
#include "kuser.h"
#include "usertest.h"
#include "wow64t.h"
#include "../mm/mi.h"

#ifndef STATUS_QUOTA_EXCEEDED
#define STATUS_QUOTA_EXCEEDED ((NTSTATUS)0xC0000044L)
#endif

#define KTP_PARAMETERS_HEADER 0x100   /* the structure; its strings follow */
#define KTP_MAX_COMMAND_LINE 400
#define RTL_USER_PROC_PARAMS_NORMALIZED 0x1

/* RTL_USER_PROCESS_PARAMETERS as a 64-bit process sees it (NT x64's offsets; the user side
 * is user/include/ntuser.h). */
typedef struct _KTP_UNICODE_STRING64 {
    USHORT Length, MaximumLength;
    ULONG Pad;
    ULONG64 Buffer;
} KTP_UNICODE_STRING64;
typedef struct _KTP_PROCESS_PARAMETERS64 {
    ULONG MaximumLength, Length;          /* 0x00 */
    ULONG Flags, DebugFlags;              /* 0x08 */
    ULONG64 ConsoleHandle;                /* 0x10 */
    ULONG ConsoleFlags, Pad;              /* 0x18 */
    ULONG64 StandardInput, StandardOutput, StandardError; /* 0x20 */
    KTP_UNICODE_STRING64 CurrentDirectoryPath; /* 0x38 */
    ULONG64 CurrentDirectoryHandle;       /* 0x48 */
    KTP_UNICODE_STRING64 DllPath;         /* 0x50 */
    KTP_UNICODE_STRING64 ImagePathName;   /* 0x60 */
    KTP_UNICODE_STRING64 CommandLine;     /* 0x70 */
    ULONG64 Environment;                  /* 0x80 */
} KTP_PROCESS_PARAMETERS64;
_Static_assert(offsetof(KTP_PROCESS_PARAMETERS64, CommandLine) == 0x70, "NT x64 layout");

/* The run in progress (one at a time: the test's thread waits in it). */
static struct {
    PKTEST_CONTEXT Context;
    PEPROCESS Process;
    PKT_USER_RUN Run;
} KtpUser;
static KSPIN_LOCK KtpUserLock;

static BOOLEAN KtpKeyChar(CHAR c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

NTSTATUS NtKtestRecord(ULONG Kind, PCSTR Text, ULONG Length)
{
    PKTEST_CONTEXT context = KtpUser.Context;
    PKT_USER_RUN run = KtpUser.Run;
    if (!context || !run || PsGetCurrentProcess() != KtpUser.Process)
        return STATUS_NOT_SUPPORTED;
    if (Kind > KTEST_RECORD_CHECK_FAIL || Length == 0 || Length > KTEST_RECORD_MAX_LENGTH) {
        run->Refused++;
        return STATUS_INVALID_PARAMETER;
    }
    CHAR text[KTEST_RECORD_MAX_LENGTH + 1];
    NTSTATUS status = STATUS_SUCCESS;
    if (ExGetPreviousMode() == UserMode)
        status = ProbeForRead(Text, Length, 1);
    if (status == STATUS_NOT_IMPLEMENTED)
        KtNotImplemented("ProbeForRead", "lab 08");
    if (NT_SUCCESS(status))
        status = KeCopyFromUser(text, Text, Length);
    if (!NT_SUCCESS(status)) {
        run->Refused++;
        return status;
    }
    text[Length] = 0;
    if (run->Records >= KT_USER_MAX_RECORDS) {
        run->Refused++;
        return STATUS_QUOTA_EXCEEDED;
    }
    /* "key rest": the key of letters, digits, '_', '-', '.', at most 48 (print: no key). */
    PCSTR rest = text;
    CHAR key[49];
    if (Kind != KTEST_RECORD_PRINT) {
        ULONG n = 0;
        while (n < Length && KtpKeyChar(text[n]))
            n++;
        if (n == 0 || n > 48 || (n < Length && text[n] != ' ')) {
            run->Refused++;
            return STATUS_INVALID_PARAMETER;
        }
        RtlCopyMemory(key, text, n);
        key[n] = 0;
        rest = n < Length ? text + n + 1 : text + n;
    }
    run->Records++;
    CHAR name[64];
    switch (Kind) {
    case KTEST_RECORD_PRINT:
        RtlFormatString(name, sizeof(name), "u%u.print", run->Index);
        KtValue(context, name, "%s", rest);
        break;
    case KTEST_RECORD_VALUE:
        RtlFormatString(name, sizeof(name), "u%u.%s", run->Index, key);
        KtValue(context, name, "%s", rest);
        break;
    default:
        RtlFormatString(name, sizeof(name), "u%u.%s", run->Index, key);
        if (Kind == KTEST_RECORD_CHECK_FAIL)
            run->ChecksFailed++;
        /* The check's name must outlive the test (KtCheck remembers it): a user check is
         * reported as a failure or, when it passes, as a value. */
        if (Kind == KTEST_RECORD_CHECK_FAIL)
            KtFail(context, "user_check", "%s: %s", name, rest);
        else
            KtValue(context, name, "ok %s", rest);
        break;
    }
    return STATUS_SUCCESS;
}

/* Writes Length bytes at user address Va of Process through its page tables (the pages are
 * mapped, the process is not running): no attach needed. */
static NTSTATUS KtpWriteUser(PEPROCESS Process, ULONG_PTR Va, const VOID *Data, SIZE_T Length)
{
    PMMPTE pml4 = MmPhysicalToVirtual(Process->DirectoryTableBase);
    const UCHAR *in = Data;
    while (Length) {
        MI_TRANSLATION t;
        MiInspectTranslation(pml4, Va, &t);
        if (!t.Valid)
            return STATUS_ACCESS_VIOLATION;
        SIZE_T n = PAGE_SIZE - (Va & (PAGE_SIZE - 1));
        if (n > Length)
            n = Length;
        RtlCopyMemory(MmPhysicalToVirtual(t.Physical), in, n);
        in += n, Va += n, Length -= n;
    }
    return STATUS_SUCCESS;
}

/* The process parameters (the image path and the command line, UTF-16) at
 * KT_USER_PARAMETERS_ADDRESS, and the PEB's ProcessParameters and ImageBaseAddress. */
static NTSTATUS KtpWriteParameters(PEPROCESS Process, PCSTR Program, PCSTR CommandLine, ULONG_PTR ImageBase)
{
    static UCHAR buffer[KTP_PARAMETERS_HEADER + 2 * 2 * (KTP_MAX_COMMAND_LINE + 100)];
    RtlZeroMemory(buffer, sizeof(buffer));
    KTP_PROCESS_PARAMETERS64 *pp = (KTP_PROCESS_PARAMETERS64 *)buffer;
    ULONG at = KTP_PARAMETERS_HEADER;
    CHAR path[96];
    RtlFormatString(path, sizeof(path), "\\SystemRoot\\System32\\%s", Program);
    PCSTR strings[2] = {path, CommandLine};
    KTP_UNICODE_STRING64 *targets[2] = {&pp->ImagePathName, &pp->CommandLine};
    for (ULONG s = 0; s < 2; s++) {
        SIZE_T n = strlen(strings[s]);
        PUSHORT w = (PUSHORT)(buffer + at);
        for (SIZE_T i = 0; i < n; i++)
            w[i] = (UCHAR)strings[s][i];
        targets[s]->Length = (USHORT)(2 * n);
        targets[s]->MaximumLength = (USHORT)(2 * n + 2);
        targets[s]->Buffer = KT_USER_PARAMETERS_ADDRESS + at;
        at += (ULONG)ALIGN_UP(2 * n + 2, 8);
    }
    pp->MaximumLength = pp->Length = at;
    pp->Flags = RTL_USER_PROC_PARAMS_NORMALIZED;
    NTSTATUS status = PsMapUserMemory(Process, KT_USER_PARAMETERS_ADDRESS, ALIGN_UP(at, PAGE_SIZE) / PAGE_SIZE,
                                      MM_PROTECT_WRITE, buffer, at);
    if (!NT_SUCCESS(status))
        return status;
    ULONG64 params = KT_USER_PARAMETERS_ADDRESS, base = ImageBase;
    status = KtpWriteUser(Process, (ULONG_PTR)Process->Peb + offsetof(PEB64, ProcessParameters), &params, 8);
    if (NT_SUCCESS(status))
        status = KtpWriteUser(Process, (ULONG_PTR)Process->Peb + offsetof(PEB64, ImageBaseAddress), &base, 8);
    return status;
}

static BOOLEAN KtpStartFailed(PKTEST_CONTEXT Context, PKT_USER_RUN Run, PCSTR Program, PCSTR Step, NTSTATUS Status)
{
    Run->Status = Status;
    if (Status == STATUS_NOT_IMPLEMENTED)
        KtFail(Context, "implemented", "%s %s: STATUS_NOT_IMPLEMENTED (a stub on the way: labs 01-03, 06, 08)",
               Step, Program);
    else
        KtFail(Context, "user_start", "%s %s: status 0x%x", Step, Program, Status);
    return FALSE;
}

static BOOLEAN KtpRunProgram(PKTEST_CONTEXT Context, PCSTR Program, PCSTR CommandLine, PKT_USER_RUN Run,
                              BOOLEAN Wow64)
{
    static ULONG index;
    static PKTEST_CONTEXT indexContext;
    if (indexContext != Context)
        indexContext = Context, index = 0;
    RtlZeroMemory(Run, sizeof(*Run));
    Run->Index = ++index;
    Run->ExitStatus = STATUS_PENDING;
    CHAR key[32];
    RtlFormatString(key, sizeof(key), "user%u.start", Run->Index);
    KtValue(Context, key, "%s %s", Program, CommandLine);
    if (strlen(CommandLine) > KTP_MAX_COMMAND_LINE || strlen(Program) > 40)
        return KtpStartFailed(Context, Run, Program, "command line of", STATUS_INVALID_PARAMETER);

    PEPROCESS process;
    NTSTATUS status = PsCreateUserProcessObject(Program, &process);
    if (!NT_SUCCESS(status))
        return KtpStartFailed(Context, Run, Program, "PsCreateUserProcessObject", status);
    static LDR_PROCESS_IMAGES images;
    status = LdrMapProcessImages(process, Program, Wow64 ? IMAGE_FILE_MACHINE_I386 : IMAGE_FILE_MACHINE_AMD64, &images);
    PETHREAD thread = NULL;
    PCSTR step = "LdrMapProcessImages";
    ULONG_PTR start = 0;
    if (NT_SUCCESS(status)) {
        Run->ImageBase = images.Images[0].Base;
        Run->EntryPoint = start = images.Images[0].EntryPoint;
        /* lab 09: a 32-bit program starts in the wow64 layer (kernel/ps/wow64run.c). */
        if (Wow64) {
            step = "PsPrepareWow64Process";
            status = PsPrepareWow64Process(process, &images, &start);
        }
        LdrFreeImageInfo(&images); /* the frames are the address space's now */
    }
    if (NT_SUCCESS(status)) {
        step = "the process parameters of";
        status = KtpWriteParameters(process, Program, CommandLine, Run->ImageBase);
    }
    if (NT_SUCCESS(status)) {
        KIRQL old;
        KeAcquireSpinLock(&KtpUserLock, &old);
        KtpUser.Context = Context;
        KtpUser.Process = process;
        KtpUser.Run = Run;
        KeReleaseSpinLock(&KtpUserLock, old);
        step = "PsCreateUserThread";
        status = PsCreateUserThread(process, start, (ULONG64)process->Peb, 0, KT_USER_STACK_PAGES, &thread);
    }
    BOOLEAN timedOut = FALSE;
    ULONG64 calls = KiSystemCalls, served = KiServiceCallLogNext;
    if (thread) {
        /* A program that never ends (a loop, a stubbed service path) is ended at the limit. */
        LARGE_INTEGER timeout;
        timeout.QuadPart = -(LONG64)KT_USER_TIME_LIMIT_MS * 10000;
        if (KeWaitForSingleObject(process, Executive, KernelMode, FALSE, &timeout) == STATUS_TIMEOUT) {
            timedOut = TRUE;
            PsTerminateProcess(process, STATUS_TIMEOUT);
        }
    }
    NTSTATUS exit = PsWaitForProcess(process); /* also after a failure: frees what was made */
    calls = KiSystemCalls - calls, served = KiServiceCallLogNext - served;
    KIRQL old;
    KeAcquireSpinLock(&KtpUserLock, &old);
    KtpUser.Context = NULL;
    KtpUser.Process = NULL;
    KtpUser.Run = NULL;
    KeReleaseSpinLock(&KtpUserLock, old);
    Run->ExceptionCode = process->ExceptionCode;
    Run->ExceptionAddress = process->ExceptionAddress;
    if (Wow64)
        PsSetProcessWow64(process, 0, 0);
    ObDereferenceObject(process);
    if (!NT_SUCCESS(status))
        return KtpStartFailed(Context, Run, Program, step, status);
    if (calls && !served) {
        /* Every system call of the program failed before any service ran. */
        KtFail(Context, "implemented", "%s made %llu system calls and KiSystemServiceDispatch ran no service for any "
               "(still the lab 08 stub?)", Program, calls);
    }
    if (timedOut)
        KtFail(Context, "user_time", "%s did not end within %u ms of guest time: ended with STATUS_TIMEOUT", Program,
               KT_USER_TIME_LIMIT_MS);
    Run->Status = STATUS_SUCCESS;
    Run->ExitStatus = exit;
    RtlFormatString(key, sizeof(key), "user%u.exit", Run->Index);
    KtValue(Context, key, "0x%x", exit);
    if (Run->ExceptionCode) {
        RtlFormatString(key, sizeof(key), "user%u.exception", Run->Index);
        KtValue(Context, key, "0x%x 0x%llx", Run->ExceptionCode, Run->ExceptionAddress);
    }
    return TRUE;
}

PEPROCESS KtReferenceRunningUserProcess(VOID)
{
    KIRQL old;
    KeAcquireSpinLock(&KtpUserLock, &old);
    PEPROCESS p = KtpUser.Process;
    if (p)
        ObReferenceObject(p);
    KeReleaseSpinLock(&KtpUserLock, old);
    return p;
}

BOOLEAN KtRunUserProgram(PKTEST_CONTEXT Context, PCSTR Program, PCSTR CommandLine, PKT_USER_RUN Run)
{
    return KtpRunProgram(Context, Program, CommandLine, Run, FALSE);
}

BOOLEAN KtRunWow64Program(PKTEST_CONTEXT Context, PCSTR Program, PCSTR CommandLine, PKT_USER_RUN Run)
{
    return KtpRunProgram(Context, Program, CommandLine, Run, TRUE);
}
