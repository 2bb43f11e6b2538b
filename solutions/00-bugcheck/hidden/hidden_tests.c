/* hidden_tests.c - lab 00 hidden tests: every stop rule of the walker on fabricated
 * chains (each case on every seed, the seed varies the layout and the values), and
 * every edge of the symbol lookup (first and last byte of every function, every gap,
 * outputs left alone when not found, an empty and a one-entry table, O(log n)). */
#include "arch.h"
#include "ke.h"
#include "ktest.h"
#include "mm.h"
#include "rtl.h"

/* ---- RtlpWalkFrameChain on a fabricated stack ----
 * KtS[KT_LOW .. KT_HIGH) is the stack the walker is given; the guard words below and
 * above it hold frames that look valid, so a walker that ignores the bounds it is
 * given (or reads a frame it must reject) captures a different list. */
#define KT_WORDS 96
#define KT_LOW 8
#define KT_HIGH 88
#define KT_SENTINEL ((PVOID)0x5A5A5A5A5A5A5A5AULL)
#define KT_MAX_EXPECT 8

static ULONG_PTR KtS[KT_WORDS] __attribute__((aligned(16)));
static PVOID KtCallers[KT_MAX_EXPECT + 2];

static ULONG_PTR KtA(ULONG Index) { return (ULONG_PTR)&KtS[Index]; }
static VOID KtF(ULONG Index, ULONG_PTR Link, ULONG_PTR Return)
{
    KtS[Index] = Link;
    KtS[Index + 1] = Return;
}

typedef struct {
    PCSTR Check;            /* the check's name: the rule it proves */
    PCSTR What;             /* the situation, for the message */
    PCSTR Rule;             /* the contract clause */
} KT_WALK_CASE;

static const KT_WALK_CASE KtWalkCases[] = {
    {"stop_zero_fp", "a chain whose last saved frame pointer is 0", "stop at a frame pointer that is 0"},
    {"stop_loop", "a saved frame pointer that loops back to an earlier frame",
     "after storing a frame, stop if the saved frame pointer is not strictly above the current one"},
    {"stop_self", "a saved frame pointer that points at its own frame",
     "after storing a frame, stop if the saved frame pointer is not strictly above the current one"},
    {"stop_zero_return", "a frame whose return address is 0", "stop at a return address of 0 (do not store it)"},
    {"stop_misaligned", "a saved frame pointer that is not 8-byte aligned",
     "stop, without reading it, at a frame pointer that is not 8-byte aligned"},
    {"top_frame_inside", "a frame whose 16 bytes end exactly at StackHigh",
     "a frame whose 16 bytes lie inside [StackLow, StackHigh) is walked"},
    {"stop_crossing_top", "a frame whose 16 bytes cross StackHigh",
     "stop, without reading it, at a frame whose 16 bytes do not lie inside the stack"},
    {"stop_at_top", "a saved frame pointer equal to StackHigh",
     "stop, without reading it, at a frame outside [StackLow, StackHigh)"},
    {"stop_below", "a start frame pointer 16 bytes below StackLow",
     "stop, without reading it, at a frame outside [StackLow, StackHigh)"},
    {"bottom_frame_inside", "a first frame exactly at StackLow",
     "a frame whose 16 bytes lie inside [StackLow, StackHigh) is walked"},
    {"zero_start", "a start frame pointer of 0", "stop at a frame pointer that is 0; *Captured = 0"},
    {"misaligned_start", "a start frame pointer that is not 8-byte aligned",
     "stop at a frame pointer that is not 8-byte aligned; *Captured = 0"},
    {"count_zero", "Count = 0", "never more than Count frames, never write Callers[Count]"},
    {"count_short", "Count one less than the chain's length", "never more than Count frames, never write Callers[Count]"},
    {"count_exact", "Count equal to the chain's length", "all frames stored, never write Callers[Count]"},
    {"stop_wrap", "a saved frame pointer of 0xFFFFFFFFFFFFFFF8 (F + 16 wraps around)",
     "stop, without reading it, at a frame whose 16 bytes do not lie inside the stack (compare F with "
     "StackHigh - 16: F + 16 overflows)"},
};

/* Builds case C in KtS; returns the start frame pointer, the Count to pass, and the
 * return addresses the walk must store (*N of them). */
