/* wow64_redirect_tests.c - lab 09's redirection checkpoint: the per-thread disable/revert
 * (nested, bad values, another thread) and Wow64RedirectName on seeded names of every kind
 * (System32 and below in any case, System32 alone, System32x, the exempt drivers\etc,
 * drivers\etcx, Sysnative, other paths, a Length that stops inside "System32", a result
 * that does not fit, a thread that disabled it). Names are counted: the bytes after Length
 * are poison, never a terminator; the output buffer is poisoned and must keep its poison
 * past the new Length. The kernel reports `KTEST VALUE wow64.redirect name <i> <kind>
 * <TRUE|FALSE> <length> <text>`; grader/models/lab09.py rebuilds every name from the seed
 * and judges the result. */
#include "ktest.h"
#include "wow64_support.h"

#define KTR_NAMES 24
#define KTR_POISON 0xD7

static PCSTR const KtrFiles[4] = {"ntdll.dll", "kernel32.dll", "wowtest.exe", "config\\system"};

/* Copies S flipping the case of letter k when bit (k mod 64) of Mask is set. */
static ULONG KtrFlip(PCHAR Out, PCSTR S, ULONG64 Mask)
{
    ULONG k = 0;
    for (; S[k]; k++) {
        CHAR c = S[k];
        if (((Mask >> (k % 64)) & 1) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            c ^= 0x20;
        Out[k] = c;
    }
    return k;
}

static ULONG KtrCat(PCHAR Out, ULONG Length, PCSTR S)
{
    while (*S)
        Out[Length++] = *S++;
    return Length;
}

static BOOLEAN KtrState(PKTEST_CONTEXT Context, ULONG Thread, PVOID Want, PCSTR Step)
{
    PVOID seen = KtwThreadData[Thread].FsRedirectionDisabled;
    return KtCheck(Context, seen == Want, "per_thread_state",
                   "%s: thread %u's redirection state is %s (%p), expected %s", Step, Thread,
                   seen == WOW64_FSREDIR_DISABLED ? "disabled" : seen == WOW64_FSREDIR_ENABLED ? "enabled" : "garbage",
                   seen, Want == WOW64_FSREDIR_DISABLED ? "disabled" : "enabled");
}

static BOOLEAN KtrDisableRevert(PKTEST_CONTEXT Context)
{
    KtwCurrentThread = 0;
    KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    KtwThreadData[1].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    PVOID old1 = (PVOID)0x5A5A, old2 = (PVOID)0x5A5A;
    NTSTATUS status = Wow64DisableFsRedirection(&old1);
    if (!KtRequireImplemented(Context, status, "Wow64DisableFsRedirection", "lab 09"))
        return FALSE;
    KtCheck(Context, status == STATUS_SUCCESS && old1 == WOW64_FSREDIR_ENABLED, "disable_returns_old",
            "first disable: status 0x%08X, *OldValue %p (expected STATUS_SUCCESS, WOW64_FSREDIR_ENABLED)",
            (ULONG)status, old1);
    KtrState(Context, 0, WOW64_FSREDIR_DISABLED, "after a disable");
    KtrState(Context, 1, WOW64_FSREDIR_ENABLED, "thread 0 disabled (another thread)");
    status = Wow64DisableFsRedirection(&old2);
    KtCheck(Context, status == STATUS_SUCCESS && old2 == WOW64_FSREDIR_DISABLED, "disable_returns_old",
            "nested disable: status 0x%08X, *OldValue %p (expected STATUS_SUCCESS, WOW64_FSREDIR_DISABLED)",
            (ULONG)status, old2);
    status = Wow64DisableFsRedirection(NULL);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER, "disable_null", "disable with OldValue NULL returned 0x%08X, "
            "expected STATUS_INVALID_PARAMETER", (ULONG)status);
    status = Wow64RevertFsRedirection((PVOID)7);
    KtCheck(Context, status == STATUS_INVALID_PARAMETER, "revert_bad_value", "revert with OldValue 7 returned 0x%08X, "
            "expected STATUS_INVALID_PARAMETER", (ULONG)status);
    KtrState(Context, 0, WOW64_FSREDIR_DISABLED, "after refused calls");
    /* Another thread disables and reverts on its own. */
    KtwCurrentThread = 1;
    PVOID other = (PVOID)0x5A5A;
    status = Wow64DisableFsRedirection(&other);
    KtCheck(Context, status == STATUS_SUCCESS && other == WOW64_FSREDIR_ENABLED, "per_thread_state",
            "thread 1's first disable while thread 0 is disabled: status 0x%08X, *OldValue %p (expected its own "
            "state: WOW64_FSREDIR_ENABLED)", (ULONG)status, other);
    status = Wow64RevertFsRedirection(other);
    KtrState(Context, 1, WOW64_FSREDIR_ENABLED, "thread 1 reverted");
    KtrState(Context, 0, WOW64_FSREDIR_DISABLED, "thread 1 reverted (thread 0 untouched)");
    KtwCurrentThread = 0;
    status = Wow64RevertFsRedirection(old2);
    KtCheck(Context, status == STATUS_SUCCESS, "revert", "revert returned 0x%08X", (ULONG)status);
    KtrState(Context, 0, WOW64_FSREDIR_DISABLED, "the inner revert (nested: still disabled)");
    status = Wow64RevertFsRedirection(old1);
    KtrState(Context, 0, WOW64_FSREDIR_ENABLED, "the outer revert");
    return TRUE;
}

