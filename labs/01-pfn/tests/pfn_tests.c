/* pfn_tests.c - lab 01 public tests: list totals, reserved frames, zeroing,
 * exhaustion, contiguous runs, double free. Every allocation and free is checked as
 * it happens (status, which frame, its entry, the counters; see pfn_audit.c), and
 * the whole database is audited after every phase. */
#include "bugcodes.h"
#include "pfn_audit.h"
#include "rtl.h"

/* Every usable frame on exactly one list, reserved ones on none; a seeded storm of
 * allocations (both flags), frees and zeroing keeps it that way. The first five steps
 * are fixed so that every seed takes every path; the whole database is audited every
 * 512 steps. */
KTEST("pfn.totals", KtTestPfnTotals)
{
    if (!KtPfnReady(Context) || !KtPfnAudit(Context, "after boot"))
        return;
    PFN_NUMBER available = MmAvailablePages;
    KtValue(Context, "pages", "usable %llu available %llu highest 0x%llx", MmNumberOfPhysicalPages, available,
            MmHighestPhysicalPage);
    KtCheck(Context, MmPageListHeads[ZeroedPageList].Total == 0, "boot_counts",
            "after boot the zeroed list holds %llu frames (contract: the zeroed list starts empty; every frame goes "
            "on the free list)", MmPageListHeads[ZeroedPageList].Total);

    ULONG steps = (ULONG)KtRandomRange(Context, 400, available < 4000 ? available / 4 : 1500), n = 0;
    static const UCHAR fixed[] = {0, 1, 3, 1, 2};   /* 0 alloc, 1 alloc zeroed, 2 free, 3 zero some */
    CHAR what[64];
    for (ULONG step = 0; step < steps; step++) {
        ULONG op = step < sizeof(fixed) ? fixed[step] : (ULONG)KtRandomRange(Context, 0, 9);
        op = op <= 3 ? op : op <= 6 ? (op & 1) : op == 7 ? 3 : 2;
        RtlFormatString(what, sizeof(what), "storm step %u", step);
        if ((op == 2 && n > 0) || n == KT_PFN_MAX_HELD) {
            ULONG victim = (ULONG)KtRandomRange(Context, 0, n - 1);
            PFN_NUMBER pfn = KtHeld[victim];
            KtHeld[victim] = KtHeld[--n];
            if (!KtPfnFree(Context, pfn, what))
                return;
        } else if (op == 3) {
            PFN_NUMBER k = KtRandomRange(Context, 1, 8), done = ~0ULL, zeroTotal = MmPageListHeads[ZeroedPageList].Total;
            PFN_NUMBER first = MmPageListHeads[FreePageList].Flink;
            NTSTATUS status = MiZeroFreePages(k, &done);
            if (!KtRequireImplemented(Context, status, "MiZeroFreePages", "lab 01"))
                return;
            if (!KtCheck(Context, status == STATUS_SUCCESS && done == k &&
                         MmPageListHeads[ZeroedPageList].Total == zeroTotal + k, "zero_pages",
                         "%s: MiZeroFreePages(%llu) returned 0x%08X, *Zeroed %llu; the zeroed list went %llu -> %llu",
                         what, k, (ULONG)status, done, zeroTotal, MmPageListHeads[ZeroedPageList].Total))
                return;
            /* the first of them is now k-th from the end of the zeroed list */
            PFN_NUMBER p = MmPageListHeads[ZeroedPageList].Blink;
            for (PFN_NUMBER i = 1; i < k && p != MM_EMPTY_LIST && p <= MmHighestPhysicalPage; i++)
                p = MI_PFN_ELEMENT(p)->Blink;
            if (!KtCheck(Context, p == first, "zero_order",
                         "%s: MiZeroFreePages(%llu) must move the first %llu frames of the free list (starting 0x%llx) "
                         "to the tail of the zeroed list, in order (MiInsertPageInList appends at the tail); found "
                         "0x%llx there", what, k, k, first, p))
                return;
        } else {
            if (!KtPfnAllocate(Context, op == 1 ? MM_ALLOCATE_ZEROED : 0, &KtHeld[n], what))
                return;
            if (op == 1) {
                const ULONG64 *page = MiPfnToVirtual(KtHeld[n]);
                ULONG w = (ULONG)KtRandomRange(Context, 0, 511);
                if (!KtCheck(Context, page[0] == 0 && page[w] == 0 && page[511] == 0, "zeroed_contents",
                             "%s: MM_ALLOCATE_ZEROED returned frame 0x%llx with 0x%llx at offset 0x%x", what,
                             KtHeld[n], page[0] ? page[0] : page[w] ? page[w] : page[511],
                             page[0] ? 0 : page[w] ? w * 8 : 0xFF8))
                    return;
            }
            /* the holder writes to its frame: the lists must not live in the frames */
            ((PULONG64)MiPfnToVirtual(KtHeld[n]))[KtRandomRange(Context, 0, 511)] = KtRandom(Context) | 1;
            n++;
        }
        if ((step & 511) == 511) {
            RtlFormatString(what, sizeof(what), "after storm step %u", step);
            if (!KtPfnAudit(Context, what))
                return;
        }
    }
    /* structure first: a broken link explains a wrong count, not the other way round */
    if (!KtPfnAudit(Context, "while holding frames"))
        return;
    if (!KtCheck(Context, MmAvailablePages == available - n, "available_after_alloc",
                 "holding %u frames: MmAvailablePages is %llu, expected %llu", n, MmAvailablePages, available - n))
        return;
    if (!KtPfnFreeShuffledChecked(Context, n, "freeing everything") || !KtPfnAudit(Context, "after freeing all"))
        return;
    KtCheck(Context, MmAvailablePages == available, "available_restored",
            "after freeing every frame MmAvailablePages is %llu, it was %llu", MmAvailablePages, available);
}

