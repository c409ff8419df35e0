/*
 * keyrack's native module: the kernel facts Node does not expose.
 *
 *  peerCred(fd)     SO_PEERCRED of a connected unix socket: {pid, uid, gid}.
 *  peerInfo(fd)     the same plus the peer's audit session id, read from
 *                   /proc/<pid>/sessionid while the pid is pinned by a pidfd
 *                   (peer_check.h), for the daemon's caller check.
 *  connectDaemon(path, session, timeoutMs)  a client's connection to the daemon,
 *                   checked by the kernel's word before a byte is sent
 *                   (peer_check.h kr_connect_daemon): {status, fd, hello, ...}.
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

#include "peer_check.h"

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

static napi_value PeerInfo(napi_env env, napi_callback_info info) {
  napi_value args[1];
  int32_t fd;
  if (get_fd_arg(env, info, 1, args, &fd) < 0) return NULL;
  struct ucred cr;
  unsigned long long sid;
  const char *pinned = NULL, *what = NULL;
  if (kr_peer_session(fd, &cr, &sid, &pinned, &what) != 0) {
    if (errno == ESRCH) {
      napi_throw_error(env, "EPEERGONE", "peer process exited before its session could be checked");
      return NULL;
    }
    return throw_errno(env, what, errno);
  }
  napi_value obj = cred_object(env, &cr);
  napi_value v;
  if (sid == KR_UNSET_SESSION) napi_get_null(env, &v);
  else napi_create_double(env, (double)sid, &v);
  napi_set_named_property(env, obj, "sessionId", v);
  napi_create_string_utf8(env, pinned, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "pinnedBy", v);
  return obj;
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static const char *const VERDICTS[] = {
  [KR_OK] = "ok", [KR_ABSENT] = "absent", [KR_FOREIGN_UID] = "foreign-uid",
  [KR_FOREIGN_SESSION] = "foreign-session", [KR_GONE] = "gone", [KR_NOT_SENDER] = "not-sender",
  [KR_NO_HELLO] = "no-hello", [KR_TIMEOUT] = "timeout", [KR_ERROR] = "error",
};

/* connectDaemon(path, session | null, timeoutMs): kr_connect_daemon for the Node CLI.
   Blocks (at most timeoutMs): a CLI has nothing else to do until the daemon answers. */
static napi_value ConnectDaemon(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  char path[4096];
  size_t plen;
  napi_valuetype t;
  double want = -1, timeout = 0;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_string_utf8(env, args[0], path, sizeof path, &plen) != napi_ok || plen >= sizeof path - 1 ||
      napi_typeof(env, args[1], &t) != napi_ok || (t != napi_null && napi_get_value_double(env, args[1], &want) != napi_ok) ||
      napi_get_value_double(env, args[2], &timeout) != napi_ok || timeout < 1) {
    napi_throw_type_error(env, NULL, "expected (path, session or null, timeoutMs)");
    return NULL;
  }
  struct kr_daemon *d = malloc(sizeof *d);
  if (!d) return throw_errno(env, "connectDaemon", ENOMEM);
  enum kr_verdict v = kr_connect_daemon(path, t == napi_null ? KR_UNSET_SESSION : (unsigned long long)want, (int)timeout, d);
  napi_value obj;
  napi_create_object(env, &obj);
  set_str(env, obj, "status", VERDICTS[v]);
  if (v == KR_OK) {
    set_num(env, obj, "fd", d->fd);
    set_str(env, obj, "hello", d->hello);
  }
  if (v == KR_ERROR) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", d->what ? d->what : "connect", strerror(d->err));
    set_str(env, obj, "error", msg);
    if (d->err == EACCES) set_str(env, obj, "code", "EACCES");
  }
  if (v != KR_ABSENT && v != KR_TIMEOUT && d->cr.pid > 0) {
    set_num(env, obj, "pid", d->cr.pid);
    set_num(env, obj, "uid", d->cr.uid);
  }
  napi_value n;
  if (d->session == KR_UNSET_SESSION) napi_get_null(env, &n);
  else napi_create_double(env, (double)d->session, &n);
  napi_set_named_property(env, obj, "session", n);
  if (d->sender != 0) set_num(env, obj, "sender", d->sender);
  if (d->pinned) set_str(env, obj, "pinnedBy", d->pinned);
  free(d);
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
    {"connectDaemon", NULL, ConnectDaemon, NULL, NULL, NULL, napi_enumerable, NULL},
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
