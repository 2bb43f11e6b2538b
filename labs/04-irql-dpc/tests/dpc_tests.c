/* dpc_tests.c - lab 04 public tests of the DPC queue: initialisation on poisoned memory,
 * queue order by importance (seeded, judged by the grader's model), a second insert,
 * removal of the first, a middle and the last DPC, self-requeue, and the IRQL rules: a
 * DPC queued at DISPATCH_LEVEL or above waits until the IRQL drops below DISPATCH_LEVEL,
 * and one queued from an interrupt service routine runs after it, at DISPATCH_LEVEL with
 * interrupts on. Every step is followed by a whole-queue audit. */
#include "hal.h"
#include "lab04_audit.h"

#define KT_MAX_DPCS 16
static KDPC KtDpcs[KT_MAX_DPCS];

/* Moves Count queue slots (overlapping ranges allowed). */
static VOID KtMoveSlots(PKDPC *To, PKDPC *From, ULONG Count)
{
    if (To < From)
        for (ULONG i = 0; i < Count; i++)
            To[i] = From[i];
    else
        for (ULONG i = Count; i-- > 0;)
            To[i] = From[i];
}

/* Initialises DPC i of KtDpcs (poisoned first) with the logging routine and context i,
 * and checks every field KeInitializeDpc sets. */
static BOOLEAN KtInitDpc(PKTEST_CONTEXT Context, ULONG i, PKDEFERRED_ROUTINE Routine)
{
    PKDPC d = &KtDpcs[i];
    KtPoison(Context, d, sizeof(*d));
    KeInitializeDpc(d, Routine, (PVOID)(ULONG_PTR)i);
    if (KtLab04Stubbed(Context))
        return FALSE;
    return KtCheck(Context, d->Type == DpcObject && d->Importance == MediumImportance && d->Number == 0 &&
                   d->DeferredRoutine == Routine && d->DeferredContext == (PVOID)(ULONG_PTR)i &&
                   d->SystemArgument1 == NULL && d->SystemArgument2 == NULL && d->DpcData == NULL &&
                   d->DpcListEntry.Flink == NULL && d->DpcListEntry.Blink == NULL, "initialize",
                   "KeInitializeDpc on poisoned memory left Type %u (19), Importance %u (1), Number %u (0), routine "
                   "%p (%p), context %p (%p), arguments %p/%p (NULL), DpcData %p (NULL), links %p/%p (NULL)",
                   d->Type, d->Importance, d->Number, d->DeferredRoutine, Routine, d->DeferredContext,
                   (PVOID)(ULONG_PTR)i, d->SystemArgument1, d->SystemArgument2, d->DpcData, d->DpcListEntry.Flink,
                   d->DpcListEntry.Blink);
}

static BOOLEAN KtInsert(PKTEST_CONTEXT Context, ULONG i, BOOLEAN Expected, PCSTR Why)
{
    PVOID a1 = (PVOID)(ULONG_PTR)(0xA1000000 + i), a2 = (PVOID)(ULONG_PTR)(0xA2000000 + i);
    BOOLEAN r = KeInsertQueueDpc(&KtDpcs[i], a1, a2);
    if (KtLab04Stubbed(Context))
        return FALSE;
    return KtCheck(Context, r == Expected, Expected ? "insert" : "insert_queued",
                   "KeInsertQueueDpc(DPC #%u) returned %s, expected %s (%s)", i, r ? "TRUE" : "FALSE",
                   Expected ? "TRUE" : "FALSE", Why);
}

/* The run log holds exactly Order[0..Count) (ids), each at DISPATCH_LEVEL with interrupts
 * on, dequeued before it ran, with the arguments of its insert. */
