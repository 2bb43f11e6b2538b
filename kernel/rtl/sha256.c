/* sha256.c - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), freestanding: the ktest
 * runner and the bugcheck code tag their records with it so that the grader can tell
 * the framework's output from text printed by student code. Also built on the host by
 * tests/test_auth.py against the published test vectors. */
#include "sha256.h"

static const uint32_t RtlpSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t RtlpRotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void RtlpSha256Block(SHA256_CONTEXT *c, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8) |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = RtlpRotr(w[i - 15], 7) ^ RtlpRotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = RtlpRotr(w[i - 2], 17) ^ RtlpRotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->State[0], b = c->State[1], cc = c->State[2], d = c->State[3];
    uint32_t e = c->State[4], f = c->State[5], g = c->State[6], h = c->State[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = RtlpRotr(e, 6) ^ RtlpRotr(e, 11) ^ RtlpRotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + RtlpSha256K[i] + w[i];
        uint32_t S0 = RtlpRotr(a, 2) ^ RtlpRotr(a, 13) ^ RtlpRotr(a, 22);
        uint32_t maj = (a & b) ^ (a & cc) ^ (b & cc);
        uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->State[0] += a;
    c->State[1] += b;
    c->State[2] += cc;
    c->State[3] += d;
    c->State[4] += e;
    c->State[5] += f;
    c->State[6] += g;
    c->State[7] += h;
}

void RtlSha256Init(SHA256_CONTEXT *Context)
{
    static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++)
        Context->State[i] = init[i];
    Context->Length = 0;
    Context->Used = 0;
}

void RtlSha256Update(SHA256_CONTEXT *Context, const void *Data, size_t Length)
{
    const uint8_t *p = Data;
    Context->Length += Length;
    while (Length > 0) {
        if (Context->Used == 0 && Length >= SHA256_BLOCK_SIZE) {
            RtlpSha256Block(Context, p);
            p += SHA256_BLOCK_SIZE;
            Length -= SHA256_BLOCK_SIZE;
            continue;
        }
        Context->Block[Context->Used++] = *p++;
        Length--;
        if (Context->Used == SHA256_BLOCK_SIZE) {
            RtlpSha256Block(Context, Context->Block);
            Context->Used = 0;
        }
    }
}

void RtlSha256Final(SHA256_CONTEXT *Context, uint8_t Digest[SHA256_DIGEST_SIZE])
{
    uint64_t bits = Context->Length * 8;
    uint8_t pad = 0x80;
    RtlSha256Update(Context, &pad, 1);
    pad = 0;
    while (Context->Used != 56)
        RtlSha256Update(Context, &pad, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    RtlSha256Update(Context, len, 8);
    for (int i = 0; i < 8; i++) {
        Digest[4 * i] = (uint8_t)(Context->State[i] >> 24);
        Digest[4 * i + 1] = (uint8_t)(Context->State[i] >> 16);
        Digest[4 * i + 2] = (uint8_t)(Context->State[i] >> 8);
        Digest[4 * i + 3] = (uint8_t)Context->State[i];
    }
}

void RtlSha256(const void *Data, size_t Length, uint8_t Digest[SHA256_DIGEST_SIZE])
{
    SHA256_CONTEXT c;
    RtlSha256Init(&c);
    RtlSha256Update(&c, Data, Length);
    RtlSha256Final(&c, Digest);
}

void RtlHmacSha256Init(HMAC_SHA256_CONTEXT *Context, const void *Key, size_t KeyLength)
{
    uint8_t key[SHA256_BLOCK_SIZE], inner[SHA256_BLOCK_SIZE];
    for (int i = 0; i < SHA256_BLOCK_SIZE; i++)
        key[i] = 0;
    if (KeyLength > SHA256_BLOCK_SIZE) {
        RtlSha256(Key, KeyLength, key);
    } else {
        const uint8_t *k = Key;
        for (size_t i = 0; i < KeyLength; i++)
            key[i] = k[i];
    }
    for (int i = 0; i < SHA256_BLOCK_SIZE; i++) {
        inner[i] = key[i] ^ 0x36;
        Context->OuterKey[i] = key[i] ^ 0x5c;
    }
    RtlSha256Init(&Context->Inner);
    RtlSha256Update(&Context->Inner, inner, SHA256_BLOCK_SIZE);
}

void RtlHmacSha256Update(HMAC_SHA256_CONTEXT *Context, const void *Data, size_t Length)
{
    RtlSha256Update(&Context->Inner, Data, Length);
}

void RtlHmacSha256Final(HMAC_SHA256_CONTEXT *Context, uint8_t Mac[SHA256_DIGEST_SIZE])
{
    uint8_t innerDigest[SHA256_DIGEST_SIZE];
    SHA256_CONTEXT outer;
    RtlSha256Final(&Context->Inner, innerDigest);
    RtlSha256Init(&outer);
    RtlSha256Update(&outer, Context->OuterKey, SHA256_BLOCK_SIZE);
    RtlSha256Update(&outer, innerDigest, SHA256_DIGEST_SIZE);
    RtlSha256Final(&outer, Mac);
}

void RtlHexEncode(const uint8_t *Data, size_t Length, char *Out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < Length; i++) {
        Out[2 * i] = digits[Data[i] >> 4];
        Out[2 * i + 1] = digits[Data[i] & 15];
    }
    Out[2 * Length] = 0;
}

static int RtlpHexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int RtlHexDecode(const char *Text, uint8_t *Out, size_t Length)
{
    for (size_t i = 0; i < Length; i++) {
        int hi = RtlpHexDigit(Text[2 * i]);
        int lo = hi < 0 ? -1 : RtlpHexDigit(Text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        Out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
