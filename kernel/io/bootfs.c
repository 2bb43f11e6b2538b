/* bootfs.c - the boot file system (framework, img/lab 08): the user images GRUB loaded as
 * multiboot2 modules (user/user.mk gives each the command line "<set>/<file>", set System32
 * or SysWOW64) served by name as \SystemRoot\<set>\<file>. The modules' pages are reserved
 * (mm/bootmem.c) and read through the physical map; nothing here writes them, so every
 * process loads the same bytes. Departure from NT: lab 07's NtCreateFile opens a device by
 * its exact name (a FILE_OBJECT has no file name), so the loader asks this table directly
 * instead of sending IRP_MJ_CREATE/IRP_MJ_READ to a file-system device. */
#include "io.h"
#include "mm.h"
#include "rtl.h"

#define BOOTFS_ROOT "\\SystemRoot\\"

static BOOT_FILE IopBootFiles[MM_MAX_BOOT_MODULES];
static ULONG IopBootFileCount;
static BOOLEAN IopBootFsReady;

static CHAR IopFold(CHAR c)
{
    if (c == '/')
        return '\\';
    return (c >= 'A' && c <= 'Z') ? (CHAR)(c - 'A' + 'a') : c;
}

/* The table, from the loader block's modules (once; the modules never change). */
static VOID IopInitializeBootFs(VOID)
{
    if (IopBootFsReady)
        return;
    for (ULONG i = 0; i < MmBootModuleCount && IopBootFileCount < MM_MAX_BOOT_MODULES; i++) {
        const MM_BOOT_MODULE *m = &MmBootModules[i];
        if (m->End < m->Start || m->Name[0] == 0)
            continue;
        PBOOT_FILE f = &IopBootFiles[IopBootFileCount++];
        RtlFormatString(f->Name, sizeof(f->Name), "%s", m->Name);
        f->Data = MmPhysicalToVirtual(m->Start);
        f->Size = m->End - m->Start;
    }
    IopBootFsReady = TRUE;
}

BOOLEAN IoBootFsFile(ULONG Index, const BOOT_FILE **File)
{
    IopInitializeBootFs();
    if (Index >= IopBootFileCount) {
        *File = NULL;
        return FALSE;
    }
    *File = &IopBootFiles[Index];
    return TRUE;
}

NTSTATUS IoBootFsLookup(PCSTR Path, const BOOT_FILE **File)
{
    *File = NULL;
    IopInitializeBootFs();
    if (Path == NULL)
        return STATUS_OBJECT_NAME_INVALID;
    SIZE_T root = sizeof(BOOTFS_ROOT) - 1;
    for (SIZE_T i = 0; i < root; i++)
        if (IopFold(Path[i]) != IopFold(BOOTFS_ROOT[i]))
            return STATUS_OBJECT_NAME_INVALID;
    PCSTR rest = Path + root;
    for (ULONG i = 0; i < IopBootFileCount; i++) {
        PCSTR n = IopBootFiles[i].Name;
        SIZE_T k = 0;
        while (n[k] && IopFold(n[k]) == IopFold(rest[k]))
            k++;
        if (n[k] == 0 && rest[k] == 0) {
            *File = &IopBootFiles[i];
            return STATUS_SUCCESS;
        }
    }
    return STATUS_OBJECT_NAME_NOT_FOUND;
}
