/* hidden_tests.c - lab 01 hidden tests: the list primitives link by link on every list,
 * MiInitializePfnDatabase on made-up seeded layouts (judged also by grader/models/lab01.py),
 * and the bugchecks of MmFreePhysicalPage: a reserved frame, a frame on the zeroed list,
 * a frame number past MmHighestPhysicalPage. */
#include "bugcodes.h"
#include "../../../kernel/mm/mi.h" /* MiPoisonWord: the made-up memory is dirty */
#include "pfn_audit.h"
#include "rtl.h"

extern UCHAR KiImageStartPhysical[];

KTEST_STOP("pfn.free_reserved", KtTestPfnFreeReserved)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER pfn = ((ULONG64)KiImageStartPhysical >> PAGE_SHIFT) + KtRandomRange(Context, 0, 3);
    KtValue(Context, "pfn", "0x%llx", pfn);
    KtValue(Context, "stop_params", "0x99 0x%llx 0x6 0x1", pfn);
    NTSTATUS status = MmFreePhysicalPage(pfn);
    if (!KtRequireImplemented(Context, status, "MmFreePhysicalPage", "lab 01"))
        return;
    KtFail(Context, "free_reserved", "freeing kernel-image frame 0x%llx returned 0x%08X instead of bugchecking", pfn,
           (ULONG)status);
}

/* A double free of a frame that the zero page thread has moved to the zeroed list. */
KTEST_STOP("pfn.double_free_zeroed", KtTestPfnDoubleFreeZeroed)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER k = KtRandomRange(Context, 1, 8), done = 0;
    NTSTATUS status = MiZeroFreePages(k, &done);
    if (!KtRequireImplemented(Context, status, "MiZeroFreePages", "lab 01"))
        return;
    if (!KtCheck(Context, status == STATUS_SUCCESS && done == k && MmPageListHeads[ZeroedPageList].Total == k,
                 "setup", "MiZeroFreePages(%llu) returned 0x%08X, *Zeroed %llu, the zeroed list holds %llu", k,
                 (ULONG)status, done, MmPageListHeads[ZeroedPageList].Total))
        return;
    PFN_NUMBER pfn = MmPageListHeads[ZeroedPageList].Flink, skip = KtRandomRange(Context, 0, k - 1);
    for (PFN_NUMBER i = 0; i < skip && pfn <= MmHighestPhysicalPage; i++)
        pfn = MI_PFN_ELEMENT(pfn)->Flink;
    KtValue(Context, "pfn", "0x%llx", pfn);
    KtValue(Context, "stop_params", "0x99 0x%llx 0x0 0x0", pfn);
    status = MmFreePhysicalPage(pfn);
    KtFail(Context, "double_free", "freeing frame 0x%llx, which is on the zeroed list, returned 0x%08X instead of "
           "bugchecking with PFN_LIST_CORRUPT (a frame that is not in use is a corrupt PFN)", pfn, (ULONG)status);
}

/* A frame number one past the database: checked before the database is indexed. */
KTEST_STOP("pfn.free_past_highest", KtTestPfnFreePastHighest)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER pfn = MmHighestPhysicalPage + 1;
    /* whatever lies past the database must not look like a frame in use */
    KtValue(Context, "pfn", "0x%llx", pfn);
    KtValue(Context, "stop_params", "0x99 0x%llx 0xffffffffffffffff 0xffffffffffffffff", pfn);
    NTSTATUS status = MmFreePhysicalPage(pfn);
    if (!KtRequireImplemented(Context, status, "MmFreePhysicalPage", "lab 01"))
        return;
    KtFail(Context, "free_past_highest", "freeing frame 0x%llx (MmHighestPhysicalPage + 1) returned 0x%08X instead of "
           "bugchecking with PFN_LIST_CORRUPT, 0x99, the frame, ~0, ~0", pfn, (ULONG)status);
}

/* ---- the list primitives, link by link ---- */

