/* event_tests.c - lab 05 public tests of events and the wait lists: k waiters on a
 * synchronization event are released one per KeSetEvent, in wait order, each with the
 * event's boost; a notification event releases all and stays signalled; KeResetEvent,
 * KePulseEvent (with and without waiters) and polling with a zero timeout. Every object
 * is poisoned before it is initialised; wait lists are audited after every step. */
#include "lab05_audit.h"

#define KT_MAX_WAITERS 6
typedef struct {
    KEVENT Event;
    KT_TRACE Trace;
    NTSTATUS Status[KT_MAX_WAITERS];
    KPRIORITY Priority[KT_MAX_WAITERS];
    PKTHREAD *Batch;                     /* notification: the waiters one set releases */
    ULONG BatchCount;
    ULONG StillWaiting[KT_MAX_WAITERS];  /* of the batch, when this waiter ran */
} KT_EVENTS;
static KT_EVENTS KtEv;

static VOID KtEventWaiter(PVOID Argument)
{
    ULONG i = (ULONG)(ULONG_PTR)Argument;
    KtEv.Status[i] = KeWaitForSingleObject(&KtEv.Event, Executive, KernelMode, FALSE, NULL);
    KtEv.Priority[i] = KeGetCurrentThread()->Priority;
    for (ULONG j = 0; j < KtEv.BatchCount; j++)
        if (KtEv.Batch[j] && KtEv.Batch[j]->State == Waiting)
            KtEv.StillWaiting[i]++;
    KtTraceAdd(&KtEv.Trace, (CHAR)('a' + i));
}

/* Starts k waiters of priority 9 (each runs at once and blocks on the event, in order). */
static ULONG KtStartWaiters(PKTEST_CONTEXT Context, ULONG First, ULONG K, PKTHREAD *T)
{
    ULONG made = 0;
    for (ULONG i = First; i < First + K; i++) {
        if (!KtCreateThreadAt(Context, "waiter", KtEventWaiter, (PVOID)(ULONG_PTR)i, 9, &T[i]))
            break;
        made++;
        if (KtLab05Stubbed(Context))
            break;
    }
    return made;
}

static VOID KtInitEvent(PKTEST_CONTEXT Context, EVENT_TYPE Type, BOOLEAN State)
{
    KtPoison05(Context, &KtEv.Event, sizeof(KtEv.Event));
    KeInitializeEvent(&KtEv.Event, Type, State);
    if (KtLab05Stubbed(Context))
        return;
    PDISPATCHER_HEADER h = &KtEv.Event.Header;
    KtCheck(Context, h->Type == (Type == SynchronizationEvent ? EventSynchronizationObject : EventNotificationObject) &&
            h->SignalState == (State ? 1 : 0) && h->WaitListHead.Flink == &h->WaitListHead &&
            h->WaitListHead.Blink == &h->WaitListHead, "initialize",
            "KeInitializeEvent(%s, %u) on poisoned memory: Type %u, SignalState %d, WaitListHead %p/%p (empty: %p)",
            Type == SynchronizationEvent ? "SynchronizationEvent" : "NotificationEvent", State, h->Type,
            h->SignalState, h->WaitListHead.Flink, h->WaitListHead.Blink, &h->WaitListHead);
}

static VOID KtJoinAll(PKTEST_CONTEXT Context, PKTHREAD *T, ULONG N)
{
    for (ULONG i = 0; i < N; i++)
        if (T[i]) {
            if (T[i]->State == Waiting) /* a bug left it waiting: release it (reference code) */
                KeSetEvent(&KtEv.Event, 0, FALSE);
            KtJoinThread(Context, T[i]);
            T[i] = NULL;
        }
}

