/* fault_tests.c - lab 08 public tests of the page-fault handler (pf part), kernel-side: the
 * test attaches to an address space of its own and touches its user addresses from kernel
 * mode with the framework's user-copy routines (a fault goes to MmAccessFault; one it
 * cannot resolve comes back as STATUS_ACCESS_VIOLATION through the exception-fixup
 * table, never a bugcheck), or calls MmAccessFault itself to see a status the copy
 * routines do not pass on (a guard page's).
 *   pf.fault      demand zero: committed pages cost no frame until touched, read as zeros
 *                 on dirty memory, one frame and one fault each; read-only and no-execute
 *                 pages; reserved, free, decommitted, no-access and system addresses are
 *                 access violations that change nothing; guard pages (demand zero, in the
 *                 pagefile, resident) raise STATUS_GUARD_PAGE_VIOLATION once; a committed
 *                 VAD (MemCommit) with zero PTEs; the page-fault count, exact.
 *   pf.pressure   memory runs short (the test holds all but a few frames; the checkpoint's
 *                 machine is small): a seeded number of pages written with distinct contents
 *                 must go to the pagefile on their own and come back intact; frames and
 *                 slots conserved.
 *   pf.isolation  two address spaces, the same addresses: each sees only its own pages,
 *                 resident or in the pagefile. */
#include "lab08pf_support.h"
#include "kuser.h"
#include "pt_audit.h"

static ULONG KtFaults(KT_PF_SPACE *S) { return S->Space->Vm.PageFaultCount; }

static BOOLEAN KtCommit(PKTEST_CONTEXT Context, KT_PF_SPACE *S, ULONG_PTR Va, ULONG Protection)
{
    NTSTATUS status = MiReplaceUserPte(S->Space, Va, MiMakeDemandZeroPte(Protection));
    return KtCheck(Context, NT_SUCCESS(status), "commit", "committing 0x%llx (framework): 0x%x", (ULONG64)Va, status);
}

static BOOLEAN KtAllZero(const UCHAR *Buffer)
{
    for (ULONG i = 0; i < PAGE_SIZE; i++)
        if (Buffer[i] != 0)
            return FALSE;
    return TRUE;
}

static UCHAR KtPage[PAGE_SIZE];

/* A touch that must be refused: status AV, the fault counted, the PTE and the frames unchanged. */
static BOOLEAN KtRefused(PKTEST_CONTEXT Context, KT_PF_SPACE *S, ULONG_PTR Va, BOOLEAN Write, PCSTR What)
{
    ULONG faults = KtFaults(S);
    MMPTE before = MiReadUserPte(S->Space, Va);
    PFN_NUMBER avail = MmAvailablePages;
    NTSTATUS status = Write ? KeCopyToUser((PVOID)Va, KtPage, 8) : KeCopyFromUser(KtPage, (PVOID)Va, 8);
    return KtCheck(Context, status == STATUS_ACCESS_VIOLATION, "access_violation", "%s at 0x%llx (%s): 0x%x, expected "
                   "STATUS_ACCESS_VIOLATION (MiDispatchFault refuses it)", Write ? "a write" : "a read", (ULONG64)Va, What,
                   status) &&
           KtCheck(Context, MiReadUserPte(S->Space, Va).Long == before.Long && MmAvailablePages == avail, "av_no_change",
                   "the refused %s at 0x%llx (%s) changed the PTE (0x%016llx, was 0x%016llx) or took a frame (%llu "
                   "available, were %llu)", Write ? "write" : "read", (ULONG64)Va, What,
                   MiReadUserPte(S->Space, Va).Long, before.Long, (ULONG64)MmAvailablePages, (ULONG64)avail) &&
           KtCheck(Context, KtFaults(S) == faults + 1, "fault_count", "the refused %s at 0x%llx (%s): PageFaultCount %u, "
                   "was %u; every fault counts once", Write ? "write" : "read", (ULONG64)Va, What, KtFaults(S), faults);
}

