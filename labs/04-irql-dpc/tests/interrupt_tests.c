/* interrupt_tests.c - lab 04 public test of interrupt objects: KeInitializeInterrupt on
 * poisoned memory; KeConnectInterrupt's error paths (below 0x30, the DISPATCH software
 * vector, the spurious vector, an IRQL that is not vector >> 4, the clock's vector, a
 * vector another object holds, connecting twice) and boundaries (0x30, 0xFE); the
 * framework device's interrupt runs the routine at its IRQL while connected and no
 * routine once disconnected; disconnecting twice. */
#include "hal.h"
#include "lab04_audit.h"

static KINTERRUPT KtInterrupts[3];
static volatile ULONG KtRuns[3];
static volatile KIRQL KtRunIrql[3];

static BOOLEAN KtCountingIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    ULONG i = (ULONG)(ULONG_PTR)ServiceContext;
    if (i < 3) {
        KtRuns[i]++;
        KtRunIrql[i] = KeGetCurrentIrql();
    }
    UNREFERENCED_PARAMETER(Interrupt);
    return TRUE;
}

static BOOLEAN KtInit(PKTEST_CONTEXT Context, ULONG i, ULONG Vector, UCHAR Irql)
{
    PKINTERRUPT k = &KtInterrupts[i];
    KtPoison(Context, k, sizeof(*k));
    KeInitializeInterrupt(k, KtCountingIsr, (PVOID)(ULONG_PTR)i, Vector, Irql);
    if (KtLab04Stubbed(Context))
        return FALSE;
    return KtCheck(Context, k->Type == InterruptObject && k->Size == sizeof(*k) && k->ServiceRoutine == KtCountingIsr &&
                   k->ServiceContext == (PVOID)(ULONG_PTR)i && k->Vector == Vector && k->Irql == Irql &&
                   !k->Connected && k->Count == 0, "initialize", "KeInitializeInterrupt on poisoned memory left Type "
                   "%u (22), Size %u (%u), routine %p (%p), context %p (%p), Vector 0x%x (0x%x), Irql %u (%u), "
                   "Connected %u (0), Count %llu (0)", k->Type, k->Size, (ULONG)sizeof(*k), k->ServiceRoutine,
                   KtCountingIsr, k->ServiceContext, (PVOID)(ULONG_PTR)i, k->Vector, Vector, k->Irql, Irql,
                   k->Connected, k->Count);
}

static BOOLEAN KtConnect(PKTEST_CONTEXT Context, ULONG i, BOOLEAN Expected, PCSTR Why)
{
    PKINTERRUPT k = &KtInterrupts[i];
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG v = k->Vector;
    PKINTERRUPT before = v < MAXIMUM_VECTOR ? prcb->InterruptObject[v] : NULL;
    BOOLEAN r = KeConnectInterrupt(k);
    if (!KtCheck(Context, r == Expected, Expected ? "connect" : "connect_refused", "KeConnectInterrupt(vector 0x%x, "
                 "IRQL %u) returned %s, expected %s: %s", v, k->Irql, r ? "TRUE" : "FALSE", Expected ? "TRUE" : "FALSE",
                 Why))
        return FALSE;
    PKINTERRUPT after = v < MAXIMUM_VECTOR ? prcb->InterruptObject[v] : NULL;
    if (Expected)
        return KtCheck(Context, after == k && k->Connected, "connect", "after KeConnectInterrupt(vector 0x%x): "
                       "InterruptObject[0x%x] = %p (expected %p), Connected %u (1)", v, v, after, k, k->Connected);
    return KtCheck(Context, after == before && (before == k) == (k->Connected != 0), "connect_refused", "a refused "
                   "KeConnectInterrupt(vector 0x%x) changed InterruptObject[0x%x] (%p, was %p) or Connected (%u)", v, v,
                   after, before, k->Connected);
}

static BOOLEAN KtRequest(PKTEST_CONTEXT Context, ULONG Vector, ULONG i, ULONG Expected, PCSTR Why)
{
    ULONG before = KtRuns[i];
    HalRequestInterrupt(Vector);
    for (ULONG n = 0; n < 200000 && KtRuns[i] == before; n++)
        __asm__ volatile("pause");
    return KtCheck(Context, KtRuns[i] - before == Expected, Expected ? "routine_runs" : "disconnected",
                   "an interrupt on vector 0x%x ran the routine %u times, expected %u (%s)", Vector, KtRuns[i] - before,
                   Expected, Why) &&
           (!Expected || KtCheck(Context, KtRunIrql[i] == (Vector >> 4), "routine_runs", "the routine of vector 0x%x "
                                 "ran at IRQL %u, expected %u", Vector, KtRunIrql[i], Vector >> 4));
}

