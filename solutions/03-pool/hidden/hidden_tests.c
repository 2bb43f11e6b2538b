/* hidden_tests.c - lab 03 hidden tests: the IRQL rules of allocation and free for both
 * pools and both kinds of block, a double free of a big block, the previous
 * neighbour's header check, split and list-choice boundaries, error paths (a bad pool
 * type, no frames left, a full big-page table, a full tag table) and the big-page
 * table driven directly through many removals. */
#include "arch.h"
#include "bugcodes.h"
#include "ke.h"
#include "mm.h"
#include "pool_audit.h"
#include "rtl.h"

static BOOLEAN KtHiddenAllocate(PKTEST_CONTEXT Context, POOL_TYPE Type, SIZE_T Size, ULONG Tag, PVOID *Block)
{
    *Block = NULL;
    NTSTATUS status = ExpAllocatePool(Type, Size, Tag, Block);
    return KtCheck(Context, status == STATUS_SUCCESS && *Block, "allocate", "ExpAllocatePool(%s, %llu) returned 0x%08X",
                   KtPoolName(Type), (ULONG64)Size, (ULONG)status);
}

KTEST_STOP("pool.nonpaged_high", KtTestPoolNonPagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    KIRQL irql = (KIRQL)KtRandomRange(Context, DISPATCH_LEVEL + 1, HIGH_LEVEL), old;
    SIZE_T size = KtRandomRange(Context, 1, 4000);
    KtValue(Context, "stop_params", "0x8 0x%x 0x0 0x%llx", irql, (ULONG64)size);
    KeRaiseIrql(irql, &old);
    PVOID block;
    NTSTATUS status = ExpAllocatePool(NonPagedPool, size, POOL_TAG('H', 'i', 'g', 'h'), &block);
    KeLowerIrql(old);
    KtFail(Context, "irql", "NonPagedPool at IRQL %u returned 0x%08X instead of bugchecking", irql, (ULONG)status);
}

KTEST_STOP("pool.free_paged_high", KtTestPoolFreePagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    PVOID block;
    if (!KtHiddenAllocate(Context, PagedPool, KtRandomRange(Context, 1, POOL_SMALL_LIMIT), POOL_TAG('P', 'g', 'F', 'r'),
                          &block))
        return;
    KIRQL old;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0x9 0x2 0x1 0x%llx", (ULONG64)block);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExpFreePool(block, 0);
    KeLowerIrql(old);
    KtFail(Context, "irql", "freeing a small paged block at DISPATCH_LEVEL did not bugcheck");
}

/* The IRQL rule of a free holds for big blocks too: the type comes from the big-page entry. */
KTEST_STOP("pool.free_big_paged_high", KtTestPoolFreeBigPagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    PVOID block;
    if (!KtHiddenAllocate(Context, PagedPool, KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 4 * PAGE_SIZE),
                          POOL_TAG('P', 'g', 'B', 'g'), &block))
        return;
    KIRQL old;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0x9 0x2 0x1 0x%llx", (ULONG64)block);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExpFreePool(block, 0);
    KeLowerIrql(old);
    KtFail(Context, "irql", "freeing a big paged block at DISPATCH_LEVEL did not bugcheck (the IRQL rule of a free "
           "applies to big blocks, with the pool type of the big-page entry)");
}

/* Nonpaged pool may be freed up to DISPATCH_LEVEL, not above. */
KTEST_STOP("pool.free_nonpaged_high", KtTestPoolFreeNonPagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    PVOID block;
    if (!KtHiddenAllocate(Context, NonPagedPool, KtRandomRange(Context, 1, POOL_SMALL_LIMIT),
                          POOL_TAG('N', 'p', 'F', 'r'), &block))
        return;
    KIRQL irql = (KIRQL)KtRandomRange(Context, DISPATCH_LEVEL + 1, HIGH_LEVEL), old;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0x9 0x%x 0x0 0x%llx", irql, (ULONG64)block);
    KeRaiseIrql(irql, &old);
    ExpFreePool(block, 0);
    KeLowerIrql(old);
    KtFail(Context, "irql", "freeing nonpaged pool at IRQL %u (above DISPATCH_LEVEL) did not bugcheck", irql);
}

/* A big block freed twice: not in the big-page table any more, BAD_POOL_CALLER 0x07, 0, 0, Block. */
KTEST_STOP("pool.double_free_big", KtTestPoolDoubleFreeBig)
{
    if (!KtPoolReady(Context))
        return;
    PVOID keep, block;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    if (!KtHiddenAllocate(Context, type, PAGE_SIZE * 2, POOL_TAG('K', 'e', 'e', 'p'), &keep) ||
        !KtHiddenAllocate(Context, type, KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE),
                          POOL_TAG('T', 'w', 'i', 'B'), &block))
        return;
    NTSTATUS status = KtFreePool(block, 0);
    if (!KtCheck(Context, status == STATUS_SUCCESS && !KtFindBigPage(block), "free",
                 "the first free of the big block %p returned 0x%08X%s", block, (ULONG)status,
                 KtFindBigPage(block) ? " and left it in the big-page table" : ""))
        return;
    KtValue(Context, "block", "0x%llx", (ULONG64)block);
    KtValue(Context, "stop_params", "0x7 0x0 0x0 0x%llx", (ULONG64)block);
    ExpFreePool(block, 0);
    KtFail(Context, "double_free", "freeing the big block %p twice did not bugcheck (a big block the big-page table "
           "does not know: BAD_POOL_CALLER 0x7)", block);
}

/* The block before the freed one has a damaged header (its BlockSize no longer matches
 * the freed block's PreviousSize): BAD_POOL_HEADER 0x20, the header, the previous header, 0. */
