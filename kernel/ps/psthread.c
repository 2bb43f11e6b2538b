/* psthread.c - lab 09 (w16t): user threads from user mode: NtCreateThreadEx (a new thread of
 * the caller's own process, with its own TEB, user stack and guard page, and in a WOW64
 * process its own TEB32: kernel/ps/process.c) and NtQueryInformationThread's basic class (its
 * exit status, TEB and client id). The thread object is waitable (signalled when the thread
 * ends; kernel/ob/obsync.c waits on its KTHREAD); NtTerminateThread is in process.c. Every
 * user pointer is probed and read or written only through the fixup-protected copies. */
#include "ps.h"
#include "rtl.h"

#define THREAD_CREATE_FLAGS_CREATE_SUSPENDED 0x00000001
#define THREAD_CREATE_FLAGS_SKIP_THREAD_ATTACH 0x00000002
#define THREAD_CREATE_FLAGS_HIDE_FROM_DEBUGGER 0x00000004
#define PSP_THREAD_QUERY_INFORMATION 0x0040
#define STATUS_INVALID_PARAMETER_4_T ((NTSTATUS)0xC00000F2L)
#define STATUS_INVALID_PARAMETER_5_T ((NTSTATUS)0xC00000F3L)
#define STATUS_INVALID_PARAMETER_7_T ((NTSTATUS)0xC00000F5L)
#define STATUS_INVALID_PARAMETER_8_T ((NTSTATUS)0xC00000F6L)
#define STATUS_INVALID_PARAMETER_9_T ((NTSTATUS)0xC00000F7L)
#define STATUS_INVALID_PARAMETER_11_T ((NTSTATUS)0xC00000F9L)
#define STATUS_INFO_LENGTH_MISMATCH_T ((NTSTATUS)0xC0000004L)
#define STATUS_INVALID_INFO_CLASS_T ((NTSTATUS)0xC0000003L)

/*
 * NtCreateThreadEx - NT's argument order. Supported: ProcessHandle NtCurrentProcess() only
 * (another process: STATUS_INVALID_PARAMETER_4), CreateFlags 0, SKIP_THREAD_ATTACH or
 * HIDE_FROM_DEBUGGER (CREATE_SUSPENDED or an unknown bit: STATUS_INVALID_PARAMETER_7, ntlab
 * has no suspend count), ZeroBits below 32 (the stack and TEB lie below 2 GiB anyway), no
 * AttributeList (STATUS_INVALID_PARAMETER_11), an unnamed thread (a name:
 * STATUS_OBJECT_NAME_INVALID). The stack: max(StackSize, MaximumStackSize) bytes rounded up
 * to pages (0: the default 4 pages), all committed, below its guard page; more than its
 * region holds: STATUS_INVALID_PARAMETER_9. The thread starts at StartRoutine (a user
 * address) with RCX = Argument; it ends by NtTerminateThread (returning from its routine
 * returns to address 0: an access violation). *ThreadHandle is written only on success.
 */
