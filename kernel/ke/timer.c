/* timer.c - timer expiration (becomes lab 04 student code). The framework default has
 * no timers: lab 04 brings KTIMER, NT's timer table and KeSetTimer/KeCancelTimer. */
#include "ki.h"

/*
 * KiTimerExpiration - called at DISPATCH_LEVEL after every clock tick with the current
 * interrupt time (100 ns units since the clock started). Expires every timer whose due
 * time has passed: signals it and queues its DPC, in due-time order.
 */
VOID KiTimerExpiration(PKPRCB Prcb, ULONG64 InterruptTime)
{
    UNREFERENCED_PARAMETER(Prcb);
    UNREFERENCED_PARAMETER(InterruptTime);
}