/* The kernel image, modules, the boot information, the first MiB and the PFN
 * database are never handed out, even when every frame is taken (both flags). */
KTEST("pfn.reserved", KtTestPfnReserved)
{
    if (!KtPfnReady(Context) || !KtPfnAudit(Context, "after boot"))
        return;
    PFN_NUMBER available = MmAvailablePages, dbFirst, dbPages;
    KtPfnDatabaseRange(&dbFirst, &dbPages);
    for (ULONG round = 0; round < 2; round++) {
        ULONG flags = round ? MM_ALLOCATE_ZEROED : 0, n = 0;
        if (round) {
            PFN_NUMBER done;
            MiZeroFreePages(KtRandomRange(Context, 1, 64), &done);
        }
        if (!KtPfnAllocateAllChecked(Context, flags, &n, round ? "taking every frame (MM_ALLOCATE_ZEROED)"
                                                                : "taking every frame (flags 0)"))
            return;
        KtValue(Context, "allocated", "%u", n);
        ULONG bad = n;
        for (ULONG i = 0; i < n && bad == n; i++)
            if (!KtPfnIsAllocatable(KtHeld[i]))
                bad = i;
        if (bad != n) {
            PFN_NUMBER pfn = KtHeld[bad];
            KtFail(Context, "never_reserved", "frame 0x%llx was handed out but is %s", pfn,
                   (pfn >= dbFirst && pfn < dbFirst + dbPages) ? "part of the PFN database itself"
                   : pfn > MmHighestPhysicalPage ? "past MmHighestPhysicalPage"
                   : MI_PFN_ELEMENT(pfn)->Reserved ? "marked Reserved (first MiB, kernel image, boot data, module)"
                                                   : "not allocatable RAM (reserved range or hole)");
            return;
        }
        KtCheck(Context, TRUE, "never_reserved", "-");
        if (!KtCheck(Context, n == available, "exhausted", "allocated %u frames of %llu available before "
                     "STATUS_NO_MEMORY", n, available))
            return;
        if (!KtPfnFreeShuffledChecked(Context, n, "giving every frame back") ||
            !KtPfnAudit(Context, round ? "after giving every zeroed frame back" : "after giving every frame back"))
            return;
    }
}

/* Frames from the zeroed list read as zeros; so does a zeroed allocation that has
 * to fall back on a dirty free frame. Both directions of the list choice, and the
 * zero page thread's work: in order, counted, also when the free list runs out. */
