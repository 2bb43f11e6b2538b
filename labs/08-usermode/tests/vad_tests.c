/* vad_tests.c - lab 08 public tests of the VAD tree (labs/08-usermode/vad.c).
 * vad.tree: a seeded storm over 128 slots of 16 pages (a VAD in a slot never reaches the
 * next): an ascending run of insertions (left rotations), a descending one (right
 * rotations), then random insertions, removals, conflicting insertions (overlapping the
 * first page, the last, containing, contained) and lookups, then the root removed again
 * and again (two children: the successor node takes its place). Every VAD is poisoned
 * before it is inserted; after every step the auditor walks the whole tree (order,
 * Parent links, Balance against the real heights, the count). The kernel reports the
 * final VADs (a hash of the in-order ranges) and the height; grader/models/lab08.py
 * replays the storm from the seed and judges them.
 * vad.find: MiFindEmptyAddressRange over a seeded tree, bottom-up and top-down, with
 * alignments, bounds, exact fits, no room, and a range at the top of the address space,
 * against a brute-force search of the test's own. */
#include "lab08vm_support.h"

#define KT_VAD_TEST_TAG 0x4B74564Bu /* KVtK */
#define KT_SLOTS 128
#define KT_SLOT_PAGES 16
#define KT_SLOT_BASE 0x100

typedef struct _KT_TREE {
    MM_AVL_TABLE Table;
    PMMVAD Slot[KT_SLOTS];
    ULONG Count;
    ULONG Ops;
} KT_TREE;

static PMMVAD KtNewVad(PKTEST_CONTEXT Context, ULONG_PTR Start, ULONG_PTR End, ULONG Salt)
{
    PMMVAD v = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), KT_VAD_TEST_TAG);
    if (!v)
        return NULL;
    KtVmPoison(Context, v, sizeof(*v), Salt);
    v->StartingVpn = Start;
    v->EndingVpn = End;
    v->Tag = MI_VAD_TAG;
    return v;
}

static BOOLEAN KtAudit(PKTEST_CONTEXT Context, KT_TREE *T, PCSTR What)
{
    T->Ops++;
    if (KtVmAuditTree(Context, &T->Table, "tree", What) < 0)
        return FALSE;
    return KtCheck(Context, T->Table.NumberGenericTableElements == T->Count, "count",
                   "%s: NumberGenericTableElements %u, expected %u (insert adds 1, remove takes 1, a refused insert "
                   "changes nothing)", What, T->Table.NumberGenericTableElements, T->Count);
}

static BOOLEAN KtInsertSlot(PKTEST_CONTEXT Context, KT_TREE *T, ULONG S, ULONG A, ULONG Len)
{
    ULONG_PTR start = KT_SLOT_BASE + (ULONG_PTR)S * KT_SLOT_PAGES + A;
    PMMVAD v = KtNewVad(Context, start, start + Len - 1, T->Ops);
    if (!KtCheck(Context, v != NULL, "pool", "no pool for a VAD"))
        return FALSE;
    NTSTATUS st = MiInsertVad(&T->Table, v);
    if (KtVmStubbed(Context) || !KtCheck(Context, st == STATUS_SUCCESS, "insert", "MiInsertVad [0x%llx-0x%llx] into "
                                         "a tree where nothing overlaps it returned 0x%08X (%s), expected STATUS_SUCCESS",
                                         start, start + Len - 1, (ULONG)st, KtVmStatusName(st))) {
        ExFreePoolWithTag(v, KT_VAD_TEST_TAG);
        return FALSE;
    }
    T->Slot[S] = v;
    T->Count++;
    char what[96];
    RtlFormatString(what, sizeof(what), "after inserting [0x%llx-0x%llx]", start, start + Len - 1);
    return KtAudit(Context, T, what);
}

