/*
 * keyrack's native module: the kernel facts Node does not expose.
 *
 *  peerCred(fd)     SO_PEERCRED of a connected unix socket: {pid, uid, gid}.
 *  peerInfo(fd)     the same plus the peer's audit session id, read from
 *                   /proc/<pid>/sessionid while the pid is pinned by a pidfd
 *                   (SO_PEERPIDFD, else pidfd_open + re-check), so a recycled pid
 *                   cannot lend its session to a caller that already exited.
 *  setNonDumpable() prctl(PR_SET_DUMPABLE, 0), as ssh-agent does: same-uid
 *                   processes can then neither ptrace us nor read /proc/<pid>/mem.
 *  isDumpable()     for doctor and tests.
 *  flock(fd, op, wait)  flock(2); returns false when !wait and the lock is taken.
 *  protectProcess() RLIMIT_CORE soft limit 0 and non-dumpable, for every process
 *                   that holds a value; returns the soft core limit it replaced.
 *  setCoreLimit(soft)  gives that soft limit back, for a child that is the user's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
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

#define UNSET_SESSION 4294967295ULL

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_fd_arg(napi_env env, napi_callback_info info, size_t want, napi_value *args, int32_t *fd) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "expected a file descriptor");
    return -1;
  }
  if (napi_get_value_int32(env, args[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, "expected a file descriptor");
    return -1;
  }
  return 0;
}

static void set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

static napi_value cred_object(napi_env env, const struct ucred *cr) {
  napi_value obj;
  napi_create_object(env, &obj);
  set_num(env, obj, "pid", cr->pid);
  set_num(env, obj, "uid", cr->uid);
  set_num(env, obj, "gid", cr->gid);
  return obj;
}

static napi_value PeerCred(napi_env env, napi_callback_info info) {
  napi_value args[1];
  int32_t fd;
  if (get_fd_arg(env, info, 1, args, &fd) < 0) return NULL;
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return throw_errno(env, "SO_PEERCRED", errno);
  return cred_object(env, &cr);
}

/* Reads /proc/<pid>/sessionid; returns 0 and sets *out, or -1 with errno. */
static int read_sessionid(pid_t pid, unsigned long long *out) {
  char path[64], buf[32];
  snprintf(path, sizeof path, "/proc/%d/sessionid", (int)pid);
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

/* True while the process the pidfd refers to has not exited (so its pid is not reused). */
static int pidfd_alive(int pidfd) {
  /* EPERM still means "exists": signal 0 only checks permission and existence. */
  return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

static napi_value PeerInfo(napi_env env, napi_callback_info info) {
  napi_value args[1];
  int32_t fd;
  if (get_fd_arg(env, info, 1, args, &fd) < 0) return NULL;
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return throw_errno(env, "SO_PEERCRED", errno);

  const char *pinned = "SO_PEERPIDFD";
  int pidfd = -1;
  len = sizeof pidfd;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    /* Older kernel: open a pidfd on the pid now, and check after reading /proc that
       the same process is still there, i.e. SO_PEERCRED's pid was not recycled. */
    pinned = "pidfd_open";
    pidfd = (int)syscall(SYS_pidfd_open, cr.pid, 0);
    if (pidfd < 0) return throw_errno(env, "pidfd_open on the peer", errno);
  }
  unsigned long long sid;
  int rc = read_sessionid(cr.pid, &sid);
  int err = errno;
  int alive = pidfd_alive(pidfd);
  if (alive && pinned[0] == 'p') {
    /* pidfd_open happened after connect: make sure the peer socket still names this pid. */
    struct ucred again;
    len = sizeof again;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &again, &len) != 0 || again.pid != cr.pid) alive = 0;
  }
  close(pidfd);
  if (!alive) {
    napi_throw_error(env, "EPEERGONE", "peer process exited before its session could be checked");
    return NULL;
  }
  if (rc != 0) return throw_errno(env, "reading the peer's /proc/<pid>/sessionid", err);

  napi_value obj = cred_object(env, &cr);
  napi_value v;
  if (sid == UNSET_SESSION) napi_get_null(env, &v);
  else napi_create_double(env, (double)sid, &v);
  napi_set_named_property(env, obj, "sessionId", v);
  napi_create_string_utf8(env, pinned, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "pinnedBy", v);
  return obj;
}