KTEST("pf.fault", KtPfFault)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    KtPoisonFreeFrames(Context, 256);
    PFN_NUMBER avail0 = MmAvailablePages;
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    static MMWSLE wsle[64];
    static MMWSL wsl;
    if (!KtCheck(Context, MiInitializeWorkingSet(s.Space, &wsl, wsle, 64, 4, 64) == STATUS_SUCCESS, "init",
                 "MiInitializeWorkingSet"))
        goto out;
    KeStackAttachProcess(&s.Process);
    ULONG_PTR base = KtRandomRange(Context, 0x100, 0x7FFFF) << 16;
    ULONG n = (ULONG)KtRandomRange(Context, 4, 12);
    /* Commit n read-write pages (their tables made now) and one read-only, one execute-read. */
    for (ULONG i = 0; i < n + 2; i++)
        if (!KtCommit(Context, &s, base + i * PAGE_SIZE, i < n ? MM_READWRITE : i == n ? MM_READONLY : MM_EXECUTE_READ))
            goto done;
    PFN_NUMBER avail = MmAvailablePages;
    /* The first touch: a fault, a frame of zeros (dirty memory underneath), the exact PTE. */
    for (ULONG i = 0; i < n + 2; i++) {
        ULONG_PTR va = base + i * PAGE_SIZE + KtRandomRange(Context, 0, PAGE_SIZE - 64);
        ULONG prot = i < n ? MM_READWRITE : i == n ? MM_READONLY : MM_EXECUTE_READ;
        ULONG faults = KtFaults(&s);
        RtlFillMemory(KtPage, PAGE_SIZE, 0xEE);
        ULONG_PTR page = va & ~(PAGE_SIZE - 1);
        NTSTATUS status = KeCopyFromUser(KtPage, (PVOID)page, PAGE_SIZE);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "demand_zero", "reading committed page 0x%llx (%s) for the first "
                     "time: 0x%x", (ULONG64)page, KtPfProtectionName(prot), status) ||
            !KtCheck(Context, KtAllZero(KtPage), "zeroed", "a committed page read for the first time (0x%llx) is not all "
                     "zeros: demand-zero pages are taken zeroed (MM_ALLOCATE_ZEROED)", (ULONG64)page) ||
            !KtCheck(Context, KtFaults(&s) == faults + 1, "fault_count", "the first read of 0x%llx: PageFaultCount %u, was "
                     "%u; expected one fault", (ULONG64)page, KtFaults(&s), faults) ||
            !KtCheck(Context, MmAvailablePages == avail - (i + 1), "one_frame", "after touching %u committed pages %llu "
                     "frames are available, expected %llu (one frame a page, only when touched)", i + 1,
                     (ULONG64)MmAvailablePages, (ULONG64)(avail - (i + 1))))
            goto done;
        MMPTE pte = MiReadUserPte(s.Space, page);
        if (!KtPfCheckValidPte(Context, "valid_pte", "after the first touch", pte, prot) ||
            !KtCheck(Context, MI_PFN_ELEMENT(pte.Hard.PageFrameNumber)->PteAddress ==
                     (ULONG64)MiGetUserPte(s.Space, page, FALSE), "pfn", "the frame of 0x%llx: PteAddress 0x%llx is not "
                     "its PTE", (ULONG64)page, MI_PFN_ELEMENT(pte.Hard.PageFrameNumber)->PteAddress) ||
            !KtCheck(Context, s.Space->Vm.WorkingSetSize == i + 1, "working_set", "after %u pages became resident "
                     "WorkingSetSize is %llu (a resident page joins the working set)", i + 1,
                     (ULONG64)s.Space->Vm.WorkingSetSize))
            goto done;
        /* Writing a read-write page now costs no fault; a read-only page refuses it. */
        faults = KtFaults(&s);
        if (i < n) {
            KtPfFill(KtPage, 77 + i);
            status = KeCopyToUser((PVOID)page, KtPage, PAGE_SIZE);
            if (!KtCheck(Context, status == STATUS_SUCCESS && KtFaults(&s) == faults, "write_resident", "writing resident "
                         "read-write page 0x%llx: 0x%x, %u faults (expected none)", (ULONG64)page, status,
                         KtFaults(&s) - faults))
                goto done;
        } else if (!KtRefused(Context, &s, page, TRUE, i == n ? "read-only page, resident" : "execute-read page, resident")) {
            goto done;
        }
    }
    /* Execution of a no-execute page, through MmAccessFault (the copy routines only read and write). */
    {
        ULONG faults = KtFaults(&s);
        NTSTATUS status = MmAccessFault(MI_FAULT_PRESENT | MI_FAULT_EXECUTE, (PVOID)base, KernelMode, NULL);
        if (!KtCheck(Context, status == STATUS_ACCESS_VIOLATION && KtFaults(&s) == faults + 1, "no_execute", "executing "
                     "resident read-write (no-execute) page 0x%llx: 0x%x, expected STATUS_ACCESS_VIOLATION", (ULONG64)base,
                     status))
            goto done;
        status = MmAccessFault(MI_FAULT_PRESENT | MI_FAULT_EXECUTE, (PVOID)(base + (n + 1) * PAGE_SIZE), KernelMode, NULL);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "execute_allowed", "a fault executing resident execute-read page "
                     "0x%llx: 0x%x, expected STATUS_SUCCESS (nothing to do: a stale TLB entry)",
                     (ULONG64)(base + (n + 1) * PAGE_SIZE), status))
            goto done;
    }
    /* Refusals: reserved (a VAD without MemCommit), free (no VAD), decommitted, no access, system. */
    {
        ULONG_PTR region = base + 0x100000;
        static MMVAD vad;
        RtlZeroMemory(&vad, sizeof(vad));
        vad.Tag = MI_VAD_TAG;
        vad.StartingVpn = MI_VA_TO_VPN(region);
        vad.EndingVpn = vad.StartingVpn + 15;
        vad.u.VadFlags.Protection = MM_READWRITE;
        vad.u.VadFlags.PrivateMemory = 1;
        vad.u.VadFlags.MemCommit = 0;
        s.Space->VadRoot.Root = &vad;
        s.Space->VadRoot.NumberGenericTableElements = 1;
        ULONG_PTR in = region + KtRandomRange(Context, 0, 15) * PAGE_SIZE;
        BOOLEAN ok = KtRefused(Context, &s, in, FALSE, "reserved, not committed") &&
                     KtRefused(Context, &s, region + 16 * PAGE_SIZE, TRUE, "free: past the reservation");
        /* The same VAD committed (MemCommit): a zero PTE is demand zero with the VAD's protection. */
        if (ok) {
            vad.u.VadFlags.MemCommit = 1;
            vad.u.VadFlags.Protection = MM_READONLY;
            ULONG faults = KtFaults(&s);
            NTSTATUS status = KeCopyFromUser(KtPage, (PVOID)in, 16);
            MMPTE pte = MiReadUserPte(s.Space, in);
            ok = KtCheck(Context, status == STATUS_SUCCESS && KtFaults(&s) == faults + 1, "vad_commit", "reading 0x%llx in "
                         "a committed VAD (MemCommit, zero PTE): 0x%x", (ULONG64)in, status) &&
                 KtPfCheckValidPte(Context, "vad_protection", "a zero PTE of a committed read-only VAD", pte, MM_READONLY) &&
                 KtRefused(Context, &s, in, TRUE, "committed read-only VAD");
            MMPTE zero = {0};
            MiReplaceUserPte(s.Space, in & ~(PAGE_SIZE - 1), zero);
        }
        s.Space->VadRoot.Root = NULL;
        s.Space->VadRoot.NumberGenericTableElements = 0;
        if (!ok)
            goto done;
        ULONG_PTR dec = base + (n + 2) * PAGE_SIZE, noacc = dec + PAGE_SIZE;
        if (!NT_SUCCESS(MiReplaceUserPte(s.Space, dec, MiMakeDecommittedPte())) ||
            !NT_SUCCESS(MiReplaceUserPte(s.Space, noacc, MiMakeDemandZeroPte(MM_NOACCESS))) ||
            !KtRefused(Context, &s, dec, FALSE, "decommitted") || !KtRefused(Context, &s, noacc, FALSE, "PAGE_NOACCESS") ||
            !KtRefused(Context, &s, noacc, TRUE, "PAGE_NOACCESS"))
            goto done;
        /* A write as the first touch of a committed read-only page: refused, no frame. */
        ULONG_PTR ro = base + (n + 8) * PAGE_SIZE;
        if (!KtCommit(Context, &s, ro, MM_READONLY) || !KtRefused(Context, &s, ro, TRUE, "committed read-only, never touched"))
            goto done;
        ULONG faults = KtFaults(&s);
        NTSTATUS status = MmAccessFault(0, (PVOID)(MM_HIGHEST_USER_ADDRESS + 1 + KtRandomRange(Context, 0, 1) * PAGE_SIZE),
                                        KernelMode, NULL);
        if (!KtCheck(Context, status == STATUS_ACCESS_VIOLATION, "system_address", "MmAccessFault on a system address: 0x%x",
                     status))
            goto done;
        faults = KtFaults(&s);
        status = MiDispatchFault(s.Space, 0, MM_HIGHEST_USER_ADDRESS + 1, KernelMode);
        if (!KtCheck(Context, status == STATUS_ACCESS_VIOLATION, "system_address", "MiDispatchFault on 0x%llx: 0x%x, "
                     "expected STATUS_ACCESS_VIOLATION", MM_HIGHEST_USER_ADDRESS + 1, status) ||
            !KtCheck(Context, KtFaults(&s) == faults + 1, "fault_count", "MiDispatchFault on a system address: "
                     "PageFaultCount %u, was %u; every call counts, whatever the outcome", KtFaults(&s), faults))
            goto done;
        /* A prototype PTE in a private, committed VAD (not a mapped view): refused, nothing changes. */
        ULONG_PTR pv = base + (n + 12) * PAGE_SIZE;
        PMMVAD pvad = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
        if (!KtCheck(Context, pvad != NULL, "pool", "no pool for a VAD"))
            goto done;
        RtlZeroMemory(pvad, sizeof(*pvad));
        pvad->Tag = MI_VAD_TAG;
        pvad->StartingVpn = pvad->EndingVpn = MI_VA_TO_VPN(pv);
        pvad->u.VadFlags.PrivateMemory = 1;
        pvad->u.VadFlags.MemCommit = 1;
        pvad->u.VadFlags.Protection = MM_READWRITE;
        pvad->u.VadFlags.VadType = VadNone;
        if (!KtCheck(Context, MiInsertVad(&s.Space->VadRoot, pvad) == STATUS_SUCCESS, "insert", "MiInsertVad of a VAD "
                     "in free memory failed")) {
            ExFreePoolWithTag(pvad, MI_VAD_TAG);
            goto done;
        }
        static MMPTE KtLoneProto;
        KtLoneProto = MiMakeDemandZeroPte(MM_READWRITE);
        MMPTE proto;
        proto.Long = 0;
        proto.Proto.Prototype = 1;
        proto.Proto.ProtoAddress = (LONG64)(ULONG_PTR)&KtLoneProto;
        BOOLEAN refused = KtCheck(Context, NT_SUCCESS(MiReplaceUserPte(s.Space, pv, proto)), "commit", "a PTE for 0x%llx",
                                  (ULONG64)pv) &&
                          KtRefused(Context, &s, pv, FALSE, "a prototype PTE in a private VAD, not a mapped view");
        if (refused) {
            ULONG64 was = MiReadUserPte(s.Space, pv).Long;
            status = MiDispatchFault(s.Space, 0, pv + 16, KernelMode);
            refused = KtCheck(Context, status == STATUS_ACCESS_VIOLATION && MiReadUserPte(s.Space, pv).Long == was,
                              "access_violation", "MiDispatchFault of a prototype PTE in a private VAD (not a mapped "
                              "view): 0x%x, PTE 0x%016llx (was 0x%016llx); expected STATUS_ACCESS_VIOLATION, nothing "
                              "changed", status, MiReadUserPte(s.Space, pv).Long, was);
        }
        PMMPTE ppte = MiGetUserPte(s.Space, pv, FALSE);
        if (ppte != NULL && !ppte->Hard.Valid)
            ppte->Long = 0;
        MiRemoveVad(&s.Space->VadRoot, pvad);
        ExFreePoolWithTag(pvad, MI_VAD_TAG);
        if (!refused)
            goto done;
        /* The page joins the working set; when that fails its status comes back (the page stays resident). */
        ULONG_PTR wv = base + (n + 13) * PAGE_SIZE;
        if (!KtCommit(Context, &s, wv, MM_READWRITE))
            goto done;
        PMMWSL saved = s.Space->Vm.WorkingSetList;
        s.Space->Vm.WorkingSetList = NULL;
        status = MiDispatchFault(s.Space, MI_FAULT_WRITE, wv + 8, KernelMode);
        s.Space->Vm.WorkingSetList = saved;
        MMPTE now = MiReadUserPte(s.Space, wv);
        if (now.Hard.Valid)
            MiInsertWorkingSetPage(s.Space, wv); /* keep the set whole for the rest of the test */
        if (!KtCheck(Context, status == STATUS_INVALID_PARAMETER && now.Hard.Valid, "working_set", "MiDispatchFault of a "
                     "demand-zero page in a space with no working set list: 0x%x, PTE 0x%016llx; expected "
                     "MiInsertWorkingSetPage's STATUS_INVALID_PARAMETER returned and the page resident", status, now.Long))
            goto done;
    }
    /* Guard pages: demand zero, in the pagefile, resident (made a guard page by vm's routine). */
    {
        ULONG_PTR g = base + (n + 4) * PAGE_SIZE;
        ULONG prot = KtRandomRange(Context, 0, 1) ? MM_READWRITE : MM_READONLY;
        if (!KtCommit(Context, &s, g, prot | MM_GUARD_PAGE))
            goto done;
        PFN_NUMBER a = MmAvailablePages;
        ULONG faults = KtFaults(&s);
        NTSTATUS status = MmAccessFault(0, (PVOID)(g + 8), KernelMode, NULL);
        MMPTE pte = MiReadUserPte(s.Space, g);
        if (!KtCheck(Context, status == STATUS_GUARD_PAGE_VIOLATION, "guard_once", "the first touch of a guard page: 0x%x, "
                     "expected STATUS_GUARD_PAGE_VIOLATION", status) ||
            !KtCheck(Context, pte.Long == MiMakeDemandZeroPte(prot).Long && MmAvailablePages == a &&
                     KtFaults(&s) == faults + 1, "guard_cleared", "after the guard fired: PTE 0x%016llx (expected the "
                     "demand-zero PTE 0x%016llx without the guard), %lld frames taken (expected 0)", pte.Long,
                     MiMakeDemandZeroPte(prot).Long, (LONG64)(a - MmAvailablePages)))
            goto done;
        status = KeCopyFromUser(KtPage, (PVOID)g, PAGE_SIZE);
        if (!KtCheck(Context, status == STATUS_SUCCESS && KtAllZero(KtPage), "guard_then_resolves", "the second touch of "
                     "a guard page: 0x%x (expected the page, zeros)", status))
            goto done;
        /* A resident page made a guard page keeps its frame and contents. */
        ULONG_PTR r = base + KtRandomRange(Context, 0, n - 1) * PAGE_SIZE;
        PFN_NUMBER frame = MiReadUserPte(s.Space, r).Hard.PageFrameNumber;
        MiSetUserPteProtection(s.Space, r, MM_READWRITE | MM_GUARD_PAGE);
        status = MmAccessFault(MI_FAULT_WRITE, (PVOID)r, KernelMode, NULL);
        if (!KtCheck(Context, status == STATUS_GUARD_PAGE_VIOLATION, "guard_once", "the first touch of a resident page "
                     "made a guard page: 0x%x", status))
            goto done;
        status = MmAccessFault(MI_FAULT_WRITE, (PVOID)r, KernelMode, NULL);
        pte = MiReadUserPte(s.Space, r);
        LONG bad = KtPfCompare(MiPfnToVirtual(frame), 77 + (ULONG)((r - base) / PAGE_SIZE));
        if (!KtCheck(Context, status == STATUS_SUCCESS && pte.Hard.Valid && pte.Hard.PageFrameNumber == frame, "guard_trans",
                     "the second touch of a resident page made a guard page: 0x%x, PTE 0x%016llx; expected it valid on its "
                     "own frame 0x%llx again", status, pte.Long, (ULONG64)frame) ||
            !KtCheck(Context, bad < 0, "guard_trans", "the page lost its contents (byte %d)", bad * 8))
            goto done;
        /* A page in the pagefile with a guard: the guard first, then the contents. */
        ULONG_PTR q = base + KtRandomRange(Context, 0, n - 1) * PAGE_SIZE;
        if (q == r)
            q = q == base ? base + PAGE_SIZE : base;
        MiRemoveWorkingSetPage(s.Space, q);
        status = MiPageOut(s.Space, q);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "page_out", "MiPageOut(0x%llx): 0x%x", (ULONG64)q, status))
            goto done;
        MiSetUserPteProtection(s.Space, q, MM_READWRITE | MM_GUARD_PAGE);
        ULONG reads = MmPagingFile->Reads;
        status = MmAccessFault(0, (PVOID)q, KernelMode, NULL);
        pte = MiReadUserPte(s.Space, q);
        if (!KtCheck(Context, status == STATUS_GUARD_PAGE_VIOLATION && !pte.Hard.Valid && pte.Soft.PageFileHigh != 0 &&
                     pte.Soft.Protection == MM_READWRITE && MmPagingFile->Reads == reads, "guard_pagefile", "the first "
                     "touch of a guard page in the pagefile: 0x%x, PTE 0x%016llx; expected STATUS_GUARD_PAGE_VIOLATION, "
                     "the page still in the pagefile, the guard cleared", status, pte.Long))
            goto done;
        status = KeCopyFromUser(KtPage, (PVOID)q, PAGE_SIZE);
        bad = KtPfCompare(KtPage, 77 + (ULONG)((q - base) / PAGE_SIZE));
        if (!KtCheck(Context, status == STATUS_SUCCESS && bad < 0 && MmPagingFile->Reads == reads + 1, "page_in_fault",
                     "reading 0x%llx back from the pagefile: 0x%x, contents differ at byte %d, %u reads", (ULONG64)q,
                     status, bad * 8, MmPagingFile->Reads - reads))
            goto done;
    }
    KtValue(Context, "faults", "%u", KtFaults(&s));
