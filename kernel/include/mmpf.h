/* mmpf.h - lab 08, faults and paging: the software PTE states the pager uses, the
 * pagefile on lab 07's RAM disk, the working set, and the routines students write in
 * labs/08-usermode/pagefile.c and workset.c (fault.c and section.c build on them).
 *
 * The PTE states and the address space (MMADDRESS_SPACE, MMSUPPORT) are vm's, in
 * kernel/mm/mi.h; a page in the pagefile is a Soft PTE with PageFileHigh = slot + 1. */
#pragma once

#include "io.h"
#include "mm.h"

#include "mivm.h"

/* Status codes of lab 08's pager (pf part). */
#ifndef STATUS_IN_PAGE_ERROR
#define STATUS_IN_PAGE_ERROR ((NTSTATUS)0xC0000006L)
#endif
#ifndef STATUS_PAGEFILE_QUOTA
#define STATUS_PAGEFILE_QUOTA ((NTSTATUS)0xC0000007L)
#endif
#ifndef STATUS_NOT_MAPPED_VIEW
#define STATUS_NOT_MAPPED_VIEW ((NTSTATUS)0xC0000019L)
#endif
#ifndef STATUS_INVALID_VIEW_SIZE
#define STATUS_INVALID_VIEW_SIZE ((NTSTATUS)0xC000001FL)
#endif
#ifndef STATUS_SECTION_PROTECTION
#define STATUS_SECTION_PROTECTION ((NTSTATUS)0xC000004EL)
#endif
#ifndef STATUS_INVALID_PARAMETER_9
#define STATUS_INVALID_PARAMETER_9 ((NTSTATUS)0xC00000F7L)
#endif
#ifndef STATUS_MAPPED_ALIGNMENT
#define STATUS_MAPPED_ALIGNMENT ((NTSTATUS)0xC0000220L)
#endif

/* A software PTE: a page in the pagefile at Slot (Slot + 1 stored), with Protection. */
static inline ULONG64 MiMakePagefilePte(ULONG Slot, ULONG Protection)
{
    MMPTE pte = {0};
    pte.Soft.Protection = Protection;
    pte.Soft.PageFileHigh = Slot + 1;
    return pte.Long;
}

/* ---- The pagefile (one, on a RAM disk: framework kernel/mm/pagingfile.c) ---- */
typedef struct _MMPAGING_FILE {
    PDEVICE_OBJECT Device;  /* the RAM disk holding it (DO_DIRECT_IO, 512-byte sectors) */
    ULONG Size;             /* slots (pages) */
    ULONG FreeSpace;        /* slots not in use */
    ULONG Hint;             /* where the next slot search starts */
    ULONG64 *Bitmap;        /* bit s set = slot s holds a page; Size bits, nonpaged */
    ULONG Reads, Writes;    /* page reads and writes that reached the disk and succeeded */
} MMPAGING_FILE, *PMMPAGING_FILE;

/* ---- The working set list (one per address space: MMSUPPORT.WorkingSetList) ----
 * Wsle[0 .. Capacity-1]: each entry 0 (free) or a resident page's address | MI_WSLE_VALID.
 * MMSUPPORT.WorkingSetSize = valid entries; MaximumWorkingSetSize <= Capacity. NextSlot is
 * the clock hand of the replacement (second chance on the PTE's Accessed bit). */
#define MI_WSLE_VALID 0x1ULL
typedef struct _MMWSLE {
    ULONG_PTR Long;
} MMWSLE, *PMMWSLE;

typedef struct _MMWSL {
    PMMWSLE Wsle;
    ULONG Capacity;
    ULONG NextSlot;       /* the clock hand: the next entry replacement looks at */
    ULONG PagesTrimmed;   /* pages that left the set for the pagefile (replaced or trimmed) */
    ULONG Allocated;      /* framework: 1 when MmAccessFault allocated the list (freed with the space) */
} MMWSL, *PMMWSL;