NTSTATUS NtCreateThreadEx(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                          HANDLE ProcessHandle, PVOID StartRoutine, PVOID Argument, ULONG CreateFlags,
                          SIZE_T ZeroBits, SIZE_T StackSize, SIZE_T MaximumStackSize, PVOID AttributeList)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    PEPROCESS process = KeGetCurrentThread()->Process;
    OBP_CAPTURED_ATTRIBUTES captured;
    POBJECT_ATTRIBUTES attributes = ObjectAttributes;
    NTSTATUS status = STATUS_SUCCESS;
    if (mode == UserMode) {
        status = ProbeForWrite(ThreadHandle, sizeof(HANDLE), sizeof(ULONG));
        if (NT_SUCCESS(status))
            status = ObpCaptureObjectAttributes(ObjectAttributes, &captured, &attributes);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (attributes && attributes->ObjectName)
        return STATUS_OBJECT_NAME_INVALID;
    if (ProcessHandle != NtCurrentProcess() || !process)
        return STATUS_INVALID_PARAMETER_4_T;
    if (!StartRoutine || (ULONG_PTR)StartRoutine > MM_HIGHEST_USER_ADDRESS)
        return STATUS_INVALID_PARAMETER_5_T;
    if (CreateFlags & ~(ULONG)(THREAD_CREATE_FLAGS_SKIP_THREAD_ATTACH | THREAD_CREATE_FLAGS_HIDE_FROM_DEBUGGER))
        return STATUS_INVALID_PARAMETER_7_T;
    if (ZeroBits >= 32)
        return STATUS_INVALID_PARAMETER_8_T;
    if (AttributeList)
        return STATUS_INVALID_PARAMETER_11_T;
    SIZE_T bytes = StackSize > MaximumStackSize ? StackSize : MaximumStackSize;
    if (bytes > PSP_STACK_REGION_SIZE - PAGE_SIZE)
        return STATUS_INVALID_PARAMETER_9_T;
    ULONG pages = (ULONG)((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
    PETHREAD t;
    status = PsCreateUserThread(process, (ULONG_PTR)StartRoutine, (ULONG64)(ULONG_PTR)Argument, 0, pages, &t);
    if (!NT_SUCCESS(status))
        return status;
    /* The process's list keeps its reference (PsWaitForProcess); the handle gets one more. */
    ObReferenceObject(t);
    HANDLE handle;
    status = ObInsertObject(t, DesiredAccess, attributes ? attributes->Attributes : 0, &handle);
    if (!NT_SUCCESS(status))
        return status; /* the thread runs on, as on NT when its handle cannot be made */
    if (mode == KernelMode) {
        *ThreadHandle = handle;
        return STATUS_SUCCESS;
    }
    status = KeCopyToUser(ThreadHandle, &handle, sizeof(handle));
    if (!NT_SUCCESS(status))
        ObCloseHandle(handle, UserMode);
    return status;
}

/*
 * NtQueryInformationThread - ThreadBasicInformation (0) only (another class:
 * STATUS_INVALID_INFO_CLASS; a length other than 48: STATUS_INFO_LENGTH_MISMATCH): the
 * thread's exit status (STATUS_PENDING while it runs), its TEB, its client id, affinity 1,
 * priority 8. NtCurrentThread() names the caller.
 */
typedef struct _THREAD_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    ULONG64 TebBaseAddress;
    ULONG64 UniqueProcess, UniqueThread;
    ULONG64 AffinityMask;
    LONG Priority, BasePriority;
} THREAD_BASIC_INFORMATION;
_Static_assert(sizeof(THREAD_BASIC_INFORMATION) == 48, "NT x64 layout");

NTSTATUS NtQueryInformationThread(HANDLE ThreadHandle, ULONG ThreadInformationClass, PVOID ThreadInformation,
                                  ULONG ThreadInformationLength, PULONG ReturnLength)
{
    KPROCESSOR_MODE mode = ExGetPreviousMode();
    if (mode == UserMode) {
        NTSTATUS status = ProbeForWrite(ThreadInformation, ThreadInformationLength, sizeof(ULONG));
        if (NT_SUCCESS(status) && ReturnLength)
            status = ProbeForWrite(ReturnLength, sizeof(ULONG), sizeof(ULONG));
        if (!NT_SUCCESS(status))
            return status;
    }
    if (ThreadInformationClass != 0)
        return STATUS_INVALID_INFO_CLASS_T;
    if (ThreadInformationLength != sizeof(THREAD_BASIC_INFORMATION))
        return STATUS_INFO_LENGTH_MISMATCH_T;
    PETHREAD t;
    if (ThreadHandle == NtCurrentThread()) {
        t = PsGetCurrentUserThread();
        if (!t)
            return STATUS_INVALID_HANDLE;
        ObReferenceObject(t);
    } else {
        NTSTATUS status = ObReferenceObjectByHandle(ThreadHandle, PSP_THREAD_QUERY_INFORMATION, PsThreadType, mode,
                                                    (PVOID *)&t, NULL);
        if (!NT_SUCCESS(status))
            return status;
    }
    THREAD_BASIC_INFORMATION info;
    RtlZeroMemory(&info, sizeof(info));
    info.ExitStatus = t->Teb ? t->ExitStatus : STATUS_PENDING;
    info.TebBaseAddress = (ULONG64)t->Teb;
    info.UniqueProcess = (ULONG64)t->Cid.UniqueProcess;
    info.UniqueThread = (ULONG64)t->Cid.UniqueThread;
    info.AffinityMask = 1;
    info.Priority = info.BasePriority = 8;
    ObDereferenceObject(t);
    ULONG length = sizeof(info);
    if (mode == KernelMode) {
        RtlCopyMemory(ThreadInformation, &info, sizeof(info));
        if (ReturnLength)
            *ReturnLength = length;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = KeCopyToUser(ThreadInformation, &info, sizeof(info));
    if (NT_SUCCESS(status) && ReturnLength)
        status = KeCopyToUser(ReturnLength, &length, sizeof(length));
    return status;
}
