/* procspace.c - process address spaces (lab 08 framework): a PML4 per process sharing the
 * kernel half, creation and teardown (every VAD, user page, pagefile slot and page table
 * given back), CR3 switching, the user PTE helpers the student's virtual.c and pf's fault
 * handler use, and the MM protection codes. The teardown walks the VAD tree itself (never
 * trusting the student's tree routines to terminate). */
#include "arch.h"
#include "ex.h"
#include "ke.h"
#include "mi.h"
#include "ps.h"
#include "rtl.h"

#define MI_FIRST_KERNEL_PML4E 256

/* ---- Protection codes ---- */

ULONG MiMakeProtectionMask(ULONG Win32Protect)
{
    static const struct { ULONG Page; ULONG Mm; } access[] = {
        {PAGE_NOACCESS, MM_NOACCESS},       {PAGE_READONLY, MM_READONLY},
        {PAGE_READWRITE, MM_READWRITE},     {PAGE_WRITECOPY, MM_WRITECOPY},
        {PAGE_EXECUTE, MM_EXECUTE},         {PAGE_EXECUTE_READ, MM_EXECUTE_READ},
        {PAGE_EXECUTE_READWRITE, MM_EXECUTE_READWRITE}, {PAGE_EXECUTE_WRITECOPY, MM_EXECUTE_WRITECOPY},
    };
    if (Win32Protect & ~(ULONG)(0xFF | PAGE_GUARD | PAGE_NOCACHE))
        return MM_INVALID_PROTECTION;
    ULONG base = Win32Protect & 0xFF;
    for (ULONG i = 0; i < sizeof(access) / sizeof(access[0]); i++) {
        if (access[i].Page != base)
            continue;
        if (base == PAGE_NOACCESS)
            return (Win32Protect & (PAGE_GUARD | PAGE_NOCACHE)) ? MM_INVALID_PROTECTION : MM_NOACCESS;
        ULONG mm = access[i].Mm;
        if (Win32Protect & PAGE_GUARD)
            mm |= MM_GUARD_PAGE;
        if (Win32Protect & PAGE_NOCACHE)
            mm |= MM_NOCACHE;
        return mm;
    }
    return MM_INVALID_PROTECTION; /* zero, or more than one access bit */
}

ULONG MiProtectionToWin32(ULONG Protection)
{
    static const ULONG page[8] = {0, PAGE_READONLY, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_READWRITE,
                                  PAGE_WRITECOPY, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY};
    Protection &= 0x1F;
    if (Protection == MM_NOACCESS)
        return PAGE_NOACCESS;
    if (Protection == MM_DECOMMIT || Protection == MM_ZERO_ACCESS)
        return 0;
    ULONG w = page[Protection & MM_PROTECTION_ACCESS_MASK];
    if (Protection & MM_GUARD_PAGE)
        w |= PAGE_GUARD;
    if (Protection & MM_NOCACHE)
        w |= PAGE_NOCACHE;
    return w;
}

MMPTE MiMakeValidUserPte(PFN_NUMBER Pfn, ULONG Protection)
{
    MMPTE pte = {0};
    pte.Hard.Valid = 1;
    pte.Hard.Owner = 1;
    ULONG access = Protection & MM_PROTECTION_ACCESS_MASK;
    pte.Hard.Write = access == MM_READWRITE || access == MM_EXECUTE_READWRITE;
    pte.Hard.NoExecute = !MI_IS_EXECUTABLE(Protection);
    pte.Hard.CacheDisable = (Protection & MM_NOCACHE) != 0;
    pte.Hard.PageFrameNumber = Pfn;
    pte.Long |= (ULONG64)(Protection & ~MM_GUARD_PAGE & 0x1F) << MI_VALID_PTE_PROTECTION_SHIFT;
    return pte;
}

ULONG MiGetPteProtection(MMPTE Pte)
{
    if (Pte.Hard.Valid)
        return MI_VALID_PTE_PROTECTION(Pte);
    if (Pte.Soft.Prototype)
        return Pte.Proto.Protection; /* 0: the prototype's (pf resolves it) */
    return Pte.Soft.Protection;      /* same bits in the Trans format */
}

/* ---- Weak defaults of pf's hooks ---- */

