/* pt_audit.c - the lab 02 auditor: walks a scratch address space's tables, independently
 * of the student's code, and checks every entry against a model of the mappings. */
#include "pfn_audit.h"
#include "pt_audit.h"
#include "rtl.h"

VOID KtPoisonFreeFrames(PKTEST_CONTEXT Context, ULONG Count)
{
    /* Every word is a valid entry (Present, Write, User, Accessed, Dirty, seeded software
     * bits, NX) that points back to its own frame: code that walks into a dirty table finds
     * "valid" entries everywhere (and a conflict at the leaf) instead of faulting. */
    ULONG64 state = Context->Seed ^ 0x5054506F69736F6EULL;
    ULONG64 bits = 0x8000000000000067ULL | ((RtlSplitMix64(&state) & 0x7) << 9);
    PFN_NUMBER pfn = MmPageListHeads[FreePageList].Flink;
    for (ULONG n = 0; n < Count && pfn != MM_EMPTY_LIST && pfn <= MmHighestPhysicalPage; n++) {
        PULONG64 p = MiPfnToVirtual(pfn);
        for (ULONG i = 0; i < 512; i++)
            p[i] = bits | (pfn << PAGE_SHIFT);
        pfn = MI_PFN_ELEMENT(pfn)->Flink;
    }
}

PMMPTE KtNewSpace(PKTEST_CONTEXT Context, PFN_NUMBER *Top)
{
    if (!KtPfnReady(Context))
        return NULL;
    KtPoisonFreeFrames(Context, 64);
    if (!KtCheck(Context, MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, Top) == STATUS_SUCCESS, "scratch_space",
                 "no frame for a scratch PML4"))
        return NULL;
    return MiPfnToVirtual(*Top);
}

ULONG64 KtLeafEntry(const KT_MAPPING *M)
{
    MMPTE e = {0};
    e.Hard.Valid = 1;
    e.Hard.Write = (M->Protect & MM_PROTECT_WRITE) != 0;
    e.Hard.Owner = (M->Protect & MM_PROTECT_USER) != 0;
    e.Hard.LargePage = M->Large;
    e.Hard.NoExecute = (M->Protect & MM_PROTECT_EXECUTE) == 0;
    e.Hard.PageFrameNumber = M->Pfn;
    return e.Long;
}

ULONG64 KtTableEntry(PFN_NUMBER Table, ULONG_PTR Va)
{
    MMPTE e = {0};
    e.Hard.Valid = 1;
    e.Hard.Write = 1;
    e.Hard.Owner = Va <= MM_HIGHEST_USER_ADDRESS;
    e.Hard.PageFrameNumber = Table;
    return e.Long;
}

/* Frames seen as tables in one audit, to find a table referenced twice. */
static PFN_NUMBER KtTables[4096];
static ULONG KtTableCount;

typedef struct {
    PKTEST_CONTEXT Context;
    PCSTR Label;
    const KT_MAPPING *Maps;
    ULONG Count;
    ULONG Leaves;
    BOOLEAN Ok;
} KT_AUDIT;

