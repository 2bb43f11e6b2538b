/* ntimage.h - the PE/COFF image format (Microsoft's documented "PE Format"): the headers,
 * sections, data directories, base relocations, imports and exports the user-image loader
 * (kernel/ps/ldr.c) reads. PE32+ (64-bit) and PE32 (32-bit, for lab 09) optional headers. */
#pragma once

#include "ntdef.h"

#define IMAGE_DOS_SIGNATURE 0x5A4D        /* "MZ" */
#define IMAGE_NT_SIGNATURE 0x00004550     /* "PE\0\0" */
#define IMAGE_FILE_MACHINE_I386 0x014C
#define IMAGE_FILE_MACHINE_AMD64 0x8664
#define IMAGE_NT_OPTIONAL_HDR32_MAGIC 0x10B
#define IMAGE_NT_OPTIONAL_HDR64_MAGIC 0x20B
#define IMAGE_FILE_RELOCS_STRIPPED 0x0001
#define IMAGE_FILE_EXECUTABLE_IMAGE 0x0002
#define IMAGE_FILE_LARGE_ADDRESS_AWARE 0x0020
#define IMAGE_FILE_DLL 0x2000
#define IMAGE_SUBSYSTEM_NATIVE 1

#define IMAGE_DIRECTORY_ENTRY_EXPORT 0
#define IMAGE_DIRECTORY_ENTRY_IMPORT 1
#define IMAGE_DIRECTORY_ENTRY_BASERELOC 5
#define IMAGE_NUMBEROF_DIRECTORY_ENTRIES 16

#define IMAGE_SCN_CNT_CODE 0x00000020
#define IMAGE_SCN_CNT_INITIALIZED_DATA 0x00000040
#define IMAGE_SCN_CNT_UNINITIALIZED_DATA 0x00000080
#define IMAGE_SCN_MEM_DISCARDABLE 0x02000000
#define IMAGE_SCN_MEM_SHARED 0x10000000
#define IMAGE_SCN_MEM_EXECUTE 0x20000000
#define IMAGE_SCN_MEM_READ 0x40000000
#define IMAGE_SCN_MEM_WRITE 0x80000000

#define IMAGE_REL_BASED_ABSOLUTE 0
#define IMAGE_REL_BASED_HIGHLOW 3
#define IMAGE_REL_BASED_DIR64 10
#define IMAGE_ORDINAL_FLAG64 0x8000000000000000ULL
#define IMAGE_ORDINAL_FLAG32 0x80000000U

typedef struct _IMAGE_DOS_HEADER {
    USHORT e_magic;
    USHORT e_unused[29];
    LONG e_lfanew;                  /* file offset of the NT headers */
} IMAGE_DOS_HEADER;

typedef struct _IMAGE_FILE_HEADER {
    USHORT Machine;
    USHORT NumberOfSections;
    ULONG TimeDateStamp;
    ULONG PointerToSymbolTable;
    ULONG NumberOfSymbols;
    USHORT SizeOfOptionalHeader;
    USHORT Characteristics;
} IMAGE_FILE_HEADER;

typedef struct _IMAGE_DATA_DIRECTORY {
    ULONG VirtualAddress;
    ULONG Size;
} IMAGE_DATA_DIRECTORY;

typedef struct _IMAGE_OPTIONAL_HEADER64 {
    USHORT Magic;
    UCHAR MajorLinkerVersion, MinorLinkerVersion;
    ULONG SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData;
    ULONG AddressOfEntryPoint;
    ULONG BaseOfCode;
    ULONG64 ImageBase;
    ULONG SectionAlignment, FileAlignment;
    USHORT MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    USHORT MajorImageVersion, MinorImageVersion;
    USHORT MajorSubsystemVersion, MinorSubsystemVersion;
    ULONG Win32VersionValue;
    ULONG SizeOfImage, SizeOfHeaders, CheckSum;
    USHORT Subsystem, DllCharacteristics;
    ULONG64 SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    ULONG LoaderFlags;
    ULONG NumberOfRvaAndSizes;
    IMAGE_DATA_DIRECTORY DataDirectory[IMAGE_NUMBEROF_DIRECTORY_ENTRIES];
} IMAGE_OPTIONAL_HEADER64;

typedef struct _IMAGE_OPTIONAL_HEADER32 {
    USHORT Magic;
    UCHAR MajorLinkerVersion, MinorLinkerVersion;
    ULONG SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData;
    ULONG AddressOfEntryPoint;
    ULONG BaseOfCode, BaseOfData;
    ULONG ImageBase;
    ULONG SectionAlignment, FileAlignment;
    USHORT MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    USHORT MajorImageVersion, MinorImageVersion;
    USHORT MajorSubsystemVersion, MinorSubsystemVersion;
    ULONG Win32VersionValue;
    ULONG SizeOfImage, SizeOfHeaders, CheckSum;
    USHORT Subsystem, DllCharacteristics;
    ULONG SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    ULONG LoaderFlags;
    ULONG NumberOfRvaAndSizes;
    IMAGE_DATA_DIRECTORY DataDirectory[IMAGE_NUMBEROF_DIRECTORY_ENTRIES];
} IMAGE_OPTIONAL_HEADER32;

#define IMAGE_SIZEOF_SHORT_NAME 8
typedef struct _IMAGE_SECTION_HEADER {
    UCHAR Name[IMAGE_SIZEOF_SHORT_NAME];
    ULONG VirtualSize;
    ULONG VirtualAddress;
    ULONG SizeOfRawData;
    ULONG PointerToRawData;
    ULONG PointerToRelocations, PointerToLinenumbers;
    USHORT NumberOfRelocations, NumberOfLinenumbers;
    ULONG Characteristics;
} IMAGE_SECTION_HEADER;

typedef struct _IMAGE_BASE_RELOCATION {
    ULONG VirtualAddress;           /* the page the entries below patch */
    ULONG SizeOfBlock;              /* this header and its USHORT entries (type << 12 | offset) */
} IMAGE_BASE_RELOCATION;

typedef struct _IMAGE_IMPORT_DESCRIPTOR {
    ULONG OriginalFirstThunk;       /* the import lookup table (names or ordinals) */
    ULONG TimeDateStamp;
    ULONG ForwarderChain;
    ULONG Name;                     /* the DLL's name */
    ULONG FirstThunk;               /* the import address table the loader fills */
} IMAGE_IMPORT_DESCRIPTOR;

typedef struct _IMAGE_EXPORT_DIRECTORY {
    ULONG Characteristics, TimeDateStamp;
    USHORT MajorVersion, MinorVersion;
    ULONG Name;
    ULONG Base;
    ULONG NumberOfFunctions, NumberOfNames;
    ULONG AddressOfFunctions, AddressOfNames, AddressOfNameOrdinals;
} IMAGE_EXPORT_DIRECTORY;