__attribute__((weak)) VOID MiReleasePageFileSpace(MMPTE PteContents)
{
    UNREFERENCED_PARAMETER(PteContents);
}

__attribute__((weak)) VOID MiWorkingSetRemovePage(PMMADDRESS_SPACE Space, ULONG_PTR Va, PFN_NUMBER Pfn)
{
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Pfn);
    if (Space->Vm.WorkingSetSize)
        Space->Vm.WorkingSetSize--;
}

/* ---- Address spaces ---- */

PMMADDRESS_SPACE MiGetCurrentAddressSpace(VOID)
{
    PEPROCESS p = PsGetCurrentProcess();
    return p ? p->AddressSpace : NULL;
}

static BOOLEAN MiIsActive(PMMADDRESS_SPACE Space)
{
    return ((__readcr3() >> PAGE_SHIFT) & 0xFFFFFFFFFFULL) == Space->Pml4Pfn;
}

VOID MiFlushUserTb(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    if (MiIsActive(Space))
        __invlpg((const void *)Va);
}

VOID MmSwitchAddressSpace(PEPROCESS Process)
{
    ULONG64 cr3;
    if (Process && Process->AddressSpace)
        cr3 = Process->DirectoryTableBase;
    else if (MmKernelPml4)
        cr3 = (ULONG64)MmKernelPml4 - MM_PHYSICAL_MAP_BASE;
    else
        return;
    if ((__readcr3() & 0x000FFFFFFFFFF000ULL) != cr3)
        __writecr3(cr3);
}

/* The kernel regions get their PML4 entries before the first process copies them, so the
 * kernel half never changes under a process (every later table is below a shared PDPT). */
static NTSTATUS MiPrepareKernelPml4(VOID)
{
    static BOOLEAN done;
    static const ULONG_PTR regions[] = {MM_PHYSICAL_MAP_BASE, MM_SYSTEM_PTE_START, MM_KERNEL_STACK_START,
                                        MM_PAGED_POOL_START, MM_NONPAGED_POOL_START, MM_KERNEL_VMA};
    if (done)
        return STATUS_SUCCESS;
    for (ULONG i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        PMMPTE pdpte;
        KIRQL old;
        MiLockPfnDatabase(&old);
        /* um: an anchor page directory in the last PDPT entry of the region's 512 GiB, which
         * nothing maps or unmaps: lab 02's MmUnmapPage frees a PDPT that becomes empty (the
         * last kernel stack of region 497 going away did), and a process would then keep a
         * PML4 entry naming a freed table. With the anchor the PDPT never empties. */
        ULONG_PTR anchor = (regions[i] & ~((1ULL << 39) - 1)) | (511ULL << 30);
        NTSTATUS status = MiWalkPageTables(MmKernelPml4, anchor, MM_LEVEL_PD, TRUE, &pdpte);
        MiUnlockPfnDatabase(old);
        if (!NT_SUCCESS(status))
            return status;
    }
    done = TRUE;
    return STATUS_SUCCESS;
}

NTSTATUS MmCreateProcessAddressSpace(PEPROCESS Process)
{
    if (!MmKernelPml4 || !MmPfnDatabaseReady)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (Process->AddressSpace)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = MiPrepareKernelPml4();
    if (!NT_SUCCESS(status))
        return STATUS_INSUFFICIENT_RESOURCES;
    PMMADDRESS_SPACE space = ExAllocatePoolWithTag(NonPagedPool, sizeof(*space), MI_ADDRESS_SPACE_TAG);
    if (!space)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(space, sizeof(*space));
    PFN_NUMBER top;
    KIRQL old;
    MiLockPfnDatabase(&old);
    status = MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &top);
    MiUnlockPfnDatabase(old);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(space, MI_ADDRESS_SPACE_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    PMMPTE pml4 = MiPfnToVirtual(top);
    RtlZeroMemory(pml4, PAGE_SIZE / 2); /* the user half: empty, whatever lab 01 left */
    for (ULONG i = MI_FIRST_KERNEL_PML4E; i < MM_PTES_PER_TABLE; i++)
        pml4[i] = MmKernelPml4[i];
    space->Tag = MI_ADDRESS_SPACE_TAG;
    space->Process = Process;
    space->Pml4Pfn = top;
    space->Pml4 = pml4;
    KeInitializeGuardedMutex(&space->AddressCreationLock);
    space->Vm.MinimumWorkingSetSize = 50;
    space->Vm.MaximumWorkingSetSize = 345;
    Process->AddressSpace = space;
    Process->DirectoryTableBase = top << PAGE_SHIFT;
    return STATUS_SUCCESS;
}

