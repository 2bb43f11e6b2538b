/* exsync_tests.c - lab 05 public tests of executive synchronisation: fast and guarded
 * mutexes (fields on poisoned memory, the IRQL or guarded region while owned, try-acquire,
 * contention handed over in wait order), executive resources (shared owners, an exclusive
 * waiter not starved by later shared requests, the grant order of a seeded queue of
 * waiters, recursion, no-wait requests) and system worker threads (FIFO per queue, at
 * PASSIVE_LEVEL, on the queue's worker threads). Fields are checked after every step. */
#include "exsync.h"
#include "lab04_audit.h"

static BOOLEAN KtExStubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

#define KT_EX_THREADS 8
static volatile ULONG KtExLog[32];
static volatile KIRQL KtExIrql[32];
static volatile BOOLEAN KtExOwnerOk[32];
static volatile ULONG KtExLogCount;
static PKTHREAD KtExThread[KT_EX_THREADS];

/* Lets the test's threads run until each of the first Count has blocked (Waiting). */
static BOOLEAN KtExUntilWaiting(PKTEST_CONTEXT Context, PCSTR What, ULONG Count)
{
    for (ULONG round = 0; round < 200; round++) {
        ULONG waiting = 0;
        for (ULONG i = 0; i < Count; i++)
            waiting += KtExThread[i]->State == Waiting;
        if (waiting == Count)
            return TRUE;
        KeYieldProcessor();
    }
    return KtCheck(Context, FALSE, "threads_wait", "%s: the threads did not all block within 200 yields", What);
}

static FAST_MUTEX KtFastMutex;
static volatile BOOLEAN KtTryResult;
static volatile KIRQL KtTryIrql;
static VOID KtFastMutexThread(PVOID Argument)
{
    if (Argument == NULL) { /* the first waiter tries first, from PASSIVE_LEVEL, while the test owns it */
        KtTryResult = ExTryToAcquireFastMutex(&KtFastMutex);
        KtTryIrql = KeGetCurrentIrql();
        if (KtTryResult)
            ExReleaseFastMutex(&KtFastMutex);
    }
    ExAcquireFastMutex(&KtFastMutex);
    ULONG n = KtExLogCount++;
    KtExLog[n] = (ULONG)(ULONG_PTR)Argument;
    KtExIrql[n] = KeGetCurrentIrql();
    KtExOwnerOk[n] = KtFastMutex.Owner == KeGetCurrentThread();
    ExReleaseFastMutex(&KtFastMutex);
}

/* Every waiter owned the mutex once, in wait order 0..Count-1, at Irql, as Owner. */
static VOID KtExCheckOrder(PKTEST_CONTEXT Context, PCSTR What, ULONG Count, KIRQL Irql)
{
    CHAR seen[64];
    ULONG len = 0;
    BOOLEAN ok = KtExLogCount == Count;
    seen[0] = 0;
    for (ULONG i = 0; i < KtExLogCount && i < 32; i++) {
        len += RtlFormatString(seen + len, sizeof(seen) - len, "%s%u", i ? " " : "", KtExLog[i]);
        ok = ok && KtExLog[i] == i;
    }
    if (!KtCheck(Context, ok, "handoff_order", "%s: the %u waiters owned it in the order [%s], expected 0..%u (the "
                 "order they waited, each once)", What, Count, seen, Count - 1))
        return;
    for (ULONG i = 0; i < Count; i++)
        if (!KtCheck(Context, KtExIrql[i] == Irql && KtExOwnerOk[i], "owner",
                     "%s: waiter %u owned it at IRQL %u (expected %u), Owner %s", What, i, KtExIrql[i], Irql,
                     KtExOwnerOk[i] ? "itself" : "not itself"))
            return;
}

