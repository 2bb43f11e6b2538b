/* section_nt_tests.c - lab 08 public test of the section services (pf part):
 *   pf.section_nt  NtCreateSection / NtMapViewOfSection / NtUnmapViewOfSection with handles,
 *                  from a kernel thread attached to user processes (process objects with
 *                  address spaces of their own, -1 for the current process): A's writes are
 *                  B's reads; B's copy-on-write write stays B's; a process that ends with a
 *                  view still mapped gives the view back; the section outlives its handle
 *                  while views remain and is deleted, with every frame, at the last unmap. */
#include "kuser.h"
#include "lab08pf_support.h"

#define KT_SECTION_ALL_ACCESS 0x000F001F
#define KT_SEC_COMMIT 0x08000000

static UCHAR KtNtBuf[PAGE_SIZE];

static NTSTATUS KtNtMap(PEPROCESS P, HANDLE Section, PVOID *Base, SIZE_T *Size, ULONG Protect)
{
    KeStackAttachProcess(P);
    *Base = NULL;
    *Size = 0;
    NTSTATUS status = NtMapViewOfSection(Section, NtCurrentProcess(), Base, 0, 0, NULL, Size, 1, 0, Protect);
    KeUnstackDetachProcess();
    return status;
}

static NTSTATUS KtNtTouch(PEPROCESS P, ULONG_PTR Va, BOOLEAN Write, ULONG Salt)
{
    KeStackAttachProcess(P);
    NTSTATUS status;
    if (Write) {
        KtPfFill(KtNtBuf, Salt);
        status = KeCopyToUser((PVOID)Va, KtNtBuf, PAGE_SIZE);
    } else {
        status = KeCopyFromUser(KtNtBuf, (PVOID)Va, PAGE_SIZE);
        if (NT_SUCCESS(status) && KtPfCompare(KtNtBuf, Salt) >= 0)
            status = STATUS_UNSUCCESSFUL;
    }
    KeUnstackDetachProcess();
    return status;
}

static NTSTATUS KtNtUnmap(PEPROCESS P, ULONG_PTR Va)
{
    KeStackAttachProcess(P);
    NTSTATUS status = NtUnmapViewOfSection(NtCurrentProcess(), (PVOID)Va);
    KeUnstackDetachProcess();
    return status;
}