static ULONG_PTR KtBuildCase(PKTEST_CONTEXT Context, ULONG C, ULONG *Count, ULONG_PTR *Expect, ULONG *N)
{
    ULONG_PTR r[6];
    for (ULONG i = 0; i < ARRAYSIZE(r); i++)
        r[i] = KtRandom(Context) | (1ULL << 63) | (1ULL << 40) | 1;
    /* guards: valid-looking frames below and above the given stack */
    KtF(0, KtA(2), r[5]);
    KtF(2, KtA(4), r[5]);
    KtF(4, KtA(6), r[5]);
    KtF(6, KtA(KT_LOW), r[5]);
    for (ULONG i = KT_LOW; i < KT_HIGH; i++)
        KtS[i] = KtA(KT_HIGH + 2);      /* stray words inside look like links upwards */
    KtF(KT_HIGH, KtA(KT_HIGH + 2), r[5]);
    KtF(KT_HIGH + 2, KtA(KT_HIGH + 4), r[5]);
    KtF(KT_HIGH + 4, KtA(KT_HIGH + 6), r[5]);
    KtF(KT_HIGH + 6, 0, r[5]);

    /* four frames at seeded places, 16 to 40 bytes apart */
    ULONG p[4];
    p[0] = KT_LOW + 2 + (ULONG)KtRandomRange(Context, 0, 3);
    for (ULONG i = 1; i < 4; i++) {
        p[i] = p[i - 1] + 2 + (ULONG)KtRandomRange(Context, 0, 3);
        if (i == 1)
            p[i] |= 1;  /* frame 1 is 8-byte but never 16-byte aligned: a walker that wants 16 is caught */
    }
    if (C == 9)
        p[0] = KT_LOW;
    KtF(p[0], KtA(p[1]), r[0]);
    KtF(p[1], KtA(p[2]), r[1]);
    KtF(p[2], KtA(p[3]), r[2]);
    KtF(p[3], 0, r[3]);
    *Count = KT_MAX_EXPECT;
    ULONG n = 3;
    ULONG_PTR start = KtA(p[0]);
    switch (C) {
    case 0:  KtS[p[2]] = 0; break;
    case 1:  KtS[p[2]] = KtA(p[0]); break;
    case 2:  KtS[p[2]] = KtA(p[2]); break;
    case 3:  KtS[p[2] + 1] = 0; n = 2; break;
    case 4:  KtS[p[2]] = KtA(p[3]) + 4; break;
    case 5:  KtS[p[2]] = KtA(KT_HIGH - 2); KtF(KT_HIGH - 2, 0, r[3]); n = 4; break;
    case 6:  KtS[p[2]] = KtA(KT_HIGH - 1); KtS[KT_HIGH - 1] = KtA(KT_HIGH + 2); KtS[KT_HIGH] = r[4]; break;
    case 7:  KtS[p[2]] = KtA(KT_HIGH); break;
    case 8:  start = KtA(KT_LOW - 2); n = 0; break;
    case 9:  KtS[p[2]] = 0; break;
    case 10: start = 0; n = 0; break;
    case 11: start = KtA(p[0]) + 4; n = 0; break;
    case 12: *Count = 0; n = 0; break;
    case 13: *Count = 3; n = 3; break;                   /* the chain has 4 frames */
    case 14: *Count = 4; n = 4; break;
    case 15: KtS[p[2]] = 0xFFFFFFFFFFFFFFF8ULL; break;
    }
    for (ULONG i = 0; i < n; i++)
        Expect[i] = r[i];
    *N = n;
    return start;
}

KTEST("rtl.walk_corrupt", KtTestWalkCorrupt)
{
    ULONG captured = 0;
    NTSTATUS status = RtlpWalkFrameChain(0, KtA(KT_LOW), KtA(KT_HIGH), KtCallers, 1, &captured);
    if (!KtRequireImplemented(Context, status, "RtlpWalkFrameChain", "lab 00"))
        return;
    for (ULONG c = 0; c < ARRAYSIZE(KtWalkCases); c++) {
        const KT_WALK_CASE *k = &KtWalkCases[c];
        ULONG count, n;
        ULONG_PTR expect[KT_MAX_EXPECT];
        ULONG_PTR start = KtBuildCase(Context, c, &count, expect, &n);
        for (ULONG i = 0; i < ARRAYSIZE(KtCallers); i++)
            KtCallers[i] = KT_SENTINEL;
        captured = 0xFFFF;
        status = RtlpWalkFrameChain(start, KtA(KT_LOW), KtA(KT_HIGH), KtCallers, count, &captured);
        if (!KtCheck(Context, status == STATUS_SUCCESS, k->Check,
                     "with %s (Count %u) RtlpWalkFrameChain returned 0x%08X, expected STATUS_SUCCESS (contract: "
                     "return STATUS_SUCCESS)", k->What, count, (ULONG)status))
            continue;
        if (!KtCheck(Context, captured == n, k->Check,
                     "with %s (Count %u) the walk captured %u frames, expected %u (contract: %s)", k->What, count,
                     captured, n, k->Rule))
            continue;
        ULONG bad = n;
        for (ULONG i = 0; i < n && bad == n; i++)
            if ((ULONG_PTR)KtCallers[i] != expect[i])
                bad = i;
        if (bad != n) {
            KtFail(Context, k->Check, "with %s Callers[%u] is 0x%016llx, expected the return address 0x%016llx "
                   "([F + 8] of frame %u)", k->What, bad, (ULONG64)KtCallers[bad], (ULONG64)expect[bad], bad);
            continue;
        }
        for (ULONG i = n; i < ARRAYSIZE(KtCallers); i++)
            if (KtCallers[i] != KT_SENTINEL) {
                KtFail(Context, k->Check, "with %s (Count %u, %u frames stored) Callers[%u] was overwritten with "
                       "0x%016llx (contract: %s)", k->What, count, n, i, (ULONG64)KtCallers[i],
                       i >= count ? "never write Callers[Count]" : "store only the frames you capture");
                break;
            }
    }
}

