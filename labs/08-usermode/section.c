/* section.c - lab 08 (faults and paging): shared sections and copy-on-write. A section is
 * memory that several views - in one process or in several - share: its pages are
 * described once, by prototype PTEs, and every view's PTE leads to the same frame. A view
 * mapped copy-on-write shares the frames too until it writes a page: then the writer gets
 * a private copy of that page, and only the writer sees the write. (mmpf.h describes the
 * prototype PTEs and the VAD of a view.) */
#include "ex.h"
#include "ke.h"
#include "kethread.h"
#include "mmpf.h"
#include "rtl.h"

/*
 * MmCreateSection - a pagefile-backed section of MaximumSize bytes.
 * Contract: IRQL == PASSIVE_LEVEL. *Section is NULL on every failure.
 *  - MaximumSize 0: STATUS_INVALID_PARAMETER_4 (NtCreateSection's fourth argument). The
 *    protection (MiMakeProtectionMask of Win32Protect) must be valid and without
 *    MM_GUARD_PAGE or MM_NOCACHE, and its access one of READONLY, READWRITE, EXECUTE_READ,
 *    EXECUTE_READWRITE; otherwise STATUS_INVALID_PAGE_PROTECTION.
 *  - The MM_SECTION and its prototype PTEs come from nonpaged pool (tag MI_SECTION_TAG);
 *    no pool: STATUS_INSUFFICIENT_RESOURCES, nothing left allocated.
 *  - NumberOfPtes = MaximumSize rounded up to pages; every prototype PTE is demand zero with
 *    the section's protection (no frame is taken now); Tag, Protection, SizeOfSection as
 *    asked, References 1, MappedViews 0. STATUS_SUCCESS.
 */
