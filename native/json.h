/* keyrack-fast's JSON buffer, writer and reader (json.c). */
#ifndef KR_JSON_H
#define KR_JSON_H

#include <stddef.h>

/* A growable buffer, always NUL-terminated after len bytes. */
typedef struct { char *p; size_t len, cap; } buf_t;

/* The program's answer to running out of memory (keyrack-fast: the Node CLI); does not return. */
void kr_json_oom(void);

/* Appends n bytes of s / a C string. */
void put(buf_t *b, const char *s, size_t n);
void puts_(buf_t *b, const char *s);

/* Appends s as a JSON string; -1 (b unchanged) when s is not valid UTF-8. */
int put_json_string(buf_t *b, const unsigned char *s);

/* Decodes the JSON string at *s (on its opening quote) into out and moves *s past it; -1 when malformed. */
int json_string(const char **s, buf_t *out);

/* The value of "key" at the top level of a flat object, or NULL. */
const char *field(const char *json, const char *key);

#endif
