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
 * checks the daemon's uid before it sends anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **fallback_argv;
static int exporting;

/* Hands the work to the Node CLI: `NODE SCRIPT export SHELL`. */
static void fallback(void) {
  /* Node reads and parses this CA bundle at start-up (~40 ms here), and export
   * makes no TLS connection and may not set the variable (it is on the manifest's
   * deny-list), so that work is dropped on the prompt's path. exec keeps it: the
   * command it runs may need it. */
  if (exporting) unsetenv("NODE_EXTRA_CA_CERTS");
  execv(fallback_argv[0], fallback_argv);
  fprintf(stderr, "keyrack: cannot run %s: %s\n", fallback_argv[0], strerror(errno));
  _exit(1);
}

/* ---- a growable buffer ---- */
typedef struct { char *p; size_t len, cap; } buf_t;

static void put(buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) fallback();
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}
static void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }

/* Appends s as a JSON string. Returns -1 when s is not valid UTF-8 (JSON cannot carry it). */
static int put_json_string(buf_t *b, const unsigned char *s) {
  size_t start = b->len;
  put(b, "\"", 1);
  for (const unsigned char *c = s; *c;) {
    unsigned char ch = *c;
    if (ch < 0x80) {
      char esc[8];
      if (ch == '"' || ch == '\\') { esc[0] = '\\'; esc[1] = (char)ch; put(b, esc, 2); }
      else if (ch < 0x20 || ch == 0x7f) { snprintf(esc, sizeof esc, "\\u%04x", ch); put(b, esc, 6); }
      else put(b, (const char *)c, 1);
      c++;
      continue;
    }
    int n = (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0) goto bad;
    unsigned cp = ch & (0xff >> (n + 1));
    for (int i = 1; i < n; i++) {
      if ((c[i] & 0xc0) != 0x80) goto bad;
      cp = (cp << 6) | (c[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) goto bad;
    put(b, (const char *)c, (size_t)n);
    c += n;
  }
  put(b, "\"", 1);
  return 0;
bad:
  b->len = start;
  b->p[start] = 0;
  return -1;
}

/* ---- the socket path, by the same rules as src/paths.ts ---- */
static int private_dir(const char *dir) {
  struct stat st;
  return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 0777) == 0700;
}

static unsigned long long own_session(void) {
  FILE *f = fopen("/proc/self/sessionid", "r");
  unsigned long long sid = 4294967295ULL;
  if (f) { if (fscanf(f, "%llu", &sid) != 1) sid = 4294967295ULL; fclose(f); }
  return sid;
}

/* The socket of session `sid`, or the uid-wide one when sid is unset. */
static void socket_path(char *out, size_t size, unsigned long long sid) {
  char tag[32];
  if (sid == 4294967295ULL) snprintf(tag, sizeof tag, "u%u", (unsigned)getuid());
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

/* ---- I/O with a deadline ---- */
static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one '\n'-terminated frame into b (without the newline). */
static void read_line(int fd, buf_t *b, long long deadline) {
  b->len = 0;
  for (;;) {
    char *nl = b->p ? memchr(b->p, '\n', b->len) : NULL;
    if (nl) { *nl = 0; b->len = (size_t)(nl - b->p); return; }
    struct pollfd pfd = { fd, POLLIN, 0 };
    int left = (int)(deadline - now_ms());
    if (left <= 0 || poll(&pfd, 1, left) <= 0) fallback();
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) fallback();
    put(b, tmp, (size_t)n);
    if (b->len > 8 * 1024 * 1024) fallback();
  }
}

/* ---- a JSON reader for the one response shape we expect ---- */
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void put_utf8(buf_t *b, unsigned cp) {
  char o[4];
  if (cp < 0x80) { o[0] = (char)cp; put(b, o, 1); }
  else if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); put(b, o, 2); }
  else if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f)); put(b, o, 3); }
  else { o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); put(b, o, 4); }
}

static int read_hex4(const char **s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((*s)[i]);
    if (h < 0) return -1;
    v = v << 4 | (unsigned)h;
  }
  *s += 4;
  *out = v;
  return 0;
}

