/* wait_tests.c - lab 05 public tests of waits and of semaphores and mutants: WaitAll
 * consumes nothing until every object is signalled; WaitAny returns the lowest signalled
 * index (first, middle, last) and consumes only it; a blocked WaitAny leaves no block on
 * the other objects; semaphore limits; mutant recursion, STATUS_MUTANT_NOT_OWNED, the
 * hand-over to a waiter and abandonment; timeouts on time, polls, delays, timers and
 * threads as waitable objects; the IRQL rule of waits (a STOP). */
#include "lab05_audit.h"

static PKTEST_CONTEXT KtWaitContext;

typedef struct {
    KEVENT Ev[3];
    PVOID Objects[3];
    NTSTATUS Status;
    volatile BOOLEAN Done;
} KT_MULTI;
static KT_MULTI KtMulti;

static VOID KtWaitAllThread(PVOID Argument)
{
    KtMulti.Status = KeWaitForMultipleObjects((ULONG)(ULONG_PTR)Argument, KtMulti.Objects, WaitAll, Executive,
                                              KernelMode, FALSE, NULL, NULL);
    KtMulti.Done = TRUE;
}

static VOID KtWaitAnyThread(PVOID Argument)
{
    KtMulti.Status = KeWaitForMultipleObjects((ULONG)(ULONG_PTR)Argument, KtMulti.Objects, WaitAny, Executive,
                                              KernelMode, FALSE, NULL, NULL);
    KtMulti.Done = TRUE;
}

static volatile NTSTATUS KtOneStatus;
static VOID KtWaitOneThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KtOneStatus = KeWaitForSingleObject(&KtMulti.Ev[0], Executive, KernelMode, FALSE, NULL);
}

static VOID KtInitEvents(PKTEST_CONTEXT Context, ULONG N)
{
    for (ULONG i = 0; i < N; i++) {
        KtPoison05(Context, &KtMulti.Ev[i], sizeof(KtMulti.Ev[i]));
        KeInitializeEvent(&KtMulti.Ev[i], SynchronizationEvent, FALSE);
        KtMulti.Objects[i] = &KtMulti.Ev[i];
    }
    KtMulti.Done = FALSE;
    KtMulti.Status = -1;
}

