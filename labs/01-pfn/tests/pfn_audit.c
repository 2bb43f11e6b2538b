/* pfn_audit.c - the lab 01 auditor: checks the page lists and the PFN database
 * against the boot memory description, independently of the student's code. */
#include "pfn_audit.h"
#include "rtl.h"

PFN_NUMBER KtHeld[KT_PFN_MAX_HELD];
static ULONG64 KtVisited[(MM_PHYSICAL_MAP_SIZE >> PAGE_SHIFT) / 64];

static PCSTR const KtListNames[] = {"zeroed", "free", "standby", "modified"};

VOID KtPfnDatabaseRange(PFN_NUMBER *First, PFN_NUMBER *Pages)
{
    *First = ((ULONG64)MmPfnDatabase - MM_PHYSICAL_MAP_BASE) >> PAGE_SHIFT;
    *Pages = ALIGN_UP((MmHighestPhysicalPage + 1) * sizeof(MMPFN), PAGE_SIZE) >> PAGE_SHIFT;
}

static BOOLEAN KtInRanges(const MM_PHYSICAL_RANGE *Ranges, ULONG Count, PFN_NUMBER Pfn)
{
    ULONG64 a = Pfn << PAGE_SHIFT;
    for (ULONG i = 0; i < Count; i++)
        if (a >= Ranges[i].Base && a - Ranges[i].Base < Ranges[i].Length)
            return TRUE;
    return FALSE;
}

BOOLEAN KtPfnIsAllocatable(PFN_NUMBER Pfn)
{
    PFN_NUMBER first, pages;
    KtPfnDatabaseRange(&first, &pages);
    return KtInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, Pfn) &&
           !KtInRanges(MmBootMemory.Reserved, MmBootMemory.ReservedCount, Pfn) && !(Pfn >= first && Pfn < first + pages);
}

BOOLEAN KtPfnReady(PKTEST_CONTEXT Context)
{
    if (!KtRequireImplemented(Context, MmPfnDatabaseStatus, "MiInitializePfnDatabase", "lab 01"))
        return FALSE;
    return KtCheck(Context, NT_SUCCESS(MmPfnDatabaseStatus) && MmPfnDatabase != NULL, "database",
                   "MiInitializePfnDatabase returned 0x%08X, MmPfnDatabase %p", (ULONG)MmPfnDatabaseStatus,
                   MmPfnDatabase);
}

