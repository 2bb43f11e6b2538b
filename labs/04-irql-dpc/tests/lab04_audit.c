/* lab04_audit.c - lab 04's auditors and test helpers (see lab04_audit.h). */
#include "lab04_audit.h"
#include "rtl.h"

KT_DPC_RUN KtDpcLog[KT_DPC_LOG];
volatile ULONG KtDpcLogCount;

VOID KtPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size)
{
    PUCHAR p = Buffer;
    ULONG64 pattern = KtRandom(Context) | 0x0101010101010101ULL;
    for (SIZE_T i = 0; i < Size; i++)
        p[i] = (UCHAR)(pattern >> ((i % 8) * 8));
}

BOOLEAN KtLab04Stubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

BOOLEAN KtAuditDpcQueue(PKTEST_CONTEXT Context, PCSTR Step, PKDPC *Expected, ULONG Count, PKDPC All, ULONG AllCount)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    PLIST_ENTRY head = &prcb->DpcListHead;
    ULONG n = 0;
    BOOLEAN ok = TRUE;
    PLIST_ENTRY e = head->Flink;
    while (e != head && n <= Count + 4) {
        PKDPC dpc = CONTAINING_RECORD(e, KDPC, DpcListEntry);
        if (e->Blink->Flink != e || e->Flink->Blink != e) {
            __restoreflags(flags);
            KtFail(Context, "dpc_links", "after %s: queue entry %u (DPC %p) has Flink %p / Blink %p that do not point "
                   "back at it", Step, n, dpc, e->Flink, e->Blink);
            return FALSE;
        }
        if (n < Count && dpc != Expected[n]) {
            ULONG want = (ULONG)(ULONG_PTR)Expected[n]->DeferredContext;
            __restoreflags(flags);
            KtFail(Context, "dpc_order", "after %s: queue position %u holds DPC #%u, expected DPC #%u (HighImportance "
                   "at the head, others at the tail, FIFO within an importance)", Step, n,
                   (ULONG)(ULONG_PTR)dpc->DeferredContext, want);
            return FALSE;
        }
        if (dpc->DpcData != prcb || dpc->Type != DpcObject) {
            __restoreflags(flags);
            KtFail(Context, "dpc_fields", "after %s: queued DPC #%u has DpcData %p (expected the KPRCB %p) and Type %u "
                   "(expected DpcObject 19)", Step, (ULONG)(ULONG_PTR)dpc->DeferredContext, dpc->DpcData, prcb,
                   dpc->Type);
            return FALSE;
        }
        n++;
        e = e->Flink;
    }
    if (head->Flink->Blink != head || head->Blink->Flink != head)
        ok = FALSE;
    ULONG depth = prcb->DpcQueueDepth;
    __restoreflags(flags);
    if (!ok) {
        KtFail(Context, "dpc_links", "after %s: the queue head's Flink/Blink do not point back at it", Step);
        return FALSE;
    }
    if (n != Count) {
        KtFail(Context, "dpc_count", "after %s: %s%u DPCs on the queue, expected %u", Step, n > Count ? "at least " : "",
               n, Count);
        return FALSE;
    }
    if (!KtCheck(Context, depth == Count, "dpc_depth", "after %s: KPRCB.DpcQueueDepth is %u, %u DPCs are queued",
                 Step, depth, Count))
        return FALSE;
    for (ULONG i = 0; i < AllCount; i++) {
        BOOLEAN queued = FALSE;
        for (ULONG j = 0; j < Count; j++)
            queued |= Expected[j] == &All[i];
        if (!queued && All[i].DpcData != NULL) {
            KtFail(Context, "dpc_fields", "after %s: DPC #%u is not queued but its DpcData is %p (expected NULL)", Step,
                   (ULONG)(ULONG_PTR)All[i].DeferredContext, All[i].DpcData);
            return FALSE;
        }
    }
    KtCheck(Context, TRUE, "dpc_audit", "%s", Step);
    return TRUE;
}

static const KT_TIMER_EXPECT *KtpFindTimer(const KT_TIMER_EXPECT *Expect, ULONG Count, PKTIMER Timer, PULONG Index)
{
    for (ULONG i = 0; i < Count; i++)
        if (Expect[i].Timer == Timer && Timer) {
            *Index = i;
            return &Expect[i];
        }
    return NULL;
}

