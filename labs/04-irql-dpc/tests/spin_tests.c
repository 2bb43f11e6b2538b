/* spin_tests.c - lab 04 public tests of spin locks and their IRQL rules: the old IRQL is
 * returned and restored exactly from PASSIVE, APC and DISPATCH_LEVEL (ordinary, DPC-level
 * and in-stack queued locks, nested); the lock word records the owner; a DPC queued under
 * a lock waits for the release; queued waiters (other processors, simulated through
 * KiSpinWait) own the lock in FIFO order; and the bugchecks: a re-acquire
 * (SPIN_LOCK_ALREADY_OWNED), releasing a free lock (SPIN_LOCK_NOT_OWNED), a raise to
 * DISPATCH_LEVEL from above it (IRQL_NOT_GREATER_OR_EQUAL), a release to a higher IRQL
 * (IRQL_NOT_LESS_OR_EQUAL). */
#include "lab04_audit.h"

static KSPIN_LOCK KtLocks[2];
static KDPC KtSpinDpc;
static volatile ULONG_PTR KtWordSeenByDpc, KtQueuedWordSeenByDpc;

/* The DPC queued under lock 0: it records lock 0's word when it runs (free, if the
 * release gave the lock back before lowering the IRQL). */
static VOID KtSpinDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID Argument1, PVOID Argument2)
{
    KtWordSeenByDpc = KtLocks[0];
    KtQueuedWordSeenByDpc = KtLocks[1];
    KtLogDpcRoutine(Dpc, DeferredContext, Argument1, Argument2);
}

static BOOLEAN KtCheckWord(PKTEST_CONTEXT Context, PCSTR Step, ULONG i, ULONG_PTR Expected)
{
    return KtCheck(Context, KtLocks[i] == Expected, "lock_word", "after %s: lock %u's word is 0x%llx, expected 0x%llx "
                   "(%s)", Step, i, (ULONG64)KtLocks[i], (ULONG64)Expected,
                   Expected ? "the owner: the current thread | 1" : "free: 0");
}

static BOOLEAN KtCheckIrql(PKTEST_CONTEXT Context, PCSTR Step, KIRQL Expected)
{
    KIRQL irql = KeGetCurrentIrql();
    return KtCheck(Context, irql == Expected, Expected == DISPATCH_LEVEL ? "raise_to_dispatch" : "restore_irql",
                   "after %s: IRQL %u, expected %u", Step, irql, Expected);
}

/* From PASSIVE, APC and DISPATCH_LEVEL (every seed): acquire raises to DISPATCH_LEVEL and
 * returns the old IRQL; a nested lock returns DISPATCH_LEVEL; a DPC queued while held
 * runs only when the release lowers below DISPATCH_LEVEL; release restores exactly. */
