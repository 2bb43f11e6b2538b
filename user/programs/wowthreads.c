/* wowthreads.c - lab 09's multi-threaded test program (w16t), built 64-bit (System32) and
 * 32-bit (SysWOW64) from this one source. Given a seed, the main thread creates N (2-4)
 * threads (NtCreateThreadEx) that each wait for a start event, check that FS:[0x18] (32-bit:
 * the TEB32's Self) or GS:[0x30] (64-bit: the TEB's) is their own TEB - also after every yield,
 * when other threads ran in between - and its client id, compute a seeded result, signal
 * their own event and end with a seeded exit status (NtTerminateThread). The main thread
 * checks the waits (a zero timeout on a running thread, NtCurrentThread(), a relative timeout
 * whose high half matters), the events, every thread's exit status, TEB and id
 * (NtQueryInformationThread) and that every TEB differs. The 32-bit build also checks that
 * one thread's Wow64DisableWow64FsRedirection leaves the others' state alone (read through
 * each thread's TEB32 -> TEB64 -> the wow64 layer's per-thread block) and that its revert
 * restores it. The grader (grader/models/lab09t.py) judges every value from the seed and the
 * 32-bit transcript against the 64-bit one (the redir* records are the 32-bit build's own). */
#include "ktuser.h"

#define MAX_THREADS 4
#define THREAD_ALL_ACCESS 0x001FFFFF
#define EVENT_ALL_ACCESS 0x001F0003
#define NotificationEvent 0
#define STATUS_TIMEOUT 0x102
#define STATUS_PENDING 0x103

typedef struct _LARGE_INTEGER_U {
    ULONG LowPart;
    LONG HighPart;
} LARGE_INTEGER_U;

typedef struct _THREAD_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    PVOID TebBaseAddress;
    HANDLE UniqueProcess, UniqueThread;
    ULONG_PTR AffinityMask;
    LONG Priority, BasePriority;
} THREAD_BASIC_INFORMATION;

NTSTATUS NtCreateThreadEx(PHANDLE ThreadHandle, ULONG DesiredAccess, PVOID ObjectAttributes, HANDLE ProcessHandle,
                          PVOID StartRoutine, PVOID Argument, ULONG CreateFlags, SIZE_T ZeroBits, SIZE_T StackSize,
                          SIZE_T MaximumStackSize, PVOID AttributeList);
NTSTATUS NtTerminateThread(HANDLE ThreadHandle, NTSTATUS ExitStatus);
NTSTATUS NtQueryInformationThread(HANDLE ThreadHandle, ULONG InformationClass, PVOID Information, ULONG Length,
                                  PULONG ReturnLength);
NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, LARGE_INTEGER_U *Timeout);
NTSTATUS NtCreateEvent(PHANDLE EventHandle, ULONG DesiredAccess, PVOID ObjectAttributes, ULONG EventType,
                       BOOLEAN InitialState);
NTSTATUS NtSetEvent(HANDLE EventHandle, LONG *PreviousState);
NTSTATUS NtClose(HANDLE Handle);
NTSTATUS NtYieldExecution(void);
#ifndef __x86_64__
NTSTATUS Wow64DisableWow64FsRedirection(PVOID *OldValue);
NTSTATUS Wow64RevertWow64FsRedirection(PVOID OldValue);
#endif

typedef struct _SLOT {
    int Index;
    ULONG64 Value;                 /* in: the seed of its computation; out: the result */
    ULONG Rounds;
    HANDLE Started, Done;          /* its events: its TEB recorded; its work done */
    ULONG_PTR Teb;                 /* what FS:[0x18] / GS:[0x30] said at its start */
    ULONG_PTR Tid;                 /* the client id its TEB holds */
    int TebStable;                 /* the same TEB after every yield */
    int TebIsQueried;              /* NtQueryInformationThread(NtCurrentThread()) agrees */
    NTSTATUS StartWait;
    int Last;                      /* the last thread naps before it ends */
    NTSTATUS Nap;
#ifndef __x86_64__
    NTSTATUS DisableStatus, RevertStatus;
    ULONG OldValue, StateAfterDisable, StateAfterRevert;
#endif
} SLOT;

