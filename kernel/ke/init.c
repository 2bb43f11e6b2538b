/* init.c - KiSystemStartup: the C entry point. Brings up the serial port, the
 * processor tables, memory (labs 01-02), the pools (lab 03), then runs the selected
 * ktests. */
#include "arch.h"
#include "ex.h"
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "mm.h"
#include "multiboot2.h"
#include "rtl.h"

#ifndef NTLAB_SELECTION
#define NTLAB_SELECTION "none"
#endif

CHAR KeLoaderCommandLine[512];

VOID KiSystemStartup(ULONG Magic, ULONG64 MultibootInfo)
{
    HalInitializeSerial();
    DbgPrint("NTLAB BOOT %s %s\n", NTLAB_VERSION, NTLAB_SELECTION);
    KiInitializeGdt();
    KiInitializeIdt();
    HalInitializePic();
    __writecr8(PASSIVE_LEVEL);

    if (Magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
        DbgPrint("ntlab: not started by a multiboot2 loader (magic 0x%x)\n", Magic);
        HalExitQemu(HAL_EXIT_SOME_FAILED);
    }
    /* Reads the memory map, modules and the multiboot2 command line, then drops the
     * identity map so that low addresses fault. */
    MmInitializeBootMemory(MultibootInfo);

    CHAR fwcfg[sizeof(KeLoaderCommandLine)];
    if (HalReadFirmwareConfigFile("opt/ntlab/cmdline", fwcfg, sizeof(fwcfg)) >= 0)
        RtlCopyMemory(KeLoaderCommandLine, fwcfg, sizeof(fwcfg));

    MmInitSystem();
    ExInitializePool();
    KtRunTests(KeLoaderCommandLine);
}