KTEST("wait.multiple", KtTestWaitMultiple)
{
    if (!KtLab05Begin(Context))
        return;
    KtWaitContext = Context;
    /* WaitAll on (a, b), signalled in a seeded order. */
    KtInitEvents(Context, 2);
    if (KtLab05Stubbed(Context))
        return;
    ULONG first = (ULONG)KtRandomRange(Context, 0, 1);
    PKTHREAD t;
    if (!KtCreateThreadAt(Context, "waitall", KtWaitAllThread, (PVOID)2, 9, &t))
        return;
    if (KtLab05Stubbed(Context)) {
        KtJoinThread(Context, t);
        return;
    }
    KtAuditWaitList(Context, "WaitAll on (a, b)", &KtMulti.Ev[0], &t, 1);
    KtAuditWaitList(Context, "WaitAll on (a, b)", &KtMulti.Ev[1], &t, 1);
    KeSetEvent(&KtMulti.Ev[first], EVENT_INCREMENT, FALSE);
    KtCheck(Context, !KtMulti.Done && KtMulti.Ev[first].Header.SignalState == 1, "waitall_consumes_nothing",
            "WaitAll on (a, b) with only %c signalled: the waiter %s and %c's SignalState is %d (expected: still "
            "waiting, 1 - WaitAll consumes nothing until all are signalled)", 'a' + first,
            KtMulti.Done ? "returned" : "waits", 'a' + first, KtMulti.Ev[first].Header.SignalState);
    KtAuditWaitList(Context, "signalling one of a WaitAll's objects", &KtMulti.Ev[1 - first], &t, 1);
    KeSetEvent(&KtMulti.Ev[1 - first], EVENT_INCREMENT, FALSE);
    KtCheck(Context, KtMulti.Done && KtMulti.Status == STATUS_WAIT_0 && KtMulti.Ev[0].Header.SignalState == 0 &&
            KtMulti.Ev[1].Header.SignalState == 0, "waitall_all", "WaitAll on (a, b) with both signalled: returned "
            "%s 0x%X (STATUS_WAIT_0), SignalStates %d %d (0 0: both consumed)", KtMulti.Done ? "yes" : "no",
            (ULONG)KtMulti.Status, KtMulti.Ev[0].Header.SignalState, KtMulti.Ev[1].Header.SignalState);
    KtAuditWaitList(Context, "the WaitAll returned", &KtMulti.Ev[0], NULL, 0);
    KtAuditWaitList(Context, "the WaitAll returned", &KtMulti.Ev[1], NULL, 0);
    KtJoinThread(Context, t);

    /* WaitAny without blocking: the lowest signalled index is 0, 1 and 2 in turn. */
    for (ULONG low = 0; low < 3; low++) {
        KtInitEvents(Context, 3);
        ULONG mask = 1U << low;
        for (ULONG i = low + 1; i < 3; i++)
            if (KtRandomRange(Context, 0, 1))
                mask |= 1U << i;
        if (low < 2)
            mask |= 4; /* a higher index is signalled too: the lowest must win */
        for (ULONG i = 0; i < 3; i++)
            if (mask & (1U << i))
                KeSetEvent(&KtMulti.Ev[i], 0, FALSE);
        NTSTATUS s = KeWaitForMultipleObjects(3, KtMulti.Objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        BOOLEAN rest = TRUE;
        for (ULONG i = 0; i < 3; i++)
            if (i != low && KtMulti.Ev[i].Header.SignalState != (LONG)((mask >> i) & 1))
                rest = FALSE;
        KtCheck(Context, s == (NTSTATUS)low && KtMulti.Ev[low].Header.SignalState == 0 && rest, "waitany_lowest",
                "WaitAny on 3 events with signalled set 0x%X returned 0x%X (expected STATUS_WAIT_0 + %u, the lowest "
                "signalled index), SignalStates %d %d %d (only index %u consumed)", mask, (ULONG)s, low,
                KtMulti.Ev[0].Header.SignalState, KtMulti.Ev[1].Header.SignalState,
                KtMulti.Ev[2].Header.SignalState, low);
    }
    /* A blocked WaitAny woken by a seeded index leaves no block on the other objects. */
    KtInitEvents(Context, 3);
    ULONG which = (ULONG)KtRandomRange(Context, 0, 2);
    if (!KtCreateThreadAt(Context, "waitany", KtWaitAnyThread, (PVOID)3, 9, &t))
        return;
    for (ULONG i = 0; i < 3; i++)
        KtAuditWaitList(Context, "a WaitAny on 3 events", &KtMulti.Ev[i], &t, 1);
    KeSetEvent(&KtMulti.Ev[which], EVENT_INCREMENT, FALSE);
    KtCheck(Context, KtMulti.Done && KtMulti.Status == (NTSTATUS)which, "waitany_index", "a WaitAny on 3 events "
            "woken by event %u returned %s 0x%X (expected STATUS_WAIT_0 + %u)", which, KtMulti.Done ? "yes" : "no",
            (ULONG)KtMulti.Status, which);
    for (ULONG i = 0; i < 3; i++)
        KtAuditWaitList(Context, "the WaitAny returned (every block unlinked)", &KtMulti.Ev[i], NULL, 0);
    KtJoinThread(Context, t);

    /* A WaitAll poll with only a signalled: STATUS_TIMEOUT, and a is not consumed. */
    KtInitEvents(Context, 2);
    KeSetEvent(&KtMulti.Ev[0], 0, FALSE);
    LARGE_INTEGER zero = {.QuadPart = 0};
    NTSTATUS s = KeWaitForMultipleObjects(2, KtMulti.Objects, WaitAll, Executive, KernelMode, FALSE, &zero, NULL);
    KtCheck(Context, s == STATUS_TIMEOUT && KtMulti.Ev[0].Header.SignalState == 1, "waitall_consumes_nothing",
            "a WaitAll poll (zero timeout) on (a, b) with only a signalled returned 0x%X (STATUS_TIMEOUT = 0x102) and "
            "left a's SignalState %d (1: WaitAll consumes nothing until all are signalled)", (ULONG)s,
            KtMulti.Ev[0].Header.SignalState);
    /* A WaitAll waiter that cannot be satisfied is passed over: the waiter behind it on a
     * (a WaitAny on a alone) gets a. */
    KtInitEvents(Context, 2);
    KtOneStatus = -1;
    PKTHREAD one;
    if (!KtCreateThreadAt(Context, "waitall", KtWaitAllThread, (PVOID)2, 9, &t))
        return;
    if (!KtCreateThreadAt(Context, "waitone", KtWaitOneThread, NULL, 9, &one)) {
        KeSetEvent(&KtMulti.Ev[0], 0, FALSE);
        KeSetEvent(&KtMulti.Ev[1], 0, FALSE);
        KtJoinThread(Context, t);
        return;
    }
    KeSetEvent(&KtMulti.Ev[0], EVENT_INCREMENT, FALSE);
    KtCheck(Context, !KtMulti.Done && KtOneStatus == STATUS_WAIT_0 && KtMulti.Ev[0].Header.SignalState == 0,
            "waitall_passed_over", "a WaitAll on (a, b) then a wait on a alone, a set: the WaitAll %s, the wait on a "
            "returned 0x%X (expected STATUS_WAIT_0: the WaitAll waiter is passed over, keeps its place, and the next "
            "waiter on a is satisfied), a's SignalState %d (0)", KtMulti.Done ? "returned" : "waits",
            (ULONG)KtOneStatus, KtMulti.Ev[0].Header.SignalState);
    if (one->State == Waiting)
        KeSetEvent(&KtMulti.Ev[0], 0, FALSE);
    KtJoinThread(Context, one);
    KeSetEvent(&KtMulti.Ev[1], EVENT_INCREMENT, FALSE);
    KeSetEvent(&KtMulti.Ev[0], EVENT_INCREMENT, FALSE);
    KtCheck(Context, KtMulti.Done && KtMulti.Status == STATUS_WAIT_0, "waitall_all", "the passed-over WaitAll on "
            "(a, b), both signalled afterwards: returned %s 0x%X (STATUS_WAIT_0)", KtMulti.Done ? "yes" : "no",
            (ULONG)KtMulti.Status);
    KtJoinThread(Context, t);
}

/* ---- Semaphores ---- */
static KSEMAPHORE KtSem;
static KT_TRACE KtSemTrace;

static volatile KPRIORITY KtSemPriority;

static VOID KtSemWaiter(PVOID Argument)
{
    if (KeWaitForSingleObject(&KtSem, Executive, KernelMode, FALSE, NULL) == STATUS_WAIT_0) {
        KtSemPriority = KeGetCurrentThread()->Priority;
        KtTraceAdd(&KtSemTrace, (CHAR)(ULONG_PTR)Argument);
    }
}

KTEST("wait.semaphore", KtTestWaitSemaphore)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtSemTrace, sizeof(KtSemTrace));
    LONG limit = (LONG)KtRandomRange(Context, 2, 6);
    LONG count = (LONG)KtRandomRange(Context, 0, (ULONG64)limit - 1);
    KtPoison05(Context, &KtSem, sizeof(KtSem));
    KeInitializeSemaphore(&KtSem, count, limit);
    if (KtLab05Stubbed(Context))
        return;
    KtCheck(Context, KtSem.Header.Type == SemaphoreObject && KtSem.Header.SignalState == count && KtSem.Limit == limit &&
            IsListEmpty(&KtSem.Header.WaitListHead) && KtSem.Header.WaitListHead.Blink == &KtSem.Header.WaitListHead,
            "initialize", "KeInitializeSemaphore(%d, %d) on poisoned memory: Type %u, SignalState %d, Limit %d, wait "
            "list %s", count, limit, KtSem.Header.Type, KtSem.Header.SignalState, KtSem.Limit,
            IsListEmpty(&KtSem.Header.WaitListHead) ? "empty" : "not empty");
    LONG prev = KeReleaseSemaphore(&KtSem, SEMAPHORE_INCREMENT, limit - count + 1, FALSE);
    KtCheck(Context, prev == STATUS_SEMAPHORE_LIMIT_EXCEEDED && KtSem.Header.SignalState == count, "limit_exceeded",
            "releasing %d past the limit (count %d, limit %d) returned 0x%X (STATUS_SEMAPHORE_LIMIT_EXCEEDED) and left "
            "the count %d (expected %d: unchanged)", limit - count + 1, count, limit, (ULONG)prev,
            KtSem.Header.SignalState, count);
    prev = KeReleaseSemaphore(&KtSem, SEMAPHORE_INCREMENT, limit - count, FALSE);
    KtCheck(Context, prev == count && KtSem.Header.SignalState == limit, "release_to_limit", "releasing %d up to the "
            "limit returned %d (the previous count %d), count %d (%d)", limit - count, prev, count,
            KtSem.Header.SignalState, limit);
    prev = KeReleaseSemaphore(&KtSem, SEMAPHORE_INCREMENT, 1, FALSE);
    KtCheck(Context, prev == STATUS_SEMAPHORE_LIMIT_EXCEEDED && KtSem.Header.SignalState == limit, "limit_exceeded",
            "releasing 1 at the limit returned 0x%X (STATUS_SEMAPHORE_LIMIT_EXCEEDED), count %d (%d)", (ULONG)prev,
            KtSem.Header.SignalState, limit);
    LARGE_INTEGER zero = {.QuadPart = 0};
    for (LONG i = limit; i > 0; i--) {
        NTSTATUS s = KeWaitForSingleObject(&KtSem, Executive, KernelMode, FALSE, &zero);
        if (!KtCheck(Context, s == STATUS_WAIT_0 && KtSem.Header.SignalState == i - 1, "wait_takes_one",
                     "a wait at count %d returned 0x%X (0) and left the count %d (%d)", i, (ULONG)s,
                     KtSem.Header.SignalState, i - 1))
            break;
    }
    NTSTATUS s = KeWaitForSingleObject(&KtSem, Executive, KernelMode, FALSE, &zero);
    KtCheck(Context, s == STATUS_TIMEOUT && KtSem.Header.SignalState == 0, "poll_empty", "a poll at count 0 returned "
            "0x%X (STATUS_TIMEOUT), count %d (0)", (ULONG)s, KtSem.Header.SignalState);
    /* k waiters; a release of k - 1 releases exactly k - 1 in wait order, then 1 more. */
    ULONG k = (ULONG)KtRandomRange(Context, 2, 4);
    if (k > (ULONG)limit + 1)
        k = (ULONG)limit + 1; /* a release of k - 1 stays within the limit */
    PKTHREAD t[4];
    ULONG made = 0;
    for (ULONG i = 0; i < k; i++) {
        if (!KtCreateThreadAt(Context, "semwait", KtSemWaiter, (PVOID)(ULONG_PTR)('a' + i), 9, &t[i]))
            break;
        made++;
    }
    if (made == k) {
        KtAuditWaitList(Context, "k waiters", &KtSem, t, k);
        CHAR expected[5] = {0};
        for (ULONG i = 0; i + 1 < k; i++)
            expected[i] = (CHAR)('a' + i);
        KeReleaseSemaphore(&KtSem, SEMAPHORE_INCREMENT, (LONG)k - 1, FALSE);
        KtTraceCheck(Context, &KtSemTrace, "released", expected, "release_wakes_count",
                     "a release of n wakes n waiters in wait order, each taking one");
        KtCheck(Context, KtSem.Header.SignalState == 0, "release_wakes_count", "after waking %u waiters the count is "
                "%d, expected 0", k - 1, KtSem.Header.SignalState);
        KtCheck(Context, KtSemPriority == 9 + SEMAPHORE_INCREMENT, "semaphore_boost", "a waiter of priority 9 released "
                "by KeReleaseSemaphore(SEMAPHORE_INCREMENT) ran at priority %d, expected %d (the boost of a satisfied "
                "wait)", KtSemPriority, 9 + SEMAPHORE_INCREMENT);
        KtAuditWaitList(Context, "a release of k - 1", &KtSem, t + k - 1, 1);
        KeReleaseSemaphore(&KtSem, SEMAPHORE_INCREMENT, 1, FALSE);
    }
    for (ULONG i = 0; i < made; i++)
        KtJoinThread(Context, t[i]);
}

