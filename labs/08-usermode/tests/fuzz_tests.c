/* fuzz_tests.c - lab 08: random system calls from ring 3 (kernel/ktest/usercode.asm's
 * KtUserFuzz): numbers valid and not (past the table, huge, with garbage above EAX),
 * arguments drawn from interesting values - null, small handles, -1 and -2, kernel
 * addresses, non-canonical ones, unaligned ones, buffers straddling the boundary or running
 * into an absent page, read-only and guard pages, huge lengths - or fully random, and one
 * call in eight from a bad user stack. The kernel must neither bugcheck nor hang; every call
 * comes back with a 32-bit status. The checkpoint runs a seeded slice (KT_FUZZ_DEFAULT);
 * tests/fuzz_lab08.py boots it with fuzz_calls=N for a million and more. */
#include "../../../kernel/mm/mi.h"
#include "lab08_support.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define KT_FUZZ_DEFAULT 8000
#define KT_FUZZ_RESULTS_VA 0x0000000000580000ULL
#define KT_FUZZ_VICTIM_VA 0x0000000020000000ULL   /* two read-write pages, an absent one after */
#define KT_FUZZ_RO_VA 0x0000000020010000ULL
#define KT_FUZZ_GUARD_VA 0x0000000020020000ULL
#define KT_FUZZ_ABSENT_VA 0x0000000020030000ULL
#define KT_FUZZ_TOP_VA (0x00007FFFFFFF0000ULL - PAGE_SIZE)

typedef struct _KT_FUZZ {
    ULONG64 Iterations, Seed, Limit, AllowedCount, Results, ValueMask, RspMask, SvcTerminate;
    ULONG64 Allowed[64];
    ULONG64 Values[64];
    ULONG64 RspValues[16];
} KT_FUZZ;
_Static_assert(offsetof(KT_FUZZ, Values) == 0x240 && offsetof(KT_FUZZ, RspValues) == 0x440, "usercode.asm");

typedef struct _KT_FUZZ_RESULTS {
    ULONG64 Calls, Success, AccessViolation, InvalidService, Misaligned, Other, WideRax, LastNumber, BadRsp,
        InvalidTried, Seed, Done;
} KT_FUZZ_RESULTS;

extern const ULONG64 KtUserFuzzOffset;

/* Services a fuzz must not call: they end the process or may wait forever, or (NtContinue,
 * NtRaiseException: lab 09) move the thread to whatever a random context says, or
 * (NtCreateThreadEx: lab 09) start a thread at whatever a random address says. */
static BOOLEAN KtFuzzExcluded(PCSTR Name)
{
    static const PCSTR words[] = {"Terminate", "Wait", "Delay", "Suspend", "Remove", "Reply", "Test", "Ktest",
                                  "Continue", "RaiseException", "CreateThread"};
    for (ULONG i = 0; i < ARRAYSIZE(words); i++)
        for (PCSTR p = Name; *p; p++) {
            ULONG k = 0;
            while (words[i][k] && p[k] == words[i][k])
                k++;
            if (!words[i][k])
                return TRUE;
        }
    return FALSE;
}

static ULONG64 KtFuzzCallsFromCommandLine(VOID)
{
    PCSTR key = "fuzz_calls=";
    for (PCSTR p = KeLoaderCommandLine; *p; p++) {
        ULONG k = 0;
        while (key[k] && p[k] == key[k])
            k++;
        if (key[k])
            continue;
        ULONG64 n = 0;
        for (p += k; *p >= '0' && *p <= '9'; p++)
            n = n * 10 + (ULONG64)(*p - '0');
        return n;
    }
    return KT_FUZZ_DEFAULT;
}

static ULONG64 KtKernelData = 0x5A5A5A5A5A5A5A5AULL;

static VOID KtTestUserFuzzBody(PKTEST_CONTEXT Context);

