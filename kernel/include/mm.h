/* mm.h - memory manager: the physical map, the boot memory description and the
 * PFN database with its page lists (lab 01), paging (lab 02), pool pages (lab 03). What
 * only kernel/mm and its tests use is in kernel/mm/mi.h. */
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
#define MM_MAX_BOOT_MODULES 32
extern ULONG MmBootModuleCount;
extern MM_BOOT_MODULE MmBootModules[MM_MAX_BOOT_MODULES];

/* ---- Address translation (lab 02) ----
 *
 * x64 4-level paging. A virtual address splits into four 9-bit table indices and a
 * 12-bit offset:  PML4 [47:39]  PDPT [38:30]  PD [29:21]  PT [20:12]  offset [11:0].
 * Bits 63:48 copy bit 47 (canonical addresses). Every table is one 4 KiB page of 512
 * MMPTEs, reached through the physical map (MiPfnToVirtual of its frame). */
typedef union _MMPTE {
    ULONG64 Long;
    struct {
        ULONG64 Valid : 1;         /* P   */
        ULONG64 Write : 1;         /* R/W */
        ULONG64 Owner : 1;         /* U/S: 1 = user mode may access */
        ULONG64 WriteThrough : 1;
        ULONG64 CacheDisable : 1;
        ULONG64 Accessed : 1;
        ULONG64 Dirty : 1;
        ULONG64 LargePage : 1;     /* PS: in a PDE, maps 2 MiB directly */
        ULONG64 Global : 1;
        ULONG64 SoftwareBits : 3;
        ULONG64 PageFrameNumber : 40;
        ULONG64 Reserved : 11;
        ULONG64 NoExecute : 1;     /* XD */
    } Hard;
    /* Lab 08: the invalid (Valid 0) formats of a user PTE, NT x64's shapes. What each
     * means, and the valid PTE's software bits, is written down in kernel/mm/mi.h. */
    struct {
        ULONG64 Valid : 1;         /* 0 */
        ULONG64 PageFileLow : 4;   /* which pagefile: always 0 (one pagefile) */
        ULONG64 Protection : 5;    /* MM_* protection code (mi.h) */
        ULONG64 Prototype : 1;     /* 0 here (1: the Proto format) */
        ULONG64 Transition : 1;    /* 0 here (1: the Trans format) */
        ULONG64 Unused : 20;
        ULONG64 PageFileHigh : 32; /* pagefile slot + 1; 0 = demand zero */
    } Soft;
    struct {
        ULONG64 Valid : 1;         /* 0 */
        ULONG64 Write : 1;
        ULONG64 Owner : 1;
        ULONG64 WriteThrough : 1;
        ULONG64 CacheDisable : 1;
        ULONG64 Protection : 5;
        ULONG64 Prototype : 1;     /* 0 */
        ULONG64 Transition : 1;    /* 1 */
        ULONG64 PageFrameNumber : 40; /* the frame still holds the contents (standby/modified list) */
        ULONG64 Unused : 12;
    } Trans;
    struct {
        ULONG64 Valid : 1;         /* 0 */
        ULONG64 Unused0 : 7;
        ULONG64 ReadOnly : 1;
        ULONG64 Unused1 : 1;
        ULONG64 Prototype : 1;     /* 1 */
        ULONG64 Protection : 5;    /* 0: the prototype PTE's protection; else this one */
        LONG64 ProtoAddress : 48;  /* the prototype PTE's address, sign-extended (<< 16 >> 16) */
    } Proto;
} MMPTE, *PMMPTE;

#define MM_PTES_PER_TABLE 512
#define MM_LARGE_PAGE_SIZE 0x200000ULL
#define MM_LARGE_PAGE_PFNS 512

/* The page-table levels, as MiWalkPageTables counts them. */
#define MM_LEVEL_PML4 4
#define MM_LEVEL_PDPT 3
#define MM_LEVEL_PD 2
#define MM_LEVEL_PT 1

/* Index of Va's entry in the table of a level (4 = PML4 ... 1 = PT). */
#define MiTableIndex(Va, Level) (((ULONG64)(Va) >> (PAGE_SHIFT + 9 * ((Level) - 1))) & 0x1FF)

/* System space, NT-style regions of the higher half (see handouts/02-paging.md):
 *   0xFFFF800000000000  physical map, 4 GiB (page tables, the PFN database, frames)
 *   0xFFFFF88000000000  system PTEs: mappings made on demand (tests, I/O space)
 *   0xFFFFF8A000000000  paged pool (lab 03)
 *   0xFFFFFA8000000000  nonpaged pool (lab 03)
 *   0xFFFFFFFF80000000  the system image (the kernel), 1 GiB
 * User space is the low half: 0 .. MM_HIGHEST_USER_ADDRESS. */