/* ---- RtlLookupSymbol at every edge ---- */

/* A KiSymbolCount of Count for the length of one call: written through the physical map
 * (the table is read-only at its link address once lab 02 maps the image). */
static volatile ULONG *KtSymbolCountAlias(VOID)
{
    return (volatile ULONG *)MmPhysicalToVirtual((ULONG_PTR)&KiSymbolCount - MM_KERNEL_VMA);
}

static BOOLEAN KtLookupLeavesOutputs(PKTEST_CONTEXT Context, PCSTR Check, ULONG_PTR Address, PCSTR What)
{
    PCSTR name = (PCSTR)0x1234;
    ULONG_PTR offset = 0x5678;
    NTSTATUS status = RtlLookupSymbol(Address, &name, &offset);
    if (!KtCheck(Context, status == STATUS_NOT_FOUND, Check,
                 "0x%016llx (%s): expected STATUS_NOT_FOUND, got 0x%08X%s%s", (ULONG64)Address, What, (ULONG)status,
                 status == STATUS_SUCCESS && name && name != (PCSTR)0x1234 ? " naming " : "",
                 status == STATUS_SUCCESS && name && name != (PCSTR)0x1234 ? name : ""))
        return FALSE;
    return KtCheck(Context, name == (PCSTR)0x1234 && offset == 0x5678, "outputs_untouched",
                   "0x%016llx (%s) is not found, but *Name became %p and *Offset 0x%llx (contract: on "
                   "STATUS_NOT_FOUND leave *Name and *Offset alone)", (ULONG64)Address, What, name, (ULONG64)offset);
}

static BOOLEAN KtLookupFinds(PKTEST_CONTEXT Context, PCSTR Check, ULONG Index, ULONG_PTR Address)
{
    const KSYMBOL *sym = &KiSymbolTable[Index];
    PCSTR want = KiSymbolNames + sym->NameOffset;
    PCSTR name = NULL;
    ULONG_PTR offset = ~0ULL;
    NTSTATUS status = RtlLookupSymbol(Address, &name, &offset);
    if (status != STATUS_SUCCESS || !name || strcmp(name, want) != 0 || offset != Address - sym->Address) {
        KtFail(Context, Check, "0x%016llx (%s+0x%llx, entry %u of %u): got status 0x%08X, %s+0x%llx", (ULONG64)Address,
               want, (ULONG64)(Address - sym->Address), Index, KiSymbolCount, (ULONG)status,
               status == STATUS_SUCCESS && name ? name : "(no name)", (ULONG64)offset);
        return FALSE;
    }
    return TRUE;
}

/* Guest time of Rounds lookups of Address (the best of five tries). */
static ULONG64 KtLookupCost(ULONG_PTR Address, ULONG Rounds)
{
    ULONG64 best = ~0ULL;
    for (ULONG t = 0; t < 5; t++) {
        ULONG64 t0 = __rdtsc();
        for (ULONG i = 0; i < Rounds; i++) {
            PCSTR name;
            ULONG_PTR offset;
            RtlLookupSymbol(Address, &name, &offset);
        }
        ULONG64 d = __rdtsc() - t0;
        if (d < best)
            best = d;
    }
    return best ? best : 1;
}

