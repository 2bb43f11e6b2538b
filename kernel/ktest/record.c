/* record.c - the record writer: a record line (KTEST ..., *** STOP, BT, HANG) is
 * formatted, cleaned of control bytes, printed at the start of a line and, for a test's
 * records, added to the test's tag, as one step under the record lock: interrupts off and
 * IRQL HIGH_LEVEL, so that two threads' records (or a record and an interrupt's) never
 * interleave. */
#include "arch.h"
#include "hal.h"
#include "ktestp.h"
#include "rtl.h"

static volatile ULONG KtpRecordLockDepth;

VOID KtpLockRecords(KTP_RECORD_LOCK_STATE *State)
{
    State->Flags = __readeflags();
    _disable();
    State->Irql = (KIRQL)__readcr8();
    __writecr8(HIGH_LEVEL);
    /* On one processor with interrupts off the lock can only be found held by a bugcheck
     * that interrupted a record: that path prints anyway (nesting). */
    KtpRecordLockDepth++;
}

VOID KtpUnlockRecords(KTP_RECORD_LOCK_STATE *State)
{
    KtpRecordLockDepth--;
    __writecr8(State->Irql);
    if (State->Flags & EFLAGS_IF)
        _enable();
}

/* Formats and prints one line; the caller holds the record lock. */
static SIZE_T KtpFormatAndPrint(PCHAR Line, SIZE_T Size, PCSTR Format, va_list Args)
{
    ULONG n = RtlFormatStringV(Line, Size, Format, Args);
    SIZE_T length = n < Size ? n : Size - 1;
    for (SIZE_T i = 0; i < length; i++)
        if ((UCHAR)Line[i] < 0x20 || (UCHAR)Line[i] >= 0x7f)
            Line[i] = '?';
    HalSerialNewLineIfNeeded();
    HalSerialWrite(Line, length);
    return length;
}

SIZE_T KtWriteRecordV(PCHAR Line, SIZE_T Size, BOOLEAN EndLine, PCSTR Format, va_list Args)
{
    KTP_RECORD_LOCK_STATE lock;
    KtpLockRecords(&lock);
    SIZE_T length = KtpFormatAndPrint(Line, Size, Format, Args);
    if (EndLine)
        HalSerialWrite("\n", 1);
    KtpUnlockRecords(&lock);
    return length;
}

VOID KtpWriteTestRecordV(PKTEST_CONTEXT Context, PCSTR Format, va_list Args)
{
    CHAR line[512];
    KTP_RECORD_LOCK_STATE lock;
    KtpLockRecords(&lock);
    SIZE_T length = KtpFormatAndPrint(line, sizeof(line), Format, Args);
    HalSerialWrite("\n", 1);
    KtAuthTestLine(Context, line, length);
    KtpUnlockRecords(&lock);
}

VOID KtpWriteEndRecord(PKTEST_CONTEXT Context, PCHAR TagHex, PCSTR Format, ...)
{
    CHAR line[512];
    va_list args;
    KTP_RECORD_LOCK_STATE lock;
    KtpLockRecords(&lock);
    va_start(args, Format);
    SIZE_T length = KtpFormatAndPrint(line, sizeof(line), Format, args);
    va_end(args);
    if (KtpAuthTestEnd(KtpRunOf(Context), line, length, TagHex)) {
        HalSerialWrite(" ", 1);
        HalSerialWrite(TagHex, 64);
    }
    HalSerialWrite("\n", 1);
    KtpUnlockRecords(&lock);
}

VOID KtpWriteDoneRecord(PCSTR Format, ...)
{
    CHAR line[512], tag[65];
    va_list args;
    KTP_RECORD_LOCK_STATE lock;
    KtpLockRecords(&lock);
    va_start(args, Format);
    SIZE_T length = KtpFormatAndPrint(line, sizeof(line), Format, args);
    va_end(args);
    if (KtpAuthRunEnd(line, length, tag)) {
        HalSerialWrite(" ", 1);
        HalSerialWrite(tag, 64);
    }
    HalSerialWrite("\n", 1);
    KtpUnlockRecords(&lock);
}
