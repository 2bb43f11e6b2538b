/* lab08vm_support.c - lab 08 virtual-memory test support (lab08vm_support.h). */
#include "lab08vm_support.h"

BOOLEAN KtVmStubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

VOID KtVmPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size, ULONG Salt)
{
    ULONG64 x = Context->Seed ^ ((ULONG64)Salt * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ULL;
    ULONG64 pattern = x | 0x0101010101010101ULL;
    PUCHAR p = Buffer;
    for (SIZE_T i = 0; i < Size; i++)
        p[i] = (UCHAR)(pattern >> ((i % 8) * 8));
}

BOOLEAN KtVmEnter(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB08VM_BUDGET_MS);
    MM_AVL_TABLE empty;
    RtlZeroMemory(&empty, sizeof(empty));
    (void)MiLocateAddress(&empty, 0x10);
    return !KtVmStubbed(Context);
}

BOOLEAN KtVmCreateProcess(PKTEST_CONTEXT Context, KT_VM_PROCESS *P)
{
    RtlZeroMemory(P, sizeof(*P));
    if (!KtVmEnter(Context))
        return FALSE;
    NTSTATUS status = PsInitializeObjects();
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PsInitializeObjects: 0x%08X (labs 05-06)", (ULONG)status))
        return FALSE;
    P->AvailableBefore = MmAvailablePages;
    status = PspCreateProcess("vmtest", &P->Process);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PspCreateProcess: 0x%08X", (ULONG)status))
        return FALSE;
    status = MmCreateProcessAddressSpace(P->Process);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "MmCreateProcessAddressSpace: 0x%08X", (ULONG)status)) {
        ObDereferenceObject(P->Process);
        P->Process = NULL;
        return FALSE;
    }
    P->Space = P->Process->AddressSpace;
    return TRUE;
}

/* Frames the user half holds: its tables and the frames its PTEs map (valid or transition). */
static ULONG64 KtVmCountFrames(PMMPTE Table, ULONG Level)
{
    ULONG64 n = 0;
    for (ULONG i = 0; i < (Level == MM_LEVEL_PML4 ? 256u : 512u); i++) {
        MMPTE e = Table[i];
        if (Level == MM_LEVEL_PT) {
            n += e.Hard.Valid || (!e.Soft.Prototype && e.Soft.Transition);
            continue;
        }
        if (e.Hard.Valid)
            n += 1 + KtVmCountFrames(MiPfnToVirtual(e.Hard.PageFrameNumber), Level - 1);
    }
    return n;
}

VOID KtVmDeleteProcess(PKTEST_CONTEXT Context, KT_VM_PROCESS *P)
{
    if (!P->Process)
        return;
    ULONG64 held = P->Space ? 1 + KtVmCountFrames(P->Space->Pml4, MM_LEVEL_PML4) : 0;
    PFN_NUMBER before = MmAvailablePages;
    MmDeleteProcessAddressSpace(P->Process);
    ObDereferenceObject(P->Process);
    P->Process = NULL;
    LONG64 back = (LONG64)MmAvailablePages - (LONG64)before;
    KtCheck(Context, back >= (LONG64)held, "frames", "deleting the address space gave back %lld frames, it held %llu "
            "(the PML4, its page tables and the frames its PTEs map): a frame is lost", back, held);
}