KTEST("spin.irql", KtTestSpinIrql)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    ULONG start = (ULONG)KtRandomRange(Context, 0, 2);
    KtDpcLogCount = 0;
    KtPoison(Context, &KtSpinDpc, sizeof(KtSpinDpc));
    KeInitializeDpc(&KtSpinDpc, KtSpinDpcRoutine, (PVOID)7);
    for (ULONG c = 0; c < 3; c++) {
        KIRQL level = (KIRQL)((start + c) % 3), raised;
        KtDpcLogCount = 0;
        KtPoison(Context, KtLocks, sizeof(KtLocks));
        KeInitializeSpinLock(&KtLocks[0]);
        KeInitializeSpinLock(&KtLocks[1]);
        if (KtLab04Stubbed(Context) || !KtCheckWord(Context, "KeInitializeSpinLock", 0, 0) ||
            !KtCheckWord(Context, "KeInitializeSpinLock", 1, 0))
            goto out;
        KeRaiseIrql(level, &raised);
        KIRQL old = (KIRQL)0xEE, inner = (KIRQL)0xEE;
        KeAcquireSpinLock(&KtLocks[0], &old);
        if (KtLab04Stubbed(Context))
            goto lower;
        ULONG_PTR me = KiSpinLockOwnerValue();
        if (!KtCheck(Context, old == level, "old_irql", "KeAcquireSpinLock at IRQL %u returned old IRQL %u", level,
                     old) ||
            !KtCheckIrql(Context, "KeAcquireSpinLock", DISPATCH_LEVEL) ||
            !KtCheckWord(Context, "KeAcquireSpinLock", 0, me) || !KtCheckWord(Context, "KeAcquireSpinLock", 1, 0))
            goto lower;
        KeAcquireSpinLock(&KtLocks[1], &inner);
        if (!KtCheck(Context, inner == DISPATCH_LEVEL, "old_irql", "a nested KeAcquireSpinLock returned old IRQL %u, "
                     "expected DISPATCH_LEVEL (2)", inner) ||
            !KtCheckWord(Context, "a nested acquire", 1, me) || !KtCheckWord(Context, "a nested acquire", 0, me))
            goto lower;
        KeInsertQueueDpc(&KtSpinDpc, (PVOID)0xA1000007, (PVOID)0xA2000007);
        KeReleaseSpinLock(&KtLocks[1], inner);
        if (!KtCheckIrql(Context, "releasing the nested lock", DISPATCH_LEVEL) ||
            !KtCheckWord(Context, "releasing the nested lock", 1, 0) ||
            !KtCheckWord(Context, "releasing the nested lock", 0, me) ||
            !KtCheck(Context, KtDpcLogCount == 0, "held_at_dispatch", "a DPC queued under a spin lock ran before the "
                     "IRQL dropped below DISPATCH_LEVEL"))
            goto lower;
        KtWordSeenByDpc = 0xBAD;
        KeReleaseSpinLock(&KtLocks[0], old);
        if (!KtCheckIrql(Context, "KeReleaseSpinLock", level) || !KtCheckWord(Context, "KeReleaseSpinLock", 0, 0) ||
            !KtCheck(Context, KtDpcLogCount == (level < DISPATCH_LEVEL ? 1U : 0U), "runs_when_lowered", "after "
                     "KeReleaseSpinLock to IRQL %u the DPC queued under the lock had run %u times, expected %u", level,
                     KtDpcLogCount, level < DISPATCH_LEVEL ? 1U : 0U) ||
            !KtCheck(Context, level >= DISPATCH_LEVEL || KtWordSeenByDpc == 0, "release_then_lower", "the DPC that "
                     "KeReleaseSpinLock's lowering ran found the lock still held (word 0x%llx): release the lock "
                     "first, then lower the IRQL", (ULONG64)KtWordSeenByDpc))
            goto lower;
        /* The DPC-level pair changes no IRQL: at DISPATCH_LEVEL and at a device level. */
        KIRQL dpcLevel = c == 1 ? (KIRQL)KtRandomRange(Context, 3, 12) : DISPATCH_LEVEL, before;
        KeRaiseIrql(dpcLevel, &before);
        KeAcquireSpinLockAtDpcLevel(&KtLocks[1]);
        BOOLEAN ok = KtCheckIrql(Context, "KeAcquireSpinLockAtDpcLevel", dpcLevel) &&
                     KtCheckWord(Context, "KeAcquireSpinLockAtDpcLevel", 1, me);
        KeReleaseSpinLockFromDpcLevel(&KtLocks[1]);
        ok = ok && KtCheckIrql(Context, "KeReleaseSpinLockFromDpcLevel", dpcLevel) &&
             KtCheckWord(Context, "KeReleaseSpinLockFromDpcLevel", 1, 0);
        KeLowerIrql(before);
        if (!ok)
            goto lower;
        /* In-stack queued: the same IRQL rules. */
        KLOCK_QUEUE_HANDLE h;
        KtPoison(Context, &h, sizeof(h));
        KeAcquireInStackQueuedSpinLock(&KtLocks[1], &h);
        ok = KtCheck(Context, h.OldIrql == level, "old_irql", "KeAcquireInStackQueuedSpinLock at IRQL %u stored "
                     "OldIrql %u", level, h.OldIrql) &&
             KtCheckIrql(Context, "KeAcquireInStackQueuedSpinLock", DISPATCH_LEVEL) &&
             KtCheck(Context, KtLocks[1] == (ULONG_PTR)&h.LockQueue && h.LockQueue.Next == NULL &&
                     h.LockQueue.Lock == (PKSPIN_LOCK)((ULONG_PTR)&KtLocks[1] | LOCK_QUEUE_OWNER), "queue_owner",
                     "an uncontended queued acquire left the word 0x%llx (expected the handle's entry %p), Next %p "
                     "(NULL), Lock %p (the lock | LOCK_QUEUE_OWNER = %p)", (ULONG64)KtLocks[1], &h.LockQueue,
                     h.LockQueue.Next, h.LockQueue.Lock, (PVOID)((ULONG_PTR)&KtLocks[1] | LOCK_QUEUE_OWNER));
        /* a DPC queued under the queued lock runs in the release's lowering: it must find it free */
        KtQueuedWordSeenByDpc = 0xBAD;
        KeInsertQueueDpc(&KtSpinDpc, (PVOID)0xA1000007, (PVOID)0xA2000007);
        KeReleaseInStackQueuedSpinLock(&h);
        if (!ok || !KtCheckIrql(Context, "KeReleaseInStackQueuedSpinLock", level) ||
            !KtCheck(Context, level >= DISPATCH_LEVEL || KtQueuedWordSeenByDpc == 0, "release_then_lower", "the DPC "
                     "that KeReleaseInStackQueuedSpinLock's lowering ran found the queued lock still held (word "
                     "0x%llx): hand the lock over (or free the word) first, then lower the IRQL",
                     (ULONG64)KtQueuedWordSeenByDpc) ||
            !KtCheck(Context, KtLocks[1] == 0 && h.LockQueue.Lock == &KtLocks[1], "queue_release", "an uncontended "
                     "queued release left the word 0x%llx (0) and the handle's Lock %p (the lock, no flags: %p)",
                     (ULONG64)KtLocks[1], h.LockQueue.Lock, &KtLocks[1]))
            goto lower;
    lower:
        KeLowerIrql(raised);
        if (Context->Failures)
            break;
    }
