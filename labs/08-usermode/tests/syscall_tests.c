/* syscall_tests.c - lab 08 public tests of the service dispatcher (KiSystemServiceDispatch),
 * from a real ring-3 program: the number in EAX (bits 63:32 ignored), bad numbers, the four
 * register arguments (R10, not RCX), stack arguments read at RSP + 0x28 - only as many as
 * the table says -, a user stack that is a kernel address, unmapped, misaligned or
 * straddling the boundary, and nothing of the kernel's registers left behind. */
#include "lab08_support.h"

#define KT_STACK_VA 0x0000000000600000ULL    /* one page the test fills as a caller's stack */
#define KT_DATA_VA 0x0000000000700000ULL     /* a read-write page for outputs */
#define KT_RO_STACK_VA 0x0000000000680000ULL /* a read-only page used as a caller's stack */

/* Steps and what each must give. */
typedef struct _KT_EXPECT {
    ULONG Step;
    NTSTATUS Status;
    LONG Service;          /* the service that must have run (-1: none may run) */
    ULONG Count;           /* its argument count */
    const ULONG64 *Args;   /* the arguments it must have got (Count of them), or NULL */
    PCSTR Check;
    PCSTR Clause;
} KT_EXPECT;

static VOID KtTestSyscallDispatchBody(PKTEST_CONTEXT Context);

