/* runner.c - runs the ktests named on the command line ("ktest=a,b seed=N",
 * "ktest=all", "ktest=list") on the runner's thread (the initial thread) and ends the run
 * through isa-debug-exit. Each test run has its own context (with the runner's state of
 * the run, KTP_RUN) and a watchdog budget; after it returns, an audit checks what it left
 * behind: IRQL PASSIVE_LEVEL, still on the runner's thread, APCs enabled, no DPC queued,
 * no thread of its own alive. Records: record.c; authentication: auth.c; hangs: watchdog.c. */
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "ktestp.h"
#include "ps.h"
#include "rtl.h"

extern const KTEST KiTestsStart[], KiTestsEnd[];
extern const UCHAR KiTestCodeStart[], KiTestCodeEnd[]; /* the test objects' code (linker.ld) */

/* Copies the value of "key=" from the command line into Out; FALSE if absent. */
static BOOLEAN KtpGetOption(PCSTR CommandLine, PCSTR Key, PCHAR Out, SIZE_T Size)
{
    SIZE_T keyLength = strlen(Key);
    for (PCSTR p = CommandLine; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, Key, keyLength) == 0 && p[keyLength] == '=') {
            p += keyLength + 1;
            SIZE_T n = 0;
            while (*p && *p != ' ' && n + 1 < Size)
                Out[n++] = *p++;
            Out[n] = 0;
            return TRUE;
        }
        while (*p && *p != ' ')
            p++;
    }
    return FALSE;
}

static ULONG64 KtpParseNumber(PCSTR Text)
{
    ULONG64 v = 0;
    ULONG base = 10;
    if (Text[0] == '0' && (Text[1] == 'x' || Text[1] == 'X'))
        base = 16, Text += 2;
    for (; *Text; Text++) {
        CHAR c = *Text;
        ULONG d = (c >= '0' && c <= '9') ? (ULONG)(c - '0')
                  : (c >= 'a' && c <= 'f') ? (ULONG)(c - 'a' + 10)
                  : (c >= 'A' && c <= 'F') ? (ULONG)(c - 'A' + 10) : 99;
        if (d >= base)
            break;
        v = v * base + d;
    }
    return v;
}

static const KTEST *KtpFind(PCSTR Name, SIZE_T Length)
{
    for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
        if (strlen(t->Name) == Length && strncmp(t->Name, Name, Length) == 0)
            return t;
    return NULL;
}

static ULONG KtpPassed, KtpFailed;

/* ---- the running test, the watchdog, stubs, test threads ---- */
PKTEST_CONTEXT volatile KtpCurrent;
static volatile ULONG64 KtpStartTick, KtpDeadline, KtpIdleTicks;

VOID KtSetBudget(PKTEST_CONTEXT Context, ULONG Milliseconds)
{
    Context->BudgetMs = Milliseconds;
    if (Context == KtpCurrent && KeClockHz)
        KtpDeadline = KtpStartTick + (ULONG64)Milliseconds * KeClockHz / 1000;
}

VOID KtWatchdogTick(PKTRAP_FRAME TrapFrame)
{
    ULONG64 deadline = KtpDeadline;
    PKTEST_CONTEXT context = KtpCurrent;
    if (!deadline || !context)
        return;
    PKPRCB prcb = KeGetCurrentPrcb();
    KtpIdleTicks = prcb->CurrentThread == prcb->IdleThread ? KtpIdleTicks + 1 : 0;
    BOOLEAN idle = KtpIdleTicks * 1000 >= (ULONG64)KT_IDLE_BUDGET_MS * KeClockHz;
    if (KeTickCount < deadline && !idle)
        return;
    KtpDeadline = 0;
    KtpHang(context->Name, (KeTickCount - KtpStartTick) * 1000 / KeClockHz,
            idle ? KT_IDLE_BUDGET_MS : context->BudgetMs, TrapFrame);
}