KTEST("pfn.zeroed", KtTestPfnZeroed)
{
    if (!KtPfnReady(Context))
        return;
    ULONG64 pattern = KtRandom(Context) | 1;

    /* Dirty every frame, give them all back: the free list is all dirty now. */
    ULONG n = 0;
    if (!KtPfnAllocateAllChecked(Context, 0, &n, "dirtying every frame"))
        return;
    for (ULONG i = 0; i < n; i++) {
        PULONG64 page = MiPfnToVirtual(KtHeld[i]);
        page[0] = pattern;
        page[KtRandomRange(Context, 1, 510)] = pattern + i;
        page[511] = pattern;
    }
    if (!KtPfnFreeShuffledChecked(Context, n, "freeing the dirty frames"))
        return;

    /* A zeroed allocation with an empty zeroed list must zero a free frame. */
    ULONG m = (ULONG)KtRandomRange(Context, 16, 64);
    if (!KtCheck(Context, MmPageListHeads[ZeroedPageList].Total == 0, "zeroed_empty",
                 "the zeroed list holds %llu frames after all were dirtied and freed (freed frames belong on the "
                 "free list)", MmPageListHeads[ZeroedPageList].Total))
        return;
    for (ULONG i = 0; i < m; i++) {
        PFN_NUMBER pfn;
        if (!KtPfnAllocate(Context, MM_ALLOCATE_ZEROED, &pfn, "MM_ALLOCATE_ZEROED with an empty zeroed list"))
            return;
        const ULONG64 *page = MiPfnToVirtual(pfn);
        for (ULONG w = 0; w < 512; w++)
            if (page[w] != 0) {
                KtFail(Context, "fallback_zeroed", "MM_ALLOCATE_ZEROED with an empty zeroed list returned frame "
                       "0x%llx with 0x%llx at offset 0x%x: zero a free frame before handing it out", pfn, page[w],
                       w * 8);
                return;
            }
        if (!KtPfnFree(Context, pfn, "freeing a zeroed frame"))
            return;
    }
    KtCheck(Context, TRUE, "fallback_zeroed", "-");

    /* MaxPages = 0 moves nothing. */
    PFN_NUMBER done = ~0ULL, freeBefore = MmPageListHeads[FreePageList].Total;
    NTSTATUS status = MiZeroFreePages(0, &done);
    if (!KtRequireImplemented(Context, status, "MiZeroFreePages", "lab 01"))
        return;
    if (!KtCheck(Context, status == STATUS_SUCCESS && done == 0 && MmPageListHeads[ZeroedPageList].Total == 0 &&
                 MmPageListHeads[FreePageList].Total == freeBefore, "zero_none",
                 "MiZeroFreePages(0) returned 0x%08X, *Zeroed %llu, zeroed list %llu frames (contract: up to MaxPages "
                 "frames)", (ULONG)status, done, MmPageListHeads[ZeroedPageList].Total))
        return;

    /* The zero page thread's work: the first k frames of the free list move, in order,
     * to the tail of the zeroed list, all zeros. */
    PFN_NUMBER k = KtRandomRange(Context, 100, 400), moved[400];
    PFN_NUMBER zeroBefore = MmPageListHeads[ZeroedPageList].Total, p = MmPageListHeads[FreePageList].Flink;
    for (PFN_NUMBER i = 0; i < k; i++, p = MI_PFN_ELEMENT(p)->Flink)
        moved[i] = p;
    status = MiZeroFreePages(k, &done);
    if (!KtCheck(Context, status == STATUS_SUCCESS && done == k &&
                 MmPageListHeads[FreePageList].Total == freeBefore - k &&
                 MmPageListHeads[ZeroedPageList].Total == zeroBefore + k, "zero_thread",
                 "MiZeroFreePages(%llu) returned 0x%08X, *Zeroed %llu; free list %llu -> %llu, zeroed list %llu -> %llu",
                 k, (ULONG)status, done, freeBefore, MmPageListHeads[FreePageList].Total, zeroBefore,
                 MmPageListHeads[ZeroedPageList].Total))
        return;
    p = MmPageListHeads[ZeroedPageList].Flink;
    for (PFN_NUMBER i = 0; i < k; i++, p = MI_PFN_ELEMENT(p)->Flink)
        if (!KtCheck(Context, p == moved[i], "zero_order",
                     "entry %llu of the zeroed list is 0x%llx, expected 0x%llx: MiZeroFreePages moves frames from the "
                     "head of the free list to the tail of the zeroed list, in order", i, p, moved[i]))
            return;
    for (p = MmPageListHeads[ZeroedPageList].Flink; p != MM_EMPTY_LIST; p = MI_PFN_ELEMENT(p)->Flink) {
        const ULONG64 *page = MiPfnToVirtual(p);
        for (ULONG w = 0; w < 512; w++)
            if (page[w] != 0) {
                KtFail(Context, "zeroed_list", "frame 0x%llx on the zeroed list has 0x%llx at offset 0x%x", p,
                       page[w], w * 8);
                return;
            }
    }
    if (!KtPfnAudit(Context, "after MiZeroFreePages"))
        return;

    /* Both lists hold frames: the flag decides (KtPfnAllocate checks which frame). */
    PFN_NUMBER z, f;
    if (!KtPfnAllocate(Context, MM_ALLOCATE_ZEROED, &z, "MM_ALLOCATE_ZEROED with both lists non-empty") ||
        !KtPfnAllocate(Context, 0, &f, "flags 0 with both lists non-empty") ||
        !KtPfnFree(Context, z, "freeing") || !KtPfnFree(Context, f, "freeing"))
        return;

    /* The free list runs dry: flags 0 falls back on the zeroed list; MiZeroFreePages moves
     * what there is. */
    PFN_NUMBER nfree = MmPageListHeads[FreePageList].Total;
    n = 0;
    for (; n < nfree; n++)
        if (!KtPfnAllocate(Context, 0, &KtHeld[n], "flags 0 while the free list lasts"))
            return;
    if (!KtPfnAllocate(Context, 0, &KtHeld[n++], "flags 0 with an empty free list"))
        return;
    status = MiZeroFreePages(KtRandomRange(Context, 1, 9), &done);
    if (!KtCheck(Context, status == STATUS_SUCCESS && done == 0, "zero_runs_out",
                 "MiZeroFreePages on an empty free list returned 0x%08X, *Zeroed %llu (expected 0)", (ULONG)status,
                 done))
        return;
    ULONG give = (ULONG)KtRandomRange(Context, 1, 20);
    for (ULONG i = 0; i < give; i++)
        if (!KtPfnFree(Context, KtHeld[--n], "giving a few frames back"))
            return;
    status = MiZeroFreePages(give + KtRandomRange(Context, 1, 50), &done);
    if (!KtCheck(Context, status == STATUS_SUCCESS && done == give && MmPageListHeads[FreePageList].Total == 0,
                 "zero_runs_out", "MiZeroFreePages(more than the %u free frames) returned 0x%08X, *Zeroed %llu, the "
                 "free list holds %llu (contract: fewer when the free list runs out)", give, (ULONG)status, done,
                 MmPageListHeads[FreePageList].Total))
        return;
    if (!KtPfnFreeShuffledChecked(Context, n, "freeing everything"))
        return;
    KtPfnAudit(Context, "after zeroing");
}

