/*
** rcl_config.c: the knobs, in ONE table (name, kind, default, doc, field).
**
** Defaults are text parsed by the same parser as user input, so the table
** is the single source of truth for names, defaults, syntax and docs. The
** Lua API (r.config) and the LUAJIT_RECLAIM environment variable use the
** same keys. Errors name the key and the value; on error the config is left
** unchanged. A key or value longer than RCL_KEY_MAX / RCL_VALUE_MAX
** characters (blanks around it not counted) is an error naming the key,
** never cut short.
**
** Value syntax (the same for every source): numbers are decimal digits (no
** sign); byte sizes accept a k, m or g suffix in either case (KiB, MiB, GiB:
** binary multiples); booleans are on/off, true/false, yes/no or 1/0; mode is
** dontneed, free or off; soft_limit also takes auto. Words are read in any
** letter case; keys are exact. A value formats back (rcl_config_format) as
** the canonical text: booleans as on/off, sizes in plain bytes.
*/
#include "rcl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { RCL_FIELD_MS, RCL_FIELD_BYTES, RCL_FIELD_LIMIT, RCL_FIELD_BOOL, RCL_FIELD_MODE };

/* Longest key and value rcl_config_parse takes, in characters. */
#define RCL_KEY_MAX 63
#define RCL_VALUE_MAX 127
/* Characters of an over-long key or item quoted in its error message. */
#define RCL_QUOTE_MAX 32

typedef struct rcl_knob {
  const char *name;
  int field;            /* RCL_FIELD_*: how the value is parsed and stored */
  size_t offset;        /* offsetof(rcl_config, ...) */
  uint64_t min;         /* smallest accepted number */
  const char *def;      /* default, as text */
  const char *doc;
} rcl_knob;

/* The table: X(name, field, member, min, default, doc). */
#define RCL_KNOBS(X) \
  X("decay", RCL_FIELD_MS, decay_ms, 0, "1000", \
    "milliseconds: cycle-end and background purges skip memory freed more recently") \
  X("mode", RCL_FIELD_MODE, mode, 0, "dontneed", \
    "how free pages are returned: dontneed (RSS drops now), free (MADV_FREE, lazy), off") \
  X("soft_limit", RCL_FIELD_LIMIT, soft_limit, 0, "0", \
    "bytes: purge everything before mapping memory beyond this (0 = no limit; auto = half the cgroup memory limit)") \
  X("background", RCL_FIELD_BOOL, background, 0, "off", \
    "a background thread purges this heap every background_interval ms") \
  X("background_interval", RCL_FIELD_MS, background_interval_ms, 1, "250", \
    "milliseconds between background purge passes") \
  X("step_budget", RCL_FIELD_BYTES, step_budget, 1, "1048576", \
    "bytes of heap examined per GC step by the cycle-end purge pass") \
  X("full_gc_purge", RCL_FIELD_BOOL, full_gc_purge, 0, "on", \
    "a full GC (collectgarbage()) purges all free memory, ignoring decay") \
  X("show_stats", RCL_FIELD_BOOL, show_stats, 0, "off", \
    "when the heap is destroyed (lua_close), its host prints the allocator's statistics to stderr") \
  X("mesh", RCL_FIELD_BOOL, mesh, 0, "off", \
    "merge sparse pages of one size class onto one physical page (new heaps use a memory file)")

#define RCL_KNOB_ROW(name, field, member, min, def, doc) \
  { name, field, offsetof(rcl_config, member), min, def, doc },
#define RCL_KNOB_NAME(name, field, member, min, def, doc) name,

static const rcl_knob rcl_knobs[] = { RCL_KNOBS(RCL_KNOB_ROW) };
/* rcl.h publishes the key count; the table is the truth. */
typedef char rcl_config_nkeys_check[sizeof(rcl_knobs) / sizeof(rcl_knobs[0]) == RCL_CONFIG_NKEYS ? 1 : -1];

RCL_API_DATA const char *const rcl_config_keys[RCL_CONFIG_NKEYS + 1] = { RCL_KNOBS(RCL_KNOB_NAME) NULL };

static const char *const rcl_mode_names[] = { "dontneed", "free", "off" };

/* ASCII case-insensitive equality of v and the lower-case word w. */
static int rcl_word_is(const char *v, const char *w)
{
  for (; *w; v++, w++)
    if ((*v >= 'A' && *v <= 'Z' ? *v | 0x20 : *v) != *w) return 0;
  return *v == '\0';
}

static const rcl_knob *rcl_knob_find(const char *key, size_t len)
{
  int i;
  for (i = 0; i < RCL_CONFIG_NKEYS; i++)
    if (strlen(rcl_knobs[i].name) == len && memcmp(rcl_knobs[i].name, key, len) == 0)
      return &rcl_knobs[i];
  return NULL;
}