static VOID MiFreeFrame(PFN_NUMBER Pfn)
{
    KIRQL old;
    MiLockPfnDatabase(&old);
    MmFreePhysicalPage(Pfn);
    MiUnlockPfnDatabase(old);
}

/* Releases what a user PTE holds (not the PTE itself). */
static VOID MiReleasePteContents(PMMADDRESS_SPACE Space, ULONG_PTR Va, MMPTE Pte)
{
    if (Pte.Hard.Valid) {
        MiWorkingSetRemovePage(Space, Va, Pte.Hard.PageFrameNumber);
        MiFreeFrame(Pte.Hard.PageFrameNumber);
    } else if (Pte.Soft.Prototype) {
        /* the section owns the page */
    } else if (Pte.Soft.Transition) {
        PMMPFN pfn = MI_PFN_ELEMENT(Pte.Trans.PageFrameNumber);
        if (pfn->PageLocation != ActiveAndValid) {
            KIRQL old;
            MiLockPfnDatabase(&old);
            MiUnlinkPageFromList(Pte.Trans.PageFrameNumber);
            pfn->PageLocation = ActiveAndValid;
            pfn->ReferenceCount = 1;
            MiUnlockPfnDatabase(old);
        }
        MiFreeFrame(Pte.Trans.PageFrameNumber);
    } else if (Pte.Soft.PageFileHigh) {
        MiReleasePageFileSpace(Pte);
    }
}

/* Frees the tables below a user-half entry of Level (>= 2) and everything they map. */
static VOID MiDeleteTable(PMMADDRESS_SPACE Space, PMMPTE Table, ULONG Level, ULONG_PTR BaseVa)
{
    ULONG count = Level == MM_LEVEL_PML4 ? MI_FIRST_KERNEL_PML4E : MM_PTES_PER_TABLE; /* user half only */
    for (ULONG i = 0; i < count; i++) {
        MMPTE e = Table[i];
        ULONG_PTR va = BaseVa + ((ULONG_PTR)i << (PAGE_SHIFT + 9 * (Level - 1)));
        if (Level == MM_LEVEL_PT) {
            if (e.Long)
                MiReleasePteContents(Space, va, e);
            continue;
        }
        if (!e.Hard.Valid)
            continue;
        MiDeleteTable(Space, MiPfnToVirtual(e.Hard.PageFrameNumber), Level - 1, va);
        MiFreeFrame(e.Hard.PageFrameNumber);
        if (Space->PageTablePages)
            Space->PageTablePages--;
    }
}

VOID MmDeleteProcessAddressSpace(PEPROCESS Process)
{
    PMMADDRESS_SPACE space = Process->AddressSpace;
    if (!space)
        return;
    space->Deleting = TRUE;
    if (MiIsActive(space))
        MmSwitchAddressSpace(NULL);
    /* Every VAD, in a bounded walk (children before parents, at most the count + 1). */
    PMMVAD v = space->VadRoot.Root;
    ULONG budget = space->VadRoot.NumberGenericTableElements + 1;
    while (v && budget) {
        if (v->LeftChild) {
            v = v->LeftChild;
            continue;
        }
        if (v->RightChild) {
            v = v->RightChild;
            continue;
        }
        PMMVAD parent = v->Parent;
        if (parent) {
            if (parent->LeftChild == v)
                parent->LeftChild = NULL;
            else
                parent->RightChild = NULL;
        }
        v->Tag = 0;
        ExFreePoolWithTag(v, MI_VAD_TAG);
        budget--;
        v = parent;
    }
    space->VadRoot.Root = NULL;
    space->VadRoot.NumberGenericTableElements = 0;
    MiDeleteTable(space, space->Pml4, MM_LEVEL_PML4, 0);
    MiFreeFrame(space->Pml4Pfn);
    space->Tag = 0;
    ExFreePoolWithTag(space, MI_ADDRESS_SPACE_TAG);
    Process->AddressSpace = NULL;
    Process->DirectoryTableBase = 0;
}

