/* probe_tests.c - lab 08 public tests of ProbeForRead and ProbeForWrite's checks (no
 * page is touched here: every write probe below fails before its touches, and a read
 * probe never touches): the alignment argument, Length 0, a misaligned address, the
 * boundary exactly, one byte past it, wrapping, kernel addresses, and the order of the
 * checks. Every seed covers every case with seeded lengths and addresses. */
#include "lab08_support.h"

/* One probe of each kind (Write only where it must fail before touching). */
static BOOLEAN KtProbeCase(PKTEST_CONTEXT Context, PCSTR Check, PCSTR Clause, ULONG_PTR Address, SIZE_T Length,
                           ULONG Alignment, NTSTATUS Expected, BOOLEAN AlsoWrite)
{
    ULONG64 fixups = KiFixupCount;
    NTSTATUS r = ProbeForRead((PVOID)Address, Length, Alignment);
    if (!KtRequireImplemented(Context, r, "ProbeForRead", "lab 08") ||
        !KtCheck(Context, r == Expected, Check, "ProbeForRead(%p, 0x%llx, %u) returned 0x%08X (%s), expected 0x%08X (%s): "
                 "%s", (PVOID)Address, (ULONG64)Length, Alignment, (ULONG)r, KtStatusName(r), (ULONG)Expected,
                 KtStatusName(Expected), Clause) ||
        !KtCheck(Context, KiFixupCount == fixups, "read_touches_nothing", "ProbeForRead(%p, 0x%llx, %u) touched the "
                 "buffer (%llu faults went to the fixup table): ProbeForRead checks addresses only", (PVOID)Address,
                 (ULONG64)Length, Alignment, KiFixupCount - fixups))
        return FALSE;
    if (!AlsoWrite)
        return TRUE;
    r = ProbeForWrite((PVOID)Address, Length, Alignment);
    if (!KtRequireImplemented(Context, r, "ProbeForWrite", "lab 08") ||
        !KtCheck(Context, r == Expected, Check, "ProbeForWrite(%p, 0x%llx, %u) returned 0x%08X (%s), expected 0x%08X "
                 "(%s): %s", (PVOID)Address, (ULONG64)Length, Alignment, (ULONG)r, KtStatusName(r), (ULONG)Expected,
                 KtStatusName(Expected), Clause))
        return FALSE;
    return KtCheck(Context, KiFixupCount == fixups, "write_checks_first", "ProbeForWrite(%p, 0x%llx, %u) touched the "
                   "buffer (%llu faults went to the fixup table) although its checks fail: the checks come before "
                   "any touch", (PVOID)Address, (ULONG64)Length, Alignment, KiFixupCount - fixups);
}

