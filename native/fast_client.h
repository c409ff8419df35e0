/*
 * keyrack-fast's client core (fast_client.c): what every mode shares — the
 * hardening, the hand-over to the Node CLI, the checked connect to the daemon and
 * one request/answer. The modes (keyrack_fast.c, fast_exec.c, fast_views.c) only
 * build a request and relay an answer on top of it.
 */
#ifndef KR_FAST_CLIENT_H
#define KR_FAST_CLIENT_H

#include <stddef.h>

#include "json.h"

/* NODE SCRIPT ARGS... (or the export-only entry) that fallback() execs. */
extern char **fallback_argv;
/* Set for `export SHELL`: the fallback drops NODE_EXTRA_CA_CERTS and a missing daemon is autostarted. */
extern int exporting;
/* `--masked` mode: the Node CLI ran us; there is nothing to fall back to. */
extern int no_fallback;
/* The Node CLI (NODE SCRIPT) as invoked, for a detached `daemon start` (autostart.c). */
extern const char *cli_node, *cli_script;
/* The socket we talk to (set by connect_daemon), for messages. */
extern char daemon_path[4200];

/* No core file, no ptrace or /proc/<pid>/mem for the user's other processes. */
void protect_process(void);
/* Before execve of the user's command: gives back the user's own core limit. */
void give_back_core_limit(void);
/* Hands the work to the Node CLI (fallback_argv); never returns. */
__attribute__((noreturn)) void fallback(void);

/* The socket of session `sid`, or the uid-wide one when sid is unset (src/paths.ts rules). */
void socket_path(char *out, size_t size, unsigned long long sid);

/* Reads one '\n'-terminated frame into b (without the newline), or falls back. */
void read_line(int fd, buf_t *b, long long deadline);
/* Writes all n bytes (EINTR retried); exits 1 on a write error. */
void write_all(int fd, const char *p, size_t n);
/* Appends s with control characters shown as escapes (\e, \x07 …). */
void put_shown(buf_t *b, const char *s);
/* One line on stderr about what the daemon sent, then the Node CLI; never returns. */
__attribute__((noreturn)) void refuse_answer(const char *what, const char *why);

/* Connects to this session's daemon (or the opted-in user-wide one), checked; its hello in line. */
int connect_daemon(buf_t *line, long long deadline);
/* Ends a request (opened with '{', fields added) with ,"cwd":…,"env":{…}}, sends it and
 * reads the answer; falls back unless ok (and code 0 when need_code0). Returns the code. */
int ask(int fd, buf_t *req, buf_t *line, long long deadline, int need_code0);
/* ask, then the answer's stdout and stderr decoded into o and e; closes fd. Returns the code. */
int ask_streams(int fd, buf_t *req, buf_t *line, long long deadline, buf_t *o, buf_t *e);

#endif
