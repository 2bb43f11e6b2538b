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

static VOID MiDeleteSection(PMM_SECTION Section)
{
    for (ULONG i = 0; i < Section->NumberOfPtes; i++)
        if (Section->PrototypePtes[i].Hard.Valid)
            MiFreeFrame(Section->PrototypePtes[i].Hard.PageFrameNumber);
    ExFreePoolWithTag(Section->PrototypePtes, MI_SECTION_TAG);
    Section->Tag = 0;
    ExFreePoolWithTag(Section, MI_SECTION_TAG);
}

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
    *Section = NULL;
    if (MaximumSize == 0)
        return STATUS_INVALID_PARAMETER_4;
    ULONG prot = MiMakeProtectionMask(Win32Protect);
    ULONG access = prot & MM_PROTECTION_ACCESS_MASK;
    if (prot == MM_INVALID_PROTECTION || (prot & (MM_GUARD_PAGE | MM_NOCACHE)) ||
        (access != MM_READONLY && access != MM_READWRITE && access != MM_EXECUTE_READ && access != MM_EXECUTE_READWRITE))
        return STATUS_INVALID_PAGE_PROTECTION;
    if (MaximumSize > 0x40000000ULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ULONG pages = (ULONG)((MaximumSize + PAGE_SIZE - 1) / PAGE_SIZE);
    PMM_SECTION s = ExAllocatePoolWithTag(NonPagedPool, sizeof(*s), MI_SECTION_TAG);
    if (s == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PMMPTE protos = ExAllocatePoolWithTag(NonPagedPool, (SIZE_T)pages * sizeof(MMPTE), MI_SECTION_TAG);
    if (protos == NULL) {
        ExFreePoolWithTag(s, MI_SECTION_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    for (ULONG i = 0; i < pages; i++)
        protos[i] = MiMakeDemandZeroPte(prot);
    s->Tag = MI_SECTION_TAG;
    s->Protection = prot;
    s->SizeOfSection = MaximumSize;
    s->NumberOfPtes = pages;
    s->References = 1;
    s->MappedViews = 0;
    s->PrototypePtes = protos;
    *Section = s;
    return STATUS_SUCCESS;
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
    if (Section->References > 0)
        Section->References--;
    if (Section->References == 0 && Section->MappedViews == 0)
        MiDeleteSection(Section);
}

/* MM code of a view's protection may be used on a section of SectionProtection? */
static BOOLEAN MiViewAllowed(ULONG SectionProtection, ULONG View)
{
    ULONG s = SectionProtection & MM_PROTECTION_ACCESS_MASK, v = View & MM_PROTECTION_ACCESS_MASK;
    if (MI_IS_EXECUTABLE(v) && !MI_IS_EXECUTABLE(s))
        return FALSE;
    if (MI_IS_WRITABLE(v) && !MI_IS_WRITABLE(s))
        return FALSE;
    return TRUE;
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
    ULONG_PTR base = (ULONG_PTR)*BaseAddress;
    if (SectionOffset % MM_ALLOCATION_GRANULARITY != 0 || base % MM_ALLOCATION_GRANULARITY != 0)
        return STATUS_MAPPED_ALIGNMENT;
    ULONG64 sectionBytes = (ULONG64)Section->NumberOfPtes * PAGE_SIZE;
    if (SectionOffset >= sectionBytes)
        return STATUS_INVALID_VIEW_SIZE;
    ULONG64 size = *ViewSize == 0 ? sectionBytes - SectionOffset : ALIGN_UP((ULONG64)*ViewSize, PAGE_SIZE);
    if (size == 0 || size > sectionBytes - SectionOffset)
        return STATUS_INVALID_VIEW_SIZE;
    ULONG prot = MiMakeProtectionMask(Win32Protect);
    if (prot == MM_INVALID_PROTECTION || (prot & (MM_GUARD_PAGE | MM_NOCACHE)) ||
        (prot & MM_PROTECTION_ACCESS_MASK) == 0)
        return STATUS_INVALID_PAGE_PROTECTION;
    if (!MiViewAllowed(Section->Protection, prot))
        return STATUS_SECTION_PROTECTION;
    if (base == 0) {
        NTSTATUS status = MiFindEmptyAddressRange(&Space->VadRoot, size, MM_ALLOCATION_GRANULARITY,
                                                  MM_LOWEST_USER_ADDRESS, MM_HIGHEST_VAD_ADDRESS, FALSE, &base);
        if (!NT_SUCCESS(status))
            return status;
    } else {
        if (base < MM_LOWEST_USER_ADDRESS || base > MM_HIGHEST_VAD_ADDRESS || MM_HIGHEST_VAD_ADDRESS - base < size - 1)
            return STATUS_INVALID_PARAMETER_3;
        if (MiCheckForConflictingVad(&Space->VadRoot, MI_VA_TO_VPN(base), MI_VA_TO_VPN(base + size - 1)) != NULL)
            return STATUS_CONFLICTING_ADDRESSES;
    }
    PMMVAD vad = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
    if (vad == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(vad, sizeof(*vad));
    vad->Tag = MI_VAD_TAG;
    vad->StartingVpn = MI_VA_TO_VPN(base);
    vad->EndingVpn = MI_VA_TO_VPN(base + size - 1);
    vad->u.VadFlags.VadType = VadMappedView;
    vad->u.VadFlags.MemCommit = 1;
    vad->u.VadFlags.Protection = prot;
    vad->ControlArea = Section;
    vad->FirstPrototypePte = &Section->PrototypePtes[SectionOffset / PAGE_SIZE];
    vad->LastContiguousPte = vad->FirstPrototypePte + (size / PAGE_SIZE) - 1;
    vad->ViewOffset = SectionOffset;
    NTSTATUS status = MiInsertVad(&Space->VadRoot, vad);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(vad, MI_VAD_TAG);
        return status;
    }
    Section->MappedViews++;
    Space->VirtualSize += size;
    if (Space->VirtualSize > Space->PeakVirtualSize)
        Space->PeakVirtualSize = Space->VirtualSize;
    *BaseAddress = (PVOID)base;
    *ViewSize = size;
    return STATUS_SUCCESS;
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
    PMMVAD vad = MiLocateAddress(&Space->VadRoot, MI_VA_TO_VPN((ULONG_PTR)BaseAddress));
    if (vad == NULL || vad->u.VadFlags.VadType != VadMappedView)
        return STATUS_NOT_MAPPED_VIEW;
    PMM_SECTION section = vad->ControlArea;
    for (ULONG_PTR vpn = vad->StartingVpn; vpn <= vad->EndingVpn; vpn++) {
        ULONG_PTR va = MI_VPN_TO_VA(vpn);
        PMMPTE pte = MiGetUserPte(Space, va, FALSE);
        if (pte == NULL || pte->Long == 0)
            continue;
        PMMPTE proto = vad->FirstPrototypePte + (vpn - vad->StartingVpn);
        if (pte->Hard.Valid && proto->Hard.Valid && pte->Hard.PageFrameNumber == proto->Hard.PageFrameNumber) {
            MiRemoveWorkingSetPage(Space, va);
            pte->Long = 0;
            MiFlushUserTb(Space, va);
        } else {
            MMPTE zero = {0};
            MiReplaceUserPte(Space, va, zero);
        }
    }
    SIZE_T bytes = MI_VAD_PAGES(vad) * PAGE_SIZE;
    MiRemoveVad(&Space->VadRoot, vad);
    vad->Tag = 0;
    ExFreePoolWithTag(vad, MI_VAD_TAG);
    Space->VirtualSize -= bytes;
    section->MappedViews--;
    if (section->MappedViews == 0 && section->References == 0)
        MiDeleteSection(section);
    return STATUS_SUCCESS;
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
    ULONG_PTR va = Va & ~(PAGE_SIZE - 1);
    PMMPTE proto = Vad->FirstPrototypePte + (MI_VA_TO_VPN(va) - Vad->StartingVpn);
    PMMPTE pte = MiGetUserPte(Space, va, TRUE);
    if (pte == NULL)
        return STATUS_NO_MEMORY;
    if (!proto->Hard.Valid) {
        PFN_NUMBER pfn;
        if (!NT_SUCCESS(MiAllocateFrame(MM_ALLOCATE_ZEROED, &pfn)))
            return STATUS_NO_MEMORY;
        MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)proto;
        *proto = MiMakeValidUserPte(pfn, ((PMM_SECTION)Vad->ControlArea)->Protection);
    }
    if (Write && MI_IS_COPY_ON_WRITE(Protection)) {
        PFN_NUMBER copy;
        if (!NT_SUCCESS(MiAllocateFrame(0, &copy)))
            return STATUS_NO_MEMORY;
        RtlCopyMemory(MiPfnToVirtual(copy), MiPfnToVirtual(proto->Hard.PageFrameNumber), PAGE_SIZE);
        MI_PFN_ELEMENT(copy)->PteAddress = (ULONG64)pte;
        *pte = MiMakeValidUserPte(copy, MI_IS_EXECUTABLE(Protection) ? MM_EXECUTE_READWRITE : MM_READWRITE);
    } else {
        *pte = MiMakeValidUserPte(proto->Hard.PageFrameNumber, Protection);
    }
    return MiInsertWorkingSetPage(Space, va);
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
    ULONG_PTR va = Va & ~(PAGE_SIZE - 1);
    PMMPTE pte = MiGetUserPte(Space, va, FALSE);
    if (pte == NULL || !pte->Hard.Valid)
        return STATUS_INVALID_PARAMETER;
    MMPTE old = *pte;
    ULONG prot = MI_VALID_PTE_PROTECTION(old);
    PFN_NUMBER copy;
    if (!NT_SUCCESS(MiAllocateFrame(0, &copy)))
        return STATUS_NO_MEMORY;
    RtlCopyMemory(MiPfnToVirtual(copy), MiPfnToVirtual(old.Hard.PageFrameNumber), PAGE_SIZE);
    MI_PFN_ELEMENT(copy)->PteAddress = (ULONG64)pte;
    MMPTE now = MiMakeValidUserPte(copy, MI_IS_EXECUTABLE(prot) ? MM_EXECUTE_READWRITE : MM_READWRITE);
    now.Hard.Accessed = old.Hard.Accessed;
    now.Hard.Dirty = old.Hard.Dirty;
    *pte = now;
    MiFlushUserTb(Space, va);
    return STATUS_SUCCESS;
}
