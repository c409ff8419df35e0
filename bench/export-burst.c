/*
 * N exports at once, without the bench's own process spawning in the numbers: a Node
 * parent that spawns 500 children blocks its event loop for a second or two, so
 * every child's "latency" was mostly the parent's. Built and run by bench/scale.ts:
 *
 *   export-burst conn SOCKET N SHELL EXPECT
 *       N connections to the daemon from this one process, all in flight together;
 *       each sends the export request keyrack-fast sends (this process's cwd and
 *       environment) once the hello came. One line per connection: milliseconds
 *       from connect() to the whole answer (the daemon's latency under N at once).
 *   export-burst proc N EXPECT DIR -- ARGV...
 *       N children forked first and held at a barrier, then released together; each
 *       runs ARGV (keyrack-fast) with stdout to DIR/<i>, stderr to /dev/null. One line per child:
 *       milliseconds from the release to its exit (exec and the client included).
 *
 * An answer counts as correct when it sets EXPECT variables K<digit>… ("export K0="…:
 * the bench's keys); exits 1, saying how many were wrong, otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int fail(const char *why) {
  fprintf(stderr, "export-burst: %s\n", why);
  return 1;
}

/* Occurrences of "export K<digit>" (not KEYRACK_STATE) in s[0..n). */
static int count(const char *s, size_t n) {
  int c = 0;
  for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "export K", 8)) != NULL; p += 8)
    if ((size_t)(p + 8 - s) < n && p[8] >= '0' && p[8] <= '9') c++;
  return c;
}

/* A JSON string of s (the bench's environment is plain ASCII; anything else is escaped byte-wise). */
static size_t json_str(char *out, const char *s, size_t n) {
  size_t k = 0;
  out[k++] = '"';
  for (size_t i = 0; i < n && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { out[k++] = '\\'; out[k++] = (char)c; }
    else if (c < 0x20 || c >= 0x7f) k += (size_t)sprintf(out + k, "\\u%04x", c);
    else out[k++] = (char)c;
  }
  out[k++] = '"';
  return k;
}

/* {"id":1,"op":"export","shell":…,"cwd":…,"env":{…}}\n, as keyrack-fast builds it. */
static char *export_request(const char *shell, size_t *len) {
  size_t cap = 1 << 16, k = 0;
  for (char **e = environ; *e; e++) cap += 6 * strlen(*e) + 8;
  char *r = malloc(cap);
  char cwd[4096];
  if (!r || !getcwd(cwd, sizeof cwd)) return NULL;
  k += (size_t)sprintf(r + k, "{\"id\":1,\"op\":\"export\",\"shell\":");
  k += json_str(r + k, shell, strlen(shell));
  k += (size_t)sprintf(r + k, ",\"cwd\":");
  k += json_str(r + k, cwd, strlen(cwd));
  k += (size_t)sprintf(r + k, ",\"env\":{");
  for (char **e = environ; *e; e++) {
    char *eq = strchr(*e, '=');
    if (!eq) continue;
    if (e != environ) r[k++] = ',';
    k += json_str(r + k, *e, (size_t)(eq - *e));
    r[k++] = ':';
    k += json_str(r + k, eq + 1, strlen(eq + 1));
  }
  k += (size_t)sprintf(r + k, "}}\n");
  *len = k;
  return r;
}

typedef struct { int fd, state; double t0, ms; char *buf; size_t len, cap; } conn_t;

/* Appends what fd has; returns 1 at EOF or error. */
static int take(conn_t *c) {
  for (;;) {
    if (c->cap - c->len < 65536) {
      c->cap = c->cap ? c->cap * 2 : 131072;
      c->buf = realloc(c->buf, c->cap);
      if (!c->buf) return 1;
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n > 0) { c->len += (size_t)n; continue; }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return 1;
  }
}

