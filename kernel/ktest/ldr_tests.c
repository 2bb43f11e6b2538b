/* ldr_tests.c - the framework's checks of the boot file system (kernel/io/bootfs.c) and the
 * user-image loader (kernel/ps/ldr.c), run by tests/test_userimage.py (not a graded
 * checkpoint: neither is student code). seedcalc.exe and ntlab's ntdll.dll are loaded into a
 * fresh address space (the kernel's upper half, an empty user half) and every page is checked
 * against the file with an independent walk: frame, protection, bytes; the import address
 * table against ntdll's exports; a second load with the preferred range taken must relocate.
 * The boot files' names, sizes and SHA-256 are reported for the host test to compare with
 * the files the build made. */
#include "io.h"
#include "ktest.h"
#include "ldr.h"
#include "sha256.h"
#include "../mm/mi.h"

#define PROGRAM "seedcalc.exe"

/* A new top table: the kernel's half copied, the user half empty (NULL without labs 01-02). */
static PMMPTE KtNewPml4(PFN_NUMBER *Pfn)
{
    UCHAR irql;
    MiLockPfnDatabase(&irql);
    NTSTATUS st = MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, Pfn);
    MiUnlockPfnDatabase(irql);
    if (!NT_SUCCESS(st))
        return NULL;
    PMMPTE pml4 = MiPfnToVirtual(*Pfn), cur = MiCurrentPml4();
    RtlZeroMemory(pml4, PAGE_SIZE);
    for (ULONG i = 256; i < 512; i++)
        pml4[i] = cur[i];
    return pml4;
}

static VOID KtFreePml4(PFN_NUMBER Pfn)
{
    UCHAR irql;
    MiLockPfnDatabase(&irql);
    MmFreePhysicalPage(Pfn);
    MiUnlockPfnDatabase(irql);
}

static const IMAGE_SECTION_HEADER *KtSections(const UCHAR *File, ULONG *Count)
{
    LONG nt = ((const IMAGE_DOS_HEADER *)File)->e_lfanew;
    const IMAGE_FILE_HEADER *fh = (const void *)(File + nt + 4);
    *Count = fh->NumberOfSections;
    return (const void *)(File + nt + 4 + sizeof(*fh) + fh->SizeOfOptionalHeader);
}

/* Every page of Image as mapped in Pml4, against the file: frame, U/S, R/W, NX; the bytes of
 * each section but the import table's (compared apart) and, when Delta != 0, the 8-byte
 * words the relocations moved. Returns the pages that differ. */
