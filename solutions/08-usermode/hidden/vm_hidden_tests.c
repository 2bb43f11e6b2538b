/* vm_hidden_tests.c - lab 08 hidden vm test: many regions. vad.many inserts 1500 VADs in a
 * seeded order, audits the tree every 100 steps, removes them in another seeded order,
 * then makes 200 reservations at seeded 64 KiB-aligned bases in a test process (some
 * committed) and releases them all: the tree empties and the counters return to zero. */
#include "../../../labs/08-usermode/tests/lab08vm_support.h"

#define KT_MANY 1500
#define KT_MANY_TAG 0x794E614Bu

KTEST("vad.many", KtVadMany)
{
    if (!KtVmEnter(Context))
        return;
    static PMMVAD vads[KT_MANY];
    static ULONG order[KT_MANY];
    MM_AVL_TABLE table;
    RtlZeroMemory(&table, sizeof(table));
    for (ULONG i = 0; i < KT_MANY; i++)
        order[i] = i;
    for (ULONG i = KT_MANY - 1; i > 0; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    BOOLEAN ok = TRUE;
    ULONG made = 0;
    for (ULONG k = 0; ok && k < KT_MANY; k++, made++) {
        ULONG i = order[k];
        PMMVAD v = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), KT_MANY_TAG);
        if (!KtCheck(Context, v != NULL, "pool", "no pool for VAD %u", k))
            break;
        KtVmPoison(Context, v, sizeof(*v), k);
        v->StartingVpn = 0x100 + (ULONG_PTR)i * 4;
        v->EndingVpn = v->StartingVpn + (i % 3);
        v->Tag = MI_VAD_TAG;
        vads[i] = v;
        NTSTATUS st = MiInsertVad(&table, v);
        if (KtVmStubbed(Context) || !KtCheck(Context, st == STATUS_SUCCESS, "insert", "MiInsertVad %u: 0x%08X", k,
                                             (ULONG)st)) {
            ExFreePoolWithTag(v, KT_MANY_TAG);
            vads[i] = NULL;
            ok = FALSE;
            break;
        }
        if (k % 100 == 99)
            ok = KtVmAuditTree(Context, &table, "tree", "while inserting many") >= 0;
    }
    for (ULONG i = KT_MANY - 1; ok && i > 0; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (ULONG k = 0; ok && k < KT_MANY; k++) {
        ULONG i = order[k];
        PMMVAD f = MiLocateAddress(&table, vads[i]->EndingVpn);
        ok = KtCheck(Context, f == vads[i], "locate", "MiLocateAddress(0x%llx) with %u VADs returned %p, expected %p",
                     vads[i]->EndingVpn, table.NumberGenericTableElements, (PVOID)f, (PVOID)vads[i]);
        if (!ok)
            break;
        MiRemoveVad(&table, vads[i]);
        ExFreePoolWithTag(vads[i], KT_MANY_TAG);
        vads[i] = NULL;
        if (k % 100 == 99)
            ok = KtVmAuditTree(Context, &table, "tree", "while removing many") >= 0;
    }
    ok = ok && KtCheck(Context, table.Root == NULL && table.NumberGenericTableElements == 0, "tree", "after removing "
                       "every VAD: root %p count %u", (PVOID)table.Root, table.NumberGenericTableElements);
    for (ULONG i = 0; i < KT_MANY; i++)
        if (vads[i]) {
            ExFreePoolWithTag(vads[i], KT_MANY_TAG);
            vads[i] = NULL;
        }
    UNREFERENCED_PARAMETER(made);
    if (!ok)
        return;
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    static ULONG_PTR bases[200];
    ULONG n = 0;
    for (ULONG k = 0; ok && k < 200; k++) {
        PVOID b = (PVOID)(0x10000000ULL + KtRandomRange(Context, 0, 4095) * MM_ALLOCATION_GRANULARITY);
        SIZE_T s = KtRandomRange(Context, 1, 16) * PAGE_SIZE;
        ULONG type = k % 2 ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE;
        NTSTATUS st = MmAllocateVirtualMemory(P.Process, &b, 0, &s, type, PAGE_READWRITE);
        if (st == STATUS_CONFLICTING_ADDRESSES)
            continue;
        ok = KtCheck(Context, st == STATUS_SUCCESS, "reserve", "reservation %u: 0x%08X", k, (ULONG)st);
        if (ok)
            bases[n++] = (ULONG_PTR)b;
    }
    ok = ok && KtVmAuditTree(Context, &P.Space->VadRoot, "tree", "after 200 reservations") >= 0;
    for (ULONG k = 0; ok && k < n; k++) {
        PVOID b = (PVOID)bases[k];
        SIZE_T s = 0;
        NTSTATUS st = MmFreeVirtualMemory(P.Process, &b, &s, MEM_RELEASE);
        ok = KtCheck(Context, st == STATUS_SUCCESS, "release", "releasing reservation %u at %p: 0x%08X", k,
                     (PVOID)bases[k], (ULONG)st);
    }
    ok = ok && KtCheck(Context, P.Space->VirtualSize == 0 && P.Space->CommitCharge == 0 &&
                       P.Space->VadRoot.NumberGenericTableElements == 0, "counters", "after releasing every reservation: "
                       "virtual bytes 0x%llx, private pages %llu, %u VADs (all must be 0)", (ULONG64)P.Space->VirtualSize,
                       (ULONG64)P.Space->CommitCharge, P.Space->VadRoot.NumberGenericTableElements);
    KtVmDeleteProcess(Context, &P);
}