KTEST("pf.section_nt", KtPfSectionNt)
{
    if (!KtPfEnter(Context) || !KtPfRequire(Context, "fault"))
        return;
    PEPROCESS a = NULL, b = NULL, c = NULL;
    HANDLE h = NULL;
    NTSTATUS status = PsCreateUserProcessObject("pfsecA", &a);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "a user process (A): 0x%x", status))
        return;
    if (!KtCheck(Context, NT_SUCCESS(PsCreateUserProcessObject("pfsecB", &b)), "process", "a user process (B)") ||
        !KtCheck(Context, NT_SUCCESS(PsCreateUserProcessObject("pfsecC", &c)), "process", "a user process (C)"))
        goto done;
    ULONG pages = (ULONG)KtRandomRange(Context, 2, 12);
    LARGE_INTEGER size;
    size.QuadPart = (LONGLONG)pages * PAGE_SIZE;
    HANDLE dummy = NULL;
    status = NtCreateSection(&dummy, KT_SECTION_ALL_ACCESS, NULL, &size, PAGE_READWRITE, KT_SEC_COMMIT, (HANDLE)4);
    KtCheck(Context, status == (NTSTATUS)0xC0000020L && dummy == NULL, "create_invalid", "NtCreateSection with a file "
            "handle: 0x%x, expected STATUS_INVALID_FILE_FOR_SECTION (pagefile-backed sections only)", status);
    status = NtCreateSection(&h, KT_SECTION_ALL_ACCESS, NULL, &size, PAGE_READWRITE, KT_SEC_COMMIT, NULL);
    if (!KtRequireImplemented(Context, status, "MmCreateSection", "lab 08") ||
        !KtCheck(Context, status == STATUS_SUCCESS && h != NULL, "create", "NtCreateSection(%u pages): 0x%x", pages, status))
        goto done;
    PMI_SECTION_OBJECT object;
    status = ObReferenceObjectByHandle(h, 0, MmSectionObjectType, KernelMode, (PVOID *)&object, NULL);
    if (!KtCheck(Context, NT_SUCCESS(status), "object", "the section object behind the handle: 0x%x", status))
        goto done;
    PMM_SECTION sec = object->Section;
    ObDereferenceObject(object);
    PVOID va = NULL, vb = NULL, vc = NULL;
    SIZE_T sa, sb, sc;
    status = KtNtMap(a, h, &va, &sa, PAGE_READWRITE);
    if (!KtCheck(Context, status == STATUS_SUCCESS && va != NULL && sa == pages * PAGE_SIZE, "map", "NtMapViewOfSection(A, "
                 "read-write): 0x%x, base %p, size 0x%llx", status, va, (ULONG64)sa) ||
        !KtCheck(Context, KtNtMap(b, h, &vb, &sb, PAGE_WRITECOPY) == STATUS_SUCCESS, "map", "NtMapViewOfSection(B, "
                 "copy-on-write)") ||
        !KtCheck(Context, KtNtMap(c, h, &vc, &sc, PAGE_READONLY) == STATUS_SUCCESS, "map", "NtMapViewOfSection(C, "
                 "read-only)"))
        goto done;
    PVOID vbad;
    SIZE_T sbad;
    status = KtNtMap(a, (HANDLE)(ULONG_PTR)0x7FFC, &vbad, &sbad, PAGE_READONLY);
    KtCheck(Context, !NT_SUCCESS(status), "map_handle", "mapping through a handle that names nothing: 0x%x", status);
    ULONG k = (ULONG)KtRandomRange(Context, 0, pages - 1);
    for (ULONG i = 0; i < pages; i++) {
        if (!KtCheck(Context, KtNtTouch(a, (ULONG_PTR)va + i * PAGE_SIZE, TRUE, 40 + i) == STATUS_SUCCESS, "write", "A "
                     "writes page %u", i) ||
            !KtCheck(Context, KtNtTouch(b, (ULONG_PTR)vb + i * PAGE_SIZE, FALSE, 40 + i) == STATUS_SUCCESS, "shared",
                     "B does not read what A wrote in page %u of the section", i))
            goto done;
    }
    if (!KtCheck(Context, KtNtTouch(c, (ULONG_PTR)vc + k * PAGE_SIZE, FALSE, 40 + k) == STATUS_SUCCESS, "shared", "C "
                 "does not read what A wrote in page %u", k) ||
        !KtCheck(Context, KtNtTouch(b, (ULONG_PTR)vb + k * PAGE_SIZE, TRUE, 99) == STATUS_SUCCESS &&
                 KtNtTouch(b, (ULONG_PTR)vb + k * PAGE_SIZE, FALSE, 99) == STATUS_SUCCESS, "copy_on_write", "B writes "
                 "page %u of its copy-on-write view and reads it back", k) ||
        !KtCheck(Context, KtNtTouch(a, (ULONG_PTR)va + k * PAGE_SIZE, FALSE, 40 + k) == STATUS_SUCCESS &&
                 KtNtTouch(c, (ULONG_PTR)vc + k * PAGE_SIZE, FALSE, 40 + k) == STATUS_SUCCESS, "writer_only",
                 "A or C sees B's copy-on-write write to page %u", k))
        goto done;
    /* C ends with its view mapped: its view goes, the section stays. */
    ObDereferenceObject(c);
    c = NULL;
    if (!KtCheck(Context, sec->Tag == MI_SECTION_TAG && sec->MappedViews == 2, "process_end", "after process C ended "
                 "with a view mapped: MappedViews %u, expected 2 (its view unmapped with its address space)",
                 sec->MappedViews))
        goto done;
    /* The handle goes; the views keep the section alive. */
    ObCloseHandle(h, KernelMode);
    h = NULL;
    if (!KtCheck(Context, sec->Tag == MI_SECTION_TAG && sec->References == 0 &&
                 KtNtTouch(b, (ULONG_PTR)vb + ((k + 1) % pages) * PAGE_SIZE, FALSE, 40 + (k + 1) % pages) == STATUS_SUCCESS,
                 "handle_closed", "after the section's handle was closed the views must still show it"))
        goto done;
    status = KtNtUnmap(a, (ULONG_PTR)va + PAGE_SIZE / 2);
    va = NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS && sec->MappedViews == 1, "unmap", "NtUnmapViewOfSection(A): 0x%x",
                 status))
        goto done;
    PFN_NUMBER before = MmAvailablePages;
    status = KtNtUnmap(b, (ULONG_PTR)vb);
    vb = NULL;
    KtCheck(Context, status == STATUS_SUCCESS && MmAvailablePages == before + pages + 1, "last_unmap", "the last unmap "
            "(B): 0x%x; %lld frames given back, expected %u (the section's %u pages and B's private copy)", status,
            (LONG64)(MmAvailablePages - before), pages + 1, pages);
done:
    if (va)
        KtNtUnmap(a, (ULONG_PTR)va);
    if (vb)
        KtNtUnmap(b, (ULONG_PTR)vb);
    if (h)
        ObCloseHandle(h, KernelMode);
    if (c)
        ObDereferenceObject(c);
    if (b)
        ObDereferenceObject(b);
    if (a)
        ObDereferenceObject(a);
}
