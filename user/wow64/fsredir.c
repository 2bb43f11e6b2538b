/* fsredir.c - the wow64 layer's own entries (w16f): Wow64DisableWow64FsRedirection and
 * Wow64RevertWow64FsRedirection, exported by the 32-bit ntdll (tools/genwow64.py: stubs
 * whose numbers start at WOW64_LAYER_INDEX) and served here, in 64-bit mode, without a
 * system call: the redirection state is the layer's per-thread data (labs/09-wow64/
 * redirect.c). On NT, kernel32's functions return a BOOL; these return the NTSTATUS of the
 * lab's Wow64DisableFsRedirection / Wow64RevertFsRedirection. */
#include "wow64t.h"
#include "wow64layer.h"

/* Args: PTR32 *OldValue. The old state (0 enabled, 1 disabled) is written back as a 32-bit
 * PVOID on success; a 0 slot reaches the lab's routine as NULL. */
static NTSTATUS whWow64DisableWow64FsRedirection(PULONG Args)
{
    PVOID old = NULL;
    NTSTATUS status = Wow64DisableFsRedirection(Args[0] ? &old : NULL);
    if (NT_SUCCESS(status) && Args[0])
        *(PTR32 *)Wow64Ptr(Args[0]) = (PTR32)(ULONG_PTR)old;
    return status;
}

/* Args: OldValue (what a disable gave). */
static NTSTATUS whWow64RevertWow64FsRedirection(PULONG Args)
{
    return Wow64RevertFsRedirection(Wow64Ptr(Args[0]));
}

static const PWOW64_THUNK Wow64LayerTable[] = {
    whWow64DisableWow64FsRedirection,
    whWow64RevertWow64FsRedirection,
};

NTSTATUS Wow64LayerDispatch(ULONG Index, PULONG Args)
{
    if (Index >= sizeof(Wow64LayerTable) / sizeof(Wow64LayerTable[0]))
        return (NTSTATUS)0xC000001CL; /* STATUS_INVALID_SYSTEM_SERVICE */
    return Wow64LayerTable[Index](Args);
}