/* Format an error into err (cut to errlen; err may be NULL) and return -1:
** the error reports of the parser and of the checker (rcl_stats.c). */
RCL_INTERN int rcl_errorf(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Unsigned decimal with an optional binary suffix (bytes only). */
static int rcl_parse_number(const char *v, int bytes, uint64_t max, uint64_t *out)
{
  uint64_t n = 0, mult = 1;
  const char *p = v;
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (n > (UINT64_MAX - 9) / 10) return -1;
    n = n * 10 + (uint64_t)(*p - '0');
  }
  if (bytes && *p) {
    switch (*p | 0x20) {
    case 'k': mult = (uint64_t)1 << 10; break;
    case 'm': mult = (uint64_t)1 << 20; break;
    case 'g': mult = (uint64_t)1 << 30; break;
    default: return -1;
    }
    p++;
  }
  if (*p) return -1;
  if (n > max / mult) return -1;
  *out = n * mult;
  return 0;
}

static int rcl_parse_bool(const char *v, int *out)
{
  static const char *const yes[] = { "on", "true", "yes", "1" }, *const no[] = { "off", "false", "no", "0" };
  int i;
  for (i = 0; i < 4; i++) {
    if (rcl_word_is(v, yes[i])) { *out = 1; return 0; }
    if (rcl_word_is(v, no[i])) { *out = 0; return 0; }
  }
  return -1;
}

/* What a knob accepts, for error messages. */
static const char *rcl_knob_expected(const rcl_knob *k)
{
  switch (k->field) {
  case RCL_FIELD_MS:
    return k->min ? "milliseconds, an integer 1..4294967295" : "milliseconds, an integer 0..4294967295";
  case RCL_FIELD_BYTES:
    return k->min ? "bytes, an integer >= 1 with optional k/m/g suffix"
                  : "bytes, an integer >= 0 with optional k/m/g suffix";
  case RCL_FIELD_LIMIT: return "bytes, an integer >= 0 with optional k/m/g suffix, or auto";
  case RCL_FIELD_BOOL: return "on, off, true, false, yes, no, 1 or 0";
  default: return "dontneed, free or off";
  }
}

static int rcl_knob_set(rcl_config *c, const rcl_knob *k, const char *v, char *err, size_t errlen)
{
  char *field = (char *)c + k->offset;
  uint64_t n;
  int b, i;
  switch (k->field) {
  case RCL_FIELD_MS:
    if (rcl_parse_number(v, 0, UINT32_MAX, &n) != 0 || n < k->min) break;
    *(uint32_t *)(void *)field = (uint32_t)n;
    return 0;
  case RCL_FIELD_BYTES:
  case RCL_FIELD_LIMIT:
    if (k->field == RCL_FIELD_LIMIT && rcl_word_is(v, "auto")) {
      *(size_t *)(void *)field = RCL_SOFT_LIMIT_AUTO;
      return 0;
    }
    /* SIZE_MAX itself is the "auto" mark, never a byte count. */
    if (rcl_parse_number(v, 1, SIZE_MAX - 1, &n) != 0 || n < k->min) break;
    *(size_t *)(void *)field = (size_t)n;
    return 0;
  case RCL_FIELD_BOOL:
    if (rcl_parse_bool(v, &b) != 0) break;
    *(int *)(void *)field = b;
    return 0;
  default:
    for (i = 0; i < 3; i++)
      if (rcl_word_is(v, rcl_mode_names[i])) { *(int *)(void *)field = i; return 0; }
    break;
  }
  return rcl_errorf(err, errlen, "bad value '%s' for key '%s' (expected %s)", v, k->name,
                          rcl_knob_expected(k));
}

