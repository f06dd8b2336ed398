/*
** test_config.c: knob defaults, parsing, formatting round trips, error
** messages naming the key and the value, and that errors change nothing.
*/
#include "unit_util.h"

#include <string.h>

static void test_defaults(void)
{
  rcl_config c;
  rcl_config_default(&c);
  CU_ASSERT_EQUAL(c.decay_ms, 1000);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_DONTNEED);
  CU_ASSERT_EQUAL(c.soft_limit, 0);
  CU_ASSERT_EQUAL(c.background, 0);
  CU_ASSERT_EQUAL(c.background_interval_ms, 250);
  CU_ASSERT_EQUAL(c.step_budget, 1u << 20);
  CU_ASSERT_EQUAL(c.full_gc_purge, 1);
  CU_ASSERT_EQUAL(c.show_stats, 0);
  CU_ASSERT_EQUAL(c.mesh, 0);
}

/* Every key has a default text, and it parses to rcl_config_default's value. */
static void test_default_text(void)
{
  rcl_config d, c;
  char err[200], want[64], got[64];
  int i;
  rcl_config_default(&d);
  for (i = 0; rcl_config_keys[i]; i++) {
    const char *def = rcl_config_default_text(rcl_config_keys[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(def);
    rcl_config_default(&c);
    CU_ASSERT_EQUAL(rcl_config_parse(&c, "decay=3,mode=off,soft_limit=auto,background=on,"
                                     "background_interval=9,step_budget=5,full_gc_purge=off,"
                                     "show_stats=on,mesh=on", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(rcl_config_set(&c, rcl_config_keys[i], def, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(rcl_config_format(&d, rcl_config_keys[i], want, sizeof(want)), 0);
    CU_ASSERT_EQUAL(rcl_config_format(&c, rcl_config_keys[i], got, sizeof(got)), 0);
    CU_ASSERT_STRING_EQUAL(got, want);
  }
  CU_ASSERT_STRING_EQUAL(rcl_config_default_text("background"), "off");
  CU_ASSERT_STRING_EQUAL(rcl_config_default_text("full_gc_purge"), "on");
  CU_ASSERT_PTR_NULL(rcl_config_default_text("nosuch"));
  CU_ASSERT_PTR_NULL(rcl_config_default_text("DECAY"));    /* keys are exact */
}

/* One boolean vocabulary for every boolean key, in any letter case; mode
** words, auto and size suffixes in any case too. */
static void test_spellings(void)
{
  static const char *const yes[] = { "on", "true", "yes", "1", "ON", "On", "TRUE", "True", "YES", "yEs" };
  static const char *const no[] = { "off", "false", "no", "0", "OFF", "Off", "FALSE", "fAlSe", "NO", "No" };
  static const char *const keys[] = { "background", "full_gc_purge", "show_stats", "mesh" };
  rcl_config c;
  char err[200], buf[16];
  size_t i, k;
  for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
    CU_ASSERT_EQUAL(rcl_config_kind(keys[k]), RCL_KIND_BOOLEAN);
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
      rcl_config_default(&c);
      CU_ASSERT_EQUAL(rcl_config_set(&c, keys[k], no[i], err, sizeof(err)), 0);
      CU_ASSERT_EQUAL(rcl_config_format(&c, keys[k], buf, sizeof(buf)), 0);
      CU_ASSERT_STRING_EQUAL(buf, "off");
      CU_ASSERT_EQUAL(rcl_config_set(&c, keys[k], yes[i], err, sizeof(err)), 0);
      CU_ASSERT_EQUAL(rcl_config_format(&c, keys[k], buf, sizeof(buf)), 0);
      CU_ASSERT_STRING_EQUAL(buf, "on");
    }
  }
  rcl_config_default(&c);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "mode=FREE,soft_limit=Auto", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_FREE);
  CU_ASSERT_EQUAL(c.soft_limit, RCL_SOFT_LIMIT_AUTO);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "mode=DontNeed,soft_limit=3M,step_budget=7K", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_DONTNEED);
  CU_ASSERT_EQUAL(c.soft_limit, (size_t)3 << 20);
  CU_ASSERT_EQUAL(c.step_budget, (size_t)7 << 10);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "mode=Off,soft_limit=2g", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_OFF);
  CU_ASSERT_EQUAL(c.soft_limit, (size_t)2 << 30);
  /* The error lists the whole vocabulary, for every boolean key. */
  for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
    char spec[64];
    rcl_config before;
    rcl_config_default(&c);
    before = c;
    snprintf(spec, sizeof(spec), "%s=maybe", keys[k]);
    err[0] = '\0';
    CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
    CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, keys[k]));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "(expected on, off, true, false, yes, no, 1 or 0)"));
  }
  /* Near misses are errors, not prefixes or suffixes of a word. */
  rcl_config_default(&c);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "background", "onn", err, sizeof(err)), -1);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "background", "o", err, sizeof(err)), -1);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "background", "01", err, sizeof(err)), -1);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "mode", "fre", err, sizeof(err)), -1);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "soft_limit", "autom", err, sizeof(err)), -1);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "soft_limit", "3mb", err, sizeof(err)), -1);
}