static BOOLEAN KtCheckRuns(PKTEST_CONTEXT Context, PCSTR Step, const ULONG *Order, ULONG Count)
{
    if (!KtCheck(Context, KtDpcLogCount == Count, "run_once", "after %s: %u DPC routine calls, expected %u (each "
                 "queued DPC runs exactly once)", Step, KtDpcLogCount, Count))
        return FALSE;
    for (ULONG k = 0; k < Count; k++) {
        KT_DPC_RUN *r = &KtDpcLog[k];
        if (!KtCheck(Context, r->Id == Order[k], "run_order", "after %s: run %u was DPC #%u, expected DPC #%u", Step,
                     k, r->Id, Order[k]) ||
            !KtCheck(Context, r->Irql == DISPATCH_LEVEL && r->InterruptsOn, "run_irql", "after %s: DPC #%u ran at IRQL "
                     "%u with interrupts %s, expected DISPATCH_LEVEL (2) with interrupts on", Step, r->Id, r->Irql,
                     r->InterruptsOn ? "on" : "off") ||
            !KtCheck(Context, r->DpcDataClear, "dequeued_first", "after %s: DPC #%u still had DpcData set when its "
                     "routine ran: a DPC is taken off the queue before it runs", Step, r->Id) ||
            !KtCheck(Context, r->Argument1 == (PVOID)(ULONG_PTR)(0xA1000000 + r->Id) &&
                     r->Argument2 == (PVOID)(ULONG_PTR)(0xA2000000 + r->Id), "arguments", "after %s: DPC #%u ran with "
                     "arguments %p, %p, expected those of its first insert %p, %p", Step, r->Id, r->Argument1,
                     r->Argument2, (PVOID)(ULONG_PTR)(0xA1000000 + r->Id), (PVOID)(ULONG_PTR)(0xA2000000 + r->Id)))
            return FALSE;
    }
    return TRUE;
}

/* The seeded importances: every case on every seed (the first, a middle and the last DPC
 * high; a low and a medium one), the rest random. Mirrored by grader/models/lab04.py. */
static ULONG KtSeededImportances(PKTEST_CONTEXT Context, UCHAR Importance[KT_MAX_DPCS])
{
    ULONG n = (ULONG)KtRandomRange(Context, 5, 12);
    if (n < 5 || n > 12)
        n = 5;
    for (ULONG i = 0; i < n; i++)
        Importance[i] = (UCHAR)KtRandomRange(Context, 0, 2);
    Importance[0] = HighImportance;
    Importance[n / 2] = HighImportance;
    Importance[n - 1] = HighImportance;
    Importance[1] = LowImportance;
    Importance[2] = MediumImportance;
    return n;
}

/* Seeded DPCs queued at DISPATCH_LEVEL: nothing runs until the IRQL drops; a second insert
 * returns FALSE and keeps the first arguments; all have run, in queue order, once, when
 * KeLowerIrql returns. */