KTEST_STOP("pool.overrun_previous", KtTestPoolOverrunPrevious)
{
    if (!KtPoolReady(Context))
        return;
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    PUCHAR z, a, b;
    SIZE_T zs = KtRandomRange(Context, 1, 30) * 16, as = KtRandomRange(Context, 1, 30) * 16;
    if (!KtHiddenAllocate(Context, type, zs, POOL_TAG('Z', 'z', 'z', 'z'), (PVOID *)&z) ||
        !KtHiddenAllocate(Context, type, as, POOL_TAG('A', 'a', 'a', 'a'), (PVOID *)&a) ||
        !KtHiddenAllocate(Context, type, 48, POOL_TAG('B', 'b', 'b', 'b'), (PVOID *)&b))
        return;
    if (!KtCheck(Context, a == z + zs + 16 && b == a + as + 16, "neighbours",
                 "in an empty pool three blocks should follow each other: %p %p %p", z, a, b))
        return;
    KtValue(Context, "header", "0x%llx", (ULONG64)(b - 16));
    KtValue(Context, "previous", "0x%llx", (ULONG64)(a - 16));
    KtValue(Context, "stop_params", "0x20 0x%llx 0x%llx 0x0", (ULONG64)(b - 16), (ULONG64)(a - 16));
    z[zs + 2] ^= 0x06; /* Z writes 3 bytes past its end: A's BlockSize */
    ExpFreePool(b, 0);
    KtFail(Context, "overrun", "freeing a block whose previous neighbour's BlockSize disagrees with its PreviousSize did "
           "not bugcheck (check the block before as well as the block after)");
}

/* A page of [P 2 units][F k units][Q the rest], with F freed: the pool's only free block. */
static BOOLEAN KtCarve(PKTEST_CONTEXT Context, POOL_TYPE Type, ULONG K, PVOID *P, PVOID *F, PVOID *Q)
{
    ULONG tag = POOL_TAG('E', 'd', 'g', 'e');
    if (!KtHiddenAllocate(Context, Type, 16, tag, P) || !KtHiddenAllocate(Context, Type, (K - 1) * 16, tag, F) ||
        !KtHiddenAllocate(Context, Type, (POOL_PAGE_UNITS - 2 - K - 1) * 16, tag, Q))
        return FALSE;
    PPOOL_HEADER q = (PPOOL_HEADER)*Q - 1;
    if (!KtCheck(Context, (PUCHAR)*F == (PUCHAR)*P + 32 && (PUCHAR)*Q == (PUCHAR)*F + K * 16 &&
                 q->BlockSize == POOL_PAGE_UNITS - 2 - K, "carve",
                 "%s pool: blocks of 2, %u and %u units from an empty pool should fill one page (at %p %p %p, the last "
                 "with BlockSize %u): the front of a free block is handed out, a block that leaves no room for a "
                 "2-unit rest takes it all", KtPoolName(Type), K, POOL_PAGE_UNITS - 2 - K, *P, *F, *Q, q->BlockSize))
        return FALSE;
    NTSTATUS status = KtFreePool(*F, tag);
    return KtCheck(Context, status == STATUS_SUCCESS, "free", "ExpFreePool returned 0x%08X", (ULONG)status);
}

static VOID KtFreeAll(PVOID *Blocks, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        if (Blocks[i])
            KtFreePool(Blocks[i], 0);
}