static BOOLEAN KtRemoveSlot(PKTEST_CONTEXT Context, KT_TREE *T, ULONG S)
{
    PMMVAD v = T->Slot[S];
    ULONG_PTR s = v->StartingVpn, e = v->EndingVpn;
    MiRemoveVad(&T->Table, v);
    T->Slot[S] = NULL;
    T->Count--;
    char what[96];
    RtlFormatString(what, sizeof(what), "after removing [0x%llx-0x%llx]", s, e);
    BOOLEAN ok = KtAudit(Context, T, what);
    if (ok)
        ok = KtCheck(Context, MiLocateAddress(&T->Table, s) == NULL && MiLocateAddress(&T->Table, e) == NULL, "remove",
                     "%s: MiLocateAddress still finds a VAD at its pages", what);
    v->Tag = 0;
    ExFreePoolWithTag(v, KT_VAD_TEST_TAG);
    return ok;
}

static BOOLEAN KtConflict(PKTEST_CONTEXT Context, KT_TREE *T, ULONG S, ULONG Kind)
{
    PMMVAD v = T->Slot[S];
    static const char *const kinds[4] = {"its last page and the next", "the page before and its first",
                                         "a range containing it", "its first page alone"};
    ULONG_PTR s = v->StartingVpn, e = v->EndingVpn;
    ULONG_PTR ns = Kind == 0 ? e : Kind == 3 ? s : s - 1, ne = Kind == 0 ? e + 1 : Kind == 1 ? s : Kind == 2 ? e + 1 : s;
    PMMVAD c = KtNewVad(Context, ns, ne, T->Ops + 7);
    if (!KtCheck(Context, c != NULL, "pool", "no pool for a VAD"))
        return FALSE;
    NTSTATUS st = MiInsertVad(&T->Table, c);
    BOOLEAN ok = KtCheck(Context, st == STATUS_CONFLICTING_ADDRESSES, "conflict", "MiInsertVad [0x%llx-0x%llx] over "
                         "[0x%llx-0x%llx] (%s) returned 0x%08X (%s), expected STATUS_CONFLICTING_ADDRESSES: VADs never "
                         "share a page", ns, ne, s, e, kinds[Kind], (ULONG)st, KtVmStatusName(st));
    if (!ok && st == STATUS_SUCCESS) {
        MiRemoveVad(&T->Table, c); /* keep the rest of the test meaningful */
        ExFreePoolWithTag(c, KT_VAD_TEST_TAG);
        return FALSE;
    }
    ExFreePoolWithTag(c, KT_VAD_TEST_TAG);
    return ok && KtAudit(Context, T, "after a refused (overlapping) insertion");
}

