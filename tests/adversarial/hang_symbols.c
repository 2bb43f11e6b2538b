/* hang_symbols.c - adversarial lab 00 file: RtlLookupSymbol disables interrupts and spins
 * forever (a hang at HIGH_LEVEL): the pipeline must end the boot with a timeout. */
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    __asm__ volatile("cli");
    for (;;)
        __asm__ volatile("pause");
    return STATUS_NOT_FOUND;
}