/* Split edges and the choice of list, in both pools on every seed. */
KTEST("pool.boundaries", KtTestPoolBoundaries)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('E', 'd', 'g', 'e');
    for (ULONG type = 0; type < 2; type++) {
        POOL_TYPE t = (POOL_TYPE)type;
        /* 1. the largest small block: 254 units, its 2-unit rest, then a free 254-unit block reused */
        PVOID big, tiny, again;
        if (!KtHiddenAllocate(Context, t, POOL_SMALL_LIMIT, tag, &big))
            return;
        PPOOL_HEADER h = (PPOOL_HEADER)big - 1, rest = (PPOOL_HEADER)((PUCHAR)h + POOL_MAX_BLOCK_UNITS * 16);
        if (!KtCheck(Context, h->BlockSize == POOL_MAX_BLOCK_UNITS && rest->PoolType == 0 && rest->BlockSize == 2 &&
                     rest->PreviousSize == POOL_MAX_BLOCK_UNITS, "largest_block",
                     "%s pool: a %llu-byte block should take 254 units and leave a free 2-unit block (found BlockSize "
                     "%u, then PoolType %u BlockSize %u PreviousSize %u)", KtPoolName(t), (ULONG64)POOL_SMALL_LIMIT,
                     h->BlockSize, rest->PoolType, rest->BlockSize, rest->PreviousSize) ||
            !KtHiddenAllocate(Context, t, 1, tag, &tiny) ||
            !KtCheck(Context, (PUCHAR)tiny == (PUCHAR)rest + 16 && rest->BlockSize == 2, "exact_fit",
                     "%s pool: a 1-byte block (2 units) should take the free 2-unit block at %p whole, got %p",
                     KtPoolName(t), rest, tiny) ||
            !KtCheck(Context, KtFreePool(big, tag) == STATUS_SUCCESS, "free", "freeing the 254-unit block failed") ||
            !KtPoolAudit(Context, "after freeing a 254-unit block") ||
            !KtHiddenAllocate(Context, t, POOL_SMALL_LIMIT - KtRandomRange(Context, 0, 15), tag, &again) ||
            !KtCheck(Context, again == big && ExpPoolDescriptors[t].TotalPages == 1, "largest_free_block",
                     "%s pool: a 254-unit request with a free 254-unit block on ListHeads[254] took %p (the free block "
                     "is %p) and the pool holds %lld pages: the search must include the list of the largest size",
                     KtPoolName(t), again, big, (LONG64)ExpPoolDescriptors[t].TotalPages))
            return;
        KtFreePool(again, tag);
        KtFreePool(tiny, tag);
        /* 2. a rest of exactly 1 unit is not split off; of exactly 2 units it is */
        for (ULONG spare = 1; spare <= 2; spare++) {
            ULONG k = (ULONG)KtRandomRange(Context, 8, 120);
            PVOID p, f, q, got;
            if (!KtCarve(Context, t, k, &p, &f, &q) ||
                !KtHiddenAllocate(Context, t, (k - spare - 1) * 16, tag, &got))
                return;
            PPOOL_HEADER g = (PPOOL_HEADER)got - 1, next = (PPOOL_HEADER)((PUCHAR)g + g->BlockSize * 16);
            ULONG want = spare == 1 ? k : k - 2;
            if (!KtCheck(Context, got == f && g->BlockSize == want && (spare == 1 ? next == (PPOOL_HEADER)q - 1
                                                                                  : next->PoolType == 0 &&
                                                                                    next->BlockSize == 2) &&
                         ((PPOOL_HEADER)q - 1)->PreviousSize == (spare == 1 ? k : 2),
                         spare == 1 ? "rest_of_one_unit" : "rest_of_two_units",
                         "%s pool: a %u-unit request from the only free block (%u units) got %p (free block %p) with "
                         "BlockSize %u; expected BlockSize %u%s", KtPoolName(t), k - spare, k, got, f, g->BlockSize,
                         want, spare == 1 ? " (a 1-unit rest cannot hold a free block: the allocation takes it)"
                                          : " and a free 2-unit block after it (a 2-unit rest is split off)") ||
                !KtPoolAudit(Context, "after a split at the edge"))
                return;
            const POOL_TRACKER_TABLE *e = KtFindTag(tag);
            SIZE_T bytes = e ? e->Bytes[t] : 0;
            PVOID blocks[3] = {p, got, q};
            KtFreeAll(blocks, 3);
            e = KtFindTag(tag);
            if (!KtCheck(Context, e && bytes - e->Bytes[t] == (SIZE_T)(2 + want + (POOL_PAGE_UNITS - 2 - k)) * 16,
                         "counted_bytes", "%s pool: freeing blocks of 2, %u and %u units uncounted %lld bytes for the "
                         "tag, expected %u (BlockSize * 16 of each, as counted when allocated)", KtPoolName(t), want,
                         POOL_PAGE_UNITS - 2 - k, e ? (LONG64)(bytes - e->Bytes[t]) : 0,
                         (2 + want + (POOL_PAGE_UNITS - 2 - k)) * 16))
                return;
        }
        /* 3. the smallest list that has a block: two free blocks, k1 < k2 */
        ULONG k1 = (ULONG)KtRandomRange(Context, 8, 60), k2 = k1 + (ULONG)KtRandomRange(Context, 4, 60);
        PVOID b[6], got1, got2; /* [2][k2][2][k1][2][rest] */
        if (!KtHiddenAllocate(Context, t, 16, tag, &b[0]) || !KtHiddenAllocate(Context, t, (k2 - 1) * 16, tag, &b[1]) ||
            !KtHiddenAllocate(Context, t, 16, tag, &b[2]) || !KtHiddenAllocate(Context, t, (k1 - 1) * 16, tag, &b[3]) ||
            !KtHiddenAllocate(Context, t, 16, tag, &b[4]) ||
            !KtHiddenAllocate(Context, t, (POOL_PAGE_UNITS - 6 - k1 - k2 - 1) * 16, tag, &b[5])) /* the page's rest */
            return;
        KtFreePool(b[1], tag);
        KtFreePool(b[3], tag);
        ULONG r1 = (ULONG)KtRandomRange(Context, 2, k1 - 2); /* fits both: the smaller must be taken */
        if (!KtHiddenAllocate(Context, t, (r1 - 1) * 16, tag, &got1) ||
            !KtCheck(Context, got1 == b[3], "smallest_fit",
                     "%s pool: with free blocks of %u units (%p) and %u units (%p), a %u-unit request took %p: take the "
                     "smallest size that has a free block", KtPoolName(t), k1, b[3], k2, b[1], r1, got1))
            return;
        ULONG r2 = k1 + (ULONG)KtRandomRange(Context, 1, k2 - k1); /* fits only the larger */
        if (!KtHiddenAllocate(Context, t, (r2 - 1) * 16, tag, &got2) ||
            !KtCheck(Context, got2 == b[1], "larger_fit",
                     "%s pool: a %u-unit request with a free %u-unit block (%p) took %p: a larger free block is used "
                     "before a new page", KtPoolName(t), r2, k2, b[1], got2))
            return;
        b[1] = got1;
        b[3] = got2;
        KtFreeAll(b, 6);
        if (!KtPoolAudit(Context, "after the boundary cases") ||
            !KtCheck(Context, ExpPoolDescriptors[t].TotalPages == 0, "pages_returned",
                     "%s pool: %lld pages left after freeing everything", KtPoolName(t),
                     (LONG64)ExpPoolDescriptors[t].TotalPages))
            return;
    }
}

/* A bad pool type, no frames left, a full big-page table: each refused with nothing
 * allocated, counted or leaked. */
