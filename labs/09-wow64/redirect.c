/* redirect.c - lab 09: file system redirection. A 32-bit program that opens
 * \SystemRoot\System32\x means its own 32-bit x: the wow64 layer opens
 * \SystemRoot\SysWOW64\x instead. A thread can turn this off for itself
 * (Wow64DisableWow64FsRedirection) and back (Wow64RevertWow64FsRedirection); the state is
 * per thread (Wow64CurrentThreadData()->FsRedirectionDisabled), never per process.
 * IRQL: user mode (PASSIVE_LEVEL). */
#include "wow64t.h"

/*
 * Wow64DisableFsRedirection - turns redirection off for the calling thread.
 * Contract: OldValue NULL: STATUS_INVALID_PARAMETER, nothing changed. Otherwise
 * *OldValue = the thread's state before the call (WOW64_FSREDIR_ENABLED or
 * WOW64_FSREDIR_DISABLED: a second disable returns DISABLED), the state becomes
 * WOW64_FSREDIR_DISABLED, STATUS_SUCCESS. Other threads are not affected.
 */
NTSTATUS Wow64DisableFsRedirection(PVOID *OldValue)
{
    /* LAB 09: save the thread's state in *OldValue, then disable (Wow64CurrentThreadData()). */
    UNREFERENCED_PARAMETER(OldValue);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * Wow64RevertFsRedirection - restores the state a disable saved.
 * Contract: OldValue must be WOW64_FSREDIR_ENABLED or WOW64_FSREDIR_DISABLED (else
 * STATUS_INVALID_PARAMETER, nothing changed); the calling thread's state becomes exactly
 * OldValue (so nested disable/revert pairs unwind: reverting the inner pair leaves
 * redirection off), STATUS_SUCCESS. Other threads are not affected.
 */
NTSTATUS Wow64RevertFsRedirection(PVOID OldValue)
{
    /* LAB 09: check OldValue, then make it the thread's state. */
    UNREFERENCED_PARAMETER(OldValue);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * Wow64RedirectName - the name a 32-bit thread's open of Name really opens.
 * Contract: Name is counted (Length bytes; no terminator; the bytes after it are not part
 * of it). Returns FALSE and leaves Redirected untouched when: Name or its Buffer is NULL,
 * the calling thread disabled redirection, no rule below applies, or the result would not
 * fit in Redirected->MaximumLength. Rules (each directory name matched ignoring ASCII
 * case, as a whole component: followed by the end of Name or by '\'):
 *   - \SystemRoot\System32\drivers\etc (and below): not redirected (an exempt folder);
 *   - \SystemRoot\System32 (and below) -> \SystemRoot\SysWOW64 + the rest;
 *   - \SystemRoot\Sysnative (and below) -> \SystemRoot\System32 + the rest (the way a
 *     32-bit program names the real, 64-bit folder).
 * When a rule applies, Redirected->Buffer holds the new name's bytes (no terminator,
 * nothing written past Length), Redirected->Length its length, and the result is TRUE.
 */
BOOLEAN Wow64RedirectName(const STRING *Name, PSTRING Redirected)
{
    /* LAB 09: match \SystemRoot\System32 (not drivers\etc) and \SystemRoot\Sysnative as whole components, ignoring case; build the new name in Redirected. */
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Redirected);
    return FALSE;
}
