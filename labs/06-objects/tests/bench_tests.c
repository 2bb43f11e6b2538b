/* bench_tests.c - lab 06's benchmark ktest (ungraded; tests/bench_lab06.py boots it):
 * handle creates, lookups (ObReferenceObjectByHandle of seeded open handles) and closes
 * per second of guest time (HPET) with 1,000 and with 100,000 handles open (100x), and
 * name lookups per second in a directory of 10 and of 1,000 names. NT's handle table
 * makes the handle operations independent of the number of handles; a directory is a
 * 37-bucket hash, so name lookup grows with the entries per chain. */
#include "hal.h"
#include "lab06_support.h"

#define KT_BENCH_SMALL 1000
#define KT_BENCH_LARGE 100000
#define KT_BENCH_BATCH 2000
#define KT_BENCH_LOOKUPS 20000
#define KT_BENCH_NAMES 1000
#define KT_BENCH_NAME_LOOKUPS 5000

static HANDLE KtBenchBatch[KT_BENCH_BATCH];

static ULONG64 KtPerSecond(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

/* Open handles in the current process (duplicates of Source) until it has Count. */
static BOOLEAN KtBenchFill(PEPROCESS P, HANDLE Source, ULONG Count)
{
    while ((ULONG)P->ObjectTable->HandleCount < Count) {
        HANDLE h;
        if (!NT_SUCCESS(ObDuplicateObject(P, Source, P, &h, 0, 0, DUPLICATE_SAME_ACCESS, KernelMode)))
            return FALSE;
    }
    return TRUE;
}

/* Creates, lookups and closes per second with the table as it is (Open handles open). */
static VOID KtBenchHandles(PKTEST_CONTEXT Context, PEPROCESS P, HANDLE Source, ULONG Open, PCSTR Key,
                           ULONG64 Frequency)
{
    ULONG64 create = 0, lookup = 0, close = 0;
    ULONG rounds = KT_BENCH_LOOKUPS / KT_BENCH_BATCH;
    ULONG top = P->ObjectTable->NextHandleNeedingPool;
    for (ULONG r = 0; r < rounds; r++) {
        ULONG64 t0 = KeQueryPerformanceCounter(NULL);
        for (ULONG i = 0; i < KT_BENCH_BATCH; i++)
            ObDuplicateObject(P, Source, P, &KtBenchBatch[i], 0, 0, DUPLICATE_SAME_ACCESS, KernelMode);
        ULONG64 t1 = KeQueryPerformanceCounter(NULL);
        for (ULONG i = 0; i < KT_BENCH_BATCH; i++) {
            /* A seeded handle value among the open ones (a free one or index 0 just fails). */
            HANDLE h = (HANDLE)(ULONG_PTR)(KtRandomRange(Context, 1, top / 4 - 1) * 4);
            PVOID obj;
            if (NT_SUCCESS(ObReferenceObjectByHandle(h, 0, KtObType, KernelMode, &obj, NULL)))
                ObDereferenceObject(obj);
        }
        ULONG64 t2 = KeQueryPerformanceCounter(NULL);
        for (ULONG i = 0; i < KT_BENCH_BATCH; i++)
            ObCloseHandle(KtBenchBatch[i], KernelMode);
        ULONG64 t3 = KeQueryPerformanceCounter(NULL);
        create += t1 - t0;
        lookup += t2 - t1;
        close += t3 - t2;
    }
    CHAR k[32];
    RtlFormatString(k, sizeof(k), "create_%s", Key);
    KtValue(Context, k, "%llu", KtPerSecond((ULONG64)rounds * KT_BENCH_BATCH, create, Frequency));
    RtlFormatString(k, sizeof(k), "lookup_%s", Key);
    KtValue(Context, k, "%llu", KtPerSecond((ULONG64)rounds * KT_BENCH_BATCH, lookup, Frequency));
    RtlFormatString(k, sizeof(k), "close_%s", Key);
    KtValue(Context, k, "%llu", KtPerSecond((ULONG64)rounds * KT_BENCH_BATCH, close, Frequency));
    KtValue(Context, "open_handles", "%u", Open);
}

/* Name lookups per second in a directory of Count names. */
static ULONG64 KtBenchNames(PKTEST_CONTEXT Context, ULONG Count, ULONG64 Frequency, HANDLE *Handles)
{
    CHAR dir[48], name[OB_MAX_NAME];
    RtlFormatString(dir, sizeof(dir), "\\BaseNamedObjects\\KtBench%u", Count);
    POBJECT_DIRECTORY d;
    if (!NT_SUCCESS(ObpCreateDirectory(dir, 0, &d)))
        return 0;
    for (ULONG i = 0; i < Count; i++) {
        PVOID body;
        RtlFormatString(name, sizeof(name), "%s\\Object%u", dir, i);
        if (!KtObCreate(Context, KtObType, 900, name, 0, &body) ||
            !NT_SUCCESS(ObInsertObject(body, 1, OBJ_KERNEL_HANDLE, &Handles[i])))
            return 0;
    }
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG n = 0; n < KT_BENCH_NAME_LOOKUPS; n++) {
        RtlFormatString(name, sizeof(name), "%s\\Object%u", dir, (ULONG)KtRandomRange(Context, 0, Count - 1));
        PVOID obj;
        if (NT_SUCCESS(KtLookup(name, OBJ_CASE_INSENSITIVE, KtObType, &obj)))
            ObDereferenceObject(obj);
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    for (ULONG i = 0; i < Count; i++)
        ObCloseHandle(Handles[i], KernelMode);
    ObReferenceObject(d);
    ObMakeTemporaryObject(d);
    ObDereferenceObject(d);
    return KtPerSecond(KT_BENCH_NAME_LOOKUPS, ticks, Frequency);
}

static HANDLE KtBenchNameHandles[KT_BENCH_NAMES];

KTEST_OB("lab06.bench", KtTestLab06Bench)
{
    KtSetBudget(Context, 600000);
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET") || !KtObSetup(Context))
        return;
    PEPROCESS p;
    if (!KtCheck(Context, NT_SUCCESS(PspCreateProcess("bench", &p)), "process", "no process"))
        return;
    KeStackAttachProcess(p);
    PVOID body;
    HANDLE source;
    if (!KtObCreate(Context, KtObType, 901, NULL, 0, &body) ||
        !KtCheck(Context, NT_SUCCESS(ObInsertObject(body, 1, 0, &source)), "insert", "ObInsertObject failed"))
        goto out;
    KtValue(Context, "ops", "%u", KT_BENCH_LOOKUPS);
    if (KtBenchFill(p, source, KT_BENCH_SMALL))
        KtBenchHandles(Context, p, source, KT_BENCH_SMALL, "small", frequency);
    if (KtBenchFill(p, source, KT_BENCH_LARGE))
        KtBenchHandles(Context, p, source, KT_BENCH_LARGE, "large", frequency);
    KtValue(Context, "names_small", "%llu", KtBenchNames(Context, 10, frequency, KtBenchNameHandles));
    KtValue(Context, "names_large", "%llu", KtBenchNames(Context, KT_BENCH_NAMES, frequency, KtBenchNameHandles));
out:
    for (ULONG v = 4; v < p->ObjectTable->NextHandleNeedingPool; v += 4)
        if (ExMapHandleToPointer(p->ObjectTable, (HANDLE)(ULONG_PTR)v))
            ObCloseHandle((HANDLE)(ULONG_PTR)v, KernelMode);
    KeUnstackDetachProcess();
    ObDereferenceObject(p);
}