KTEST("dpc.queue", KtTestDpcQueue)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    UCHAR importance[KT_MAX_DPCS];
    ULONG n = KtSeededImportances(Context, importance);
    KtDpcLogCount = 0;
    for (ULONG i = 0; i < n; i++)
        if (!KtInitDpc(Context, i, KtLogDpcRoutine))
            goto out;
    PKDPC queue[KT_MAX_DPCS];
    ULONG count = 0;
    ULONG64 dpcCount = KeGetCurrentPrcb()->DpcCount;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i < n; i++) {
        KeSetImportanceDpc(&KtDpcs[i], importance[i]);
        if (KtLab04Stubbed(Context) ||
            !KtCheck(Context, KtDpcs[i].Importance == importance[i], "importance", "KeSetImportanceDpc(%u) left "
                     "Importance %u", importance[i], KtDpcs[i].Importance) ||
            !KtInsert(Context, i, TRUE, "not queued") ||
            !KtCheck(Context, KtDpcLogCount == 0, "held_at_dispatch", "DPC #%u ran inside KeInsertQueueDpc at "
                     "DISPATCH_LEVEL: a queued DPC waits until the IRQL drops below DISPATCH_LEVEL", i))
            goto lower;
        if (importance[i] == HighImportance) {
            KtMoveSlots(&queue[1], &queue[0], count);
            queue[0] = &KtDpcs[i];
        } else {
            queue[count] = &KtDpcs[i];
        }
        count++;
        if (!KtCheck(Context, KtDpcs[i].SystemArgument1 == (PVOID)(ULONG_PTR)(0xA1000000 + i) &&
                     KtDpcs[i].SystemArgument2 == (PVOID)(ULONG_PTR)(0xA2000000 + i), "arguments",
                     "KeInsertQueueDpc did not store SystemArgument1/2 (%p, %p)", KtDpcs[i].SystemArgument1,
                     KtDpcs[i].SystemArgument2))
            goto lower;
        char step[48];
        RtlFormatString(step, sizeof(step), "inserting DPC #%u (importance %u)", i, importance[i]);
        if (!KtAuditDpcQueue(Context, step, queue, count, KtDpcs, n))
            goto lower;
    }
    /* Queued twice: FALSE, nothing changes (its arguments included). */
    for (ULONG pick = 0; pick < 3; pick++) {
        ULONG i = pick == 0 ? 0 : pick == 1 ? n / 2 + 1 : n - 1;
        PVOID a1 = KtDpcs[i].SystemArgument1;
        BOOLEAN r = KeInsertQueueDpc(&KtDpcs[i], (PVOID)0xBAD1, (PVOID)0xBAD2);
        if (!KtCheck(Context, !r, "insert_queued", "KeInsertQueueDpc of the already queued DPC #%u returned TRUE, "
                     "expected FALSE", i) ||
            !KtCheck(Context, KtDpcs[i].SystemArgument1 == a1, "insert_queued", "a second KeInsertQueueDpc of DPC #%u "
                     "changed its SystemArgument1 to %p: a queued DPC is left unchanged", i,
                     KtDpcs[i].SystemArgument1) ||
            !KtAuditDpcQueue(Context, "inserting a queued DPC again", queue, count, KtDpcs, n))
            goto lower;
    }
    KtCheck(Context, KtDpcLogCount == 0, "held_at_dispatch", "%u DPC routines ran while the IRQL was DISPATCH_LEVEL: "
            "they wait until it drops below", KtDpcLogCount);
lower:
    KeLowerIrql(old);
    if (KtLab04Stubbed(Context))
        goto out;
    ULONG order[KT_MAX_DPCS];
    for (ULONG k = 0; k < count; k++)
        order[k] = (ULONG)(ULONG_PTR)queue[k]->DeferredContext;
    KtCheckRuns(Context, "KeLowerIrql(PASSIVE_LEVEL)", order, count);
    KtAuditDpcQueue(Context, "the drain", NULL, 0, KtDpcs, n);
    KtCheck(Context, KeGetCurrentPrcb()->DpcCount == dpcCount + count, "dpc_count", "KPRCB.DpcCount grew by %llu, "
            "expected %u (one per DPC run)", KeGetCurrentPrcb()->DpcCount - dpcCount, count);
    for (ULONG k = 0; k < KtDpcLogCount && k < KT_DPC_LOG; k++)
        KtValue(Context, "ran", "%u", KtDpcLog[k].Id);
out:
    KtLab04Cleanup();
}

/* Removal of the first, a middle and the last queued DPC (TRUE, never runs), of a removed
 * and a never-queued one (FALSE); the rest run in order. Also at PASSIVE_LEVEL an insert
 * runs the DPC before KeInsertQueueDpc returns. */
