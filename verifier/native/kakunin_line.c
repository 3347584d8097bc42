/*
 * The entry line the server writes, recognised on bytes (kakunin_block.c's fast path): the regular
 * expression of src/parse/entry-fast.ts restricted to printable ASCII strings, with its post-checks
 * (no lifecycle type, a date Date.parse takes). Every read is bounded by the line's end.
 */
#include "kakunin_common.h"
#include <string.h>

#define HEX64 64

/* A cursor over one line [p, e). */
typedef struct {
  const unsigned char *p, *e;
} cur;

static int lit(cur *c, const char *s, size_t n) {
  if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n) != 0) return 0;
  c->p += n;
  return 1;
}
#define LIT(c, s) lit(c, s, sizeof s - 1)

/* 1: a string byte this path takes (printable ASCII and DEL, not '"' or '\\'). */
static const unsigned char STRCH[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* 1: a lowercase hex digit. */
static const unsigned char HEXCH[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* A string of printable ASCII other than '"' and '\' (entry-fast.ts's C, within ASCII), min..max
 * long, and its closing quote. */
static int str(cur *c, size_t min, size_t max, const unsigned char **at, size_t *n) {
  const unsigned char *q = c->p;
  while (q < c->e && STRCH[*q]) q++;
  /* Anything else before the quote (a control or non-ASCII byte, a backslash) or no quote: not taken. */
  if (q == c->e || *q != '"' || (size_t)(q - c->p) < min || (size_t)(q - c->p) > max) return 0;
  *at = c->p, *n = (size_t)(q - c->p);
  c->p = q + 1;
  return 1;
}

/* min..max lowercase hex digits and the closing quote. */
static int hex(cur *c, size_t min, size_t max, const unsigned char **at, size_t *n) {
  const unsigned char *q = c->p;
  while (q < c->e && HEXCH[*q]) q++;
  if (q == c->e || *q != '"' || (size_t)(q - c->p) < min || (size_t)(q - c->p) > max) return 0;
  *at = c->p, *n = (size_t)(q - c->p);
  c->p = q + 1;
  return 1;
}

static int digits(const unsigned char *p, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

/* Days from 1970-01-01 to y-m-01 (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:mm:ss.sssZ" (24 bytes) → ms since the epoch, as Date.parse gives it (a day past the
 * month's end rolls over, as in V8); 0 when this path leaves it to Date.parse (hour 24, bad fields). */
static int parse_time(const unsigned char *t, double *ms) {
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' || t[23] != 'Z')
    return 0;
  int y = digits(t, 4), mo = digits(t + 5, 2), d = digits(t + 8, 2), h = digits(t + 11, 2);
  int mi = digits(t + 14, 2), s = digits(t + 17, 2), f = digits(t + 20, 3);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || f < 0)
    return 0;
  int64_t days = days_from_civil(y, mo) + d - 1;
  *ms = (double)(days * 86400000 + (int64_t)h * 3600000 + mi * 60000 + s * 1000 + f);
  return 1;
}

static const char *LIFECYCLE[] = {"agent.registered", "key.rotated", "certificate.revoked", "key.anomaly"};


int kk_parse_line(const unsigned char *p, const unsigned char *e, kk_fields *f) {
  cur c = {p, e};
  const unsigned char *at;
  size_t n;
  if (!LIT(&c, "{\"kind\":\"entry\",\"entry\":{\"agent\":\"") || !str(&c, 1, 256, &f->s[2], &f->n[2])) return 0;
  if (LIT(&c, ",\"details\":{\"contentType\":\"")) {
    if (!str(&c, 0, SIZE_MAX, &at, &n) || !LIT(&c, "}")) return 0;
  }
  if (!LIT(&c, ",\"issuer\":\"") || !str(&c, 1, 256, &f->s[1], &f->n[1])) return 0;
  if (!LIT(&c, ",\"payloadHash\":\"") || !hex(&c, HEX64, HEX64, &f->payload, &n)) return 0;
  if (!LIT(&c, ",\"prevHash\":\"") || !hex(&c, HEX64, HEX64, &f->prev, &n)) return 0;
  if (!LIT(&c, ",\"seq\":")) return 0;
  const unsigned char *d = c.p;
  while (c.p < c.e && *c.p >= '0' && *c.p <= '9') c.p++;
  n = (size_t)(c.p - d);
  if (n == 0 || n > 15 || (d[0] == '0' && n > 1)) return 0;
  f->seq = 0;
  for (size_t i = 0; i < n; i++) f->seq = f->seq * 10 + (d[i] - '0'); /* < 10^15: exact */
  if (!LIT(&c, ",\"signer\":{\"alg\":\"") || !str(&c, 0, SIZE_MAX, &f->s[5], &f->n[5])) return 0;
  if (!LIT(&c, ",\"cert\":\"") || !hex(&c, 1, 64, &f->s[3], &f->n[3])) return 0;
  if (!LIT(&c, ",\"key\":\"") || !str(&c, 0, SIZE_MAX, &f->s[4], &f->n[4])) return 0;
  if (!LIT(&c, "},\"time\":\"") || c.e - c.p < 25 || c.p[24] != '"' || !parse_time(c.p, &f->time)) return 0;
  c.p += 25;
  if (!LIT(&c, ",\"type\":\"")) return 0;
  at = c.p;
  if (c.p == c.e || *c.p < 'a' || *c.p > 'z') return 0;
  for (c.p++; c.p < c.e && ((*c.p >= 'a' && *c.p <= 'z') || (*c.p >= '0' && *c.p <= '9') || *c.p == '.' ||
                            *c.p == '_' || *c.p == '-');
       c.p++)
    ;
  n = (size_t)(c.p - at);
  if (n > 64 || !LIT(&c, "\"")) return 0;
  for (size_t i = 0; i < sizeof LIFECYCLE / sizeof *LIFECYCLE; i++)
    if (strlen(LIFECYCLE[i]) == n && memcmp(LIFECYCLE[i], at, n) == 0) return 0; /* they need details */
  f->s[0] = at, f->n[0] = n;
  if (!LIT(&c, ",\"v\":1")) return 0;
  f->canon_end = c.p;
  if (!LIT(&c, ",\"hash\":\"") || !hex(&c, HEX64, HEX64, &f->hash, &n) || !LIT(&c, ",\"sig\":\"")) return 0;
  if (c.e - c.p < 3 || memcmp(c.e - 3, "\"}}", 3) != 0) return 0;
  f->sig = c.p, f->sig_len = (size_t)(c.e - 3 - c.p);
  return 1;
}

