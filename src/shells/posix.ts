/**
 * Quoting shared by bash and zsh: one single-quoted word, with each `'` written as
 * `'\''`. Inside single quotes both shells take every byte literally (newlines, CR,
 * ESC, `!`, `$`, backticks, any UTF-8), so this is exact for any string without NUL,
 * in any locale and with any option set (RC_QUOTES only matters for `''` inside a
 * quoted word, which this never produces).
 *
 * Not shell-quote: its bare-word branch leaves control characters unquoted and
 * switches between three quoting styles by content; one rule is easier to trust.
 * test/quote.test.ts checks both against real shells.
 */
export function quotePosix(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