KTEST("intobj.connect", KtTestInterruptConnect)
{
    KtSetBudget(Context, KT_LAB04_BUDGET_MS);
    KtRuns[0] = KtRuns[1] = KtRuns[2] = 0;
    PKINTERRUPT clock = KeGetCurrentPrcb()->InterruptObject[CLOCK_VECTOR];
    ULONG device = (ULONG)KtRandomRange(Context, 0x40, 0xBF);
    if (device == 0x52)
        device = 0x53;
    /* Error paths: each is refused and changes nothing. */
    static const struct { ULONG Vector; UCHAR Irql; PCSTR Why; } refused[] = {
        {0x20, 2, "0x20 is below the device vectors (0x30 and up)"},
        {DISPATCH_VECTOR, DISPATCH_LEVEL, "0x2F is the DISPATCH_LEVEL software interrupt"},
        {SPURIOUS_VECTOR, 15, "0xFF is the spurious vector"},
        {CLOCK_VECTOR, CLOCK_LEVEL, "the clock holds 0xD1"},
        {0x61, 5, "IRQL 5 is not 0x61 >> 4 = 6"},
    };
    for (ULONG c = 0; c < ARRAYSIZE(refused); c++)
        if (!KtInit(Context, 0, refused[c].Vector, refused[c].Irql) ||
            !KtConnect(Context, 0, FALSE, refused[c].Why))
            goto out;
    /* The lowest and the highest device vector, then a seeded one. */
    if (!KtInit(Context, 0, 0x30, 3) || !KtConnect(Context, 0, TRUE, "0x30 is the lowest device vector") ||
        !KtRequest(Context, 0x30, 0, 1, "connected") || !KeDisconnectInterrupt(&KtInterrupts[0]) ||
        !KtInit(Context, 0, 0xFE, 15) || !KtConnect(Context, 0, TRUE, "0xFE is the highest device vector") ||
        !KtRequest(Context, 0xFE, 0, 1, "connected") || !KeDisconnectInterrupt(&KtInterrupts[0]))
        goto out;
    if (!KtInit(Context, 0, device, (UCHAR)(device >> 4)) || !KtInit(Context, 1, device, (UCHAR)(device >> 4)) ||
        !KtConnect(Context, 0, TRUE, "a free device vector") ||
        !KtConnect(Context, 0, FALSE, "the object is already connected") ||
        !KtConnect(Context, 1, FALSE, "another object holds the vector") ||
        !KtRequest(Context, device, 0, 1, "connected") ||
        !KtCheck(Context, KtRuns[1] == 0, "routine_runs", "the refused object's routine ran"))
        goto out;
    BOOLEAN r = KeDisconnectInterrupt(&KtInterrupts[1]);
    if (!KtCheck(Context, !r && KeGetCurrentPrcb()->InterruptObject[device] == &KtInterrupts[0], "disconnect",
                 "KeDisconnectInterrupt of an object that is not connected returned %u (0) and left InterruptObject"
                 "[0x%x] = %p (expected %p)", r, device, KeGetCurrentPrcb()->InterruptObject[device], &KtInterrupts[0]))
        goto out;
    r = KeDisconnectInterrupt(&KtInterrupts[0]);
    if (!KtCheck(Context, r && !KtInterrupts[0].Connected && KeGetCurrentPrcb()->InterruptObject[device] == NULL,
                 "disconnect", "KeDisconnectInterrupt returned %u (1), Connected %u (0), InterruptObject[0x%x] %p "
                 "(NULL)", r, KtInterrupts[0].Connected, device, KeGetCurrentPrcb()->InterruptObject[device]) ||
        !KtRequest(Context, device, 0, 0, "disconnected: no routine runs"))
        goto out;
    r = KeDisconnectInterrupt(&KtInterrupts[0]);
    if (!KtCheck(Context, !r, "disconnect", "a second KeDisconnectInterrupt returned TRUE"))
        goto out;
    /* Connected again: the other object now. */
    if (KtConnect(Context, 1, TRUE, "the vector is free again"))
        KtRequest(Context, device, 1, 1, "connected again");
    KeDisconnectInterrupt(&KtInterrupts[1]);
out:
    for (ULONG i = 0; i < 3; i++)
        if (KtInterrupts[i].Vector < MAXIMUM_VECTOR && KeGetCurrentPrcb()->InterruptObject[KtInterrupts[i].Vector] ==
            &KtInterrupts[i])
            KeGetCurrentPrcb()->InterruptObject[KtInterrupts[i].Vector] = NULL;
    KeGetCurrentPrcb()->InterruptObject[CLOCK_VECTOR] = clock; /* a bad connect may have replaced it */
    KtLab04Cleanup();
}
