/* vad.c - lab 08: the VAD tree. A process's virtual address descriptors (one a reservation
 * or a mapped view, kernel/mm/mi.h) live in an AVL tree ordered by StartingVpn: lookups,
 * insertions and removals cost O(log n) however many regions the process has. VADs never
 * overlap, so "left of" and "right of" are well defined for a whole range. */
#include "mivm.h"

/* ---- rotations (helpers) ---- */

/* Puts New where Old hangs (under Old's parent, or as the root). */
static VOID MiReplaceChild(PMM_AVL_TABLE Table, PMMVAD Parent, PMMVAD Old, PMMVAD New)
{
    if (!Parent)
        Table->Root = New;
    else if (Parent->LeftChild == Old)
        Parent->LeftChild = New;
    else
        Parent->RightChild = New;
    if (New)
        New->Parent = Parent;
}

/* X's right child Y becomes the subtree's root; balances follow from the heights. */
static PMMVAD MiRotateLeft(PMM_AVL_TABLE Table, PMMVAD X)
{
    PMMVAD y = X->RightChild;
    MiReplaceChild(Table, X->Parent, X, y);
    X->RightChild = y->LeftChild;
    if (y->LeftChild)
        y->LeftChild->Parent = X;
    y->LeftChild = X;
    X->Parent = y;
    X->Balance = X->Balance - 1 - (y->Balance > 0 ? y->Balance : 0);
    y->Balance = y->Balance - 1 + (X->Balance < 0 ? X->Balance : 0);
    return y;
}

static PMMVAD MiRotateRight(PMM_AVL_TABLE Table, PMMVAD X)
{
    PMMVAD y = X->LeftChild;
    MiReplaceChild(Table, X->Parent, X, y);
    X->LeftChild = y->RightChild;
    if (y->RightChild)
        y->RightChild->Parent = X;
    y->RightChild = X;
    X->Parent = y;
    X->Balance = X->Balance + 1 - (y->Balance < 0 ? y->Balance : 0);
    y->Balance = y->Balance + 1 + (X->Balance > 0 ? X->Balance : 0);
    return y;
}

/* Node has Balance +-2: one or two rotations; returns the subtree's new root. */
static PMMVAD MiRebalance(PMM_AVL_TABLE Table, PMMVAD Node)
{
    if (Node->Balance > 0) {
        if (Node->RightChild->Balance < 0)
            MiRotateRight(Table, Node->RightChild);
        return MiRotateLeft(Table, Node);
    }
    if (Node->LeftChild->Balance > 0)
        MiRotateLeft(Table, Node->LeftChild);
    return MiRotateRight(Table, Node);
}

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
    if (Vad->StartingVpn > Vad->EndingVpn)
        return STATUS_INVALID_PARAMETER;
    PMMVAD parent = NULL, n = Table->Root;
    BOOLEAN left = FALSE;
    while (n) {
        parent = n;
        if (Vad->EndingVpn < n->StartingVpn) {
            n = n->LeftChild;
            left = TRUE;
        } else if (Vad->StartingVpn > n->EndingVpn) {
            n = n->RightChild;
            left = FALSE;
        } else {
            return STATUS_CONFLICTING_ADDRESSES;
        }
    }
    Vad->LeftChild = Vad->RightChild = NULL;
    Vad->Balance = 0;
    Vad->Parent = parent;
    if (!parent)
        Table->Root = Vad;
    else if (left)
        parent->LeftChild = Vad;
    else
        parent->RightChild = Vad;
    Table->NumberGenericTableElements++;

    PMMVAD child = Vad;
    for (PMMVAD p = parent; p; child = p, p = p->Parent) {
        p->Balance += p->RightChild == child ? 1 : -1;
        if (p->Balance == 0)
            break;
        if (p->Balance == 2 || p->Balance == -2) {
            MiRebalance(Table, p);
            break;
        }
    }
    return STATUS_SUCCESS;
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
    PMMVAD fix;          /* where the height may have dropped */
    BOOLEAN leftShrunk;  /* on which side of fix */
    if (Vad->LeftChild && Vad->RightChild) {
        PMMVAD s = Vad->RightChild;
        while (s->LeftChild)
            s = s->LeftChild;
        if (s == Vad->RightChild) {
            fix = s;
            leftShrunk = FALSE;
        } else {
            PMMVAD sp = s->Parent;
            sp->LeftChild = s->RightChild;
            if (s->RightChild)
                s->RightChild->Parent = sp;
            s->RightChild = Vad->RightChild;
            s->RightChild->Parent = s;
            fix = sp;
            leftShrunk = TRUE;
        }
        s->LeftChild = Vad->LeftChild;
        s->LeftChild->Parent = s;
        s->Balance = Vad->Balance;
        MiReplaceChild(Table, Vad->Parent, Vad, s);
    } else {
        PMMVAD child = Vad->LeftChild ? Vad->LeftChild : Vad->RightChild;
        fix = Vad->Parent;
        leftShrunk = fix && fix->LeftChild == Vad;
        MiReplaceChild(Table, Vad->Parent, Vad, child);
    }
    Table->NumberGenericTableElements--;
    Vad->LeftChild = Vad->RightChild = Vad->Parent = NULL;

    while (fix) {
        fix->Balance += leftShrunk ? 1 : -1;
        PMMVAD parent = fix->Parent;
        BOOLEAN isLeft = parent && parent->LeftChild == fix;
        if (fix->Balance == 1 || fix->Balance == -1)
            break; /* the height did not change */
        if (fix->Balance == 2 || fix->Balance == -2) {
            fix = MiRebalance(Table, fix);
            if (fix->Balance != 0)
                break;
        }
        leftShrunk = isLeft;
        fix = parent;
    }
}