static void test_keys_kinds_docs(void)
{
  int i;
  for (i = 0; rcl_config_keys[i]; i++) {
    CU_ASSERT(rcl_config_kind(rcl_config_keys[i]) >= 0);
    CU_ASSERT_PTR_NOT_NULL(rcl_config_doc(rcl_config_keys[i]));
  }
  CU_ASSERT_EQUAL(i, RCL_CONFIG_NKEYS);
  CU_ASSERT_EQUAL(rcl_config_kind("decay"), RCL_KIND_NUMBER);
  CU_ASSERT_EQUAL(rcl_config_kind("background"), RCL_KIND_BOOLEAN);
  CU_ASSERT_EQUAL(rcl_config_kind("show_stats"), RCL_KIND_BOOLEAN);
  CU_ASSERT_EQUAL(rcl_config_kind("mode"), RCL_KIND_STRING);
  CU_ASSERT_EQUAL(rcl_config_kind("nosuch"), -1);
  CU_ASSERT_PTR_NULL(rcl_config_doc("nosuch"));
}

static void test_parse_values(void)
{
  rcl_config c;
  char err[200];
  rcl_config_default(&c);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "decay=5,background=1", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.decay_ms, 5);
  CU_ASSERT_EQUAL(c.background, 1);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, " mode = free , soft_limit=64m,step_budget=2k ", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_FREE);
  CU_ASSERT_EQUAL(c.soft_limit, 64u << 20);
  CU_ASSERT_EQUAL(c.step_budget, 2048);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "soft_limit=1G,full_gc_purge=off,background=no", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.soft_limit, (size_t)1 << 30);
  CU_ASSERT_EQUAL(c.full_gc_purge, 0);
  CU_ASSERT_EQUAL(c.background, 0);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "mode=off,", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.mode, RCL_MODE_OFF);
  CU_ASSERT_EQUAL(rcl_config_set(&c, "decay", "4294967295", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.decay_ms, 4294967295u);
}

static void expect_error(const char *spec, const char *word1, const char *word2)
{
  rcl_config c, before;
  char err[300];
  rcl_config_default(&c);
  before = c;
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);          /* unchanged */
  CU_ASSERT_PTR_NOT_NULL(strstr(err, word1));
  if (word2) CU_ASSERT_PTR_NOT_NULL(strstr(err, word2));
  if (!strstr(err, word1) || (word2 && !strstr(err, word2)))
    fprintf(stderr, "\n  spec '%s' gave '%s'\n", spec, err);
}

static void test_errors_name_key_and_value(void)
{
  expect_error("bogus=1", "bogus", NULL);
  expect_error("decay=5,nosuch=1", "nosuch", NULL);      /* decay=5 not applied either */
  expect_error("decay=-3", "decay", "-3");
  expect_error("decay=abc", "decay", "abc");
  expect_error("decay=4294967296", "decay", "4294967296");
  expect_error("decay=1.5", "decay", "1.5");
  expect_error("mode=maybe", "mode", "maybe");
  expect_error("background=2", "background", "2");
  expect_error("background_interval=0", "background_interval", "0");
  expect_error("step_budget=0", "step_budget", "0");
  expect_error("soft_limit=12q", "soft_limit", "12q");
  expect_error("soft_limit=99999999999999999999", "soft_limit", "99999999999999999999");
  expect_error("soft_limit=", "soft_limit", NULL);
  expect_error("decay", "decay", NULL);
}

/* n copies of ch, NUL-terminated, into buf (n < size). */
static char *fill(char *buf, size_t size, char ch, size_t n)
{
  CU_ASSERT_FATAL(n < size);
  memset(buf, ch, n);
  buf[n] = '\0';
  return buf;
}

