/*
 * keyrack-fast's relays of what the daemon words for the CLI (see fast_views.h):
 * `get KEY`, `lock`, `status` and `list`. The daemon renders the very text the
 * Node CLI would print; this checks it may reach the terminal and prints it.
 */
#define _GNU_SOURCE
#include "fast_views.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fast_client.h"
#include "json.h"
#include "peer_check.h"

/*
 * `keyrack get KEY`: the daemon computes what the CLI would print (src/env/getkey.ts)
 * and this relays it. The answer is a value, so it is taken only from a daemon that
 * passed kr_connect_daemon's check; anything but code 0 (locked, absent, a bad
 * name) goes to the Node CLI, which says why with its own words and exit code.
 */
int fast_get(const char *key) {
  if (key[0] == '-') fallback(); /* an option (--help): the CLI's */
  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"cli-get\",\"key\":");
  if (put_json_string(&req, (const unsigned char *)key) < 0) fallback();
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
int fast_lock(int argc, char **argv) {
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
int fast_view(const char *view, int argc, char **argv) {
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
  buf_t o = {0}, e = {0};
  int code = ask_streams(fd, &req, &line, deadline, &o, &e);
  const char *why = view_check(o.p, o.len);
  if (!why) why = view_check(e.p, e.len);
  if (why) refuse_answer(strcmp(view, "list") == 0 ? "list answer" : "status answer", why);
  /* stderr first, as the CLI writes it (a team file that does not parse, then the table). */
  write_all(2, e.p, e.len);
  write_all(1, o.p, o.len);
  return code;
}