static LONG KtVmAuditNode(PKTEST_CONTEXT Context, PMMVAD Node, PMMVAD Parent, PMMVAD *Prev, ULONG *Count,
                          ULONG Limit, PCSTR Check, PCSTR What)
{
    if (!Node)
        return 0;
    if (++*Count > Limit) {
        KtFail(Context, Check, "%s: more VADs reachable than NumberGenericTableElements + 1 (a cycle, or a VAD linked "
               "twice)", What);
        return -1;
    }
    if (Node->Parent != Parent) {
        KtFail(Context, Check, "%s: VAD [0x%llx-0x%llx] has Parent %p, expected %p (%s): every link is kept both ways",
               What, Node->StartingVpn, Node->EndingVpn, (PVOID)Node->Parent, (PVOID)Parent,
               Parent ? "the VAD above it" : "NULL for the root");
        return -1;
    }
    if (Node->Tag != MI_VAD_TAG) {
        KtFail(Context, Check, "%s: a VAD in the tree at %p has tag 0x%x, not 'Vad ' (a freed or foreign node is "
               "linked)", What, (PVOID)Node, Node->Tag);
        return -1;
    }
    LONG hl = KtVmAuditNode(Context, Node->LeftChild, Node, Prev, Count, Limit, Check, What);
    if (hl < 0)
        return -1;
    if (Node->StartingVpn > Node->EndingVpn || (*Prev && (*Prev)->EndingVpn >= Node->StartingVpn)) {
        KtFail(Context, Check, "%s: in-order walk meets [0x%llx-0x%llx] after [0x%llx-0x%llx]: the tree must be "
               "ordered by StartingVpn with no two VADs sharing a page", What, Node->StartingVpn, Node->EndingVpn,
               *Prev ? (*Prev)->StartingVpn : 0, *Prev ? (*Prev)->EndingVpn : 0);
        return -1;
    }
    *Prev = Node;
    LONG hr = KtVmAuditNode(Context, Node->RightChild, Node, Prev, Count, Limit, Check, What);
    if (hr < 0)
        return -1;
    if (Node->Balance != hr - hl || hr - hl > 1 || hr - hl < -1) {
        KtFail(Context, Check, "%s: VAD [0x%llx-0x%llx] has Balance %d, its subtrees' heights are left %d right %d "
               "(Balance must be right - left and stay within -1..+1: AVL)", What, Node->StartingVpn,
               Node->EndingVpn, Node->Balance, hl, hr);
        return -1;
    }
    return 1 + (hl > hr ? hl : hr);
}

LONG KtVmAuditTree(PKTEST_CONTEXT Context, PMM_AVL_TABLE Table, PCSTR Check, PCSTR What)
{
    PMMVAD prev = NULL;
    ULONG count = 0;
    LONG h = KtVmAuditNode(Context, Table->Root, NULL, &prev, &count, Table->NumberGenericTableElements + 1, Check,
                           What);
    if (h < 0)
        return -1;
    if (count != Table->NumberGenericTableElements) {
        KtFail(Context, Check, "%s: %u VADs in the tree, NumberGenericTableElements says %u", What, count,
               Table->NumberGenericTableElements);
        return -1;
    }
    KtCheck(Context, TRUE, Check, "audit");
    return h;
}

static PMMVAD KtVmFindVad(PMMADDRESS_SPACE Space, ULONG_PTR Vpn)
{
    /* A bounded plain walk, not the student's MiLocateAddress. */
    PMMVAD n = Space->VadRoot.Root;
    for (ULONG i = 0; n && i < 64; i++) {
        if (Vpn < n->StartingVpn)
            n = n->LeftChild;
        else if (Vpn > n->EndingVpn)
            n = n->RightChild;
        else
            return n;
    }
    return NULL;
}

LONG KtVmPageState(PMMADDRESS_SPACE Space, ULONG_PTR Va, PULONG Protection)
{
    PMMVAD vad = KtVmFindVad(Space, MI_VA_TO_VPN(Va));
    *Protection = 0;
    if (!vad)
        return -1;
    MI_TRANSLATION t;
    MiInspectTranslation(Space->Pml4, Va, &t);
    MMPTE pte = {0};
    if (t.Valid)
        pte = t.Entries[MM_LEVEL_PT];
    else if (t.Entries[MM_LEVEL_PML4].Hard.Valid && t.Entries[MM_LEVEL_PDPT].Hard.Valid &&
             t.Entries[MM_LEVEL_PD].Hard.Valid)
        pte = t.Entries[MM_LEVEL_PT];
    if (pte.Long == 0) {
        *Protection = vad->u.VadFlags.Protection;
        return vad->u.VadFlags.MemCommit ? 1 : 0;
    }
    if (MI_IS_DECOMMITTED_PTE(pte))
        return 0;
    *Protection = MiGetPteProtection(pte);
    return 1;
}

