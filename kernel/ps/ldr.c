/* ldr.c - the user-image loader (framework, img/lab 08; contracts in kernel/include/ldr.h).
 * A PE image is checked whole before anything is mapped: headers inside the file, sections
 * page-aligned inside SizeOfImage and not overlapping, raw data inside the file. Each image
 * gets one fresh frame a page, filled through the physical map (headers, each section's raw
 * data, zeros for the rest), fixed up there (base relocations, the import address table bound
 * to the exports of the DLLs it names, loaded the same way), and only then mapped, page by
 * page with its section's protection. Departure from NT: NT maps an image section
 * (MmMapViewOfSection, SEC_IMAGE) and binds imports in user mode (ntdll's loader); here the
 * kernel binds them, so a test program runs from its first instruction without a user-mode
 * loader. */
#include "ex.h"
#include "io.h"
#include "ldr.h"
#include "ps.h"
#include "rtl.h"
#include "../mm/mi.h"

#define LDR_POOL_TAG POOL_TAG('L', 'd', 'r', ' ')
#define LDR_MAX_DEPTH 3

typedef struct _LDR_FILE {
    const UCHAR *Data;
    SIZE_T Size;
    BOOLEAN Is64;
    const IMAGE_FILE_HEADER *FileHeader;
    const IMAGE_SECTION_HEADER *Sections;
    ULONG64 ImageBase;
    ULONG EntryRva, SizeOfImage, SizeOfHeaders;
    USHORT Subsystem;
    ULONG64 StackReserve, StackCommit;
    ULONG DirectoryCount;
    const IMAGE_DATA_DIRECTORY *Directories;
} LDR_FILE;

/* ---- reading and writing an image through its frames ---- */

static PUCHAR LdrpPage(const LDR_IMAGE *Image, ULONG Rva)
{
    return MiPfnToVirtual(Image->Frames[Rva >> PAGE_SHIFT]);
}

/* TRUE if [Rva, Rva + Length) lies inside the image. */
static BOOLEAN LdrpInside(const LDR_IMAGE *Image, ULONG64 Rva, ULONG64 Length)
{
    return Rva <= Image->SizeOfImage && Length <= Image->SizeOfImage - Rva;
}

static BOOLEAN LdrpRead(const LDR_IMAGE *Image, ULONG Rva, PVOID Buffer, ULONG Length)
{
    if (!LdrpInside(Image, Rva, Length))
        return FALSE;
    PUCHAR out = Buffer;
    while (Length) {
        ULONG off = Rva & (PAGE_SIZE - 1), n = PAGE_SIZE - off;
        if (n > Length)
            n = Length;
        RtlCopyMemory(out, LdrpPage(Image, Rva) + off, n);
        out += n, Rva += n, Length -= n;
    }
    return TRUE;
}

static BOOLEAN LdrpWrite(const LDR_IMAGE *Image, ULONG Rva, const VOID *Buffer, ULONG Length)
{
    if (!LdrpInside(Image, Rva, Length))
        return FALSE;
    if (Image->HeadersSealed && Rva < PAGE_SIZE)
        return FALSE; /* a fix-up in the header page: the loader reads its section table back from there */
    const UCHAR *in = Buffer;
    while (Length) {
        ULONG off = Rva & (PAGE_SIZE - 1), n = PAGE_SIZE - off;
        if (n > Length)
            n = Length;
        RtlCopyMemory(LdrpPage(Image, Rva) + off, in, n);
        in += n, Rva += n, Length -= n;
    }
    return TRUE;
}

/* A NUL-terminated name at Rva into Buffer (FALSE if it runs past the image or Size). */
static BOOLEAN LdrpReadName(const LDR_IMAGE *Image, ULONG Rva, PCHAR Buffer, ULONG Size)
{
    for (ULONG i = 0; i < Size; i++) {
        if (!LdrpRead(Image, Rva + i, &Buffer[i], 1))
            return FALSE;
        if (Buffer[i] == 0)
            return TRUE;
    }
    return FALSE;
}

/* ---- the file's headers ---- */

