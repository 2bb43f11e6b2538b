/* lab08pf_support.h - what lab 08's paging tests share (pf part): entering the lab (the
 * pagefile made, a first call into lab 08 so a stub reports "not implemented"), a test
 * address space of its own (a PML4 with the kernel half, user pages mapped by the
 * framework's hands, torn down and counted by them), page patterns that tell every
 * 8-byte word of every page apart, and reading a pagefile slot straight off the RAM disk.
 * Framework test code: it judges the student's pager by its own reading of the PTEs,
 * the PFN database, the pagefile bitmap and the disk. */
#pragma once

#include "ktest.h"
#include "mmpf.h"
#include "ps.h"
#include "rtl.h"

#define KT_LAB08PF_BUDGET_MS 5000
#define KT_PF_SLOTS 512          /* the pagefile every pf test uses (2 MiB on the RAM disk) */

/* Budget, the pagefile (MiCreatePagingFile, needs lab 07), and a first call into lab 08
 * (MiInitializeWorkingSet on a scratch set). FALSE: stop the test (reported). */
BOOLEAN KtPfEnter(PKTEST_CONTEXT Context);
/* A first call into the routine a test is about (a harmless refused call), so that a stub
 * of it reports "not implemented" rather than a failed check: "slots" (MiAllocatePagefileSlot
 * on a full pagefile), "io" (MiPagefileIo past the end), "pager" (MiPageIn of a free
 * address), "fault" (MiDispatchFault on a system address). FALSE: stop. */
BOOLEAN KtPfRequire(PKTEST_CONTEXT Context, PCSTR Which);

/* A test address space: vm's MmCreateProcessAddressSpace on a process block of the test's
 * (not an object: nothing but the address space is used). */
typedef struct _KT_PF_SPACE {
    EPROCESS Process;
    PMMADDRESS_SPACE Space;
} KT_PF_SPACE;
BOOLEAN KtPfCreateSpace(PKTEST_CONTEXT Context, KT_PF_SPACE *Space);
/* Maps a fresh frame at Va with MM_* Protection (framework's hands: MiGetUserPte and
 * MiMakeValidUserPte), filled with KtPfFill(Salt). FALSE (reported) if it could not. */
BOOLEAN KtPfMapPage(PKTEST_CONTEXT Context, KT_PF_SPACE *Space, ULONG_PTR Va, ULONG Protection, ULONG Salt);
/* MmDeleteProcessAddressSpace: every frame, pagefile slot (MiReleasePageFileSpace) and table. */
VOID KtPfDestroySpace(KT_PF_SPACE *Space);

/* Fills / compares a page with the pattern of Salt (every 8-byte word distinct). Compare
 * returns the index of the first word that differs, or -1. */
VOID KtPfFill(PVOID Page, ULONG Salt);
LONG KtPfCompare(const VOID *Page, ULONG Salt);
/* The pagefile's slot as the RAM disk holds it. */
PUCHAR KtPfSlotData(ULONG Slot);
/* Whether a frame is on a free list (not in use). */
BOOLEAN KtPfFrameIsFree(PFN_NUMBER Pfn);
/* Whether bit Slot of the pagefile bitmap is set (framework's reading). */
BOOLEAN KtPfSlotBit(PMMPAGING_FILE File, ULONG Slot);
/* The MM_* protection a checkpoint may give a private page, by index 0..3. */
ULONG KtPfProtection(ULONG Index);
PCSTR KtPfProtectionName(ULONG Protection);
/* Checks a valid PTE has the hardware bits of Protection (Owner 1) and keeps its code. */
BOOLEAN KtPfCheckValidPte(PKTEST_CONTEXT Context, PCSTR Check, PCSTR Step, MMPTE Pte, ULONG Protection);
/* Va's PTE in the test's space (NULL where a table is missing). */
static inline PMMPTE KtPte(KT_PF_SPACE *S, ULONG_PTR Va) { return MiGetUserPte(S->Space, Va, FALSE); }
