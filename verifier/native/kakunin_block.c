/*
 * The CLI workers' fast path over a whole block of export lines (UTF-8 bytes, "\n"-separated),
 * with no JavaScript string per line: each line that is an entry exactly as the server writes it
 * is recognised here, its hash, leaf hash and signature checked, its subtree folded, and its fields
 * written into the worker's result columns (src/node/compact.ts). The first line this path does not
 * take stops the scan: JavaScript handles it with the general path, then scans on.
 *
 * The contract (src/node/native-block.ts): a line taken here gives exactly what src/parse/entry-fast.ts
 * and the one-call verifyEntry give for it. This path is that regular expression restricted to
 * printable ASCII strings (so the bytes are valid UTF-8 and are the string's UTF-16 units), with
 * the same post-checks: no lifecycle type, canonical padded base64 signature, a date Date.parse
 * takes (hour 24 and the like are left to JavaScript). Everything else stops the scan.
 *
 * The block is attacker-controlled: every read is bounded by the line's end.
 */
#include "kakunin_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEX64 64
#define ROW (3 * HEX64)
#define MAX_HEIGHT 15
#define MAX_DEPTH 64
#define MAX_LINE (1u << 20)
#define PSS "RSASSA_PSS_SHA_256"

typedef struct {
  size_t n;
  char **serial;
  size_t *len;
  EVP_PKEY_CTX **ctx; /* NULL: the key is unusable (the signature is then false) */
} key_table;

/* Per block: the subtree run (compact-range.ts BlockSubtrees) and the string table of the columns. */
typedef struct {
  unsigned char nodes[MAX_DEPTH][32];
  int heights[MAX_DEPTH];
  int depth;
  int64_t next;
  uint32_t *slots; /* open addressing: string index + 1, 0 empty */
  size_t nslots;
  uint32_t *off, *len; /* per string: where it is in the block */
  size_t nstr, capstr;
} block_state;

static void free_table(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  key_table *t = data;
  for (size_t i = 0; i < t->n; i++) {
    free(t->serial[i]);
    if (t->ctx[i]) EVP_PKEY_CTX_free(t->ctx[i]);
  }
  free(t->serial), free(t->len), free(t->ctx), free(t);
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  block_state *s = data;
  free(s->slots), free(s->off), free(s->len), free(s);
}

static void subtree_reset(block_state *s) {
  s->depth = 0;
  s->next = -1;
}

/* Leaf `index`, leaf hash in `node` (32 bytes): `node` becomes the root of the largest subtree of
 * this run ending at it; returns its height. BlockSubtrees.add, with the same merges. */
static int subtree_add(block_state *s, int64_t index, unsigned char *node) {
  if (index != s->next) subtree_reset(s);
  s->next = index + 1;
  int h = 0;
  while (h < MAX_HEIGHT && s->depth > 0 && s->heights[s->depth - 1] == h &&
         (((uint64_t)index + 1) & ((UINT64_C(2) << h) - 1)) == 0) {
    unsigned char in[65];
    in[0] = 1;
    memcpy(in + 1, s->nodes[--s->depth], 32);
    memcpy(in + 33, node, 32);
    kk_sha256(in, sizeof in, node);
    h++;
  }
  if (s->depth == MAX_DEPTH) subtree_reset(s), s->next = index + 1; /* smaller subtrees are still right */
  memcpy(s->nodes[s->depth], node, 32);
  s->heights[s->depth++] = h;
  return h;
}

static uint32_t fnv(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* The index of the string block[off, off+n) in the table, adding it if new; -1 when out of memory. */
static long intern(block_state *s, const unsigned char *block, size_t off, size_t n) {
  if (2 * (s->nstr + 1) > s->nslots) {
    size_t ns = s->nslots ? 2 * s->nslots : 256;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < s->nstr; i++) {
      size_t j = fnv(block + s->off[i], s->len[i]) & (ns - 1);
      while (slots[j]) j = (j + 1) & (ns - 1);
      slots[j] = (uint32_t)i + 1;
    }
    free(s->slots);
    s->slots = slots, s->nslots = ns;
  }
  size_t j = fnv(block + off, n) & (s->nslots - 1);
  for (; s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
    uint32_t i = s->slots[j] - 1;
    if (s->len[i] == n && memcmp(block + s->off[i], block + off, n) == 0) return i;
  }
  if (s->nstr == s->capstr) {
    size_t nc = s->capstr ? 2 * s->capstr : 64;
    uint32_t *o = realloc(s->off, nc * sizeof *o);
    if (!o) return -1;
    s->off = o;
    uint32_t *l = realloc(s->len, nc * sizeof *l);
    if (!l) return -1;
    s->len = l, s->capstr = nc;
  }
  s->off[s->nstr] = (uint32_t)off, s->len[s->nstr] = (uint32_t)n;
  s->slots[j] = (uint32_t)s->nstr + 1;
  return (long)s->nstr++;
}

