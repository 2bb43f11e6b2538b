/* poison.c - dirty memory for every checkpoint: before the PFN database is built,
 * every usable frame outside the reserved ranges is filled with a seeded, non-zero
 * pattern, so that code which forgets to zero a page table, to initialise a PFN
 * entry or to clear a link is caught instead of being rescued by QEMU's zeroed RAM.
 *
 * The pattern of frame p is one 64-bit word repeated over the page:
 *     MiPoisonWord(seed, p) = splitmix64(seed ^ 0x504F49534F4E) ^ (p << 12), bit 0 set
 * Bit 0 set makes a poisoned page-table entry read as present (a table that was not
 * zeroed then maps garbage, which the checks see), and the frame number in bits 12+
 * makes it point at a different frame in every page. The seed is the run's (the
 * `seed=` option of the loader command line, as the ktest runner reads it), so a
 * failure on dirty memory repeats with the same SEED.
 *
 * What is never poisoned: reserved ranges (the first MiB, the kernel image with the
 * boot page tables, the boot information, modules). The zeroed list starts empty,
 * so "a frame on the zeroed list reads as zeros" still holds. MiPoisonFreePages
 * re-poisons the frames on the free list later (tests call it between phases); it
 * trusts no PFN entry alone: a frame is poisoned only if it is on the free list and
 * the boot memory map says it is allocatable RAM outside the database. */
#include "mi.h"
#include "rtl.h"

ULONG64 MmPoisonSeed;

ULONG64 MiPoisonWord(PFN_NUMBER Pfn)
{
    ULONG64 state = MmPoisonSeed ^ 0x504F49534F4EULL;
    return (RtlSplitMix64(&state) ^ (Pfn << PAGE_SHIFT)) | 1;
}

static VOID MiPoisonFrame(PFN_NUMBER Pfn)
{
    ULONG64 word = MiPoisonWord(Pfn);
    PULONG64 page = MiPfnToVirtual(Pfn);
    for (ULONG i = 0; i < PAGE_SIZE / 8; i++)
        page[i] = word;
}

/* The seed= option of the loader command line (decimal or 0x hex), 1 if absent, as
 * kernel/ktest/runner.c reads it. */
static ULONG64 MiPoisonParseSeed(PCSTR CommandLine)
{
    for (PCSTR p = CommandLine; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, "seed=", 5) == 0) {
            p += 5;
            ULONG64 v = 0;
            ULONG base = 10;
            if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                base = 16, p += 2;
            for (; *p && *p != ' '; p++) {
                CHAR c = *p;
                ULONG d = (c >= '0' && c <= '9') ? (ULONG)(c - '0')
                          : (c >= 'a' && c <= 'f') ? (ULONG)(c - 'a' + 10)
                          : (c >= 'A' && c <= 'F') ? (ULONG)(c - 'A' + 10) : 99;
                if (d >= base)
                    break;
                v = v * base + d;
            }
            return v;
        }
        while (*p && *p != ' ')
            p++;
    }
    return 1;
}

static BOOLEAN MiPoisonInRanges(const MM_PHYSICAL_RANGE *Ranges, ULONG Count, PFN_NUMBER Pfn)
{
    ULONG64 a = Pfn << PAGE_SHIFT;
    for (ULONG i = 0; i < Count; i++)
        if (a >= Ranges[i].Base && a - Ranges[i].Base < Ranges[i].Length)
            return TRUE;
    return FALSE;
}

VOID MiPoisonUsableMemory(PCSTR CommandLine)
{
    const MM_BOOT_MEMORY *boot = &MmBootMemory;
    MmPoisonSeed = MiPoisonParseSeed(CommandLine);
    for (ULONG r = 0; r < boot->UsableCount; r++) {
        PFN_NUMBER pfn = boot->Usable[r].Base >> PAGE_SHIFT;
        PFN_NUMBER end = (boot->Usable[r].Base + boot->Usable[r].Length) >> PAGE_SHIFT;
        while (pfn < end) {
            /* skip a reserved range as a whole: the ranges are few and sorted */
            ULONG64 a = pfn << PAGE_SHIFT;
            BOOLEAN skipped = FALSE;
            for (ULONG i = 0; i < boot->ReservedCount; i++) {
                const MM_PHYSICAL_RANGE *res = &boot->Reserved[i];
                if (a >= res->Base && a - res->Base < res->Length) {
                    pfn = ALIGN_UP(res->Base + res->Length, PAGE_SIZE) >> PAGE_SHIFT;
                    skipped = TRUE;
                    break;
                }
            }
            if (!skipped)
                MiPoisonFrame(pfn++);
        }
    }
}

PFN_NUMBER MiPoisonFreePages(VOID)
{
    if (!MmPfnDatabaseReady)
        return 0;
    PFN_NUMBER dbFirst = ((ULONG64)MmPfnDatabase - MM_PHYSICAL_MAP_BASE) >> PAGE_SHIFT;
    PFN_NUMBER dbPages = ALIGN_UP((MmHighestPhysicalPage + 1) * sizeof(MMPFN), PAGE_SIZE) >> PAGE_SHIFT;
    PFN_NUMBER n = 0;
    for (PFN_NUMBER pfn = 0; pfn <= MmHighestPhysicalPage; pfn++) {
        PMMPFN e = MI_PFN_ELEMENT(pfn);
        if (e->PageLocation != FreePageList || e->Reserved || (pfn >= dbFirst && pfn < dbFirst + dbPages) ||
            !MiPoisonInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, pfn) ||
            MiPoisonInRanges(MmBootMemory.Reserved, MmBootMemory.ReservedCount, pfn))
            continue;
        MiPoisonFrame(pfn);
        n++;
    }
    return n;
}
