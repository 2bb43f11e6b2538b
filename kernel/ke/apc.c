/* apc.c - kernel APC delivery (becomes lab 05 student code). The framework default has
 * no APC objects yet: it clears the pending flag. */
#include "ki.h"

/*
 * KiDeliverApc - called at APC_LEVEL when an APC_LEVEL software interrupt is delivered:
 * runs the current thread's pending kernel APCs (special ones always, normal ones unless
 * the thread's KernelApcDisable is non-zero).
 */
VOID KiDeliverApc(KPROCESSOR_MODE PreviousMode)
{
    UNREFERENCED_PARAMETER(PreviousMode);
    KeGetCurrentThread()->ApcState.KernelApcPending = FALSE;
}