static BOOLEAN KtLinks(PKTEST_CONTEXT Context, PCSTR Check, PFN_NUMBER Pfn, ULONG Location, PFN_NUMBER Flink,
                       PFN_NUMBER Blink, PCSTR What)
{
    PMMPFN e = MI_PFN_ELEMENT(Pfn);
    return KtCheck(Context, e->PageLocation == Location && e->Flink == Flink && e->Blink == Blink &&
                   (Location > ModifiedPageList || e->ReferenceCount == 0), Check,
                   "%s: frame 0x%llx has PageLocation %u, Flink 0x%llx, Blink 0x%llx, ReferenceCount %u; expected %u, "
                   "0x%llx, 0x%llx%s", What, Pfn, e->PageLocation, e->Flink, e->Blink, e->ReferenceCount, Location,
                   Flink, Blink, Location > ModifiedPageList ? "" : ", 0");
}

static BOOLEAN KtHead(PKTEST_CONTEXT Context, PCSTR Check, MMLISTS List, PFN_NUMBER Total, PFN_NUMBER Flink,
                      PFN_NUMBER Blink, PFN_NUMBER Available, PCSTR What)
{
    PMMPFNLIST h = &MmPageListHeads[List];
    return KtCheck(Context, h->Total == Total && h->Flink == Flink && h->Blink == Blink, Check,
                   "%s: the head of list %u says Total %llu, Flink 0x%llx, Blink 0x%llx; expected %llu, 0x%llx, 0x%llx",
                   What, (ULONG)List, h->Total, h->Flink, h->Blink, Total, Flink, Blink) &&
           KtCheck(Context, MmAvailablePages == Available, "available_count",
                   "%s: MmAvailablePages is %llu, expected %llu (it counts the zeroed and free lists only)", What,
                   MmAvailablePages, Available);
}

/* Inserts Pfn after scribbling over its links and reference count: the contract sets them. */
static VOID KtInsert(MMLISTS List, PFN_NUMBER Pfn)
{
    PMMPFN e = MI_PFN_ELEMENT(Pfn);
    e->Flink = 0x5A5A5A5A5A5A5A5AULL;
    e->Blink = 0xA5A5A5A5A5A5A5A5ULL;
    e->ReferenceCount = 7;
    MiInsertPageInList(List, Pfn);
}

/* Three frames onto the standby list (tail inserts), then unlinked from the middle, the
 * front and alone; one onto the modified list; one onto the zeroed list and one onto the
 * free list (they count in MmAvailablePages) and off again from the tail. */
