/*
 * The masker (see mask.h). A stream filter with no line buffering: it holds back
 * only a tail of the last read that is the start of some value (never a newline:
 * values are masked line by line), so every complete line goes out at once, a
 * value split across reads is still caught, and bytes that match nothing pass
 * through unchanged (binary too). Candidate positions are found with a 64 Ki-bit
 * table of the patterns' first two bytes, so the scan costs one lookup per byte.
 */
#define _GNU_SOURCE
#include "mask.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct { char *s; size_t len; char *repl; size_t rlen; } pattern;

struct kr_mask {
  pattern *p;
  size_t n, cap, maxlen, minlen;
  /* Checkpoints are `step` bytes apart: every value is longer than step, so each
   * occurrence covers one, at an offset below step. */
  size_t step;
  uint64_t pair[1024]; /* bit (b0 << 8 | b1): some pattern starts with bytes b0 b1 */
  uint64_t any[1024];  /* ... has bytes b0 b1 at some offset below step */
};

#define PAIR(a, b) (((unsigned)(unsigned char)(a) << 8) | (unsigned char)(b))
#define BIT(t, k) ((t)[(k) >> 6] >> ((k) & 63) & 1)
#define SET(t, k) ((t)[(k) >> 6] |= (uint64_t)1 << ((k) & 63))
#define HAS(m, k) BIT((m)->pair, k)
#define STEP_MAX 8

static void *xalloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) { static const char e[] = "keyrack: out of memory\n"; (void)!write(2, e, sizeof e - 1); _exit(1); }
  return p;
}

kr_mask *kr_mask_new(void) {
  kr_mask *m = xalloc(NULL, sizeof *m);
  memset(m, 0, sizeof *m);
  return m;
}

static int longer_first(const void *a, const void *b) {
  size_t x = ((const pattern *)a)->len, y = ((const pattern *)b)->len;
  return x < y ? 1 : x > y ? -1 : 0;
}

void kr_mask_add(kr_mask *m, const char *name, const char *value, size_t len, int *had_short) {
  size_t nl = strlen(name);
  const char *end = value + len;
  for (const char *line = value; line < end;) {
    const char *e = memchr(line, '\n', (size_t)(end - line));
    if (!e) e = end;
    size_t l = (size_t)(e - line);
    if (l > 0 && line[l - 1] == '\r') l--;
    if (l >= KR_MASK_MIN) {
      if (m->n == m->cap) { m->cap = m->cap ? m->cap * 2 : 16; m->p = xalloc(m->p, m->cap * sizeof *m->p); }
      pattern *p = &m->p[m->n++];
      p->s = xalloc(NULL, l);
      memcpy(p->s, line, l);
      p->len = l;
      p->rlen = nl + 2;
      p->repl = xalloc(NULL, p->rlen);
      p->repl[0] = '<';
      memcpy(p->repl + 1, name, nl);
      p->repl[nl + 1] = '>';
      SET(m->pair, PAIR(line[0], line[1]));
      if (l > m->maxlen) m->maxlen = l;
      if (m->minlen == 0 || l < m->minlen) m->minlen = l;
    } else if (l > 0) {
      *had_short = 1;
    }
    line = e + 1;
  }
  /* Longest first: where two values overlap at one position, the longer is masked. */
  qsort(m->p, m->n, sizeof *m->p, longer_first);
  /* The checkpoint table, rebuilt for the (maybe shorter) minimum. */
  if (m->n == 0) return;
  m->step = m->minlen - 1 < STEP_MAX ? m->minlen - 1 : STEP_MAX;
  memset(m->any, 0, sizeof m->any);
  for (size_t j = 0; j < m->n; j++)
    for (size_t o = 0; o < m->step; o++) SET(m->any, PAIR(m->p[j].s[o], m->p[j].s[o + 1]));
}

/* The first position in [i, lim) where a value may start (its first two bytes fit),
 * or lim. Looks at one checkpoint every `step` bytes; only around a checkpoint that
 * hits does it look at each start. Needs lim + step <= len - 1 (lim = len - maxlen). */
static size_t next_candidate(const kr_mask *m, const char *b, size_t i, size_t lim) {
  const size_t step = m->step;
  for (size_t c = i + step - 1; c - (step - 1) < lim; c += step) {
    if (!BIT(m->any, PAIR(b[c], b[c + 1]))) continue;
    size_t from = c - (step - 1);
    for (size_t s = from < i ? i : from; s <= c && s < lim; s++)
      if (HAS(m, PAIR(b[s], b[s + 1]))) return s;
  }
  return lim;
}

/* The longest pattern that occurs in full at b[0..avail), or NULL; *more set when a
 * longer one might still, given more bytes (then nothing here may be decided yet). */
static const pattern *match_at(const kr_mask *m, const char *b, size_t avail, int at_eof, int *more) {
  *more = 0;
  for (size_t j = 0; j < m->n; j++) { /* longest first */
    const pattern *p = &m->p[j];
    if (p->len <= avail) {
      if (memcmp(b, p->s, p->len) == 0) return p;
    } else if (!at_eof && memcmp(b, p->s, avail) == 0) {
      *more = 1;
      return NULL;
    }
  }
  return NULL;
}

/* ---- one relayed stream ---- */
typedef struct {
  int in, out;
  char *buf;       /* the held tail, then the new read */
  size_t held, cap;
  int out_gone;    /* its reader went away: drop what we would write */
} stream;

