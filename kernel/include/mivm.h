/* mivm.h - lab 08's memory-manager definitions that the lab's student files use (moved out of
 * kernel/mm/mi.h, which includes this file, because a student file may include only
 * kernel/include and its lab's folder): process address spaces, VADs, the PTE formats of
 * user memory, the working set's MMSUPPORT, and the routines around them. */
#pragma once

#include "mm.h"

/* ======================================================================================
 * Lab 08: process address spaces, VADs and the PTE formats of user memory (owner: vm;
 * pf's fault handler, pagefile, working set and sections build on these definitions:
 * change them here, with a comment, not in a copy).
 * ====================================================================================== */
#include "exsync.h"

/* ---- MM protection codes: what a software PTE and a VAD hold (NT's MM_* values) ----
 * The low three bits are the access, 0x8 no-cache, 0x10 guard. MM_DECOMMIT (0x10, a
 * guard page with no access, a protection PAGE_* cannot ask for) marks a decommitted page;
 * MM_NOACCESS (0x18) is a committed PAGE_NOACCESS page. MiMakeProtectionMask converts. */
#define MM_ZERO_ACCESS 0
#define MM_READONLY 1
#define MM_EXECUTE 2
#define MM_EXECUTE_READ 3
#define MM_READWRITE 4
#define MM_WRITECOPY 5
#define MM_EXECUTE_READWRITE 6
#define MM_EXECUTE_WRITECOPY 7
#define MM_NOCACHE 0x8
#define MM_GUARD_PAGE 0x10
#define MM_DECOMMIT 0x10
#define MM_NOACCESS 0x18
#define MM_PROTECTION_ACCESS_MASK 0x7
#define MM_INVALID_PROTECTION 0xFFFFFFFFu
/* The access part of a code allows writing (READWRITE, WRITECOPY, EXECUTE_READWRITE,
 * EXECUTE_WRITECOPY) / executing (EXECUTE*) / copy-on-write (the two WRITECOPYs). */
#define MI_IS_WRITABLE(p) (((p) & MM_PROTECTION_ACCESS_MASK) >= MM_READWRITE)
#define MI_IS_EXECUTABLE(p) ((((p) & MM_PROTECTION_ACCESS_MASK) & 0x2) != 0)
#define MI_IS_COPY_ON_WRITE(p) ((((p) & MM_PROTECTION_ACCESS_MASK) & 0x5) == 0x5)
/* PAGE_* (with PAGE_GUARD / PAGE_NOCACHE) to an MM code: MM_INVALID_PROTECTION for zero,
 * two access bits, PAGE_GUARD or PAGE_NOCACHE with PAGE_NOACCESS, unknown bits
 * (PAGE_WRITECOMBINE too). MiProtectionToWin32 is the inverse (MM_DECOMMIT gives 0). */
ULONG MiMakeProtectionMask(ULONG Win32Protect);
ULONG MiProtectionToWin32(ULONG Protection);

/* ---- The states of a user PTE (4 KiB pages only in user space) ----
 *  Long == 0                  "ask the VAD": committed with the VAD's protection if the
 *                             VAD has MemCommit, otherwise reserved (or free: no VAD).
 *  Valid 1 (Hard)             resident. The MM protection code is kept in bits 52-56 of
 *                             the valid PTE (ignored by the MMU; NT keeps it in the PFN's
 *                             OriginalPte): MI_VALID_PTE_PROTECTION. Write = writable and
 *                             not copy-on-write, NoExecute = not executable, Owner 1.
 *  Soft, PageFileHigh == 0    demand zero: committed, Protection; a frame of zeros on the
 *                             first touch. With Protection == MM_DECOMMIT: decommitted
 *                             (reserved) - MI_IS_DECOMMITTED_PTE.
 *  Soft, PageFileHigh != 0    in the pagefile at slot PageFileHigh - 1 (pf).
 *  Trans (Transition 1)       the frame is still in memory on the standby or modified
 *                             list (pf); a fault makes it valid again without I/O.
 *  Proto (Prototype 1)        a mapped view: the page is described by the section's
 *                             prototype PTE at ProtoAddress (pf's section.c).
 * Guard pages are never valid: a committed page whose Protection has MM_GUARD_PAGE is a
 * software PTE until the first touch clears the guard (STATUS_GUARD_PAGE_VIOLATION once). */
#define MI_VALID_PTE_PROTECTION_SHIFT 52
#define MI_VALID_PTE_PROTECTION(pte) ((ULONG)(((pte).Long >> MI_VALID_PTE_PROTECTION_SHIFT) & 0x1F))
#define MI_IS_DECOMMITTED_PTE(pte) \
    (!(pte).Hard.Valid && !(pte).Soft.Prototype && !(pte).Soft.Transition && (pte).Soft.PageFileHigh == 0 && \
     (pte).Soft.Protection == MM_DECOMMIT)
