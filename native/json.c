/*
 * keyrack-fast's JSON: a growable buffer, the writer of its requests' strings,
 * and a reader for the one response shape it expects (a flat object whose
 * fields it picks by name). Not a general parser: the daemon's answers are
 * JSON.stringify's, and anything this does not understand sends the client to
 * the Node CLI (kr_json_oom, and each caller's fallback on a -1 or NULL).
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the buffer and the writer ---- */
void put(buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) kr_json_oom();
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}
void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }

/* Appends s as a JSON string. Returns -1 when s is not valid UTF-8 (JSON cannot carry it). */
int put_json_string(buf_t *b, const unsigned char *s) {
  size_t start = b->len;
  put(b, "\"", 1);
  for (const unsigned char *c = s; *c;) {
    unsigned char ch = *c;
    if (ch < 0x80) {
      char esc[8];
      if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; put(b, esc, 2); }
      else if (ch < 0x20 || ch == 0x7f) { snprintf(esc, sizeof esc, "\\u%04x", ch); put(b, esc, 6); }
      else put(b, (const char *)c, 1);
      c++;
      continue;
    }
    int n = (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0) goto bad;
    unsigned cp = ch & (0xff >> (n + 1));
    for (int i = 1; i < n; i++) {
      if ((c[i] & 0xc0) != 0x80) goto bad;
      cp = (cp << 6) | (c[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) goto bad;
    put(b, (const char *)c, (size_t)n);
    c += n;
  }
  put(b, "\"", 1);
  return 0;
bad:
  b->len = start;
  b->p[start] = 0;
  return -1;
}

/* ---- the reader ---- */
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void put_utf8(buf_t *b, unsigned cp) {
  char o[4];
  if (cp < 0x80) { o[0] = (char)cp; put(b, o, 1); }
  else if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); put(b, o, 2); }
  else if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f)); put(b, o, 3); }
  else { o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); put(b, o, 4); }
}

static int read_hex4(const char **s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((*s)[i]);
    if (h < 0) return -1;
    v = v << 4 | (unsigned)h;
  }
  *s += 4;
  *out = v;
  return 0;
}

/* Decodes the JSON string starting at *s (on the opening quote) into out. */
int json_string(const char **s, buf_t *out) {
  const char *c = *s;
  if (*c != '"') return -1;
  c++;
  out->len = 0;
  put(out, "", 0);
  while (*c && *c != '"') {
    if (*c != '\\') { put(out, c, 1); c++; continue; }
    c++;
    switch (*c) {
      case '"': put(out, "\"", 1); break;
      case '\\': put(out, "\\", 1); break;
      case '/': put(out, "/", 1); break;
      case 'b': put(out, "\b", 1); break;
      case 'f': put(out, "\f", 1); break;
      case 'n': put(out, "\n", 1); break;
      case 'r': put(out, "\r", 1); break;
      case 't': put(out, "\t", 1); break;
      case 'u': {
        c++;
        unsigned cp, lo;
        if (read_hex4(&c, &cp) < 0) return -1;
        if (cp >= 0xd800 && cp <= 0xdbff && c[0] == '\\' && c[1] == 'u') {
          c += 2;
          if (read_hex4(&c, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) return -1;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(out, cp);
        continue;
      }
      default: return -1;
    }
    c++;
  }
  if (*c != '"') return -1;
  *s = c + 1;
  return 0;
}

/* Finds "key": at the top level of a flat object and returns a pointer to its value. */
const char *field(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  int depth = 0;
  for (const char *c = json; *c; c++) {
    if (*c == '"') {
      if (depth == 1 && strncmp(c, pat, strlen(pat)) == 0) return c + strlen(pat);
      for (c++; *c && *c != '"'; c++) if (*c == '\\' && c[1]) c++;
      if (!*c) return NULL;
    } else if (*c == '{' || *c == '[') depth++;
    else if (*c == '}' || *c == ']') depth--;
  }
  return NULL;
}
