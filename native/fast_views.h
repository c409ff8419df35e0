/* keyrack-fast's relays of the daemon's CLI answers (fast_views.c). */
#ifndef KR_FAST_VIEWS_H
#define KR_FAST_VIEWS_H

/* `get KEY`: the value as the CLI prints it, or the Node CLI. */
int fast_get(const char *key);
/* `lock` (argv after "lock"; named keys go to the Node CLI): what the CLI would say. */
int fast_lock(int argc, char **argv);
/* `status`/`list` (view) with their options (argv after it): the view and its exit code. */
int fast_view(const char *view, int argc, char **argv);

#endif
