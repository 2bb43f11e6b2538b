/* apc_tests.c - lab 05 public tests of kernel APCs: initialisation on poisoned memory,
 * the queue order (special APCs ahead of normal ones, FIFO within each; seeded, judged by
 * the grader's model lab05x), delivery when the IRQL drops below APC_LEVEL with each
 * routine at its IRQL, a second insert, removal, critical and guarded regions (nested),
 * no nesting of normal APCs, and an APC queued to a thread that has not run yet. The queue
 * is audited (every link, Inserted, KernelApcPending) after every step. */
#include "keapc.h"
#include "lab04_audit.h"

#define KT_APCS 12
static KAPC KtApcs[KT_APCS];

typedef struct {
    ULONG Id;
    BOOLEAN Normal;          /* the NormalRoutine call (else the KernelRoutine call) */
    KIRQL Irql;
    BOOLEAN Inserted;        /* the APC's Inserted when its KernelRoutine ran */
    BOOLEAN InProgress;      /* KernelApcInProgress when the routine ran */
    PVOID Argument1, Argument2, Context;
    PKTHREAD Thread;
} KT_APC_RUN;
static KT_APC_RUN KtApcLog[64];
static volatile ULONG KtApcLogCount;
static BOOLEAN KtApcSkipNormal[KT_APCS];     /* the KernelRoutine clears NormalRoutine */
static PKAPC KtApcQueueFromNormal;           /* the NormalRoutine of APC 0 queues this one */

static BOOLEAN KtApcStubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

static VOID KtApcLogIt(ULONG Id, BOOLEAN Normal, BOOLEAN Inserted, PVOID A1, PVOID A2, PVOID Ctx)
{
    if (KtApcLogCount < ARRAYSIZE(KtApcLog)) {
        KT_APC_RUN *r = &KtApcLog[KtApcLogCount];
        r->Id = Id;
        r->Normal = Normal;
        r->Irql = KeGetCurrentIrql();
        r->Inserted = Inserted;
        r->InProgress = KeGetCurrentThread()->ApcState.KernelApcInProgress;
        r->Argument1 = A1;
        r->Argument2 = A2;
        r->Context = Ctx;
        r->Thread = KeGetCurrentThread();
    }
    KtApcLogCount++;
}

static VOID KtNormalRoutine(PVOID NormalContext, PVOID A1, PVOID A2)
{
    ULONG id = (ULONG)((ULONG_PTR)NormalContext & 0xFF);
    KtApcLogIt(id, TRUE, FALSE, A1, A2, NormalContext);
    if (id == 0 && KtApcQueueFromNormal) {
        PKAPC a = KtApcQueueFromNormal;
        KtApcQueueFromNormal = NULL;
        KeInsertQueueApc(a, (PVOID)0xB1, (PVOID)0xB2, 0);
    }
}

static VOID KtKernelRoutine(PKAPC Apc, PKNORMAL_ROUTINE *NormalRoutine, PVOID *NormalContext, PVOID *A1, PVOID *A2)
{
    ULONG id = (ULONG)(Apc - KtApcs);
    KtApcLogIt(id, FALSE, Apc->Inserted, *A1, *A2, *NormalContext);
    if (id < KT_APCS && KtApcSkipNormal[id])
        *NormalRoutine = NULL;
}

