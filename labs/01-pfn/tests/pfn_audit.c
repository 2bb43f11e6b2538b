/* pfn_audit.c - the lab 01 auditor: checks the page lists and the PFN database
 * against the boot memory description, independently of the student's code. */
#include "pfn_audit.h"
#include "rtl.h"

PFN_NUMBER KtHeld[KT_PFN_MAX_HELD];
static ULONG64 KtVisited[(MM_PHYSICAL_MAP_SIZE >> PAGE_SHIFT) / 64];

static PCSTR const KtListNames[] = {"zeroed", "free", "standby", "modified"};
const MM_BOOT_MEMORY *KtAuditBoot = &MmBootMemory;

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
    /* called for every entry of every audit: the database's range is cached */
    static PMMPFN cachedDatabase;
    static PFN_NUMBER cachedHighest, first, pages;
    if (cachedDatabase != MmPfnDatabase || cachedHighest != MmHighestPhysicalPage) {
        KtPfnDatabaseRange(&first, &pages);
        cachedDatabase = MmPfnDatabase;
        cachedHighest = MmHighestPhysicalPage;
    }
    return KtInRanges(KtAuditBoot->Usable, KtAuditBoot->UsableCount, Pfn) &&
           !KtInRanges(KtAuditBoot->Reserved, KtAuditBoot->ReservedCount, Pfn) && !(Pfn >= first && Pfn < first + pages);
}

BOOLEAN KtPfnReady(PKTEST_CONTEXT Context)
{
    if (!KtRequireImplemented(Context, MmPfnDatabaseStatus, "MiInitializePfnDatabase", "lab 01"))
        return FALSE;
    if (!KtCheck(Context, NT_SUCCESS(MmPfnDatabaseStatus) && MmPfnDatabase != NULL, "database",
                 "MiInitializePfnDatabase returned 0x%08X, MmPfnDatabase %p", (ULONG)MmPfnDatabaseStatus,
                 MmPfnDatabase))
        return FALSE;
    if (MmPfnDatabaseReady)
        return TRUE;
    /* the boot found the page lists broken (its mm: line) and allocated nothing: name the field */
    ULONG before = Context->Failures;
    KtPfnAudit(Context, "right after MiInitializePfnDatabase (the boot found its page lists broken)");
    if (Context->Failures == before)
        KtFail(Context, "database", "the boot found the page lists broken right after MiInitializePfnDatabase (see "
               "its mm: line): MiInsertPageInList must keep Flink, Blink, the head and Total consistent");
    return FALSE;
}

PCSTR KtPfnLocationName(ULONG Location);