done:
    KeUnstackDetachProcess();
out:
    KtPfDestroySpace(&s);
    KtCheck(Context, MmAvailablePages == avail0, "conserved", "after the address space was deleted %llu frames are "
            "available, expected %llu", (ULONG64)MmAvailablePages, (ULONG64)avail0);
}

/* ---- pf.pressure -------------------------------------------------------------------- */

/* Frames the test holds to make memory short, chained through their first word. */
static PFN_NUMBER KtHogHead = MM_EMPTY_LIST;
static ULONG KtHogCount;

static VOID KtHog(PFN_NUMBER Leave)
{
    while (MmAvailablePages > Leave) {
        PFN_NUMBER pfn;
        if (!NT_SUCCESS(MiAllocateFrame(0, &pfn)))
            break;
        *(PFN_NUMBER *)MiPfnToVirtual(pfn) = KtHogHead;
        KtHogHead = pfn;
        KtHogCount++;
    }
}

static VOID KtUnhog(VOID)
{
    while (KtHogHead != MM_EMPTY_LIST) {
        PFN_NUMBER next = *(PFN_NUMBER *)MiPfnToVirtual(KtHogHead);
        MiFreeFrame(KtHogHead);
        KtHogHead = next;
        KtHogCount--;
    }
}

KTEST("pf.pressure", KtPfPressure)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault") || !KtPfRequire(Context, "pager"))
        return;
    KtValue(Context, "physical_pages", "%llu", (ULONG64)MmNumberOfPhysicalPages);
    PFN_NUMBER avail0 = MmAvailablePages;
    ULONG free0 = MmPagingFile->FreeSpace;
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    /* A working set that could hold every page: only the shortage of memory sends pages out. */
    static MMWSLE wsle[1024];
    static MMWSL wsl;
    NTSTATUS status = MiInitializeWorkingSet(s.Space, &wsl, wsle, 1024, 8, 1024);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "init", "MiInitializeWorkingSet: 0x%x", status))
        goto done;
    ULONG n = (ULONG)KtRandomRange(Context, 160, 260);
    ULONG_PTR base = KtRandomRange(Context, 0x100, 0x7FFFF) << 16;
    for (ULONG i = 0; i < n; i++)
        if (!KtCommit(Context, &s, base + i * PAGE_SIZE, MM_READWRITE))
            goto done;
    KeStackAttachProcess(&s.Process);
    /* Leave a few frames above the threshold: the faults must trim to go on. */
    KtHog(MM_MINIMUM_AVAILABLE_PAGES + (PFN_NUMBER)KtRandomRange(Context, 8, 40));
    ULONG writes = MmPagingFile->Writes, reads = MmPagingFile->Reads;
    ULONG faults = KtFaults(&s);
    for (ULONG i = 0; i < n; i++) {
        KtPfFill(KtPage, 5000 + i);
        status = KeCopyToUser((PVOID)(base + i * PAGE_SIZE), KtPage, PAGE_SIZE);
        if (!KtCheck(Context, status == STATUS_SUCCESS, "write_under_pressure", "writing page %u of %u (0x%llx) with %llu "
                     "frames available: 0x%x (the fault trims the working set when MmAvailablePages < %u, and once more "
                     "if no frame is left)", i, n, (ULONG64)(base + i * PAGE_SIZE), (ULONG64)MmAvailablePages, status,
                     MM_MINIMUM_AVAILABLE_PAGES))
            goto detach;
    }
    ULONG out = MmPagingFile->Writes - writes;
    KtValue(Context, "pages", "%u", n);
    KtValue(Context, "paged_out", "%u", out);
    if (!KtCheck(Context, out > 0 && wsl.PagesTrimmed == out, "trimmed", "%u pages written under pressure: %u went to "
                 "the pagefile, the list counts %u trimmed; expected some (memory was short) and the same count", n, out,
                 wsl.PagesTrimmed) ||
        !KtCheck(Context, s.Space->Vm.WorkingSetSize + (MmPagingFile->Size - MmPagingFile->FreeSpace) - (KT_PF_SLOTS - free0)
                 == n, "accounted", "WorkingSetSize %llu + pages in the pagefile %u != the %u pages written",
                 (ULONG64)s.Space->Vm.WorkingSetSize, (MmPagingFile->Size - MmPagingFile->FreeSpace) - (KT_PF_SLOTS - free0),
                 n))
        goto detach;
    /* Every page back, in a seeded order, with its contents. */
    ULONG start = (ULONG)KtRandomRange(Context, 0, n - 1);
    for (ULONG k = 0; k < n; k++) {
        ULONG i = (start + k * 7) % n;
        if (n % 7 == 0)
            i = (start + k) % n;
        status = KeCopyFromUser(KtPage, (PVOID)(base + i * PAGE_SIZE), PAGE_SIZE);
        LONG bad = KtPfCompare(KtPage, 5000 + i);
        if (!KtCheck(Context, status == STATUS_SUCCESS && bad < 0, "contents_come_back", "reading page %u (0x%llx) back: "
                     "0x%x, contents differ at byte %d", i, (ULONG64)(base + i * PAGE_SIZE), status, bad * 8))
            goto detach;
    }
    KtValue(Context, "paged_in", "%u", MmPagingFile->Reads - reads);
    KtCheck(Context, MmPagingFile->Reads - reads > 0, "paged_in", "no page came back from the pagefile");
    KtCheck(Context, KtFaults(&s) - faults >= n + (MmPagingFile->Reads - reads), "fault_count", "%u faults for %u "
            "first touches and %u page-ins", KtFaults(&s) - faults, n, MmPagingFile->Reads - reads);
