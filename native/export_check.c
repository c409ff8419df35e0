/* The recognizer behind export_check.h: templates from export_rules.h, matched exactly. */
#include "export_check.h"

#include <stdio.h>
#include <string.h>

#include "export_rules.h"

static int name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

int kr_settable_name(const char *name, size_t len) {
  if (len == 0 || !name_start(name[0])) return 0;
  for (size_t i = 1; i < len; i++) if (!name_char(name[i])) return 0;
  for (const char *const *h = KR_HARD_NAMES; *h; h++) {
    if (strlen(*h) == len && memcmp(*h, name, len) == 0) return 0;
  }
  for (const char *const *p = KR_HARD_PREFIXES; *p; p++) {
    size_t n = strlen(*p);
    if (n <= len && memcmp(*p, name, n) == 0) return 0;
  }
  return 1;
}

static const struct kr_shell_rules *rules_for(const char *shell) {
  for (const struct kr_shell_rules *r = KR_SHELL_RULES; r->shell; r++) if (strcmp(r->shell, shell) == 0) return r;
  return NULL;
}

int kr_known_shell(const char *shell) { return rules_for(shell) != NULL || strcmp(shell, "json") == 0; }

/* '...' ('\'' '...')*: src/shells/posix.ts. Returns the end of the word, or NULL. */
static const char *posix_word(const char *p, const char *end) {
  if (p >= end || *p != '\'') return NULL;
  for (;;) {
    const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
    if (!q) return NULL;
    p = q + 1;
    if (end - p >= 3 && p[0] == '\\' && p[1] == '\'' && p[2] == '\'') p += 2;
    else return p;
  }
}

/* '...' where only \\ and \' are escapes, and both are always used: src/shells/fish.ts. */
static const char *fish_word(const char *p, const char *end) {
  if (p >= end || *p != '\'') return NULL;
  for (p++; p < end; p++) {
    if (*p == '\'') return p + 1;
    if (*p == '\\') {
      if (p + 1 >= end || (p[1] != '\\' && p[1] != '\'')) return NULL;
      p++;
    }
  }
  return NULL;
}

/* A JSON string as JSON.stringify writes it (escapes \" \\ \/ \b \f \n \r \t \uXXXX, no raw controls). */
static const char *json_word(const char *p, const char *end) {
  if (!p || p >= end || *p != '"') return NULL;
  for (p++; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c != '\\') continue;
    if (++p >= end) return NULL;
    if (*p == 'u') {
      for (int i = 1; i <= 4; i++) {
        char h = p + i < end ? p[i] : 0;
        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return NULL;
      }
      p += 4;
    } else if (!strchr("\"\\/bfnrt", *p) || *p == 0) {
      return NULL;
    }
  }
  return NULL;
}

/* Expects the literal s at p. */
static const char *lit(const char *p, const char *end, const char *s) {
  size_t n = strlen(s);
  return p && (size_t)(end - p) >= n && memcmp(p, s, n) == 0 ? p + n : NULL;
}

/* "NAME" with a settable name; *bad set to the name when it is not settable. */
static const char *json_name(const char *p, const char *end, const char **bad, size_t *bad_len) {
  if (!(p = lit(p, end, "\""))) return NULL;
  size_t n = 0;
  while (p + n < end && name_char(p[n])) n++;
  if (!lit(p + n, end, "\"")) return NULL;
  if (!kr_settable_name(p, n) && !*bad) { *bad = p; *bad_len = n; }
  return p + n + 1;
}

/* src/shells/json.ts, exactly: {"set":{N:"v",…},"unset":[N,…],"save":[…],"forget":[…],"state":"…"}\n */
static int check_json(const char *p, const char *end, char *why, size_t size) {
  static const char *const lists[] = { ",\"unset\":[", "],\"save\":[", "],\"forget\":[" };
  const char *bad = NULL;
  size_t bad_len = 0;
  p = lit(p, end, "{\"set\":{");
  if (p && p < end && *p == '"') {
    for (;;) {
      p = json_word(lit(json_name(p, end, &bad, &bad_len), end, ":"), end);
      if (!p || p >= end || *p != ',') break;
      p++;
    }
  }
  p = lit(p, end, "}");
  for (int l = 0; l < 3; l++) {
    p = lit(p, end, lists[l]);
    if (!p || p >= end || *p != '"') continue;
    for (;;) {
      p = json_name(p, end, &bad, &bad_len);
      if (!p || p >= end || *p != ',') break;
      p++;
    }
  }
  p = lit(json_word(lit(p, end, "],\"state\":"), end), end, "}\n");
  if (p != end) { snprintf(why, size, "it is not the JSON keyrack writes"); return -1; }
  if (bad) { snprintf(why, size, "it sets %.*s, which keyrack never sets", bad_len > 64 ? 64 : (int)bad_len, bad); return -1; }
  return 0;
}

/* Matches one template at p, through its '\n'. Returns past it, or NULL; the name in *name. */
static const char *match(const char *t, enum kr_quoting q, const char *p, const char *end, const char **name, size_t *nlen) {
  *name = NULL;
  *nlen = 0;
  for (; *t; t++) {
    if (*t == KR_TPL_NAME) {
      size_t n = 0;
      if (p < end && name_start(*p)) while (p + n < end && name_char(p[n])) n++;
      if (n == 0) return NULL;
      if (!*name) { *name = p; *nlen = n; }
      else if (n != *nlen || memcmp(p, *name, n) != 0) return NULL;
      p += n;
    } else if (*t == KR_TPL_VALUE) {
      p = q == KR_QUOTE_POSIX ? posix_word(p, end) : fish_word(p, end);
      if (!p) return NULL;
    } else if (p >= end || *p++ != *t) {
      return NULL;
    }
  }
  return p < end && *p == '\n' ? p + 1 : NULL;
}

int kr_check_export(const char *shell, const char *code, size_t len, char *why, size_t size) {
  if (strcmp(shell, "json") == 0) return memchr(code, 0, len) ? -1 : check_json(code, code + len, why, size);
  const struct kr_shell_rules *r = rules_for(shell);
  if (!r) { snprintf(why, size, "keyrack-fast has no rules for %s", shell); return -1; }
  if (memchr(code, 0, len)) { snprintf(why, size, "it holds a NUL byte"); return -1; }
  const char *p = code, *end = code + len;
  for (int n = 1; p < end; n++) {
    const char *next = NULL, *refused = NULL;
    size_t refused_len = 0;
    /* `export KEYRACK_STATE=…` is the state statement, and a refused name for `set`. */
    for (const char *const *s = r->statements; *s && !next; s++) {
      const char *name;
      size_t nlen;
      const char *after = match(*s, r->quoting, p, end, &name, &nlen);
      if (after && name && !kr_settable_name(name, nlen)) { refused = name; refused_len = nlen; }
      else next = after;
    }
    if (!next && refused) {
      snprintf(why, size, "statement %d sets %.*s, which keyrack never sets", n, refused_len > 64 ? 64 : (int)refused_len, refused);
      return -1;
    }
    if (!next) { snprintf(why, size, "statement %d is not one keyrack writes", n); return -1; }
    p = next;
  }
  return 0;
}