KTEST("dpc.remove", KtTestDpcRemove)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    ULONG n = (ULONG)KtRandomRange(Context, 5, 10);
    KtDpcLogCount = 0;
    for (ULONG i = 0; i <= n; i++)
        if (!KtInitDpc(Context, i, KtLogDpcRoutine))
            goto out;
    BOOLEAN r = KeRemoveQueueDpc(&KtDpcs[n]);
    if (KtLab04Stubbed(Context) ||
        !KtCheck(Context, !r, "remove_unqueued", "KeRemoveQueueDpc of a DPC never queued returned TRUE"))
        goto out;
    PKDPC queue[KT_MAX_DPCS];
    ULONG count = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i < n; i++) {
        if (!KtInsert(Context, i, TRUE, "not queued"))
            goto lower;
        queue[count++] = &KtDpcs[i];
    }
    ULONG victims[3] = {n - 1, 0, (ULONG)KtRandomRange(Context, 1, n - 3)};
    for (ULONG v = 0; v < 3; v++) {
        ULONG i = victims[v];
        r = KeRemoveQueueDpc(&KtDpcs[i]);
        BOOLEAN on = (__readeflags() & EFLAGS_IF) != 0;
        if (!KtCheck(Context, r, "remove", "KeRemoveQueueDpc of the queued DPC #%u (%s) returned FALSE", i,
                     v == 0 ? "last" : v == 1 ? "first" : "middle") ||
            !KtCheck(Context, on, "interrupt_flag", "called with interrupts enabled, KeRemoveQueueDpc of the queued "
                     "DPC #%u left them OFF: restore the caller's flags", i))
            goto lower;
        ULONG k = 0;
        while (queue[k] != &KtDpcs[i])
            k++;
        KtMoveSlots(&queue[k], &queue[k + 1], count - k - 1);
        count--;
        char step[48];
        RtlFormatString(step, sizeof(step), "removing DPC #%u", i);
        if (!KtAuditDpcQueue(Context, step, queue, count, KtDpcs, n + 1))
            goto lower;
        r = KeRemoveQueueDpc(&KtDpcs[i]);
        if (!KtCheck(Context, !r, "remove_unqueued", "KeRemoveQueueDpc of the just removed DPC #%u returned TRUE",
                     i) || !KtAuditDpcQueue(Context, "removing a removed DPC", queue, count, KtDpcs, n + 1))
            goto lower;
    }
    /* Insert and remove restore the caller's interrupt flag: off stays off, on stays on. */
    _disable();
    BOOLEAN inserted = KeInsertQueueDpc(&KtDpcs[n], (PVOID)0xA100FFFF, NULL);
    BOOLEAN offAfterInsert = !(__readeflags() & EFLAGS_IF);
    BOOLEAN removed = KeRemoveQueueDpc(&KtDpcs[n]);
    BOOLEAN offAfterRemove = !(__readeflags() & EFLAGS_IF);
    _enable();
    if (!KtCheck(Context, inserted && removed, "remove", "with interrupts off: KeInsertQueueDpc returned %u, "
                 "KeRemoveQueueDpc %u (expected 1, 1)", inserted, removed) ||
        !KtCheck(Context, offAfterInsert && offAfterRemove, "interrupt_flag", "called with interrupts disabled, "
                 "KeInsertQueueDpc left them %s and KeRemoveQueueDpc %s: restore the caller's flags, do not enable",
                 offAfterInsert ? "off" : "ON", offAfterRemove ? "off" : "ON") ||
        !KtCheck(Context, (__readeflags() & EFLAGS_IF) != 0, "interrupt_flag", "interrupts are off") ||
        !KtAuditDpcQueue(Context, "insert and remove with interrupts off", queue, count, KtDpcs, n + 1))
        goto lower;
    /* A removed DPC can be queued again: at the tail. */
    if (KtInsert(Context, victims[1], TRUE, "removed, so not queued"))
        queue[count++] = &KtDpcs[victims[1]];
    KtAuditDpcQueue(Context, "queueing a removed DPC again", queue, count, KtDpcs, n + 1);