static SLOT Slots[MAX_THREADS];
static HANDLE Go, Release, Never;

static ULONG64 Next(ULONG64 *x)
{
    ULONG64 z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The thread's own TEB as the processor names it, and the client id in it. */
static ULONG_PTR CurrentTeb(void)
{
    ULONG_PTR teb;
#ifdef __x86_64__
    __asm__ volatile("movq %%gs:0x30, %0" : "=r"(teb));
#else
    __asm__ volatile("movl %%fs:0x18, %0" : "=r"(teb));
#endif
    return teb;
}

static ULONG_PTR TebThreadId(ULONG_PTR Teb)
{
#ifdef __x86_64__
    return ((ULONG_PTR *)Teb)[9];  /* 0x48: ClientId.UniqueThread */
#else
    return ((ULONG_PTR *)Teb)[9];  /* 0x24 */
#endif
}

#ifndef __x86_64__
/* A thread's redirection state, read through its TEB32: GdiBatchCount (0xF70) names its TEB64,
 * whose TLS slot 1 (at 0x200 + 8) holds the wow64 layer's block for it (FsRedirectionDisabled
 * first). */
static ULONG RedirectionState(ULONG_PTR Teb32)
{
    if (!Teb32)
        return 0xFFFFFFFF;
    ULONG teb64 = *(volatile ULONG *)(Teb32 + 0xF70);
    ULONG block = *(volatile ULONG *)(ULONG_PTR)(teb64 + 0x200 + 8);
    return block ? *(volatile ULONG *)(ULONG_PTR)block : 0xFFFFFFFF;
}
#endif

static ULONG ExitCode(ULONG64 Result)
{
    return (ULONG)(Result & 0x0FFFFFFF) | 0x10000000;
}

static void ThreadMain(SLOT *s)
{
    s->Teb = CurrentTeb();
    s->Tid = TebThreadId(s->Teb);
    THREAD_BASIC_INFORMATION info;
    memset(&info, 0, sizeof(info));
    ULONG length = 0;
    NTSTATUS st = NtQueryInformationThread(NtCurrentThread(), 0, &info, sizeof(info), &length);
    s->TebIsQueried = st == 0 && (ULONG_PTR)info.TebBaseAddress == s->Teb && (ULONG_PTR)info.UniqueThread == s->Tid &&
                      length == sizeof(info) && info.ExitStatus == STATUS_PENDING;
    NtSetEvent(s->Started, NULL);
    s->StartWait = NtWaitForSingleObject(Go, FALSE, NULL);
    s->TebStable = 1;
    ULONG64 x = s->Value;
    for (ULONG r = 0; r < s->Rounds; r++) {
        x = Next(&x) ^ r;
        if (r % 8 == 0) {
            NtYieldExecution();
            s->TebStable &= CurrentTeb() == s->Teb;
        }
    }
    s->Value = x;
#ifndef __x86_64__
    if (s->Index == 0) {
        PVOID old = (PVOID)0x5A5A5A5A;
        s->DisableStatus = Wow64DisableWow64FsRedirection(&old);
        s->OldValue = (ULONG)(ULONG_PTR)old;
        s->StateAfterDisable = RedirectionState(s->Teb);
        NtSetEvent(s->Done, NULL);
        NtWaitForSingleObject(Release, FALSE, NULL);
        s->RevertStatus = Wow64RevertWow64FsRedirection(old);
        s->StateAfterRevert = RedirectionState(s->Teb);
        NtTerminateThread(NtCurrentThread(), (NTSTATUS)ExitCode(x));
    }
#endif
    NtSetEvent(s->Done, NULL);
    if (s->Last) {
        /* A nap of 20 ms (an event nobody sets, a relative timeout): the main thread is
         * waiting on this thread's handle long before it ends. */
        LARGE_INTEGER_U nap = {(ULONG)-200000, -1};
        s->Nap = NtWaitForSingleObject(Never, FALSE, &nap);
    }
    NtTerminateThread(NtCurrentThread(), (NTSTATUS)ExitCode(x));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: wowthreads SEED");
        return 2;
    }
    ULONG64 x = RtlStringToUlong64(argv[1], NULL);
    int n = 2 + (int)(Next(&x) % 3);
    KtuValue("threads", "%d", n);
    NTSTATUS st = NtCreateEvent(&Go, EVENT_ALL_ACCESS, NULL, NotificationEvent, FALSE);
    NTSTATUS st2 = NtCreateEvent(&Release, EVENT_ALL_ACCESS, NULL, NotificationEvent, FALSE);
    NTSTATUS st3 = NtCreateEvent(&Never, EVENT_ALL_ACCESS, NULL, NotificationEvent, FALSE);
    KtuValue("events", "0x%x 0x%x 0x%x", st, st2, st3);
    if (st != 0 || st2 != 0 || st3 != 0)
        return 3;
    HANDLE threads[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        SLOT *s = &Slots[i];
        char key[16];
        s->Index = i;
        s->Value = Next(&x);
        s->Rounds = 40 + (ULONG)(Next(&x) % 200);
        s->Last = i == n - 1;
        st = NtCreateEvent(&s->Done, EVENT_ALL_ACCESS, NULL, NotificationEvent, FALSE);
        if (st == 0)
            st = NtCreateEvent(&s->Started, EVENT_ALL_ACCESS, NULL, NotificationEvent, FALSE);
        threads[i] = NULL;
        st2 = st ? st : NtCreateThreadEx(&threads[i], THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), (PVOID)ThreadMain,
                                         s, 0, 0, 0, 0, NULL);
        RtlFormatString(key, sizeof(key), "create%d", i);
        KtuValue(key, "0x%x 0x%x %d", st, st2, threads[i] != NULL);
        if (st || st2)
            return 4;
    }
    /* Every thread has recorded its TEB and waits for Go: a zero timeout on one times out; on
     * the caller itself too. */
    NTSTATUS started = 0;
    for (int i = 0; i < n; i++)
        started |= NtWaitForSingleObject(Slots[i].Started, FALSE, NULL);
    KtuValue("started", "0x%x", started);
    LARGE_INTEGER_U zero = {0, 0};
    KtuValue("wait_running", "0x%x", NtWaitForSingleObject(threads[n - 1], FALSE, &zero));
    KtuValue("wait_self", "0x%x", NtWaitForSingleObject(NtCurrentThread(), FALSE, &zero));
    LONG previous = 7;
    st = NtSetEvent(Go, &previous);
    KtuValue("go", "0x%x %d", st, previous);
    /* -2^32 x 100 ns (about 7 minutes, relative): the low half alone would be no wait at all.
     * The last thread naps 20 ms before it ends, so this wait ends when the thread does. */
    LARGE_INTEGER_U longer = {0, -1};
    KtuValue("wait_long", "0x%x", NtWaitForSingleObject(threads[n - 1], FALSE, &longer));