#define MM_HIGHEST_USER_ADDRESS 0x00007FFFFFFEFFFFULL
#define MM_SYSTEM_SPACE_START 0xFFFF800000000000ULL
#define MM_SYSTEM_PTE_START 0xFFFFF88000000000ULL
#define MM_SYSTEM_PTE_SIZE 0x0000000040000000ULL
/* Kernel stacks (mm/syspte.c): after the system PTE range, in PDPT entries of their own. */
#define MM_KERNEL_STACK_START (MM_SYSTEM_PTE_START + MM_SYSTEM_PTE_SIZE)
#define MM_KERNEL_STACK_SIZE 0x0000000001000000ULL
#define MM_PAGED_POOL_START 0xFFFFF8A000000000ULL
#define MM_PAGED_POOL_SIZE 0x0000000040000000ULL
#define MM_NONPAGED_POOL_START 0xFFFFFA8000000000ULL
#define MM_NONPAGED_POOL_SIZE 0x0000000040000000ULL

/* Protection for MmMapPage. Without MM_PROTECT_WRITE the page is read-only, without
 * MM_PROTECT_EXECUTE it is no-execute, without MM_PROTECT_USER only the kernel may use it. */
#define MM_PROTECT_WRITE 0x1
#define MM_PROTECT_USER 0x2
#define MM_PROTECT_EXECUTE 0x4
/* Flags for MmMapPage. */
#define MM_MAP_LARGE 0x1 /* one 2 MiB page: Va and Pfn aligned to 2 MiB */

/* ---- Lab 02 (student code: labs/02-paging/) ---- */
NTSTATUS MiWalkPageTables(PMMPTE Pml4, ULONG_PTR Va, ULONG Level, BOOLEAN Create, PMMPTE *Pte);
NTSTATUS MmMapPage(PMMPTE Pml4, ULONG_PTR Va, PFN_NUMBER Pfn, ULONG Protect, ULONG Flags);
NTSTATUS MmUnmapPage(PMMPTE Pml4, ULONG_PTR Va, PPFN_NUMBER Pfn);
NTSTATUS MmTranslateAddress(PMMPTE Pml4, ULONG_PTR Va, PULONG64 Physical);

/* ---- Framework ---- */
/* The top table of the active address space (CR3), through the physical map. */
PMMPTE MiCurrentPml4(VOID);
/* TRUE for an address whose bits 63:48 copy bit 47. */
static inline BOOLEAN MiIsCanonical(ULONG_PTR Va)
{
    return (Va >> 47) == 0 || (Va >> 47) == 0x1FFFF;
}
/* The kernel's own address space, built with lab 02 in MmInitSystem (NULL while on the
 * boot page tables). */
extern PMMPTE MmKernelPml4;
extern NTSTATUS MmKernelAddressSpaceStatus;
extern CHAR MmKernelAddressSpaceProblem[160]; /* why the new tables were refused */

/* ---- Kernel stacks (framework, mm/syspte.c) ----
 * Pages mapped stack pages below StackBase, StackLimit the lowest, GuardPage the
 * unmapped page below it. Needs labs 01 and 02 (STATUS_INSUFFICIENT_RESOURCES without). */
NTSTATUS MmCreateKernelStack(ULONG Pages, PULONG_PTR StackBase, PULONG_PTR StackLimit, PULONG_PTR GuardPage);
VOID MmDeleteKernelStack(ULONG_PTR StackBase, ULONG Pages);

/* ---- Pool pages (framework, for lab 03) ----
 * Whole pages in the nonpaged or paged pool region, backed by frames and mapped in
 * the kernel's address space (so they need labs 01 and 02). NULL when there is no
 * room, no frame, or no kernel address space yet. Paged-pool pages are pageable: lab
 * 08 may page them out; until then they stay resident. */
PVOID MiAllocatePoolPages(ULONG PoolType, SIZE_T Pages);
VOID MiFreePoolPages(PVOID Va, SIZE_T Pages);
/* TRUE if Va is a page MiAllocatePoolPages handed out and has not taken back. */
BOOLEAN MiIsPoolPageInUse(ULONG PoolType, ULONG_PTR Va);
/* 1 + the index of the highest pool page ever handed out (pages past it are unused). */
ULONG MiPoolPageLimit(ULONG PoolType);
#define MM_POOL_REGION_PAGES 16384 /* 64 MiB of address space per pool */
/* PTE software bit: the page may be paged out (paged pool; the pager arrives in lab 08). */
#define MM_PTE_SOFTWARE_PAGEABLE 0x1

