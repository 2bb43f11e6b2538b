/* random.c - splitmix64 and FNV-1a: the seeded generator shared by ktests and the
 * grader's models (grader/models/rng.py computes the same sequence). */
#include "rtl.h"

ULONG64 RtlSplitMix64(PULONG64 State)
{
    ULONG64 z = (*State += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

ULONG64 RtlHashString64(PCSTR S)
{
    ULONG64 h = 0xCBF29CE484222325ULL;
    while (*S) {
        h ^= (UCHAR)*S++;
        h *= 0x100000001B3ULL;
    }
    return h;
}