/* Initialises APC i (poisoned first) for Thread, normal or special, and checks every field. */
static BOOLEAN KtInitApc(PKTEST_CONTEXT Context, ULONG i, PKTHREAD Thread, BOOLEAN Normal)
{
    PKAPC a = &KtApcs[i];
    KtPoison(Context, a, sizeof(*a));
    PVOID ctx = (PVOID)(ULONG_PTR)(0xC0000000 + i);
    KeInitializeApc(a, Thread, OriginalApcEnvironment, KtKernelRoutine, NULL, Normal ? KtNormalRoutine : NULL,
                    Normal ? KernelMode : UserMode, ctx);
    if (KtApcStubbed(Context))
        return FALSE;
    return KtCheck(Context, a->Type == ApcObject && a->Size == sizeof(KAPC) && a->Thread == Thread &&
                   a->KernelRoutine == KtKernelRoutine && a->RundownRoutine == NULL &&
                   a->NormalRoutine == (Normal ? KtNormalRoutine : NULL) && a->NormalContext == (Normal ? ctx : NULL) &&
                   a->ApcMode == KernelMode && a->ApcStateIndex == OriginalApcEnvironment && !a->Inserted &&
                   a->SystemArgument1 == NULL && a->SystemArgument2 == NULL, "initialize",
                   "KeInitializeApc(%s APC #%u) on poisoned memory left Type %u (18), Size %u (%u), Thread %p (%p), "
                   "NormalRoutine %p (%p), NormalContext %p (%p), ApcMode %d (0: a special APC is always KernelMode), "
                   "ApcStateIndex %d (0), Inserted %u (0), arguments %p/%p (NULL)",
                   Normal ? "normal" : "special", i, a->Type, a->Size, (ULONG)sizeof(KAPC), a->Thread, Thread,
                   a->NormalRoutine, Normal ? (PVOID)KtNormalRoutine : NULL, a->NormalContext, Normal ? ctx : NULL,
                   a->ApcMode, a->ApcStateIndex, a->Inserted, a->SystemArgument1, a->SystemArgument2);
}

/* The thread's kernel APC queue holds exactly Expected[0..Count): both links, Inserted on
 * each; KernelApcPending TRUE when Count > 0 and RequirePending (queued, no delivery tried:
 * a delivery that finds the APCs held off clears it, as on NT). */
static BOOLEAN KtAuditApcQueueEx(PKTEST_CONTEXT Context, PCSTR Step, PKTHREAD Thread, PKAPC *Expected, ULONG Count,
                                  BOOLEAN RequirePending)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    PLIST_ENTRY head = &Thread->ApcState.ApcListHead[KernelMode];
    PLIST_ENTRY prev = head, e = head->Flink;
    ULONG n = 0;
    BOOLEAN ok = TRUE;
    CHAR seen[128];
    ULONG len = 0;
    seen[0] = 0;
    while (e != head && n <= KT_APCS) {
        PKAPC a = CONTAINING_RECORD(e, KAPC, ApcListEntry);
        len += RtlFormatString(seen + len, sizeof(seen) - len, "%s%d%s", n ? " " : "",
                               (a >= KtApcs && a < KtApcs + KT_APCS) ? (int)(a - KtApcs) : -1,
                               (a >= KtApcs && a < KtApcs + KT_APCS) && !a->NormalRoutine ? "s" : "");
        if (e->Blink != prev || n >= Count || a != Expected[n] || !a->Inserted)
            ok = FALSE;
        prev = e;
        e = e->Flink;
        n++;
    }
    if (head->Blink != prev || n != Count)
        ok = FALSE;
    BOOLEAN pending = Thread->ApcState.KernelApcPending;
    KeLowerIrql(old);
    CHAR want[128];
    len = 0;
    want[0] = 0;
    for (ULONG i = 0; i < Count; i++)
        len += RtlFormatString(want + len, sizeof(want) - len, "%s%d%s", i ? " " : "", (int)(Expected[i] - KtApcs),
                               Expected[i]->NormalRoutine ? "" : "s");
    if (!KtCheck(Context, ok, "queue_order", "after %s: the kernel APC queue is [%s], expected [%s] (special APCs "
                 "(s) after the special ones queued and ahead of every normal one; normal ones at the tail; both "
                 "links; Inserted on each)", Step, seen, want))
        return FALSE;
    return KtCheck(Context, Count == 0 || !RequirePending || pending, "pending", "after %s: %u APCs queued but KernelApcPending is FALSE",
                   Step, Count);
}

#define KtAuditApcQueue(c, s, t, e, n) KtAuditApcQueueEx(c, s, t, e, n, FALSE)