/* Decodes the JSON string starting at *s (on the opening quote) into out. */
static int json_string(const char **s, buf_t *out) {
  const char *c = *s;
  if (*c != '"') return -1;
  c++;
  out->len = 0;
  put(out, "", 0);
  while (*c && *c != '"') {
    if (*c != '\\') { put(out, c, 1); c++; continue; }
    c++;
    switch (*c) {
      case '"': put(out, "\"", 1); break;
      case '\\': put(out, "\\", 1); break;
      case '/': put(out, "/", 1); break;
      case 'b': put(out, "\b", 1); break;
      case 'f': put(out, "\f", 1); break;
      case 'n': put(out, "\n", 1); break;
      case 'r': put(out, "\r", 1); break;
      case 't': put(out, "\t", 1); break;
      case 'u': {
        c++;
        unsigned cp, lo;
        if (read_hex4(&c, &cp) < 0) return -1;
        if (cp >= 0xd800 && cp <= 0xdbff && c[0] == '\\' && c[1] == 'u') {
          c += 2;
          if (read_hex4(&c, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) return -1;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(out, cp);
        continue;
      }
      default: return -1;
    }
    c++;
  }
  if (*c != '"') return -1;
  *s = c + 1;
  return 0;
}

/* Finds "key": at the top level of a flat object and returns a pointer to its value. */
static const char *field(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  int depth = 0;
  for (const char *c = json; *c; c++) {
    if (*c == '"') {
      if (depth == 1 && strncmp(c, pat, strlen(pat)) == 0) return c + strlen(pat);
      for (c++; *c && *c != '"'; c++) if (*c == '\\' && c[1]) c++;
      if (!*c) return NULL;
    } else if (*c == '{' || *c == '[') depth++;
    else if (*c == '}' || *c == ']') depth--;
  }
  return NULL;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; _exit(1); }
    p += w;
    n -= (size_t)w;
  }
}

/* Connects to a daemon socket of ours; -1 when there is none (or not ours). */
static int open_daemon(unsigned long long sid) {
  char path[4200];
  socket_path(path, sizeof path, sid);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  memcpy(sa.sun_path, path, strlen(path) + 1);
  /* A socket planted by another user gets nothing from us. */
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.uid != getuid()) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Connects to this session's daemon (or a shared user-wide one) and reads its hello. */
static int connect_daemon(buf_t *line, long long deadline) {
  unsigned long long sid = own_session();
  int fd = open_daemon(sid);
  if (fd < 0 && sid != 4294967295ULL) {
    /* No daemon for this session: a user-wide one (systemd --user) may serve it,
       but only one that says so in its hello; any other gets not a byte. */
    fd = open_daemon(4294967295ULL);
    if (fd < 0) fallback();
    read_line(fd, line, deadline);
    if (!strstr(line->p, "\"shared\":true")) fallback();
  } else {
    if (fd < 0) fallback();
    read_line(fd, line, deadline);
  }
  if (!strstr(line->p, "\"keyrack\":1")) fallback();
  return fd;
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

static int fast_export(const char *shell) {
  long long deadline = now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"export\",\"shell\":");
  if (put_json_string(&req, (const unsigned char *)shell) < 0) fallback();
  put_cwd_env(&req);
  puts_(&req, "}\n");
  int code = ask(fd, &req, &line, deadline, 0);
  const char *out = field(line.p, "stdout");
  const char *err = field(line.p, "stderr");
  if (!out || !err) fallback();
  buf_t o = {0}, e = {0};
  if (json_string(&out, &o) < 0 || json_string(&err, &e) < 0) fallback();
  close(fd);
  write_all(1, o.p, o.len);
  write_all(2, e.p, e.len);
  return code;
}

/* exec's own options, as src/cli.ts reads them; anything else → the Node CLI. */
static int fast_exec(int argc, char **argv) {
  buf_t keys = {0};
  puts_(&keys, "[");
  int i = 0, nkeys = 0;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *k = NULL;
    if (strcmp(a, "--") == 0) { i++; break; }
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

  long long deadline = now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"exec-env\",\"keys\":");
  puts_(&req, keys.p);
  put_cwd_env(&req);
  puts_(&req, "}\n");
  ask(fd, &req, &line, deadline, 1);
  close(fd);
  /* "vars":{"NAME":"value",…} — flat, as JSON.stringify writes it. */
  const char *v = field(line.p, "vars");
  if (!v || *v != '{') fallback();
  v++;
  buf_t name = {0}, value = {0};
  while (*v != '}') {
    if (json_string(&v, &name) < 0 || *v++ != ':' || json_string(&v, &value) < 0) fallback();
    if (setenv(name.p, value.p, 1) != 0) fallback();
    if (*v == ',') v++;
    else if (*v != '}') fallback();
  }
  execvp(cmd[0], cmd);
  /* Not found, not executable: the Node CLI says so with the usual exit codes. */
  fallback();
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: keyrack-fast NODE SCRIPT ARGS...\n");
    return 2;
  }
  fallback_argv = argv + 1;
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
  fallback();
  return 1;
}
