/*
 * What kakunin_verify.c (one entry per call) and kakunin_block.c (a block of export lines per call)
 * share: fast SHA-256, strict base64, a prepared RSASSA-PSS verify context.
 */
#ifndef KAKUNIN_COMMON_H
#define KAKUNIN_COMMON_H

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co.: far cheaper than EVP per 65-byte node */
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

/* RSA-2048 signatures are 256 bytes; allow up to RSA-8192 (1,024 bytes). */
#define MAX_SIG 1024

#define CHECK(call)                                                \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error(env, "ERR_NATIVE", #call " failed");        \
      return NULL;                                                 \
    }                                                              \
  } while (0)

/* SHA-256 through the low-level API: OpenSSL 3's one-shot SHA256() fetches the algorithm on every
 * call, which costs about as much as hashing a whole entry. */
void kk_sha256(const void *data, size_t len, unsigned char *md);

/* Strict padded base64 (the B64 pattern of src/parse/fields.ts). Returns the decoded length, or -1. */
long kk_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/* Are the unused bits of the last base64 quantum zero (fields.ts canonicalPadding)? `in` is strict base64. */
int kk_b64_canonical(const char *in, size_t n);

/* A verify context for RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) under an SPKI, or NULL if unusable. */
EVP_PKEY_CTX *kk_pss_ctx(const unsigned char *der, size_t len);

#define REFS 6

/* The fields of a line this path takes (pointers into the line). */
typedef struct {
  const unsigned char *s[REFS]; /* type, issuer, agent, cert, key, alg: the columns' order */
  size_t n[REFS];
  const unsigned char *payload, *prev, *hash, *canon_end, *sig;
  size_t sig_len;
  double seq, time;
} kk_fields;

/* Recognises an entry line [p, e) (no "\n") exactly as the server writes it (kakunin_line.c); 0: JavaScript decides. */
int kk_parse_line(const unsigned char *p, const unsigned char *e, kk_fields *f);

/* Adds the block functions (kakunin_block.c) to the addon's exports; 0 on failure. */
int kk_register_block(napi_env env, napi_value exports);

#endif