/* Keys and values are never cut short: the longest ones that fit (63 and
** 127 characters after trimming) are taken whole, and one character more is
** an error naming the key that changes nothing. */
static void test_long_keys_and_values(void)
{
  rcl_config c, before;
  char spec[512], pad[256], err[300];
  rcl_config_default(&c);
  before = c;

  /* decay=000...0005: 130 zeros used to be cut to 127 of them, read as 0. */
  snprintf(spec, sizeof(spec), "decay=%s5", fill(pad, sizeof(pad), '0', 130));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "'decay'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "131"));             /* its length */

  /* 127 characters fit: the number is read whole. */
  snprintf(spec, sizeof(spec), "decay=%s12345", fill(pad, sizeof(pad), '0', 122));
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.decay_ms, 12345);
  /* 128 do not. */
  c = before;
  snprintf(spec, sizeof(spec), "decay=%s12345", fill(pad, sizeof(pad), '0', 123));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "'decay'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));

  /* Blanks around a value are not part of it. */
  snprintf(spec, sizeof(spec), "decay=%s7%s", fill(pad, sizeof(pad), ' ', 200), "  ");
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.decay_ms, 7);

  /* A long value after a good item: nothing is applied, the key is named. */
  c = before;
  snprintf(spec, sizeof(spec), "decay=5,soft_limit=%s1k", fill(pad, sizeof(pad), '0', 140));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "'soft_limit'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));

  /* A key of 63 characters is an unknown key, named in full. */
  snprintf(spec, sizeof(spec), "%s=1", fill(pad, sizeof(pad), 'k', 63));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key"));
  spec[63] = '\0';
  CU_ASSERT_PTR_NOT_NULL(strstr(err, spec));
  /* One of 64 is too long; the message says so and starts with its text. */
  snprintf(spec, sizeof(spec), "decay%s=1", fill(pad, sizeof(pad), 'x', 59));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "'decayxxxx"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "64"));
  /* A long item without '=' is named as such, not cut silently. */
  snprintf(spec, sizeof(spec), "%s", fill(pad, sizeof(pad), 'z', 100));
  err[0] = '\0';
  CU_ASSERT_EQUAL(rcl_config_parse(&c, spec, err, sizeof(err)), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "key=value"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "100"));
  if (!strstr(err, "100")) fprintf(stderr, "\n  got '%s'\n", err);
}

static void test_format_round_trip(void)
{
  rcl_config a, b;
  char buf[64], err[200];
  int i;
  rcl_config_default(&a);
  CU_ASSERT_EQUAL(rcl_config_parse(&a, "decay=7,mode=free,soft_limit=12345,background=true,"
                                   "background_interval=33,step_budget=99999,full_gc_purge=false,"
                                   "show_stats=yes",
                                   err, sizeof(err)), 0);
  rcl_config_default(&b);
  for (i = 0; rcl_config_keys[i]; i++) {
    CU_ASSERT_EQUAL(rcl_config_format(&a, rcl_config_keys[i], buf, sizeof(buf)), 0);
    CU_ASSERT_EQUAL(rcl_config_set(&b, rcl_config_keys[i], buf, err, sizeof(err)), 0);
  }
  CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
  CU_ASSERT_EQUAL(rcl_config_format(&a, "mode", buf, sizeof(buf)), 0);
  CU_ASSERT_STRING_EQUAL(buf, "free");
  CU_ASSERT_EQUAL(rcl_config_format(&a, "background", buf, sizeof(buf)), 0);
  CU_ASSERT_STRING_EQUAL(buf, "on");
  CU_ASSERT_EQUAL(rcl_config_format(&a, "full_gc_purge", buf, sizeof(buf)), 0);
  CU_ASSERT_STRING_EQUAL(buf, "off");
  CU_ASSERT_EQUAL(rcl_config_format(&a, "show_stats", buf, sizeof(buf)), 0);
  CU_ASSERT_STRING_EQUAL(buf, "on");
  CU_ASSERT_EQUAL(rcl_config_format(&a, "nosuch", buf, sizeof(buf)), -1);
  CU_ASSERT_EQUAL(rcl_config_format(&a, "decay", buf, 1), -1);   /* does not fit */
}

/* A heap reports what it was configured with. */
static void test_heap_config(void)
{
  rcl_config c, got;
  rcl_heap *h;
  rcl_config_default(&c);
  c.decay_ms = 123;
  c.mode = RCL_MODE_FREE;
  h = rcl_heap_create(&c, 50);
  rcl_heap_get_config(h, &got);
  CU_ASSERT(memcmp(&c, &got, sizeof(c)) == 0);
  c.decay_ms = 9;
  rcl_heap_configure(h, &c);
  rcl_heap_get_config(h, &got);
  CU_ASSERT_EQUAL(got.decay_ms, 9);
  rcl_heap_destroy(h);
}

int tu_register_config(void)
{
  CU_pSuite s = CU_add_suite("config", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "defaults", test_defaults) ||
      !CU_add_test(s, "keys, kinds and docs", test_keys_kinds_docs) ||
      !CU_add_test(s, "default texts parse to the defaults", test_default_text) ||
      !CU_add_test(s, "spellings: booleans, words and suffixes in any case", test_spellings) ||
      !CU_add_test(s, "parse values", test_parse_values) ||
      !CU_add_test(s, "errors name the key and value, change nothing", test_errors_name_key_and_value) ||
      !CU_add_test(s, "long keys and values: whole or an error", test_long_keys_and_values) ||
      !CU_add_test(s, "format round trip", test_format_round_trip) ||
      !CU_add_test(s, "heap configure/get", test_heap_config))
    return -1;
  return 0;
}