#ifndef __x86_64__
    /* Thread 0 disabled redirection for itself and waits for Release: every other thread's
     * state (and this one's) stays enabled. */
    KtuValue("redir_wait", "0x%x", NtWaitForSingleObject(Slots[0].Done, FALSE, NULL));
    ULONG others = 0;
    for (int i = 1; i < n; i++)
        others |= RedirectionState(Slots[i].Teb);
    KtuValue("redir_states", "%u %u %u", RedirectionState(Slots[0].Teb), RedirectionState(CurrentTeb()), others);
    NtSetEvent(Release, NULL);
#else
    NtSetEvent(Release, NULL);
#endif
    int bad = 0;
    ULONG_PTR mine = CurrentTeb();
    for (int i = 0; i < n; i++) {
        SLOT *s = &Slots[i];
        char key[16];
        NTSTATUS done = NtWaitForSingleObject(s->Done, FALSE, NULL);
        NTSTATUS joined = NtWaitForSingleObject(threads[i], FALSE, NULL);
        THREAD_BASIC_INFORMATION info;
        memset(&info, 0xCC, sizeof(info));
        ULONG length = 0;
        st = NtQueryInformationThread(threads[i], 0, &info, sizeof(info), &length);
        int distinct = s->Teb != mine && s->Tid != TebThreadId(mine);
        for (int j = 0; j < i; j++)
            distinct &= s->Teb != Slots[j].Teb && s->Tid != Slots[j].Tid;
        RtlFormatString(key, sizeof(key), "thread%d", i);
        KtuValue(key, "0x%x 0x%x 0x%x 0x%x %d %d %d %d 0x%llx", done, joined, st, info.ExitStatus,
                 (ULONG_PTR)info.TebBaseAddress == s->Teb && (ULONG_PTR)info.UniqueThread == s->Tid,
                 s->TebIsQueried, s->TebStable, distinct, s->Value);
        RtlFormatString(key, sizeof(key), "start%d", i);
        KtuValue(key, "0x%x 0x%x", s->StartWait, s->Nap);
        bad += info.ExitStatus != (NTSTATUS)ExitCode(s->Value);
        NtClose(threads[i]);
        NtClose(s->Done);
        NtClose(s->Started);
    }
