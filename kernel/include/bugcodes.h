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
#define SPIN_LOCK_ALREADY_OWNED          0x0000000F
#define SPIN_LOCK_NOT_OWNED              0x00000010
#define TRAP_CAUSE_UNKNOWN               0x00000012
#define INVALID_SOFTWARE_INTERRUPT       0x00000007
#define ATTEMPTED_SWITCH_FROM_DPC        0x000000B8
#define HAL_INITIALIZATION_FAILED        0x0000005C
/* Lab 05 (executive resources): released by a thread that does not own it. */
#define RESOURCE_NOT_OWNED               0x000000E3
/* Lab 05 (system worker threads): a work routine returned at an IRQL other than PASSIVE_LEVEL
 * (p1 the routine, p2 the IRQL, p3 the work item, p4 its parameter). */
#define WORKER_RETURNED_AT_BAD_IRQL      0x000000E1
/* Lab 07: the I/O manager. */
#define NO_MORE_IRP_STACK_LOCATIONS      0x00000035 /* P1 the IRP */
#define MULTIPLE_IRP_COMPLETE_REQUESTS   0x00000044 /* P1 the IRP, P2 its CurrentLocation */
#define CANCEL_STATE_IN_COMPLETED_IRP    0x00000048 /* P1 the IRP, P2 its cancel routine */
/* UNEXPECTED_KERNEL_MODE_TRAP parameter 1 */
#define EXCEPTION_DOUBLE_FAULT           0x8

/* PFN_LIST_CORRUPT parameter 1: a PTE or PFN is corrupt (e.g. a page freed twice). */
#define PFN_LIST_CORRUPT_PFN_CORRUPT     0x99

#define BAD_POOL_HEADER                  0x00000019
#define BAD_POOL_CALLER                  0x000000C2
/* BAD_POOL_HEADER parameter 1 */
#define BAD_POOL_HEADER_SIZE_CORRUPT     0x20 /* p2 the block, p3 the next block */
/* BAD_POOL_CALLER parameter 1 */
#define BAD_POOL_CALLER_DOUBLE_FREE      0x07 /* p3 the header's first 8 bytes, p4 the address freed */
#define BAD_POOL_CALLER_ALLOCATE_IRQL    0x08 /* p2 IRQL, p3 pool type, p4 size */
#define BAD_POOL_CALLER_FREE_IRQL        0x09 /* p2 IRQL, p3 pool type, p4 address */
#define BAD_POOL_CALLER_WRONG_TAG        0x0A /* p2 address, p3 the allocator's tag, p4 the tag given */

/* Lab 05 (dispatcher objects and waits). */
#define MAXIMUM_WAIT_OBJECTS_EXCEEDED    0x0000000C /* p1 the count */
#define THREAD_NOT_MUTEX_OWNER           0x00000011
/* Lab 06 (the object manager). */
#define REFERENCE_BY_POINTER             0x00000018
#define INVALID_KERNEL_HANDLE            0x00000093
/* Lab 08 (um: user mode and system services). */
#define APC_INDEX_MISMATCH               0x00000001 /* p1 the service number, p2 1: left attached */
#define IRQL_GT_ZERO_AT_SYSTEM_SERVICE   0x0000004A /* p1 the service number, p2 the IRQL */
