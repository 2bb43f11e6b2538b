/* lab08vm_support.h - what lab 08's virtual-memory tests share: a test process with an
 * address space of its own (created, entered, deleted with its frames counted), a poison
 * that leaves the test's random sequence alone, an auditor of the whole VAD tree, and the
 * reading of a page's state straight from the PTEs (independent of the student's code).
 * Framework test code: it judges the student's code by its own reading of the structures. */
#pragma once

#include "../../../kernel/mm/mi.h"
#include "ex.h"
#include "ke.h"
#include "ktest.h"
#include "ps.h"

#define KT_LAB08VM_BUDGET_MS 20000

/* Every lab 08 vm test starts here: its budget, and a first call into lab 08 (a lookup in
 * an empty tree), so that a stubbed lab reports "not implemented" before anything else can
 * fail (also when earlier labs are stubs). FALSE: stop the test. */
BOOLEAN KtVmEnter(PKTEST_CONTEXT Context);
/* TRUE if a lab 08 stub reported itself: the test stops there. */
BOOLEAN KtVmStubbed(PKTEST_CONTEXT Context);
/* Fills Size bytes with a non-zero pattern from the seed and Salt (KtRandom untouched). */
VOID KtVmPoison(PKTEST_CONTEXT Context, PVOID Buffer, SIZE_T Size, ULONG Salt);

/* A test process: a process object with an address space of its own, attached. */
typedef struct _KT_VM_PROCESS {
    PEPROCESS Process;
    PMMADDRESS_SPACE Space;
    PFN_NUMBER AvailableBefore; /* MmAvailablePages before it was made */
    SIZE_T PeakVirtual, PeakCommit; /* the highest counters a test has checked so far */
} KT_VM_PROCESS;
BOOLEAN KtVmCreateProcess(PKTEST_CONTEXT Context, KT_VM_PROCESS *P);
/* Deletes the address space and the process; checks every frame came back (check
 * "frames", naming what leaked). */
VOID KtVmDeleteProcess(PKTEST_CONTEXT Context, KT_VM_PROCESS *P);

/* Walks the whole tree: order, no overlap, Parent links, Balance = the heights'
 * difference and within -1..+1, NumberGenericTableElements = the VADs reached, every VAD
 * tagged. Fails check Check naming the first problem and the operation (What). Returns
 * the height (or -1 on a problem). */
LONG KtVmAuditTree(PKTEST_CONTEXT Context, PMM_AVL_TABLE Table, PCSTR Check, PCSTR What);

/* The page at Va by the PTE rules of mi.h, read from the tables without the student's
 * code: 1 committed (*Protection its MM code), 0 reserved, -1 free (no VAD in Vads). */
LONG KtVmPageState(PMMADDRESS_SPACE Space, ULONG_PTR Va, PULONG Protection);
/* Makes a committed demand-zero page resident as a fault would: a frame filled with
 * Fill, a valid PTE with the page's protection, counted in the working set. Returns the
 * frame (0 on failure). */
PFN_NUMBER KtVmMakeResident(PMMADDRESS_SPACE Space, ULONG_PTR Va, UCHAR Fill);
/* PAGE_* name for messages. */
PCSTR KtVmProtName(ULONG Win32Protect);
PCSTR KtVmStatusName(NTSTATUS Status);
