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
 *
 * This file holds export and the dispatch (main); what every mode shares is in
 * fast_client.c, exec and masked exec in fast_exec.c, get/lock/status/list in
 * fast_views.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "export_check.h"
#include "fast_client.h"
#include "fast_exec.h"
#include "fast_views.h"
#include "json.h"
#include "peer_check.h"

/* `export SHELL`: the statements the daemon rendered, checked (export_check.h) before the hook evals them. */
static int fast_export(const char *shell) {
  if (!kr_known_shell(shell)) fallback(); /* no rules to check its answer by: Node */
  long long deadline = kr_now_ms() + 5000;
  buf_t line = {0}, req = {0};
  int fd = connect_daemon(&line, deadline);
  puts_(&req, "{\"id\":1,\"op\":\"export\",\"shell\":");
  if (put_json_string(&req, (const unsigned char *)shell) < 0) fallback();
  buf_t o = {0}, e = {0};
  int code = ask_streams(fd, &req, &line, deadline, &o, &e);
  char why[160];
  if (o.len > 0 && kr_check_export(shell, o.p, o.len, why, sizeof why) != 0) refuse_answer("export", why);
  write_all(1, o.p, o.len);
  write_all(2, e.p, e.len);
  return code;
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