#ifndef __x86_64__
    KtuValue("redir_disable", "0x%x %u %u", Slots[0].DisableStatus, Slots[0].OldValue, Slots[0].StateAfterDisable);
    KtuValue("redir_revert", "0x%x %u", Slots[0].RevertStatus, Slots[0].StateAfterRevert);
#endif
#ifdef __x86_64__
    /* The kernel's side, called directly: every user pointer probed, the refusals NT's order
     * of arguments gives (the 32-bit build reaches the same services through the layer). */
    PVOID kernel = (PVOID)0xFFFF800000001000ULL;
    HANDLE h = NULL;
    KtuValue("native_event_bad_handle", "0x%x", NtCreateEvent((PHANDLE)kernel, EVENT_ALL_ACCESS, NULL, 0, FALSE));
    KtuValue("native_wait_bad_timeout", "0x%x", NtWaitForSingleObject(Go, FALSE, (LARGE_INTEGER_U *)kernel));
    KtuValue("native_set_bad_state", "0x%x", NtSetEvent(Go, (LONG *)kernel));
    KtuValue("native_thread_suspended", "0x%x %d", NtCreateThreadEx(&h, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(),
             (PVOID)ThreadMain, &Slots[0], 1, 0, 0, 0, NULL), h != NULL);
    KtuValue("native_thread_process", "0x%x", NtCreateThreadEx(&h, THREAD_ALL_ACCESS, NULL, Go, (PVOID)ThreadMain,
             &Slots[0], 0, 0, 0, 0, NULL));
    KtuValue("native_thread_attributes", "0x%x", NtCreateThreadEx(&h, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(),
             (PVOID)ThreadMain, &Slots[0], 0, 0, 0, 0, kernel));
    KtuValue("native_thread_bad_handle", "0x%x", NtCreateThreadEx((PHANDLE)kernel, THREAD_ALL_ACCESS, NULL,
             NtCurrentProcess(), (PVOID)ThreadMain, &Slots[0], 0, 0, 0, 0, NULL));
    KtuValue("native_terminate_event", "0x%x", NtTerminateThread(Go, 0));
    THREAD_BASIC_INFORMATION tbi;
    KtuValue("native_query_class", "0x%x", NtQueryInformationThread(NtCurrentThread(), 1, &tbi, sizeof(tbi), NULL));
    KtuValue("native_query_length", "0x%x", NtQueryInformationThread(NtCurrentThread(), 0, &tbi, 40, NULL));
#endif
    NtClose(Go);
    NtClose(Release);
    NtClose(Never);
    return bad;
}
