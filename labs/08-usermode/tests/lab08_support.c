/* lab08_support.c - see lab08_support.h. */
#include "lab08_support.h"

extern const UCHAR KtUserCodeStart[], KtUserCodeEnd[];
extern const ULONG64 KtUserRunOffset;

PCSTR KtStatusName(NTSTATUS s)
{
    switch (s) {
    case STATUS_SUCCESS: return "STATUS_SUCCESS";
    case STATUS_ACCESS_VIOLATION: return "STATUS_ACCESS_VIOLATION";
    case STATUS_DATATYPE_MISALIGNMENT: return "STATUS_DATATYPE_MISALIGNMENT";
    case STATUS_INVALID_PARAMETER: return "STATUS_INVALID_PARAMETER";
    case STATUS_NOT_IMPLEMENTED: return "STATUS_NOT_IMPLEMENTED";
    case STATUS_INVALID_SYSTEM_SERVICE: return "STATUS_INVALID_SYSTEM_SERVICE";
    case STATUS_INFO_LENGTH_MISMATCH: return "STATUS_INFO_LENGTH_MISMATCH";
    case STATUS_INVALID_INFO_CLASS: return "STATUS_INVALID_INFO_CLASS";
    case STATUS_INVALID_HANDLE: return "STATUS_INVALID_HANDLE";
    case STATUS_ILLEGAL_INSTRUCTION: return "STATUS_ILLEGAL_INSTRUCTION";
    case STATUS_PRIVILEGED_INSTRUCTION: return "STATUS_PRIVILEGED_INSTRUCTION";
    case STATUS_BREAKPOINT: return "STATUS_BREAKPOINT";
    case STATUS_INTEGER_DIVIDE_BY_ZERO: return "STATUS_INTEGER_DIVIDE_BY_ZERO";
    case STATUS_PENDING: return "STATUS_PENDING";
    default: return "another status";
    }
}

PCSTR KtServiceName(ULONG64 Number)
{
    ULONG n = (ULONG)Number;
    return n < KeServiceDescriptorTable.Limit ? KeServiceDescriptorTable.Names[n] : "(no such service)";
}

ULONG KtAddCall(KT_USER_PARAMS *P, ULONG64 Rax, ULONG64 Rsp, ULONG ArgCount, const ULONG64 *Args)
{
    ULONG i = (ULONG)P->Count++;
    KT_USER_STEP *s = &P->Steps[i];
    RtlZeroMemory(s, sizeof(*s));
    s->Rax = Rax;
    s->Rsp = Rsp;
    for (ULONG k = 0; k < ArgCount && k < 16; k++)
        s->Args[k] = Args[k];
    s->Result = 0xBADBADBADBADULL;
    s->Kind = KT_STEP_SYSCALL;
    return i;
}

ULONG KtAddStep(KT_USER_PARAMS *P, ULONG Kind, ULONG64 Arg0, ULONG64 Arg1)
{
    ULONG64 args[2] = {Arg0, Arg1};
    ULONG i = KtAddCall(P, 0, 0, 2, args);
    P->Steps[i].Kind = Kind;
    return i;
}

PEPROCESS KtUserCreate(PKTEST_CONTEXT Context, PCSTR Name, KT_USER_PARAMS *P)
{
    P->SvcTerminate = KSVC_NtTerminateProcess;
    PEPROCESS p;
    NTSTATUS status = PsCreateUserProcessObject(Name, &p);
    if (!KtRequireImplemented(Context, status, "a user process (frames, page tables, objects)", "labs 01, 02 and 06") ||
        !KtCheck(Context, NT_SUCCESS(status), "process_create", "PsCreateUserProcessObject: 0x%08X (labs 01, 02 and 06 "
                 "are needed)", (ULONG)status))
        return NULL;
    SIZE_T size = (SIZE_T)(KtUserCodeEnd - KtUserCodeStart);
    if (!KtUserMap(Context, p, KT_USER_CODE_VA, (size + PAGE_SIZE - 1) / PAGE_SIZE, MM_PROTECT_EXECUTE,
                   KtUserCodeStart, size) ||
        !KtUserMap(Context, p, KT_USER_PARAMS_VA, (sizeof(*P) + PAGE_SIZE - 1) / PAGE_SIZE, MM_PROTECT_WRITE, P,
                   sizeof(*P))) {
        ObDereferenceObject(p);
        return NULL;
    }
    return p;
}

BOOLEAN KtUserMap(PKTEST_CONTEXT Context, PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect,
                  const VOID *Contents, SIZE_T Size)
{
    NTSTATUS status = PsMapUserMemory(Process, Va, Pages, Protect, Contents, Size);
    return KtCheck(Context, NT_SUCCESS(status), "user_map", "PsMapUserMemory(%p, %llu pages): 0x%08X", (PVOID)Va,
                   (ULONG64)Pages, (ULONG)status);
}

BOOLEAN KtUserStart(PKTEST_CONTEXT Context, PEPROCESS Process)
{
    PETHREAD t;
    NTSTATUS status = PsCreateUserThread(Process, KT_USER_CODE_VA + KtUserRunOffset, KT_USER_PARAMS_VA, 0, 0, &t);
    return KtCheck(Context, NT_SUCCESS(status), "thread_create", "PsCreateUserThread: 0x%08X", (ULONG)status);
}

NTSTATUS KtUserFinish(PKTEST_CONTEXT Context, PEPROCESS Process, KT_USER_PARAMS *P)
{
    NTSTATUS exit = PsWaitForProcess(Process);
    NTSTATUS status = PsReadUserMemory(Process, KT_USER_PARAMS_VA, P, sizeof(*P));
    KtCheck(Context, NT_SUCCESS(status), "read_back", "reading the parameter block back: 0x%08X", (ULONG)status);
    return exit;
}

const KI_SERVICE_CALL_RECORD *KtLogEntry(ULONG Index)
{
    return &KiServiceCallLog[Index % KI_SERVICE_CALL_LOG];
}

VOID KtUserCleanup(VOID)
{
    ObpResetObjectManager();
}
