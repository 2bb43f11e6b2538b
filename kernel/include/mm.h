/* mm.h - memory manager: the physical map, the boot memory description and the
 * PFN database with its page lists (lab 01). */
#pragma once

#include "ntdef.h"

#define PAGE_SIZE 0x1000ULL
#define PAGE_SHIFT 12
typedef ULONG64 PFN_NUMBER, *PPFN_NUMBER;

/* All physical memory below 4 GiB is mapped at MM_PHYSICAL_MAP_BASE (set up at boot). */
#define MM_PHYSICAL_MAP_BASE 0xFFFF800000000000ULL
#define MM_PHYSICAL_MAP_SIZE 0x100000000ULL
#define MM_KERNEL_VMA 0xFFFFFFFF80000000ULL
static inline PVOID MmPhysicalToVirtual(ULONG64 Physical) { return (PVOID)(MM_PHYSICAL_MAP_BASE + Physical); }
static inline PVOID MiPfnToVirtual(PFN_NUMBER Pfn) { return MmPhysicalToVirtual(Pfn << PAGE_SHIFT); }

/* ---- What the loader tells us about physical memory (built by mm/bootmem.c) ---- */
typedef struct _MM_PHYSICAL_RANGE {
    ULONG64 Base;   /* page aligned */
    ULONG64 Length; /* page aligned, > 0 */
} MM_PHYSICAL_RANGE, *PMM_PHYSICAL_RANGE;

#define MM_MAX_BOOT_RANGES 32
typedef struct _MM_BOOT_MEMORY {
    /* RAM the firmware reports as available (multiboot2 type 1), trimmed inward to
     * whole pages, sorted by Base, not overlapping. */
    ULONG UsableCount;
    MM_PHYSICAL_RANGE Usable[MM_MAX_BOOT_RANGES];
    /* Memory that is already in use and must never be handed out: the first MiB,
     * the kernel image, the boot information, boot modules. A range may extend
     * past usable RAM. Sorted by Base, not overlapping. */
    ULONG ReservedCount;
    MM_PHYSICAL_RANGE Reserved[MM_MAX_BOOT_RANGES];
} MM_BOOT_MEMORY, *PMM_BOOT_MEMORY;

extern MM_BOOT_MEMORY MmBootMemory;

/* ---- PFN database ---- */
typedef enum _MMLISTS {
    ZeroedPageList = 0,
    FreePageList = 1,
    StandbyPageList = 2,
    ModifiedPageList = 3,
    ModifiedNoWritePageList = 4,
    BadPageList = 5,
    ActiveAndValid = 6,
    TransitionPage = 7
} MMLISTS;

#define MM_EMPTY_LIST ((PFN_NUMBER)-1)

/* One entry a physical page frame. A frame on a page list (PageLocation <=
 * BadPageList) is linked through Flink/Blink (PFN numbers, MM_EMPTY_LIST at the
 * ends). A frame in use has PageLocation == ActiveAndValid and ReferenceCount >= 1;
 * a reserved frame (firmware, hole, kernel image, boot module, the PFN database
 * itself) is ActiveAndValid with Reserved = 1 and is never on a list. */
typedef struct _MMPFN {
    PFN_NUMBER Flink;
    PFN_NUMBER Blink;
    ULONG ReferenceCount;
    UCHAR PageLocation; /* MMLISTS */
    UCHAR Reserved;     /* 1: never allocatable */
    USHORT Spare;
    ULONG64 PteAddress; /* the PTE mapping this frame (lab 02 on) */
} MMPFN, *PMMPFN;

typedef struct _MMPFNLIST {
    PFN_NUMBER Total;  /* number of frames on the list */
    MMLISTS ListName;
    PFN_NUMBER Flink;  /* first frame, MM_EMPTY_LIST when empty */
    PFN_NUMBER Blink;  /* last frame, MM_EMPTY_LIST when empty */
} MMPFNLIST, *PMMPFNLIST;

/* The lists that hold frames: zeroed, free, standby, modified. */
#define MM_PAGE_LIST_COUNT 4
extern MMPFNLIST MmPageListHeads[MM_PAGE_LIST_COUNT]; /* indexed by MMLISTS */

extern PMMPFN MmPfnDatabase;          /* VA (in the physical map) of entry 0 */
extern PFN_NUMBER MmHighestPhysicalPage; /* highest PFN covered by the database */
extern PFN_NUMBER MmNumberOfPhysicalPages; /* usable frames (on a list or in use, not reserved) */
extern PFN_NUMBER MmAvailablePages;   /* frames on the zeroed and free lists */

#define MI_PFN_ELEMENT(pfn) (&MmPfnDatabase[(pfn)])

/* Flags for MmAllocatePhysicalPage. */
#define MM_ALLOCATE_ZEROED 0x1

/* ---- Lab 01 (student code: labs/01-pfn/) ---- */
VOID MiInsertPageInList(MMLISTS ListName, PFN_NUMBER Pfn);
VOID MiUnlinkPageFromList(PFN_NUMBER Pfn);
NTSTATUS MiInitializePfnDatabase(const MM_BOOT_MEMORY *Boot);
NTSTATUS MmAllocatePhysicalPage(ULONG Flags, PPFN_NUMBER Pfn);
NTSTATUS MmFreePhysicalPage(PFN_NUMBER Pfn);
NTSTATUS MmAllocateContiguousPages(PFN_NUMBER Count, PFN_NUMBER AlignmentPages, PFN_NUMBER HighestPfn,
                                   PPFN_NUMBER BasePfn);
NTSTATUS MiZeroFreePages(PFN_NUMBER MaxPages, PPFN_NUMBER Zeroed);

/* ---- Framework ---- */
VOID MmInitializeBootMemory(ULONG64 MultibootInfoPhysical);
VOID MmInitSystem(VOID);
extern BOOLEAN MmPfnDatabaseReady;
extern NTSTATUS MmPfnDatabaseStatus; /* what MiInitializePfnDatabase returned */

/* Boot modules (multiboot2 type 3), for user programs in later labs. */
typedef struct _MM_BOOT_MODULE {
    ULONG64 Start, End;
    CHAR Name[64];
} MM_BOOT_MODULE;
#define MM_MAX_BOOT_MODULES 8
extern ULONG MmBootModuleCount;
extern MM_BOOT_MODULE MmBootModules[MM_MAX_BOOT_MODULES];
