/* workset.c - lab 08 (faults and paging): the working set of an address space, the pages
 * of it that are resident. A fixed list of entries (MMWSLE) records each resident page; a
 * clock hand sweeps it to choose the page that leaves when the set is full or when memory
 * runs short (second chance: a page whose PTE was accessed since the hand last passed
 * stays, its Accessed bit cleared), and the page that leaves goes to the pagefile. */
#include "mmpf.h"

/*
 * MiInitializeWorkingSet - an empty working set over Wsle[0 .. Capacity-1] for Pml4.
 * Contract: any IRQL.
 *  - Capacity 0, Maximum 0 or above Capacity, or Minimum above Maximum (or Ws, Wsle NULL):
 *    STATUS_INVALID_PARAMETER, nothing written.
 *  - Otherwise every entry is 0 (free), Pml4, Wsle, WsleCapacity, Minimum/MaximumWorkingSetSize
 *    as given, every counter (WorkingSetSize, PeakWorkingSetSize, PageFaultCount,
 *    PagesTrimmed) and NextSlot 0. STATUS_SUCCESS.
 */
NTSTATUS MiInitializeWorkingSet(PMMSUPPORT Ws, PMMPTE Pml4, PMMWSLE Wsle, ULONG Capacity, ULONG Minimum,
                                ULONG Maximum)
{
    if (Ws == NULL || Wsle == NULL || Capacity == 0 || Maximum == 0 || Maximum > Capacity || Minimum > Maximum)
        return STATUS_INVALID_PARAMETER;
    for (ULONG i = 0; i < Capacity; i++)
        Wsle[i].Long = 0;
    Ws->Pml4 = Pml4;
    Ws->Wsle = Wsle;
    Ws->WsleCapacity = Capacity;
    Ws->NextSlot = 0;
    Ws->WorkingSetSize = 0;
    Ws->PeakWorkingSetSize = 0;
    Ws->MinimumWorkingSetSize = Minimum;
    Ws->MaximumWorkingSetSize = Maximum;
    Ws->PageFaultCount = 0;
    Ws->PagesTrimmed = 0;
    return STATUS_SUCCESS;
}

/* One step of the clock at the hand: advances it. Returns the index of a page it paged out
 * (its entry freed, counters updated), or -1 (the entry was free, given a second chance,
 * or its page-out failed with *Status). */
static LONG MiClockStep(PMMSUPPORT Ws, NTSTATUS *Status)
{
    ULONG i = Ws->NextSlot;
    Ws->NextSlot = i + 1 == Ws->WsleCapacity ? 0 : i + 1;
    ULONG_PTR e = Ws->Wsle[i].Long;
    if (!(e & MI_WSLE_VALID))
        return -1;
    ULONG_PTR va = e & ~(PAGE_SIZE - 1);
    PMMPTE pte = MiGetPte(Ws->Pml4, va);
    if (pte != NULL && pte->Hard.Valid && pte->Hard.Accessed) {
        pte->Hard.Accessed = 0;
        MiFlushTb(Ws->Pml4, va);
        return -1;
    }
    NTSTATUS status = MiPageOut(Ws->Pml4, va);
    if (!NT_SUCCESS(status)) {
        *Status = status;
        return -1;
    }
    Ws->Wsle[i].Long = 0;
    Ws->WorkingSetSize--;
    Ws->PagesTrimmed++;
    return (LONG)i;
}

/*
 * MiInsertWorkingSetPage - record the resident page at Va (made valid by the caller).
 * Contract: IRQL == PASSIVE_LEVEL (a replacement pages out).
 *  - Va not page aligned or above MM_HIGHEST_USER_ADDRESS: STATUS_INVALID_PARAMETER.
 *  - Below MaximumWorkingSetSize: the page takes the free entry of lowest index.
 *  - At MaximumWorkingSetSize: first one page leaves by the clock (as MiTrimWorkingSet
 *    does for one page, from NextSlot), and Va takes the entry it left; NextSlot stays just
 *    past that entry. If no page could leave (a page-out failed after two sweeps), its status
 *    is returned and Va is not recorded.
 *  - The entry is Va | MI_WSLE_VALID; WorkingSetSize grows by one, PeakWorkingSetSize is
 *    the highest size ever. STATUS_SUCCESS.
 */
