/*
 * When a hook's export finds no daemon, keyrack-fast starts one in the background,
 * so the shell's next `cd` is answered warm. It starts nothing itself: it runs the
 * Node CLI's `keyrack daemon start`, the same checked path `unlock` takes
 * (src/daemon/client.ts startDaemon: environment whitelist, session lock, the
 * check of the daemon that answers). The starter is detached (its own session, stdio
 * on /dev/null, no inherited descriptor: the hook's $(…) must not wait for it), and
 * a marker beside the socket keeps a daemon that will not start (no native module,
 * a refused check) from being tried on every prompt: once a minute at most.
 */
#define _GNU_SOURCE
#include "autostart.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RETRY_SECONDS 60

/* True when a start was tried less than RETRY_SECONDS ago; else marks this try. */
static int tried_lately(const char *socket_path) {
  char marker[4200];
  int n = snprintf(marker, sizeof marker, "%s.autostart", socket_path);
  if (n < 0 || (size_t)n >= sizeof marker) return 1;
  struct stat st;
  time_t now = time(NULL);
  if (lstat(marker, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime < RETRY_SECONDS && st.st_mtime <= now) return 1;
  int fd = open(marker, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return 1; /* cannot mark it: do not risk a start on every prompt */
  futimens(fd, NULL);
  close(fd);
  return 0;
}

void kr_autostart(const char *node, const char *script, const char *socket_path) {
  if (tried_lately(socket_path)) return;
  pid_t child = fork();
  if (child < 0) return;
  if (child > 0) {
    waitpid(child, NULL, 0); /* the middle process exits at once */
    return;
  }
  /* Middle: a session of its own, then the starter as its child, reparented to init. */
  if (setsid() < 0 || fork() != 0) _exit(0);
  int null = open("/dev/null", O_RDWR);
  if (null < 0) _exit(0);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  /* Nothing else of the shell's: above all not the pipe its $(…) reads. */
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    for (int fd = 3; fd < 1024; fd++) close(fd);
  if (chdir("/") != 0) _exit(0);
  /* Node parses this bundle at start (~40 ms); the daemon's whitelisted environment drops it anyway. */
  unsetenv("NODE_EXTRA_CA_CERTS");
  execl(node, node, script, "daemon", "start", (char *)NULL);
  _exit(0);
}