KTEST("pool.errors", KtTestPoolErrors)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('E', 'r', 'r', 's');
    PFN_NUMBER available = MmAvailablePages;
    SIZE_T running = ExpPoolDescriptors[0].RunningAllocs + ExpPoolDescriptors[1].RunningAllocs;
    static const ULONG badTypes[] = {2, 0xFFFFFFFF};
    for (ULONG i = 0; i < 2; i++)
        for (ULONG big = 0; big < 2; big++) {
            PVOID block = NULL;
            SIZE_T size = big ? KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE) : KtRandomRange(Context, 1, 900);
            NTSTATUS status = ExpAllocatePool((POOL_TYPE)badTypes[i], size, tag, &block);
            if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && MmAvailablePages == available &&
                         !KtFindTag(tag), "bad_pool_type",
                         "ExpAllocatePool(pool type %d, %llu bytes) returned 0x%08X (expected STATUS_INVALID_PARAMETER) "
                         "and took %lld frames%s", (LONG)badTypes[i], (ULONG64)size, (ULONG)status,
                         (LONG64)(available - MmAvailablePages), KtFindTag(tag) ? " and counted the tag" : ""))
                return;
        }
    /* no frames left: run the allocator dry, chaining the frames through their first word */
    PFN_NUMBER chain = MM_EMPTY_LIST, pfn, taken = 0;
    while (MmAllocatePhysicalPage(0, &pfn) == STATUS_SUCCESS) {
        *(PFN_NUMBER *)MiPfnToVirtual(pfn) = chain;
        chain = pfn;
        taken++;
    }
    NTSTATUS small = STATUS_SUCCESS, big = STATUS_SUCCESS;
    PVOID a = NULL, b = NULL;
    for (ULONG type = 0; type < 2; type++) {
        small = ExpAllocatePool((POOL_TYPE)type, KtRandomRange(Context, 1, POOL_SMALL_LIMIT), tag, &a);
        big = ExpAllocatePool((POOL_TYPE)type, KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 4 * PAGE_SIZE), tag, &b);
        if (small != STATUS_INSUFFICIENT_RESOURCES || big != STATUS_INSUFFICIENT_RESOURCES)
            break;
    }
    BOOLEAN untouched = ExpPoolDescriptors[0].TotalPages == 0 && ExpPoolDescriptors[1].TotalPages == 0 &&
                        ExpPoolDescriptors[0].TotalBigPages == 0 && ExpPoolDescriptors[1].TotalBigPages == 0 &&
                        !KtFindTag(tag) &&
                        ExpPoolDescriptors[0].RunningAllocs + ExpPoolDescriptors[1].RunningAllocs == running;
    while (chain != MM_EMPTY_LIST) {
        pfn = chain;
        chain = *(PFN_NUMBER *)MiPfnToVirtual(pfn);
        MmFreePhysicalPage(pfn);
    }
    if (!KtCheck(Context, small == STATUS_INSUFFICIENT_RESOURCES && big == STATUS_INSUFFICIENT_RESOURCES, "no_memory",
                 "with no frame left (%llu taken), a small allocation returned 0x%08X and a big one 0x%08X; expected "
                 "STATUS_INSUFFICIENT_RESOURCES", taken, (ULONG)small, (ULONG)big) ||
        !KtCheck(Context, untouched && MmAvailablePages == available, "no_memory_nothing_kept",
                 "after allocations refused for want of frames: TotalPages %lld/%lld, TotalBigPages %lld/%lld, "
                 "RunningAllocs +%lld, tag %s, %lld frames missing (a refused allocation counts and keeps nothing)",
                 (LONG64)ExpPoolDescriptors[0].TotalPages, (LONG64)ExpPoolDescriptors[1].TotalPages,
                 (LONG64)ExpPoolDescriptors[0].TotalBigPages, (LONG64)ExpPoolDescriptors[1].TotalBigPages,
                 (LONG64)(ExpPoolDescriptors[0].RunningAllocs + ExpPoolDescriptors[1].RunningAllocs - running),
                 KtFindTag(tag) ? "counted" : "not counted", (LONG64)(available - MmAvailablePages)))
        return;
    /* Expected O(1): the probe sequence starts at a hash of the page number, so entries for
     * scattered pages spread over the table (with a fixed start they pile up in one run of
     * consecutive slots, and every add and find scans it). 64 seeded pages, then removed. */
    {
        static PVOID spread[64];
        ULONG placed = 0;
        for (ULONG k = 0; k < 64; k++) {
            PVOID va = (PVOID)(0xFFFFC60000000000ULL + (KtRandomRange(Context, 0, (1 << 24) - 1) << PAGE_SHIFT));
            if (KtFindBigPage(va))
                continue;
            if (ExpAddTagForBigPages(va, tag, 1, NonPagedPool) != STATUS_SUCCESS)
                break;
            spread[placed++] = va;
        }
        ULONG runs = 0, first = POOL_BIG_TABLE_SIZE, last = 0;
        for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++) {
            ULONG_PTR here = (ULONG_PTR)ExpPoolBigPageTable[i].Va;
            ULONG_PTR before = (ULONG_PTR)ExpPoolBigPageTable[(i + POOL_BIG_TABLE_SIZE - 1) & (POOL_BIG_TABLE_SIZE - 1)].Va;
            BOOLEAN ours = here >= 0xFFFFC60000000000ULL && here < 0xFFFFC61000000000ULL;
            BOOLEAN prior = before >= 0xFFFFC60000000000ULL && before < 0xFFFFC61000000000ULL;
            if (ours) {
                first = first < i ? first : i;
                last = i;
                runs += !prior;
            }
        }
        for (ULONG k = 0; k < placed; k++) {
            ULONG t, n;
            POOL_TYPE ty;
            ExpFindAndRemoveTagBigPages(spread[k], &t, &n, &ty);
        }
        for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++) /* whatever a broken table still holds */
            if ((ULONG_PTR)ExpPoolBigPageTable[i].Va >= 0xFFFFC60000000000ULL &&
                (ULONG_PTR)ExpPoolBigPageTable[i].Va < 0xFFFFC61000000000ULL)
                ExpPoolBigPageTable[i].Va = POOL_BIG_TABLE_FREED;
        if (!KtCheck(Context, placed >= 60 && runs >= 8, "big_table_hash",
                     "%u entries for scattered pages (of 64 added) lie in %u run(s) of consecutive slots, between "
                     "slots %u and %u: the probe sequence starts at a hash of the page number, so a table with room "
                     "stays O(1) (contract: expected O(1), never scan the whole table when it has room near the hash)",
                     placed, runs, first == POOL_BIG_TABLE_SIZE ? 0 : first, last))
            return;
    }
    /* The probe sequence wraps round past the last slot, whatever the hash: learn the home slot
     * of a few made-up addresses in the table with no live entry (each lands in its home),
     * keep one whose home is not slot 0; with the table full and only slot 0 free, adding it
     * must wrap round to slot 0, and finding it must wrap round too. */
    PVOID wrapVa = NULL;
    ULONG wrapHome = 0;
    for (ULONG k = 0; k < 8 && !wrapVa; k++) {
        PVOID va = (PVOID)(0xFFFFC40000000000ULL + (ULONG64)k * 0x40201000ULL);
        ULONG t, n;
        POOL_TYPE ty;
        if (ExpAddTagForBigPages(va, tag, 2, PagedPool) != STATUS_SUCCESS)
            break;
        const POOL_TRACKER_BIG_PAGES *e = KtFindBigPage(va);
        ULONG slot = e ? (ULONG)(e - ExpPoolBigPageTable) : 0;
        if (ExpFindAndRemoveTagBigPages(va, &t, &n, &ty) != STATUS_SUCCESS || KtFindBigPage(va))
            break; /* big_churn and the checks below name this */
        if (slot != 0) {
            wrapVa = va;
            wrapHome = slot;
        }
    }
    /* a full big-page table: fill it with entries for addresses outside the pools */
    ULONG added = 0;
    while (added <= POOL_BIG_TABLE_SIZE) {
        NTSTATUS status = ExpAddTagForBigPages((PVOID)(0xFFFFC00000000000ULL + (ULONG64)added * 0x3000), tag, 1,
                                               NonPagedPool);
        if (status != STATUS_SUCCESS)
            break;
        added++;
    }
    if (!KtCheck(Context, added == POOL_BIG_TABLE_SIZE, "big_table_full",
                 "ExpAddTagForBigPages accepted %u entries into an empty table of %u slots%s", added,
                 POOL_BIG_TABLE_SIZE, added > POOL_BIG_TABLE_SIZE ? " (more than it has)" : " (every slot is usable)")) {
        ULONG t, n;
        POOL_TYPE ty;
        for (ULONG i = 0; i < added; i++) /* leave no made-up entry for the next ktest */
            ExpFindAndRemoveTagBigPages((PVOID)(0xFFFFC00000000000ULL + (ULONG64)i * 0x3000), &t, &n, &ty);
        return;
    }
    ULONG outTag = 0x5A5A5A5A, outPages = 0x5A5A5A5A;
    POOL_TYPE outType = (POOL_TYPE)0x5A5A5A5A;
    NTSTATUS status = ExpFindAndRemoveTagBigPages((PVOID)0xFFFFC80000000000ULL, &outTag, &outPages, &outType);
    /* no return on failure: the made-up entries are removed below either way */
    (void)(KtCheck(Context, status == STATUS_NOT_FOUND && outTag == 0x5A5A5A5A && outPages == 0x5A5A5A5A &&
                 outType == (POOL_TYPE)0x5A5A5A5A, "big_table_full",
                 "looking up an address that is not in a full big-page table returned 0x%08X (expected "
                 "STATUS_NOT_FOUND after one round) and %s its outputs", (ULONG)status,
                 outTag == 0x5A5A5A5A && outPages == 0x5A5A5A5A ? "kept" : "wrote"));
    if (wrapVa) {
        PVOID first = ExpPoolBigPageTable[0].Va;
        ULONG wrapTag = tag ^ 0x00200000;
        NTSTATUS removed = ExpFindAndRemoveTagBigPages(first, &outTag, &outPages, &outType), wrapAdd = STATUS_UNSUCCESSFUL,
                 wrapFind = STATUS_UNSUCCESSFUL;
        ULONG wrapSlot = POOL_BIG_TABLE_SIZE;
        outTag = outPages = 0x5A5A5A5A;
        outType = (POOL_TYPE)0x5A5A5A5A;
        if (removed == STATUS_SUCCESS) {
            wrapAdd = ExpAddTagForBigPages(wrapVa, wrapTag, 2, PagedPool);
            const POOL_TRACKER_BIG_PAGES *e = KtFindBigPage(wrapVa);
            wrapSlot = e ? (ULONG)(e - ExpPoolBigPageTable) : POOL_BIG_TABLE_SIZE;
            if (wrapAdd == STATUS_SUCCESS)
                wrapFind = ExpFindAndRemoveTagBigPages(wrapVa, &outTag, &outPages, &outType);
            ExpAddTagForBigPages(first, tag, 1, NonPagedPool); /* full again; a failure shows below */
        }
        BOOLEAN wrapped =
            KtCheck(Context, removed == STATUS_SUCCESS, "big_table_remove",
                    "removing the entry in slot 0 (%p) of a full big-page table returned 0x%08X", first,
                    (ULONG)removed) &&
            KtCheck(Context, wrapAdd == STATUS_SUCCESS && wrapSlot == 0, "big_table_wrap",
                    "with every slot taken but slot 0, ExpAddTagForBigPages(%p, home slot %u) returned 0x%08X and "
                    "stored it in slot %d: the probe sequence wraps round from slot %u to slot 0", wrapVa, wrapHome,
                    (ULONG)wrapAdd, wrapSlot == POOL_BIG_TABLE_SIZE ? -1 : (LONG)wrapSlot, POOL_BIG_TABLE_SIZE - 1) &&
            KtCheck(Context, wrapFind == STATUS_SUCCESS && outTag == wrapTag && outPages == 2 && outType == PagedPool,
                    "big_table_wrap",
                    "in a full table, ExpFindAndRemoveTagBigPages(%p, home slot %u, stored in slot 0) returned 0x%08X, "
                    "tag 0x%x, %u pages, type %u; expected STATUS_SUCCESS, 0x%x, 2, %u: the search wraps round from "
                    "slot %u to slot 0", wrapVa, wrapHome, (ULONG)wrapFind, outTag, outPages, (ULONG)outType, wrapTag,
                    (ULONG)PagedPool, POOL_BIG_TABLE_SIZE - 1);
        if (!wrapped) { /* leave no made-up entry for the next ktest */
            ULONG t, n;
            POOL_TYPE ty;
            ExpFindAndRemoveTagBigPages(wrapVa, &t, &n, &ty);
            for (ULONG i = 0; i < added; i++)
                ExpFindAndRemoveTagBigPages((PVOID)(0xFFFFC00000000000ULL + (ULONG64)i * 0x3000), &t, &n, &ty);
            for (ULONG i = 0; i < POOL_BIG_TABLE_SIZE; i++) /* whatever a broken table still holds */
                if ((ULONG_PTR)ExpPoolBigPageTable[i].Va >= 0xFFFFC00000000000ULL &&
                    (ULONG_PTR)ExpPoolBigPageTable[i].Va < 0xFFFFC80000000000ULL)
                    ExpPoolBigPageTable[i].Va = POOL_BIG_TABLE_FREED;
            return;
        }
    }
    PVOID block = (PVOID)1;
    NTSTATUS refused = ExpAllocatePool(PagedPool, KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 4 * PAGE_SIZE), tag,
                                       &block);
    BOOLEAN kept = MmAvailablePages == available && ExpPoolDescriptors[1].TotalBigPages == 0;
    const POOL_TRACKER_TABLE *e = KtFindTag(tag);
    BOOLEAN counted = e && (e->Allocs[1] || e->Bytes[1]);
    for (ULONG i = 0; i < added; i++) {
        status = ExpFindAndRemoveTagBigPages((PVOID)(0xFFFFC00000000000ULL + (ULONG64)i * 0x3000), &outTag, &outPages,
                                             &outType);
        if (!KtCheck(Context, status == STATUS_SUCCESS && outTag == tag && outPages == 1 && outType == NonPagedPool,
                     "big_table_remove", "removing entry %u of a full big-page table returned 0x%08X, tag 0x%x, %u "
                     "pages, type %u", i, (ULONG)status, outTag, outPages, (ULONG)outType))
            return;
    }
    KtCheck(Context, refused == STATUS_INSUFFICIENT_RESOURCES && kept && !counted && MmAvailablePages == available,
            "big_table_full_nothing_kept",
            "a big allocation with the big-page table full returned 0x%08X (expected STATUS_INSUFFICIENT_RESOURCES) "
            "and kept %lld frames, %lld TotalBigPages%s: give the pages back and count nothing", (ULONG)refused,
            (LONG64)(available - MmAvailablePages), (LONG64)ExpPoolDescriptors[1].TotalBigPages,
            counted ? ", and counted the tag" : "");
    KtCheck(Context, status == STATUS_SUCCESS, "big_table_remove", "-");
}

