/* bench_tests.c - lab 07's benchmark ktest (ungraded; tests/bench_lab07.py boots it): IRPs
 * per second of guest time (HPET) sent through stacks of 1, 2, 4 and 8 filters that copy
 * their location and set a completion routine, over a base that completes at once - the
 * cost should grow by a constant per filter, nothing more - and the RAM disk's throughput
 * (writes and reads of 4 KiB, each pended and completed by the disk's DPC). */
#include "hal.h"
#include "lab07_support.h"

#define KT_BENCH_IRPS 2000
#define KT_BENCH_DISK_OPS 256
static UCHAR KtBenchBuffer[4096] __attribute__((aligned(4096)));

static ULONG64 KtPerSecond(ULONG64 Ops, ULONG64 Ticks, ULONG64 Frequency)
{
    return Ticks ? Ops * Frequency / Ticks : 0;
}

static NTSTATUS KtBenchTop(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* IRPs per second through Depth filters; 0 if something failed. */
static ULONG64 KtBenchStack(PKTEST_CONTEXT Context, ULONG Depth, ULONG64 Frequency)
{
    PDRIVER_OBJECT driver, fdrv;
    PDEVICE_OBJECT base, top = NULL;
    ULONG64 rate = 0;
    if (!KtCreateBase(Context, &driver, &base) || !KtCreateFilterDriver(Context, &fdrv))
        goto out;
    PKT_BASE_EXTENSION ext = base->DeviceExtension;
    ext->Mode = KT_BASE_SYNC;
    ext->Status = STATUS_SUCCESS;
    for (ULONG i = 0; i < Depth; i++)
        if (!NT_SUCCESS(IopAddFilter(fdrv, base, i + 2, FILTER_CONTINUE, TRUE, TRUE, &top)))
            goto out;
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG n = 0; n < KT_BENCH_IRPS; n++) {
        PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
        if (irp == NULL)
            goto out;
        IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
        IoSetCompletionRoutine(irp, KtBenchTop, NULL, TRUE, TRUE, TRUE);
        IoCallDriver(top, irp);
        IoFreeIrp(irp);
    }
    rate = KtPerSecond(KT_BENCH_IRPS, KeQueryPerformanceCounter(NULL) - start, Frequency);
out:
    KtIoCleanup();
    return rate;
}

/* RAM-disk bytes per second: 4 KiB writes then reads, each pended and completed by the DPC. */
static ULONG64 KtBenchDisk(PKTEST_CONTEXT Context, ULONG64 Frequency)
{
    PDRIVER_OBJECT driver;
    PDEVICE_OBJECT disk;
    ULONG64 rate = 0;
    if (!NT_SUCCESS(IopCreateDriver("RamDisk", IopRamDiskDriverEntry, &driver)))
        goto out;
    KtIoTrackDriver(driver);
    if (!NT_SUCCESS(IopCreateRamDisk(driver, "\\Device\\KtBenchDisk", 256 * 1024, &disk)))
        goto out;
    ULONG64 start = KeQueryPerformanceCounter(NULL);
    for (ULONG n = 0; n < KT_BENCH_DISK_OPS; n++) {
        IO_STATUS_BLOCK iosb;
        PIRP irp = IoBuildSynchronousFsdRequest(n < KT_BENCH_DISK_OPS / 2 ? IRP_MJ_WRITE : IRP_MJ_READ, disk,
                                                KtBenchBuffer, sizeof(KtBenchBuffer),
                                                (LONGLONG)(n % 64) * sizeof(KtBenchBuffer), NULL, &iosb);
        if (irp == NULL)
            goto out;
        IoCallDriver(disk, irp); /* at PASSIVE_LEVEL the disk's DPC completes it before this returns */
        if (!KtCheck(Context, iosb.Status == STATUS_SUCCESS, "disk", "RAM-disk transfer %u: 0x%x", n, iosb.Status))
            goto out;
    }
    rate = KtPerSecond((ULONG64)KT_BENCH_DISK_OPS * sizeof(KtBenchBuffer), KeQueryPerformanceCounter(NULL) - start,
                       Frequency);
out:
    KtIoCleanup();
    return rate;
}

KTEST("lab07.bench", KtTestLab07Bench)
{
    ULONG64 frequency = 0;
    KeQueryPerformanceCounter(&frequency);
    if (!KtCheck(Context, frequency != 0, "hpet", "no HPET"))
        return;
    KtValue(Context, "irps", "%u", KT_BENCH_IRPS);
    static const ULONG depths[4] = {1, 2, 4, 8};
    for (ULONG i = 0; i < 4; i++) {
        ULONG64 rate = KtBenchStack(Context, depths[i], frequency);
        if (KtIoStubbed(Context))
            return;
        KtValue(Context, "depth", "%u %llu", depths[i], rate);
    }
    KtValue(Context, "disk_bytes_per_second", "%llu", KtBenchDisk(Context, frequency));
}
