/*
 * keyrack-fast's exec modes (see fast_exec.h): `exec [--key K]... [--] CMD...`,
 * served from the daemon's exec-env answer, and `--masked`, the Node CLI's
 * `exec --mask`; both set what the daemon checked and become the command, masked
 * through the one masker (mask.c) when asked.
 */
#define _GNU_SOURCE
#include "fast_exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export_check.h"
#include "fast_client.h"
#include "json.h"
#include "mask.h"
#include "peer_check.h"
#include "program.h"

/* ---- exec --mask (native/mask.c does the masking) ---- */

/* The mask being built, and the names with values too short to mask. */
typedef struct { kr_mask *mask; buf_t short_names; } masking;

static void mask_value(masking *m, const char *name, const char *value, size_t len) {
  int had_short = 0;
  kr_mask_add(m->mask, name, value, len, &had_short);
  if (!had_short) return;
  if (m->short_names.len) puts_(&m->short_names, ", ");
  puts_(&m->short_names, name);
}

/* Runs cmd under the mask; never returns (the command's status is ours). */
static void run_masked(masking *m, const char *path, char **cmd) {
  if (m->short_names.len) {
    buf_t msg = {0};
    puts_(&msg, "keyrack: --mask: not masking ");
    put_shown(&msg, m->short_names.p);
    puts_(&msg, ": shorter than 6 characters (or a line of it is)\n");
    write_all(2, msg.p, msg.len);
  }
  /* Our core limit stays 0 (we hold the values); the command gets the user's back. */
  kr_mask_run(m->mask, path, cmd, give_back_core_limit);
  static const char e[] = "keyrack: cannot start the masked command (pipe or fork failed)\n";
  write_all(2, e, sizeof e - 1);
  _exit(1);
}

/*
 * `keyrack-fast --masked -- CMD ARG...`: the Node CLI's `exec --mask`. The variables
 * come on fd 3 (NAME NUL VALUE NUL …, until EOF), never in argv or our environment
 * as we were started, so the one masker serves both exec paths.
 */
int masked_main(char **cmd) {
  no_fallback = 1;
  buf_t in = {0};
  char tmp[65536];
  for (;;) {
    ssize_t n = read(3, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { fprintf(stderr, "keyrack: --masked: cannot read the variables on fd 3: %s\n", strerror(errno)); return 1; }
    if (n == 0) break;
    put(&in, tmp, (size_t)n);
  }
  close(3);
  masking m = { kr_mask_new(), {0} };
  for (size_t at = 0; at < in.len;) {
    const char *name = in.p + at;
    size_t nl = strnlen(name, in.len - at), vat = at + nl + 1;
    size_t vl = vat < in.len ? strnlen(in.p + vat, in.len - vat) : 0;
    if (vat >= in.len || vat + vl >= in.len) { fputs("keyrack: --masked: the variables on fd 3 end inside a record\n", stderr); return 1; }
    const char *value = in.p + vat;
    if (!kr_settable_name(name, nl)) { fputs("keyrack: --masked: a name keyrack never sets on fd 3\n", stderr); return 1; }
    if (setenv(name, value, 1) != 0) return 1;
    mask_value(&m, name, value, vl);
    at = vat + vl + 1;
  }
  memset(in.p, 0, in.len);
  static char prog[4096];
  if (kr_resolve_program(cmd[0], prog, sizeof prog) != 0) snprintf(prog, sizeof prog, "%s", cmd[0]);
  run_masked(&m, prog, cmd);
  return 1;
}

/* exec's own options, as src/cli.ts reads them; anything else → the Node CLI. */
int fast_exec(int argc, char **argv) {
  buf_t keys = {0};
  puts_(&keys, "[");
  int i = 0, nkeys = 0, mask = -1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *k = NULL;
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "--mask") == 0) { mask = 1; continue; }
    if (strcmp(a, "--no-mask") == 0) { mask = 0; continue; }
    if (strcmp(a, "--key") == 0 || strcmp(a, "-k") == 0) { if (++i >= argc) fallback(); k = argv[i]; }
    else if (strncmp(a, "--key=", 6) == 0) k = a + 6;
    else if (a[0] == '-') fallback();
    else break;
    if (nkeys++) put(&keys, ",", 1);
    if (put_json_string(&keys, (const unsigned char *)k) < 0) fallback();
  }
  puts_(&keys, "]");
  if (i >= argc) fallback();
  char **cmd = argv + i;

  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  /* What the audit log records as the program (client-reported): the very path run below. */
  static char prog[4096];
  if (kr_resolve_program(cmd[0], prog, sizeof prog) != 0) fallback(); /* Node says "not found" */
  if (mask < 0) mask = !isatty(1) || !isatty(2);
  puts_(&req, "{\"id\":1,\"op\":\"exec-env\",\"keys\":");
  puts_(&req, keys.p);
  puts_(&req, ",\"program\":{\"path\":");
  if (put_json_string(&req, (const unsigned char *)prog) < 0) fallback();
  puts_(&req, ",\"argv0\":");
  if (put_json_string(&req, (const unsigned char *)cmd[0]) < 0) fallback();
  puts_(&req, "}");
  ask(fd, &req, &line, deadline, 1);
  close(fd);
  /* "vars":{"NAME":"value",…} — flat, as JSON.stringify writes it. */
  const char *v = field(line.p, "vars");
  if (!v || *v != '{') fallback();
  v++;
  buf_t name = {0}, value = {0};
  masking m = { mask ? kr_mask_new() : NULL, {0} };
  while (*v != '}') {
    if (json_string(&v, &name) < 0 || *v++ != ':' || json_string(&v, &value) < 0) fallback();
    if (!kr_settable_name(name.p, name.len)) {
      buf_t why = {0};
      put_shown(&why, name.p);
      puts_(&why, " is a name keyrack never sets");
      refuse_answer("variables", why.p);
    }
    if (strlen(value.p) != value.len) refuse_answer("variables", "a value holds a NUL byte");
    if (setenv(name.p, value.p, 1) != 0) fallback();
    if (m.mask) mask_value(&m, name.p, value.p, value.len);
    if (*v == ',') v++;
    else if (*v != '}') fallback();
  }
  if (m.mask) run_masked(&m, prog, cmd);
  give_back_core_limit();
  execv(prog, cmd);
  execvp(cmd[0], cmd); /* a script without #!: execvp runs it with /bin/sh */
  /* Not found, not executable: the Node CLI says so with the usual exit codes. */
  fallback();
  return 1;
}
