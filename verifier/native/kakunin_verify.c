/*
 * Optional accelerator for the kakunin-verify CLI's worker threads: RSASSA-PSS (SHA-256,
 * MGF1-SHA-256, salt 32) verification with OpenSSL — the OpenSSL inside the running Node binary,
 * reached through Node's own headers — with a verify context prepared once per key.
 *
 * Why: node:crypto.verify() rebuilds its OpenSSL context (algorithm fetch, padding, salt) on every
 * call, which costs about as much again as the RSA operation itself. OpenSSL's own `speed` does
 * not; neither does this. The checks are the ones node:crypto and WebCrypto make; the JavaScript
 * fallback (src/node/node-crypto.ts) is used whenever this addon is not built.
 *
 * Every argument after the key handle is attacker-controlled (it comes from the export): lengths
 * are checked before any copy, and nothing here trusts a length it did not compute.
 */
#include "kakunin_common.h"
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Messages up to this size are copied to the stack; longer ones (rare: lifecycle details) to the heap. */
#define STACK_MESSAGE 8192

static void free_ctx(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
}

void kk_sha256(const void *data, size_t len, unsigned char *md) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data, len);
  SHA256_Final(md, &c);
}

EVP_PKEY_CTX *kk_pss_ctx(const unsigned char *der, size_t len) {
  const unsigned char *p = der;
  EVP_PKEY *pkey = len > 0 && len < (1u << 20) ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
  EVP_PKEY_CTX *ctx = NULL;
  if (pkey && (EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA || EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA_PSS)) {
    ctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (ctx && (EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) <= 0)) {
      EVP_PKEY_CTX_free(ctx);
      ctx = NULL;
    }
  }
  EVP_PKEY_free(pkey);
  return ctx;
}

/* prepareKey(spki: Uint8Array) -> handle | null. Null when the SPKI is not an RSA key OpenSSL accepts for PSS. */

static napi_value prepare_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_ta = false;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta) {
    napi_throw_type_error(env, "ERR_NATIVE", "prepareKey(spki: Uint8Array)");
    return NULL;
  }
  void *data;
  size_t len;
  CHECK(napi_get_typedarray_info(env, argv[0], NULL, &len, &data, NULL, NULL));
  EVP_PKEY_CTX *ctx = kk_pss_ctx(data, len);
  if (!ctx) {
    CHECK(napi_get_null(env, &out));
    return out;
  }
  if (napi_create_external(env, ctx, free_ctx, NULL, &out) != napi_ok) {
    EVP_PKEY_CTX_free(ctx);
    napi_throw_error(env, "ERR_NATIVE", "napi_create_external failed");
    return NULL;
  }
  return out;
}

/* Base64 digit values; 0xff: not a digit ('=' included). Constant: every worker thread reads it. */
static const unsigned char B64V[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

long kk_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap) {
  if (n == 0 || n % 4 != 0) return -1;
  size_t pad = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
  size_t len = n / 4 * 3 - pad;
  if (len > cap) return -1;
  const unsigned char *u = (const unsigned char *)in;
  size_t full = pad ? n - 4 : n, o = 0;
  for (size_t i = 0; i < full; i += 4) {
    unsigned a = B64V[u[i]], b = B64V[u[i + 1]], c = B64V[u[i + 2]], d = B64V[u[i + 3]];
    if ((a | b | c | d) & 0x80) return -1;
    unsigned v = a << 18 | b << 12 | c << 6 | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad) { /* the last quad: 2 or 3 digits, then '=' padding */
    unsigned a = B64V[u[n - 4]], b = B64V[u[n - 3]], c = pad == 1 ? B64V[u[n - 2]] : 0;
    if ((a | b | c) & 0x80) return -1;
    unsigned v = a << 18 | b << 12 | c << 6;
    out[o++] = v >> 16;
    if (pad == 1) out[o++] = (v >> 8) & 0xff;
  }
  return (long)o;
}

