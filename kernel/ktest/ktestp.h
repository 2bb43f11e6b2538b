/* ktestp.h - private to the ktest runner (kernel/ktest): the runner's state of one test
 * run (owned by the test's context), the record writer, the authentication, the
 * watchdog. Split by purpose:
 *   runner.c   which tests run, each on the runner's thread; budget, audit, test threads
 *   record.c   one record = formatted, printed and tagged as one step, under the record
 *              lock at HIGH_LEVEL (test threads and interrupts cannot interleave lines)
 *   auth.c     the grader's key and the HMAC states (per test run, per run, per STOP)
 *   watchdog.c the hang report */
#pragma once

#include "ke.h"
#include "ktest.h"
#include "sha256.h"

#define KTP_RUN_MAGIC 0x4E55524B544B544EULL

/* What the runner keeps for one test run; KTEST_CONTEXT.Runner points at it. */
typedef struct _KTP_RUN {
    ULONG64 Magic;                 /* KTP_RUN_MAGIC while the test runs, 0 after */
    BOOLEAN AuthActive;            /* Mac holds BEGIN and every CHECK/VALUE line so far */
    HMAC_SHA256_CONTEXT Mac;
} KTP_RUN, *PKTP_RUN;

/* The run of Context if it is a live test run, else NULL. */
static inline PKTP_RUN KtpRunOf(PKTEST_CONTEXT Context)
{
    PKTP_RUN run = Context ? (PKTP_RUN)Context->Runner : NULL;
    return run && run->Magic == KTP_RUN_MAGIC ? run : NULL;
}

/* auth.c */
extern BOOLEAN KtpAuthEnabled;
VOID KtpAuthLoad(VOID);
VOID KtpAuthTestBegin(PKTP_RUN Run, PCSTR BeginLine, SIZE_T Length);
/* Adds the END line to the test's MAC and returns its tag in hex (65 bytes); FALSE without a key. */
BOOLEAN KtpAuthTestEnd(PKTP_RUN Run, PCSTR EndLine, SIZE_T Length, PCHAR TagHex);
VOID KtpAuthRunAddTag(PCSTR TagHex);
BOOLEAN KtpAuthRunEnd(PCSTR DoneLine, SIZE_T Length, PCHAR TagHex);
VOID KtpAuthLine(HMAC_SHA256_CONTEXT *Mac, PCSTR Line, SIZE_T Length);

/* record.c */
/* The record lock: interrupts off, IRQL HIGH_LEVEL, a lock word (nesting is allowed only
 * for a bugcheck that interrupts a record). */
typedef struct _KTP_RECORD_LOCK_STATE {
    ULONG64 Flags;
    KIRQL Irql;
} KTP_RECORD_LOCK_STATE;
VOID KtpLockRecords(KTP_RECORD_LOCK_STATE *State);
VOID KtpUnlockRecords(KTP_RECORD_LOCK_STATE *State);
/* Prints a record of Context's test and adds it to the test's MAC, as one step. */
VOID KtpWriteTestRecordV(PKTEST_CONTEXT Context, PCSTR Format, va_list Args);
/* Prints "KTEST END ..." (with its tag) and returns the tag (empty without a key). */
VOID KtpWriteEndRecord(PKTEST_CONTEXT Context, PCHAR TagHex, PCSTR Format, ...) __attribute__((format(printf, 3, 4)));
/* Prints "KTEST DONE ..." with the run's tag. */
VOID KtpWriteDoneRecord(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));

/* runner.c */
extern PKTEST_CONTEXT volatile KtpCurrent;

/* watchdog.c */
DECLSPEC_NORETURN VOID KtpHang(PCSTR Test, ULONG64 ElapsedMs, ULONG64 BudgetMs, PKTRAP_FRAME TrapFrame);