BOOLEAN KtPfnAudit(PKTEST_CONTEXT Context, PCSTR Label)
{
    PFN_NUMBER highest = 0, expectedUsable = 0, first, pages;
    for (ULONG r = 0; r < MmBootMemory.UsableCount; r++) {
        PFN_NUMBER last = ((MmBootMemory.Usable[r].Base + MmBootMemory.Usable[r].Length) >> PAGE_SHIFT) - 1;
        if (last > highest)
            highest = last;
    }
    if (!KtCheck(Context, MmHighestPhysicalPage == highest, "highest_pfn",
                 "%s: MmHighestPhysicalPage is 0x%llx, the highest usable frame is 0x%llx", Label,
                 MmHighestPhysicalPage, highest))
        return FALSE;

    KtPfnDatabaseRange(&first, &pages);
    for (PFN_NUMBER p = first; p < first + pages; p++) {
        if (!KtInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, p) ||
            KtInRanges(MmBootMemory.Reserved, MmBootMemory.ReservedCount, p)) {
            KtFail(Context, "database_placement",
                   "%s: the PFN database (frames 0x%llx-0x%llx) covers frame 0x%llx, which is %s", Label, first,
                   first + pages - 1, p,
                   KtInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, p) ? "reserved (kernel, boot data, module)"
                                                                              : "not usable RAM");
            return FALSE;
        }
    }

    RtlZeroMemory(KtVisited, sizeof(KtVisited));
    PFN_NUMBER onLists = 0, available = 0;
    for (ULONG l = 0; l < MM_PAGE_LIST_COUNT; l++) {
        PMMPFNLIST head = &MmPageListHeads[l];
        PFN_NUMBER pfn = head->Flink, prev = MM_EMPTY_LIST, count = 0;
        while (pfn != MM_EMPTY_LIST) {
            if (pfn > highest) {
                KtFail(Context, "list_links", "%s: the %s list links to frame 0x%llx past MmHighestPhysicalPage "
                       "(after 0x%llx)", Label, KtListNames[l], pfn, prev);
                return FALSE;
            }
            if (KtVisited[pfn / 64] & (1ULL << (pfn % 64))) {
                KtFail(Context, "list_links", "%s: frame 0x%llx is reached twice (a loop, or on two lists); found "
                       "again on the %s list after 0x%llx", Label, pfn, KtListNames[l], prev);
                return FALSE;
            }
            KtVisited[pfn / 64] |= 1ULL << (pfn % 64);
            PMMPFN e = MI_PFN_ELEMENT(pfn);
            if (e->PageLocation != l || e->Reserved || e->Blink != prev) {
                KtFail(Context, "list_entry", "%s: frame 0x%llx on the %s list has PageLocation %u, Reserved %u, "
                       "Blink 0x%llx (expected %u, 0, 0x%llx)", Label, pfn, KtListNames[l], e->PageLocation,
                       e->Reserved, e->Blink, l, prev);
                return FALSE;
            }
            if (l <= FreePageList && !KtPfnIsAllocatable(pfn)) {
                KtFail(Context, "list_entry", "%s: frame 0x%llx is on the %s list but is %s", Label, pfn,
                       KtListNames[l], (pfn >= first && pfn < first + pages) ? "part of the PFN database"
                       : KtInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, pfn)
                           ? "in a reserved range (kernel image, boot information, module, first MiB)"
                           : "not usable RAM");
                return FALSE;
            }
            prev = pfn;
            pfn = e->Flink;
            count++;
        }
        if (!KtCheck(Context, head->Blink == prev && head->Total == count, "list_head",
                     "%s: the %s list holds %llu frames ending at 0x%llx, but its head says Total %llu, Blink 0x%llx",
                     Label, KtListNames[l], count, prev, head->Total, head->Blink))
            return FALSE;
        onLists += count;
        if (l <= FreePageList)
            available += count;
    }

    PFN_NUMBER inUse = 0;
    for (PFN_NUMBER pfn = 0; pfn <= highest; pfn++) {
        PMMPFN e = MI_PFN_ELEMENT(pfn);
        BOOLEAN listed = (KtVisited[pfn / 64] & (1ULL << (pfn % 64))) != 0;
        if (KtPfnIsAllocatable(pfn)) {
            expectedUsable++;
            if (!listed && (e->PageLocation != ActiveAndValid || e->Reserved || e->ReferenceCount == 0)) {
                KtFail(Context, "usable_frame", "%s: usable frame 0x%llx is on no list and not in use (PageLocation "
                       "%u, Reserved %u, ReferenceCount %u): a frame was lost", Label, pfn, e->PageLocation,
                       e->Reserved, e->ReferenceCount);
                return FALSE;
            }
            if (!listed)
                inUse++;
        } else if (!e->Reserved || e->PageLocation != ActiveAndValid) {
            KtFail(Context, "reserved_frame", "%s: frame 0x%llx (%s) must be Reserved and ActiveAndValid, found "
                   "Reserved %u, PageLocation %u", Label, pfn,
                   (pfn >= first && pfn < first + pages) ? "PFN database"
                   : KtInRanges(MmBootMemory.Usable, MmBootMemory.UsableCount, pfn) ? "reserved range" : "not RAM",
                   e->Reserved, e->PageLocation);
            return FALSE;
        }
    }
    if (!KtCheck(Context, MmNumberOfPhysicalPages == expectedUsable, "usable_count",
                 "%s: MmNumberOfPhysicalPages is %llu, the boot memory has %llu allocatable frames", Label,
                 MmNumberOfPhysicalPages, expectedUsable))
        return FALSE;
    if (!KtCheck(Context, onLists + inUse == expectedUsable, "conservation",
                 "%s: %llu frames on lists + %llu in use != %llu usable", Label, onLists, inUse, expectedUsable))
        return FALSE;
    return KtCheck(Context, MmAvailablePages == available, "available_count",
                   "%s: MmAvailablePages is %llu, the zeroed and free lists hold %llu", Label, MmAvailablePages,
                   available);
}

ULONG KtPfnAllocateAll(PKTEST_CONTEXT Context, ULONG Flags, NTSTATUS *Last)
{
    ULONG n = 0;
    PFN_NUMBER pfn;
    NTSTATUS status = STATUS_SUCCESS;
    while (n < KT_PFN_MAX_HELD) {
        status = MmAllocatePhysicalPage(Flags, &pfn);
        if (status != STATUS_SUCCESS)
            break;
        KtHeld[n++] = pfn;
    }
    if (n == KT_PFN_MAX_HELD)
        KtFail(Context, "allocate_all", "more than %u frames allocated without STATUS_NO_MEMORY", KT_PFN_MAX_HELD);
    *Last = status;
    return n;
}

VOID KtPfnFreeShuffled(PKTEST_CONTEXT Context, ULONG Count)
{
    for (ULONG i = Count; i > 1; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i - 1);
        PFN_NUMBER t = KtHeld[i - 1];
        KtHeld[i - 1] = KtHeld[j];
        KtHeld[j] = t;
    }
    for (ULONG i = 0; i < Count; i++)
        MmFreePhysicalPage(KtHeld[i]);
}