/*
 * MiLocateAddress - the VAD whose [StartingVpn, EndingVpn] holds Vpn, or NULL. IRQL <=
 * APC_LEVEL, the lock held. Walk down from the root: O(log n), never a scan.
 */
PMMVAD MiLocateAddress(PMM_AVL_TABLE Table, ULONG_PTR Vpn)
{
    PMMVAD n = Table->Root;
    while (n) {
        if (Vpn < n->StartingVpn)
            n = n->LeftChild;
        else if (Vpn > n->EndingVpn)
            n = n->RightChild;
        else
            return n;
    }
    return NULL;
}

/*
 * MiCheckForConflictingVad - a VAD that shares at least one page with [StartingVpn,
 * EndingVpn], or NULL when none does. IRQL <= APC_LEVEL, the lock held. O(log n).
 */
PMMVAD MiCheckForConflictingVad(PMM_AVL_TABLE Table, ULONG_PTR StartingVpn, ULONG_PTR EndingVpn)
{
    PMMVAD n = Table->Root;
    while (n) {
        if (EndingVpn < n->StartingVpn)
            n = n->LeftChild;
        else if (StartingVpn > n->EndingVpn)
            n = n->RightChild;
        else
            return n;
    }
    return NULL;
}

/*
 * MiGetFirstVad - the VAD with the lowest StartingVpn (NULL for an empty tree).
 * MiGetNextVad - the VAD after Vad in address order, or NULL after the last; through the
 * Parent links (no stack, no scan from the root). IRQL <= APC_LEVEL, the lock held.
 */
PMMVAD MiGetFirstVad(PMM_AVL_TABLE Table)
{
    PMMVAD n = Table->Root;
    while (n && n->LeftChild)
        n = n->LeftChild;
    return n;
}

PMMVAD MiGetNextVad(PMMVAD Vad)
{
    if (Vad->RightChild) {
        Vad = Vad->RightChild;
        while (Vad->LeftChild)
            Vad = Vad->LeftChild;
        return Vad;
    }
    while (Vad->Parent && Vad->Parent->RightChild == Vad)
        Vad = Vad->Parent;
    return Vad->Parent;
}

static PMMVAD MiGetPreviousVad(PMMVAD Vad)
{
    if (Vad->LeftChild) {
        Vad = Vad->LeftChild;
        while (Vad->RightChild)
            Vad = Vad->RightChild;
        return Vad;
    }
    while (Vad->Parent && Vad->Parent->LeftChild == Vad)
        Vad = Vad->Parent;
    return Vad->Parent;
}

static PMMVAD MiGetLastVad(PMM_AVL_TABLE Table)
{
    PMMVAD n = Table->Root;
    while (n && n->RightChild)
        n = n->RightChild;
    return n;
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
    if (SizeOfRange == 0 || HighestAddress < LowestAddress || SizeOfRange - 1 > HighestAddress - LowestAddress)
        return STATUS_NO_MEMORY;
    if (!TopDown) {
        ULONG_PTR cand = ALIGN_UP(LowestAddress, Alignment);
        if (cand < LowestAddress)
            return STATUS_NO_MEMORY;
        for (PMMVAD v = MiGetFirstVad(Table); v; v = MiGetNextVad(v)) {
            ULONG_PTR vs = MI_VPN_TO_VA(v->StartingVpn), ve = MI_VPN_TO_VA(v->EndingVpn) + PAGE_SIZE - 1;
            if (ve < cand)
                continue;
            if (cand > HighestAddress || HighestAddress - cand < SizeOfRange - 1)
                return STATUS_NO_MEMORY;
            if (cand + SizeOfRange - 1 < vs)
                break;
            cand = ALIGN_UP(ve + 1, Alignment);
            if (cand < ve)
                return STATUS_NO_MEMORY;
        }
        if (cand > HighestAddress || HighestAddress - cand < SizeOfRange - 1)
            return STATUS_NO_MEMORY;
        *Base = cand;
        return STATUS_SUCCESS;
    }
    ULONG_PTR cand = ALIGN_DOWN(HighestAddress - (SizeOfRange - 1), Alignment);
    for (PMMVAD v = MiGetLastVad(Table); v; v = MiGetPreviousVad(v)) {
        ULONG_PTR vs = MI_VPN_TO_VA(v->StartingVpn), ve = MI_VPN_TO_VA(v->EndingVpn) + PAGE_SIZE - 1;
        if (vs > cand + SizeOfRange - 1)
            continue;
        if (cand < LowestAddress)
            return STATUS_NO_MEMORY;
        if (ve < cand)
            break;
        if (vs < SizeOfRange)
            return STATUS_NO_MEMORY;
        cand = ALIGN_DOWN(vs - SizeOfRange, Alignment);
    }
    if (cand < LowestAddress)
        return STATUS_NO_MEMORY;
    *Base = cand;
    return STATUS_SUCCESS;
}
