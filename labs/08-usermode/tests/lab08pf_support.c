/* lab08pf_support.c - the shared parts of lab 08's paging tests (see lab08pf_support.h). */
#include "lab08pf_support.h"
#include "../../../kernel/mm/mi.h"
#include "ke.h"

BOOLEAN KtPfEnter(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB08PF_BUDGET_MS);
    static MMADDRESS_SPACE scratch;
    static MMWSL wsl;
    static MMWSLE wsle[1];
    NTSTATUS status = MiInitializeWorkingSet(&scratch, &wsl, wsle, 1, 0, 1);
    if (!KtRequireImplemented(Context, status, "MiInitializeWorkingSet", "lab 08"))
        return FALSE;
    status = MiCreatePagingFile(KT_PF_SLOTS);
    if (!KtCheck(Context, NT_SUCCESS(status), "pagefile", "the framework could not create the pagefile on the RAM "
                 "disk (lab 07): 0x%x", status))
        return FALSE;
    /* The first address space gives the kernel half its PML4 entries for good: make one and
     * delete it now, so that the tests' frame counts see only their own frames. */
    static KT_PF_SPACE warm;
    if (!KtPfCreateSpace(Context, &warm))
        return FALSE;
    KtPfDestroySpace(&warm);
    return TRUE;
}

BOOLEAN KtPfCreateSpace(PKTEST_CONTEXT Context, KT_PF_SPACE *Space)
{
    RtlZeroMemory(&Space->Process, sizeof(Space->Process));
    Space->Space = NULL;
    NTSTATUS status = MmCreateProcessAddressSpace(&Space->Process);
    if (!KtCheck(Context, NT_SUCCESS(status), "space", "an address space for the test (MmCreateProcessAddressSpace): "
                 "0x%x", status))
        return FALSE;
    Space->Space = Space->Process.AddressSpace;
    return TRUE;
}

static ULONG64 KtPfWord(ULONG Salt, ULONG Index)
{
    ULONG64 x = ((ULONG64)Salt << 32 | Index) * 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 31)) * 0xBF58476D1CE4E5B9ULL;
    return (x ^ (x >> 29)) | 1;
}

VOID KtPfFill(PVOID Page, ULONG Salt)
{
    ULONG64 *w = Page;
    for (ULONG i = 0; i < PAGE_SIZE / 8; i++)
        w[i] = KtPfWord(Salt, i);
}

LONG KtPfCompare(const VOID *Page, ULONG Salt)
{
    const ULONG64 *w = Page;
    for (ULONG i = 0; i < PAGE_SIZE / 8; i++)
        if (w[i] != KtPfWord(Salt, i))
            return (LONG)i;
    return -1;
}

PUCHAR KtPfSlotData(ULONG Slot)
{
    return IopRamDiskData(MmPagingFile->Device) + (ULONG64)Slot * PAGE_SIZE;
}

BOOLEAN KtPfFrameIsFree(PFN_NUMBER Pfn)
{
    return Pfn <= MmHighestPhysicalPage && MI_PFN_ELEMENT(Pfn)->PageLocation <= FreePageList;
}

BOOLEAN KtPfSlotBit(PMMPAGING_FILE File, ULONG Slot)
{
    return (File->Bitmap[Slot / 64] >> (Slot % 64)) & 1;
}

ULONG KtPfProtection(ULONG Index)
{
    static const ULONG p[4] = {MM_READONLY, MM_READWRITE, MM_EXECUTE_READ, MM_EXECUTE_READWRITE};
    return p[Index % 4];
}

PCSTR KtPfProtectionName(ULONG Protection)
{
    switch (Protection & 7) {
    case MM_READONLY: return "READONLY";
    case MM_READWRITE: return "READWRITE";
    case MM_EXECUTE_READ: return "EXECUTE_READ";
    case MM_EXECUTE_READWRITE: return "EXECUTE_READWRITE";
    case MM_WRITECOPY: return "WRITECOPY";
    default: return "other";
    }
}

