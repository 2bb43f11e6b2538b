/* auth.c - output authentication. When the grader passes a key and a nonce through
 * fw_cfg (opt/ntlab/auth = "<64 hex key>:<32 hex nonce>"), every KTEST END, KTEST DONE and
 * STOP record carries an HMAC-SHA256 tag, so that the grader can tell the framework's
 * records from text printed by student code:
 *   END  tag: HMAC(nonce || "KTEST BEGIN t\n" || each CHECK/VALUE line of t + "\n" || "KTEST END t V\n")
 *   STOP tag: HMAC(nonce || [the running test's BEGIN/CHECK/VALUE lines] || STOP line + "\n"
 *                  || each BT line + "\n" || "STOP AUTH\n")
 *   DONE tag: HMAC(nonce || "RUN\n" || each END tag in hex + "\n" || "KTEST DONE passed=N failed=M\n")
 * A test run's MAC lives in the runner's state of that run (KTP_RUN, reached from the
 * test's context), so lines of the test's own threads count and nothing else does.
 * Without a key (make qemu) no tags are printed. */
#include "hal.h"
#include "ktestp.h"
#include "rtl.h"

BOOLEAN KtpAuthEnabled;
static UCHAR KtpAuthKey[32], KtpAuthNonce[16];
static HMAC_SHA256_CONTEXT KtpAuthRun;      /* every END tag, for KTEST DONE */
static HMAC_SHA256_CONTEXT KtpAuthStop;     /* the STOP record being printed */
static BOOLEAN KtpAuthStopActive;

static VOID KtpAuthStart(HMAC_SHA256_CONTEXT *Mac)
{
    RtlHmacSha256Init(Mac, KtpAuthKey, sizeof(KtpAuthKey));
    RtlHmacSha256Update(Mac, KtpAuthNonce, sizeof(KtpAuthNonce));
}

VOID KtpAuthLoad(VOID)
{
    CHAR text[128];
    LONG n = HalReadFirmwareConfigFile("opt/ntlab/auth", text, sizeof(text));
    KtpAuthEnabled = n == 64 + 1 + 32 && text[64] == ':' && RtlHexDecode(text, KtpAuthKey, 32) == 0 &&
                     RtlHexDecode(text + 65, KtpAuthNonce, 16) == 0;
    RtlZeroMemory(text, sizeof(text));
    if (KtpAuthEnabled) {
        KtpAuthStart(&KtpAuthRun);
        RtlHmacSha256Update(&KtpAuthRun, "RUN\n", 4);
    }
}

VOID KtpAuthLine(HMAC_SHA256_CONTEXT *Mac, PCSTR Line, SIZE_T Length)
{
    RtlHmacSha256Update(Mac, Line, Length);
    RtlHmacSha256Update(Mac, "\n", 1);
}

VOID KtpAuthTestBegin(PKTP_RUN Run, PCSTR BeginLine, SIZE_T Length)
{
    Run->AuthActive = KtpAuthEnabled;
    if (!KtpAuthEnabled)
        return;
    KtpAuthStart(&Run->Mac);
    KtpAuthLine(&Run->Mac, BeginLine, Length);
}

VOID KtAuthTestLine(PKTEST_CONTEXT Context, PCSTR Line, SIZE_T Length)
{
    PKTP_RUN run = KtpRunOf(Context);
    if (KtpAuthEnabled && run && run->AuthActive)
        KtpAuthLine(&run->Mac, Line, Length);
}

BOOLEAN KtpAuthTestEnd(PKTP_RUN Run, PCSTR EndLine, SIZE_T Length, PCHAR TagHex)
{
    TagHex[0] = 0;
    if (!KtpAuthEnabled || !Run || !Run->AuthActive)
        return FALSE;
    UCHAR mac[32];
    KtpAuthLine(&Run->Mac, EndLine, Length);
    RtlHmacSha256Final(&Run->Mac, mac);
    Run->AuthActive = FALSE;
    RtlHexEncode(mac, sizeof(mac), TagHex);
    return TRUE;
}

VOID KtpAuthRunAddTag(PCSTR TagHex)
{
    if (KtpAuthEnabled && TagHex[0]) {
        RtlHmacSha256Update(&KtpAuthRun, TagHex, 64);
        RtlHmacSha256Update(&KtpAuthRun, "\n", 1);
    }
}

BOOLEAN KtpAuthRunEnd(PCSTR DoneLine, SIZE_T Length, PCHAR TagHex)
{
    TagHex[0] = 0;
    if (!KtpAuthEnabled)
        return FALSE;
    UCHAR mac[32];
    KtpAuthLine(&KtpAuthRun, DoneLine, Length);
    RtlHmacSha256Final(&KtpAuthRun, mac);
    RtlHexEncode(mac, sizeof(mac), TagHex);
    return TRUE;
}

VOID KtAuthStopBegin(VOID)
{
    if (!KtpAuthEnabled)
        return;
    PKTP_RUN run = KtpRunOf(KtpCurrent);
    if (run && run->AuthActive)
        KtpAuthStop = run->Mac;
    else
        KtpAuthStart(&KtpAuthStop);
    KtpAuthStopActive = TRUE;
}

VOID KtAuthStopLine(PCSTR Line, SIZE_T Length)
{
    if (KtpAuthEnabled && KtpAuthStopActive)
        KtpAuthLine(&KtpAuthStop, Line, Length);
}

VOID KtAuthStopEnd(VOID)
{
    UCHAR mac[32];
    CHAR hex[65];
    if (!KtpAuthEnabled || !KtpAuthStopActive)
        return;
    KtpAuthLine(&KtpAuthStop, "STOP AUTH", 9);
    RtlHmacSha256Final(&KtpAuthStop, mac);
    KtpAuthStopActive = FALSE;
    RtlHexEncode(mac, sizeof(mac), hex);
    HalSerialNewLineIfNeeded();
    DbgPrint("STOP AUTH %s\n", hex);
}