int kk_b64_canonical(const char *in, size_t n) {
  if (n < 2 || in[n - 1] != '=') return 1;
  int two = in[n - 2] == '=';
  return (B64V[(unsigned char)in[two ? n - 3 : n - 2]] & (two ? 0x0f : 0x03)) == 0;
}

static const char HEX[] = "0123456789abcdef";

/* Is `s` (length n) 64 lowercase hex digits? Then it needs no JSON escaping. */
static int is_hash_hex(const char *s, size_t n) {
  if (n != 2 * SHA256_DIGEST_LENGTH) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

static const char HASH_MEMBER[] = ",\"hash\":\"";
static const char SIG_MEMBER[] = "\",\"sig\":\"";

/*
 * verifyEntry(key | null, message: string, hashHex: string, sigB64: string[, leafOut: Uint8Array]) -> number
 * bit 0: SHA-256 of message's UTF-8 equals hashHex (lowercase hex);
 * bit 1: sigB64 decodes and is a valid RSASSA-PSS signature of that SHA-256 under key;
 * bit 2: sigB64 is not strict padded base64 of at most MAX_SIG bytes (the caller decides what
 *        that means; the JavaScript parser reports it as malformed);
 * bit 3: leafOut (32 bytes or more) holds the entry's RFC 9162 leaf hash, SHA-256(0x00 ‖ leaf data),
 *        the leaf data being message without its final "}" then ,"hash":"…","sig":"…"} (verifier
 *        FORMATS.md "Merkle tree leaves"). Only when hashHex is lowercase hex and sigB64 strict
 *        base64 (so neither needs JSON escaping) and message ends with "}"; otherwise the caller
 *        computes it.
 */
static napi_value verify_entry(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_NATIVE", "verifyEntry(key, message, hashHex, sigB64[, leafOut])");
    return NULL;
  }
  EVP_PKEY_CTX *ctx = NULL;
  napi_valuetype kt;
  CHECK(napi_typeof(env, argv[0], &kt));
  if (kt == napi_external) CHECK(napi_get_value_external(env, argv[0], (void **)&ctx));

  int flags = 0;
  /* The given hash and the signature text first: the leaf data ends with them. */
  char given[2 * SHA256_DIGEST_LENGTH + 2];
  size_t glen = 0;
  int given_ok = napi_get_value_string_utf8(env, argv[2], given, sizeof given, &glen) == napi_ok;
  char sigtext[MAX_SIG * 4 / 3 + 8];
  size_t slen = 0;
  unsigned char sig[MAX_SIG];
  long n = -1;
  if (napi_get_value_string_utf8(env, argv[3], sigtext, sizeof sigtext, &slen) == napi_ok && slen < sizeof sigtext - 1)
    n = kk_b64_decode(sigtext, slen, sig, sizeof sig);
  if (n < 0) flags |= 4;

  unsigned char *leaf_out = NULL;
  if (argc >= 5) {
    napi_valuetype lt;
    bool is_ta = false;
    CHECK(napi_typeof(env, argv[4], &lt));
    if (lt == napi_object && napi_is_typedarray(env, argv[4], &is_ta) == napi_ok && is_ta) {
      napi_typedarray_type tt;
      size_t tlen;
      void *data;
      CHECK(napi_get_typedarray_info(env, argv[4], &tt, &tlen, &data, NULL, NULL));
      if (tt == napi_uint8_array && tlen >= SHA256_DIGEST_LENGTH) leaf_out = data;
    }
  }
  int want_leaf = leaf_out && n >= 0 && given_ok && is_hash_hex(given, glen);

  /* The message: UTF-8 length first, then a copy into a buffer of exactly that size, with room for
     the leaf prefix before it and the leaf's suffix after it. */
  size_t mlen;
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &mlen) != napi_ok) {
    napi_throw_type_error(env, "ERR_NATIVE", "message must be a string");
    return NULL;
  }
  size_t room = 1 + mlen + (sizeof HASH_MEMBER - 1) + glen + (sizeof SIG_MEMBER - 1) + slen + 3;
  char stack[STACK_MESSAGE];
  char *buf = room < sizeof stack ? stack : malloc(room);
  if (!buf) {
    napi_throw_error(env, "ERR_NATIVE", "out of memory");
    return NULL;
  }
  char *msg = buf + 1;
  size_t copied;
  napi_status st = napi_get_value_string_utf8(env, argv[1], msg, mlen + 1, &copied);
  unsigned char md[SHA256_DIGEST_LENGTH];
  if (st == napi_ok && copied == mlen) {
    kk_sha256((const unsigned char *)msg, copied, md);
    if (want_leaf && mlen > 0 && msg[mlen - 1] == '}') {
      char *p = msg + mlen - 1;
      buf[0] = 0;
      memcpy(p, HASH_MEMBER, sizeof HASH_MEMBER - 1), p += sizeof HASH_MEMBER - 1;
      memcpy(p, given, glen), p += glen;
      memcpy(p, SIG_MEMBER, sizeof SIG_MEMBER - 1), p += sizeof SIG_MEMBER - 1;
      memcpy(p, sigtext, slen), p += slen;
      *p++ = '"';
      *p++ = '}';
      kk_sha256((const unsigned char *)buf, (size_t)(p - buf), leaf_out);
      flags |= 8;
    }
  }
  if (buf != stack) free(buf);
  if (st != napi_ok || copied != mlen) {
    napi_throw_error(env, "ERR_NATIVE", "could not read message");
    return NULL;
  }

  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
    hex[2 * i] = HEX[md[i] >> 4];
    hex[2 * i + 1] = HEX[md[i] & 15];
  }
  if (given_ok && glen == 2 * SHA256_DIGEST_LENGTH && memcmp(hex, given, glen) == 0) flags |= 1;

  if (n >= 0 && ctx && EVP_PKEY_verify(ctx, sig, (size_t)n, md, sizeof md) == 1) flags |= 2;
  CHECK(napi_create_int32(env, flags, &out));
  return out;
}

