/* lab08pf_support.c - the shared parts of lab 08's paging tests (see lab08pf_support.h). */
#include "lab08pf_support.h"
#include "../../../kernel/mm/mi.h"
#include "arch.h"
#include "ke.h"

BOOLEAN KtPfEnter(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB08PF_BUDGET_MS);
    MMSUPPORT ws;
    MMWSLE wsle[1];
    NTSTATUS status = MiInitializeWorkingSet(&ws, NULL, wsle, 1, 0, 1);
    if (!KtRequireImplemented(Context, status, "MiInitializeWorkingSet", "lab 08"))
        return FALSE;
    status = MiCreatePagingFile(KT_PF_SLOTS);
    return KtCheck(Context, NT_SUCCESS(status), "pagefile", "the framework could not create the pagefile on the RAM "
                   "disk (lab 07): 0x%x", status);
}

BOOLEAN KtPfCreateSpace(PKTEST_CONTEXT Context, KT_PF_SPACE *Space)
{
    Space->Pml4 = NULL;
    NTSTATUS status = MiAllocateFrame(MM_ALLOCATE_ZEROED, &Space->Pml4Pfn);
    if (!KtCheck(Context, NT_SUCCESS(status) && MmKernelPml4 != NULL, "space", "a PML4 for the test's address space: "
                 "0x%x", status))
        return FALSE;
    Space->Pml4 = MiPfnToVirtual(Space->Pml4Pfn);
    for (ULONG i = 256; i < MM_PTES_PER_TABLE; i++)
        Space->Pml4[i] = MmKernelPml4[i];
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
                   !Pte.Hard.LargePage, Check, "%s: PTE 0x%016llx, expected a valid user page (Owner 1) with Write %d "
                   "and NoExecute %d (protection %s)", Step, Pte.Long, write, !exec, KtPfProtectionName(Protection));
}

BOOLEAN KtPfMapPage(PKTEST_CONTEXT Context, KT_PF_SPACE *Space, ULONG_PTR Va, ULONG Protection, ULONG Salt)
{
    PFN_NUMBER pfn;
    NTSTATUS status = MiAllocateFrame(0, &pfn);
    if (!KtCheck(Context, NT_SUCCESS(status), "map", "a frame for the test page at 0x%llx: 0x%x", (ULONG64)Va, status))
        return FALSE;
    KtPfFill(MiPfnToVirtual(pfn), Salt);
    ULONG protect = MM_PROTECT_USER;
    if ((Protection & 7) == MM_READWRITE || (Protection & 7) == MM_EXECUTE_READWRITE)
        protect |= MM_PROTECT_WRITE;
    if ((Protection & 7) == MM_EXECUTE_READ || (Protection & 7) == MM_EXECUTE_READWRITE)
        protect |= MM_PROTECT_EXECUTE;
    KIRQL old;
    MiLockPfnDatabase(&old);
    status = MmMapPage(Space->Pml4, Va, pfn, protect, 0);
    MiUnlockPfnDatabase(old);
    if (!KtCheck(Context, NT_SUCCESS(status), "map", "mapping the test page at 0x%llx: 0x%x", (ULONG64)Va, status)) {
        MiFreeFrame(pfn);
        return FALSE;
    }
    MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)MiGetPte(Space->Pml4, Va);
    return TRUE;
}

static VOID KtPfFreeTable(PMMPTE Table, ULONG Level)
{
    for (ULONG i = 0; i < MM_PTES_PER_TABLE; i++) {
        MMPTE e = Table[i];
        if (Level == MM_LEVEL_PML4 && i >= 256)
            break;
        if (e.Hard.Valid) {
            if (Level > MM_LEVEL_PT)
                KtPfFreeTable(MiPfnToVirtual(e.Hard.PageFrameNumber), Level - 1);
            if (!KtPfFrameIsFree(e.Hard.PageFrameNumber))
                MiFreeFrame(e.Hard.PageFrameNumber);
        } else if (Level == MM_LEVEL_PT && MmPagingFile != NULL && !(e.Long & MI_PTE_PROTOTYPE) &&
                   MiPtePageFileHigh(e) != 0 && MiPtePageFileHigh(e) <= MmPagingFile->Size) {
            ULONG s = MiPtePageFileHigh(e) - 1;
            if (KtPfSlotBit(MmPagingFile, s)) {
                MmPagingFile->Bitmap[s / 64] &= ~(1ULL << (s % 64));
                MmPagingFile->FreeSpace++;
            }
        }
        Table[i].Long = 0;
    }
}

VOID KtPfDestroySpace(KT_PF_SPACE *Space)
{
    if (Space->Pml4 == NULL)
        return;
    if (MiCurrentPml4() == Space->Pml4)
        __writecr3(MmKernelPml4 ? (ULONG64)MmKernelPml4 - MM_PHYSICAL_MAP_BASE : __readcr3());
    KtPfFreeTable(Space->Pml4, MM_LEVEL_PML4);
    MiFreeFrame(Space->Pml4Pfn);
    Space->Pml4 = NULL;
}