detach:
    KeUnstackDetachProcess();
done:
    KtUnhog();
    KtPfDestroySpace(&s);
    KtCheck(Context, MmAvailablePages == avail0 && MmPagingFile->FreeSpace == free0, "conserved", "at the end: %llu "
            "frames available (expected %llu), pagefile FreeSpace %u (expected %u)", (ULONG64)MmAvailablePages,
            (ULONG64)avail0, MmPagingFile->FreeSpace, free0);
}

/* ---- pf.isolation ------------------------------------------------------------------- */

KTEST("pf.isolation", KtPfIsolation)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    PFN_NUMBER avail0 = MmAvailablePages;
    static KT_PF_SPACE a, b;
    if (!KtPfCreateSpace(Context, &a))
        return;
    if (!KtPfCreateSpace(Context, &b)) {
        KtPfDestroySpace(&a);
        return;
    }
    ULONG n = (ULONG)KtRandomRange(Context, 3, 8);
    ULONG_PTR base = KtRandomRange(Context, 0x100, 0x7FFFF) << 16;
    KT_PF_SPACE *sp[2] = {&a, &b};
    static MMWSLE wsle[2][16];
    static MMWSL wsl[2];
    for (ULONG w = 0; w < 2; w++)
        if (!KtCheck(Context, MiInitializeWorkingSet(sp[w]->Space, &wsl[w], wsle[w], 16, 2, 16) == STATUS_SUCCESS, "init",
                     "MiInitializeWorkingSet"))
            goto done;
    for (ULONG w = 0; w < 2; w++)
        for (ULONG i = 0; i < n; i++)
            if (!KtCommit(Context, sp[w], base + i * PAGE_SIZE, MM_READWRITE))
                goto done;
    /* A writes its pages; B reads the same addresses (zeros) and writes its own; A reads its own. */
    for (ULONG round = 0; round < 3; round++) {
        for (ULONG w = 0; w < 2; w++) {
            KeStackAttachProcess(&sp[w]->Process);
            for (ULONG i = 0; i < n; i++) {
                ULONG_PTR va = base + i * PAGE_SIZE;
                NTSTATUS status = KeCopyFromUser(KtPage, (PVOID)va, PAGE_SIZE);
                BOOLEAN ok;
                if (round == 0)
                    ok = KtCheck(Context, status == STATUS_SUCCESS && KtAllZero(KtPage), "isolation", "process %c reads "
                                 "0x%llx before writing it: 0x%x, %s; expected zeros: it must not see the other "
                                 "process's page", 'A' + w, (ULONG64)va, status, KtAllZero(KtPage) ? "zeros" : "not zeros");
                else
                    ok = KtCheck(Context, status == STATUS_SUCCESS && KtPfCompare(KtPage, 900 + w * 100 + i) < 0,
                                 "isolation", "process %c reads back 0x%llx (round %u): 0x%x; it is not what it wrote",
                                 'A' + w, (ULONG64)va, round, status);
                if (ok && round == 0) {
                    KtPfFill(KtPage, 900 + w * 100 + i);
                    status = KeCopyToUser((PVOID)va, KtPage, PAGE_SIZE);
                    ok = KtCheck(Context, status == STATUS_SUCCESS, "isolation", "process %c writes 0x%llx: 0x%x", 'A' + w,
                                 (ULONG64)va, status);
                }
                if (!ok) {
                    KeUnstackDetachProcess();
                    goto done;
                }
            }
            KeUnstackDetachProcess();
            /* After the first round, A's pages go to the pagefile: they come back as A's. */
            if (round == 1 && w == 0) {
                MMWSL *wsl = MiWorkingSetList(a.Space);
                if (!KtCheck(Context, wsl != NULL, "isolation", "process A has no working set list after its faults"))
                    goto done;
                a.Space->Vm.MinimumWorkingSetSize = 0;
                ULONG trimmed = MiTrimWorkingSet(a.Space, n);
                if (!KtCheck(Context, trimmed == n, "isolation", "trimming process A's %u pages to the pagefile: %u left",
                             n, trimmed))
                    goto done;
            }
        }
    }
    for (ULONG i = 0; i < n; i++) {
        MMPTE pa = MiReadUserPte(a.Space, base + i * PAGE_SIZE), pb = MiReadUserPte(b.Space, base + i * PAGE_SIZE);
        if (!KtCheck(Context, !(pa.Hard.Valid && pb.Hard.Valid && pa.Hard.PageFrameNumber == pb.Hard.PageFrameNumber),
                     "isolation", "0x%llx maps frame 0x%llx in both processes", (ULONG64)(base + i * PAGE_SIZE),
                     (ULONG64)pa.Hard.PageFrameNumber))
            break;
    }
done:
    KtPfDestroySpace(&b);
    KtPfDestroySpace(&a);
    KtCheck(Context, MmAvailablePages == avail0, "conserved", "after both address spaces were deleted %llu frames are "
            "available, expected %llu", (ULONG64)MmAvailablePages, (ULONG64)avail0);
}
