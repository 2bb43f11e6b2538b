/* mm_tests.c - the framework's own check of poisoned memory (kernel/mm/poison.c): not graded.
 * It lives with the ktest framework because only test objects may register ktests. */
#include "ktest.h"
#include "../mm/mi.h"

/* Frames on list ListName (at most Limit) whose first, middle and last words are Word(pfn)
 * (Zero: 0); *Listed = how many frames were looked at. */
static PFN_NUMBER MiPoisonCount(MMLISTS ListName, BOOLEAN Zero, PFN_NUMBER Limit, PFN_NUMBER *Listed)
{
    PFN_NUMBER good = 0, n = 0;
    for (PFN_NUMBER pfn = MmPageListHeads[ListName].Flink; pfn != MM_EMPTY_LIST && pfn <= MmHighestPhysicalPage &&
         n < Limit; pfn = MI_PFN_ELEMENT(pfn)->Flink, n++) {
        const ULONG64 *page = MiPfnToVirtual(pfn);
        ULONG64 want = Zero ? 0 : MiPoisonWord(pfn);
        good += page[0] == want && page[257] == want && page[511] == want;
    }
    *Listed = n;
    return good;
}

/* The framework's own check: the free list is dirty (as the boot left it, reported; after
 * MiPoisonFreePages, required), the zeroed list reads as zeros. */
KTEST("mm.poisoned", MiTestPoisoned)
{
    if (!MmPfnDatabaseReady) {
        KtSkip(Context, "no PFN database (lab 01 stub)");
        return;
    }
    PFN_NUMBER listed, good = MiPoisonCount(FreePageList, FALSE, MmHighestPhysicalPage + 1, &listed);
    KtValue(Context, "free_poisoned_at_start", "%llu of %llu", good, listed);
    PFN_NUMBER poisoned = MiPoisonFreePages();
    good = MiPoisonCount(FreePageList, FALSE, MmHighestPhysicalPage + 1, &listed);
    KtCheck(Context, poisoned == listed && good == listed, "free_list_dirty",
            "MiPoisonFreePages poisoned %llu frames; %llu of the %llu on the free list carry the pattern", poisoned,
            good, listed);
    good = MiPoisonCount(ZeroedPageList, TRUE, MmHighestPhysicalPage + 1, &listed);
    KtCheck(Context, good == listed, "zeroed_list_zero", "%llu of the %llu frames on the zeroed list read as zeros",
            good, listed);
}
