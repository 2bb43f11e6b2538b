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
    ULONG lo = 0, hi = KiSymbolCount; /* search [lo, hi) for the last entry with Address <= target */

    while (lo < hi) {
        ULONG mid = lo + (hi - lo) / 2;
        if (KiSymbolTable[mid].Address <= Address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return STATUS_NOT_FOUND;
    const KSYMBOL *sym = &KiSymbolTable[lo - 1];
    if (Address - sym->Address >= sym->Size)
        return STATUS_NOT_FOUND;
    *Name = KiSymbolNames + sym->NameOffset;
    *Offset = Address - sym->Address;
    return STATUS_SUCCESS;
}
