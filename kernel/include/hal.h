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
DECLSPEC_NORETURN VOID HalExitQemu(ULONG Code);

VOID HalInitializePic(VOID);

/* A guest-time clock (the HPET): ticks, and their frequency in Hz (0: no clock). */
ULONG64 KeQueryPerformanceCounter(PULONG64 Frequency);
