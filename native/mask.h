/*
 * The one masker: `keyrack exec --mask` runs the command with its stdout and stderr
 * on pipes and relays them with every value replaced by <NAME>. Used by
 * keyrack-fast's exec and, through `keyrack-fast --masked`, by the Node CLI's exec.
 */
#ifndef KR_MASK_H
#define KR_MASK_H
#include <stddef.h>

/* Values (or lines of one) shorter than this are not masked (said once on stderr):
 * a short string occurs by chance, and masking it would garble output. */
#define KR_MASK_MIN 6

typedef struct kr_mask kr_mask;

kr_mask *kr_mask_new(void);
/* Adds the value of variable `name`: each of its lines (\n, a trailing \r dropped) becomes
 * a pattern shown as <name>. A line shorter than KR_MASK_MIN sets *had_short (not masked). */
void kr_mask_add(kr_mask *m, const char *name, const char *value, size_t len, int *had_short);

/* Runs cmd (execv of `path`, argv `cmd`) with stdout/stderr relayed through the mask;
 * forwards signals; returns only on a failure to start (-1), else exits with the
 * command's status (or dies of its signal). */
int kr_mask_run(kr_mask *m, const char *path, char **cmd, void (*before_exec)(void));

/* The stream filter alone (tests, bench): masks `in` to `out` until EOF. */
int kr_mask_filter(kr_mask *m, int in, int out);
#endif
