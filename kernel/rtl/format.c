/* format.c - RtlFormatString (a small vsnprintf: %s %c %d %i %u %x %X %p %%, flags '-'
 * and '0', width, precision for %s, l/ll/z) and DbgPrint to the serial port. */
#include "hal.h"
#include "rtl.h"

typedef struct {
    PCHAR Buffer;
    SIZE_T Size;
    SIZE_T Length;
} FORMAT_OUT;

static VOID Put(FORMAT_OUT *o, CHAR c)
{
    if (o->Length + 1 < o->Size)
        o->Buffer[o->Length] = c;
    o->Length++;
}

static VOID PutNumber(FORMAT_OUT *o, ULONG64 v, ULONG base, BOOLEAN upper, BOOLEAN negative, ULONG width,
                      BOOLEAN zero, BOOLEAN left)
{
    CHAR digits[24];
    ULONG n = 0;
    PCSTR set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = set[v % base];
        v /= base;
    } while (v);
    ULONG len = n + (negative ? 1 : 0);
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

ULONG RtlFormatStringV(PCHAR Buffer, SIZE_T Size, PCSTR Format, va_list Args)
{
    FORMAT_OUT o = {Buffer, Size, 0};
    for (PCSTR p = Format; *p; p++) {
        if (*p != '%') {
            Put(&o, *p);
            continue;
        }
        p++;
        BOOLEAN left = FALSE, zero = FALSE;
        for (;; p++) {
            if (*p == '-')
                left = TRUE;
            else if (*p == '0')
                zero = TRUE;
            else
                break;
        }
        ULONG width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (ULONG)(*p++ - '0');
        LONG precision = -1; /* for %s: at most this many characters */
        if (*p == '.') {
            p++;
            precision = 0;
            if (*p == '*') {
                precision = va_arg(Args, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    precision = precision * 10 + (*p++ - '0');
            }
        }
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs += (*p == 'z') ? 2 : 1;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            LONG64 v = longs ? va_arg(Args, LONG64) : va_arg(Args, int);
            PutNumber(&o, v < 0 ? (ULONG64)(-v) : (ULONG64)v, 10, FALSE, v < 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            ULONG64 v = longs ? va_arg(Args, ULONG64) : va_arg(Args, unsigned int);
            PutNumber(&o, v, *p == 'u' ? 10 : 16, *p == 'X', FALSE, width, zero, left);
            break;
        }
        case 'p':
            Put(&o, '0');
            Put(&o, 'x');
            PutNumber(&o, (ULONG64)va_arg(Args, PVOID), 16, FALSE, FALSE, 16, TRUE, FALSE);
            break;
        case 'c':
            Put(&o, (CHAR)va_arg(Args, int));
            break;
        case 's': {
            PCSTR s = va_arg(Args, PCSTR);
            if (!s)
                s = "(null)";
            SIZE_T len = 0;
            while (s[len] && (precision < 0 || len < (SIZE_T)precision))
                len++;
            if (!left)
                for (; width > len; width--)
                    Put(&o, ' ');
            for (SIZE_T i = 0; i < len; i++)
                Put(&o, s[i]);
            if (left)
                for (; width > len; width--)
                    Put(&o, ' ');
            break;
        }
        case '%':
            Put(&o, '%');
            break;
        case 0:
            p--;
            break;
        default:
            Put(&o, '%');
            Put(&o, *p);
            break;
        }
    }
    if (Size)
        Buffer[o.Length < Size ? o.Length : Size - 1] = 0;
    return (ULONG)o.Length;
}

ULONG RtlFormatString(PCHAR Buffer, SIZE_T Size, PCSTR Format, ...)
{
    va_list args;
    va_start(args, Format);
    ULONG n = RtlFormatStringV(Buffer, Size, Format, args);
    va_end(args);
    return n;
}

ULONG DbgPrintV(PCSTR Format, va_list Args)
{
    CHAR buffer[512];
    ULONG n = RtlFormatStringV(buffer, sizeof(buffer), Format, Args);
    HalSerialWrite(buffer, n < sizeof(buffer) ? n : sizeof(buffer) - 1);
    return n;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list args;
    va_start(args, Format);
    ULONG n = DbgPrintV(Format, args);
    va_end(args);
    return n;
}
