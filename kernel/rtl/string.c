/* string.c - the memory and string routines a freestanding kernel must supply. */
#include "rtl.h"

void *memset(void *Dest, int Value, SIZE_T Count)
{
    void *d = Dest;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(Count) : "a"(Value) : "memory");
    return Dest;
}

void *memcpy(void *Dest, const void *Src, SIZE_T Count)
{
    void *d = Dest;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(Src), "+c"(Count) : : "memory");
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