KTEST("rtl.sym_edges", KtTestSymbolEdges)
{
    PCSTR name = NULL;
    ULONG_PTR offset = 0;
    NTSTATUS status = RtlLookupSymbol((ULONG_PTR)KtTestSymbolEdges, &name, &offset);
    if (!KtRequireImplemented(Context, status, "RtlLookupSymbol", "lab 00"))
        return;
    ULONG gaps = 0;
    for (ULONG i = 0; i < KiSymbolCount; i++) {
        const KSYMBOL *sym = &KiSymbolTable[i];
        if (!KtLookupFinds(Context, "edges", i, sym->Address) ||
            !KtLookupFinds(Context, "edges", i, sym->Address + sym->Size - 1))
            return;
        ULONG_PTR end = sym->Address + sym->Size;
        if (i + 1 < KiSymbolCount && end < KiSymbolTable[i + 1].Address) {
            gaps++;
            if (!KtLookupLeavesOutputs(Context, "gaps", end, "one past a function's end, in the padding before "
                                       "the next") ||
                !KtLookupLeavesOutputs(Context, "gaps", KiSymbolTable[i + 1].Address - 1,
                                       "the last padding byte before a function"))
                return;
        }
    }
    KtCheck(Context, TRUE, "edges", "-");
    KtValue(Context, "gaps", "%u", gaps);
    const KSYMBOL *last = &KiSymbolTable[KiSymbolCount - 1];
    if (!KtLookupLeavesOutputs(Context, "past_end", last->Address + last->Size, "one past the last function") ||
        !KtLookupLeavesOutputs(Context, "outside", 0, "address 0") ||
        !KtLookupLeavesOutputs(Context, "outside", KiSymbolTable[0].Address - 1, "one below the first function") ||
        !KtLookupLeavesOutputs(Context, "outside", ~0ULL, "the last address"))
        return;

    /* An empty table, then a table of one entry (the count is restored right after). */
    volatile ULONG *count = KtSymbolCountAlias();
    ULONG saved = *count;
    PCSTR emptyName = (PCSTR)0x1234;
    ULONG_PTR emptyOffset = 0x5678;
    *count = 0;
    NTSTATUS emptyStatus = RtlLookupSymbol(KiSymbolTable[0].Address, &emptyName, &emptyOffset);
    *count = 1;
    PCSTR oneName = NULL;
    ULONG_PTR oneOffset = ~0ULL;
    NTSTATUS oneFirst = RtlLookupSymbol(KiSymbolTable[0].Address + KiSymbolTable[0].Size - 1, &oneName, &oneOffset);
    PCSTR secondName = (PCSTR)0x1234;
    ULONG_PTR secondOffset = 0x5678;
    NTSTATUS oneSecond = RtlLookupSymbol(KiSymbolTable[1].Address, &secondName, &secondOffset);
    *count = saved;
    KtCheck(Context, emptyStatus == STATUS_NOT_FOUND && emptyName == (PCSTR)0x1234 && emptyOffset == 0x5678,
            "empty_table", "with KiSymbolCount = 0, looking up the first function's address returned 0x%08X, *Name "
            "%p, *Offset 0x%llx (contract: an empty table finds nothing and leaves the outputs alone)",
            (ULONG)emptyStatus, emptyName, (ULONG64)emptyOffset);
    KtCheck(Context, oneFirst == STATUS_SUCCESS && oneName == KiSymbolNames + KiSymbolTable[0].NameOffset &&
            oneOffset == KiSymbolTable[0].Size - 1 && oneSecond == STATUS_NOT_FOUND && secondName == (PCSTR)0x1234,
            "one_entry_table", "with KiSymbolCount = 1: the last byte of entry 0 gave 0x%08X +0x%llx (expected "
            "success, +0x%x), the second function gave 0x%08X (expected STATUS_NOT_FOUND: it is not in the table)",
            (ULONG)oneFirst, (ULONG64)oneOffset, KiSymbolTable[0].Size - 1, (ULONG)oneSecond);

    /* O(log n): a lookup of the first, a middle and the last function cost about the same. */
    ULONG64 cost[3] = {KtLookupCost(KiSymbolTable[0].Address, 200),
                       KtLookupCost(KiSymbolTable[KiSymbolCount / 2].Address, 200),
                       KtLookupCost(last->Address, 200)};
    ULONG64 lo = cost[0], hi = cost[0];
    for (ULONG i = 1; i < 3; i++) {
        lo = cost[i] < lo ? cost[i] : lo;
        hi = cost[i] > hi ? cost[i] : hi;
    }
    /* (no KTEST VALUE of the costs: a transcript must not vary from run to run) */
    KtCheck(Context, hi < 12 * lo, "log_time", "200 lookups of the first, middle and last of %u functions took %llu, "
            "%llu and %llu ticks: %llux apart, a linear scan? (contract: take O(log n) time, binary search)",
            KiSymbolCount, cost[0], cost[1], cost[2], hi / lo);
}
