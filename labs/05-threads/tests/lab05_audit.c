/* lab05_audit.c - lab 05's auditors and test helpers (see lab05_audit.h). */
#include "lab05_audit.h"
#include "rtl.h"

BOOLEAN KtLab05Stubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

BOOLEAN KtLab05Begin(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB05_BUDGET_MS);
    KPRIORITY p = KeQueryPriorityThread(KeGetCurrentThread());
    if (KtLab05Stubbed(Context))
        return FALSE;
    return KtCheck(Context, p == KT_RUNNER_PRIORITY, "query_priority", "KeQueryPriorityThread of the test's thread "
                   "returned %d, expected its Priority %d", p, KT_RUNNER_PRIORITY);
}

VOID KtPoison05(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size)
{
    static ULONG64 counter;
    ULONG64 state = Context->Seed ^ 0xA5A5F00DULL ^ (++counter << 32);
    ULONG64 pattern = RtlSplitMix64(&state) | 0x0101010101010101ULL;
    PUCHAR p = Buffer;
    for (SIZE_T i = 0; i < Size; i++)
        p[i] = (UCHAR)(pattern >> ((i % 8) * 8));
}

BOOLEAN KtCreateThreadAt(PKTEST_CONTEXT Context, PCSTR Name, PKSTART_ROUTINE Routine, PVOID Argument,
                         KPRIORITY Priority, PKTHREAD *Thread)
{
    NTSTATUS status = KeCreateThread(Thread, Name, Routine, Argument, Priority);
    if (!KtCheck(Context, NT_SUCCESS(status), "thread_create", "KeCreateThread(%s, priority %d) returned 0x%08X",
                 Name, Priority, (ULONG)status))
        return FALSE;
    (*Thread)->Owner = Context;
    Context->ThreadsCreated++;
    return TRUE;
}

VOID KtTraceAdd(KT_TRACE *Trace, CHAR Event)
{
    ULONG64 flags = __readeflags();
    _disable();
    if (Trace->Length < sizeof(Trace->Text) - 1) {
        Trace->Text[Trace->Length] = Event;
        Trace->Length++;
        Trace->Text[Trace->Length] = 0;
    }
    __restoreflags(flags);
}

BOOLEAN KtTraceCheck(PKTEST_CONTEXT Context, KT_TRACE *Trace, PCSTR Key, PCSTR Expected, PCSTR Check, PCSTR Clause)
{
    KtValue(Context, Key, "%s", Trace->Length ? Trace->Text : "-");
    ULONG i = 0;
    while (Expected[i] && Expected[i] == Trace->Text[i])
        i++;
    BOOLEAN same = Expected[i] == 0 && i == Trace->Length;
    return KtCheck(Context, same, Check,
                   "%s: the schedule differs from event %u on:  expected %s  seen %s  (one character per event, "
                   "in the order they ran)", Clause, i, Expected, Trace->Length ? Trace->Text : "(nothing ran)");
}

BOOLEAN KtAuditReadyQueues(PKTEST_CONTEXT Context, PCSTR Step)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 flags = __readeflags();
    _disable();
    BOOLEAN ok = TRUE;
    CHAR why[160] = "";
    PKTHREAD seen[80];
    ULONG nseen = 0;
    for (ULONG p = 0; p < MAXIMUM_PRIORITY && ok; p++) {
        PLIST_ENTRY head = &prcb->DispatcherReadyListHead[p];
        BOOLEAN bit = (prcb->ReadySummary >> p) & 1;
        if (bit != !IsListEmpty(head)) {
            RtlFormatString(why, sizeof(why), "ReadySummary bit %u is %u but ready queue %u is %s", p, bit, p,
                            IsListEmpty(head) ? "empty" : "not empty");
            ok = FALSE;
            break;
        }
        for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
            PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, WaitListEntry);
            if (e->Flink->Blink != e || e->Blink->Flink != e) {
                RtlFormatString(why, sizeof(why), "queue %u: the links of thread %u (%s) do not point back at it", p,
                                t->ThreadId, t->Name);
                ok = FALSE;
                break;
            }
            if (t->Priority != (KPRIORITY)p || t->State != Ready) {
                RtlFormatString(why, sizeof(why), "queue %u holds thread %u (%s) with Priority %d, State %s (expected "
                                "Priority %u, Ready)", p, t->ThreadId, t->Name, t->Priority,
                                KeThreadStateName(t->State), p);
                ok = FALSE;
                break;
            }
            for (ULONG j = 0; j < nseen && ok; j++)
                if (seen[j] == t) {
                    RtlFormatString(why, sizeof(why), "thread %u (%s) is on a ready queue twice", t->ThreadId,
                                    t->Name);
                    ok = FALSE;
                }
            if (!ok || nseen == ARRAYSIZE(seen)) {
                if (ok)
                    RtlFormatString(why, sizeof(why), "more than %u threads on the ready queues (a loop?)", nseen);
                ok = FALSE;
                break;
            }
            seen[nseen++] = t;
        }
    }
    __restoreflags(flags);
    return KtCheck(Context, ok, "ready_queues", "after %s: %s", Step, why);
}

BOOLEAN KtAuditWaitList(PKTEST_CONTEXT Context, PCSTR Step, PVOID Object, PKTHREAD *Threads, ULONG Count)
{
    PDISPATCHER_HEADER h = Object;
    ULONG64 flags = __readeflags();
    _disable();
    BOOLEAN ok = TRUE;
    CHAR why[200] = "";
    ULONG n = 0;
    for (PLIST_ENTRY e = h->WaitListHead.Flink; e != &h->WaitListHead && ok; e = e->Flink, n++) {
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        if (e->Flink->Blink != e || e->Blink->Flink != e) {
            RtlFormatString(why, sizeof(why), "wait block %u's links do not point back at it", n);
            ok = FALSE;
        } else if (n >= Count) {
            RtlFormatString(why, sizeof(why), "%u or more wait blocks on the object, expected %u (thread %u %s "
                            "should not wait on it)", n + 1, Count, wb->Thread ? wb->Thread->ThreadId : 0,
                            wb->Thread ? wb->Thread->Name : "?");
            ok = FALSE;
        } else if (wb->Thread != Threads[n] || wb->Object != Object || Threads[n]->State != Waiting) {
            RtlFormatString(why, sizeof(why), "wait block %u: Thread %u (%s), Object %p, State %s; expected thread "
                            "%u (%s) Waiting on %p (wait list in wait order)", n, wb->Thread ? wb->Thread->ThreadId : 0,
                            wb->Thread ? wb->Thread->Name : "?", wb->Object,
                            wb->Thread ? KeThreadStateName(wb->Thread->State) : "?", Threads[n]->ThreadId,
                            Threads[n]->Name, Object);
            ok = FALSE;
        }
    }
    if (ok && n != Count) {
        RtlFormatString(why, sizeof(why), "%u wait blocks on the object, expected %u", n, Count);
        ok = FALSE;
    }
    __restoreflags(flags);
    return KtCheck(Context, ok, "wait_list", "after %s: %s", Step, why);
}

BOOLEAN KtWaitState(PKTHREAD Thread, ULONG State, ULONG Ticks)
{
    ULONG64 end = KeTickCount + Ticks;
    while (Thread->State != State && KeTickCount < end)
        KeYieldProcessor();
    return Thread->State == State;
}
