/* workset.c - lab 08 (faults and paging): the working set of an address space, the pages
 * of it that are resident. A fixed list of entries (MMWSLE) records each resident page; a
 * clock hand sweeps it to choose the page that leaves when the set is full or when memory
 * runs short (second chance: a page whose PTE was accessed since the hand last passed
 * stays, its Accessed bit cleared), and the page that leaves goes to the pagefile. */
#include "ke.h"
#include "kethread.h"
#include "mmpf.h"

/*
 * MiInitializeWorkingSet - give Space an empty working set list Wsl over Wsle[0 .. Capacity-1].
 * Contract: any IRQL; Space has no resident page yet.
 *  - Capacity 0, Maximum 0 or above Capacity, or Minimum above Maximum (or Space, Wsl, Wsle
 *    NULL): STATUS_INVALID_PARAMETER, nothing written.
 *  - Otherwise every entry is 0 (free); Wsl->Wsle, Capacity as given, NextSlot and
 *    PagesTrimmed 0; Space->Vm: WorkingSetList = Wsl, Minimum/MaximumWorkingSetSize as
 *    given, WorkingSetSize and PeakWorkingSetSize 0 (PageFaultCount is left alone: the
 *    faults are counted by MmAccessFault). STATUS_SUCCESS.
 */
NTSTATUS MiInitializeWorkingSet(PMMADDRESS_SPACE Space, PMMWSL Wsl, PMMWSLE Wsle, ULONG Capacity, ULONG Minimum,
                                ULONG Maximum)
{
    /* LAB 08: check the sizes; every entry free; the list's and Space->Vm's fields. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Wsl);
    UNREFERENCED_PARAMETER(Wsle);
    UNREFERENCED_PARAMETER(Capacity);
    UNREFERENCED_PARAMETER(Minimum);
    UNREFERENCED_PARAMETER(Maximum);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiInsertWorkingSetPage - record the resident page at Va (made valid by the caller).
 * Contract: IRQL == PASSIVE_LEVEL (a replacement pages out); the caller holds Space's
 * AddressCreationLock.
 *  - Va not page aligned or above MM_HIGHEST_USER_ADDRESS: STATUS_INVALID_PARAMETER.
 *  - Space has no working set list: STATUS_INVALID_PARAMETER.
 *  - Below Vm.MaximumWorkingSetSize: the page takes the free entry of lowest index.
 *  - At MaximumWorkingSetSize: first one page leaves by the clock (as MiTrimWorkingSet
 *    does for one page, from NextSlot), and Va takes the entry it left; NextSlot stays just
 *    past that entry. If no page could leave (a page-out failed after two sweeps), its status
 *    is returned and Va is not recorded.
 *  - The entry is Va | MI_WSLE_VALID; WorkingSetSize grows by one, PeakWorkingSetSize is
 *    the highest size ever. STATUS_SUCCESS.
 */
NTSTATUS MiInsertWorkingSetPage(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    /* LAB 08: the lowest free entry, or replace one page by the clock when full; the counters. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Va);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiRemoveWorkingSetPage - forget Va (the caller unmaps or frees the page itself).
 * Contract: any IRQL.
 *  - The entry holding Va | MI_WSLE_VALID (Va rounded down to its page) becomes 0 and
 *    Vm.WorkingSetSize drops by one; STATUS_SUCCESS. Va not in the set, or no list:
 *    STATUS_NOT_FOUND, nothing changes.
 */
NTSTATUS MiRemoveWorkingSetPage(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    /* LAB 08: find Va's entry and free it. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Va);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiTrimWorkingSet - send up to Pages pages of the set to the pagefile (memory is short).
 * Contract: IRQL == PASSIVE_LEVEL; the caller holds Space's AddressCreationLock. No list: 0.
 *  - Never below MinimumWorkingSetSize: at most WorkingSetSize - MinimumWorkingSetSize pages.
 *  - The clock, from NextSlot, one entry a step, the hand advancing each step (wrapping
 *    past WsleCapacity - 1 to 0): a free entry is skipped; a page whose PTE has Accessed 1
 *    gets a second chance (Accessed cleared, its TLB entry flushed with MiFlushUserTb); any
 *    other page leaves: MiPageOut, its entry 0, Vm.WorkingSetSize - 1, Wsl->PagesTrimmed + 1.
 *  - Stops when enough pages left, or after 2 * WsleCapacity steps, or at the first
 *    page-out that fails (that page stays). Returns the number of pages that left.
 */
ULONG MiTrimWorkingSet(PMMADDRESS_SPACE Space, ULONG Pages)
{
    /* LAB 08: the clock from NextSlot: second chance on Accessed, page out the others. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Pages);
    KeNotImplemented("MiTrimWorkingSet", "lab 08");
    return 0;
}