NTSTATUS MmCreateSection(PMM_SECTION *Section, ULONG64 MaximumSize, ULONG Win32Protect)
{
    /* LAB 08: check size and protection; the section and its demand-zero prototype PTEs from the pool. */
    UNREFERENCED_PARAMETER(MaximumSize);
    UNREFERENCED_PARAMETER(Win32Protect);
    *Section = NULL;
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MmCloseSection - drop the reference MmCreateSection gave.
 * Contract: IRQL == PASSIVE_LEVEL. References drops by one; with no reference and no view
 * left, the section is deleted: the frame of every valid prototype PTE freed (MiFreeFrame),
 * the prototype PTEs and the MM_SECTION given back to the pool (Tag 0 first). While views
 * remain, the last MiUnmapViewOfSection deletes it.
 */
VOID MmCloseSection(PMM_SECTION Section)
{
    /* LAB 08: drop the reference; delete the section with no reference and no view left. */
    UNREFERENCED_PARAMETER(Section);
    KeNotImplemented("MmCloseSection", "lab 08");
}

/*
 * MiMapViewOfSection - map ViewSize bytes of Section from SectionOffset into Space.
 * Contract: IRQL == PASSIVE_LEVEL; Space's AddressCreationLock held by the caller.
 *  - SectionOffset must be a multiple of 64 KiB (MM_ALLOCATION_GRANULARITY), and so must a
 *    given *BaseAddress: else STATUS_MAPPED_ALIGNMENT.
 *  - *ViewSize 0 maps from the offset to the section's end; otherwise it is rounded up to
 *    pages. An offset at or past the end, or a view past the end (in pages):
 *    STATUS_INVALID_VIEW_SIZE.
 *  - The view's protection (MiMakeProtectionMask of Win32Protect; invalid, MM_NOCACHE or
 *    MM_GUARD_PAGE: STATUS_INVALID_PAGE_PROTECTION) may not ask more than the section
 *    allows: a writable view (WRITECOPY included) of a section that is not writable, or an
 *    executable view of a section that is not executable: STATUS_SECTION_PROTECTION.
 *  - *BaseAddress NULL: the lowest free 64 KiB-aligned range between MM_LOWEST_USER_ADDRESS
 *    and MM_HIGHEST_VAD_ADDRESS (MiFindEmptyAddressRange; its STATUS_NO_MEMORY); else the
 *    range at *BaseAddress must be free (MiCheckForConflictingVad: else
 *    STATUS_CONFLICTING_ADDRESSES) and below MM_HIGHEST_VAD_ADDRESS (else
 *    STATUS_INVALID_PARAMETER_3).
 *  - A VAD from nonpaged pool (tag MI_VAD_TAG, every field zero first): Tag, StartingVpn and
 *    EndingVpn of the range, VadType VadMappedView, PrivateMemory 0, MemCommit 1,
 *    Protection the view's, ControlArea = Section, FirstPrototypePte = the prototype PTE of
 *    the view's first page, LastContiguousPte = of its last page, ViewOffset = SectionOffset,
 *    CommitCharge 0; MiInsertVad (its failure returned, the VAD freed). No PTE is written
 *    and no frame taken.
 *  - Section->MappedViews + 1; Space->VirtualSize grows by the view's bytes (and
 *    PeakVirtualSize follows). *BaseAddress and *ViewSize are the view's; STATUS_SUCCESS.
 *    On failure both are untouched.
 */
NTSTATUS MiMapViewOfSection(PMMADDRESS_SPACE Space, PMM_SECTION Section, PVOID *BaseAddress, ULONG64 SectionOffset,
                            PSIZE_T ViewSize, ULONG Win32Protect)
{
    /* LAB 08: check offset, size, protection and base; a VadMappedView VAD; the counters. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Section);
    UNREFERENCED_PARAMETER(BaseAddress);
    UNREFERENCED_PARAMETER(SectionOffset);
    UNREFERENCED_PARAMETER(ViewSize);
    UNREFERENCED_PARAMETER(Win32Protect);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiUnmapViewOfSection - remove the view that contains BaseAddress from Space.
 * Contract: IRQL == PASSIVE_LEVEL; Space's AddressCreationLock held by the caller.
 *  - No VAD there, or one that is not a view (VadType != VadMappedView):
 *    STATUS_NOT_MAPPED_VIEW, nothing changes.
 *  - Every page of the view: a PTE valid on the section's frame (its frame is the
 *    prototype's) leaves the working set (MiRemoveWorkingSetPage) and is cleared (set to 0,
 *    the TLB flushed) - the frame stays with the section; any other PTE (a private copy, a
 *    Proto PTE, zero) is replaced by 0 with MiReplaceUserPte (which frees a private copy's
 *    frame and takes it out of the working set).
 *  - The VAD is removed (MiRemoveVad) and freed; Space->VirtualSize drops by the view's
 *    bytes; Section->MappedViews - 1, and with no view and no reference left the section is
 *    deleted (as MmCloseSection). STATUS_SUCCESS.
 */
NTSTATUS MiUnmapViewOfSection(PMMADDRESS_SPACE Space, PVOID BaseAddress)
{
    /* LAB 08: the view's VAD; clear shared PTEs, replace the others; remove the VAD; the counters. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(BaseAddress);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiResolveMappedFault - make the page at Va of view Vad resident (MiDispatchFault calls
 * it for a zero or Proto PTE in a VadMappedView VAD, after the guard and access checks;
 * Protection is the page's: the Proto PTE's if it has one, else the view's).
 * Contract: IRQL <= APC_LEVEL; Space's AddressCreationLock held.
 *  - The prototype PTE is Vad->FirstPrototypePte + (Va's page - StartingVpn). Not valid
 *    yet: a zeroed frame (MiAllocateFrame MM_ALLOCATE_ZEROED; none: STATUS_NO_MEMORY),
 *    its MMPFN PteAddress the prototype's address, the prototype valid on it
 *    (MiMakeValidUserPte with the section's protection).
 *  - A write to a copy-on-write page (MI_IS_COPY_ON_WRITE(Protection)): the writer's private
 *    copy at once - a new frame (not zeroed; none: STATUS_NO_MEMORY) holding a copy of the
 *    section's page, PteAddress the process PTE, the PTE valid on it with READWRITE
 *    (EXECUTE_READWRITE for EXECUTE_WRITECOPY).
 *  - Otherwise the PTE becomes valid on the section's frame with Protection (a WRITECOPY
 *    page is read-only in hardware until written).
 *  - Tables made with MiGetUserPte(Create) (none: STATUS_NO_MEMORY). The page joins the
 *    working set (MiInsertWorkingSetPage: its status returned).
 */
NTSTATUS MiResolveMappedFault(PMMADDRESS_SPACE Space, PMMVAD Vad, ULONG_PTR Va, ULONG Protection, BOOLEAN Write)
{
    /* LAB 08: the prototype (a zeroed frame the first time); a private copy for a copy-on-write write, else share. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Vad);
    UNREFERENCED_PARAMETER(Va);
    UNREFERENCED_PARAMETER(Protection);
    UNREFERENCED_PARAMETER(Write);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiCopyOnWrite - the write fault on a resident copy-on-write page at Va (valid, read-only
 * in hardware, MI_IS_COPY_ON_WRITE of its kept protection); MiDispatchFault calls it.
 * Contract: IRQL <= APC_LEVEL; Space's AddressCreationLock held.
 *  - A new frame (not zeroed; none: STATUS_NO_MEMORY, nothing changes) gets a copy of the
 *    page; its MMPFN PteAddress is the PTE's address; the PTE becomes valid on it with
 *    READWRITE (EXECUTE_READWRITE for EXECUTE_WRITECOPY), Accessed and Dirty kept as they
 *    were; the TLB entry flushed. The old frame is left alone (the section's, still shared
 *    by the other views). The page stays in the working set (same address). STATUS_SUCCESS.
 */
NTSTATUS MiCopyOnWrite(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    /* LAB 08: a new frame with a copy of the page; the PTE on it, writable; flush. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Va);
    return STATUS_NOT_IMPLEMENTED;
}
