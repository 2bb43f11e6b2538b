/* pagefile_tests.c - lab 08 public tests of the pagefile (pf part):
 *   pf.slots   MiAllocatePagefileSlot / MiFreePagefileSlot on a test pagefile of seeded
 *              size whose bitmap starts with a seeded set of slots in use and a seeded
 *              hint: every slot handed out is the first free one from the hint, wrapping;
 *              the whole bitmap, FreeSpace and Hint audited after every step; a full
 *              pagefile and bad frees change nothing.
 *   pf.io      MiPagefileIo: a frame written to a seeded slot is on the disk there and
 *              nowhere else, read back into a dirty frame; with the disk completing at
 *              once and 2 ms later (the request pends: the caller must wait); a slot past
 *              the end and a failing disk request; the Reads/Writes counters.
 *   pf.out_in  MiPageOut / MiPageIn on a test address space of seeded pages (seeded
 *              addresses and protections, in one page table and across several): the
 *              exact pagefile PTE, the frame freed, the slot on disk holding the page; back
 *              in another seeded order: the exact valid PTE, the contents, the slot freed,
 *              the PFN's PteAddress; wrong PTE states refused; a full pagefile and a
 *              failing read leave the page where it was; frames and slots conserved. */
#include "lab08pf_support.h"
#include "../../../kernel/mm/mi.h"
#include "pt_audit.h"

/* ---- pf.slots ---------------------------------------------------------------------- */

#define KT_SLOTS_MAX 200

typedef struct {
    ULONG64 Shadow[(KT_SLOTS_MAX + 63) / 64 + 1];
    ULONG Free, Hint;
} KT_SLOT_MODEL;

static BOOLEAN KtShadowBit(KT_SLOT_MODEL *M, ULONG s) { return (M->Shadow[s / 64] >> (s % 64)) & 1; }

static BOOLEAN KtAuditSlots(PKTEST_CONTEXT Context, PCSTR Step, PMMPAGING_FILE F, KT_SLOT_MODEL *M, ULONG64 Guard)
{
    for (ULONG s = 0; s < F->Size; s++)
        if (!KtCheck(Context, KtPfSlotBit(F, s) == KtShadowBit(M, s), "bitmap", "%s: bit %u of the bitmap is %d, "
                     "expected %d", Step, s, KtPfSlotBit(F, s), KtShadowBit(M, s)))
            return FALSE;
    ULONG words = (F->Size + 63) / 64;
    return KtCheck(Context, F->Bitmap[words] == Guard, "bitmap_bounds", "%s: the word after the bitmap changed "
                   "(0x%llx, was 0x%llx): a bit past Size was written", Step, F->Bitmap[words], Guard) &&
           KtCheck(Context, F->FreeSpace == M->Free, "free_space", "%s: FreeSpace %u, expected %u", Step, F->FreeSpace,
                   M->Free) &&
           KtCheck(Context, F->Hint == M->Hint, "hint", "%s: Hint %u, expected %u (the slot handed out last + 1, 0 past "
                   "the end; a free leaves it)", Step, F->Hint, M->Hint);
}

