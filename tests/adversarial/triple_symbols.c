/* triple_symbols.c - adversarial lab 00 file: recurses until the kernel stack runs out (no
 * assembly needed); the run ends in a fault the grader names, never in points. */
#include "rtl.h"

static ULONG Deep(ULONG Depth)
{
    volatile CHAR pad[4096];
    pad[0] = (CHAR)Depth;
    if (Depth == 0xFFFFFFFFu)
        return 0;
    return Deep(Depth + 1) + (ULONG)pad[0];
}

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    return Deep((ULONG)Address) ? STATUS_NOT_FOUND : STATUS_SUCCESS;
}
