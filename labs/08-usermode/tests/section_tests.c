/* section_tests.c - lab 08 public tests of sections and copy-on-write (pf part):
 *   pf.section  a section of seeded size (more than 64 KiB) mapped read-write in process A,
 *               copy-on-write in process B and a second time in A at a 64 KiB offset: no
 *               frame until a page is touched; what A writes, B and A's second view see on
 *               the same frame; B's write gives B alone a private copy (A and the section
 *               keep the original, B's other pages stay shared); A's shared pages trimmed
 *               become Proto PTEs and come back without I/O; unmapping B frees only its
 *               copy; closing with views left keeps the section until the last unmap;
 *               every error of MmCreateSection / MiMapViewOfSection / MiUnmapViewOfSection;
 *               frames and pool conserved. */
#include "lab08pf_support.h"
#include "kuser.h"

static UCHAR KtBuf[PAGE_SIZE];

static BOOLEAN KtRead(KT_PF_SPACE *S, ULONG_PTR Va, ULONG Salt, NTSTATUS *Status)
{
    KeStackAttachProcess(&S->Process);
    *Status = KeCopyFromUser(KtBuf, (PVOID)Va, PAGE_SIZE);
    KeUnstackDetachProcess();
    return NT_SUCCESS(*Status) && KtPfCompare(KtBuf, Salt) < 0;
}

static NTSTATUS KtWrite(KT_PF_SPACE *S, ULONG_PTR Va, ULONG Salt)
{
    KtPfFill(KtBuf, Salt);
    KeStackAttachProcess(&S->Process);
    NTSTATUS status = KeCopyToUser((PVOID)Va, KtBuf, PAGE_SIZE);
    KeUnstackDetachProcess();
    return status;
}

static NTSTATUS KtMap(KT_PF_SPACE *S, PMM_SECTION Section, PVOID *Base, ULONG64 Offset, PSIZE_T Size, ULONG Protect)
{
    KeAcquireGuardedMutex(&S->Space->AddressCreationLock);
    NTSTATUS status = MiMapViewOfSection(S->Space, Section, Base, Offset, Size, Protect);
    KeReleaseGuardedMutex(&S->Space->AddressCreationLock);
    return status;
}

static NTSTATUS KtUnmap(KT_PF_SPACE *S, PVOID Base)
{
    KeAcquireGuardedMutex(&S->Space->AddressCreationLock);
    NTSTATUS status = MiUnmapViewOfSection(S->Space, Base);
    KeReleaseGuardedMutex(&S->Space->AddressCreationLock);
    return status;
}

