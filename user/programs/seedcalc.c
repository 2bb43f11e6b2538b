/* seedcalc.c - the example test program of the checkpoint harness (ktest user.seedcalc,
 * kernel/ps/usertest_tests.c; the grader's model grader/models/usertest.py): given a start
 * value X and a round count R on its command line (derived from the checkpoint's seed), it
 * reports its arguments, proves its sections were loaded as the image says (read-only data
 * read back, initialised data at its value, zero-filled .bss), runs R rounds of splitmix64
 * over X mixed with a table, and returns the result's low 31 bits as its exit status. */
#include "ktuser.h"

static const ULONG64 Mix[8] = {      /* .rdata */
    0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL, 0x2545F4914F6CDD1DULL,
    0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL, 0x1000000000000001ULL, 0x00000000DEADBEEFULL};
static ULONG64 Rounds = 1000;        /* .data: set before it is read */
static ULONG64 Trail[64];            /* .bss: must start as zeros */
static PCSTR volatile Names[2] = {"x", "r"}; /* .data with pointers: base relocations */

static ULONG64 SplitMix(ULONG64 z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    KtuValue("argc", "%d", argc);
    for (int i = 0; i < argc; i++) {
        char key[16];
        RtlFormatString(key, sizeof(key), "argv%d", i);
        KtuValue(key, "%s", argv[i]);
    }
    if (argc != 3) {
        KtuPrint("usage: seedcalc X R");
        return 2;
    }
    ULONG64 x = RtlStringToUlong64(argv[1], NULL);
    KtuValue("data", "%llu", Rounds);
    Rounds = RtlStringToUlong64(argv[2], NULL);
    ULONG64 nonzero = 0;
    for (int i = 0; i < 64; i++)
        nonzero += Trail[i] != 0;
    KtuValue("bss_nonzero", "%llu", nonzero);
    for (ULONG64 r = 0; r < Rounds; r++) {
        x = SplitMix(x) ^ Mix[r % 8];
        Trail[r % 64] += x;
    }
    ULONG64 trail = 0;
    for (int i = 0; i < 64; i++)
        trail ^= Trail[i];
    KtuValue(Names[0], "0x%llx", x);
    KtuValue("trail", "0x%llx", trail);
    return (int)(x & 0x7FFFFFFF);
}