KTEST("exsync.fast_mutex", KtExFastMutex)
{
    KtSetBudget(Context, 5000);
    KtPoison(Context, &KtFastMutex, sizeof(KtFastMutex));
    ExInitializeFastMutex(&KtFastMutex);
    if (KtExStubbed(Context))
        return;
    PFAST_MUTEX m = &KtFastMutex;
    if (!KtCheck(Context, m->Count == FM_LOCK_FREE && m->Owner == NULL && m->Contention == 0 &&
                 m->Gate.Header.SignalState == 0 && IsListEmpty(&m->Gate.Header.WaitListHead), "initialize",
                 "ExInitializeFastMutex on poisoned memory left Count %d (1), Owner %p (NULL), Contention %u (0), "
                 "gate SignalState %d (0), its wait list %s", m->Count, m->Owner, m->Contention,
                 m->Gate.Header.SignalState, IsListEmpty(&m->Gate.Header.WaitListHead) ? "empty" : "not empty"))
        return;
    ExAcquireFastMutex(m);
    KIRQL held = KeGetCurrentIrql();
    KtCheck(Context, held == APC_LEVEL && m->Owner == KeGetCurrentThread() && m->Count == 0, "acquire",
            "after ExAcquireFastMutex at PASSIVE_LEVEL: IRQL %u (expected APC_LEVEL 1), Owner %p (the caller %p), "
            "Count %d (0)", held, m->Owner, KeGetCurrentThread(), m->Count);
    BOOLEAN again = ExTryToAcquireFastMutex(m);
    KtCheck(Context, !again && m->Count == 0 && KeGetCurrentIrql() == APC_LEVEL, "try_owned",
            "ExTryToAcquireFastMutex of an owned fast mutex returned %u (0), left Count %d (0), IRQL %u (1)", again,
            m->Count, KeGetCurrentIrql());
    if (again)
        ExReleaseFastMutex(m);
    ULONG k = (ULONG)KtRandomRange(Context, 2, 5);
    KtExLogCount = 0;
    for (ULONG i = 0; i < k; i++)
        if (!KtCreateThread(Context, "fast mutex waiter", KtFastMutexThread, (PVOID)(ULONG_PTR)i, &KtExThread[i]))
            return;
    if (KtExUntilWaiting(Context, "waiters on an owned fast mutex", k))
        KtCheck(Context, m->Count == -(LONG)k && m->Contention == k && KtExLogCount == 0, "contention",
                "%u threads wait: Count %d (expected -%u), Contention %u (%u), %u acquired it while the test owned it",
                k, m->Count, k, m->Contention, k, KtExLogCount);
    ExReleaseFastMutex(m);
    KtCheck(Context, KeGetCurrentIrql() == PASSIVE_LEVEL, "release_irql",
            "after ExReleaseFastMutex: IRQL %u, expected the acquirer's PASSIVE_LEVEL (0)", KeGetCurrentIrql());
    for (ULONG i = 0; i < k; i++)
        KtJoinThread(Context, KtExThread[i]);
    KtCheck(Context, !KtTryResult && KtTryIrql == PASSIVE_LEVEL, "try_owned",
            "ExTryToAcquireFastMutex from PASSIVE_LEVEL of a mutex another thread owns returned %u (0) and left the "
            "IRQL at %u (0: a failed try changes nothing)", KtTryResult, KtTryIrql);
    KtExCheckOrder(Context, "a fast mutex", k, APC_LEVEL);
    KtCheck(Context, m->Count == FM_LOCK_FREE && m->Owner == NULL && m->Gate.Header.SignalState == 0, "release",
            "after every release: Count %d (1), Owner %p (NULL), gate SignalState %d (0: a release signals the gate "
            "only when a thread waits)", m->Count, m->Owner, m->Gate.Header.SignalState);
    BOOLEAN got = ExTryToAcquireFastMutex(m);
    KtCheck(Context, got && m->Owner == KeGetCurrentThread() && KeGetCurrentIrql() == APC_LEVEL, "try_free",
            "ExTryToAcquireFastMutex of a free fast mutex returned %u (1), Owner %p, IRQL %u (1)", got, m->Owner,
            KeGetCurrentIrql());
    if (got)
        ExReleaseFastMutex(m);
}

static KGUARDED_MUTEX KtGuardedMutex;
static volatile ULONG KtGuardedApcRan;
static VOID KtGuardedApc(PKAPC Apc, PKNORMAL_ROUTINE *N, PVOID *C, PVOID *A1, PVOID *A2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(N);
    UNREFERENCED_PARAMETER(C);
    UNREFERENCED_PARAMETER(A1);
    UNREFERENCED_PARAMETER(A2);
    KtGuardedApcRan++;
}
static VOID KtGuardedThread(PVOID Argument)
{
    KeAcquireGuardedMutex(&KtGuardedMutex);
    ULONG n = KtExLogCount++;
    KtExLog[n] = (ULONG)(ULONG_PTR)Argument;
    KtExIrql[n] = KeGetCurrentIrql();
    KtExOwnerOk[n] = KtGuardedMutex.Owner == KeGetCurrentThread() && KeGetCurrentThread()->SpecialApcDisable < 0;
    KeReleaseGuardedMutex(&KtGuardedMutex);
}