static NTSTATUS LdrpParse(const UCHAR *Data, SIZE_T Size, LDR_FILE *F)
{
    RtlZeroMemory(F, sizeof(*F));
    F->Data = Data;
    F->Size = Size;
    if (Size < sizeof(IMAGE_DOS_HEADER) || ((const IMAGE_DOS_HEADER *)Data)->e_magic != IMAGE_DOS_SIGNATURE)
        return STATUS_INVALID_IMAGE_NOT_MZ;
    LONG nt = ((const IMAGE_DOS_HEADER *)Data)->e_lfanew;
    if (nt < 0 || (SIZE_T)nt > Size || Size - nt < 4 + sizeof(IMAGE_FILE_HEADER) ||
        *(const ULONG *)(Data + nt) != IMAGE_NT_SIGNATURE || (nt & 3))
        return STATUS_INVALID_IMAGE_FORMAT;
    F->FileHeader = (const IMAGE_FILE_HEADER *)(Data + nt + 4);
    SIZE_T opt = nt + 4 + sizeof(IMAGE_FILE_HEADER), optSize = F->FileHeader->SizeOfOptionalHeader;
    if (Size - opt < optSize || optSize < 2)
        return STATUS_INVALID_IMAGE_FORMAT;
    USHORT magic = *(const USHORT *)(Data + opt);
    ULONG sectionAlignment, fileAlignment;
    if (magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC &&
        optSize >= offsetof(IMAGE_OPTIONAL_HEADER64, DataDirectory)) {
        const IMAGE_OPTIONAL_HEADER64 *o = (const void *)(Data + opt);
        F->Is64 = TRUE;
        F->ImageBase = o->ImageBase;
        F->EntryRva = o->AddressOfEntryPoint;
        F->SizeOfImage = o->SizeOfImage;
        F->SizeOfHeaders = o->SizeOfHeaders;
        F->Subsystem = o->Subsystem;
        F->StackReserve = o->SizeOfStackReserve;
        F->StackCommit = o->SizeOfStackCommit;
        F->DirectoryCount = o->NumberOfRvaAndSizes;
        F->Directories = o->DataDirectory;
        sectionAlignment = o->SectionAlignment, fileAlignment = o->FileAlignment;
        if (F->DirectoryCount > (optSize - offsetof(IMAGE_OPTIONAL_HEADER64, DataDirectory)) / sizeof(IMAGE_DATA_DIRECTORY))
            return STATUS_INVALID_IMAGE_FORMAT;
    } else if (magic == IMAGE_NT_OPTIONAL_HDR32_MAGIC &&
               optSize >= offsetof(IMAGE_OPTIONAL_HEADER32, DataDirectory)) {
        const IMAGE_OPTIONAL_HEADER32 *o = (const void *)(Data + opt);
        F->ImageBase = o->ImageBase;
        F->EntryRva = o->AddressOfEntryPoint;
        F->SizeOfImage = o->SizeOfImage;
        F->SizeOfHeaders = o->SizeOfHeaders;
        F->Subsystem = o->Subsystem;
        F->StackReserve = o->SizeOfStackReserve;
        F->StackCommit = o->SizeOfStackCommit;
        F->DirectoryCount = o->NumberOfRvaAndSizes;
        F->Directories = o->DataDirectory;
        sectionAlignment = o->SectionAlignment, fileAlignment = o->FileAlignment;
        if (F->DirectoryCount > (optSize - offsetof(IMAGE_OPTIONAL_HEADER32, DataDirectory)) / sizeof(IMAGE_DATA_DIRECTORY))
            return STATUS_INVALID_IMAGE_FORMAT;
    } else {
        return STATUS_INVALID_IMAGE_FORMAT;
    }
    if (F->Is64 != (F->FileHeader->Machine == IMAGE_FILE_MACHINE_AMD64) ||
        !(F->FileHeader->Characteristics & IMAGE_FILE_EXECUTABLE_IMAGE))
        return STATUS_INVALID_IMAGE_FORMAT;
    if (sectionAlignment != PAGE_SIZE || fileAlignment < 0x200 || fileAlignment > PAGE_SIZE ||
        (fileAlignment & (fileAlignment - 1)) || (F->ImageBase & 0xFFFF) ||
        F->SizeOfImage == 0 || F->SizeOfImage > LDR_MAX_IMAGE_SIZE || (F->SizeOfImage & (PAGE_SIZE - 1)) ||
        F->SizeOfHeaders == 0 || F->SizeOfHeaders > Size || F->SizeOfHeaders > PAGE_SIZE)
        return STATUS_INVALID_IMAGE_FORMAT;
    ULONG count = F->FileHeader->NumberOfSections;
    SIZE_T sec = opt + optSize;
    if (count == 0 || count > 96 || Size - sec < count * sizeof(IMAGE_SECTION_HEADER) ||
        sec + count * sizeof(IMAGE_SECTION_HEADER) > F->SizeOfHeaders)
        return STATUS_INVALID_IMAGE_FORMAT;
    F->Sections = (const IMAGE_SECTION_HEADER *)(Data + sec);
    ULONG next = PAGE_SIZE;             /* sections in order, after the header page */
    for (ULONG i = 0; i < count; i++) {
        const IMAGE_SECTION_HEADER *s = &F->Sections[i];
        ULONG64 vsize = s->VirtualSize ? s->VirtualSize : s->SizeOfRawData;
        if (s->VirtualAddress < next || (s->VirtualAddress & (PAGE_SIZE - 1)) ||
            (ULONG64)s->VirtualAddress + vsize > F->SizeOfImage)
            return STATUS_INVALID_IMAGE_FORMAT;
        if (s->SizeOfRawData && ((ULONG64)s->PointerToRawData + s->SizeOfRawData > Size ||
                                 s->PointerToRawData < F->SizeOfHeaders))
            return STATUS_INVALID_IMAGE_FORMAT;
        next = (ULONG)ALIGN_UP((ULONG64)s->VirtualAddress + vsize, PAGE_SIZE);
    }
    if (F->EntryRva && F->EntryRva >= F->SizeOfImage)
        return STATUS_INVALID_IMAGE_FORMAT;
    return STATUS_SUCCESS;
}