static VOID KtAuditTable(KT_AUDIT *A, const MMPTE *Table, ULONG Level, ULONG64 VaBase)
{
    ULONG valid = 0;
    for (ULONG i = 0; i < MM_PTES_PER_TABLE && A->Ok; i++) {
        MMPTE e = Table[i];
        ULONG64 va = VaBase | ((ULONG64)i << (PAGE_SHIFT + 9 * (Level - 1)));
        if (Level == MM_LEVEL_PML4 && i >= 256)
            va |= 0xFFFF000000000000ULL;
        if (!e.Hard.Valid) {
            if (e.Long != 0) {
                KtFail(A->Context, "entries", "%s: the level-%u entry for 0x%016llx is not valid but reads 0x%016llx: "
                       "an entry that maps nothing is 0 (clear the whole entry on unmap; a new table is a zeroed "
                       "frame, MM_ALLOCATE_ZEROED)", A->Label, Level, va, e.Long);
                A->Ok = FALSE;
            }
            continue;
        }
        valid++;
        BOOLEAN leaf = Level == MM_LEVEL_PT || (Level <= MM_LEVEL_PD && e.Hard.LargePage);
        if (leaf) {
            const KT_MAPPING *m = NULL;
            for (ULONG k = 0; k < A->Count && !m; k++)
                if (A->Maps[k].Va == va && (A->Maps[k].Large == (Level == MM_LEVEL_PD)))
                    m = &A->Maps[k];
            if (!m || KtLeafEntry(m) != e.Long) {
                KtFail(A->Context, "leaf_entries", "%s: the level-%u entry for 0x%016llx reads 0x%016llx; %s 0x%016llx",
                       A->Label, Level, va, e.Long, m ? "the mapping made there needs exactly" :
                       "nothing is mapped there (a leftover of an unmap, or a dirty table), expected", m ? KtLeafEntry(m) : 0);
                A->Ok = FALSE;
                return;
            }
            A->Leaves++;
            continue;
        }
        PFN_NUMBER child = e.Hard.PageFrameNumber;
        BOOLEAN inUse = child <= MmHighestPhysicalPage && MI_PFN_ELEMENT(child)->PageLocation == ActiveAndValid &&
                        !MI_PFN_ELEMENT(child)->Reserved;
        if (!inUse || e.Long != KtTableEntry(child, va)) {
            KtFail(A->Context, inUse ? "table_entries" : "table_in_use",
                   "%s: the level-%u entry covering 0x%016llx reads 0x%016llx%s", A->Label, Level, va, e.Long,
                   !inUse ? ", a frame that is not a table in use (freed, reserved or not RAM: a freed table still "
                            "referenced, a dirty table, or a 2 MiB page entered without LargePage 1)"
                   : va <= MM_HIGHEST_USER_ADDRESS ? ", expected Valid, Write, Owner and nothing else (a table for a "
                                                     "user address)"
                                                   : ", expected Valid and Write and nothing else (a table for a system "
                                                     "address has no Owner bit)");
            A->Ok = FALSE;
            return;
        }
        for (ULONG k = 0; k < KtTableCount; k++)
            if (KtTables[k] == child) {
                KtFail(A->Context, "table_in_use", "%s: frame 0x%llx is used as a table twice", A->Label, child);
                A->Ok = FALSE;
                return;
            }
        if (KtTableCount < ARRAYSIZE(KtTables))
            KtTables[KtTableCount++] = child;
        KtAuditTable(A, MiPfnToVirtual(child), Level - 1, va);
    }
    if (A->Ok && Level < MM_LEVEL_PML4 && valid == 0) {
        KtFail(A->Context, "empty_table", "%s: the level-%u table covering 0x%016llx is empty but still in the tree: "
               "free a table when its last entry goes (bottom up)", A->Label, Level, VaBase);
        A->Ok = FALSE;
    }
}

BOOLEAN KtAuditSpace(PKTEST_CONTEXT Context, PCSTR Label, PMMPTE Pml4, const KT_MAPPING *Maps, ULONG Count,
                     PFN_NUMBER Baseline)
{
    KT_AUDIT a = {Context, Label, Maps, Count, 0, TRUE};
    KtTableCount = 0;
    KtAuditTable(&a, Pml4, MM_LEVEL_PML4, 0);
    if (!a.Ok)
        return FALSE;
    ULONG live = 0;
    for (ULONG k = 0; k < Count; k++)
        live += Maps[k].Va != 0;
    PFN_NUMBER taken = Baseline - MmAvailablePages;
    return KtCheck(Context, a.Leaves == live, "leaf_entries", "%s: %u pages are mapped in the tables, the test mapped %u",
                   Label, a.Leaves, live) &&
           KtCheck(Context, taken == KtTableCount, "tables_counted",
                   "%s: %u tables are in the tree below the PML4 but %lld frames were taken (%s)", Label, KtTableCount,
                   (LONG64)taken, (LONG64)taken > (LONG64)KtTableCount ? "frames leaked: a table taken and not linked, or "
                   "unlinked and not freed" : "a table in the tree was given back");
}

PFN_NUMBER KtTakeAllFrames(PFN_NUMBER *Chain)
{
    PFN_NUMBER pfn, n = 0;
    *Chain = MM_EMPTY_LIST;
    while (MmAllocatePhysicalPage(0, &pfn) == STATUS_SUCCESS) {
        *(PFN_NUMBER *)MiPfnToVirtual(pfn) = *Chain;
        *Chain = pfn;
        n++;
    }
    return n;
}

VOID KtGiveFramesBack(PFN_NUMBER *Chain, PFN_NUMBER Count)
{
    while (*Chain != MM_EMPTY_LIST && Count-- > 0) {
        PFN_NUMBER pfn = *Chain;
        *Chain = *(PFN_NUMBER *)MiPfnToVirtual(pfn);
        MmFreePhysicalPage(pfn);
    }
}
