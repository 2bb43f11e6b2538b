/* bootmem.c - turns the multiboot2 boot information into MM_BOOT_MEMORY (usable RAM
 * and the ranges already in use), records boot modules and the loader command line,
 * and removes the boot identity map. */
#include "arch.h"
#include "ke.h"
#include "mm.h"
#include "multiboot2.h"
#include "rtl.h"

MM_BOOT_MEMORY MmBootMemory;
ULONG MmBootModuleCount;
MM_BOOT_MODULE MmBootModules[MM_MAX_BOOT_MODULES];

extern UCHAR KiImageStartPhysical[], KiImageEnd[];

/* Adds [Base, End) to a sorted range array, merging overlapping or touching ranges. */
static VOID MiAddRange(PMM_PHYSICAL_RANGE Ranges, PULONG Count, ULONG64 Base, ULONG64 End)
{
    if (End <= Base)
        return;
    ULONG n = *Count, i = 0;
    while (i < n && Ranges[i].Base + Ranges[i].Length < Base)
        i++;
    if (i < n && Ranges[i].Base <= End) {
        /* merge with i and any following ranges it now reaches */
        ULONG64 newBase = Base < Ranges[i].Base ? Base : Ranges[i].Base;
        ULONG64 newEnd = End > Ranges[i].Base + Ranges[i].Length ? End : Ranges[i].Base + Ranges[i].Length;
        ULONG j = i + 1;
        while (j < n && Ranges[j].Base <= newEnd) {
            ULONG64 e = Ranges[j].Base + Ranges[j].Length;
            if (e > newEnd)
                newEnd = e;
            j++;
        }
        Ranges[i].Base = newBase;
        Ranges[i].Length = newEnd - newBase;
        memmove(&Ranges[i + 1], &Ranges[j], (n - j) * sizeof(Ranges[0]));
        *Count = n - (j - i - 1);
        return;
    }
    if (n == MM_MAX_BOOT_RANGES) {
        DbgPrint("mm: too many physical ranges, ignoring 0x%llx-0x%llx\n", Base, End);
        return;
    }
    memmove(&Ranges[i + 1], &Ranges[i], (n - i) * sizeof(Ranges[0]));
    Ranges[i].Base = Base;
    Ranges[i].Length = End - Base;
    *Count = n + 1;
}

VOID MmInitializeBootMemory(ULONG64 MultibootInfo)
{
    const MB2_INFO_HEADER *info = MmPhysicalToVirtual(MultibootInfo);
    const UCHAR *tag = (const UCHAR *)(info + 1);
    const UCHAR *end = (const UCHAR *)info + info->TotalSize;
    PMM_BOOT_MEMORY boot = &MmBootMemory;

    while (tag + sizeof(MB2_TAG) <= end) {
        const MB2_TAG *t = (const MB2_TAG *)tag;
        if (t->Type == MB2_TAG_END)
            break;
        if (t->Type == MB2_TAG_MMAP) {
            const MB2_TAG_MMAP_INFO *mm = (const MB2_TAG_MMAP_INFO *)t;
            for (const UCHAR *e = (const UCHAR *)mm->Entries; e + mm->EntrySize <= tag + t->Size; e += mm->EntrySize) {
                const MB2_MMAP_ENTRY *m = (const MB2_MMAP_ENTRY *)e;
                if (m->Type != 1)
                    continue;
                ULONG64 base = ALIGN_UP(m->BaseAddr, PAGE_SIZE), last = ALIGN_DOWN(m->BaseAddr + m->Length, PAGE_SIZE);
                if (last > MM_PHYSICAL_MAP_SIZE)
                    last = MM_PHYSICAL_MAP_SIZE; /* only what the physical map covers */
                MiAddRange(boot->Usable, &boot->UsableCount, base, last);
            }
        } else if (t->Type == MB2_TAG_CMDLINE) {
            const MB2_TAG_STRING *s = (const MB2_TAG_STRING *)t;
            RtlFormatString(KeLoaderCommandLine, sizeof(KeLoaderCommandLine), "%s", s->String);
        } else if (t->Type == MB2_TAG_MODULE) {
            const MB2_TAG_MODULE_INFO *m = (const MB2_TAG_MODULE_INFO *)t;
            MiAddRange(boot->Reserved, &boot->ReservedCount, ALIGN_DOWN(m->ModStart, PAGE_SIZE),
                       ALIGN_UP(m->ModEnd, PAGE_SIZE));
            if (MmBootModuleCount < MM_MAX_BOOT_MODULES) {
                MM_BOOT_MODULE *mod = &MmBootModules[MmBootModuleCount++];
                mod->Start = m->ModStart;
                mod->End = m->ModEnd;
                RtlFormatString(mod->Name, sizeof(mod->Name), "%s", m->String);
            }
        }
        tag += ALIGN_UP(t->Size, 8);
    }

    /* Never hand out: the first MiB (BIOS, real-mode structures), the kernel image
     * (with the boot page tables), and the boot information itself. */
    MiAddRange(boot->Reserved, &boot->ReservedCount, 0, 0x100000);
    MiAddRange(boot->Reserved, &boot->ReservedCount, ALIGN_DOWN((ULONG64)KiImageStartPhysical, PAGE_SIZE),
               ALIGN_UP((ULONG64)KiImageEnd - MM_KERNEL_VMA, PAGE_SIZE));
    MiAddRange(boot->Reserved, &boot->ReservedCount, ALIGN_DOWN(MultibootInfo, PAGE_SIZE),
               ALIGN_UP(MultibootInfo + info->TotalSize, PAGE_SIZE));

    /* The identity map was only needed to reach the higher half. */
    PULONG64 pml4 = MmPhysicalToVirtual(__readcr3() & ~0xFFFULL);
    pml4[0] = 0;
    __writecr3(__readcr3());
}
