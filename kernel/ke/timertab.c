/* timertab.c - the framework side of lab 04: the timer table's storage (NT's
 * KiTimerTableListHead), the clock's check of it and the timer expiration DPC, the system time absolute due times are measured in, and the
 * spin-wait hook a spin-lock waiter calls (on one processor: a wait on oneself). */
#include "bugcodes.h"
#include "kespin.h"
#include "ketimer.h"
#include "ki.h"

KTIMER_TABLE_ENTRY KiTimerTableListHead[TIMER_TABLE_SIZE];

/* 2026-01-01 00:00 UTC in 100 ns units since 1601-01-01: a fixed epoch, no wall clock. */
const ULONG64 KeBootSystemTime = 134118144000000000ULL;

KDPC KiTimerExpirationDpc;

/* The routine of the timer expiration DPC: expire what is due, at DISPATCH_LEVEL. */
static VOID KiTimerExpirationDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    KiTimerExpiration(KeGetCurrentPrcb(), KeQueryInterruptTime());
}

VOID KiInitializeTimerTable(VOID)
{
    for (ULONG i = 0; i < TIMER_TABLE_SIZE; i++)
        InitializeListHead(&KiTimerTableListHead[i].Entry);
    /* Filled in here, not by KeInitializeDpc: the framework's DPC exists even when lab 04
     * is a stub (and then is never queued: the table stays empty). */
    KiTimerExpirationDpc.Type = DpcObject;
    KiTimerExpirationDpc.Importance = MediumImportance;
    KiTimerExpirationDpc.DeferredRoutine = KiTimerExpirationDpcRoutine;
}

VOID KiCheckTimerTable(PKPRCB Prcb)
{
    UNREFERENCED_PARAMETER(Prcb);
    PLIST_ENTRY head = &KiTimerTableListHead[KeTickCount % TIMER_TABLE_SIZE].Entry;
    if (head->Flink != head)
        KeInsertQueueDpc(&KiTimerExpirationDpc, NULL, NULL);
}

VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = (LONG64)(KeBootSystemTime + KeQueryInterruptTime());
}

VOID (*volatile KiSpinWaitRoutine)(PKSPIN_LOCK Lock);

VOID KiSpinWait(PKSPIN_LOCK Lock)
{
    VOID (*routine)(PKSPIN_LOCK) = KiSpinWaitRoutine;
    if (routine) {
        routine(Lock);
        return;
    }
    KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, *Lock, 0, 0);
}