/* The software PTE of a committed, never touched page (demand zero) with Protection. */
static inline MMPTE MiMakeDemandZeroPte(ULONG Protection)
{
    MMPTE pte = {0};
    pte.Soft.Protection = Protection;
    return pte;
}
static inline MMPTE MiMakeDecommittedPte(VOID) { return MiMakeDemandZeroPte(MM_DECOMMIT); }
/* A valid user PTE for Pfn with an MM protection code (no guard bit: guard pages are never
 * valid). Write only for READWRITE / EXECUTE_READWRITE (copy-on-write pages stay
 * read-only until the fault copies them). */
MMPTE MiMakeValidUserPte(PFN_NUMBER Pfn, ULONG Protection);
/* The protection of a committed page from its PTE (any state but zero); MM_DECOMMIT for a
 * decommitted PTE. */
ULONG MiGetPteProtection(MMPTE Pte);
/* The prototype PTE a Proto-format PTE points at. */
static inline PMMPTE MiGetProtoPteAddress(MMPTE Pte) { return (PMMPTE)(LONG64)Pte.Proto.ProtoAddress; }

/* ---- VADs: one a reservation (private memory) or a mapped view ----
 * The tree is an AVL tree ordered by StartingVpn; VADs never overlap. */
typedef enum _MI_VAD_TYPE {
    VadNone = 0,        /* private memory (NtAllocateVirtualMemory) */
    VadImageMap = 2,    /* an image view (MEM_IMAGE) */
    VadMappedView = 8   /* a view of a data section (MEM_MAPPED; pf's section.c) - ours */
} MI_VAD_TYPE;

typedef struct _MMVAD_FLAGS {
    ULONG Protection : 5;    /* MM code given at reservation (AllocationProtect); for a
                              * MemCommit VAD also the protection of its zero PTEs */
    ULONG PrivateMemory : 1; /* 1: NtAllocateVirtualMemory's memory (MEM_PRIVATE) */
    ULONG MemCommit : 1;     /* 1: reserved and committed in one call: a zero PTE is committed */
    ULONG VadType : 4;       /* MI_VAD_TYPE */
    ULONG NoChange : 1;      /* 1: protection may not change (not used yet) */
    ULONG Spare : 20;
} MMVAD_FLAGS;

#define MI_VAD_TAG 0x20646156u /* 'Vad ' in pool dumps and VAD audits */
typedef struct _MMVAD {
    struct _MMVAD *LeftChild;   /* VADs below StartingVpn */
    struct _MMVAD *RightChild;  /* VADs above EndingVpn */
    struct _MMVAD *Parent;      /* NULL for the root */
    LONG Balance;               /* height(RightChild) - height(LeftChild): -1, 0 or +1 */
    ULONG Tag;                  /* MI_VAD_TAG while in a tree or about to be */
    ULONG_PTR StartingVpn;      /* first page (Va >> PAGE_SHIFT) */
    ULONG_PTR EndingVpn;        /* last page, inclusive */
    union {
        ULONG LongFlags;
        MMVAD_FLAGS VadFlags;
    } u;
    SIZE_T CommitCharge;        /* pages of this VAD counted in the private bytes */
    /* Mapped views (pf): the section's control area and prototype PTEs. */
    PVOID ControlArea;
    PMMPTE FirstPrototypePte;
    PMMPTE LastContiguousPte;
    ULONG64 ViewOffset;         /* offset of the view in the section, bytes */
} MMVAD, *PMMVAD;

#define MI_VPN_TO_VA(vpn) ((ULONG_PTR)(vpn) << PAGE_SHIFT)
#define MI_VA_TO_VPN(va) ((ULONG_PTR)(va) >> PAGE_SHIFT)
#define MI_VAD_PAGES(v) ((v)->EndingVpn - (v)->StartingVpn + 1)

typedef struct _MM_AVL_TABLE {
    PMMVAD Root;                /* NULL when empty */
    ULONG NumberGenericTableElements; /* VADs in the tree */
    ULONG DepthOfTree;          /* not kept up to date (the auditor measures it) */
} MM_AVL_TABLE, *PMM_AVL_TABLE;

/* ---- The working set (pf: workset.c owns the meaning of these fields) ---- */
typedef struct _MMSUPPORT {
    SIZE_T WorkingSetSize;      /* user pages resident (valid PTEs), pages */
    SIZE_T PeakWorkingSetSize;
    SIZE_T MinimumWorkingSetSize;
    SIZE_T MaximumWorkingSetSize;
    ULONG PageFaultCount;       /* every fault on a user address of this process */
    PVOID WorkingSetList;       /* pf's list of resident pages */
} MMSUPPORT, *PMMSUPPORT;