static BOOLEAN KtLookups(PKTEST_CONTEXT Context, KT_TREE *T)
{
    for (ULONG s = 0; s < KT_SLOTS; s++) {
        ULONG_PTR base = KT_SLOT_BASE + (ULONG_PTR)s * KT_SLOT_PAGES, gap = base + KT_SLOT_PAGES - 1;
        PMMVAD v = T->Slot[s];
        PMMVAD g = MiLocateAddress(&T->Table, gap);
        if (!KtCheck(Context, g == NULL, "locate", "MiLocateAddress(0x%llx), a page no VAD holds, returned [0x%llx-0x%llx]"
                     ", expected NULL", gap, g ? g->StartingVpn : 0, g ? g->EndingVpn : 0))
            return FALSE;
        if (!v) {
            PMMVAD c = MiCheckForConflictingVad(&T->Table, base, gap);
            if (!KtCheck(Context, c == NULL, "conflicting", "MiCheckForConflictingVad(0x%llx, 0x%llx) over an empty "
                         "slot returned [0x%llx-0x%llx], expected NULL", base, gap, c ? c->StartingVpn : 0,
                         c ? c->EndingVpn : 0))
                return FALSE;
            continue;
        }
        ULONG_PTR probes[3] = {v->StartingVpn, v->EndingVpn, (v->StartingVpn + v->EndingVpn) / 2};
        for (ULONG i = 0; i < 3; i++) {
            PMMVAD f = MiLocateAddress(&T->Table, probes[i]);
            if (!KtCheck(Context, f == v, "locate", "MiLocateAddress(0x%llx) returned %p, expected the VAD "
                         "[0x%llx-0x%llx] at %p (its %s page)", probes[i], (PVOID)f, v->StartingVpn, v->EndingVpn,
                         (PVOID)v, i == 0 ? "first" : i == 1 ? "last" : "middle"))
                return FALSE;
        }
        if (v->StartingVpn > base) {
            PMMVAD f = MiLocateAddress(&T->Table, v->StartingVpn - 1);
            if (!KtCheck(Context, f == NULL, "locate", "MiLocateAddress(0x%llx), the page before VAD [0x%llx-0x%llx], "
                         "returned %p, expected NULL", v->StartingVpn - 1, v->StartingVpn, v->EndingVpn, (PVOID)f))
                return FALSE;
        }
        PMMVAD c1 = MiCheckForConflictingVad(&T->Table, base - 1, v->StartingVpn);
        PMMVAD c2 = MiCheckForConflictingVad(&T->Table, v->EndingVpn + 1, gap);
        if (!KtCheck(Context, c1 == v, "conflicting", "MiCheckForConflictingVad(0x%llx, 0x%llx), sharing the first page "
                     "of [0x%llx-0x%llx], returned %p, expected that VAD", base - 1, v->StartingVpn, v->StartingVpn,
                     v->EndingVpn, (PVOID)c1) ||
            !KtCheck(Context, c2 == NULL, "conflicting", "MiCheckForConflictingVad(0x%llx, 0x%llx), just after "
                     "[0x%llx-0x%llx], returned %p, expected NULL (adjacent is not overlapping)", v->EndingVpn + 1, gap,
                     v->StartingVpn, v->EndingVpn, (PVOID)c2))
            return FALSE;
        /* Sharing only the last page conflicts; ending just before the first page does not. */
        PMMVAD c3 = MiCheckForConflictingVad(&T->Table, v->EndingVpn, gap);
        PMMVAD c4 = MiCheckForConflictingVad(&T->Table, base - 1, v->StartingVpn - 1);
        if (!KtCheck(Context, c3 == v, "conflicting", "MiCheckForConflictingVad(0x%llx, 0x%llx), sharing only the last "
                     "page of [0x%llx-0x%llx], returned %p, expected that VAD", v->EndingVpn, gap, v->StartingVpn,
                     v->EndingVpn, (PVOID)c3) ||
            !KtCheck(Context, c4 == NULL, "conflicting", "MiCheckForConflictingVad(0x%llx, 0x%llx), ending just before "
                     "[0x%llx-0x%llx], returned %p, expected NULL (adjacent is not overlapping)", base - 1,
                     v->StartingVpn - 1, v->StartingVpn, v->EndingVpn, (PVOID)c4))
            return FALSE;
    }
    /* In-order enumeration through MiGetFirstVad / MiGetNextVad. */
    PMMVAD e = MiGetFirstVad(&T->Table);
    for (ULONG s = 0; s < KT_SLOTS; s++) {
        if (!T->Slot[s])
            continue;
        if (!KtCheck(Context, e == T->Slot[s], "enumerate", "MiGetFirstVad/MiGetNextVad gave %p [0x%llx-...], expected "
                     "[0x%llx-0x%llx] next (address order)", (PVOID)e, e ? e->StartingVpn : 0, T->Slot[s]->StartingVpn,
                     T->Slot[s]->EndingVpn))
            return FALSE;
        e = MiGetNextVad(e);
    }
    return KtCheck(Context, e == NULL, "enumerate", "MiGetNextVad after the last VAD returned %p, expected NULL",
                   (PVOID)e);
}

