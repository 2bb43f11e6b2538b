/* stopdata.c - a STOP kept for the debugger: KiBugCheckData and the trap frame (what
 * `nt bugcheck` in tools/gdb reads), and the end of the run. With "onstop=halt" on the
 * command line (NTLAB_ON_STOP=halt|dump on the host) the machine halts in
 * KiEndRunAfterBugCheck instead of exiting, after a line the host waits for:
 *   NTLAB HALTED after STOP 0x<code>: ... */
#include "arch.h"
#include "hal.h"
#include "rtl.h"
#include "stopdata.h"

ULONG64 KiBugCheckData[5];
PKTRAP_FRAME KiBugCheckTrapFrame;

VOID KiRecordBugCheck(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4,
                      PKTRAP_FRAME TrapFrame)
{
    KiBugCheckData[0] = BugCheckCode;
    KiBugCheckData[1] = P1;
    KiBugCheckData[2] = P2;
    KiBugCheckData[3] = P3;
    KiBugCheckData[4] = P4;
    KiBugCheckTrapFrame = TrapFrame;
}

/* TRUE if the command line has the word "onstop=halt". */
static BOOLEAN KiHaltOnStop(VOID)
{
    static const CHAR word[] = "onstop=halt";
    const SIZE_T n = sizeof(word) - 1;
    for (PCSTR p = KeLoaderCommandLine; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, word, n) == 0 && (p[n] == 0 || p[n] == ' '))
            return TRUE;
        while (*p && *p != ' ')
            p++;
    }
    return FALSE;
}

DECLSPEC_NORETURN VOID KiEndRunAfterBugCheck(VOID)
{
    if (KiHaltOnStop()) {
        HalSerialNewLineIfNeeded();
        DbgPrint("NTLAB HALTED after STOP 0x%08X: the machine is kept for the debugger (onstop=halt)\n",
                 (ULONG)KiBugCheckData[0]);
        /* Halted for good, in this frame (a debugger's frame 0); an NMI comes back here. */
        for (;;) {
            _disable();
            __halt();
        }
    }
    HalExitQemu(HAL_EXIT_BUGCHECK);
}