/* ---- Lab 08: process address spaces and virtual memory ----
 * Framework: kernel/mm/procspace.c (create, delete, switch), kernel/mm/vmsvc.c (the
 * Mm*VirtualMemory routines for kernel callers and the Nt* system services over them).
 * Student code: labs/08-usermode/vad.c and virtual.c (their prototypes, MMVAD and the
 * PTE formats are in kernel/mm/mi.h). */
struct _EPROCESS;
typedef PVOID HANDLE; /* as ob.h (C11 allows the same typedef twice) */
typedef struct _MMADDRESS_SPACE MMADDRESS_SPACE, *PMMADDRESS_SPACE; /* kernel/mm/mi.h */

/* NT's documented constants (winnt.h). */
#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100
#define PAGE_NOCACHE 0x200
#define PAGE_WRITECOMBINE 0x400
#define MEM_COMMIT 0x1000
#define MEM_RESERVE 0x2000
#define MEM_DECOMMIT 0x4000
#define MEM_RELEASE 0x8000
#define MEM_FREE 0x10000
#define MEM_PRIVATE 0x20000
#define MEM_MAPPED 0x40000
#define MEM_RESET 0x80000
#define MEM_TOP_DOWN 0x100000
#define MEM_IMAGE 0x1000000

/* User space as processes see it: nothing below 64 KiB, nothing in the last 64 KiB
 * below MM_HIGHEST_USER_ADDRESS + 1 (NT x64's layout). */
#define MM_LOWEST_USER_ADDRESS 0x10000ULL
#define MM_HIGHEST_VAD_ADDRESS (MM_HIGHEST_USER_ADDRESS - 0x10000ULL) /* 0x7FFFFFFDFFFF */
#define MM_ALLOCATION_GRANULARITY 0x10000ULL /* reservations start on 64 KiB */

typedef enum _MEMORY_INFORMATION_CLASS {
    MemoryBasicInformation = 0
} MEMORY_INFORMATION_CLASS;

typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID BaseAddress;       /* the page the query asked about (rounded down) */
    PVOID AllocationBase;    /* the reservation's base (NULL when free) */
    ULONG AllocationProtect; /* PAGE_* given when it was reserved (0 when free) */
    SIZE_T RegionSize;       /* bytes from BaseAddress with the same State, Protect, Type */
    ULONG State;             /* MEM_COMMIT, MEM_RESERVE or MEM_FREE */
    ULONG Protect;           /* PAGE_* of committed pages; 0 when reserved; PAGE_NOACCESS when free */
    ULONG Type;              /* MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE; 0 when free */
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

/* The process counters of lab 08 (NT's VM_COUNTERS, as NtQueryInformationProcess
 * ProcessVmCounters reports them; bytes). */
typedef struct _VM_COUNTERS {
    SIZE_T PeakVirtualSize;
    SIZE_T VirtualSize;          /* virtual bytes: every reserved byte */
    ULONG PageFaultCount;
    SIZE_T PeakWorkingSetSize;
    SIZE_T WorkingSetSize;       /* resident user pages, in bytes */
    SIZE_T QuotaPeakPagedPoolUsage;
    SIZE_T QuotaPagedPoolUsage;
    SIZE_T QuotaPeakNonPagedPoolUsage;
    SIZE_T QuotaNonPagedPoolUsage;
    SIZE_T PagefileUsage;        /* private bytes: committed private memory */
    SIZE_T PeakPagefileUsage;
} VM_COUNTERS, *PVM_COUNTERS;

/* NtQueryInformationProcess(ProcessVmCounters): the counters of a process (-1: the current
 * one) as a VM_COUNTERS (Length exactly its size, else STATUS_INFO_LENGTH_MISMATCH); the
 * caller (kernel/ps/pssvc.c) has probed Information and ReturnLength for user mode. */
#define ProcessVmCounters 3
NTSTATUS MmQueryVmCountersService(HANDLE ProcessHandle, PVOID Information, ULONG Length, PULONG ReturnLength);