KTEST("exsync.guarded_mutex", KtExGuardedMutex)
{
    KtSetBudget(Context, 5000);
    PKGUARDED_MUTEX m = &KtGuardedMutex;
    PKTHREAD self = KeGetCurrentThread();
    KtPoison(Context, m, sizeof(*m));
    KeInitializeGuardedMutex(m);
    if (KtExStubbed(Context))
        return;
    if (!KtCheck(Context, m->Count == GM_LOCK_FREE && m->Owner == NULL && m->Contention == 0 &&
                 m->Gate.Header.SignalState == 0, "initialize",
                 "KeInitializeGuardedMutex on poisoned memory left Count %d (1), Owner %p (NULL), Contention %u (0), "
                 "gate SignalState %d (0)", m->Count, m->Owner, m->Contention, m->Gate.Header.SignalState))
        return;
    KeAcquireGuardedMutex(m);
    KtCheck(Context, KeGetCurrentIrql() == PASSIVE_LEVEL && self->SpecialApcDisable == -1 && m->Owner == self &&
            m->Count == 0, "acquire", "owning a guarded mutex: IRQL %u (unchanged, 0), SpecialApcDisable %d (-1: a "
            "guarded region), Owner %p (%p), Count %d (0)", KeGetCurrentIrql(), self->SpecialApcDisable, m->Owner,
            self, m->Count);
    static KAPC apc;
    KeInitializeApc(&apc, self, OriginalApcEnvironment, KtGuardedApc, NULL, NULL, KernelMode, NULL);
    KtGuardedApcRan = 0;
    KeInsertQueueApc(&apc, NULL, NULL, 0);
    KtCheck(Context, KtGuardedApcRan == 0, "apcs_held",
            "a special kernel APC ran while the thread owned a guarded mutex (it holds off every kernel APC)");
    BOOLEAN again = KeTryToAcquireGuardedMutex(m);
    KtCheck(Context, !again && self->SpecialApcDisable == -1 && m->Count == 0, "try_owned",
            "KeTryToAcquireGuardedMutex of an owned mutex returned %u (0), left SpecialApcDisable %d (-1), Count %d (0)",
            again, self->SpecialApcDisable, m->Count);
    ULONG k = (ULONG)KtRandomRange(Context, 2, 5);
    KtExLogCount = 0;
    for (ULONG i = 0; i < k; i++)
        if (!KtCreateThread(Context, "guarded mutex waiter", KtGuardedThread, (PVOID)(ULONG_PTR)i, &KtExThread[i]))
            break;
    if (KtExUntilWaiting(Context, "waiters on an owned guarded mutex", k))
        KtCheck(Context, m->Count == -(LONG)k && m->Contention == k, "contention",
                "%u threads wait: Count %d (expected -%u), Contention %u (%u)", k, m->Count, k, m->Contention, k);
    KeReleaseGuardedMutex(m);
    KtCheck(Context, KtGuardedApcRan == 1 && self->SpecialApcDisable == 0, "release_delivers",
            "after KeReleaseGuardedMutex: the held-off APC ran %u times (1), SpecialApcDisable %d (0)", KtGuardedApcRan,
            self->SpecialApcDisable);
    for (ULONG i = 0; i < k; i++)
        KtJoinThread(Context, KtExThread[i]);
    KtExCheckOrder(Context, "a guarded mutex", k, PASSIVE_LEVEL);
    KtCheck(Context, m->Count == GM_LOCK_FREE && m->Owner == NULL && m->Gate.Header.SignalState == 0, "release",
            "after every release: Count %d (1), Owner %p (NULL), gate SignalState %d (0: a release signals the gate "
            "only when a thread waits)", m->Count, m->Owner, m->Gate.Header.SignalState);
    BOOLEAN got = KeTryToAcquireGuardedMutex(m);
    PKTHREAD owner = m->Owner;
    LONG region = self->SpecialApcDisable, count = m->Count;
    if (got)
        KeReleaseGuardedMutex(m);
    KtCheck(Context, got && owner == self && region == -1 && count == 0, "try_free", "KeTryToAcquireGuardedMutex of a "
            "free mutex returned %u (1), Owner %p (%p), SpecialApcDisable %d (-1), Count %d (0)", got, owner, self,
            region, count);
}

