/*
 * What every mode of keyrack-fast shares (see fast_client.h): the process
 * hardening, the hand-over to the Node CLI, the daemon's socket path and the
 * user-wide opt-in, line I/O with a deadline, and the checked connect plus one
 * request/answer. One copy, so every mode checks the daemon and its answer alike.
 */
#define _GNU_SOURCE
#include "fast_client.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autostart.h"
#include "json.h"
#include "peer_check.h"

extern char **environ;

char **fallback_argv;
int exporting;
int no_fallback;
const char *cli_node, *cli_script;

/* The user's core limit, replaced while this process may hold values (the daemon's
 * answers carry them) and given back before exec runs the command or hands over to
 * the Node CLI, which start with the user's own `ulimit -c` (the CLI then drops its
 * own again, src/notrace.ts). */
static struct rlimit user_core;
static int core_lowered;

/* No core file, no ptrace or /proc/<pid>/mem for the user's other processes. */
void protect_process(void) {
  if (getrlimit(RLIMIT_CORE, &user_core) == 0) {
    struct rlimit none = { 0, user_core.rlim_max };
    core_lowered = setrlimit(RLIMIT_CORE, &none) == 0;
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Before execve, which makes the new program dumpable again by itself. */
void give_back_core_limit(void) {
  if (core_lowered) setrlimit(RLIMIT_CORE, &user_core);
}

/* Hands the work to the Node CLI: `NODE SCRIPT export SHELL`. */
void fallback(void) {
  if (no_fallback) {
    static const char e[] = "keyrack: the masked exec failed to start\n";
    (void)!write(2, e, sizeof e - 1);
    _exit(1);
  }
  /* Node reads and parses this CA bundle at start-up (~40 ms here), and export
   * makes no TLS connection and may not set the variable (it is on the manifest's
   * deny-list), so that work is dropped on the prompt's path. exec keeps it: the
   * command it runs may need it. */
  if (exporting) unsetenv("NODE_EXTRA_CA_CERTS");
  /* The export-only Node runs no command of the user's: it keeps our core limit 0
   * (it holds values too, and loading the addon would cost the prompt 1.5 ms). */
  if (!exporting) give_back_core_limit();
  execv(fallback_argv[0], fallback_argv);
  fprintf(stderr, "keyrack: cannot run %s: %s\n", fallback_argv[0], strerror(errno));
  _exit(1);
}

/* json.c's buffers out of memory: the Node CLI does the work instead. */
void kr_json_oom(void) { fallback(); }

/* ---- the socket path, by the same rules as src/paths.ts ---- */
static int private_dir(const char *dir) {
  struct stat st;
  return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 0777) == 0700;
}

/* The socket of session `sid`, or the uid-wide one when sid is unset. */
void socket_path(char *out, size_t size, unsigned long long sid) {
  char tag[32];
  if (sid == KR_UNSET_SESSION) snprintf(tag, sizeof tag, "u%u", (unsigned)getuid());
  else snprintf(tag, sizeof tag, "%llu", sid);

  const char *xdg = getenv("XDG_RUNTIME_DIR");
  char dir[4096];
  if (xdg && xdg[0] == '/') snprintf(dir, sizeof dir, "%s", xdg);
  else {
    snprintf(dir, sizeof dir, "/run/user/%u", (unsigned)getuid());
    if (!private_dir(dir)) {
      snprintf(dir, sizeof dir, "/tmp/runtime-%u", (unsigned)getuid());
      if (!private_dir(dir)) fallback();
    }
  }
  int n = snprintf(out, size, "%s/keyrack.%s.sock", dir, tag);
  /* Too long for sun_path: the Node CLI knows the hashed fallback name. */
  if (n < 0 || (size_t)n >= size || (size_t)n > 107) fallback();
}

/* The user's opt-in to a user-wide daemon, as src/daemon/user-daemon.ts checks it:
 * $XDG_CONFIG_HOME/keyrack/user-daemon, a regular file of ours nobody else can write. */
static int user_daemon_opted_in(void) {
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *home = getenv("HOME");
  char path[4200];
  if (xdg && xdg[0] == '/') snprintf(path, sizeof path, "%s/keyrack/user-daemon", xdg);
  else {
    if (!home || home[0] != '/') {
      struct passwd *pw = getpwuid(getuid());
      home = pw ? pw->pw_dir : NULL;
    }
    if (!home) return 0;
    snprintf(path, sizeof path, "%s/.config/keyrack/user-daemon", home);
  }
  struct stat st;
  return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 022) == 0;
}

/* ---- I/O with a deadline ---- */

/* Reads one '\n'-terminated frame into b (without the newline). */
void read_line(int fd, buf_t *b, long long deadline) {
  b->len = 0;
  for (;;) {
    char *nl = b->p ? memchr(b->p, '\n', b->len) : NULL;
    if (nl) { *nl = 0; b->len = (size_t)(nl - b->p); return; }
    struct pollfd pfd = { fd, POLLIN, 0 };
    int left = (int)(deadline - kr_now_ms());
    if (left <= 0 || poll(&pfd, 1, left) <= 0) fallback();
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) fallback();
    put(b, tmp, (size_t)n);
    if (b->len > 8 * 1024 * 1024) fallback();
  }
}