KTEST("vad.tree", KtVadTree)
{
    if (!KtVmEnter(Context))
        return;
    static KT_TREE t;
    RtlZeroMemory(&t, sizeof(t));
    KtVmPoison(Context, &t.Table.DepthOfTree, sizeof(t.Table.DepthOfTree), 1);
    BOOLEAN ok = TRUE;
    /* A: ascending, B: descending. */
    for (ULONG i = 0; ok && i < 64; i++) {
        ULONG s = i < 32 ? i : 95 - i;
        ULONG a = (ULONG)KtRandomRange(Context, 0, 7);
        ULONG len = (ULONG)KtRandomRange(Context, 1, 8);
        ok = KtInsertSlot(Context, &t, s, a, len);
    }
    if (ok) {
        PMMVAD bad = KtNewVad(Context, 0x20, 0x1F, 99);
        NTSTATUS st = MiInsertVad(&t.Table, bad);
        ok = KtCheck(Context, st == STATUS_INVALID_PARAMETER, "insert", "MiInsertVad with StartingVpn 0x20 > EndingVpn "
                     "0x1F returned 0x%08X (%s), expected STATUS_INVALID_PARAMETER", (ULONG)st, KtVmStatusName(st));
        ExFreePoolWithTag(bad, KT_VAD_TEST_TAG);
        ok = ok && KtAudit(Context, &t, "after a refused (empty range) insertion") && KtLookups(Context, &t);
    }
    /* C: random operations. */
    for (ULONG i = 0; ok && i < 400; i++) {
        ULONG s = (ULONG)KtRandomRange(Context, 0, KT_SLOTS - 1);
        if (!t.Slot[s]) {
            ULONG a = (ULONG)KtRandomRange(Context, 0, 7);
            ULONG len = (ULONG)KtRandomRange(Context, 1, 8);
            ok = KtInsertSlot(Context, &t, s, a, len);
            continue;
        }
        ULONG r = (ULONG)KtRandomRange(Context, 0, 3);
        if (r < 2)
            ok = KtRemoveSlot(Context, &t, s);
        else if (r == 2)
            ok = KtConflict(Context, &t, s, (ULONG)KtRandomRange(Context, 0, 3));
        else if (i % 8 == 0)
            ok = KtLookups(Context, &t);
    }
    ok = ok && KtLookups(Context, &t);
    if (ok) {
        ULONG64 h = 0xCBF29CE484222325ULL;
        for (ULONG s = 0; s < KT_SLOTS; s++)
            if (t.Slot[s]) {
                h = (h ^ t.Slot[s]->StartingVpn) * 0x100000001B3ULL;
                h = (h ^ t.Slot[s]->EndingVpn) * 0x100000001B3ULL;
            }
        KtValue(Context, "height", "%d", KtVmAuditTree(Context, &t.Table, "tree", "after the storm"));
        /* The model's judgement: the tree's own in-order walk, hashed. */
        h = 0xCBF29CE484222325ULL;
        ULONG n = 0;
        for (PMMVAD v = MiGetFirstVad(&t.Table); v && n <= KT_SLOTS; v = MiGetNextVad(v), n++) {
            h = (h ^ v->StartingVpn) * 0x100000001B3ULL;
            h = (h ^ v->EndingVpn) * 0x100000001B3ULL;
        }
        KtValue(Context, "final", "%u 0x%llx", t.Table.NumberGenericTableElements, h);
    }
    /* D: the root, again and again. */
    for (ULONG i = 0; ok && i < 12 && t.Table.Root; i++) {
        PMMVAD root = t.Table.Root;
        ULONG s = (ULONG)((root->StartingVpn - KT_SLOT_BASE) / KT_SLOT_PAGES);
        ok = KtCheck(Context, s < KT_SLOTS && t.Slot[s] == root, "tree", "the root %p is not a VAD the test inserted",
                     (PVOID)root) && KtRemoveSlot(Context, &t, s);
    }
    ok = ok && KtLookups(Context, &t);
    for (ULONG s = 0; s < KT_SLOTS; s++)
        if (t.Slot[s]) {
            if (ok)
                MiRemoveVad(&t.Table, t.Slot[s]);
            ExFreePoolWithTag(t.Slot[s], KT_VAD_TEST_TAG);
            t.Slot[s] = NULL;
        }
}