VOID KtNotImplemented(PCSTR Function, PCSTR Lab)
{
    PKTEST_CONTEXT context = KtpCurrent;
    if (!context) {
        DbgPrint("%s is not implemented (%s stub)\n", Function, Lab);
        return;
    }
    for (ULONG i = 0; i < context->NotImplementedCount; i++)
        if (context->NotImplemented[i] == Function)
            return;
    if (context->NotImplementedCount < ARRAYSIZE(context->NotImplemented))
        context->NotImplemented[context->NotImplementedCount++] = Function;
    KtFail(context, "implemented", "%s is not implemented (%s stub)", Function, Lab);
}

BOOLEAN KtCreateThread(PKTEST_CONTEXT Context, PCSTR Name, VOID (*Routine)(PVOID), PVOID Argument,
                       PKTHREAD *Thread)
{
    NTSTATUS status = KeCreateThread(Thread, Name, Routine, Argument, 8);
    if (!KtCheck(Context, NT_SUCCESS(status), "thread_create", "KeCreateThread(%s) returned 0x%08X", Name,
                 (ULONG)status))
        return FALSE;
    (*Thread)->Owner = Context;
    Context->ThreadsCreated++;
    return TRUE;
}

VOID KtJoinThread(PKTEST_CONTEXT Context, PKTHREAD Thread)
{
    UNREFERENCED_PARAMETER(Context);
    KeJoinThread(Thread);
}

/* End-of-test audit: what a test must leave behind, whatever it did. */
static VOID KtpAudit(PKTEST_CONTEXT Context)
{
    extern LIST_ENTRY KiThreadListHead;
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL) {
        KtFail(Context, "irql", "test returned at IRQL %u, expected PASSIVE_LEVEL (0)", irql);
        KeLowerIrql(PASSIVE_LEVEL);
    }
    PKTHREAD self = KeGetCurrentThread();
    if (self != prcb->IdleThread && self->ThreadId != 1)
        KtFail(Context, "audit_thread", "test returned on thread %u (%s), not on the runner's thread", self->ThreadId,
               self->Name);
    if (self->KernelApcDisable || self->SpecialApcDisable)
        KtFail(Context, "audit_apc", "test returned with APCs disabled (KernelApcDisable %d, SpecialApcDisable %d)",
               self->KernelApcDisable, self->SpecialApcDisable);
    if (prcb->DpcQueueDepth)
        KtFail(Context, "audit_dpc", "%u DPCs still queued at the end of the test", prcb->DpcQueueDepth);
    for (PLIST_ENTRY e = KiThreadListHead.Flink; e != &KiThreadListHead;) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        e = e->Flink;
        if (t->Owner != Context)
            continue;
        if (t->State == Terminated)
            KeJoinThread(t);
        else {
            KtFail(Context, "audit_threads", "thread %u (%s) is still alive (%s) at the end of the test", t->ThreadId,
                   t->Name, KeThreadStateName(t->State));
            t->Owner = NULL;
        }
    }
}

static KTP_RUN KtpRunState;