/* ---- Executive resources ---- */
static ERESOURCE KtResource;
static BOOLEAN KtResourceExclusive[KT_EX_THREADS];
static VOID KtResourceThread(PVOID Argument)
{
    ULONG id = (ULONG)(ULONG_PTR)Argument;
    KeEnterCriticalRegion();
    if (KtResourceExclusive[id])
        ExAcquireResourceExclusiveLite(&KtResource, TRUE);
    else
        ExAcquireResourceSharedLite(&KtResource, TRUE);
    ULONG n = KtExLogCount++;
    KtExLog[n] = id;
    KtExOwnerOk[n] = KtResourceExclusive[id] ? ExIsResourceAcquiredExclusiveLite(&KtResource)
                                             : ExIsResourceAcquiredSharedLite(&KtResource) == 1;
    ExReleaseResourceLite(&KtResource);
    KeLeaveCriticalRegion();
}

static ULONG KtResourceOwners(PERESOURCE r)
{
    ULONG n = 0;
    for (ULONG i = 0; i < ERESOURCE_OWNERS; i++)
        n += r->OwnerTable[i].OwnerThread != NULL;
    return n;
}

KTEST("resource.shared_exclusive", KtResourceSharedExclusive)
{
    KtSetBudget(Context, 5000);
    PERESOURCE r = &KtResource;
    PKTHREAD self = KeGetCurrentThread();
    KtPoison(Context, r, sizeof(*r));
    NTSTATUS st = ExInitializeResourceLite(r);
    if (!KtRequireImplemented(Context, st, "ExInitializeResourceLite", "lab 05"))
        return;
    if (!KtCheck(Context, st == STATUS_SUCCESS && r->ActiveCount == 0 && r->Flag == 0 && KtResourceOwners(r) == 0 &&
                 r->NumberOfSharedWaiters == 0 && r->NumberOfExclusiveWaiters == 0 && IsListEmpty(&r->WaitListHead) &&
                 r->ContentionCount == 0 && r->SpinLock == 0, "initialize",
                 "ExInitializeResourceLite on poisoned memory: status 0x%08X, ActiveCount %d (0), Flag 0x%x (0), %u "
                 "owner entries in use (0), waiters %u/%u (0/0), ContentionCount %u (0), SpinLock %lu (0)", (ULONG)st,
                 r->ActiveCount, r->Flag, KtResourceOwners(r), r->NumberOfSharedWaiters, r->NumberOfExclusiveWaiters,
                 r->ContentionCount, (unsigned long)r->SpinLock))
        return;
    KeEnterCriticalRegion();
    /* Shared, recursive. */
    BOOLEAN a1 = ExAcquireResourceSharedLite(r, TRUE), a2 = ExAcquireResourceSharedLite(r, FALSE);
    KtCheck(Context, a1 && a2 && r->ActiveCount == 1 && !(r->Flag & ResourceOwnedExclusive) &&
            ExIsResourceAcquiredSharedLite(r) == 2 && !ExIsResourceAcquiredExclusiveLite(r), "shared_recursive",
            "two shared acquires by one thread returned %u %u (1 1): ActiveCount %d (1), Flag 0x%x (not exclusive), "
            "its count %u (2)", a1, a2, r->ActiveCount, r->Flag, ExIsResourceAcquiredSharedLite(r));
    /* Phase A: an exclusive waiter, then a shared request behind it must wait too. */
    KtExLogCount = 0;
    KtResourceExclusive[0] = TRUE;
    KtResourceExclusive[1] = FALSE;
    if (!KtCreateThread(Context, "exclusive waiter", KtResourceThread, (PVOID)0, &KtExThread[0]) ||
        !KtExUntilWaiting(Context, "an exclusive request on a shared-owned resource", 1)) {
        KeLeaveCriticalRegion();
        return;
    }
    KtCheck(Context, r->NumberOfExclusiveWaiters == 1 && r->ContentionCount == 1 && r->ActiveCount == 1,
            "exclusive_waits", "an exclusive request on a resource owned shared: NumberOfExclusiveWaiters %u (1), "
            "ContentionCount %u (1), ActiveCount %d (1)", r->NumberOfExclusiveWaiters, r->ContentionCount,
            r->ActiveCount);
    if (!KtCreateThread(Context, "shared after", KtResourceThread, (PVOID)1, &KtExThread[1])) {
        KeLeaveCriticalRegion();
        return;
    }
    for (ULONG round = 0; round < 200 && KtExThread[1]->State != Waiting && KtExThread[1]->State != Terminated; round++)
        KeYieldProcessor();
    KtCheck(Context, r->NumberOfSharedWaiters == 1 && r->ActiveCount == 1 && KtExLogCount == 0, "exclusive_not_starved",
            "a shared request made while an exclusive request waits must wait behind it: NumberOfSharedWaiters %u "
            "(1), ActiveCount %d (1: only the test), %u acquired", r->NumberOfSharedWaiters, r->ActiveCount,
            KtExLogCount);
    BOOLEAN nw = ExAcquireResourceExclusiveLite(r, FALSE);
    KtCheck(Context, !nw, "no_wait", "ExAcquireResourceExclusiveLite(Wait FALSE) by a shared owner of a busy resource "
            "returned TRUE");
    ExReleaseResourceLite(r);
    KtCheck(Context, r->ActiveCount == 1 && ExIsResourceAcquiredSharedLite(r) == 1 && r->NumberOfExclusiveWaiters == 1,
            "release_recursive", "after one of two releases: ActiveCount %d (1), the test's count %u (1), the "
            "exclusive waiter still waiting (%u)", r->ActiveCount, ExIsResourceAcquiredSharedLite(r),
            r->NumberOfExclusiveWaiters);
    ExReleaseResourceLite(r);
    KtJoinThread(Context, KtExThread[0]);
    KtJoinThread(Context, KtExThread[1]);
    KtCheck(Context, KtExLogCount == 2 && KtExLog[0] == 0 && KtExLog[1] == 1 && KtExOwnerOk[0] && KtExOwnerOk[1],
            "exclusive_not_starved", "after the last shared release: granted %s%u then %u (expected the exclusive "
            "waiter 0, then the shared one 1, each as the owner of its kind)", KtExLogCount == 2 ? "" : "only ",
            KtExLog[0], KtExLog[1]);

    /* Phase B: owned exclusive, a seeded queue of waiters; the release hands it to every
     * shared waiter, then the exclusive ones one by one in queue order. */
    ULONG n = (ULONG)KtRandomRange(Context, 4, 7) % (KT_EX_THREADS + 1);
    if (n < 4)
        n = 4;
    CHAR modes[KT_EX_THREADS + 1];
    for (ULONG i = 0; i < n; i++)
        KtResourceExclusive[i] = (BOOLEAN)(KtRandom(Context) & 1);
    KtResourceExclusive[0] = TRUE; /* every case on every seed */
    KtResourceExclusive[1] = FALSE;
    KtResourceExclusive[2] = FALSE; /* two shared waiters granted together */
    KtResourceExclusive[n - 1] = TRUE;
    for (ULONG i = 0; i < n; i++)
        modes[i] = KtResourceExclusive[i] ? 'X' : 'S';
    modes[n] = 0;
    KtValue(Context, "modes", "%s", modes);
    ExAcquireResourceExclusiveLite(r, TRUE);
    BOOLEAN rec = ExAcquireResourceSharedLite(r, FALSE);
    KtCheck(Context, rec && (r->Flag & ResourceOwnedExclusive) && r->OwnerTable[0].OwnerThread == self &&
            r->OwnerTable[0].OwnerCount == 2 && ExIsResourceAcquiredExclusiveLite(r), "exclusive_recursive",
            "an exclusive owner's shared acquire returned %u (1): Flag 0x%x, entry 0 %p count %u (the test, 2)", rec,
            r->Flag, r->OwnerTable[0].OwnerThread, r->OwnerTable[0].OwnerCount);
    BOOLEAN xrec = ExAcquireResourceExclusiveLite(r, FALSE);
    KtCheck(Context, xrec && r->OwnerTable[0].OwnerCount == 3 && r->ActiveCount == 1, "exclusive_recursive",
            "the exclusive owner's ExAcquireResourceExclusiveLite(Wait FALSE) returned %u (1): count %u (3), "
            "ActiveCount %d (1)", xrec, r->OwnerTable[0].OwnerCount, r->ActiveCount);
    KtExLogCount = 0;
    ULONG sw = 0, xw = 0;
    for (ULONG i = 0; i < n; i++) {
        if (!KtCreateThread(Context, "resource waiter", KtResourceThread, (PVOID)(ULONG_PTR)i, &KtExThread[i]) ||
            !KtExUntilWaiting(Context, "a queue of waiters", i + 1))
            break;
        KtResourceExclusive[i] ? xw++ : sw++;
        if (!KtCheck(Context, r->NumberOfSharedWaiters == sw && r->NumberOfExclusiveWaiters == xw &&
                     r->ActiveCount == 1, "waiter_counts", "after waiter %u (%c) queued: shared/exclusive waiters "
                     "%u/%u (%u/%u), ActiveCount %d (1)", i, modes[i], r->NumberOfSharedWaiters,
                     r->NumberOfExclusiveWaiters, sw, xw, r->ActiveCount))
            break;
    }
    ExReleaseResourceLite(r);
    ExReleaseResourceLite(r);
    KtCheck(Context, KtExLogCount == 0 && r->OwnerTable[0].OwnerThread == self && r->OwnerTable[0].OwnerCount == 1,
            "release_recursive", "after two of three releases by the exclusive owner: %u waiters granted (0), entry 0 "
            "%p count %u (the test, 1)", KtExLogCount, r->OwnerTable[0].OwnerThread, r->OwnerTable[0].OwnerCount);
    ExReleaseResourceLite(r);
    for (ULONG i = 0; i < n; i++)
        if (KtExThread[i])
            KtJoinThread(Context, KtExThread[i]);
    CHAR granted[32];
    ULONG len = 0;
    granted[0] = 0;
    for (ULONG i = 0; i < KtExLogCount && i < n; i++)
        len += RtlFormatString(granted + len, sizeof(granted) - len, "%s%u", i ? "," : "", KtExLog[i]);
    KtValue(Context, "granted", "%s", len ? granted : "none");
    for (ULONG i = 0; i < KtExLogCount && i < n; i++)
        if (!KtCheck(Context, KtExOwnerOk[i], "owner", "waiter %u (%c) was granted the resource but is not its %s owner",
                     KtExLog[i], modes[KtExLog[i]], KtResourceExclusive[KtExLog[i]] ? "exclusive" : "shared"))
            break;
    KtCheck(Context, r->ActiveCount == 0 && r->Flag == 0 && KtResourceOwners(r) == 0 && IsListEmpty(&r->WaitListHead) &&
            r->NumberOfSharedWaiters == 0 && r->NumberOfExclusiveWaiters == 0, "free_at_end",
            "after every release: ActiveCount %d (0), Flag 0x%x (0), %u owner entries (0), waiters %u/%u (0/0)",
            r->ActiveCount, r->Flag, KtResourceOwners(r), r->NumberOfSharedWaiters, r->NumberOfExclusiveWaiters);
    KeLeaveCriticalRegion();
    ExDeleteResourceLite(r);
}

