/* gdb_dpc_tests.c - gdb.dpc: a framework ktest (in no lab.toml, never graded) for the lab
 * 04 debugger commands (nt irql, nt dpcs, nt timers; tests/test_gdb_nt.py). At
 * DISPATCH_LEVEL with interrupts disabled (so neither the clock nor a drain changes the
 * state) it queues seeded DPCs and sets seeded timers, prints what the kernel sees in
 * KTEST VALUE records and calls KtGdbSnapshotPoint(4), where GDB runs the commands and
 * compares; phase 5 corrupts a DPC and a timer (the commands must say so) and restores
 * them. Then it cancels its timers, removes its DPCs, enables interrupts and lowers
 * the IRQL again, so that it passes in ktest=all too. Without a debugger the call does
 * nothing. */
#include "kedpc.h"
#include "ketimer.h"
#include "ktest.h"

#define KT_GDB_DPCS 4
#define KT_GDB_TIMERS 3

VOID KtGdbSnapshotPoint(ULONG Phase);

static KDPC KtGdbDpcs[KT_GDB_DPCS];
static KDPC KtGdbTimerDpcs[KT_GDB_TIMERS];
static KTIMER KtGdbTimers[KT_GDB_TIMERS];
static volatile ULONG KtGdbDpcRuns;

/* Never runs: every DPC is removed (or its timer cancelled) before the IRQL drops. */
static VOID KtGdbDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    KtGdbDpcRuns++;
}

KTEST("gdb.dpc", KtTestGdbDpc)
{
    KtGdbDpcRuns = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ULONG64 flags = __readeflags();
    _disable();
    PKPRCB prcb = KeGetCurrentPrcb();

    for (ULONG i = 0; i < KT_GDB_DPCS; i++) {
        KeInitializeDpc(&KtGdbDpcs[i], KtGdbDpcRoutine, (PVOID)(ULONG_PTR)KtRandomRange(Context, 1, 0xFFFFFF));
        KeSetImportanceDpc(&KtGdbDpcs[i], (UCHAR)KtRandomRange(Context, LowImportance, HighImportance));
        KeInsertQueueDpc(&KtGdbDpcs[i], (PVOID)(ULONG_PTR)KtRandomRange(Context, 0, 0xFFFF),
                         (PVOID)(ULONG_PTR)KtRandomRange(Context, 0, 0xFFFF));
    }
    if (!KtCheck(Context, prcb->DpcQueueDepth >= KT_GDB_DPCS, "queued", "the DPCs are not queued (lab 04)")) {
        __restoreflags(flags);
        KeLowerIrql(old);
        return;
    }
    for (ULONG i = 0; i < KT_GDB_TIMERS; i++) {
        KeInitializeDpc(&KtGdbTimerDpcs[i], KtGdbDpcRoutine, (PVOID)(ULONG_PTR)(0x7000 + i));
        KeInitializeTimer(&KtGdbTimers[i]);
        LARGE_INTEGER due;
        due.QuadPart = -(LONG64)KtRandomRange(Context, 50000000ULL, 500000000ULL); /* 5-50 s from now */
        LONG period = KtRandomRange(Context, 0, 1) ? (LONG)KtRandomRange(Context, 10, 1000) : 0;
        KeSetTimerEx(&KtGdbTimers[i], due, period, &KtGdbTimerDpcs[i]);
    }

    /* What the kernel sees: the IRQL, the requests, the queue in order, the timers. */
    KtValue(Context, "irql", "%u 0x%x", KeGetCurrentIrql(), prcb->SoftwareInterruptPending);
    KtValue(Context, "depth", "%u", prcb->DpcQueueDepth);
    ULONG n = 0;
    for (PLIST_ENTRY e = prcb->DpcListHead.Flink; e != &prcb->DpcListHead && n < 64; e = e->Flink, n++) {
        PKDPC d = CONTAINING_RECORD(e, KDPC, DpcListEntry);
        KtValue(Context, "dpc", "0x%016llx 0x%016llx %u 0x%llx 0x%llx 0x%llx", (ULONG64)d,
                (ULONG64)d->DeferredRoutine, d->Importance, (ULONG64)d->DeferredContext,
                (ULONG64)d->SystemArgument1, (ULONG64)d->SystemArgument2);
    }
    KtValue(Context, "routine", "0x%016llx", (ULONG64)KtGdbDpcRoutine);
    for (ULONG i = 0; i < KT_GDB_TIMERS; i++) {
        PKTIMER t = &KtGdbTimers[i];
        KtValue(Context, "timer", "0x%016llx %u 0x%llx %d 0x%016llx", (ULONG64)t, t->Hand, t->DueTime, t->Period,
                (ULONG64)t->Dpc);
    }
    KtValue(Context, "hand", "%llu", KeTickCount % TIMER_TABLE_SIZE);
    KtGdbSnapshotPoint(4);

    /* Phase 5: a DPC with a wrong Blink and Type, a timer with a wrong Hand, restored after. */
    PKDPC bad = &KtGdbDpcs[KtRandomRange(Context, 0, KT_GDB_DPCS - 1)];
    PLIST_ENTRY savedBlink = bad->DpcListEntry.Blink;
    UCHAR savedType = bad->Type;
    PKTIMER badTimer = &KtGdbTimers[KtRandomRange(Context, 0, KT_GDB_TIMERS - 1)];
    UCHAR savedHand = badTimer->Hand;
    bad->DpcListEntry.Blink = (PLIST_ENTRY)0x5A5A5A5A5A5A5A58ULL;
    bad->Type = 0x5A;
    badTimer->Hand = (UCHAR)((savedHand + 1) % TIMER_TABLE_SIZE);
    KtValue(Context, "corrupt_dpc", "0x%016llx", (ULONG64)bad);
    KtValue(Context, "corrupt_timer", "0x%016llx %u", (ULONG64)badTimer, badTimer->Hand);
    KtGdbSnapshotPoint(5);
    bad->DpcListEntry.Blink = savedBlink;
    bad->Type = savedType;
    badTimer->Hand = savedHand;

    for (ULONG i = 0; i < KT_GDB_TIMERS; i++)
        KtCheck(Context, KeCancelTimer(&KtGdbTimers[i]), "cancel", "timer #%u was not set", i);
    for (ULONG i = 0; i < KT_GDB_DPCS; i++)
        KtCheck(Context, KeRemoveQueueDpc(&KtGdbDpcs[i]), "remove", "DPC #%u was not queued", i);
    __restoreflags(flags);
    KeLowerIrql(old);
    KtCheck(Context, KtGdbDpcRuns == 0, "runs", "%u DPC routines ran", KtGdbDpcRuns);
}
