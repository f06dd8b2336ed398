/*
** fuzz_config.c: libFuzzer target for the configuration parser of the
** standalone allocator: rcl_config_parse, rcl_config_set, rcl_config_format,
** rcl_config_kind and rcl_config_doc (runtime/reclaim/rcl_config.c).
**
** The input is text (it ends at the first NUL byte). It is used as a
** LUAJIT_RECLAIM spec for rcl_config_parse, split at its first '=' into
** key and value for rcl_config_set, and as a key name. What must hold:
**  - parse/set return 0 or -1; on -1 the message is non-empty and the
**    config unchanged; error buffers of every size up to 8 bytes (exactly
**    that size, from malloc, so ASan sees an overflow) are NUL-terminated;
**  - what parses formats (every key) and re-parses to the same config, from
**    the defaults and from a config with every field changed;
**  - parsing the same spec from two different configs succeeds or fails
**    alike, and each field either gets the same value in both or keeps its
**    value in both (a spec sets fields, it never computes them);
**  - a key set by rcl_config_set formats and sets back to the same value;
**    rcl_config_kind and rcl_config_doc agree on which keys exist;
**  - rcl_config_format into a buffer of len bytes returns 0 exactly when
**    the full text fits (then the text is the full text), never writes
**    past len, and fails for an unknown key.
*/
#include "rcl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fc_fail(const char *what, const char *spec)
{
  fprintf(stderr, "fuzz_config: %s (input '%s')\n", what, spec);
  abort();
}

/* Field-wise: the struct has padding. */
static int fc_equal(const rcl_config *a, const rcl_config *b)
{
  return a->decay_ms == b->decay_ms && a->mode == b->mode && a->soft_limit == b->soft_limit &&
         a->background == b->background && a->background_interval_ms == b->background_interval_ms &&
         a->step_budget == b->step_budget && a->full_gc_purge == b->full_gc_purge &&
         a->show_stats == b->show_stats && a->mesh == b->mesh;
}

/* Every field differs from the defaults. */
static void fc_other(rcl_config *c)
{
  rcl_config_default(c);
  c->decay_ms += 7;
  c->mode = RCL_MODE_OFF;
  c->soft_limit = 12345;
  c->background = !c->background;
  c->background_interval_ms += 3;
  c->step_budget += 1;
  c->full_gc_purge = !c->full_gc_purge;
  c->show_stats = !c->show_stats;
  c->mesh = !c->mesh;
}

/* "key=value,..." of every key of c. */
static void fc_format_all(const rcl_config *c, char *out, size_t len, const char *spec)
{
  size_t n = 0;
  int i;
  out[0] = '\0';
  for (i = 0; rcl_config_keys[i]; i++) {
    char v[64];
    if (rcl_config_format(c, rcl_config_keys[i], v, sizeof(v)) != 0)
      fc_fail("rcl_config_format failed for a parsed config", spec);
    n += (size_t)snprintf(out + n, len - n, "%s%s=%s", i ? "," : "", rcl_config_keys[i], v);
    if (n >= len) fc_fail("formatted config too long", spec);
  }
}

static void fc_check_error(int r, const char *err, const rcl_config *before, const rcl_config *after,
                           const char *what, const char *spec)
{
  if (r != 0 && r != -1) fc_fail("a config call returned neither 0 nor -1", spec);
  if (r == 0) return;
  if (!err[0]) { fprintf(stderr, "fuzz_config: %s: ", what); fc_fail("empty error message", spec); }
  if (!fc_equal(before, after)) { fprintf(stderr, "fuzz_config: %s: ", what); fc_fail("error changed the config", spec); }
}

/* Small exact-size error buffers: terminated, never overrun (ASan). */
static void fc_small_errors(const char *spec, const char *key, const char *value)
{
  size_t len;
  for (len = 0; len <= 8; len++) {
    char *err = len ? (char *)malloc(len) : NULL;
    rcl_config c;
    int r;
    rcl_config_default(&c);
    if (err) memset(err, 'x', len);
    r = rcl_config_parse(&c, spec, err, len);
    if (r && err && !memchr(err, '\0', len)) fc_fail("parse error message not terminated", spec);
    if (err) memset(err, 'x', len);
    r = rcl_config_set(&c, key, value, err, len);
    if (r && err && !memchr(err, '\0', len)) fc_fail("set error message not terminated", spec);
    free(err);
  }
}