KTEST("pf.section", KtPfSection)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    PMM_SECTION sec = NULL;
    NTSTATUS status = MmCreateSection(&sec, 0, PAGE_READWRITE);
    if (!KtRequireImplemented(Context, status, "MmCreateSection", "lab 08"))
        return;
    KtCheck(Context, status == STATUS_INVALID_PARAMETER_4 && sec == NULL, "create_invalid", "MmCreateSection of 0 bytes: "
            "0x%x, expected STATUS_INVALID_PARAMETER_4 and *Section NULL", status);
    sec = (PMM_SECTION)1;
    status = MmCreateSection(&sec, PAGE_SIZE, PAGE_READWRITE | PAGE_GUARD);
    KtCheck(Context, status == STATUS_INVALID_PAGE_PROTECTION && sec == NULL, "create_invalid", "MmCreateSection with "
            "PAGE_GUARD: 0x%x, expected STATUS_INVALID_PAGE_PROTECTION and *Section NULL", status);
    status = MmCreateSection(&sec, PAGE_SIZE, PAGE_WRITECOPY);
    KtCheck(Context, status == STATUS_INVALID_PAGE_PROTECTION, "create_invalid", "MmCreateSection with PAGE_WRITECOPY: "
            "0x%x, expected STATUS_INVALID_PAGE_PROTECTION (a view may be copy-on-write, not the section)", status);

    static KT_PF_SPACE a, b;
    PFN_NUMBER avail0 = MmAvailablePages;
    BOOLEAN haveA = KtPfCreateSpace(Context, &a), haveB = haveA && KtPfCreateSpace(Context, &b);
    PVOID va1 = NULL, va2 = NULL, vb = NULL;
    static MMWSLE wsle[2][64];
    static MMWSL wsl[2];
    if (!haveB)
        goto done;
    MiInitializeWorkingSet(a.Space, &wsl[0], wsle[0], 64, 0, 64);
    MiInitializeWorkingSet(b.Space, &wsl[1], wsle[1], 64, 0, 64);
    ULONG pages = (ULONG)KtRandomRange(Context, 17, 28);
    ULONG64 bytes = (ULONG64)pages * PAGE_SIZE - KtRandomRange(Context, 0, PAGE_SIZE - 1);
    PFN_NUMBER availBefore = MmAvailablePages;
    status = MmCreateSection(&sec, bytes, PAGE_READWRITE);
    if (!KtCheck(Context, status == STATUS_SUCCESS && sec != NULL, "create", "MmCreateSection(%llu bytes): 0x%x", bytes,
                 status))
        goto done;
    if (!KtCheck(Context, sec->NumberOfPtes == pages && sec->SizeOfSection == bytes && sec->References == 1 &&
                 sec->MappedViews == 0 && sec->Protection == MM_READWRITE && sec->Tag == MI_SECTION_TAG, "create_fields",
                 "the section: %u PTEs (expected %u), size %llu, References %u, MappedViews %u, Protection %u", sec->NumberOfPtes,
                 pages, sec->SizeOfSection, sec->References, sec->MappedViews, sec->Protection) ||
        !KtCheck(Context, MmAvailablePages == availBefore, "no_frames_yet", "creating a section took %lld frames; its "
                 "pages cost a frame only when a view touches them", (LONG64)(availBefore - MmAvailablePages)))
        goto done;
    for (ULONG i = 0; i < pages; i++)
        if (!KtCheck(Context, sec->PrototypePtes[i].Long == MiMakeDemandZeroPte(MM_READWRITE).Long, "prototype", "prototype "
                     "PTE %u is 0x%016llx, expected demand zero with the section's protection", i,
                     sec->PrototypePtes[i].Long))
            goto done;
    /* Map: A read-write (base chosen), B copy-on-write (whole section), A again at 64 KiB. */
    SIZE_T size1 = 0, sizeb = 0, size2 = (SIZE_T)KtRandomRange(Context, 1, (pages - 16) * PAGE_SIZE);
    status = KtMap(&a, sec, &va1, 0, &size1, PAGE_READWRITE);
    PMMVAD vad = status == STATUS_SUCCESS ? MiLocateAddress(&a.Space->VadRoot, MI_VA_TO_VPN((ULONG_PTR)va1)) : NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS && va1 != NULL && (ULONG_PTR)va1 % 0x10000 == 0 &&
                 size1 == pages * PAGE_SIZE, "map", "MiMapViewOfSection(A, NULL base, offset 0, size 0): 0x%x, base %p, "
                 "size 0x%llx; expected a 64 KiB-aligned base and the whole section (0x%llx)", status, va1, (ULONG64)size1,
                 (ULONG64)pages * PAGE_SIZE) ||
        !KtCheck(Context, vad != NULL && vad->u.VadFlags.VadType == VadMappedView && vad->u.VadFlags.MemCommit &&
                 !vad->u.VadFlags.PrivateMemory && vad->u.VadFlags.Protection == MM_READWRITE && vad->ControlArea == sec &&
                 vad->FirstPrototypePte == &sec->PrototypePtes[0] && vad->ViewOffset == 0 &&
                 vad->StartingVpn == MI_VA_TO_VPN((ULONG_PTR)va1) && vad->EndingVpn == vad->StartingVpn + pages - 1 &&
                 vad->LastContiguousPte == &sec->PrototypePtes[pages - 1],
                 "view_vad", "the view's VAD: type %u, MemCommit %u, PrivateMemory %u, Protection %u, ControlArea %p, "
                 "FirstPrototypePte %p (expected %p), pages %llu", vad ? vad->u.VadFlags.VadType : 0,
                 vad ? vad->u.VadFlags.MemCommit : 0, vad ? vad->u.VadFlags.PrivateMemory : 0,
                 vad ? vad->u.VadFlags.Protection : 0, vad ? vad->ControlArea : NULL, vad ? vad->FirstPrototypePte : NULL,
                 &sec->PrototypePtes[0], vad ? (ULONG64)MI_VAD_PAGES(vad) : 0) ||
        !KtCheck(Context, a.Space->VirtualSize == size1 && sec->MappedViews == 1, "view_counters", "after one view: "
                 "VirtualSize 0x%llx (expected 0x%llx), MappedViews %u", (ULONG64)a.Space->VirtualSize, (ULONG64)size1,
                 sec->MappedViews))
        goto done;
    status = KtMap(&b, sec, &vb, 0, &sizeb, PAGE_WRITECOPY);
    if (!KtCheck(Context, status == STATUS_SUCCESS && sizeb == size1, "map", "MiMapViewOfSection(B, copy-on-write): 0x%x",
                 status))
        goto done;
    ULONG64 want2 = ALIGN_UP(size2, PAGE_SIZE);
    status = KtMap(&a, sec, &va2, 0x10000, &size2, PAGE_READONLY);
    vad = status == STATUS_SUCCESS ? MiLocateAddress(&a.Space->VadRoot, MI_VA_TO_VPN((ULONG_PTR)va2)) : NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS && size2 == want2 && va2 != va1 && vad != NULL &&
                 vad->FirstPrototypePte == &sec->PrototypePtes[16] && vad->ViewOffset == 0x10000, "map_offset",
                 "MiMapViewOfSection(A, offset 64 KiB, size rounded to 0x%llx): 0x%x, size 0x%llx, first prototype %p "
                 "(expected %p)", want2, status, (ULONG64)size2, vad ? vad->FirstPrototypePte : NULL,
                 &sec->PrototypePtes[16]) ||
        !KtCheck(Context, MmAvailablePages == availBefore, "no_frames_yet", "mapping three views took %lld frames",
                 (LONG64)(availBefore - MmAvailablePages)))
        goto done;
    ULONG_PTR A1 = (ULONG_PTR)va1, A2 = (ULONG_PTR)va2, B = (ULONG_PTR)vb;
    /* A writes every page through view 1: one frame a page, in the prototype. */
    SIZE_T tables = a.Space->PageTablePages;
    for (ULONG i = 0; i < pages; i++) {
        status = KtWrite(&a, A1 + i * PAGE_SIZE, 300 + i);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "write_view", "A writes page %u of its read-write view: 0x%x", i,
                     status))
            goto done;
        MMPTE pte = MiReadUserPte(a.Space, A1 + i * PAGE_SIZE);
        if (!KtCheck(Context, sec->PrototypePtes[i].Hard.Valid && pte.Hard.Valid &&
                     pte.Hard.PageFrameNumber == sec->PrototypePtes[i].Hard.PageFrameNumber &&
                     MI_PFN_ELEMENT(pte.Hard.PageFrameNumber)->PteAddress == (ULONG64)&sec->PrototypePtes[i], "prototype_frame",
                     "page %u: A's PTE 0x%016llx, prototype 0x%016llx; expected both valid on the same frame, whose "
                     "PteAddress is the prototype PTE", i, pte.Long, sec->PrototypePtes[i].Long))
            goto done;
    }
    tables = a.Space->PageTablePages - tables;
    if (!KtCheck(Context, MmAvailablePages == availBefore - pages - tables, "one_frame_a_page", "%lld frames for %u pages "
                 "written (and %llu page tables)", (LONG64)(availBefore - MmAvailablePages - tables), pages, (ULONG64)tables))
        goto done;
    /* B and A's second view see them, on the same frames. */
    for (ULONG i = 0; i < pages; i++) {
        if (!KtCheck(Context, KtRead(&b, B + i * PAGE_SIZE, 300 + i, &status), "shared", "B reads page %u of its view: "
                     "0x%x, not what A wrote", i, status) ||
            !KtCheck(Context, MiReadUserPte(b.Space, B + i * PAGE_SIZE).Hard.PageFrameNumber ==
                     sec->PrototypePtes[i].Hard.PageFrameNumber && !MiReadUserPte(b.Space, B + i * PAGE_SIZE).Hard.Write,
                     "shared", "B's PTE of page %u (0x%016llx) is not the section's frame, read-only until written", i,
                     MiReadUserPte(b.Space, B + i * PAGE_SIZE).Long))
            goto done;
        if (i >= 16 && i - 16 < want2 / PAGE_SIZE &&
            !KtCheck(Context, KtRead(&a, A2 + (i - 16) * PAGE_SIZE, 300 + i, &status), "view_offset", "A's second view "
                     "(offset 64 KiB) page %u: 0x%x, not section page %u", i - 16, status, i))
            goto done;
    }
    /* A's second view is read-only. */
    status = KtWrite(&a, A2, 1);
    if (!KtCheck(Context, status == STATUS_ACCESS_VIOLATION, "view_protection", "A writes its read-only view: 0x%x",
                 status))
        goto done;
    /* B writes a seeded page: its own copy. */
    ULONG k = (ULONG)KtRandomRange(Context, 0, pages - 1);
    PFN_NUMBER before = MmAvailablePages;
    status = KtWrite(&b, B + k * PAGE_SIZE, 700);
    MMPTE pb = MiReadUserPte(b.Space, B + k * PAGE_SIZE);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "copy_on_write", "B writes page %u of its copy-on-write view: 0x%x", k,
                 status) ||
        !KtCheck(Context, pb.Hard.Valid && pb.Hard.Write && pb.Hard.PageFrameNumber != sec->PrototypePtes[k].Hard.PageFrameNumber &&
                 MI_VALID_PTE_PROTECTION(pb) == MM_READWRITE && MmAvailablePages == before - 1, "private_copy", "after "
                 "B's write to page %u: PTE 0x%016llx, %lld frames taken; expected a writable READWRITE PTE on a new frame "
                 "of its own", k, pb.Long, (LONG64)(before - MmAvailablePages)) ||
        !KtCheck(Context, KtRead(&b, B + k * PAGE_SIZE, 700, &status), "private_copy", "B reads back what it wrote: 0x%x",
                 status) ||
        !KtCheck(Context, KtRead(&a, A1 + k * PAGE_SIZE, 300 + k, &status) &&
                 KtPfCompare(MiPfnToVirtual(sec->PrototypePtes[k].Hard.PageFrameNumber), 300 + k) < 0, "writer_only",
                 "after B's copy-on-write write, A (or the section) sees B's data at page %u: only the writer may see it",
                 k))
        goto done;
    /* B's other pages are still shared: A writes another page, B sees it. */
    ULONG m = (k + 1 + (ULONG)KtRandomRange(Context, 0, pages - 2)) % pages;
    if (!KtCheck(Context, KtWrite(&a, A1 + m * PAGE_SIZE, 900) == STATUS_SUCCESS, "write_view", "A writes page %u", m) ||
        !KtCheck(Context, KtRead(&b, B + m * PAGE_SIZE, 900, &status), "still_shared", "B does not see A's new write to "
                 "page %u, which B never wrote: copy-on-write copies only the written page", m))
        goto done;
    /* A's pages leave the working set: Proto PTEs, no I/O, the frames kept; they come back. */
    {
        ULONG writes = MmPagingFile->Writes, reads = MmPagingFile->Reads;
        PFN_NUMBER av = MmAvailablePages;
        ULONG trimmed = MiTrimWorkingSet(a.Space, 64);
        MMPTE pa = MiReadUserPte(a.Space, A1);
        if (!KtCheck(Context, trimmed > 0 && MmPagingFile->Writes == writes && MmAvailablePages == av, "shared_trim",
                     "trimming A's shared pages: %u left, %u pagefile writes, %lld frames freed; expected no write and no "
                     "frame freed (the section keeps them)", trimmed, MmPagingFile->Writes - writes,
                     (LONG64)(MmAvailablePages - av)) ||
            !KtCheck(Context, !pa.Hard.Valid && pa.Proto.Prototype && MiGetProtoPteAddress(pa) == &sec->PrototypePtes[0],
                     "proto_pte", "A's trimmed page 0 has PTE 0x%016llx, expected a Proto PTE pointing at the prototype %p",
                     pa.Long, &sec->PrototypePtes[0]) ||
            !KtCheck(Context, KtRead(&a, A1 + m * PAGE_SIZE, 900, &status) && KtRead(&a, A1, m == 0 ? 900 : 300,
                     &status) && MmPagingFile->Reads == reads, "shared_back", "A's shared pages after the trim: 0x%x, "
                     "contents or %u pagefile reads", status, MmPagingFile->Reads - reads))
            goto done;
    }
    /* B's private copy is B's own page: it goes to the pagefile and comes back. A shared page of B that left
     * as a Proto PTE and is then written gets its private copy in MiResolveMappedFault, B's own page too. */
    {
        ULONG m2 = (k + 1 + (ULONG)KtRandomRange(Context, 0, pages - 2)) % pages;
        ULONG_PTR vk = B + k * PAGE_SIZE, vm2 = B + m2 * PAGE_SIZE;
        for (ULONG pass = 0; pass < 2; pass++) {
            ULONG_PTR v = pass == 0 ? vk : vm2;
            if (MiReadUserPte(b.Space, v).Hard.Valid) {
                MiRemoveWorkingSetPage(b.Space, v);
                status = MiPageOut(b.Space, v);
            } else {
                status = STATUS_SUCCESS;
            }
            MMPTE e = MiReadUserPte(b.Space, v);
            BOOLEAN want = pass == 0 ? !e.Hard.Valid && !e.Soft.Prototype && !e.Soft.Transition && e.Soft.PageFileHigh != 0
                                     : !e.Hard.Valid && e.Proto.Prototype && MiGetProtoPteAddress(e) == &sec->PrototypePtes[m2];
            if (!KtCheck(Context, status == STATUS_SUCCESS && want, pass == 0 ? "private_copy" : "proto_pte", "B's page %u "
                         "(%s) left its working set: 0x%x, PTE 0x%016llx; expected %s", pass == 0 ? k : m2, pass == 0 ?
                         "its private copy" : "shared", status, e.Long, pass == 0 ? "a pagefile PTE (the copy's frame is "
                         "B's own: its MMPFN PteAddress is B's PTE, not the section's prototype)" : "a Proto PTE"))
                goto done;
        }
        if (!KtCheck(Context, KtRead(&b, vk, 700, &status), "private_copy", "B's private copy of page %u back from the "
                     "pagefile: 0x%x, not what B wrote", k, status))
            goto done;
        PFN_NUMBER av = MmAvailablePages;
        status = KtWrite(&b, vm2, 1100);
        MMPTE pw = MiReadUserPte(b.Space, vm2);
        PMMPTE where = MiGetUserPte(b.Space, vm2, FALSE);
        if (!KtCheck(Context, status == STATUS_SUCCESS && pw.Hard.Valid && pw.Hard.Write &&
                     pw.Hard.PageFrameNumber != sec->PrototypePtes[m2].Hard.PageFrameNumber &&
                     MI_VALID_PTE_PROTECTION(pw) == MM_READWRITE &&
                     MI_PFN_ELEMENT(pw.Hard.PageFrameNumber)->PteAddress == (ULONG64)where, "private_copy", "B writes "
                     "page %u, whose PTE was a Proto PTE: 0x%x, PTE 0x%016llx, frame's PteAddress 0x%llx (B's PTE at %p), "
                     "%lld frames taken; expected a READWRITE PTE on a new frame of B's own", m2, status, pw.Long,
                     pw.Hard.Valid ? (ULONG64)MI_PFN_ELEMENT(pw.Hard.PageFrameNumber)->PteAddress : 0, where,
                     (LONG64)(av - MmAvailablePages)) ||
            !KtCheck(Context, KtRead(&b, vm2, 1100, &status) && KtRead(&a, A1 + m2 * PAGE_SIZE, m2 == m ? 900 : 300 + m2,
                     &status), "writer_only", "after B's first-touch write to page %u: B or A reads the wrong data "
                     "(0x%x): only the writer sees it", m2, status))
            goto done;
    }
    /* A shared page that leaves the working set of the process it is attached to: its TLB entry is flushed,
     * so the next touch faults and maps it again (a stale entry would read on without a fault). */
    {
        ULONG j = (ULONG)KtRandomRange(Context, 0, pages - 1);
        ULONG_PTR vj = A1 + j * PAGE_SIZE;
        static UCHAR tiny[8];
        KeStackAttachProcess(&a.Process);
        KeCopyFromUser(tiny, (PVOID)vj, sizeof(tiny)); /* resident, in the TLB */
        MiRemoveWorkingSetPage(a.Space, vj);
        status = MiPageOut(a.Space, vj);
        MMPTE out = MiReadUserPte(a.Space, vj);
        ULONG faults = a.Space->Vm.PageFaultCount;
        KeCopyFromUser(tiny, (PVOID)vj, sizeof(tiny));
        KeUnstackDetachProcess();
        MMPTE back = MiReadUserPte(a.Space, vj);
        if (!KtCheck(Context, status == STATUS_SUCCESS && out.Proto.Prototype && !out.Hard.Valid, "proto_pte", "A's "
                     "shared page %u paged out while attached: 0x%x, PTE 0x%016llx; expected a Proto PTE", j, status,
                     out.Long) ||
            !KtCheck(Context, back.Hard.Valid && a.Space->Vm.PageFaultCount == faults + 1, "shared_back", "A touches "
                     "its shared page %u again (same attached session): PTE 0x%016llx, %u faults; expected one fault "
                     "that maps it again - MiPageOut flushes the TLB entry of the page it makes a Proto PTE", j,
                     back.Long, a.Space->Vm.PageFaultCount - faults))
            goto done;
    }
    /* An executable section in a PAGE_EXECUTE_WRITECOPY view: both kinds of private copy (of a resident page,
     * MiCopyOnWrite; at a first touch that writes, MiResolveMappedFault) keep the execute right. */
    {
        PMM_SECTION xs = NULL;
        status = MmCreateSection(&xs, 2 * PAGE_SIZE, PAGE_EXECUTE_READWRITE);
        if (!KtCheck(Context, status == STATUS_SUCCESS && xs != NULL, "create_fields", "MmCreateSection(2 pages, "
                     "PAGE_EXECUTE_READWRITE): 0x%x", status))
            goto done;
        PVOID xb = NULL;
        SIZE_T xsz = 0;
        status = KtMap(&b, xs, &xb, 0, &xsz, PAGE_EXECUTE_WRITECOPY);
        BOOLEAN ok = KtCheck(Context, status == STATUS_SUCCESS, "map_protection", "a PAGE_EXECUTE_WRITECOPY view of an "
                             "executable read-write section: 0x%x", status);
        if (ok) {
            KtRead(&b, (ULONG_PTR)xb, 0, &status); /* resident first, read-only: the write below copies it */
            NTSTATUS w0 = KtWrite(&b, (ULONG_PTR)xb, 1200), w1 = KtWrite(&b, (ULONG_PTR)xb + PAGE_SIZE, 1201);
            for (ULONG i = 0; ok && i < 2; i++) {
                MMPTE e = MiReadUserPte(b.Space, (ULONG_PTR)xb + i * PAGE_SIZE);
                ok = KtCheck(Context, (i ? w1 : w0) == STATUS_SUCCESS && e.Hard.Valid && e.Hard.Write && !e.Hard.NoExecute &&
                             MI_VALID_PTE_PROTECTION(e) == MM_EXECUTE_READWRITE &&
                             e.Hard.PageFrameNumber != xs->PrototypePtes[i].Hard.PageFrameNumber, "private_copy",
                             "B writes page %u of a PAGE_EXECUTE_WRITECOPY view (%s): 0x%x, PTE 0x%016llx; expected a "
                             "private copy mapped MM_EXECUTE_READWRITE (EXECUTE_WRITECOPY keeps the execute right)", i,
                             i ? "its first touch" : "resident, read-only", i ? w1 : w0, e.Long);
            }
            for (ULONG i = 0; ok && i < 2; i++)
                ok = KtCheck(Context, xs->PrototypePtes[i].Hard.Valid &&
                             MI_VALID_PTE_PROTECTION(xs->PrototypePtes[i]) == MM_EXECUTE_READWRITE, "prototype_frame",
                             "prototype PTE %u of an executable read-write section first touched through a "
                             "PAGE_EXECUTE_WRITECOPY view: 0x%016llx, expected valid with the section's protection "
                             "MM_EXECUTE_READWRITE (not the view's)", i, xs->PrototypePtes[i].Long);
            KtUnmap(&b, xb);
        }
        MmCloseSection(xs);
        if (!ok)
            goto done;
    }
    /* A Proto PTE with a protection of its own (here read-only in A's read-write view) rules over the view's:
     * a write is refused with nothing changed, a read maps the page read-only. */
    if (pages > 2) {
        ULONG p3 = 1 + (ULONG)KtRandomRange(Context, 0, pages - 2);
        ULONG_PTR v3 = A1 + p3 * PAGE_SIZE;
        if (MiReadUserPte(a.Space, v3).Hard.Valid) {
            MiRemoveWorkingSetPage(a.Space, v3);
            MiPageOut(a.Space, v3);
        }
        PMMPTE q3 = MiGetUserPte(a.Space, v3, FALSE);
        if (!KtCheck(Context, q3 != NULL && q3->Proto.Prototype && !q3->Hard.Valid, "proto_pte", "A's page %u after "
                     "MiPageOut: PTE 0x%016llx, expected a Proto PTE", p3, q3 ? q3->Long : 0))
            goto done;
        q3->Proto.Protection = MM_READONLY;
        ULONG64 before = q3->Long;
        status = KtWrite(&a, v3, 1300);
        BOOLEAN refused = status == STATUS_ACCESS_VIOLATION && q3->Long == before;
        BOOLEAN read = KtRead(&a, v3, p3 == m ? 900 : 300 + p3, &status);
        MMPTE e = *q3;
        if (!KtCheck(Context, refused, "view_protection", "A writes page %u whose Proto PTE has its own protection "
                     "MM_READONLY (the view is read-write): 0x%x, PTE 0x%016llx (was 0x%016llx); expected "
                     "STATUS_ACCESS_VIOLATION, nothing changed (a Proto PTE's own Protection, when not 0, is the page's)",
                     p3, status, q3->Long, before) ||
            !KtCheck(Context, read && e.Hard.Valid && !e.Hard.Write && MI_VALID_PTE_PROTECTION(e) == MM_READONLY,
                     "view_protection", "A reads page %u (Proto PTE protection MM_READONLY): 0x%x, PTE 0x%016llx; "
                     "expected the section's data mapped read-only", p3, status, e.Long))
            goto done;
    }
    /* Errors. */
    {
        PVOID base = (PVOID)(A1 + 0x1000);
        SIZE_T sz = PAGE_SIZE;
        status = KtMap(&a, sec, &base, 0, &sz, PAGE_READWRITE);
        KtCheck(Context, status == STATUS_MAPPED_ALIGNMENT && base == (PVOID)(A1 + 0x1000) && sz == PAGE_SIZE,
                "map_invalid", "a base not on 64 KiB: 0x%x, expected STATUS_MAPPED_ALIGNMENT, outputs untouched", status);
        base = NULL;
        status = KtMap(&a, sec, &base, 0x8000, &sz, PAGE_READWRITE);
        KtCheck(Context, status == STATUS_MAPPED_ALIGNMENT && base == NULL, "map_invalid", "an offset not on 64 KiB: 0x%x",
                status);
        sz = (SIZE_T)(pages - 16 + 1) * PAGE_SIZE;
        status = KtMap(&a, sec, &base, 0x10000, &sz, PAGE_READWRITE);
        KtCheck(Context, status == STATUS_INVALID_VIEW_SIZE && base == NULL, "map_invalid", "a view one page past the "
                "section's end: 0x%x, expected STATUS_INVALID_VIEW_SIZE", status);
        sz = 0;
        status = KtMap(&a, sec, &base, ALIGN_UP((ULONG64)pages * PAGE_SIZE, 0x10000), &sz, PAGE_READWRITE);
        KtCheck(Context, status == STATUS_INVALID_VIEW_SIZE, "map_invalid", "an offset at or past the end: 0x%x", status);
        sz = PAGE_SIZE;
        base = va1;
        status = KtMap(&a, sec, &base, 0, &sz, PAGE_READWRITE);
        KtCheck(Context, status == STATUS_CONFLICTING_ADDRESSES && base == va1, "map_conflict", "a view over another "
                "view: 0x%x, expected STATUS_CONFLICTING_ADDRESSES", status);
        base = NULL;
        status = KtMap(&a, sec, &base, 0, &sz, PAGE_EXECUTE_READWRITE);
        KtCheck(Context, status == STATUS_SECTION_PROTECTION, "map_protection", "an executable view of a read-write "
                "section: 0x%x, expected STATUS_SECTION_PROTECTION", status);
        PMM_SECTION ro;
        if (NT_SUCCESS(MmCreateSection(&ro, PAGE_SIZE, PAGE_READONLY))) {
            base = NULL;
            status = KtMap(&a, ro, &base, 0, &sz, PAGE_WRITECOPY);
            KtCheck(Context, status == STATUS_SECTION_PROTECTION && ro->MappedViews == 0, "map_protection", "a copy-on-"
                    "write view of a read-only section: 0x%x, expected STATUS_SECTION_PROTECTION", status);
            MmCloseSection(ro);
        }
        status = KtUnmap(&a, (PVOID)(A1 - 0x10000 * 4));
        KtCheck(Context, status == STATUS_NOT_MAPPED_VIEW, "unmap_invalid", "unmapping an address with no view: 0x%x, "
                "expected STATUS_NOT_MAPPED_VIEW", status);
        /* Private memory is not a view. */
        PVOID priv = NULL;
        SIZE_T psz = 0x10000;
        KeAcquireGuardedMutex(&a.Space->AddressCreationLock);
        status = MiAllocateVirtualMemory(a.Space, &priv, 0, &psz, MEM_RESERVE, PAGE_READWRITE);
        KeReleaseGuardedMutex(&a.Space->AddressCreationLock);
        if (KtCheck(Context, NT_SUCCESS(status), "reserve", "reserving private memory (vm's MiAllocateVirtualMemory): 0x%x",
                    status)) {
            status = KtUnmap(&a, (PVOID)((ULONG_PTR)priv + PAGE_SIZE));
            KtCheck(Context, status == STATUS_NOT_MAPPED_VIEW, "unmap_invalid", "unmapping private memory (not a view): "
                    "0x%x, expected STATUS_NOT_MAPPED_VIEW", status);
            psz = 0;
            KeAcquireGuardedMutex(&a.Space->AddressCreationLock);
            MiFreeVirtualMemory(a.Space, &priv, &psz, MEM_RELEASE);
            KeReleaseGuardedMutex(&a.Space->AddressCreationLock);
        }
    }
    /* Unmap B: its two private copies go back, the shared frames stay. */
    {
        PFN_NUMBER av = MmAvailablePages;
        status = KtUnmap(&b, (PVOID)(B + KtRandomRange(Context, 0, sizeb - 1)));
        if (!KtCheck(Context, status == STATUS_SUCCESS && MmAvailablePages == av + 2 && sec->MappedViews == 2 &&
                     b.Space->VirtualSize == 0 && MiLocateAddress(&b.Space->VadRoot, MI_VA_TO_VPN(B)) == NULL &&
                     b.Space->Vm.WorkingSetSize == 0, "unmap", "unmapping B's view (by an address inside it): 0x%x, %lld "
                     "frames back (expected 2: its private copies), MappedViews %u, VirtualSize 0x%llx, working set %llu",
                     status, (LONG64)(MmAvailablePages - av), sec->MappedViews, (ULONG64)b.Space->VirtualSize,
                     (ULONG64)b.Space->Vm.WorkingSetSize))
            goto done;
        vb = NULL;
        for (ULONG i = 0; i < pages; i++)
            if (!KtCheck(Context, MiReadUserPte(b.Space, B + i * PAGE_SIZE).Long == 0, "unmap", "B's PTE of page %u is "
                         "0x%016llx after the unmap", i, MiReadUserPte(b.Space, B + i * PAGE_SIZE).Long))
                goto done;
    }
    /* Close with views left: the section lives until the last unmap. */
    MmCloseSection(sec);
    if (!KtCheck(Context, sec->Tag == MI_SECTION_TAG && sec->References == 0, "close", "closing the section with two views "
                 "left deleted it or left References %u", sec->References) ||
        !KtCheck(Context, KtRead(&a, A1 + m * PAGE_SIZE, 900, &status), "close", "A's view after the close: 0x%x", status))
        goto done;
    status = KtUnmap(&a, va2);
    va2 = NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS && sec->MappedViews == 1, "unmap", "unmapping A's second view: 0x%x",
                 status))
        goto done;
    status = KtUnmap(&a, va1);
    va1 = NULL;
    sec = NULL;
    SIZE_T tablesNow = a.Space->PageTablePages + b.Space->PageTablePages;
    KtCheck(Context, status == STATUS_SUCCESS && MmAvailablePages + tablesNow == availBefore && a.Space->VirtualSize == 0,
            "last_unmap", "the last unmap: 0x%x, %lld frames not given back (the section is deleted with its frames)",
            status, (LONG64)(availBefore - MmAvailablePages - tablesNow));
done:
    if (vb)
        KtUnmap(&b, vb);
    if (va2)
        KtUnmap(&a, va2);
    if (va1)
        KtUnmap(&a, va1);
    if (haveB)
        KtPfDestroySpace(&b);
    if (haveA)
        KtPfDestroySpace(&a);
    UNREFERENCED_PARAMETER(avail0);
}
