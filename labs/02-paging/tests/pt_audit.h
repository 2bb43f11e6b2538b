/* pt_audit.h - what the lab 02 tests share: scratch address spaces on dirty frames, a
 * model of the mappings a test made, and the page-table auditor. */
#pragma once

#include "ktest.h"
#include "../../../kernel/mm/mi.h"

/* One mapping a test made (Va 0 = unused slot). */
typedef struct _KT_MAPPING {
    ULONG_PTR Va;
    PFN_NUMBER Pfn;
    ULONG Protect;
    BOOLEAN Large;
} KT_MAPPING;

/* Fills the first Count frames of the free list with a seeded pattern in which every
 * word looks like a valid entry (bit 0 set): a table taken without MM_ALLOCATE_ZEROED
 * and not cleared is caught. */
VOID KtPoisonFreeFrames(PKTEST_CONTEXT Context, ULONG Count);
/* A fresh, empty address space (after poisoning the free list); NULL (with a failed
 * check) if lab 01 is missing. */
PMMPTE KtNewSpace(PKTEST_CONTEXT Context, PFN_NUMBER *Top);
/* The exact entry MmMapPage must write, and the exact table entry MiWalkPageTables
 * writes for a table serving Va. */
ULONG64 KtLeafEntry(const KT_MAPPING *M);
ULONG64 KtTableEntry(PFN_NUMBER Table, ULONG_PTR Va);
/* Walks every table of a scratch space: every entry that is not valid is 0; every table
 * entry is exactly Valid|Write|(Owner for user addresses) with a frame in use, referenced
 * once, never an empty table; every leaf is one of the Count mappings with exactly its
 * bits, and every mapping is there; the frames the tables use are exactly those taken
 * since Baseline (MmAvailablePages before the PML4 was taken, minus 1). */
BOOLEAN KtAuditSpace(PKTEST_CONTEXT Context, PCSTR Label, PMMPTE Pml4, const KT_MAPPING *Maps, ULONG Count,
                     PFN_NUMBER Baseline);
/* Takes every frame (chained through their first word) and returns how many;
 * KtGiveFramesBack frees Count of them ((PFN_NUMBER)-1: all). */
PFN_NUMBER KtTakeAllFrames(PFN_NUMBER *Chain);
VOID KtGiveFramesBack(PFN_NUMBER *Chain, PFN_NUMBER Count);
