/* mi.h - private to the memory manager (kernel/mm): the poisoning of free memory, the
 * build of the kernel's address space and the independent walk that checks it, the PFN
 * lock. Everything other components and the students' files use is in kernel/include/mm.h;
 * the framework's own tests of mm (kernel/ktest, the labs' tests) include this file by
 * its path. */
#pragma once

#include "mm.h"

/* Dirty memory (kernel/mm/poison.c): every usable frame outside the reserved ranges is
 * filled with MiPoisonWord(its PFN) before the PFN database is built; tests may call
 * MiPoisonFreePages to dirty the frames on the free list again (returns how many). */
extern ULONG64 MmPoisonSeed;
ULONG64 MiPoisonWord(PFN_NUMBER Pfn);
VOID MiPoisonUsableMemory(PCSTR CommandLine);
PFN_NUMBER MiPoisonFreePages(VOID);

/* Builds the kernel's own page tables with lab 02's code (kernel/mm/addrspace.c), checks
 * them with the independent walk below and switches to them (MmKernelPml4); on a failure
 * stays on the boot page tables, with the reason in MmKernelAddressSpaceStatus. */
VOID MiBuildKernelAddressSpace(VOID);

/* An independent walk of the tables (framework code, used to check lab 02): what
 * maps Va, at which level, and the entries met on the way (Entries[4] .. Entries[Level]). */
typedef struct _MI_TRANSLATION {
    BOOLEAN Valid;
    ULONG Level;            /* leaf level: 1 (4 KiB page), 2 (2 MiB), 3 (1 GiB) */
    ULONG64 Physical;
    MMPTE Entries[5];       /* indexed by level */
    PFN_NUMBER Tables[5];   /* frame of the table of each level (Tables[4] = the PML4) */
} MI_TRANSLATION, *PMI_TRANSLATION;
VOID MiInspectTranslation(PMMPTE Pml4, ULONG_PTR Va, PMI_TRANSLATION Out);

/* ---- The PFN lock (framework, mm/pfnlock.c) ----
 * Held around every framework call into lab 01 and lab 02 code that can run while
 * threads run (pool pages, kernel stacks): the student code stays lock-free. A spin lock
 * at DISPATCH_LEVEL (lab 01 and 02 contracts have no IRQL rule). */
VOID MiLockPfnDatabase(unsigned char *OldIrql);
VOID MiUnlockPfnDatabase(unsigned char OldIrql);

/* Lab 08: process address spaces, VADs, the user PTE formats (vm) - in kernel/include/mivm.h,
 * where lab 08's student files can include them (they may include only kernel/include). */
#include "mivm.h"
