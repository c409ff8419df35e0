/*
 * The daemon GET round trip as a C client sees it: the hook's keyrack-fast is C,
 * and a Node client adds its own garbage collections and timer jitter to every
 * sample. Built and run by bench/phases.ts:
 *
 *   get-client SOCKET MODE N KEY...     MODE: one (one connection) | each (connect,
 *                                       hello, GET, close per request)
 *
 * Prints one latency in milliseconds per line; exits 1 (with a reason on stderr)
 * when an answer is not ok or misses a key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t len;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Reads one frame (a line) into buf[0..*n), keeping what follows it. */
static int read_frame(int fd, size_t *n) {
  for (;;) {
    char *nl = memchr(buf, '\n', len);
    if (nl) {
      *n = (size_t)(nl - buf) + 1;
      return 0;
    }
    if (len == sizeof buf) return -1;
    ssize_t r = read(fd, buf + len, sizeof buf - len);
    if (r <= 0) return -1;
    len += (size_t)r;
  }
}

static void drop_frame(size_t n) {
  memmove(buf, buf + n, len - n);
  len -= n;
}

static int dial(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  size_t n;
  len = 0;
  if (read_frame(fd, &n) != 0) return -1; /* the hello */
  drop_frame(n);
  return fd;
}

static int fail(const char *why) {
  fprintf(stderr, "get-client: %s\n", why);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) return fail("usage: get-client SOCKET one|each N KEY...");
  const char *path = argv[1];
  int each = strcmp(argv[2], "each") == 0;
  int count = atoi(argv[3]);
  char req[8192];
  char quoted[128];
  size_t rl = 0;
  for (int i = 4; i < argc; i++) {
    snprintf(quoted, sizeof quoted, "%s\"%s\"", i == 4 ? "" : ",", argv[i]);
    if (rl + strlen(quoted) + 64 >= sizeof req) return fail("too many keys");
    memcpy(req + rl, quoted, strlen(quoted));
    rl += strlen(quoted);
  }
  req[rl] = '\0';
  char frame[8192];
  int fd = each ? -1 : dial(path);
  if (!each && fd < 0) return fail("cannot connect");
  for (int i = -50; i < count; i++) { /* 50 warm-up requests */
    int k = snprintf(frame, sizeof frame, "{\"id\":%d,\"op\":\"get\",\"keys\":[%s]}\n", i + 100, req);
    double t0 = now_ms();
    if (each && (fd = dial(path)) < 0) return fail("cannot connect");
    if (write(fd, frame, (size_t)k) != k) return fail("write failed");
    size_t n;
    if (read_frame(fd, &n) != 0) return fail("no answer");
    if (each) close(fd);
    double dt = now_ms() - t0;
    buf[n - 1] = '\0';
    if (!strstr(buf, "\"ok\":true")) return fail("an answer was not ok");
    for (int j = 4; j < argc; j++) {
      snprintf(quoted, sizeof quoted, "\"%s\":", argv[j]);
      if (!strstr(buf, quoted)) return fail("an answer missed a key");
    }
    drop_frame(n);
    if (i >= 0) printf("%.4f\n", dt);
  }
  return 0;
}
