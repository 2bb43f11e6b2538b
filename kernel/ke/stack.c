/* stack.c - which kernel stack an address belongs to: the double-fault stack, the
 * current thread's stack, another thread's stack (with its guard page), the boot stack.
 * Backtraces follow the stack bounds of the thread whose stack they walk. */
#include "ki.h"

extern UCHAR KiBootStack[], KiBootStackTop[];
extern UCHAR KiDoubleFaultStack[];
extern UCHAR *const KiDoubleFaultStackTop;

VOID KeGetStackBoundsFor(ULONG_PTR StackPointer, PULONG_PTR Low, PULONG_PTR High)
{
    if (StackPointer >= (ULONG_PTR)KiDoubleFaultStack && StackPointer < (ULONG_PTR)KiDoubleFaultStackTop) {
        *Low = (ULONG_PTR)KiDoubleFaultStack;
        *High = (ULONG_PTR)KiDoubleFaultStackTop;
        return;
    }
    PKTHREAD thread = KiPcr.Self ? KiFindStackOwner(StackPointer) : NULL;
    if (thread) {
        *Low = thread->StackLimit;
        *High = thread->StackBase;
        return;
    }
    *Low = (ULONG_PTR)KiBootStack;
    *High = (ULONG_PTR)KiBootStackTop;
}

DECLSPEC_NOINLINE VOID KeGetCurrentStackBounds(PULONG_PTR Low, PULONG_PTR High)
{
    ULONG_PTR sp = (ULONG_PTR)__builtin_frame_address(0);
    PKTHREAD thread = KiPcr.Self ? KiPcr.Prcb.CurrentThread : NULL;
    if (thread && sp >= thread->StackLimit && sp < thread->StackBase) {
        *Low = thread->StackLimit;
        *High = thread->StackBase;
        return;
    }
    KeGetStackBoundsFor(sp, Low, High);
}
