/* stack_tests.c - lab 00 public tests: walking a seeded call chain, looking up symbols. */
#include "ke.h"
#include "ktest.h"
#include "rtl.h"

#define KT_NOIPA __attribute__((noipa))
#define KT_MAX_CHAIN 8

typedef struct {
    PKTEST_CONTEXT Context;
    ULONG Depth;            /* number of chain functions */
    UCHAR Step[KT_MAX_CHAIN]; /* which function (0 = A, 1 = B, 2 = C) runs at each level */
    PVOID Frames[64];
    ULONG Captured;
    NTSTATUS Status;
} KT_CHAIN;

static volatile ULONG KtChainSink;
static VOID KtChainA(KT_CHAIN *Chain, ULONG Level);
static VOID KtChainB(KT_CHAIN *Chain, ULONG Level);
static VOID KtChainC(KT_CHAIN *Chain, ULONG Level);
static VOID (*const KtChainFunctions[3])(KT_CHAIN *, ULONG) = {KtChainA, KtChainB, KtChainC};
static PCSTR const KtChainNames[3] = {"KtChainA", "KtChainB", "KtChainC"};

/* Captures the chain from its own frame: Frames[0] is the return into its caller. */
static KT_NOIPA VOID KtCaptureHere(KT_CHAIN *Chain)
{
    ULONG_PTR low, high;
    KeGetCurrentStackBounds(&low, &high);
    Chain->Status = RtlpWalkFrameChain((ULONG_PTR)__builtin_frame_address(0), low, high, Chain->Frames,
                                       ARRAYSIZE(Chain->Frames), &Chain->Captured);
}

static KT_NOIPA VOID KtChainNext(KT_CHAIN *Chain, ULONG Level)
{
    if (Level + 1 == Chain->Depth)
        KtCaptureHere(Chain);
    else
        KtChainFunctions[Chain->Step[Level + 1]](Chain, Level + 1);
}

static KT_NOIPA VOID KtChainA(KT_CHAIN *Chain, ULONG Level) { KtChainSink += 1; KtChainNext(Chain, Level); KtChainSink += 11; }
static KT_NOIPA VOID KtChainB(KT_CHAIN *Chain, ULONG Level) { KtChainSink += 2; KtChainNext(Chain, Level); KtChainSink += 22; }
static KT_NOIPA VOID KtChainC(KT_CHAIN *Chain, ULONG Level) { KtChainSink += 3; KtChainNext(Chain, Level); KtChainSink += 33; }

static PCSTR KtSymbolName(ULONG_PTR ReturnAddress)
{
    const KSYMBOL *s = KtFindSymbol(ReturnAddress - 1);
    return s ? KiSymbolNames + s->NameOffset : "?";
}

/* A seeded chain of A/B/C calls; the walk must list, innermost first:
 * KtChainNext (the capture's caller), then each chain function with the
 * KtChainNext between them, then the test routine, ... down to KiBootEntry64. */