KTEST("wow64.redirect", KtWow64Redirect)
{
    KtSetBudget(Context, 5000);
    if (!KtrDisableRevert(Context))
        return;
    static CHAR name[128], out[128], orig[128];
    for (ULONG i = 0; i < KTR_NAMES; i++) {
        ULONG64 r0 = KtRandom(Context), r1 = KtRandom(Context);
        ULONG kind = i < 20 ? i % 10 : (ULONG)(r1 % 10);
        PCSTR file = KtrFiles[r1 % 4];
        for (ULONG k = 0; k < sizeof(name); k++)
            name[k] = out[k] = (CHAR)(KTR_POISON ^ k);
        ULONG n = KtrFlip(name, "\\SystemRoot\\System32", r0);
        ULONG length;
        USHORT room = 0;
        KtwCurrentThread = 0;
        KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
        switch (kind) {
        case 1: length = n; break;
        case 2: length = KtrCat(name, KtrCat(name, n, "x\\"), file); break;
        case 3:
            n = KtrFlip(name, "\\SystemRoot\\System32\\drivers\\etc", r0);
            length = (r1 & 4) ? n : KtrCat(name, n, "\\hosts");
            break;
        case 4: length = KtrCat(name, KtrCat(name, n, "\\drivers\\etcx\\"), file); break;
        case 5: length = KtrCat(name, KtrCat(name, KtrFlip(name, "\\SystemRoot\\Sysnative", r0), "\\"), file); break;
        case 6:
            length = (r1 & 4) ? KtrCat(name, 0, "\\Device\\WowSample") : KtrCat(name, KtrCat(name, 0, "\\SystemRoot\\Fonts\\"), file);
            break;
        case 7:
            KtrCat(name, KtrCat(name, n, "\\"), file);
            length = n - 1 - (ULONG)((r1 >> 3) % 3);
            break;
        case 8:
            length = KtrCat(name, KtrCat(name, n, "\\"), file);
            room = (USHORT)(length - 1);     /* SysWOW64 is as long as System32: one byte short */
            break;
        case 9:
            length = KtrCat(name, KtrCat(name, n, "\\"), file);
            KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_DISABLED;
            break;
        default: length = KtrCat(name, KtrCat(name, n, "\\"), file); break;
        }
        if (room == 0)
            room = (USHORT)(length + 8);
        RtlCopyMemory(orig, name, sizeof(name));
        STRING in = {(USHORT)length, (USHORT)(length + 2), name};
        STRING red = {0x7777, room, out};
        BOOLEAN result = Wow64RedirectName(&in, &red);
        KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
        BOOLEAN nameKept = memcmp(name, orig, sizeof(name)) == 0, tailKept = TRUE;
        ULONG outLength = red.Length;
        if (result) {
            for (ULONG k = outLength; k < sizeof(out); k++)
                if (out[k] != (CHAR)(KTR_POISON ^ k))
                    tailKept = FALSE;
            KtCheck(Context, tailKept, "nothing_past_length", "name %u (%.*s): the redirected buffer was written past "
                    "its new Length %u (a terminator? the old tail?)", i, (int)length, name, outLength);
            KtCheck(Context, red.MaximumLength == room && red.Buffer == out, "caller_buffer",
                    "name %u: Redirected's MaximumLength/Buffer changed (%u/%p, given %u/%p)", i, red.MaximumLength,
                    red.Buffer, room, out);
        } else {
            BOOLEAN untouched = red.Length == 0x7777 && red.MaximumLength == room && red.Buffer == out;
            for (ULONG k = 0; k < sizeof(out); k++)
                if (out[k] != (CHAR)(KTR_POISON ^ k))
                    untouched = FALSE;
            KtCheck(Context, untouched, "false_leaves_untouched", "name %u (%.*s): FALSE, but Redirected or its buffer "
                    "was changed", i, (int)length, name);
        }
        KtCheck(Context, nameKept && in.Length == length && in.Buffer == name, "name_untouched",
                "name %u: the input name was changed", i);
        CHAR shown[128];
        ULONG m = result ? (outLength < sizeof(shown) - 1 ? outLength : sizeof(shown) - 1) : 0;
        for (ULONG k = 0; k < m; k++)
            shown[k] = (out[k] > ' ' && out[k] < 0x7F) ? out[k] : '?';
        shown[m] = 0;
        KtValue(Context, "name", "%u %u %s %u %s", i, kind, result ? "TRUE" : "FALSE", result ? outLength : 0,
                m ? shown : "-");
    }
    KtwCurrentThread = 0;
}
