/* ktest.h - the in-kernel test runner: registering tests and reporting results.
 *
 * A test is a function registered with KTEST(name, function). The runner runs the
 * tests named on the command line (ktest=a,b seed=N) and prints the serial protocol:
 *   KTEST BEGIN t / KTEST CHECK t check ok|FAIL detail / KTEST VALUE t key value /
 *   KTEST END t PASS|FAIL|SKIP / KTEST DONE passed=N failed=M
 * With a grader key (fw_cfg opt/ntlab/auth), END and DONE lines end with an HMAC tag.
 */
#pragma once

#include "ntdef.h"
#include "rtl.h"

typedef struct _KTEST_CONTEXT {
    PCSTR Name;
    ULONG64 Seed;     /* the run's seed */
    ULONG64 Rng;      /* splitmix64 state: seed ^ hash(name) */
    ULONG Checks;
    ULONG Failures;
    BOOLEAN Skipped;
    PCSTR Reported[32]; /* checks already reported ok: each prints "ok" once */
    ULONG ReportedCount;
    /* Framework (runner.c): the watchdog budget, stubs reported, threads started. */
    ULONG BudgetMs;
    PCSTR NotImplemented[8];
    ULONG NotImplementedCount;
    ULONG ThreadsCreated;
    PVOID Runner; /* the runner's own state of this run (ktestp.h): its authentication */
} KTEST_CONTEXT, *PKTEST_CONTEXT;

typedef VOID (*PKTEST_ROUTINE)(PKTEST_CONTEXT Context);

typedef struct _KTEST {
    PCSTR Name;
    PKTEST_ROUTINE Routine;
    ULONG Flags;
} KTEST, *PKTEST;

/* The test ends in a bugcheck on purpose: it must run alone and is left out of ktest=all. */
#define KTEST_BUGCHECKS 0x1
/* The test ends in the watchdog's hang verdict on purpose (framework tests of the watchdog):
 * it must run alone and is left out of ktest=all. */
#define KTEST_HANGS 0x2
/* A framework self-test that fails on purpose (it proves a failure path of the runner):
 * it must run alone and is left out of ktest=all. */
#define KTEST_FAILS 0x4

#define KTEST_EX(name, routine, flags)                                                     \
    static VOID routine(PKTEST_CONTEXT Context);                                           \
    static const KTEST KtRegistration_##routine __attribute__((section(".ktests"), used, aligned(8))) = \
        {name, routine, flags};                                                            \
    static VOID routine(PKTEST_CONTEXT Context)
#define KTEST(name, routine) KTEST_EX(name, routine, 0)
#define KTEST_STOP(name, routine) KTEST_EX(name, routine, KTEST_BUGCHECKS)
#define KTEST_HANG(name, routine) KTEST_EX(name, routine, KTEST_HANGS)

/* Records a check; prints "KTEST CHECK <test> <check> FAIL <detail>" on failure, and
 * "KTEST CHECK <test> <check> ok" the first time a check passes. Returns Condition. */
BOOLEAN KtCheck(PKTEST_CONTEXT Context, BOOLEAN Condition, PCSTR Check, PCSTR DetailFormat, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a failure without a passing counterpart. */
VOID KtFail(PKTEST_CONTEXT Context, PCSTR Check, PCSTR DetailFormat, ...) __attribute__((format(printf, 3, 4)));
/* Prints "KTEST VALUE <test> <key> <value>". */
VOID KtValue(PKTEST_CONTEXT Context, PCSTR Key, PCSTR ValueFormat, ...) __attribute__((format(printf, 3, 4)));
/* If Status is STATUS_NOT_IMPLEMENTED, fails check "implemented" naming the function
 * and the lab, and returns FALSE; otherwise TRUE. */
BOOLEAN KtRequireImplemented(PKTEST_CONTEXT Context, NTSTATUS Status, PCSTR Function, PCSTR Lab);
VOID KtSkip(PKTEST_CONTEXT Context, PCSTR Reason);
/* Seeded random numbers: [0, 2^64) and [Low, High] inclusive. */
ULONG64 KtRandom(PKTEST_CONTEXT Context);
ULONG64 KtRandomRange(PKTEST_CONTEXT Context, ULONG64 Low, ULONG64 High);

/* The symbol containing Address, by a plain scan of the embedded table (independent
 * of the student's RtlLookupSymbol); NULL if none. */
const struct _KSYMBOL *KtFindSymbol(ULONG_PTR Address);

VOID KtRunTests(PCSTR CommandLine);

/* ---- Threads in tests ----
 * KtCreateThread starts a thread (KeCreateThread) owned by the test: the end-of-test
 * audit fails the test if it is still alive, and joins it if it ended. KtJoinThread
 * waits for it to end. Both return/check statuses; a failure to create is a failed check
 * "thread_create" naming the status. */
struct _KTHREAD;
BOOLEAN KtCreateThread(PKTEST_CONTEXT Context, PCSTR Name, VOID (*Routine)(PVOID), PVOID Argument,
                       struct _KTHREAD **Thread);
VOID KtJoinThread(PKTEST_CONTEXT Context, struct _KTHREAD *Thread);
/* The watchdog's budget for the running test, in milliseconds of clock time (default
 * KT_DEFAULT_BUDGET_MS): past it, the watchdog prints KTEST HANG and ends the run. The
 * watchdog also ends a test during which every thread has waited (the idle thread ran
 * alone) for KT_IDLE_BUDGET_MS: a deadlock, found without waiting for the whole budget.
 * Under instruction counting guest time runs at 2^shift ns an instruction (grader/qemu.py). */
#define KT_DEFAULT_BUDGET_MS 30000
#define KT_IDLE_BUDGET_MS 1000
VOID KtSetBudget(PKTEST_CONTEXT Context, ULONG Milliseconds);

/* Framework (clock.c, ke/notimpl.c): the watchdog, run by every clock interrupt with the
 * interrupted code's trap frame; a stub's KeNotImplemented call. */
struct _KTRAP_FRAME;
VOID KtWatchdogTick(struct _KTRAP_FRAME *TrapFrame);
VOID KtNotImplemented(PCSTR Function, PCSTR Lab);

/* Records and their authentication (record.c, auth.c; framework only, refused in student
 * files by the grader's static check). KtWriteRecordV formats a record line into Line
 * (Size bytes), replaces control bytes with '?', prints it at the start of a line (and a
 * newline if EndLine) under the record lock, and returns its length;
 * KtAuthTestLine adds a line to the tag of Context's test run; KtAuthStop* tag a STOP
 * record (begin, each printed line, then "STOP AUTH <hex>"). All do nothing without a key. */
SIZE_T KtWriteRecordV(PCHAR Line, SIZE_T Size, BOOLEAN EndLine, PCSTR Format, va_list Args);
VOID KtAuthTestLine(PKTEST_CONTEXT Context, PCSTR Line, SIZE_T Length); /* only a live test run's context */
VOID KtAuthStopBegin(VOID);
VOID KtAuthStopLine(PCSTR Line, SIZE_T Length);
VOID KtAuthStopEnd(VOID);
