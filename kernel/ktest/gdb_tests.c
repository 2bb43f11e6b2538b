/* gdb_tests.c - gdb.snapshot: a framework ktest (in no lab.toml, never graded) that
 * stops at known points for the debugger's own tests (tests/test_gdb.py). It builds
 * seeded state with labs 01-03 (a mapping of a fresh frame, small pool blocks in one
 * page, a paged block, a big allocation), prints what the kernel itself sees in KTEST
 * VALUE records, and calls KtGdbSnapshotPoint(1), where GDB runs the `nt` commands and
 * compares. Then it corrupts a pool header and a PFN entry, calls KtGdbSnapshotPoint(2)
 * (the commands must call them corrupt), restores both and cleans up. Phase 0 comes
 * first, before any lab code runs (for a stubbed kernel). Without a debugger the calls
 * do nothing. */
#include "ex.h"
#include "ke.h"
#include "ktest.h"
#include "../mm/mi.h"
#include "rtl.h"

#define KT_NOIPA __attribute__((noipa))
#define KT_GDB_BLOCKS 12

/* What GDB evaluates at the stop points (e.g. `nt pte KtGdbSnapshot.Va`). */
struct _KT_GDB_SNAPSHOT {
    ULONG_PTR Va;          /* a fresh 4 KiB mapping in the system PTE region */
    PFN_NUMBER MappedPfn;  /* its frame */
    PFN_NUMBER FreePfn;    /* a frame on the free list */
    ULONG_PTR KernelVa;    /* an address in the kernel image */
    PVOID Block;           /* an allocated small block (the address returned) */
    PVOID Big;             /* a big allocation */
    PVOID PagedBlock;      /* a small paged-pool block */
    PPOOL_HEADER CorruptHeader; /* phase 2: the header whose BlockSize is 0 */
    ULONG Phase;
} KtGdbSnapshot;

static volatile ULONG KtGdbSink;
static KT_NOIPA VOID KtGdbTouch(ULONG Phase) { KtGdbSink += Phase; }
/* The debugger's stop point (hbreak KtGdbSnapshotPoint). Not a leaf, so it has a frame. */
KT_NOIPA VOID KtGdbSnapshotPoint(ULONG Phase)
{
    KtGdbSnapshot.Phase = Phase;
    KtGdbTouch(Phase);
}

static VOID KtGdbTag(CHAR Out[5], ULONG Tag)
{
    for (ULONG i = 0; i < 4; i++) {
        CHAR c = (CHAR)(Tag >> (8 * i));
        Out[i] = (c >= 0x20 && c < 0x7F) ? c : '.';
    }
    Out[4] = 0;
}

/* The names of the frames GDB will see at KtGdbSnapshotPoint: the point itself, this
 * test, then the callers by the frame-pointer chain (the same walk `nt stack` does). */
static KT_NOIPA VOID KtGdbReportStack(PKTEST_CONTEXT Context)
{
    CHAR names[400];
    ULONG length = RtlFormatString(names, sizeof(names), "KtGdbSnapshotPoint");
    ULONG_PTR low, high;
    KeGetCurrentStackBounds(&low, &high);
    /* Our caller's frame: the test routine. */
    ULONG_PTR rbp = *(ULONG_PTR *)__builtin_frame_address(0);
    length += RtlFormatString(names + length, sizeof(names) - length, ",KtTestGdbSnapshot");
    for (ULONG depth = 0; depth < 32; depth++) {
        if (rbp < low || rbp + 16 > high || (rbp & 7))
            break;
        ULONG_PTR ret = ((ULONG_PTR *)rbp)[1];
        if (!ret)
            break;
        const KSYMBOL *sym = KtFindSymbol(ret - 1);
        length += RtlFormatString(names + length, sizeof(names) - length, ",%s",
                                  sym ? KiSymbolNames + sym->NameOffset : "?");
        ULONG_PTR next = ((ULONG_PTR *)rbp)[0];
        if (next <= rbp)
            break;
        rbp = next;
    }
    KtValue(Context, "stack", "%s", names);
}

static VOID KtGdbReportPte(PKTEST_CONTEXT Context, PCSTR Key, ULONG_PTR Va)
{
    MI_TRANSLATION t;
    MiInspectTranslation(MiCurrentPml4(), Va, &t);
    CHAR text[200];
    ULONG n = RtlFormatString(text, sizeof(text), "0x%016llx valid=%u level=%u phys=0x%llx entries",
                              (ULONG64)Va, t.Valid, t.Level, t.Physical);
    for (ULONG level = 4; level >= 1; level--)
        n += RtlFormatString(text + n, sizeof(text) - n, " 0x%016llx",
                             level >= t.Level ? t.Entries[level].Long : 0ULL);
    KtValue(Context, Key, "%s", text);
}