/* ---- A process's address space (EPROCESS.AddressSpace) ---- */
#define MI_ADDRESS_SPACE_TAG 0x53416D4Du /* 'MmAS' */
struct _MMADDRESS_SPACE {
    ULONG Tag;                       /* MI_ADDRESS_SPACE_TAG */
    struct _EPROCESS *Process;
    PFN_NUMBER Pml4Pfn;              /* DirectoryTableBase >> PAGE_SHIFT */
    PMMPTE Pml4;                     /* the PML4 through the physical map */
    KGUARDED_MUTEX AddressCreationLock; /* held around every VAD or user PTE change */
    MM_AVL_TABLE VadRoot;
    SIZE_T VirtualSize;              /* virtual bytes: the bytes of all VADs */
    SIZE_T PeakVirtualSize;
    SIZE_T CommitCharge;             /* private bytes / PAGE_SIZE: committed private pages */
    SIZE_T PeakCommitCharge;
    SIZE_T PageTablePages;           /* frames of the user half's page tables (PDPT, PD, PT) */
    MMSUPPORT Vm;                    /* working set (pf) */
    BOOLEAN Deleting;                /* MmDeleteProcessAddressSpace has begun */
};

/* The address space of the current thread's process (attached or its own); NULL for the
 * system process. */
PMMADDRESS_SPACE MiGetCurrentAddressSpace(VOID);
/* Va's PTE in Space's tables (Va a user address). Create: make missing tables (counted in
 * PageTablePages); NULL if out of frames. Without Create: NULL where a table is missing
 * (the PTE reads as zero). Under the PFN lock; caller holds AddressCreationLock. */
PMMPTE MiGetUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va, BOOLEAN Create);
/* Reads Va's PTE (zero where no table exists). */
MMPTE MiReadUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va);
/* Replaces the PTE of Va with NewPte after releasing what the old one held: a valid
 * page's frame (the working set shrinks), a transition frame, a pagefile slot (pf's
 * MiReleasePageFileSpace); a prototype PTE holds nothing of ours. Flushes the TLB entry.
 * Writing a zero NewPte where no table exists creates none. STATUS_NO_MEMORY when a
 * table is needed and no frame is left. */
NTSTATUS MiReplaceUserPte(PMMADDRESS_SPACE Space, ULONG_PTR Va, MMPTE NewPte);
/* Changes the protection of a committed page in place and flushes the TLB; returns the
 * old MM code. A zero PTE becomes demand zero with Protection; a software, transition or
 * prototype PTE gets Protection in its field; a valid page keeps its frame: with a plain
 * protection its hardware bits and kept code change; with MM_GUARD_PAGE it becomes a
 * Trans-format PTE with Protection whose frame stays ActiveAndValid (not on a list) and
 * leaves the working set - pf's fault handler clears the guard and makes it valid again. */
ULONG MiSetUserPteProtection(PMMADDRESS_SPACE Space, ULONG_PTR Va, ULONG Protection);
/* Flushes Va from the TLB if Space is the active address space. */
VOID MiFlushUserTb(PMMADDRESS_SPACE Space, ULONG_PTR Va);

/* pf's hooks (kernel/mm/ or labs/08-usermode/pagefile.c): release a pagefile slot;
 * the working set gained/lost a page. Defaults (weak) do the counting only. */
VOID MiReleasePageFileSpace(MMPTE PteContents);
VOID MiWorkingSetRemovePage(PMMADDRESS_SPACE Space, ULONG_PTR Va, PFN_NUMBER Pfn);
/* pf (kernel/mm/pfault.c): frees the working set list the first fault made. */
VOID MiDeleteWorkingSetList(PMMADDRESS_SPACE Space);
/* pf (kernel/mm/sectnt.c): unmaps the views still mapped in Space. */
VOID MiUnmapAllViews(PMMADDRESS_SPACE Space);

/* ---- Lab 08 student code: the VAD tree (labs/08-usermode/vad.c) ----
 * The caller holds the address space's AddressCreationLock (APC_LEVEL or below). */
NTSTATUS MiInsertVad(PMM_AVL_TABLE Table, PMMVAD Vad);
VOID MiRemoveVad(PMM_AVL_TABLE Table, PMMVAD Vad);
PMMVAD MiLocateAddress(PMM_AVL_TABLE Table, ULONG_PTR Vpn);
PMMVAD MiCheckForConflictingVad(PMM_AVL_TABLE Table, ULONG_PTR StartingVpn, ULONG_PTR EndingVpn);
PMMVAD MiGetNextVad(PMMVAD Vad);
PMMVAD MiGetFirstVad(PMM_AVL_TABLE Table);
NTSTATUS MiFindEmptyAddressRange(PMM_AVL_TABLE Table, SIZE_T SizeOfRange, ULONG_PTR Alignment,
                                 ULONG_PTR LowestAddress, ULONG_PTR HighestAddress, BOOLEAN TopDown,
                                 PULONG_PTR Base);

/* ---- Lab 08 student code: virtual memory (labs/08-usermode/virtual.c) ----
 * Called by the framework (kernel/mm/vmsvc.c) with kernel copies of the arguments, the
 * process attached, its AddressCreationLock held, at APC_LEVEL or below (PASSIVE in
 * practice). The contracts are in the student file. */
NTSTATUS MiAllocateVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                 PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect);
NTSTATUS MiFreeVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType);
NTSTATUS MiProtectVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize,
                                ULONG NewProtect, PULONG OldProtect);
NTSTATUS MiQueryVirtualMemory(PMMADDRESS_SPACE Space, ULONG_PTR Address, PMEMORY_BASIC_INFORMATION Info);