static BOOLEAN KtInsertApc(PKTEST_CONTEXT Context, ULONG i, BOOLEAN Expected)
{
    BOOLEAN r = KeInsertQueueApc(&KtApcs[i], (PVOID)(ULONG_PTR)(0xA1000000 + i), (PVOID)(ULONG_PTR)(0xA2000000 + i), 0);
    if (KtApcStubbed(Context))
        return FALSE;
    return KtCheck(Context, r == Expected, Expected ? "insert" : "insert_queued",
                   "KeInsertQueueApc(APC #%u) returned %s, expected %s%s", i, r ? "TRUE" : "FALSE",
                   Expected ? "TRUE" : "FALSE", Expected ? "" : " (it is already queued: nothing changes)");
}

/* Checks one delivery: the log holds the kernel routine of each id in Order (and the
 * normal routine of each normal one not skipped), each at its IRQL with its arguments. */
static BOOLEAN KtCheckDelivery(PKTEST_CONTEXT Context, PCSTR Step, const ULONG *Order, ULONG Count, ULONG From)
{
    CHAR seen[160], want[160];
    ULONG ls = 0, lw = 0, expectEntries = 0;
    seen[0] = want[0] = 0;
    for (ULONG k = 0; k < Count; k++) {
        ULONG id = Order[k];
        BOOLEAN normal = KtApcs[id].NormalRoutine != NULL;
        lw += RtlFormatString(want + lw, sizeof(want) - lw, "%sK%u", lw ? " " : "", id);
        expectEntries++;
        if (normal && !KtApcSkipNormal[id]) {
            lw += RtlFormatString(want + lw, sizeof(want) - lw, " N%u", id);
            expectEntries++;
        }
    }
    ULONG got = KtApcLogCount - From;
    for (ULONG k = From; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++)
        ls += RtlFormatString(seen + ls, sizeof(seen) - ls, "%s%c%u", ls ? " " : "", KtApcLog[k].Normal ? 'N' : 'K',
                              KtApcLog[k].Id);
    if (!KtCheck(Context, got == expectEntries && strcmp(seen, want) == 0, "delivery_order",
                 "after %s: routine calls [%s], expected [%s] (K: KernelRoutine, N: NormalRoutine; the queue from its "
                 "head, each APC's NormalRoutine right after its KernelRoutine unless the KernelRoutine cleared it)",
                 Step, seen, want))
        return FALSE;
    for (ULONG k = From; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++) {
        KT_APC_RUN *r = &KtApcLog[k];
        KIRQL want_irql = r->Normal ? PASSIVE_LEVEL : APC_LEVEL;
        if (!KtCheck(Context, r->Irql == want_irql, r->Normal ? "normal_irql" : "kernel_irql",
                     "after %s: the %s routine of APC #%u ran at IRQL %u, expected %u", Step,
                     r->Normal ? "normal" : "kernel", r->Id, r->Irql, want_irql) ||
            !KtCheck(Context, r->Argument1 == (PVOID)(ULONG_PTR)(0xA1000000 + r->Id) &&
                     r->Argument2 == (PVOID)(ULONG_PTR)(0xA2000000 + r->Id), "arguments",
                     "after %s: APC #%u's %s routine got arguments %p/%p, expected the insert's %p/%p", Step, r->Id,
                     r->Normal ? "normal" : "kernel", r->Argument1, r->Argument2,
                     (PVOID)(ULONG_PTR)(0xA1000000 + r->Id), (PVOID)(ULONG_PTR)(0xA2000000 + r->Id)) ||
            !KtCheck(Context, r->Normal || !r->Inserted, "dequeued_first",
                     "after %s: APC #%u was still Inserted when its KernelRoutine ran (it is unlinked first)", Step,
                     r->Id) ||
            !KtCheck(Context, !r->Normal || r->InProgress, "in_progress",
                     "after %s: KernelApcInProgress was FALSE while APC #%u's NormalRoutine ran", Step, r->Id))
            return FALSE;
    }
    return TRUE;
}

