/* multiboot2.h - the boot information structures GRUB hands the kernel (multiboot2 spec). */
#pragma once

#include "ntdef.h"

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36D76289

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6

typedef struct {
    uint32_t TotalSize;
    uint32_t Reserved;
} MB2_INFO_HEADER;

typedef struct {
    uint32_t Type;
    uint32_t Size;
} MB2_TAG;

typedef struct {
    uint32_t Type, Size;
    char String[];
} MB2_TAG_STRING;

typedef struct {
    uint32_t Type, Size;
    uint32_t ModStart, ModEnd;
    char String[];
} MB2_TAG_MODULE_INFO;

typedef struct {
    uint64_t BaseAddr;
    uint64_t Length;
    uint32_t Type; /* 1 available, 3 ACPI reclaimable, 4 NVS, 5 bad */
    uint32_t Reserved;
} MB2_MMAP_ENTRY;

typedef struct {
    uint32_t Type, Size;
    uint32_t EntrySize, EntryVersion;
    MB2_MMAP_ENTRY Entries[];
} MB2_TAG_MMAP_INFO;