static const char HEXD[] = "0123456789abcdef";

static EVP_PKEY_CTX *find_key(const key_table *t, const unsigned char *serial, size_t n, int *found) {
  for (size_t i = 0; i < t->n; i++)
    if (t->len[i] == n && memcmp(t->serial[i], serial, n) == 0) return *found = 1, t->ctx[i];
  return *found = 0, NULL;
}

/* The result columns (compact.ts CompactResults), as typed arrays from JavaScript. */
typedef struct {
  double *nums;
  uint8_t *flags, *hashes, *leaves;
  uint32_t *refs, *strs;
  size_t cap, strcap;
} columns;

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool ta = false;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &ta) != napi_ok || !ta) return 0;
  if (napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) != napi_ok || t != want) return 0;
  return 1;
}

/*
 * scanEntries(table, state, block: Uint8Array, from, k, nums: Float64Array, flags: Uint8Array,
 *   refs: Uint32Array, hashes: Uint8Array, leaves: Uint8Array, strs: Uint32Array, ret: Float64Array)
 * Takes lines from byte `from` on, writing entry k, k+1, … of the columns, until the block ends
 * (ret[3] = 0), a line this path does not take (1: it starts at ret[0]) or full columns (2).
 * ret[0]: where it stopped; ret[1]: the next k; ret[2]: strings added to the table, as
 * (offset, length) pairs in `strs`, in table order.
 */