KTEST("pf.slots", KtPfSlots)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "slots"))
        return;
    static ULONG64 bitmap[(KT_SLOTS_MAX + 63) / 64 + 1];
    MMPAGING_FILE f;
    KT_SLOT_MODEL m;
    RtlZeroMemory(&m, sizeof(m));
    ULONG size = (ULONG)KtRandomRange(Context, 70, KT_SLOTS_MAX);
    /* Sizes that are not a multiple of 64 on every seed: the last word is partly used. */
    if (size % 64 == 0)
        size++;
    ULONG words = (size + 63) / 64;
    ULONG64 guard = KtRandom(Context) | 1;
    /* A seeded set of slots already in use (about a third), the bits past Size clear. */
    ULONG free = size;
    for (ULONG s = 0; s < size; s++) {
        if (KtRandomRange(Context, 0, 2) == 0) {
            m.Shadow[s / 64] |= 1ULL << (s % 64);
            free--;
        }
    }
    /* The slot just before the hint is free, the hint itself in use: a search that starts one
     * early or hands out the hint blindly is caught. */
    ULONG hint = (ULONG)KtRandomRange(Context, size / 3, size - 2);
    m.Shadow[hint / 64] |= 1ULL << (hint % 64);
    if (m.Shadow[(hint - 1) / 64] >> ((hint - 1) % 64) & 1) {
        m.Shadow[(hint - 1) / 64] &= ~(1ULL << ((hint - 1) % 64));
    }
    free = 0;
    for (ULONG s = 0; s < size; s++)
        free += !KtShadowBit(&m, s);
    for (ULONG i = 0; i < words; i++)
        bitmap[i] = m.Shadow[i];
    bitmap[words] = guard;
    f.Device = MmPagingFile->Device;
    f.Size = size;
    f.FreeSpace = free;
    f.Hint = hint;
    f.Bitmap = bitmap;
    f.Reads = f.Writes = 0;
    m.Free = free;
    m.Hint = hint;
    KtValue(Context, "size", "%u", size);
    KtValue(Context, "hint", "%u", hint);

    /* Hand out every free slot: each is the first free one from the hint, wrapping. */
    ULONG handed = 0;
    while (m.Free > 0) {
        ULONG want = m.Hint;
        while (KtShadowBit(&m, want))
            want = want + 1 == size ? 0 : want + 1;
        ULONG slot = 0xDEAD;
        NTSTATUS status = MiAllocatePagefileSlot(&f, &slot);
        if (!KtCheck(Context, status == STATUS_SUCCESS && slot == want, "first_free", "allocation %u (hint %u): status "
                     "0x%x, slot %u; expected STATUS_SUCCESS and slot %u, the first free slot at or after the hint, "
                     "wrapping to 0 past the end", handed, m.Hint, status, slot, want))
            return;
        m.Shadow[want / 64] |= 1ULL << (want % 64);
        m.Free--;
        m.Hint = want + 1 == size ? 0 : want + 1;
        if (!KtAuditSlots(Context, "after an allocation", &f, &m, guard))
            return;
        handed++;
    }
    /* Full: STATUS_PAGEFILE_QUOTA, nothing changes. */
    ULONG slot = 0xC0FFEE;
    NTSTATUS status = MiAllocatePagefileSlot(&f, &slot);
    if (!KtCheck(Context, status == STATUS_PAGEFILE_QUOTA && slot == 0xC0FFEE, "full", "a full pagefile: status 0x%x, "
                 "slot %u; expected STATUS_PAGEFILE_QUOTA and the slot untouched", status, slot) ||
        !KtAuditSlots(Context, "after an allocation from a full pagefile", &f, &m, guard))
        return;
    /* Bad frees: past the end, exactly at Size; then frees of seeded slots (the first, the last). */
    ULONG bad[2] = {size, size + (ULONG)KtRandomRange(Context, 1, 1000)};
    for (ULONG i = 0; i < 2; i++) {
        status = MiFreePagefileSlot(&f, bad[i]);
        if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER, "free_range", "freeing slot %u of a %u-slot pagefile: "
                     "0x%x, expected STATUS_INVALID_PARAMETER", bad[i], size, status) ||
            !KtAuditSlots(Context, "after freeing a slot past the end", &f, &m, guard))
            return;
    }
    ULONG frees[6] = {0, size - 1, (ULONG)KtRandomRange(Context, 1, size - 2), (ULONG)KtRandomRange(Context, 1, size - 2),
                      (ULONG)KtRandomRange(Context, 1, size - 2), 0};
    for (ULONG i = 0; i < 6; i++) {
        ULONG s = frees[i];
        BOOLEAN inUse = KtShadowBit(&m, s);
        status = MiFreePagefileSlot(&f, s);
        if (inUse) {
            if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "freeing slot %u (in use): 0x%x", s, status))
                return;
            m.Shadow[s / 64] &= ~(1ULL << (s % 64));
            m.Free++;
        } else if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER, "free_twice", "freeing slot %u, which is not in "
                            "use: 0x%x, expected STATUS_INVALID_PARAMETER and nothing changed", s, status)) {
            return;
        }
        if (!KtAuditSlots(Context, inUse ? "after a free" : "after freeing a free slot", &f, &m, guard))
            return;
    }
    /* Allocate again: from the hint, wrapping to the freed low slots. */
    while (m.Free > 0) {
        ULONG want = m.Hint;
        while (KtShadowBit(&m, want))
            want = want + 1 == size ? 0 : want + 1;
        status = MiAllocatePagefileSlot(&f, &slot);
        if (!KtCheck(Context, status == STATUS_SUCCESS && slot == want, "wrap", "allocation after frees (hint %u): status "
                     "0x%x, slot %u; expected slot %u (first free from the hint, wrapping)", m.Hint, status, slot, want))
            return;
        m.Shadow[want / 64] |= 1ULL << (want % 64);
        m.Free--;
        m.Hint = want + 1 == size ? 0 : want + 1;
        if (!KtAuditSlots(Context, "after an allocation that wrapped", &f, &m, guard))
            return;
    }
    KtValue(Context, "handed", "%u", handed);
}

