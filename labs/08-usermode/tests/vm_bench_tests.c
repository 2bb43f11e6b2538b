/* vm_bench_tests.c - lab 08's virtual-memory benchmark ktest (ungraded;
 * tests/bench_lab08_vm.py boots it): VAD lookups per second of guest time (HPET) in trees
 * of 100 and of 10,000 VADs - an O(log n) lookup costs about twice as much in the tree
 * 100 times larger (log2 10000 / log2 100 = 2), a scan 100 times as much - and demand-zero
 * faults per second (committed pages touched for the first time in a test process, each
 * resolved by MmAccessFault). */
#include "hal.h"
#include "kuser.h"
#include "lab08vm_support.h"

#define KT_BENCH_LOOKUPS 20000
#define KT_BENCH_TAG 0x6E65426Bu
#define KT_BENCH_FAULT_PAGES 256 /* below the default working-set maximum (345): no trimming in the figure */

static ULONG64 KtPerSecond(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

/* Lookups per second in a tree of N VADs (inserted in a seeded order); 0 on a failure. */
static ULONG64 KtBenchLookups(PKTEST_CONTEXT Context, ULONG N, ULONG64 Frequency)
{
    MM_AVL_TABLE table;
    RtlZeroMemory(&table, sizeof(table));
    PMMVAD *vads = ExAllocatePoolWithTag(NonPagedPool, N * sizeof(PMMVAD), KT_BENCH_TAG);
    if (!vads)
        return 0;
    ULONG made = 0;
    ULONG64 rate = 0;
    for (; made < N; made++) {
        vads[made] = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), KT_BENCH_TAG);
        if (!vads[made])
            goto out;
        ULONG slot = (ULONG)(((ULONG64)made * 7919) % N); /* a permutation of 0..N-1 (7919 is a prime not dividing N) */
        vads[made]->StartingVpn = 0x100 + (ULONG_PTR)slot * 4;
        vads[made]->EndingVpn = vads[made]->StartingVpn + 1;
        vads[made]->Tag = MI_VAD_TAG;
        if (!NT_SUCCESS(MiInsertVad(&table, vads[made]))) {
            ExFreePoolWithTag(vads[made], KT_BENCH_TAG);
            goto out;
        }
    }
    ULONG64 start = KeQueryPerformanceCounter(NULL), found = 0;
    for (ULONG i = 0; i < KT_BENCH_LOOKUPS; i++) {
        ULONG slot = (ULONG)KtRandomRange(Context, 0, N - 1);
        found += MiLocateAddress(&table, 0x100 + (ULONG_PTR)slot * 4 + 1) != NULL;
    }
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    if (KtCheck(Context, found == KT_BENCH_LOOKUPS, "lookup", "%llu of %u lookups found their VAD", found,
                KT_BENCH_LOOKUPS))
        rate = KtPerSecond(KT_BENCH_LOOKUPS, ticks, Frequency);
    KtValue(Context, "height", "%u %d", N, KtVmAuditTree(Context, &table, "tree", "the benchmark's tree"));
out:
    for (ULONG i = 0; i < made; i++) {
        MiRemoveVad(&table, vads[i]);
        ExFreePoolWithTag(vads[i], KT_BENCH_TAG);
    }
    ExFreePoolWithTag(vads, KT_BENCH_TAG);
    return rate;
}

/* Demand-zero faults per second: committed pages touched for the first time. */
static ULONG64 KtBenchFaults(PKTEST_CONTEXT Context, ULONG64 Frequency)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return 0;
    PVOID base = NULL;
    SIZE_T size = KT_BENCH_FAULT_PAGES * PAGE_SIZE;
    ULONG64 rate = 0;
    NTSTATUS st = MmAllocateVirtualMemory(P.Process, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!KtCheck(Context, st == STATUS_SUCCESS, "commit", "MEM_RESERVE|MEM_COMMIT: 0x%08X", (ULONG)st))
        goto out;
    KeStackAttachProcess(P.Process);
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    ULONG ok = 0;
    for (ULONG i = 0; i < KT_BENCH_FAULT_PAGES; i++)
        ok += NT_SUCCESS(KeTouchUserByteForWrite((PUCHAR)base + (SIZE_T)i * PAGE_SIZE));
    ULONG64 ticks = KeQueryPerformanceCounter(NULL) - start;
    KeUnstackDetachProcess();
    KtValue(Context, "faults_resolved", "%u", ok);
    if (ok == KT_BENCH_FAULT_PAGES)
        rate = KtPerSecond(KT_BENCH_FAULT_PAGES, ticks, Frequency);
out:
    KtVmDeleteProcess(Context, &P);
    return rate;
}

KTEST("lab08vm.bench", KtTestLab08VmBench)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET") || !KtVmEnter(Context))
        return;
    KtValue(Context, "lookups", "%u", KT_BENCH_LOOKUPS);
    KtValue(Context, "lookup", "100 %llu", KtBenchLookups(Context, 100, frequency));
    KtValue(Context, "lookup", "10000 %llu", KtBenchLookups(Context, 10000, frequency));
    KtValue(Context, "demand_zero_faults_per_second", "%llu", KtBenchFaults(Context, frequency));
}
