/* user_tests.c - lab 08 public tests of user mode around the dispatcher: an exception taken
 * in ring 3 ends only its process, with the exception's code as its exit status (an access
 * violation, never a bugcheck), and the kernel carries on; a system call before it must
 * work (the dispatcher) and nothing after it runs. */
#include "lab08_support.h"

#define KT_RO_VA 0x0000000000800000ULL       /* a read-only user page */
#define KT_NX_VA 0x0000000000900000ULL       /* a read-write, no-execute user page */

typedef struct _KT_FAULT_CASE {
    PCSTR Name;
    ULONG Kind;
    ULONG64 Arg;
    NTSTATUS Code;
    LONG Info0;            /* ExceptionInformation[0] expected (-1: not checked) */
    BOOLEAN AddressIsArg;  /* ExceptionInformation[1] is Arg */
} KT_FAULT_CASE;

static VOID KtTestUserExceptionsBody(PKTEST_CONTEXT Context);

KTEST("user.exceptions", KtTestUserExceptions)
{
    KtTestUserExceptionsBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestUserExceptionsBody(PKTEST_CONTEXT Context)
{
    ULONG64 kva = 0xFFFF800000000000ULL + (KtRandomRange(Context, 0, 0x3FFF) << 12) + KtRandomRange(Context, 0, 0xFFF);
    ULONG64 low = KtRandomRange(Context, 0, 0xFFFF);
    const KT_FAULT_CASE cases[] = {
        {"write_null_page", KT_STEP_WRITE, low, STATUS_ACCESS_VIOLATION, 1, TRUE},
        {"read_kernel", KT_STEP_READ, kva, STATUS_ACCESS_VIOLATION, 0, TRUE},
        {"write_readonly", KT_STEP_WRITE, KT_RO_VA + KtRandomRange(Context, 0, 0xFFF), STATUS_ACCESS_VIOLATION, 1, TRUE},
        {"execute_noexecute", KT_STEP_CALL, KT_NX_VA + KtRandomRange(Context, 0, 0xFF0), STATUS_ACCESS_VIOLATION, 8,
         TRUE},
        {"execute_kernel", KT_STEP_CALL, kva, STATUS_ACCESS_VIOLATION, 8, TRUE},
        {"ud2", KT_STEP_UD2, 0, STATUS_ILLEGAL_INSTRUCTION, -1, FALSE},
        {"int3", KT_STEP_INT3, 0, STATUS_BREAKPOINT, -1, FALSE},
        {"hlt", KT_STEP_HLT, 0, STATUS_PRIVILEGED_INSTRUCTION, -1, FALSE},
        {"divide", KT_STEP_DIVIDE, 0, STATUS_INTEGER_DIVIDE_BY_ZERO, -1, FALSE},
        {"int_2e", KT_STEP_INT2E, 0, STATUS_ACCESS_VIOLATION, -1, FALSE},
    };
    static KT_USER_PARAMS p;
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++) {
        const KT_FAULT_CASE *fc = &cases[c];
        RtlZeroMemory(&p, sizeof(p));
        ULONG first = KtAddCall(&p, KSVC_NtYieldExecution, 0, 0, NULL);
        ULONG fault = KtAddStep(&p, fc->Kind, fc->Arg, 0);
        ULONG after = KtAddCall(&p, KSVC_NtYieldExecution, 0, 0, NULL);
        p.ExitStatus = STATUS_SUCCESS;
        PEPROCESS proc = KtUserCreate(Context, fc->Name, &p);
        if (!proc)
            return;
        if (!KtUserMap(Context, proc, KT_RO_VA, 1, 0, NULL, 0) ||
            !KtUserMap(Context, proc, KT_NX_VA, 1, MM_PROTECT_WRITE, NULL, 0) || !KtUserStart(Context, proc)) {
            ObDereferenceObject(proc);
            return;
        }
        NTSTATUS exit = KtUserFinish(Context, proc, &p);
        NTSTATUS code = proc->ExceptionCode;
        ULONG64 info0 = proc->ExceptionInformation[0], info1 = proc->ExceptionInformation[1];
        ULONG64 rip = proc->ExceptionAddress;
        ObDereferenceObject(proc);
        if (!KtRequireImplemented(Context, (NTSTATUS)p.Steps[first].Result, "KiSystemServiceDispatch", "lab 08") ||
            !KtCheck(Context, p.Steps[first].Done && p.Steps[first].Result == STATUS_SUCCESS, "syscall_first",
                     "%s: the NtYieldExecution before the fault returned 0x%llx (Done %llu), expected STATUS_SUCCESS",
                     fc->Name, p.Steps[first].Result, p.Steps[first].Done))
            return;
        if (!KtCheck(Context, exit == fc->Code && code == fc->Code, "exit_status", "%s (step kind %u, 0x%llx): the process "
                     "ended with 0x%08X (%s), exception 0x%08X, expected 0x%08X (%s): an exception in user mode ends "
                     "the process with its code", fc->Name, fc->Kind, fc->Arg, (ULONG)exit, KtStatusName(exit),
                     (ULONG)code, (ULONG)fc->Code, KtStatusName(fc->Code)) ||
            !KtCheck(Context, !p.Steps[fault].Done && !p.Steps[after].Done, "nothing_after", "%s: the program went on "
                     "after the exception (Done %llu %llu)", fc->Name, p.Steps[fault].Done, p.Steps[after].Done) ||
            !KtCheck(Context, fc->Info0 < 0 || (info0 == (ULONG64)fc->Info0 && (!fc->AddressIsArg || info1 == fc->Arg)),
                     "exception_information", "%s: ExceptionInformation %llu, 0x%llx, expected %d, 0x%llx (the access: "
                     "0 read, 1 write, 8 execute; the address)", fc->Name, info0, info1, fc->Info0, fc->Arg) ||
            !KtCheck(Context, fc->Kind == KT_STEP_CALL ? rip == fc->Arg : (rip >= KT_USER_CODE_VA &&
                     rip < KT_USER_CODE_VA + PAGE_SIZE), "exception_address", "%s: ExceptionAddress 0x%llx, expected "
                     "the faulting instruction (%s)", fc->Name, rip, fc->Kind == KT_STEP_CALL ? "the call's target" :
                     "in the program's code page"))
            return;
    }
}