static VOID KtGdbReportPfn(PKTEST_CONTEXT Context, PCSTR Key, PFN_NUMBER Pfn)
{
    const MMPFN *e = MI_PFN_ELEMENT(Pfn);
    KtValue(Context, Key, "0x%llx flink=0x%llx blink=0x%llx refcount=%u location=%u reserved=%u pte=0x%llx",
            (ULONG64)Pfn, (ULONG64)e->Flink, (ULONG64)e->Blink, e->ReferenceCount, e->PageLocation, e->Reserved,
            (ULONG64)e->PteAddress);
}

/* Every block of the pool page holding Block, as the headers say: offset:units:prev:type:tag. */
static VOID KtGdbReportPoolPage(PKTEST_CONTEXT Context, PVOID Block)
{
    ULONG_PTR page = ALIGN_DOWN((ULONG_PTR)Block, PAGE_SIZE);
    CHAR text[300];
    ULONG n = 0;
    for (ULONG offset = 0; offset < PAGE_SIZE && n < sizeof(text) - 40;) {
        const POOL_HEADER *h = (const POOL_HEADER *)(page + offset);
        n += RtlFormatString(text + n, sizeof(text) - n, "%s%x:%x:%x:%x:%08x", offset ? "," : "", offset,
                             h->BlockSize, h->PreviousSize, h->PoolType, h->PoolTag);
        if (!h->BlockSize)
            break;
        offset += h->BlockSize * POOL_BLOCK_SIZE;
    }
    KtValue(Context, "pool_page", "0x%016llx", (ULONG64)page);
    KtValue(Context, "pool_blocks", "%s", text);
}

static VOID KtGdbReportTag(PKTEST_CONTEXT Context, ULONG Tag)
{
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++) {
        const POOL_TRACKER_TABLE *t = &ExpPoolTrackTable[i];
        if (t->Key != Tag)
            continue;
        CHAR tag[5];
        KtGdbTag(tag, Tag);
        KtValue(Context, "poolused", "%s %d %d %llu %d %d %llu", tag, t->Allocs[0], t->Frees[0],
                (ULONG64)t->Bytes[0], t->Allocs[1], t->Frees[1], (ULONG64)t->Bytes[1]);
        return;
    }
}