static VOID KtApcReset(VOID)
{
    KtApcLogCount = 0;
    for (ULONG i = 0; i < KT_APCS; i++)
        KtApcSkipNormal[i] = FALSE;
    KtApcQueueFromNormal = NULL;
}

/* Seeded kinds, queued at APC_LEVEL: the queue order after every insert, nothing runs
 * until the IRQL drops, then every APC runs once in queue order. */
KTEST("apc.order", KtApcOrder)
{
    PKTHREAD self = KeGetCurrentThread();
    KtApcReset();
    ULONG n = (ULONG)KtRandomRange(Context, 6, 10);
    /* Every case on every seed: the first two inserts are a normal then a special one, and
     * at least two of each kind follow in seeded order. */
    BOOLEAN normal[KT_APCS];
    normal[0] = TRUE;
    normal[1] = FALSE;
    normal[2] = FALSE;
    normal[3] = TRUE;
    for (ULONG i = 4; i < n; i++)
        normal[i] = (BOOLEAN)(KtRandom(Context) & 1);
    for (ULONG i = 2; i < n; i++) { /* shuffle all but the first two */
        ULONG j = 2 + (ULONG)KtRandomRange(Context, 0, n - 3);
        BOOLEAN t = normal[i];
        normal[i] = normal[j];
        normal[j] = t;
    }
    CHAR kinds[KT_APCS + 1];
    for (ULONG i = 0; i < n; i++)
        kinds[i] = normal[i] ? 'N' : 'S';
    kinds[n] = 0;
    KtValue(Context, "kinds", "%s", kinds);
    KtSetBudget(Context, 3000);
    for (ULONG i = 0; i < n; i++)
        if (!KtInitApc(Context, i, self, normal[i]))
            return;
    for (ULONG i = 2; i < n; i++)  /* a normal one after the first two (one always is): its */
        if (normal[i]) {            /* KernelRoutine clears NormalRoutine, so no normal call */
            KtApcSkipNormal[i] = TRUE;
            break;
        }
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    PKAPC expect[KT_APCS];
    ULONG count = 0, specials = 0;
    for (ULONG i = 0; i < n; i++) {
        if (!KtInsertApc(Context, i, TRUE))
            break;
        if (normal[i]) {
            expect[count++] = &KtApcs[i];
        } else {
            for (ULONG k = count; k > specials; k--)
                expect[k] = expect[k - 1];
            expect[specials++] = &KtApcs[i];
            count++;
        }
        CHAR step[40];
        RtlFormatString(step, sizeof(step), "insert #%u at APC_LEVEL", i);
        if (!KtAuditApcQueueEx(Context, step, self, expect, count, TRUE))
            break;
    }
    KtInsertApc(Context, 0, FALSE);
    KtCheck(Context, KtApcLogCount == 0, "held_at_apc_level",
            "%u APC routine calls at APC_LEVEL: nothing may run until the IRQL drops below APC_LEVEL", KtApcLogCount);
    KtAuditApcQueueEx(Context, "a second insert of APC #0", self, expect, count, TRUE);
    KeLowerIrql(old);
    CHAR order[64];
    ULONG len = 0, ids[KT_APCS];
    for (ULONG k = 0; k < count; k++)
        ids[k] = (ULONG)(expect[k] - KtApcs);
    order[0] = 0;
    for (ULONG k = 0; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++)
        if (!KtApcLog[k].Normal)
            len += RtlFormatString(order + len, sizeof(order) - len, "%s%u", len ? "," : "", KtApcLog[k].Id);
    KtValue(Context, "delivered", "%s", len ? order : "none");
    KtCheckDelivery(Context, "KeLowerIrql(PASSIVE_LEVEL)", ids, count, 0);
    KtAuditApcQueue(Context, "the delivery", self, expect, 0);
}

/* Critical regions (nested) hold off normal APCs, not special ones; leaving the last one
 * delivers before it returns. Guarded regions hold off both. */