BOOLEAN KtAuditTimerTable(PKTEST_CONTEXT Context, PCSTR Step, const KT_TIMER_EXPECT *Expect, ULONG Count)
{
    ULONG seen[64] = {0};
    if (Count > ARRAYSIZE(seen))
        Count = ARRAYSIZE(seen);
    ULONG total = 0;
    for (ULONG i = 0; i < TIMER_TABLE_SIZE; i++) {
        PLIST_ENTRY head = &KiTimerTableListHead[i].Entry;
        ULONG64 last = 0;
        ULONG n = 0;
        for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
            if (e == NULL || e->Blink == NULL || e->Blink->Flink != e || e->Flink == NULL || e->Flink->Blink != e) {
                KtFail(Context, "timer_links", "after %s: an entry of timer table list %u has links that do not "
                       "point back at it (Flink/Blink of a removed or moved timer left behind?)", Step, i);
                return FALSE;
            }
            if (++n > 4 * ARRAYSIZE(seen)) {
                KtFail(Context, "timer_links", "after %s: timer table list %u does not end (a loop)", Step, i);
                return FALSE;
            }
            PKTIMER t = CONTAINING_RECORD(e, KTIMER, TimerListEntry);
            ULONG k = 0;
            const KT_TIMER_EXPECT *x = KtpFindTimer(Expect, Count, t, &k);
            if (!x) {
                KtFail(Context, "timer_table", "after %s: timer table list %u holds %p, not a timer that is set", Step,
                       i, t);
                return FALSE;
            }
            if (!x->Set) {
                KtFail(Context, "timer_table", "after %s: timer #%u is on timer table list %u but is not set (cancelled,"
                       " expired or never set: it must be on no list)", Step, k, i);
                return FALSE;
            }
            seen[k]++;
            if (!t->Inserted || t->Hand != i || KiTimerIndex(t->DueTime) != i) {
                KtFail(Context, "timer_hash", "after %s: timer #%u is on list %u with Inserted %u, Hand %u, DueTime "
                       "%llu: expected Inserted 1 and list = Hand = due tick %% %u = %u", Step, k, i, t->Inserted,
                       t->Hand, t->DueTime, TIMER_TABLE_SIZE, KiTimerIndex(t->DueTime));
                return FALSE;
            }
            if (t->DueTime != x->DueTime) {
                KtFail(Context, "timer_due", "after %s: timer #%u has DueTime %llu, expected %llu (interrupt time, "
                       "100 ns units)", Step, k, t->DueTime, x->DueTime);
                return FALSE;
            }
            if (n > 1 && t->DueTime < last) {
                KtFail(Context, "timer_sorted", "after %s: list %u is not in due-time order: timer #%u (DueTime %llu) "
                       "follows one due at %llu", Step, i, k, t->DueTime, last);
                return FALSE;
            }
            last = t->DueTime;
            total++;
        }
        if (head->Blink->Flink != head) {
            KtFail(Context, "timer_links", "after %s: timer table list %u's Blink does not point at its last entry",
                   Step, i);
            return FALSE;
        }
    }
    for (ULONG k = 0; k < Count; k++) {
        if (Expect[k].Timer == NULL)
            continue;
        if (Expect[k].Set && seen[k] != 1) {
            KtFail(Context, "timer_table", "after %s: timer #%u is set but is on the table %u times (expected once, on "
                   "list %u)", Step, k, seen[k], KiTimerIndex(Expect[k].DueTime));
            return FALSE;
        }
        if (!Expect[k].Set && Expect[k].Timer->Inserted) {
            KtFail(Context, "timer_inserted", "after %s: timer #%u is not set but its Inserted is %u", Step, k,
                   Expect[k].Timer->Inserted);
            return FALSE;
        }
    }
    KtCheck(Context, TRUE, "timer_audit", "%s", Step);
    return TRUE;
}

VOID KtLogDpcRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID Argument1, PVOID Argument2)
{
    ULONG i = KtDpcLogCount;
    if (i < KT_DPC_LOG) {
        KtDpcLog[i].Id = (ULONG)(ULONG_PTR)DeferredContext;
        KtDpcLog[i].Irql = KeGetCurrentIrql();
        KtDpcLog[i].InterruptsOn = (__readeflags() & EFLAGS_IF) != 0;
        KtDpcLog[i].DpcDataClear = Dpc->DpcData == NULL;
        KtDpcLog[i].Argument1 = Argument1;
        KtDpcLog[i].Argument2 = Argument2;
        KtDpcLog[i].Tick = KeTickCount;
    }
    KtDpcLogCount = i + 1;
}

BOOLEAN KtWaitForTick(PKTEST_CONTEXT Context, ULONG64 Tick)
{
    if (!KtCheck(Context, KeClockHz != 0, "clock", "the clock is not running (KeClockHz 0)"))
        return FALSE;
    ULONG64 guard = 0;
    while (KeTickCount < Tick) {
        __asm__ volatile("pause");
        if (++guard > 4000000000ULL)
            return FALSE;
    }
    return TRUE;
}

VOID KtLab04Cleanup(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    _disable();
    for (ULONG n = 0; n < 4096 && !IsListEmpty(&prcb->DpcListHead); n++) {
        PLIST_ENTRY e = prcb->DpcListHead.Flink;
        if (e == NULL || e->Flink == NULL)
            break;
        RemoveEntryList(e);
        CONTAINING_RECORD(e, KDPC, DpcListEntry)->DpcData = NULL;
    }
    InitializeListHead(&prcb->DpcListHead);
    prcb->DpcQueueDepth = 0;
    for (ULONG i = 0; i < TIMER_TABLE_SIZE; i++) {
        PLIST_ENTRY head = &KiTimerTableListHead[i].Entry;
        ULONG n = 0;
        for (PLIST_ENTRY e = head->Flink; e && e != head && n < 4096; e = e->Flink, n++)
            CONTAINING_RECORD(e, KTIMER, TimerListEntry)->Inserted = FALSE;
        InitializeListHead(head);
    }
    KiSpinWaitRoutine = NULL;
    __writecr8(PASSIVE_LEVEL);
    _enable();
}
