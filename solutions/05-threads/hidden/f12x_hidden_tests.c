/* f12x_hidden_tests.c - lab 05 hidden tests (instructor tree only) of the APC and
 * executive part: an APC that queues itself again from its KernelRoutine (it was unlinked
 * first, so the insert succeeds and it runs again in the same delivery); no-wait resource
 * requests against another thread's ownership (FALSE, nothing changed); a work routine
 * that queues its own item again (it was unlinked first). */
#include "exsync.h"
#include "lab04_audit.h"

static KAPC KtHApc;
static volatile ULONG KtHApcRuns;
static volatile BOOLEAN KtHApcRequeued;
static VOID KtHApcKernel(PKAPC Apc, PKNORMAL_ROUTINE *N, PVOID *C, PVOID *A1, PVOID *A2)
{
    UNREFERENCED_PARAMETER(N);
    UNREFERENCED_PARAMETER(C);
    UNREFERENCED_PARAMETER(A1);
    UNREFERENCED_PARAMETER(A2);
    if (KtHApcRuns++ == 0)
        KtHApcRequeued = KeInsertQueueApc(Apc, NULL, NULL, 0);
}

KTEST("apc.requeue_self", KtHApcRequeueSelf)
{
    KtSetBudget(Context, 3000);
    KtPoison(Context, &KtHApc, sizeof(KtHApc));
    KtHApcRuns = 0;
    KtHApcRequeued = FALSE;
    KeInitializeApc(&KtHApc, KeGetCurrentThread(), OriginalApcEnvironment, KtHApcKernel, NULL, NULL, KernelMode, NULL);
    if (Context->NotImplementedCount)
        return;
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    KeInsertQueueApc(&KtHApc, NULL, NULL, 0);
    KeLowerIrql(old);
    KtCheck(Context, KtHApcRequeued && KtHApcRuns == 2 && !KtHApc.Inserted, "requeue_self",
            "a special APC that queues itself from its KernelRoutine: the insert returned %u (1: the APC is unlinked "
            "before its routine runs), the routine ran %u times (2), Inserted %u at the end (0)", KtHApcRequeued,
            KtHApcRuns, KtHApc.Inserted);
    KeRemoveQueueApc(&KtHApc);
}

static ERESOURCE KtHResource;
static KGATE KtHOwned, KtHRelease;
static VOID KtHOwner(PVOID Argument)
{
    KeEnterCriticalRegion();
    if (Argument)
        ExAcquireResourceExclusiveLite(&KtHResource, TRUE);
    else
        ExAcquireResourceSharedLite(&KtHResource, TRUE);
    KeSignalGate(&KtHOwned);
    KeWaitForGate(&KtHRelease, Executive);
    ExReleaseResourceLite(&KtHResource);
    KeLeaveCriticalRegion();
}

KTEST("resource.no_wait", KtHResourceNoWait)
{
    KtSetBudget(Context, 3000);
    KtPoison(Context, &KtHResource, sizeof(KtHResource));
    NTSTATUS st = ExInitializeResourceLite(&KtHResource);
    if (!KtRequireImplemented(Context, st, "ExInitializeResourceLite", "lab 05"))
        return;
    PERESOURCE r = &KtHResource;
    for (ULONG exclusive = 0; exclusive < 2; exclusive++) {
        KeInitializeGate(&KtHOwned);
        KeInitializeGate(&KtHRelease);
        PKTHREAD t;
        if (!KtCreateThread(Context, "resource owner", KtHOwner, (PVOID)(ULONG_PTR)exclusive, &t))
            return;
        KeWaitForGate(&KtHOwned, Executive);
        KeEnterCriticalRegion();
        LONG active = r->ActiveCount;
        USHORT flag = r->Flag;
        BOOLEAN s = ExAcquireResourceSharedLite(r, FALSE);
        BOOLEAN x = ExAcquireResourceExclusiveLite(r, FALSE);
        if (s && !exclusive)
            ExReleaseResourceLite(r);
        KtCheck(Context, s == !exclusive && !x && r->ActiveCount == active && r->Flag == flag &&
                r->NumberOfSharedWaiters == 0 && r->NumberOfExclusiveWaiters == 0 && r->ContentionCount == 0,
                "no_wait", "another thread owns the resource %s: a shared request with Wait FALSE returned %u (%u), an "
                "exclusive one %u (0); afterwards ActiveCount %d (%d), Flag 0x%x (0x%x), waiters %u/%u (0/0), "
                "ContentionCount %u (0)", exclusive ? "exclusively" : "shared", s, !exclusive, x, r->ActiveCount, active,
                r->Flag, flag, r->NumberOfSharedWaiters, r->NumberOfExclusiveWaiters, r->ContentionCount);
        KeLeaveCriticalRegion();
        KeSignalGate(&KtHRelease);
        KtJoinThread(Context, t);
    }
}

static WORK_QUEUE_ITEM KtHWork;
static volatile ULONG KtHWorkRuns;
static KGATE KtHWorkDone;
static VOID KtHWorkRoutine(PVOID Parameter)
{
    UNREFERENCED_PARAMETER(Parameter);
    if (KtHWorkRuns++ == 0)
        ExQueueWorkItem(&KtHWork, DelayedWorkQueue);
    else
        KeSignalGate(&KtHWorkDone);
}

KTEST("worker.requeue", KtHWorkerRequeue)
{
    KtSetBudget(Context, 3000);
    KtPoison(Context, &KtHWork, sizeof(KtHWork));
    KtHWorkRuns = 0;
    KeInitializeGate(&KtHWorkDone);
    ExInitializeWorkItem(&KtHWork, KtHWorkRoutine, NULL);
    ExQueueWorkItem(&KtHWork, DelayedWorkQueue);
    if (Context->NotImplementedCount)
        return;
    KeWaitForGate(&KtHWorkDone, Executive);
    KtCheck(Context, KtHWorkRuns == 2, "requeue", "a work routine that queues its own item again: %u runs (2)",
            KtHWorkRuns);
}