static napi_value scan_entries(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value a[12];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  key_table *t = NULL;
  block_state *s = NULL;
  unsigned char *block;
  size_t blen, n1, n2, n3, n4, n5, n6, nret;
  double from, k0, *ret;
  columns c;
  if (argc < 12 || napi_get_value_external(env, a[0], (void **)&t) != napi_ok ||
      napi_get_value_external(env, a[1], (void **)&s) != napi_ok || !t || !s ||
      !typed(env, a[2], napi_uint8_array, (void **)&block, &blen) || napi_get_value_double(env, a[3], &from) != napi_ok ||
      napi_get_value_double(env, a[4], &k0) != napi_ok || !typed(env, a[5], napi_float64_array, (void **)&c.nums, &n1) ||
      !typed(env, a[6], napi_uint8_array, (void **)&c.flags, &n2) ||
      !typed(env, a[7], napi_uint32_array, (void **)&c.refs, &n3) ||
      !typed(env, a[8], napi_uint8_array, (void **)&c.hashes, &n4) ||
      !typed(env, a[9], napi_uint8_array, (void **)&c.leaves, &n5) ||
      !typed(env, a[10], napi_uint32_array, (void **)&c.strs, &n6) ||
      !typed(env, a[11], napi_float64_array, (void **)&ret, &nret) || nret < 4 || !(from >= 0) || !(k0 >= 0)) {
    napi_throw_type_error(env, "ERR_NATIVE", "scanEntries: bad arguments");
    return NULL;
  }
  c.cap = n2;
  if (n1 / 2 < c.cap) c.cap = n1 / 2;
  if (n3 / REFS < c.cap) c.cap = n3 / REFS;
  if (n4 / ROW < c.cap) c.cap = n4 / ROW;
  if (n5 / 32 < c.cap) c.cap = n5 / 32;
  c.strcap = n6 / 2;
  size_t k = (size_t)k0, pos = from < (double)blen ? (size_t)from : blen, nstr0 = s->nstr;
  int reason = 0;
  while (pos < blen) {
    if (k >= c.cap || s->nstr - nstr0 + REFS > c.strcap) {
      reason = 2;
      break;
    }
    const unsigned char *p = block + pos, *nl = memchr(p, '\n', blen - pos);
    const unsigned char *e = nl ? nl : block + blen;
    kk_fields f;
    unsigned char sig[MAX_SIG];
    long sn = -1;
    /* Lines over worker-core.ts's MAX_LINE_LENGTH (1 MiB; bytes are UTF-16 units here) are the general path's to reject. */
    if ((size_t)(e - p) <= MAX_LINE && kk_parse_line(p, e, &f) && kk_b64_canonical((const char *)f.sig, f.sig_len))
      sn = kk_b64_decode((const char *)f.sig, f.sig_len, sig, sizeof sig);
    long ref[REFS];
    for (int i = 0; i < REFS && sn >= 0; i++)
      if ((ref[i] = intern(s, block, (size_t)(f.s[i] - block), f.n[i])) < 0) sn = -1;
    if (sn < 0) {
      reason = 1;
      break;
    }
    /* The entry's hash: SHA-256 of its canonical text, the line from its 25th byte to "v":1, then "}". */
    const unsigned char *canon = p + 24;
    unsigned char md[32];
    SHA256_CTX h;
    SHA256_Init(&h);
    SHA256_Update(&h, canon, (size_t)(f.canon_end - canon));
    SHA256_Update(&h, "}", 1);
    SHA256_Final(md, &h);
    int hash_ok = 1;
    for (int i = 0; i < 32 && hash_ok; i++)
      hash_ok = f.hash[2 * i] == HEXD[md[i] >> 4] && f.hash[2 * i + 1] == HEXD[md[i] & 15];
    /* Its leaf: SHA-256(0x00 ‖ the entry object as written, hash and sig included). */
    unsigned char *leaf = c.leaves + 32 * k;
    SHA256_Init(&h);
    SHA256_Update(&h, "", 1);
    SHA256_Update(&h, canon, (size_t)(e - 1 - canon));
    SHA256_Final(leaf, &h);
    int sig_state = 0; /* 0 false, 1 true, 2 no key (compact.ts flags) */
    if (f.n[5] == sizeof PSS - 1 && memcmp(f.s[5], PSS, f.n[5]) == 0) {
      int found;
      EVP_PKEY_CTX *ctx = find_key(t, f.s[3], f.n[3], &found);
      if (!found) sig_state = 2;
      else if (ctx && EVP_PKEY_verify(ctx, sig, (size_t)sn, md, sizeof md) == 1) sig_state = 1;
    }
    int height = subtree_add(s, (int64_t)f.seq, leaf);
    c.nums[2 * k] = f.seq;
    c.nums[2 * k + 1] = f.time;
    c.flags[k] = (uint8_t)(hash_ok | sig_state << 1 | 8 | height << 4);
    for (int i = 0; i < REFS; i++) c.refs[REFS * k + i] = (uint32_t)ref[i];
    memcpy(c.hashes + ROW * k, f.payload, HEX64);
    memcpy(c.hashes + ROW * k + HEX64, f.prev, HEX64);
    memcpy(c.hashes + ROW * k + 2 * HEX64, f.hash, HEX64);
    k++;
    pos = (size_t)(e - block) + (nl ? 1 : 0);
  }
  for (size_t i = nstr0; i < s->nstr; i++) {
    c.strs[2 * (i - nstr0)] = s->off[i];
    c.strs[2 * (i - nstr0) + 1] = s->len[i];
  }
  ret[0] = (double)pos, ret[1] = (double)k, ret[2] = (double)(s->nstr - nstr0), ret[3] = reason;
  return NULL;
}