KTEST("apc.regions", KtApcRegions)
{
    PKTHREAD self = KeGetCurrentThread();
    KtApcReset();
    KtSetBudget(Context, 3000);
    for (ULONG i = 0; i < 6; i++)
        if (!KtInitApc(Context, i, self, i % 2 == 0))
            return;
    ULONG depth = (ULONG)KtRandomRange(Context, 2, 3); /* nested on every seed */
    for (ULONG d = 0; d < depth; d++)
        KeEnterCriticalRegion();
    if (KtApcStubbed(Context))
        return;
    KtCheck(Context, self->KernelApcDisable == -(int16_t)depth && self->SpecialApcDisable == 0, "critical_count",
            "after %u KeEnterCriticalRegion: KernelApcDisable %d (expected -%u), SpecialApcDisable %d (0)", depth,
            self->KernelApcDisable, depth, self->SpecialApcDisable);
    BOOLEAN disabled = KeAreApcsDisabled();
    KtCheck(Context, disabled, "apcs_disabled", "KeAreApcsDisabled() is FALSE in a critical region");
    KtInsertApc(Context, 0, TRUE); /* normal: held */
    KtCheck(Context, KtApcLogCount == 0, "critical_holds_normal",
            "a normal kernel APC queued at PASSIVE_LEVEL in a critical region ran (%u routine calls); it must wait "
            "for KeLeaveCriticalRegion", KtApcLogCount);
    KtInsertApc(Context, 1, TRUE); /* special: runs at once */
    static const ULONG one[] = {1};
    KtCheckDelivery(Context, "a special APC queued in a critical region (it runs at once)", one, 1, 0);
    PKAPC held[] = {&KtApcs[0]};
    KtAuditApcQueue(Context, "a special APC ran in a critical region", self, held, 1);
    for (ULONG d = 0; d + 1 < depth; d++)
        KeLeaveCriticalRegion();
    KtCheck(Context, KtApcLogCount == 1, "nested_critical",
            "leaving %u of %u nested critical regions delivered the normal APC; only the last one may", depth - 1,
            depth);
    KeLeaveCriticalRegion();
    static const ULONG zero[] = {0};
    KtCheckDelivery(Context, "the last KeLeaveCriticalRegion (it delivers before it returns)", zero, 1, 1);
    KtAuditApcQueue(Context, "the last KeLeaveCriticalRegion", self, held, 0);
    KtCheck(Context, !KeAreApcsDisabled() && self->KernelApcDisable == 0, "apcs_disabled",
            "after leaving every region KeAreApcsDisabled() %u, KernelApcDisable %d (0)", KeAreApcsDisabled(),
            self->KernelApcDisable);

    /* Guarded region: both kinds held, special ahead when it ends. */
    ULONG from = KtApcLogCount;
    KeEnterGuardedRegion();
    KtCheck(Context, self->SpecialApcDisable == -1 && self->KernelApcDisable == 0 && KeAreApcsDisabled(),
            "guarded_count", "in a guarded region: SpecialApcDisable %d (-1), KernelApcDisable %d (0), "
            "KeAreApcsDisabled %u (1)", self->SpecialApcDisable, self->KernelApcDisable, KeAreApcsDisabled());
    KtInsertApc(Context, 2, TRUE);
    KtInsertApc(Context, 3, TRUE);
    KtCheck(Context, KtApcLogCount == from, "guarded_holds_special",
            "APCs queued in a guarded region ran (%u routine calls); a guarded region holds off special and normal "
            "kernel APCs", KtApcLogCount - from);
    PKAPC both[] = {&KtApcs[3], &KtApcs[2]};
    KtAuditApcQueue(Context, "two APCs queued in a guarded region", self, both, 2);
    KeLeaveGuardedRegion();
    static const ULONG order[] = {3, 2};
    KtCheckDelivery(Context, "KeLeaveGuardedRegion", order, 2, from);
    KtAuditApcQueue(Context, "KeLeaveGuardedRegion", self, both, 0);

    /* A guarded region inside a critical one: leaving the guarded region delivers only the
     * special APC. */
    from = KtApcLogCount;
    KeEnterCriticalRegion();
    KeEnterGuardedRegion();
    KtInsertApc(Context, 4, TRUE);
    KtInsertApc(Context, 5, TRUE);
    KeLeaveGuardedRegion();
    static const ULONG five[] = {5};
    KtCheckDelivery(Context, "KeLeaveGuardedRegion inside a critical region (only the special APC)", five, 1, from);
    KeLeaveCriticalRegion();
    static const ULONG four[] = {5, 4};
    KtCheckDelivery(Context, "KeLeaveCriticalRegion after it", four, 2, from);
}