KTEST("pfn.list_primitives", KtTestPfnListPrimitives)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER f[4];
    for (ULONG i = 0; i < 4; i++)
        if (!KtPfnAllocate(Context, 0, &f[i], "taking a frame to link"))
            return;
    PFN_NUMBER avail = MmAvailablePages, E = MM_EMPTY_LIST;
    PFN_NUMBER a = f[0], b = f[1], c = f[2], d = f[3];

    KtInsert(StandbyPageList, a);
    if (!KtLinks(Context, "insert_tail", a, StandbyPageList, E, E, "insert into an empty standby list") ||
        !KtHead(Context, "insert_tail", StandbyPageList, 1, a, a, avail, "insert into an empty standby list"))
        return;
    KtInsert(StandbyPageList, b);
    KtInsert(StandbyPageList, c);
    if (!KtLinks(Context, "insert_tail", a, StandbyPageList, b, E, "three inserts: the first frame") ||
        !KtLinks(Context, "insert_tail", b, StandbyPageList, c, a, "three inserts: the middle frame") ||
        !KtLinks(Context, "insert_tail", c, StandbyPageList, E, b, "three inserts: the last frame") ||
        !KtHead(Context, "insert_tail", StandbyPageList, 3, a, c, avail, "three inserts on the standby list"))
        return;

    MiUnlinkPageFromList(b);
    if (!KtCheck(Context, MI_PFN_ELEMENT(b)->Flink == E && MI_PFN_ELEMENT(b)->Blink == E, "unlink_middle",
                 "after unlinking frame 0x%llx its Flink is 0x%llx, Blink 0x%llx (contract: both MM_EMPTY_LIST)", b,
                 MI_PFN_ELEMENT(b)->Flink, MI_PFN_ELEMENT(b)->Blink) ||
        !KtLinks(Context, "unlink_middle", a, StandbyPageList, c, E, "unlinking the middle frame: the one before") ||
        !KtLinks(Context, "unlink_middle", c, StandbyPageList, E, a, "unlinking the middle frame: the one after") ||
        !KtHead(Context, "unlink_middle", StandbyPageList, 2, a, c, avail, "unlinking the middle frame"))
        return;
    MiUnlinkPageFromList(a);
    if (!KtLinks(Context, "unlink_first", c, StandbyPageList, E, E, "unlinking the first frame: the one after") ||
        !KtHead(Context, "unlink_first", StandbyPageList, 1, c, c, avail, "unlinking the first frame"))
        return;
    MiUnlinkPageFromList(c);
    if (!KtHead(Context, "unlink_alone", StandbyPageList, 0, E, E, avail, "unlinking the only frame"))
        return;

    KtInsert(ModifiedPageList, d);
    if (!KtHead(Context, "insert_tail", ModifiedPageList, 1, d, d, avail, "insert into the modified list"))
        return;
    MiUnlinkPageFromList(d);
    if (!KtHead(Context, "unlink_alone", ModifiedPageList, 0, E, E, avail, "unlinking from the modified list"))
        return;

    /* The zeroed and free lists count: a frame goes to the tail, comes off the tail. */
    RtlZeroMemory(MiPfnToVirtual(a), PAGE_SIZE);
    PFN_NUMBER zt = MmPageListHeads[ZeroedPageList].Total, zf = MmPageListHeads[ZeroedPageList].Flink;
    PFN_NUMBER zb = MmPageListHeads[ZeroedPageList].Blink;
    KtInsert(ZeroedPageList, a);
    if (!KtLinks(Context, "insert_tail", a, ZeroedPageList, E, zb, "insert at the tail of the zeroed list") ||
        !KtHead(Context, "insert_tail", ZeroedPageList, zt + 1, zf == E ? a : zf, a, avail + 1,
                "insert into the zeroed list"))
        return;
    MiUnlinkPageFromList(a);
    if (!KtHead(Context, "unlink_last", ZeroedPageList, zt, zf, zb, avail, "unlinking the last frame of the zeroed "
                "list"))
        return;
    PFN_NUMBER ft = MmPageListHeads[FreePageList].Total, ff = MmPageListHeads[FreePageList].Flink;
    PFN_NUMBER fb = MmPageListHeads[FreePageList].Blink;
    KtInsert(FreePageList, b);
    if (!KtLinks(Context, "insert_tail", b, FreePageList, E, fb, "insert at the tail of the free list") ||
        (fb != E && !KtCheck(Context, MI_PFN_ELEMENT(fb)->Flink == b, "insert_tail",
                             "insert at the tail of the free list: the old last frame 0x%llx has Flink 0x%llx, "
                             "expected 0x%llx", fb, MI_PFN_ELEMENT(fb)->Flink, b)) ||
        !KtHead(Context, "insert_tail", FreePageList, ft + 1, ff == E ? b : ff, b, avail + 1, "insert into the free list"))
        return;
    MiUnlinkPageFromList(b);
    if (!KtHead(Context, "unlink_last", FreePageList, ft, ff, fb, avail, "unlinking the last frame of the free list") ||
        (fb != E && !KtCheck(Context, MI_PFN_ELEMENT(fb)->Flink == E, "unlink_last",
                             "unlinking the last frame: the frame before it (0x%llx) has Flink 0x%llx, expected "
                             "MM_EMPTY_LIST", fb, MI_PFN_ELEMENT(fb)->Flink)))
        return;

    for (ULONG i = 0; i < 4; i++) {
        MI_PFN_ELEMENT(f[i])->PageLocation = ActiveAndValid;   /* the caller's part after an unlink */
        MI_PFN_ELEMENT(f[i])->ReferenceCount = 1;
        if (!KtPfnFree(Context, f[i], "giving the frames back"))
            return;
    }
    KtPfnAudit(Context, "after the list primitives");
}

/* ---- MiInitializePfnDatabase on made-up layouts ----
 * Inside a run of KT_LAYOUT_FRAMES frames that the test owns, the seed draws usable
 * ranges with holes between them and reserved ranges: one that covers a whole usable
 * range and runs into the hole after it, one inside a range, one across a range's end.
 * Everything below the run is a hole. The database must cover every frame from 0, lie
 * in usable unreserved frames, and leave every other frame on the free list. A second
 * layout has no run of free frames long enough for the database: STATUS_NO_MEMORY.
 * grader/models/lab01.py draws the same layout and judges the reported results. */
#define KT_LAYOUT_FRAMES 192

typedef struct {
    PMMPFN Database;
    PFN_NUMBER Highest, Usable, Available;
    MMPFNLIST Heads[MM_PAGE_LIST_COUNT];
} KT_PFN_GLOBALS;