/* ---- vad.find ---- */

#define KT_FIND_VADS 40
static ULONG_PTR KtFindStart[KT_FIND_VADS], KtFindEnd[KT_FIND_VADS]; /* VPNs, sorted */

static BOOLEAN KtFree(ULONG_PTR Va, SIZE_T Size)
{
    ULONG_PTR s = MI_VA_TO_VPN(Va), e = MI_VA_TO_VPN(Va + Size - 1);
    for (ULONG i = 0; i < KT_FIND_VADS; i++)
        if (!(e < KtFindStart[i] || s > KtFindEnd[i]))
            return FALSE;
    return TRUE;
}

/* The answer by brute force over every aligned candidate. */
static BOOLEAN KtBrute(SIZE_T Size, ULONG_PTR Align, ULONG_PTR Low, ULONG_PTR High, BOOLEAN Top, PULONG_PTR Base)
{
    if (High < Low || Size - 1 > High - Low)
        return FALSE;
    if (!Top) {
        for (ULONG_PTR c = ALIGN_UP(Low, Align); c >= Low && c <= High && High - c >= Size - 1; c += Align)
            if (KtFree(c, Size)) {
                *Base = c;
                return TRUE;
            }
        return FALSE;
    }
    for (ULONG_PTR c = ALIGN_DOWN(High - (Size - 1), Align);; c -= Align) {
        if (c < Low)
            return FALSE;
        if (KtFree(c, Size)) {
            *Base = c;
            return TRUE;
        }
        if (c < Align)
            return FALSE;
    }
}

