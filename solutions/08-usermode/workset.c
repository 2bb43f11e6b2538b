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
    if (Space == NULL || Wsl == NULL || Wsle == NULL || Capacity == 0 || Maximum == 0 || Maximum > Capacity ||
        Minimum > Maximum)
        return STATUS_INVALID_PARAMETER;
    for (ULONG i = 0; i < Capacity; i++)
        Wsle[i].Long = 0;
    Wsl->Wsle = Wsle;
    Wsl->Capacity = Capacity;
    Wsl->NextSlot = 0;
    Wsl->PagesTrimmed = 0;
    Space->Vm.WorkingSetList = Wsl;
    Space->Vm.MinimumWorkingSetSize = Minimum;
    Space->Vm.MaximumWorkingSetSize = Maximum;
    Space->Vm.WorkingSetSize = 0;
    Space->Vm.PeakWorkingSetSize = 0;
    return STATUS_SUCCESS;
}

/* One step of the clock at the hand: advances it. Returns the index of a page it paged out
 * (its entry freed, counters updated), or -1 (the entry was free, given a second chance,
 * or its page-out failed with *Status). */
static LONG MiClockStep(PMMADDRESS_SPACE Space, NTSTATUS *Status)
{
    PMMWSL wsl = MiWorkingSetList(Space);
    ULONG i = wsl->NextSlot;
    wsl->NextSlot = i + 1 == wsl->Capacity ? 0 : i + 1;
    ULONG_PTR e = wsl->Wsle[i].Long;
    if (!(e & MI_WSLE_VALID))
        return -1;
    ULONG_PTR va = e & ~(PAGE_SIZE - 1);
    PMMPTE pte = MiGetUserPte(Space, va, FALSE);
    if (pte != NULL && pte->Hard.Valid && pte->Hard.Accessed) {
        pte->Hard.Accessed = 0;
        MiFlushUserTb(Space, va);
        return -1;
    }
    NTSTATUS status = MiPageOut(Space, va);
    if (!NT_SUCCESS(status)) {
        *Status = status;
        return -1;
    }
    wsl->Wsle[i].Long = 0;
    Space->Vm.WorkingSetSize--;
    wsl->PagesTrimmed++;
    return (LONG)i;
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
    PMMWSL wsl = MiWorkingSetList(Space);
    if ((Va & (PAGE_SIZE - 1)) != 0 || Va > MM_HIGHEST_USER_ADDRESS || wsl == NULL)
        return STATUS_INVALID_PARAMETER;
    ULONG index = 0;
    if (Space->Vm.WorkingSetSize >= Space->Vm.MaximumWorkingSetSize) {
        NTSTATUS status = STATUS_PAGEFILE_QUOTA;
        LONG freed = -1;
        for (ULONG n = 0; n < 2 * wsl->Capacity + 1 && freed < 0; n++)
            freed = MiClockStep(Space, &status);
        if (freed < 0)
            return status;
        index = (ULONG)freed;
    } else {
        while (index < wsl->Capacity && (wsl->Wsle[index].Long & MI_WSLE_VALID))
            index++;
        if (index == wsl->Capacity)
            return STATUS_INSUFFICIENT_RESOURCES;
    }
    wsl->Wsle[index].Long = Va | MI_WSLE_VALID;
    Space->Vm.WorkingSetSize++;
    if (Space->Vm.WorkingSetSize > Space->Vm.PeakWorkingSetSize)
        Space->Vm.PeakWorkingSetSize = Space->Vm.WorkingSetSize;
    return STATUS_SUCCESS;
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
    PMMWSL wsl = MiWorkingSetList(Space);
    if (wsl == NULL)
        return STATUS_NOT_FOUND;
    ULONG_PTR want = (Va & ~(PAGE_SIZE - 1)) | MI_WSLE_VALID;
    for (ULONG i = 0; i < wsl->Capacity; i++) {
        if (wsl->Wsle[i].Long == want) {
            wsl->Wsle[i].Long = 0;
            Space->Vm.WorkingSetSize--;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NOT_FOUND;
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
    PMMWSL wsl = MiWorkingSetList(Space);
    if (wsl == NULL)
        return 0;
    SIZE_T size = Space->Vm.WorkingSetSize, min = Space->Vm.MinimumWorkingSetSize;
    ULONG want = size > min ? (ULONG)(size - min) : 0;
    if (Pages < want)
        want = Pages;
    ULONG done = 0;
    for (ULONG n = 0; n < 2 * wsl->Capacity && done < want; n++) {
        NTSTATUS status = STATUS_SUCCESS;
        if (MiClockStep(Space, &status) >= 0)
            done++;
        else if (!NT_SUCCESS(status))
            break;
    }
    return done;
}
