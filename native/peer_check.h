/*
 * peer_check.h: who is at the other end of a unix socket, by the kernel's word.
 * One implementation for both directions, included by both programs:
 *
 *  - the daemon checking a caller (keyrack_native.c peerInfo): kr_peer_session;
 *  - a client checking the daemon before it sends a byte (keyrack_native.c
 *    connectDaemon for the Node CLI, and fast_client.c connect_daemon): kr_connect_daemon.
 *
 * Static functions only: each program compiles its own copy. The includer defines
 * _GNU_SOURCE before its first #include.
 */
#ifndef KEYRACK_PEER_CHECK_H
#define KEYRACK_PEER_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Every function here is static: each includer uses only some of them. */
#define KR_API static __attribute__((unused))

/* /proc/<pid>/sessionid of a process pam_loginuid never put in a login session. */
#define KR_UNSET_SESSION 4294967295ULL

/* Reads /proc/<pid>/sessionid (pid 0: our own); 0 and *out, or -1 with errno. */
KR_API int kr_read_sessionid(pid_t pid, unsigned long long *out) {
  char path[64], buf[32];
  if (pid == 0) snprintf(path, sizeof path, "/proc/self/sessionid");
  else snprintf(path, sizeof path, "/proc/%d/sessionid", (int)pid);
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -1;
  ssize_t n = read(f, buf, sizeof buf - 1);
  int saved = errno;
  close(f);
  if (n <= 0) { errno = n == 0 ? EIO : saved; return -1; }
  buf[n] = 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (errno != 0 || end == buf) { errno = EINVAL; return -1; }
  *out = v;
  return 0;
}

/* This process's audit session, KR_UNSET_SESSION when it has none. */
KR_API unsigned long long kr_own_session(void) {
  unsigned long long sid;
  return kr_read_sessionid(0, &sid) == 0 ? sid : KR_UNSET_SESSION;
}

/* True while the process the pidfd refers to has not exited (so its pid is not reused). */
KR_API int kr_pidfd_alive(int pidfd) {
  /* EPERM still means "exists": signal 0 only checks permission and existence. */
  return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

/* When the process started, in clock ticks since boot (/proc/<pid>/stat field 22). */
KR_API int kr_start_ticks(pid_t pid, unsigned long long *out) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int f = open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -1;
  ssize_t n = read(f, buf, sizeof buf - 1);
  close(f);
  if (n <= 0) { errno = EIO; return -1; }
  buf[n] = 0;
  /* The name (field 2) may hold anything, ')' included: count from the last ')'. */
  char *p = strrchr(buf, ')');
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (!p) { errno = EINVAL; return -1; }
  *out = strtoull(p + 1, NULL, 10);
  return 0;
}

/* Now, on the clock of kr_start_ticks. */
KR_API unsigned long long kr_now_ticks(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  unsigned long long hz = (unsigned long long)sysconf(_SC_CLK_TCK);
  return (unsigned long long)ts.tv_sec * hz + (unsigned long long)ts.tv_nsec / (1000000000ULL / hz);
}

KR_API long long kr_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * SO_PEERCRED and a pidfd on its pid. SO_PEERPIDFD (Linux 6.5+) pins the very
 * process the credentials name, exited or not. Older kernels: pidfd_open on the pid
 * now, which pins whoever holds that pid *now* — possibly a later process, if the
 * original exited. Returns 0, or -1 with errno and *what (the step that failed).
 */
KR_API int kr_pin_peer(int fd, struct ucred *cr, int *pidfd, const char **pinned, const char **what) {
  socklen_t len = sizeof *cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) != 0) { *what = "SO_PEERCRED"; return -1; }
  len = sizeof *pidfd;
  *pinned = "SO_PEERPIDFD";
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, pidfd, &len) == 0) return 0;
  /* Any answer but "unknown option" means the kernel has it: the peer is gone. */
  if (errno != ENOPROTOOPT) { *what = "the peer process"; errno = ESRCH; return -1; }
  *pinned = "pidfd_open";
  *pidfd = (int)syscall(SYS_pidfd_open, cr->pid, 0);
  if (*pidfd < 0) { *what = "pidfd_open on the peer"; return -1; }
  return 0;
}

