/* keyrack-fast's exec modes (fast_exec.c). */
#ifndef KR_FAST_EXEC_H
#define KR_FAST_EXEC_H

/* `exec [--key K]... [--mask|--no-mask] [--] CMD...` (argv after "exec"): becomes CMD or falls back. */
int fast_exec(int argc, char **argv);
/* `--masked -- CMD...`: the Node CLI's exec --mask, the variables on fd 3. */
int masked_main(char **cmd);

#endif
