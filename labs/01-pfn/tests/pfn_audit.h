/* pfn_audit.h - what the lab 01 tests share: the PFN database auditor and helpers. */
#pragma once

#include "ktest.h"
#include "mm.h"

/* FALSE (with a failed "implemented" or "database" check) unless the database is built. */
BOOLEAN KtPfnReady(PKTEST_CONTEXT Context);
/* Walks every list and every entry; one failed check per problem kind. Returns
 * TRUE if the database is consistent. Label names the moment (e.g. "after storm"). */
BOOLEAN KtPfnAudit(PKTEST_CONTEXT Context, PCSTR Label);
/* Where the database itself lies. */
VOID KtPfnDatabaseRange(PFN_NUMBER *First, PFN_NUMBER *Pages);
/* TRUE if the frame is usable RAM, outside reserved ranges and the database. */
BOOLEAN KtPfnIsAllocatable(PFN_NUMBER Pfn);
/* A shared buffer of frame numbers for tests that hold many frames. */
#define KT_PFN_MAX_HELD (128 * 1024)
extern PFN_NUMBER KtHeld[KT_PFN_MAX_HELD];
/* Allocates frames until STATUS_NO_MEMORY; returns how many (into KtHeld). */
ULONG KtPfnAllocateAll(PKTEST_CONTEXT Context, ULONG Flags, NTSTATUS *Last);
/* Frees KtHeld[0 .. Count) in a seeded order. */
VOID KtPfnFreeShuffled(PKTEST_CONTEXT Context, ULONG Count);