KTEST("syscall.dispatch", KtTestSyscallDispatch)
{
    KtTestSyscallDispatchBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestSyscallDispatchBody(PKTEST_CONTEXT Context)
{
    static KT_USER_PARAMS p;
    static ULONG64 stackPage[512];
    RtlZeroMemory(&p, sizeof(p));
    KT_EXPECT ex[KT_USER_MAX_STEPS];
    ULONG n = 0;
    ULONG64 a[16];
    for (ULONG i = 0; i < 16; i++)
        a[i] = KtRandom(Context);
    ULONG64 high = KtRandom(Context) << 32;
    if (!high)
        high = 1ULL << 32;
    ULONG limit = KeServiceDescriptorTable.Limit;

    /* 0: the null service (no argument) */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtYieldExecution, 0, 0, a), STATUS_SUCCESS, KSVC_NtYieldExecution, 0,
                          NULL, "service_runs", "a valid number runs its service and returns its status"};
    /* 1: sixteen arguments, four in registers (R10, RDX, R8, R9) and twelve on the stack */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, 0, 16, a), STATUS_SUCCESS, KSVC_NtTestArguments, 16, a,
                          "arguments", "arguments 0-3 from R10, RDX, R8, R9 and the rest from RSP + 0x28 on"};
    /* 2: EAX only: the upper half of RAX is ignored */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, high | KSVC_NtTestArguments, 0, 16, a), STATUS_SUCCESS, KSVC_NtTestArguments,
                          16, a, "eax_only", "the number is EAX: bits 63:32 of RAX are ignored"};
    /* 3-7: bad numbers (0x1000 + a valid one: not an index into another table here) */
    ULONG64 bad[5] = {limit, limit + KtRandomRange(Context, 1, 0x1000), 0xFFFFFFFFULL, high | limit,
                      0x1000 + KtRandomRange(Context, 0, limit - 1)};
    for (ULONG i = 0; i < 5; i++)
        ex[n++] = (KT_EXPECT){KtAddCall(&p, bad[i], 0, 16, a), STATUS_INVALID_SYSTEM_SERVICE, -1, 0, NULL,
                              "bad_number", "a number at or past the table's Limit is STATUS_INVALID_SYSTEM_SERVICE "
                              "and runs nothing"};
    /* 7: the user stack is a kernel address (mapped: the physical map): its arguments are not read */
    ULONG64 kstack = MM_PHYSICAL_MAP_BASE + (KtRandomRange(Context, 0x100, 0x2000) << 12) + 0x8;
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, kstack, 16, a), STATUS_ACCESS_VIOLATION, -1, 0, NULL,
                          "stack_kernel", "stack arguments above MmUserProbeAddress: the probe fails with "
                          "STATUS_ACCESS_VIOLATION and nothing runs"};
    /* 8: the user stack is unmapped: the copy faults */
    ULONG64 unmapped = 0x0000000020000000ULL + (KtRandomRange(Context, 0, 0xFFF) << 12) + 0x100;
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, unmapped, 16, a), STATUS_ACCESS_VIOLATION, -1, 0, NULL,
                          "stack_unmapped", "stack arguments on an unmapped page: KeCopyFromUser's "
                          "STATUS_ACCESS_VIOLATION, nothing runs"};
    /* 9: the stack arguments straddle the boundary */
    ULONG64 straddle = MmUserProbeAddress - 0x28 - 8 * KtRandomRange(Context, 1, 11);
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, straddle, 16, a), STATUS_ACCESS_VIOLATION, -1, 0, NULL,
                          "stack_boundary", "stack arguments that cross MmUserProbeAddress: STATUS_ACCESS_VIOLATION"};
    /* 10: a misaligned stack */
    ULONG64 mis = KT_STACK_VA + 0x100 + KtRandomRange(Context, 1, 7);
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, mis, 16, a), STATUS_DATATYPE_MISALIGNMENT, -1, 0, NULL,
                          "stack_misaligned", "a user stack not 8-aligned: ProbeForRead's STATUS_DATATYPE_MISALIGNMENT"};
    /* 11: four or fewer arguments: the stack is not read at all (an unmapped RSP is fine) */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtYieldExecution, unmapped, 0, a), STATUS_SUCCESS, KSVC_NtYieldExecution,
                          0, NULL, "register_only", "a service of four or fewer arguments reads nothing from the stack"};
    /* 12: exactly the table's count from the stack: NtQueryInformationProcess takes five, its
     * fifth (ReturnLength) is the last qword of a mapped page, the next page is unmapped */
    ULONG64 rsp5 = KT_STACK_VA + PAGE_SIZE - 0x28 - 8;
    stackPage[(PAGE_SIZE - 8) / 8] = KT_DATA_VA + 0x100; /* ReturnLength */
    ULONG64 q[4] = {(ULONG64)-1, ProcessBasicInformation, KT_DATA_VA, sizeof(PROCESS_BASIC_INFORMATION)};
    ULONG64 q5[5] = {q[0], q[1], q[2], q[3], KT_DATA_VA + 0x100};
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtQueryInformationProcess, rsp5, 4, q), STATUS_SUCCESS,
                          KSVC_NtQueryInformationProcess, 5, q5, "table_count", "only the table's count of stack "
                          "arguments is read (NtQueryInformationProcess: five; the page above them is unmapped)"};
    /* 13: the same service, its stack ending one qword short of the page: the copy faults */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtQueryInformationProcess, rsp5 + 8, 4, q), STATUS_ACCESS_VIOLATION, -1,
                          0, NULL, "stack_unmapped", "the fifth argument on an unmapped page: STATUS_ACCESS_VIOLATION"};

    /* 14: the stack arguments on a read-only page: they are only read */
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtTestArguments, KT_RO_STACK_VA + 0x100, 16, a), STATUS_SUCCESS,
                          KSVC_NtTestArguments, 16, NULL, "stack_readonly", "stack arguments on a read-only page are "
                          "read (ProbeForRead), never written"};

    PEPROCESS proc = KtUserCreate(Context, "dispatch", &p);
    if (!proc)
        return;
    if (!KtUserMap(Context, proc, KT_STACK_VA, 1, MM_PROTECT_WRITE, stackPage, sizeof(stackPage)) ||
        !KtUserMap(Context, proc, KT_DATA_VA, 1, MM_PROTECT_WRITE, NULL, 0) ||
        !KtUserMap(Context, proc, KT_RO_STACK_VA, 1, 0, stackPage, sizeof(stackPage))) {
        ObDereferenceObject(proc);
        return;
    }
    ULONG log0 = KiServiceCallLogNext;
    ULONG64 exitStatus = 0x10000000 | KtRandomRange(Context, 0, 0xFFFFFFF);
    p.ExitStatus = exitStatus;
    PsWriteUserMemory(proc, KT_USER_PARAMS_VA, &p, sizeof(p));
    if (!KtUserStart(Context, proc)) {
        ObDereferenceObject(proc);
        return;
    }
    NTSTATUS exit = KtUserFinish(Context, proc, &p);
    ULONG logn = KiServiceCallLogNext - log0;
    ObDereferenceObject(proc);
    if (!KtRequireImplemented(Context, (NTSTATUS)p.Steps[0].Result, "KiSystemServiceDispatch", "lab 08"))
        return;
    /* Walk the log beside the steps: a step that must run a service has the next record. */
    ULONG li = log0;
    for (ULONG i = 0; i < n; i++) {
        const KT_USER_STEP *s = &p.Steps[ex[i].Step];
        NTSTATUS got = (NTSTATUS)(ULONG)s->Result;
        if (!KtCheck(Context, s->Done && s->Result <= 0xFFFFFFFFULL, "returned", "step %u (RAX 0x%llx, %s, user RSP "
                     "%s0x%llx) did not come back from the kernel (Done %llu) or RAX 0x%llx has bits above 31 (the "
                     "status is a 32-bit NTSTATUS)", i, s->Rax, KtServiceName(s->Rax), s->Rsp ? "" : "its own stack ",
                     s->Rsp, s->Done, s->Result) ||
            !KtCheck(Context, got == ex[i].Status, ex[i].Check, "step %u: RAX 0x%llx (%s) with user RSP 0x%llx returned "
                     "0x%08X (%s), expected 0x%08X (%s): %s", i, s->Rax, KtServiceName(s->Rax), s->Rsp, (ULONG)got,
                     KtStatusName(got), (ULONG)ex[i].Status, KtStatusName(ex[i].Status), ex[i].Clause) ||
            !KtCheck(Context, s->Preserved == 1, "registers_preserved", "step %u: rbx, rbp, rsi, rdi changed across the "
                     "syscall (framework)", i))
            return;
        if (ex[i].Service < 0)
            continue;
        if (!KtCheck(Context, li - log0 < logn, ex[i].Check, "step %u (%s) returned 0x%08X but no service was called "
                     "for it: %s", i, KtServiceName(s->Rax), (ULONG)got, ex[i].Clause))
            return;
        const KI_SERVICE_CALL_RECORD *r = KtLogEntry(li++);
        if (!KtCheck(Context, r->Service == (ULONG)ex[i].Service && r->Count == ex[i].Count, ex[i].Check, "step %u: the "
                     "dispatcher called %s with %u arguments, expected %s with %u (the table's count): %s", i,
                     KtServiceName(r->Service), r->Count, KtServiceName(ex[i].Service), ex[i].Count, ex[i].Clause))
            return;
        for (ULONG k = 0; ex[i].Args && k < ex[i].Count; k++)
            if (!KtCheck(Context, r->Arguments[k] == ex[i].Args[k], ex[i].Check, "step %u: %s got argument %u = 0x%llx, "
                         "expected 0x%llx (%s): %s", i, KtServiceName(r->Service), k, r->Arguments[k], ex[i].Args[k],
                         k == 0 ? "R10 - RCX holds the return address after syscall" : k < 4 ? "a register" :
                         "the user stack at RSP + 0x28 + 8 * (i - 4)", ex[i].Clause))
                return;
    }
    KtCheck(Context, li - log0 + 1 == logn, "nothing_else_runs", "%u service calls for %u steps that run one and the "
            "final NtTerminateProcess: a step that fails (bad number, bad stack) must run no service", logn,
            li - log0);
    KtCheck(Context, exit == (NTSTATUS)exitStatus, "exit_status", "the process ended with 0x%08X, expected 0x%08X from "
            "its NtTerminateProcess(-1, status)", (ULONG)exit, (ULONG)exitStatus);
}