/* "decay, mode, ..." into buf. */
static void rcl_key_list(char *buf, size_t len)
{
  size_t n = 0;
  int i;
  buf[0] = '\0';
  for (i = 0; i < RCL_CONFIG_NKEYS && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", rcl_knobs[i].name);
}

RCL_API int rcl_config_set(rcl_config *c, const char *key, const char *value, char *err, size_t errlen)
{
  const rcl_knob *k = rcl_knob_find(key, strlen(key));
  rcl_config tmp = *c;
  if (!k) {
    char keys[256];
    rcl_key_list(keys, sizeof(keys));
    return rcl_errorf(err, errlen, "unknown key '%s' (keys: %s)", key, keys);
  }
  if (rcl_knob_set(&tmp, k, value, err, errlen) != 0) return -1;
  *c = tmp;
  return 0;
}

RCL_API void rcl_config_default(rcl_config *c)
{
  int i;
  memset(c, 0, sizeof(*c));
  for (i = 0; i < RCL_CONFIG_NKEYS; i++) rcl_knob_set(c, &rcl_knobs[i], rcl_knobs[i].def, NULL, 0);
}

/* Copy [p, e) without surrounding blanks into buf (NUL-terminated); returns
** the length of the trimmed text. Text of len characters or more does not
** fit: buf then holds its first len - 1. */
static size_t rcl_trim_copy(const char *p, const char *e, char *buf, size_t len)
{
  size_t n, m;
  while (p < e && (*p == ' ' || *p == '\t')) p++;
  while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
  n = (size_t)(e - p);
  m = n < len ? n : len - 1;
  memcpy(buf, p, m);
  buf[m] = '\0';
  return n;
}

/* Errors for a key (k == NULL) or a value of k of n characters that does not
** fit; a key is quoted by its start. */
static int rcl_too_long(char *err, size_t errlen, const char *key, size_t n, const rcl_knob *k)
{
  char keys[256];
  if (k)
    return rcl_errorf(err, errlen, "value of key '%s' is too long (%zu characters, at most %d; "
                            "expected %s)", k->name, n, RCL_VALUE_MAX, rcl_knob_expected(k));
  rcl_key_list(keys, sizeof(keys));
  return rcl_errorf(err, errlen, "key '%.*s...' is too long (%zu characters, at most %d; keys: %s)",
                          RCL_QUOTE_MAX, key, n, RCL_KEY_MAX, keys);
}

RCL_API int rcl_config_parse(rcl_config *c, const char *spec, char *err, size_t errlen)
{
  rcl_config tmp = *c;
  const char *p = spec ? spec : "";
  while (*p) {
    const char *end = strchr(p, ','), *eq;
    char key[RCL_KEY_MAX + 1], value[RCL_VALUE_MAX + 1];
    size_t n;
    if (!end) end = p + strlen(p);
    eq = memchr(p, '=', (size_t)(end - p));
    if (!eq) {
      n = rcl_trim_copy(p, end, key, sizeof(key));
      if (n > RCL_KEY_MAX)
        return rcl_errorf(err, errlen, "expected key=value, got '%.*s...' (%zu characters)",
                                RCL_QUOTE_MAX, key, n);
      if (key[0])
        return rcl_errorf(err, errlen, "expected key=value, got '%s'", key);
    } else {
      const rcl_knob *k;
      n = rcl_trim_copy(p, eq, key, sizeof(key));
      if (n > RCL_KEY_MAX) return rcl_too_long(err, errlen, key, n, NULL);
      k = rcl_knob_find(key, n);
      n = rcl_trim_copy(eq + 1, end, value, sizeof(value));
      if (k && n > RCL_VALUE_MAX) return rcl_too_long(err, errlen, NULL, n, k);
      if (rcl_config_set(&tmp, key, value, err, errlen) != 0) return -1;
    }
    p = *end ? end + 1 : end;
  }
  *c = tmp;
  return 0;
}

RCL_API int rcl_config_format(const rcl_config *c, const char *key, char *buf, size_t len)
{
  const rcl_knob *k = rcl_knob_find(key, strlen(key));
  const char *field;
  int n;
  if (!k || !buf || !len) return -1;
  field = (const char *)c + k->offset;
  switch (k->field) {
  case RCL_FIELD_MS: n = snprintf(buf, len, "%u", (unsigned)*(const uint32_t *)(const void *)field); break;
  case RCL_FIELD_BYTES: n = snprintf(buf, len, "%zu", *(const size_t *)(const void *)field); break;
  case RCL_FIELD_LIMIT:
    if (*(const size_t *)(const void *)field == RCL_SOFT_LIMIT_AUTO) n = snprintf(buf, len, "auto");
    else n = snprintf(buf, len, "%zu", *(const size_t *)(const void *)field);
    break;
  case RCL_FIELD_BOOL: n = snprintf(buf, len, "%s", *(const int *)(const void *)field ? "on" : "off"); break;
  default: {
    int m = *(const int *)(const void *)field;
    n = snprintf(buf, len, "%s", m >= 0 && m < 3 ? rcl_mode_names[m] : "?");
  }
  }
  return n >= 0 && (size_t)n < len ? 0 : -1;
}

RCL_API int rcl_config_kind(const char *key)
{
  const rcl_knob *k = rcl_knob_find(key, strlen(key));
  if (!k) return -1;
  if (k->field == RCL_FIELD_BOOL) return RCL_KIND_BOOLEAN;
  if (k->field == RCL_FIELD_MODE) return RCL_KIND_STRING;
  return RCL_KIND_NUMBER;
}

RCL_API const char *rcl_config_doc(const char *key)
{
  const rcl_knob *k = rcl_knob_find(key, strlen(key));
  return k ? k->doc : NULL;
}

RCL_API const char *rcl_config_default_text(const char *key)
{
  const rcl_knob *k = rcl_knob_find(key, strlen(key));
  return k ? k->def : NULL;
}