out:
    KtLab04Cleanup();
}

/* In-stack queued waiters get the lock in FIFO order. The other processors are simulated
 * by KiSpinWait: while waiter d spins, "processor d+1" joins the line (a nested acquire);
 * when all have joined, each spin releases the current owner. Every step checks the line:
 * the word points at the tail, each entry's Next at the one after it, WAIT and OWNER. */
#define KT_WAITERS 6
static KLOCK_QUEUE_HANDLE KtHandles[KT_WAITERS + 1];
static volatile ULONG KtJoined, KtReleased, KtHookCalls, KtFifoBad, KtGrant[KT_WAITERS + 1], KtGrants;
static ULONG KtWaiterCount;
static PKTEST_CONTEXT KtFifoContext;

static BOOLEAN KtLineOk(PCSTR Step)
{
    PKTEST_CONTEXT Context = KtFifoContext;
    PKSPIN_LOCK lock = &KtLocks[0];
    if (!KtCheck(Context, KtLocks[0] == (ULONG_PTR)&KtHandles[KtJoined].LockQueue, "queue_tail", "after %s: the lock "
                 "word is 0x%llx, expected the last waiter's entry %p (waiter %u)", Step, (ULONG64)KtLocks[0],
                 &KtHandles[KtJoined].LockQueue, KtJoined))
        return FALSE;
    for (ULONG i = KtReleased; i <= KtJoined; i++) {
        PKSPIN_LOCK_QUEUE q = &KtHandles[i].LockQueue;
        PKSPIN_LOCK_QUEUE next = i < KtJoined ? &KtHandles[i + 1].LockQueue : NULL;
        ULONG_PTR flags = i == KtReleased ? LOCK_QUEUE_OWNER : LOCK_QUEUE_WAIT;
        if (!KtCheck(Context, q->Next == next, "queue_links", "after %s: waiter %u's Next is %p, expected %p (waiter "
                     "%u: FIFO, a new waiter links behind the tail)", Step, i, q->Next, next, i + 1) ||
            !KtCheck(Context, q->Lock == (PKSPIN_LOCK)((ULONG_PTR)lock | flags), "queue_flags", "after %s: waiter %u's "
                     "Lock is %p, expected the lock | %s (%p)", Step, i, q->Lock,
                     flags == LOCK_QUEUE_OWNER ? "LOCK_QUEUE_OWNER" : "LOCK_QUEUE_WAIT", (PVOID)((ULONG_PTR)lock | flags)))
            return FALSE;
    }
    return TRUE;
}

static VOID KtGiveUp(VOID)
{
    KtFifoBad++;
    for (ULONG i = 0; i <= KT_WAITERS; i++)
        KtHandles[i].LockQueue.Lock = (PKSPIN_LOCK)((ULONG_PTR)KtHandles[i].LockQueue.Lock & ~(ULONG_PTR)LOCK_QUEUE_WAIT);
}