KTEST("event.synchronization", KtTestEventSynchronization)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtEv, sizeof(KtEv));
    ULONG k = (ULONG)KtRandomRange(Context, 2, 5);
    PKTHREAD t[KT_MAX_WAITERS] = {0};
    KtInitEvent(Context, SynchronizationEvent, FALSE);
    if (KtLab05Stubbed(Context))
        return;
    ULONG made = KtStartWaiters(Context, 0, k, t);
    if (KtLab05Stubbed(Context) || made != k) {
        KtJoinAll(Context, t, made);
        return;
    }
    KtAuditWaitList(Context, "k threads waited", &KtEv.Event, t, k);
    CHAR expected[KT_MAX_WAITERS + 1] = {0};
    for (ULONG j = 0; j < k; j++) {
        LONG prev = KeSetEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
        expected[j] = (CHAR)('a' + j);
        KtCheck(Context, prev == 0, "set_previous", "KeSetEvent returned %d, expected the previous state 0", prev);
        if (!KtTraceCheck(Context, &KtEv.Trace, "released", expected, "one_per_set",
                          "a synchronization event releases exactly one waiter per set, the first in wait order"))
            break;
        KtCheck(Context, KtEv.Event.Header.SignalState == 0, "auto_reset", "after a set released waiter %c the "
                "synchronization event's SignalState is %d, expected 0 (the wait consumed it)", 'a' + j,
                KtEv.Event.Header.SignalState);
        KtCheck(Context, KtEv.Status[j] == STATUS_WAIT_0 && KtEv.Priority[j] == 9 + EVENT_INCREMENT, "wait_status",
                "waiter %c: the wait returned 0x%X (expected STATUS_WAIT_0) at priority %d (expected 9 + "
                "EVENT_INCREMENT = %d: the boost of a satisfied wait)", 'a' + j, (ULONG)KtEv.Status[j],
                KtEv.Priority[j], 9 + EVENT_INCREMENT);
        KtAuditWaitList(Context, "a set", &KtEv.Event, t + j + 1, k - j - 1);
    }
    /* No waiter: the set is kept; a poll consumes it; the next poll times out. */
    LONG prev = KeSetEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtCheck(Context, prev == 0 && KtEv.Event.Header.SignalState == 1, "set_kept", "KeSetEvent without waiters "
            "returned %d (0) and left SignalState %d (1)", prev, KtEv.Event.Header.SignalState);
    LARGE_INTEGER zero = {.QuadPart = 0};
    ULONG64 switches = KeGetCurrentPrcb()->ContextSwitches;
    NTSTATUS s1 = KeWaitForSingleObject(&KtEv.Event, Executive, KernelMode, FALSE, &zero);
    NTSTATUS s2 = KeWaitForSingleObject(&KtEv.Event, Executive, KernelMode, FALSE, &zero);
    switches = KeGetCurrentPrcb()->ContextSwitches - switches;
    KtCheck(Context, s1 == STATUS_WAIT_0 && s2 == STATUS_TIMEOUT && KtEv.Event.Header.SignalState == 0 &&
            switches == 0, "poll", "two waits with a zero timeout on a signalled synchronization event returned 0x%X "
            "(STATUS_WAIT_0) then 0x%X (STATUS_TIMEOUT = 0x102), SignalState %d (0), %llu context switches (0: a poll "
            "never blocks)", (ULONG)s1, (ULONG)s2, KtEv.Event.Header.SignalState, switches);
    KtJoinAll(Context, t, k);
}

