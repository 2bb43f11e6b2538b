/* pfnlock.c - the PFN lock: serialises the framework's calls into the lab 01 (PFN
 * database) and lab 02 (kernel page tables) student code, which is written lock-free. */
#include "ke.h"
#include "mi.h"

KSPIN_LOCK MmPfnLock;

VOID MiLockPfnDatabase(KIRQL *OldIrql)
{
    KiAcquireFrameworkLock(&MmPfnLock, DISPATCH_LEVEL, OldIrql);
}

VOID MiUnlockPfnDatabase(KIRQL OldIrql)
{
    KiReleaseFrameworkLock(&MmPfnLock, OldIrql);
}