/* ---- Mutants ---- */
static KMUTANT KtMutant;
static KT_TRACE KtMutTrace;
static volatile LONG KtMutResult;
static PKTHREAD volatile KtMutOwnerSeen;

static VOID KtMutantForeignRelease(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KtMutResult = KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
}

static VOID KtMutantWaiter(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    NTSTATUS s = KeWaitForSingleObject(&KtMutant, Executive, KernelMode, FALSE, NULL);
    KtMutOwnerSeen = KtMutant.OwnerThread;
    KtMutResult = s;
    KtTraceAdd(&KtMutTrace, 'w');
    if (s == STATUS_WAIT_0)
        KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
}

static VOID KtMutantAbandoner(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    ULONG depth = (ULONG)(ULONG_PTR)Argument;
    for (ULONG i = 0; i < depth; i++)
        KeWaitForSingleObject(&KtMutant, Executive, KernelMode, FALSE, NULL);
    /* ends owning it */
}

static BOOLEAN KtOwnsMutant(PKTHREAD Thread)
{
    for (PLIST_ENTRY e = Thread->MutantListHead.Flink; e != &Thread->MutantListHead; e = e->Flink)
        if (e == &KtMutant.MutantListEntry)
            return TRUE;
    return FALSE;
}

KTEST("wait.mutant", KtTestWaitMutant)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtMutTrace, sizeof(KtMutTrace));
    PKTHREAD self = KeGetCurrentThread(), t;
    KtPoison05(Context, &KtMutant, sizeof(KtMutant));
    KeInitializeMutant(&KtMutant, FALSE);
    if (KtLab05Stubbed(Context))
        return;
    KtCheck(Context, KtMutant.Header.Type == MutantObject && KtMutant.Header.SignalState == 1 &&
            KtMutant.OwnerThread == NULL && !KtMutant.Abandoned && IsListEmpty(&KtMutant.Header.WaitListHead),
            "initialize", "KeInitializeMutant(FALSE) on poisoned memory: Type %u, SignalState %d (1), OwnerThread %p "
            "(NULL), Abandoned %u (0), wait list %s", KtMutant.Header.Type, KtMutant.Header.SignalState,
            KtMutant.OwnerThread, KtMutant.Abandoned, IsListEmpty(&KtMutant.Header.WaitListHead) ? "empty" : "not empty");
    ULONG depth = (ULONG)KtRandomRange(Context, 2, 4);
    LARGE_INTEGER zero = {.QuadPart = 0}; /* the owner's acquisitions never block: a poll must succeed */
    for (ULONG i = 0; i < depth; i++) {
        NTSTATUS s = KeWaitForSingleObject(&KtMutant, Executive, KernelMode, FALSE, &zero);
        if (!KtCheck(Context, s == STATUS_WAIT_0 && KtMutant.Header.SignalState == 1 - (LONG)(i + 1) &&
                     KtMutant.OwnerThread == self && KtOwnsMutant(self), "recursive_acquire",
                     "acquisition %u by the same thread returned 0x%X (0): SignalState %d (expected %d), OwnerThread "
                     "%p (the thread %p), on the owner's MutantListHead: %s", i + 1, (ULONG)s,
                     KtMutant.Header.SignalState, 1 - (LONG)(i + 1), KtMutant.OwnerThread, self,
                     KtOwnsMutant(self) ? "yes" : "no"))
            return;
    }
    /* Another thread's release fails and changes nothing. */
    KtMutResult = 0;
    if (!KtCreateThreadAt(Context, "foreign", KtMutantForeignRelease, NULL, 9, &t))
        return;
    KtJoinThread(Context, t);
    KtCheck(Context, KtMutResult == STATUS_MUTANT_NOT_OWNED && KtMutant.Header.SignalState == 1 - (LONG)depth &&
            KtMutant.OwnerThread == self, "not_owned", "KeReleaseMutant by a thread that does not own it returned 0x%X "
            "(STATUS_MUTANT_NOT_OWNED = 0xC0000046) and left SignalState %d (%d), OwnerThread %p (%p)",
            (ULONG)KtMutResult, KtMutant.Header.SignalState, 1 - (LONG)depth, KtMutant.OwnerThread, self);
    /* A waiter blocks until the last release, then owns it. */
    if (!KtCreateThreadAt(Context, "waiter", KtMutantWaiter, NULL, 9, &t))
        return;
    KtAuditWaitList(Context, "a thread waited on the owned mutant", &KtMutant, &t, 1);
    for (ULONG i = depth; i > 0; i--) {
        LONG prev = KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
        if (!KtCheck(Context, prev == 1 - (LONG)i, "release_previous", "release %u of %u returned %d, expected the "
                     "previous SignalState %d", depth - i + 1, depth, prev, 1 - (LONG)i))
            break;
        if (i > 1)
            KtCheck(Context, KtMutTrace.Length == 0 && KtMutant.OwnerThread == self, "needs_every_release",
                    "after %u of %u releases the waiter %s and the owner is %p (expected: still the test's thread %p "
                    "- a mutant acquired n times needs n releases)", depth - i + 1, depth,
                    KtMutTrace.Length ? "already ran" : "waits", KtMutant.OwnerThread, self);
    }
    KtCheck(Context, KtMutTrace.Length == 1 && KtMutResult == STATUS_WAIT_0 && KtMutOwnerSeen == t, "handover",
            "after the last release the waiter %s with 0x%X owning it as %p (expected: ran with STATUS_WAIT_0 as the "
            "owner %p)", KtMutTrace.Length ? "ran" : "did not run", (ULONG)KtMutResult, KtMutOwnerSeen, t);
    KtCheck(Context, !KtOwnsMutant(self), "owner_list", "the mutant is still on the former owner's MutantListHead");
    KtJoinThread(Context, t);
    KtCheck(Context, KtMutant.Header.SignalState == 1 && KtMutant.OwnerThread == NULL, "released_free",
            "after every owner released it: SignalState %d (1), OwnerThread %p (NULL)", KtMutant.Header.SignalState,
            KtMutant.OwnerThread);
    /* Abandonment: a thread ends owning it (seeded depth); the next owner is told. */
    ULONG adepth = (ULONG)KtRandomRange(Context, 1, 3);
    if (!KtCreateThreadAt(Context, "abandoner", KtMutantAbandoner, (PVOID)(ULONG_PTR)adepth, 9, &t))
        return;
    KtJoinThread(Context, t);
    KtCheck(Context, KtMutant.Header.SignalState == 1 && KtMutant.Abandoned && KtMutant.OwnerThread == NULL,
            "abandoned", "a thread ended owning the mutant (%u times): SignalState %d (1), Abandoned %u (1), "
            "OwnerThread %p (NULL)", adepth, KtMutant.Header.SignalState, KtMutant.Abandoned, KtMutant.OwnerThread);
    NTSTATUS s = KeWaitForSingleObject(&KtMutant, Executive, KernelMode, FALSE, NULL);
    KtCheck(Context, s == STATUS_ABANDONED_WAIT_0 && !KtMutant.Abandoned && KtMutant.OwnerThread == self,
            "abandoned_wait", "acquiring an abandoned mutant returned 0x%X (STATUS_ABANDONED_WAIT_0 = 0x80), "
            "Abandoned %u (0 after), OwnerThread %p (%p)", (ULONG)s, KtMutant.Abandoned, KtMutant.OwnerThread, self);
    KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
    /* InitialOwner TRUE. */
    KtPoison05(Context, &KtMutant, sizeof(KtMutant));
    KeInitializeMutant(&KtMutant, TRUE);
    KtCheck(Context, KtMutant.Header.SignalState == 0 && KtMutant.OwnerThread == self && KtOwnsMutant(self),
            "initial_owner", "KeInitializeMutant(TRUE): SignalState %d (0), OwnerThread %p (%p), on its list: %s",
            KtMutant.Header.SignalState, KtMutant.OwnerThread, self, KtOwnsMutant(self) ? "yes" : "no");
    LONG prev = KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
    KtCheck(Context, prev == 0 && KtMutant.Header.SignalState == 1 && !KtOwnsMutant(self), "release_previous",
            "releasing the initially owned mutant returned %d (0), SignalState %d (1)", prev,
            KtMutant.Header.SignalState);
    prev = KeReleaseMutant(&KtMutant, MUTANT_INCREMENT, FALSE, FALSE);
    KtCheck(Context, prev == STATUS_MUTANT_NOT_OWNED && KtMutant.Header.SignalState == 1, "not_owned",
            "releasing a free mutant returned 0x%X (STATUS_MUTANT_NOT_OWNED), SignalState %d (1)", (ULONG)prev,
            KtMutant.Header.SignalState);
}