static VOID KtSaveGlobals(KT_PFN_GLOBALS *G)
{
    G->Database = MmPfnDatabase;
    G->Highest = MmHighestPhysicalPage;
    G->Usable = MmNumberOfPhysicalPages;
    G->Available = MmAvailablePages;
    memcpy(G->Heads, MmPageListHeads, sizeof(G->Heads));
}

static VOID KtRestoreGlobals(const KT_PFN_GLOBALS *G)
{
    MmPfnDatabase = G->Database;
    MmHighestPhysicalPage = G->Highest;
    MmNumberOfPhysicalPages = G->Usable;
    MmAvailablePages = G->Available;
    memcpy(MmPageListHeads, G->Heads, sizeof(G->Heads));
}

/* As MmInitSystem leaves things before it calls MiInitializePfnDatabase. */
static VOID KtFreshGlobals(VOID)
{
    for (ULONG i = 0; i < MM_PAGE_LIST_COUNT; i++) {
        MmPageListHeads[i].Total = 0;
        MmPageListHeads[i].ListName = (MMLISTS)i;
        MmPageListHeads[i].Flink = MM_EMPTY_LIST;
        MmPageListHeads[i].Blink = MM_EMPTY_LIST;
    }
    MmPfnDatabase = NULL;
    MmHighestPhysicalPage = 0;
    MmNumberOfPhysicalPages = 0;
    MmAvailablePages = 0;
}

static VOID KtAddRange(PMM_PHYSICAL_RANGE Ranges, PULONG Count, PFN_NUMBER First, PFN_NUMBER Pages)
{
    Ranges[*Count].Base = First << PAGE_SHIFT;
    Ranges[*Count].Length = Pages << PAGE_SHIFT;
    (*Count)++;
}

static MM_BOOT_MEMORY KtLayout;

/* The layout with a place for the database (grader/models/lab01.py: layout_ok). */
static VOID KtBuildLayout(PKTEST_CONTEXT Context, PFN_NUMBER Base)
{
    RtlZeroMemory(&KtLayout, sizeof(KtLayout));
    PFN_NUMBER u0 = KtRandomRange(Context, 4, 9), h1 = KtRandomRange(Context, 1, 5);
    PFN_NUMBER r0 = u0 + KtRandomRange(Context, 0, h1 - 1);
    PFN_NUMBER s1 = u0 + h1, l1 = KtRandomRange(Context, 40, 69);
    PFN_NUMBER r1 = s1 + KtRandomRange(Context, 5, 19), r1n = KtRandomRange(Context, 1, 3);
    PFN_NUMBER s2 = s1 + l1 + KtRandomRange(Context, 1, 3), l2 = KtRandomRange(Context, 30, 59);
    PFN_NUMBER r2 = s2 + l2 - KtRandomRange(Context, 1, 3), r2n = KtRandomRange(Context, 2, 7);
    PFN_NUMBER s3 = s2 + l2 + KtRandomRange(Context, 1, 3), l3 = KtRandomRange(Context, 10, 29);
    KtAddRange(KtLayout.Usable, &KtLayout.UsableCount, Base, u0);
    KtAddRange(KtLayout.Usable, &KtLayout.UsableCount, Base + s1, l1);
    KtAddRange(KtLayout.Usable, &KtLayout.UsableCount, Base + s2, l2);
    KtAddRange(KtLayout.Usable, &KtLayout.UsableCount, Base + s3, l3);
    KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, Base, r0);
    KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, Base + r1, r1n);
    KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, Base + r2, r2n);
}

/* The layout without one (layout_full): runs of Pages - 1 free frames between reserved ones. */
static VOID KtBuildFullLayout(PFN_NUMBER Base, PFN_NUMBER Frames, PFN_NUMBER DatabasePages)
{
    RtlZeroMemory(&KtLayout, sizeof(KtLayout));
    KtAddRange(KtLayout.Usable, &KtLayout.UsableCount, Base, Frames);
    PFN_NUMBER run = DatabasePages - 1;
    if (run == 0) {
        KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, Base, Frames);
        return;
    }
    for (PFN_NUMBER p = Base + run; p < Base + Frames; p += run + 1) {
        if (KtLayout.ReservedCount == MM_MAX_BOOT_RANGES - 1) {   /* the last range takes the rest */
            KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, p, Base + Frames - p);
            break;
        }
        KtAddRange(KtLayout.Reserved, &KtLayout.ReservedCount, p, 1);
    }
}