VOID MmQueryVmCounters(PEPROCESS Process, PVM_COUNTERS Counters)
{
    RtlZeroMemory(Counters, sizeof(*Counters));
    PMMADDRESS_SPACE s = Process ? Process->AddressSpace : NULL;
    if (!s)
        return;
    Counters->VirtualSize = s->VirtualSize;
    Counters->PeakVirtualSize = s->PeakVirtualSize;
    Counters->PageFaultCount = s->Vm.PageFaultCount;
    Counters->WorkingSetSize = s->Vm.WorkingSetSize * PAGE_SIZE;
    Counters->PeakWorkingSetSize = s->Vm.PeakWorkingSetSize * PAGE_SIZE;
    Counters->PagefileUsage = s->CommitCharge * PAGE_SIZE;
    Counters->PeakPagefileUsage = s->PeakCommitCharge * PAGE_SIZE;
}

/* ---- User PTEs ---- */

PMMPTE MiGetUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va, BOOLEAN Create)
{
    if (Va > MM_HIGHEST_USER_ADDRESS)
        return NULL;
    /* Count the tables the walk will have to create. */
    ULONG missing = 0;
    PMMPTE table = Space->Pml4;
    for (ULONG level = MM_LEVEL_PML4; level > MM_LEVEL_PT; level--) {
        MMPTE e = table[MiTableIndex(Va, level)];
        if (!e.Hard.Valid) {
            missing = level - 1;
            break;
        }
        table = MiPfnToVirtual(e.Hard.PageFrameNumber);
    }
    if (missing && !Create)
        return NULL;
    PMMPTE pte;
    KIRQL old;
    MiLockPfnDatabase(&old);
    NTSTATUS status = MiWalkPageTables(Space->Pml4, Va, MM_LEVEL_PT, Create, &pte);
    MiUnlockPfnDatabase(old);
    if (!NT_SUCCESS(status)) {
        /* A partial walk may have made some tables: count what exists now. */
        return NULL;
    }
    Space->PageTablePages += missing;
    return pte;
}

MMPTE MiReadUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    MMPTE zero = {0};
    PMMPTE pte = MiGetUserPte(Space, Va, FALSE);
    return pte ? *pte : zero;
}

NTSTATUS MiReplaceUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va, MMPTE NewPte)
{
    Va = ALIGN_DOWN(Va, PAGE_SIZE);
    PMMPTE pte = MiGetUserPte(Space, Va, NewPte.Long != 0);
    if (!pte)
        return NewPte.Long ? STATUS_NO_MEMORY : STATUS_SUCCESS;
    MMPTE old = *pte;
    pte->Long = NewPte.Long;
    if (old.Hard.Valid)
        MiFlushUserTb(Space, Va);
    if (old.Long)
        MiReleasePteContents(Space, Va, old);
    return STATUS_SUCCESS;
}

ULONG MiSetUserPteProtection(PMMADDRESS_SPACE Space, ULONG_PTR Va, ULONG Protection)
{
    Va = ALIGN_DOWN(Va, PAGE_SIZE);
    PMMPTE pte = MiGetUserPte(Space, Va, TRUE);
    if (!pte)
        return MM_INVALID_PROTECTION;
    MMPTE old = *pte, now = old;
    if (old.Long == 0) {
        now = MiMakeDemandZeroPte(Protection);
    } else if (old.Hard.Valid) {
        if (Protection & MM_GUARD_PAGE) {
            now.Long = 0;
            now.Trans.Transition = 1;
            now.Trans.Protection = Protection;
            now.Trans.PageFrameNumber = old.Hard.PageFrameNumber;
            MiWorkingSetRemovePage(Space, Va, old.Hard.PageFrameNumber);
        } else {
            now = MiMakeValidUserPte(old.Hard.PageFrameNumber, Protection);
            now.Hard.Accessed = old.Hard.Accessed;
            now.Hard.Dirty = old.Hard.Dirty;
        }
    } else if (old.Soft.Prototype) {
        now.Proto.Protection = Protection;
    } else {
        now.Soft.Protection = Protection; /* the same bits in the Trans format */
    }
    pte->Long = now.Long;
    if (old.Hard.Valid)
        MiFlushUserTb(Space, Va);
    return MiGetPteProtection(old);
}
