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

    ULONG bad = nexpected;
    for (ULONG i = 0; i < nexpected && i < chain.Captured; i++) {
        PCSTR got = KtSymbolName((ULONG_PTR)chain.Frames[i]);
        KtValue(Context, "frame", "%u 0x%016llx %s", i, (ULONG64)chain.Frames[i], got);
        if (bad == nexpected && strcmp(got, expected[i]) != 0)
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
    }

    /* Count is a hard limit: with room for k frames, exactly k are written. */
    PVOID small[KT_MAX_CHAIN + 1];
    ULONG k = (ULONG)KtRandomRange(Context, 1, 3), captured = 0;
    ULONG_PTR low, high;
    for (ULONG i = 0; i <= KT_MAX_CHAIN; i++)
        small[i] = (PVOID)0x5A5A5A5A5A5A5A5AULL;
    KeGetCurrentStackBounds(&low, &high);
    RtlpWalkFrameChain((ULONG_PTR)__builtin_frame_address(0), low, high, small, k, &captured);
    KtCheck(Context, captured == k && small[k] == (PVOID)0x5A5A5A5A5A5A5A5AULL, "count_limit",
            "Count=%u: captured %u, Callers[%u] %s", k, captured, k,
            small[k] == (PVOID)0x5A5A5A5A5A5A5A5AULL ? "untouched" : "overwritten (wrote past Count)");
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

    /* Addresses no function covers. */
    const KSYMBOL *last = &KiSymbolTable[KiSymbolCount - 1];
    static const ULONG KtData = 0;
    ULONG_PTR outside[] = {0, KiSymbolTable[0].Address - 1, last->Address + last->Size, (ULONG_PTR)&KtData,
                           0xFFFFFFFFFFFFFFFFULL};
    for (ULONG i = 0; i < ARRAYSIZE(outside); i++) {
        name = NULL;
        status = RtlLookupSymbol(outside[i], &name, &offset);
        if (!KtCheck(Context, status == STATUS_NOT_FOUND, "outside",
                     "0x%016llx lies outside every function: expected STATUS_NOT_FOUND, got 0x%08X (%s)",
                     (ULONG64)outside[i], (ULONG)status, name ? name : "no name"))
            break;
    }
}
