/* flood_symbols.c - adversarial lab 00 file: RtlLookupSymbol prints about 100 MB on the
 * serial port: the verdict must be "serial flood" and the pipeline must not keep it all. */
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    static CHAR chunk[401];
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    for (ULONG i = 0; i < 400; i++)
        chunk[i] = 'x';
    for (ULONG i = 0; i < 262144; i++)
        DbgPrint("%s\n", chunk);
    return STATUS_NOT_FOUND;
}