/* ---- pf.io ------------------------------------------------------------------------- */

static BOOLEAN KtIoRound(PKTEST_CONTEXT Context, ULONG DelayMs, ULONG Salt)
{
    PMMPAGING_FILE f = MmPagingFile;
    IopSetRamDiskDelay(f->Device, DelayMs);
    ULONG slot = (ULONG)KtRandomRange(Context, 1, f->Size - 2);
    /* The neighbours hold known bytes: a write that spills or lands elsewhere is seen. */
    KtPfFill(KtPfSlotData(slot - 1), Salt + 100);
    KtPfFill(KtPfSlotData(slot + 1), Salt + 200);
    RtlFillMemory(KtPfSlotData(slot), PAGE_SIZE, 0xA5);
    PFN_NUMBER a, b;
    if (!KtCheck(Context, NT_SUCCESS(MiAllocateFrame(0, &a)) && NT_SUCCESS(MiAllocateFrame(0, &b)), "frames",
                 "two frames for the test"))
        return FALSE;
    KtPfFill(MiPfnToVirtual(a), Salt);
    KtPfFill(MiPfnToVirtual(b), Salt + 300);     /* dirty: a read that does nothing is seen */
    ULONG writes = f->Writes, reads = f->Reads;
    BOOLEAN ok = FALSE;
    NTSTATUS status = MiPagefileIo(f, a, slot, TRUE);
    LONG bad;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "write", "MiPagefileIo(write, slot %u, disk %u ms): 0x%x", slot,
                 DelayMs, status))
        goto out;
    bad = KtPfCompare(KtPfSlotData(slot), Salt);
    if (!KtCheck(Context, bad < 0, "write_data", "after MiPagefileIo(write, slot %u, disk completing %u ms later) "
                 "returned, the disk's slot differs at byte %d: the write went elsewhere, or the caller did not wait for "
                 "the IRP it pended", slot, DelayMs, bad * 8) ||
        !KtCheck(Context, KtPfCompare(KtPfSlotData(slot - 1), Salt + 100) < 0 &&
                 KtPfCompare(KtPfSlotData(slot + 1), Salt + 200) < 0, "write_bounds", "the slots beside %u changed: the "
                 "byte offset must be Slot * PAGE_SIZE and the length PAGE_SIZE", slot) ||
        !KtCheck(Context, f->Writes == writes + 1 && f->Reads == reads, "counters", "after a write: Writes %u (was %u), "
                 "Reads %u (was %u); expected Writes + 1", f->Writes, writes, f->Reads, reads))
        goto out;
    status = MiPagefileIo(f, b, slot, FALSE);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "read", "MiPagefileIo(read, slot %u, disk %u ms): 0x%x", slot,
                 DelayMs, status))
        goto out;
    bad = KtPfCompare(MiPfnToVirtual(b), Salt);
    if (!KtCheck(Context, bad < 0, "read_data", "after MiPagefileIo(read, slot %u, disk completing %u ms later) "
                 "returned, the frame differs at byte %d", slot, DelayMs, bad * 8) ||
        !KtCheck(Context, f->Reads == reads + 1 && f->Writes == writes + 1, "counters", "after a read: Reads %u (was %u), "
                 "Writes %u; expected Reads + 1", f->Reads, reads, f->Writes))
        goto out;
    ok = TRUE;
out:
    MiFreeFrame(a);
    MiFreeFrame(b);
    IopSetRamDiskDelay(f->Device, 0);
    return ok;
}

/* A disk that says it moved fewer bytes than asked (a short transfer that is not an error). */
static NTSTATUS KtShortDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = PAGE_SIZE - 512;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS KtShortEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_READ] = KtShortDispatch;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = KtShortDispatch;
    return STATUS_SUCCESS;
}