/* Release by a thread that owns nothing: RESOURCE_NOT_OWNED. */
KTEST_STOP("resource.not_owned", KtResourceNotOwned)
{
    NTSTATUS st = ExInitializeResourceLite(&KtResource);
    if (!KtRequireImplemented(Context, st, "ExInitializeResourceLite", "lab 05"))
        return;
    KtValue(Context, "resource", "0x%llx", (ULONG64)(ULONG_PTR)&KtResource);
    KtValue(Context, "thread", "0x%llx", (ULONG64)(ULONG_PTR)KeGetCurrentThread());
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)(ULONG_PTR)&KtResource,
            (ULONG64)(ULONG_PTR)KeGetCurrentThread(), 0ULL, 0ULL);
    ExReleaseResourceLite(&KtResource);
    KtFail(Context, "not_owned", "ExReleaseResourceLite by a thread that does not own the resource returned");
}

/* ---- Worker threads ---- */
#define KT_WORK 12
static WORK_QUEUE_ITEM KtWork[KT_WORK];
static volatile ULONG KtWorkLog[KT_WORK], KtWorkLogCount;
static volatile KIRQL KtWorkIrql[KT_WORK];
static volatile PKTHREAD KtWorkThread[KT_WORK];
static volatile BOOLEAN KtWorkUnlinked[KT_WORK];
static ULONG KtWorkTotal;
static KGATE KtWorkDone;
static VOID KtWorkRoutine(PVOID Parameter)
{
    ULONG id = (ULONG)(ULONG_PTR)Parameter;
    ULONG n = KtWorkLogCount++;
    if (n < KT_WORK) {
        KtWorkLog[n] = id;
        KtWorkIrql[n] = KeGetCurrentIrql();
        KtWorkThread[n] = KeGetCurrentThread();
        KtWorkUnlinked[n] = KtWork[id].List.Flink == NULL;
    }
    if (n + 1 == KtWorkTotal)
        KeSignalGate(&KtWorkDone);
}