static int burst_conn(const char *path, int n, const char *shell, int expect) {
  size_t rl;
  char *req = export_request(shell, &rl);
  if (!req) return fail("cannot build the request");
  conn_t *cs = calloc((size_t)n, sizeof *cs);
  struct pollfd *ps = calloc((size_t)n, sizeof *ps);
  if (!cs || !ps) return fail("out of memory");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  /* All connected before any answer is read: N requests in flight at once. */
  for (int i = 0; i < n; i++) {
    cs[i].t0 = now_ms();
    cs[i].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&a, sizeof a) != 0) return fail("cannot connect (is the daemon running?)");
    fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
  }
  int left = n, wrong = 0;
  while (left > 0) {
    int m = 0;
    for (int i = 0; i < n; i++) if (cs[i].state < 2) ps[m++] = (struct pollfd){cs[i].fd, POLLIN, 0};
    if (poll(ps, (nfds_t)m, 30000) <= 0) return fail("no answer within 30 s");
    for (int j = 0, i = 0; j < m; j++, i++) {
      while (cs[i].state >= 2) i++;
      if (!(ps[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      conn_t *c = &cs[i];
      int eof = take(c);
      char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
      if (c->state == 0 && nl) { /* the hello: then the request, as keyrack-fast does */
        size_t rest = c->len - (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, rest);
        c->len = rest;
        c->state = 1;
        if (write(c->fd, req, rl) != (ssize_t)rl) return fail("a request did not go out whole");
        nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
      }
      if (c->state == 1 && nl) {
        c->ms = now_ms() - c->t0;
        c->state = 2;
        left--;
        if (!memmem(c->buf, (size_t)(nl - c->buf), "\"ok\":true", 9) || count(c->buf, (size_t)(nl - c->buf)) != expect) wrong++;
        close(c->fd);
      } else if (eof) {
        c->state = 2;
        c->ms = now_ms() - c->t0;
        left--;
        wrong++;
        close(c->fd);
      }
    }
  }
  for (int i = 0; i < n; i++) printf("%.3f\n", cs[i].ms);
  if (wrong) {
    fprintf(stderr, "export-burst: %d of %d answers were wrong or missing\n", wrong, n);
    return 1;
  }
  return 0;
}

static int burst_proc(int n, int expect, const char *dir, char **argv) {
  int gate[2];
  if (pipe(gate) != 0) return fail("pipe failed");
  pid_t *pids = calloc((size_t)n, sizeof *pids);
  double *ms = calloc((size_t)n, sizeof *ms);
  if (!pids || !ms) return fail("out of memory");
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] < 0) return fail("fork failed");
    if (pids[i] == 0) {
      char out[4200], b;
      close(gate[1]);
      snprintf(out, sizeof out, "%s/%d", dir, i);
      int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0) _exit(126);
      int null = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      if (null >= 0) dup2(null, 2); /* "keyrack: +K0 …" ×N is noise here */
      close(fd);
      (void)!read(gate[0], &b, 1); /* EOF when the parent lets go */
      close(gate[0]);
      execv(argv[0], argv);
      _exit(127);
    }
  }
  close(gate[0]);
  double t0 = now_ms();
  close(gate[1]);
  int wrong = 0;
  for (int done = 0; done < n; done++) {
    int st;
    pid_t p = wait(&st);
    if (p < 0) return fail("wait failed");
    double t = now_ms() - t0;
    for (int i = 0; i < n; i++) if (pids[i] == p) { ms[i] = t; if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) wrong++; }
  }
  for (int i = 0; i < n && expect >= 0; i++) {
    char out[4200], text[1 << 16];
    snprintf(out, sizeof out, "%s/%d", dir, i);
    int fd = open(out, O_RDONLY);
    ssize_t k = fd < 0 ? -1 : read(fd, text, sizeof text);
    if (fd >= 0) close(fd);
    unlink(out);
    if (k < 0 || count(text, (size_t)k) != expect) wrong++;
  }
  for (int i = 0; i < n; i++) printf("%.3f\n", ms[i]);
  if (wrong) {
    fprintf(stderr, "export-burst: %d of %d runs failed or printed a wrong answer\n", wrong, n);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "conn") == 0) return burst_conn(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
  if (argc >= 7 && strcmp(argv[1], "proc") == 0 && strcmp(argv[5], "--") == 0) return burst_proc(atoi(argv[2]), atoi(argv[3]), argv[4], argv + 6);
  return fail("usage: export-burst conn SOCKET N SHELL EXPECT | proc N EXPECT DIR -- ARGV...");
}