KTEST("gdb.snapshot", KtTestGdbSnapshot)
{
    RtlZeroMemory(&KtGdbSnapshot, sizeof(KtGdbSnapshot));
    KtGdbSnapshot.KernelVa = (ULONG_PTR)&KtGdbSnapshotPoint;
    KtGdbSnapshotPoint(0);
    if (!KtCheck(Context, MmPfnDatabaseReady, "pfn_database", "no PFN database (lab 01)") ||
        !KtCheck(Context, MmKernelPml4 != NULL, "address_space", "no kernel address space (lab 02)"))
        return;

    /* A fresh frame mapped at a seeded page of the system PTE region, written once (so
     * the CPU has set Accessed and Dirty before anybody reads the entries). */
    PFN_NUMBER pfn;
    if (!KtCheck(Context, MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pfn) == STATUS_SUCCESS, "frame",
                 "no frame"))
        return;
    ULONG_PTR va = 0;
    for (ULONG attempt = 0; attempt < 16 && !va; attempt++) {
        ULONG_PTR candidate = MM_SYSTEM_PTE_START + 0x20000000ULL + (KtRandomRange(Context, 0, 0x1FFFF) << PAGE_SHIFT);
        ULONG protect = MM_PROTECT_WRITE | (KtRandomRange(Context, 0, 1) ? MM_PROTECT_EXECUTE : 0);
        if (MmMapPage(MiCurrentPml4(), candidate, pfn, protect, 0) == STATUS_SUCCESS)
            va = candidate;
    }
    if (!KtCheck(Context, va != 0, "map", "MmMapPage failed")) {
        MmFreePhysicalPage(pfn);
        return;
    }
    *(volatile ULONG64 *)va = KtRandom(Context);
    KtGdbSnapshot.Va = va + KtRandomRange(Context, 0, PAGE_SIZE / 8 - 1) * 8;
    KtGdbSnapshot.MappedPfn = pfn;

    /* Small nonpaged blocks of one seeded tag, every third one freed again; a paged
     * block and a big allocation of another tag. */
    ULONG tag = POOL_TAG('G', 'd', 'A' + KtRandomRange(Context, 0, 25), 'a' + KtRandomRange(Context, 0, 25));
    ULONG tag2 = POOL_TAG('G', 'd', 'a' + KtRandomRange(Context, 0, 25), '0' + KtRandomRange(Context, 0, 9));
    PVOID blocks[KT_GDB_BLOCKS];
    for (ULONG i = 0; i < KT_GDB_BLOCKS; i++)
        blocks[i] = ExAllocatePoolWithTag(NonPagedPool, KtRandomRange(Context, 1, 200), tag);
    for (ULONG i = 0; i < KT_GDB_BLOCKS; i += 3)
        if (blocks[i]) {
            ExFreePoolWithTag(blocks[i], tag);
            blocks[i] = NULL;
        }
    ULONG pick = 1 + 3 * (ULONG)KtRandomRange(Context, 0, KT_GDB_BLOCKS / 3 - 1);
    KtGdbSnapshot.Block = blocks[pick];
    KtGdbSnapshot.PagedBlock = ExAllocatePoolWithTag(PagedPool, KtRandomRange(Context, 16, 300), tag2);
    SIZE_T bigBytes = KtRandomRange(Context, 2, 3) * PAGE_SIZE + 8;
    KtGdbSnapshot.Big = ExAllocatePoolWithTag(NonPagedPool, bigBytes, tag2);
    BOOLEAN pool = KtCheck(Context, KtGdbSnapshot.Block && KtGdbSnapshot.PagedBlock && KtGdbSnapshot.Big, "pool",
                           "a pool allocation failed (lab 03)");

    /* A frame a seeded number of steps into the free list (chosen after the allocations
     * above, which take frames from its head). */
    PFN_NUMBER free = MmPageListHeads[FreePageList].Flink;
    ULONG steps = (ULONG)KtRandomRange(Context, 0, 40);
    ULONG position = 0;
    for (; position < steps && free != MM_EMPTY_LIST && MI_PFN_ELEMENT(free)->Flink != MM_EMPTY_LIST; position++)
        free = MI_PFN_ELEMENT(free)->Flink;
    KtGdbSnapshot.FreePfn = free;

    /* What the kernel sees. */
    KtValue(Context, "va", "0x%016llx", (ULONG64)KtGdbSnapshot.Va);
    KtGdbReportPte(Context, "pte", KtGdbSnapshot.Va);
    KtGdbReportPte(Context, "pte_kernel", KtGdbSnapshot.KernelVa);
    KtGdbReportPfn(Context, "pfn_mapped", pfn);
    KtGdbReportPfn(Context, "pfn_free", free);
    KtValue(Context, "pfn_free_list", "%u %u %llu", FreePageList, position,
            (ULONG64)MmPageListHeads[FreePageList].Total);
    if (pool) {
        CHAR t1[5], t2[5];
        KtGdbTag(t1, tag);
        KtGdbTag(t2, tag2);
        KtValue(Context, "block", "0x%016llx", (ULONG64)KtGdbSnapshot.Block);
        KtGdbReportPoolPage(Context, KtGdbSnapshot.Block);
        KtValue(Context, "big", "0x%016llx %s %llu", (ULONG64)KtGdbSnapshot.Big, t2,
                (ULONG64)(ALIGN_UP(bigBytes, PAGE_SIZE) / PAGE_SIZE));
        KtGdbReportTag(Context, tag);
        KtGdbReportTag(Context, tag2);
    }
    KtGdbReportStack(Context);
    KtGdbSnapshotPoint(1);

    /* Phase 2: a pool header with BlockSize 0 and a PFN entry with a bad list, restored after. */
    MMPFN savedPfn = *MI_PFN_ELEMENT(free);
    POOL_HEADER savedHeader = {0};
    PPOOL_HEADER corrupt = NULL;
    if (pool) {
        corrupt = (PPOOL_HEADER)KtGdbSnapshot.Block - 1;
        savedHeader = *corrupt;
        corrupt->BlockSize = 0;
        KtGdbSnapshot.CorruptHeader = corrupt;
        KtValue(Context, "corrupt_header", "0x%016llx", (ULONG64)corrupt);
    }
    MI_PFN_ELEMENT(free)->PageLocation = 0x5A;
    MI_PFN_ELEMENT(free)->Flink = MmHighestPhysicalPage + 77;
    KtValue(Context, "corrupt_pfn", "0x%llx", (ULONG64)free);
    KtGdbSnapshotPoint(2);
    *MI_PFN_ELEMENT(free) = savedPfn;
    if (corrupt)
        *corrupt = savedHeader;

    for (ULONG i = 0; i < KT_GDB_BLOCKS; i++)
        if (blocks[i])
            ExFreePoolWithTag(blocks[i], tag);
    if (KtGdbSnapshot.PagedBlock)
        ExFreePoolWithTag(KtGdbSnapshot.PagedBlock, tag2);
    if (KtGdbSnapshot.Big)
        ExFreePoolWithTag(KtGdbSnapshot.Big, tag2);
    PFN_NUMBER unmapped = 0;
    KtCheck(Context, MmUnmapPage(MiCurrentPml4(), va, &unmapped) == STATUS_SUCCESS && unmapped == pfn, "unmap",
            "MmUnmapPage failed");
    MmFreePhysicalPage(pfn);
}
