/* wow64run.c - starting a 32-bit process (lab 09's framework): after the 32-bit program and
 * its 32-bit ntdll are mapped from \SystemRoot\SysWOW64, map the wow64 layer (wow64.dll and
 * the 64-bit ntdll it imports) from \SystemRoot\System32, tell the layer where the program
 * starts and where ntdll32's Wow64Transition is (its exported Wow64StartBlock), mark the
 * process WOW64 with its address limit, and start the first thread in the layer
 * (Wow64LdrpInitialize), which enters the program in compatibility mode. The 64 KiB above
 * the limit is reserved (no access), as NT does. The layer and
 * Wow64Transition must lie below 4 GiB: 32-bit code names them in a 32-bit far pointer. */
#include "ldr.h"
#include "ps.h"
#include "rtl.h"
#include "wow64t.h"

static const LDR_IMAGE *PspFindImage(const LDR_PROCESS_IMAGES *Images, PCSTR Name)
{
    for (ULONG i = 0; i < Images->Count; i++) {
        PCSTR a = Images->Images[i].Name, b = Name;
        while (*a && (*a | 0x20) == (*b | 0x20))
            a++, b++;
        if (*a == 0 && *b == 0)
            return &Images->Images[i];
    }
    return NULL;
}

NTSTATUS PsPrepareWow64Process(PEPROCESS Process, const LDR_PROCESS_IMAGES *Images32, PULONG_PTR StartAddress)
{
    *StartAddress = 0;
    if (Images32->Count == 0 || Images32->Images[0].Machine != IMAGE_FILE_MACHINE_I386)
        return STATUS_INVALID_IMAGE_FORMAT;
    const LDR_IMAGE *program = &Images32->Images[0];
    const LDR_IMAGE *ntdll32 = PspFindImage(Images32, "ntdll.dll");
    if (ntdll32 == NULL)
        return STATUS_DLL_NOT_FOUND;
    static LDR_PROCESS_IMAGES layer;
    NTSTATUS status = LdrMapProcessImages(Process, "wow64.dll", IMAGE_FILE_MACHINE_AMD64, &layer);
    if (!NT_SUCCESS(status))
        return status;
    ULONG_PTR init = LdrFindExport(&layer.Images[0], "Wow64LdrpInitialize");
    ULONG_PTR block = LdrFindExport(&layer.Images[0], "Wow64StartBlock");
    ULONG_PTR peb32 = LdrFindExport(&layer.Images[0], "Wow64Peb32");
    ULONG_PTR transition = LdrFindExport(ntdll32, "Wow64Transition");
    /* w16x: exceptions in 32-bit code - ntdll32's dispatcher (in the start block), the layer's
     * Wow64PrepareForException written into the 64-bit ntdll's pointer of that name (the
     * loader's part on NT). (w16t: each thread's TEB32 is the base of FS (0x53) while it runs:
     * kernel/ke/thread.c.) */
    ULONG_PTR dispatcher32 = LdrFindExport(ntdll32, "KiUserExceptionDispatcher");
    ULONG_PTR prepare = LdrFindExport(&layer.Images[0], "Wow64PrepareForException");
    ULONG_PTR hook = 0;
    for (ULONG i = 1; i < layer.Count; i++)
        if (layer.Images[i].Machine == IMAGE_FILE_MACHINE_AMD64 && strcmp(layer.Images[i].Name, "ntdll.dll") == 0)
            hook = LdrFindExport(&layer.Images[i], "Wow64PrepareForException");
    ULONG_PTR layerEnd = layer.Images[0].Base + layer.Images[0].SizeOfImage;
    LdrFreeImageInfo(&layer); /* the frames are the address space's now */
    if (!init || !block || !peb32 || !transition)
        return STATUS_ENTRYPOINT_NOT_FOUND;
    if (layerEnd > 0x100000000ULL || transition + 6 > 0x100000000ULL)
        return STATUS_CONFLICTING_ADDRESSES;
    BOOLEAN laa = (program->Characteristics & IMAGE_FILE_LARGE_ADDRESS_AWARE) != 0;
    WOW64_START_BLOCK start = {(ULONG)program->EntryPoint, (ULONG)program->Base, (ULONG)transition, laa,
                               (ULONG)dispatcher32};
    status = PsWriteUserMemory(Process, block, &start, sizeof(start));
    if (!NT_SUCCESS(status))
        return status;
    if (hook && prepare && dispatcher32 && dispatcher32 < 0x100000000ULL) {
        ULONG64 routine = prepare;
        status = PsWriteUserMemory(Process, hook, &routine, sizeof(routine));
        if (!NT_SUCCESS(status))
            return status;
    }
    /* The 64 KiB just above the limit stays reserved, as on NT: an allocator bounded by
     * ZeroBits (2 GiB, 4 GiB) then never chooses a region that ends above the limit. */
    ULONG_PTR limit = laa ? MM_HIGHEST_USER_ADDRESS_WOW64_LAA : MM_HIGHEST_USER_ADDRESS_WOW64;
    PVOID guard = (PVOID)(limit + 1);
    SIZE_T guardSize = 0x10000;
    status = MmAllocateVirtualMemory(Process, &guard, 0, &guardSize, MEM_RESERVE, PAGE_NOACCESS);
    if (!NT_SUCCESS(status))
        return status;
    status = PsSetProcessWow64(Process, (ULONG)peb32, (ULONG)limit);
    if (!NT_SUCCESS(status))
        return status;
    *StartAddress = init;
    return STATUS_SUCCESS;
}
