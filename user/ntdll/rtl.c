/* rtl.c - ntdll's tiny run-time library for user programs: memory and string routines (the
 * compiler may call memset/memcpy itself), number parsing and a small snprintf. */
#include "ntuser.h"

void *memset(void *d, int c, size_t n)
{
    volatile UCHAR *p = d;   /* volatile: gcc would turn the loop into a call to memset */
    while (n--)
        *p++ = (UCHAR)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    volatile UCHAR *p = d;
    const UCHAR *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    volatile UCHAR *p = d;
    const UCHAR *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const UCHAR *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (UCHAR)*a - (UCHAR)*b;
}

ULONG64 RtlStringToUlong64(PCSTR s, PCSTR *End)
{
    ULONG64 v = 0;
    ULONG base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    for (;; s++) {
        ULONG d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        v = v * base + d;
    }
    if (End)
        *End = s;
    return v;
}

typedef struct {
    char *Buffer;
    size_t Size, Length;
} OUT;

static void Put(OUT *o, char c)
{
    if (o->Length + 1 < o->Size)
        o->Buffer[o->Length] = c;
    o->Length++;
}

static void PutNumber(OUT *o, ULONG64 v, ULONG base, BOOLEAN negative, int width, BOOLEAN zero, BOOLEAN left)
{
    char digits[24];
    int n = 0;
    do {
        ULONG d = (ULONG)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (!left && !zero)
        for (; width > len; width--)
            Put(o, ' ');
    if (negative)
        Put(o, '-');
    if (!left && zero)
        for (; width > len; width--)
            Put(o, '0');
    while (n)
        Put(o, digits[--n]);
    if (left)
        for (; width > len; width--)
            Put(o, ' ');
}

int RtlFormatStringV(char *Buffer, size_t Size, PCSTR f, __builtin_va_list ap)
{
    OUT o = {Buffer, Size, 0};
    for (; *f; f++) {
        if (*f != '%') {
            Put(&o, *f);
            continue;
        }
        f++;
        BOOLEAN zero = FALSE, left = FALSE;
        for (; *f == '0' || *f == '-'; f++)
            *f == '0' ? (zero = TRUE) : (left = TRUE);
        int width = 0;
        for (; *f >= '0' && *f <= '9'; f++)
            width = width * 10 + (*f - '0');
        int longs = 0;
        for (; *f == 'l'; f++)
            longs++;
        switch (*f) {
        case 'd':
        case 'i': {
            LONG64 v = longs ? __builtin_va_arg(ap, LONG64) : __builtin_va_arg(ap, int);
            PutNumber(&o, v < 0 ? 0 - (ULONG64)v : (ULONG64)v, 10, v < 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x': {
            ULONG64 v = longs ? __builtin_va_arg(ap, ULONG64) : __builtin_va_arg(ap, ULONG);
            PutNumber(&o, v, *f == 'u' ? 10 : 16, FALSE, width, zero, left);
            break;
        }
        case 'p':
            Put(&o, '0');
            Put(&o, 'x');
            PutNumber(&o, (ULONG64)(ULONG_PTR)__builtin_va_arg(ap, PVOID), 16, FALSE, width, zero, left);
            break;
        case 'c':
            Put(&o, (char)__builtin_va_arg(ap, int));
            break;
        case 's': {
            PCSTR s = __builtin_va_arg(ap, PCSTR);
            if (!s)
                s = "(null)";
            int len = (int)strlen(s);
            if (!left)
                for (; width > len; width--)
                    Put(&o, ' ');
            while (*s)
                Put(&o, *s++);
            for (; width > len; width--)
                Put(&o, ' ');
            break;
        }
        case '%':
            Put(&o, '%');
            break;
        default:   /* an unknown conversion is copied as it is */
            Put(&o, '%');
            if (!*f)
                goto done;
            Put(&o, *f);
        }
    }
done:
    if (Size)
        Buffer[o.Length < Size ? o.Length : Size - 1] = 0;
    return (int)o.Length;
}

int RtlFormatString(char *Buffer, size_t Size, PCSTR Format, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, Format);
    int n = RtlFormatStringV(Buffer, Size, Format, ap);
    __builtin_va_end(ap);
    return n;
}