/* The tag table: per-pool counts, removing a tag never inserted, and a full table. */
static VOID KtPoolTrackerBody(PKTEST_CONTEXT Context);

/* The tag table is filled with made-up tags and counts: it is put back as it was afterwards, so
 * the tests that run after this one in the same boot (ktest=all) find room for their tags. */
KTEST("pool.tracker", KtTestPoolTracker)
{
    static POOL_TRACKER_TABLE saved[POOL_TRACK_TABLE_SIZE];
    if (!KtPoolReady(Context))
        return;
    RtlCopyMemory(saved, ExpPoolTrackTable, sizeof(saved));
    KtPoolTrackerBody(Context);
    RtlCopyMemory(ExpPoolTrackTable, saved, sizeof(saved));
}

static VOID KtPoolTrackerBody(PKTEST_CONTEXT Context)
{
    ULONG base = (ULONG)KtRandomRange(Context, 1, 0xFFFF) << 16;
    ULONG tag = base | 0x4B54, ghost = base | 0x4B47;
    NTSTATUS status = ExpRemovePoolTracker(ghost, 64, NonPagedPool);
    if (!KtCheck(Context, status == STATUS_NOT_FOUND && !KtFindTag(ghost), "remove_unknown",
                 "ExpRemovePoolTracker for a tag never inserted returned 0x%08X%s (expected STATUS_NOT_FOUND, no "
                 "entry)", (ULONG)status, KtFindTag(ghost) ? " and created an entry" : ""))
        return;
    SIZE_T bytes[2] = {0, 0};
    LONG allocs[2] = {0, 0}, frees[2] = {0, 0};
    for (ULONG i = 0; i < 40; i++) {
        POOL_TYPE t = (POOL_TYPE)(i & 1);
        SIZE_T n = KtRandomRange(Context, 1, 100000);
        if (i % 3 == 2) {
            status = ExpRemovePoolTracker(tag, n, t);
            bytes[t] -= n;
            frees[t]++;
        } else {
            status = ExpInsertPoolTracker(tag, n, t);
            bytes[t] += n;
            allocs[t]++;
        }
        const POOL_TRACKER_TABLE *e = KtFindTag(tag);
        if (!KtCheck(Context, status == STATUS_SUCCESS && e, "per_pool", "call %u returned 0x%08X", i, (ULONG)status))
            return;
        for (ULONG p = 0; p < 2; p++)
            if (!KtCheck(Context, e->Allocs[p] == allocs[p] && e->Frees[p] == frees[p] && e->Bytes[p] == bytes[p],
                         "per_pool", "after call %u, %s pool: Allocs %d Frees %d Bytes %lld; expected %d %d %lld (each "
                         "pool type counts in its own column)", i, KtPoolName(p), e->Allocs[p], e->Frees[p],
                         (LONG64)e->Bytes[p], allocs[p], frees[p], (LONG64)bytes[p]))
                return;
    }
    /* the probe sequence starts at a hash of the tag: 16 new seeded tags do not simply take
     * the first empty slots one after the other (a fixed start scans every tag before them) */
    {
        ULONG inUse = 0, prevSlot = 0, increasing = 0, got = 0;
        for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
            inUse += ExpPoolTrackTable[i].Key != 0;
        for (ULONG k = 0; k < 16 && inUse + 16 <= POOL_TRACK_TABLE_SIZE; k++) {
            ULONG fresh = 0xA5000000U | (ULONG)KtRandomRange(Context, 1, 0xFFFFFF);
            if (KtFindTag(fresh))
                continue;
            status = ExpInsertPoolTracker(fresh, 16, NonPagedPool);
            const POOL_TRACKER_TABLE *e = KtFindTag(fresh);
            if (!KtCheck(Context, status == STATUS_SUCCESS && e, "per_pool", "a new tag 0x%08x in a table with room "
                         "returned 0x%08X", fresh, (ULONG)status))
                return;
            ULONG slot = (ULONG)(e - ExpPoolTrackTable);
            increasing += got > 0 && slot > prevSlot;
            prevSlot = slot;
            got++;
        }
        if (!KtCheck(Context, got < 8 || increasing < got - 1, "tag_hash",
                     "%u new seeded tags each took a slot after the one before (the last in slot %u): the probe "
                     "sequence starts at a hash of the tag, not at a fixed slot (contract: an open-addressing hash "
                     "table keyed by tag)", got, prevSlot))
            return;
    }
    /* fill the table */
    ULONG used = 0, added = 0;
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
        used += ExpPoolTrackTable[i].Key != 0;
    for (ULONG i = 1; added < POOL_TRACK_TABLE_SIZE + 1; i++) {
        ULONG fresh = (base ^ 0x00010000) | i;
        status = ExpInsertPoolTracker(fresh, 16, PagedPool);
        if (status != STATUS_SUCCESS)
            break;
        added++;
    }
    ULONG keys = 0;
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
        keys += ExpPoolTrackTable[i].Key != 0;
    if (!KtCheck(Context, used + added == POOL_TRACK_TABLE_SIZE && keys == POOL_TRACK_TABLE_SIZE &&
                 status == STATUS_INSUFFICIENT_RESOURCES, "table_full",
                 "with %u tags in the table, %u new tags were accepted and the next returned 0x%08X (%u slots in use): "
                 "every empty slot takes a new tag, then STATUS_INSUFFICIENT_RESOURCES", used, added, (ULONG)status,
                 keys))
        return;
    LONG before = KtFindTag(tag)->Allocs[0];
    status = ExpInsertPoolTracker(tag, 32, NonPagedPool);
    KtCheck(Context, status == STATUS_SUCCESS && KtFindTag(tag)->Allocs[0] == before + 1, "table_full",
            "in a full table a known tag must still count (returned 0x%08X)", (ULONG)status);
    status = ExpRemovePoolTracker(ghost, 16, PagedPool);
    KtCheck(Context, status == STATUS_NOT_FOUND, "remove_unknown",
            "in a full table, removing a tag never inserted returned 0x%08X (expected STATUS_NOT_FOUND after one "
            "round)", (ULONG)status);
}