lower:
    KeLowerIrql(old);
    ULONG order[KT_MAX_DPCS];
    for (ULONG k = 0; k < count; k++)
        order[k] = (ULONG)(ULONG_PTR)queue[k]->DeferredContext;
    if (!KtCheckRuns(Context, "KeLowerIrql(PASSIVE_LEVEL)", order, count))
        goto out;
    /* At PASSIVE_LEVEL the DISPATCH_LEVEL interrupt is taken at once. */
    KtDpcLogCount = 0;
    if (KtInsert(Context, n, TRUE, "not queued"))
        KtCheck(Context, KtDpcLogCount == 1 && KtDpcLog[0].Irql == DISPATCH_LEVEL, "runs_at_passive",
                "KeInsertQueueDpc at PASSIVE_LEVEL returned with %u runs of the DPC (expected 1, at DISPATCH_LEVEL): "
                "it requests the DISPATCH_LEVEL software interrupt", KtDpcLogCount);
    KtAuditDpcQueue(Context, "the drain", NULL, 0, KtDpcs, n + 1);
out:
    KtLab04Cleanup();
}

/* A DPC that queues itself again from its routine (TRUE: it was dequeued first) runs
 * again in the same drain; so does a DPC it queues; all before KeLowerIrql returns. */
static volatile ULONG KtRequeueLeft, KtRequeueBad, KtRequeueSecondTrue;
static VOID KtRequeueRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID Argument1, PVOID Argument2)
{
    KtLogDpcRoutine(Dpc, DeferredContext, Argument1, Argument2);
    if (KtRequeueLeft) {
        KtRequeueLeft--;
        if (!KeInsertQueueDpc(Dpc, Argument1, Argument2))
            KtRequeueBad++;
        else if (KeInsertQueueDpc(Dpc, Argument1, Argument2)) {
            /* Queued twice: the queue is now corrupt. Put it back as it must be (this DPC
             * alone) and stop, so that the check reports it instead of a hang. */
            PKPRCB prcb = KeGetCurrentPrcb();
            ULONG64 flags = __readeflags();
            _disable();
            InitializeListHead(&prcb->DpcListHead);
            InsertTailList(&prcb->DpcListHead, &Dpc->DpcListEntry);
            prcb->DpcQueueDepth = 1;
            __restoreflags(flags);
            KtRequeueSecondTrue++;
            KtRequeueLeft = 0;
            return;
        }
        if (!KtRequeueLeft && !KeInsertQueueDpc(&KtDpcs[1], (PVOID)0xA1000001, (PVOID)0xA2000001))
            KtRequeueBad++;
    }
}

KTEST("dpc.requeue", KtTestDpcRequeue)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    ULONG times = (ULONG)KtRandomRange(Context, 2, 6);
    KtDpcLogCount = 0;
    KtRequeueBad = KtRequeueSecondTrue = 0;
    if (!KtInitDpc(Context, 0, KtRequeueRoutine) || !KtInitDpc(Context, 1, KtLogDpcRoutine))
        goto out;
    KtRequeueLeft = times;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    BOOLEAN r = KeInsertQueueDpc(&KtDpcs[0], (PVOID)0xA1000000, (PVOID)0xA2000000);
    KeLowerIrql(old);
    if (KtLab04Stubbed(Context) || !KtCheck(Context, r, "insert", "KeInsertQueueDpc returned FALSE"))
        goto out;
    KtCheck(Context, KtRequeueBad == 0, "requeue_self", "KeInsertQueueDpc of a DPC from inside its own routine "
            "returned FALSE %u times: the drain takes a DPC off the queue (DpcData NULL) before it runs", KtRequeueBad);
    KtCheck(Context, KtRequeueSecondTrue == 0, "insert_queued", "inside the routine, a second insert of the requeued "
            "DPC returned TRUE");
    ULONG order[8];
    for (ULONG k = 0; k <= times; k++)
        order[k] = 0;
    order[times + 1] = 1;
    KtCheckRuns(Context, "a self-requeueing DPC", order, times + 2);
    KtAuditDpcQueue(Context, "the drain", NULL, 0, KtDpcs, 2);
out:
    KtLab04Cleanup();
}

