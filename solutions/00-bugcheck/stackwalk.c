/* stackwalk.c - lab 00: walking the chain of saved frame pointers. */
#include "rtl.h"

/*
 * RtlpWalkFrameChain - capture return addresses by following saved frame pointers.
 *
 * The kernel is built with frame pointers: every function starts with
 * `push rbp; mov rbp, rsp`, so for a frame pointer F:
 *     [F]     = the caller's frame pointer (the next frame, higher on the stack)
 *     [F + 8] = the return address into the caller.
 *
 * Contract:
 *  - Starting at FramePointer, store return addresses into Callers[0], Callers[1], ...
 *    innermost first; never more than Count of them, never write Callers[Count].
 *  - Stop, without reading it, at a frame pointer that is 0, not 8-byte aligned, or
 *    whose 16 bytes do not lie inside the stack [StackLow, StackHigh).
 *  - Stop at a return address of 0 (do not store it).
 *  - After storing a frame, stop if the saved frame pointer does not lie strictly
 *    above the current one: caller frames are at higher addresses, so this ends
 *    loops in a corrupt chain.
 *  - Set *Captured to the number stored and return STATUS_SUCCESS.
 * Runs inside KeBugCheckEx: it must not fault, allocate, or call anything that may.
 */
NTSTATUS RtlpWalkFrameChain(ULONG_PTR FramePointer, ULONG_PTR StackLow, ULONG_PTR StackHigh,
                            PVOID *Callers, ULONG Count, PULONG Captured)
{
    ULONG n = 0;
    ULONG_PTR frame = FramePointer;

    while (n < Count) {
        /* F > StackHigh - 16, not F + 16 > StackHigh: F + 16 wraps for F near 2^64 */
        if (frame == 0 || (frame & 7) != 0 || frame < StackLow || StackHigh < 16 || frame > StackHigh - 16)
            break;
        const ULONG_PTR *slot = (const ULONG_PTR *)frame;
        ULONG_PTR returnAddress = slot[1];
        ULONG_PTR next = slot[0];
        if (returnAddress == 0)
            break;
        Callers[n++] = (PVOID)returnAddress;
        if (next <= frame)
            break;
        frame = next;
    }
    *Captured = n;
    return STATUS_SUCCESS;
}