/* sha256Into(input: Uint8Array, out: Uint8Array(>= 32)): out = SHA-256(input). The Merkle tree's
 * interior nodes (0x01 || left || right) hashed without a node:crypto Hash object per node. */
static napi_value sha256_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "sha256Into(input, out)");
    return NULL;
  }
  void *in = NULL, *out = NULL;
  size_t ilen = 0, olen = 0;
  napi_typedarray_type it, ot;
  bool a = false, b = false;
  if (napi_is_typedarray(env, argv[0], &a) != napi_ok || !a || napi_is_typedarray(env, argv[1], &b) != napi_ok || !b) {
    napi_throw_type_error(env, NULL, "sha256Into takes two Uint8Arrays");
    return NULL;
  }
  CHECK(napi_get_typedarray_info(env, argv[0], &it, &ilen, &in, NULL, NULL));
  CHECK(napi_get_typedarray_info(env, argv[1], &ot, &olen, &out, NULL, NULL));
  if (it != napi_uint8_array || ot != napi_uint8_array || olen < SHA256_DIGEST_LENGTH) {
    napi_throw_type_error(env, NULL, "sha256Into takes two Uint8Arrays, the second of at least 32 bytes");
    return NULL;
  }
  kk_sha256(in, ilen, (unsigned char *)out);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  if (napi_create_function(env, "prepareKey", NAPI_AUTO_LENGTH, prepare_key, NULL, &f) != napi_ok ||
      napi_set_named_property(env, exports, "prepareKey", f) != napi_ok ||
      napi_create_function(env, "verifyEntry", NAPI_AUTO_LENGTH, verify_entry, NULL, &f) != napi_ok ||
      napi_set_named_property(env, exports, "verifyEntry", f) != napi_ok ||
      napi_create_function(env, "sha256Into", NAPI_AUTO_LENGTH, sha256_into, NULL, &f) != napi_ok ||
      napi_set_named_property(env, exports, "sha256Into", f) != napi_ok || !kk_register_block(env, exports))
    return NULL;
  napi_value v;
  if (napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, exports, "openssl", v);
  return exports;
}