/* ---- Timeouts, delays, timers and threads as objects ---- */
static KEVENT KtNever;
static volatile NTSTATUS KtTimedStatus;
static volatile BOOLEAN KtTimedInserted;

static VOID KtTimedWaiter(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    LARGE_INTEGER to = {.QuadPart = -(LONG64)(100 * (ULONG64)KeTimeIncrement)};
    NTSTATUS s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &to);
    KtTimedInserted = KeGetCurrentThread()->Timer.Inserted;
    KtTimedStatus = s;
}
static volatile NTSTATUS KtPastStatus;
static VOID KtPastWaiter(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    LARGE_INTEGER past = {.QuadPart = (LONG64)KeBootSystemTime + 1};
    KtPastStatus = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &past);
}
static volatile BOOLEAN KtPeerRan;
static VOID KtPeerThread(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KtPeerRan = TRUE;
}
static VOID KtShortLived(PVOID Argument)
{
    LARGE_INTEGER d = {.QuadPart = -(LONG64)(ULONG_PTR)Argument};
    KeDelayExecutionThread(KernelMode, FALSE, &d);
}

KTEST("wait.timeout", KtTestWaitTimeout)
{
    if (!KtLab05Begin(Context))
        return;
    PKTHREAD self = KeGetCurrentThread();
    ULONG64 inc = KeTimeIncrement;
    KtPoison05(Context, &KtNever, sizeof(KtNever));
    KeInitializeEvent(&KtNever, NotificationEvent, FALSE);
    if (KtLab05Stubbed(Context))
        return;
    /* A relative timeout of a seeded number of ticks (not on a tick boundary). */
    ULONG ticks = (ULONG)KtRandomRange(Context, 2, 6);
    LARGE_INTEGER to = {.QuadPart = -(LONG64)(ticks * inc - KtRandomRange(Context, 1, inc - 1))};
    ULONG64 start = KeQueryInterruptTime();
    NTSTATUS s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &to);
    ULONG64 waited = KeQueryInterruptTime() - start;
    KtCheck(Context, s == STATUS_TIMEOUT && waited >= (ULONG64)-to.QuadPart && waited <= (ULONG64)-to.QuadPart + 2 * inc,
            "timeout_on_time", "a wait with a relative timeout of %lld (100 ns) returned 0x%X (STATUS_TIMEOUT = 0x102) "
            "after %llu (expected between %lld and %llu)", -to.QuadPart, (ULONG)s, waited, -to.QuadPart,
            (ULONG64)-to.QuadPart + 2 * inc);
    KtCheck(Context, !self->Timer.Inserted && IsListEmpty(&KtNever.Header.WaitListHead) && self->WaitBlockList == NULL,
            "timeout_cleanup", "after the timeout: the thread's timer is %s, the event's wait list %s, WaitBlockList %p "
            "(expected: not set, empty, NULL)", self->Timer.Inserted ? "still set" : "not set",
            IsListEmpty(&KtNever.Header.WaitListHead) ? "empty" : "not empty", self->WaitBlockList);
    /* An absolute timeout. */
    LARGE_INTEGER now;
    KeQuerySystemTime(&now);
    ULONG aticks = (ULONG)KtRandomRange(Context, 2, 5);
    LARGE_INTEGER abs = {.QuadPart = now.QuadPart + (LONG64)(aticks * inc)};
    s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &abs);
    KeQuerySystemTime(&now);
    KtCheck(Context, s == STATUS_TIMEOUT && now.QuadPart >= abs.QuadPart && now.QuadPart <= abs.QuadPart + 2 * (LONG64)inc,
            "timeout_absolute", "a wait with an absolute timeout returned 0x%X (0x102) at %lld (due %lld)", (ULONG)s,
            now.QuadPart, abs.QuadPart);
    /* A signalled object beats the timeout, whose timer is cancelled. */
    KeSetEvent(&KtNever, 0, FALSE);
    s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &to);
    KtCheck(Context, s == STATUS_WAIT_0 && !self->Timer.Inserted, "signalled_first", "a wait with a timeout on a "
            "signalled event returned 0x%X (0), its timer %s", (ULONG)s, self->Timer.Inserted ? "left set" : "not set");
    KeResetEvent(&KtNever);
    /* A thread blocked with a timeout and released by the object: its timer is cancelled. */
    PKTHREAD w;
    KtTimedStatus = -1;
    if (!KtCreateThreadAt(Context, "timed", KtTimedWaiter, NULL, 9, &w))
        return;
    KtCheck(Context, w->State == Waiting && w->Timer.Inserted, "timeout_set", "a thread waiting with a timeout: State "
            "%s (Waiting), its timer %s (set)", KeThreadStateName(w->State), w->Timer.Inserted ? "set" : "not set");
    KeSetEvent(&KtNever, EVENT_INCREMENT, FALSE);
    KtCheck(Context, KtTimedStatus == STATUS_WAIT_0 && !KtTimedInserted, "timer_cancelled", "released by the event "
            "before its timeout, the wait returned 0x%X (0) with its timer %s (expected: cancelled - a timer left set "
            "would end a later wait)", (ULONG)KtTimedStatus, KtTimedInserted ? "still set" : "not set");
    KtJoinThread(Context, w);
    KeResetEvent(&KtNever);
    /* A poll at DISPATCH_LEVEL is allowed and does not block. */
    LARGE_INTEGER zero = {.QuadPart = 0};
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &zero);
    KeLowerIrql(old);
    KtCheck(Context, s == STATUS_TIMEOUT, "poll_at_dispatch", "a zero-timeout wait at DISPATCH_LEVEL returned 0x%X "
            "(STATUS_TIMEOUT)", (ULONG)s);
    /* A wait returns at its caller's IRQL: a poll at APC_LEVEL. */
    KeRaiseIrql(APC_LEVEL, &old);
    s = KeWaitForSingleObject(&KtNever, Executive, KernelMode, FALSE, &zero);
    KIRQL after = KeGetCurrentIrql();
    KeLowerIrql(old);
    KtCheck(Context, s == STATUS_TIMEOUT && after == APC_LEVEL, "wait_irql", "a zero-timeout wait called at "
            "APC_LEVEL returned 0x%X (STATUS_TIMEOUT) at IRQL %u (expected APC_LEVEL = 1: a wait returns at the "
            "caller's IRQL)", (ULONG)s, after);
    /* An absolute timeout already past (just after the boot): STATUS_TIMEOUT at once. */
    PKTHREAD pw;
    KtPastStatus = -1;
    if (KtCreateThreadAt(Context, "pastdue", KtPastWaiter, NULL, 9, &pw)) {
        KtCheck(Context, KtPastStatus == STATUS_TIMEOUT, "timeout_past", "a wait whose absolute timeout has already "
                "passed returned 0x%X and the thread is %s (expected STATUS_TIMEOUT at once: the timer expires when "
                "set, and a wait on it must not block)", (ULONG)KtPastStatus, KeThreadStateName(pw->State));
        if (pw->State == Waiting)
            KeSetEvent(&KtNever, 0, FALSE);
        KtJoinThread(Context, pw);
        KeResetEvent(&KtNever);
    }
    /* A delay. */
    ULONG dticks = (ULONG)KtRandomRange(Context, 2, 5);
    LARGE_INTEGER d = {.QuadPart = -(LONG64)(dticks * inc)};
    start = KeQueryInterruptTime();
    s = KeDelayExecutionThread(KernelMode, FALSE, &d);
    waited = KeQueryInterruptTime() - start;
    KtCheck(Context, s == STATUS_SUCCESS && waited >= dticks * inc && waited <= (dticks + 2) * inc, "delay",
            "KeDelayExecutionThread(%llu) returned 0x%X (STATUS_SUCCESS) after %llu", dticks * inc, (ULONG)s, waited);
    /* A zero delay gives the processor to a ready thread of the same priority (tried again if a
     * quantum end let the peer run before the delay was called). */
    for (ULONG attempt = 0; attempt < 3; attempt++) {
        PKTHREAD peer;
        KtPeerRan = FALSE;
        if (!KtCreateThreadAt(Context, "peer", KtPeerThread, NULL, KT_RUNNER_PRIORITY, &peer))
            break;
        BOOLEAN before = KtPeerRan;
        LARGE_INTEGER zeroDelay = {.QuadPart = 0};
        s = KeDelayExecutionThread(KernelMode, FALSE, &zeroDelay);
        BOOLEAN after = KtPeerRan;
        KtJoinThread(Context, peer);
        if (before)
            continue;
        KtCheck(Context, after && s == STATUS_SUCCESS, "delay_zero_yields", "KeDelayExecutionThread(0) with a ready "
                "thread of the caller's priority returned 0x%X (STATUS_SUCCESS) and the peer had not run (a zero "
                "interval yields to a ready thread of the same or a higher priority)", (ULONG)s);
        break;
    }
    /* A timer object is waitable: the wait returns at its due time. */
    static KTIMER timer;
    KeInitializeTimer(&timer);
    ULONG tticks = (ULONG)KtRandomRange(Context, 2, 5);
    LARGE_INTEGER due = {.QuadPart = -(LONG64)(tticks * inc)};
    start = KeQueryInterruptTime();
    KeSetTimer(&timer, due, NULL);
    s = KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL);
    waited = KeQueryInterruptTime() - start;
    KtCheck(Context, s == STATUS_WAIT_0 && waited >= tticks * inc && timer.Header.SignalState == 1, "timer_object",
            "a wait on a timer due in %llu returned 0x%X (0) after %llu, its SignalState %d (1: a notification timer "
            "stays signalled)", tticks * inc, (ULONG)s, waited, timer.Header.SignalState);
    /* A thread object is signalled when the thread ends. */
    PKTHREAD t;
    if (!KtCreateThreadAt(Context, "shortlived", KtShortLived, (PVOID)(ULONG_PTR)(2 * inc), 9, &t))
        return;
    s = KeWaitForSingleObject(t, Executive, KernelMode, FALSE, NULL);
    KtCheck(Context, s == STATUS_WAIT_0 && t->State == Terminated, "thread_object", "a wait on a thread returned 0x%X "
            "(0) with the thread %s (Terminated)", (ULONG)s, KeThreadStateName(t->State));
    KtJoinThread(Context, t);
}

/* The IRQL rule: a wait that could block at DISPATCH_LEVEL bugchecks. */
KTEST_STOP("wait.dispatch_level", KtTestWaitDispatchLevel)
{
    if (!KtLab05Begin(Context))
        return;
    static KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    if (KtLab05Stubbed(Context))
        return;
    ULONG64 ticks = KtRandomRange(Context, 1, 4);
    LARGE_INTEGER to = {.QuadPart = -(LONG64)(ticks * KeTimeIncrement)};
    KtValue(Context, "object", "0x%llx", (ULONG64)(ULONG_PTR)&e);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &to);
    KeLowerIrql(old);
    KtFail(Context, "no_bugcheck", "a wait with a non-zero timeout at DISPATCH_LEVEL returned instead of bugchecking "
           "IRQL_NOT_LESS_OR_EQUAL");
}