KTEST("pf.io", KtPfIo)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "io"))
        return;
    ULONG salt = (ULONG)KtRandomRange(Context, 1, 1 << 20);
    if (!KtIoRound(Context, 0, salt) || !KtIoRound(Context, 2, salt + 7))
        return;
    PMMPAGING_FILE f = MmPagingFile;
    ULONG writes = f->Writes, reads = f->Reads;
    PFN_NUMBER a;
    if (!KtCheck(Context, NT_SUCCESS(MiAllocateFrame(0, &a)), "frames", "a frame"))
        return;
    /* A slot past the end: refused before anything is sent. */
    NTSTATUS status = MiPagefileIo(f, a, f->Size, TRUE);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && f->Writes == writes, "slot_range", "MiPagefileIo(slot = Size "
            "%u): 0x%x, Writes %u (was %u); expected STATUS_INVALID_PARAMETER and nothing sent", f->Size, status,
            f->Writes, writes);
    /* The disk refuses a request past its end: a pagefile that claims more slots than its disk
     * holds; the disk's status comes back and the counters stay. */
    MMPAGING_FILE liar = *f;
    liar.Size = f->Size + 16;
    ULONG past = f->Size + (ULONG)KtRandomRange(Context, 0, 15);
    status = MiPagefileIo(&liar, a, past, FALSE);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && liar.Reads == reads, "disk_error", "a read the disk refuses "
            "(slot %u past its end): 0x%x, Reads %u (was %u); expected the disk's STATUS_INVALID_PARAMETER returned "
            "and Reads unchanged", past, status, liar.Reads, reads);
    status = MiPagefileIo(&liar, a, past, TRUE);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER && liar.Writes == writes, "disk_error", "a write the disk "
            "refuses (slot %u past its end): 0x%x, Writes %u (was %u); expected the disk's status returned and Writes "
            "unchanged", past, status, liar.Writes, writes);
    /* A disk that completes with success but fewer than PAGE_SIZE bytes: STATUS_IN_PAGE_ERROR, nothing counted. */
    PDRIVER_OBJECT sd = NULL;
    PDEVICE_OBJECT sdev = NULL;
    if (KtCheck(Context, NT_SUCCESS(IopCreateDriver("KtShortDisk", KtShortEntry, &sd)), "disk_error", "creating a test "
                "driver failed")) {
        if (KtCheck(Context, NT_SUCCESS(IoCreateDevice(sd, 0, NULL, FILE_DEVICE_DISK, 0, FALSE, &sdev)) && sdev != NULL,
                    "disk_error", "creating a test device failed")) {
            sdev->Flags |= DO_DIRECT_IO;
            sdev->Flags &= ~DO_DEVICE_INITIALIZING;
            MMPAGING_FILE shortf = *f;
            shortf.Device = sdev;
            for (ULONG w = 0; w < 2; w++) {
                status = MiPagefileIo(&shortf, a, (ULONG)KtRandomRange(Context, 0, f->Size - 1), w != 0);
                if (!KtCheck(Context, status == STATUS_IN_PAGE_ERROR && shortf.Reads == f->Reads &&
                             shortf.Writes == f->Writes, "disk_error", "a %s the disk completes with success but %u "
                             "bytes: 0x%x, Reads %u (%u), Writes %u (%u); expected STATUS_IN_PAGE_ERROR and nothing "
                             "counted", w ? "write" : "read", (ULONG)(PAGE_SIZE - 512), status, shortf.Reads, f->Reads,
                             shortf.Writes, f->Writes))
                    break;
            }
            IoDeleteDevice(sdev);
        }
        IopDeleteDriver(sd);
    }
    MiFreeFrame(a);
}

/* ---- pf.out_in ---------------------------------------------------------------------- */

#define KT_OUT_MAX 24

typedef struct {
    ULONG_PTR Va;
    ULONG Protection;
    ULONG Salt;
    ULONG Slot;       /* while out */
    PFN_NUMBER Pfn;   /* while in */
    BOOLEAN Out;
} KT_OUT_PAGE;

static VOID KtShuffle(PKTEST_CONTEXT Context, ULONG *Order, ULONG N)
{
    for (ULONG i = 0; i < N; i++)
        Order[i] = i;
    for (ULONG i = N - 1; i > 0; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i);
        ULONG t = Order[i];
        Order[i] = Order[j];
        Order[j] = t;
    }
}