/* Taking every frame, giving them all back in a seeded order, and taking them all
 * again yields the same count, three times, with both flags. */
KTEST("pfn.exhaust", KtTestPfnExhaust)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER available = MmAvailablePages;
    ULONG counts[3];
    for (ULONG round = 0; round < 3; round++) {
        if (!KtPfnAllocateAllChecked(Context, round == 1 ? MM_ALLOCATE_ZEROED : 0, &counts[round],
                                     round == 1 ? "taking every frame (MM_ALLOCATE_ZEROED)" : "taking every frame"))
            return;
        PFN_NUMBER zeroed = ~0ULL;
        NTSTATUS status = MiZeroFreePages(1, &zeroed);
        if (!KtRequireImplemented(Context, status, "MiZeroFreePages", "lab 01"))
            return;
        if (!KtCheck(Context, status == STATUS_SUCCESS && zeroed == 0, "zero_empty",
                     "round %u: MiZeroFreePages(1) with an empty free list returned 0x%08X, *Zeroed %llu (expected 0)",
                     round + 1, (ULONG)status, zeroed))
            return;
        if (!KtPfnFreeShuffledChecked(Context, counts[round], "freeing every frame"))
            return;
        if (round == 0)
            MiZeroFreePages(KtRandomRange(Context, 1, 200), &zeroed);
        if (!KtCheck(Context, counts[round] == available, "same_count",
                     "round %u: allocated %u frames before STATUS_NO_MEMORY, %llu were available", round + 1,
                     counts[round], available))
            return;
        if (!KtPfnAudit(Context, round == 0 ? "after round 1" : round == 1 ? "after round 2" : "after round 3"))
            return;
    }
    KtValue(Context, "rounds", "%u %u %u", counts[0], counts[1], counts[2]);
}

/* What a failed contiguous request must leave as it was. */
typedef struct {
    PFN_NUMBER Available, Heads[2][3];
} KT_PFN_SNAPSHOT;

static VOID KtSnap(KT_PFN_SNAPSHOT *S)
{
    S->Available = MmAvailablePages;
    for (ULONG l = 0; l < 2; l++) {
        S->Heads[l][0] = MmPageListHeads[l].Total;
        S->Heads[l][1] = MmPageListHeads[l].Flink;
        S->Heads[l][2] = MmPageListHeads[l].Blink;
    }
}

