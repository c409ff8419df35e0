/*
 * keyrack-fast: the hot path of `keyrack export SHELL`, without starting Node.
 *
 * A `cd` into a project must cost no more than direnv does, and Node's start alone
 * costs more. So this small client asks the session daemon (already warm) to compute
 * the export, and prints what it answers. Whenever it cannot — no daemon, a socket
 * owned by someone else, an old daemon, any surprise — it execs the Node CLI given
 * as its last argument, which does the same work the slow way and reports errors.
 *
 *   keyrack-fast NODE SCRIPT ARGS...      (the argv of `NODE SCRIPT ARGS...`)
 *
 * `export SHELL` and `exec [--key K]... [--] CMD...` take the fast path; anything
 * else, or any surprise, runs `NODE SCRIPT ARGS...` at once. For exec the daemon
 * answers with the variables and this process becomes the command (execvp): its
 * exit status, signals and terminal are the command's own, with nothing between.
 *
 * It sends the daemon its cwd and its environment (the daemon needs KEYRACK_STATE
 * and the current values of the variables it may restore); the daemon checks this
 * caller's uid and login session exactly as for every other request, and this client
 * checks the daemon the same way before it sends anything (peer_check.h): a socket
 * planted by another uid or another login session of ours gets nothing, and the Node
 * CLI it hands over to says what is wrong. And whatever a daemon answers, this client
 * prints or sets nothing keyrack itself would not (export_check.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "autostart.h"
#include "export_check.h"
#include "json.h"
#include "mask.h"
#include "peer_check.h"
#include "program.h"

extern char **environ;

static char **fallback_argv;
static int exporting;
/* `--masked` mode: the Node CLI ran us; there is nothing to fall back to. */
static int no_fallback;

/* The Node CLI (NODE SCRIPT) as invoked, for a detached `daemon start` (autostart.c). */
static const char *cli_node, *cli_script;

/* The user's core limit, replaced while this process may hold values (the daemon's
 * answers carry them) and given back before exec runs the command or hands over to
 * the Node CLI, which start with the user's own `ulimit -c` (the CLI then drops its
 * own again, src/notrace.ts). */
static struct rlimit user_core;
static int core_lowered;