KTEST("pfn.layout", KtTestPfnLayout)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER base = 0;
    NTSTATUS status = MmAllocateContiguousPages(KT_LAYOUT_FRAMES, 1, ~0ULL, &base);
    if (!KtRequireImplemented(Context, status, "MmAllocateContiguousPages", "lab 01"))
        return;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "setup", "the test needs %u contiguous frames for its made-up "
                 "memory: MmAllocateContiguousPages returned 0x%08X", KT_LAYOUT_FRAMES, (ULONG)status))
        return;
    KtValue(Context, "layout_base", "0x%llx", base);
    KT_PFN_GLOBALS saved;
    KtSaveGlobals(&saved);

    KtBuildLayout(Context, base);
    /* the made-up memory is dirty, as real memory is (poison.c's pattern) */
    for (PFN_NUMBER p = base; p < base + KT_LAYOUT_FRAMES; p++) {
        PULONG64 words = MiPfnToVirtual(p);
        for (ULONG i = 0; i < PAGE_SIZE / 8; i++)
            words[i] = MiPoisonWord(p);
    }
    KtFreshGlobals();
    status = MiInitializePfnDatabase(&KtLayout);
    KtAuditBoot = &KtLayout;
    if (status == STATUS_SUCCESS && MmPfnDatabase != NULL)
        for (PFN_NUMBER p = 0; p <= MmHighestPhysicalPage; p++)
            if (MI_PFN_ELEMENT(p)->Spare != 0 || MI_PFN_ELEMENT(p)->PteAddress != 0) {
                KtFail(Context, "unused_fields", "MiInitializePfnDatabase on a made-up layout left frame 0x%llx "
                       "with Spare 0x%x and PteAddress 0x%llx: the database lies in memory that held something "
                       "else, so every field of every entry is set, the two that lab 01 does not use to 0",
                       p, MI_PFN_ELEMENT(p)->Spare, MI_PFN_ELEMENT(p)->PteAddress);
                break;
            }
    BOOLEAN ok = status == STATUS_SUCCESS && MmPfnDatabase != NULL &&
                 ((ULONG64)MmPfnDatabase & (PAGE_SIZE - 1)) == 0;
    KtValue(Context, "layout_ok", "status 0x%08X highest 0x%llx usable %llu available %llu", (ULONG)status,
            MmHighestPhysicalPage, MmNumberOfPhysicalPages, MmAvailablePages);
    if (KtCheck(Context, ok, "layout_built", "MiInitializePfnDatabase on a made-up layout (usable frames 0x%llx-0x%llx "
                "with holes and reserved ranges) returned 0x%08X, MmPfnDatabase %p (expected STATUS_SUCCESS and a "
                "page-aligned database)", base, base + KT_LAYOUT_FRAMES - 1, (ULONG)status, MmPfnDatabase))
        KtPfnAudit(Context, "after MiInitializePfnDatabase on a made-up layout");
    KtAuditBoot = &MmBootMemory;
    KtRestoreGlobals(&saved);

    PFN_NUMBER frames = KtRandomRange(Context, 40, KT_LAYOUT_FRAMES);
    PFN_NUMBER pages = ALIGN_UP((base + frames) * sizeof(MMPFN), PAGE_SIZE) >> PAGE_SHIFT;
    KtBuildFullLayout(base, frames, pages);
    KtFreshGlobals();
    status = MiInitializePfnDatabase(&KtLayout);
    KtRestoreGlobals(&saved);
    KtValue(Context, "layout_full", "frames %llu status 0x%08X", frames, (ULONG)status);
    KtCheck(Context, status == STATUS_NO_MEMORY, "layout_no_room", "MiInitializePfnDatabase on a layout whose longest "
            "run of usable, unreserved frames is %llu (the database needs %llu pages) returned 0x%08X, expected "
            "STATUS_NO_MEMORY", pages - 1, pages, (ULONG)status);

    for (PFN_NUMBER p = base; p < base + KT_LAYOUT_FRAMES; p++)
        if (!KtPfnFree(Context, p, "giving the made-up memory back"))
            return;
    KtPfnAudit(Context, "after the made-up layouts");
}