/* The IRQL rules of the drain: a DPC queued at DISPATCH_LEVEL, at a device level and at
 * HIGH_LEVEL does not run while the IRQL stays at or above DISPATCH_LEVEL (lowering to
 * DISPATCH_LEVEL included), and has run when KeLowerIrql to APC_LEVEL returns. */
KTEST("dpc.irql", KtTestDpcIrql)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtDpcLogCount = 0;
    if (!KtInitDpc(Context, 0, KtLogDpcRoutine))
        goto out;
    KIRQL levels[3] = {DISPATCH_LEVEL, (KIRQL)KtRandomRange(Context, 3, 12), HIGH_LEVEL};
    for (ULONG c = 0; c < 3; c++) {
        KtDpcLogCount = 0;
        KIRQL old;
        KeRaiseIrql(levels[c], &old);
        BOOLEAN r = KeInsertQueueDpc(&KtDpcs[0], (PVOID)0xA1000000, (PVOID)0xA2000000);
        if (levels[c] > DISPATCH_LEVEL)
            KeLowerIrql(DISPATCH_LEVEL);
        ULONG runsHeld = KtDpcLogCount;
        PKDPC q[1] = {&KtDpcs[0]};
        BOOLEAN audit = !KtLab04Stubbed(Context) &&
                        KtCheck(Context, runsHeld == 0, "held_at_dispatch", "a DPC queued at IRQL %u ran before the "
                                "IRQL dropped below DISPATCH_LEVEL (%u runs)", levels[c], runsHeld) &&
                        KtAuditDpcQueue(Context, "queueing above APC_LEVEL", q, r ? 1 : 0,
                                                                    KtDpcs, 1);
        KeLowerIrql(APC_LEVEL);
        ULONG runsAfter = KtDpcLogCount;
        KeLowerIrql(old);
        if (KtLab04Stubbed(Context) || !audit)
            goto out;
        if (!KtCheck(Context, r, "insert", "KeInsertQueueDpc at IRQL %u returned FALSE", levels[c]) ||
            !KtCheck(Context, runsHeld == 0, "held_at_dispatch", "a DPC queued at IRQL %u ran before the IRQL dropped "
                     "below DISPATCH_LEVEL (%u runs at DISPATCH_LEVEL)", levels[c], runsHeld) ||
            !KtCheck(Context, runsAfter == 1, "runs_when_lowered", "a DPC queued at IRQL %u had run %u times when "
                     "KeLowerIrql(APC_LEVEL) returned, expected once", levels[c], runsAfter))
            goto out;
        ULONG order[1] = {0};
        if (!KtCheckRuns(Context, "lowering to APC_LEVEL", order, 1))
            goto out;
    }
out:
    KtLab04Cleanup();
}

/* The NT pattern: a device's interrupt service routine (the framework device, vector
 * 0x5n, IRQL 5) queues a DPC; the DPC runs after the ISR returned, at DISPATCH_LEVEL with
 * interrupts on; the ISR itself is held off while the IRQL is at or above its level. */
#define KT_DEVICE_VECTOR 0x52
static KINTERRUPT KtDeviceInterrupt;
static volatile ULONG KtIsrRuns, KtIsrBad;
static volatile KIRQL KtIsrIrql;
static volatile ULONG KtDpcRunsSeenByIsr;
static BOOLEAN KtDeviceIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    UNREFERENCED_PARAMETER(Interrupt);
    KtIsrIrql = KeGetCurrentIrql();
    ULONG before = KtDpcLogCount;
    if (!KeInsertQueueDpc((PKDPC)ServiceContext, (PVOID)0xA1000000, (PVOID)0xA2000000))
        KtIsrBad++;
    if (KtDpcLogCount != before) /* the DPC must not run inside the ISR */
        KtDpcRunsSeenByIsr++;
    KtIsrRuns++;
    return TRUE;
}

static BOOLEAN KtWaitForIsr(ULONG Runs)
{
    for (ULONG i = 0; i < 1000000 && KtIsrRuns < Runs; i++)
        __asm__ volatile("pause");
    return KtIsrRuns >= Runs;
}

