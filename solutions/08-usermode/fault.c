/* fault.c - lab 08 (faults and paging): the page-fault handler. MmAccessFault (framework,
 * kernel/mm/pfault.c) calls MiDispatchFault for a fault on a user address with the address
 * space locked. The PTE (or, for a zero PTE, the VAD) says what the page is: committed but
 * never touched (demand zero: a frame of zeros now, not before), in the pagefile (read it
 * back), a guard page (the first touch only clears the guard and reports it), reserved,
 * decommitted, free or not allowed for this access (an access violation, raised in the
 * process by the trap handler: never a bugcheck). A page made resident joins the working
 * set; when memory runs short the working set is trimmed first. */
#include "mmpf.h"

/* Takes a frame for the fault, trimming the working set first when memory is short. */
static NTSTATUS MiFaultFrame(PMMADDRESS_SPACE Space, ULONG Flags, PPFN_NUMBER Pfn)
{
    if (MmAvailablePages < MM_MINIMUM_AVAILABLE_PAGES)
        MiTrimWorkingSet(Space, MM_TRIM_PAGES);
    NTSTATUS status = MiAllocateFrame(Flags, Pfn);
    if (!NT_SUCCESS(status)) {
        MiTrimWorkingSet(Space, MM_TRIM_PAGES);
        status = MiAllocateFrame(Flags, Pfn);
    }
    return NT_SUCCESS(status) ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}

/*
 * MiDispatchFault - resolve a page fault at VirtualAddress of Space (the current process's).
 * Contract: IRQL <= APC_LEVEL (it may wait for the pagefile); Space's AddressCreationLock
 * is held by the caller (MmAccessFault). FaultStatus has the x86 error code's bits
 * (MI_FAULT_PRESENT, MI_FAULT_WRITE, MI_FAULT_EXECUTE). Va below is VirtualAddress rounded
 * down to its page; the PTE is MiGetUserPte(Space, Va, ...).
 *  - Every call counts: Space->Vm.PageFaultCount grows by one, whatever the outcome.
 *  - A system address (above MM_HIGHEST_USER_ADDRESS): STATUS_ACCESS_VIOLATION.
 *  - A valid PTE: a write to a page without Write whose kept protection is copy-on-write
 *    (MI_IS_COPY_ON_WRITE of MI_VALID_PTE_PROTECTION) is MiCopyOnWrite's (its status
 *    returned); any other write to a page without Write, or an execution of a NoExecute page,
 *    is STATUS_ACCESS_VIOLATION; otherwise the fault is already resolved (another fault or a
 *    stale TLB entry): flush Va (MiFlushUserTb), STATUS_SUCCESS.
 *  - The protection of an invalid PTE: a zero PTE asks the VAD (MiLocateAddress on
 *    Space->VadRoot): no VAD (free) or a VAD without MemCommit (reserved) is
 *    STATUS_ACCESS_VIOLATION, else the VAD's u.VadFlags.Protection; a Proto PTE needs a
 *    VadMappedView VAD (else STATUS_ACCESS_VIOLATION) and has its own Protection if not 0,
 *    else the VAD's; a Soft PTE has its Protection, a Trans PTE (a resident page made a
 *    guard page) its Protection.
 *  - Decommitted (MM_DECOMMIT) or no access (access bits 0, e.g. MM_NOACCESS):
 *    STATUS_ACCESS_VIOLATION, the PTE unchanged.
 *  - A guard page (MM_GUARD_PAGE set): the guard is cleared - the PTE keeps its state (a zero
 *    PTE becomes demand zero with the VAD's protection without the guard, a Soft or Trans PTE
 *    gets its Protection without the guard, a Proto PTE its Proto.Protection without the
 *    guard) - and STATUS_GUARD_PAGE_VIOLATION is returned:
 *    the page is not made resident; the next touch resolves normally.
 *  - The access must be allowed: a write needs a writable protection (MI_IS_WRITABLE), an
 *    execution an executable one (MI_IS_EXECUTABLE); else STATUS_ACCESS_VIOLATION, nothing
 *    changes.
 *  - Resolve: a page of a mapped view (a zero or Proto PTE in a VadMappedView VAD) is
 *    MiResolveMappedFault's (section.c; its status returned, with the protection found
 *    above and whether the fault writes); a pagefile PTE (PageFileHigh != 0) comes back with MiPageIn (its failure
 *    returned); a Trans PTE becomes valid on its own frame (MiMakeValidUserPte); a zero or
 *    demand-zero PTE gets a zeroed frame (MM_ALLOCATE_ZEROED) mapped with
 *    MiMakeValidUserPte(frame, protection) (tables made with MiGetUserPte(Create); none:
 *    STATUS_NO_MEMORY), its MMPFN PteAddress the PTE's address. Before taking a frame (for a
 *    demand-zero page or a page-in), when MmAvailablePages < MM_MINIMUM_AVAILABLE_PAGES,
 *    the working set is trimmed by MM_TRIM_PAGES (MiTrimWorkingSet); if no frame is left,
 *    trim once more and retry; still none: STATUS_NO_MEMORY, the PTE unchanged.
 *  - The page joins the working set (MiInsertWorkingSetPage, which may replace another page);
 *    if that fails the page stays resident and its status is returned. STATUS_SUCCESS.
 */
