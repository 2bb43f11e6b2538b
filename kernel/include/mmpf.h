/* mmpf.h - lab 08, faults and paging: the software PTE states the pager uses, the
 * pagefile on lab 07's RAM disk, the working set, and the routines students write in
 * labs/08-usermode/pagefile.c and workset.c (fault.c and section.c build on them).
 *
 * A user PTE is either valid (the hardware format of mm.h) or a software PTE (Valid 0):
 *   bits 5-9   Protection, an MM_* code (MM_READONLY, MM_READWRITE, ... | MM_GUARD_PAGE)
 *   bit 10     Prototype: the page belongs to a section (see section.c)
 *   bit 11     Transition (not used by this kernel: a page is valid or out)
 *   bits 32-63 PageFileHigh: 1 + the pagefile slot holding the page; 0 = demand zero
 * A zero PTE means "nothing here yet": the VAD decides. The shape is NT x64's. */
#pragma once

#include "io.h"
#include "mm.h"

/* ---- NT's protection codes in a software PTE (MM_*) ---- */
#ifndef MM_READONLY
#define MM_ZERO_ACCESS 0
#define MM_READONLY 1
#define MM_EXECUTE 2
#define MM_EXECUTE_READ 3
#define MM_READWRITE 4
#define MM_WRITECOPY 5
#define MM_EXECUTE_READWRITE 6
#define MM_EXECUTE_WRITECOPY 7
#define MM_GUARD_PAGE 0x10
#define MM_DECOMMIT 0x18
#endif

/* Status codes of lab 08's pager (pf part). */
#ifndef STATUS_GUARD_PAGE_VIOLATION
#define STATUS_GUARD_PAGE_VIOLATION ((NTSTATUS)0x80000001L)
#endif
#ifndef STATUS_IN_PAGE_ERROR
#define STATUS_IN_PAGE_ERROR ((NTSTATUS)0xC0000006L)
#endif
#ifndef STATUS_PAGEFILE_QUOTA
#define STATUS_PAGEFILE_QUOTA ((NTSTATUS)0xC0000007L)
#endif

#define MI_PTE_PROTECTION_SHIFT 5
#define MI_PTE_PROTECTION_MASK (0x1FULL << MI_PTE_PROTECTION_SHIFT)
#define MI_PTE_PROTOTYPE (1ULL << 10)
#define MI_PTE_TRANSITION (1ULL << 11)
#define MI_PTE_PAGEFILE_SHIFT 32

static inline ULONG MiPteProtection(MMPTE Pte) { return (ULONG)((Pte.Long & MI_PTE_PROTECTION_MASK) >> MI_PTE_PROTECTION_SHIFT); }
/* 1 + the slot of a page in the pagefile, 0 for none (only for a PTE with Valid 0). */
static inline ULONG MiPtePageFileHigh(MMPTE Pte) { return (ULONG)(Pte.Long >> MI_PTE_PAGEFILE_SHIFT); }
/* A software PTE: a page in the pagefile at Slot (Slot + 1 stored), with Protection. */
static inline ULONG64 MiMakePagefilePte(ULONG Slot, ULONG Protection)
{
    return ((ULONG64)(Slot + 1) << MI_PTE_PAGEFILE_SHIFT) | ((ULONG64)(Protection & 0x1F) << MI_PTE_PROTECTION_SHIFT);
}
/* A software PTE of a demand-zero page with Protection. */
static inline ULONG64 MiMakeDemandZeroPte(ULONG Protection) { return (ULONG64)(Protection & 0x1F) << MI_PTE_PROTECTION_SHIFT; }

/* ---- The pagefile (one, on a RAM disk: framework kernel/mm/pagingfile.c) ---- */
typedef struct _MMPAGING_FILE {
    PDEVICE_OBJECT Device;  /* the RAM disk holding it (DO_DIRECT_IO, 512-byte sectors) */
    ULONG Size;             /* slots (pages) */
    ULONG FreeSpace;        /* slots not in use */
    ULONG Hint;             /* where the next slot search starts */
    ULONG64 *Bitmap;        /* bit s set = slot s holds a page; Size bits, nonpaged */
    ULONG Reads, Writes;    /* page reads and writes that reached the disk and succeeded */
} MMPAGING_FILE, *PMMPAGING_FILE;

