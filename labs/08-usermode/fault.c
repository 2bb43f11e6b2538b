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
    /* LAB 08: count the fault; the PTE or the VAD; guard, protection, demand zero, page-in; the working set. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(FaultStatus);
    UNREFERENCED_PARAMETER(VirtualAddress);
    UNREFERENCED_PARAMETER(PreviousMode);
    return STATUS_NOT_IMPLEMENTED;
}
