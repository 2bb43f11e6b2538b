/* framechain.c - RtlWalkFrameChain with NT's signature, over the student's
 * RtlpWalkFrameChain (lab 00). */
#include "ke.h"
#include "rtl.h"

DECLSPEC_NOINLINE ULONG RtlWalkFrameChain(PVOID *Callers, ULONG Count, ULONG Flags)
{
    ULONG_PTR low, high;
    ULONG captured = 0;
    UNREFERENCED_PARAMETER(Flags);
    KeGetCurrentStackBounds(&low, &high);
    /* Our own frame's return address is the first caller. */
    NTSTATUS status = RtlpWalkFrameChain((ULONG_PTR)__builtin_frame_address(0), low, high, Callers, Count, &captured);
    return NT_SUCCESS(status) ? captured : 0;
}