/* ---- The working set (one per address space) ----
 * Wsle[0 .. WsleCapacity-1]: each entry 0 (free) or a resident page's address | MI_WSLE_VALID.
 * WorkingSetSize = valid entries; MaximumWorkingSetSize <= WsleCapacity. NextSlot is the
 * clock hand of the replacement (second chance on the PTE's Accessed bit). */
#define MI_WSLE_VALID 0x1ULL
typedef struct _MMWSLE {
    ULONG_PTR Long;
} MMWSLE, *PMMWSLE;

typedef struct _MMSUPPORT {
    PMMPTE Pml4;                  /* the address space the pages are mapped in */
    PMMWSLE Wsle;
    ULONG WsleCapacity;
    ULONG NextSlot;               /* the clock hand: the next entry replacement looks at */
    ULONG WorkingSetSize;         /* pages in the working set */
    ULONG PeakWorkingSetSize;     /* highest WorkingSetSize ever */
    ULONG MinimumWorkingSetSize;  /* trimming never goes below it */
    ULONG MaximumWorkingSetSize;  /* a fault past it replaces a page instead of growing */
    ULONG PageFaultCount;         /* every fault MmAccessFault took for this address space */
    ULONG PagesTrimmed;           /* pages replaced or trimmed (paged out) */
} MMSUPPORT, *PMMSUPPORT;

/* Below this many available frames, a fault trims working sets before taking a frame. */
#define MM_MINIMUM_AVAILABLE_PAGES 64

/* ---- Framework (kernel/mm/pagingfile.c) ---- */
extern PMMPAGING_FILE MmPagingFile;    /* NULL until MiCreatePagingFile */
/* Creates the RAM disk "\Device\PagingFile0" of Pages pages and MmPagingFile over it
 * (needs lab 07); a second call with the same size is a no-op, another size is refused.
 * IRQL == PASSIVE_LEVEL. */
NTSTATUS MiCreatePagingFile(ULONG Pages);
/* Frames under the PFN lock (lab 01 stays lock-free): MM_ALLOCATE_ZEROED or 0. */
NTSTATUS MiAllocateFrame(ULONG Flags, PPFN_NUMBER Pfn);
VOID MiFreeFrame(PFN_NUMBER Pfn);
/* Invalidates Va's translation if Pml4 is the active address space. */
VOID MiFlushTb(PMMPTE Pml4, ULONG_PTR Va);
/* The PTE of Va in Pml4, or NULL when a table on the way is missing (never creates). */
PMMPTE MiGetPte(PMMPTE Pml4, ULONG_PTR Va);
/* The hardware bits (Write, NoExecute, Owner) of a valid user PTE with Protection, and the
 * MM_* protection a valid user PTE's bits stand for (READONLY, EXECUTE_READ, READWRITE,
 * EXECUTE_READWRITE). */
ULONG64 MiProtectionToHardware(ULONG Protection);
ULONG MiHardwareToProtection(MMPTE Pte);

/* ---- Lab 08, pf part (student code: labs/08-usermode/pagefile.c) ---- */
NTSTATUS MiAllocatePagefileSlot(PMMPAGING_FILE File, PULONG Slot);
NTSTATUS MiFreePagefileSlot(PMMPAGING_FILE File, ULONG Slot);
NTSTATUS MiPagefileIo(PMMPAGING_FILE File, PFN_NUMBER Pfn, ULONG Slot, BOOLEAN Write);
NTSTATUS MiPageOut(PMMPTE Pml4, ULONG_PTR Va);
NTSTATUS MiPageIn(PMMPTE Pml4, ULONG_PTR Va);

/* ---- Lab 08, pf part (student code: labs/08-usermode/workset.c) ---- */
NTSTATUS MiInitializeWorkingSet(PMMSUPPORT Ws, PMMPTE Pml4, PMMWSLE Wsle, ULONG Capacity, ULONG Minimum,
                                ULONG Maximum);
NTSTATUS MiInsertWorkingSetPage(PMMSUPPORT Ws, ULONG_PTR Va);
NTSTATUS MiRemoveWorkingSetPage(PMMSUPPORT Ws, ULONG_PTR Va);
ULONG MiTrimWorkingSet(PMMSUPPORT Ws, ULONG Pages);
