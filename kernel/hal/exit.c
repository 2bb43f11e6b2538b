/* exit.c - ends the QEMU run through the isa-debug-exit device (port 0xF4). */
#include "arch.h"
#include "hal.h"

DECLSPEC_NORETURN VOID HalExitQemu(ULONG Code)
{
    _disable();
    __outdword(0xF4, Code);
    /* Not under QEMU with isa-debug-exit: stop here. */
    for (;;)
        __halt();
}