NTSTATUS LdrCheckImage(const UCHAR *Data, SIZE_T Size)
{
    LDR_FILE f;
    return LdrpParse(Data, Size, &f);
}

static const IMAGE_DATA_DIRECTORY *LdrpDirectory(const LDR_FILE *F, ULONG Index)
{
    static const IMAGE_DATA_DIRECTORY none;
    return Index < F->DirectoryCount ? &F->Directories[Index] : &none;
}

ULONG LdrPageProtection(const LDR_IMAGE *Image, ULONG PageIndex)
{
    /* The section headers, read back from the image's own header page. */
    const UCHAR *h = MiPfnToVirtual(Image->Frames[0]);
    LONG nt = ((const IMAGE_DOS_HEADER *)h)->e_lfanew;
    const IMAGE_FILE_HEADER *fh = (const void *)(h + nt + 4);
    const IMAGE_SECTION_HEADER *s = (const void *)(h + nt + 4 + sizeof(*fh) + fh->SizeOfOptionalHeader);
    ULONG rva = PageIndex << PAGE_SHIFT;
    for (ULONG i = 0; i < fh->NumberOfSections; i++) {
        ULONG64 vsize = s[i].VirtualSize ? s[i].VirtualSize : s[i].SizeOfRawData;
        if (rva >= s[i].VirtualAddress && rva < ALIGN_UP(s[i].VirtualAddress + vsize, PAGE_SIZE)) {
            ULONG p = MM_PROTECT_USER;
            if (s[i].Characteristics & IMAGE_SCN_MEM_WRITE)
                p |= MM_PROTECT_WRITE;
            if (s[i].Characteristics & IMAGE_SCN_MEM_EXECUTE)
                p |= MM_PROTECT_EXECUTE;
            return p;
        }
    }
    return MM_PROTECT_USER; /* headers and gaps: read-only */
}

/* ---- building one image in its frames ---- */

static VOID LdrpFreeFrames(PLDR_IMAGE Image)
{
    if (!Image->Frames)
        return;
    for (ULONG i = 0; i < Image->Pages; i++)
        if (Image->Frames[i]) {
            UCHAR irql;
            MiLockPfnDatabase(&irql);
            MmFreePhysicalPage(Image->Frames[i]);
            MiUnlockPfnDatabase(irql);
        }
    ExFreePoolWithTag(Image->Frames, LDR_POOL_TAG);
    Image->Frames = NULL;
}

