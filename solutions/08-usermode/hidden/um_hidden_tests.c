/* um_hidden_tests.c - lab 08 hidden tests of the user-mode core: a storm of seeded probes
 * judged by an independent reading of the contract (addresses near the boundary, near 0,
 * near the top of the address space, every alignment, lengths from 0 to huge). */
#include "ktest.h"
#include "kuser.h"

static NTSTATUS KtExpectedProbe(ULONG_PTR Address, SIZE_T Length, ULONG Alignment)
{
    if (Alignment != 1 && Alignment != 2 && Alignment != 4 && Alignment != 8 && Alignment != 16)
        return STATUS_INVALID_PARAMETER;
    if (Length == 0)
        return STATUS_SUCCESS;
    if (Address % Alignment)
        return STATUS_DATATYPE_MISALIGNMENT;
    if (Address + Length < Address || Address + Length > MM_USER_PROBE_ADDRESS)
        return STATUS_ACCESS_VIOLATION;
    return STATUS_SUCCESS;
}

KTEST("probe.storm", KtTestProbeStorm)
{
    static const ULONG64 anchors[] = {0, 0x10000, MM_USER_PROBE_ADDRESS - 0x10000, MM_USER_PROBE_ADDRESS,
                                      0x0000800000000000ULL, 0xFFFF800000000000ULL, 0xFFFFFFFFFFFF0000ULL};
    static const ULONG aligns[] = {1, 2, 4, 8, 16, 0, 3, 64};
    for (ULONG i = 0; i < 4000; i++) {
        ULONG_PTR a = anchors[i % ARRAYSIZE(anchors)] + KtRandomRange(Context, 0, 0x1FFFF);
        ULONG al = aligns[(i / ARRAYSIZE(anchors)) % ARRAYSIZE(aligns)];
        if (KtRandomRange(Context, 0, 1))
            a &= ~(ULONG_PTR)(al ? al - 1 : 0);
        SIZE_T len;
        switch (i % 5) {
        case 0: len = 0; break;
        case 1: len = KtRandomRange(Context, 1, 64); break;
        case 2: len = KtRandomRange(Context, 1, 0x20000); break;
        case 3: len = (SIZE_T)0 - KtRandomRange(Context, 0, 0x20000); break;
        default: len = MM_USER_PROBE_ADDRESS - a + KtRandomRange(Context, 0, 2) - 1; break;
        }
        NTSTATUS want = KtExpectedProbe(a, len, al), got = ProbeForRead((PVOID)a, len, al);
        if (!KtRequireImplemented(Context, got, "ProbeForRead", "lab 08") ||
            !KtCheck(Context, got == want, "probe_read", "ProbeForRead(0x%llx, 0x%llx, %u) returned 0x%08X, expected "
                     "0x%08X", (ULONG64)a, (ULONG64)len, al, (ULONG)got, (ULONG)want))
            return;
        if (want != STATUS_SUCCESS || len == 0) {
            got = ProbeForWrite((PVOID)a, len, al);
            if (!KtCheck(Context, got == want, "probe_write", "ProbeForWrite(0x%llx, 0x%llx, %u) returned 0x%08X, "
                         "expected 0x%08X", (ULONG64)a, (ULONG64)len, al, (ULONG)got, (ULONG)want))
                return;
        }
    }
}
