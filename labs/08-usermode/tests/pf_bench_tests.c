/* pf_bench_tests.c - lab 08's paging benchmark ktest (ungraded; tests/bench_lab08_pf.py boots
 * it): page-outs and page-ins per second of guest time (HPET). An attached address space
 * with a working set of KT_BENCH_WS pages writes KT_BENCH_PAGES committed pages (each first
 * touch a demand-zero fault; past the working set's maximum every fault also sends the
 * clock's page to the pagefile), then reads them all back (every fault a page-in and a
 * page-out); and the raw pager: MiPageOut then MiPageIn of resident pages, no fault. */
#include "hal.h"
#include "kuser.h"
#include "lab08pf_support.h"

#define KT_BENCH_WS 64
#define KT_BENCH_PAGES 448

static UCHAR KtBenchPage[PAGE_SIZE];

static ULONG64 KtRate(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

KTEST("pf.bench", KtPfBench)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET"))
        return;
    KtSetBudget(Context, 60000);
    KT_PF_SPACE s;
    if (!KtPfCreateSpace(Context, &s))
        return;
    static MMWSLE wsle[KT_BENCH_WS];
    static MMWSL wsl;
    ULONG_PTR base = 0x40000000;
    if (!KtCheck(Context, MiInitializeWorkingSet(s.Space, &wsl, wsle, KT_BENCH_WS, 0, KT_BENCH_WS) == STATUS_SUCCESS,
                 "init", "MiInitializeWorkingSet"))
        goto done;
    for (ULONG i = 0; i < KT_BENCH_PAGES; i++)
        if (!KtCheck(Context, NT_SUCCESS(MiReplaceUserPte(s.Space, base + i * PAGE_SIZE, MiMakeDemandZeroPte(MM_READWRITE))),
                     "commit", "commit"))
            goto done;
    KeStackAttachProcess(&s.Process);
    PMMPAGING_FILE f = MmPagingFile;
    ULONG w0 = f->Writes, r0 = f->Reads, faults0 = s.Space->Vm.PageFaultCount;
    ULONG64 t0 = KeQueryPerformanceCounter(NULL);
    for (ULONG i = 0; i < KT_BENCH_PAGES; i++) {
        KtBenchPage[0] = (UCHAR)i;
        if (!KtCheck(Context, KeCopyToUser((PVOID)(base + i * PAGE_SIZE), KtBenchPage, 8) == STATUS_SUCCESS, "write",
                     "write"))
            goto detach;
    }
    ULONG64 t1 = KeQueryPerformanceCounter(NULL);
    ULONG w1 = f->Writes, faults1 = s.Space->Vm.PageFaultCount;
    for (ULONG i = 0; i < KT_BENCH_PAGES; i++) {
        if (!KtCheck(Context, KeCopyFromUser(KtBenchPage, (PVOID)(base + i * PAGE_SIZE), 8) == STATUS_SUCCESS &&
                     KtBenchPage[0] == (UCHAR)i, "read", "page %u did not come back", i))
            goto detach;
    }
    ULONG64 t2 = KeQueryPerformanceCounter(NULL);
    KtValue(Context, "pages", "%u", KT_BENCH_PAGES);
    KtValue(Context, "working_set", "%u", KT_BENCH_WS);
    KtValue(Context, "write_pass", "%u %u %llu", faults1 - faults0, w1 - w0, t1 - t0);
    KtValue(Context, "write_faults_per_second", "%llu", KtRate(KT_BENCH_PAGES, t1 - t0, frequency));
    KtValue(Context, "read_pass", "%u %u %u %llu", s.Space->Vm.PageFaultCount - faults1, f->Reads - r0, f->Writes - w1,
            t2 - t1);
    KtValue(Context, "page_ins_per_second", "%llu", KtRate(f->Reads - r0, t2 - t1, frequency));
    /* The raw pager: out and in again, no fault, no working set. */
    ULONG n = 0;
    ULONG64 t3 = KeQueryPerformanceCounter(NULL), tout = 0, tin = 0;
    for (ULONG i = 0; i < KT_BENCH_PAGES; i++) {
        ULONG_PTR va = base + i * PAGE_SIZE;
        if (!MiReadUserPte(s.Space, va).Hard.Valid)
            continue;
        MiRemoveWorkingSetPage(s.Space, va);
        ULONG64 a = KeQueryPerformanceCounter(NULL);
        NTSTATUS st = MiPageOut(s.Space, va);
        ULONG64 b = KeQueryPerformanceCounter(NULL);
        if (NT_SUCCESS(st))
            st = MiPageIn(s.Space, va);
        ULONG64 c = KeQueryPerformanceCounter(NULL);
        if (!KtCheck(Context, NT_SUCCESS(st), "raw", "raw page-out/in of 0x%llx: 0x%x", (ULONG64)va, st))
            goto detach;
        MiInsertWorkingSetPage(s.Space, va);
        tout += b - a;
        tin += c - b;
        n++;
    }
    UNREFERENCED_PARAMETER(t3);
    KtValue(Context, "raw_pages", "%u", n);
    KtValue(Context, "raw_page_outs_per_second", "%llu", KtRate(n, tout, frequency));
    KtValue(Context, "raw_page_ins_per_second", "%llu", KtRate(n, tin, frequency));
detach:
    KeUnstackDetachProcess();
done:
    KtPfDestroySpace(&s);
}