static BOOLEAN KtSame(const KT_PFN_SNAPSHOT *A, const KT_PFN_SNAPSHOT *B)
{
    return A->Available == B->Available && memcmp(A->Heads, B->Heads, sizeof(A->Heads)) == 0;
}

/* One contiguous request that must fail with Expected and change nothing. */
static BOOLEAN KtContiguousFails(PKTEST_CONTEXT Context, PCSTR Check, PFN_NUMBER Count, PFN_NUMBER Align,
                                 PFN_NUMBER Highest, NTSTATUS Expected, PCSTR Why)
{
    KT_PFN_SNAPSHOT before, after;
    KtSnap(&before);
    /* Announced first: a call that runs off the database stops the kernel inside it, and the
     * lines before the STOP then say which request it was. */
    KtValue(Context, "must_fail", "MmAllocateContiguousPages(Count %llu, AlignmentPages %llu, HighestPfn 0x%llx): %s",
            Count, Align, Highest, Why);
    PFN_NUMBER base = 0x5A5A5A5A5A5A5A5AULL;
    NTSTATUS status = MmAllocateContiguousPages(Count, Align, Highest, &base);
    KtSnap(&after);
    if (!KtCheck(Context, status == Expected, Check, "MmAllocateContiguousPages(Count %llu, AlignmentPages %llu, "
                 "HighestPfn 0x%llx) returned 0x%08X%s, expected 0x%08X: %s", Count, Align, Highest, (ULONG)status,
                 status == STATUS_SUCCESS ? " (a run was taken)" : "", (ULONG)Expected, Why))
        return FALSE;
    return KtCheck(Context, base == 0x5A5A5A5A5A5A5A5AULL && KtSame(&before, &after), "failure_changes_nothing",
                   "MmAllocateContiguousPages(Count %llu, AlignmentPages %llu, HighestPfn 0x%llx) failed but %s "
                   "(MmAvailablePages %llu -> %llu, free list Total %llu -> %llu, zeroed %llu -> %llu)", Count, Align,
                   Highest, base != 0x5A5A5A5A5A5A5A5AULL ? "wrote *BasePfn" : "changed the lists", before.Available,
                   after.Available, before.Heads[1][0], after.Heads[1][0], before.Heads[0][0], after.Heads[0][0]);
}

/* One contiguous request that must succeed with exactly Expected as its base. */
static BOOLEAN KtContiguousTakes(PKTEST_CONTEXT Context, PCSTR Check, PFN_NUMBER Count, PFN_NUMBER Align,
                                 PFN_NUMBER Highest, PFN_NUMBER Expected, PCSTR Why)
{
    PFN_NUMBER base = ~0ULL, available = MmAvailablePages;
    NTSTATUS status = MmAllocateContiguousPages(Count, Align, Highest, &base);
    if (!KtCheck(Context, status == STATUS_SUCCESS && base == Expected, Check,
                 "MmAllocateContiguousPages(Count %llu, AlignmentPages %llu, HighestPfn 0x%llx) returned 0x%08X, base "
                 "0x%llx; the only run that fits starts at 0x%llx: %s", Count, Align, Highest, (ULONG)status,
                 status == STATUS_SUCCESS ? base : 0, Expected, Why))
        return FALSE;
    for (PFN_NUMBER p = base; p < base + Count; p++)
        if (!KtPfnCheckInUse(Context, "run_frames", p, "a frame of a contiguous run"))
            return FALSE;
    return KtCheck(Context, MmAvailablePages == available - Count, "run_accounting",
                   "a run of %llu frames: MmAvailablePages went %llu -> %llu", Count, available, MmAvailablePages);
}

/* A run [Base, Base + Count) of allocatable frames, all held. */
static BOOLEAN KtFindHeldRun(PKTEST_CONTEXT Context, PFN_NUMBER Count, PFN_NUMBER Align, PFN_NUMBER Low,
                             PFN_NUMBER High, PFN_NUMBER *Base)
{
    for (ULONG tries = 0; tries < 200; tries++) {
        PFN_NUMBER b = ALIGN_UP(KtRandomRange(Context, Low, High), Align);
        PFN_NUMBER i = 0;
        while (i < Count && b + i <= MmHighestPhysicalPage && KtPfnIsAllocatable(b + i) &&
               MI_PFN_ELEMENT(b + i)->PageLocation == ActiveAndValid)
            i++;
        if (i == Count) {
            *Base = b;
            return TRUE;
        }
    }
    KtFail(Context, "setup", "no run of %llu allocatable frames between 0x%llx and 0x%llx", Count, Low, High);
    return FALSE;
}

