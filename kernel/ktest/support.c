/* support.c - what tests call: checks, values, seeded random numbers, symbol scan.
 * CHECK and VALUE lines also feed the running test's authentication tag (runner.c);
 * ktest.sha256 checks the SHA-256/HMAC code against published vectors. */
#include "hal.h"
#include "ktest.h"
#include "rtl.h"
#include "ktestp.h"
#include "sha256.h"

/* Formats a record line of Context's test, prints it and adds it to the test's tag, as
 * one step under the record lock (record.c). */
static VOID KtpRecord(PKTEST_CONTEXT Context, PCSTR Format, ...) __attribute__((format(printf, 2, 3)));
static VOID KtpRecord(PKTEST_CONTEXT Context, PCSTR Format, ...)
{
    va_list args;
    va_start(args, Format);
    KtpWriteTestRecordV(Context, Format, args);
    va_end(args);
}

/* The bookkeeping and the record of one check, under the record lock: the test's threads
 * may check at the same time. */
static VOID KtpCheckLine(PKTEST_CONTEXT Context, BOOLEAN Ok, PCSTR Check, PCSTR Format, va_list Args)
{
    CHAR detail[300];
    KTP_RECORD_LOCK_STATE lock;
    KtpLockRecords(&lock);
    HalSerialNewLineIfNeeded();
    Context->Checks++;
    if (Ok) {
        BOOLEAN reported = FALSE;
        for (ULONG i = 0; i < Context->ReportedCount && !reported; i++)
            reported = strcmp(Context->Reported[i], Check) == 0;
        if (!reported) {
            if (Context->ReportedCount < ARRAYSIZE(Context->Reported))
                Context->Reported[Context->ReportedCount++] = Check;
            KtpRecord(Context, "KTEST CHECK %s %s ok", Context->Name, Check);
        }
    } else {
        Context->Failures++;
        RtlFormatStringV(detail, sizeof(detail), Format, Args);
        KtpRecord(Context, "KTEST CHECK %s %s FAIL %s", Context->Name, Check, detail);
    }
    KtpUnlockRecords(&lock);
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
    KtpRecord(Context, "KTEST VALUE %s %s %s", Context->Name, Key, value);
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

/* SHA-256 (FIPS 180-4 "abc", two-block message) and HMAC-SHA256 (RFC 4231 cases 1, 2, 6). */
static BOOLEAN KtpHexEquals(const UCHAR *Digest, PCSTR Hex)
{
    CHAR text[65];
    RtlHexEncode(Digest, 32, text);
    return strcmp(text, Hex) == 0;
}

KTEST("ktest.sha256", KtpSha256Vectors)
{
    UCHAR digest[32], key[131];
    HMAC_SHA256_CONTEXT hmac;
    RtlSha256("abc", 3, digest);
    KtCheck(Context, KtpHexEquals(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "sha256_abc", "SHA-256(\"abc\") is wrong");
    PCSTR two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    RtlSha256(two, strlen(two), digest);
    KtCheck(Context, KtpHexEquals(digest, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            "sha256_two_blocks", "SHA-256 of the 448-bit message is wrong");
    RtlFillMemory(key, 20, 0x0b);
    RtlHmacSha256Init(&hmac, key, 20);
    RtlHmacSha256Update(&hmac, "Hi There", 8);
    RtlHmacSha256Final(&hmac, digest);
    KtCheck(Context, KtpHexEquals(digest, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            "hmac_rfc4231_1", "HMAC-SHA256 test case 1 is wrong");
    RtlHmacSha256Init(&hmac, "Jefe", 4);
    RtlHmacSha256Update(&hmac, "what do ya want ", 16);
    RtlHmacSha256Update(&hmac, "for nothing?", 12);
    RtlHmacSha256Final(&hmac, digest);
    KtCheck(Context, KtpHexEquals(digest, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            "hmac_rfc4231_2", "HMAC-SHA256 test case 2 is wrong");
    RtlFillMemory(key, sizeof(key), 0xaa);
    RtlHmacSha256Init(&hmac, key, sizeof(key));
    PCSTR msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    RtlHmacSha256Update(&hmac, msg, strlen(msg));
    RtlHmacSha256Final(&hmac, digest);
    KtCheck(Context, KtpHexEquals(digest, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            "hmac_rfc4231_6", "HMAC-SHA256 test case 6 (long key) is wrong");
}