static VOID KtOtherProcessors(PKSPIN_LOCK Lock)
{
    UNREFERENCED_PARAMETER(Lock);
    if (KtFifoBad)
        return;
    if (++KtHookCalls > 200) {
        KtFail(KtFifoContext, "spin_wait", "KiSpinWait called %u times without the line moving", KtHookCalls);
        KtGiveUp();
        return;
    }
    if (KtJoined < KtWaiterCount) {
        char step[40];
        RtlFormatString(step, sizeof(step), "waiter %u joined the line", KtJoined);
        if (!KtLineOk(step)) {
            KtGiveUp();
            return;
        }
        KtJoined++;
        KeAcquireInStackQueuedSpinLock(&KtLocks[0], &KtHandles[KtJoined]);
        return;
    }
    /* Everybody is in line: the owner releases; the next in line must own. */
    char step[40];
    RtlFormatString(step, sizeof(step), "%u releases", KtReleased);
    if (KtReleased >= KtWaiterCount || !KtLineOk(step)) {
        KtGiveUp();
        return;
    }
    ULONG owner = KtReleased++;
    KeReleaseInStackQueuedSpinLock(&KtHandles[owner]);
    for (ULONG i = 0; i <= KtWaiterCount; i++)
        if ((ULONG_PTR)KtHandles[i].LockQueue.Lock & LOCK_QUEUE_OWNER)
            KtGrant[KtGrants < KT_WAITERS ? KtGrants : KT_WAITERS] = i;
    KtGrants++;
    if (!KtCheck(KtFifoContext, KtHandles[owner].LockQueue.Next == NULL && KtHandles[owner].LockQueue.Lock ==
                 &KtLocks[0], "queue_release", "waiter %u released: its Next %p (NULL) and Lock %p (the lock, no "
                 "flags)", owner, KtHandles[owner].LockQueue.Next, KtHandles[owner].LockQueue.Lock))
        KtGiveUp();
}

/* A waiter that has swapped itself into the lock word but not linked itself behind the owner
 * yet (another processor between its exchange and its store): the release must wait for the
 * link (KiSpinWait), here made on the first call. */
static KLOCK_QUEUE_HANDLE KtLateOwner, KtLateWaiter;
static ULONG KtLateCalls;
static VOID KtLinkLate(PKSPIN_LOCK Lock)
{
    UNREFERENCED_PARAMETER(Lock);
    if (++KtLateCalls == 1 || KtLateCalls > 100)
        KtLateOwner.LockQueue.Next = &KtLateWaiter.LockQueue;
}