void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; _exit(1); }
    p += w;
    n -= (size_t)w;
  }
}

/* The socket we talk to, for messages. */
char daemon_path[4200];

/* s with control characters shown as escapes (\e, \x07 …): a path may hold anything. */
void put_shown(buf_t *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    if (c == 0x1b) put(b, "\\e", 2);
    else if (c < 0x20 || c == 0x7f) { snprintf(esc, sizeof esc, "\\x%02x", c); put(b, esc, 4); }
    else put(b, s, 1);
  }
}

/* One line on stderr about what the daemon sent, then the Node CLI, which computes
 * the answer itself (it takes only values from a daemon, never code or names). */
void refuse_answer(const char *what, const char *why) {
  buf_t m = {0};
  puts_(&m, "keyrack: refusing the ");
  puts_(&m, what);
  puts_(&m, " the daemon on ");
  put_shown(&m, daemon_path);
  puts_(&m, " sent: ");
  puts_(&m, why);
  puts_(&m, "\n");
  write_all(2, m.p, m.len);
  fallback();
}

/*
 * Connects to this session's daemon, checked before a byte goes out (peer_check.h):
 * uid ours and, when we have an audit session, the process behind the socket in
 * it. With no daemon for this session, the user-wide one (systemd --user) — only
 * when the user opted in, and only one that says it serves every session (it wakes
 * their hooks). Anything else: the Node CLI, which checks again and says why.
 */
int connect_daemon(buf_t *line, long long deadline) {
  static struct kr_daemon d;
  unsigned long long sid = kr_own_session();
  socket_path(daemon_path, sizeof daemon_path, sid);
  enum kr_verdict v = kr_connect_daemon(daemon_path, sid, (int)(deadline - kr_now_ms()), &d);
  static char own[sizeof daemon_path];
  memcpy(own, daemon_path, sizeof own);
  if (v == KR_ABSENT && sid != KR_UNSET_SESSION && user_daemon_opted_in()) {
    socket_path(daemon_path, sizeof daemon_path, KR_UNSET_SESSION);
    v = kr_connect_daemon(daemon_path, KR_UNSET_SESSION, (int)(deadline - kr_now_ms()), &d);
    if (v == KR_OK && !strstr(d.hello, "\"shared\":true")) { close(d.fd); fallback(); }
  }
  /* A hook found no daemon at all: start one for its next prompt (this one goes to Node as before). */
  if (v == KR_ABSENT && exporting) kr_autostart(cli_node, cli_script, own);
  if (v != KR_OK) fallback();
  if (!strstr(d.hello, "\"keyrack\":1")) fallback();
  line->len = 0;
  puts_(line, d.hello);
  return d.fd;
}

/* Appends ,"cwd":…,"env":{…} (valid UTF-8 entries only: JSON cannot carry others). */
static void put_cwd_env(buf_t *req) {
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) fallback();
  puts_(req, ",\"cwd\":");
  if (put_json_string(req, (const unsigned char *)cwd) < 0) fallback();
  puts_(req, ",\"env\":{");
  int first = 1;
  for (char **e = environ; *e; e++) {
    char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t mark = req->len;
    if (!first) put(req, ",", 1);
    *eq = 0;
    int ok = put_json_string(req, (const unsigned char *)*e) == 0;
    *eq = '=';
    if (ok) { put(req, ":", 1); ok = put_json_string(req, (const unsigned char *)eq + 1) == 0; }
    if (!ok) { req->len = mark; req->p[mark] = 0; continue; }
    first = 0;
  }
  puts_(req, "}");
}

/* Ends the request with this process's cwd and environment (the daemon answers as the
 * CLI would here), sends it and reads the answer; falls back unless it is
 * {"ok":true,…,"code":N…} (N = 0 when need_code0). Returns N. */
int ask(int fd, buf_t *req, buf_t *line, long long deadline, int need_code0) {
  put_cwd_env(req);
  puts_(req, "}\n");
  write_all(fd, req->p, req->len);
  read_line(fd, line, deadline);
  const char *ok = field(line->p, "ok");
  if (!ok || strncmp(ok, "true", 4) != 0) fallback(); /* e.g. an older daemon */
  const char *code = field(line->p, "code");
  if (!code || (need_code0 && atoi(code) != 0)) fallback();
  return atoi(code);
}

/* ask, for an answer that carries stdout and stderr (export, cli-view): both decoded
 * into o and e (anything missing → the Node CLI); fd closed. Returns the code. */
int ask_streams(int fd, buf_t *req, buf_t *line, long long deadline, buf_t *o, buf_t *e) {
  int code = ask(fd, req, line, deadline, 0);
  close(fd);
  const char *out = field(line->p, "stdout");
  const char *err = field(line->p, "stderr");
  if (!out || !err) fallback();
  if (json_string(&out, o) < 0 || json_string(&err, e) < 0) fallback();
  return code;
}