/* The big-page table driven directly: seeded inserts and removals of made-up addresses,
 * every entry found with its tag, size and type after many removals. Then a churn of
 * real big allocations, each checked in the table before it is freed. */
KTEST("pool.big_churn", KtTestPoolBigChurn)
{
    if (!KtPoolReady(Context))
        return;
    static ULONG_PTR fake[256];
    static ULONG fakeTag[256];
    ULONG_PTR region = 0xFFFFD00000000000ULL + (KtRandomRange(Context, 0, 0xFFFF) << 24);
    ULONG removals = 0;
    for (ULONG op = 0; op < 4000; op++) {
        ULONG s = (ULONG)KtRandomRange(Context, 0, 255);
        ULONG outTag = 0x5A5A5A5A, outPages = 0x5A5A5A5A;
        POOL_TYPE outType = (POOL_TYPE)0x5A5A5A5A;
        if (fake[s]) {
            NTSTATUS status = ExpFindAndRemoveTagBigPages((PVOID)fake[s], &outTag, &outPages, &outType);
            if (!KtCheck(Context, status == STATUS_SUCCESS && outTag == fakeTag[s] && outPages == (s % 7) + 1 &&
                         outType == (POOL_TYPE)(s & 1), "find_after_removals",
                         "op %u: ExpFindAndRemoveTagBigPages(%p) after %u removals returned 0x%08X, tag 0x%x, %u pages, "
                         "type %u; expected STATUS_SUCCESS, 0x%x, %u, %u%s", op, (PVOID)fake[s], removals,
                         (ULONG)status, outTag, outPages, (ULONG)outType, fakeTag[s], (s % 7) + 1, s & 1,
                         status == STATUS_NOT_FOUND ? " (a search must probe past POOL_BIG_TABLE_FREED slots, and "
                                                      "stop only at a never-used slot)" : ""))
                return;
            removals++;
            ULONG again = 0x5A5A5A5A;
            status = ExpFindAndRemoveTagBigPages((PVOID)fake[s], &again, &outPages, &outType);
            if (!KtCheck(Context, status == STATUS_NOT_FOUND && again == 0x5A5A5A5A, "removed",
                         "op %u: %p was found again (0x%08X) after it was removed, or its outputs were written", op,
                         (PVOID)fake[s], (ULONG)status))
                return;
            fake[s] = 0;
        } else {
            fake[s] = region + ((ULONG64)KtRandomRange(Context, 0, 1 << 20) << PAGE_SHIFT);
            for (ULONG i = 0; i < 256; i++)
                if (i != s && fake[i] == fake[s])
                    fake[s] += PAGE_SIZE << 21;
            fakeTag[s] = (ULONG)KtRandom(Context) | 1;
            NTSTATUS status = ExpAddTagForBigPages((PVOID)fake[s], fakeTag[s], (s % 7) + 1, (POOL_TYPE)(s & 1));
            if (!KtCheck(Context, status == STATUS_SUCCESS, "add", "op %u: ExpAddTagForBigPages with %u removals "
                         "behind returned 0x%08X (freed slots may be reused)", op, removals, (ULONG)status))
                return;
        }
    }
    for (ULONG s = 0; s < 256; s++) {
        ULONG outTag, outPages;
        POOL_TYPE outType;
        if (fake[s] && (ExpFindAndRemoveTagBigPages((PVOID)fake[s], &outTag, &outPages, &outType) != STATUS_SUCCESS ||
                        outTag != fakeTag[s])) {
            KtFail(Context, "find_after_removals", "%p is no longer found after the churn", (PVOID)fake[s]);
            return;
        }
        fake[s] = 0;
    }
    KtCheck(Context, TRUE, "find_after_removals", "-");
    static KT_LIVE live[32];
    for (ULONG op = 0; op < 600; op++) {
        KT_LIVE *l = &live[KtRandomRange(Context, 0, 31)];
        if (l->Block) {
            if (!KtCheck(Context, KtFindBigPage(l->Block) != NULL, "big_table_churn",
                         "op %u: the live big block %p is missing from the big-page table", op, l->Block))
                return;
            NTSTATUS status = KtFreePool(l->Block, l->Tag);
            if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "op %u: freeing %p returned 0x%08X", op, l->Block,
                         (ULONG)status))
                return;
            l->Block = NULL;
        } else {
            l->Type = (POOL_TYPE)(op & 1);
            l->Size = KtRandomRange(Context, POOL_SMALL_LIMIT + 1, 3 * PAGE_SIZE);
            l->Tag = POOL_TAG('C', 'h', 'r', 'n');
            PVOID block = NULL;
            if (!KtCheck(Context, ExpAllocatePool(l->Type, l->Size, l->Tag, &block) == STATUS_SUCCESS, "allocate",
                         "op %u: a big allocation failed", op))
                return;
            l->Block = block;
        }
        if (op % 8 == 0 && !KtPoolAuditLive(Context, "during the churn", live, 32))
            return;
    }
    for (ULONG s = 0; s < 32; s++)
        if (live[s].Block) {
            KtFreePool(live[s].Block, 0);
            live[s].Block = NULL;
        }
    KtCheck(Context, KtPoolAuditLive(Context, "after the churn", live, 32), "audit", "-");
}

