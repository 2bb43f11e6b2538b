/* symbols.c - lab 00: finding the function that contains an address. */
#include "rtl.h"

/*
 * RtlLookupSymbol - name the function that contains Address.
 *
 * The build embeds a symbol table in the kernel image: KiSymbolTable[0 ..
 * KiSymbolCount - 1], sorted by Address ascending, not overlapping; entry i covers
 * [Address, Address + Size) and its name is the string at KiSymbolNames + NameOffset.
 *
 * Contract:
 *  - If some entry covers Address: set *Name to its name, *Offset to
 *    Address - entry.Address, and return STATUS_SUCCESS.
 *  - Otherwise (before the first entry, past the end of one, an empty table) return
 *    STATUS_NOT_FOUND and leave *Name and *Offset alone.
 *  - Take O(log n) time (binary search): the bugcheck screen looks up every frame.
 * Runs inside KeBugCheckEx: it must not fault, allocate, or call anything that may.
 */
NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    /* LAB 00: binary-search KiSymbolTable as the contract above says. */
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    return STATUS_NOT_IMPLEMENTED;
}
