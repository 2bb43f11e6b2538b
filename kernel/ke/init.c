/* init.c - startup, in NT's order:
 *   KiSystemStartup      the C entry point (boot.asm): the serial port, then
 *   KiInitializeKernel   phase 0 of the kernel on the boot processor: GDT, IDT, KPCR/KPRCB
 *                        (GS base), the initial thread (this boot context) and the idle
 *                        thread, the interrupt controllers (8259 masked, local APIC);
 *   KiBuildLoaderBlock   the loader parameter block from the multiboot2 information and
 *                        fw_cfg (after the IDT, so that a bad boot record bugchecks);
 *   ExpInitializeExecutive (phase 0): memory (labs 01-02), the pools (lab 03);
 *   Phase1Initialization the clock, interrupts on, then the selected ktests on the
 *                        initial thread. */
#include "ex.h"
#include "hal.h"
#include "ki.h"
#include "ketimer.h"
#include "ktest.h"
#include "mm.h"
#include "multiboot2.h"
#include "rtl.h"

#ifndef NTLAB_SELECTION
#define NTLAB_SELECTION "none"
#endif

CHAR KeLoaderCommandLine[512];
LOADER_PARAMETER_BLOCK KeLoaderBlock;

/* The loader parameter block, from multiboot2 (what NT's boot loader would hand over). */
static VOID KiBuildLoaderBlock(ULONG64 MultibootInfo)
{
    /* Reads the memory map, modules and the multiboot2 command line, then drops the
     * identity map so that low addresses fault. */
    MmInitializeBootMemory(MultibootInfo);
    CHAR fwcfg[sizeof(KeLoaderCommandLine)];
    if (HalReadFirmwareConfigFile("opt/ntlab/cmdline", fwcfg, sizeof(fwcfg)) >= 0)
        RtlCopyMemory(KeLoaderCommandLine, fwcfg, sizeof(fwcfg));
    KeLoaderBlock.MultibootInfo = MultibootInfo;
    KeLoaderBlock.Memory = &MmBootMemory;
    KeLoaderBlock.ModuleCount = MmBootModuleCount;
    KeLoaderBlock.Modules = MmBootModules;
    KeLoaderBlock.CommandLine = KeLoaderCommandLine;
}

static VOID KiInitializeKernel(PLOADER_PARAMETER_BLOCK LoaderBlock)
{
    UNREFERENCED_PARAMETER(LoaderBlock);
    KiInitializeGdt();
    KiInitializeIdt();
    KiInitializePcr();
    KiInitializeTimerTable(); /* lab 04's timer table: empty lists */
    KiInitializeThreads();
    HalInitializePic();
    HalInitializeApic();
    __writecr8(PASSIVE_LEVEL);
}

static VOID ExpInitializeExecutive(ULONG Phase, PLOADER_PARAMETER_BLOCK LoaderBlock)
{
    UNREFERENCED_PARAMETER(LoaderBlock);
    if (Phase == 0) {
        MmInitSystem();
        ExInitializePool();
    }
}

static VOID Phase1Initialization(PLOADER_PARAMETER_BLOCK LoaderBlock)
{
    KiInitializeClock();
    _enable();
    KtRunTests(LoaderBlock->CommandLine);
}

VOID KiSystemStartup(ULONG Magic, ULONG64 MultibootInfo)
{
    HalInitializeSerial();
    DbgPrint("NTLAB BOOT %s %s\n", NTLAB_VERSION, NTLAB_SELECTION);
    if (Magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
        DbgPrint("ntlab: not started by a multiboot2 loader (magic 0x%x)\n", Magic);
        HalExitQemu(HAL_EXIT_SOME_FAILED);
    }
    KiInitializeKernel(&KeLoaderBlock);
    KiBuildLoaderBlock(MultibootInfo);
    ExpInitializeExecutive(0, &KeLoaderBlock);
    Phase1Initialization(&KeLoaderBlock);
}