PFN_NUMBER KtVmMakeResident(PMMADDRESS_SPACE Space, ULONG_PTR Va, UCHAR Fill)
{
    ULONG prot;
    if (KtVmPageState(Space, Va, &prot) != 1 || (prot & MM_GUARD_PAGE) || prot == MM_NOACCESS)
        return 0;
    PFN_NUMBER pfn;
    KIRQL old;
    MiLockPfnDatabase(&old);
    NTSTATUS status = MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &pfn);
    MiUnlockPfnDatabase(old);
    if (!NT_SUCCESS(status))
        return 0;
    RtlFillMemory(MiPfnToVirtual(pfn), PAGE_SIZE, Fill);
    PMMPTE pte = MiGetUserPte(Space, Va, TRUE);
    if (!pte)
        return 0;
    MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)pte;
    pte->Long = MiMakeValidUserPte(pfn, prot).Long;
    Space->Vm.WorkingSetSize++;
    if (Space->Vm.WorkingSetSize > Space->Vm.PeakWorkingSetSize)
        Space->Vm.PeakWorkingSetSize = Space->Vm.WorkingSetSize;
    return pfn;
}

PCSTR KtVmProtName(ULONG P)
{
    switch (P & ~(ULONG)(PAGE_GUARD | PAGE_NOCACHE)) {
    case 0: return P ? "?" : "0";
    case PAGE_NOACCESS: return "PAGE_NOACCESS";
    case PAGE_READONLY: return P & PAGE_GUARD ? "PAGE_READONLY|PAGE_GUARD" : "PAGE_READONLY";
    case PAGE_READWRITE: return P & PAGE_GUARD ? "PAGE_READWRITE|PAGE_GUARD" : "PAGE_READWRITE";
    case PAGE_WRITECOPY: return "PAGE_WRITECOPY";
    case PAGE_EXECUTE: return "PAGE_EXECUTE";
    case PAGE_EXECUTE_READ: return P & PAGE_GUARD ? "PAGE_EXECUTE_READ|PAGE_GUARD" : "PAGE_EXECUTE_READ";
    case PAGE_EXECUTE_READWRITE: return "PAGE_EXECUTE_READWRITE";
    case PAGE_EXECUTE_WRITECOPY: return "PAGE_EXECUTE_WRITECOPY";
    default: return "a mix of PAGE_* bits";
    }
}

PCSTR KtVmStatusName(NTSTATUS S)
{
    switch ((ULONG)S) {
    case 0: return "STATUS_SUCCESS";
    case 0xC0000002: return "STATUS_NOT_IMPLEMENTED";
    case 0xC0000017: return "STATUS_NO_MEMORY";
    case 0xC0000018: return "STATUS_CONFLICTING_ADDRESSES";
    case 0xC000001A: return "STATUS_UNABLE_TO_FREE_VM";
    case 0xC000001B: return "STATUS_UNABLE_TO_DELETE_SECTION";
    case 0xC000002D: return "STATUS_NOT_COMMITTED";
    case 0xC0000045: return "STATUS_INVALID_PAGE_PROTECTION";
    case 0xC000009F: return "STATUS_FREE_VM_NOT_AT_BASE";
    case 0xC00000A0: return "STATUS_MEMORY_NOT_ALLOCATED";
    case 0xC000000D: return "STATUS_INVALID_PARAMETER";
    case 0xC00000F0: return "STATUS_INVALID_PARAMETER_2";
    case 0xC00000F1: return "STATUS_INVALID_PARAMETER_3";
    case 0xC00000F2: return "STATUS_INVALID_PARAMETER_4";
    case 0xC00000F3: return "STATUS_INVALID_PARAMETER_5";
    case 0xC000009A: return "STATUS_INSUFFICIENT_RESOURCES";
    default: return "another status";
    }
}