static void put_out(stream *s, const char *p, size_t n) {
  while (n > 0 && !s->out_gone) {
    ssize_t w = write(s->out, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { struct pollfd f = { s->out, POLLOUT, 0 }; poll(&f, 1, -1); continue; }
      s->out_gone = 1; /* EPIPE and the like: the command gets its SIGPIPE once we stop reading */
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

/* Masks buf[0..len) and writes it; keeps back (moved to the front) a tail that may be
 * the start of a value, unless at_eof. */
static void process(const kr_mask *m, stream *s, size_t len, int at_eof) {
  char *b = s->buf;
  if (m->n == 0) { /* nothing to mask (no values, or only short ones): a plain relay */
    put_out(s, b, len);
    s->held = 0;
    return;
  }
  size_t i = 0, run = 0; /* run: start of bytes not yet written */
  /* Below `fast`, every pattern fits in what we have: none can need more bytes. */
  size_t fast = len > m->maxlen ? len - m->maxlen : 0;
  while (i < len) {
    if (i < fast) {
      i = next_candidate(m, b, i, fast);
      if (i >= fast) continue;
    } else if (i + 1 < len && !HAS(m, PAIR(b[i], b[i + 1]))) {
      i++; /* two bytes no value starts with (values are >= KR_MASK_MIN long): not even a prefix */
      continue;
    }
    int more = 0;
    const pattern *p = match_at(m, b + i, len - i, at_eof, &more);
    if (more) break; /* held back: the next read decides */
    if (p) {
      put_out(s, b + run, i - run);
      put_out(s, p->repl, p->rlen);
      i += p->len;
      run = i;
      continue;
    }
    i++;
  }
  put_out(s, b + run, i - run);
  s->held = len - i;
  memmove(b, b + i, s->held);
}

#define CHUNK (256 * 1024)

/* Reads once; returns 0 at EOF (what was held is flushed), 1 after data, -1 on EAGAIN. */
static int pump(const kr_mask *m, stream *s) {
  if (s->cap < s->held + CHUNK) { s->cap = s->held + CHUNK; s->buf = xalloc(s->buf, s->cap); }
  ssize_t n = read(s->in, s->buf + s->held, CHUNK);
  if (n < 0 && errno == EINTR) return 1;
  if (n < 0 && errno == EAGAIN) return -1;
  if (n <= 0) { process(m, s, s->held, 1); s->held = 0; return 0; }
  process(m, s, s->held + (size_t)n, 0);
  return 1;
}

int kr_mask_filter(kr_mask *m, int in, int out) {
  stream s = { in, out, NULL, 0, 0, 0 };
  if (m->n == 0) { /* nothing to mask: a plain copy */
    char tmp[CHUNK];
    for (;;) {
      ssize_t n = read(in, tmp, sizeof tmp);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;
      put_out(&s, tmp, (size_t)n);
    }
  }
  while (pump(m, &s) != 0) {}
  free(s.buf);
  return 0;
}

/* ---- running the command ---- */
static volatile sig_atomic_t child_pid;
static int sig_pipe[2] = { -1, -1 };
static int forward_int;

static void on_signal(int sig) {
  int e = errno;
  if (sig == SIGCHLD) { char c = 0; (void)!write(sig_pipe[1], &c, 1); }
  else if (child_pid > 0 && (sig != SIGINT || forward_int)) kill((pid_t)child_pid, sig);
  errno = e;
}

static const int FORWARDED[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM };

static int has_controlling_tty(void) {
  int fd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

int kr_mask_run(kr_mask *m, const char *path, char **cmd, void (*before_exec)(void)) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
  /* A Ctrl-C on the terminal reaches the command already (same process group):
   * passing it on too would be a second one. kill -INT of us only: passed on. */
  forward_int = !has_controlling_tty();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  /* Handlers before the fork: a signal in between is held (blocked), then passed on. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaction(FORWARDED[i], &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaction(FORWARDED[i], &dfl, NULL);
    sigaction(SIGCHLD, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (before_exec) before_exec();
    execv(path, cmd);
    int e = errno;
    if (e == ENOEXEC || e == ENOENT) execvp(cmd[0], cmd);
    dprintf(2, "keyrack: %s: %s\n", cmd[0], e == ENOENT ? "command not found" : strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  child_pid = pid;
  sigprocmask(SIG_SETMASK, &old, NULL);
  /* Bigger pipes, fewer reads: 1 MiB where the system allows it (a hint only). */
  fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
  fcntl(err[0], F_SETPIPE_SZ, 1 << 20);
  close(out[1]);
  close(err[1]);

  stream s[2] = { { out[0], 1, NULL, 0, 0, 0 }, { err[0], 2, NULL, 0, 0, 0 } };
  int open_[2] = { 1, 1 };
  int status = 0, reaped = 0;
  while (!reaped) {
    struct pollfd f[3] = { { open_[0] ? out[0] : -1, POLLIN, 0 }, { open_[1] ? err[0] : -1, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
    if (poll(f, 3, -1) < 0) { if (errno == EINTR) continue; break; }
    for (int k = 0; k < 2; k++) {
      if (!open_[k] || !(f[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (pump(m, &s[k]) == 0 || s[k].out_gone) { close(s[k].in); open_[k] = 0; }
    }
    if (f[2].revents & POLLIN) {
      char tmp[64];
      while (read(sig_pipe[0], tmp, sizeof tmp) > 0) {}
    }
    if (waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
  }
  /* The command is gone: what it wrote is in the pipes; take it, without waiting for
   * a background process of its that may hold them open. */
  for (int k = 0; k < 2; k++) {
    if (!open_[k]) continue;
    fcntl(s[k].in, F_SETFL, O_NONBLOCK);
    while (pump(m, &s[k]) > 0) {}
    if (s[k].held) { process(m, &s[k], s[k].held, 1); s[k].held = 0; }
    close(s[k].in);
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    /* Die of it ourselves, as an exec'd command would have (no core: RLIMIT_CORE is 0 here). */
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(getpid(), sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
