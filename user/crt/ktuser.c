/* ktuser.c - a user test program's reports to its checkpoint (see ktuser.h): each call
 * formats one line and hands it to the NtKtestRecord service. */
#include "ktuser.h"

static NTSTATUS KtuRecordV(ULONG Kind, PCSTR Key, PCSTR Format, __builtin_va_list ap)
{
    char line[KTEST_RECORD_MAX_LENGTH];
    int n = Key ? RtlFormatString(line, sizeof(line), "%s ", Key) : 0;
    if (n >= (int)sizeof(line))
        n = sizeof(line) - 1;
    int m = RtlFormatStringV(line + n, sizeof(line) - n, Format, ap);
    n += m;
    if (n >= (int)sizeof(line))
        n = sizeof(line) - 1;   /* cut, never refused */
    return NtKtestRecord(Kind, line, (ULONG)n);
}

NTSTATUS KtuValue(PCSTR Key, PCSTR Format, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, Format);
    NTSTATUS s = KtuRecordV(KTEST_RECORD_VALUE, Key, Format, ap);
    __builtin_va_end(ap);
    return s;
}

BOOLEAN KtuCheck(BOOLEAN Condition, PCSTR Check, PCSTR Format, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, Format);
    KtuRecordV(Condition ? KTEST_RECORD_CHECK_OK : KTEST_RECORD_CHECK_FAIL, Check, Format, ap);
    __builtin_va_end(ap);
    return Condition;
}

NTSTATUS KtuPrint(PCSTR Format, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, Format);
    NTSTATUS s = KtuRecordV(KTEST_RECORD_PRINT, NULL, Format, ap);
    __builtin_va_end(ap);
    return s;
}
