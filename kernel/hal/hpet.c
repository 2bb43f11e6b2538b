/* hpet.c - KeQueryPerformanceCounter on the HPET (QEMU's pc machine has one at
 * 0xFED00000): a guest-time clock for benchmarks. */
#include "hal.h"
#include "mm.h"

#define HPET_BASE 0xFED00000ULL
#define HPET_CAPABILITIES 0x00
#define HPET_CONFIG 0x10
#define HPET_COUNTER 0xF0

static ULONG64 HalpHpetFrequency;

static volatile ULONG64 *HalpHpet(ULONG Offset)
{
    return (volatile ULONG64 *)MmPhysicalToVirtual(HPET_BASE + Offset);
}

ULONG64 KeQueryPerformanceCounter(PULONG64 Frequency)
{
    if (!HalpHpetFrequency) {
        ULONG64 periodFs = *HalpHpet(HPET_CAPABILITIES) >> 32;
        if (periodFs == 0 || periodFs > 100000000ULL) { /* no HPET: no clock */
            if (Frequency)
                *Frequency = 0;
            return 0;
        }
        HalpHpetFrequency = 1000000000000000ULL / periodFs;
        *HalpHpet(HPET_CONFIG) |= 1; /* start the main counter */
    }
    if (Frequency)
        *Frequency = HalpHpetFrequency;
    return *HalpHpet(HPET_COUNTER);
}
