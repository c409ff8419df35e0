/**
 * Quoting shared by bash and zsh: always single quotes, each ' written as '\''.
 * Inside single quotes every byte is literal in both shells — `$`, backticks, `\`,
 * `!` (history expansion never applies to eval'd text), newlines, controls, any
 * Unicode — and the one form keeps keyrack-fast's check of a daemon's answer exact
 * (native/export_check.c). zsh's RC_QUOTES ('' as a quote inside quotes) cannot
 * apply: a closing quote here is always followed by \, or by the end of the word.
 * test/quote.test.ts checks it against real bash and zsh (eval inside a function,
 * LANG=C and C.UTF-8, RC_QUOTES on) with a corpus of hostile and random values.
 * NUL cannot be in a shell variable: refused, not cut.
 */
export function quotePosix(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  return `'${s.replaceAll("'", "'\\''")}'`;
}
