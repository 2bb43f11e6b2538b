/* timertab.c - the framework side of lab 04: the timer table's storage (NT's
 * KiTimerTableListHead), the system time absolute due times are measured in, and the
 * spin-wait hook a spin-lock waiter calls (on one processor: a wait on oneself). */
#include "bugcodes.h"
#include "kespin.h"
#include "ketimer.h"

KTIMER_TABLE_ENTRY KiTimerTableListHead[TIMER_TABLE_SIZE];

/* 2026-01-01 00:00 UTC in 100 ns units since 1601-01-01: a fixed epoch, no wall clock. */
const ULONG64 KeBootSystemTime = 134118144000000000ULL;

VOID KiInitializeTimerTable(VOID)
{
    for (ULONG i = 0; i < TIMER_TABLE_SIZE; i++)
        InitializeListHead(&KiTimerTableListHead[i].Entry);
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