/* Below this many available frames, a fault trims its working set (by MM_TRIM_PAGES)
 * before it takes a frame. */
#define MM_MINIMUM_AVAILABLE_PAGES 64
#define MM_TRIM_PAGES 16

/* The page-fault error code (x86 #PF), MmAccessFault's FaultStatus. */
#define MI_FAULT_PRESENT 0x1   /* a protection violation on a valid page (else: not present) */
#define MI_FAULT_WRITE 0x2
#define MI_FAULT_USER 0x4
#define MI_FAULT_EXECUTE 0x10

/* ---- Framework (kernel/mm/pagingfile.c) ---- */
extern PMMPAGING_FILE MmPagingFile;    /* NULL until MiCreatePagingFile */
/* Creates the RAM disk "\Device\PagingFile0" of Pages pages and MmPagingFile over it
 * (needs lab 07); a second call with the same size is a no-op, another size is refused.
 * IRQL == PASSIVE_LEVEL. */
NTSTATUS MiCreatePagingFile(ULONG Pages);
/* Frames under the PFN lock (lab 01 stays lock-free): MM_ALLOCATE_ZEROED or 0. */
NTSTATUS MiAllocateFrame(ULONG Flags, PPFN_NUMBER Pfn);
VOID MiFreeFrame(PFN_NUMBER Pfn);
/* The page-fault entry (kernel/mm/pfault.c, called by the trap handler for a user address
 * below DISPATCH_LEVEL): the current process's address space, its AddressCreationLock, a
 * working set list made on the first fault, then MiDispatchFault. STATUS_ACCESS_VIOLATION
 * for a system address, no address space, or a fault while the lock is held. */
NTSTATUS MmAccessFault(ULONG FaultStatus, PVOID VirtualAddress, KPROCESSOR_MODE PreviousMode, PVOID TrapInformation);
/* vm's MmDeleteProcessAddressSpace: frees a working set list MmAccessFault allocated. */
VOID MiDeleteWorkingSetList(PMMADDRESS_SPACE Space);
/* The working set list of Space (NULL if it has none). */
static inline PMMWSL MiWorkingSetList(PMMADDRESS_SPACE Space) { return (PMMWSL)Space->Vm.WorkingSetList; }

/* ---- Sections (pagefile-backed shared memory) ----
 * One prototype PTE a page of the section (nonpaged pool): demand zero (Soft, the section's
 * Protection) until a view's fault gives it a zeroed frame, then valid (the frame, which
 * the section owns: its MMPFN PteAddress is the prototype PTE's address) until the section
 * is deleted; section pages are never paged out. A view is a VAD of type VadMappedView
 * (ControlArea = the section, FirstPrototypePte = the prototype of its first page,
 * ViewOffset, Protection the view's MM code, MemCommit 1). A process PTE of a view is zero
 * or a Proto PTE (resolved through the prototype), valid on the section's frame (shared),
 * or - after a write to a copy-on-write view - valid on a private copy. */
#define MI_SECTION_TAG POOL_TAG('M', 'm', 'S', 't')
typedef struct _MM_SECTION {
    ULONG Tag;                 /* MI_SECTION_TAG while it exists */
    ULONG Protection;          /* MM code the section was created with */
    ULONG64 SizeOfSection;     /* bytes, as asked */
    ULONG NumberOfPtes;        /* pages */
    ULONG References;          /* MmCreateSection's reference + ... (MmCloseSection drops) */
    ULONG MappedViews;         /* views not yet unmapped */
    PMMPTE PrototypePtes;      /* NumberOfPtes prototype PTEs */
} MM_SECTION, *PMM_SECTION;

