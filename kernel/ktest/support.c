/* support.c - what tests call: checks, values, seeded random numbers, symbol scan. */
#include "hal.h"
#include "ktest.h"
#include "rtl.h"

static VOID KtpCheckLine(PKTEST_CONTEXT Context, BOOLEAN Ok, PCSTR Check, PCSTR Format, va_list Args)
{
    CHAR detail[300];
    HalSerialNewLineIfNeeded();
    Context->Checks++;
    if (Ok) {
        for (ULONG i = 0; i < Context->ReportedCount; i++)
            if (strcmp(Context->Reported[i], Check) == 0)
                return;
        if (Context->ReportedCount < ARRAYSIZE(Context->Reported))
            Context->Reported[Context->ReportedCount++] = Check;
        DbgPrint("KTEST CHECK %s %s ok\n", Context->Name, Check);
        return;
    }
    Context->Failures++;
    RtlFormatStringV(detail, sizeof(detail), Format, Args);
    DbgPrint("KTEST CHECK %s %s FAIL %s\n", Context->Name, Check, detail);
}

BOOLEAN KtCheck(PKTEST_CONTEXT Context, BOOLEAN Condition, PCSTR Check, PCSTR DetailFormat, ...)
{
    va_list args;
    va_start(args, DetailFormat);
    KtpCheckLine(Context, Condition, Check, DetailFormat, args);
    va_end(args);
    return Condition;
}

VOID KtFail(PKTEST_CONTEXT Context, PCSTR Check, PCSTR DetailFormat, ...)
{
    va_list args;
    va_start(args, DetailFormat);
    KtpCheckLine(Context, FALSE, Check, DetailFormat, args);
    va_end(args);
}

VOID KtValue(PKTEST_CONTEXT Context, PCSTR Key, PCSTR ValueFormat, ...)
{
    CHAR value[300];
    va_list args;
    va_start(args, ValueFormat);
    RtlFormatStringV(value, sizeof(value), ValueFormat, args);
    va_end(args);
    HalSerialNewLineIfNeeded();
    DbgPrint("KTEST VALUE %s %s %s\n", Context->Name, Key, value);
}

BOOLEAN KtRequireImplemented(PKTEST_CONTEXT Context, NTSTATUS Status, PCSTR Function, PCSTR Lab)
{
    if (Status != STATUS_NOT_IMPLEMENTED)
        return TRUE;
    KtFail(Context, "implemented", "%s returned STATUS_NOT_IMPLEMENTED (%s stub)", Function, Lab);
    return FALSE;
}

VOID KtSkip(PKTEST_CONTEXT Context, PCSTR Reason)
{
    Context->Skipped = TRUE;
    DbgPrint("ktest: %s skipped: %s\n", Context->Name, Reason);
}

ULONG64 KtRandom(PKTEST_CONTEXT Context)
{
    return RtlSplitMix64(&Context->Rng);
}

ULONG64 KtRandomRange(PKTEST_CONTEXT Context, ULONG64 Low, ULONG64 High)
{
    if (High <= Low)
        return Low;
    return Low + KtRandom(Context) % (High - Low + 1);
}

const struct _KSYMBOL *KtFindSymbol(ULONG_PTR Address)
{
    for (ULONG i = 0; i < KiSymbolCount; i++)
        if (Address >= KiSymbolTable[i].Address && Address < KiSymbolTable[i].Address + KiSymbolTable[i].Size)
            return &KiSymbolTable[i];
    return NULL;
}