/* keyTable([[serial: string, spki: Uint8Array], …]) -> handle: the signer keys scanEntries verifies with. */
static napi_value key_table_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  bool arr = false;
  uint32_t n = 0;
  if (argc < 1 || napi_is_array(env, a[0], &arr) != napi_ok || !arr || napi_get_array_length(env, a[0], &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_NATIVE", "keyTable([[serial, spki], …])");
    return NULL;
  }
  key_table *t = calloc(1, sizeof *t);
  if (t) t->serial = calloc(n + 1, sizeof *t->serial), t->len = calloc(n + 1, sizeof *t->len), t->ctx = calloc(n + 1, sizeof *t->ctx);
  if (!t || !t->serial || !t->len || !t->ctx) {
    if (t) free_table(env, t, NULL);
    napi_throw_error(env, "ERR_NATIVE", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value pair, sv, kv;
    void *der;
    size_t dlen, slen;
    char *serial = NULL;
    int ok = napi_get_element(env, a[0], i, &pair) == napi_ok && napi_get_element(env, pair, 0, &sv) == napi_ok &&
             napi_get_element(env, pair, 1, &kv) == napi_ok &&
             napi_get_value_string_utf8(env, sv, NULL, 0, &slen) == napi_ok && (serial = malloc(slen + 1)) != NULL &&
             napi_get_value_string_utf8(env, sv, serial, slen + 1, &slen) == napi_ok &&
             typed(env, kv, napi_uint8_array, &der, &dlen);
    if (!ok) {
      free(serial);
      free_table(env, t, NULL);
      napi_throw_type_error(env, "ERR_NATIVE", "keyTable([[serial, spki], …])");
      return NULL;
    }
    t->serial[i] = serial, t->len[i] = slen, t->ctx[i] = kk_pss_ctx(der, dlen);
    t->n = i + 1;
  }
  if (napi_create_external(env, t, free_table, NULL, &out) != napi_ok) {
    free_table(env, t, NULL);
    napi_throw_error(env, "ERR_NATIVE", "napi_create_external failed");
    return NULL;
  }
  return out;
}

/* blockState() -> handle: one block's subtree run and string table (reused with blockReset). */
static napi_value block_state_new(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  block_state *s = calloc(1, sizeof *s);
  if (!s) {
    napi_throw_error(env, "ERR_NATIVE", "out of memory");
    return NULL;
  }
  subtree_reset(s);
  if (napi_create_external(env, s, free_state, NULL, &out) != napi_ok) {
    free_state(env, s, NULL);
    napi_throw_error(env, "ERR_NATIVE", "napi_create_external failed");
    return NULL;
  }
  return out;
}

static block_state *state_arg(napi_env env, napi_callback_info info, size_t want, napi_value *a) {
  size_t argc = want;
  block_state *s = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < want ||
      napi_get_value_external(env, a[0], (void **)&s) != napi_ok || !s) {
    napi_throw_type_error(env, "ERR_NATIVE", "expected a blockState handle");
    return NULL;
  }
  return s;
}

/* blockReset(state): a new block (no strings, no subtree run). */
static napi_value block_reset(napi_env env, napi_callback_info info) {
  napi_value a[1];
  block_state *s = state_arg(env, info, 1, a);
  if (!s) return NULL;
  if (s->slots) memset(s->slots, 0, s->nslots * sizeof *s->slots);
  s->nstr = 0;
  subtree_reset(s);
  return NULL;
}

/* subtreeAdd(state, seq, leaf: Uint8Array(32)) -> height: an entry the general path took, folded
 * into the same run (leaf becomes the subtree's root). */
static napi_value subtree_add_js(napi_env env, napi_callback_info info) {
  napi_value a[3], out;
  block_state *s = state_arg(env, info, 3, a);
  if (!s) return NULL;
  double seq;
  void *leaf;
  size_t n;
  if (napi_get_value_double(env, a[1], &seq) != napi_ok || !(seq >= 0 && seq <= 9007199254740991.0) ||
      seq != (double)(int64_t)seq || !typed(env, a[2], napi_uint8_array, &leaf, &n) || n != 32) {
    napi_throw_type_error(env, "ERR_NATIVE", "subtreeAdd(state, seq, leaf: Uint8Array(32))");
    return NULL;
  }
  CHECK(napi_create_int32(env, subtree_add(s, (int64_t)seq, leaf), &out));
  return out;
}

/* subtreeReset(state): the next entry starts a new run. */
static napi_value subtree_reset_js(napi_env env, napi_callback_info info) {
  napi_value a[1];
  block_state *s = state_arg(env, info, 1, a);
  if (s) subtree_reset(s);
  return NULL;
}

int kk_register_block(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"keyTable", key_table_new},   {"blockState", block_state_new}, {"blockReset", block_reset},
             {"scanEntries", scan_entries}, {"subtreeAdd", subtree_add_js},  {"subtreeReset", subtree_reset_js}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return 0;
  }
  return 1;
}
