/* vad.c - lab 08: the VAD tree. A process's virtual address descriptors (one a reservation
 * or a mapped view, kernel/mm/mi.h) live in an AVL tree ordered by StartingVpn: lookups,
 * insertions and removals cost O(log n) however many regions the process has. VADs never
 * overlap, so "left of" and "right of" are well defined for a whole range. */
#include "mivm.h"

/*
 * MiInsertVad - add Vad to the tree. IRQL <= APC_LEVEL, the address space's
 * AddressCreationLock held (the caller's).
 *  - Vad's StartingVpn <= EndingVpn are set by the caller; every other link field of Vad
 *    holds garbage: set LeftChild, RightChild, Parent and Balance yourself.
 *  - If [StartingVpn, EndingVpn] overlaps a VAD of the tree (a single shared page is an
 *    overlap), return STATUS_CONFLICTING_ADDRESSES and change nothing; StartingVpn >
 *    EndingVpn is STATUS_INVALID_PARAMETER.
 *  - Otherwise link Vad in StartingVpn order, rebalance so that every VAD's Balance
 *    (height of its right subtree minus its left's) is -1, 0 or +1 and correct, keep
 *    every Parent right (NULL for the root), add 1 to NumberGenericTableElements, and
 *    return STATUS_SUCCESS. O(log n).
 */
NTSTATUS MiInsertVad(PMM_AVL_TABLE Table, PMMVAD Vad)
{
    /* LAB 08: walk down (checking for overlap), link as a leaf, then walk up fixing Balance; one single or double rotation ends an insertion. */
    UNREFERENCED_PARAMETER(Table);
    UNREFERENCED_PARAMETER(Vad);
    KeNotImplemented("MiInsertVad", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}


/*
 * MiRemoveVad - take Vad (a VAD of the tree) out of it. IRQL <= APC_LEVEL, the lock held.
 *  - The other VADs keep their order, correct Parent links and correct Balance in
 *    -1..+1 (rebalance on the way up); NumberGenericTableElements goes down by 1.
 *  - Vad itself is only unlinked (the caller frees it); a VAD with two children is
 *    replaced by its in-order successor *node* (VADs are the caller's memory: relink the
 *    nodes, never copy one VAD's range into another). O(log n).
 */
VOID MiRemoveVad(PMM_AVL_TABLE Table, PMMVAD Vad)
{
    /* LAB 08: unlink (a node with two children is replaced by its successor node), then walk up fixing Balance; a rotation may lower the height, so go on. */
    UNREFERENCED_PARAMETER(Table);
    UNREFERENCED_PARAMETER(Vad);
    KeNotImplemented("MiRemoveVad", "lab 08");
}


/*
 * MiLocateAddress - the VAD whose [StartingVpn, EndingVpn] holds Vpn, or NULL. IRQL <=
 * APC_LEVEL, the lock held. Walk down from the root: O(log n), never a scan.
 */
PMMVAD MiLocateAddress(PMM_AVL_TABLE Table, ULONG_PTR Vpn)
{
    /* LAB 08: down from the root: left, right, or here. */
    UNREFERENCED_PARAMETER(Table);
    UNREFERENCED_PARAMETER(Vpn);
    KeNotImplemented("MiLocateAddress", "lab 08");
    return NULL;
}


/*
 * MiCheckForConflictingVad - a VAD that shares at least one page with [StartingVpn,
 * EndingVpn], or NULL when none does. IRQL <= APC_LEVEL, the lock held. O(log n).
 */
PMMVAD MiCheckForConflictingVad(PMM_AVL_TABLE Table, ULONG_PTR StartingVpn, ULONG_PTR EndingVpn)
{
    /* LAB 08: down from the root with the whole range. */
    UNREFERENCED_PARAMETER(Table);
    UNREFERENCED_PARAMETER(StartingVpn);
    UNREFERENCED_PARAMETER(EndingVpn);
    KeNotImplemented("MiCheckForConflictingVad", "lab 08");
    return NULL;
}


/*
 * MiGetFirstVad - the VAD with the lowest StartingVpn (NULL for an empty tree).
 * MiGetNextVad - the VAD after Vad in address order, or NULL after the last; through the
 * Parent links (no stack, no scan from the root). IRQL <= APC_LEVEL, the lock held.
 */
PMMVAD MiGetFirstVad(PMM_AVL_TABLE Table)
{
    /* LAB 08: the leftmost VAD. */
    UNREFERENCED_PARAMETER(Table);
    KeNotImplemented("MiGetFirstVad", "lab 08");
    return NULL;
}

PMMVAD MiGetNextVad(PMMVAD Vad)
{
    /* LAB 08: the right subtree's leftmost, or the first ancestor reached from its left. */
    UNREFERENCED_PARAMETER(Vad);
    KeNotImplemented("MiGetNextVad", "lab 08");
    return NULL;
}


/*
 * MiFindEmptyAddressRange - a free range of SizeOfRange bytes (a multiple of PAGE_SIZE,
 * > 0) for a new reservation. IRQL <= APC_LEVEL, the lock held.
 *  - *Base is a multiple of Alignment (a power of two >= PAGE_SIZE), LowestAddress <=
 *    *Base and *Base + SizeOfRange - 1 <= HighestAddress, and no VAD shares a page with
 *    the range.
 *  - Bottom-up (TopDown FALSE): the lowest such *Base; TopDown: the highest.
 *  - None: STATUS_NO_MEMORY, *Base unchanged. Else STATUS_SUCCESS.
 *  - Watch for wrap-around near the top of the range: no sum may overflow.
 */
NTSTATUS MiFindEmptyAddressRange(PMM_AVL_TABLE Table, SIZE_T SizeOfRange, ULONG_PTR Alignment,
                                 ULONG_PTR LowestAddress, ULONG_PTR HighestAddress, BOOLEAN TopDown,
                                 PULONG_PTR Base)
{
    /* LAB 08: walk the VADs in order (reverse order for TopDown), keep the gap candidate aligned. */
    UNREFERENCED_PARAMETER(Table);
    UNREFERENCED_PARAMETER(SizeOfRange);
    UNREFERENCED_PARAMETER(Alignment);
    UNREFERENCED_PARAMETER(LowestAddress);
    UNREFERENCED_PARAMETER(HighestAddress);
    UNREFERENCED_PARAMETER(TopDown);
    UNREFERENCED_PARAMETER(Base);
    KeNotImplemented("MiFindEmptyAddressRange", "lab 08");
    return STATUS_NOT_IMPLEMENTED;
}