static NTSTATUS LdrpBuild(const LDR_FILE *F, PLDR_IMAGE Image)
{
    Image->Pages = F->SizeOfImage >> PAGE_SHIFT;
    Image->Frames = ExAllocatePoolWithTag(NonPagedPool, Image->Pages * sizeof(PFN_NUMBER), LDR_POOL_TAG);
    if (!Image->Frames)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(Image->Frames, Image->Pages * sizeof(PFN_NUMBER));
    for (ULONG i = 0; i < Image->Pages; i++) {
        UCHAR irql;
        MiLockPfnDatabase(&irql);
        NTSTATUS st = MmAllocatePhysicalPage(MM_ALLOCATE_ZEROED, &Image->Frames[i]);
        MiUnlockPfnDatabase(irql);
        if (!NT_SUCCESS(st)) {
            Image->Frames[i] = 0;
            return st == STATUS_NOT_IMPLEMENTED ? st : STATUS_INSUFFICIENT_RESOURCES;
        }
        RtlZeroMemory(MiPfnToVirtual(Image->Frames[i]), PAGE_SIZE); /* never trust a frame's contents */
    }
    Image->SizeOfImage = F->SizeOfImage;
    LdrpWrite(Image, 0, F->Data, F->SizeOfHeaders);
    Image->HeadersSealed = TRUE;
    for (ULONG i = 0; i < F->FileHeader->NumberOfSections; i++) {
        const IMAGE_SECTION_HEADER *s = &F->Sections[i];
        ULONG raw = s->SizeOfRawData;
        if (s->VirtualSize && raw > s->VirtualSize)
            raw = s->VirtualSize;
        if (raw && !LdrpWrite(Image, s->VirtualAddress, F->Data + s->PointerToRawData, raw))
            return STATUS_INVALID_IMAGE_FORMAT;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS LdrpRelocate(const LDR_FILE *F, PLDR_IMAGE Image)
{
    LONG64 delta = (LONG64)(Image->Base - F->ImageBase);
    if (delta == 0)
        return STATUS_SUCCESS;
    const IMAGE_DATA_DIRECTORY *d = LdrpDirectory(F, IMAGE_DIRECTORY_ENTRY_BASERELOC);
    if (!LdrpInside(Image, d->VirtualAddress, d->Size))
        return STATUS_INVALID_IMAGE_FORMAT;
    ULONG at = d->VirtualAddress, end = d->VirtualAddress + d->Size;
    while (at + sizeof(IMAGE_BASE_RELOCATION) <= end) {
        IMAGE_BASE_RELOCATION block;
        LdrpRead(Image, at, &block, sizeof(block));
        if (block.SizeOfBlock < sizeof(block) || block.SizeOfBlock > end - at || (block.SizeOfBlock & 1))
            return STATUS_INVALID_IMAGE_FORMAT;
        for (ULONG e = sizeof(block); e + 2 <= block.SizeOfBlock; e += 2) {
            USHORT entry;
            LdrpRead(Image, at + e, &entry, 2);
            ULONG type = entry >> 12, rva = block.VirtualAddress + (entry & 0xFFF);
            if (type == IMAGE_REL_BASED_ABSOLUTE)
                continue;
            if (type == IMAGE_REL_BASED_DIR64 && F->Is64) {
                ULONG64 v;
                if (!LdrpRead(Image, rva, &v, 8))
                    return STATUS_INVALID_IMAGE_FORMAT;
                v += delta;
                if (!LdrpWrite(Image, rva, &v, 8))
                    return STATUS_INVALID_IMAGE_FORMAT;
            } else if (type == IMAGE_REL_BASED_HIGHLOW && !F->Is64) {
                ULONG v;
                if (!LdrpRead(Image, rva, &v, 4))
                    return STATUS_INVALID_IMAGE_FORMAT;
                v += (ULONG)delta;
                if (!LdrpWrite(Image, rva, &v, 4))
                    return STATUS_INVALID_IMAGE_FORMAT;
            } else {
                return STATUS_INVALID_IMAGE_FORMAT;
            }
            Image->Relocations++;
        }
        at += block.SizeOfBlock;
    }
    return STATUS_SUCCESS;
}

ULONG_PTR LdrFindExport(const LDR_IMAGE *Image, PCSTR Name)
{
    const UCHAR *h = MiPfnToVirtual(Image->Frames[0]);
    LONG nt = ((const IMAGE_DOS_HEADER *)h)->e_lfanew;
    USHORT magic = *(const USHORT *)(h + nt + 4 + sizeof(IMAGE_FILE_HEADER));
    const UCHAR *opt = h + nt + 4 + sizeof(IMAGE_FILE_HEADER);
    const IMAGE_DATA_DIRECTORY *dirs = magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC
        ? ((const IMAGE_OPTIONAL_HEADER64 *)opt)->DataDirectory : ((const IMAGE_OPTIONAL_HEADER32 *)opt)->DataDirectory;
    ULONG count = magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC ? ((const IMAGE_OPTIONAL_HEADER64 *)opt)->NumberOfRvaAndSizes
                                                         : ((const IMAGE_OPTIONAL_HEADER32 *)opt)->NumberOfRvaAndSizes;
    if (count <= IMAGE_DIRECTORY_ENTRY_EXPORT)
        return 0;
    IMAGE_DATA_DIRECTORY d = dirs[IMAGE_DIRECTORY_ENTRY_EXPORT];
    IMAGE_EXPORT_DIRECTORY ex;
    if (d.Size < sizeof(ex) || !LdrpRead(Image, d.VirtualAddress, &ex, sizeof(ex)))
        return 0;
    for (ULONG i = 0; i < ex.NumberOfNames && i < 65536; i++) {
        ULONG nameRva;
        USHORT ordinal;
        CHAR name[64];
        ULONG fn;
        if (!LdrpRead(Image, ex.AddressOfNames + 4 * i, &nameRva, 4) ||
            !LdrpReadName(Image, nameRva, name, sizeof(name)) || strcmp(name, Name) != 0)
            continue;
        if (!LdrpRead(Image, ex.AddressOfNameOrdinals + 2 * i, &ordinal, 2) || ordinal >= ex.NumberOfFunctions ||
            !LdrpRead(Image, ex.AddressOfFunctions + 4 * ordinal, &fn, 4) || fn == 0 || fn >= Image->SizeOfImage)
            return 0;
        if (fn >= d.VirtualAddress && fn < d.VirtualAddress + d.Size)
            return 0; /* a forwarder: not supported */
        return Image->Base + fn;
    }
    return 0;
}

typedef struct _LDR_TARGET LDR_TARGET;
static NTSTATUS LdrpLoadOne(const LDR_TARGET *T, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images, ULONG Depth,
                            PLDR_IMAGE *Loaded);

static NTSTATUS LdrpBindImports(const LDR_TARGET *T, const LDR_FILE *F, PLDR_IMAGE Image, USHORT Machine,
                                PLDR_PROCESS_IMAGES Images, ULONG Depth)
{
    const IMAGE_DATA_DIRECTORY *d = LdrpDirectory(F, IMAGE_DIRECTORY_ENTRY_IMPORT);
    if (d->Size == 0)
        return STATUS_SUCCESS;
    if (!LdrpInside(Image, d->VirtualAddress, d->Size))
        return STATUS_INVALID_IMAGE_FORMAT;
    ULONG thunkSize = F->Is64 ? 8 : 4;
    for (ULONG at = d->VirtualAddress;; at += sizeof(IMAGE_IMPORT_DESCRIPTOR)) {
        IMAGE_IMPORT_DESCRIPTOR desc;
        if (!LdrpRead(Image, at, &desc, sizeof(desc)))
            return STATUS_INVALID_IMAGE_FORMAT;
        if (desc.Name == 0 && desc.FirstThunk == 0)
            return STATUS_SUCCESS;
        CHAR dll[32];
        if (!LdrpReadName(Image, desc.Name, dll, sizeof(dll)))
            return STATUS_INVALID_IMAGE_FORMAT;
        PLDR_IMAGE target;
        NTSTATUS st = LdrpLoadOne(T, dll, Machine, Images, Depth + 1, &target);
        if (st == STATUS_OBJECT_NAME_NOT_FOUND)
            st = STATUS_DLL_NOT_FOUND;
        if (!NT_SUCCESS(st))
            return st;
        ULONG lookup = desc.OriginalFirstThunk ? desc.OriginalFirstThunk : desc.FirstThunk;
        for (ULONG k = 0;; k++) {
            ULONG64 entry = 0;
            if (!LdrpRead(Image, lookup + k * thunkSize, &entry, thunkSize))
                return STATUS_INVALID_IMAGE_FORMAT;
            if (entry == 0)
                break;
            if (entry & (F->Is64 ? IMAGE_ORDINAL_FLAG64 : IMAGE_ORDINAL_FLAG32))
                return STATUS_ENTRYPOINT_NOT_FOUND; /* by ordinal: not supported */
            CHAR name[64];
            if (!LdrpReadName(Image, (ULONG)entry + 2, name, sizeof(name)))
                return STATUS_INVALID_IMAGE_FORMAT;
            ULONG64 va = LdrFindExport(target, name);
            if (va == 0) {
                DbgPrint("ldr: %s imports %s!%s, which it does not export\n", Image->Name, dll, name);
                return STATUS_ENTRYPOINT_NOT_FOUND;
            }
            if (!LdrpWrite(Image, desc.FirstThunk + k * thunkSize, &va, thunkSize))
                return STATUS_INVALID_IMAGE_FORMAT;
            Image->ImportsBound++;
        }
    }
}

/* Where the images go: vm's address space (a VAD an image, PTEs through vm's routines) or,
 * for a process without one (um's private tables, the framework's tests), a bare PML4. */
struct _LDR_TARGET {
    PMMPTE Pml4;
    PMMADDRESS_SPACE Space;      /* NULL: map with MmMapPage on Pml4 */
};

/* Lab 08's VAD tree (vm): weak, so the loader links before labs/08-usermode/vad.c exists. */
#pragma weak MiInsertVad
#pragma weak MiRemoveVad

/* The MM protection code of a PTE protection (MM_PROTECT_*). */
static ULONG LdrpMmProtection(ULONG Protect)
{
    if (Protect & MM_PROTECT_EXECUTE)
        return (Protect & MM_PROTECT_WRITE) ? MM_EXECUTE_READWRITE : MM_EXECUTE_READ;
    return (Protect & MM_PROTECT_WRITE) ? MM_READWRITE : MM_READONLY;
}

/* Claims [Base, Base + Size) for Image: free of the images loaded so far and, in an address
 * space, inserted as an image VAD (MiInsertVad refuses an overlap); on bare tables, no page
 * of it mapped. STATUS_CONFLICTING_ADDRESSES when taken. */
static NTSTATUS LdrpReserve(const LDR_TARGET *T, const LDR_PROCESS_IMAGES *Images, PLDR_IMAGE Image, ULONG_PTR Base,
                            ULONG Size)
{
    if (Base < LDR_LOWEST_BASE || Base + Size < Base || Base + Size - 1 > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_CONFLICTING_ADDRESSES;
    for (ULONG i = 0; i < Images->Count; i++) {
        const LDR_IMAGE *o = &Images->Images[i];
        if (o != Image && o->Frames && Base < o->Base + o->SizeOfImage && o->Base < Base + Size)
            return STATUS_CONFLICTING_ADDRESSES;
    }
    if (T->Space) {
        if (!MiInsertVad)
            return STATUS_NOT_IMPLEMENTED;
        PMMVAD vad = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
        if (!vad)
            return STATUS_INSUFFICIENT_RESOURCES;
        RtlZeroMemory(vad, sizeof(*vad));
        vad->Tag = MI_VAD_TAG;
        vad->StartingVpn = MI_VA_TO_VPN(Base);
        vad->EndingVpn = MI_VA_TO_VPN(Base + Size - 1);
        vad->u.VadFlags.Protection = MM_EXECUTE_WRITECOPY; /* an image view, as NT makes it */
        vad->u.VadFlags.VadType = VadImageMap;
        vad->u.VadFlags.MemCommit = 1;
        NTSTATUS st = MiInsertVad(&T->Space->VadRoot, vad);
        if (!NT_SUCCESS(st)) {
            vad->Tag = 0;
            ExFreePoolWithTag(vad, MI_VAD_TAG);
            return st;
        }
        Image->Vad = vad;
        return STATUS_SUCCESS;
    }
    for (ULONG_PTR va = Base; va < Base + Size; va += PAGE_SIZE) {
        MI_TRANSLATION t;
        MiInspectTranslation(T->Pml4, va, &t); /* the framework's walk: never changes a table */
        if (t.Valid)
            return STATUS_CONFLICTING_ADDRESSES;
    }
    return STATUS_SUCCESS;
}

static VOID LdrpReleaseVad(const LDR_TARGET *T, PLDR_IMAGE Image)
{
    if (!Image->Vad)
        return;
    PMMVAD vad = Image->Vad;
    if (MiRemoveVad)
        MiRemoveVad(&T->Space->VadRoot, vad);
    vad->Tag = 0;
    ExFreePoolWithTag(vad, MI_VAD_TAG);
    Image->Vad = NULL;
}

static NTSTATUS LdrpLoadOne(const LDR_TARGET *T, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images, ULONG Depth,
                            PLDR_IMAGE *Loaded)
{
    *Loaded = NULL;
    PCSTR base = Name;
    for (PCSTR p = Name; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    for (ULONG i = 0; i < Images->Count; i++) {
        PCSTR a = Images->Images[i].Name, b = base;
        while (*a && ((*a | 0x20) == (*b | 0x20)))
            a++, b++;
        if (*a == 0 && *b == 0) {
            *Loaded = &Images->Images[i];
            return STATUS_SUCCESS;
        }
    }
    if (Depth > LDR_MAX_DEPTH || Images->Count == LDR_MAX_IMAGES)
        return STATUS_INVALID_IMAGE_FORMAT;
    CHAR path[96];
    if (Name[0] == '\\')
        RtlFormatString(path, sizeof(path), "%s", Name);
    else
        RtlFormatString(path, sizeof(path), "\\SystemRoot\\%s\\%s",
                        Machine == IMAGE_FILE_MACHINE_I386 ? "SysWOW64" : "System32", Name);
    const BOOT_FILE *file;
    NTSTATUS st = IoBootFsLookup(path, &file);
    if (!NT_SUCCESS(st)) {
        DbgPrint("ldr: no %s (0x%x)\n", path, st);
        return st;
    }
    LDR_FILE f;
    st = LdrpParse(file->Data, file->Size, &f);
    if (!NT_SUCCESS(st))
        return st;
    if (f.FileHeader->Machine != Machine)
        return f.Is64 ? STATUS_INVALID_IMAGE_WIN_64 : STATUS_INVALID_IMAGE_WIN_32;
    PLDR_IMAGE image = &Images->Images[Images->Count];
    RtlZeroMemory(image, sizeof(*image));
    RtlFormatString(image->Name, sizeof(image->Name), "%s", base);
    image->PreferredBase = f.ImageBase;
    image->SizeOfHeaders = f.SizeOfHeaders;
    image->Machine = f.FileHeader->Machine;
    image->Characteristics = f.FileHeader->Characteristics;
    image->Subsystem = f.Subsystem;
    image->SectionCount = f.FileHeader->NumberOfSections;
    image->StackReserve = f.StackReserve;
    image->StackCommit = f.StackCommit;
    /* Its place: the preferred base, else (relocations permitting) the first free 1 MiB step above it. */
    ULONG_PTR where = f.ImageBase;
    st = LdrpReserve(T, Images, image, where, f.SizeOfImage);
    if (st == STATUS_CONFLICTING_ADDRESSES && !(f.FileHeader->Characteristics & IMAGE_FILE_RELOCS_STRIPPED)) {
        for (ULONG k = 1; k <= 256 && st == STATUS_CONFLICTING_ADDRESSES; k++) {
            where = ALIGN_DOWN(f.ImageBase, 0x100000) + k * 0x100000ULL;
            st = LdrpReserve(T, Images, image, where, f.SizeOfImage);
        }
    }
    if (!NT_SUCCESS(st))
        return st;
    image->Base = where;
    Images->Count++;
    st = LdrpBuild(&f, image);
    if (NT_SUCCESS(st))
        st = LdrpRelocate(&f, image);
    image->EntryPoint = f.EntryRva ? image->Base + f.EntryRva : 0;
    if (NT_SUCCESS(st))
        st = LdrpBindImports(T, &f, image, Machine, Images, Depth);
    if (!NT_SUCCESS(st))
        return st; /* the caller frees every image's frames and VAD */
    *Loaded = image;
    return STATUS_SUCCESS;
}

/* Takes the first Pages pages of Image out of the tables. On bare tables the frames stay the
 * image's; in an address space MiReplaceUserPte frees them (Frames[] forgets them). */
static VOID LdrpUnmap(const LDR_TARGET *T, PLDR_IMAGE Image, ULONG Pages)
{
    for (ULONG i = 0; i < Pages; i++) {
        ULONG_PTR va = Image->Base + ((ULONG_PTR)i << PAGE_SHIFT);
        if (T->Space) {
            MMPTE zero = {0};
            MiReplaceUserPte(T->Space, va, zero);
            if (Image->Frames)
                Image->Frames[i] = 0;
            continue;
        }
        PFN_NUMBER pfn;
        UCHAR irql;
        MiLockPfnDatabase(&irql);
        MmUnmapPage(T->Pml4, va, &pfn);
        MiUnlockPfnDatabase(irql);
    }
}

static NTSTATUS LdrpMapPage(const LDR_TARGET *T, PLDR_IMAGE Image, ULONG Page)
{
    ULONG protect = LdrPageProtection(Image, Page);
    ULONG_PTR va = Image->Base + ((ULONG_PTR)Page << PAGE_SHIFT);
    if (T->Space)
        return MiReplaceUserPte(T->Space, va, MiMakeValidUserPte(Image->Frames[Page], LdrpMmProtection(protect)));
    UCHAR irql;
    MiLockPfnDatabase(&irql);
    NTSTATUS st = MmMapPage(T->Pml4, va, Image->Frames[Page], protect, 0);
    MiUnlockPfnDatabase(irql);
    return st;
}

static NTSTATUS LdrpLoad(const LDR_TARGET *T, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images)
{
    RtlZeroMemory(Images, sizeof(*Images));
    if (T->Pml4 == NULL || Name == NULL)
        return STATUS_INVALID_PARAMETER;
    PLDR_IMAGE program;
    NTSTATUS st = LdrpLoadOne(T, Name, Machine, Images, 0, &program);
    if (NT_SUCCESS(st) && (program->Characteristics & IMAGE_FILE_DLL || program->EntryPoint == 0))
        st = STATUS_INVALID_IMAGE_FORMAT; /* a program, with an entry point */
    for (ULONG i = 0; NT_SUCCESS(st) && i < Images->Count; i++) {
        PLDR_IMAGE image = &Images->Images[i];
        for (ULONG p = 0; p < image->Pages; p++) {
            st = LdrpMapPage(T, image, p);
            if (!NT_SUCCESS(st)) {
                LdrpUnmap(T, image, p);
                for (ULONG j = 0; j < i; j++)
                    LdrpUnmap(T, &Images->Images[j], Images->Images[j].Pages);
                break;
            }
        }
    }
    if (!NT_SUCCESS(st)) {
        for (ULONG i = 0; i < Images->Count; i++) {
            LdrpFreeFrames(&Images->Images[i]);
            LdrpReleaseVad(T, &Images->Images[i]);
        }
        Images->Count = 0;
        return st;
    }
    if (T->Space) {
        for (ULONG i = 0; i < Images->Count; i++)
            T->Space->VirtualSize += Images->Images[i].SizeOfImage; /* virtual bytes: image views count */
        if (T->Space->VirtualSize > T->Space->PeakVirtualSize)
            T->Space->PeakVirtualSize = T->Space->VirtualSize;
    }
    return STATUS_SUCCESS;
}

NTSTATUS LdrLoadProcessImages(PMMPTE Pml4, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images)
{
    LDR_TARGET t = {Pml4, NULL};
    return LdrpLoad(&t, Name, Machine, Images);
}

NTSTATUS LdrMapProcessImages(PEPROCESS Process, PCSTR Name, USHORT Machine, PLDR_PROCESS_IMAGES Images)
{
    RtlZeroMemory(Images, sizeof(*Images));
    if (Process == NULL || !Process->DirectoryTableBase)
        return STATUS_INVALID_PARAMETER;
    PMMADDRESS_SPACE space = Process->AddressSpace;
    if (!space) {
        LDR_TARGET t = {MmPhysicalToVirtual(Process->DirectoryTableBase), NULL};
        return LdrpLoad(&t, Name, Machine, Images);
    }
    LDR_TARGET t = {space->Pml4, space};
    KeAcquireGuardedMutex(&space->AddressCreationLock);
    NTSTATUS st = LdrpLoad(&t, Name, Machine, Images);
    KeReleaseGuardedMutex(&space->AddressCreationLock);
    /* w16x: where the process's user-mode exceptions go (ke/exceptn.c): the 64-bit ntdll's
     * KiUserExceptionDispatcher (for a WOW64 process, the one the wow64 layer loads). */
    for (ULONG i = 0; NT_SUCCESS(st) && i < Images->Count; i++)
        if (Images->Images[i].Machine == IMAGE_FILE_MACHINE_AMD64 && strcmp(Images->Images[i].Name, "ntdll.dll") == 0)
            Process->UserExceptionDispatcher = LdrFindExport(&Images->Images[i], "KiUserExceptionDispatcher");
    return st;
}

VOID LdrFreeImageInfo(PLDR_PROCESS_IMAGES Images)
{
    for (ULONG i = 0; i < Images->Count; i++) {
        if (Images->Images[i].Frames)
            ExFreePoolWithTag(Images->Images[i].Frames, LDR_POOL_TAG);
        Images->Images[i].Frames = NULL;
    }
    Images->Count = 0;
}

VOID LdrUnloadProcessImages(PMMPTE Pml4, PLDR_PROCESS_IMAGES Images)
{
    LDR_TARGET t = {Pml4, NULL};
    for (ULONG i = 0; i < Images->Count; i++) {
        LdrpUnmap(&t, &Images->Images[i], Images->Images[i].Pages);
        LdrpFreeFrames(&Images->Images[i]);
    }
    Images->Count = 0;
}