KTEST("probe.checks", KtTestProbeChecks)
{
    static const ULONG aligns[] = {1, 2, 4, 8, 16};
    static const ULONG badAligns[] = {0, 3, 5, 12, 32};
    const ULONG_PTR top = MmUserProbeAddress;
    if (!KtCheck(Context, top == 0x00007FFFFFFF0000ULL, "boundary", "MmUserProbeAddress is 0x%llx, expected "
                 "0x7FFFFFFF0000", (ULONG64)top))
        return;
    for (ULONG k = 0; k < ARRAYSIZE(aligns); k++) {
        ULONG a = aligns[k];
        SIZE_T len = a * KtRandomRange(Context, 1, 0x1000 / a);
        ULONG_PTR user = ALIGN_DOWN(KtRandomRange(Context, 0x10000, 0x7FFF00000000ULL), 16);
        ULONG_PTR kernel = 0xFFFF800000000000ULL + ALIGN_DOWN(KtRandomRange(Context, 0, 0x7FFFFFFFFFFFULL), 16);
        /* The alignment argument comes first, even with Length 0. */
        ULONG bad = badAligns[k];
        if (!KtProbeCase(Context, "bad_alignment_argument", "an Alignment other than 1, 2, 4, 8, 16 is "
                         "STATUS_INVALID_PARAMETER, whatever Length is", user, 0, bad, STATUS_INVALID_PARAMETER, TRUE) ||
            !KtProbeCase(Context, "bad_alignment_argument", "an Alignment other than 1, 2, 4, 8, 16 is "
                         "STATUS_INVALID_PARAMETER", user, len, bad, STATUS_INVALID_PARAMETER, TRUE))
            return;
        /* Length 0 checks nothing else. */
        if (!KtProbeCase(Context, "length_zero", "Length 0 succeeds without any other check (a kernel address)", kernel,
                         0, a, STATUS_SUCCESS, TRUE) ||
            (a > 1 && !KtProbeCase(Context, "length_zero", "Length 0 succeeds without any other check (a misaligned "
                                   "address)", user + 1, 0, a, STATUS_SUCCESS, TRUE)))
            return;
        /* Misaligned addresses, also when the range is bad too (alignment is checked first). */
        if (a > 1) {
            ULONG_PTR off = KtRandomRange(Context, 1, a - 1);
            if (!KtProbeCase(Context, "misaligned", "an Address that is not a multiple of Alignment is "
                             "STATUS_DATATYPE_MISALIGNMENT", user + off, len, a, STATUS_DATATYPE_MISALIGNMENT, TRUE) ||
                !KtProbeCase(Context, "misaligned_first", "alignment is checked before the range: a misaligned "
                             "kernel address is STATUS_DATATYPE_MISALIGNMENT", kernel + off, len, a,
                             STATUS_DATATYPE_MISALIGNMENT, TRUE))
                return;
        }
        /* The boundary: ending exactly at MmUserProbeAddress is allowed, one byte more is not. */
        if (!KtProbeCase(Context, "end_at_boundary", "a buffer ending exactly at MmUserProbeAddress is in user space",
                         top - len, len, a, STATUS_SUCCESS, FALSE) ||
            !KtProbeCase(Context, "past_boundary", "a buffer ending one byte past MmUserProbeAddress is "
                         "STATUS_ACCESS_VIOLATION", top - len + a, len, a, STATUS_ACCESS_VIOLATION, TRUE) ||
            !KtProbeCase(Context, "past_boundary", "a buffer starting at MmUserProbeAddress is STATUS_ACCESS_VIOLATION",
                         top, a, a, STATUS_ACCESS_VIOLATION, TRUE) ||
            !KtProbeCase(Context, "kernel_address", "a kernel address is STATUS_ACCESS_VIOLATION", kernel, len, a,
                         STATUS_ACCESS_VIOLATION, TRUE))
            return;
        /* Wrapping around the top of the address space: the end is below the start. */
        ULONG_PTR start = ALIGN_DOWN(KtRandomRange(Context, 0x10000, 0x100000), 16);
        SIZE_T wrap = (SIZE_T)(0 - start) + ALIGN_DOWN(KtRandomRange(Context, 0, 0x10000), 16);
        if (!KtProbeCase(Context, "wrap", "a buffer whose end wraps past the top of the address space (back into "
                         "user space) is STATUS_ACCESS_VIOLATION", start, wrap, a, STATUS_ACCESS_VIOLATION, TRUE) ||
            !KtProbeCase(Context, "wrap", "a buffer whose end wraps to 0 is STATUS_ACCESS_VIOLATION", start,
                         (SIZE_T)(0 - start), a, STATUS_ACCESS_VIOLATION, TRUE))
            return;
        /* A plain user buffer, never touched by a read probe. */
        if (!KtProbeCase(Context, "user_buffer", "a user buffer (its pages may be absent) is STATUS_SUCCESS", user, len,
                         a, STATUS_SUCCESS, FALSE))
            return;
    }
}

/* ProbeForWrite's touches, in a process's address space (attached): every page of the
 * buffer is probed for writing and keeps its contents; a read-only page in the middle, a
 * last byte on an absent page, an absent first page give STATUS_ACCESS_VIOLATION. */
#define KT_TOUCH_RW_VA 0x0000000010000000ULL   /* 3 read-write pages, then nothing */
#define KT_TOUCH_MIX_VA 0x0000000010100000ULL  /* read-write, read-only, read-write */

static BOOLEAN KtSameContents(PEPROCESS Process, ULONG_PTR Va, const UCHAR *Expected, SIZE_T Size)
{
    static UCHAR now[3 * PAGE_SIZE];
    if (!NT_SUCCESS(PsReadUserMemory(Process, Va, now, Size)))
        return FALSE;
    for (SIZE_T i = 0; i < Size; i++)
        if (now[i] != Expected[i])
            return FALSE;
    return TRUE;
}

static VOID KtTestProbeTouchBody(PKTEST_CONTEXT Context);