BOOLEAN KtPfnAudit(PKTEST_CONTEXT Context, PCSTR Label)
{
    PFN_NUMBER highest = 0, expectedUsable = 0, first, pages;
    for (ULONG r = 0; r < KtAuditBoot->UsableCount; r++) {
        PFN_NUMBER last = ((KtAuditBoot->Usable[r].Base + KtAuditBoot->Usable[r].Length) >> PAGE_SHIFT) - 1;
        if (last > highest)
            highest = last;
    }
    if (!KtCheck(Context, MmHighestPhysicalPage == highest, "highest_pfn",
                 "%s: MmHighestPhysicalPage is 0x%llx, the highest usable frame is 0x%llx", Label,
                 MmHighestPhysicalPage, highest))
        return FALSE;

    KtPfnDatabaseRange(&first, &pages);
    for (PFN_NUMBER p = first; p < first + pages; p++) {
        if (!KtInRanges(KtAuditBoot->Usable, KtAuditBoot->UsableCount, p) ||
            KtInRanges(KtAuditBoot->Reserved, KtAuditBoot->ReservedCount, p)) {
            KtFail(Context, "database_placement",
                   "%s: the PFN database (frames 0x%llx-0x%llx) covers frame 0x%llx, which is %s", Label, first,
                   first + pages - 1, p,
                   KtInRanges(KtAuditBoot->Usable, KtAuditBoot->UsableCount, p) ? "reserved (kernel, boot data, module)"
                                                                              : "not usable RAM");
            return FALSE;
        }
    }

    /* The database's own pages are reserved. Several of them free: the database did not keep
     * its own frames out of the lists. Only the last one free: the database is one page short
     * (checked last one first, so that it reads as what it is). */
    PFN_NUMBER unreserved = 0;
    for (PFN_NUMBER p = first; p < first + pages; p++)
        unreserved += MI_PFN_ELEMENT(p)->Reserved != 1 || MI_PFN_ELEMENT(p)->PageLocation != ActiveAndValid;
    if (unreserved > 1) {
        PMMPFN e = MI_PFN_ELEMENT(first);
        KtFail(Context, "database_frames", "%s: %llu of the %llu frames the PFN database lives in (0x%llx-0x%llx) are "
               "not reserved (frame 0x%llx: Reserved %u, PageLocation %u (%s)): the PFN database's own frames must be "
               "kept out of the free lists, marked Reserved and ActiveAndValid", Label, unreserved, pages, first,
               first + pages - 1, first, e->Reserved, e->PageLocation, KtPfnLocationName(e->PageLocation));
        return FALSE;
    }
    for (PFN_NUMBER p = first + pages; p-- > first;) {
        PMMPFN e = MI_PFN_ELEMENT(p);
        if (e->Reserved != 1 || e->PageLocation != ActiveAndValid) {
            KtFail(Context, p == first + pages - 1 ? "database_size" : "reserved_frame",
                   "%s: frame 0x%llx holds PFN entries 0x%llx-0x%llx (page %llu of the %llu the database needs: "
                   "(MmHighestPhysicalPage + 1) * %u bytes rounded up to whole pages) but its entry says Reserved %u, "
                   "PageLocation %u (%s)%s", Label, p, (p - first) * (PAGE_SIZE / sizeof(MMPFN)),
                   (p - first + 1) * (PAGE_SIZE / sizeof(MMPFN)) - 1, p - first + 1, pages, (ULONG)sizeof(MMPFN),
                   e->Reserved, e->PageLocation, KtPfnLocationName(e->PageLocation),
                   p == first + pages - 1 ? ": is the database one page short?" : "");
            return FALSE;
        }
    }

    RtlZeroMemory(KtVisited, sizeof(KtVisited));
    PFN_NUMBER onLists = 0, available = 0;
    for (ULONG l = 0; l < MM_PAGE_LIST_COUNT; l++) {
        PMMPFNLIST head = &MmPageListHeads[l];
        PFN_NUMBER pfn = head->Flink, prev = MM_EMPTY_LIST, count = 0;
        if (!KtCheck(Context, head->ListName == (MMLISTS)l, "list_head",
                     "%s: the %s list's head has ListName %u, expected %u (the heads are the framework's: do not "
                     "reinitialise them)", Label, KtListNames[l], (ULONG)head->ListName, l))
            return FALSE;
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
            if (e->PageLocation != l || e->Reserved || e->Blink != prev || e->ReferenceCount != 0) {
                KtFail(Context, "list_entry", "%s: frame 0x%llx on the %s list (entry %llu of it) has PageLocation "
                       "%u, Reserved %u, ReferenceCount %u, Blink 0x%llx (expected %u, 0, 0, 0x%llx: %s)", Label, pfn,
                       KtListNames[l], count, e->PageLocation, e->Reserved, e->ReferenceCount, e->Blink, l, prev,
                       e->PageLocation != l ? "MiInsertPageInList sets PageLocation = ListName"
                       : e->Reserved ? "a listed frame is not reserved"
                       : e->ReferenceCount ? "MiInsertPageInList sets ReferenceCount 0"
                       : prev == MM_EMPTY_LIST ? "the first frame's Blink is MM_EMPTY_LIST"
                                               : "a frame's Blink names the frame before it");
                return FALSE;
            }
            if (l <= FreePageList && !KtPfnIsAllocatable(pfn)) {
                if (pfn >= first && pfn < first + pages) {
                    KtFail(Context, "database_size", "%s: frame 0x%llx is on the %s list but holds PFN entries "
                           "0x%llx-0x%llx (page %llu of the %llu the database needs: (MmHighestPhysicalPage + 1) * "
                           "%u bytes, rounded up to whole pages)", Label, pfn, KtListNames[l],
                           (pfn - first) * (PAGE_SIZE / sizeof(MMPFN)),
                           (pfn - first + 1) * (PAGE_SIZE / sizeof(MMPFN)) - 1, pfn - first + 1, pages,
                           (ULONG)sizeof(MMPFN));
                    return FALSE;
                }
                KtFail(Context, "list_entry", "%s: frame 0x%llx is on the %s list but is %s", Label, pfn,
                       KtListNames[l], (pfn >= first && pfn < first + pages) ? "part of the PFN database"
                       : KtInRanges(KtAuditBoot->Usable, KtAuditBoot->UsableCount, pfn)
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
        if (!KtCheck(Context, count || head->Flink == MM_EMPTY_LIST, "list_head",
                     "%s: the %s list is empty but its head says Flink 0x%llx", Label, KtListNames[l], head->Flink))
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
            if (!listed && (e->Flink != MM_EMPTY_LIST || e->Blink != MM_EMPTY_LIST)) {
                KtFail(Context, "in_use_links", "%s: frame 0x%llx is in use but still has Flink 0x%llx, Blink 0x%llx "
                       "(contract: MiUnlinkPageFromList sets both to MM_EMPTY_LIST)", Label, pfn, e->Flink, e->Blink);
                return FALSE;
            }
            if (!listed)
                inUse++;
        } else if (e->Reserved != 1 || e->PageLocation != ActiveAndValid || e->ReferenceCount != 1 ||
                   e->Flink != MM_EMPTY_LIST || e->Blink != MM_EMPTY_LIST) {
            KtFail(Context, "reserved_frame", "%s: frame 0x%llx (%s) must be on no list: Reserved 1, PageLocation "
                   "ActiveAndValid (6), ReferenceCount 1, Flink and Blink MM_EMPTY_LIST; found Reserved %u, "
                   "PageLocation %u, ReferenceCount %u, Flink 0x%llx, Blink 0x%llx", Label, pfn,
                   (pfn >= first && pfn < first + pages) ? "PFN database"
                   : KtInRanges(KtAuditBoot->Usable, KtAuditBoot->UsableCount, pfn)
                       ? "reserved range: first MiB, kernel image, boot information or module"
                       : "not RAM: a hole between usable ranges",
                   e->Reserved, e->PageLocation, e->ReferenceCount, e->Flink, e->Blink);
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

static PCSTR const KtLocationNames[] = {"ZeroedPageList", "FreePageList", "StandbyPageList", "ModifiedPageList",
                                        "ModifiedNoWritePageList", "BadPageList", "ActiveAndValid", "TransitionPage"};

PCSTR KtPfnLocationName(ULONG Location)
{
    return Location < ARRAYSIZE(KtLocationNames) ? KtLocationNames[Location] : "?";
}

BOOLEAN KtPfnCheckInUse(PKTEST_CONTEXT Context, PCSTR Check, PFN_NUMBER Pfn, PCSTR What)
{
    if (Pfn > MmHighestPhysicalPage) {
        KtFail(Context, Check, "%s returned frame 0x%llx, past MmHighestPhysicalPage 0x%llx", What, Pfn,
               MmHighestPhysicalPage);
        return FALSE;
    }
    PMMPFN e = MI_PFN_ELEMENT(Pfn);
    if (e->PageLocation == ActiveAndValid && e->ReferenceCount == 1 && !e->Reserved && e->Flink == MM_EMPTY_LIST &&
        e->Blink == MM_EMPTY_LIST && KtPfnIsAllocatable(Pfn))
        return TRUE;
    KtFail(Context, Check, "%s: frame 0x%llx has PageLocation %u (%s), ReferenceCount %u, Reserved %u, Flink 0x%llx, "
           "Blink 0x%llx; a frame in use is ActiveAndValid, ReferenceCount 1, Reserved 0, off every list (Flink and "
           "Blink MM_EMPTY_LIST)%s", What, Pfn, e->PageLocation, KtPfnLocationName(e->PageLocation),
           e->ReferenceCount, e->Reserved, e->Flink, e->Blink,
           KtPfnIsAllocatable(Pfn) ? "" : ", and it is not allocatable RAM");
    return FALSE;
}

static BOOLEAN KtPfnAllocateInner(PKTEST_CONTEXT Context, ULONG Flags, PFN_NUMBER *Pfn, PCSTR What);
static BOOLEAN KtPfnFreeInner(PKTEST_CONTEXT Context, PFN_NUMBER Pfn, PCSTR What);

/* A failed check on one operation is often the symptom of a broken list: the audit that
 * follows names the structure that is wrong. */
BOOLEAN KtPfnAllocate(PKTEST_CONTEXT Context, ULONG Flags, PFN_NUMBER *Pfn, PCSTR What)
{
    if (KtPfnAllocateInner(Context, Flags, Pfn, What))
        return TRUE;
    if (MmPfnDatabaseReady && Context->Failures)
        KtPfnAudit(Context, "right after that allocation");
    return FALSE;
}

BOOLEAN KtPfnFree(PKTEST_CONTEXT Context, PFN_NUMBER Pfn, PCSTR What)
{
    if (KtPfnFreeInner(Context, Pfn, What))
        return TRUE;
    if (MmPfnDatabaseReady && Context->Failures)
        KtPfnAudit(Context, "right after that free");
    return FALSE;
}

static BOOLEAN KtPfnAllocateInner(PKTEST_CONTEXT Context, ULONG Flags, PFN_NUMBER *Pfn, PCSTR What)
{
    PFN_NUMBER zeroHead = MmPageListHeads[ZeroedPageList].Flink, freeHead = MmPageListHeads[FreePageList].Flink;
    PFN_NUMBER available = MmAvailablePages, got = MM_EMPTY_LIST;
    BOOLEAN zeroed = (Flags & MM_ALLOCATE_ZEROED) != 0;
    PFN_NUMBER want = zeroed ? (zeroHead != MM_EMPTY_LIST ? zeroHead : freeHead)
                             : (freeHead != MM_EMPTY_LIST ? freeHead : zeroHead);
    MMLISTS from = want == zeroHead ? ZeroedPageList : FreePageList;
    PFN_NUMBER total = MmPageListHeads[from].Total;
    NTSTATUS status = MmAllocatePhysicalPage(Flags, &got);
    if (!KtRequireImplemented(Context, status, "MmAllocatePhysicalPage", "lab 01"))
        return FALSE;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "allocate", "%s: MmAllocatePhysicalPage(%s) returned 0x%08X with "
                 "%llu frames available", What, zeroed ? "MM_ALLOCATE_ZEROED" : "0", (ULONG)status, available))
        return FALSE;
    if (!KtCheck(Context, got == want, "allocation_order",
                 "%s: MmAllocatePhysicalPage(%s) returned frame 0x%llx, expected 0x%llx, the first frame of the %s "
                 "list (zeroed list starts 0x%llx, free list 0x%llx; contract: %s)", What,
                 zeroed ? "MM_ALLOCATE_ZEROED" : "0", got, want, want == zeroHead ? "zeroed" : "free", zeroHead,
                 freeHead, zeroed ? "with MM_ALLOCATE_ZEROED take the first frame of the zeroed list, if it is empty "
                                    "the first frame of the free list"
                                  : "without the flag prefer the free list, then the zeroed list"))
        return FALSE;
    if (!KtPfnCheckInUse(Context, "in_use", got, What))
        return FALSE;
    if (!KtCheck(Context, MmAvailablePages == available - 1, "available_count",
                 "%s: MmAvailablePages went %llu -> %llu on one allocation", What, available, MmAvailablePages))
        return FALSE;
    if (!KtCheck(Context, MmPageListHeads[from].Total == total - 1, "list_total",
                 "%s: taking frame 0x%llx off the %s list moved its Total %llu -> %llu (contract: the list's Total "
                 "counts the frames on it)", What, got, from == ZeroedPageList ? "zeroed" : "free", total,
                 MmPageListHeads[from].Total))
        return FALSE;
    *Pfn = got;
    return TRUE;
}

static BOOLEAN KtPfnFreeInner(PKTEST_CONTEXT Context, PFN_NUMBER Pfn, PCSTR What)
{
    PFN_NUMBER available = MmAvailablePages, total = MmPageListHeads[FreePageList].Total;
    PFN_NUMBER oldTail = MmPageListHeads[FreePageList].Blink;
    NTSTATUS status = MmFreePhysicalPage(Pfn);
    if (!KtRequireImplemented(Context, status, "MmFreePhysicalPage", "lab 01"))
        return FALSE;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "%s: MmFreePhysicalPage(0x%llx) returned 0x%08X", What,
                 Pfn, (ULONG)status))
        return FALSE;
    PMMPFN e = MI_PFN_ELEMENT(Pfn);
    if (!KtCheck(Context, MmPageListHeads[FreePageList].Blink == Pfn && e->PageLocation == FreePageList &&
                 e->Blink == oldTail && e->Flink == MM_EMPTY_LIST && e->ReferenceCount == 0 &&
                 MmPageListHeads[FreePageList].Total == total + 1, "free_to_tail",
                 "%s: after MmFreePhysicalPage(0x%llx) the free list ends at 0x%llx (Total %llu -> %llu); the frame "
                 "has PageLocation %u (%s), Blink 0x%llx, Flink 0x%llx, ReferenceCount %u (contract: the frame goes "
                 "to the tail of the free list, after 0x%llx)", What, Pfn, MmPageListHeads[FreePageList].Blink, total,
                 MmPageListHeads[FreePageList].Total, e->PageLocation, KtPfnLocationName(e->PageLocation), e->Blink,
                 e->Flink, e->ReferenceCount, oldTail))
        return FALSE;
    return KtCheck(Context, MmAvailablePages == available + 1, "available_count",
                   "%s: MmAvailablePages went %llu -> %llu on one free", What, available, MmAvailablePages);
}

