/*
 * export_check.h: keyrack-fast's check of what a daemon answered, before it prints
 * or sets any of it. A daemon that passed the kernel check is ours, but the hook
 * evals what keyrack-fast prints and exec setenvs what it reads, so both are held
 * to exactly what keyrack itself produces (defence in depth): the statements
 * src/shells renders, with names the manifest rules accept (native/export_rules.h,
 * generated from the TypeScript).
 */
#ifndef KEYRACK_EXPORT_CHECK_H
#define KEYRACK_EXPORT_CHECK_H

#include <stddef.h>

/* Whether keyrack could ever set variable `name` (len bytes): ^[A-Za-z_][A-Za-z0-9_]*$
   and not refused in every form (HARD_NAMES, HARD_PREFIXES of src/names.ts). */
int kr_settable_name(const char *name, size_t len);

/* Whether there are statement rules for this shell (bash, zsh, fish). */
int kr_known_shell(const char *shell);

/* 0 when `code` is nothing but statements export renders for `shell`, one per line,
   each with a settable name (KEYRACK_STATE only in the state statement) and one
   quoted word as its value; else -1 and why (one phrase) in why[size]. */
int kr_check_export(const char *shell, const char *code, size_t len, char *why, size_t size);

#endif