/* A normal APC does not nest: one queued by a NormalRoutine waits until that routine
 * returns; a KeRemoveQueueApc of the first, a middle and the last takes them off; an APC
 * queued to a thread that has not run yet runs on that thread before its start routine. */
static volatile BOOLEAN KtStarted;
static volatile PKTHREAD KtApcThreadSeen;
static VOID KtApcTarget(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KtStarted = TRUE;
}

KTEST("apc.nesting", KtApcNesting)
{
    PKTHREAD self = KeGetCurrentThread();
    KtApcReset();
    KtSetBudget(Context, 3000);
    if (!KtInitApc(Context, 0, self, TRUE) || !KtInitApc(Context, 1, self, TRUE) ||
        !KtInitApc(Context, 2, self, FALSE))
        return;
    KtApcQueueFromNormal = &KtApcs[1];
    KtInsertApc(Context, 0, TRUE);
    /* 0's normal routine queued 1: 1 runs after N0 returns, never inside it. */
    ULONG n0 = 0, k1 = 0;
    for (ULONG k = 0; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++) {
        if (KtApcLog[k].Normal && KtApcLog[k].Id == 0)
            n0 = k;
        if (!KtApcLog[k].Normal && KtApcLog[k].Id == 1)
            k1 = k;
    }
    KtCheck(Context, KtApcLogCount == 4 && n0 == 1 && k1 == 2 && !KtApcLog[2].InProgress && KtApcLog[2].Irql == APC_LEVEL,
            "no_nesting",
            "a normal APC queued from another's NormalRoutine: %u routine calls, its KernelRoutine at call #%u with "
            "KernelApcInProgress %u (expected 4 calls: K0 N0 K1 N1, K1 at #2 after N0 returned, KernelApcInProgress 0: "
            "a normal APC in progress holds the next one off; it must not run inside the first's NormalRoutine)",
            KtApcLogCount, k1, KtApcLogCount > 2 ? KtApcLog[2].InProgress : 0);

    /* Removal: first, middle, last; then an unqueued one. */
    KtApcReset();
    for (ULONG i = 3; i < 8; i++)
        if (!KtInitApc(Context, i, self, TRUE))
            return;
    KeEnterCriticalRegion();
    for (ULONG i = 3; i < 8; i++)
        KtInsertApc(Context, i, TRUE);
    ULONG mid = (ULONG)KtRandomRange(Context, 4, 6);
    BOOLEAN r1 = KeRemoveQueueApc(&KtApcs[3]), r2 = KeRemoveQueueApc(&KtApcs[mid]), r3 = KeRemoveQueueApc(&KtApcs[7]);
    BOOLEAN r4 = KeRemoveQueueApc(&KtApcs[3]);
    KtCheck(Context, r1 && r2 && r3 && !r4 && !KtApcs[3].Inserted && !KtApcs[mid].Inserted && !KtApcs[7].Inserted,
            "remove", "KeRemoveQueueApc of the first, a middle (#%u) and the last queued APC returned %u %u %u (1 1 1), "
            "of one no longer queued %u (0); Inserted after %u %u %u (0)", mid, r1, r2, r3, r4, KtApcs[3].Inserted,
            KtApcs[mid].Inserted, KtApcs[7].Inserted);
    PKAPC left[2];
    ULONG nl = 0;
    for (ULONG i = 4; i < 7; i++)
        if (i != mid)
            left[nl++] = &KtApcs[i];
    KtAuditApcQueue(Context, "three removals", self, left, nl);
    KeLeaveCriticalRegion();
    KtCheck(Context, KtApcLogCount == 4, "removed_never_run",
            "%u routine calls after the region ended, expected 4 (the 2 APCs left, kernel and normal routine each)",
            KtApcLogCount);
    /* Removing the only queued APC empties the queue: KernelApcPending is cleared. */
    if (KtInitApc(Context, 3, self, TRUE)) {
        KIRQL irql;
        KeRaiseIrql(APC_LEVEL, &irql); /* held: nothing is delivered (nor KernelApcPending cleared) */
        KtInsertApc(Context, 3, TRUE);
        BOOLEAN before = self->ApcState.KernelApcPending;
        BOOLEAN r5 = KeRemoveQueueApc(&KtApcs[3]);
        BOOLEAN pending = self->ApcState.KernelApcPending;
        KeLowerIrql(irql);
        KtCheck(Context, before && r5 && !pending, "remove_pending", "at APC_LEVEL, KeInsertQueueApc left "
                "KernelApcPending %u (1); KeRemoveQueueApc of the only queued APC returned %u (1) and left "
                "KernelApcPending %u (0: the thread's kernel queue is empty)", before, r5, pending);
    }

    /* Another thread, not yet run: its APC runs on it, before its start routine. */
    KtApcReset();
    KtStarted = FALSE;
    PKTHREAD t;
    /* Same priority as the test: it does not run before the test waits for it. */
    if (!KtCreateThread(Context, "apc target", KtApcTarget, NULL, &t))
        return;
    if (!KtCheck(Context, !KtStarted, "other_thread", "the new thread ran before the test could queue its APC"))
        return;
    KtInitApc(Context, 8, t, FALSE);
    KtInsertApc(Context, 8, TRUE);
    PKAPC mine[] = {&KtApcs[8]};
    KtAuditApcQueueEx(Context, "an APC queued to another thread", t, mine, 1, TRUE);
    KtCheck(Context, KtApcLogCount == 0, "other_thread",
            "an APC queued to another thread ran on the caller (%u routine calls)", KtApcLogCount);
    KtJoinThread(Context, t);
    KtCheck(Context, KtApcLogCount == 1 && KtApcLog[0].Thread == t, "other_thread",
            "the APC queued to a new thread: %u routine calls, on thread %p (expected 1, on %p: it runs when that "
            "thread runs)", KtApcLogCount, KtApcLogCount ? KtApcLog[0].Thread : NULL, t);
}