BOOLEAN KtPfnAllocateAllChecked(PKTEST_CONTEXT Context, ULONG Flags, ULONG *Count, PCSTR What)
{
    PFN_NUMBER available = MmAvailablePages;
    ULONG n = 0;
    while (n < KT_PFN_MAX_HELD && n < available) {
        if (!KtPfnAllocate(Context, Flags, &KtHeld[n], What))
            return FALSE;
        n++;
    }
    *Count = n;
    PFN_NUMBER sentinel = 0x5A5A5A5A5A5A5A5AULL;
    NTSTATUS status = MmAllocatePhysicalPage(Flags, &sentinel);
    if (status == STATUS_SUCCESS && !KtPfnAudit(Context, "when both lists should be empty"))
        return FALSE;
    return KtCheck(Context, status == STATUS_NO_MEMORY && sentinel == 0x5A5A5A5A5A5A5A5AULL, "no_memory",
                   "%s: with all %u frames taken (both lists empty) MmAllocatePhysicalPage(%s) returned 0x%08X and "
                   "*Pfn %s0x%llx (contract: return STATUS_NO_MEMORY and leave *Pfn alone)", What, n,
                   (Flags & MM_ALLOCATE_ZEROED) ? "MM_ALLOCATE_ZEROED" : "0", (ULONG)status,
                   sentinel == 0x5A5A5A5A5A5A5A5AULL ? "untouched " : "= ", sentinel) &&
           KtCheck(Context, MmAvailablePages == 0, "available_count",
                   "%s: with every frame taken MmAvailablePages is %llu", What, MmAvailablePages);
}

BOOLEAN KtPfnRelease(PKTEST_CONTEXT Context, ULONG *Count, PFN_NUMBER Pfn, PCSTR What)
{
    for (ULONG i = 0; i < *Count; i++)
        if (KtHeld[i] == Pfn) {
            KtHeld[i] = KtHeld[--*Count];
            return KtPfnFree(Context, Pfn, What);
        }
    KtFail(Context, "setup", "%s: frame 0x%llx is not held by the test", What, Pfn);
    return FALSE;
}

BOOLEAN KtPfnFreeShuffledChecked(PKTEST_CONTEXT Context, ULONG Count, PCSTR What)
{
    for (ULONG i = Count; i > 1; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i - 1);
        PFN_NUMBER t = KtHeld[i - 1];
        KtHeld[i - 1] = KtHeld[j];
        KtHeld[j] = t;
    }
    for (ULONG i = 0; i < Count; i++)
        if (!KtPfnFree(Context, KtHeld[i], What))
            return FALSE;
    return TRUE;
}
