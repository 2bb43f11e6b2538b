/* virtual.c - lab 08: private virtual memory, NT's way. A process first *reserves* a range
 * of its address space (a VAD: no memory yet, only the promise that nothing else goes
 * there), then *commits* pages of it (they count in the process's private bytes and read
 * as zeros; a frame is only taken when a page is first touched - the fault handler's
 * job), may change their protection, *decommit* them (back to reserved, the frames go)
 * and finally *release* the whole reservation. The framework (kernel/mm/vmsvc.c) captures
 * the caller's arguments, attaches to the process and holds its AddressCreationLock around
 * every routine here. The PTE states and protection codes: kernel/mm/mi.h. */
#include "mivm.h"
#include "ex.h"
#include "rtl.h"

/*
 * MiAllocateVirtualMemory - NtAllocateVirtualMemory's semantics on Space. IRQL
 * PASSIVE_LEVEL (APC_LEVEL at most), Space attached and its AddressCreationLock held.
 * Arguments are kernel copies; write *BaseAddress and *RegionSize only on success.
 *  1. AllocationType: MEM_COMMIT and/or MEM_RESERVE, optionally MEM_TOP_DOWN; anything
 *     else (no COMMIT nor RESERVE, another bit) -> STATUS_INVALID_PARAMETER_5.
 *  2. Protect: MiMakeProtectionMask; MM_INVALID_PROTECTION or a copy-on-write protection
 *     (private memory cannot be copy-on-write) -> STATUS_INVALID_PAGE_PROTECTION.
 *  3. ZeroBits > 21 -> STATUS_INVALID_PARAMETER_3. ZeroBits n (1..21) keeps a chosen base
 *     below 2^(32-n) (the whole range ends below it); 0: up to MM_HIGHEST_VAD_ADDRESS.
 *  4. *RegionSize 0 -> STATUS_INVALID_PARAMETER_4; *BaseAddress above
 *     MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2; a range past
 *     MM_HIGHEST_VAD_ADDRESS (or wrapping) -> STATUS_INVALID_PARAMETER_4.
 *  5. Reserve (MEM_RESERVE, or MEM_COMMIT with a NULL *BaseAddress: both at once):
 *     - NULL base: the lowest free range (the highest with MEM_TOP_DOWN) of
 *       ALIGN_UP(*RegionSize, PAGE_SIZE) bytes on a 64 KiB boundary at or above
 *       MM_LOWEST_USER_ADDRESS (MiFindEmptyAddressRange); none -> STATUS_NO_MEMORY.
 *     - a base: rounded *down* to 64 KiB (MM_ALLOCATION_GRANULARITY); the range ends at
 *       the end of the page holding base + size - 1; below MM_LOWEST_USER_ADDRESS ->
 *       STATUS_INVALID_PARAMETER_2; a page already in a VAD -> STATUS_CONFLICTING_ADDRESSES.
 *     - one new VAD (nonpaged pool, tag MI_VAD_TAG; none -> STATUS_INSUFFICIENT_RESOURCES):
 *       PrivateMemory 1, VadType VadNone, Protection the MM code, MemCommit 1 when
 *       MEM_COMMIT was given (then every page is committed: CommitCharge = its pages),
 *       inserted with MiInsertVad. VirtualSize grows by its bytes, CommitCharge by its
 *       committed pages (and their peaks follow).
 *     - *BaseAddress = its base, *RegionSize = its bytes.
 *  6. Commit only (MEM_COMMIT, a base): the pages of [base, base + size) rounded out to
 *     pages must all lie in one private VAD, else STATUS_CONFLICTING_ADDRESSES. Every
 *     page of the range ends committed with the new protection (pages that were committed
 *     already keep their frames and contents, only their protection changes);
 *     CommitCharge (the VAD's and the space's) grows by the pages that were not committed
 *     before - committing twice costs nothing. A page is committed by giving it a
 *     demand-zero PTE (MiReplaceUserPte) - no frame is taken here; out of frames for a
 *     page table -> STATUS_NO_MEMORY. *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiAllocateVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                 PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect)
{
    /* LAB 08: check the arguments in the contract's order, then reserve (a new VAD) or commit (demand-zero PTEs in one VAD). */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(BaseAddress);
    UNREFERENCED_PARAMETER(ZeroBits);
    UNREFERENCED_PARAMETER(RegionSize);
    UNREFERENCED_PARAMETER(AllocationType);
    UNREFERENCED_PARAMETER(Protect);
    KeNotImplemented("MiAllocateVirtualMemory", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}


