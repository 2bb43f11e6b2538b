/* hidden_tests.c - lab 03 hidden tests: IRQL rules for nonpaged allocation and paged
 * free, and a big-page table churned through many removals (freed slots). */
#include "bugcodes.h"
#include "ke.h"
#include "mm.h"
#include "pool_audit.h"

KTEST_STOP("pool.nonpaged_high", KtTestPoolNonPagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    KIRQL irql = (KIRQL)KtRandomRange(Context, DISPATCH_LEVEL + 1, HIGH_LEVEL), old;
    SIZE_T size = KtRandomRange(Context, 1, 4000);
    KtValue(Context, "stop_params", "0x8 0x%x 0x0 0x%llx", irql, (ULONG64)size);
    KeRaiseIrql(irql, &old);
    PVOID block;
    NTSTATUS status = ExpAllocatePool(NonPagedPool, size, POOL_TAG('H', 'i', 'g', 'h'), &block);
    KeLowerIrql(old);
    KtFail(Context, "irql", "NonPagedPool at IRQL %u returned 0x%08X instead of bugchecking", irql, (ULONG)status);
}

KTEST_STOP("pool.free_paged_high", KtTestPoolFreePagedHigh)
{
    if (!KtPoolReady(Context))
        return;
    PVOID block;
    ExpAllocatePool(PagedPool, KtRandomRange(Context, 1, 4000), POOL_TAG('P', 'g', 'F', 'r'), &block);
    KIRQL old;
    KtValue(Context, "stop_params", "0x9 0x2 0x1 0x%llx", (ULONG64)block);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExpFreePool(block, 0);
    KeLowerIrql(old);
    KtFail(Context, "irql", "freeing paged pool at DISPATCH_LEVEL did not bugcheck");
}

KTEST("pool.big_churn", KtTestPoolBigChurn)
{
    if (!KtPoolReady(Context))
        return;
    static PVOID live[64];
    for (ULONG op = 0; op < 3000; op++) {
        ULONG s = (ULONG)KtRandomRange(Context, 0, 63);
        if (live[s]) {
            NTSTATUS status = ExpFreePool(live[s], POOL_TAG('C', 'h', 'r', 'n'));
            if (!KtCheck(Context, status == STATUS_SUCCESS, "free", "op %u: freeing %p returned 0x%08X", op, live[s],
                         (ULONG)status))
                return;
            live[s] = NULL;
        } else if (ExpAllocatePool((POOL_TYPE)(s & 1), PAGE_SIZE + 1, POOL_TAG('C', 'h', 'r', 'n'), &live[s]) !=
                   STATUS_SUCCESS) {
            KtFail(Context, "allocate", "op %u: a 2-page allocation failed (freed slots of the big page table are "
                   "never reused?)", op);
            return;
        }
    }
    for (ULONG s = 0; s < 64; s++)
        if (live[s])
            ExpFreePool(live[s], 0);
    KtCheck(Context, KtPoolAudit(Context, "after the churn"), "audit", "-");
}