/* Seeded contiguous requests on fragmented memory, then the boundaries: a run that
 * ends exactly at HighestPfn, one frame past it, a run at the highest PFN, an aligned
 * run beside an unaligned one, a run broken by a frame on the standby list, a run of
 * zeroed and free frames; bad parameters; nothing changes on failure. */
KTEST("pfn.contiguous", KtTestPfnContiguous)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER base = 0;
    NTSTATUS status = MmAllocateContiguousPages(1, 1, MmHighestPhysicalPage, &base);
    if (!KtRequireImplemented(Context, status, "MmAllocateContiguousPages", "lab 01"))
        return;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "finds_run",
                 "a 1-frame request with alignment 1 and no limit returned 0x%08X with %llu frames available",
                 (ULONG)status, MmAvailablePages))
        return;
    if (!KtPfnCheckInUse(Context, "run_frames", base, "a 1-frame run") || !KtPfnFree(Context, base, "freeing it"))
        return;

    /* Bad parameters, every one of them on every seed. */
    static const struct { PFN_NUMBER Count, Align; PCSTR Why; } bad[] = {
        {0, 1, "Count >= 1"}, {4, 0, "AlignmentPages is a power of two (0 is not)"},
        {4, 3, "AlignmentPages is a power of two"}, {2, 24, "AlignmentPages is a power of two"},
    };
    for (ULONG i = 0; i < ARRAYSIZE(bad); i++)
        if (!KtContiguousFails(Context, "invalid_parameter", bad[i].Count, bad[i].Align, MmHighestPhysicalPage,
                               STATUS_INVALID_PARAMETER, bad[i].Why))
            return;

    /* Fragment: take frames in a seeded pattern so that runs are broken up. */
    ULONG held = 0;
    for (ULONG i = 0; i < 3000 && held < KT_PFN_MAX_HELD / 2 && MmAvailablePages; i++)
        if (!KtPfnAllocate(Context, 0, &KtHeld[held++], "fragmenting"))
            return;
    ULONG kept = 0;
    for (ULONG i = 0; i < held; i++) {
        if (KtRandomRange(Context, 0, 2) == 0)
            KtHeld[kept++] = KtHeld[i];
        else if (!KtPfnFree(Context, KtHeld[i], "fragmenting"))
            return;
    }
    held = kept;

    ULONG rounds = (ULONG)KtRandomRange(Context, 8, 14);
    static PFN_NUMBER runs[16][2];
    ULONG nruns = 0;
    for (ULONG r = 0; r < rounds; r++) {
        PFN_NUMBER count = KtRandomRange(Context, 1, 48);
        PFN_NUMBER align = 1ULL << KtRandomRange(Context, 0, 6);
        PFN_NUMBER limit = KtRandomRange(Context, 0x400, MmHighestPhysicalPage);
        PFN_NUMBER before = MmAvailablePages;
        KT_PFN_SNAPSHOT snapBefore, snapAfter;
        KtSnap(&snapBefore);
        base = 0x5A5A5A5A5A5A5A5AULL;
        status = MmAllocateContiguousPages(count, align, limit, &base);
        if (status == STATUS_SUCCESS) {
            if (!KtCheck(Context, base % align == 0 && base + count - 1 <= limit, "placement",
                         "request %u (count %llu, alignment %llu, highest 0x%llx) returned base 0x%llx%s", r, count,
                         align, limit, base, base % align ? ": not aligned" : ": ends past the highest frame"))
                return;
            for (PFN_NUMBER p = base; p < base + count; p++)
                if (!KtPfnCheckInUse(Context, "run_frames", p, "a frame of a contiguous run"))
                    return;
            if (!KtCheck(Context, MmAvailablePages == before - count, "run_accounting",
                         "request %u for %llu frames: MmAvailablePages went %llu -> %llu", r, count, before,
                         MmAvailablePages))
                return;
            runs[nruns][0] = base;
            runs[nruns][1] = count;
            nruns++;
        } else {
            KtSnap(&snapAfter);
            if (!KtCheck(Context, status == STATUS_NO_MEMORY, "no_memory", "request %u (count %llu, alignment %llu, "
                         "highest 0x%llx) returned 0x%08X: a valid request that finds no run returns STATUS_NO_MEMORY",
                         r, count, align, limit, (ULONG)status) ||
                !KtCheck(Context, base == 0x5A5A5A5A5A5A5A5AULL && KtSame(&snapBefore, &snapAfter),
                         "failure_changes_nothing", "request %u failed but %s (MmAvailablePages %llu -> %llu)", r,
                         base != 0x5A5A5A5A5A5A5A5AULL ? "wrote *BasePfn" : "changed the lists", snapBefore.Available,
                         snapAfter.Available))
                return;
            /* Verify no run existed. */
            for (PFN_NUMBER b = 0; b + count - 1 <= limit && b + count - 1 <= MmHighestPhysicalPage; b += align) {
                PFN_NUMBER i = 0;
                while (i < count && KtPfnIsAllocatable(b + i) && MI_PFN_ELEMENT(b + i)->PageLocation <= FreePageList)
                    i++;
                if (i == count) {
                    KtFail(Context, "finds_run", "request %u (count %llu, alignment %llu, highest 0x%llx) returned "
                           "0x%08X, but frames 0x%llx-0x%llx were all available", r, count, align, limit,
                           (ULONG)status, b, b + count - 1);
                    return;
                }
            }
        }
    }
    KtValue(Context, "runs", "%u of %u", nruns, rounds);
    if (!KtPfnAudit(Context, "holding contiguous runs"))
        return;
    for (ULONG i = 0; i < nruns; i++)
        for (PFN_NUMBER p = 0; p < runs[i][1]; p++)
            if (!KtPfnFree(Context, runs[i][0] + p, "freeing a run"))
                return;
    if (!KtPfnFreeShuffledChecked(Context, held, "freeing the fragments") ||
        !KtPfnAudit(Context, "after freeing the runs"))
        return;

    /* The boundaries, on memory where the test decides what is free: everything is taken,
     * then exactly the frames of one run are given back. */
    NTSTATUS last;          /* (every allocation is checked elsewhere: this is only the setup) */
    held = KtPfnAllocateAll(Context, 0, &last);
    if (!KtCheck(Context, last == STATUS_NO_MEMORY && MmAvailablePages == 0, "setup",
                 "taking every frame ended with 0x%08X and %llu frames available", (ULONG)last, MmAvailablePages))
        return;
    PFN_NUMBER count = KtRandomRange(Context, 2, 16), b;

    /* 1. A run that ends exactly at HighestPfn fits; one frame lower it does not. */
    if (!KtFindHeldRun(Context, count, 1, 0x400, MmHighestPhysicalPage - 64, &b))
        return;
    for (PFN_NUMBER p = b; p < b + count; p++)
        if (!KtPfnRelease(Context, &held, p, "giving back one run"))
            return;
    if (!KtContiguousFails(Context, "limit_respected", count, 1, b + count - 2, STATUS_NO_MEMORY,
                           "the only free run ends one frame past HighestPfn (base + Count - 1 <= HighestPfn)") ||
        !KtContiguousTakes(Context, "limit_inclusive", count, 1, b + count - 1, b,
                           "it ends exactly at HighestPfn (base + Count - 1 <= HighestPfn)"))
        return;
    for (PFN_NUMBER p = b; p < b + count; p++)
        KtHeld[held++] = p;

    /* 2. A run at the very top of the database, with a HighestPfn far above it; then the
     *    highest frame is freed like any other. */
    PFN_NUMBER top = MmHighestPhysicalPage - count + 1, i;
    for (i = top; i <= MmHighestPhysicalPage && KtPfnIsAllocatable(i); i++)
        ;
    if (i > MmHighestPhysicalPage) {
        for (PFN_NUMBER p = top; p <= MmHighestPhysicalPage; p++)
            if (!KtPfnRelease(Context, &held, p, "giving back the top frames"))
                return;
        if (!KtContiguousFails(Context, "limit_respected", count, 1, MmHighestPhysicalPage - 1, STATUS_NO_MEMORY,
                               "the only free run ends at MmHighestPhysicalPage, past HighestPfn") ||
            !KtContiguousTakes(Context, "run_at_highest", count, 1, ~0ULL, top,
                               "a run may end at MmHighestPhysicalPage; a larger HighestPfn is clamped to it"))
            return;
        for (PFN_NUMBER p = MmHighestPhysicalPage + 1; p-- > top;)
            if (!KtPfnFree(Context, p, "freeing the top run (the highest frame first)"))
                return;
        if (!KtContiguousFails(Context, "limit_respected", count + 1, 1, ~0ULL, STATUS_NO_MEMORY,
                               "a run one frame longer would end past MmHighestPhysicalPage"))
            return;
        for (PFN_NUMBER p = top; p <= MmHighestPhysicalPage; p++) {
            PFN_NUMBER got;
            if (!KtPfnAllocate(Context, 0, &got, "taking the top frames back"))
                return;
            KtHeld[held++] = got;
        }
    }

    /* 3. An aligned run beside an unaligned one: the base is a multiple of AlignmentPages. */
    PFN_NUMBER align = 1ULL << KtRandomRange(Context, 2, 5);
    if (!KtFindHeldRun(Context, count + align, align, 0x400, MmHighestPhysicalPage - 128, &b))
        return;
    b += align;
    for (PFN_NUMBER p = b - 1; p < b + count; p++)   /* b - 1: one frame too early for the alignment */
        if (!KtPfnRelease(Context, &held, p, "giving back an aligned run and the frame before it"))
            return;
    if (!KtContiguousTakes(Context, "alignment", count, align, ~0ULL, b,
                           "base must be a multiple of AlignmentPages (a PFN, not a byte address)"))
        return;
    for (PFN_NUMBER p = b; p < b + count; p++)
        KtHeld[held++] = p;
    if (!KtPfnAllocate(Context, 0, &KtHeld[held++], "taking the frame before the aligned run back"))
        return;

    /* 4. One frame of the only run sits on the standby list: not "on the zeroed or free list". */
    if (!KtFindHeldRun(Context, count, 1, 0x400, MmHighestPhysicalPage - 64, &b))
        return;
    for (PFN_NUMBER p = b; p < b + count; p++)
        if (!KtPfnRelease(Context, &held, p, "giving back one run"))
            return;
    /* the run's first frame on the zeroed list, a later one on the standby list: a search that
     * takes frames before it has verified the run, and puts them back, changes the lists */
    PFN_NUMBER standby = b + KtRandomRange(Context, 1, count - 1), done;
    MiUnlinkPageFromList(standby);
    MiInsertPageInList(StandbyPageList, standby);
    if (!KtCheck(Context, MiZeroFreePages(1, &done) == STATUS_SUCCESS && done == 1 &&
                 MmPageListHeads[ZeroedPageList].Flink == b, "setup",
                 "MiZeroFreePages(1) did not move frame 0x%llx (the head of the free list) to the zeroed list", b))
        return;
    BOOLEAN ok = KtContiguousFails(Context, "only_zeroed_or_free", count, 1, ~0ULL, STATUS_NO_MEMORY,
                                   "a frame of the only run is on the standby list: every frame must be on the "
                                   "zeroed or free list");
    MiUnlinkPageFromList(standby);
    MI_PFN_ELEMENT(standby)->PageLocation = ActiveAndValid;
    MI_PFN_ELEMENT(standby)->ReferenceCount = 1;
    if (!ok || !KtPfnFree(Context, standby, "putting the standby frame back"))
        return;

    /* 5. The same run with more of its frames moved to the zeroed list: zeroed and free frames
     *    together make a run. */
    MiZeroFreePages(count / 2, &done);
    if (!KtContiguousTakes(Context, "zeroed_or_free", count, 1, ~0ULL, b,
                           "frames on the zeroed list and on the free list together make a run"))
        return;
    for (PFN_NUMBER p = b; p < b + count; p++)
        KtHeld[held++] = p;
    KtPfnFreeShuffled(Context, held);
    KtPfnAudit(Context, "after the boundary runs");
}

/* Freeing a frame twice is a corrupt PFN list: PFN_LIST_CORRUPT (0x4E) with 0x99, the
 * frame, its PageLocation (FreePageList, 1) and Reserved (0). */
KTEST_STOP("pfn.double_free", KtTestPfnDoubleFree)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER pfn = 0, skip = KtRandomRange(Context, 0, 50);
    for (PFN_NUMBER i = 0; i <= skip; i++) {
        if (!KtPfnAllocate(Context, 0, &pfn, "allocating before the double free"))
            return;
        if (i < skip)
            KtHeld[i] = pfn;
    }
    if (!KtPfnFree(Context, pfn, "the first free"))
        return;
    KtValue(Context, "pfn", "0x%llx", pfn);
    KtValue(Context, "stop_params", "0x99 0x%llx 0x1 0x0", pfn);
    NTSTATUS status = MmFreePhysicalPage(pfn);
    KtFail(Context, "double_free", "freeing frame 0x%llx a second time returned 0x%08X instead of bugchecking with "
           "PFN_LIST_CORRUPT", pfn, (ULONG)status);
}