/* An APC queued to a thread that waits at PASSIVE_LEVEL (alertable or not) runs on that
 * thread while it waits; the wait goes on and returns STATUS_WAIT_0 once the event is set,
 * never STATUS_KERNEL_APC. A normal APC to a waiter inside a critical region does not wake
 * it (it runs when the region ends). */
static KEVENT KtApcEvent;
static volatile NTSTATUS KtWaitResult[2];
static volatile BOOLEAN KtWaitReturned[2];
static volatile BOOLEAN KtWaiterCritical;
static VOID KtApcWaiter(PVOID Argument)
{
    ULONG id = (ULONG)(ULONG_PTR)Argument;
    if (id == 1)
        KeEnterCriticalRegion();
    KtWaitResult[id] = KeWaitForSingleObject(&KtApcEvent, Executive, KernelMode, id == 0, NULL);
    KtWaitReturned[id] = TRUE;
    if (id == 1)
        KeLeaveCriticalRegion();
}

KTEST("apc.wait", KtApcWait)
{
    KtApcReset();
    KtSetBudget(Context, 3000);
    if (!KtInitApc(Context, 0, KeGetCurrentThread(), FALSE))
        return;
    KeInitializeEvent(&KtApcEvent, NotificationEvent, FALSE);
    if (KtApcStubbed(Context))
        return;
    PKTHREAD w[2];
    for (ULONG i = 0; i < 2; i++) {
        KtWaitReturned[i] = FALSE;
        if (!KtCreateThread(Context, i ? "critical waiter" : "alertable waiter", KtApcWaiter, (PVOID)(ULONG_PTR)i, &w[i]))
            return;
    }
    for (ULONG round = 0; round < 100 && (w[0]->State != Waiting || w[1]->State != Waiting); round++)
        KeYieldProcessor();
    if (!KtCheck(Context, w[0]->State == Waiting && w[1]->State == Waiting, "waiters", "the two waiters did not block "
                 "on the event"))
        return;
    /* A special APC to the alertable waiter, a normal one to the waiter in a critical region. */
    KtInitApc(Context, 1, w[0], FALSE);
    KtInitApc(Context, 2, w[1], TRUE);
    KtInsertApc(Context, 1, TRUE);
    ULONG64 switches = KeGetCurrentPrcb()->ContextSwitches;
    KtInsertApc(Context, 2, TRUE);
    switches = KeGetCurrentPrcb()->ContextSwitches - switches;
    BOOLEAN stillWaiting = w[1]->State == Waiting;
    KtCheck(Context, switches == 0 && stillWaiting, "critical_waiter", "a normal APC queued to a waiter in a critical "
            "region woke it (%llu context switches, the waiter %s): it cannot be delivered, so the wait is not "
            "interrupted", switches, KeThreadStateName(w[1]->State));
    for (ULONG round = 0; round < 20; round++)
        KeYieldProcessor();
    ULONG ranSpecial = 0, ranNormal = 0;
    for (ULONG k = 0; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++) {
        if (KtApcLog[k].Id == 1 && KtApcLog[k].Thread == w[0])
            ranSpecial++;
        if (KtApcLog[k].Id == 2)
            ranNormal++;
    }
    KtCheck(Context, ranSpecial == 1, "wakes_waiter", "a special APC queued to a thread waiting at PASSIVE_LEVEL ran %u "
            "times on it before its wait ended (expected 1: the APC interrupts the wait - KiUnwaitThread with "
            "STATUS_KERNEL_APC - runs, and the wait goes on)", ranSpecial);
    KtCheck(Context, ranNormal == 0, "critical_waiter", "a normal APC queued to a waiter in a critical region ran "
            "(%u routine calls) while the region was active", ranNormal);
    KtCheck(Context, !KtWaitReturned[0] && !KtWaitReturned[1] && w[0]->State == Waiting && w[1]->State == Waiting,
            "wait_goes_on", "after the APCs the waits returned (%u, %u) or the waiters are no longer Waiting (%s, %s): "
            "a kernel APC does not end a wait", KtWaitReturned[0], KtWaitReturned[1], KeThreadStateName(w[0]->State),
            KeThreadStateName(w[1]->State));
    KeSetEvent(&KtApcEvent, 0, FALSE);
    KtJoinThread(Context, w[0]);
    KtJoinThread(Context, w[1]);
    KtCheck(Context, KtWaitResult[0] == STATUS_WAIT_0 && KtWaitResult[1] == STATUS_WAIT_0, "wait_status",
            "the waits returned 0x%08X and 0x%08X, expected STATUS_WAIT_0 (never STATUS_KERNEL_APC)",
            (ULONG)KtWaitResult[0], (ULONG)KtWaitResult[1]);
    ranNormal = ranSpecial = 0;
    for (ULONG k = 0; k < KtApcLogCount && k < ARRAYSIZE(KtApcLog); k++) {
        ranNormal += KtApcLog[k].Id == 2 && KtApcLog[k].Thread == w[1];
        ranSpecial += KtApcLog[k].Id == 1 && KtApcLog[k].Thread == w[0];
    }
    KtCheck(Context, ranSpecial == 1, "waiter_apc", "the special APC queued to a waiting thread ran %u times on it "
            "(expected once, on that thread)", ranSpecial);
    KtCheck(Context, ranNormal == 2, "critical_waiter", "the normal APC of the waiter in a critical region: %u routine "
            "calls on it after the region ended (expected 2: its kernel and normal routines)", ranNormal);
}