KTEST("user.fuzz", KtTestUserFuzz)
{
    KtTestUserFuzzBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestUserFuzzBody(PKTEST_CONTEXT Context)
{
    /* The dispatcher first (a stub gives "not implemented", not a fuzz of nothing). */
    KTRAP_FRAME probe;
    RtlZeroMemory(&probe, sizeof(probe));
    probe.Rax = KeServiceDescriptorTable.Limit;
    if (!KtRequireImplemented(Context, KiSystemServiceDispatch(&probe), "KiSystemServiceDispatch", "lab 08"))
        return;
    static KT_FUZZ f;
    RtlZeroMemory(&f, sizeof(f));
    f.Iterations = KtFuzzCallsFromCommandLine();
    KtSetBudget(Context, (ULONG)MIN(4000000000ULL, 60000 + f.Iterations / 4));
    f.Seed = KtRandom(Context) | 1;
    f.Limit = KeServiceDescriptorTable.Limit;
    f.Results = KT_FUZZ_RESULTS_VA;
    f.SvcTerminate = KSVC_NtTerminateProcess;
    for (ULONG i = 0; i < KeServiceDescriptorTable.Limit && f.AllowedCount < 64; i++)
        if (!KtFuzzExcluded(KeServiceDescriptorTable.Names[i]))
            f.Allowed[f.AllowedCount++] = i;
    const ULONG64 top = MmUserProbeAddress, V = KT_FUZZ_VICTIM_VA, T = KT_FUZZ_TOP_VA;
    const ULONG64 values[] = {
        0, 1, 2, 4, 8, 0x10, 0x30, 0x1000, 0x10000, (ULONG64)-1, (ULONG64)-2, (ULONG64)-3, 0x7FFFFFFF, 0xFFFFFFFF,
        0x80000000, 0x100000000ULL, 0x7FFFFFFFFFFFFFFFULL, 0x8000000000000000ULL, 0x40000000,
        top, top - 1, top - 4, top - 8, top - PAGE_SIZE, 0x0000800000000000ULL, 0xFFFF800000000000ULL,
        (ULONG64)&KtKernelData, (ULONG64)KtTestUserFuzz, 0xFFFFF88000000000ULL, 0xFFFFFFFFFFFFF000ULL,
        T, T + 0xFF8, T + 0xFFC, T + 1,
        V, V + 8, V + 0x800, V + 0xFF8, V + 0x1FF8, V + 0x1FFC, V + 1, V + 3, V + 7,
        KT_FUZZ_RO_VA, KT_FUZZ_RO_VA + 0x10, KT_FUZZ_GUARD_VA, KT_FUZZ_GUARD_VA + 8, KT_FUZZ_ABSENT_VA,
        KT_FUZZ_ABSENT_VA + 0x10, 0x100, KT_USER_CODE_VA, KT_USER_PARAMS_VA,
    };
    _Static_assert(ARRAYSIZE(values) <= 64, "64 values");
    for (ULONG i = 0; i < 64; i++)
        f.Values[i] = i < ARRAYSIZE(values) ? values[i] : KtRandom(Context);
    f.ValueMask = 63;
    const ULONG64 rsps[16] = {0xFFFFF80000001000ULL, 0, 1, KT_FUZZ_ABSENT_VA + 0x800, top - 0x28 - 8, top - 8,
                              V + 0x1FF0, V + 3, T + 0xF00, KT_FUZZ_GUARD_VA + 0x100, KT_FUZZ_RO_VA + 0x100,
                              0x0000800000000000ULL, 0xFFFFFFFFFFFFFFF8ULL, V + 0x800, T + 0xFD0, top};
    for (ULONG i = 0; i < 16; i++)
        f.RspValues[i] = rsps[i];
    f.RspMask = 15;

    extern const UCHAR KtUserCodeStart[], KtUserCodeEnd[];
    PEPROCESS p;
    NTSTATUS status = PsCreateUserProcessObject("fuzz", &p);
    if (!KtRequireImplemented(Context, status, "a user process", "labs 01, 02 and 06") ||
        !KtCheck(Context, NT_SUCCESS(status), "process_create", "PsCreateUserProcessObject: 0x%08X", (ULONG)status))
        return;
    SIZE_T size = (SIZE_T)(KtUserCodeEnd - KtUserCodeStart);
    static UCHAR fill[2 * PAGE_SIZE];
    for (ULONG i = 0; i < sizeof(fill); i++)
        fill[i] = (UCHAR)KtRandom(Context);
    if (!KtUserMap(Context, p, KT_USER_CODE_VA, (size + PAGE_SIZE - 1) / PAGE_SIZE, MM_PROTECT_EXECUTE,
                   KtUserCodeStart, size) ||
        !KtUserMap(Context, p, KT_USER_PARAMS_VA, 1, 0, &f, sizeof(f)) ||
        !KtUserMap(Context, p, KT_FUZZ_RESULTS_VA, 1, MM_PROTECT_WRITE, NULL, 0) ||
        !KtUserMap(Context, p, V, 2, MM_PROTECT_WRITE, fill, sizeof(fill)) ||
        !KtUserMap(Context, p, KT_FUZZ_RO_VA, 1, 0, fill, PAGE_SIZE) ||
        !KtUserMap(Context, p, T, 1, MM_PROTECT_WRITE, NULL, 0)) {
        ObDereferenceObject(p);
        return;
    }
    /* A guard page (the memory manager's PTE: the first touch is STATUS_GUARD_PAGE_VIOLATION
     * once pf's fault handler runs; an access violation before). */
    MiSetUserPteProtection(p->AddressSpace, KT_FUZZ_GUARD_VA, MM_READWRITE | MM_GUARD_PAGE);
    PETHREAD t;
    status = PsCreateUserThread(p, KT_USER_CODE_VA + KtUserFuzzOffset, KT_USER_PARAMS_VA, 0, 0, &t);
    if (!KtCheck(Context, NT_SUCCESS(status), "thread_create", "PsCreateUserThread: 0x%08X", (ULONG)status)) {
        ObDereferenceObject(p);
        return;
    }
    ULONG64 t0 = KeQueryInterruptTime();
    NTSTATUS exit = PsWaitForProcess(p);
    ULONG64 t1 = KeQueryInterruptTime();
    KT_FUZZ_RESULTS r;
    RtlZeroMemory(&r, sizeof(r));
    status = PsReadUserMemory(p, KT_FUZZ_RESULTS_VA, &r, sizeof(r));
    NTSTATUS exception = p->ExceptionCode;
    ULONG64 rip = p->ExceptionAddress;
    ObDereferenceObject(p);
    KtValue(Context, "calls", "%llu", r.Calls);
    KtValue(Context, "success", "%llu", r.Success);
    KtValue(Context, "access_violation", "%llu", r.AccessViolation);
    KtValue(Context, "invalid_service", "%llu", r.InvalidService);
    KtValue(Context, "misaligned", "%llu", r.Misaligned);
    KtValue(Context, "other", "%llu", r.Other);
    KtValue(Context, "bad_rsp", "%llu", r.BadRsp);
    KtValue(Context, "guest_ns", "%llu", (t1 - t0) * 100);
    if (!KtCheck(Context, NT_SUCCESS(status) && exception == 0 && exit == STATUS_SUCCESS && r.Done == 1,
                 "survived", "the fuzzing process ended with 0x%08X (exception 0x%08X at 0x%llx) after %llu of %llu "
                 "calls (the last number 0x%llx, %s): it must run to its own NtTerminateProcess(-1, 0)", (ULONG)exit,
                 (ULONG)exception, rip, r.Calls, f.Iterations, r.LastNumber, KtServiceName(r.LastNumber)) ||
        !KtCheck(Context, r.Calls == f.Iterations, "all_calls", "%llu calls made of %llu", r.Calls, f.Iterations) ||
        !KtCheck(Context, r.WideRax == 0, "status_32bit", "%llu calls returned RAX with bits above 31 set (RAX is "
                 "the 32-bit NTSTATUS, zero-extended)", r.WideRax))
        return;
    KtCheck(Context, r.InvalidService == r.InvalidTried, "bad_number", "%llu of %llu calls with a number past the "
            "table returned STATUS_INVALID_SYSTEM_SERVICE (all must)", r.InvalidService, r.InvalidTried);
    KtCheck(Context, r.Success > 0 && r.AccessViolation > 0 && r.Misaligned > 0, "cases_seen", "the fuzz saw %llu "
            "successes, %llu access violations, %llu misalignments (each must occur: bad pointers fail, good ones "
            "work)", r.Success, r.AccessViolation, r.Misaligned);
    KtCheck(Context, KtKernelData == 0x5A5A5A5A5A5A5A5AULL, "kernel_untouched", "a kernel variable whose address the "
            "fuzz passed as user pointers changed to 0x%llx", KtKernelData);
}