KTEST("rtl.stack_chain", KtTestStackChain)
{
    static KT_CHAIN chain;
    PCSTR expected[2 * KT_MAX_CHAIN + 2];
    ULONG nexpected = 0;

    chain.Context = Context;
    chain.Depth = (ULONG)KtRandomRange(Context, 3, KT_MAX_CHAIN);
    for (ULONG i = 0; i < chain.Depth; i++)
        chain.Step[i] = (UCHAR)KtRandomRange(Context, 0, 2);
    KtValue(Context, "depth", "%u", chain.Depth);

    for (LONG level = (LONG)chain.Depth - 1; level >= 0; level--) {
        expected[nexpected++] = "KtChainNext";
        expected[nexpected++] = KtChainNames[chain.Step[level]];
    }
    expected[nexpected++] = "KtTestStackChain";

    chain.Captured = 0;
    KtChainFunctions[chain.Step[0]](&chain, 0);
    if (!KtRequireImplemented(Context, chain.Status, "RtlpWalkFrameChain", "lab 00"))
        return;
    KtCheck(Context, chain.Status == STATUS_SUCCESS, "status", "RtlpWalkFrameChain returned 0x%08X",
            (ULONG)chain.Status);

    KtValue(Context, "captured", "%u", chain.Captured);
    ULONG bad = nexpected;
    for (ULONG i = 0; i < chain.Captured && i < ARRAYSIZE(chain.Frames); i++) {
        PCSTR got = KtSymbolName((ULONG_PTR)chain.Frames[i]);
        KtValue(Context, "frame", "%u 0x%016llx %s", i, (ULONG64)chain.Frames[i], got);
        if (i < nexpected && bad == nexpected && strcmp(got, expected[i]) != 0)
            bad = i;
    }
    if (KtCheck(Context, chain.Captured >= nexpected, "frame_count",
                "captured %u frames, the chain has at least %u (stopped early?)", chain.Captured, nexpected) &&
        bad != nexpected)
        KtFail(Context, "frame_order", "frame %u is %s (0x%016llx), expected %s: frames must start with the "
               "return address into the caller of the frame you start from, innermost first",
               bad, KtSymbolName((ULONG_PTR)chain.Frames[bad]), (ULONG64)chain.Frames[bad], expected[bad]);
    else if (chain.Captured >= nexpected)
        KtCheck(Context, TRUE, "frame_order", "-");

    /* The chain ends where the boot stack starts: KiBootEntry64 pushed a zero frame pointer. */
    if (chain.Captured > 0 && chain.Captured < ARRAYSIZE(chain.Frames)) {
        PCSTR last = KtSymbolName((ULONG_PTR)chain.Frames[chain.Captured - 1]);
        KtCheck(Context, strcmp(last, "KiBootEntry64") == 0, "chain_end",
                "the last frame is %s, expected KiBootEntry64 (stop at a zero frame pointer, not before)", last);
    } else if (chain.Captured >= ARRAYSIZE(chain.Frames)) {
        KtFail(Context, "chain_end", "filled all %u slots: the walk does not stop at a zero frame pointer",
               (ULONG)ARRAYSIZE(chain.Frames));
        return;
    }

    /* Count is a hard limit: with room for k frames, exactly min(k, frames) are written, the
     * same ones a full walk gives, and Callers[k] onwards is untouched. Every k of 0..3, the
     * exact length of the chain and one more, on every seed. */
    static PVOID full[64], small[66];
    ULONG_PTR low, high;
    ULONG nfull = 0;
    KeGetCurrentStackBounds(&low, &high);
    ULONG_PTR here = (ULONG_PTR)__builtin_frame_address(0);
    NTSTATUS status = RtlpWalkFrameChain(here, low, high, full, ARRAYSIZE(full), &nfull);
    if (!KtCheck(Context, status == STATUS_SUCCESS && nfull > 0 && nfull < ARRAYSIZE(full), "count_limit",
                 "a walk from the test's own frame returned 0x%08X with %u frames", (ULONG)status, nfull))
        return;
    ULONG counts[6] = {0, 1, 2, 3, nfull, nfull + 1};
    for (ULONG c = 0; c < ARRAYSIZE(counts); c++) {
        ULONG k = counts[c], captured = 0xFFFF, want = k < nfull ? k : nfull;
        for (ULONG i = 0; i < ARRAYSIZE(small); i++)
            small[i] = (PVOID)0x5A5A5A5A5A5A5A5AULL;
        status = RtlpWalkFrameChain(here, low, high, small, k, &captured);
        ULONG wrote = ARRAYSIZE(small);
        for (ULONG i = want; i < ARRAYSIZE(small) && wrote == ARRAYSIZE(small); i++)
            if (small[i] != (PVOID)0x5A5A5A5A5A5A5A5AULL)
                wrote = i;
        ULONG differs = want;
        for (ULONG i = 0; i < want && differs == want; i++)
            if (small[i] != full[i])
                differs = i;
        if (!KtCheck(Context, status == STATUS_SUCCESS && captured == want && wrote == ARRAYSIZE(small) &&
                     differs == want, "count_limit",
                     "Count=%u on a chain of %u frames: status 0x%08X, *Captured %u (expected %u), %s%s", k, nfull,
                     (ULONG)status, captured, want,
                     wrote != ARRAYSIZE(small) ? (wrote >= k ? "wrote Callers[Count] or beyond" : "wrote past the frames it reported")
                                               : "nothing written past them",
                     differs != want ? ", and the frames differ from a full walk" : ""))
            return;
    }
}