/* Every page's PTE as the test expects it. */
static BOOLEAN KtAuditPages(PKTEST_CONTEXT Context, PCSTR Step, KT_PF_SPACE *S, KT_OUT_PAGE *P, ULONG N)
{
    for (ULONG i = 0; i < N; i++) {
        PMMPTE pte = KtPte(S, P[i].Va);
        if (!KtCheck(Context, pte != NULL, "tables", "%s: the page table of 0x%llx is gone (a page that leaves keeps "
                     "its page table: the PTE says where the page is)", Step, (ULONG64)P[i].Va))
            return FALSE;
        if (P[i].Out) {
            ULONG64 want = MiMakePagefilePte(P[i].Slot, P[i].Protection);
            if (!KtCheck(Context, pte->Long == want, "pagefile_pte", "%s: page 0x%llx (%s) is in slot %u: its PTE is "
                         "0x%016llx, expected 0x%016llx (Valid 0, Protection %u in bits 5-9, PageFileHigh = slot + 1 "
                         "in bits 32-63, nothing else)", Step, (ULONG64)P[i].Va, KtPfProtectionName(P[i].Protection),
                         P[i].Slot, pte->Long, want, P[i].Protection) ||
                !KtCheck(Context, KtPfSlotBit(MmPagingFile, P[i].Slot), "slot_in_use", "%s: slot %u holds page 0x%llx "
                         "but its bit is clear", Step, P[i].Slot, (ULONG64)P[i].Va))
                return FALSE;
        } else {
            if (!KtPfCheckValidPte(Context, "valid_pte", Step, *pte, P[i].Protection) ||
                !KtCheck(Context, pte->Hard.PageFrameNumber == P[i].Pfn, "valid_pte", "%s: page 0x%llx maps frame 0x%llx, "
                         "expected 0x%llx", Step, (ULONG64)P[i].Va, (ULONG64)pte->Hard.PageFrameNumber,
                         (ULONG64)P[i].Pfn))
                return FALSE;
            LONG bad = KtPfCompare(MiPfnToVirtual(P[i].Pfn), P[i].Salt);
            if (!KtCheck(Context, bad < 0, "contents", "%s: page 0x%llx differs from what it held at byte %d", Step,
                         (ULONG64)P[i].Va, bad * 8))
                return FALSE;
        }
    }
    return TRUE;
}

#define KT_PF_BITS_TAG 0x7442744Bu /* KtBt */

