/* prcb.c - the processor control region (KPCR) with its processor block (KPRCB), reached
 * through the GS base; CR4.OSFXSR so that threads' FXSAVE images work. */
#include "ki.h"

KPCR KiPcr __attribute__((aligned(64)));

VOID KiInitializePcr(VOID)
{
    PKPRCB prcb = &KiPcr.Prcb;
    KiPcr.Self = &KiPcr;
    KiPcr.CurrentPrcb = prcb;
    prcb->Number = 0;
    InitializeListHead(&prcb->DpcListHead);
    for (ULONG i = 0; i < MAXIMUM_PRIORITY; i++)
        InitializeListHead(&prcb->DispatcherReadyListHead[i]);
    __writemsr(MSR_GS_BASE, (ULONG64)&KiPcr);
    __writemsr(MSR_KERNEL_GS_BASE, 0);
    __writecr4(__readcr4() | (1ULL << 9) | (1ULL << 10)); /* OSFXSR, OSXMMEXCPT */
}

PKTHREAD KeGetCurrentThread(VOID)
{
    return KeGetCurrentPrcb()->CurrentThread;
}
