/* ldr.h - the user-image loader (framework, img/lab 08; kernel/ps/ldr.c): maps a program
 * from the boot file system into a process's address space - its PE headers and sections
 * with their protections, base relocations when it cannot sit at its preferred base - and
 * the DLLs it imports (ntdll.dll), binding its import address table to their exports. */
#pragma once

#include "mm.h"
#include "ntimage.h"

#define LDR_MAX_IMAGES 4          /* the program and the DLLs it pulls in */
#define LDR_MAX_IMAGE_SIZE (16ULL << 20)
#define LDR_LOWEST_BASE 0x10000ULL

typedef struct _LDR_IMAGE {
    CHAR Name[32];                /* "seedcalc.exe" */
    ULONG_PTR Base;               /* where it is mapped */
    ULONG_PTR PreferredBase;      /* OptionalHeader.ImageBase */
    ULONG SizeOfImage;
    ULONG SizeOfHeaders;
    ULONG_PTR EntryPoint;         /* VA; 0 when the image has none (a DLL) */
    USHORT Machine;               /* IMAGE_FILE_MACHINE_AMD64 or _I386 */
    USHORT Characteristics;
    USHORT Subsystem;
    USHORT SectionCount;
    ULONG64 StackReserve, StackCommit;
    ULONG Relocations;            /* fix-ups applied (0 at the preferred base) */
    ULONG ImportsBound;           /* IAT entries written */
    PPFN_NUMBER Frames;           /* one frame a page (nonpaged pool), until unloaded */
    PVOID Vad;                    /* its image VAD (MMVAD, VadImageMap) in an address space */
    ULONG Pages;
} LDR_IMAGE, *PLDR_IMAGE;

typedef struct _LDR_PROCESS_IMAGES {
    ULONG Count;
    LDR_IMAGE Images[LDR_MAX_IMAGES]; /* [0] the program, then the DLLs in load order */
} LDR_PROCESS_IMAGES, *PLDR_PROCESS_IMAGES;

/* Where and how an image page is mapped: the PTE protection the loader chose for each page
 * (MM_PROTECT_* | MM_PROTECT_USER), from the section headers (headers read-only; a page of
 * a writable section writable, of an executable section executable). */
ULONG LdrPageProtection(const LDR_IMAGE *Image, ULONG PageIndex);

/*
 * LdrLoadProcessImages - map \SystemRoot\System32\<Name> (or a full \SystemRoot\ path) and
 * the DLLs it imports into the user half of the address space whose top table is Pml4.
 * IRQL PASSIVE_LEVEL; needs labs 01 and 02 (frames, MmMapPage). Every page gets a frame of
 * its own, filled from the file (the boot file system's bytes are never mapped, so a process
 * cannot change what the next one loads). On success Images describes each image, all mapped.
 * On failure nothing is mapped and every frame taken is given back; the status says why:
 * STATUS_OBJECT_NAME_NOT_FOUND / STATUS_DLL_NOT_FOUND (no such file), STATUS_INVALID_IMAGE_NOT_MZ,
 * STATUS_INVALID_IMAGE_FORMAT (a header, section, relocation, import or export out of
 * bounds), STATUS_INVALID_IMAGE_WIN_64 / _WIN_32 (a 64-bit / 32-bit image where Machine
 * says otherwise),
 * STATUS_ENTRYPOINT_NOT_FOUND (an import no DLL exports), STATUS_CONFLICTING_ADDRESSES (the
 * range is taken and the image has no relocations), STATUS_INSUFFICIENT_RESOURCES.
 */
NTSTATUS LdrLoadProcessImages(PMMPTE Pml4, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images);

/* The same into Process: through vm's address space when it has one (each image an image VAD,
 * VadImageMap, inserted with MiInsertVad - lab 08; its pages valid PTEs made with
 * MiMakeValidUserPte and MiReplaceUserPte; its bytes counted in the virtual bytes), under the
 * space's AddressCreationLock; else on its bare tables (DirectoryTableBase), as above. Once
 * it succeeds, the frames belong to the address space (freed when it is deleted): call
 * LdrFreeImageInfo, never LdrUnloadProcessImages. */
struct _EPROCESS;
NTSTATUS LdrMapProcessImages(struct _EPROCESS *Process, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images);

/* Unmaps every page LdrLoadProcessImages mapped and frees their frames (for an address space
 * that is not deleted as a whole; the tests use it). */
VOID LdrUnloadProcessImages(PMMPTE Pml4, PLDR_PROCESS_IMAGES Images);

/* Frees the bookkeeping of Images (the frame lists) but not the frames: once an address space
 * holds the images, deleting it frees them (PsWaitForProcess, MmDeleteProcessAddressSpace). */
VOID LdrFreeImageInfo(PLDR_PROCESS_IMAGES Images);

/* The header checks LdrLoadProcessImages makes before it maps anything: STATUS_SUCCESS,
 * STATUS_INVALID_IMAGE_NOT_MZ or STATUS_INVALID_IMAGE_FORMAT. */
NTSTATUS LdrCheckImage(const UCHAR *Data, SIZE_T Size);

/* An export of a loaded image by name (0 if none): what the import binding used. */
ULONG_PTR LdrFindExport(const LDR_IMAGE *Image, PCSTR Name);