static ULONG KtCheckImage(PKTEST_CONTEXT Context, PMMPTE Pml4, const LDR_IMAGE *Image, const BOOT_FILE *File, LONG64 Delta)
{
    ULONG bad = 0, count;
    const IMAGE_SECTION_HEADER *s = KtSections(File->Data, &count);
    for (ULONG p = 0; p < Image->Pages; p++) {
        ULONG_PTR va = Image->Base + ((ULONG_PTR)p << PAGE_SHIFT);
        MI_TRANSLATION t;
        MiInspectTranslation(Pml4, va, &t);
        ULONG rva = p << PAGE_SHIFT, want = 0; /* 0: read-only, not executable */
        for (ULONG i = 0; i < count; i++) {
            ULONG size = s[i].VirtualSize ? s[i].VirtualSize : s[i].SizeOfRawData;
            if (rva >= s[i].VirtualAddress && rva < ALIGN_UP(s[i].VirtualAddress + size, PAGE_SIZE))
                want = s[i].Characteristics;
        }
        MMPTE e = t.Entries[MM_LEVEL_PT];
        BOOLEAN ok = t.Valid && t.Level == MM_LEVEL_PT && (t.Physical >> PAGE_SHIFT) == Image->Frames[p] &&
                     e.Hard.Owner == 1 && e.Hard.Write == ((want & IMAGE_SCN_MEM_WRITE) != 0) &&
                     e.Hard.NoExecute == ((want & IMAGE_SCN_MEM_EXECUTE) == 0);
        if (!ok && bad++ < 3)
            KtFail(Context, "page_mapping", "%s page %u at 0x%llx: valid %u level %u frame 0x%llx (loader's 0x%llx) "
                   "U/S %u R/W %u NX %u; the section wants characteristics 0x%x", Image->Name, p, va, t.Valid,
                   t.Level, t.Physical >> PAGE_SHIFT, Image->Frames[p], (ULONG)e.Hard.Owner, (ULONG)e.Hard.Write,
                   (ULONG)e.Hard.NoExecute, want);
    }
    /* Bytes: the headers, then each section (raw data, then zeros), through the mapping. */
    const IMAGE_DATA_DIRECTORY *imp = NULL;
    {
        LONG nt = ((const IMAGE_DOS_HEADER *)File->Data)->e_lfanew;
        const IMAGE_OPTIONAL_HEADER64 *o = (const void *)(File->Data + nt + 4 + sizeof(IMAGE_FILE_HEADER));
        imp = &o->DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    }
    ULONG diffs = 0;
    for (ULONG i = 0; i < count; i++) {
        ULONG size = s[i].VirtualSize ? s[i].VirtualSize : s[i].SizeOfRawData;
        if (imp->Size && imp->VirtualAddress >= s[i].VirtualAddress && imp->VirtualAddress < s[i].VirtualAddress + size)
            continue; /* the import tables: the IAT is checked against the exports */
        for (ULONG off = 0; off < ALIGN_UP(size, PAGE_SIZE); off += 8) {
            ULONG rva = s[i].VirtualAddress + off;
            ULONG64 want = 0, seen;
            if (off < s[i].SizeOfRawData && off < size)
                RtlCopyMemory(&want, File->Data + s[i].PointerToRawData + off,
                              s[i].SizeOfRawData - off < 8 ? s[i].SizeOfRawData - off : 8);
            if (off + 8 > size && off < size) { /* the tail of the last word: zero past VirtualSize */
                ULONG keep = size - off;
                want &= keep >= 8 ? ~0ULL : ((1ULL << (8 * keep)) - 1);
            } else if (off >= size) {
                want = 0;
            }
            RtlCopyMemory(&seen, (PUCHAR)MiPfnToVirtual(Image->Frames[rva >> PAGE_SHIFT]) + (rva & (PAGE_SIZE - 1)), 8);
            if (Delta && want - Image->PreferredBase < Image->SizeOfImage && seen == want + Delta)
                continue; /* a relocated address */
            if (seen != want && diffs++ < 3)
                KtFail(Context, "section_bytes", "%s section %.8s rva 0x%x: 0x%llx, the file has 0x%llx", Image->Name,
                       (const char *)s[i].Name, rva, seen, want);
        }
    }
    return bad + diffs;
}

/* The program's IAT: each entry the VA of the export of its name in ntdll (LdrFindExport),
 * inside ntdll's image, and a service stub begins "mov %rcx, %r10; mov $n, %eax". */
static VOID KtCheckImports(PKTEST_CONTEXT Context, const LDR_IMAGE *Program, const LDR_IMAGE *Ntdll, const BOOT_FILE *File)
{
    LONG nt = ((const IMAGE_DOS_HEADER *)File->Data)->e_lfanew;
    const IMAGE_OPTIONAL_HEADER64 *o = (const void *)(File->Data + nt + 4 + sizeof(IMAGE_FILE_HEADER));
    ULONG desc = o->DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT].VirtualAddress;
    ULONG checked = 0, wrong = 0;
#define RD(rva, T) (*(T *)((PUCHAR)MiPfnToVirtual(Program->Frames[(rva) >> PAGE_SHIFT]) + ((rva) & (PAGE_SIZE - 1))))
    for (;; desc += sizeof(IMAGE_IMPORT_DESCRIPTOR)) {
        ULONG ilt = RD(desc, ULONG), iat = RD(desc + 16, ULONG);
        if (iat == 0)
            break;
        for (ULONG k = 0;; k++) {
            ULONG64 entry = RD(ilt + 8 * k, ULONG64);
            if (!entry)
                break;
            CHAR name[64];
            ULONG n = 0;
            for (; n < sizeof(name) - 1 && RD((ULONG)entry + 2 + n, CHAR); n++)
                name[n] = RD((ULONG)entry + 2 + n, CHAR);
            name[n] = 0;
            ULONG64 bound = RD(iat + 8 * k, ULONG64), want = LdrFindExport(Ntdll, name);
            checked++;
            if (bound != want || want < Ntdll->Base || want >= Ntdll->Base + Ntdll->SizeOfImage) {
                if (wrong++ < 3)
                    KtFail(Context, "import_bound", "%s!%s: IAT 0x%llx, ntdll exports it at 0x%llx", Program->Name, name,
                           bound, want);
                continue;
            }
            if (name[0] == 'N' && name[1] == 't') {
                ULONG rva = (ULONG)(want - Ntdll->Base);
                PUCHAR code = (PUCHAR)MiPfnToVirtual(Ntdll->Frames[rva >> PAGE_SHIFT]) + (rva & (PAGE_SIZE - 1));
                KtCheck(Context, (rva & (PAGE_SIZE - 1)) <= PAGE_SIZE - 4 && code[0] == 0x49 && code[1] == 0x89 &&
                        code[2] == 0xCA && code[3] == 0xB8, "service_stub",
                        "%s at 0x%llx begins %02x %02x %02x %02x, not mov %%rcx,%%r10; mov $n,%%eax", name, want,
                        code[0], code[1], code[2], code[3]);
            }
        }
    }
