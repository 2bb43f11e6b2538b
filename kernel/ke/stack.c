/* stack.c - which kernel stack an address belongs to (boot stack, double-fault stack). */
#include "ke.h"

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
    *Low = (ULONG_PTR)KiBootStack;
    *High = (ULONG_PTR)KiBootStackTop;
}

DECLSPEC_NOINLINE VOID KeGetCurrentStackBounds(PULONG_PTR Low, PULONG_PTR High)
{
    KeGetStackBoundsFor((ULONG_PTR)__builtin_frame_address(0), Low, High);
}
