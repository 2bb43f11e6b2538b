/* wow64_exconv_tests.c - lab 09's exception conversions on seeded doubles (w16x): each of
 * labs/09-wow64/exception.c's four conversions runs in the kernel on an input filled with
 * seeded bytes (so every register has a high half and half of them bit 31 set, every selector
 * and flag is garbage) into an output poisoned with a seeded pattern and followed by 16 poisoned
 * guard bytes. The test reports the status and every byte of the output and the guard
 * (`KTEST VALUE wow64.exconv v<i>.<offset>`); grader/models/lab09x.py rebuilds each input from
 * the seed, converts it by the contract and names the field - and its clause - of every byte
 * that differs. Cases: NumberParameters 0, 2, 15 and above 15 both ways (capped one way,
 * refused the other), two contexts each way, and NULL arguments last. */
#include "ktest.h"
#include "wow64_support.h"

#define KTX_GUARD 16
#define KTX_OUT_BYTES (sizeof(CONTEXT64) + KTX_GUARD)

enum { KTX_REC_TO32, KTX_CTX_TO32, KTX_CTX_FROM32, KTX_REC_FROM32 };

static UCHAR KtxIn[sizeof(CONTEXT64)] __attribute__((aligned(16)));
static UCHAR KtxOut[KTX_OUT_BYTES] __attribute__((aligned(16)));
static ULONG64 KtxPattern;

static VOID KtxFill(PKTEST_CONTEXT Context, PUCHAR Buffer, ULONG Size)
{
    for (ULONG i = 0; i < Size; i += 8) {
        ULONG64 v = KtRandom(Context);
        for (ULONG k = 0; k < 8 && i + k < Size; k++)
            Buffer[i + k] = (UCHAR)(v >> (8 * k));
    }
}

static VOID KtxPoison(PUCHAR Buffer, ULONG Size)
{
    for (ULONG i = 0; i < Size; i++)
        Buffer[i] = (UCHAR)(KtxPattern >> (8 * (i % 8)));
}

static VOID KtxReport(PKTEST_CONTEXT Context, ULONG Case, ULONG Size)
{
    static const char hex[] = "0123456789abcdef";
    for (ULONG off = 0; off < Size; off += 64) {
        CHAR key[32], line[132];
        ULONG n = 0;
        for (ULONG i = off; i < Size && i < off + 64; i++) {
            line[n++] = hex[KtxOut[i] >> 4];
            line[n++] = hex[KtxOut[i] & 15];
        }
        line[n] = 0;
        RtlFormatString(key, sizeof(key), "v%u.%x", Case, off);
        KtValue(Context, key, "%s", line);
    }
}

/* One conversion: Kind's input seeded - with bit 31 of every 4-byte word set (Bit31 1) or clear
 * (2) so that each seed catches both a sign extension and a zero extension mistaken for it -
 * (NumberParameters set to Parameters for a record), the output poisoned, the status and the
 * output reported. */
static VOID KtxCase(PKTEST_CONTEXT Context, ULONG Case, ULONG Kind, ULONG Parameters, ULONG Bit31)
{
    static const ULONG inSize[] = {sizeof(EXCEPTION_RECORD64), sizeof(CONTEXT64), sizeof(CONTEXT32),
                                   sizeof(EXCEPTION_RECORD32)};
    static const ULONG outSize[] = {sizeof(EXCEPTION_RECORD32), sizeof(CONTEXT32), sizeof(CONTEXT64),
                                    sizeof(EXCEPTION_RECORD64)};
    KtxFill(Context, KtxIn, inSize[Kind]);
    for (ULONG i = 3; Bit31 && i < inSize[Kind]; i += 4)
        KtxIn[i] = Bit31 == 1 ? (UCHAR)(KtxIn[i] | 0x80) : (UCHAR)(KtxIn[i] & 0x7F);
    KtxPoison(KtxOut, outSize[Kind] + KTX_GUARD);
    NTSTATUS status;
    switch (Kind) {
    case KTX_REC_TO32:
        ((PEXCEPTION_RECORD64)KtxIn)->NumberParameters = Parameters;
        status = Wow64ExceptionRecordTo32((PEXCEPTION_RECORD64)KtxIn, (PEXCEPTION_RECORD32)KtxOut);
        break;
    case KTX_CTX_TO32:
        status = Wow64ContextTo32((PCONTEXT64)KtxIn, (PCONTEXT32)KtxOut);
        break;
    case KTX_CTX_FROM32:
        status = Wow64ContextFrom32((PCONTEXT32)KtxIn, (PCONTEXT64)KtxOut);
        break;
    default:
        ((PEXCEPTION_RECORD32)KtxIn)->NumberParameters = Parameters;
        status = Wow64ExceptionRecordFrom32((PEXCEPTION_RECORD32)KtxIn, (PEXCEPTION_RECORD64)KtxOut);
        break;
    }
    CHAR key[24];
    RtlFormatString(key, sizeof(key), "v%u.status", Case);
    KtValue(Context, key, "0x%x", (ULONG)status);
    KtxReport(Context, Case, outSize[Kind] + KTX_GUARD);
}