KTEST("dpc.isr", KtTestDpcIsr)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtDpcLogCount = 0;
    KtIsrRuns = KtIsrBad = KtDpcRunsSeenByIsr = 0;
    if (!KtInitDpc(Context, 0, KtLogDpcRoutine))
        goto out;
    KeInitializeInterrupt(&KtDeviceInterrupt, KtDeviceIsr, &KtDpcs[0], KT_DEVICE_VECTOR, KT_DEVICE_VECTOR >> 4);
    if (!KtCheck(Context, KeConnectInterrupt(&KtDeviceInterrupt), "connect", "cannot connect vector 0x%x",
                 KT_DEVICE_VECTOR))
        goto out;
    ULONG order[1] = {0};
    /* 1. At PASSIVE_LEVEL: ISR, then the DPC, both before we go on. */
    HalRequestInterrupt(KT_DEVICE_VECTOR);
    if (!KtCheck(Context, KtWaitForIsr(1), "isr", "the device interrupt never ran its ISR") ||
        KtLab04Stubbed(Context))
        goto disconnect;
    KtCheck(Context, KtIsrIrql == KT_DEVICE_VECTOR >> 4, "isr_irql", "the ISR ran at IRQL %u, expected %u", KtIsrIrql,
            KT_DEVICE_VECTOR >> 4);
    if (!KtCheck(Context, KtIsrBad == 0, "insert", "KeInsertQueueDpc from the ISR returned FALSE") ||
        !KtCheck(Context, KtDpcRunsSeenByIsr == 0, "after_isr", "the DPC ran inside the ISR (at device IRQL): it waits "
                 "until the IRQL drops below DISPATCH_LEVEL") ||
        !KtCheckRuns(Context, "an ISR queued the DPC at PASSIVE_LEVEL", order, 1))
        goto disconnect;
    /* 2. At DISPATCH_LEVEL: the ISR runs (5 > 2), the DPC waits for KeLowerIrql. */
    KtDpcLogCount = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    HalRequestInterrupt(KT_DEVICE_VECTOR);
    BOOLEAN ran = KtWaitForIsr(2);
    ULONG held = KtDpcLogCount;
    KeLowerIrql(old);
    if (!KtCheck(Context, ran, "isr", "the device interrupt did not run its ISR at DISPATCH_LEVEL") ||
        !KtCheck(Context, held == 0, "held_at_dispatch", "the ISR's DPC ran while the interrupted code was at "
                 "DISPATCH_LEVEL") ||
        !KtCheckRuns(Context, "an ISR queued the DPC at DISPATCH_LEVEL", order, 1))
        goto disconnect;
    /* 3. Above the device's IRQL: the interrupt itself waits; then ISR, then DPC. */
    KtDpcLogCount = 0;
    KeRaiseIrql((KT_DEVICE_VECTOR >> 4) + 1, &old);
    HalRequestInterrupt(KT_DEVICE_VECTOR);
    for (ULONG i = 0; i < 20000; i++)
        __asm__ volatile("pause");
    ULONG isrHeld = KtIsrRuns;
    KeLowerIrql(DISPATCH_LEVEL);
    BOOLEAN ranAtDispatch = KtWaitForIsr(3);
    held = KtDpcLogCount;
    KeLowerIrql(old);
    KtCheck(Context, isrHeld == 2 && ranAtDispatch && held == 0, "held_at_dispatch", "above the device IRQL the ISR "
            "ran %u times (expected 2 so far); at DISPATCH_LEVEL it ran (%u) and the DPC ran %u times (expected 0)",
            isrHeld, ranAtDispatch, held);
    KtCheckRuns(Context, "an ISR held off by the IRQL queued the DPC", order, 1);
disconnect:
    KeDisconnectInterrupt(&KtDeviceInterrupt);
out:
    KtLab04Cleanup();
}