KTEST("pf.out_in", KtPfOutIn)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "slots") || !KtPfRequire(Context, "io") ||
        !KtPfRequire(Context, "pager"))
        return;
    KtPoisonFreeFrames(Context, 64);
    PMMPAGING_FILE f = MmPagingFile;
    PFN_NUMBER avail0 = MmAvailablePages;
    ULONG free0 = f->FreeSpace;
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    static KT_OUT_PAGE p[KT_OUT_MAX];
    ULONG n = (ULONG)KtRandomRange(Context, 12, KT_OUT_MAX);
    /* Half the pages share one page table (consecutive pages from a seeded base), the rest each
     * in a page table of their own; protection i % 4 rotated by the seed: every kind on every seed. */
    ULONG_PTR base = KtRandomRange(Context, 0x10000, 0x7FF00000) & ~0x1FFFFFULL;
    ULONG rot = (ULONG)KtRandomRange(Context, 0, 3);
    ULONG salt = (ULONG)KtRandomRange(Context, 1, 1 << 20);
    for (ULONG i = 0; i < n; i++) {
        p[i].Va = i < n / 2 ? base + i * PAGE_SIZE : base + (i - n / 2 + 1) * MM_LARGE_PAGE_SIZE * 3 +
                  KtRandomRange(Context, 0, 511) * PAGE_SIZE;
        p[i].Protection = KtPfProtection(i + rot);
        p[i].Salt = salt + i;
        p[i].Out = FALSE;
        if (!KtPfMapPage(Context, &s, p[i].Va, p[i].Protection, p[i].Salt))
            goto done;
        p[i].Pfn = KtPte(&s, p[i].Va)->Hard.PageFrameNumber;
    }
    PFN_NUMBER availMapped = MmAvailablePages;
    ULONG order[KT_OUT_MAX];
    KtShuffle(Context, order, n);
    for (ULONG k = 0; k < n; k++) {
        KT_OUT_PAGE *q = &p[order[k]];
        ULONG hint = f->Hint;
        ULONG want = hint;
        while (KtPfSlotBit(f, want))
            want = want + 1 == f->Size ? 0 : want + 1;
        ULONG writes = f->Writes;
        NTSTATUS status = MiPageOut(s.Space, q->Va);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "page_out", "MiPageOut(0x%llx, %s): 0x%x", (ULONG64)q->Va,
                     KtPfProtectionName(q->Protection), status))
            goto done;
        q->Out = TRUE;
        q->Slot = want;
        LONG bad = KtPfCompare(KtPfSlotData(want), q->Salt);
        if (!KtCheck(Context, f->Writes == writes + 1, "page_out_write", "MiPageOut(0x%llx): Writes %u, was %u: the "
                     "page goes to the disk through MiPagefileIo", (ULONG64)q->Va, f->Writes, writes) ||
            !KtCheck(Context, bad < 0, "page_out_data", "MiPageOut(0x%llx): slot %u on the disk differs from the page at "
                     "byte %d", (ULONG64)q->Va, want, bad * 8) ||
            !KtCheck(Context, KtPfFrameIsFree(q->Pfn), "frame_freed", "MiPageOut(0x%llx): frame 0x%llx is still in use "
                     "(location %u): a page that went out gives its frame back", (ULONG64)q->Va, (ULONG64)q->Pfn,
                     MI_PFN_ELEMENT(q->Pfn)->PageLocation) ||
            !KtAuditPages(Context, "after a page-out", &s, p, n))
            goto done;
        /* A page that is out cannot go out again. */
        if (k == 0) {
            ULONG64 before = KtPte(&s, q->Va)->Long;
            ULONG fs = f->FreeSpace;
            status = MiPageOut(s.Space, q->Va);
            if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && KtPte(&s, q->Va)->Long == before &&
                         f->FreeSpace == fs, "out_twice", "MiPageOut of a page already out (PTE 0x%016llx): 0x%x, "
                         "FreeSpace %u (was %u); expected STATUS_INVALID_PARAMETER, nothing changed", before, status,
                         f->FreeSpace, fs))
                goto done;
            /* No table at all for the address. */
            status = MiPageOut(s.Space, 0x7FFF00000000ULL + KtRandomRange(Context, 0, 255) * PAGE_SIZE);
            if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER, "out_unmapped", "MiPageOut of an address with no "
                         "page table: 0x%x, expected STATUS_INVALID_PARAMETER", status))
                goto done;
            /* A resident page's address not page aligned: refused, nothing changes. */
            KT_OUT_PAGE *r = &p[order[1]];
            ULONG64 rb = KtPte(&s, r->Va)->Long;
            ULONG_PTR odd = r->Va + KtRandomRange(Context, 1, PAGE_SIZE - 1);
            status = MiPageOut(s.Space, odd);
            if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && KtPte(&s, r->Va)->Long == rb &&
                         f->FreeSpace == fs, "out_unmapped", "MiPageOut(0x%llx), not page aligned: 0x%x, PTE 0x%016llx "
                         "(was 0x%016llx), FreeSpace %u (was %u); expected STATUS_INVALID_PARAMETER, nothing changed",
                         (ULONG64)odd, status, KtPte(&s, r->Va)->Long, rb, f->FreeSpace, fs))
                goto done;
            /* A write the disk refuses (a slot past its end): the slot is freed again, the page stays resident. */
            ULONG words = (f->Size + 8 + 63) / 64, real = (f->Size + 63) / 64;
            ULONG64 *bits = ExAllocatePoolWithTag(NonPagedPool, words * sizeof(ULONG64), KT_PF_BITS_TAG);
            if (!KtCheck(Context, bits != NULL, "pool", "no pool for a bitmap"))
                goto done;
            for (ULONG w = 0; w < words; w++)
                bits[w] = w < real ? f->Bitmap[w] : 0;
            for (ULONG b = f->Size; b < f->Size + 8; b++)
                bits[b / 64] &= ~(1ULL << (b % 64));
            MMPAGING_FILE liar = *f;
            liar.Size = f->Size + 8;
            liar.Bitmap = bits;
            liar.Hint = f->Size;
            liar.FreeSpace = f->FreeSpace + 8;
            PFN_NUMBER avail = MmAvailablePages;
            MmPagingFile = &liar;
            status = MiPageOut(s.Space, r->Va);
            MmPagingFile = f;
            BOOLEAN kept = (bits[f->Size / 64] >> (f->Size % 64)) & 1;
            ExFreePoolWithTag(bits, KT_PF_BITS_TAG);
            if (!KtCheck(Context, !NT_SUCCESS(status) && KtPte(&s, r->Va)->Long == rb && MmAvailablePages == avail,
                         "out_write_fails", "MiPageOut(0x%llx) when the disk refuses the write: 0x%x, PTE 0x%016llx (was "
                         "0x%016llx), available frames %llu (were %llu); expected the failure returned and the page "
                         "resident and valid on its frame", (ULONG64)r->Va, status, KtPte(&s, r->Va)->Long, rb,
                         (ULONG64)MmAvailablePages, (ULONG64)avail) ||
                !KtCheck(Context, !kept && liar.FreeSpace == f->FreeSpace + 8 && liar.Writes == f->Writes,
                         "out_write_fails", "MiPageOut when the disk refuses the write: slot %u still marked in use "
                         "(%u), FreeSpace %u (was %u), Writes %u (was %u): a failed write frees its slot and counts "
                         "nothing", f->Size, kept, liar.FreeSpace, f->FreeSpace + 8, liar.Writes, f->Writes))
                goto done;
        }
    }
    KtCheck(Context, MmAvailablePages == availMapped + n, "frames_out", "after %u page-outs %llu frames are available, "
            "expected %llu", n, (ULONG64)MmAvailablePages, (ULONG64)(availMapped + n));
    KtValue(Context, "paged_out", "%u", n);
    /* Refusals of MiPageIn: a demand-zero PTE, a prototype PTE (the page table exists, the PTE is
     * borrowed for the check and put back). */
    {
        KT_OUT_PAGE *q = &p[order[0]];
        PMMPTE pte = KtPte(&s, q->Va);
        ULONG64 saved = pte->Long;
        ULONG fs = f->FreeSpace;
        pte->Long = MiMakeDemandZeroPte(MM_READWRITE).Long;
        NTSTATUS status = MiPageIn(s.Space, q->Va);
        BOOLEAN ok = KtCheck(Context, status == STATUS_INVALID_PARAMETER && pte->Long == MiMakeDemandZeroPte(MM_READWRITE).Long,
                             "in_demand_zero", "MiPageIn of a demand-zero PTE (PageFileHigh 0): 0x%x, PTE now 0x%016llx; "
                             "expected STATUS_INVALID_PARAMETER, nothing changed", status, pte->Long);
        pte->Long = saved | (1ULL << 10);
        status = MiPageIn(s.Space, q->Va);
        ok = ok && KtCheck(Context, status == STATUS_INVALID_PARAMETER && pte->Long == (saved | (1ULL << 10)) &&
                           f->FreeSpace == fs, "in_prototype", "MiPageIn of a prototype PTE: 0x%x; expected "
                           "STATUS_INVALID_PARAMETER, the PTE and the pagefile unchanged", status);
        MMPTE t;
        t.Long = saved;
        t.Soft.Transition = 1;
        pte->Long = t.Long;
        status = MiPageIn(s.Space, q->Va);
        ok = ok && KtCheck(Context, status == STATUS_INVALID_PARAMETER && pte->Long == t.Long && f->FreeSpace == fs,
                           "in_transition", "MiPageIn of a transition PTE (0x%016llx: Transition 1, the frame still in "
                           "memory): 0x%x; expected STATUS_INVALID_PARAMETER, the PTE and the pagefile unchanged", t.Long,
                           status);
        pte->Long = saved;
        if (!ok)
            goto done;
    }
    /* A read that fails: a pagefile that claims more slots than its disk; the page stays out. */
    {
        KT_OUT_PAGE *q = &p[order[1]];
        PMMPTE pte = KtPte(&s, q->Va);
        ULONG64 saved = pte->Long;
        MMPAGING_FILE liar = *f;
        liar.Size = f->Size + 8;
        ULONG past = f->Size + (ULONG)KtRandomRange(Context, 0, 7);
        ULONG words = (liar.Size + 63) / 64, real = (f->Size + 63) / 64;
        ULONG64 *bits = ExAllocatePoolWithTag(NonPagedPool, words * sizeof(ULONG64), KT_PF_BITS_TAG);
        if (!KtCheck(Context, bits != NULL, "pool", "no pool for a bitmap")) {
            pte->Long = saved;
            goto done;
        }
        for (ULONG w = 0; w < words; w++)
            bits[w] = w < real ? f->Bitmap[w] : 0;
        bits[past / 64] |= 1ULL << (past % 64); /* the slot the page is in */
        liar.Bitmap = bits;
        pte->Long = MiMakePagefilePte(past, q->Protection);
        PFN_NUMBER avail = MmAvailablePages;
        MmPagingFile = &liar;
        NTSTATUS status = MiPageIn(s.Space, q->Va);
        MmPagingFile = f;
        BOOLEAN ok = KtCheck(Context, !NT_SUCCESS(status) && pte->Long == MiMakePagefilePte(past, q->Protection) &&
                             MmAvailablePages == avail, "in_read_fails", "MiPageIn when the disk refuses the read: "
                             "0x%x, PTE 0x%016llx, available frames %llu (were %llu); expected the failure returned, the "
                             "PTE unchanged and the frame given back", status, pte->Long, (ULONG64)MmAvailablePages,
                             (ULONG64)avail);
        ok = ok && KtCheck(Context, ((bits[past / 64] >> (past % 64)) & 1) && liar.FreeSpace == f->FreeSpace,
                           "in_read_fails", "MiPageIn when the disk refuses the read: slot %u %s, FreeSpace %u (was %u): "
                           "the page is still in its slot - a failed read frees nothing", past,
                           ((bits[past / 64] >> (past % 64)) & 1) ? "in use" : "freed", liar.FreeSpace, f->FreeSpace);
        ExFreePoolWithTag(bits, KT_PF_BITS_TAG);
        pte->Long = saved;
        if (!ok)
            goto done;
    }
    /* Back in, in another order. */
    KtShuffle(Context, order, n);
    for (ULONG k = 0; k < n; k++) {
        KT_OUT_PAGE *q = &p[order[k]];
        ULONG reads = f->Reads, fs = f->FreeSpace;
        NTSTATUS status = MiPageIn(s.Space, q->Va);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "page_in", "MiPageIn(0x%llx, slot %u): 0x%x", (ULONG64)q->Va,
                     q->Slot, status))
            goto done;
        PMMPTE pte = KtPte(&s, q->Va);
        q->Out = FALSE;
        q->Pfn = pte->Hard.PageFrameNumber;
        if (!KtCheck(Context, f->Reads == reads + 1, "page_in_read", "MiPageIn(0x%llx): Reads %u, was %u: the page comes "
                     "from the disk through MiPagefileIo", (ULONG64)q->Va, f->Reads, reads) ||
            !KtCheck(Context, !KtPfSlotBit(f, q->Slot) && f->FreeSpace == fs + 1, "slot_freed", "MiPageIn(0x%llx): slot "
                     "%u still in use (FreeSpace %u, was %u): a page that came back frees its slot", (ULONG64)q->Va,
                     q->Slot, f->FreeSpace, fs) ||
            !KtCheck(Context, q->Pfn <= MmHighestPhysicalPage && !KtPfFrameIsFree(q->Pfn) &&
                     MI_PFN_ELEMENT(q->Pfn)->PteAddress == (ULONG64)pte, "pfn", "MiPageIn(0x%llx): frame 0x%llx is free "
                     "or its PteAddress 0x%llx is not the PTE 0x%llx", (ULONG64)q->Va, (ULONG64)q->Pfn,
                     q->Pfn <= MmHighestPhysicalPage ? MI_PFN_ELEMENT(q->Pfn)->PteAddress : 0, (ULONG64)pte) ||
            !KtAuditPages(Context, "after a page-in", &s, p, n))
            goto done;
        if (k == 0) {
            ULONG64 before = pte->Long;
            status = MiPageIn(s.Space, q->Va);
            if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && pte->Long == before, "in_valid", "MiPageIn of a "
                         "valid page: 0x%x; expected STATUS_INVALID_PARAMETER, nothing changed", status))
                goto done;
        }
    }
    KtCheck(Context, MmAvailablePages == availMapped && f->FreeSpace == free0, "conserved", "after every page came "
            "back: %llu frames available (expected %llu), FreeSpace %u (expected %u)", (ULONG64)MmAvailablePages,
            (ULONG64)availMapped, f->FreeSpace, free0);
    /* A full pagefile: MiPageOut fails with STATUS_PAGEFILE_QUOTA and the page stays. */
    {
        static ULONG64 fullBits[(KT_PF_SLOTS + 63) / 64];
        MMPAGING_FILE full = *f;
        for (ULONG i = 0; i < (KT_PF_SLOTS + 63) / 64; i++)
            fullBits[i] = ~0ULL;
        full.Bitmap = fullBits;
        full.FreeSpace = 0;
        KT_OUT_PAGE *q = &p[order[n - 1]];
        ULONG64 before = KtPte(&s, q->Va)->Long;
        MmPagingFile = &full;
        NTSTATUS status = MiPageOut(s.Space, q->Va);
        MmPagingFile = f;
        KtCheck(Context, status == STATUS_PAGEFILE_QUOTA && KtPte(&s, q->Va)->Long == before &&
                !KtPfFrameIsFree(q->Pfn) && full.Writes == f->Writes, "out_full", "MiPageOut with a full pagefile: 0x%x, "
                "PTE 0x%016llx (was 0x%016llx); expected STATUS_PAGEFILE_QUOTA, the page resident and nothing written",
                status, KtPte(&s, q->Va)->Long, before);
    }
done:
    KtPfDestroySpace(&s);
    KtCheck(Context, MmAvailablePages == avail0 && f->FreeSpace == free0, "conserved", "at the end: %llu frames available "
            "(expected %llu), FreeSpace %u (expected %u)", (ULONG64)MmAvailablePages, (ULONG64)avail0, f->FreeSpace,
            free0);
}
