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
    if (OldValue == NULL)
        return STATUS_INVALID_PARAMETER;
    PWOW64_THREAD_DATA thread = Wow64CurrentThreadData();
    *OldValue = thread->FsRedirectionDisabled;
    thread->FsRedirectionDisabled = WOW64_FSREDIR_DISABLED;
    return STATUS_SUCCESS;
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
    if (OldValue != WOW64_FSREDIR_ENABLED && OldValue != WOW64_FSREDIR_DISABLED)
        return STATUS_INVALID_PARAMETER;
    Wow64CurrentThreadData()->FsRedirectionDisabled = OldValue;
    return STATUS_SUCCESS;
}

static CHAR Wow64Lower(CHAR c)
{
    return (c >= 'A' && c <= 'Z') ? (CHAR)(c + ('a' - 'A')) : c;
}

/* Length of Prefix when Name starts with it (ASCII case ignored) and the match ends at the
 * end of Name or at a '\'; else 0. */
static ULONG Wow64MatchDirectory(const STRING *Name, PCSTR Prefix)
{
    ULONG n = 0;
    while (Prefix[n]) {
        if (n >= Name->Length || Wow64Lower(Name->Buffer[n]) != Wow64Lower(Prefix[n]))
            return 0;
        n++;
    }
    if (n < Name->Length && Name->Buffer[n] != '\\')
        return 0;
    return n;
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
    static const CHAR system32[] = "\\SystemRoot\\System32";
    static const CHAR syswow64[] = "\\SystemRoot\\SysWOW64";
    static const CHAR sysnative[] = "\\SystemRoot\\Sysnative";
    static const CHAR exempt[] = "\\SystemRoot\\System32\\drivers\\etc";
    if (Name == NULL || Name->Buffer == NULL || Redirected == NULL)
        return FALSE;
    if (Wow64CurrentThreadData()->FsRedirectionDisabled != WOW64_FSREDIR_ENABLED)
        return FALSE;
    PCSTR target;
    ULONG matched = Wow64MatchDirectory(Name, system32);
    if (matched != 0) {
        if (Wow64MatchDirectory(Name, exempt) != 0)
            return FALSE;
        target = syswow64;
    } else {
        matched = Wow64MatchDirectory(Name, sysnative);
        if (matched == 0)
            return FALSE;
        target = system32;
    }
    ULONG targetLength = 0;
    while (target[targetLength])
        targetLength++;
    ULONG length = targetLength + (Name->Length - matched);
    if (length > Redirected->MaximumLength || Redirected->Buffer == NULL)
        return FALSE;
    /* The rest first: Redirected may be Name's own buffer. */
    ULONG rest = Name->Length - matched;
    if (targetLength > matched) {
        for (ULONG i = rest; i > 0; i--)
            Redirected->Buffer[targetLength + i - 1] = Name->Buffer[matched + i - 1];
    } else {
        for (ULONG i = 0; i < rest; i++)
            Redirected->Buffer[targetLength + i] = Name->Buffer[matched + i];
    }
    for (ULONG i = 0; i < targetLength; i++)
        Redirected->Buffer[i] = target[i];
    Redirected->Length = (USHORT)length;
    return TRUE;
}