/* The best of 5 runs of Rounds allocations and frees of Size bytes, in TSC ticks (0 if an
 * allocation failed). */
static ULONG64 KtAllocFreeCost(POOL_TYPE Type, SIZE_T Size, ULONG Tag, ULONG Rounds)
{
    ULONG64 best = ~0ULL;
    for (ULONG t = 0; t < 5; t++) {
        ULONG64 t0 = __rdtsc();
        for (ULONG i = 0; i < Rounds; i++) {
            PVOID b = NULL;
            if (ExpAllocatePool(Type, Size, Tag, &b) != STATUS_SUCCESS || !b)
                return 0;
            ExpFreePool(b, Tag);
        }
        ULONG64 d = __rdtsc() - t0;
        best = d < best ? d : best;
    }
    return best ? best : 1;
}

/* The cost of 64 allocations and frees of 64 bytes with N blocks of that size allocated and every
 * other one freed again (N / 2 free blocks on the list the allocations take from); 0 on failure. */
static ULONG64 KtCostWithFreeBlocks(PKTEST_CONTEXT Context, POOL_TYPE Type, ULONG Tag, ULONG N)
{
    static PVOID blocks[4000];
    ULONG n = 0;
    for (; n < N; n++)
        if (!KtHiddenAllocate(Context, Type, 64, Tag, &blocks[n]))
            break;
    BOOLEAN ok = n == N;
    for (ULONG i = 1; ok && i < n; i += 2) {
        ok = KtFreePool(blocks[i], Tag) == STATUS_SUCCESS;
        blocks[i] = NULL;
    }
    ULONG64 cost = ok ? KtAllocFreeCost(Type, 64, Tag, 64) : 0;
    KtFreeAll(blocks, n);
    for (ULONG i = 0; i < n; i++)
        blocks[i] = NULL;
    return cost;
}