NTSTATUS MiInsertWorkingSetPage(PMMSUPPORT Ws, ULONG_PTR Va)
{
    if ((Va & (PAGE_SIZE - 1)) != 0 || Va > MM_HIGHEST_USER_ADDRESS)
        return STATUS_INVALID_PARAMETER;
    ULONG index = 0;
    if (Ws->WorkingSetSize >= Ws->MaximumWorkingSetSize) {
        NTSTATUS status = STATUS_PAGEFILE_QUOTA;
        LONG freed = -1;
        for (ULONG n = 0; n < 2 * Ws->WsleCapacity + 1 && freed < 0; n++)
            freed = MiClockStep(Ws, &status);
        if (freed < 0)
            return status;
        index = (ULONG)freed;
    } else {
        while (index < Ws->WsleCapacity && (Ws->Wsle[index].Long & MI_WSLE_VALID))
            index++;
        if (index == Ws->WsleCapacity)
            return STATUS_INSUFFICIENT_RESOURCES;
    }
    Ws->Wsle[index].Long = Va | MI_WSLE_VALID;
    Ws->WorkingSetSize++;
    if (Ws->WorkingSetSize > Ws->PeakWorkingSetSize)
        Ws->PeakWorkingSetSize = Ws->WorkingSetSize;
    return STATUS_SUCCESS;
}

/*
 * MiRemoveWorkingSetPage - forget Va (the caller unmaps or frees the page itself).
 * Contract: any IRQL.
 *  - The entry holding Va | MI_WSLE_VALID becomes 0 and WorkingSetSize drops by one;
 *    STATUS_SUCCESS. Va not in the set: STATUS_NOT_FOUND, nothing changes.
 */
NTSTATUS MiRemoveWorkingSetPage(PMMSUPPORT Ws, ULONG_PTR Va)
{
    ULONG_PTR want = (Va & ~(PAGE_SIZE - 1)) | MI_WSLE_VALID;
    for (ULONG i = 0; i < Ws->WsleCapacity; i++) {
        if (Ws->Wsle[i].Long == want) {
            Ws->Wsle[i].Long = 0;
            Ws->WorkingSetSize--;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NOT_FOUND;
}

/*
 * MiTrimWorkingSet - send up to Pages pages of the set to the pagefile (memory is short).
 * Contract: IRQL == PASSIVE_LEVEL.
 *  - Never below MinimumWorkingSetSize: at most WorkingSetSize - MinimumWorkingSetSize pages.
 *  - The clock, from NextSlot, one entry a step, the hand advancing each step (wrapping
 *    past WsleCapacity - 1 to 0): a free entry is skipped; a page whose PTE has Accessed 1
 *    gets a second chance (Accessed cleared, its TLB entry flushed); any other page leaves:
 *    MiPageOut, its entry 0, WorkingSetSize - 1, PagesTrimmed + 1.
 *  - Stops when enough pages left, or after 2 * WsleCapacity steps, or at the first
 *    page-out that fails (that page stays). Returns the number of pages that left.
 */
ULONG MiTrimWorkingSet(PMMSUPPORT Ws, ULONG Pages)
{
    ULONG want = Ws->WorkingSetSize > Ws->MinimumWorkingSetSize ? Ws->WorkingSetSize - Ws->MinimumWorkingSetSize : 0;
    if (Pages < want)
        want = Pages;
    ULONG done = 0;
    for (ULONG n = 0; n < 2 * Ws->WsleCapacity && done < want; n++) {
        NTSTATUS status = STATUS_SUCCESS;
        if (MiClockStep(Ws, &status) >= 0)
            done++;
        else if (!NT_SUCCESS(status))
            break;
    }
    return done;
}