/* No core file, no ptrace or /proc/<pid>/mem for the user's other processes. */
static void protect_process(void) {
  if (getrlimit(RLIMIT_CORE, &user_core) == 0) {
    struct rlimit none = { 0, user_core.rlim_max };
    core_lowered = setrlimit(RLIMIT_CORE, &none) == 0;
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Before execve, which makes the new program dumpable again by itself. */
static void give_back_core_limit(void) {
  if (core_lowered) setrlimit(RLIMIT_CORE, &user_core);
}

/* Hands the work to the Node CLI: `NODE SCRIPT export SHELL`. */
static void fallback(void) {
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
static void socket_path(char *out, size_t size, unsigned long long sid) {
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
static void read_line(int fd, buf_t *b, long long deadline) {
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

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; _exit(1); }
    p += w;
    n -= (size_t)w;
  }
}

/* The socket we talk to, for messages. */
static char daemon_path[4200];

/* s with control characters shown as escapes (\e, \x07 …): a path may hold anything. */
static void put_shown(buf_t *b, const char *s) {
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
static void refuse_answer(const char *what, const char *why) {
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
static int connect_daemon(buf_t *line, long long deadline) {
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

/* Sends one request and reads the answer; falls back unless it is {"ok":true,…,"code":N…}
 * (N = 0 when need_code0). Returns N. */
static int ask(int fd, buf_t *req, buf_t *line, long long deadline, int need_code0) {
  write_all(fd, req->p, req->len);
  read_line(fd, line, deadline);
  const char *ok = field(line->p, "ok");
  if (!ok || strncmp(ok, "true", 4) != 0) fallback(); /* e.g. an older daemon */
  const char *code = field(line->p, "code");
  if (!code || (need_code0 && atoi(code) != 0)) fallback();
  return atoi(code);
}

/* The stdout and stderr an answer carries (export, cli-view); anything missing → the Node CLI. */
static void answer_streams(const char *line, buf_t *o, buf_t *e) {
  const char *out = field(line, "stdout");
  const char *err = field(line, "stderr");
  if (!out || !err) fallback();
  if (json_string(&out, o) < 0 || json_string(&err, e) < 0) fallback();
}

static int fast_export(const char *shell) {
  if (!kr_known_shell(shell)) fallback(); /* no rules to check its answer by: Node */
  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"export\",\"shell\":");
  if (put_json_string(&req, (const unsigned char *)shell) < 0) fallback();
  put_cwd_env(&req);
  puts_(&req, "}\n");
  int code = ask(fd, &req, &line, deadline, 0);
  buf_t o = {0}, e = {0};
  answer_streams(line.p, &o, &e);
  close(fd);
  char why[160];
  if (o.len > 0 && kr_check_export(shell, o.p, o.len, why, sizeof why) != 0) refuse_answer("export", why);
  write_all(1, o.p, o.len);
  write_all(2, e.p, e.len);
  return code;
}

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
static int masked_main(char **cmd) {
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

/*
 * `keyrack get KEY`: the daemon computes what the CLI would print (src/env/getkey.ts)
 * and this relays it. The answer is a value, so it is taken only from a daemon that
 * passed kr_connect_daemon's check; anything but code 0 (locked, absent, a bad
 * name) goes to the Node CLI, which says why with its own words and exit code.
 */
static int fast_get(const char *key) {
  if (key[0] == '-') fallback(); /* an option (--help): the CLI's */
  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"cli-get\",\"key\":");
  if (put_json_string(&req, (const unsigned char *)key) < 0) fallback();
  put_cwd_env(&req);
  puts_(&req, "}\n");
  ask(fd, &req, &line, deadline, 1);
  close(fd);
  const char *out = field(line.p, "stdout");
  buf_t o = {0};
  if (!out || json_string(&out, &o) < 0) fallback();
  write_all(1, o.p, o.len);
  return 0;
}

/*
 * `keyrack lock`: the daemon drops every key and words what the CLI would say
 * (src/daemon/lock-words.ts); this relays it. Named keys, an option or any refusal
 * go to the Node CLI.
 */
static int fast_lock(int argc, char **argv) {
  /* Named keys go to the Node CLI: it also drops this project's team values of
     those names, which only it can find (the team file beside the manifest). */
  if (argc > 0) fallback();
  buf_t req = {0}, line = {0};
  puts_(&req, "{\"id\":1,\"op\":\"lock\"");
  if (argc > 0) {
    puts_(&req, ",\"keys\":[");
    for (int i = 0; i < argc; i++) {
      if (argv[i][0] == '-' || argv[i][0] == '\0') fallback();
      if (i) put(&req, ",", 1);
      if (put_json_string(&req, (const unsigned char *)argv[i]) < 0) fallback();
    }
    puts_(&req, "]");
  }
  puts_(&req, "}\n");
  long long deadline = kr_now_ms() + 5000;
  int fd = connect_daemon(&line, deadline);
  write_all(fd, req.p, req.len);
  read_line(fd, &line, deadline);
  close(fd);
  const char *ok = field(line.p, "ok");
  if (!ok || strncmp(ok, "true", 4) != 0) fallback();
  const char *said = field(line.p, "said");
  buf_t e = {0};
  if (!said || json_string(&said, &e) < 0) fallback(); /* an older daemon */
  write_all(2, e.p, e.len);
  return 0;
}

/*
 * What a view may print: text, newlines and the colour the list table uses (SGR:
 * ESC [ digits and ; then m). NULL, or what else the answer holds: a daemon that
 * passed the kernel check still gets no say over the terminal (cursor moves, titles,
 * OSC 52 clipboard writes), as export_check.h keeps it from the shell's.
 */
static const char *view_check(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\n') continue;
    if (c == 0x1b) {
      size_t j = i + 1;
      if (j >= n || p[j] != '[') return "an escape sequence that is not a colour";
      for (j++; j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';'); j++) {}
      if (j >= n || p[j] != 'm') return "an escape sequence that is not a colour";
      i = j;
      continue;
    }
    if (c < 0x20 || c == 0x7f) return "a control character";
    /* C1 controls (U+0080..U+009F, e.g. CSI U+009B), which some terminals obey. */
    if (c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] >= 0x80 && (unsigned char)p[i + 1] <= 0x9f) return "a control character";
  }
  return NULL;
}

/*
 * `keyrack status [--json]` and `keyrack list [--json|--names]`: the daemon renders
 * what the CLI would print, by the same views (src/env/status-view.ts, list-view.ts;
 * op cli-view), and this relays it with its exit code. It sends what only it knows:
 * how kr_connect_daemon checked the daemon, the socket, its session, whether stdout
 * is a terminal (the daemon applies NO_COLOR and TERM by term.ts's one rule). Any
 * other option or argument, no daemon, an old one, an error: the Node CLI.
 */
static int fast_view(const char *view, int argc, char **argv) {
  int json = 0, names = 0;
  if (argc > 1) fallback();
  if (argc == 1) {
    if (strcmp(argv[0], "--json") == 0) json = 1;
    else if (strcmp(view, "list") == 0 && strcmp(argv[0], "--names") == 0) names = 1;
    else fallback(); /* --help, a typo: the CLI's */
  }
  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  unsigned long long sid = kr_own_session();
  int fd = connect_daemon(&line, deadline);
  /* As src/daemon/peer.ts connectServer names it: a socket other than this
     session's own is the user-wide daemon connect_daemon opted into. */
  char own[sizeof daemon_path];
  socket_path(own, sizeof own, sid);
  const char *verified = sid == KR_UNSET_SESSION ? "uid-only" : strcmp(own, daemon_path) == 0 ? "session" : "user-wide, uid-only";
  char num[32];
  puts_(&req, "{\"id\":1,\"op\":\"cli-view\",\"view\":");
  if (put_json_string(&req, (const unsigned char *)view) < 0) fallback();
  puts_(&req, json ? ",\"json\":true" : ",\"json\":false");
  puts_(&req, names ? ",\"names\":true" : ",\"names\":false");
  puts_(&req, isatty(1) ? ",\"tty\":true" : ",\"tty\":false");
  if (sid == KR_UNSET_SESSION) puts_(&req, ",\"session\":null");
  else { snprintf(num, sizeof num, ",\"session\":%llu", sid); puts_(&req, num); }
  puts_(&req, ",\"verified\":");
  if (put_json_string(&req, (const unsigned char *)verified) < 0) fallback();
  puts_(&req, ",\"socket\":");
  if (put_json_string(&req, (const unsigned char *)daemon_path) < 0) fallback();
  put_cwd_env(&req);
  puts_(&req, "}\n");
  int code = ask(fd, &req, &line, deadline, 0);
  buf_t o = {0}, e = {0};
  answer_streams(line.p, &o, &e);
  close(fd);
  const char *why = view_check(o.p, o.len);
  if (!why) why = view_check(e.p, e.len);
  if (why) refuse_answer(strcmp(view, "list") == 0 ? "list answer" : "status answer", why);
  /* stderr first, as the CLI writes it (a team file that does not parse, then the table). */
  write_all(2, e.p, e.len);
  write_all(1, o.p, o.len);
  return code;
}

/* exec's own options, as src/cli.ts reads them; anything else → the Node CLI. */
static int fast_exec(int argc, char **argv) {
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
  put_cwd_env(&req);
  puts_(&req, "}\n");
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

int main(int argc, char **argv) {
  protect_process();
  if (argc >= 4 && strcmp(argv[1], "--masked") == 0 && strcmp(argv[2], "--") == 0) return masked_main(argv + 3);
  if (argc < 3) {
    fprintf(stderr, "usage: keyrack-fast NODE SCRIPT ARGS...\n");
    return 2;
  }
  fallback_argv = argv + 1;
  cli_node = argv[1];
  cli_script = argv[2];
  /* `export --help` (any option) is the CLI's: it is not a shell to export for. */
  if (argc == 5 && strcmp(argv[3], "export") == 0 && argv[4][0] != '-') {
    exporting = 1;
    /* The fallback: NODE dist/keyrack-export.cjs SHELL, the export alone in one
     * file (src/export-entry.ts), when it sits beside the CLI bundle. */
    static char *export_argv[4];
    static char path[4096];
    const char *slash = strrchr(argv[2], '/');
    int n = slash ? snprintf(path, sizeof path, "%.*s/keyrack-export.cjs", (int)(slash - argv[2]), argv[2]) : -1;
    if (n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0) {
      export_argv[0] = argv[1];
      export_argv[1] = path;
      export_argv[2] = argv[4];
      export_argv[3] = NULL;
      fallback_argv = export_argv;
    }
    return fast_export(argv[4]);
  }
  if (argc >= 5 && strcmp(argv[3], "exec") == 0) return fast_exec(argc - 4, argv + 4);
  if (argc == 5 && strcmp(argv[3], "get") == 0) return fast_get(argv[4]);
  if (argc >= 4 && strcmp(argv[3], "lock") == 0) return fast_lock(argc - 4, argv + 4);
  if (argc >= 4 && (strcmp(argv[3], "status") == 0 || strcmp(argv[3], "list") == 0)) return fast_view(argv[3], argc - 4, argv + 4);
  fallback();
  return 1;
}