/* Seeded lookups of addresses inside functions, and of addresses outside any. */
KTEST("rtl.sym_lookup", KtTestSymbolLookup)
{
    PCSTR name = NULL;
    ULONG_PTR offset = 0;
    NTSTATUS status = RtlLookupSymbol((ULONG_PTR)KtTestSymbolLookup, &name, &offset);
    if (!KtRequireImplemented(Context, status, "RtlLookupSymbol", "lab 00"))
        return;
    KtValue(Context, "symbols", "%u", KiSymbolCount);
    if (!KtCheck(Context, KiSymbolCount > 10, "table", "the embedded symbol table has %u entries", KiSymbolCount))
        return;

    ULONG wrong = 0, rounds = 300;
    for (ULONG i = 0; i < rounds; i++) {
        const KSYMBOL *sym = &KiSymbolTable[KtRandomRange(Context, 0, KiSymbolCount - 1)];
        /* every fourth probe is a function's first byte, every fourth its last */
        ULONG64 off = (i % 4 == 0) ? 0 : (i % 4 == 1) ? sym->Size - 1 : KtRandomRange(Context, 0, sym->Size - 1);
        PCSTR want = KiSymbolNames + sym->NameOffset;
        name = NULL;
        offset = ~0ULL;
        status = RtlLookupSymbol(sym->Address + off, &name, &offset);
        if (status != STATUS_SUCCESS || !name || strcmp(name, want) != 0 || offset != off) {
            if (!wrong++)
                KtFail(Context, "inside", "0x%016llx (%s+0x%llx): got status 0x%08X, %s+0x%llx", sym->Address + off,
                       want, off, (ULONG)status, name ? name : "(no name)", (ULONG64)offset);
        }
    }
    if (!wrong)
        KtCheck(Context, TRUE, "inside", "-");
    KtValue(Context, "inside_wrong", "%u of %u", wrong, rounds);

    /* Addresses no function covers: STATUS_NOT_FOUND, and *Name and *Offset left alone. */
    const KSYMBOL *last = &KiSymbolTable[KiSymbolCount - 1];
    static const ULONG KtData = 0;
    ULONG_PTR outside[8] = {0, KiSymbolTable[0].Address - 1, last->Address + last->Size, (ULONG_PTR)&KtData,
                            0xFFFFFFFFFFFFFFFFULL};
    ULONG noutside = 5;
    /* and three seeded gaps between functions: one past a function's end */
    for (ULONG tries = 0; tries < 1000 && noutside < ARRAYSIZE(outside); tries++) {
        ULONG i = (ULONG)KtRandomRange(Context, 0, KiSymbolCount - 2);
        if (KiSymbolTable[i].Address + KiSymbolTable[i].Size < KiSymbolTable[i + 1].Address)
            outside[noutside++] = KiSymbolTable[i].Address + KiSymbolTable[i].Size;
    }
    for (ULONG i = 0; i < noutside; i++) {
        name = (PCSTR)0x1234;
        offset = 0x5678;
        status = RtlLookupSymbol(outside[i], &name, &offset);
        if (!KtCheck(Context, status == STATUS_NOT_FOUND, "outside",
                     "0x%016llx lies outside every function%s: expected STATUS_NOT_FOUND, got 0x%08X (%s)",
                     (ULONG64)outside[i], i >= 5 ? " (one past a function's end)" : "", (ULONG)status,
                     status == STATUS_SUCCESS && name && name != (PCSTR)0x1234 ? name : "no name"))
            break;
        if (!KtCheck(Context, name == (PCSTR)0x1234 && offset == 0x5678, "outputs_untouched",
                     "0x%016llx is not found, but *Name became %p and *Offset 0x%llx (contract: on STATUS_NOT_FOUND "
                     "leave *Name and *Offset alone)", (ULONG64)outside[i], name, (ULONG64)offset))
            break;
    }
}
