/* bugcodes.h - the documented NT bugcheck (STOP) codes the kernel raises. */
#pragma once

#define IRQL_NOT_GREATER_OR_EQUAL        0x00000009
#define IRQL_NOT_LESS_OR_EQUAL           0x0000000A
#define KMODE_EXCEPTION_NOT_HANDLED      0x0000001E
#define PFN_LIST_CORRUPT                 0x0000004E
#define PAGE_FAULT_IN_NONPAGED_AREA      0x00000050
#define UNEXPECTED_KERNEL_MODE_TRAP      0x0000007F
#define MANUALLY_INITIATED_CRASH         0x000000E2
#define PHASE1_INITIALIZATION_FAILED     0x00000032

/* PFN_LIST_CORRUPT parameter 1: a PTE or PFN is corrupt (e.g. a page freed twice). */
#define PFN_LIST_CORRUPT_PFN_CORRUPT     0x99