static void fc_parse(const char *spec)
{
  rcl_config a, b, a0, b0, back;
  char err[512], text[1024];
  int ra, rb;
  rcl_config_default(&a);
  fc_other(&b);
  a0 = a;
  b0 = b;
  err[0] = '\0';
  ra = rcl_config_parse(&a, spec, err, sizeof(err));
  fc_check_error(ra, err, &a0, &a, "parse from defaults", spec);
  err[0] = '\0';
  rb = rcl_config_parse(&b, spec, err, sizeof(err));
  fc_check_error(rb, err, &b0, &b, "parse from another config", spec);
  if (ra != rb) fc_fail("parse succeeds from one config and fails from another", spec);
  if (ra != 0) return;
#define FC_SAME_OR_KEPT(f) \
  if (!(a.f == b.f || (a.f == a0.f && b.f == b0.f))) fc_fail("field " #f " depends on the start config", spec)
  FC_SAME_OR_KEPT(decay_ms);
  FC_SAME_OR_KEPT(mode);
  FC_SAME_OR_KEPT(soft_limit);
  FC_SAME_OR_KEPT(background);
  FC_SAME_OR_KEPT(background_interval_ms);
  FC_SAME_OR_KEPT(step_budget);
  FC_SAME_OR_KEPT(full_gc_purge);
  FC_SAME_OR_KEPT(show_stats);
  FC_SAME_OR_KEPT(mesh);
#undef FC_SAME_OR_KEPT
  fc_format_all(&a, text, sizeof(text), spec);
  fc_other(&back);
  if (rcl_config_parse(&back, text, err, sizeof(err)) != 0) {
    fprintf(stderr, "fuzz_config: formatted '%s' does not parse: %s\n", text, err);
    fc_fail("round trip", spec);
  }
  if (!fc_equal(&a, &back)) {
    fprintf(stderr, "fuzz_config: formatted '%s' parses to another config\n", text);
    fc_fail("round trip", spec);
  }
  rcl_config_default(&back);
  if (rcl_config_parse(&back, text, err, sizeof(err)) != 0 || !fc_equal(&a, &back))
    fc_fail("round trip from the defaults", spec);
}

static void fc_set(const char *key, const char *value, const char *spec)
{
  rcl_config c, c0, d;
  char err[512], v[64];
  int r, kind = rcl_config_kind(key);
  const char *doc = rcl_config_doc(key);
  if ((kind == -1) != (doc == NULL)) fc_fail("rcl_config_kind and rcl_config_doc disagree", spec);
  if (kind != -1 && kind != RCL_KIND_NUMBER && kind != RCL_KIND_BOOLEAN && kind != RCL_KIND_STRING)
    fc_fail("rcl_config_kind returned an unknown kind", spec);
  fc_other(&c);
  c0 = c;
  err[0] = '\0';
  r = rcl_config_set(&c, key, value, err, sizeof(err));
  fc_check_error(r, err, &c0, &c, "set", spec);
  if (kind == -1 && r == 0) fc_fail("rcl_config_set accepted a key rcl_config_kind does not know", spec);
  if (r != 0) return;
  if (rcl_config_format(&c, key, v, sizeof(v)) != 0) fc_fail("a key just set does not format", spec);
  rcl_config_default(&d);
  if (rcl_config_set(&d, key, v, err, sizeof(err)) != 0) fc_fail("a formatted value does not set", spec);
  {
    char v2[64];
    if (rcl_config_format(&d, key, v2, sizeof(v2)) != 0 || strcmp(v, v2) != 0)
      fc_fail("set(format(x)) formats differently", spec);
  }
}

static void fc_format_lengths(const char *spec)
{
  rcl_config c;
  int i;
  rcl_config_default(&c);
  if (rcl_config_parse(&c, spec, NULL, 0) != 0) fc_other(&c);
  for (i = 0; rcl_config_keys[i]; i++) {
    char full[64];
    size_t n, len;
    if (rcl_config_format(&c, rcl_config_keys[i], full, sizeof(full)) != 0)
      fc_fail("rcl_config_format failed", spec);
    n = strlen(full);
    for (len = 0; len <= n + 1; len++) {
      char *buf = len ? (char *)malloc(len) : NULL;
      int r = rcl_config_format(&c, rcl_config_keys[i], buf, len);
      if ((r == 0) != (len > n)) fc_fail("rcl_config_format: wrong result for a short buffer", spec);
      if (r == 0 && strcmp(buf, full) != 0) fc_fail("rcl_config_format: text depends on the buffer", spec);
      if (len && !memchr(buf, '\0', len)) fc_fail("rcl_config_format: not terminated", spec);
      free(buf);
    }
  }
  {
    char buf[64];
    int known = rcl_config_kind(spec) != -1;
    if ((rcl_config_format(&c, spec, buf, sizeof(buf)) == 0) != known)
      fc_fail("rcl_config_format and rcl_config_kind disagree on a key", spec);
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char *spec = (char *)malloc(size + 1), *key, *eq;
  memcpy(spec, data, size);
  spec[size] = '\0';
  fc_parse(spec);
  key = strdup(spec);
  eq = strchr(key, '=');
  if (eq) *eq = '\0';
  fc_set(key, eq ? eq + 1 : "", spec);
  fc_small_errors(spec, key, eq ? eq + 1 : "");
  fc_format_lengths(spec);
  free(key);
  free(spec);
  return 0;
}