KTEST("spin.queued_fifo", KtTestSpinQueuedFifo)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtWaiterCount = (ULONG)KtRandomRange(Context, 2, KT_WAITERS);
    KtJoined = KtReleased = KtHookCalls = KtFifoBad = KtGrants = 0;
    KtFifoContext = Context;
    KtPoison(Context, KtHandles, sizeof(KtHandles));
    KeInitializeSpinLock(&KtLocks[0]);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireInStackQueuedSpinLock(&KtLocks[0], &KtHandles[0]);
    if (KtLab04Stubbed(Context) || !KtLineOk("the first acquire"))
        goto lower;
    KiSpinWaitRoutine = KtOtherProcessors;
    KtJoined = 1;
    KeAcquireInStackQueuedSpinLock(&KtLocks[0], &KtHandles[1]);
    KiSpinWaitRoutine = NULL;
    if (KtFifoBad)
        goto lower;
    KtCheck(Context, KtJoined == KtWaiterCount && KtReleased == KtWaiterCount, "spin_wait", "%u of %u waiters joined "
            "and %u released: each waiter spins on its own entry, calling KiSpinWait", KtJoined, KtWaiterCount,
            KtReleased);
    for (ULONG k = 0; k < KtGrants && k < KT_WAITERS; k++)
        if (!KtCheck(Context, KtGrant[k] == k + 1, "fifo", "release %u handed the lock to waiter %u, expected waiter "
                     "%u: queued waiters own in the order they joined", k, KtGrant[k], k + 1))
            goto lower;
    if (!KtCheck(Context, KtLocks[0] == (ULONG_PTR)&KtHandles[KtWaiterCount].LockQueue &&
                 ((ULONG_PTR)KtHandles[KtWaiterCount].LockQueue.Lock & LOCK_QUEUE_OWNER), "queue_owner", "the last "
                 "waiter does not own the lock at the end (word 0x%llx, its Lock %p)", (ULONG64)KtLocks[0],
                 KtHandles[KtWaiterCount].LockQueue.Lock))
        goto lower;
    KeReleaseInStackQueuedSpinLock(&KtHandles[KtWaiterCount]);
    KtCheck(Context, KtLocks[0] == 0, "queue_release", "releasing the last owner left the word 0x%llx, expected 0",
            (ULONG64)KtLocks[0]);
    KtCheckIrql(Context, "the last release", DISPATCH_LEVEL);
    /* The late waiter: in the word, not yet linked. */
    KeInitializeSpinLock(&KtLocks[1]);
    KtPoison(Context, &KtLateOwner, sizeof(KtLateOwner));
    KeAcquireInStackQueuedSpinLock(&KtLocks[1], &KtLateOwner);
    KtLateWaiter.LockQueue.Next = NULL;
    KtLateWaiter.LockQueue.Lock = (PKSPIN_LOCK)((ULONG_PTR)&KtLocks[1] | LOCK_QUEUE_WAIT);
    KtLateWaiter.OldIrql = DISPATCH_LEVEL;
    KtLocks[1] = (ULONG_PTR)&KtLateWaiter.LockQueue;
    KtLateCalls = 0;
    KiSpinWaitRoutine = KtLinkLate;
    KeReleaseInStackQueuedSpinLock(&KtLateOwner);
    KiSpinWaitRoutine = NULL;
    BOOLEAN handed = KtLocks[1] == (ULONG_PTR)&KtLateWaiter.LockQueue &&
                     KtLateWaiter.LockQueue.Lock == (PKSPIN_LOCK)((ULONG_PTR)&KtLocks[1] | LOCK_QUEUE_OWNER);
    if (!KtCheck(Context, handed && KtLateCalls >= 1, "late_link", "a waiter already in the lock word but not yet "
                 "linked behind the owner: the release left the word 0x%llx (expected the waiter's entry %p) and the "
                 "waiter's Lock %p (expected the lock | LOCK_QUEUE_OWNER), with %u KiSpinWait calls (expected at "
                 "least 1: the word is not the owner's entry, so wait for the link, then hand over)",
                 (ULONG64)KtLocks[1], &KtLateWaiter.LockQueue, KtLateWaiter.LockQueue.Lock, KtLateCalls))
        goto lower;
    KeReleaseInStackQueuedSpinLock(&KtLateWaiter);
    KtCheck(Context, KtLocks[1] == 0, "queue_release", "releasing the late waiter left the word 0x%llx, expected 0",
            (ULONG64)KtLocks[1]);
lower:
    KiSpinWaitRoutine = NULL;
    KeLowerIrql(old);
    KtLab04Cleanup();
}

/* ---- Bugchecks (each ends the run: one per boot) ---- */

/* Acquiring a lock the current thread holds: SPIN_LOCK_ALREADY_OWNED (lock, word, 0, 0). */
static PKTEST_CONTEXT KtReacquireContext;

/* KiSpinWait during a re-acquire: the acquire is spinning on a lock its own thread holds
 * (on a multiprocessor, forever) instead of bugchecking first. Reported, then stopped with
 * P4 'SPIN' so the STOP cannot pass for the contract's. */
static VOID KtSpinOnOwnLock(PKSPIN_LOCK Lock)
{
    KiSpinWaitRoutine = NULL;
    KtFail(KtReacquireContext, "already_owned", "KeAcquireSpinLock spun (called KiSpinWait) on a lock whose word "
           "records the current thread (0x%llx): check the owner before spinning and bugcheck "
           "SPIN_LOCK_ALREADY_OWNED", (ULONG64)*Lock);
    KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, *Lock, 0, 0x5350494E);
}

KTEST_STOP("spin.reacquire", KtTestSpinReacquire)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtReacquireContext = Context;
    KeInitializeSpinLock(&KtLocks[0]);
    KIRQL old, again;
    KeAcquireSpinLock(&KtLocks[0], &old);
    KtValue(Context, "lock", "0x%llx", (ULONG64)(ULONG_PTR)&KtLocks[0]);
    KtValue(Context, "owner", "0x%llx", (ULONG64)KiSpinLockOwnerValue());
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)(ULONG_PTR)&KtLocks[0],
            (ULONG64)KiSpinLockOwnerValue(), 0ULL, 0ULL);
    KiSpinWaitRoutine = KtSpinOnOwnLock;
    KeAcquireSpinLock(&KtLocks[0], &again);
    KiSpinWaitRoutine = NULL;
    KtFail(Context, "reacquire", "a second KeAcquireSpinLock of a held lock returned (word 0x%llx): expected STOP "
           "SPIN_LOCK_ALREADY_OWNED", (ULONG64)KtLocks[0]);
    KtLab04Cleanup();
}

