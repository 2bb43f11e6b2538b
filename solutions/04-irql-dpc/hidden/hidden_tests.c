/* hidden_tests.c - lab 04 hidden tests (instructor tree only): a lock held by another
 * (simulated) processor is spun on with KiSpinWait and then taken; a queued lock acquired
 * again on the one processor bugchecks; the DPC-level acquire below DISPATCH_LEVEL. */
#include "lab04_audit.h"

static KSPIN_LOCK KtHiddenLocks[2];
#define KtLocks KtHiddenLocks

static BOOLEAN KtCheckWord(PKTEST_CONTEXT Context, PCSTR Step, ULONG i, ULONG_PTR Expected)
{
    return KtCheck(Context, KtLocks[i] == Expected, "lock_word", "after %s: lock %u's word is 0x%llx, expected 0x%llx",
                   Step, i, (ULONG64)KtLocks[i], (ULONG64)Expected);
}

/* Another processor holds the lock (simulated: its owner value is in the word); the
 * acquire spins, calling KiSpinWait once per turn, until that processor releases it. */
#define KT_OTHER_OWNER 0xFFFF8000DEAD0001ULL
static volatile ULONG KtSpins, KtSpinsToRelease;
static VOID KtOtherProcessorReleases(PKSPIN_LOCK Lock)
{
    if (++KtSpins >= KtSpinsToRelease)
        __atomic_store_n(Lock, 0, __ATOMIC_RELEASE);
    if (KtSpins > 1000)
        *Lock = 0; /* a loop that does not end: let it go, the count check reports it */
}

KTEST("spin.contended", KtTestSpinContended)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtSpins = 0;
    KtSpinsToRelease = (ULONG)KtRandomRange(Context, 1, 6);
    KtLocks[0] = KT_OTHER_OWNER;
    KiSpinWaitRoutine = KtOtherProcessorReleases;
    KIRQL old;
    KeAcquireSpinLock(&KtLocks[0], &old);
    KiSpinWaitRoutine = NULL;
    if (KtLab04Stubbed(Context))
        goto out;
    KtCheck(Context, KtSpins == KtSpinsToRelease, "spin_wait", "the acquire of a lock held by another processor called "
            "KiSpinWait %u times; that processor released it at call %u: spin until the word is free, calling "
            "KiSpinWait once per turn", KtSpins, KtSpinsToRelease);
    KtCheckWord(Context, "acquiring a lock another processor released", 0, KiSpinLockOwnerValue());
    KtCheck(Context, old == PASSIVE_LEVEL && KeGetCurrentIrql() == DISPATCH_LEVEL, "old_irql", "old IRQL %u (0), IRQL "
            "%u (2)", old, KeGetCurrentIrql());
    KeReleaseSpinLock(&KtLocks[0], old);
    KtCheckWord(Context, "KeReleaseSpinLock", 0, 0);
out:
    KtLab04Cleanup();
}

/* A queued lock acquired again on the one processor: the waiter can only wait on itself
 * (KiSpinWait: SPIN_LOCK_ALREADY_OWNED, the lock and its word = the new tail). */
KTEST_STOP("spin.queued_reacquire", KtTestSpinQueuedReacquire)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    static KLOCK_QUEUE_HANDLE first, second;
    KeInitializeSpinLock(&KtLocks[1]);
    KeAcquireInStackQueuedSpinLock(&KtLocks[1], &first);
    KtValue(Context, "lock", "0x%llx", (ULONG64)(ULONG_PTR)&KtLocks[1]);
    KtValue(Context, "owner", "0x%llx", (ULONG64)(ULONG_PTR)&second.LockQueue);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)(ULONG_PTR)&KtLocks[1],
            (ULONG64)(ULONG_PTR)&second.LockQueue, 0ULL, 0ULL);
    KeAcquireInStackQueuedSpinLock(&KtLocks[1], &second);
    KtFail(Context, "reacquire", "a second KeAcquireInStackQueuedSpinLock returned (word 0x%llx): it must wait "
           "(KiSpinWait), and on one processor that is STOP SPIN_LOCK_ALREADY_OWNED", (ULONG64)KtLocks[1]);
    KtLab04Cleanup();
}

/* KeAcquireSpinLockAtDpcLevel at PASSIVE_LEVEL: IRQL_NOT_GREATER_OR_EQUAL (0, 2, 0, lock). */
KTEST_STOP("irql.dpc_level_below", KtTestIrqlDpcLevelBelow)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KeInitializeSpinLock(&KtLocks[0]);
    KtValue(Context, "lock", "0x%llx", (ULONG64)(ULONG_PTR)&KtLocks[0]);
    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", 0ULL, 2ULL, 0ULL,
            (ULONG64)(ULONG_PTR)&KtLocks[0]);
    KeAcquireSpinLockAtDpcLevel(&KtLocks[0]);
    KtFail(Context, "dpc_level_irql", "KeAcquireSpinLockAtDpcLevel at PASSIVE_LEVEL returned: expected STOP "
           "IRQL_NOT_GREATER_OR_EQUAL");
    KtLab04Cleanup();
}