KTEST("worker.queue", KtWorkerQueue)
{
    KtSetBudget(Context, 5000);
    ULONG n = (ULONG)KtRandomRange(Context, 6, KT_WORK);
    WORK_QUEUE_TYPE type[KT_WORK] = {CriticalWorkQueue};
    for (ULONG i = 0; i < n; i++)
        type[i] = (i < 2) ? (WORK_QUEUE_TYPE)i : (WORK_QUEUE_TYPE)(KtRandom(Context) & 1);
    KtWorkTotal = n;
    KtWorkLogCount = 0;
    KeInitializeGate(&KtWorkDone);
    for (ULONG i = 0; i < n; i++) {
        KtPoison(Context, &KtWork[i], sizeof(KtWork[i]));
        ExInitializeWorkItem(&KtWork[i], KtWorkRoutine, (PVOID)(ULONG_PTR)i);
    }
    /* Queued at DISPATCH_LEVEL after the first one: nothing runs until the IRQL drops. */
    ExQueueWorkItem(&KtWork[0], type[0]);
    if (KtExStubbed(Context))
        return;
    KIRQL old = KeRaiseIrqlToDpcLevel();
    ULONG before = KtWorkLogCount;
    for (ULONG i = 1; i < n; i++)
        ExQueueWorkItem(&KtWork[i], type[i]);
    ULONG atDispatch = KtWorkLogCount - before;
    KeLowerIrql(old);
    KtCheck(Context, atDispatch == 0, "queue_at_dispatch", "%u work routines ran while the queuer was at "
            "DISPATCH_LEVEL", atDispatch);
    if (KtWorkLogCount < n)
        KeWaitForGate(&KtWorkDone, Executive);
    KtCheck(Context, KtWorkLogCount == n, "run_once", "%u work routine calls, expected %u (each item once)",
            KtWorkLogCount, n);
    for (ULONG k = 0; k < n && k < KtWorkLogCount; k++) {
        ULONG id = KtWorkLog[k];
        PKTHREAD t = KtWorkThread[k];
        WORK_QUEUE_TYPE q = type[id];
        BOOLEAN onWorker = t == ExWorkerThread(q, 0) || t == ExWorkerThread(q, 1);
        KPRIORITY want = q == CriticalWorkQueue ? EX_CRITICAL_WORKER_PRIORITY : EX_DELAYED_WORKER_PRIORITY;
        if (!KtCheck(Context, KtWorkIrql[k] == PASSIVE_LEVEL, "passive", "work item %u ran at IRQL %u (0)", id,
                     KtWorkIrql[k]) ||
            !KtCheck(Context, onWorker && t->BasePriority == want, "worker_thread",
                     "work item %u of the %s queue ran on thread %s (priority %d), expected one of that queue's "
                     "worker threads (priority %d)", id, q ? "delayed" : "critical", t->Name, t->BasePriority, want) ||
            !KtCheck(Context, KtWorkUnlinked[k], "unlinked", "work item %u was still linked (List.Flink not NULL) "
                     "when its routine ran", id))
            break;
        for (ULONG j = 0; j < k; j++) /* FIFO within one queue */
            if (type[KtWorkLog[j]] == q && KtWorkLog[j] > id) {
                KtCheck(Context, FALSE, "fifo", "work item %u of the %s queue ran after item %u queued later", id,
                        q ? "delayed" : "critical", KtWorkLog[j]);
                return;
            }
    }
}
