/* hidden_tests.c - lab 00 hidden tests: corrupt frame chains, every symbol's edges. */
#include "ke.h"
#include "ktest.h"
#include "rtl.h"

/* Frames fabricated in a buffer on the stack: frame i sits at Buf[4 * i]. */
KTEST("rtl.walk_corrupt", KtTestWalkCorrupt)
{
    ULONG_PTR buf[24];
    PVOID frames[8];
    ULONG captured;
    ULONG_PTR low, high;
    KeGetCurrentStackBounds(&low, &high);

    struct {
        PCSTR What;
        ULONG_PTR ThirdLink;  /* what frame 2 says its caller's frame is */
        ULONG_PTR ThirdReturn;
        ULONG Expected;
    } cases[] = {
        {"a loop back to an earlier frame", 0, 0x3333, 3},
        {"a frame pointer above the stack (unmapped)", 0xFFFFFFFFF0000000ULL, 0x3333, 3},
        {"a misaligned frame pointer", 0, 0x3333, 3},
        {"a zero return address", 0, 0, 2},
        {"a frame whose 16 bytes cross the stack top", 0, 0x3333, 3},
    };
    cases[0].ThirdLink = (ULONG_PTR)&buf[0];
    cases[2].ThirdLink = (ULONG_PTR)&buf[12] + 4;
    cases[3].ThirdLink = (ULONG_PTR)&buf[12];
    cases[4].ThirdLink = high - 8;

    ULONG first = (ULONG)KtRandomRange(Context, 0, ARRAYSIZE(cases) - 1);
    for (ULONG n = 0; n < ARRAYSIZE(cases); n++) {
        ULONG c = (first + n) % ARRAYSIZE(cases);
        buf[0] = (ULONG_PTR)&buf[4];
        buf[1] = 0x1111;
        buf[4] = (ULONG_PTR)&buf[8];
        buf[5] = 0x2222;
        buf[8] = cases[c].ThirdLink;
        buf[9] = cases[c].ThirdReturn;
        buf[12] = 0;
        buf[13] = 0x4444;
        captured = 0xFFFF;
        NTSTATUS status = RtlpWalkFrameChain((ULONG_PTR)&buf[0], low, high, frames, ARRAYSIZE(frames), &captured);
        if (!KtRequireImplemented(Context, status, "RtlpWalkFrameChain", "lab 00"))
            return;
        if (!KtCheck(Context, captured == cases[c].Expected, "stops",
                     "with %s the walk captured %u frames, expected %u", cases[c].What, captured, cases[c].Expected))
            return;
    }
}

KTEST("rtl.sym_edges", KtTestSymbolEdges)
{
    PCSTR name = NULL;
    ULONG_PTR offset = 0;
    NTSTATUS status = RtlLookupSymbol((ULONG_PTR)KtTestSymbolEdges, &name, &offset);
    if (!KtRequireImplemented(Context, status, "RtlLookupSymbol", "lab 00"))
        return;
    for (ULONG i = 0; i < KiSymbolCount; i++) {
        const KSYMBOL *sym = &KiSymbolTable[i];
        PCSTR want = KiSymbolNames + sym->NameOffset;
        ULONG_PTR probes[2] = {sym->Address, sym->Address + sym->Size - 1};
        for (ULONG p = 0; p < 2; p++) {
            name = NULL;
            offset = ~0ULL;
            status = RtlLookupSymbol(probes[p], &name, &offset);
            if (status != STATUS_SUCCESS || !name || strcmp(name, want) != 0 || offset != probes[p] - sym->Address) {
                KtFail(Context, "edges", "0x%016llx (%s+0x%llx, entry %u of %u): got status 0x%08X, %s+0x%llx",
                       (ULONG64)probes[p], want, (ULONG64)(probes[p] - sym->Address), i, KiSymbolCount,
                       (ULONG)status, name ? name : "(no name)", (ULONG64)offset);
                return;
            }
        }
    }
    const KSYMBOL *last = &KiSymbolTable[KiSymbolCount - 1];
    status = RtlLookupSymbol(last->Address + last->Size, &name, &offset);
    KtCheck(Context, status == STATUS_NOT_FOUND, "past_end",
            "one past the last function: expected STATUS_NOT_FOUND, got 0x%08X", (ULONG)status);
}
