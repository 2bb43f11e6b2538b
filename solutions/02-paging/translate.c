/* translate.c - lab 02: translating a virtual address to a physical one. */
#include "mm.h"

/*
 * MmTranslateAddress - the physical address that Va maps to in Pml4's address space,
 * as the processor would compute it (like NT's MmGetPhysicalAddress).
 *
 * Contract:
 *  - Walk PML4 -> PDPT -> PD -> PT by Va's indices. An entry with Valid 0 on the way:
 *    STATUS_NOT_FOUND. A non-canonical Va: STATUS_INVALID_PARAMETER.
 *  - A PD entry with LargePage 1 maps 2 MiB: the physical address is its frame's
 *    address plus Va's low 21 bits. (A PDPT entry with LargePage 1 maps 1 GiB: plus
 *    the low 30 bits.) A PT entry: its frame's address plus Va's low 12 bits.
 *  - Set *Physical and return STATUS_SUCCESS. Change nothing.
 */
NTSTATUS MmTranslateAddress(PMMPTE Pml4, ULONG_PTR Va, PULONG64 Physical)
{
    if (!MiIsCanonical(Va))
        return STATUS_INVALID_PARAMETER;

    PMMPTE table = Pml4;
    for (ULONG level = MM_LEVEL_PML4;; level--) {
        MMPTE entry = table[MiTableIndex(Va, level)];
        if (!entry.Hard.Valid)
            return STATUS_NOT_FOUND;
        if (level == MM_LEVEL_PT || (level <= MM_LEVEL_PDPT && entry.Hard.LargePage)) {
            ULONG64 span = 1ULL << (PAGE_SHIFT + 9 * (level - 1));
            *Physical = ((ULONG64)entry.Hard.PageFrameNumber << PAGE_SHIFT) + (Va & (span - 1));
            return STATUS_SUCCESS;
        }
        table = MiPfnToVirtual(entry.Hard.PageFrameNumber);
    }
}
