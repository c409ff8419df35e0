/* PATH search as execvp(3) does it (see program.h). */
#define _GNU_SOURCE
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int runnable(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int kr_resolve_program(const char *cmd, char *out, size_t size) {
  if (cmd[0] == 0) return -1;
  if (strchr(cmd, '/')) {
    int n = snprintf(out, size, "%s", cmd);
    return n > 0 && (size_t)n < size && runnable(out) ? 0 : -1;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/bin:/usr/bin"; /* glibc's default when PATH is unset */
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    /* An empty entry means the current directory, as for execvp. */
    int n = len == 0 ? snprintf(out, size, "%s", cmd) : snprintf(out, size, "%.*s/%s", (int)len, p, cmd);
    if (n > 0 && (size_t)n < size && runnable(out)) return 0;
    if (!colon) return -1;
    p = colon + 1;
  }
}
