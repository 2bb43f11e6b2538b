/* hal.h - hardware abstraction: serial port, fw_cfg, QEMU exit, interrupt controller. */
#pragma once

#include "ntdef.h"

VOID HalInitializeSerial(VOID);
VOID HalSerialWrite(PCSTR Text, SIZE_T Length);
VOID HalSerialNewLineIfNeeded(VOID);

/* Reads the fw_cfg file Name into Buffer (NUL-terminated); returns its length or -1. */
LONG HalReadFirmwareConfigFile(PCSTR Name, PCHAR Buffer, ULONG Size);

/* Ends the QEMU run through isa-debug-exit (QEMU exits with (code << 1) | 1). */
#define HAL_EXIT_ALL_PASSED 0x10
#define HAL_EXIT_SOME_FAILED 0x11
#define HAL_EXIT_BUGCHECK 0x12
#define HAL_EXIT_HANG 0x13 /* the watchdog found a test past its budget */
DECLSPEC_NORETURN VOID HalExitQemu(ULONG Code);

VOID HalInitializePic(VOID);

/* The local APIC (apic.c): enabled with the 8259 masked for good; its timer, calibrated
 * against the HPET, drives the clock. */
VOID HalInitializeApic(VOID);
/* Starts the periodic clock interrupt at Vector, Hz times a second; returns the APIC
 * timer's calibrated rate (timer counts per millisecond), 0 if it could not be measured. */
ULONG64 HalStartClock(ULONG Vector, ULONG Hz);
VOID HalEndOfInterrupt(VOID);
/* Raises device interrupt Vector on this processor (lab 04's device): a self IPI. */
VOID HalRequestInterrupt(ULONG Vector);

/* A guest-time clock (the HPET): ticks, and their frequency in Hz (0: no clock). */
ULONG64 KeQueryPerformanceCounter(PULONG64 Frequency);
