/* sha256.h - SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), used by the ktest runner to
 * authenticate its records to the grader. Self-contained (stdint/stddef only) so that the
 * host-side unit test can compile kernel/rtl/sha256.c with the host compiler. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

typedef struct _SHA256_CONTEXT {
    uint32_t State[8];
    uint64_t Length;                    /* bytes hashed so far */
    uint8_t Block[SHA256_BLOCK_SIZE];
    uint32_t Used;                      /* bytes waiting in Block */
} SHA256_CONTEXT;

typedef struct _HMAC_SHA256_CONTEXT {
    SHA256_CONTEXT Inner;
    uint8_t OuterKey[SHA256_BLOCK_SIZE]; /* key ^ opad */
} HMAC_SHA256_CONTEXT;

void RtlSha256Init(SHA256_CONTEXT *Context);
void RtlSha256Update(SHA256_CONTEXT *Context, const void *Data, size_t Length);
void RtlSha256Final(SHA256_CONTEXT *Context, uint8_t Digest[SHA256_DIGEST_SIZE]);
void RtlSha256(const void *Data, size_t Length, uint8_t Digest[SHA256_DIGEST_SIZE]);

void RtlHmacSha256Init(HMAC_SHA256_CONTEXT *Context, const void *Key, size_t KeyLength);
void RtlHmacSha256Update(HMAC_SHA256_CONTEXT *Context, const void *Data, size_t Length);
void RtlHmacSha256Final(HMAC_SHA256_CONTEXT *Context, uint8_t Mac[SHA256_DIGEST_SIZE]);

/* Writes 2*Length lowercase hex digits and a NUL to Out. */
void RtlHexEncode(const uint8_t *Data, size_t Length, char *Out);
/* Reads exactly 2*Length hex digits from Text into Out; returns 0 on success, -1 otherwise. */
int RtlHexDecode(const char *Text, uint8_t *Out, size_t Length);