KTEST("probe.touch", KtTestProbeTouch)
{
    KtTestProbeTouchBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestProbeTouchBody(PKTEST_CONTEXT Context)
{
    static UCHAR fill[3 * PAGE_SIZE];
    for (ULONG i = 0; i < sizeof(fill); i++)
        fill[i] = (UCHAR)(KtRandom(Context) | 1);
    static KT_USER_PARAMS none;
    PEPROCESS p = KtUserCreate(Context, "touch", &none);
    if (!p)
        return;
    if (!KtUserMap(Context, p, KT_TOUCH_RW_VA, 3, MM_PROTECT_WRITE, fill, sizeof(fill)) ||
        !KtUserMap(Context, p, KT_TOUCH_MIX_VA, 1, MM_PROTECT_WRITE, fill, PAGE_SIZE) ||
        !KtUserMap(Context, p, KT_TOUCH_MIX_VA + PAGE_SIZE, 1, 0, fill + PAGE_SIZE, PAGE_SIZE) ||
        !KtUserMap(Context, p, KT_TOUCH_MIX_VA + 2 * PAGE_SIZE, 1, MM_PROTECT_WRITE, fill + 2 * PAGE_SIZE, PAGE_SIZE)) {
        ObDereferenceObject(p);
        return;
    }
    static const ULONG aligns[] = {1, 2, 4, 8, 16};
    ULONG a = aligns[KtRandomRange(Context, 0, 4)];
    struct {
        ULONG_PTR Va;
        SIZE_T Length;
        NTSTATUS Expected;
        PCSTR Check, Clause;
    } cases[] = {
        {KT_TOUCH_RW_VA + ALIGN_DOWN(KtRandomRange(Context, 0, 0x800), 16), a * KtRandomRange(Context, 1, 0x40),
         STATUS_SUCCESS, "writable", "a buffer inside one read-write page"},
        {KT_TOUCH_RW_VA + ALIGN_DOWN(KtRandomRange(Context, 0, 0xF00), 16), 2 * PAGE_SIZE, STATUS_SUCCESS, "writable",
         "a buffer over three read-write pages"},
        {KT_TOUCH_MIX_VA + ALIGN_DOWN(KtRandomRange(Context, 0, 0xF00), 16), 2 * PAGE_SIZE, STATUS_ACCESS_VIOLATION,
         "every_page", "a read-only page in the middle of the buffer (every page is touched)"},
        {KT_TOUCH_RW_VA + 3 * PAGE_SIZE - 16 * KtRandomRange(Context, 1, 8), 16 * 8 + 16, STATUS_ACCESS_VIOLATION,
         "last_page", "the buffer's last bytes on an absent page (the page of the last byte is touched)"},
        {KT_TOUCH_RW_VA + 3 * PAGE_SIZE + ALIGN_DOWN(KtRandomRange(Context, 0, 0x800), 16), 16, STATUS_ACCESS_VIOLATION,
         "absent", "a buffer on an absent page"},
        {KT_TOUCH_MIX_VA + PAGE_SIZE + ALIGN_DOWN(KtRandomRange(Context, 0, 0x800), 16), 16, STATUS_ACCESS_VIOLATION,
         "read_only", "a buffer on a read-only page"},
        {KT_TOUCH_RW_VA + 3 * PAGE_SIZE - 16, 16, STATUS_SUCCESS, "writable", "a buffer ending exactly at the end of "
         "the last read-write page (the page after it is not touched)"},
    };
    KeStackAttachProcess(p);
    for (ULONG i = 0; i < ARRAYSIZE(cases); i++) {
        NTSTATUS r = ProbeForWrite((PVOID)cases[i].Va, cases[i].Length, a);
        if (!KtRequireImplemented(Context, r, "ProbeForWrite", "lab 08") ||
            !KtCheck(Context, r == cases[i].Expected, cases[i].Check, "ProbeForWrite(%p, 0x%llx, %u) returned 0x%08X "
                     "(%s), expected 0x%08X (%s): %s", (PVOID)cases[i].Va, (ULONG64)cases[i].Length, a, (ULONG)r,
                     KtStatusName(r), (ULONG)cases[i].Expected, KtStatusName(cases[i].Expected), cases[i].Clause))
            break;
        NTSTATUS rr = ProbeForRead((PVOID)(cases[i].Va + 3 * PAGE_SIZE * 16), cases[i].Length, a);
        if (!KtCheck(Context, rr == STATUS_SUCCESS, "read_touches_nothing", "ProbeForRead(%p, 0x%llx, %u) of absent "
                     "pages returned 0x%08X: it checks addresses only", (PVOID)(cases[i].Va + 3 * PAGE_SIZE * 16),
                     (ULONG64)cases[i].Length, a, (ULONG)rr))
            break;
    }
    KeUnstackDetachProcess();
    KtCheck(Context, KtSameContents(p, KT_TOUCH_RW_VA, fill, sizeof(fill)) &&
            KtSameContents(p, KT_TOUCH_MIX_VA, fill, PAGE_SIZE) &&
            KtSameContents(p, KT_TOUCH_MIX_VA + 2 * PAGE_SIZE, fill + 2 * PAGE_SIZE, PAGE_SIZE), "contents_kept",
            "after the probes the pages' bytes changed: ProbeForWrite writes back the byte it read");
    ObDereferenceObject(p);
}
