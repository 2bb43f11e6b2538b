/* lab04_audit.h - what lab 04's tests share: poisoning, whole-structure auditors for the
 * DPC queue and the timer table (every link, count, flag and order, after every step), a
 * log of DPC runs, waiting for clock ticks, and the clean-up that leaves no DPC or timer
 * behind a failed test. Framework test code: it never calls student code to judge it. */
#pragma once

#include "arch.h"
#include "bugcodes.h"
#include "kedpc.h"
#include "kespin.h"
#include "ketimer.h"
#include "ktest.h"

/* Every lab 04 test ends within a second of guest time: past 3 s the watchdog reports a
 * hang (a spin or drain that never ends) instead of waiting for the default budget. */
#define KT_LAB04_BUDGET_MS 3000

/* Fills Size bytes with a seeded non-zero pattern (memory is dirty before init). */
VOID KtPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size);

/* TRUE if a lab 04 stub reported itself: the test stops there (no waiting, no hang). */
BOOLEAN KtLab04Stubbed(PKTEST_CONTEXT Context);

/* The DPC queue holds exactly Expected[0..Count) from head to tail: both links of every
 * entry, DpcData == the KPRCB and Type == DpcObject on each, DpcQueueDepth == Count, and
 * every DPC of All[0..AllCount) not in Expected has DpcData NULL. Step names the step. */
BOOLEAN KtAuditDpcQueue(PKTEST_CONTEXT Context, PCSTR Step, PKDPC *Expected, ULONG Count, PKDPC All, ULONG AllCount);

/* What a test expects of each of its timers. */
typedef struct {
    PKTIMER Timer;
    BOOLEAN Set;        /* on the table */
    ULONG64 DueTime;    /* absolute interrupt time, when Set */
} KT_TIMER_EXPECT;

/* The whole timer table: every list's links both ways; each timer on list i is one of
 * the test's, has Inserted, Hand == i and KiTimerIndex(DueTime) == i; each list in
 * ascending DueTime; each expected-set timer on the table exactly once with the expected
 * DueTime, each other test timer on none and not Inserted. */
BOOLEAN KtAuditTimerTable(PKTEST_CONTEXT Context, PCSTR Step, const KT_TIMER_EXPECT *Expect, ULONG Count);

/* The DPC-run log: each routine call of a logged DPC appends one record. */
typedef struct {
    ULONG Id;           /* DeferredContext */
    KIRQL Irql;
    BOOLEAN InterruptsOn;
    BOOLEAN DpcDataClear; /* the DPC was dequeued (DpcData NULL) when its routine ran */
    PVOID Argument1, Argument2;
    ULONG64 Tick;
} KT_DPC_RUN;
#define KT_DPC_LOG 256
extern KT_DPC_RUN KtDpcLog[KT_DPC_LOG];
extern volatile ULONG KtDpcLogCount;
VOID KtLogDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2);

/* Busy-waits at the current IRQL (< CLOCK_LEVEL, interrupts on) until KeTickCount >=
 * Tick or Done() is TRUE; FALSE (and a failed check "clock") if the clock does not run. */
BOOLEAN KtWaitForTick(PKTEST_CONTEXT Context, ULONG64 Tick);

/* Leaves nothing behind: empties the DPC queue and the timer table (by the framework's
 * own hands, not the student's), IRQL PASSIVE, interrupts on, no spin-wait routine. */
VOID KtLab04Cleanup(VOID);