KTEST("vad.find", KtVadFind)
{
    if (!KtVmEnter(Context))
        return;
    MM_AVL_TABLE table;
    RtlZeroMemory(&table, sizeof(table));
    PMMVAD vads[KT_FIND_VADS];
    ULONG_PTR vpn = 0x40;
    BOOLEAN ok = TRUE;
    ULONG n = 0;
    for (; n < KT_FIND_VADS && ok; n++) {
        /* VAD 5 follows VAD 4 with no gap; VAD 10 has a gap of 3-8 pages before it (an exact fit). */
        vpn += n == 5 ? 0 : n == 10 ? KtRandomRange(Context, 3, 8) : KtRandomRange(Context, 0, 20);
        ULONG_PTR len = KtRandomRange(Context, 1, 16);
        KtFindStart[n] = vpn;
        KtFindEnd[n] = vpn + len - 1;
        vads[n] = KtNewVad(Context, vpn, vpn + len - 1, 300 + n);
        ok = KtCheck(Context, vads[n] != NULL, "pool", "no pool for a VAD");
        if (!ok)
            break;
        NTSTATUS st = MiInsertVad(&table, vads[n]);
        if (KtVmStubbed(Context) || !KtCheck(Context, st == STATUS_SUCCESS, "insert", "MiInsertVad: 0x%08X", (ULONG)st)) {
            ExFreePoolWithTag(vads[n], KT_VAD_TEST_TAG);
            ok = FALSE;
            break;
        }
        vpn += len;
    }
    if (ok && KtVmAuditTree(Context, &table, "tree", "after the inserts") < 0)
        ok = FALSE;
    ULONG_PTR lowAll = MI_VPN_TO_VA(0x30), highAll = MI_VPN_TO_VA(vpn + 0x40) - 1;
    for (ULONG q = 0; ok && q < 64; q++) {
        BOOLEAN top = q & 1;
        SIZE_T size = KtRandomRange(Context, 1, 24) * PAGE_SIZE;
        ULONG_PTR align = PAGE_SIZE << KtRandomRange(Context, 0, 4);
        ULONG_PTR low = lowAll + KtRandomRange(Context, 0, 0x100) * PAGE_SIZE;
        ULONG_PTR high = highAll - KtRandomRange(Context, 0, 0x100) * PAGE_SIZE;
        PCSTR kind = "seeded";
        if (q == 0 || q == 1) { /* an exact fit: the gap before VAD 10, its own size */
            ULONG_PTR gs = MI_VPN_TO_VA(KtFindEnd[9] + 1), ge = MI_VPN_TO_VA(KtFindStart[10]);
            if (ge > gs) {
                size = ge - gs;
                align = PAGE_SIZE;
                low = top ? lowAll : gs;
                high = top ? ge - 1 : highAll;
                kind = "an exact fit";
            }
        } else if (q == 2) { /* no room above the last VAD: one page short */
            size = 8 * PAGE_SIZE;
            align = PAGE_SIZE;
            low = MI_VPN_TO_VA(KtFindStart[n - 1]);
            high = MI_VPN_TO_VA(KtFindEnd[n - 1] + 1) + size - 1 - PAGE_SIZE;
            kind = "no room above the last VAD, one page short";
        } else if (q == 3) { /* no room */
            size = 0x400 * PAGE_SIZE;
            kind = "no room";
        } else if (q == 4 || q == 5) { /* the top of the address space */
            low = 0xFFFFFFFFFFF00000ULL;
            high = 0xFFFFFFFFFFFFFFFFULL;
            size = 0x10 * PAGE_SIZE;
            align = 0x10000;
            kind = "the top of the address space (no sum may wrap)";
        } else if (q == 8 || q == 9) { /* larger than the address of the first VAD: vs - size would wrap */
            size = MI_VPN_TO_VA(KtFindStart[0]) + PAGE_SIZE;
            align = PAGE_SIZE;
            low = 0;
            high = MI_VPN_TO_VA(KtFindStart[1]) - 1;
            kind = "below the second VAD, larger than the address of the first (no difference may wrap)";
        } else if (q == 6 || q == 7) { /* below every VAD */
            low = MI_VPN_TO_VA(0x10);
            high = MI_VPN_TO_VA(0x40) - 1;
            size = 0x30 * PAGE_SIZE;
            align = PAGE_SIZE;
            kind = "the whole gap below the first VAD";
        }
        ULONG_PTR want = 0, got = 0x5A5A5A5A5A5A5A5AULL;
        BOOLEAN has = KtBrute(size, align, low, high, top, &want);
        NTSTATUS st = MiFindEmptyAddressRange(&table, size, align, low, high, top, &got);
        if (has)
            ok = KtCheck(Context, st == STATUS_SUCCESS && got == want, top ? "top_down" : "bottom_up",
                         "MiFindEmptyAddressRange(size 0x%llx, alignment 0x%llx, 0x%llx..0x%llx, %s) (%s): 0x%08X base "
                         "0x%llx, expected STATUS_SUCCESS base 0x%llx (the %s aligned free range inside the bounds)",
                         (ULONG64)size, align, low, high, top ? "TopDown" : "bottom-up", kind, (ULONG)st, got, want,
                         top ? "highest" : "lowest");
        else
            ok = KtCheck(Context, st == STATUS_NO_MEMORY && got == 0x5A5A5A5A5A5A5A5AULL, "no_room",
                         "MiFindEmptyAddressRange(size 0x%llx, alignment 0x%llx, 0x%llx..0x%llx, %s) (%s): 0x%08X base "
                         "0x%llx, expected STATUS_NO_MEMORY and *Base untouched", (ULONG64)size, align, low, high,
                         top ? "TopDown" : "bottom-up", kind, (ULONG)st, got);
    }
    for (ULONG i = 0; i < n; i++) {
        if (ok)
            MiRemoveVad(&table, vads[i]);
        ExFreePoolWithTag(vads[i], KT_VAD_TEST_TAG);
    }
}