#undef RD
    KtCheck(Context, checked >= 2 && wrong == 0, "imports", "%u imports checked, %u wrong", checked, wrong);
    KtValue(Context, "imports", "%u", checked);
}

KTEST("ldr.image", KtTestLoader)
{
    /* The boot file system: every module, by name, case-insensitive, and what it refuses. */
    const BOOT_FILE *f;
    ULONG files = 0;
    for (ULONG i = 0; IoBootFsFile(i, &f); i++, files++) {
        UCHAR digest[SHA256_DIGEST_SIZE];
        CHAR hex[2 * SHA256_DIGEST_SIZE + 1];
        RtlSha256(f->Data, f->Size, digest);
        for (ULONG k = 0; k < SHA256_DIGEST_SIZE; k++)
            RtlFormatString(hex + 2 * k, 3, "%02x", digest[k]);
        KtValue(Context, "bootfile", "%s %llu %s", f->Name, (ULONG64)f->Size, hex);
    }
    KtValue(Context, "bootfiles", "%u", files);
    const BOOT_FILE *program, *ntdll, *other;
    NTSTATUS st = IoBootFsLookup("\\SystemRoot\\System32\\" PROGRAM, &program);
    if (!KtCheck(Context, st == STATUS_SUCCESS && program, "bootfs_lookup", "\\SystemRoot\\System32\\" PROGRAM ": 0x%x", st))
        return;
    st = IoBootFsLookup("\\SYSTEMROOT/system32\\NTDLL.DLL", &ntdll);
    KtCheck(Context, st == STATUS_SUCCESS && ntdll, "bootfs_case", "\\SYSTEMROOT/system32\\NTDLL.DLL: 0x%x", st);
    st = IoBootFsLookup("\\SystemRoot\\System32\\seedcalc.ex", &other);
    KtCheck(Context, st == STATUS_OBJECT_NAME_NOT_FOUND && !other, "bootfs_missing", "a prefix of a name: 0x%x", st);
    st = IoBootFsLookup("\\Device\\System32\\" PROGRAM, &other);
    KtCheck(Context, st == STATUS_OBJECT_NAME_INVALID && !other, "bootfs_outside", "outside \\SystemRoot: 0x%x", st);
    if (!ntdll)
        return;

    /* Bad images are refused before anything is mapped. */
    static UCHAR copy[PAGE_SIZE];
    SIZE_T n = program->Size < sizeof(copy) ? program->Size : sizeof(copy);
    RtlCopyMemory(copy, program->Data, n);
    KtCheck(Context, LdrCheckImage(program->Data, program->Size) == STATUS_SUCCESS, "check_good", "the program refused");
    KtCheck(Context, LdrCheckImage(copy, 0x40) == STATUS_INVALID_IMAGE_FORMAT, "check_truncated", "64 bytes accepted");
    copy[0] = 'Z';
    KtCheck(Context, LdrCheckImage(copy, n) == STATUS_INVALID_IMAGE_NOT_MZ, "check_mz", "no MZ accepted");
    copy[0] = 'M';
    LONG nt = ((const IMAGE_DOS_HEADER *)copy)->e_lfanew;
    ((IMAGE_DOS_HEADER *)copy)->e_lfanew = 0x7FFFFFF0;
    KtCheck(Context, LdrCheckImage(copy, n) == STATUS_INVALID_IMAGE_FORMAT, "check_lfanew", "e_lfanew past the file accepted");
    ((IMAGE_DOS_HEADER *)copy)->e_lfanew = nt;
    ULONG count;
    IMAGE_SECTION_HEADER *s = (IMAGE_SECTION_HEADER *)KtSections(copy, &count);
    ULONG saved = s[count - 1].VirtualAddress;
    s[count - 1].VirtualAddress = 0x7FFFF000;
    KtCheck(Context, LdrCheckImage(copy, program->Size) == STATUS_INVALID_IMAGE_FORMAT, "check_section",
            "a section past SizeOfImage accepted");
    s[count - 1].VirtualAddress = saved;

    PFN_NUMBER before = MmAvailablePages, pml4Pfn;
    PMMPTE pml4 = KtNewPml4(&pml4Pfn);
    if (!KtCheck(Context, pml4 != NULL, "address_space", "no frame for a top table (labs 01-02?)"))
        return;
    static LDR_PROCESS_IMAGES images;
    st = LdrLoadProcessImages(pml4, "nosuch.exe", IMAGE_FILE_MACHINE_AMD64, &images);
    KtCheck(Context, st == STATUS_OBJECT_NAME_NOT_FOUND && images.Count == 0, "load_missing", "nosuch.exe: 0x%x", st);
    st = LdrLoadProcessImages(pml4, "\\SystemRoot\\System32\\" PROGRAM, IMAGE_FILE_MACHINE_I386, &images);
    KtCheck(Context, st == STATUS_INVALID_IMAGE_WIN_64 && images.Count == 0, "load_machine", "the x64 program as a 32-bit one: 0x%x", st);
    st = LdrLoadProcessImages(pml4, PROGRAM, IMAGE_FILE_MACHINE_AMD64, &images);
    if (KtCheck(Context, st == STATUS_SUCCESS && images.Count == 2, "load", "%s: 0x%x, %u images", PROGRAM, st, images.Count)) {
        PLDR_IMAGE p = &images.Images[0], d = &images.Images[1];
        KtCheck(Context, p->Base == p->PreferredBase && p->Relocations == 0 && d->Base == d->PreferredBase,
                "preferred_base", "%s at 0x%llx (wants 0x%llx), %u relocations; ntdll at 0x%llx (wants 0x%llx)", p->Name,
                p->Base, p->PreferredBase, p->Relocations, d->Base, d->PreferredBase);
        KtCheck(Context, p->EntryPoint > p->Base && p->EntryPoint < p->Base + p->SizeOfImage, "entry",
                "entry 0x%llx outside the image", p->EntryPoint);
        KtValue(Context, "program", "%s base 0x%llx entry 0x%llx size 0x%x", p->Name, p->Base, p->EntryPoint - p->Base,
                p->SizeOfImage);
        KtValue(Context, "dll", "%s base 0x%llx size 0x%x", d->Name, d->Base, d->SizeOfImage);
        KtCheck(Context, KtCheckImage(Context, pml4, p, program, 0) == 0, "program_pages", "see the failures above");
        KtCheck(Context, KtCheckImage(Context, pml4, d, ntdll, 0) == 0, "ntdll_pages", "see the failures above");
        KtCheckImports(Context, p, d, program);

        /* The preferred range taken (the first load stays): the second copy relocates. */
        static LDR_PROCESS_IMAGES second;
        st = LdrLoadProcessImages(pml4, PROGRAM, IMAGE_FILE_MACHINE_AMD64, &second);
        if (KtCheck(Context, st == STATUS_SUCCESS && second.Count == 2, "relocate_load", "0x%x", st)) {
            PLDR_IMAGE q = &second.Images[0];
            KtCheck(Context, q->Base != q->PreferredBase && q->Relocations > 0, "relocated",
                    "second copy at 0x%llx (preferred 0x%llx), %u relocations", q->Base, q->PreferredBase, q->Relocations);
            KtValue(Context, "relocations", "%u", q->Relocations);
            KtCheck(Context, KtCheckImage(Context, pml4, q, program, (LONG64)(q->Base - q->PreferredBase)) == 0,
                    "relocated_pages", "see the failures above");
            KtCheckImports(Context, q, &second.Images[1], program);
            LdrUnloadProcessImages(pml4, &second);
        }
        LdrUnloadProcessImages(pml4, &images);
    }
    ULONG left = 0;
    for (ULONG i = 0; i < 256; i++)
        left += pml4[i].Long != 0;
    KtCheck(Context, left == 0, "unloaded", "%u user-half PML4 entries left after the unload", left);
    KtFreePml4(pml4Pfn);
    KtCheck(Context, MmAvailablePages == before, "frames", "%llu frames available before, %llu after",
            (ULONG64)before, (ULONG64)MmAvailablePages);
}