/* Releasing a lock the thread does not hold: another owner's (a seeded other thread | 1, as
 * another processor would leave it): SPIN_LOCK_NOT_OWNED (lock, that word, 0, 0). */
KTEST_STOP("spin.release_free", KtTestSpinReleaseFree)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KeInitializeSpinLock(&KtLocks[0]);
    ULONG_PTR other = (KiSpinLockOwnerValue() + 0x100 * (ULONG_PTR)KtRandomRange(Context, 1, 64)) | 1;
    KtLocks[0] = other;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KtValue(Context, "lock", "0x%llx", (ULONG64)(ULONG_PTR)&KtLocks[0]);
    KtValue(Context, "word", "0x%llx", (ULONG64)other);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)(ULONG_PTR)&KtLocks[0],
            (ULONG64)other, 0ULL, 0ULL);
    KeReleaseSpinLock(&KtLocks[0], old);
    KtFail(Context, "not_owned", "KeReleaseSpinLock of a lock another thread holds (word 0x%llx) returned: expected "
           "STOP SPIN_LOCK_NOT_OWNED", (ULONG64)other);
    KtLab04Cleanup();
}

/* Releasing an in-stack queued lock twice through one handle: the second release finds no
 * LOCK_QUEUE_OWNER in the handle's Lock: SPIN_LOCK_NOT_OWNED (lock, the handle's Lock, 0, 0). */
KTEST_STOP("spin.queued_release_twice", KtTestSpinQueuedReleaseTwice)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KeInitializeSpinLock(&KtLocks[0]);
    KLOCK_QUEUE_HANDLE h;
    KtPoison(Context, &h, sizeof(h));
    KeAcquireInStackQueuedSpinLock(&KtLocks[0], &h);
    KeReleaseInStackQueuedSpinLock(&h);
    KtValue(Context, "lock", "0x%llx", (ULONG64)(ULONG_PTR)&KtLocks[0]);
    KtValue(Context, "field", "0x%llx", (ULONG64)(ULONG_PTR)h.LockQueue.Lock);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)(ULONG_PTR)&KtLocks[0],
            (ULONG64)(ULONG_PTR)h.LockQueue.Lock, 0ULL, 0ULL);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    h.OldIrql = old;
    KeReleaseInStackQueuedSpinLock(&h);
    KtFail(Context, "not_owned", "a second KeReleaseInStackQueuedSpinLock through the same handle returned (word "
           "0x%llx, handle's Lock %p): expected STOP SPIN_LOCK_NOT_OWNED", (ULONG64)KtLocks[0], h.LockQueue.Lock);
    KtLab04Cleanup();
}

/* KeAcquireSpinLock above DISPATCH_LEVEL (a seeded device level, 3..12): the raise to
 * DISPATCH_LEVEL would lower: IRQL_NOT_GREATER_OR_EQUAL (the IRQL, 2, 0, 0). */
KTEST_STOP("irql.acquire_above_dispatch", KtTestIrqlAcquireAbove)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KIRQL level = (KIRQL)KtRandomRange(Context, 3, 12), old, ignored;
    KeInitializeSpinLock(&KtLocks[0]);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)level, 2ULL, 0ULL, 0ULL);
    KeRaiseIrql(level, &old);
    KeAcquireSpinLock(&KtLocks[0], &ignored);
    KtFail(Context, "acquire_irql", "KeAcquireSpinLock at IRQL %u returned at IRQL %u: expected STOP "
           "IRQL_NOT_GREATER_OR_EQUAL", level, KeGetCurrentIrql());
    KtLab04Cleanup();
}

/* KeReleaseSpinLock to an IRQL above DISPATCH_LEVEL (seeded, 3..12): lowering to a higher
 * level, IRQL_NOT_LESS_OR_EQUAL (2, the level, 0, 0). */
KTEST_STOP("irql.release_to_higher", KtTestIrqlReleaseHigher)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KIRQL level = (KIRQL)KtRandomRange(Context, 3, 12), old;
    KeInitializeSpinLock(&KtLocks[0]);
    KeAcquireSpinLock(&KtLocks[0], &old);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", 2ULL, (ULONG64)level, 0ULL, 0ULL);
    KeReleaseSpinLock(&KtLocks[0], level);
    KtFail(Context, "release_irql", "KeReleaseSpinLock to IRQL %u from DISPATCH_LEVEL returned: expected STOP "
           "IRQL_NOT_LESS_OR_EQUAL", level);
    KtLab04Cleanup();
}