KTEST("event.notification", KtTestEventNotification)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtEv, sizeof(KtEv));
    ULONG k = (ULONG)KtRandomRange(Context, 2, 3);
    PKTHREAD t[KT_MAX_WAITERS] = {0};
    KtInitEvent(Context, NotificationEvent, FALSE);
    if (KtLab05Stubbed(Context))
        return;
    ULONG made = KtStartWaiters(Context, 0, k, t);
    if (KtLab05Stubbed(Context) || made != k) {
        KtJoinAll(Context, t, made);
        return;
    }
    KtAuditWaitList(Context, "k threads waited", &KtEv.Event, t, k);
    CHAR expected[KT_MAX_WAITERS + 1] = {0};
    for (ULONG i = 0; i < k; i++)
        expected[i] = (CHAR)('a' + i);
    KtEv.Batch = t;
    KtEv.BatchCount = k;
    LONG prev = KeSetEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtEv.BatchCount = 0;
    KtTraceCheck(Context, &KtEv.Trace, "released", expected, "releases_all",
                 "a notification event releases every waiter (they run in wait order)");
    KtCheck(Context, KtEv.StillWaiting[0] == 0, "releases_all", "when the first released waiter ran, %u of the %u "
            "waiters were still Waiting: KeSetEvent releases every waiter at DISPATCH_LEVEL before any of them runs",
            KtEv.StillWaiting[0], k);
    KtCheck(Context, prev == 0 && KtEv.Event.Header.SignalState == 1, "stays_signalled", "KeSetEvent returned %d (0); "
            "SignalState after releasing the waiters %d (expected 1: a notification event stays signalled)", prev,
            KtEv.Event.Header.SignalState);
    KtAuditWaitList(Context, "the set", &KtEv.Event, t, 0);
    NTSTATUS s = KeWaitForSingleObject(&KtEv.Event, Executive, KernelMode, FALSE, NULL);
    KtCheck(Context, s == STATUS_WAIT_0 && KtEv.Event.Header.SignalState == 1, "stays_signalled", "a wait on the "
            "signalled notification event returned 0x%X (0) and left SignalState %d (1: not consumed)", (ULONG)s,
            KtEv.Event.Header.SignalState);
    prev = KeSetEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtCheck(Context, prev == 1, "set_previous", "KeSetEvent on a signalled event returned %d, expected 1", prev);
    prev = KeResetEvent(&KtEv.Event);
    KtCheck(Context, prev == 1 && KtEv.Event.Header.SignalState == 0, "reset", "KeResetEvent returned %d (1), "
            "SignalState %d (0)", prev, KtEv.Event.Header.SignalState);
    prev = KeResetEvent(&KtEv.Event);
    KtCheck(Context, prev == 0, "reset", "KeResetEvent of a reset event returned %d, expected 0", prev);
    KtJoinAll(Context, t, k);
    /* A pulse with waiters releases them all and leaves the event reset; without, nothing. */
    made = KtStartWaiters(Context, k, k, t);
    if (made != k) {
        KtJoinAll(Context, t, 2 * k);
        return;
    }
    KtAuditWaitList(Context, "new waiters", &KtEv.Event, t + k, k);
    for (ULONG i = 0; i < k; i++)
        expected[k + i] = (CHAR)('a' + k + i);
    prev = KePulseEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtTraceCheck(Context, &KtEv.Trace, "pulsed", expected, "pulse_releases",
                 "KePulseEvent releases what a set would (every waiter of a notification event)");
    KtCheck(Context, prev == 0 && KtEv.Event.Header.SignalState == 0, "pulse_resets", "KePulseEvent returned %d (0) and "
            "left SignalState %d (expected 0: a pulse leaves the event reset)", prev, KtEv.Event.Header.SignalState);
    prev = KePulseEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtCheck(Context, prev == 0 && KtEv.Event.Header.SignalState == 0, "pulse_resets", "KePulseEvent without waiters "
            "returned %d (0) and left SignalState %d (0: a pulse nobody waits for is lost)", prev,
            KtEv.Event.Header.SignalState);
    KeSetEvent(&KtEv.Event, 0, FALSE);
    prev = KePulseEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtCheck(Context, prev == 1 && KtEv.Event.Header.SignalState == 0, "pulse_resets", "KePulseEvent of a signalled "
            "event returned %d (1) and left SignalState %d (0: a pulse always leaves the event reset)", prev,
            KtEv.Event.Header.SignalState);
    KtJoinAll(Context, t, 2 * k);
}

/* event.pulse_sync: a pulse of a synchronization event with two waiters releases the
 * first only and leaves the event reset. */
KTEST("event.pulse_sync", KtTestEventPulseSync)
{
    if (!KtLab05Begin(Context))
        return;
    RtlZeroMemory(&KtEv, sizeof(KtEv));
    PKTHREAD t[KT_MAX_WAITERS] = {0};
    KtInitEvent(Context, SynchronizationEvent, FALSE);
    ULONG made = KtStartWaiters(Context, 0, 2, t);
    if (made != 2) {
        KtJoinAll(Context, t, made);
        return;
    }
    LONG prev = KePulseEvent(&KtEv.Event, EVENT_INCREMENT, FALSE);
    KtTraceCheck(Context, &KtEv.Trace, "pulsed", "a", "pulse_releases",
                 "KePulseEvent releases what a set would (one waiter of a synchronization event, the first)");
    KtCheck(Context, prev == 0 && KtEv.Event.Header.SignalState == 0, "pulse_resets", "KePulseEvent returned %d (0) and "
            "left SignalState %d (0)", prev, KtEv.Event.Header.SignalState);
    KtAuditWaitList(Context, "the pulse", &KtEv.Event, t + 1, 1);
    KtJoinAll(Context, t, 2);
}
