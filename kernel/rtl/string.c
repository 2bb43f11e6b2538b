/* string.c - the memory and string routines a freestanding kernel must supply. */
#include "rtl.h"

/* Whole quadwords first (eight times fewer iterations under emulation, where each
 * iteration of a rep instruction is one step), then the remaining bytes. */
void *memset(void *Dest, int Value, SIZE_T Count)
{
    void *d = Dest;
    SIZE_T quads = Count / 8, rest = Count % 8;
    ULONG64 pattern = 0x0101010101010101ULL * (UCHAR)Value;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(Value) : "memory");
    return Dest;
}

void *memcpy(void *Dest, const void *Src, SIZE_T Count)
{
    void *d = Dest;
    SIZE_T quads = Count / 8, rest = Count % 8;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(Src), "+c"(quads) : : "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(Src), "+c"(rest) : : "memory");
    return Dest;
}

void *memmove(void *Dest, const void *Src, SIZE_T Count)
{
    PUCHAR d = Dest;
    const UCHAR *s = Src;
    if (d == s || Count == 0)
        return Dest;
    if (d < s || d >= s + Count)
        return memcpy(Dest, Src, Count);
    while (Count--)
        d[Count] = s[Count];
    return Dest;
}

int memcmp(const void *A, const void *B, SIZE_T Count)
{
    const UCHAR *a = A, *b = B;
    for (SIZE_T i = 0; i < Count; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

SIZE_T strlen(PCSTR S)
{
    SIZE_T n = 0;
    while (S[n])
        n++;
    return n;
}

int strcmp(PCSTR A, PCSTR B)
{
    while (*A && *A == *B)
        A++, B++;
    return (UCHAR)*A - (UCHAR)*B;
}

int strncmp(PCSTR A, PCSTR B, SIZE_T N)
{
    for (; N; N--, A++, B++) {
        if (*A != *B)
            return (UCHAR)*A - (UCHAR)*B;
        if (!*A)
            return 0;
    }
    return 0;
}