/*
 * MiFreeVirtualMemory - NtFreeVirtualMemory's semantics on Space. IRQL PASSIVE_LEVEL,
 * Space attached and locked. Write *BaseAddress and *RegionSize only on success.
 *  1. FreeType exactly MEM_RELEASE or MEM_DECOMMIT, else STATUS_INVALID_PARAMETER_4.
 *  2. *BaseAddress above MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2; no VAD holds
 *     its page -> STATUS_MEMORY_NOT_ALLOCATED; the VAD is a mapped view (not
 *     PrivateMemory) -> STATUS_UNABLE_TO_DELETE_SECTION.
 *  3. MEM_RELEASE: the page of *BaseAddress must be the VAD's first page, else
 *     STATUS_FREE_VM_NOT_AT_BASE; *RegionSize 0 means the whole VAD, any other size must
 *     end exactly at the VAD's last page (else STATUS_UNABLE_TO_FREE_VM: no partial
 *     release). Every page goes (MiReplaceUserPte with a zero PTE frees its frame or
 *     pagefile slot), the VAD leaves the tree (MiRemoveVad) and the pool; VirtualSize
 *     drops by its bytes, CommitCharge by its committed pages. *BaseAddress = its base,
 *     *RegionSize = its bytes.
 *  4. MEM_DECOMMIT: the pages of [base, base + size) rounded out to pages, *RegionSize 0
 *     meaning from base to the VAD's end; a range past the VAD's end ->
 *     STATUS_UNABLE_TO_FREE_VM. Each committed page becomes reserved: in a MemCommit VAD
 *     its PTE becomes MiMakeDecommittedPte() (a zero PTE would read as committed), else
 *     zero; its frame or slot is freed either way. CommitCharge (the VAD's and the
 *     space's) drops by the pages that were committed; decommitting reserved pages is no
 *     error and costs nothing. The VAD stays. *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiFreeVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType)
{
    /* LAB 08: find the VAD; release it whole at its base, or decommit pages inside it. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(BaseAddress);
    UNREFERENCED_PARAMETER(RegionSize);
    UNREFERENCED_PARAMETER(FreeType);
    KeNotImplemented("MiFreeVirtualMemory", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}


/*
 * MiProtectVirtualMemory - NtProtectVirtualMemory's semantics on Space. IRQL
 * PASSIVE_LEVEL, Space attached and locked. Outputs written only on success.
 *  1. NewProtect: MiMakeProtectionMask; invalid -> STATUS_INVALID_PAGE_PROTECTION (also a
 *     copy-on-write protection on private memory).
 *  2. *RegionSize 0 -> STATUS_INVALID_PARAMETER_3; *BaseAddress above
 *     MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2.
 *  3. The pages of [base, base + size) rounded out to pages must lie in one VAD, else
 *     STATUS_CONFLICTING_ADDRESSES (free memory too); every one of them must be
 *     committed, else STATUS_NOT_COMMITTED and nothing changes.
 *  4. *OldProtect = the PAGE_* protection the first page had (PAGE_GUARD included while
 *     it is set); every page gets the new one (MiSetUserPteProtection: a resident page
 *     keeps its frame and contents; PAGE_GUARD makes each page a guard page again).
 *     *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiProtectVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize,
                                ULONG NewProtect, PULONG OldProtect)
{
    /* LAB 08: one VAD, all committed, then every page's protection. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(BaseAddress);
    UNREFERENCED_PARAMETER(RegionSize);
    UNREFERENCED_PARAMETER(NewProtect);
    UNREFERENCED_PARAMETER(OldProtect);
    KeNotImplemented("MiProtectVirtualMemory", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}


/*
 * MiQueryVirtualMemory - NtQueryVirtualMemory(MemoryBasicInformation) on Space: what the
 * page holding Address is, and how far pages like it go. IRQL PASSIVE_LEVEL, Space
 * attached and locked. Address above MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2.
 * Every field of *Info is written:
 *  - BaseAddress = Address rounded down to its page.
 *  - In a VAD: AllocationBase = the VAD's base, AllocationProtect = the PAGE_* it was
 *    reserved with, Type = MEM_PRIVATE (MEM_MAPPED for VadMappedView, MEM_IMAGE for
 *    VadImageMap); State = MEM_COMMIT with Protect = the page's PAGE_* (PAGE_GUARD
 *    included) when committed, MEM_RESERVE with Protect 0 when not; RegionSize = the bytes
 *    from BaseAddress over the following pages of the *same VAD* with the same State and
 *    Protect.
 *  - Free (no VAD): AllocationBase NULL, AllocationProtect 0, State MEM_FREE, Protect
 *    PAGE_NOACCESS, Type 0, RegionSize = the bytes up to the next VAD's base, or up to
 *    MM_HIGHEST_VAD_ADDRESS + 1 when none follows (find the next VAD in O(log n)).
 */
NTSTATUS MiQueryVirtualMemory(PMMADDRESS_SPACE Space, ULONG_PTR Address, PMEMORY_BASIC_INFORMATION Info)
{
    /* LAB 08: the VAD holding the page (or the next one above it), then the run of pages alike. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Info);
    KeNotImplemented("MiQueryVirtualMemory", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}