BOOLEAN KtPfCheckValidPte(PKTEST_CONTEXT Context, PCSTR Check, PCSTR Step, MMPTE Pte, ULONG Protection)
{
    BOOLEAN write = (Protection & 7) == MM_READWRITE || (Protection & 7) == MM_EXECUTE_READWRITE;
    BOOLEAN exec = (Protection & 7) == MM_EXECUTE_READ || (Protection & 7) == MM_EXECUTE_READWRITE ||
                   (Protection & 7) == MM_EXECUTE;
    return KtCheck(Context, Pte.Hard.Valid && Pte.Hard.Owner && Pte.Hard.Write == write && Pte.Hard.NoExecute == !exec &&
                   !Pte.Hard.LargePage && MI_VALID_PTE_PROTECTION(Pte) == Protection, Check, "%s: PTE 0x%016llx, "
                   "expected a valid user page (Owner 1) with Write %d, NoExecute %d and its protection %u (%s) kept in "
                   "bits 52-56", Step, Pte.Long, write, !exec, Protection, KtPfProtectionName(Protection));
}

BOOLEAN KtPfMapPage(PKTEST_CONTEXT Context, KT_PF_SPACE *Space, ULONG_PTR Va, ULONG Protection, ULONG Salt)
{
    PFN_NUMBER pfn;
    NTSTATUS status = MiAllocateFrame(0, &pfn);
    if (!KtCheck(Context, NT_SUCCESS(status), "map", "a frame for the test page at 0x%llx: 0x%x", (ULONG64)Va, status))
        return FALSE;
    KtPfFill(MiPfnToVirtual(pfn), Salt);
    PMMPTE pte = MiGetUserPte(Space->Space, Va, TRUE);
    if (!KtCheck(Context, pte != NULL, "map", "the page tables of the test page at 0x%llx", (ULONG64)Va)) {
        MiFreeFrame(pfn);
        return FALSE;
    }
    *pte = MiMakeValidUserPte(pfn, Protection);
    MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)pte;
    return TRUE;
}

VOID KtPfDestroySpace(KT_PF_SPACE *Space)
{
    if (Space->Space == NULL)
        return;
    /* A working set list the test gave the space lives in the test: forget it first. */
    Space->Space->Vm.WorkingSetList = NULL;
    MmDeleteProcessAddressSpace(&Space->Process);
    Space->Space = NULL;
}

BOOLEAN KtPfRequire(PKTEST_CONTEXT Context, PCSTR Which)
{
    static ULONG64 bits[1];
    MMPAGING_FILE full = {MmPagingFile->Device, 1, 0, 0, bits, 0, 0};
    bits[0] = 1;
    ULONG slot;
    if (strcmp(Which, "slots") == 0)
        return KtRequireImplemented(Context, MiAllocatePagefileSlot(&full, &slot), "MiAllocatePagefileSlot", "lab 08");
    if (strcmp(Which, "io") == 0)
        return KtRequireImplemented(Context, MiPagefileIo(&full, 0, 1, FALSE), "MiPagefileIo", "lab 08");
    static EPROCESS p;
    RtlZeroMemory(&p, sizeof(p));
    if (!NT_SUCCESS(MmCreateProcessAddressSpace(&p)))
        return KtCheck(Context, FALSE, "space", "an address space for the test");
    NTSTATUS status;
    PCSTR fn;
    if (strcmp(Which, "pager") == 0) {
        status = MiPageIn(p.AddressSpace, 0x10000);
        fn = "MiPageIn";
    } else {
        status = MiDispatchFault(p.AddressSpace, 0, MM_HIGHEST_USER_ADDRESS + 1, KernelMode);
        fn = "MiDispatchFault";
    }
    MmDeleteProcessAddressSpace(&p);
    return KtRequireImplemented(Context, status, fn, "lab 08");
}
