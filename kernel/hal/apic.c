/* apic.c - the local APIC: enabled at boot (the 8259 stays masked, pic.c), its task
 * priority mirrored by CR8 (the IRQL), and its timer as the clock. The timer's rate is
 * measured against the HPET (a fixed-rate counter), so the clock runs at the rate it
 * claims on any host; under instruction counting both are functions of the instruction
 * stream and the calibration gives the same figure every boot. */
#include "arch.h"
#include "hal.h"
#include "mm.h"
#include "rtl.h"

#define APIC_PHYSICAL_BASE 0xFEE00000ULL
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_ID 0x020
#define APIC_TPR 0x080
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3E0
#define APIC_LVT_MASKED (1U << 16)
#define APIC_TIMER_PERIODIC (1U << 17)
#define APIC_SVR_ENABLE (1U << 8)
#define APIC_DIVIDE_BY_16 0x3

#define HALP_CALIBRATION_MS 2

static volatile ULONG *HalpApic(ULONG Offset)
{
    return (volatile ULONG *)MmPhysicalToVirtual(APIC_PHYSICAL_BASE + Offset);
}

VOID HalInitializeApic(VOID)
{
    __writemsr(MSR_APIC_BASE, (__readmsr(MSR_APIC_BASE) & ~0xFFFULL) | APIC_BASE_ENABLE);
    *HalpApic(APIC_TPR) = 0;
    *HalpApic(APIC_LVT_LINT0) = APIC_LVT_MASKED; /* the 8259's ExtINT: masked for good */
    *HalpApic(APIC_LVT_LINT1) = APIC_LVT_MASKED;
    *HalpApic(APIC_LVT_ERROR) = APIC_LVT_MASKED;
    *HalpApic(APIC_LVT_TIMER) = APIC_LVT_MASKED;
    *HalpApic(APIC_SVR) = APIC_SVR_ENABLE | 0xFF; /* spurious vector 0xFF */
}

VOID HalEndOfInterrupt(VOID)
{
    *HalpApic(APIC_EOI) = 0;
}

/* APIC timer counts (divide by 16) in HALP_CALIBRATION_MS of HPET time; 0 without an HPET. */
static ULONG64 HalpCalibrateApicTimer(VOID)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (frequency == 0)
        return 0;
    ULONG64 wait = frequency * HALP_CALIBRATION_MS / 1000;
    *HalpApic(APIC_TIMER_DIVIDE) = APIC_DIVIDE_BY_16;
    *HalpApic(APIC_LVT_TIMER) = APIC_LVT_MASKED; /* one-shot, no interrupt */
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    *HalpApic(APIC_TIMER_INITIAL) = 0xFFFFFFFF;
    ULONG64 now;
    do
        now = KeQueryPerformanceCounter(NULL);
    while (now - start < wait);
    ULONG counted = 0xFFFFFFFF - *HalpApic(APIC_TIMER_CURRENT);
    *HalpApic(APIC_TIMER_INITIAL) = 0;
    /* scale to exactly HALP_CALIBRATION_MS of HPET time */
    return (ULONG64)counted * wait / (now - start);
}

ULONG64 HalStartClock(ULONG Vector, ULONG Hz)
{
    ULONG64 perWindow = HalpCalibrateApicTimer();
    ULONG64 perMs = perWindow / HALP_CALIBRATION_MS;
    if (perMs == 0) {
        DbgPrint("hal: no HPET to calibrate the APIC timer against: no clock\n");
        return 0;
    }
    ULONG64 initial = perWindow * 1000 / HALP_CALIBRATION_MS / Hz;
    if (initial == 0 || initial > 0xFFFFFFFFULL)
        return 0;
    *HalpApic(APIC_TIMER_DIVIDE) = APIC_DIVIDE_BY_16;
    *HalpApic(APIC_LVT_TIMER) = APIC_TIMER_PERIODIC | Vector;
    *HalpApic(APIC_TIMER_INITIAL) = (ULONG)initial;
    return perMs;
}

/* The framework's device interrupt: the local APIC sends Vector to this processor (a
 * self IPI, fixed delivery). Like a device's interrupt it is held off while the IRQL
 * (the TPR) is at or above Vector >> 4 and delivered when it drops. */
VOID HalRequestInterrupt(ULONG Vector)
{
    *HalpApic(APIC_ICR_HIGH) = 0;
    *HalpApic(APIC_ICR_LOW) = (1U << 18) | (Vector & 0xFF); /* shorthand: self */
}