/* Services given bad user pointers from ring 3 (they probe with lab 08's ProbeForWrite and
 * copy through the fixup table): null, a kernel buffer (which must not change), misaligned,
 * read-only, across the boundary, absent; then good pointers get the right bytes. */
#define KT_PTR_RO_VA 0x0000000000800000ULL
#define KT_TOP_PAGE_VA (0x00007FFFFFFF0000ULL - PAGE_SIZE) /* the highest user page */

static VOID KtTestSyscallPointersBody(PKTEST_CONTEXT Context);

KTEST("syscall.pointers", KtTestSyscallPointers)
{
    KtTestSyscallPointersBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestSyscallPointersBody(PKTEST_CONTEXT Context)
{
    static KT_USER_PARAMS p;
    static ULONG64 kernelBuffer[8];
    RtlZeroMemory(&p, sizeof(p));
    for (ULONG i = 0; i < ARRAYSIZE(kernelBuffer); i++)
        kernelBuffer[i] = KtRandom(Context);
    ULONG64 saved[ARRAYSIZE(kernelBuffer)];
    RtlCopyMemory(saved, kernelBuffer, sizeof(saved));
    KT_EXPECT ex[KT_USER_MAX_STEPS];
    ULONG n = 0;
    ULONG64 off = ALIGN_DOWN(KtRandomRange(Context, 0, 0x700), 8);
    ULONG64 bad[][2] = {
        {0, STATUS_ACCESS_VIOLATION},
        {(ULONG64)&kernelBuffer[KtRandomRange(Context, 0, 4)], STATUS_ACCESS_VIOLATION},
        {KT_DATA_VA + off + 2, STATUS_DATATYPE_MISALIGNMENT},
        {KT_PTR_RO_VA + off, STATUS_ACCESS_VIOLATION},
        {KT_TOP_PAGE_VA + PAGE_SIZE - 4, STATUS_ACCESS_VIOLATION},
        {0x30000000ULL + off, STATUS_ACCESS_VIOLATION},
        {KT_DATA_VA + off, STATUS_SUCCESS},
        {KT_TOP_PAGE_VA + PAGE_SIZE - 8, STATUS_SUCCESS},
    };
    static const PCSTR what[] = {"null", "a kernel address", "misaligned (LARGE_INTEGER: 4-byte alignment)", "read-only",
                                 "across MmUserProbeAddress", "absent", "a good buffer", "the last 8 bytes below the "
                                 "boundary"};
    ULONG first = n;
    for (ULONG i = 0; i < ARRAYSIZE(bad); i++)
        ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtQuerySystemTime, 0, 1, bad[i]), (NTSTATUS)bad[i][1],
                              KSVC_NtQuerySystemTime, 1, NULL, "query_time", what[i]};
    /* NtQueryInformationProcess: its buffer over three pages with a read-only middle one: the
     * probe fails before the length is looked at (every page is touched) */
    ULONG64 q[4] = {(ULONG64)-1, ProcessBasicInformation, KT_PTR_RO_VA - PAGE_SIZE, 3 * PAGE_SIZE};
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtQueryInformationProcess, 0, 4, q), STATUS_ACCESS_VIOLATION,
                          KSVC_NtQueryInformationProcess, 5, NULL, "query_process", "a buffer with a read-only page "
                          "in its middle"};
    ULONG64 q2[4] = {(ULONG64)-1, ProcessBasicInformation, KT_DATA_VA + 0x800, sizeof(PROCESS_BASIC_INFORMATION)};
    ULONG good = n;
    ex[n++] = (KT_EXPECT){KtAddCall(&p, KSVC_NtQueryInformationProcess, 0, 4, q2), STATUS_SUCCESS,
                          KSVC_NtQueryInformationProcess, 5, NULL, "query_process", "a good buffer"};
    PEPROCESS proc = KtUserCreate(Context, "pointers", &p);
    if (!proc)
        return;
    if (!KtUserMap(Context, proc, KT_DATA_VA, 1, MM_PROTECT_WRITE, NULL, 0) ||
        !KtUserMap(Context, proc, KT_PTR_RO_VA - PAGE_SIZE, 1, MM_PROTECT_WRITE, NULL, 0) ||
        !KtUserMap(Context, proc, KT_PTR_RO_VA, 1, 0, NULL, 0) ||
        !KtUserMap(Context, proc, KT_PTR_RO_VA + PAGE_SIZE, 1, MM_PROTECT_WRITE, NULL, 0) ||
        !KtUserMap(Context, proc, KT_TOP_PAGE_VA, 1, MM_PROTECT_WRITE, NULL, 0) || !KtUserStart(Context, proc)) {
        ObDereferenceObject(proc);
        return;
    }
    ULONG64 pid = proc->UniqueProcessId;
    KtUserFinish(Context, proc, &p);
    PROCESS_BASIC_INFORMATION info;
    ULONG64 t1 = 0, t2 = 0;
    PsReadUserMemory(proc, KT_DATA_VA + 0x800, &info, sizeof(info));
    PsReadUserMemory(proc, KT_DATA_VA + off, &t1, 8);
    PsReadUserMemory(proc, KT_TOP_PAGE_VA + PAGE_SIZE - 8, &t2, 8);
    ObDereferenceObject(proc);
    if (!KtRequireImplemented(Context, (NTSTATUS)p.Steps[0].Result, "KiSystemServiceDispatch", "lab 08"))
        return;
    for (ULONG i = first; i < n; i++) {
        NTSTATUS got = (NTSTATUS)(ULONG)p.Steps[ex[i].Step].Result;
        if (!KtRequireImplemented(Context, got, "ProbeForWrite", "lab 08") ||
            !KtCheck(Context, got == ex[i].Status, ex[i].Check, "%s(%s) returned 0x%08X (%s), expected 0x%08X (%s)",
                     KtServiceName(p.Steps[ex[i].Step].Rax), ex[i].Clause, (ULONG)got, KtStatusName(got),
                     (ULONG)ex[i].Status, KtStatusName(ex[i].Status)))
            return;
    }
    for (ULONG i = 0; i < ARRAYSIZE(kernelBuffer); i++)
        if (!KtCheck(Context, kernelBuffer[i] == saved[i], "kernel_untouched", "a kernel buffer passed as the user "
                     "pointer of NtQuerySystemTime changed (qword %u: 0x%llx, was 0x%llx): the probe lets a kernel "
                     "address through", i, kernelBuffer[i], saved[i]))
            return;
    KtCheck(Context, t1 != 0 && t2 != 0, "written", "NtQuerySystemTime's good buffers hold 0x%llx and 0x%llx (the time, "
            "not 0)", t1, t2);
    KtCheck(Context, info.UniqueProcessId == pid && info.PebBaseAddress == PSP_PEB_ADDRESS &&
            p.Steps[ex[good].Step].Result == STATUS_SUCCESS, "written", "NtQueryInformationProcess wrote process id "
            "%llu and PEB 0x%llx, expected %llu and 0x%llx", info.UniqueProcessId, info.PebBaseAddress, pid,
            PSP_PEB_ADDRESS);
}