/* Status codes of lab 08's memory services (vm). */
#ifndef STATUS_GUARD_PAGE_VIOLATION
#define STATUS_GUARD_PAGE_VIOLATION ((NTSTATUS)0x80000001L)
#endif
#ifndef STATUS_INVALID_INFO_CLASS
#define STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003L)
#endif
#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_UNABLE_TO_FREE_VM
#define STATUS_UNABLE_TO_FREE_VM ((NTSTATUS)0xC000001AL)
#endif
#ifndef STATUS_UNABLE_TO_DELETE_SECTION
#define STATUS_UNABLE_TO_DELETE_SECTION ((NTSTATUS)0xC000001BL)
#endif
#ifndef STATUS_NOT_COMMITTED
#define STATUS_NOT_COMMITTED ((NTSTATUS)0xC000002DL)
#endif
#ifndef STATUS_INVALID_PAGE_PROTECTION
#define STATUS_INVALID_PAGE_PROTECTION ((NTSTATUS)0xC0000045L)
#endif
#ifndef STATUS_FREE_VM_NOT_AT_BASE
#define STATUS_FREE_VM_NOT_AT_BASE ((NTSTATUS)0xC000009FL)
#endif
#ifndef STATUS_MEMORY_NOT_ALLOCATED
#define STATUS_MEMORY_NOT_ALLOCATED ((NTSTATUS)0xC00000A0L)
#endif
#ifndef STATUS_INVALID_PARAMETER_1
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EFL)
#define STATUS_INVALID_PARAMETER_2 ((NTSTATUS)0xC00000F0L)
#define STATUS_INVALID_PARAMETER_3 ((NTSTATUS)0xC00000F1L)
#define STATUS_INVALID_PARAMETER_4 ((NTSTATUS)0xC00000F2L)
#define STATUS_INVALID_PARAMETER_5 ((NTSTATUS)0xC00000F3L)
#define STATUS_INVALID_PARAMETER_6 ((NTSTATUS)0xC00000F4L)
#endif
#ifndef STATUS_COMMITMENT_LIMIT
#define STATUS_COMMITMENT_LIMIT ((NTSTATUS)0xC000012DL)
#endif

/* Process address spaces (framework, kernel/mm/procspace.c; PASSIVE_LEVEL).
 * MmCreateProcessAddressSpace gives Process a PML4 of its own (the kernel half shared
 * with every process, the user half empty), an empty VAD tree and zero counters, and sets
 * Process->AddressSpace and Process->DirectoryTableBase. STATUS_INSUFFICIENT_RESOURCES
 * without labs 01-03 or memory. MmDeleteProcessAddressSpace releases every VAD, every
 * user page (frames and pagefile slots), every user page table and the PML4 (the
 * process must not be running nor attached). */
NTSTATUS MmCreateProcessAddressSpace(struct _EPROCESS *Process);
VOID MmDeleteProcessAddressSpace(struct _EPROCESS *Process);
/* Loads CR3 with Process's tables (the kernel's for NULL, the system process or a process
 * without an address space). The context switch and KeStackAttachProcess call it. */
VOID MmSwitchAddressSpace(struct _EPROCESS *Process);
/* The counters of Process (zeros without an address space). */
VOID MmQueryVmCounters(struct _EPROCESS *Process, PVM_COUNTERS Counters);

/* Virtual memory for kernel-mode callers (the PE loader, process creation, tests):
 * NT's semantics of the Nt* services below, with kernel pointers, on Process (attached
 * and its address space locked for the call). PASSIVE_LEVEL. */
NTSTATUS MmAllocateVirtualMemory(struct _EPROCESS *Process, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                 PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect);
NTSTATUS MmFreeVirtualMemory(struct _EPROCESS *Process, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType);
NTSTATUS MmProtectVirtualMemory(struct _EPROCESS *Process, PVOID *BaseAddress, PSIZE_T RegionSize,
                                ULONG NewProtect, PULONG OldProtect);
NTSTATUS MmQueryVirtualMemory(struct _EPROCESS *Process, PVOID BaseAddress, PMEMORY_BASIC_INFORMATION Info);

/* The system services (user pointers probed and captured, the handle referenced with
 * PROCESS_VM_OPERATION / PROCESS_QUERY_INFORMATION; -1 is the current process). */
NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect);
NTSTATUS NtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType);
NTSTATUS NtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG NewProtect,
                                PULONG OldProtect);
NTSTATUS NtQueryVirtualMemory(HANDLE ProcessHandle, PVOID BaseAddress, MEMORY_INFORMATION_CLASS InformationClass,
                              PVOID MemoryInformation, SIZE_T MemoryInformationLength, PSIZE_T ReturnLength);
