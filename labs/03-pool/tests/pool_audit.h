/* pool_audit.h - what the lab 03 tests share: readiness, the live-block record and the
 * pool auditor. */
#pragma once

#include "ex.h"
#include "ktest.h"

/* A block a test holds (Block NULL = slot unused). */
typedef struct _KT_LIVE {
    PUCHAR Block;
    SIZE_T Size;
    ULONG Tag;
    POOL_TYPE Type;
    UCHAR Fill;
} KT_LIVE;

/* FALSE (with a failed check) unless labs 01-03 can serve a first allocation. Also
 * seeds the pool poison (ExSetPoolPoison). */
BOOLEAN KtPoolReady(PKTEST_CONTEXT Context);
/* The units a small block of Bytes takes: max(2, ceil((Bytes + 16) / 16)). */
ULONG KtUnitsFor(SIZE_T Bytes);
/* Walks every pool page of both pools, every free list and the big-page table, and
 * checks every field: block sizes sum to the page, PreviousSize matches, PoolIndex and
 * ProcessBilled 0, PoolType 0 or the pool's type + 1, free blocks are on the list of
 * their size exactly once with both links right, no two free blocks are neighbours,
 * TotalPages and TotalBigPages match what is found, every big-page entry is a run of
 * pages in use in its pool. With Live (Count slots), every allocated block and big
 * entry is one the test holds, with its tag, type and size, and each it holds is there.
 * Returns TRUE if consistent. */
BOOLEAN KtPoolAuditLive(PKTEST_CONTEXT Context, PCSTR Label, const KT_LIVE *Live, ULONG Count);
#define KtPoolAudit(Context, Label) KtPoolAuditLive((Context), (Label), NULL, 0)
/* Poisons a block's data as the framework's ExFreePool does, then ExpFreePool. */
NTSTATUS KtFreePool(PVOID Block, ULONG Tag);
static inline PCSTR KtPoolName(ULONG Type) { return Type ? "paged" : "nonpaged"; }
/* The big-allocation entry for Va (a framework scan of the table), or NULL. */
const POOL_TRACKER_BIG_PAGES *KtFindBigPage(PVOID Va);
/* The tag's accounting entry (a framework scan of the table), or NULL. */
const POOL_TRACKER_TABLE *KtFindTag(ULONG Tag);
