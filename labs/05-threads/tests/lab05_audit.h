/* lab05_audit.h - what lab 05's tests share: threads at a chosen priority owned by the
 * test, a trace of who ran (reported to the grader, which judges it from the seed), the
 * poisoning of objects before they are initialised, and auditors of the whole dispatcher
 * state: every ready queue (links, priority, state, the summary bitmap) and every wait
 * list (links, order, the wait blocks' fields). Framework test code: it never calls
 * student code to judge it. */
#pragma once

#include "arch.h"
#include "bugcodes.h"
#include "kesched.h"
#include "ktest.h"

/* Every lab 05 test ends within a second or two of guest time; past this the watchdog
 * reports a hang naming each thread's state and wait. */
#define KT_LAB05_BUDGET_MS 5000
#define KT_RUNNER_PRIORITY 8     /* the test's own thread (KeCreateThread gives the runner 8) */

/* Every test starts here: the watchdog budget, and a first call into the lab
 * (KeQueryPriorityThread of the test's thread, which must be KT_RUNNER_PRIORITY) so that a
 * stubbed lab reports itself before anything else can fail. FALSE: stop the test. */
BOOLEAN KtLab05Begin(PKTEST_CONTEXT Context);

/* TRUE if a lab 05 stub reported itself: the test stops there (no waiting, no hang). */
BOOLEAN KtLab05Stubbed(PKTEST_CONTEXT Context);

/* Fills Size bytes with a non-zero pattern from the seed (not from the test's generator,
 * which the grader's model replays). */
VOID KtPoison05(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size);

/* KeCreateThread at Priority, owned by the test (audited and joined at its end). */
BOOLEAN KtCreateThreadAt(PKTEST_CONTEXT Context, PCSTR Name, PKSTART_ROUTINE Routine, PVOID Argument,
                         KPRIORITY Priority, PKTHREAD *Thread);

/* The trace: one character per event, in the order the events ran. */
typedef struct {
    CHAR Text[200];
    volatile ULONG Length;
} KT_TRACE;
VOID KtTraceAdd(KT_TRACE *Trace, CHAR Event);
/* Reports the trace (KTEST VALUE <test> <Key> <text>) and checks it against Expected,
 * showing both as a timeline on failure. Check names the contract clause. */
BOOLEAN KtTraceCheck(PKTEST_CONTEXT Context, KT_TRACE *Trace, PCSTR Key, PCSTR Expected, PCSTR Check, PCSTR Clause);

/* Every ready queue: both links of every entry, each thread Ready with Priority == its
 * queue, no thread twice, ReadySummary bit p set exactly when queue p is not empty, and
 * (if Expected) the threads of Expected[0..Count) on their queues in that order among the
 * test's threads. */
BOOLEAN KtAuditReadyQueues(PKTEST_CONTEXT Context, PCSTR Step);
/* Object's wait list holds exactly the blocks of Threads[0..Count) from head to tail
 * (Thread, Object, links), each thread Waiting. */
BOOLEAN KtAuditWaitList(PKTEST_CONTEXT Context, PCSTR Step, PVOID Object, PKTHREAD *Threads, ULONG Count);
/* Waits (polling, yielding) until Thread has State, for at most Ticks clock ticks. */
BOOLEAN KtWaitState(PKTHREAD Thread, ULONG State, ULONG Ticks);