/* ---- Lab 08, pf part (student code: labs/08-usermode/pagefile.c) ---- */
NTSTATUS MiAllocatePagefileSlot(PMMPAGING_FILE File, PULONG Slot);
NTSTATUS MiFreePagefileSlot(PMMPAGING_FILE File, ULONG Slot);
NTSTATUS MiPagefileIo(PMMPAGING_FILE File, PFN_NUMBER Pfn, ULONG Slot, BOOLEAN Write);
NTSTATUS MiPageOut(PMMADDRESS_SPACE Space, ULONG_PTR Va);
NTSTATUS MiPageIn(PMMADDRESS_SPACE Space, ULONG_PTR Va);

/* ---- Lab 08, pf part (student code: labs/08-usermode/workset.c) ---- */
NTSTATUS MiInitializeWorkingSet(PMMADDRESS_SPACE Space, PMMWSL Wsl, PMMWSLE Wsle, ULONG Capacity, ULONG Minimum,
                                ULONG Maximum);
NTSTATUS MiInsertWorkingSetPage(PMMADDRESS_SPACE Space, ULONG_PTR Va);
NTSTATUS MiRemoveWorkingSetPage(PMMADDRESS_SPACE Space, ULONG_PTR Va);
ULONG MiTrimWorkingSet(PMMADDRESS_SPACE Space, ULONG Pages);

/* Sections for kernel callers and the system services (framework, kernel/mm/sectnt.c):
 * Process attached and its lock held around the student's routines; PASSIVE_LEVEL. */
extern struct _OBJECT_TYPE *MmSectionObjectType;
typedef struct _MI_SECTION_OBJECT {   /* the body of a section object */
    PMM_SECTION Section;
} MI_SECTION_OBJECT, *PMI_SECTION_OBJECT;
NTSTATUS MmMapViewOfSection(PMM_SECTION Section, struct _EPROCESS *Process, PVOID *BaseAddress, ULONG64 SectionOffset,
                            PSIZE_T ViewSize, ULONG Win32Protect);
NTSTATUS MmUnmapViewOfSection(struct _EPROCESS *Process, PVOID BaseAddress);
NTSTATUS NtCreateSection(PHANDLE SectionHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                         PLARGE_INTEGER MaximumSize, ULONG SectionPageProtection, ULONG AllocationAttributes,
                         HANDLE FileHandle);
NTSTATUS NtMapViewOfSection(HANDLE SectionHandle, HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                            SIZE_T CommitSize, PLARGE_INTEGER SectionOffset, PSIZE_T ViewSize, ULONG InheritDisposition,
                            ULONG AllocationType, ULONG Win32Protect);
NTSTATUS NtUnmapViewOfSection(HANDLE ProcessHandle, PVOID BaseAddress);
/* vm's MmDeleteProcessAddressSpace: unmaps every view first (the section keeps its frames). */
VOID MiUnmapAllViews(PMMADDRESS_SPACE Space);

/* ---- Lab 08, pf part (student code: labs/08-usermode/section.c) ---- */
NTSTATUS MmCreateSection(PMM_SECTION *Section, ULONG64 MaximumSize, ULONG Win32Protect);
VOID MmCloseSection(PMM_SECTION Section);
NTSTATUS MiMapViewOfSection(PMMADDRESS_SPACE Space, PMM_SECTION Section, PVOID *BaseAddress, ULONG64 SectionOffset,
                            PSIZE_T ViewSize, ULONG Win32Protect);
NTSTATUS MiUnmapViewOfSection(PMMADDRESS_SPACE Space, PVOID BaseAddress);
NTSTATUS MiResolveMappedFault(PMMADDRESS_SPACE Space, PMMVAD Vad, ULONG_PTR Va, ULONG Protection, BOOLEAN Write);
NTSTATUS MiCopyOnWrite(PMMADDRESS_SPACE Space, ULONG_PTR Va);

/* ---- Lab 08, pf part (student code: labs/08-usermode/fault.c) ---- */
NTSTATUS MiDispatchFault(PMMADDRESS_SPACE Space, ULONG FaultStatus, ULONG_PTR VirtualAddress,
                         KPROCESSOR_MODE PreviousMode);