static napi_value SetNonDumpable(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_DUMPABLE)", errno);
  return NULL;
}

static napi_value IsDumpable(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_get_boolean(env, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, &v);
  return v;
}

static napi_value Flock(napi_env env, napi_callback_info info) {
  napi_value args[3];
  int32_t fd;
  if (get_fd_arg(env, info, 3, args, &fd) < 0) return NULL;
  char op[4] = {0};
  size_t oplen;
  if (napi_get_value_string_utf8(env, args[1], op, sizeof op, &oplen) != napi_ok) {
    napi_throw_type_error(env, NULL, "flock op must be 'ex', 'sh' or 'un'");
    return NULL;
  }
  bool wait = true;
  napi_get_value_bool(env, args[2], &wait);
  int how;
  if (strcmp(op, "ex") == 0) how = LOCK_EX;
  else if (strcmp(op, "sh") == 0) how = LOCK_SH;
  else if (strcmp(op, "un") == 0) how = LOCK_UN;
  else { napi_throw_type_error(env, NULL, "flock op must be 'ex', 'sh' or 'un'"); return NULL; }
  if (!wait) how |= LOCK_NB;
  int rc;
  do { rc = flock(fd, how); } while (rc != 0 && errno == EINTR);
  napi_value v;
  if (rc != 0) {
    if (errno == EWOULDBLOCK) { napi_get_boolean(env, false, &v); return v; }
    return throw_errno(env, "flock", errno);
  }
  napi_get_boolean(env, true, &v);
  return v;
}

/* A process holding a value must leave no core file (a SIGQUIT or crash would write
   the value to disk) and refuse ptrace and /proc/<pid>/mem to the user's other
   processes. Only the soft limit drops: the hard one stays, so the user's own limit
   can be given back to the command `exec` runs (setCoreLimit). */
static napi_value ProtectProcess(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit rl;
  if (getrlimit(RLIMIT_CORE, &rl) != 0) return throw_errno(env, "getrlimit(RLIMIT_CORE)", errno);
  double previous = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
  rl.rlim_cur = 0;
  if (setrlimit(RLIMIT_CORE, &rl) != 0) return throw_errno(env, "setrlimit(RLIMIT_CORE)", errno);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_DUMPABLE)", errno);
  napi_value v;
  napi_create_double(env, previous, &v);
  return v;
}

/* setCoreLimit(soft): Infinity for unlimited; never above the hard limit. */
static napi_value SetCoreLimit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  double soft;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, arg, &soft) != napi_ok || !(soft >= 0)) {
    napi_throw_type_error(env, NULL, "expected a core size limit (bytes, or Infinity)");
    return NULL;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_CORE, &rl) != 0) return throw_errno(env, "getrlimit(RLIMIT_CORE)", errno);
  rl.rlim_cur = isinf(soft) ? RLIM_INFINITY : (rlim_t)soft;
  if (rl.rlim_max != RLIM_INFINITY && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max)) rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_CORE, &rl) != 0) return throw_errno(env, "setrlimit(RLIMIT_CORE)", errno);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"peerCred", NULL, PeerCred, NULL, NULL, NULL, napi_enumerable, NULL},
    {"peerInfo", NULL, PeerInfo, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setNonDumpable", NULL, SetNonDumpable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"isDumpable", NULL, IsDumpable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flock", NULL, Flock, NULL, NULL, NULL, napi_enumerable, NULL},
    {"protectProcess", NULL, ProtectProcess, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setCoreLimit", NULL, SetCoreLimit, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