static VOID KtpRun(const KTEST *Test, ULONG64 Seed)
{
    KTEST_CONTEXT context = {0};
    PKTP_RUN run = &KtpRunState;
    CHAR begin[200], tag[65];
    RtlZeroMemory(run, sizeof(*run));
    run->Magic = KTP_RUN_MAGIC;
    context.Name = Test->Name;
    context.BudgetMs = KT_DEFAULT_BUDGET_MS;
    context.Seed = Seed;
    context.Rng = Seed ^ RtlHashString64(Test->Name);
    context.Runner = run;
    ULONG n = RtlFormatString(begin, sizeof(begin), "KTEST BEGIN %s", Test->Name);
    HalSerialNewLineIfNeeded();
    DbgPrint("%s\n", begin);
    KtpAuthTestBegin(run, begin, n < sizeof(begin) ? n : sizeof(begin) - 1);
    /* The seed moves the clock's phase against the test: a seeded spin of up to about one
     * tick (at the default instruction rate) before it starts, from its own generator (the
     * test's, which the grader's models replay, is left alone). */
    ULONG64 phase = Seed ^ RtlHashString64(Test->Name) ^ 0x9E3779B97F4A7C15ULL;
    for (volatile ULONG64 spin = RtlSplitMix64(&phase) % 40000; spin; spin--)
        ;
    KtpStartTick = KeTickCount;
    KtpIdleTicks = 0;
    KtpCurrent = &context;
    KtSetBudget(&context, context.BudgetMs);
    /* Only routines inside the test objects' code are called (a registry entry pointing
     * anywhere else was tampered with). */
    if ((ULONG_PTR)Test->Routine >= (ULONG_PTR)KiTestCodeStart && (ULONG_PTR)Test->Routine < (ULONG_PTR)KiTestCodeEnd)
        Test->Routine(&context);
    else
        KtFail(&context, "registry", "the routine of %s lies outside the test code; not called", Test->Name);
    HalSerialNewLineIfNeeded();
    KtpAudit(&context);
    /* Lab 08: a test that made processes leaves the object manager up (the system process,
     * its handle table...): it is taken down, as lab 06's tests do themselves, so that the
     * next test finds the pool as it was - unless a process other than the system is left
     * (a failed test's, its threads may still run). */
    PsResetObjectsAfterTest();
    KtpDeadline = 0;
    PCSTR verdict = context.Failures ? "FAIL" : context.Skipped ? "SKIP" : "PASS";
    KtpWriteEndRecord(&context, tag, "KTEST END %s %s", Test->Name, verdict);
    KtpCurrent = NULL;
    run->Magic = 0;
    KtpAuthRunAddTag(tag);
    if (context.Failures || context.Skipped)
        KtpFailed++;
    else
        KtpPassed++;
}

static VOID KtpList(VOID)
{
    DbgPrint("ktest: available tests:");
    for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
        DbgPrint(" %s%s", t->Name, (t->Flags & KTEST_BUGCHECKS) ? "(bugchecks)" : (t->Flags & KTEST_HANGS) ? "(hangs)" : (t->Flags & KTEST_FAILS) ? "(fails)" : "");
    DbgPrint("\n");
}

VOID KtRunTests(PCSTR CommandLine)
{
    CHAR tests[400], seedText[32];
    ULONG64 seed = 1;
    KtpAuthLoad();
    if (KtpGetOption(CommandLine, "seed", seedText, sizeof(seedText)))
        seed = KtpParseNumber(seedText);
    if (!KtpGetOption(CommandLine, "ktest", tests, sizeof(tests)) || tests[0] == 0) {
        DbgPrint("ktest: no tests selected; pass ktest=name[,name...] (or ktest=all, ktest=list)\n");
        KtpList();
        KtpWriteDoneRecord("KTEST DONE passed=0 failed=0");
        HalExitQemu(HAL_EXIT_ALL_PASSED);
    }
    DbgPrint("ktest: seed %llu\n", seed);
    if (strcmp(tests, "list") == 0) {
        KtpList();
        KtpWriteDoneRecord("KTEST DONE passed=0 failed=0");
        HalExitQemu(HAL_EXIT_ALL_PASSED);
    }
    if (strcmp(tests, "all") == 0) {
        for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
            if (!(t->Flags & (KTEST_BUGCHECKS | KTEST_HANGS | KTEST_FAILS)))
                KtpRun(t, seed);
    } else {
        for (PCSTR p = tests; *p;) {
            PCSTR start = p;
            while (*p && *p != ',')
                p++;
            SIZE_T length = (SIZE_T)(p - start);
            if (*p == ',')
                p++;
            if (length == 0)
                continue;
            const KTEST *t = KtpFind(start, length);
            if (!t) {
                DbgPrint("KTEST unknown test '%.*s'\n", (int)length, start);
                KtpList();
                KtpFailed++;
                continue;
            }
            KtpRun(t, seed);
        }
    }
    KtpWriteDoneRecord("KTEST DONE passed=%u failed=%u", KtpPassed, KtpFailed);
    HalExitQemu(KtpFailed ? HAL_EXIT_SOME_FAILED : HAL_EXIT_ALL_PASSED);
}
