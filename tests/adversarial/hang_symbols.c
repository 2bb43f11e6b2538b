/* hang_symbols.c - adversarial lab 00 file: never returns (a loop with no exit, no assembly
 * needed): the boot must end in the checkpoint's timeout, not stall the pipeline. */
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    volatile ULONG spin = 0;
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    for (;;)
        spin++;
    return STATUS_NOT_FOUND;
}