/*
 * The daemon's caller check: the peer's credentials and audit session, read while
 * its pid is pinned. Returns 0, or -1 with errno and *what; ESRCH: the peer exited
 * before its session could be read (its pid may be another's by now).
 *
 * Without SO_PEERPIDFD a caller that exits between its connect and our pidfd_open
 * could lend its pid to a process born in that window. A client closes that gap
 * with the sender's SCM_CREDENTIALS (kr_connect_daemon); the daemon cannot, since
 * Node reads its sockets.
 */
KR_API int kr_peer_session(int fd, struct ucred *cr, unsigned long long *sid, const char **pinned, const char **what) {
  int pidfd;
  if (kr_pin_peer(fd, cr, &pidfd, pinned, what) != 0) return -1;
  int rc = kr_read_sessionid(cr->pid, sid);
  int err = errno;
  int alive = kr_pidfd_alive(pidfd);
  close(pidfd);
  if (!alive) { *what = "the peer process"; errno = ESRCH; return -1; }
  if (rc != 0) { *what = "reading the peer's /proc/<pid>/sessionid"; errno = err; return -1; }
  return 0;
}

/* ---- the client's check of the daemon ---- */

enum kr_verdict {
  KR_OK,
  KR_ABSENT,          /* no socket, or nobody listening: no daemon */
  KR_FOREIGN_UID,     /* served by another uid */
  KR_FOREIGN_SESSION, /* served by a process in another audit session */
  KR_GONE,            /* the process that listens has exited: someone else serves it */
  KR_NOT_SENDER,      /* the pid now names a process that did not write the hello */
  KR_NO_HELLO,        /* closed, or sent more than a hello line, before its '\n' */
  KR_TIMEOUT,
  KR_ERROR,           /* errno in err, the step in what */
};

#define KR_HELLO_MAX 4096

struct kr_daemon {
  int fd;                     /* connected, CLOEXEC, blocking; -1 unless KR_OK */
  struct ucred cr;            /* the socket's SO_PEERCRED: the process that listens */
  unsigned long long session; /* its audit session; KR_UNSET_SESSION when unread */
  pid_t sender;               /* who wrote the hello, by SCM_CREDENTIALS; 0 unknown */
  const char *pinned;         /* how cr.pid was pinned; NULL in uid-only mode */
  char hello[KR_HELLO_MAX];   /* the first line, without its '\n' */
  int err;
  const char *what;
};

KR_API enum kr_verdict kr_fail(struct kr_daemon *d, int fd, int err, const char *what) {
  if (fd >= 0) close(fd);
  d->err = err;
  d->what = what;
  return KR_ERROR;
}

/* The sender's pid in a message's SCM_CREDENTIALS, 0 when it carried none. */
KR_API pid_t kr_sender(struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(c), sizeof u);
      return u.pid;
    }
  }
  return 0;
}

/*
 * Reads the first line into d->hello, never past its '\n' (what follows is the
 * caller's to read), and the pid of whoever wrote it: one sender for all of it, or
 * d->sender = -1.
 */
