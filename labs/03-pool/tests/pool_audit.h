/* pool_audit.h - what the lab 03 tests share: readiness and the pool auditor. */
#pragma once

#include "ex.h"
#include "ktest.h"

/* FALSE (with a failed check) unless labs 01-03 can serve a first allocation. */
BOOLEAN KtPoolReady(PKTEST_CONTEXT Context);
/* Walks every small pool page of both pools and every free list: block sizes sum to
 * the page, PreviousSize matches, free blocks are on the list of their size, no two
 * free blocks are neighbours (an entirely free page cannot even be written: 256
 * units do not fit in BlockSize). Returns TRUE if consistent. */
BOOLEAN KtPoolAudit(PKTEST_CONTEXT Context, PCSTR Label);
/* The big-allocation entry for Va (a framework scan of the table), or NULL. */
const POOL_TRACKER_BIG_PAGES *KtFindBigPage(PVOID Va);
/* The tag's accounting entry (a framework scan of the table), or NULL. */
const POOL_TRACKER_TABLE *KtFindTag(ULONG Tag);
