/* lab07_support.h - what lab 07's tests share: a seeded poison that leaves the test's
 * random sequence alone, the base test driver (completes in its dispatch routine or pends
 * and completes from its DPC, as the test says), the originator's completion routine
 * (logs, keeps the IRP), an IRP auditor, pool-tag accounting and the clean-up. Framework
 * test code: it judges the student's code by its own reading of the structures. */
#pragma once

#include "bugcodes.h"
#include "io.h"
#include "kedpc.h"
#include "ktest.h"

/* Every lab 07 test ends within a second of guest time. */
#define KT_LAB07_BUDGET_MS 3000

/* Every lab 07 test starts here: its budget, and a first call into lab 07 (an IRP allocated
 * and freed), so that a stubbed lab reports "not implemented" before anything else can fail
 * (also when earlier labs are stubs). FALSE: stop the test. */
BOOLEAN KtIoEnter(PKTEST_CONTEXT Context);
/* TRUE if a lab 07 stub reported itself: the test stops there. */
BOOLEAN KtIoStubbed(PKTEST_CONTEXT Context);
/* Fills Size bytes with a non-zero pattern from the seed and Salt (KtRandom untouched). */
VOID KtIoPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size, ULONG Salt);
/* Bytes of nonpaged pool outstanding under Tag (the pool's tag table). */
SIZE_T KtIoTagBytes(ULONG Tag);

/* The base test driver: one device per test, its behaviour in its extension. */
#define KT_BASE_SYNC 0  /* completes in the dispatch routine with Status, Information */
#define KT_BASE_PEND 1  /* marks pending, holds the IRP, completes it from its DPC */
typedef struct _KT_BASE_EXTENSION {
    ULONG Mode;
    NTSTATUS Status;
    ULONG_PTR Information;
    KDPC Dpc;
    PIRP Held;
    ULONG Seen;
    UCHAR LastMajor;
    CCHAR LastLocation;        /* CurrentLocation when its dispatch ran */
    PIO_STACK_LOCATION LastSp; /* IoGetCurrentIrpStackLocation then */
    PDEVICE_OBJECT LastSpDevice;
    IO_STACK_LOCATION Copy;    /* the location it was given */
} KT_BASE_EXTENSION, *PKT_BASE_EXTENSION;
/* Creates the base driver (all majors but IRP_MJ_FLUSH_BUFFERS) and one device (unnamed,
 * DO_BUFFERED_IO). Checks statuses; FALSE if it failed (reported). An IRP whose current
 * location is not one a driver could own (CurrentLocation outside 1..StackCount, or
 * CurrentStackLocation not that location) is refused (STATUS_UNSUCCESSFUL, left as it is),
 * so the test's checks report it instead of a crash in the completion. */
BOOLEAN KtCreateBase(PKTEST_CONTEXT Context, PDRIVER_OBJECT *Driver, PDEVICE_OBJECT *Device);
/* Deletes the drivers and devices a test made (by the framework's own hands). */
VOID KtIoCleanup(VOID);
/* The filter driver, created once per test. */
BOOLEAN KtCreateFilterDriver(PKTEST_CONTEXT Context, PDRIVER_OBJECT *Driver);

/* The originator's completion routine: logs Level 0 and returns
 * STATUS_MORE_PROCESSING_REQUIRED, so the test keeps the IRP. */
NTSTATUS KtTopCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context);
extern volatile ULONG KtTopRuns;

/* After a complete walk: CurrentLocation == StackCount + 1 and every location's Control,
 * CompletionRoutine and Context cleared (the walk clears each location it passes). */
BOOLEAN KtAuditWalkedIrp(PKTEST_CONTEXT Context, PCSTR Step, PIRP Irp);
/* Frees an IRP the test kept (framework's hands: no student call). */
VOID KtIoFreeIrp(PIRP Irp);
/* Tracks a driver for KtIoCleanup. */
VOID KtIoTrackDriver(PDRIVER_OBJECT Driver);

/* A seeded completion walk (walk_tests.c): Filters filters over the base, filter i at level
 * i + 2 with Action[i] (FILTER_*) and Flags[i] (0: its routine on success and error, 1:
 * success only, 2: error only; FILTER_MORE always both); the base completes at once or
 * pends (BaseMode) with Status and Information. KtWalkRun reports scenario S as
 * `returned|early|ran|final s<S> ...` for grader/models/lab07.py and checks what the kernel
 * can know alone; FALSE if a check failed. */
#define KT_WALK_MAX 8
typedef struct {
    ULONG Filters;
    UCHAR Action[KT_WALK_MAX];
    UCHAR Flags[KT_WALK_MAX];
    ULONG BaseMode;
    NTSTATUS Status;
    ULONG_PTR Information;
} KT_WALK_PLAN;
BOOLEAN KtWalkRun(PKTEST_CONTEXT Context, ULONG S, const KT_WALK_PLAN *Plan);

/* One device I/O control request to the echo device (io_tests.c), checked byte for byte. */
BOOLEAN KtCreateEcho(PKTEST_CONTEXT Context, PDEVICE_OBJECT *Device);
BOOLEAN KtOneIoctl(PKTEST_CONTEXT Context, PDEVICE_OBJECT Device, ULONG Case, ULONG Method, ULONG InLength,
                   ULONG OutLength, ULONG Written, ULONG OutOffset, BOOLEAN Internal);