KR_API enum kr_verdict kr_read_hello(int fd, long long deadline, struct kr_daemon *d) {
  size_t len = 0;
  d->sender = 0;
  for (;;) {
    if (len >= KR_HELLO_MAX - 1) return KR_NO_HELLO;
    struct pollfd pfd = { fd, POLLIN, 0 };
    int left = (int)(deadline - kr_now_ms());
    if (left <= 0) return KR_TIMEOUT;
    int pr = poll(&pfd, 1, left);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return KR_ERROR;
    if (pr == 0) return KR_TIMEOUT;
    /* Peek to find the newline, then take exactly up to it. */
    char ctl[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { d->hello + len, KR_HELLO_MAX - 1 - len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
    ssize_t n = recvmsg(fd, &m, MSG_PEEK);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return KR_ERROR;
    if (n == 0) return KR_NO_HELLO;
    char *nl = memchr(d->hello + len, '\n', (size_t)n);
    iov.iov_len = nl ? (size_t)(nl - (d->hello + len)) + 1 : (size_t)n;
    m.msg_controllen = sizeof ctl;
    n = recvmsg(fd, &m, 0);
    if (n <= 0) return n == 0 ? KR_NO_HELLO : KR_ERROR;
    pid_t s = kr_sender(&m);
    if (d->sender == 0) d->sender = s;
    if (s == 0 || s != d->sender) d->sender = -1;
    len += (size_t)n;
    if (d->hello[len - 1] == '\n') {
      d->hello[len - 1] = 0;
      return KR_OK;
    }
  }
}

/*
 * Connects to the daemon at `path` and checks it as the daemon checks its callers,
 * before a single byte goes out: its uid must be ours and, unless `want` is
 * KR_UNSET_SESSION (uid-only), the process behind it must be in audit session `want`.
 *
 * "The process behind it" is proved, on any kernel, by three facts:
 *  - the pid SO_PEERCRED names, pinned by a pidfd, is alive and in session `want`
 *    after the hello was read;
 *  - the kernel stamped every byte of the hello with that pid as its writer
 *    (SO_PASSCRED is on before connect, so SCM_CREDENTIALS comes with it);
 *  - the pinned process started before our connect().
 * Together: the pinned process held that pid from before the connection existed
 * until after the hello, so it is the one that wrote the hello on it. A pid recycled
 * since the listener died (all pidfd_open can pin on kernels before 6.5) fails the
 * third or second fact: it was born after our connect, or it did not write.
 */
KR_API enum kr_verdict kr_connect_daemon(const char *path, unsigned long long want, int timeout_ms, struct kr_daemon *d) {
  memset(d, 0, sizeof *d);
  d->fd = -1;
  d->session = KR_UNSET_SESSION;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t plen = strlen(path);
  if (plen >= sizeof sa.sun_path) return kr_fail(d, -1, ENAMETOOLONG, "the socket path");
  memcpy(sa.sun_path, path, plen + 1);

  long long deadline = kr_now_ms() + timeout_ms;
  unsigned long long before = kr_now_ticks();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kr_fail(d, -1, errno, "socket");
  int on = 1;
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
  /* A full backlog makes connect() wait, for this long at most. */
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) return kr_fail(d, fd, errno, "setsockopt");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = errno;
    close(fd);
    if (e == ENOENT || e == ECONNREFUSED) return KR_ABSENT;
    if (e == EAGAIN || e == EINPROGRESS) return KR_TIMEOUT;
    return kr_fail(d, -1, e, "connect");
  }
  socklen_t len = sizeof d->cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &d->cr, &len) != 0) return kr_fail(d, fd, errno, "SO_PEERCRED");
  /* Another uid's socket: refused without reading a byte of it or of its /proc. */
  if (d->cr.uid != getuid()) { close(fd); return KR_FOREIGN_UID; }

  int pidfd = -1;
  unsigned long long started = 0;
  enum kr_verdict v = KR_OK;
  if (want != KR_UNSET_SESSION) {
    if (kr_pin_peer(fd, &d->cr, &pidfd, &d->pinned, &d->what) != 0) {
      int e = errno;
      close(fd);
      if (e == ESRCH) return KR_GONE;
      d->err = e;
      return KR_ERROR;
    }
    int rc = kr_read_sessionid(d->cr.pid, &d->session);
    int e = errno;
    if (rc == 0 && kr_start_ticks(d->cr.pid, &started) != 0) { rc = -1; e = errno; }
    if (!kr_pidfd_alive(pidfd)) v = KR_GONE;
    else if (rc != 0) { d->err = e; d->what = "reading the daemon's /proc entry"; v = KR_ERROR; }
    /* Not in our session: refused before its hello is even read. */
    else if (d->session != want) v = KR_FOREIGN_SESSION;
  }
  if (v == KR_OK) {
    v = kr_read_hello(fd, deadline, d);
    if (v == KR_ERROR) { d->err = errno; d->what = "reading the daemon's hello"; }
  }
  if (v == KR_OK && pidfd >= 0) {
    if (d->sender != d->cr.pid || started >= before) v = KR_NOT_SENDER;
    else if (!kr_pidfd_alive(pidfd)) v = KR_GONE;
  }
  if (pidfd >= 0) close(pidfd);
  if (v != KR_OK) { close(fd); return v; }
  /* From here on the daemon's answers are read as a plain stream. */
  int off = 0;
  struct timeval none = { 0, 0 };
  setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &off, sizeof off);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  d->fd = fd;
  return KR_OK;
}

#endif
