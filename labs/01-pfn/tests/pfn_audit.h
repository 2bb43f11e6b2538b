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

/* The boot memory the auditor compares with (MmBootMemory; a test of MiInitializePfnDatabase
 * on a made-up layout points it elsewhere for a while). */
extern const MM_BOOT_MEMORY *KtAuditBoot;
PCSTR KtPfnLocationName(ULONG Location);
/* A frame in use: ActiveAndValid, ReferenceCount 1, Reserved 0, links MM_EMPTY_LIST. */
BOOLEAN KtPfnCheckInUse(PKTEST_CONTEXT Context, PCSTR Check, PFN_NUMBER Pfn, PCSTR What);
/* One allocation, checked: status, which frame (the head of the list the contract names),
 * its entry, MmAvailablePages. */
BOOLEAN KtPfnAllocate(PKTEST_CONTEXT Context, ULONG Flags, PFN_NUMBER *Pfn, PCSTR What);
/* One free, checked: status, the frame at the tail of the free list, its entry, the count. */
BOOLEAN KtPfnFree(PKTEST_CONTEXT Context, PFN_NUMBER Pfn, PCSTR What);
/* Every available frame into KtHeld, each allocation checked, then STATUS_NO_MEMORY with
 * *Pfn left alone and MmAvailablePages 0. */
BOOLEAN KtPfnAllocateAllChecked(PKTEST_CONTEXT Context, ULONG Flags, ULONG *Count, PCSTR What);
/* Frees KtHeld[0 .. Count) in a seeded order, each free checked. */
BOOLEAN KtPfnFreeShuffledChecked(PKTEST_CONTEXT Context, ULONG Count, PCSTR What);
/* Frees one held frame (found in KtHeld[0 .. *Count), which shrinks by one). */
BOOLEAN KtPfnRelease(PKTEST_CONTEXT Context, ULONG *Count, PFN_NUMBER Pfn, PCSTR What);
