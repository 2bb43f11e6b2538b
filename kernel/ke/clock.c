/* clock.c - the clock: the local APIC timer (calibrated against the HPET) interrupts at
 * CLOCK_LEVEL (vector 0xD1) KE_CLOCK_HZ times a second. Each tick counts time, asks for
 * timer expiration through a DPC when the timer table holds a timer for this tick (lab 04's
 * KiTimerExpiration), charges the running
 * thread's quantum (quantum end: lab 05's KiQuantumEnd), and runs the test watchdog. */
#include "hal.h"
#include "ki.h"
#include "ketimer.h"
#include "ktest.h"
#include "rtl.h"

#define KE_CLOCK_HZ 250

volatile ULONG64 KeTickCount;
ULONG KeTimeIncrement;
ULONG KeClockHz;
ULONG64 KiApicTimerPerMs;
static KINTERRUPT KiClockInterruptObject;

ULONG64 KeQueryInterruptTime(VOID)
{
    return KeTickCount * KeTimeIncrement;
}

static BOOLEAN KiClockInterrupt(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    PKPRCB prcb = KeGetCurrentPrcb();
    KeTickCount++;
    KiCheckTimerTable(prcb); /* lab 04: a timer due now? queue the expiration DPC */
    PKTHREAD thread = prcb->CurrentThread;
    /* Quantum end only matters once threads besides the initial and idle ones exist: the
     * earlier labs' tests never reach lab 05's KiQuantumEnd. */
    if (thread != prcb->IdleThread && KiThreadCount > 2) {
        thread->Quantum -= CLOCK_QUANTUM_DECREMENT;
        if (thread->Quantum <= 0)
            prcb->QuantumEnd = TRUE;
    }
    /* DISPATCH is requested only for what the clock itself needs done there (quantum end;
     * the idle thread looking for work). A DPC is delivered because KeInsertQueueDpc (lab 04)
     * requested it, never because a tick happened to fall in between. */
    if (prcb->QuantumEnd || thread == prcb->IdleThread)
        prcb->SoftwareInterruptPending |= SWINT_DISPATCH;
    KtWatchdogTick(prcb->InterruptTrapFrame);
    return TRUE;
}

VOID KiInitializeClock(VOID)
{
    if (!KiConnectFrameworkInterrupt(&KiClockInterruptObject, KiClockInterrupt, NULL, CLOCK_VECTOR)) {
        DbgPrint("ke: cannot connect the clock interrupt\n");
        return;
    }
    KeTimeIncrement = 10000000 / KE_CLOCK_HZ;
    KiApicTimerPerMs = HalStartClock(CLOCK_VECTOR, KE_CLOCK_HZ);
    if (KiApicTimerPerMs)
        KeClockHz = KE_CLOCK_HZ;
}