/* Allocation must not take longer as more blocks are live (no walk over all pool pages or all
 * blocks): allocating and freeing a 64-byte block costs about the same with 4 free blocks of
 * that size between 4 live ones as with 2000 free ones between 2000 live ones. */
KTEST("pool.constant_time", KtTestPoolConstantTime)
{
    if (!KtPoolReady(Context))
        return;
    ULONG tag = POOL_TAG('C', 'o', 's', 't');
    POOL_TYPE type = (POOL_TYPE)KtRandomRange(Context, 0, 1);
    ULONG64 few = KtCostWithFreeBlocks(Context, type, tag, 8);
    ULONG64 many = few ? KtCostWithFreeBlocks(Context, type, tag, 4000) : 0;
    if (!KtCheck(Context, few && many, "allocate", "64-byte %s allocations failed", KtPoolName(type)))
        return;
    /* (no KTEST VALUE of the costs: a transcript must not vary from run to run) */
    KtCheck(Context, many < 12 * few, "constant_time",
            "64 allocations and frees of 64 %s bytes took %llu ticks with 4 live and 4 free blocks of that size "
            "and %llu with 2000 and 2000 (%llux): a walk over the list, the blocks or the pages? (contract: "
            "allocation must not take longer as more blocks are live)", KtPoolName(type), few, many, many / few);
}
