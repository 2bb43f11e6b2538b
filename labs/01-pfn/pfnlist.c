/* pfnlist.c - lab 01: linking frames into and out of the page lists. */
#include "mm.h"

/*
 * MiInsertPageInList - put frame Pfn at the tail of list ListName.
 *
 * Contract:
 *  - ListName is ZeroedPageList, FreePageList, StandbyPageList or ModifiedPageList;
 *    the frame is on no list.
 *  - Afterwards the frame is the list's last entry: its Blink is the old last frame
 *    (MM_EMPTY_LIST if the list was empty), its Flink is MM_EMPTY_LIST, the old last
 *    frame's Flink (or the head's Flink, if the list was empty) and the head's Blink
 *    name Pfn, and the head's Total is one more.
 *  - The frame's PageLocation is ListName and its ReferenceCount 0.
 *  - MmAvailablePages counts the frames on the zeroed and free lists.
 */
VOID MiInsertPageInList(MMLISTS ListName, PFN_NUMBER Pfn)
{
    /* LAB 01: link the frame at the tail of the list, as the contract above says. */
    UNREFERENCED_PARAMETER(ListName);
    UNREFERENCED_PARAMETER(Pfn);
}

/*
 * MiUnlinkPageFromList - take frame Pfn off the list it is on (its PageLocation).
 *
 * Contract:
 *  - The frame may be anywhere on the list: first, last, in the middle, alone.
 *  - Its neighbours (or the head) are linked to each other, the head's Total is one
 *    less, MmAvailablePages drops if it was a zeroed or free frame.
 *  - The frame's Flink and Blink become MM_EMPTY_LIST; the caller sets its new
 *    PageLocation.
 */
VOID MiUnlinkPageFromList(PFN_NUMBER Pfn)
{
    /* LAB 01: unlink the frame from its list, as the contract above says. */
    UNREFERENCED_PARAMETER(Pfn);
}
