/* The program `exec` runs, resolved as execvp would (PATH search): keyrack-fast runs
 * exactly the path it reports to the daemon's audit log. */
#ifndef KR_PROGRAM_H
#define KR_PROGRAM_H
#include <stddef.h>
/* Writes the path of cmd into out; 0 when found (an executable regular file), -1 when not. */
int kr_resolve_program(const char *cmd, char *out, size_t size);
#endif