KTEST("wow64.exconv", KtWow64ExceptionConversions)
{
    static EXCEPTION_RECORD64 r;
    static EXCEPTION_RECORD32 r32;
    static CONTEXT64 c;
    static CONTEXT32 c32;
    RtlZeroMemory(&r, sizeof(r));
    RtlZeroMemory(&c32, sizeof(c32));
    if (!KtRequireImplemented(Context, Wow64ExceptionRecordTo32(&r, &r32), "Wow64ExceptionRecordTo32", "lab 09") ||
        !KtRequireImplemented(Context, Wow64ContextTo32(&c, &c32), "Wow64ContextTo32", "lab 09") ||
        !KtRequireImplemented(Context, Wow64ContextFrom32(&c32, &c), "Wow64ContextFrom32", "lab 09") ||
        !KtRequireImplemented(Context, Wow64ExceptionRecordFrom32(&r32, &r), "Wow64ExceptionRecordFrom32", "lab 09"))
        return;
    KtxPattern = KtRandom(Context);
    ULONG v = 0;
    KtxCase(Context, v++, KTX_REC_TO32, 2, 1);
    KtxCase(Context, v++, KTX_REC_TO32, 15, 2);
    KtxCase(Context, v++, KTX_REC_TO32, 16 + (ULONG)(KtRandom(Context) % 1000), 0);
    KtxCase(Context, v++, KTX_REC_TO32, 0, 0);
    KtxCase(Context, v++, KTX_CTX_TO32, 0, 1);
    KtxCase(Context, v++, KTX_CTX_TO32, 0, 2);
    KtxCase(Context, v++, KTX_CTX_FROM32, 0, 1);
    KtxCase(Context, v++, KTX_CTX_FROM32, 0, 2);
    KtxCase(Context, v++, KTX_REC_FROM32, (ULONG)(KtRandom(Context) % 15), 1);
    KtxCase(Context, v++, KTX_REC_FROM32, 15, 2);
    KtxCase(Context, v++, KTX_REC_FROM32, 16 + (ULONG)(KtRandom(Context) % 1000), 0);
    /* NULL arguments: STATUS_INVALID_PARAMETER, the other argument untouched (poison). */
    KtxPoison((PUCHAR)&r, sizeof(r));
    KtxPoison((PUCHAR)&r32, sizeof(r32));
    KtxPoison((PUCHAR)&c, sizeof(c));
    KtxPoison((PUCHAR)&c32, sizeof(c32));
    NTSTATUS s[8] = {Wow64ExceptionRecordTo32(NULL, &r32), Wow64ExceptionRecordTo32(&r, NULL),
                     Wow64ContextTo32(NULL, &c32), Wow64ContextTo32(&c, NULL),
                     Wow64ContextFrom32(NULL, &c), Wow64ContextFrom32(&c32, NULL),
                     Wow64ExceptionRecordFrom32(NULL, &r), Wow64ExceptionRecordFrom32(&r32, NULL)};
    KtValue(Context, "null", "0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x", (ULONG)s[0], (ULONG)s[1], (ULONG)s[2],
            (ULONG)s[3], (ULONG)s[4], (ULONG)s[5], (ULONG)s[6], (ULONG)s[7]);
    ULONG changed = 0;
    for (ULONG i = 0; i < sizeof(r); i++)
        changed += ((PUCHAR)&r)[i] != (UCHAR)(KtxPattern >> (8 * (i % 8)));
    for (ULONG i = 0; i < sizeof(r32); i++)
        changed += ((PUCHAR)&r32)[i] != (UCHAR)(KtxPattern >> (8 * (i % 8)));
    for (ULONG i = 0; i < sizeof(c); i++)
        changed += ((PUCHAR)&c)[i] != (UCHAR)(KtxPattern >> (8 * (i % 8)));
    for (ULONG i = 0; i < sizeof(c32); i++)
        changed += ((PUCHAR)&c32)[i] != (UCHAR)(KtxPattern >> (8 * (i % 8)));
    KtValue(Context, "null_changed", "%u", changed);
}