NTSTATUS MiDispatchFault(PMMADDRESS_SPACE Space, ULONG FaultStatus, ULONG_PTR VirtualAddress,
                         KPROCESSOR_MODE PreviousMode)
{
    UNREFERENCED_PARAMETER(PreviousMode);
    Space->Vm.PageFaultCount++;
    if (VirtualAddress > MM_HIGHEST_USER_ADDRESS)
        return STATUS_ACCESS_VIOLATION;
    ULONG_PTR va = VirtualAddress & ~(PAGE_SIZE - 1);
    BOOLEAN write = (FaultStatus & MI_FAULT_WRITE) != 0;
    BOOLEAN execute = (FaultStatus & MI_FAULT_EXECUTE) != 0;
    PMMPTE pte = MiGetUserPte(Space, va, FALSE);
    MMPTE old;
    old.Long = pte ? pte->Long : 0;

    if (old.Hard.Valid) {
        if (write && !old.Hard.Write && MI_IS_COPY_ON_WRITE(MI_VALID_PTE_PROTECTION(old)))
            return MiCopyOnWrite(Space, va);
        if ((write && !old.Hard.Write) || (execute && old.Hard.NoExecute))
            return STATUS_ACCESS_VIOLATION;
        MiFlushUserTb(Space, va);
        return STATUS_SUCCESS;
    }
    ULONG protection;
    PMMVAD view = NULL;
    if (old.Long == 0 || old.Soft.Prototype) {
        PMMVAD vad = MiLocateAddress(&Space->VadRoot, MI_VA_TO_VPN(va));
        if (vad == NULL || !vad->u.VadFlags.MemCommit)
            return STATUS_ACCESS_VIOLATION;
        if (vad->u.VadFlags.VadType == VadMappedView)
            view = vad;
        else if (old.Soft.Prototype)
            return STATUS_ACCESS_VIOLATION;
        protection = old.Soft.Prototype && old.Proto.Protection ? old.Proto.Protection : vad->u.VadFlags.Protection;
    } else {
        protection = old.Soft.Protection; /* the same bits in the Trans format */
    }
    if (protection == MM_DECOMMIT || (protection & MM_PROTECTION_ACCESS_MASK) == 0)
        return STATUS_ACCESS_VIOLATION;
    if (protection & MM_GUARD_PAGE) {
        MMPTE now = old;
        if (old.Soft.Prototype)
            now.Proto.Protection = protection & ~MM_GUARD_PAGE;
        else if (old.Long == 0)
            now = MiMakeDemandZeroPte(protection & ~MM_GUARD_PAGE);
        else
            now.Soft.Protection = protection & ~MM_GUARD_PAGE;
        pte = MiGetUserPte(Space, va, TRUE);
        if (pte == NULL)
            return STATUS_NO_MEMORY;
        pte->Long = now.Long;
        return STATUS_GUARD_PAGE_VIOLATION;
    }
    if ((write && !MI_IS_WRITABLE(protection)) || (execute && !MI_IS_EXECUTABLE(protection)))
        return STATUS_ACCESS_VIOLATION;

    if (view != NULL)
        return MiResolveMappedFault(Space, view, va, protection, write);
    if (old.Soft.Transition) {
        pte->Long = MiMakeValidUserPte(old.Trans.PageFrameNumber, protection).Long;
    } else if (old.Soft.PageFileHigh != 0) {
        if (MmAvailablePages < MM_MINIMUM_AVAILABLE_PAGES)
            MiTrimWorkingSet(Space, MM_TRIM_PAGES);
        NTSTATUS status = MiPageIn(Space, va);
        if (status == STATUS_INSUFFICIENT_RESOURCES || status == STATUS_NO_MEMORY) {
            MiTrimWorkingSet(Space, MM_TRIM_PAGES);
            status = MiPageIn(Space, va);
        }
        if (!NT_SUCCESS(status))
            return status;
    } else {
        pte = MiGetUserPte(Space, va, TRUE);
        if (pte == NULL)
            return STATUS_NO_MEMORY;
        PFN_NUMBER pfn;
        NTSTATUS status = MiFaultFrame(Space, MM_ALLOCATE_ZEROED, &pfn);
        if (!NT_SUCCESS(status))
            return status;
        MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)pte;
        pte->Long = MiMakeValidUserPte(pfn, protection).Long;
    }
    return MiInsertWorkingSetPage(Space, va);
}
